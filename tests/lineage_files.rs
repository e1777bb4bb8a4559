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
    let mut spec = platform_image("amd64", app);
    spec.env = env.iter().map(|e| e.to_string()).collect();
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

/// `layer`'s tar compressed with the zstd command-line tool (an independent encoder).
fn zstd_layer(contents: &[u8], mtime: u64) -> Layer {
    let gz = app_layer(contents, mtime);
    let mut raw = vec![];
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(gz.tar_gz.as_slice()),
        &mut raw,
    )
    .expect("gunzip");
    let mut child = std::process::Command::new("zstd")
        .args(["-q", "-c", "-3"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("zstd is installed by the test command");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&raw)
        .expect("write");
    let out = child.wait_with_output().expect("zstd");
    assert!(out.status.success());
    assert_eq!(out.stdout[..4], [0x28, 0xb5, 0x2f, 0xfd], "a zstd frame");
    Layer {
        tar_gz: out.stdout,
        diff_id: gz.diff_id,
        created_by: gz.created_by,
    }
}

fn platform_image(arch: &str, app: Layer) -> ImageSpec {
    let base = image::layer(
        &[File {
            path: "etc/os-release",
            contents: b"ID=acme\n",
            mode: 0o644,
        }],
        "ADD base",
    )
    .expect("base");
    ImageSpec {
        platform: Platform {
            architecture: arch.into(),
            os: "linux".into(),
            ..Default::default()
        },
        created: "2026-11-30T10:00:00Z".into(),
        entrypoint: vec!["/app/bin".into()],
        env: vec![],
        labels: Default::default(),
        annotations: Default::default(),
        layers: vec![base, app],
    }
}

#[test]
fn two_indexes_compare_per_platform_and_zstd_layers_are_read() {
    let reg = Registry::start();
    let st = store(&reg);
    let rt = runtime();
    let push_index = |tag: &str, amd: Layer, arm: Layer| {
        rt.block_on(async {
            let a = image::push_image(&st, "acme/multi", &platform_image("amd64", amd), None)
                .await
                .expect("amd64");
            let b = image::push_image(&st, "acme/multi", &platform_image("arm64", arm), None)
                .await
                .expect("arm64");
            image::push_index(&st, "acme/multi", vec![a, b], Default::default(), Some(tag))
                .await
                .expect("index")
        })
    };
    // i2: amd64's app layer is the same tar compressed with zstd; arm64's binary changed.
    push_index("i1", app_layer(b"amd v1", 0), app_layer(b"arm v1", 0));
    push_index("i2", zstd_layer(b"amd v1", 0), app_layer(b"arm v2!", 0));
    let home = tempfile::tempdir().expect("home");
    let r = |t: &str| format!("{}/acme/multi:{t}", reg.host);
    let out = run_provost(
        home.path(),
        &[
            "--insecure-registry",
            reg.host.as_str(),
            "diff",
            &r("i1"),
            &r("i2"),
            "--files",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let section = |name: &str| {
        d["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name}: {d}"))
    };
    // The index's own layers section lists the platforms (both changed digests).
    let top = section("layers");
    assert_eq!(top["rows"].as_array().map(|r| r.len()), Some(2), "{top}");
    // Per platform, matched by platform: one layer replaced in each, the base shared.
    for p in ["linux/amd64", "linux/arm64"] {
        let l = section(&format!("layers {p}"));
        assert_eq!(l["unchanged"], 1, "{l}");
        assert_eq!(l["rows"].as_array().map(|r| r.len()), Some(2), "{l}");
    }
    // amd64: the zstd layer holds the same files as the gzip one.
    let amd = section("files linux/amd64");
    assert!(amd["note"].is_null(), "read: {amd}");
    assert_eq!(amd["rows"].as_array().map(|r| r.len()), Some(0), "{amd}");
    assert_eq!(amd["unchanged"], 1, "app/bin read from both: {amd}");
    // arm64: the binary changed, and only it.
    let arm = section("files linux/arm64");
    let rows = arm["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{arm}");
    assert_eq!(rows[0]["key"], "layer 2: app/bin");
    assert_eq!(rows[0]["change"], "changed");
}
