//! One cosign layer, verified: a simple-signing signature (`.sig`) or a DSSE attestation
//! (`.att`), keyed or keyless with certificate, chain, Rekor SET and RFC 3161 timestamp
//! annotations. Keyless and timestamped layers are turned into the equivalent Sigstore bundle and
//! checked by the bundle verifier: there is no second verifier to get wrong.

use super::{key_fingerprint, verify_bundle, Outcome, Signer, Subject, Trust};
use crate::evidence::envelope::{self, Envelope};
use base64::Engine as _;
use serde_json::{json, Value};
use sigstore_verify::crypto::VerificationKey;
use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{DerPublicKey, SignatureBytes};

pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub const CERT_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
pub const TIMESTAMP_ANNOTATION: &str = crate::release::sign::TIMESTAMP_ANNOTATION;

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
        return Outcome {
            verified: false,
            signer: None,
            failures: vec![e],
        };
    }
    let Some(sig) = annotations
        .get(SIGNATURE_ANNOTATION)
        .filter(|s| !s.is_empty())
    else {
        return Outcome {
            verified: false,
            signer: None,
            failures: vec!["the layer carries no signature annotation".into()],
        };
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
                        .unwrap_or_else(|| fingerprint[..16].to_string());
                    match window.admits(&label, &[], chrono::Utc::now()) {
                        Ok(()) => {
                            return Outcome {
                                verified: true,
                                signer: Some(Signer::Key {
                                    fingerprint,
                                    name: name.clone(),
                                }),
                                failures: vec![],
                            }
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
    Outcome {
        verified: false,
        signer: None,
        failures,
    }
}

/// Checks one DSSE attestation envelope.
pub(super) fn check_attestation(
    env_bytes: &[u8],
    annotations: &std::collections::BTreeMap<String, String>,
    digest: &str,
    trusts: &[Trust],
    root: &TrustedRoot,
) -> (Option<String>, Outcome) {
    let env: Envelope = match serde_json::from_slice(env_bytes) {
        Ok(e) => e,
        Err(e) => {
            return (
                None,
                Outcome {
                    verified: false,
                    signer: None,
                    failures: vec![format!("malformed DSSE envelope: {e}")],
                },
            )
        }
    };
    let statement = envelope::statement_from_envelope(&env);
    let predicate_type = statement.as_ref().ok().map(|s| s.predicate_type.clone());
    let mut failures = vec![];
    match &statement {
        Ok(s) if s.binds(digest) => {}
        Ok(s) => failures.push(format!(
            "the attestation's subjects ({}) do not include {digest}",
            s.subject_digests().join(", ")
        )),
        Err(e) => failures.push(e.clone()),
    }
    if !failures.is_empty() {
        return (
            predicate_type,
            Outcome {
                verified: false,
                signer: None,
                failures,
            },
        );
    }
    let payload = env.payload_bytes().unwrap_or_default();
    let pae = envelope::pae(&env.payload_type, &payload);
    for t in trusts {
        match t {
            Trust::Key { pem, name, window } => {
                let mut last = "the envelope has no signature".to_string();
                for s in &env.signatures {
                    match verify_with_key(pem, &pae, &s.sig) {
                        Ok(fingerprint) => {
                            let label = name
                                .clone()
                                .unwrap_or_else(|| fingerprint[..16].to_string());
                            if let Err(e) = window.admits(&label, &[], chrono::Utc::now()) {
                                last = e;
                                continue;
                            }
                            return (
                                predicate_type,
                                Outcome {
                                    verified: true,
                                    signer: Some(Signer::Key {
                                        fingerprint,
                                        name: name.clone(),
                                    }),
                                    failures: vec![],
                                },
                            );
                        }
                        Err(e) => last = e,
                    }
                }
                failures.push(format!(
                    "not signed by trusted key {} ({last})",
                    name.as_deref().unwrap_or("key")
                ));
            }
            Trust::Identity { .. } => {
                let content: Value = serde_json::from_slice(env_bytes).unwrap_or(Value::Null);
                match legacy_to_bundle(annotations, content) {
                    Ok(bundle) => {
                        let o =
                            verify_bundle(&bundle, &Subject::Digest(digest.to_string()), t, root);
                        if o.verified {
                            return (predicate_type, o);
                        }
                        failures.extend(o.failures);
                    }
                    Err(e) => failures.push(format!("keyless: {e}")),
                }
            }
        }
    }
    if trusts.is_empty() {
        failures.push("no trusted key or identity is configured".into());
    }
    (
        predicate_type,
        Outcome {
            verified: false,
            signer: None,
            failures,
        },
    )
}
