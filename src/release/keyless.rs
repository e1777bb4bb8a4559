//! Signing a record through a Sigstore instance: an ephemeral P-256 key, a short-lived Fulcio
//! certificate for the OIDC identity in the token, the DSSE envelope logged in Rekor (v1,
//! `dsse` entries), and a bundle v0.3 holding the certificate and the log entry — what
//! `cosign attest --new-bundle-format` writes, which sigstore-python and sigstore-js verify.
//! A key-signed record is also logged in Rekor when a Rekor URL is configured, so deleting it
//! from the registry is visible to anyone watching the log.

use super::ReleaseError;
use crate::evidence::envelope::{Envelope, EnvelopeSignature, Statement, INTOTO_PAYLOAD_TYPE};
use base64::Engine as _;
use p256::ecdsa::{signature::Signer as _, Signature, SigningKey};
use serde_json::{json, Value};
use zeroize::Zeroizing;

/// Every call to Fulcio or Rekor has this deadline.
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);
/// Answers larger than this are refused.
const MAX_ANSWER: usize = 1 << 20;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn failed(what: &str, reason: impl std::fmt::Display) -> ReleaseError {
    ReleaseError::Signing {
        digest: String::new(),
        reason: format!("{what}: {}", crate::text::sanitize(&reason.to_string())),
    }
}

/// The claims of an OIDC identity token (not verified here: Fulcio verifies it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// The identity the certificate will name: `email` when the token has one, else `sub`.
    pub subject: String,
    pub issuer: String,
}

/// Reads the identity and issuer a token claims.
pub fn claims(token: &str) -> Result<TokenClaims, String> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or("the identity token is not a JWT (header.payload.signature)")?;
    let bytes = crate::evidence::envelope::decode_b64(payload)
        .map_err(|e| format!("the identity token's payload is not base64: {e}"))?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("the identity token's payload is not JSON: {e}"))?;
    let subject = v["email"]
        .as_str()
        .or(v["sub"].as_str())
        .ok_or("the identity token has neither email nor sub")?
        .to_string();
    let issuer = v["iss"]
        .as_str()
        .ok_or("the identity token has no iss")?
        .to_string();
    Ok(TokenClaims { subject, issuer })
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    what: &str,
) -> Result<Value, ReleaseError> {
    let resp = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| failed(what, e))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| failed(what, e))?;
    if bytes.len() > MAX_ANSWER {
        return Err(failed(what, format!("an answer of {} bytes", bytes.len())));
    }
    if !status.is_success() {
        let text: String = String::from_utf8_lossy(&bytes).chars().take(300).collect();
        return Err(failed(what, format!("{status}: {text}")));
    }
    serde_json::from_slice(&bytes).map_err(|e| failed(what, format!("not JSON: {e}")))
}

fn client() -> Result<reqwest::Client, ReleaseError> {
    reqwest::Client::builder()
        .timeout(DEADLINE)
        .build()
        .map_err(|e| failed("HTTP client", e))
}

/// A DSSE envelope of `st` signed by `key` (no key id).
fn envelope(st: &Statement, key: &SigningKey) -> Envelope {
    let payload = serde_json::to_vec(st).unwrap_or_default();
    let sig: Signature = key.sign(&crate::evidence::envelope::pae(
        INTOTO_PAYLOAD_TYPE,
        &payload,
    ));
    Envelope {
        payload_type: INTOTO_PAYLOAD_TYPE.into(),
        payload: b64().encode(&payload),
        signatures: vec![EnvelopeSignature {
            keyid: String::new(),
            sig: b64().encode(sig.to_der().as_bytes()),
        }],
    }
}

/// Logs `env` in Rekor v1 as a `dsse` entry verified by `verifier_pem` (a certificate or a
/// public key); returns the bundle's transparency-log entry.
pub async fn log_dsse(
    rekor: &str,
    env: &Envelope,
    verifier_pem: &str,
) -> Result<Value, ReleaseError> {
    let http = client()?;
    let envelope_json = serde_json::to_string(env).map_err(|e| failed("envelope", e))?;
    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {"proposedContent": {
            "envelope": envelope_json,
            "verifiers": [b64().encode(verifier_pem)],
        }},
    });
    let url = format!("{}/api/v1/log/entries", rekor.trim_end_matches('/'));
    let answer = post(&http, &url, &body, "Rekor").await?;
    let entry = answer
        .as_object()
        .and_then(|o| o.values().next())
        .ok_or_else(|| failed("Rekor", "the answer holds no entry"))?;
    let num = |v: &Value| {
        v.as_i64()
            .map(|n| n.to_string())
            .or_else(|| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let log_id = hex::decode(entry["logID"].as_str().unwrap_or_default())
        .map_err(|e| failed("Rekor logID", e))?;
    let proof = &entry["verification"]["inclusionProof"];
    let root_hash = hex::decode(proof["rootHash"].as_str().unwrap_or_default())
        .map_err(|e| failed("Rekor rootHash", e))?;
    let hashes: Vec<String> = proof["hashes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|h| h.as_str().and_then(|h| hex::decode(h).ok()))
                .map(|h| b64().encode(h))
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({
        "logIndex": num(&entry["logIndex"]),
        "logId": {"keyId": b64().encode(log_id)},
        "kindVersion": {"kind": "dsse", "version": "0.0.1"},
        "integratedTime": num(&entry["integratedTime"]),
        "inclusionPromise": {"signedEntryTimestamp": entry["verification"]["signedEntryTimestamp"]},
        "inclusionProof": {
            "logIndex": num(&proof["logIndex"]),
            "rootHash": b64().encode(root_hash),
            "treeSize": num(&proof["treeSize"]),
            "hashes": hashes,
            "checkpoint": {"envelope": proof["checkpoint"]},
        },
        "canonicalizedBody": entry["body"],
    }))
}

/// Signs `st` keyless: Fulcio certifies an ephemeral key for the token's identity, Rekor logs
/// the envelope. Returns the bundle (JSON bytes).
pub async fn sign(
    st: &Statement,
    token: &Zeroizing<String>,
    fulcio: &str,
    rekor: &str,
) -> Result<Vec<u8>, ReleaseError> {
    let who = claims(token).map_err(|e| failed("identity token", e))?;
    let key = crate::verify::keys::generate();
    let public = crate::verify::keys::public_pem(&key).map_err(|e| failed("key", e))?;
    // Proof of possession: the key signs the identity it asks a certificate for.
    let pop: Signature = key.sign(who.subject.as_bytes());
    let http = client()?;
    let url = format!("{}/api/v2/signingCert", fulcio.trim_end_matches('/'));
    let answer = post(
        &http,
        &url,
        &json!({
            "credentials": {"oidcIdentityToken": token.as_str()},
            "publicKeyRequest": {
                "publicKey": {"algorithm": "ECDSA", "content": public},
                "proofOfPossession": b64().encode(pop.to_der().as_bytes()),
            },
        }),
        "Fulcio",
    )
    .await?;
    let chain = answer["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .or(answer["signedCertificateDetachedSct"]["chain"]["certificates"].as_array())
        .ok_or_else(|| failed("Fulcio", "the answer holds no certificate chain"))?;
    let leaf_pem = chain
        .first()
        .and_then(Value::as_str)
        .ok_or_else(|| failed("Fulcio", "an empty certificate chain"))?;
    let leaf = pem::parse(leaf_pem).map_err(|e| failed("Fulcio certificate", e))?;
    // The verifier as verifiers rebuild it from the certificate: 64-column PEM, LF endings.
    let canonical = pem::encode_config(
        &pem::Pem::new("CERTIFICATE", leaf.contents().to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    );
    let env = envelope(st, &key);
    let entry = log_dsse(rekor, &env, &canonical).await?;
    let bundle = json!({
        "mediaType": crate::evidence::envelope::BUNDLE_V03,
        "verificationMaterial": {
            "certificate": {"rawBytes": b64().encode(leaf.contents())},
            "tlogEntries": [entry],
        },
        "dsseEnvelope": env,
    });
    serde_json::to_vec(&bundle).map_err(|e| failed("bundle", e))
}
