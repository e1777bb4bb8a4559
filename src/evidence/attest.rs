//! Writing evidence: DSSE envelopes signed with an ECDSA P-256 key, attached to a digest both
//! ways — cosign's `.att`/`.sbom` tags, and OCI 1.1 referrer artifacts (with the
//! `sha256-<hex>` fallback index kept up to date, read-modify-write, for registries without
//! the referrers API).

use super::discover::cosign_tag;
use super::envelope::{pae, Envelope, EnvelopeSignature, Statement, Subject, INTOTO_PAYLOAD_TYPE};
use crate::oci::media::{self, Descriptor, ImageIndex, ImageManifest, Manifest};
use crate::oci::{referrers_tag, OciError, Result, Store};
use base64::Engine as _;
use p256::ecdsa::{signature::Signer as _, Signature, SigningKey};
use std::collections::BTreeMap;

/// An in-toto v1 statement about one digest.
pub fn statement(
    subject_name: &str,
    digest: &str,
    predicate_type: &str,
    predicate: serde_json::Value,
) -> Statement {
    let mut d = BTreeMap::new();
    d.insert(
        "sha256".to_string(),
        digest.trim_start_matches("sha256:").to_string(),
    );
    Statement {
        statement_type: "https://in-toto.io/Statement/v1".into(),
        subject: vec![Subject {
            name: subject_name.to_string(),
            digest: d,
        }],
        predicate_type: predicate_type.to_string(),
        predicate,
    }
}

/// The key id provost writes: the SHA-256 of the public key's DER SPKI, in hex.
pub fn key_id(key: &SigningKey) -> String {
    use p256::pkcs8::EncodePublicKey;
    match key.verifying_key().to_public_key_der() {
        Ok(der) => crate::oci::digest::sha256(der.as_bytes())
            .trim_start_matches("sha256:")
            .to_string(),
        Err(_) => String::new(),
    }
}

/// Signs a statement into a DSSE envelope (ECDSA P-256, SHA-256, DER signature).
pub fn sign_statement(st: &Statement, key: &SigningKey) -> Envelope {
    let payload = serde_json::to_vec(st).unwrap_or_default();
    let sig: Signature = key.sign(&pae(INTOTO_PAYLOAD_TYPE, &payload));
    let b64 = base64::engine::general_purpose::STANDARD;
    Envelope {
        payload_type: INTOTO_PAYLOAD_TYPE.into(),
        payload: b64.encode(&payload),
        signatures: vec![EnvelopeSignature {
            keyid: key_id(key),
            sig: b64.encode(sig.to_der().as_bytes()),
        }],
    }
}

fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// Attaches a raw SBOM document at cosign's `.sbom` tag.
pub async fn attach_cosign_sbom(
    store: &impl Store,
    repo: &str,
    subject: &str,
    doc: &[u8],
    media_type: &str,
) -> Result<String> {
    let config = b"{}";
    let config_digest = store.put_blob(repo, config).await?;
    let d = store.put_blob(repo, doc).await?;
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        artifact_type: None,
        config: Descriptor {
            media_type: media::OCI_CONFIG.into(),
            digest: config_digest,
            size: 2,
            ..Default::default()
        },
        layers: vec![Descriptor {
            media_type: media_type.into(),
            digest: d,
            size: doc.len() as u64,
            ..Default::default()
        }],
        subject: None,
        annotations: BTreeMap::new(),
    };
    store
        .put_manifest(
            repo,
            Some(&cosign_tag(subject, "sbom")),
            media::OCI_MANIFEST,
            &json(&manifest),
        )
        .await
}

/// Pushes a referrer artifact (`subject` + `artifactType`, empty config, one layer) and adds it
/// to the subject's fallback index at tag `sha256-<hex>`. Returns the artifact's digest.
pub async fn attach_referrer(
    store: &impl Store,
    repo: &str,
    subject: &Descriptor,
    artifact_type: &str,
    layer: &[u8],
    layer_media_type: &str,
    annotations: BTreeMap<String, String>,
) -> Result<String> {
    let empty = b"{}";
    let empty_digest = store.put_blob(repo, empty).await?;
    let layer_digest = store.put_blob(repo, layer).await?;
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        artifact_type: Some(artifact_type.into()),
        config: Descriptor {
            media_type: media::OCI_EMPTY.into(),
            digest: empty_digest,
            size: 2,
            ..Default::default()
        },
        layers: vec![Descriptor {
            media_type: layer_media_type.into(),
            digest: layer_digest,
            size: layer.len() as u64,
            ..Default::default()
        }],
        subject: Some(Descriptor {
            media_type: subject.media_type.clone(),
            digest: subject.digest.clone(),
            size: subject.size,
            ..Default::default()
        }),
        annotations: annotations.clone(),
    };
    let bytes = json(&manifest);
    let d = store
        .put_manifest(repo, None, media::OCI_MANIFEST, &bytes)
        .await?;
    let entry = Descriptor {
        media_type: media::OCI_MANIFEST.into(),
        digest: d.clone(),
        size: bytes.len() as u64,
        artifact_type: Some(artifact_type.into()),
        annotations,
        ..Default::default()
    };
    add_to_fallback_index(store, repo, &subject.digest, entry).await?;
    Ok(d)
}

/// Read-modify-write of the `sha256-<hex>` referrers index. Registries have no tag
/// compare-and-swap, so the write is read back: when another writer's index replaced it (or
/// the registry answered 5xx under contention), it is done again, a few times.
pub async fn add_to_fallback_index(
    store: &impl Store,
    repo: &str,
    subject: &str,
    entry: Descriptor,
) -> Result<()> {
    add_all_to_fallback_index(store, repo, subject, std::slice::from_ref(&entry)).await
}

/// `add_to_fallback_index` for several entries about one subject: one read-modify-write.
pub async fn add_all_to_fallback_index(
    store: &impl Store,
    repo: &str,
    subject: &str,
    entries: &[Descriptor],
) -> Result<()> {
    const ATTEMPTS: u32 = 6;
    let tag = referrers_tag(subject);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut index = read_fallback_index(store, repo, &tag).await?;
        index
            .manifests
            .retain(|m| !entries.iter().any(|e| e.digest == m.digest));
        index.manifests.extend(entries.iter().cloned());
        match store
            .put_manifest(repo, Some(&tag), media::OCI_INDEX, &json(&index))
            .await
        {
            Ok(_) => {}
            Err(OciError::Registry { status, .. }) if status >= 500 && attempt < ATTEMPTS => {}
            Err(e) => return Err(e),
        }
        let now = read_fallback_index(store, repo, &tag).await?;
        if entries
            .iter()
            .all(|e| now.manifests.iter().any(|m| m.digest == e.digest))
        {
            return Ok(());
        }
        if attempt >= ATTEMPTS {
            return Err(OciError::Registry {
                source_name: store.name().to_string(),
                status: 409,
                url: format!("{repo}:{tag}"),
                body: format!(
                    "other writers kept replacing the referrers index ({ATTEMPTS} attempts)"
                ),
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
    }
}

async fn read_fallback_index(store: &impl Store, repo: &str, tag: &str) -> Result<ImageIndex> {
    match store.get_manifest(repo, tag).await {
        Ok(m) => match Manifest::parse(&m.bytes, &m.media_type) {
            Ok((Manifest::Index(i), _)) => Ok(i),
            _ => Err(OciError::Malformed {
                what: "referrers index",
                name: format!("{repo}:{tag}"),
                source_name: store.name().to_string(),
                reason: "the tag holds something other than an index".into(),
            }),
        },
        Err(e) if e.is_not_found() => Ok(ImageIndex {
            schema_version: 2,
            media_type: Some(media::OCI_INDEX.into()),
            artifact_type: None,
            manifests: vec![],
            subject: None,
            annotations: BTreeMap::new(),
        }),
        Err(e) => Err(e),
    }
}
