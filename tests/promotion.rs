//! Promotion between two real registries (the destination behind htpasswd auth) and within
//! one: the destination holds the same digests (skopeo says so), the carried signatures,
//! attestations and records verify there, the promotion record is on the chain, drift is
//! reported, a rollback is gated by today's policy, and a run killed at every step leaves the
//! tag on the old digest or the new one with a chain that verifies — and running it again
//! completes it without a second record.

mod common;

use common::*;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use provost::oci::Store;
use std::path::Path;
use std::process::Output;

const USER: &str = "promoter";
const PASS: &str = "s3cret-pass";

/// The source registry, seeded once with the demo landscape.
struct Source {
    reg: Registry,
}

fn source() -> Source {
    let reg = Registry::start();
    runtime()
        .block_on(provost::demo::seed(&store(&reg), demo_keys()))
        .expect("seed");
    Source { reg }
}

/// A destination registry with auth, and a home whose provost.toml routes prod there.
struct World {
    dst: Registry,
    home: tempfile::TempDir,
}

fn world(src: &Source) -> World {
    let dst = Registry::start_with("", Some((USER, PASS)));
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    let keys = demo_keys();
    let write = |name: &str, key: &p256::ecdsa::SigningKey| {
        let pem = key.to_pkcs8_pem(LineEnding::LF).expect("pem");
        std::fs::write(h.join(format!("{name}.key")), pem.as_bytes()).expect("key");
        std::fs::write(
            h.join(format!("{name}.pub")),
            provost::verify::keys::public_pem(key).expect("pub"),
        )
        .expect("pub");
    };
    write("acme-release", &keys.release);
    for (n, k) in &keys.people {
        write(n, k);
    }
    // The demo policy, and release managers may promote into qa.
    let policy = format!(
        "{}\n[[access]]\nenvironment = \"qa\"\npromote = \"release-managers\"\n",
        provost::policy::DEMO_POLICY
    );
    std::fs::write(h.join("policy.toml"), policy).expect("policy");
    let mut cfg = format!(
        "demo = false\npolicy = \"policy.toml\"\n\
         [[registry]]\nname = \"src\"\nhost = \"{}\"\ninsecure = true\n\
         [[registry]]\nname = \"dst\"\nhost = \"{}\"\ninsecure = true\n\
         [[environment]]\nname = \"dev\"\ntier = \"warn\"\nsource = \"src\"\ntag = \"dev\"\n\
         [[environment]]\nname = \"staging\"\ntier = \"conditional\"\nsource = \"src\"\ntag = \"staging\"\npromotes_from = \"dev\"\n\
         [[environment]]\nname = \"prod\"\ntier = \"required\"\nsource = \"dst\"\nrepository = \"prod/{{name}}\"\ntag = \"prod\"\npromotes_from = \"staging\"\n\
         [[environment]]\nname = \"qa\"\ntier = \"warn\"\nsource = \"src\"\nrepository = \"qa/{{name}}\"\ntag = \"qa\"\npromotes_from = \"dev\"\n",
        src.reg.host, dst.host
    );
    for n in ["acme-release", "alice", "bob", "carol"] {
        cfg.push_str(&format!(
            "[[trust.key]]\nname = \"{n}\"\npath = \"{n}.pub\"\n"
        ));
    }
    std::fs::write(h.join("provost.toml"), cfg).expect("config");
    let auth = base64_basic(USER, PASS);
    std::fs::create_dir_all(h.join(".docker")).expect("docker dir");
    std::fs::write(
        h.join(".docker/config.json"),
        serde_json::json!({"auths": {dst.host.clone(): {"auth": auth}}}).to_string(),
    )
    .expect("docker config");
    World { dst, home }
}

fn base64_basic(user: &str, pass: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
}

impl World {
    fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, None)
    }

    fn run_env(&self, args: &[&str], failpoint: Option<&str>) -> Output {
        let h = self.home.path();
        let mut all = vec!["--config", h.join("provost.toml").to_str().expect("utf8")]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        all.extend(args.iter().map(|s| s.to_string()));
        let mut c = provost();
        c.args(&all)
            .current_dir(h)
            .env("HOME", h)
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .env_remove("DOCKER_CONFIG")
            .env_remove("REGISTRY_AUTH_FILE")
            .env("NO_COLOR", "1");
        match failpoint {
            Some(f) => c.env("PROVOST_FAILPOINT", f),
            None => c.env_remove("PROVOST_FAILPOINT"),
        };
        c.output().expect("run provost")
    }

    fn dst_store(&self) -> provost::oci::remote::RemoteStore {
        provost::oci::remote::RemoteStore::with_credential(
            &self.dst.host,
            true,
            std::time::Duration::from_secs(10),
            Ok(provost::oci::auth::Credential::Basic {
                username: USER.into(),
                password: zeroize::Zeroizing::new(PASS.into()),
            }),
        )
        .expect("store")
    }

    fn prod_tag(&self) -> Option<String> {
        runtime()
            .block_on(self.dst_store().resolve("prod/acme/api", "prod"))
            .ok()
    }

    /// The promotion records on the destination's prod chain, as `audit log --json` lists them.
    fn promotions(&self) -> Vec<serde_json::Value> {
        let out = self.run(&["audit", "log", "prod", "--source", "dst", "--json"]);
        if !out.status.success() {
            return vec![];
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v["entries"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["record"]["kind"] == "promotion")
            .collect()
    }
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

fn skopeo_digest(reference: &str, creds: Option<&str>) -> String {
    let mut args = vec!["inspect", "--tls-verify=false", "--raw"];
    if let Some(c) = creds {
        args.push("--creds");
        args.push(c);
    }
    args.push(reference);
    let out = skopeo(&args);
    assert!(out.status.success(), "skopeo: {}", stderr(&out));
    provost::oci::digest::sha256(&out.stdout)
}

fn promote_args(key: &str) -> Vec<String> {
    [
        "promote",
        "src/acme/api:prod",
        "--to",
        "prod",
        "--key",
        key,
        "--reason",
        "release 1.4.1",
        "--yes",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn promote_across_registries_carries_evidence_that_verifies_at_the_destination() {
    let src = source();
    let w = world(&src);
    let h = w.home.path();
    let digest = runtime()
        .block_on(store(&src.reg).resolve("acme/api", "prod"))
        .expect("digest");
    // Without --yes and no terminal: the plan, and nothing written.
    let key = h.join("bob.key");
    let key = key.to_str().expect("utf8");
    let mut dry = promote_args(key);
    dry.retain(|a| a != "--yes");
    let dry: Vec<&str> = dry.iter().map(String::as_str).collect();
    let plan = ok(&w.run(&dry));
    assert!(plan.contains("from   staging (src acme/api)"), "{plan}");
    assert!(plan.contains("to     prod (dst prod/acme/api)"), "{plan}");
    assert!(plan.contains("gate   prod (required): ✓ pass"), "{plan}");
    assert!(plan.contains("2 of 2 approvals"), "{plan}");
    assert!(plan.contains("moves (new tag) to"), "{plan}");
    assert!(plan.contains("dry run: nothing was written"), "{plan}");
    assert_eq!(w.prod_tag(), None, "a dry run writes nothing");
    // A promoter outside the promote group is refused before anything is written.
    let carol = h.join("carol.key");
    let args = promote_args(carol.to_str().expect("utf8"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = w.run(&args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not in release-managers"),
        "{}",
        stderr(&out)
    );
    // Promote.
    let args = promote_args(key);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let done = ok(&w.run(&args));
    assert!(
        done.contains("re-verified at the destination: prod ✓ pass"),
        "{done}"
    );
    // Another registry: every blob is uploaded (none mounted), every manifest pushed.
    assert!(
        done.contains(" mounted, 0 already there") && !done.contains("copied: 0 blob(s)"),
        "{done}"
    );
    eprintln!("{done}");
    assert_eq!(w.prod_tag().as_deref(), Some(digest.as_str()));
    // skopeo reads the same digest at both ends, and every carried cosign tag and referrer.
    let creds = format!("{USER}:{PASS}");
    assert_eq!(
        skopeo_digest(
            &format!("docker://{}/prod/acme/api:prod", w.dst.host),
            Some(&creds)
        ),
        digest
    );
    let tags = skopeo(&[
        "list-tags",
        "--tls-verify=false",
        "--creds",
        &creds,
        &format!("docker://{}/prod/acme/api", w.dst.host),
    ]);
    let tags: serde_json::Value = serde_json::from_slice(&tags.stdout).expect("tags");
    let hex = digest.trim_start_matches("sha256:");
    for suffix in ["sig", "att"] {
        let t = format!("sha256-{hex}.{suffix}");
        assert!(
            tags["Tags"]
                .as_array()
                .expect("tags")
                .iter()
                .any(|x| x == &t),
            "{t}: {tags}"
        );
        assert_eq!(
            skopeo_digest(&format!("docker://{}/acme/api:{t}", src.reg.host), None),
            skopeo_digest(
                &format!("docker://{}/prod/acme/api:{t}", w.dst.host),
                Some(&creds)
            ),
            "{t} is carried byte for byte"
        );
    }
    // The destination's own gate passes on what it serves: signatures, provenance, SBOM and
    // both approvals verify there.
    let gate = w.run(&["gate", "dst/prod/acme/api:prod", "--env", "prod", "--json"]);
    let g: serde_json::Value = serde_json::from_slice(&gate.stdout).expect("gate json");
    assert_eq!(gate.status.code(), Some(0), "{g}");
    let evidence = g["verdicts"][0]["evidence"]
        .as_array()
        .expect("evidence")
        .clone();
    let verified = |kind: &str| {
        evidence
            .iter()
            .filter(|e| e["kind"] == kind && e["signer"]["state"] == "verified")
            .count()
    };
    assert!(verified("signature") >= 1, "{g}");
    assert!(verified("provenance") >= 1, "{g}");
    assert!(
        verified("record") >= 3,
        "two approvals and the promotion: {g}"
    );
    // An independent DSSE implementation (securesystemslib) verifies, from the destination,
    // the carried attestation with the release key and the promotion record with bob's key.
    let dst = w.dst_store();
    let att = runtime()
        .block_on(dst.get_manifest("prod/acme/api", &format!("sha256-{hex}.att")))
        .expect("att at the destination");
    let m: serde_json::Value = serde_json::from_slice(&att.bytes).expect("manifest");
    let layer = m["layers"][0]["digest"].as_str().expect("layer");
    let envelope = runtime()
        .block_on(dst.get_blob("prod/acme/api", layer, 1 << 20))
        .expect("envelope");
    std::fs::write(h.join("att.json"), &envelope).expect("write");
    let py = |file: &str, key: &str| {
        std::process::Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/dsse_verify.py"))
            .args([h.join(file), h.join(key)])
            .output()
            .expect("python3 with securesystemslib")
    };
    let v = py("att.json", "acme-release.pub");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    let log = w.run(&["audit", "log", "prod", "--source", "dst", "--json"]);
    let head: serde_json::Value = serde_json::from_slice(&log.stdout).expect("json");
    let rec = head["entries"][0]["digest"]
        .as_str()
        .expect("record")
        .to_string();
    let rm = runtime()
        .block_on(dst.get_manifest("provost-audit", &rec))
        .expect("record manifest");
    let rm: serde_json::Value = serde_json::from_slice(&rm.bytes).expect("manifest");
    let bundle = runtime()
        .block_on(dst.get_blob(
            "provost-audit",
            rm["layers"][0]["digest"].as_str().expect("bundle"),
            1 << 20,
        ))
        .expect("bundle");
    let bundle: serde_json::Value = serde_json::from_slice(&bundle).expect("bundle json");
    std::fs::write(h.join("rec.json"), bundle["dsseEnvelope"].to_string()).expect("write");
    let v = py("rec.json", "bob.pub");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    let v = py("rec.json", "alice.pub");
    assert!(!v.status.success(), "alice did not sign the promotion");
    // The promotion record: on the chain, signed by bob, with the verdict as a VSA.
    let p = w.promotions();
    assert_eq!(p.len(), 1, "{p:?}");
    let r = &p[0]["record"];
    assert_eq!(r["digest"], digest.as_str());
    assert_eq!(r["from"]["environment"], "staging");
    assert_eq!(r["to"]["repository"], "prod/acme/api");
    assert_eq!(r["previousDigest"], serde_json::Value::Null);
    assert_eq!(
        r["verification"]["predicateType"],
        "https://slsa.dev/verification_summary/v1"
    );
    assert_eq!(
        r["verification"]["predicate"]["verificationResult"],
        "PASSED"
    );
    assert!(r["verification"]["predicate"]["resourceUri"]
        .as_str()
        .is_some_and(|u| u.ends_with(&format!("prod/acme/api@{digest}"))));
    ok(&w.run(&["audit", "verify", "prod", "--source", "dst"]));
    // Drift: in sync; then the tag moved by hand is reported, exit 8.
    let d = ok(&w.run(&["drift", "prod"]));
    assert!(d.contains("prod/acme/api:prod  ✓ in sync"), "{d}");
    let other = runtime()
        .block_on(store(&src.reg).resolve("acme/api", "1.4.0"))
        .expect("1.4.0");
    let copy = skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--dest-creds",
        &creds,
        &format!("docker://{}/acme/api@{other}", src.reg.host),
        &format!("docker://{}/prod/acme/api:prod", w.dst.host),
    ]);
    assert!(copy.status.success(), "{}", stderr(&copy));
    let d = w.run(&["drift", "prod", "--json"]);
    assert_eq!(d.status.code(), Some(8), "{}", stdout(&d));
    let rows: serde_json::Value = serde_json::from_slice(&d.stdout).expect("json");
    assert_eq!(rows[0]["state"], "drifted", "{rows}");
    assert_eq!(rows[0]["recorded"], digest.as_str());
    // Promoting again puts it back, with a second record naming the drifted digest.
    ok(&w.run(&args));
    assert_eq!(w.prod_tag().as_deref(), Some(digest.as_str()));
    let p = w.promotions();
    assert_eq!(p.len(), 2);
    assert_eq!(p[0]["record"]["previousDigest"], other.as_str());
    // A third time: nothing to do.
    let again = ok(&w.run(&args));
    assert!(again.contains("nothing to do"), "{again}");
    assert_eq!(w.promotions().len(), 2);
    // Roll back one step: to the drifted digest the chain shows prod held — but 1.4.0 has
    // no approvals for prod, so today's gate refuses it (exit 3) and nothing moves.
    let bob = key;
    let rb = w.run(&[
        "rollback",
        "prod",
        "--repository",
        "prod/acme/api",
        "--key",
        bob,
        "--reason",
        "bad",
        "--yes",
    ]);
    assert_eq!(rb.status.code(), Some(3), "{}{}", stdout(&rb), stderr(&rb));
    assert!(stdout(&rb).contains("two-approvals"), "{}", stdout(&rb));
    assert_eq!(w.prod_tag().as_deref(), Some(digest.as_str()));
    // Break-glass: acme/web has one of two approvals, so prod blocks; --override where the
    // policy allows it (prod does) promotes, and the record says so.
    let web = |extra: &[&str]| {
        let mut a = vec![
            "promote",
            "src/acme/web:staging",
            "--to",
            "prod",
            "--key",
            bob,
            "--yes",
        ];
        a.extend_from_slice(extra);
        w.run(&a)
    };
    let blocked = web(&[]);
    assert_eq!(blocked.status.code(), Some(3), "{}", stdout(&blocked));
    let empty = web(&["--override", " "]);
    assert_eq!(empty.status.code(), Some(2), "an override needs a reason");
    let forced = ok(&web(&[
        "--override",
        "INC-7 hotfix, second approver asleep",
    ]));
    assert!(forced.contains("OVERRIDE"), "{forced}");
    let log = w.run(&["audit", "log", "prod", "--source", "dst", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&log.stdout).expect("json");
    let newest = &v["entries"][0]["record"];
    assert_eq!(
        newest["overrideReason"],
        "INC-7 hotfix, second approver asleep"
    );
    assert_eq!(
        newest["verification"]["predicate"]["verificationResult"],
        "FAILED"
    );
    let text = ok(&w.run(&["audit", "log", "prod", "--source", "dst"]));
    assert!(
        text.contains("promoted from staging to prod (gate overridden)"),
        "{text}"
    );
    // Staging allows no break-glass: the same override is refused there.
    let st = w.run(&[
        "promote",
        "src/acme/web:dev",
        "--to",
        "staging",
        "--key",
        bob,
        "--yes",
        "--override",
        "x",
    ]);
    assert_eq!(st.status.code(), Some(2), "{}{}", stdout(&st), stderr(&st));
    assert!(
        stdout(&st).contains("allows no override"),
        "{}",
        stdout(&st)
    );
}

#[test]
fn a_promotion_killed_at_every_step_leaves_a_consistent_tag_and_chain_and_completes_on_rerun() {
    let src = source();
    let digest = runtime()
        .block_on(store(&src.reg).resolve("acme/api", "prod"))
        .expect("digest");
    for point in [
        "promote-copied",
        "promote-verified",
        "record-pushed",
        "head-moved",
        "record-linked",
        "promote-recorded",
        "promote-tagged",
    ] {
        let w = world(&src);
        let key = w.home.path().join("bob.key");
        let args = promote_args(key.to_str().expect("utf8"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let killed = w.run_env(&args, Some(point));
        assert_eq!(
            killed.status.code(),
            Some(137),
            "{point}: {}",
            stderr(&killed)
        );
        let tag = w.prod_tag();
        assert!(
            tag.is_none() || tag.as_deref() == Some(digest.as_str()),
            "{point}: the tag names {tag:?}"
        );
        // Whatever is on the chain verifies.
        let v = w.run(&["audit", "verify", "prod", "--source", "dst"]);
        assert!(
            v.status.success()
                || stdout(&v).contains("no record")
                || stderr(&v).contains("no record"),
            "{point}: {}{}",
            stdout(&v),
            stderr(&v)
        );
        let done = ok(&w.run(&args));
        assert_eq!(
            w.prod_tag().as_deref(),
            Some(digest.as_str()),
            "{point}: {done}"
        );
        let p = w.promotions();
        assert_eq!(p.len(), 1, "{point}: one promotion record, not two: {p:?}");
        ok(&w.run(&["audit", "verify", "prod", "--source", "dst"]));
        let d = ok(&w.run(&["drift", "prod"]));
        assert!(d.contains("✓ in sync"), "{point}: {d}");
    }
}

#[test]
fn promotion_within_one_registry_mounts_blobs_and_rollback_is_gated_by_todays_policy() {
    let src = source();
    let w = world(&src);
    let key = w.home.path().join("bob.key");
    let key = key.to_str().expect("utf8");
    let st = store(&src.reg);
    let rt = runtime();
    let dev = rt.block_on(st.resolve("acme/api", "dev")).expect("dev");
    // dev → qa: another repository of the same registry, so every blob is mounted.
    let out = ok(&w.run(&[
        "promote",
        "src/acme/api:dev",
        "--to",
        "qa",
        "--key",
        key,
        "--reason",
        "qa run",
        "--yes",
    ]));
    assert!(out.contains("0 blob(s) uploaded (0 B)"), "{out}");
    assert!(!out.contains(" 0 mounted"), "{out}");
    assert_eq!(
        rt.block_on(st.resolve("qa/acme/api", "qa")).ok(),
        Some(dev.clone())
    );
    let q = skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{}/qa/acme/api:qa", src.reg.host),
    ]);
    assert!(
        q.status.success(),
        "skopeo reads the mounted image: {}",
        stderr(&q)
    );
    // An index: every platform manifest comes along, and skopeo reads each at the destination.
    ok(&w.run(&[
        "promote",
        "src/acme/web:dev",
        "--to",
        "qa",
        "--key",
        key,
        "--reason",
        "multi-arch",
        "--yes",
    ]));
    let web = rt.block_on(st.resolve("acme/web", "dev")).expect("web");
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{}/qa/acme/web:qa", src.reg.host),
    ]);
    assert_eq!(provost::oci::digest::sha256(&raw.stdout), web);
    let idx: serde_json::Value = serde_json::from_slice(&raw.stdout).expect("index");
    let children = idx["manifests"].as_array().expect("manifests");
    assert!(children.len() >= 2, "{idx}");
    for c in children {
        let d = c["digest"].as_str().expect("digest");
        let m = skopeo(&[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}/qa/acme/web@{d}", src.reg.host),
        ]);
        assert!(m.status.success(), "{d}: {}", stderr(&m));
    }
    // dev → staging in the same repository: nothing uploaded, nothing mounted.
    let out = ok(&w.run(&[
        "promote",
        "src/acme/api:dev",
        "--to",
        "staging",
        "--key",
        key,
        "--reason",
        "rc",
        "--yes",
    ]));
    assert!(out.contains("0 blob(s) uploaded (0 B), 0 mounted"), "{out}");
    assert_eq!(
        rt.block_on(st.resolve("acme/api", "staging")).ok(),
        Some(dev.clone())
    );
    // Roll staging back one step, to 1.4.2, which the chain shows it held: quarantined since,
    // so today's policy refuses (exit 3) and the tag stays.
    let rb = w.run(&[
        "rollback",
        "staging",
        "--repository",
        "acme/api",
        "--key",
        key,
        "--reason",
        "rc broke",
        "--yes",
    ]);
    assert_eq!(rb.status.code(), Some(3), "{}{}", stdout(&rb), stderr(&rb));
    assert!(stdout(&rb).contains("quarantined"), "{}", stdout(&rb));
    assert_eq!(
        rt.block_on(st.resolve("acme/api", "staging")).ok(),
        Some(dev.clone())
    );
    // A digest the chain never showed is refused as usage.
    let never = format!("sha256:{}", "0".repeat(64));
    let rb = w.run(&[
        "rollback",
        "staging",
        "--repository",
        "acme/api",
        "--to",
        &never,
        "--key",
        key,
        "--yes",
    ]);
    assert_eq!(rb.status.code(), Some(2), "{}", stderr(&rb));
    // Roll qa back to... it held nothing before: no earlier digest.
    let rb = w.run(&[
        "rollback",
        "qa",
        "--repository",
        "qa/acme/api",
        "--key",
        key,
        "--yes",
    ]);
    assert_eq!(rb.status.code(), Some(2), "{}", stderr(&rb));
    // Promote 1.4.0 into qa, then roll back to the dev digest: allowed (warn tier), recorded.
    ok(&w.run(&[
        "promote",
        "src/acme/api:1.4.0",
        "--to",
        "qa",
        "--key",
        key,
        "--reason",
        "older",
        "--yes",
    ]));
    let rb = ok(&w.run(&[
        "rollback",
        "qa",
        "--repository",
        "qa/acme/api",
        "--key",
        key,
        "--reason",
        "back",
        "--yes",
    ]));
    assert!(
        rb.contains(&format!("qa/acme/api:qa now names {dev}")),
        "{rb}"
    );
    let log = ok(&w.run(&["audit", "log", "qa", "--source", "src"]));
    assert!(log.contains("rolled back qa"), "{log}");
    assert!(log.contains("promoted from dev to qa"), "{log}");
    ok(&w.run(&["audit", "verify", "qa", "--source", "src"]));
}

#[test]
fn a_cancelled_promotion_leaves_nothing_anyone_reads_by_tag_or_chain() {
    use provost::release::promote::{self, Step};
    let src = source();
    let w = world(&src);
    let h = w.home.path();
    let rt = runtime();
    let settings = rt
        .block_on(provost::setup::Settings::load(&provost::setup::Overrides {
            config: Some(h.join("provost.toml")),
            data_dir: Some(h.join("data")),
            ..Default::default()
        }))
        .expect("settings");
    let st = store(&src.reg);
    let dev = rt.block_on(st.resolve("acme/api", "dev")).expect("dev");
    let bob = demo_keys().person("bob").expect("bob");
    let signing = provost::release::record::Signing::Key {
        key: bob,
        timestamp_url: None,
        rekor_url: None,
    };
    for stop_at in ["copying", "verifying", "recording"] {
        let route = promote::route(&settings, "src", "acme/api", "qa").expect("route");
        let plan = rt
            .block_on(promote::plan(
                &settings,
                route,
                &dev,
                "cancel me",
                None,
                None,
            ))
            .expect("plan");
        let progress = |s: Step| match (stop_at, s) {
            ("copying", Step::Copying(p)) => p.blobs_done == 0,
            ("verifying", Step::Verifying) | ("recording", Step::Recording) => false,
            _ => true,
        };
        let err = rt
            .block_on(promote::run(&settings, &plan, &signing, None, &progress))
            .expect_err("cancelled");
        assert_eq!(err, promote::CANCELLED, "{stop_at}");
        assert!(
            rt.block_on(st.resolve("qa/acme/api", "qa")).is_err(),
            "{stop_at}: the tag was not made"
        );
        let log = w.run(&["audit", "log", "qa", "--source", "src", "--json"]);
        let entries = serde_json::from_slice::<serde_json::Value>(&log.stdout)
            .ok()
            .and_then(|v| v["entries"].as_array().map(|e| e.len()))
            .unwrap_or(0);
        assert_eq!(entries, 0, "{stop_at}: nothing on the chain");
        let d = ok(&w.run(&["drift", "qa"]));
        assert!(!d.contains("✗"), "{stop_at}: {d}");
    }
    // Not cancelled, the same plan completes.
    let route = promote::route(&settings, "src", "acme/api", "qa").expect("route");
    let plan = rt
        .block_on(promote::plan(&settings, route, &dev, "now", None, None))
        .expect("plan");
    rt.block_on(promote::run(&settings, &plan, &signing, None, &|_| true))
        .expect("promoted");
    assert_eq!(rt.block_on(st.resolve("qa/acme/api", "qa")).ok(), Some(dev));
}
