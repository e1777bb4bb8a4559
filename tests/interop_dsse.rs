//! Interop with an independent DSSE implementation (securesystemslib, from PyPI, installed by
//! scripts/test.sh): what it signs verifies in provost, and what provost signs verifies there.

mod common;

use common::*;
use provost::oci::layout::LayoutStore;
use provost::oci::Store;
use std::process::Command;

fn python(script: &str, args: &[&str]) -> std::process::Output {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(script);
    Command::new("python3")
        .arg(path)
        .args(args)
        .output()
        .expect("python3 with securesystemslib (scripts/test.sh installs it)")
}

fn with_password(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    provost()
        .args(args)
        .env("HOME", home)
        .env("PROVOST_PASSWORD", "pw")
        .current_dir(home)
        .output()
        .expect("run")
}

#[test]
fn securesystemslib_envelopes_verify_in_provost_and_provost_envelopes_verify_in_securesystemslib() {
    let tmp = tempfile::tempdir().expect("tmp");
    let h = tmp.path();
    let dir = demo_layout(h);
    let store_arg = dir.to_str().expect("utf8").to_string();
    let rt = runtime();
    let layout = LayoutStore::open("store", &dir).expect("layout");
    let digest = rt
        .block_on(layout.resolve("acme/billing", "prod"))
        .expect("digest");

    // securesystemslib signs; provost verifies with the exported public key, and only with it.
    let env = h.join("sslib.json");
    let pubkey = h.join("sslib.pub");
    let out = python(
        "dsse_sign.py",
        &[
            &digest,
            env.to_str().expect("utf8"),
            pubkey.to_str().expect("utf8"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&env).expect("envelope");
    rt.block_on(provost::release::sign::attach_envelope(
        &layout,
        "acme/billing",
        &digest,
        &bytes,
        "https://slsa.dev/provenance/v1",
    ))
    .expect("attach");
    let verify = |key: &str| {
        with_password(
            h,
            &[
                "--store",
                &store_arg,
                "verify-attestation",
                "acme/billing:prod",
                "--type",
                "https://slsa.dev/provenance/v1",
                "--key",
                key,
            ],
        )
    };
    let out = verify(pubkey.to_str().expect("utf8"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("✓ attestation"));
    assert!(with_password(h, &["keygen", "--output-key-prefix", "team"])
        .status
        .success());
    let out = verify("team.pub");
    assert_eq!(
        out.status.code(),
        Some(6),
        "FALSE ACCEPT with an unrelated key: {}",
        stdout(&out)
    );
    // The statement it signed decodes like any other provenance.
    let out = run_provost(
        h,
        &[
            "--store",
            &store_arg,
            "evidence",
            "acme/billing:prod",
            "--json",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("github.com/interop/sslib"));

    // provost signs with a cosign-format key; securesystemslib verifies with the .pub.
    std::fs::write(h.join("p.json"), r#"{"reviewed":true}"#).expect("predicate");
    let out = with_password(
        h,
        &[
            "--store",
            &store_arg,
            "attest",
            "acme/billing:prod",
            "--predicate",
            "p.json",
            "--type",
            "https://example.com/review/v1",
            "--key",
            "team.key",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let att = rt
        .block_on(layout.get_manifest(
            "acme/billing",
            &format!("sha256-{}.att", digest.trim_start_matches("sha256:")),
        ))
        .expect("att");
    let m: serde_json::Value = serde_json::from_slice(&att.bytes).expect("json");
    let last = m["layers"]
        .as_array()
        .and_then(|l| l.last())
        .expect("layer")["digest"]
        .as_str()
        .expect("digest")
        .to_string();
    let ours = rt
        .block_on(layout.get_blob("acme/billing", &last, 1 << 20))
        .expect("blob");
    let ours_path = h.join("ours.json");
    std::fs::write(&ours_path, &ours).expect("write");
    let out = python(
        "dsse_verify.py",
        &[
            ours_path.to_str().expect("utf8"),
            h.join("team.pub").to_str().expect("utf8"),
        ],
    );
    assert!(
        out.status.success(),
        "securesystemslib rejected provost's envelope: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = python(
        "dsse_verify.py",
        &[
            ours_path.to_str().expect("utf8"),
            pubkey.to_str().expect("utf8"),
        ],
    );
    assert!(
        !out.status.success(),
        "securesystemslib accepted the wrong key"
    );
}
