//! Writing release records. A record is an in-toto Statement v1 about the image digest (and,
//! for a quarantine of an index, its children), signed once as a DSSE envelope inside a
//! Sigstore bundle v0.3 — what `cosign attest --new-bundle-format` writes — and stored as an
//! OCI 1.1 referrer manifest: first linked into its chain in the audit repository (the head
//! tag moves compare-and-swap, relinking on a race), then attached to the digest with the same
//! bytes, so the record's digest is the same in both places.

use super::chain;
use super::ReleaseError;
use crate::evidence::attest;
use crate::evidence::envelope::{Statement, Subject, BUNDLE_V03};
use crate::evidence::record::Record;
use crate::oci::media::{self, Descriptor, ImageManifest};
use crate::oci::Store;
use base64::Engine as _;
use p256::ecdsa::SigningKey;
use std::collections::BTreeMap;

/// The annotation cosign v3 puts on bundle referrers: the predicate type inside.
pub const PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
/// The annotation cosign v3 puts on bundle referrers: what the bundle holds.
pub const CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";

/// What a record is about and what it says.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The image's repository (the statement's subject name).
    pub repository: String,
    /// The image digest, and its manifest's media type and size (the referrer's subject).
    pub subject: Descriptor,
    /// Platform manifests a quarantine of an index also covers.
    pub children: Vec<Descriptor>,
    pub record: Record,
}

impl Draft {
    /// The statement that is signed.
    pub fn statement(&self) -> Statement {
        let subject = |d: &Descriptor| {
            let mut digest = BTreeMap::new();
            digest.insert(
                "sha256".to_string(),
                d.digest.trim_start_matches("sha256:").to_string(),
            );
            Subject {
                name: self.repository.clone(),
                digest,
            }
        };
        Statement {
            statement_type: "https://in-toto.io/Statement/v1".into(),
            subject: std::iter::once(&self.subject)
                .chain(&self.children)
                .map(subject)
                .collect(),
            predicate_type: self.record.predicate_type().into(),
            predicate: self.record.predicate(),
        }
    }
}

/// How a record is signed.
pub enum Signing<'a> {
    /// A local key (cosign key format), optionally with an RFC 3161 timestamp authority and
    /// a Rekor log the record is also entered in.
    Key {
        key: &'a SigningKey,
        timestamp_url: Option<&'a str>,
        rekor_url: Option<&'a str>,
    },
    /// Keyless: a Fulcio certificate for the OIDC identity in `token`, logged in Rekor.
    Keyless {
        token: &'a zeroize::Zeroizing<String>,
        fulcio_url: &'a str,
        rekor_url: &'a str,
    },
}

/// Signs `st` into a Sigstore bundle v0.3 (DSSE, one signature, public-key hint, and an RFC
/// 3161 timestamp over the signature when an authority is given).
pub async fn sign(st: &Statement, signing: &Signing<'_>) -> Result<Vec<u8>, ReleaseError> {
    match signing {
        Signing::Keyless {
            token,
            fulcio_url,
            rekor_url,
        } => super::keyless::sign(st, token, fulcio_url, rekor_url).await,
        Signing::Key {
            key,
            timestamp_url,
            rekor_url,
        } => {
            let env = attest::sign_statement(st, key);
            let b64 = base64::engine::general_purpose::STANDARD;
            let mut material = serde_json::json!({
                "publicKey": {"hint": attest::key_id(key)},
                "tlogEntries": [],
            });
            if let Some(url) = timestamp_url {
                let sig = env
                    .signatures
                    .first()
                    .and_then(|s| crate::evidence::envelope::decode_b64(&s.sig).ok())
                    .unwrap_or_default();
                let ts = super::sign::timestamp(url, &sig).await?;
                material["timestampVerificationData"] =
                    crate::evidence::envelope::timestamp_data(&[b64.encode(ts)]);
            }
            if let Some(rekor) = rekor_url {
                let public =
                    crate::verify::keys::public_pem(key).map_err(|e| ReleaseError::Signing {
                        digest: String::new(),
                        reason: e.to_string(),
                    })?;
                let entry = super::keyless::log_dsse(rekor, &env, &public).await?;
                material["tlogEntries"] = serde_json::json!([entry]);
            }
            let bundle = serde_json::json!({
                "mediaType": BUNDLE_V03,
                "verificationMaterial": material,
                "dsseEnvelope": env,
            });
            serde_json::to_vec(&bundle).map_err(|e| ReleaseError::Signing {
                digest: String::new(),
                reason: e.to_string(),
            })
        }
    }
}

/// The empty config every referrer artifact uses.
const EMPTY: &[u8] = b"{}";

/// The referrer manifest holding `bundle`, about `subject`.
pub fn manifest_for(subject: &Descriptor, bundle: &[u8], predicate_type: &str) -> Vec<u8> {
    let m = ImageManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        artifact_type: Some(BUNDLE_V03.into()),
        config: Descriptor {
            media_type: media::OCI_EMPTY.into(),
            digest: crate::oci::digest::sha256(EMPTY),
            size: EMPTY.len() as u64,
            ..Default::default()
        },
        layers: vec![Descriptor {
            media_type: BUNDLE_V03.into(),
            digest: crate::oci::digest::sha256(bundle),
            size: bundle.len() as u64,
            ..Default::default()
        }],
        subject: Some(Descriptor {
            media_type: subject.media_type.clone(),
            digest: subject.digest.clone(),
            size: subject.size,
            ..Default::default()
        }),
        annotations: annotations(predicate_type, bundle),
    };
    serde_json::to_vec(&m).unwrap_or_default()
}

fn annotations(predicate_type: &str, bundle: &[u8]) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    a.insert(PREDICATE_ANNOTATION.to_string(), predicate_type.to_string());
    a.insert(CONTENT_ANNOTATION.to_string(), "dsse-envelope".to_string());
    // The bundle again, so the referrers listing alone carries the record (see evidence::
    // record::BUNDLE_ANNOTATION); it is verified by its signature wherever it is read.
    if bundle.len() <= crate::evidence::record::MAX_INLINE_BUNDLE {
        if let Ok(text) = std::str::from_utf8(bundle) {
            a.insert(
                crate::evidence::record::BUNDLE_ANNOTATION.to_string(),
                text.to_string(),
            );
        }
    }
    a
}

/// Pushes the referrer `manifest` (holding `bundle`) about `subject` to `repo`, listed in the
/// subject's fallback referrers index. Returns its digest.
async fn attach(
    store: &impl Store,
    repo: &str,
    subject: &str,
    manifest: &[u8],
    bundle: &[u8],
    predicate_type: &str,
) -> crate::oci::Result<String> {
    store.put_blob(repo, EMPTY).await?;
    store.put_blob(repo, bundle).await?;
    let d = store
        .put_manifest(repo, None, media::OCI_MANIFEST, manifest)
        .await?;
    let entry = Descriptor {
        media_type: media::OCI_MANIFEST.into(),
        digest: d.clone(),
        size: manifest.len() as u64,
        artifact_type: Some(BUNDLE_V03.into()),
        annotations: annotations(predicate_type, bundle),
        ..Default::default()
    };
    attest::add_to_fallback_index(store, repo, subject, entry).await?;
    Ok(d)
}

/// What writing a record did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Written {
    /// The record's digest (its referrer manifest, the same in both repositories).
    pub record: String,
    pub chain: String,
    /// The chain's previous head, which the record names.
    pub previous: Option<String>,
    /// Times the head moved under us and the record was relinked and signed again.
    pub relinked: usize,
}

/// Races lost before giving up.
const MAX_RELINK: usize = 8;

/// `write_to` where the ledger and the image are in one store.
pub async fn write(
    store: &impl Store,
    audit_repo: &str,
    draft: &Draft,
    signing: &Signing<'_>,
) -> Result<Written, ReleaseError> {
    write_to(store, audit_repo, store, draft, signing).await
}

/// Links `draft` into its chain in the ledger (`audit_repo` of `store`) and attaches it to the
/// digest in the image's repository of `images`. The chain is what counts: a kill between
/// the two steps leaves a counted record that is not yet a referrer (the copy shows it once
/// the writer runs again or a promotion copies it), never a referrer outside the chain.
pub async fn write_to(
    store: &impl Store,
    audit_repo: &str,
    images: &impl Store,
    draft: &Draft,
    signing: &Signing<'_>,
) -> Result<Written, ReleaseError> {
    let chain_name = draft.record.link().chain.clone();
    chain::check_chain_name(&chain_name).map_err(|reason| ReleaseError::Signing {
        digest: draft.subject.digest.clone(),
        reason,
    })?;
    let predicate_type = draft.record.predicate_type();
    let mut head = chain::head(store, audit_repo, &chain_name).await?;
    let mut relinked = 0;
    loop {
        let mut d = draft.clone();
        set_previous(&mut d.record, head.clone());
        let previous = head.clone();
        let bundle = sign(&d.statement(), signing).await?;
        let manifest = manifest_for(&d.subject, &bundle, predicate_type);
        store.put_blob(audit_repo, EMPTY).await?;
        store.put_blob(audit_repo, &bundle).await?;
        let rec = store
            .put_manifest(audit_repo, None, media::OCI_MANIFEST, &manifest)
            .await?;
        crate::failpoint::hit("record-pushed");
        // Compare-and-swap by re-reading: the head must still be what the record names.
        let before = chain::head(store, audit_repo, &chain_name).await?;
        let moved = if before == previous {
            let put = store
                .put_manifest(
                    audit_repo,
                    Some(&chain::head_tag(&chain_name)),
                    media::OCI_MANIFEST,
                    &manifest,
                )
                .await;
            match put {
                Ok(_) => {}
                // A registry that fails a tag write under contention (distribution answers
                // 500 when two writers race): whether it took is read back below.
                Err(crate::oci::OciError::Registry { status, .. }) if status >= 500 => {}
                Err(e) => return Err(e.into()),
            }
            crate::failpoint::hit("head-moved");
            let after = chain::head(store, audit_repo, &chain_name).await?;
            if after.as_deref() == Some(rec.as_str()) {
                None
            } else {
                Some(after)
            }
        } else {
            Some(before)
        };
        if let Some(now) = moved {
            relinked += 1;
            if relinked > MAX_RELINK {
                return Err(ReleaseError::Signing {
                    digest: draft.subject.digest.clone(),
                    reason: format!(
                        "the {chain_name} chain's head kept moving ({MAX_RELINK} races lost); nothing was attached, try again"
                    ),
                });
            }
            head = now;
            continue;
        }
        // Confirmed on the chain: tag it so verification sees every record, forks included.
        store
            .put_manifest(
                audit_repo,
                Some(&chain::record_tag(&chain_name, &rec)),
                media::OCI_MANIFEST,
                &manifest,
            )
            .await?;
        crate::failpoint::hit("record-linked");
        let attached = attach(
            images,
            &d.repository,
            &d.subject.digest,
            &manifest,
            &bundle,
            predicate_type,
        )
        .await?;
        debug_assert_eq!(attached, rec);
        for child in &d.children {
            let m = manifest_for(child, &bundle, predicate_type);
            attach(
                images,
                &d.repository,
                &child.digest,
                &m,
                &bundle,
                predicate_type,
            )
            .await?;
        }
        return Ok(Written {
            record: rec,
            chain: chain_name,
            previous,
            relinked,
        });
    }
}

fn set_previous(r: &mut Record, previous: Option<String>) {
    r.link_mut().previous = previous;
}

/// The descriptor of the manifest `digest` in `repo`, and for an index its platform manifests
/// (attestation manifests left out): what a record's subjects are.
pub async fn subject_of(
    store: &impl Store,
    repo: &str,
    digest: &str,
) -> crate::oci::Result<(Descriptor, Vec<Descriptor>)> {
    let m = store.get_manifest(repo, digest).await?;
    let subject = Descriptor {
        media_type: m.media_type.clone(),
        digest: m.digest.clone(),
        size: m.bytes.len() as u64,
        ..Default::default()
    };
    let children = match media::Manifest::parse(&m.bytes, &m.media_type) {
        Ok((media::Manifest::Index(idx), _)) => idx
            .manifests
            .into_iter()
            .filter(|d| {
                d.annotations
                    .get("vnd.docker.reference.type")
                    .map(String::as_str)
                    != Some("attestation-manifest")
            })
            .map(|d| Descriptor {
                media_type: d.media_type,
                digest: d.digest,
                size: d.size,
                ..Default::default()
            })
            .collect(),
        _ => vec![],
    };
    Ok((subject, children))
}

/// The policy reference an approval names: where the policy came from and its SHA-256.
pub fn policy_ref(origin: &str, text: &[u8]) -> crate::evidence::record::PolicyRef {
    let mut digest = BTreeMap::new();
    digest.insert(
        "sha256".to_string(),
        crate::oci::digest::sha256(text)
            .trim_start_matches("sha256:")
            .to_string(),
    );
    crate::evidence::record::PolicyRef {
        uri: origin.to_string(),
        digest,
    }
}
