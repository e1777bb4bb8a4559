//! The OCI 1.1 referrers API for real: ferro-oci-server, a registry that serves
//! `GET /v2/<name>/referrers/<digest>` (with `artifactType` filtering), installed from the
//! crate registry by scripts/test.sh. Debian's docker-registry 2.8 has no such endpoint, so
//! every other registry test exercises only the tag fallback. Here: the registry's own
//! answers (read with a raw HTTP request, not provost's client), then discovery, attaching,
//! signing and release records through provost against it, with the fallback tag taken away
//! so only the API can tell.

mod common;

use common::*;
use provost::oci::Store;
use std::io::{Read, Write};

/// A raw HTTP/1.0 GET: (status, lower-cased headers, body).
fn get(host: &str, path: &str) -> (u16, Vec<(String, String)>, serde_json::Value) {
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .expect("send");
    let mut raw = vec![];
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    (status, headers, body)
}

/// (digest, artifactType) of each referrer in an index.
fn referrers(index: &serde_json::Value) -> Vec<(String, String)> {
    index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| {
            (
                m["digest"].as_str().unwrap_or("").to_string(),
                m["artifactType"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn discovery_attaching_signing_and_records_through_the_referrers_api() {
    let reg = Registry::start_referrers_api();
    let rt = runtime();
    let s = store(&reg);
    rt.block_on(provost::demo::seed(&s, demo_keys()))
        .expect("seed");
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    let key = release_key(h);
    let public = provost::verify::keys::public_pem(&demo_keys().release).expect("pem");
    std::fs::write(h.join("release.pub"), public).expect("pub");
    std::fs::write(
        h.join("policy.toml"),
        "[[group]]\nname = \"release-managers\"\n[[group.member]]\nkey = \"release\"\n[[access]]\nenvironment = \"prod\"\napprove = \"release-managers\"\n",
    )
    .expect("policy");
    let config = h.join("provost.toml");
    std::fs::write(
        &config,
        format!(
            "demo = false\npolicy = \"policy.toml\"\n[[registry]]\nname = \"api\"\nhost = \"{}\"\ninsecure = true\n[[environment]]\nname = \"prod\"\ntier = \"required\"\nsource = \"api\"\n[[trust.key]]\nname = \"release\"\npath = \"release.pub\"\n",
            reg.host
        ),
    )
    .expect("config");
    let cfg = config.to_str().expect("utf8");
    let run = |args: &[&str]| {
        let mut a = vec!["--config", cfg];
        a.extend_from_slice(args);
        let out = run_provost(h, &a);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        out
    };

    // The release candidate: unsigned; its provenance is signed by an untrusted builder key.
    let rc = rt
        .block_on(s.resolve("acme/api", "1.5.0-rc.1"))
        .expect("rc");
    let r = format!("{}/acme/api@{rc}", reg.host);
    let api = format!("/v2/acme/api/referrers/{rc}");
    let (status, _, before) = get(&reg.host, &api);
    assert_eq!(status, 200, "the registry serves the referrers API");
    let before = referrers(&before);

    // Sign it (a cosign .sig tag) and attest provenance (a cosign .att tag), then approve it
    // for prod: the release record is an OCI 1.1 referrer, with the digest as its subject.
    let predicate = h.join("predicate.json");
    std::fs::write(
        &predicate,
        r#"{"runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}}}"#,
    )
    .expect("predicate");
    let k = key.to_str().expect("utf8");
    run(&["sign", &r, "--key", k]);
    run(&[
        "verify",
        &r,
        "--key",
        h.join("release.pub").to_str().expect("utf8"),
    ]);
    run(&[
        "attest",
        &r,
        "--predicate",
        predicate.to_str().expect("utf8"),
        "--type",
        "https://slsa.dev/provenance/v1",
        "--key",
        k,
    ]);
    let out = run(&[
        "approve",
        &r,
        "--env",
        "prod",
        "--reason",
        "release 1.5.0",
        "--key",
        k,
        "--yes",
    ]);
    assert!(stdout(&out).contains("approv"), "{}", stdout(&out));

    // The registry lists the record under its subject, and filters by type.
    let (_, _, after) = get(&reg.host, &api);
    let added: Vec<(String, String)> = referrers(&after)
        .into_iter()
        .filter(|r| !before.contains(r))
        .collect();
    assert_eq!(added.len(), 1, "one new referrer: {added:?}");
    let (record, kind) = &added[0];
    // A release record is a Sigstore bundle of a DSSE statement.
    assert_eq!(kind, "application/vnd.dev.sigstore.bundle.v0.3+json");
    let (_, headers, filtered) = get(
        &reg.host,
        &format!(
            "{api}?artifactType={}",
            kind.replace('+', "%2B").replace('/', "%2F")
        ),
    );
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "oci-filters-applied" && v == "artifactType"),
        "{headers:?}"
    );
    let filtered = referrers(&filtered);
    assert!(filtered.iter().all(|(_, t)| t == kind), "{filtered:?}");
    assert!(filtered.contains(&added[0]), "{filtered:?}");
    assert!(
        filtered.len() < referrers(&after).len(),
        "the filter applied"
    );

    // Only the API can tell now: take away the fallback tag's index.
    let fallback = format!("sha256-{}", rc.trim_start_matches("sha256:"));
    if let Ok(m) = rt.block_on(s.get_manifest("acme/api", &fallback)) {
        rt.block_on(s.delete_manifest("acme/api", &m.digest))
            .expect("delete the fallback index");
    }
    assert!(rt.block_on(s.get_manifest("acme/api", &fallback)).is_err());

    // Discovery finds the record and the seeded SBOMs and provenance through the API, and the
    // signature and attestation by their cosign tags; the trusted ones verify.
    let out = run(&["evidence", &r, "--json"]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let items = j["items"].as_array().expect("items");
    let ours = items
        .iter()
        .find(|i| i["manifest"] == record.as_str())
        .unwrap_or_else(|| panic!("the record is discovered: {items:#?}"));
    assert_eq!(ours["found"], "referrers-api", "{ours:#}");
    let seeded = items
        .iter()
        .filter(|i| i["found"] == "referrers-api" && i["manifest"] != record.as_str())
        .count();
    assert_eq!(seeded, before.len(), "{items:#?}");
    for kind in ["signature", "provenance"] {
        assert!(
            items.iter().any(|i| i["kind"] == kind
                && i["found"] != "referrers-api"
                && i["signer"]["state"] == "verified"),
            "a verified {kind} by its cosign tag: {items:#?}"
        );
    }
    assert!(j["errors"].as_array().is_none_or(|e| e.is_empty()), "{j:#}");
    // And the audit chain holds the approval.
    let out = run(&["audit", "log", "prod", "--json"]);
    assert!(stdout(&out).contains(&rc), "{}", stdout(&out));
}
