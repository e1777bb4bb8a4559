//! The Sigstore conformance suite's bundle-verify cases and sigstore-python's bundles, one test
//! per case, with the outcome their MANIFEST.md states. A `_fail` case that verifies is a false
//! accept: the one unforgivable bug.

use provost::verify::{verify_bundle, Matcher, Outcome, Root, Subject, Trust};
use std::path::{Path, PathBuf};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigstore-bundles")
}

fn read_trimmed(p: &Path) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Runs one conformance case the way the conformance suite drives a client.
fn run_case(name: &str) -> Outcome {
    let dir = fixtures().join("conformance").join(name);
    let bundle = std::fs::read(dir.join("bundle.sigstore.json")).expect("bundle file");
    let bundle = String::from_utf8_lossy(&bundle).to_string();
    let artifact = if dir.join("artifact").exists() {
        dir.join("artifact")
    } else {
        fixtures().join("conformance/a.txt")
    };
    let subject = Subject::Bytes(std::fs::read(artifact).expect("artifact"));
    let root = if dir.join("trusted_root.json").exists() {
        Root::File(dir.join("trusted_root.json"))
    } else {
        Root::Production
    };
    let root = root.load().expect("trusted root");
    let trust = match read_trimmed(&dir.join("key.pub"))
        .map(|_| std::fs::read_to_string(dir.join("key.pub")).expect("key"))
    {
        Some(pem) => Trust::Key {
            pem,
            name: None,
            window: Default::default(),
        },
        None => Trust::Identity {
            identity: Matcher::Exact(
                read_trimmed(&dir.join("identity")).unwrap_or_else(|| DEFAULT_IDENTITY.into()),
            ),
            issuer: Matcher::Exact(
                read_trimmed(&dir.join("issuer")).unwrap_or_else(|| DEFAULT_ISSUER.into()),
            ),
        },
    };
    // managed-key-no-key_fail has no key.pub: the default identity applies, and must fail.
    verify_bundle(&bundle, &subject, &trust, &root)
}

macro_rules! case {
    ($fn:ident, $name:expr) => {
        #[test]
        fn $fn() {
            let outcome = run_case($name);
            let must_fail = $name.ends_with("_fail");
            if must_fail {
                assert!(
                    !outcome.verified,
                    "FALSE ACCEPT: {} verified: {:?}",
                    $name, outcome
                );
                assert!(
                    !outcome.failures.is_empty(),
                    "{} failed without a reason",
                    $name
                );
            } else {
                assert!(
                    outcome.verified,
                    "{} must verify: {:?}",
                    $name, outcome.failures
                );
                assert!(outcome.signer.is_some());
            }
        }
    };
}

case!(
    bundle_empty_certificate_chain_fail,
    "bundle-empty-certificate-chain_fail"
);
case!(
    bundle_from_wrong_instance_fail,
    "bundle-from-wrong-instance_fail"
);
case!(bundle_malformed_json_fail, "bundle-malformed-json_fail");
case!(bundle_unknown_version_fail, "bundle-unknown-version_fail");
case!(bundle_with_root_cert_fail, "bundle-with-root-cert_fail");
case!(
    bundle_with_sct_with_extensions,
    "bundle-with-sct-with-extensions"
);
case!(
    checkpoint_wrong_roothash_fail,
    "checkpoint-wrong-roothash_fail"
);
case!(dsse_invalid_sig_fail, "dsse-invalid-sig_fail");
case!(dsse_mismatch_envelope_fail, "dsse-mismatch-envelope_fail");
case!(happy_path_intoto_in_dsse_v3, "happy-path-intoto-in-dsse-v3");
case!(happy_path_v0_1, "happy-path-v0.1");
case!(happy_path_v0_2, "happy-path-v0.2");
case!(happy_path_v0_3, "happy-path-v0.3");
case!(
    happy_path_v0_3_new_media_type,
    "happy-path-v0.3-new-mediaType"
);
case!(incorrect_public_key_fail, "incorrect-public-key_fail");
case!(
    integrated_time_in_future_fail,
    "integrated-time-in-future_fail"
);
case!(
    intoto_expired_certificate_fail,
    "intoto-expired-certificate_fail"
);
case!(
    intoto_missing_inclusion_proof_fail,
    "intoto-missing-inclusion-proof_fail"
);
case!(
    intoto_with_custom_trust_root,
    "intoto-with-custom-trust-root"
);
case!(
    invalid_checkpoint_signature_fail,
    "invalid-checkpoint-signature_fail"
);
case!(invalid_inclusion_proof_fail, "invalid-inclusion-proof_fail");
case!(managed_key_and_trusted_root, "managed-key-and-trusted-root");
case!(managed_key_happy_path, "managed-key-happy-path");
case!(managed_key_no_key_fail, "managed-key-no-key_fail");
case!(managed_key_wrong_key_fail, "managed-key-wrong-key_fail");
case!(message_digest_mismatch_fail, "message-digest-mismatch_fail");
case!(rekor2_checkpoint_cosigned, "rekor2-checkpoint-cosigned");
case!(
    rekor2_checkpoint_missing_log_signature_fail,
    "rekor2-checkpoint-missing-log-signature_fail"
);
case!(
    rekor2_checkpoint_no_matching_signature_fail,
    "rekor2-checkpoint-no-matching-signature_fail"
);
case!(
    rekor2_checkpoint_origin_not_first,
    "rekor2-checkpoint-origin-not-first"
);
case!(rekor2_dsse_happy_path, "rekor2-dsse-happy-path");
case!(rekor2_dsse_invalid_sig_fail, "rekor2-dsse-invalid-sig_fail");
case!(rekor2_happy_path, "rekor2-happy-path");
case!(rekor2_no_timestamp_fail, "rekor2-no-timestamp_fail");
case!(
    rekor2_timestamp_payload_mismatch_fail,
    "rekor2-timestamp-payload-mismatch_fail"
);
case!(
    rekor2_timestamp_untrusted_tsa_with_embedded_cert_fail,
    "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail"
);
case!(
    rekor2_timestamp_with_embedded_cert,
    "rekor2-timestamp-with-embedded-cert"
);
case!(set_invalid_signature_fail, "set-invalid-signature_fail");
case!(signature_mismatch_fail, "signature-mismatch_fail");
case!(
    trust_root_tlog_validity_end_inclusive,
    "trust-root-tlog-validity-end-inclusive"
);
case!(
    wrong_hashedrekord_artifact_fail,
    "wrong-hashedrekord-artifact_fail"
);
case!(
    wrong_hashedrekord_cert_and_sig_fail,
    "wrong-hashedrekord-cert-and-sig_fail"
);
case!(
    wrong_hashedrekord_entry_fail,
    "wrong-hashedrekord-entry_fail"
);
case!(wrong_material_fail, "wrong-material_fail");

fn python(bundle: &str, artifact: &str, root: Root, identity: &str, issuer: &str) -> Outcome {
    let dir = fixtures().join("sigstore-python");
    let b = std::fs::read_to_string(dir.join(bundle)).expect("bundle");
    let a = std::fs::read(dir.join(artifact)).expect("artifact");
    let trust = Trust::Identity {
        identity: Matcher::Exact(identity.into()),
        issuer: Matcher::Exact(issuer.into()),
    };
    verify_bundle(&b, &Subject::Bytes(a), &trust, &root.load().expect("root"))
}

#[test]
fn sigstore_python_bundle_v01_verifies_with_the_staging_root() {
    let o = python(
        "bundle.txt.sigstore",
        "bundle.txt",
        Root::Staging,
        "a@tny.town",
        "https://github.com/login/oauth",
    );
    assert!(o.verified, "{:?}", o.failures);
}

#[test]
fn sigstore_python_bundle_v3_verifies_with_the_staging_root() {
    let o = python(
        "bundle_v3.txt.sigstore",
        "bundle_v3.txt",
        Root::Staging,
        "william@yossarian.net",
        "https://github.com/login/oauth",
    );
    assert!(o.verified, "{:?}", o.failures);
}

#[test]
fn sigstore_python_github_bundle_verifies_and_names_its_workflow() {
    let o = python(
        "bundle_v3_github.whl.sigstore",
        "bundle_v3_github.whl",
        Root::Production,
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
        "https://token.actions.githubusercontent.com",
    );
    assert!(o.verified, "{:?}", o.failures);
    let Some(provost::verify::Signer::Keyless { claims, .. }) = &o.signer else {
        panic!("keyless signer expected")
    };
    assert_eq!(
        claims.source_repository_digest.as_deref(),
        Some("d8b4a6445f38c48b9137a8099706d9b8073146e4")
    );
    assert_eq!(
        claims.source_repository_ref.as_deref(),
        Some("refs/tags/v0.1.2")
    );
    assert_eq!(claims.build_trigger.as_deref(), Some("release"));
    assert!(claims
        .source_repository_uri
        .as_deref()
        .unwrap_or("")
        .ends_with("trailofbits/rfc8785.py"));
}

#[test]
fn sigstore_python_cve_2022_36056_bundle_fails() {
    let o = python(
        "bundle_cve_2022_36056.txt.sigstore",
        "bundle_cve_2022_36056.txt",
        Root::Staging,
        "william@yossarian.net",
        "https://github.com/login/oauth",
    );
    assert!(!o.verified, "FALSE ACCEPT: {o:?}");
}

#[test]
fn sigstore_python_bundle_without_a_log_entry_fails() {
    let o = python(
        "bundle_no_log_entry.txt.sigstore",
        "bundle_no_log_entry.txt",
        Root::Staging,
        "william@yossarian.net",
        "https://github.com/login/oauth",
    );
    assert!(!o.verified, "FALSE ACCEPT: {o:?}");
}

#[test]
fn sigstore_python_bundle_with_an_invalid_version_fails() {
    let o = python(
        "bundle_invalid_version.txt.sigstore",
        "bundle_invalid_version.txt",
        Root::Staging,
        "william@yossarian.net",
        "https://github.com/login/oauth",
    );
    assert!(!o.verified, "FALSE ACCEPT: {o:?}");
}

#[test]
fn a_wrong_identity_and_a_wrong_issuer_are_both_reported() {
    let dir = fixtures().join("conformance/happy-path-v0.3");
    let b = std::fs::read_to_string(dir.join("bundle.sigstore.json")).expect("bundle");
    let a = std::fs::read(fixtures().join("conformance/a.txt")).expect("artifact");
    let trust = Trust::Identity {
        identity: Matcher::Exact("https://github.com/evil/x".into()),
        issuer: Matcher::Exact("https://accounts.google.com".into()),
    };
    let o = verify_bundle(
        &b,
        &Subject::Bytes(a.clone()),
        &trust,
        &Root::Production.load().expect("root"),
    );
    assert!(!o.verified);
    assert_eq!(o.failures.len(), 2, "{:?}", o.failures);
    // A regex identity that matches verifies; the digest form of the artifact works too.
    let trust = Trust::Identity {
        identity: Matcher::regex("https://github.com/sigstore-conformance/.*").expect("re"),
        issuer: Matcher::regex("https://token\\.actions\\.githubusercontent\\.com").expect("re"),
    };
    let digest = provost::oci::digest::sha256(&a);
    let o = verify_bundle(
        &b,
        &Subject::Digest(digest),
        &trust,
        &Root::Production.load().expect("root"),
    );
    assert!(o.verified, "{:?}", o.failures);
}

#[test]
fn the_cli_follows_the_conformance_protocol() {
    let bin = env!("CARGO_BIN_EXE_provost");
    let c = fixtures().join("conformance");
    let run = |case: &str| {
        std::process::Command::new(bin)
            .args(["verify-bundle", "--bundle"])
            .arg(c.join(case).join("bundle.sigstore.json"))
            .args([
                "--certificate-identity",
                DEFAULT_IDENTITY,
                "--certificate-oidc-issuer",
                DEFAULT_ISSUER,
            ])
            .arg(c.join("a.txt"))
            .output()
            .expect("run")
    };
    let ok = run("happy-path-v0.2");
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = run("signature-mismatch_fail");
    assert_ne!(bad.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&bad.stderr).is_empty());
    // --key and a digest argument, with --json.
    let mk = c.join("managed-key-happy-path");
    let digest = provost::oci::digest::sha256(&std::fs::read(c.join("a.txt")).expect("a.txt"));
    let out = std::process::Command::new(bin)
        .args(["verify-bundle", "--json", "--bundle"])
        .arg(mk.join("bundle.sigstore.json"))
        .arg("--key")
        .arg(mk.join("key.pub"))
        .arg(&digest)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["verified"], true);
    assert_eq!(v["signer"]["kind"], "key");
}
