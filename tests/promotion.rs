//! Promotion between two real registries (the destination behind htpasswd auth) and within
//! one: the destination holds the same digests (skopeo says so), the carried signatures,
//! attestations and records verify there (provost and securesystemslib), the promotion record
//! is on the chain, drift is reported, overrides are break-glass only, and a rollback is gated
//! by today's policy. Kills and cancellations: tests/promotion_faults.rs.
#![allow(clippy::disallowed_macros)] // a test or benchmark prints its own fixed reports

mod common;

use common::promotion::*;
use common::*;
use provost::oci::Store;
use std::path::Path;

#[test]
fn promote_across_registries_carries_evidence_that_verifies_at_the_destination() {
    let src = source();
    let w = world(&src);
    let h = w.home.path();
    let digest = staged_prod_digest(&src);
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
    let log = w.run(&["audit", "log", "prod", "--json"]);
    let head: serde_json::Value = serde_json::from_slice(&log.stdout).expect("json");
    let rec = head["entries"][0]["digest"]
        .as_str()
        .expect("record")
        .to_string();
    let rm = runtime()
        .block_on(dst.get_manifest("prod/acme/api", &rec))
        .expect("the record, a referrer at the destination");
    let rm: serde_json::Value = serde_json::from_slice(&rm.bytes).expect("manifest");
    let bundle = runtime()
        .block_on(dst.get_blob(
            "prod/acme/api",
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
    ok(&w.run(&["audit", "verify", "prod"]));
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
    let log = w.run(&["audit", "log", "prod", "--json"]);
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
    let text = ok(&w.run(&["audit", "log", "prod"]));
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
    // 1.4.0 reaches dev by a push (the first environment of the path), is promoted into qa,
    // then qa rolls back to the earlier dev digest: allowed (warn tier), recorded.
    let old = rt.block_on(st.resolve("acme/api", "1.4.0")).expect("1.4.0");
    let pushed = skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &format!("docker://{}/acme/api@{old}", src.reg.host),
        &format!("docker://{}/acme/api:dev", src.reg.host),
    ]);
    assert!(pushed.status.success(), "{}", stderr(&pushed));
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
