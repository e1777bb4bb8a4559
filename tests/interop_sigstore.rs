//! Interop with independent Sigstore implementations on a loopback Sigstore instance
//! (`tests/interop/sigstore/server.js`: Fulcio, CT log, Rekor v1 and a timestamp authority from
//! npm `@sigstore/mock`, served over HTTP on 127.0.0.1 with the trusted root it generates):
//! - bundles and DSSE attestations sigstore-python signs there verify in provost with the right
//!   identity (and subject) only;
//! - key-signed, timestamped bundles provost stores as referrers verify with `@sigstore/verify`
//!   (release records: `interop_records.rs`);
//! - a key's validity window is judged by the trusted timestamp, and a revoked key verifies
//!   nothing.
//!
//! `scripts/test.sh` installs the node packages (`npm ci`) and sigstore-python (PyPI).

mod common;

use common::sigstore::*;
use common::{demo_keys, provost, runtime, store, Registry};
use provost::oci::Store;
use std::path::Path;
use std::process::Command;

#[test]
fn bundles_sigstore_python_signs_verify_in_provost_with_the_right_identity_only() {
    let s = Sigstore::start();
    let work = tempfile::tempdir().expect("work");
    let artifact = work.path().join("release.tar");
    std::fs::write(&artifact, b"acme api 1.4.2 release artifact\n").expect("artifact");
    let bundle = work.path().join("release.tar.sigstore.json");
    let (code, text) = run(Command::new("python3").args([
        "-m",
        "sigstore",
        "--trust-config",
        s.file("trust_config.json").to_str().expect("utf8"),
        "sign",
        "--identity-token",
        &identity_token(IDENTITY),
        "--bundle",
        bundle.to_str().expect("utf8"),
        artifact.to_str().expect("utf8"),
    ]));
    assert_eq!(code, 0, "sigstore-python sign: {text}");

    let root = s.file("trusted_root.json");
    let verify = |identity: &str, issuer: &str, root: Option<&Path>, file: &Path| {
        let mut c = provost();
        c.args(["verify-bundle", "--bundle", bundle.to_str().expect("utf8")])
            .args(["--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", issuer]);
        if let Some(r) = root {
            c.args(["--trusted-root", r.to_str().expect("utf8")]);
        }
        c.arg(file);
        run(&mut c)
    };
    let (code, text) = verify(IDENTITY, ISSUER, Some(&root), &artifact);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("Rekor entry")
            && text.contains("acme/api/.github/workflows/release.yml@refs/tags/v1.4.2"),
        "{text}"
    );
    // The same bundle by digest.
    let digest = provost::oci::digest::sha256(&std::fs::read(&artifact).expect("read"));
    let mut c = provost();
    c.args(["verify-bundle", "--bundle", bundle.to_str().expect("utf8")])
        .args(["--certificate-identity", IDENTITY])
        .args(["--certificate-oidc-issuer", ISSUER])
        .args(["--trusted-root", root.to_str().expect("utf8"), &digest]);
    assert_eq!(run(&mut c).0, 0);

    let (code, text) = verify(
        "https://github.com/mallory/api/.github/workflows/release.yml@refs/heads/main",
        ISSUER,
        Some(&root),
        &artifact,
    );
    assert_eq!(code, 6, "a wrong identity must fail: {text}");
    assert!(text.contains("does not match"), "{text}");
    let (code, text) = verify(
        IDENTITY,
        "https://accounts.example.com",
        Some(&root),
        &artifact,
    );
    assert_eq!(code, 6, "a wrong issuer must fail: {text}");
    let (code, text) = verify(IDENTITY, ISSUER, None, &artifact);
    assert_eq!(
        code, 6,
        "the public-good root does not trust the loopback CA: {text}"
    );
    let other = work.path().join("other.tar");
    std::fs::write(&other, b"acme api 1.4.2 release artifact, altered\n").expect("other");
    let (code, text) = verify(IDENTITY, ISSUER, Some(&root), &other);
    assert_eq!(code, 6, "another artifact must fail: {text}");
}

#[test]
fn dsse_attestations_sigstore_python_makes_verify_by_subject_and_read_as_provenance() {
    let s = Sigstore::start();
    let work = tempfile::tempdir().expect("work");
    let artifact = work.path().join("api.tar");
    std::fs::write(&artifact, b"acme api 1.4.2\n").expect("artifact");
    let predicate = work.path().join("predicate.json");
    std::fs::write(
        &predicate,
        serde_json::json!({
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {"workflow": {
                    "ref": "refs/tags/v1.4.2",
                    "repository": "https://github.com/acme/api",
                    "path": ".github/workflows/release.yml"
                }}
            },
            "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}}
        })
        .to_string(),
    )
    .expect("predicate");
    let bundle = work.path().join("api.tar.sigstore.json");
    let (code, text) = run(Command::new("python3")
        .args(["-m", "sigstore", "--trust-config"])
        .arg(s.file("trust_config.json"))
        .args(["attest", "--identity-token", &identity_token(IDENTITY)])
        .args([
            "--predicate-type",
            "https://slsa.dev/provenance/v1",
            "--predicate",
        ])
        .arg(&predicate)
        .arg("--bundle")
        .arg(&bundle)
        .arg(&artifact));
    assert_eq!(code, 0, "sigstore-python attest: {text}");

    let digest = provost::oci::digest::sha256(&std::fs::read(&artifact).expect("read"));
    let verify = |identity: &str, subject: &str| {
        run(provost()
            .args(["verify-bundle", "--bundle"])
            .arg(&bundle)
            .args(["--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", ISSUER, "--trusted-root"])
            .arg(s.file("trusted_root.json"))
            .arg(subject))
    };
    let (code, text) = verify(IDENTITY, &digest);
    assert_eq!(code, 0, "{text}");
    let other = provost::oci::digest::sha256(b"another artifact");
    assert_eq!(
        verify(IDENTITY, &other).0,
        6,
        "not a subject of the statement"
    );
    assert_eq!(
        verify(
            "https://github.com/acme/api/.github/workflows/ci.yml@refs/heads/main",
            &digest
        )
        .0,
        6,
        "a wrong identity"
    );
    // provost reads the same bundle as provenance, in plain words.
    let (code, text) = run(provost().arg("provenance").arg(&bundle));
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("github.com/acme/api") && text.contains(".github/workflows/release.yml"),
        "{text}"
    );
}

struct Signed {
    reg: Registry,
    home: tempfile::TempDir,
    digest: String,
    tsa: Sigstore,
    before: chrono::DateTime<chrono::Utc>,
    after: chrono::DateTime<chrono::Utc>,
}

/// The demo landscape on the registry; `acme/api:1.5.0-rc.1` (unsigned in the demo) signed by
/// `provost sign --bundle` with a fresh key and the loopback timestamp authority (a timestamped
/// `.sig` layer and a timestamped bundle), then signed again without a timestamp.
fn signed_with_a_timestamp() -> Signed {
    let reg = Registry::start();
    let rt = runtime();
    rt.block_on(provost::demo::seed(&store(&reg), demo_keys()))
        .expect("seed");
    let tsa = Sigstore::start();
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    let keygen = provost()
        .args(["keygen", "--output-key-prefix"])
        .arg(h.join("team"))
        .env("PROVOST_PASSWORD", "pw")
        .output()
        .expect("keygen");
    assert!(keygen.status.success());
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let (code, text) = run(provost()
        .args([
            "--insecure-registry",
            &reg.host,
            "sign",
            &format!("{}/acme/api:1.5.0-rc.1", reg.host),
            "--key",
        ])
        .arg(h.join("team.key"))
        .args([
            "--bundle",
            "--timestamp-server-url",
            &format!("{}/api/v1/timestamp", tsa.url),
        ])
        .env("HOME", h)
        .env("PROVOST_PASSWORD", "pw"));
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("timestamped") && text.contains("stored a Sigstore bundle"),
        "{text}"
    );
    let after = chrono::Utc::now() + chrono::Duration::seconds(1);
    // And a second, plain signature with no timestamp (cosign's default).
    let (code, text) = run(provost()
        .args([
            "--insecure-registry",
            &reg.host,
            "sign",
            &format!("{}/acme/api:1.5.0-rc.1", reg.host),
            "--key",
        ])
        .arg(h.join("team.key"))
        .env("HOME", h)
        .env("PROVOST_PASSWORD", "pw"));
    assert_eq!(code, 0, "{text}");
    let digest = rt
        .block_on(store(&reg).resolve("acme/api", "1.5.0-rc.1"))
        .expect("digest");
    Signed {
        reg,
        home,
        digest,
        tsa,
        before,
        after,
    }
}

#[test]
fn key_signed_bundles_provost_stores_verify_with_sigstore_js() {
    let s = signed_with_a_timestamp();
    let rt = runtime();
    let st = store(&s.reg);
    // The bundle, found as the referrers tag fallback index names it (the registry has no
    // referrers API), and the manifest it signs.
    let index = rt
        .block_on(st.get_manifest(
            "acme/api",
            &format!("sha256-{}", s.digest.trim_start_matches("sha256:")),
        ))
        .expect("referrers index");
    let index: serde_json::Value = serde_json::from_slice(&index.bytes).expect("json");
    let entry = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .find(|m| m["artifactType"] == "application/vnd.dev.sigstore.bundle.v0.3+json")
        .expect("a bundle referrer");
    let referrer = rt
        .block_on(st.get_manifest("acme/api", entry["digest"].as_str().expect("digest")))
        .expect("referrer");
    let referrer: serde_json::Value = serde_json::from_slice(&referrer.bytes).expect("json");
    assert_eq!(referrer["subject"]["digest"], s.digest.as_str());
    let bundle = rt
        .block_on(st.get_blob(
            "acme/api",
            referrer["layers"][0]["digest"].as_str().expect("layer"),
            1 << 20,
        ))
        .expect("bundle");
    let manifest = rt
        .block_on(st.get_manifest("acme/api", &s.digest))
        .expect("manifest");
    let w = s.home.path();
    std::fs::write(w.join("bundle.json"), &bundle).expect("write");
    std::fs::write(w.join("manifest.json"), &manifest.bytes).expect("write");
    let node = |bundle: &str, key: &str| {
        run(Command::new("node")
            .arg(interop_dir().join("verify-key.js"))
            .arg(w.join(bundle))
            .arg(w.join(key))
            .arg(w.join("manifest.json"))
            .arg(s.tsa.file("trusted_root.json")))
    };
    let (code, text) = node("bundle.json", "team.pub");
    assert_eq!(code, 0, "@sigstore/verify: {text}");

    // The independent verifier rejects another key, and a bundle whose timestamp was swapped
    // for a genuine one over a different signature (the same key signing another digest).
    let other = provost::verify::keys::public_pem(&provost::verify::keys::generate()).expect("pem");
    std::fs::write(w.join("other.pub"), other).expect("write");
    assert_eq!(node("bundle.json", "other.pub").0, 1);
    let mut b: serde_json::Value = serde_json::from_slice(&bundle).expect("json");
    let team = std::fs::read_to_string(w.join("team.key")).expect("key");
    let key = provost::verify::keys::load_signing_key(&team, || {
        Ok(zeroize::Zeroizing::new("pw".to_string()))
    })
    .expect("key");
    let other_digest = rt.block_on(st.resolve("acme/api", "1.4.2")).expect("1.4.2");
    let stamped_elsewhere: serde_json::Value = serde_json::from_slice(
        &rt.block_on(provost::release::sign::key_signed_bundle(
            &other_digest,
            &key,
            Some(&format!("{}/api/v1/timestamp", s.tsa.url)),
        ))
        .expect("bundle"),
    )
    .expect("json");
    let path = "/verificationMaterial/timestampVerificationData";
    assert_ne!(b.pointer(path), stamped_elsewhere.pointer(path));
    *b.pointer_mut(path).expect("timestamps") =
        stamped_elsewhere.pointer(path).expect("timestamps").clone();
    std::fs::write(
        w.join("swapped.json"),
        serde_json::to_vec(&b).expect("json"),
    )
    .expect("w");
    assert_eq!(node("swapped.json", "team.pub").0, 1);
    // provost agrees on both.
    let root = s.tsa.file("trusted_root.json");
    let pv = |bundle: &str, key: &str| {
        run(provost()
            .args(["verify-bundle", "--bundle"])
            .arg(w.join(bundle))
            .arg("--key")
            .arg(w.join(key))
            .arg("--trusted-root")
            .arg(&root)
            .arg(&s.digest))
    };
    assert_eq!(pv("bundle.json", "team.pub").0, 0);
    assert_eq!(pv("bundle.json", "other.pub").0, 6);
    assert_eq!(pv("swapped.json", "team.pub").0, 6);
}

#[test]
fn a_dsse_attestation_bundle_is_never_taken_for_an_image_signature() {
    // The same key, a timestamped DSSE provenance bundle stored as a referrer of 1.4.2 (whose
    // only image signature is the demo key's, untrusted here): `verify` must not count the
    // attestation as a signature; `verify-attestation` does count it.
    let s = signed_with_a_timestamp();
    let rt = runtime();
    let st = store(&s.reg);
    let h = s.home.path();
    let team = std::fs::read_to_string(h.join("team.key")).expect("key");
    let key = provost::verify::keys::load_signing_key(&team, || {
        Ok(zeroize::Zeroizing::new("pw".to_string()))
    })
    .expect("key");
    let digest = rt.block_on(st.resolve("acme/api", "1.4.2")).expect("1.4.2");
    let statement = provost::evidence::attest::statement(
        "acme/api",
        &digest,
        "https://slsa.dev/provenance/v1",
        serde_json::json!({"buildDefinition": {"buildType": "https://example/build"}, "runDetails": {"builder": {"id": "https://example/builder"}}}),
    );
    let envelope = provost::evidence::attest::sign_statement(&statement, &key);
    let sig = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        &envelope.signatures[0].sig,
    )
    .expect("sig");
    let stamp = rt
        .block_on(provost::release::sign::timestamp(
            &format!("{}/api/v1/timestamp", s.tsa.url),
            &sig,
        ))
        .expect("timestamp");
    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "publicKey": {"hint": "team"},
            "tlogEntries": [],
            "timestampVerificationData": {"rfc3161Timestamps": [{"signedTimestamp":
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &stamp)}]}
        },
        "dsseEnvelope": envelope,
    });
    rt.block_on(provost::release::sign::attach_bundle(
        &st,
        "acme/api",
        &digest,
        bundle.to_string().as_bytes(),
    ))
    .expect("attach");
    let cmd = |what: &str| {
        run(provost()
            .args(["--insecure-registry", &s.reg.host, what])
            .arg(format!("{}/acme/api@{digest}", s.reg.host))
            .arg("--key")
            .arg(h.join("team.pub"))
            .arg("--trusted-root")
            .arg(s.tsa.file("trusted_root.json"))
            .env("HOME", h))
    };
    let (code, text) = cmd("verify");
    assert_eq!(code, 6, "an attestation counted as a signature: {text}");
    let (code, text) = cmd("verify-attestation");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("slsa.dev/provenance/v1"), "{text}");
}

#[test]
fn a_key_window_is_judged_by_the_trusted_timestamp_and_a_revoked_key_verifies_nothing() {
    let s = signed_with_a_timestamp();
    let h = s.home.path();
    let verify = |key_line: &str| {
        std::fs::write(
            h.join("provost.toml"),
            format!(
                "demo = false\n[[registry]]\nname = \"reg\"\nhost = \"{}\"\ninsecure = true\n\
                 [trust]\ntrusted_root = \"{}\"\n[[trust.key]]\nname = \"team\"\npath = \"team.pub\"\n{key_line}\n",
                s.reg.host,
                s.tsa.file("trusted_root.json").display()
            ),
        )
        .expect("config");
        let out = provost()
            .arg("--config")
            .arg(h.join("provost.toml"))
            .args([
                "verify",
                &format!("{}/acme/api@{}", s.reg.host, s.digest),
                "--json",
            ])
            .env("HOME", h)
            .output()
            .expect("run");
        let j: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        let checks = j["checks"].as_array().expect("checks");
        let of = |kind: &str| -> Vec<(bool, String)> {
            checks
                .iter()
                .filter(|c| c["kind"] == kind)
                .map(|c| {
                    (
                        c["outcome"]["verified"].as_bool().expect("bool"),
                        c["outcome"]["failures"].to_string(),
                    )
                })
                .collect()
        };
        let (sigs, bundles) = (of("signature"), of("bundle"));
        assert_eq!(sigs.len(), 2, "timestamped and plain .sig layers: {j}");
        assert_eq!(bundles.len(), 1, "{j}");
        (
            out.status.code(),
            sigs[0].clone(),
            sigs[1].clone(),
            bundles[0].clone(),
        )
    };
    let rfc =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    // Valid now and at signing: everything verifies.
    let (code, stamped, plain, bundle) = verify("");
    assert_eq!(code, Some(0));
    assert!(
        stamped.0 && plain.0 && bundle.0,
        "{stamped:?} {plain:?} {bundle:?}"
    );

    // A key rotated out after the signatures were made: the timestamps prove the timestamped
    // signature and the bundle were made inside the window; the plain one has no such proof.
    let end = s.after + chrono::Duration::seconds(1);
    while chrono::Utc::now() <= end {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let window = format!(
        "not_before = \"{}\"\nnot_after = \"{}\"",
        rfc(s.before - chrono::Duration::hours(1)),
        rfc(end)
    );
    let (code, stamped, plain, bundle) = verify(&window);
    assert_eq!(code, Some(0));
    assert!(stamped.0, "{stamped:?}");
    assert!(bundle.0, "{bundle:?}");
    assert!(!plain.0, "no timestamp, key no longer valid: {plain:?}");
    assert!(plain.1.contains("no trusted timestamp"), "{}", plain.1);

    // A key whose window starts after the signatures: the timestamps prove they came before.
    let (code, stamped, plain, bundle) = verify(&format!("not_before = \"{}\"", rfc(s.after)));
    assert!(!bundle.0, "{bundle:?}");
    assert!(
        bundle.1.contains("outside key team's validity window"),
        "{}",
        bundle.1
    );
    assert!(!stamped.0, "{stamped:?}");
    assert!(
        stamped.1.contains("outside key team's validity window"),
        "{}",
        stamped.1
    );
    assert!(
        plain.0,
        "a signature without a timestamp counts while the key is valid now"
    );
    assert_eq!(code, Some(0));

    // Revoked: nothing verifies, whatever the timestamps say.
    let (code, stamped, plain, bundle) = verify("revoked = true");
    assert_eq!(code, Some(6));
    assert!(!stamped.0 && !plain.0 && !bundle.0);
}
