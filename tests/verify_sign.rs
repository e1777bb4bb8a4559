//! Signing with keys (PKCS#8 and cosign's encrypted format) and verifying cosign signatures on
//! a real registry, through skopeo copies, with every negative case the issue names.

mod common;

use common::*;
use std::path::Path;
use std::process::Output;

fn provost_in(home: &Path, args: &[&str]) -> Output {
    provost()
        .args(args)
        .env("HOME", home)
        .env("PROVOST_PASSWORD", "test passphrase")
        .env_remove("COSIGN_PASSWORD")
        .env_remove("DOCKER_CONFIG")
        .env("NO_COLOR", "1")
        .current_dir(home)
        .output()
        .expect("run provost")
}

fn seed(reg: &Registry) {
    let rt = runtime();
    let s = store(reg);
    rt.block_on(provost::demo::seed(&s, demo_keys()))
        .expect("seed");
}

#[test]
fn keygen_sign_verify_copy_and_every_negative() {
    let reg = Registry::start();
    seed(&reg);
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    let ins = ["--insecure-registry", reg.host.as_str()];
    let run = |args: &[&str]| provost_in(h, &[&ins[..], args].concat());
    let out = run(&["keygen", "--output-key-prefix", "team"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let key_text = std::fs::read_to_string(h.join("team.key")).expect("key");
    assert!(key_text.contains("ENCRYPTED SIGSTORE PRIVATE KEY"));
    assert!(!stdout(&out).contains("PRIVATE"), "key material printed");

    let image = format!("{}/acme/worker:0.9.0", reg.host);
    let out = run(&["sign", &image, "--key", "team.key"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&["verify", &image, "--key", "team.pub"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("✓ signature"));

    // A wrong key.
    let other = tempfile::tempdir().expect("other");
    let out = provost_in(other.path(), &["keygen", "--output-key-prefix", "x"]);
    assert!(out.status.success());
    let wrong = other.path().join("x.pub");
    let out = run(&["verify", &image, "--key", wrong.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(6));
    assert!(
        stderr(&out).contains("not signed by trusted key"),
        "{}",
        stderr(&out)
    );

    // A wrong passphrase loses nothing and says so.
    let out = provost()
        .args([&ins[..], &["sign", &image, "--key", "team.key"]].concat())
        .env("HOME", h)
        .env("PROVOST_PASSWORD", "nope")
        .current_dir(h)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("wrong passphrase"),
        "{}",
        stderr(&out)
    );

    // skopeo carries the .sig along (use-sigstore-attachments); it verifies in the copy.
    let rd = tempfile::tempdir().expect("registries.d");
    std::fs::write(
        rd.path().join("r.yaml"),
        format!(
            "docker:\n  {}:\n    use-sigstore-attachments: true\n",
            reg.host
        ),
    )
    .expect("write");
    skopeo(&[
        "copy",
        "--registries.d",
        rd.path().to_str().expect("utf8"),
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &format!("docker://{image}"),
        &format!("docker://{}/copies/worker:0.9.0", reg.host),
    ]);
    let out = run(&[
        "verify",
        &format!("{}/copies/worker:0.9.0", reg.host),
        "--key",
        "team.pub",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "after skopeo copy: {}",
        stderr(&out)
    );

    // Replayed onto another digest: the .sig of 0.9.0 put at 0.9.1's .sig tag.
    let rt = runtime();
    let s = store(&reg);
    use provost::oci::Store;
    let d090 = rt.block_on(s.resolve("acme/worker", "0.9.0")).expect("d");
    let d100 = rt.block_on(s.resolve("acme/worker", "1.0.0")).expect("d");
    let sig = rt
        .block_on(s.get_manifest(
            "acme/worker",
            &format!("sha256-{}.sig", d090.trim_start_matches("sha256:")),
        ))
        .expect("sig");
    rt.block_on(s.put_manifest(
        "acme/worker",
        Some(&format!(
            "sha256-{}.sig",
            d100.trim_start_matches("sha256:")
        )),
        &sig.media_type,
        &sig.bytes,
    ))
    .expect("replay");
    let out = run(&[
        "verify",
        &format!("{}/acme/worker:1.0.0", reg.host),
        "--key",
        "team.pub",
    ]);
    assert_eq!(
        out.status.code(),
        Some(6),
        "FALSE ACCEPT of a replayed signature"
    );
    assert!(stderr(&out).contains("not sha256:"), "{}", stderr(&out));

    // A tampered payload: same signature annotation over different bytes.
    let mut m: serde_json::Value = serde_json::from_slice(&sig.bytes).expect("json");
    let layer = m["layers"]
        .as_array()
        .and_then(|a| a.last())
        .expect("layer")
        .clone();
    let payload = rt
        .block_on(s.get_blob("acme/worker", layer["digest"].as_str().expect("d"), 1 << 20))
        .expect("payload");
    let tampered = String::from_utf8_lossy(&payload)
        .replace("acme/worker", "acme/wurker")
        .into_bytes();
    let td = rt
        .block_on(s.put_blob("acme/worker", &tampered))
        .expect("blob");
    let mut l2 = layer.clone();
    l2["digest"] = serde_json::Value::String(td);
    l2["size"] = serde_json::json!(tampered.len());
    m["layers"] = serde_json::json!([l2]);
    rt.block_on(s.put_manifest(
        "acme/worker",
        Some(&format!(
            "sha256-{}.sig",
            d090.trim_start_matches("sha256:")
        )),
        &sig.media_type,
        &serde_json::to_vec(&m).expect("json"),
    ))
    .expect("tamper");
    let out = run(&["verify", &image, "--key", "team.pub"]);
    assert_eq!(
        out.status.code(),
        Some(6),
        "FALSE ACCEPT of a tampered payload"
    );
}

#[test]
fn attestations_sign_and_verify_with_keys_and_revoked_or_expired_keys_verify_nothing() {
    let reg = Registry::start();
    seed(&reg);
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    let ins = ["--insecure-registry", reg.host.as_str()];
    let run = |args: &[&str]| provost_in(h, &[&ins[..], args].concat());
    assert!(run(&["keygen", "--output-key-prefix", "team"])
        .status
        .success());
    let image = format!("{}/acme/billing:3.1.0", reg.host);
    std::fs::write(
        h.join("approval.json"),
        r#"{"approvedBy":"alice","environment":"prod"}"#,
    )
    .expect("predicate");
    let out = run(&[
        "attest",
        &image,
        "--predicate",
        "approval.json",
        "--type",
        "https://provost.dev/approval/v1",
        "--key",
        "team.key",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&[
        "verify-attestation",
        &image,
        "--type",
        "https://provost.dev/approval/v1",
        "--key",
        "team.pub",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(run(&["sign", &image, "--key", "team.key"]).status.success());

    // Trust from the config file: valid, revoked, expired.
    let cfg = |extra: &str| {
        std::fs::write(
            h.join("provost.toml"),
            format!("[[trust.key]]\nname = \"team\"\npath = \"team.pub\"\n{extra}\n"),
        )
        .expect("cfg");
        run(&["--config", "provost.toml", "verify", &image])
    };
    assert_eq!(cfg("").status.code(), Some(0));
    let revoked = cfg("revoked = true");
    assert_eq!(
        revoked.status.code(),
        Some(6),
        "a revoked key verified: {}",
        stdout(&revoked)
    );
    assert_eq!(
        cfg("not_after = \"2020-01-01T00:00:00Z\"").status.code(),
        Some(6)
    );
    assert_eq!(
        cfg("not_after = \"2999-01-01T00:00:00Z\"").status.code(),
        Some(0)
    );
}

#[test]
fn the_demo_has_signed_unsigned_and_untrusted_digests() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = demo_layout(tmp.path());
    let s = store.to_str().expect("utf8");
    let code = |r: &str| {
        run_provost(tmp.path(), &["--store", s, "verify", r])
            .status
            .code()
    };
    assert_eq!(code("acme/api:prod"), Some(0));
    assert_eq!(code("acme/api:dev"), Some(6), "unsigned");
    assert_eq!(
        code("acme/web:2.0.0"),
        Some(6),
        "signed by an untrusted key"
    );
    let out = run_provost(tmp.path(), &["--store", s, "evidence", "acme/web:2.0.0"]);
    assert!(
        stdout(&out).contains("(not trusted): not signed by trusted key"),
        "{}",
        stdout(&out)
    );
}
