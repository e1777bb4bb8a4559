//! A hostile registry on loopback (tests/interop/hostile_registry.py — a mock only for faults a
//! real registry cannot be made to produce) and a second loopback server that logs what it
//! receives: credentials stay with their origin, escape sequences from error bodies never reach
//! the terminal, and a dripping server ends within its deadline.

mod common;

use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

fn serve(dir: &Path, mode: &str, other: u16) -> PyServer {
    let other = other.to_string();
    PyServer::start(
        dir,
        "hostile_registry.py",
        &["{port}", "{log}", mode, &other, "60"],
    )
}

fn received(s: &PyServer) -> Vec<serde_json::Value> {
    s.logged()
}

/// A HOME whose docker config holds a password for `host`, so any leak would show.
fn home_with_credentials(host: &str) -> tempfile::TempDir {
    use base64::Engine as _;
    let home = tempfile::tempdir().expect("home");
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret-password");
    std::fs::create_dir_all(home.path().join(".docker")).expect("docker dir");
    std::fs::write(
        home.path().join(".docker/config.json"),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .expect("docker config");
    std::fs::write(
        home.path().join("provost.toml"),
        "demo = false\ntimeout_secs = 1\n",
    )
    .expect("config");
    home
}

fn provost_in(home: &Path, host: &str, args: &[&str]) -> std::process::Output {
    let config = home.join("provost.toml");
    let mut a = vec![
        "--config",
        config.to_str().expect("utf8"),
        "--insecure-registry",
        host,
    ];
    a.extend_from_slice(args);
    run_provost(home, &a)
}

#[test]
fn link_paging_to_another_origin_is_refused_and_nothing_reaches_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let other = serve(tmp.path(), "other", 0);
    let reg = serve(tmp.path(), "link-elsewhere", other.port);
    let host = format!("127.0.0.1:{}", reg.port);
    let home = home_with_credentials(&host);
    let out = provost_in(home.path(), &host, &["ls", &host]);
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stderr(&out).contains("another origin"), "{}", stderr(&out));
    assert!(
        received(&other).is_empty(),
        "the other origin was contacted: {:?}",
        received(&other)
    );
}

#[test]
fn a_redirect_target_asking_for_credentials_never_gets_the_registrys() {
    let tmp = tempfile::tempdir().expect("tmp");
    let other = serve(tmp.path(), "other", 0);
    let reg = serve(tmp.path(), "redirect-blob", other.port);
    let host = format!("127.0.0.1:{}", reg.port);
    let home = home_with_credentials(&host);
    // A blob read: the registry asks for Basic credentials, gets them, and redirects to the
    // other origin, which answers 401 with a Bearer realm of its own.
    let rt = runtime();
    let store = provost::oci::remote::RemoteStore::with_credential(
        &host,
        true,
        Duration::from_secs(5),
        Ok(provost::oci::auth::Credential::Basic {
            username: "alice".into(),
            password: provost::oci::auth::Secret::new("s3cret-password".into()),
        }),
    )
    .expect("store");
    let digest = provost::oci::digest::sha256(b"blob");
    let err = rt
        .block_on(provost::oci::Store::get_blob(&store, "r", &digest, 1024))
        .expect_err("refused");
    assert!(err.to_string().contains("another origin"), "{err}");
    // The registry itself got the password (it asked); the other origin got a plain request
    // and nothing else: no Authorization header, no token request.
    let seen = received(&other);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen.iter()
            .all(|r| r["headers"].get("authorization").is_none()
                && !r["path"].as_str().unwrap_or("").starts_with("/token")),
        "credentials reached the other origin: {seen:?}"
    );
    assert!(received(&reg)
        .iter()
        .any(|r| r["headers"].get("authorization").is_some()));
    drop(home);
}

#[test]
fn escape_sequences_in_error_bodies_never_reach_the_terminal() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = serve(tmp.path(), "error-body", 0);
    let host = format!("127.0.0.1:{}", reg.port);
    let home = home_with_credentials(&host);
    for args in [
        vec!["inspect", "REF"],
        vec!["ls", "HOST/acme/api"],
        vec!["gate", "REF", "--env", "prod"],
    ] {
        let r = format!("{host}/acme/api:prod");
        let repo = format!("{host}/acme/api");
        let args: Vec<&str> = args
            .iter()
            .map(|a| match *a {
                "REF" => r.as_str(),
                "HOST/acme/api" => repo.as_str(),
                other => other,
            })
            .collect();
        let out = provost_in(home.path(), &host, &args);
        assert_ne!(out.status.code(), Some(0));
        for stream in [&out.stdout, &out.stderr] {
            for bad in [b'\x1b', b'\x07', b'\r'] {
                assert!(
                    !stream.contains(&bad),
                    "{args:?} wrote a raw {bad:#x}: {}",
                    String::from_utf8_lossy(stream)
                );
            }
            assert!(!String::from_utf8_lossy(stream).contains('\u{202e}'));
        }
    }
}

#[test]
fn a_dripping_registry_ends_within_the_request_deadline() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = serve(tmp.path(), "drip", 0);
    let host = format!("127.0.0.1:{}", reg.port);
    let home = home_with_credentials(&host);
    // timeout_secs = 1: a request may take 3 s in all, however slowly its body arrives.
    let start = Instant::now();
    let out = provost_in(
        home.path(),
        &host,
        &["inspect", &format!("{host}/acme/api:prod"), "--no-cache"],
    );
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("timed out"), "{}", stderr(&out));
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn hostile_strings_in_evidence_never_reach_the_terminal_raw() {
    use p256::pkcs8::EncodePrivateKey;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_layout(tmp.path());
    let key = provost::demo::keys::release_key(&demo_data(tmp.path()), &dir).expect("key");
    let key_file = tmp.path().join("key.pem");
    std::fs::write(
        &key_file,
        key.to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .expect("pem")
            .as_bytes(),
    )
    .expect("key");
    let evil = "\u{1b}]52;c;cm0gLXJmIH4=\u{7}\u{1b}[2J\u{202e}\r";
    let prov = serde_json::json!({
        "buildDefinition": {
            "buildType": format!("https://evil/{evil}"),
            "externalParameters": {"workflow": {"ref": format!("refs/tags/v1{evil}"), "repository": format!("https://github.com/acme/api{evil}"), "path": format!(".github/workflows/{evil}.yml")}},
            "resolvedDependencies": [{"uri": format!("git+https://github.com/acme/api{evil}"), "digest": {"gitCommit": format!("abc{evil}")}}]
        },
        "runDetails": {"builder": {"id": format!("https://builder/{evil}")}, "metadata": {"invocationId": evil}}
    });
    let sbom = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5",
        "components": [{"type": "library", "name": format!("left-pad{evil}"), "version": format!("1.3.0{evil}"), "purl": "pkg:npm/left-pad@1.3.0", "licenses": [{"license": {"id": evil}}]}]
    });
    let s = dir.to_str().expect("utf8");
    for (name, doc, t) in [
        ("p.json", &prov, "slsaprovenance1"),
        ("s.json", &sbom, "cyclonedx"),
    ] {
        let p = tmp.path().join(name);
        std::fs::write(&p, doc.to_string()).expect("predicate");
        let out = run_provost(
            tmp.path(),
            &[
                "--store",
                s,
                "attest",
                "acme/api:prod",
                "--predicate",
                p.to_str().expect("utf8"),
                "--type",
                t,
                "--key",
                key_file.to_str().expect("utf8"),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let runs: Vec<Vec<&str>> = vec![
        vec!["evidence", "acme/api:prod"],
        vec!["inspect", "acme/api:prod"],
        vec!["gate", "acme/api:prod", "--env", "prod"],
        vec!["verify-attestation", "acme/api:prod"],
    ];
    for args in runs {
        let mut a = vec!["--store", s];
        a.extend_from_slice(&args);
        let out = run_provost(tmp.path(), &a);
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(
                !stream.contains(&0x1b)
                    && !stream.contains(&0x07)
                    && !stream.contains(&b'\r')
                    && !text.contains('\u{202e}'),
                "{args:?} wrote hostile bytes: {text}"
            );
        }
    }
    // The summary too: no markup from the documents reaches a CI job summary.
    let md = tmp.path().join("summary.md");
    run_provost(
        tmp.path(),
        &[
            "--store",
            s,
            "gate",
            "acme/api:prod",
            "--env",
            "prod",
            "--summary",
            md.to_str().expect("utf8"),
        ],
    );
    let summary = std::fs::read_to_string(&md).expect("summary");
    assert!(
        !summary.contains('\u{1b}') && !summary.contains('\u{202e}'),
        "{summary}"
    );
}
