//! File-level diffs and the reproducibility verdict on images built for the test and pushed to
//! a real registry: two builds of one commit that differ only in timestamps (equivalent), one
//! with a changed file (not reproducible), and a digest against itself (identical).

mod common;

use common::*;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use provost::demo::image::{self, File, ImageSpec, Layer};
use provost::oci::media::Platform;
use std::io::Write;

/// A gzip'd tar holding `app/bin` with `contents`, modified at `mtime`.
fn app_layer(contents: &[u8], mtime: u64) -> Layer {
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o755);
    h.set_size(contents.len() as u64);
    h.set_mtime(mtime);
    h.set_cksum();
    tar.append_data(&mut h, "app/bin", contents)
        .expect("append");
    let raw = tar.into_inner().expect("tar");
    let diff_id = provost::oci::digest::sha256(&raw);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).expect("gz");
    Layer {
        tar_gz: gz.finish().expect("gz"),
        diff_id,
        created_by: "COPY app/bin /app/bin".into(),
    }
}

fn push(st: &provost::oci::remote::RemoteStore, tag: &str, app: Layer, env: &[&str]) {
    let base = image::layer(
        &[File {
            path: "etc/os-release",
            contents: b"ID=acme\n",
            mode: 0o644,
        }],
        "ADD base",
    )
    .expect("base");
    let spec = ImageSpec {
        platform: Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..Default::default()
        },
        created: "2026-11-30T10:00:00Z".into(),
        entrypoint: vec!["/app/bin".into()],
        env: env.iter().map(|e| e.to_string()).collect(),
        labels: Default::default(),
        annotations: Default::default(),
        layers: vec![base, app],
    };
    runtime()
        .block_on(image::push_image(st, "acme/tool", &spec, Some(tag)))
        .expect("push");
}

#[test]
fn timestamps_only_is_equivalent_a_changed_file_is_not_reproducible() {
    let reg = Registry::start();
    let st = store(&reg);
    push(&st, "a", app_layer(b"binary v1", 0), &["TOKEN=old-secret"]);
    push(
        &st,
        "b",
        app_layer(b"binary v1", 1_700_000_000),
        &["TOKEN=old-secret"],
    );
    push(
        &st,
        "c",
        app_layer(b"binary v2", 0),
        &["TOKEN=new-secret", "MODE=fast"],
    );
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    let key = provost::verify::keys::generate();
    std::fs::write(
        h.join("k.key"),
        key.to_pkcs8_pem(LineEnding::LF).expect("pem").as_bytes(),
    )
    .expect("key");
    // The same provenance claim for all three: one commit, one build type.
    let predicate = serde_json::json!({
        "buildDefinition": {
            "buildType": "https://actions.github.io/buildtypes/workflow/v1",
            "externalParameters": {"workflow": {"ref": "refs/tags/v1.0.0", "repository": "https://github.com/acme/tool", "path": ".github/workflows/release.yml"}},
            "resolvedDependencies": [{"uri": "git+https://github.com/acme/tool@refs/tags/v1.0.0", "digest": {"gitCommit": "1111111111111111111111111111111111111111"}}]
        },
        "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}}
    });
    std::fs::write(h.join("p.json"), predicate.to_string()).expect("predicate");
    let reference = |t: &str| format!("{}/acme/tool:{t}", reg.host);
    let run = |args: &[&str]| {
        let mut all = vec!["--insecure-registry", reg.host.as_str()];
        all.extend_from_slice(args);
        run_provost(h, &all)
    };
    for t in ["a", "b", "c"] {
        let out = run(&[
            "attest",
            &reference(t),
            "--predicate",
            h.join("p.json").to_str().expect("utf8"),
            "--type",
            "https://slsa.dev/provenance/v1",
            "--key",
            h.join("k.key").to_str().expect("utf8"),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let diff = |x: &str, y: &str, extra: &[&str]| {
        let (rx, ry) = (reference(x), reference(y));
        let mut args = vec!["diff", rx.as_str(), ry.as_str(), "--json"];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    let section = |d: &serde_json::Value, name: &str| {
        d["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name}: {d}"))
    };
    // Timestamps only: the layer differs, the files' contents do not.
    let d = diff("a", "b", &["--files"]);
    let files = section(&d, "files");
    let rows = files["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{files}");
    assert_eq!(rows[0]["key"], "layer 2: app/bin");
    assert!(
        rows[0]["a"]
            .as_str()
            .is_some_and(|a| a.ends_with("mtime 0"))
            && rows[0]["b"]
                .as_str()
                .is_some_and(|b| b.ends_with("mtime 1700000000")),
        "{files}"
    );
    let r = section(&d, "reproducibility");
    assert!(
        r["note"]
            .as_str()
            .is_some_and(|n| n.starts_with("equivalent ignoring timestamps")),
        "{r}"
    );
    let sem = section(&diff("a", "b", &["--semantic"]), "files");
    assert_eq!(sem["rows"].as_array().map(|r| r.len()), Some(0), "{sem}");
    // A changed file: not reproducible, and which file says so.
    let d = diff("a", "c", &[]);
    let r = section(&d, "reproducibility");
    assert!(
        r["note"]
            .as_str()
            .is_some_and(|n| n.starts_with("not reproducible")),
        "{r}"
    );
    assert_eq!(r["rows"][0]["key"], "app/bin", "{r}");
    // Environment variables: names, never values unless asked.
    let cfg = section(&d, "config");
    let text = cfg.to_string();
    assert!(!text.contains("secret"), "values stay hidden: {cfg}");
    let rows = cfg["rows"].as_array().expect("rows");
    let token = rows
        .iter()
        .find(|r| r["key"] == "env TOKEN")
        .expect("TOKEN");
    assert_eq!(token["change"], "changed", "{cfg}");
    assert!(
        rows.iter()
            .any(|r| r["key"] == "env MODE" && r["change"] == "added"),
        "{cfg}"
    );
    let shown = section(&diff("a", "c", &["--show-values"]), "config");
    let token = shown["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == "env TOKEN")
        .cloned()
        .expect("TOKEN");
    assert_eq!(
        (token["a"].as_str(), token["b"].as_str()),
        (Some("old-secret"), Some("new-secret"))
    );
    // A digest against itself: identical.
    let r = section(&diff("a", "a", &[]), "reproducibility");
    assert!(
        r["note"]
            .as_str()
            .is_some_and(|n| n.starts_with("reproducible: ")),
        "{r}"
    );
    // The provenance is not trusted here: the diff says so rather than vouching for it.
    let p = section(&diff("a", "c", &[]), "provenance");
    assert!(
        p["note"].as_str().is_some_and(|n| n.contains("unverified")),
        "{p}"
    );
}
