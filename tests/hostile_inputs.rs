//! Hostile inputs on the newer surfaces: a pusher without a key cannot hide a standing
//! quarantine (rewriting the fallback referrers index, flooding referrers), a listing is never
//! cut silently, and non-ASCII input is never sliced by byte. Each test failed first.
#![allow(clippy::disallowed_macros)] // a test prints its own fixed reports

mod common;

use common::promotion::*;
use common::*;
use provost::oci::Store;

/// The fallback referrers index of `digest` in `repo`, as JSON.
fn fallback_index(st: &impl Store, repo: &str, digest: &str) -> serde_json::Value {
    let tag = format!("sha256-{}", digest.trim_start_matches("sha256:"));
    let m = runtime()
        .block_on(st.get_manifest(repo, &tag))
        .expect("fallback index");
    serde_json::from_slice(&m.bytes).expect("index json")
}

fn put_fallback_index(st: &impl Store, repo: &str, digest: &str, index: &serde_json::Value) {
    let tag = format!("sha256-{}", digest.trim_start_matches("sha256:"));
    let bytes = serde_json::to_vec(index).expect("bytes");
    runtime()
        .block_on(st.put_manifest(repo, Some(&tag), provost::oci::media::OCI_INDEX, &bytes))
        .expect("rewrite the fallback index");
}

/// `n` harmless referrers of `digest` (notes), pushed untagged: their descriptors.
fn notes(st: &impl Store, repo: &str, digest: &str, n: usize) -> Vec<serde_json::Value> {
    let rt = runtime();
    let subject = rt.block_on(st.get_manifest(repo, digest)).expect("subject");
    rt.block_on(st.put_blob(repo, b"{}")).expect("empty");
    (0..n)
        .map(|i| {
            let body = format!("note {i}");
            let layer = rt
                .block_on(st.put_blob(repo, body.as_bytes()))
                .expect("blob");
            let m = serde_json::json!({
                "schemaVersion": 2,
                "mediaType": provost::oci::media::OCI_MANIFEST,
                "artifactType": "application/vnd.example.note",
                "config": {"mediaType": provost::oci::media::OCI_EMPTY,
                    "digest": provost::oci::digest::sha256(b"{}"), "size": 2},
                "layers": [{"mediaType": "text/plain", "digest": layer, "size": body.len()}],
                "subject": {"mediaType": subject.media_type, "digest": subject.digest,
                    "size": subject.bytes.len()},
            });
            let bytes = serde_json::to_vec(&m).expect("bytes");
            let d = rt
                .block_on(st.put_manifest(repo, None, provost::oci::media::OCI_MANIFEST, &bytes))
                .expect("note");
            serde_json::json!({"mediaType": provost::oci::media::OCI_MANIFEST, "digest": d,
                "size": bytes.len(), "artifactType": "application/vnd.example.note"})
        })
        .collect()
}

#[test]
fn a_pusher_without_a_key_cannot_hide_a_standing_quarantine() {
    let src = source();
    let w = world(&src);
    let st = store(&src.reg);
    // acme/api 1.3.0 is quarantined in the demo landscape by carol's record, on the ledger's
    // quarantine chain (CVE-2026-48121).
    let q = runtime()
        .block_on(st.resolve("acme/api", "1.3.0"))
        .expect("1.3.0");
    // --no-cache: every answer from the registry as it is now (a cached pointer to the old
    // fallback index would make the rewrite invisible, and the test pass for the wrong reason).
    let gate = |env: &str| {
        w.run(&[
            "gate",
            &format!("src/acme/api@{q}"),
            "--env",
            env,
            "--no-cache",
        ])
    };
    let g = gate("prod");
    assert_eq!(g.status.code(), Some(3), "{}", stdout(&g));
    assert!(stdout(&g).contains("CVE-2026-48121"), "{}", stdout(&g));
    // 1. The fallback index rewritten without the quarantine record: still blocked, in both
    //    tiers that block, because the record counts from the ledger's chain.
    let mut idx = fallback_index(&st, "acme/api", &q);
    let before = idx["manifests"].as_array().expect("manifests").len();
    idx["manifests"]
        .as_array_mut()
        .expect("manifests")
        .retain(|d| !d.to_string().contains("quarantine"));
    assert!(
        idx["manifests"].as_array().expect("manifests").len() < before,
        "the quarantine record was listed: {idx}"
    );
    put_fallback_index(&st, "acme/api", &q, &idx);
    for env in ["prod", "staging"] {
        let g = gate(env);
        assert_eq!(g.status.code(), Some(3), "{env}: {}", stdout(&g));
        assert!(
            stdout(&g).contains("CVE-2026-48121"),
            "{env}: {}",
            stdout(&g)
        );
    }
    // 2. A flood of 130 harmless referrers ahead of everything else: the listing is longer
    //    than provost reads, which it says, and the quarantine still stands.
    let mut flooded = notes(&st, "acme/api", &q, 130);
    flooded.extend(
        idx["manifests"]
            .as_array()
            .expect("manifests")
            .iter()
            .cloned(),
    );
    idx["manifests"] = serde_json::Value::Array(flooded);
    put_fallback_index(&st, "acme/api", &q, &idx);
    // (An evaluation error beside the block: exit 1, the verdict still a block.)
    let g = gate("prod");
    assert_ne!(g.status.code(), Some(0), "{}", stdout(&g));
    assert!(stdout(&g).contains("✗ block"), "{}", stdout(&g));
    assert!(
        stdout(&g).contains("evidence listing truncated at 128"),
        "{}",
        stdout(&g)
    );
    assert!(stdout(&g).contains("CVE-2026-48121"), "{}", stdout(&g));
    // A digest with nothing standing against it but a flooded listing: a required tier
    // cannot pass it (nothing shows that nothing stands against it).
    let ok_digest = runtime()
        .block_on(st.resolve("acme/api", "1.4.1"))
        .expect("1.4.1");
    let pass = w.run(&[
        "gate",
        &format!("src/acme/api@{ok_digest}"),
        "--env",
        "prod",
        "--no-cache",
    ]);
    assert_eq!(pass.status.code(), Some(0), "{}", stdout(&pass));
    let mut idx = fallback_index(&st, "acme/api", &ok_digest);
    let mut flooded = notes(&st, "acme/api", &ok_digest, 130);
    flooded.extend(
        idx["manifests"]
            .as_array()
            .expect("manifests")
            .iter()
            .cloned(),
    );
    idx["manifests"] = serde_json::Value::Array(flooded);
    put_fallback_index(&st, "acme/api", &ok_digest, &idx);
    let cut = w.run(&[
        "gate",
        &format!("src/acme/api@{ok_digest}"),
        "--env",
        "prod",
        "--no-cache",
    ]);
    assert_ne!(cut.status.code(), Some(0), "{}", stdout(&cut));
    assert!(
        stdout(&cut).contains("evidence listing truncated at 128"),
        "{}",
        stdout(&cut)
    );
}

#[test]
fn a_package_name_that_starts_with_a_wide_character_is_a_question_not_a_panic() {
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    let store_dir = h.join("s");
    let out = run_provost(h, &["demo", "--store", store_dir.to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    for q in ["Äpfel", "Äpfel@1.0.0", "ü"] {
        let out = run_provost(
            h,
            &[
                "--store",
                store_dir.to_str().expect("utf8"),
                "find",
                "--package",
                q,
            ],
        );
        assert_ne!(out.status.code(), Some(101), "{q}: {}", stderr(&out));
        assert!(
            out.status.success(),
            "{q}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(
            stdout(&out).contains("0 digest(s) match"),
            "{q}: {}",
            stdout(&out)
        );
    }
}

#[test]
fn json_output_escapes_c1_del_and_bidi_controls() {
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    let dir = h.join("s");
    let d = dir.to_str().expect("utf8");
    assert!(run_provost(h, &["demo", "--store", d]).status.success());
    let reason = "ok\u{9b}31m \u{202e}evil\u{7f} \u{2066}x";
    let out = run_provost(
        h,
        &[
            "--store",
            d,
            "approve",
            "acme/api:1.4.0",
            "--env",
            "prod",
            "--key",
            "demo:alice",
            "--reason",
            reason,
            "--yes",
        ],
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let log = run_provost(h, &["--store", d, "audit", "log", "prod", "--json"]);
    assert!(log.status.success(), "{}", stderr(&log));
    let text = stdout(&log);
    for c in ['\u{9b}', '\u{202e}', '\u{7f}', '\u{2066}'] {
        assert!(!text.contains(c), "raw U+{:04X} in the JSON", c as u32);
    }
    assert!(
        text.contains("\\u009b") && text.contains("\\u202e"),
        "{text}"
    );
    // Still JSON, with the same value for a parser.
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let found = v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .any(|e| e["record"]["reason"] == reason);
    assert!(found, "the reason reads back exactly");
}

#[test]
fn a_blocked_workload_is_never_printed_without_its_reason() {
    let src = source();
    let w = world(&src);
    let unknown = format!("sha256:{}", "e".repeat(64));
    let pods = serde_json::json!({
        "apiVersion": "v1", "kind": "List",
        "items": [{"metadata": {"name": "api-x", "namespace": "shop"},
            "status": {"containerStatuses": [{"name": "api",
                "image": format!("{}/prod/acme/api:prod", w.dst.host),
                "imageID": format!("{}/prod/acme/api@{unknown}", w.dst.host),
                "state": {"running": {}}}]}}]
    });
    let file = w.home.path().join("pods.json");
    std::fs::write(&file, pods.to_string()).expect("pods");
    let out = w.run(&[
        "runtime",
        "prod",
        "--from-file",
        file.to_str().expect("utf8"),
    ]);
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains("blocked today"))
        .unwrap_or_else(|| panic!("a blocked line: {text}{}", stderr(&out)));
    let reason = line
        .split_once("blocked today:")
        .map(|(_, r)| r.trim())
        .unwrap_or("");
    assert!(!reason.is_empty(), "{line}");
}

#[test]
fn a_tag_write_answered_500_after_it_was_stored_is_read_back_not_called_failed() {
    let src = source();
    let w = world(&src);
    let tmp = tempfile::tempdir().expect("tmp");
    // The prod registry behind a proxy that passes the tag PUT on and answers 500.
    let p = common::faults::proxy(tmp.path(), &w.dst.host, "put500", "/manifests/prod", 1);
    let h = w.home.path();
    behind(&w, &p);
    let digest = staged_prod_digest(&src);
    let key = h.join("bob.key");
    let args = promote_args(key.to_str().expect("utf8"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = w.run(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(common::faults::faults(&p), 1, "the 500 was given");
    assert_eq!(w.prod_tag().as_deref(), Some(digest.as_str()));
    let again = ok(&w.run(&args));
    assert!(again.contains("nothing to do"), "{again}");
    assert_eq!(w.promotions().len(), 1);
}

/// The prod registry of `w` behind `p`: the configuration and the credentials name the proxy.
fn behind(w: &World, p: &common::faults::Proxy) {
    let h = w.home.path();
    for f in ["provost.toml", ".docker/config.json"] {
        let text = std::fs::read_to_string(h.join(f)).expect("read");
        std::fs::write(h.join(f), text.replace(&w.dst.host, &p.host)).expect("write");
    }
}

#[test]
fn an_upload_location_on_another_origin_is_refused_by_name() {
    let src = source();
    let w = world(&src);
    let tmp = tempfile::tempdir().expect("tmp");
    // Uploads answered with the registry's own address: another origin than the one asked.
    let p = common::faults::proxy(
        tmp.path(),
        &w.dst.host,
        "upstream-host",
        "/blobs/uploads",
        0,
    );
    behind(&w, &p);
    staged_prod_digest(&src);
    let key = w.home.path().join("bob.key");
    let args = promote_args(key.to_str().expect("utf8"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = w.run(&args);
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));
    let said = stderr(&out);
    assert!(said.contains("another origin"), "{said}");
    assert!(said.contains(&w.dst.host), "names the origin: {said}");
    assert_eq!(w.prod_tag(), None, "nothing moved");
}

#[test]
fn an_endless_docker_api_answer_over_http_stops_at_the_cap() {
    let src = source();
    let w = world(&src);
    let tmp = tempfile::tempdir().expect("tmp");
    let endless = PyServer::start(tmp.path(), "endless_docker.py", &["{port}", "{log}"]);
    let cfg = w.home.path().join("provost.toml");
    let text = std::fs::read_to_string(&cfg).expect("config");
    let marker = "tag = \"staging\"\npromotes_from = \"dev\"\n";
    assert!(text.contains(marker));
    let text = text.replace(
        marker,
        &format!(
            "{marker}runtime = {{ docker = \"http://127.0.0.1:{}\" }}\n",
            endless.port
        ),
    );
    std::fs::write(&cfg, text).expect("config");
    let start = std::time::Instant::now();
    let out = w.run(&["runtime", "staging"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stderr(&out).contains("larger than"), "{}", stderr(&out));
    assert!(
        start.elapsed() < std::time::Duration::from_secs(30),
        "stopped at the cap, not at the end: {:?}",
        start.elapsed()
    );
}

#[test]
fn a_destination_that_serves_other_bytes_than_it_was_given_never_gets_the_tag() {
    let src = source();
    let w = world(&src);
    let tmp = tempfile::tempdir().expect("tmp");
    // qa (a warn tier) lives in the prod registry here, behind a proxy that cuts the image
    // config short whenever it is read back: what a destination that lost or swapped a blob
    // serves. The source judges it "warn"; so would a check of the label alone.
    let st = store(&src.reg);
    let dev = runtime()
        .block_on(st.resolve("acme/api", "dev"))
        .expect("dev");
    let m = runtime()
        .block_on(st.get_manifest("acme/api", &dev))
        .expect("manifest");
    let m: serde_json::Value = serde_json::from_slice(&m.bytes).expect("json");
    let config = m["config"]["digest"].as_str().expect("config").to_string();
    let p = common::faults::proxy(
        tmp.path(),
        &w.dst.host,
        "truncate",
        &format!("/blobs/{config}"),
        0,
    );
    behind(&w, &p);
    let cfg = w.home.path().join("provost.toml");
    let text = std::fs::read_to_string(&cfg).expect("config");
    let qa = "name = \"qa\"\ntier = \"warn\"\nsource = \"src\"";
    assert!(text.contains(qa), "{text}");
    std::fs::write(
        &cfg,
        text.replace(qa, "name = \"qa\"\ntier = \"warn\"\nsource = \"dst\""),
    )
    .expect("config");
    let key = w.home.path().join("bob.key");
    let out = w.run(&[
        "promote",
        "src/acme/api:dev",
        "--to",
        "qa",
        "--key",
        key.to_str().expect("utf8"),
        "--yes",
    ]);
    assert_ne!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    // Found when the copy is read back (before the gate is even asked again).
    let said = stderr(&out);
    assert!(
        said.contains("does not serve what was copied") && said.contains("the tag was not moved"),
        "{said}"
    );
    assert!(said.contains(&config[7..19]), "names the blob: {said}");
    let tag = runtime().block_on(w.dst_store().resolve("qa/acme/api", "qa"));
    assert!(tag.is_err(), "the tag was not made: {tag:?}");
}
