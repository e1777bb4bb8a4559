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

/// Signs `digest` (its image in `repo`, named `docker_reference`) at the `.sig` tag.
pub async fn sign_image(
    store: &impl Store,
    repo: &str,
    digest: &str,
    docker_reference: &str,
    key: &SigningKey,
) -> Result<String> {
    let payload = simple_signing_payload(docker_reference, digest);
    let sig: Signature = key.sign(&payload);
    let d = store.put_blob(repo, &payload).await?;
    let mut annotations = BTreeMap::new();
    annotations.insert(
        SIGNATURE_ANNOTATION.to_string(),
        base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes()),
    );
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
