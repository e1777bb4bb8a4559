//! Incident triage on real registries: the demo landscape in a source registry, prod in a
//! second one behind auth, workloads created by podman and listed through podman's Docker
//! Engine API service (`podman system service`; these machines cannot start containers, but
//! the API lists created ones the same way, with their image digests). A builder is declared
//! bad; `find` returns exactly what it built (verified), where it is and runs, quarantines it
//! in one step, and the next gates block it.

mod common;

use common::promotion::*;
use common::*;
use provost::oci::Store;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

const JENKINS: &str = "https://jenkins.acme.internal/*";

/// podman with its own storage, and its API service on a unix socket.
struct Podman {
    dir: tempfile::TempDir,
    service: Child,
    socket: PathBuf,
}

impl Podman {
    fn start() -> Podman {
        let dir = tempfile::tempdir().expect("podman dir");
        let socket = dir.path().join("podman.sock");
        let service = Self::command(dir.path())
            .args(["system", "service", "--time", "0"])
            .arg(format!("unix://{}", socket.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("podman is installed (scripts/test.sh installs it)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !socket.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(socket.exists(), "podman's API service did not start");
        Podman {
            dir,
            service,
            socket,
        }
    }

    fn command(dir: &Path) -> Command {
        let mut c = Command::new("podman");
        c.arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("run"))
            .args([
                "--storage-driver",
                "vfs",
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "file",
            ])
            .env("TMPDIR", dir)
            .env("XDG_RUNTIME_DIR", dir)
            .env("HOME", dir);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Self::command(self.dir.path())
            .args(args)
            .output()
            .expect("podman");
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Pulls `image` from an insecure loopback registry and creates a container `name` of it.
    fn create(&self, name: &str, image: &str) {
        self.run(&["pull", "--tls-verify=false", "-q", image]);
        self.run(&["create", "--name", name, image]);
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.service.kill();
        let _ = self.service.wait();
    }
}

/// Gives staging a runtime: the podman socket.
fn with_runtime(w: &World, socket: &Path) {
    let cfg = w.home.path().join("provost.toml");
    let text = std::fs::read_to_string(&cfg).expect("config");
    let marker = "tag = \"staging\"\npromotes_from = \"dev\"\n";
    assert!(text.contains(marker));
    let text = text.replace(
        marker,
        &format!(
            "{marker}runtime = {{ docker = \"unix://{}\" }}\n",
            socket.display()
        ),
    );
    std::fs::write(cfg, text).expect("config");
}

/// Every digest whose verified provenance names a builder matching `glob`, computed from
/// `inspect --json` of every tag: what `find` must return, found without the index.
fn built_by(w: &World, src: &Source, glob: &str) -> std::collections::BTreeSet<String> {
    let st = store(&src.reg);
    let rt = runtime();
    let mut out = std::collections::BTreeSet::new();
    let pattern = wildmatch::WildMatch::new(glob);
    for repo in rt.block_on(st.list_repositories()).expect("repos") {
        if repo == "provost-audit" {
            continue;
        }
        let tags = rt
            .block_on(provost::oci::artifact::tags_with_digests(&st, &repo))
            .expect("tags");
        for (_, d) in tags {
            let o = w.run(&["evidence", &format!("src/{repo}@{d}"), "--json"]);
            let v = json(&o);
            let items = v["items"].as_array().cloned().unwrap_or_default();
            let hit = items.iter().any(|i| {
                i["kind"] == "provenance"
                    && i["signer"]["state"] == "verified"
                    && i["binding"] == "matches"
                    && i["provenance"]["builder_id"]
                        .as_str()
                        .is_some_and(|b| pattern.matches(b))
            });
            if hit {
                out.insert(format!("{repo}@{d}"));
            }
        }
    }
    out
}

#[test]
fn incident_find_quarantine_block_and_runtime() {
    let src = source();
    let w = world(&src);
    let h = w.home.path();
    let podman = Podman::start();
    with_runtime(&w, &podman.socket);
    let st = store(&src.reg);
    let rt = runtime();
    let billing = rt
        .block_on(st.resolve("acme/billing", "staging"))
        .expect("billing staging");
    let api_old = rt.block_on(st.resolve("acme/api", "1.4.0")).expect("api");
    let api_prod = rt.block_on(st.resolve("acme/api", "prod")).expect("api");

    // Someone pushes a provenance claiming the bad builder onto api:prod, signed by a key no
    // one trusts: a claim, which must not put api in the verified result.
    let stranger = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    use p256::pkcs8::EncodePrivateKey;
    std::fs::write(
        h.join("stranger.key"),
        stranger
            .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .expect("pem")
            .as_bytes(),
    )
    .expect("key");
    std::fs::write(
        h.join("claim.json"),
        serde_json::json!({
            "buildDefinition": {"buildType": "https://jenkins.acme.internal/build/v1",
                                "externalParameters": {}},
            "runDetails": {"builder": {"id": "https://jenkins.acme.internal/job/api-ci"}}
        })
        .to_string(),
    )
    .expect("claim");
    attest_provenance(
        &w,
        &format!("src/acme/api@{api_prod}"),
        &h.join("claim.json"),
        &h.join("stranger.key"),
    );

    // The staging runtime runs billing (as tagged) and api 1.4.0, never promoted to staging.
    podman.create("billing", &format!("{}/acme/billing:staging", src.reg.host));
    podman.create("api-old", &format!("{}/acme/api:1.4.0", src.reg.host));
    let before = w.run(&["runtime", "staging", "--json"]);
    assert_eq!(before.status.code(), Some(8), "drift: {}", stdout(&before));
    let r = json(&before);
    let standing = |r: &serde_json::Value, d: &str| {
        r["workloads"]
            .as_array()
            .expect("workloads")
            .iter()
            .find(|x| x["workload"]["digest"] == d)
            .map(|x| x["standing"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(standing(&r, &billing).as_deref(), Some("as-tagged"), "{r}");
    assert_eq!(
        standing(&r, &api_old).as_deref(),
        Some("never-promoted"),
        "{r}"
    );

    // find: exactly the digests the bad builder built, by verified provenance.
    let expected = built_by(&w, &src, JENKINS);
    assert_eq!(
        expected,
        [format!("acme/billing@{billing}")].into_iter().collect(),
        "the demo has one Jenkins build"
    );
    let found = w.run(&["find", "--builder", JENKINS, "--in", "src", "--json"]);
    let f = json(&found);
    let hits = f["hits"].as_array().expect("hits").clone();
    let verified: std::collections::BTreeSet<String> = hits
        .iter()
        .filter(|x| x["matched"] == "verified")
        .map(|x| {
            format!(
                "{}@{}",
                x["repository"].as_str().unwrap_or(""),
                x["digest"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(verified, expected, "{f}");
    let b = hits
        .iter()
        .find(|x| x["digest"] == billing.as_str())
        .expect("billing hit");
    let now: Vec<&str> = b["holds_now"]
        .as_array()
        .expect("holds_now")
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert_eq!(now, ["dev", "staging"], "{b}");
    // The pushed claim shows apart, as unverified, naming the criterion only a claim holds.
    let claim = hits
        .iter()
        .find(|x| x["digest"] == api_prod.as_str())
        .expect("the claimed hit is listed");
    assert_eq!(claim["matched"], "unverified", "{claim}");
    assert!(
        claim["claimed_only"].to_string().contains("builder"),
        "{claim}"
    );
    let text = ok(&w.run(&["find", "--builder", JENKINS, "--in", "src", "--no-refresh"]));
    assert!(text.contains("1 digest(s) match builder"), "{text}");
    assert!(text.contains("match only on unverified claims"), "{text}");

    // Quarantine every verified hit in one step: one plan, one answer, one record per digest.
    let carol = h.join("carol.key");
    let q = ok(&w.run(&[
        "find",
        "--builder",
        JENKINS,
        "--in",
        "src",
        "--quarantine",
        "--reason",
        "jenkins runner compromised (INC-7)",
        "--key",
        carol.to_str().expect("utf8"),
        "--yes",
    ]));
    assert!(q.contains("will quarantine 1 digest(s)"), "{q}");
    assert!(q.contains("✓ quarantined acme/billing@"), "{q}");
    let plan = q.split("will quarantine").nth(1).expect("plan");
    assert!(
        !plan.contains("acme/api@"),
        "the claimed hit is not quarantined: {q}"
    );
    let log = json(&w.run(&["audit", "log", "quarantine", "--source", "src", "--json"]));
    let records: Vec<&serde_json::Value> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| {
            e["record"]["kind"] == "quarantine"
                && e["record"]["reason"]
                    .as_str()
                    .unwrap_or("")
                    .contains("INC-7")
        })
        .collect();
    assert_eq!(records.len(), 1, "one record per verified hit: {log}");
    assert_eq!(records[0]["subject"], billing.as_str(), "{log}");

    // The next gates block it, and the runtime says it runs blocked (exit 3).
    let g = w.run(&["gate", "src/acme/billing:staging", "--env", "staging"]);
    assert_eq!(g.status.code(), Some(3), "{}", stdout(&g));
    assert!(
        stdout(&g).contains("jenkins runner compromised"),
        "{}",
        stdout(&g)
    );
    let after = w.run(&["runtime", "staging"]);
    assert_eq!(after.status.code(), Some(3), "{}", stdout(&after));
    assert!(
        stdout(&after).contains("running, but blocked today"),
        "{}",
        stdout(&after)
    );
    assert!(
        stdout(&after).contains("drift: never promoted here"),
        "{}",
        stdout(&after)
    );
    // find again: the hit now shows its quarantine in today's verdicts.
    let again = json(&w.run(&["find", "--builder", JENKINS, "--in", "src", "--json"]));
    let v = again["hits"][0]["verdicts"].to_string();
    assert!(v.contains("INC-7"), "{v}");
}

#[test]
fn find_by_package_range_commit_signer_and_time() {
    let src = source();
    let w = world(&src);
    let run = |args: &[&str]| {
        let mut a = vec!["find", "--in", "src", "--json"];
        a.extend_from_slice(args);
        let v = json(&w.run(&a));
        let mut out: Vec<String> = v["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .filter(|x| x["matched"] == "verified")
            .map(|x| {
                format!(
                    "{}:{}",
                    x["repository"].as_str().unwrap_or(""),
                    x["tags"]
                        .as_array()
                        .map(|t| t
                            .iter()
                            .filter_map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(","))
                        .unwrap_or_default()
                )
            })
            .collect();
        out.sort();
        out
    };
    // golang.org/x/crypto below 0.31.0: the api builds before 1.4.2 (the update), none after.
    let old_crypto = run(&["--package", "golang.org/x/crypto@<0.31.0"]);
    assert!(!old_crypto.is_empty(), "{old_crypto:?}");
    assert!(
        old_crypto.iter().all(|x| x.starts_with("acme/api:")),
        "{old_crypto:?}"
    );
    assert!(
        !old_crypto.iter().any(|x| x.contains("1.4.2")),
        "1.4.2 carries 0.31.0: {old_crypto:?}"
    );
    let new_crypto = run(&["--package", "golang.org/x/crypto@>=0.31.0"]);
    assert!(
        new_crypto.iter().any(|x| x.contains("1.4.2")),
        "{new_crypto:?}"
    );
    assert!(
        old_crypto.iter().all(|x| !new_crypto.contains(x)),
        "a digest is on one side of the range: {old_crypto:?} {new_crypto:?}"
    );
    // A commit prefix: the billing 3.1.0 rebuilds share one commit.
    let billing = run(&["--commit", "3df67b7"]);
    assert_eq!(billing.len(), 3, "{billing:?}");
    // Too short a prefix is a usage error.
    assert_eq!(w.run(&["find", "--commit", "3df"]).status.code(), Some(2));
    // Nothing to find is a usage error too.
    assert_eq!(w.run(&["find"]).status.code(), Some(2));
    // A signer by key name: the release key signed nearly everything; a stranger nothing.
    let signed = run(&["--signer", "acme-release"]);
    assert!(signed.len() >= 10, "{signed:?}");
    assert!(run(&["--signer", "nobody"]).is_empty());
    // The same key by a fingerprint prefix, in capitals: the same digests.
    let one = json(&w.run(&["find", "--in", "src", "--signer", "acme-release", "--json"]));
    let fp = one["hits"][0]["facts"]["verified"]["signers"]
        .as_array()
        .expect("signers")
        .iter()
        .find(|s| s["name"] == "acme-release")
        .and_then(|s| s["fingerprint"].as_str())
        .expect("fingerprint")
        .to_string();
    assert_eq!(run(&["--signer", &fp[..12].to_ascii_uppercase()]), signed);
    assert_eq!(run(&["--signer", &format!("{}*", &fp[..10])]), signed);
    // Time: nothing was built after the year 3000.
    assert!(run(&["--builder", "*", "--built-after", "3000-01-01"]).is_empty());
    let all = run(&["--builder", "*"]);
    let before = run(&["--builder", "*", "--built-before", "3000-01-01"]);
    assert_eq!(all, before);
}

#[test]
fn runtime_from_a_kubernetes_pod_list() {
    // No Kubernetes API server runs on these machines: the reader is tested on a document in
    // the format `kubectl get pods -A -o json` prints, which --from-file accepts.
    let src = source();
    let w = world(&src);
    let st = store(&src.reg);
    let rt = runtime();
    let staging = rt.block_on(st.resolve("acme/api", "staging")).expect("api");
    let old = rt.block_on(st.resolve("acme/api", "1.2.0")).expect("api");
    let host = &src.reg.host;
    let pods = serde_json::json!({
        "apiVersion": "v1", "kind": "List",
        "items": [
            {"metadata": {"name": "api-7d9", "namespace": "shop"},
             "status": {"containerStatuses": [
                {"name": "api", "image": format!("{host}/acme/api:staging"),
                 "imageID": format!("docker-pullable://{host}/acme/api@{staging}"),
                 "state": {"running": {"startedAt": "2026-12-01T10:00:00Z"}}}]}},
            {"metadata": {"name": "api-old", "namespace": "shop"},
             "status": {"containerStatuses": [
                {"name": "api", "image": format!("{host}/acme/api:1.2.0"),
                 "imageID": format!("{host}/acme/api@{old}"),
                 "state": {"running": {}}}]}},
            {"metadata": {"name": "dns", "namespace": "kube-system"},
             "status": {"containerStatuses": [
                {"name": "coredns", "image": "registry.k8s.io/coredns:1.11",
                 "imageID": format!("registry.k8s.io/coredns@sha256:{}", "c".repeat(64)),
                 "state": {"running": {}}}]}}
        ]
    });
    let file = w.home.path().join("pods.json");
    std::fs::write(&file, pods.to_string()).expect("pods");
    let out = w.run(&[
        "runtime",
        "staging",
        "--from-file",
        file.to_str().expect("utf8"),
        "--json",
    ]);
    let v = json(&out);
    // api 1.4.2 (staging) is blocked in staging by the demo's incident quarantine rule.
    assert_eq!(out.status.code(), Some(3), "{v}");
    let ws = v["workloads"].as_array().expect("workloads");
    assert_eq!(ws.len(), 2, "{v}");
    assert_eq!(ws[0]["workload"]["name"], "shop/api-7d9/api");
    assert_eq!(ws[0]["standing"], "as-tagged");
    assert_eq!(ws[0]["verdict"]["decision"], "block", "{v}");
    assert_eq!(ws[1]["standing"], "never-promoted");
    assert_eq!(v["untracked"].as_array().map(Vec::len), Some(1), "{v}");
    // Not a pod list: a sentence, exit 1.
    std::fs::write(&file, b"{\"kind\": \"Pod\"}").expect("bad");
    let bad = w.run(&[
        "runtime",
        "staging",
        "--from-file",
        file.to_str().expect("utf8"),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("not a pod list"), "{}", stderr(&bad));
    // An environment without a runtime: usage (exit 2) naming the fix.
    let none = w.run(&["runtime", "dev"]);
    assert_eq!(none.status.code(), Some(2), "{}", stderr(&none));
    assert!(stderr(&none).contains("names no runtime"));
}

#[test]
fn policy_compare_names_the_verdicts_and_findings_that_change() {
    let src = source();
    let w = world(&src);
    let h = w.home.path();
    let old = std::fs::read_to_string(h.join("policy.toml")).expect("policy");
    // The new policy stops trusting the GitHub-hosted runner.
    let new = old.replace("\"https://github.com/actions/runner/github-hosted\", ", "");
    assert_ne!(old, new);
    std::fs::write(h.join("new.toml"), new).expect("new");
    let out = w.run(&[
        "policy",
        "compare",
        "policy.toml",
        "new.toml",
        "--env",
        "staging",
        "--all",
        "src",
        "--json",
    ]);
    let v = json(&out);
    let changes = v["changes"].as_array().expect("changes");
    assert!(!changes.is_empty(), "{v}");
    for c in changes {
        assert_eq!(c["environment"], "staging");
        assert!(
            c["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .any(|f| f["rule"] == "trusted-builder"),
            "{c}"
        );
    }
    // billing 3.2.0 was built by Jenkins: not trusted before either, so it does not change.
    assert!(
        !changes
            .iter()
            .any(|c| c["artifact"].as_str().unwrap_or("").contains("3.2.0")),
        "{v}"
    );
    // The same policy twice changes nothing.
    let same = json(&w.run(&[
        "policy",
        "compare",
        "policy.toml",
        "policy.toml",
        "--all",
        "src",
        "--json",
    ]));
    assert_eq!(same["changes"].as_array().map(Vec::len), Some(0), "{same}");
    assert!(same["judged"].as_u64().unwrap_or(0) > 10, "{same}");
}
