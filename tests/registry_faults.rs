//! Faults at every step, with a real registry behind a small fault proxy
//! (tests/interop/fault_proxy.py: the proxy only injects faults the registry cannot be made to
//! produce, and passes everything else to it): retried reads recover, and every fault that
//! persists ends within its bound with the documented exit code and a sentence.

mod common;

use common::faults::{faults, proxy, Proxy};
use common::*;
use std::time::{Duration, Instant};

struct Setup {
    reg: Registry,
    home: tempfile::TempDir,
}

fn setup() -> Setup {
    let reg = Registry::start();
    runtime()
        .block_on(provost::demo::seed(&store(&reg), demo_keys()))
        .expect("seed");
    let home = tempfile::tempdir().expect("home");
    std::fs::write(
        home.path().join("provost.toml"),
        "demo = false\ntimeout_secs = 2\n",
    )
    .expect("config");
    Setup { reg, home }
}

/// A configuration whose only registry is the proxy at `host`, gated as a required prod, with
/// `head` (top-level keys) first.
fn prod_behind(host: &str, head: &str) -> String {
    format!(
        "demo = false\n{head}[[registry]]\nname = \"p\"\nhost = \"{host}\"\ninsecure = true\n[[environment]]\nname = \"prod\"\ntier = \"required\"\nsource = \"p\"\n"
    )
}

fn run(s: &Setup, p: &Proxy, args: &[&str]) -> (std::process::Output, Duration) {
    let config = s.home.path().join("provost.toml");
    let mut a = vec![
        "--config",
        config.to_str().expect("utf8"),
        "--insecure-registry",
        p.host.as_str(),
    ];
    a.extend_from_slice(args);
    let start = Instant::now();
    let out = run_provost(s.home.path(), &a);
    (out, start.elapsed())
}

#[test]
fn transient_503_and_429_are_retried_and_persistent_ones_end_with_a_sentence() {
    let s = setup();
    let tmp = tempfile::tempdir().expect("tmp");
    // Two 503s on the manifest: retried, the inspect succeeds.
    let p = proxy(tmp.path(), &s.reg.host, "503", "/manifests/prod", 2);
    let r = format!("{}/acme/api:prod", p.host);
    let (out, _) = run(&s, &p, &["inspect", &r, "--no-cache"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(faults(&p), 2);
    drop(p);
    // A 429 with Retry-After: 1 is honoured (the retry waits) and then succeeds.
    let p = proxy(tmp.path(), &s.reg.host, "429", "/tags/list", 1);
    let (out, took) = run(&s, &p, &["ls", &format!("{}/acme/api", p.host)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After was not honoured ({took:?})"
    );
    drop(p);
    // Always 503: a bounded number of tries, then exit 1 with the status in words.
    let p = proxy(tmp.path(), &s.reg.host, "503", "/manifests/", 0);
    let r = format!("{}/acme/api:prod", p.host);
    let (out, took) = run(&s, &p, &["inspect", &r, "--no-cache"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("503"), "{}", stderr(&out));
    assert!(took < Duration::from_secs(15), "{took:?}");
    assert_eq!(faults(&p), 4, "one request and three retries");
}

#[test]
fn resets_truncations_stalls_and_drips_end_within_their_bounds() {
    let s = setup();
    let tmp = tempfile::tempdir().expect("tmp");
    for (mode, path, args_of) in [
        ("reset", "/blobs/", "gate"),
        ("truncate", "/manifests/prod", "inspect"),
        ("stall", "/tags/list", "ls"),
        ("drip", "/manifests/prod", "inspect"),
    ] {
        let p = proxy(tmp.path(), &s.reg.host, mode, path, 0);
        let r = format!("{}/acme/api:prod", p.host);
        let repo = format!("{}/acme/api", p.host);
        let args: Vec<&str> = match args_of {
            "gate" => vec!["gate", &r, "--env", "prod", "--no-cache"],
            "inspect" => vec!["inspect", &r, "--no-cache"],
            _ => vec!["ls", &repo],
        };
        // No environment is configured for the proxy: the gate uses the defaults of the
        // first source, so give it one.
        let (out, took) = if args_of == "gate" {
            std::fs::write(
                s.home.path().join("gate.toml"),
                prod_behind(&p.host, "timeout_secs = 2\n"),
            )
            .expect("config");
            let start = Instant::now();
            let mut a = vec!["--config", "CONFIG"];
            a.extend_from_slice(&args);
            let cfg = s.home.path().join("gate.toml");
            let a: Vec<&str> = a
                .iter()
                .map(|x| {
                    if *x == "CONFIG" {
                        cfg.to_str().expect("utf8")
                    } else {
                        x
                    }
                })
                .collect();
            let out = run_provost(s.home.path(), &a);
            (out, start.elapsed())
        } else {
            run(&s, &p, &args)
        };
        let code = out.status.code();
        let err = stderr(&out);
        match mode {
            // A blob cut mid-body: the evidence is unreadable, and a required tier blocks on it
            // (exit 3) or reports the evaluation error (exit 1) — never a pass.
            "reset" => assert!(matches!(code, Some(1) | Some(3)), "{mode}: {code:?} {err}"),
            _ => assert_eq!(code, Some(1), "{mode}: {err}"),
        }
        assert!(!err.contains("panicked"), "{mode}: {err}");
        assert!(took < Duration::from_secs(20), "{mode} took {took:?}");
        if matches!(mode, "stall" | "drip") {
            assert!(err.contains("timed out"), "{mode}: {err}");
        }
        // An answer cut short is said to be cut short, not that the registry is unreachable.
        if mode == "truncate" {
            assert!(
                err.contains(&format!("{} broke off its answer", p.host)),
                "{mode}: {err}"
            );
        }
        assert!(faults(&p) > 0, "{mode}: the fault was injected");
    }
}

#[test]
fn a_big_repository_costs_a_bounded_number_of_tag_lookups() {
    // 600 tags on one image: inspect resolves at most TAG_RESOLVE_LIMIT of them and says how
    // many it did not check, instead of one request per tag.
    let reg = Registry::start();
    let s = store(&reg);
    let rt = runtime();
    rt.block_on(provost::demo::seed(&s, demo_keys()))
        .expect("seed");
    let d = rt
        .block_on(provost::oci::Store::resolve(&s, "acme/api", "prod"))
        .expect("prod");
    let m = rt
        .block_on(provost::oci::Store::get_manifest(&s, "acme/api", &d))
        .expect("manifest");
    for i in 0..600 {
        rt.block_on(provost::oci::Store::put_manifest(
            &s,
            "acme/api",
            Some(&format!("build-{i:04}")),
            &m.media_type,
            &m.bytes,
        ))
        .expect("tag");
    }
    let home = tempfile::tempdir().expect("home");
    let out = provost()
        .args([
            "--insecure-registry",
            &reg.host,
            "inspect",
            &format!("{}/acme/api:prod", reg.host),
            "--json",
            "--no-cache",
        ])
        .env("HOME", home.path())
        .env("PROVOST_COUNT_REQUESTS", "1")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let unchecked = v["tags_unchecked"].as_u64().expect("tags_unchecked");
    let limit = provost::oci::artifact::TAG_RESOLVE_LIMIT as u64;
    let all = rt
        .block_on(provost::oci::Store::list_tags(&s, "acme/api"))
        .expect("tags")
        .into_iter()
        .filter(|t| !provost::oci::is_evidence_tag(t) && t != "prod")
        .count() as u64;
    assert_eq!(unchecked, all - limit, "{}", v["tags"]);
    let tags: Vec<&str> = v["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    // The named tag, and the checked ones that point here (the newest builds first; dev and
    // staging were checked and point elsewhere).
    assert!(
        tags.contains(&"prod") && tags.contains(&"build-0599"),
        "{tags:?}"
    );
    assert_eq!(tags.len() as u64, limit - 2 + 1, "{tags:?}");
    let requests: usize = stderr(&out)
        .lines()
        .find_map(|l| {
            l.strip_prefix("provost: ")?
                .strip_suffix(" registry requests")
        })
        .and_then(|n| n.parse().ok())
        .expect("count");
    assert!(requests < limit as usize + 40, "{requests} requests");
}

/// Every tag of `repo` names a manifest the registry serves whole, with every blob and child it
/// lists: no tag points at half-written content.
fn consistent(s: &provost::oci::remote::RemoteStore, repo: &str) {
    use provost::oci::media::Manifest;
    use provost::oci::Store;
    let rt = runtime();
    for t in rt.block_on(s.list_tags(repo)).expect("tags") {
        let m = rt
            .block_on(s.get_manifest(repo, &t))
            .unwrap_or_else(|e| panic!("{repo}:{t} names a manifest it cannot serve: {e}"));
        match Manifest::parse(&m.bytes, &m.media_type).expect("parses") {
            (Manifest::Image(img), _) => {
                for d in std::iter::once(&img.config).chain(img.layers.iter()) {
                    if d.media_type == provost::oci::media::OCI_EMPTY {
                        continue;
                    }
                    rt.block_on(s.get_blob(repo, &d.digest, 64 << 20))
                        .unwrap_or_else(|e| panic!("{repo}:{t} lists {}: {e}", d.digest));
                }
            }
            (Manifest::Index(idx), _) => {
                for d in &idx.manifests {
                    rt.block_on(s.get_manifest(repo, &d.digest))
                        .unwrap_or_else(|e| panic!("{repo}:{t} lists {}: {e}", d.digest));
                }
            }
        }
    }
}

/// The demo release key as a PEM file in `dir`.

#[test]
fn a_signature_write_killed_by_faults_leaves_no_half_written_tag() {
    let s = setup();
    let tmp = tempfile::tempdir().expect("tmp");
    let key = release_key(tmp.path());
    let direct = store(&s.reg);
    for (mode, path) in [
        ("503", "/manifests/sha256-"),
        ("503", "/blobs/uploads"),
        ("stall", "/blobs/uploads"),
    ] {
        let p = proxy(tmp.path(), &s.reg.host, mode, path, 0);
        // acme/api:1.5.0-rc.1 is unsigned in the demo: a signature write starts from nothing.
        let r = format!("{}/acme/api:1.5.0-rc.1", p.host);
        let (out, took) = run(&s, &p, &["sign", &r, "--key", key.to_str().expect("utf8")]);
        assert_ne!(
            out.status.code(),
            Some(0),
            "{mode}: the write cannot succeed"
        );
        assert!(
            !stderr(&out).contains("panicked"),
            "{mode}: {}",
            stderr(&out)
        );
        assert!(took < Duration::from_secs(30), "{mode} took {took:?}");
        assert!(faults(&p) > 0, "{mode}: the fault was injected");
        consistent(&direct, "acme/api");
    }
    // And the same write without faults completes, consistently.
    let p = proxy(tmp.path(), &s.reg.host, "503", "/nothing-matches", 0);
    let r = format!("{}/acme/api:1.5.0-rc.1", p.host);
    let (out, _) = run(&s, &p, &["sign", &r, "--key", key.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    consistent(&direct, "acme/api");
}

/// `evidence`, `gate --all` and `attest` under the same faults: each ends within its bound with
/// its documented code and a sentence, a required tier never passes what it could not read, and
/// an attestation killed mid-write leaves every tag naming whole content.
#[test]
fn evidence_gate_all_and_attest_under_faults() {
    let s = setup();
    let tmp = tempfile::tempdir().expect("tmp");
    let key = release_key(tmp.path());
    let predicate = tmp.path().join("predicate.json");
    std::fs::write(
        &predicate,
        r#"{"runDetails": {"builder": {"id": "https://ci.example/runner"}}}"#,
    )
    .expect("predicate");
    let direct = store(&s.reg);
    for (mode, path) in [
        ("reset", "/blobs/"),
        ("drip", "/manifests/sha256-"),
        ("503", "/manifests/sha256-"),
        ("stall", "/tags/list"),
    ] {
        let p = proxy(tmp.path(), &s.reg.host, mode, path, 0);
        let cfg = s.home.path().join("faults.toml");
        std::fs::write(&cfg, prod_behind(&p.host, "timeout_secs = 2\n")).expect("config");
        let cfg = cfg.to_str().expect("utf8");
        let r = format!("{}/acme/api:prod", p.host);
        let repo = format!("{}/acme/api", p.host);
        let cases: [(&str, Vec<&str>); 3] = [
            ("evidence", vec!["--config", cfg, "evidence", &r]),
            (
                "gate --all",
                vec![
                    "--config",
                    cfg,
                    "gate",
                    &repo,
                    "--all",
                    "--env",
                    "prod",
                    "--no-cache",
                ],
            ),
            (
                "attest",
                vec![
                    "--config",
                    cfg,
                    "attest",
                    &r,
                    "--predicate",
                    predicate.to_str().expect("utf8"),
                    "--type",
                    "https://slsa.dev/provenance/v1",
                    "--key",
                    key.to_str().expect("utf8"),
                ],
            ),
        ];
        for (what, args) in cases {
            let start = Instant::now();
            let out = run_provost(s.home.path(), &args);
            let took = start.elapsed();
            let code = out.status.code();
            let err = stderr(&out);
            assert!(!err.contains("panicked"), "{what} {mode}: {err}");
            assert!(
                took < Duration::from_secs(40),
                "{what} {mode} took {took:?}"
            );
            match what {
                // Unreadable evidence: a required tier blocks (3) or says it could not judge
                // (1); it never passes.
                "gate --all" => {
                    assert!(
                        matches!(code, Some(1) | Some(3)),
                        "{what} {mode}: {code:?} {err}"
                    )
                }
                // Evidence that cannot be read is shown as such (0, with the error in the
                // listing) or ends with a sentence (1).
                "evidence" => {
                    assert!(
                        matches!(code, Some(0) | Some(1)),
                        "{what} {mode}: {code:?} {err}"
                    );
                    if code == Some(1) {
                        assert!(err.starts_with("provost: "), "{what} {mode}: {err}");
                    }
                }
                // A write that meets a fault fails with a sentence (or, when the fault is on
                // a read it does not need, completes); either way nothing is half-written.
                _ => {
                    assert!(
                        matches!(code, Some(0) | Some(1)),
                        "{what} {mode}: {code:?} {err}"
                    );
                    if code == Some(1) {
                        assert!(err.starts_with("provost: "), "{what} {mode}: {err}");
                    }
                    consistent(&direct, "acme/api");
                }
            }
        }
        assert!(faults(&p) > 0, "{mode}: the fault was injected");
    }
}

#[test]
fn a_command_ends_within_its_overall_bound_even_when_every_request_is_within_its_own() {
    // Every request answers after one second, well inside its 5 s deadline; `gate --all` makes
    // a few dozen of them in chains, so only the command's overall bound (3 s) ends it.
    let s = setup();
    let tmp = tempfile::tempdir().expect("tmp");
    let p = proxy(tmp.path(), &s.reg.host, "slow", "/", 0);
    let cfg = s.home.path().join("bound.toml");
    let config = |bound: u64| {
        std::fs::write(
            &cfg,
            prod_behind(
                &p.host,
                &format!("timeout_secs = 5\ncommand_timeout_secs = {bound}\n"),
            ),
        )
        .expect("config");
    };
    config(3);
    let repo = format!("{}/acme/api", p.host);
    let cfg_s = cfg.to_str().expect("utf8");
    let args = [
        "--config",
        cfg_s,
        "gate",
        &repo,
        "--all",
        "--env",
        "prod",
        "--no-cache",
    ];
    let start = Instant::now();
    let out = run_provost(s.home.path(), &args);
    let took = start.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(8),
        "{took:?}"
    );
    assert!(
        err.contains("gave up after 3 s") && err.contains("command_timeout_secs"),
        "names the limit: {err}"
    );
    assert!(err.contains(&p.host), "names the registry: {err}");
    assert!(
        !out.stdout.windows(4).any(|w| w == b"pass"),
        "nothing was judged as passing"
    );

    // With a bound that fits, the same slow registry is judged in full.
    config(120);
    let out = run_provost(s.home.path(), &args);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(faults(&p) > 20, "every request was slowed");
}
