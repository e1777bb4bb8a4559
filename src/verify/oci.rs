//! Verifying what discovery finds on an image: the layers of its cosign `.sig` and `.att` tags
//! (checked one by one in `layer.rs`) and Sigstore bundles stored as referrers.

use super::layer::{check_attestation, check_signature};
pub use super::layer::{
    legacy_to_bundle, verify_with_key, BUNDLE_ANNOTATION, CERT_ANNOTATION, CHAIN_ANNOTATION,
    SIGNATURE_ANNOTATION, TIMESTAMP_ANNOTATION,
};
use super::{verify_bundle, Outcome, Subject, Trust};
use crate::evidence::discover::{cosign_tag, MAX_EVIDENCE_BLOB};
use crate::evidence::envelope;
use crate::oci::media::ImageManifest;
use crate::oci::Store;
use serde::Serialize;
use sigstore_verify::trust_root::TrustedRoot;

/// One signature or attestation layer and what checking it gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// "signature" (`.sig`) or "attestation" (`.att`).
    pub kind: String,
    /// The layer (payload or envelope) digest.
    pub digest: String,
    pub predicate_type: Option<String>,
    pub outcome: Outcome,
}

/// Verifies every layer of the cosign tag `suffix` (`sig` or `att`) of `digest`.
pub async fn verify_cosign(
    store: &impl Store,
    repo: &str,
    digest: &str,
    suffix: &str,
    trusts: &[Trust],
    root: &TrustedRoot,
) -> Result<Vec<Check>, String> {
    let tag = cosign_tag(digest, suffix);
    let m = match store.get_manifest(repo, &tag).await {
        Ok(m) => m,
        Err(e) if e.is_not_found() => return Ok(vec![]),
        Err(e) => return Err(format!("{repo}:{tag}: {e}")),
    };
    let manifest: ImageManifest =
        serde_json::from_slice(&m.bytes).map_err(|e| format!("{repo}:{tag}: {e}"))?;
    let mut out = vec![];
    let mut pending = vec![];
    for layer in manifest.layers.iter().take(64) {
        pending.push(store.get_blob(repo, &layer.digest, MAX_EVIDENCE_BLOB));
    }
    let blobs = futures::future::join_all(pending).await;
    for (layer, blob) in manifest.layers.iter().take(64).zip(blobs) {
        let blob = match blob {
            Ok(b) => b,
            Err(e) => {
                out.push(Check {
                    kind: suffix_kind(suffix),
                    digest: layer.digest.clone(),
                    predicate_type: None,
                    outcome: Outcome {
                        verified: false,
                        signer: None,
                        failures: vec![e.to_string()],
                    },
                });
                continue;
            }
        };
        let (predicate_type, outcome) = if suffix == "sig" {
            (
                None,
                check_signature(&blob, &layer.annotations, digest, trusts, root),
            )
        } else {
            check_attestation(&blob, &layer.annotations, digest, trusts, root)
        };
        out.push(Check {
            kind: suffix_kind(suffix),
            digest: layer.digest.clone(),
            predicate_type,
            outcome,
        });
    }
    Ok(out)
}

fn suffix_kind(suffix: &str) -> String {
    if suffix == "sig" {
        "signature"
    } else {
        "attestation"
    }
    .to_string()
}

/// Verifies every signature and attestation of `digest`: cosign `.sig` and `.att` layers, and
/// referrers (via the API or its tag fallback) holding DSSE envelopes or Sigstore bundles.
pub async fn verify_all(
    store: &impl Store,
    repo: &str,
    digest: &str,
    cosign_repo: Option<&str>,
    trusts: &[Trust],
    root: &TrustedRoot,
) -> (Vec<Check>, Vec<String>) {
    let crepo = cosign_repo.unwrap_or(repo);
    let (sig, att, refs) = futures::join!(
        verify_cosign(store, crepo, digest, "sig", trusts, root),
        verify_cosign(store, crepo, digest, "att", trusts, root),
        verify_referrers(store, repo, digest, trusts, root),
    );
    let mut checks = vec![];
    let mut errors = vec![];
    for r in [sig, att, refs] {
        match r {
            Ok(c) => checks.extend(c),
            Err(e) => errors.push(e),
        }
    }
    (checks, errors)
}

async fn verify_referrers(
    store: &impl Store,
    repo: &str,
    digest: &str,
    trusts: &[Trust],
    root: &TrustedRoot,
) -> Result<Vec<Check>, String> {
    use crate::oci::media::Manifest;
    let descs = match store.referrers(repo, digest, None).await {
        Ok(Some(d)) => d,
        Ok(None) => match store
            .get_manifest(repo, &crate::oci::referrers_tag(digest))
            .await
        {
            Ok(m) => match Manifest::parse(&m.bytes, &m.media_type) {
                Ok((Manifest::Index(i), _)) => i.manifests,
                _ => return Err("the referrers tag is not an index".into()),
            },
            Err(e) if e.is_not_found() => return Ok(vec![]),
            Err(e) => return Err(e.to_string()),
        },
        Err(e) => return Err(e.to_string()),
    };
    // Every referrer at once: its manifest, then its layers, then the checks.
    let mut pending = vec![];
    for d in descs.iter().take(128) {
        pending.push(check_referrer(store, repo, &d.digest, digest, trusts, root));
    }
    let out: Vec<Check> = futures::future::join_all(pending)
        .await
        .into_iter()
        .flatten()
        .collect();
    Ok(out)
}

/// Puts verification results on evidence items (matched by blob digest): "✓ signer" or
/// "✗ first reason".
pub fn apply(items: &mut [crate::evidence::EvidenceItem], checks: &[Check]) {
    for item in items.iter_mut() {
        if let Some(c) = checks.iter().find(|c| c.digest == item.digest) {
            item.signer = if c.outcome.verified {
                format!(
                    "✓ {}",
                    c.outcome
                        .signer
                        .as_ref()
                        .map(|s| s.sentence())
                        .unwrap_or_default()
                )
            } else {
                format!(
                    "✗ {}",
                    c.outcome
                        .failures
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "not verified".into())
                )
            };
        }
    }
}

/// Discovers the evidence of `digest` and verifies its signatures and attestations in one go;
/// each item's signer then says who proved it, or why nobody did.
pub async fn discover_verified(
    store: &impl Store,
    repo: &str,
    digest: &str,
    cosign_repo: Option<&str>,
    subject: Option<&crate::oci::FetchedManifest>,
    trusts: &[Trust],
    root: &TrustedRoot,
) -> crate::evidence::Discovery {
    // One read cache under both: whatever discovery and verification both need (cosign tags,
    // referrers, blobs) is fetched once, and both run at the same time.
    let cached = crate::oci::cache::ReadCache::new(store);
    let (mut d, (checks, _)) = futures::join!(
        crate::evidence::discover::discover_with(&cached, repo, digest, cosign_repo, subject),
        verify_all(&cached, repo, digest, cosign_repo, trusts, root),
    );
    apply(&mut d.items, &checks);
    d
}

async fn check_referrer(
    store: &impl Store,
    repo: &str,
    manifest_digest: &str,
    digest: &str,
    trusts: &[Trust],
    root: &TrustedRoot,
) -> Vec<Check> {
    let Ok(m) = store.get_manifest(repo, manifest_digest).await else {
        return vec![];
    };
    let Ok(manifest) = serde_json::from_slice::<ImageManifest>(&m.bytes) else {
        return vec![];
    };
    let artifact_type = manifest.artifact_type.clone().unwrap_or_default();
    let layers: Vec<&crate::oci::media::Descriptor> = manifest
        .layers
        .iter()
        .take(16)
        .filter(|l| {
            l.media_type == crate::evidence::decode::DSSE_MEDIA_TYPE
                || envelope::is_bundle_media_type(&l.media_type)
                || envelope::is_bundle_media_type(&artifact_type)
        })
        .collect();
    let mut pending = vec![];
    for l in &layers {
        pending.push(store.get_blob(repo, &l.digest, MAX_EVIDENCE_BLOB));
    }
    let blobs = futures::future::join_all(pending).await;
    let mut out = vec![];
    for (layer, blob) in layers.into_iter().zip(blobs) {
        let is_bundle = envelope::is_bundle_media_type(&layer.media_type)
            || envelope::is_bundle_media_type(&artifact_type);
        let blob = match blob {
            Ok(b) => b,
            Err(e) => {
                out.push(Check {
                    kind: "attestation".into(),
                    digest: layer.digest.clone(),
                    predicate_type: None,
                    outcome: Outcome {
                        verified: false,
                        signer: None,
                        failures: vec![e.to_string()],
                    },
                });
                continue;
            }
        };
        if is_bundle {
            let text = String::from_utf8_lossy(&blob).to_string();
            let mut failures = vec![];
            let mut won = None;
            for t in trusts {
                let o = verify_bundle(&text, &Subject::Digest(digest.to_string()), t, root);
                if o.verified {
                    won = Some(o);
                    break;
                }
                failures.extend(o.failures);
            }
            let outcome = won.unwrap_or(Outcome {
                verified: false,
                signer: None,
                failures,
            });
            // A DSSE bundle names what it attests; a message signature (or cosign's signing
            // statement) stands for an image signature.
            let predicate_type = match envelope::parse_bundle(&blob).map(|b| b.content) {
                Ok(envelope::BundleContent::Dsse(env)) => envelope::statement_from_envelope(&env)
                    .ok()
                    .map(|s| s.predicate_type)
                    .filter(|p| p != crate::evidence::decode::COSIGN_SIGN_PREDICATE),
                _ => None,
            };
            out.push(Check {
                kind: "bundle".into(),
                digest: layer.digest.clone(),
                predicate_type,
                outcome,
            });
        } else {
            // Referrer envelopes carry no certificate annotations: keys only.
            let (predicate_type, outcome) =
                check_attestation(&blob, &Default::default(), digest, trusts, root);
            out.push(Check {
                kind: "attestation".into(),
                digest: layer.digest.clone(),
                predicate_type,
                outcome,
            });
        }
    }
    out
}
