//! cosign-compatible signatures and attestations, written with a local key: simple-signing
//! payloads at `sha256-<hex>.sig`, DSSE envelopes at `sha256-<hex>.att`. New layers are added to
//! what is already there (read-modify-write), as cosign does.

use crate::evidence::attest;
use crate::evidence::decode::{DSSE_MEDIA_TYPE, SIMPLE_SIGNING};
use crate::evidence::discover::cosign_tag;
use crate::oci::media::{self, Descriptor, ImageManifest};
use crate::oci::{OciError, Result, Store};
use crate::verify::oci::SIGNATURE_ANNOTATION;
use base64::Engine as _;
use p256::ecdsa::{signature::Signer as _, Signature, SigningKey};
use std::collections::BTreeMap;

/// The simple-signing payload cosign signs for an image.
pub fn simple_signing_payload(docker_reference: &str, digest: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature"
        },
        "optional": null
    }))
    .unwrap_or_default()
}

async fn append_layer(
    store: &impl Store,
    repo: &str,
    tag: &str,
    layer: Descriptor,
) -> Result<String> {
    let existing = match store.get_manifest(repo, tag).await {
        Ok(m) => Some(
            serde_json::from_slice::<ImageManifest>(&m.bytes).map_err(|e| OciError::Malformed {
                what: "cosign manifest",
                name: format!("{repo}:{tag}"),
                source_name: store.name().to_string(),
                reason: e.to_string(),
            })?,
        ),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e),
    };
    let mut manifest = match existing {
        Some(m) => m,
        None => {
            let config = br#"{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
            let d = store.put_blob(repo, config).await?;
            ImageManifest {
                schema_version: 2,
                media_type: Some(media::OCI_MANIFEST.into()),
                artifact_type: None,
                config: Descriptor {
                    media_type: media::OCI_CONFIG.into(),
                    digest: d,
                    size: config.len() as u64,
                    ..Default::default()
                },
                layers: vec![],
                subject: None,
                annotations: BTreeMap::new(),
            }
        }
    };
    manifest
        .layers
        .retain(|l| l.digest != layer.digest || l.annotations != layer.annotations);
    manifest.layers.push(layer);
    let bytes = serde_json::to_vec(&manifest).unwrap_or_default();
    store
        .put_manifest(repo, Some(tag), media::OCI_MANIFEST, &bytes)
        .await
}

pub use crate::evidence::cosign::TIMESTAMP_ANNOTATION;

/// A simple-signing payload for `digest` and `key`'s signature over it (DER).
pub fn simple_signature(
    docker_reference: &str,
    digest: &str,
    key: &SigningKey,
) -> (Vec<u8>, Vec<u8>) {
    let payload = simple_signing_payload(docker_reference, digest);
    let sig: Signature = key.sign(&payload);
    (payload, sig.to_der().as_bytes().to_vec())
}

/// Asks the RFC 3161 timestamp authority at `url` to countersign `signature` (the SHA-256 of
/// the signature bytes is stamped, as Sigstore bundles and cosign expect). Returns the DER
/// response, already checked against the request.
pub async fn timestamp(
    url: &str,
    signature: &[u8],
) -> std::result::Result<Vec<u8>, super::ReleaseError> {
    let failed = |e: &dyn std::fmt::Display| super::ReleaseError::Timestamp {
        url: url.to_string(),
        reason: e.to_string(),
    };
    // A hung authority must not hang the signer: 30 s for the whole exchange.
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| failed(&e))?;
    let client = sigstore_tsa::TimestampClient::builder(url)
        .with_http_client(http)
        .build()
        .map_err(|e| failed(&e))?;
    let token = client
        .timestamp_signature(&sigstore_verify::types::SignatureBytes::new(
            signature.to_vec(),
        ))
        .await
        .map_err(|e| failed(&e))?;
    Ok(token.as_bytes().to_vec())
}

/// Signs `digest` (its image in `repo`, named `docker_reference`) at the `.sig` tag.
pub async fn sign_image(
    store: &impl Store,
    repo: &str,
    digest: &str,
    docker_reference: &str,
    key: &SigningKey,
) -> Result<String> {
    let (payload, sig) = simple_signature(docker_reference, digest, key);
    write_signature(store, repo, digest, &payload, &sig, None).await
}

/// Adds a signed simple-signing payload (and its RFC 3161 timestamp, when there is one) to
/// `digest`'s `.sig` tag.
pub async fn write_signature(
    store: &impl Store,
    repo: &str,
    digest: &str,
    payload: &[u8],
    signature: &[u8],
    timestamp: Option<&[u8]>,
) -> Result<String> {
    let d = store.put_blob(repo, payload).await?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut annotations = BTreeMap::new();
    annotations.insert(SIGNATURE_ANNOTATION.to_string(), b64.encode(signature));
    if let Some(ts) = timestamp {
        annotations.insert(
            TIMESTAMP_ANNOTATION.to_string(),
            serde_json::json!({"SignedRFC3161Timestamp": b64.encode(ts)}).to_string(),
        );
    }
    let layer = Descriptor {
        media_type: SIMPLE_SIGNING.into(),
        digest: d,
        size: payload.len() as u64,
        annotations,
        ..Default::default()
    };
    append_layer(store, repo, &cosign_tag(digest, "sig"), layer).await
}

/// Adds a DSSE envelope someone else signed (bytes as written) to `digest`'s `.att` tag, as
/// `cosign attach attestation` does.
pub async fn attach_envelope(
    store: &impl Store,
    repo: &str,
    digest: &str,
    envelope: &[u8],
    predicate_type: &str,
) -> Result<String> {
    let d = store.put_blob(repo, envelope).await?;
    let mut annotations = BTreeMap::new();
    annotations.insert(SIGNATURE_ANNOTATION.to_string(), String::new());
    annotations.insert("predicateType".to_string(), predicate_type.to_string());
    let layer = Descriptor {
        media_type: DSSE_MEDIA_TYPE.into(),
        digest: d,
        size: envelope.len() as u64,
        annotations,
        ..Default::default()
    };
    append_layer(store, repo, &cosign_tag(digest, "att"), layer).await
}

/// Attests `predicate` of `predicate_type` about `digest` at the `.att` tag.
pub async fn attest_image(
    store: &impl Store,
    repo: &str,
    digest: &str,
    predicate_type: &str,
    predicate: serde_json::Value,
    key: &SigningKey,
) -> Result<String> {
    let st = attest::statement(repo, digest, predicate_type, predicate);
    let env = attest::sign_statement(&st, key);
    let bytes = serde_json::to_vec(&env).unwrap_or_default();
    attach_envelope(store, repo, digest, &bytes, predicate_type).await
}

pub use crate::evidence::envelope::BUNDLE_V03;

/// A Sigstore bundle v0.3 in which `key` signs the image manifest `digest` names: a message
/// signature over the manifest (ECDSA P-256 with SHA-256 over the manifest bytes, i.e. over
/// their digest) and a public-key hint (the key's SPKI fingerprint). With `timestamp_url`, an
/// RFC 3161 timestamp authority countersigns the signature, which proves when it was made (a
/// key's validity window is checked against that time). Any Sigstore verifier given the public
/// key, the manifest and a trusted root holding the authority verifies it.
pub async fn key_signed_bundle(
    digest: &str,
    key: &SigningKey,
    timestamp_url: Option<&str>,
) -> std::result::Result<Vec<u8>, super::ReleaseError> {
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    use p256::pkcs8::EncodePublicKey;
    let failed = |reason: String| super::ReleaseError::Signing {
        digest: digest.chars().take(80).collect(),
        reason,
    };
    let d = crate::oci::Digest::parse(digest).map_err(|e| failed(e.to_string()))?;
    let prehash = hex::decode(d.hex()).map_err(|e| failed(e.to_string()))?;
    let sig: Signature = key
        .sign_prehash(&prehash)
        .map_err(|e| failed(e.to_string()))?;
    let sig_der = sig.to_der().as_bytes().to_vec();
    let spki = key
        .verifying_key()
        .to_public_key_der()
        .map_err(|e| failed(e.to_string()))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut timestamps = vec![];
    if let Some(url) = timestamp_url {
        timestamps.push(b64.encode(timestamp(url, &sig_der).await?));
    }
    let bundle = crate::evidence::envelope::key_message_bundle(
        &prehash,
        &b64.encode(&sig_der),
        &crate::verify::key_fingerprint(spki.as_bytes()),
        &timestamps,
    );
    serde_json::to_vec(&bundle).map_err(|e| failed(e.to_string()))
}

/// Stores a Sigstore bundle about `digest` as an OCI 1.1 referrer of the image (artifact type
/// and layer media type: the bundle's), as `cosign sign --new-bundle-format` stores its
/// bundles. Returns the referrer manifest's digest.
pub async fn attach_bundle(
    store: &impl Store,
    repo: &str,
    digest: &str,
    bundle: &[u8],
) -> Result<String> {
    let subject = store.get_manifest(repo, digest).await?;
    let desc = Descriptor {
        media_type: subject.media_type.clone(),
        digest: subject.digest.clone(),
        size: subject.bytes.len() as u64,
        ..Default::default()
    };
    attest::attach_referrer(
        store,
        repo,
        &desc,
        BUNDLE_V03,
        bundle,
        BUNDLE_V03,
        BTreeMap::new(),
    )
    .await
}
