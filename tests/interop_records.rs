//! Release records checked by independent Sigstore implementations on the loopback Sigstore
//! (`common::sigstore`): a timestamped key-signed record verifies with `@sigstore/verify`, a
//! keyless record (Fulcio certificate, Rekor entry) with sigstore-python, and both in provost.

mod common;

use common::records::*;
use common::sigstore::*;
use common::{demo_keys, provost, runtime, store, Registry};
use provost::oci::Store;
use std::process::Command;

#[test]
fn timestamped_release_records_verify_with_sigstore_js_and_in_provost() {
    use provost::release::record::{self, Signing};
    let reg = Registry::start();
    let rt = runtime();
    let st = store(&reg);
    rt.block_on(provost::demo::seed(&st, demo_keys()))
        .expect("seed");
    let tsa = Sigstore::start();
    let alice = demo_keys().person("alice").expect("alice");
    let digest = rt
        .block_on(st.resolve("acme/api", "1.4.2"))
        .expect("digest");
    let draft = approval_draft(&st, "acme/api", &digest, "prod", "interop");

    let url = format!("{}/api/v1/timestamp", tsa.url);
    let written = rt
        .block_on(record::write(
            &st,
            "provost-audit",
            &draft,
            &Signing::Key {
                key: alice,
                timestamp_url: Some(&url),
                rekor_url: None,
            },
        ))
        .expect("write");
    // The bundle as the registry serves it, from the audit repository.
    let m = rt
        .block_on(st.get_manifest("provost-audit", &written.record))
        .expect("record");
    let m: serde_json::Value = serde_json::from_slice(&m.bytes).expect("json");
    assert_eq!(
        m["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(m["subject"]["digest"], digest.as_str());
    let bundle = rt
        .block_on(st.get_blob(
            "provost-audit",
            m["layers"][0]["digest"].as_str().expect("layer"),
            1 << 20,
        ))
        .expect("bundle");
    let w = tsa.dir.path();
    std::fs::write(w.join("record.json"), &bundle).expect("write");
    std::fs::write(
        w.join("alice.pub"),
        provost::verify::keys::public_pem(alice).expect("pem"),
    )
    .expect("write");
    let other = provost::verify::keys::public_pem(&provost::verify::keys::generate()).expect("pem");
    std::fs::write(w.join("other.pub"), other).expect("write");
    let node = |key: &str| {
        run(Command::new("node")
            .arg(interop_dir().join("verify-key.js"))
            .arg(w.join("record.json"))
            .arg(w.join(key))
            .arg(w.join("record.json"))
            .arg(tsa.file("trusted_root.json")))
    };
    let (code, text) = node("alice.pub");
    assert_eq!(code, 0, "@sigstore/verify: {text}");
    assert_eq!(node("other.pub").0, 1);
    // provost reads the same record from the chain, its time proven by the timestamp.
    let trust = vec![provost::verify::Trust::Key {
        pem: provost::verify::keys::public_pem(alice).expect("pem"),
        name: Some("alice".into()),
        window: Default::default(),
    }];
    let root =
        provost::verify::LazyRoot::new(provost::verify::Root::File(tsa.file("trusted_root.json")));
    let walk = rt
        .block_on(provost::release::chain::walk(
            &st,
            "provost-audit",
            "prod",
            &trust,
            &root,
            false,
        ))
        .expect("walk");
    let head = &walk.entries[0];
    assert_eq!(head.digest, written.record);
    assert!(head.signer().is_some(), "{:?}", head.check);
    assert!(
        matches!(
            head.check.as_ref().map(|c| &c.time),
            Some(provost::evidence::trust::TimeProof::Timestamp(_))
        ),
        "{:?}",
        head.check
    );
}

#[test]
fn keyless_release_records_signed_through_the_loopback_sigstore_verify_with_sigstore_python() {
    let reg = Registry::start();
    let rt = runtime();
    let st = store(&reg);
    rt.block_on(provost::demo::seed(&st, demo_keys()))
        .expect("seed");
    let s = Sigstore::start();
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    const CAROL: &str =
        "https://github.com/acme/security/.github/workflows/quarantine.yml@refs/heads/main";
    // A policy whose security group is a keyless identity.
    let policy = provost::policy::DEMO_POLICY.replace(
        "[[group]]\nname = \"security\"\n[[group.member]]\nkey = \"carol\"",
        &format!(
            "[[group]]\nname = \"security\"\n[[group.member]]\nsubject = \"{CAROL}\"\nissuer = \"{ISSUER}\""
        ),
    );
    assert_ne!(policy, provost::policy::DEMO_POLICY);
    std::fs::write(h.join("policy.toml"), policy).expect("policy");
    let mut cfg = format!(
        "policy = \"policy.toml\"\ndemo = false\nfulcio_url = \"{url}\"\nrekor_url = \"{url}\"\n[[registry]]\nname = \"reg\"\nhost = \"{host}\"\ninsecure = true\n[trust]\ntrusted_root = \"{root}\"\n[[trust.identity]]\nsubject = \"{CAROL}\"\nissuer = \"{ISSUER}\"\n",
        url = s.url,
        host = reg.host,
        root = s.file("trusted_root.json").display()
    );
    for (env, tier) in [
        ("dev", "warn"),
        ("staging", "conditional"),
        ("prod", "required"),
    ] {
        cfg.push_str(&format!(
            "[[environment]]\nname = \"{env}\"\ntier = \"{tier}\"\nsource = \"reg\"\ntag = \"{env}\"\n"
        ));
    }
    std::fs::write(h.join("provost.toml"), cfg).expect("config");
    let provost_in = |args: &[&str], token: Option<&str>| {
        let mut c = provost();
        c.arg("--config").arg(h.join("provost.toml")).args(args);
        c.env("HOME", h).env_remove("SIGSTORE_ID_TOKEN");
        if let Some(t) = token {
            c.env("SIGSTORE_ID_TOKEN", t);
        }
        run(&mut c)
    };
    // An identity nobody trusts is refused before anything is written.
    let (code, text) = provost_in(
        &["quarantine", "reg/acme/api:1.4.1", "--reason", "x", "--yes"],
        Some(&identity_token(
            "https://github.com/mallory/x/.github/workflows/a.yml@refs/heads/main",
        )),
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("is not trusted here"), "{text}");
    let (code, text) = provost_in(
        &[
            "quarantine",
            "reg/acme/api:1.4.1",
            "--reason",
            "INC-9: runner compromised",
            "--yes",
        ],
        Some(&identity_token(CAROL)),
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(
            "prod (✗ block): quarantine-record — quarantined by https://github.com/acme/security"
        ),
        "{text}"
    );
    // The chain verifies at its head; the demo's older quarantine records were signed by a
    // demo key this configuration does not trust, and verification says so, record by record.
    let (code, text) = provost_in(&["audit", "verify", "quarantine"], None);
    assert_eq!(code, 7, "{text}");
    assert!(!text.contains("(1 of 4, from the head)"), "{text}");
    assert_eq!(
        text.matches("the signature does not verify").count(),
        3,
        "{text}"
    );
    let (code, text) = provost_in(&["audit", "log", "quarantine"], None);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("✓ https://github.com/acme/security"),
        "{text}"
    );

    // The bundle as the registry serves it verifies with sigstore-python, offline, for that
    // identity (its subject is the image manifest, so the manifest is the artifact).
    let head = rt
        .block_on(provost::release::chain::head(
            &st,
            "provost-audit",
            "quarantine",
        ))
        .expect("head")
        .expect("a head");
    let m = rt
        .block_on(st.get_manifest("provost-audit", &head))
        .expect("record");
    let m: serde_json::Value = serde_json::from_slice(&m.bytes).expect("json");
    let bundle = rt
        .block_on(st.get_blob(
            "provost-audit",
            m["layers"][0]["digest"].as_str().expect("layer"),
            1 << 20,
        ))
        .expect("bundle");
    let digest = rt
        .block_on(st.resolve("acme/api", "1.4.1"))
        .expect("digest");
    let manifest = rt
        .block_on(st.get_manifest("acme/api", &digest))
        .expect("manifest");
    std::fs::write(h.join("manifest.json"), &manifest.bytes).expect("write");
    std::fs::write(h.join("manifest.json.sigstore.json"), &bundle).expect("write");
    let python_verify = |identity: &str| {
        run(Command::new("python3")
            .args(["-m", "sigstore", "--trust-config"])
            .arg(s.file("trust_config.json"))
            .args([
                "verify",
                "identity",
                "--offline",
                "--cert-identity",
                identity,
            ])
            .args(["--cert-oidc-issuer", ISSUER, "--bundle"])
            .arg(h.join("manifest.json.sigstore.json"))
            .arg(h.join("manifest.json")))
    };
    let (code, text) = python_verify(CAROL);
    assert_eq!(code, 0, "sigstore-python verify: {text}");
    let (code, _) =
        python_verify("https://github.com/mallory/x/.github/workflows/a.yml@refs/heads/main");
    assert_ne!(code, 0, "another identity must not verify");
}
