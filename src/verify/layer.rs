//! One cosign layer, verified: a simple-signing signature (`.sig`) or a DSSE attestation
//! (`.att`), keyed or keyless with certificate, chain, Rekor SET and RFC 3161 timestamp
//! annotations. Keyless and timestamped layers are turned into the equivalent Sigstore bundle and
//! checked by the bundle verifier: there is no second verifier to get wrong.

use super::{key_fingerprint, verify_bundle, Outcome, Signer, Subject, TimeProof, Trust};
use crate::evidence::envelope::{self, Envelope};
use base64::Engine as _;
use serde_json::{json, Value};
use sigstore_verify::crypto::VerificationKey;
use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{DerPublicKey, SignatureBytes};

pub use crate::evidence::cosign::{
    BUNDLE_ANNOTATION, CERT_ANNOTATION, CHAIN_ANNOTATION, SIGNATURE_ANNOTATION,
    TIMESTAMP_ANNOTATION,
};

/// The RFC 3161 timestamp (base64 DER) cosign put in a layer's `rfc3161timestamp` annotation;
/// empty when there is none.
fn annotated_timestamps(
    annotations: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<String>, String> {
    let Some(a) = annotations.get(TIMESTAMP_ANNOTATION) else {
        return Ok(vec![]);
    };
    let v: Value =
        serde_json::from_str(a).map_err(|e| format!("rfc3161timestamp annotation: {e}"))?;
    let ts = v["SignedRFC3161Timestamp"]
        .as_str()
        .ok_or("rfc3161timestamp annotation has no SignedRFC3161Timestamp")?;
    Ok(vec![ts.to_string()])
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn pem_to_der_b64(pem_text: &str) -> Vec<String> {
    // Certificates travel in annotations as PEM; bundles want base64 DER.
    let mut out = vec![];
    let mut cur = String::new();
    let mut inside = false;
    for line in pem_text.lines() {
        let l = line.trim();
        if l.starts_with("-----BEGIN CERTIFICATE") {
            inside = true;
            cur.clear();
        } else if l.starts_with("-----END CERTIFICATE") {
            inside = false;
            out.push(cur.clone());
        } else if inside {
            cur.push_str(l);
        }
    }
    out
}

/// A keyless cosign signature as a Sigstore bundle v0.1: certificate and chain, the Rekor
/// entry with its inclusion promise (SET), and the message signature or DSSE envelope.
pub fn legacy_to_bundle(
    annotations: &std::collections::BTreeMap<String, String>,
    content: Value,
) -> Result<String, String> {
    let cert = annotations
        .get(CERT_ANNOTATION)
        .ok_or("no certificate annotation")?;
    let mut certs = pem_to_der_b64(cert);
    if certs.is_empty() {
        return Err("the certificate annotation holds no PEM certificate".into());
    }
    if let Some(chain) = annotations.get(CHAIN_ANNOTATION) {
        // The root stays out: the trusted root supplies it, and a bundle carrying it is refused.
        let mut chain = pem_to_der_b64(chain);
        chain.pop();
        certs.extend(chain);
    }
    let rekor: Value = serde_json::from_str(
        annotations
            .get(BUNDLE_ANNOTATION)
            .ok_or("no Rekor bundle annotation (keyless signatures need a log entry)")?,
    )
    .map_err(|e| format!("Rekor bundle annotation: {e}"))?;
    let payload = &rekor["Payload"];
    let body_b64 = payload["body"].as_str().ok_or("Rekor bundle has no body")?;
    let body: Value =
        serde_json::from_slice(&envelope::decode_b64(body_b64).map_err(|e| e.to_string())?)
            .map_err(|e| format!("Rekor body: {e}"))?;
    let log_id = hex::decode(
        payload["logID"]
            .as_str()
            .ok_or("Rekor bundle has no logID")?,
    )
    .map_err(|e| format!("logID: {e}"))?;
    let entry = json!({
        "logIndex": payload["logIndex"].as_i64().map(|i| i.to_string()).ok_or("Rekor bundle has no logIndex")?,
        "logId": {"keyId": b64().encode(log_id)},
        "kindVersion": {"kind": body["kind"].as_str().unwrap_or(""), "version": body["apiVersion"].as_str().unwrap_or("")},
        "integratedTime": payload["integratedTime"].as_i64().map(|i| i.to_string()).ok_or("Rekor bundle has no integratedTime")?,
        "inclusionPromise": {"signedEntryTimestamp": rekor["SignedEntryTimestamp"].as_str().ok_or("Rekor bundle has no SET")?},
        "canonicalizedBody": body_b64,
    });
    let mut bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": {
            "x509CertificateChain": {"certificates": certs.iter().map(|c| json!({"rawBytes": c})).collect::<Vec<_>>()},
            "tlogEntries": [entry],
        },
    });
    let timestamps = annotated_timestamps(annotations)?;
    if !timestamps.is_empty() {
        bundle["verificationMaterial"]["timestampVerificationData"] =
            envelope::timestamp_data(&timestamps);
    }
    match content {
        Value::Object(mut m) if m.contains_key("payloadType") => {
            // Bundles spell the envelope's keyid optional; keep what cosign wrote.
            m.retain(|k, _| k == "payload" || k == "payloadType" || k == "signatures");
            bundle["dsseEnvelope"] = Value::Object(m);
        }
        other => bundle["messageSignature"] = other,
    }
    serde_json::to_string(&bundle).map_err(|e| e.to_string())
}

/// Verifies a keyed signature over `data` (ECDSA P-256/SHA-256 and the other schemes the key
/// type supports) with a PEM public key.
pub fn verify_with_key(pem: &str, data: &[u8], signature_b64: &str) -> Result<String, String> {
    let key = DerPublicKey::from_pem(pem).map_err(|e| format!("unusable public key: {e}"))?;
    let fp = key_fingerprint(key.as_bytes());
    let vk = VerificationKey::from_spki(&key).map_err(|e| format!("unusable public key: {e}"))?;
    let sig =
        envelope::decode_b64(signature_b64).map_err(|e| format!("signature is not base64: {e}"))?;
    vk.verify(data, &SignatureBytes::from_bytes(&sig))
        .map_err(|_| "signature does not verify with the key".to_string())?;
    Ok(fp)
}

fn check_payload_binding(payload: &[u8], digest: &str) -> Result<(), String> {
    let v: Value =
        serde_json::from_slice(payload).map_err(|e| format!("simple-signing payload: {e}"))?;
    let signed = v["critical"]["image"]["docker-manifest-digest"]
        .as_str()
        .unwrap_or("");
    if signed != digest {
        // A signature copied from another image: fail closed.
        return Err(format!("the signature is for {signed}, not {digest}"));
    }
    Ok(())
}

/// Checks one `.sig` layer against every trust; the first that verifies wins, and every
/// failure is kept when none does.
pub(super) fn check_signature(
    payload: &[u8],
    annotations: &std::collections::BTreeMap<String, String>,
    digest: &str,
    trusts: &[Trust],
    root: &TrustedRoot,
) -> Outcome {
    let mut failures = vec![];
    if let Err(e) = check_payload_binding(payload, digest) {
        return Outcome::invalid(e);
    }
    let Some(sig) = annotations
        .get(SIGNATURE_ANNOTATION)
        .filter(|s| !s.is_empty())
    else {
        return Outcome::invalid("the layer carries no signature annotation".into());
    };
    let payload_sha256 =
        hex::decode(crate::oci::digest::sha256(payload).trim_start_matches("sha256:"))
            .unwrap_or_default();
    for t in trusts {
        match t {
            // With a timestamp annotation, the signature goes through the bundle verifier as a
            // key-signed bundle, so the timestamp is proven and the key's window is judged by it.
            Trust::Key { name, .. } if annotations.contains_key(TIMESTAMP_ANNOTATION) => {
                let bundle = annotated_timestamps(annotations).map(|ts| {
                    envelope::key_message_bundle(&payload_sha256, sig, "", &ts).to_string()
                });
                match bundle {
                    Ok(b) => {
                        let o = verify_bundle(&b, &Subject::Bytes(payload.to_vec()), t, root);
                        if o.verified {
                            return o;
                        }
                        failures.extend(o.failures.into_iter().map(|f| {
                            format!(
                                "not signed by trusted key {} ({f})",
                                name.as_deref().unwrap_or("key")
                            )
                        }));
                    }
                    Err(e) => failures.push(e),
                }
            }
            Trust::Key { pem, name, window } => match verify_with_key(pem, payload, sig) {
                Ok(fingerprint) => {
                    // A keyed cosign signature carries no trusted timestamp provost checks.
                    let label = name
                        .clone()
                        .unwrap_or_else(|| fingerprint.chars().take(16).collect());
                    match window.admits(&label, &[], chrono::Utc::now()) {
                        Ok(()) => {
                            return Outcome::proven(
                                Signer::Key {
                                    fingerprint,
                                    name: name.clone(),
                                },
                                TimeProof::Unproven,
                            )
                        }
                        Err(e) => failures.push(e),
                    }
                }
                Err(e) => failures.push(format!(
                    "not signed by trusted key {} ({e})",
                    name.as_deref().unwrap_or("key")
                )),
            },
            Trust::Identity { .. } => match legacy_to_bundle(
                annotations,
                envelope::message_signature(&payload_sha256, sig),
            ) {
                Ok(bundle) => {
                    let o = verify_bundle(&bundle, &Subject::Bytes(payload.to_vec()), t, root);
                    if o.verified {
                        return o;
                    }
                    failures.extend(o.failures);
                }
                Err(e) => failures.push(format!("keyless: {e}")),
            },
        }
    }
    if trusts.is_empty() {
        failures.push("no trusted key or identity is configured".into());
    }
    Outcome::failed(failures)
}

/// Checks one DSSE attestation envelope: one outcome per signature in it, each judged on its
/// own against every trust (a keyless `.att` layer carries one signature, checked as a bundle).
pub(super) fn check_attestation(
    env_bytes: &[u8],
    annotations: &std::collections::BTreeMap<String, String>,
    digest: &str,
    trusts: &[Trust],
    root: &TrustedRoot,
) -> (Option<String>, Vec<Outcome>) {
    let env: Envelope = match serde_json::from_slice(env_bytes) {
        Ok(e) => e,
        Err(e) => {
            return (
                None,
                vec![Outcome::invalid(format!("malformed DSSE envelope: {e}"))],
            )
        }
    };
    let statement = envelope::statement_from_envelope(&env);
    let predicate_type = statement.as_ref().ok().map(|s| s.predicate_type.clone());
    let bound = match &statement {
        Ok(s) if s.binds(digest) => Ok(()),
        Ok(s) => Err(format!(
            "the attestation's subjects ({}) do not include {digest}",
            s.subject_digests().join(", ")
        )),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = bound {
        // Bound to something else (or not a statement): no signature on it counts here.
        let n = env.signatures.len().max(1);
        return (predicate_type, vec![Outcome::invalid(e); n]);
    }
    if env.signatures.is_empty() {
        return (predicate_type, vec![]);
    }
    if annotations.contains_key(CERT_ANNOTATION) {
        // A keyless cosign attestation: the certificate, log entry and envelope form a bundle.
        let content: Value = serde_json::from_slice(env_bytes).unwrap_or(Value::Null);
        let bundle = match legacy_to_bundle(annotations, content) {
            Ok(b) => b,
            Err(e) => {
                return (
                    predicate_type,
                    vec![Outcome::invalid(format!("keyless: {e}"))],
                )
            }
        };
        let mut failures = vec![];
        let mut proven_other = None;
        for t in trusts
            .iter()
            .filter(|t| matches!(t, Trust::Identity { .. }))
        {
            let o = verify_bundle(&bundle, &Subject::Digest(digest.to_string()), t, root);
            if o.verified {
                return (predicate_type, vec![o]);
            }
            failures.extend(o.failures.iter().cloned());
            if o.signer.is_some() {
                proven_other = Some(o);
            }
        }
        if failures.is_empty() {
            failures.push("keyless signature, and no trusted identity is configured".into());
        }
        let mut o = Outcome::failed(failures);
        o.signer = proven_other.and_then(|p| p.signer);
        return (predicate_type, vec![o]);
    }
    let payload = env.payload_bytes().unwrap_or_default();
    let pae = envelope::pae(&env.payload_type, &payload);
    let outcomes = env
        .signatures
        .iter()
        .map(|sig| {
            let mut failures = vec![];
            for t in trusts {
                if let Trust::Key { pem, name, window } = t {
                    match verify_with_key(pem, &pae, &sig.sig) {
                        Ok(fingerprint) => {
                            let label = name
                                .clone()
                                .unwrap_or_else(|| fingerprint.chars().take(16).collect());
                            let signer = Signer::Key {
                                fingerprint,
                                name: name.clone(),
                            };
                            match window.admits(&label, &[], chrono::Utc::now()) {
                                Ok(()) => return Outcome::proven(signer, TimeProof::Unproven),
                                Err(e) => {
                                    return Outcome {
                                        signer: Some(signer),
                                        ..Outcome::failed(vec![e])
                                    }
                                }
                            }
                        }
                        Err(e) => failures.push(format!(
                            "not signed by trusted key {} ({e})",
                            name.as_deref().unwrap_or("key")
                        )),
                    }
                }
            }
            if failures.is_empty() {
                failures.push("no trusted key is configured".into());
            }
            let mut o = Outcome::failed(failures);
            if !sig.keyid.is_empty() {
                o.claimed = Some(format!("key id {}", sig.keyid));
            }
            o
        })
        .collect();
    (predicate_type, outcomes)
}
