//! Finding everything that refers to a digest, wherever its producer put it. Every source is
//! asked concurrently; a missing or broken item never hides the others.

use super::decode::{decode_blob, Context};
use super::trust::{Layer, LayerVerifier, Verification};
use super::{EvidenceItem, Found, Kind};
use crate::oci::media::{self, Descriptor, ImageManifest, Manifest};
use crate::oci::{referrers_tag, FetchedManifest, OciError, Store};
use std::collections::HashMap;
use std::sync::Mutex;

/// Blobs read during one discovery, by digest: the same statement attached both ways is
/// fetched once.
#[derive(Default)]
struct BlobCache(Mutex<HashMap<String, Vec<u8>>>);

impl BlobCache {
    async fn get(&self, store: &impl Store, repo: &str, digest: &str) -> Result<Vec<u8>, OciError> {
        if let Some(b) = self.0.lock().ok().and_then(|m| m.get(digest).cloned()) {
            return Ok(b);
        }
        let b = store.get_blob(repo, digest, MAX_EVIDENCE_BLOB).await?;
        if let Ok(mut m) = self.0.lock() {
            m.insert(digest.to_string(), b.clone());
        }
        Ok(b)
    }
}
use futures::stream::{self, StreamExt};
use serde::Serialize;

/// What one discovery shares across its sources: the blob cache and the verifier.
struct Walk<'a> {
    blobs: &'a BlobCache,
    verifier: Option<&'a dyn LayerVerifier>,
}

impl Walk<'_> {
    async fn get(&self, store: &impl Store, repo: &str, digest: &str) -> Result<Vec<u8>, OciError> {
        self.blobs.get(store, repo, digest).await
    }
}

/// Blobs read as evidence are capped at this size.
pub const MAX_EVIDENCE_BLOB: u64 = 16 * 1024 * 1024;
/// Layers read per evidence manifest, and referrers followed per digest.
const MAX_LAYERS: usize = 32;
const MAX_REFERRERS: usize = 128;

/// Everything found for a digest, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Discovery {
    pub digest: String,
    pub items: Vec<EvidenceItem>,
    /// Sources that failed as a whole (a registry error), in words.
    pub errors: Vec<String>,
}

/// The cosign tag for a digest and suffix (`sig`, `att`, `sbom`).
pub fn cosign_tag(digest: &str, suffix: &str) -> String {
    format!("{}.{suffix}", referrers_tag(digest))
}

/// Discovers and decodes the evidence for `digest` in `repo`. Cosign tags are looked up in
/// `cosign_repo` when given (`COSIGN_REPOSITORY`), else in `repo`.
pub async fn discover(
    store: &impl Store,
    repo: &str,
    digest: &str,
    cosign_repo: Option<&str>,
) -> Discovery {
    discover_with(store, repo, digest, cosign_repo, None, None).await
}

/// `discover`, reusing the subject's manifest when the caller has already read it, and
/// checking every layer's signatures with `verifier` as it is read (one walk: each item carries
/// the checks of its own layer, never another layer's).
pub async fn discover_with(
    store: &impl Store,
    repo: &str,
    digest: &str,
    cosign_repo: Option<&str>,
    subject: Option<&FetchedManifest>,
    verifier: Option<&dyn LayerVerifier>,
) -> Discovery {
    let cosign_repo = cosign_repo.unwrap_or(repo);
    let blobs = BlobCache::default();
    let walk = Walk {
        blobs: &blobs,
        verifier,
    };
    let blobs = &walk;
    let (referred, sig, att, sbom, buildx) = futures::join!(
        referrer_items(store, repo, digest, blobs),
        cosign_items(store, cosign_repo, digest, "sig", blobs),
        cosign_items(store, cosign_repo, digest, "att", blobs),
        cosign_items(store, cosign_repo, digest, "sbom", blobs),
        buildx_items(store, repo, digest, subject, blobs),
    );
    let mut out = Discovery {
        digest: digest.to_string(),
        ..Default::default()
    };
    let referred = referred.map(|(items, cut)| {
        // Never cut silently: a listing longer than the cap could hide what stands against
        // the digest, so it is an evaluation error (a required tier blocks on it).
        if let Some(n) = cut {
            out.errors.push(format!(
                "evidence listing truncated at {MAX_REFERRERS} of {n} referrers: cannot show nothing standing against this digest"
            ));
        }
        items
    });
    for r in [referred, sig, att, sbom, buildx] {
        match r {
            Ok(items) => out.items.extend(items),
            Err(e) => out.errors.push(e),
        }
    }
    out
}

async fn referrer_items(
    store: &impl Store,
    repo: &str,
    digest: &str,
    blobs: &Walk<'_>,
) -> Result<(Vec<EvidenceItem>, Option<usize>), String> {
    // The API and its tag fallback are asked at once: one round trip instead of two on
    // registries without the API, one spare request on registries with it.
    let tag = referrers_tag(digest);
    let (api, fallback) = futures::join!(
        store.referrers(repo, digest, None),
        store.get_manifest(repo, &tag)
    );
    let (descs, found, location) = match api {
        Ok(Some(d)) => (
            d,
            Found::ReferrersApi,
            format!("referrers of {}", crate::oci::digest::short(digest)),
        ),
        Ok(None) => match fallback {
            Ok(m) => match Manifest::parse(&m.bytes, &m.media_type) {
                Ok((Manifest::Index(idx), _)) => {
                    (idx.manifests, Found::ReferrersTag, format!("{repo}:{tag}"))
                }
                _ => return Err(format!("{repo}:{tag} is not a referrers index")),
            },
            Err(e) if e.is_not_found() => return Ok((vec![], None)),
            Err(e) => return Err(format!("referrers tag {tag}: {e}")),
        },
        Err(e) => return Err(format!("referrers API: {e}")),
    };
    let location = &location;
    let cut = (descs.len() > MAX_REFERRERS).then_some(descs.len());
    let items: Vec<Vec<EvidenceItem>> = stream::iter(descs.into_iter().take(MAX_REFERRERS))
        .map(|d| async move {
            if let Some(items) = inline_record(&d, found, location, digest, blobs) {
                return items;
            }
            manifest_items(store, repo, &d, found, location, digest, None, None, blobs).await
        })
        .buffer_unordered(8)
        .collect()
        .await;
    Ok((items.into_iter().flatten().collect(), cut))
}

async fn cosign_items(
    store: &impl Store,
    repo: &str,
    digest: &str,
    suffix: &str,
    blobs: &Walk<'_>,
) -> Result<Vec<EvidenceItem>, String> {
    let tag = cosign_tag(digest, suffix);
    let m = match store.get_manifest(repo, &tag).await {
        Ok(m) => m,
        Err(e) if e.is_not_found() => return Ok(vec![]),
        Err(e) => return Err(format!("cosign tag {tag}: {e}")),
    };
    let desc = Descriptor {
        media_type: m.media_type.clone(),
        digest: m.digest.clone(),
        size: m.bytes.len() as u64,
        ..Default::default()
    };
    Ok(manifest_items(
        store,
        repo,
        &desc,
        Found::CosignTag,
        &format!("{repo}:{tag}"),
        digest,
        None,
        Some(m.bytes),
        blobs,
    )
    .await)
}

async fn buildx_items(
    store: &impl Store,
    repo: &str,
    digest: &str,
    subject: Option<&FetchedManifest>,
    blobs: &Walk<'_>,
) -> Result<Vec<EvidenceItem>, String> {
    let fetched;
    let m = match subject {
        Some(m) if m.digest == digest => m,
        _ => {
            fetched = store
                .get_manifest(repo, digest)
                .await
                .map_err(|e| format!("{repo}@{digest}: {e}"))?;
            &fetched
        }
    };
    let Ok((Manifest::Index(idx), _)) = Manifest::parse(&m.bytes, &m.media_type) else {
        return Ok(vec![]);
    };
    let location = format!(
        "{repo}@{} (attestation manifest)",
        crate::oci::digest::short(digest)
    );
    let location = &location;
    let attestations: Vec<Descriptor> = idx
        .manifests
        .into_iter()
        .filter(|d| {
            d.annotations
                .get("vnd.docker.reference.type")
                .map(String::as_str)
                == Some("attestation-manifest")
        })
        .collect();
    let items: Vec<Vec<EvidenceItem>> = stream::iter(attestations)
        .map(|d| async move {
            let describes = d.annotations.get("vnd.docker.reference.digest").cloned();
            manifest_items(
                store,
                repo,
                &d,
                Found::BuildxIndex,
                location,
                digest,
                describes,
                None,
                blobs,
            )
            .await
        })
        .buffer_unordered(8)
        .collect()
        .await;
    Ok(items.into_iter().flatten().collect())
}

/// Reads one evidence manifest (unless its bytes are given) and decodes its layers.
#[allow(clippy::too_many_arguments)]
async fn manifest_items(
    store: &impl Store,
    repo: &str,
    desc: &Descriptor,
    found: Found,
    location: &str,
    target: &str,
    describes: Option<String>,
    bytes: Option<Vec<u8>>,
    blobs: &Walk<'_>,
) -> Vec<EvidenceItem> {
    let problem = |p: String| {
        vec![EvidenceItem::problem(
            Kind::Invalid,
            &desc.media_type,
            &desc.digest,
            found,
            location,
            p,
        )]
    };
    let bytes = match bytes {
        Some(b) => b,
        None => match store.get_manifest(repo, &desc.digest).await {
            Ok(m) => m.bytes,
            Err(e) => return problem(e.to_string()),
        },
    };
    let m: ImageManifest = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => return problem(format!("evidence manifest {}: {e}", desc.digest)),
    };
    // Every layer at once; decoding then goes in order.
    let mut pending = vec![];
    for l in m.layers.iter().take(MAX_LAYERS) {
        pending.push(blobs.get(store, repo, &l.digest));
    }
    let fetched: Vec<Result<Vec<u8>, OciError>> = futures::future::join_all(pending).await;
    let mut out = layer_items(&m, desc, fetched, found, location, target, describes, blobs);
    if m.layers.is_empty() && m.config.media_type != media::OCI_EMPTY {
        out.extend(problem(format!(
            "evidence manifest {} has no layers",
            desc.digest
        )));
    }
    out
}

/// A release record whose bundle the referrers listing already carries (in the
/// `dev.provost.record.bundle` annotation provost writes on record manifests): decoded and
/// verified without fetching the manifest or the blob. The bundle proves itself by its
/// signature, as the layer would.
fn inline_record(
    desc: &Descriptor,
    found: Found,
    location: &str,
    target: &str,
    blobs: &Walk<'_>,
) -> Option<Vec<EvidenceItem>> {
    let bundle = desc.annotations.get(super::record::BUNDLE_ANNOTATION)?;
    if bundle.len() > super::record::MAX_INLINE_BUNDLE
        || !desc
            .artifact_type
            .as_deref()
            .is_some_and(crate::evidence::envelope::is_bundle_media_type)
    {
        return None;
    }
    let bytes = bundle.as_bytes().to_vec();
    let m = ImageManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        artifact_type: desc.artifact_type.clone(),
        config: Descriptor {
            media_type: media::OCI_EMPTY.into(),
            ..Default::default()
        },
        layers: vec![Descriptor {
            media_type: crate::evidence::envelope::BUNDLE_V03.into(),
            digest: crate::oci::digest::sha256(&bytes),
            size: bytes.len() as u64,
            ..Default::default()
        }],
        subject: None,
        annotations: Default::default(),
    };
    Some(layer_items(
        &m,
        desc,
        vec![Ok(bytes)],
        found,
        location,
        target,
        None,
        blobs,
    ))
}

/// Decodes (and verifies, with the walk's verifier) the layers of one evidence manifest.
#[allow(clippy::too_many_arguments)]
fn layer_items(
    m: &ImageManifest,
    desc: &Descriptor,
    mut fetched: Vec<Result<Vec<u8>, OciError>>,
    found: Found,
    location: &str,
    target: &str,
    describes: Option<String>,
    blobs: &Walk<'_>,
) -> Vec<EvidenceItem> {
    let artifact_type = m
        .artifact_type
        .clone()
        .or(desc.artifact_type.clone())
        .unwrap_or_else(|| m.config.media_type.clone());
    let mut out = vec![];
    for layer in m.layers.iter().take(MAX_LAYERS) {
        let ctx = Context {
            digest: layer.digest.clone(),
            manifest: Some(desc.digest.clone()),
            found,
            location: location.to_string(),
            target: Some(target.to_string()),
            describes: describes.clone(),
        };
        let blob = match fetched.remove(0) {
            Ok(b) => b,
            Err(e) => {
                out.push(EvidenceItem::problem(
                    Kind::Invalid,
                    &layer.media_type,
                    &layer.digest,
                    found,
                    location,
                    blob_problem(&e),
                ));
                continue;
            }
        };
        // A bundle stored as a referrer may have a generic layer type: the artifact type says.
        let mt = if crate::evidence::envelope::is_bundle_media_type(&artifact_type)
            && !crate::evidence::envelope::is_bundle_media_type(&layer.media_type)
        {
            artifact_type.as_str()
        } else {
            layer.media_type.as_str()
        };
        let mut items = decode_blob(&blob, mt, &ctx);
        // cosign keeps the signature in an annotation: count it for the signer column.
        let has_cosign_sig = layer
            .annotations
            .get(super::cosign::SIGNATURE_ANNOTATION)
            .is_some_and(|s| !s.is_empty());
        // This layer's own signatures, checked here: nothing is joined up later by digest.
        let checks = match blobs.verifier {
            Some(v) if has_cosign_sig || items.iter().any(|i| i.signatures > 0) => {
                Some(v.check(&Layer {
                    blob: &blob,
                    media_type: mt,
                    annotations: &layer.annotations,
                    target: describes.as_deref().unwrap_or(target),
                }))
            }
            _ => None,
        };
        for i in &mut items {
            if has_cosign_sig && i.signatures == 0 {
                i.signatures = 1;
                i.signer = Verification::unchecked();
            }
            if let Some(c) = &checks {
                i.signer = if i.signatures == 0 && !has_cosign_sig {
                    Verification::unsigned()
                } else {
                    Verification::from_checks(c.clone())
                };
            }
            if i.predicate_type.is_none() {
                i.predicate_type = layer
                    .annotations
                    .get("predicateType")
                    .or(layer.annotations.get("in-toto.io/predicate-type"))
                    .cloned();
            }
        }
        out.extend(items);
    }
    out
}

fn blob_problem(e: &OciError) -> String {
    format!("unreadable: {e}")
}
