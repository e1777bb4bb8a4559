//! Verifying what discovery finds on an image: the layers of its cosign `.sig` and `.att` tags
//! (checked one by one in `layer.rs`) and Sigstore bundles stored as referrers.

use super::layer::{check_attestation, check_signature};
pub use super::layer::{
    legacy_to_bundle, verify_with_key, BUNDLE_ANNOTATION, CERT_ANNOTATION, CHAIN_ANNOTATION,
    SIGNATURE_ANNOTATION, TIMESTAMP_ANNOTATION,
};
use super::{verify_bundle, Outcome, Subject, Trust};
use crate::evidence::decode::{DSSE_MEDIA_TYPE, SIMPLE_SIGNING};
use crate::evidence::discover::{cosign_tag, MAX_EVIDENCE_BLOB};
use crate::evidence::envelope;
use crate::evidence::trust::{Layer, LayerVerifier, SignatureCheck};
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
                    outcome: Outcome::invalid(e.to_string()),
                });
                continue;
            }
        };
        let (predicate_type, outcomes) = if suffix == "sig" {
            (
                None,
                vec![check_signature(
                    &blob,
                    &layer.annotations,
                    digest,
                    trusts,
                    root,
                )],
            )
        } else {
            check_attestation(&blob, &layer.annotations, digest, trusts, root)
        };
        // One check per signature: an envelope signed twice gives two.
        for outcome in outcomes {
            out.push(Check {
                kind: suffix_kind(suffix),
                digest: layer.digest.clone(),
                predicate_type: predicate_type.clone(),
                outcome,
            });
        }
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

/// Checks layers against the trusted keys and identities as discovery reads them.
pub struct TrustVerifier<'a> {
    pub trusts: &'a [Trust],
    pub root: &'a TrustedRoot,
}

impl LayerVerifier for TrustVerifier<'_> {
    fn check(&self, l: &Layer<'_>) -> Vec<SignatureCheck> {
        let (trusts, root) = (self.trusts, self.root);
        if l.media_type == SIMPLE_SIGNING {
            return vec![check_signature(l.blob, l.annotations, l.target, trusts, root).to_check()];
        }
        if envelope::is_bundle_media_type(l.media_type) {
            return vec![check_bundle(l.blob, l.target, trusts, root).to_check()];
        }
        let dsse = l.media_type == DSSE_MEDIA_TYPE
            || serde_json::from_slice::<serde_json::Value>(l.blob)
                .is_ok_and(|v| v.get("payloadType").is_some());
        if dsse {
            let (_, outcomes) = check_attestation(l.blob, l.annotations, l.target, trusts, root);
            return outcomes.iter().map(Outcome::to_check).collect();
        }
        vec![]
    }
}

/// A Sigstore bundle over `digest`: the first trust that verifies it wins; an identity proven
/// but not trusted is kept as who signed.
pub fn check_bundle(blob: &[u8], digest: &str, trusts: &[Trust], root: &TrustedRoot) -> Outcome {
    if let Some(env) = untimed_dsse(blob) {
        // A key-signed DSSE bundle with neither a log entry nor a timestamp (what `provost
        // approve` writes without a timestamp authority, and cosign with --tlog-upload=false):
        // Sigstore verifiers want a time proof, so it is checked as the keyed DSSE envelope it
        // holds; nothing proves its time, so the key must be valid now.
        let (_, outcomes) = check_attestation(&env, &Default::default(), digest, trusts, root);
        return match outcomes.iter().find(|o| o.verified) {
            Some(o) => o.clone(),
            None => outcomes.into_iter().next().unwrap_or_else(|| {
                Outcome::invalid("the bundle's envelope has no signature".into())
            }),
        };
    }
    let text = String::from_utf8_lossy(blob).to_string();
    let mut failures = vec![];
    let mut proven_other = None;
    for t in trusts {
        let o = verify_bundle(&text, &Subject::Digest(digest.to_string()), t, root);
        if o.verified {
            return o;
        }
        if o.invalid {
            return o;
        }
        failures.extend(o.failures.iter().cloned());
        if o.signer.is_some() {
            proven_other = o.signer;
        }
    }
    if trusts.is_empty() {
        failures.push("no trusted key or identity is configured".into());
    }
    let mut o = Outcome::failed(failures);
    o.signer = proven_other;
    if o.signer.is_none() {
        o.claimed = envelope::parse_bundle(blob)
            .ok()
            .and_then(|b| b.public_key_hint)
            .map(|h| format!("public key {h}"));
    }
    o
}

/// The DSSE envelope of a bundle that has no certificate, no log entry and no timestamp.
fn untimed_dsse(blob: &[u8]) -> Option<Vec<u8>> {
    let v: serde_json::Value = serde_json::from_slice(blob).ok()?;
    let vm = &v["verificationMaterial"];
    let empty = |x: &serde_json::Value| x.as_array().is_none_or(|a| a.is_empty());
    let untimed = vm.get("publicKey").is_some()
        && empty(&vm["tlogEntries"])
        && empty(&vm["timestampVerificationData"]["rfc3161Timestamps"]);
    let env = v.get("dsseEnvelope")?;
    untimed.then(|| serde_json::to_vec(env).unwrap_or_default())
}

/// Discovers the evidence of `digest` and verifies its signatures and attestations in the same
/// walk; each item then carries the typed result of its own signatures.
pub async fn discover_verified(
    store: &impl Store,
    repo: &str,
    digest: &str,
    cosign_repo: Option<&str>,
    subject: Option<&crate::oci::FetchedManifest>,
    trusts: &[Trust],
    root: &TrustedRoot,
) -> crate::evidence::Discovery {
    let verifier = TrustVerifier { trusts, root };
    crate::evidence::discover::discover_with(
        store,
        repo,
        digest,
        cosign_repo,
        subject,
        Some(&verifier),
    )
    .await
}
