//! What is said about a digest: discovery (referrers API and its tag fallback, cosign tags,
//! BuildKit attestation manifests, Sigstore bundles) and decoding (DSSE, in-toto, SLSA,
//! SPDX, CycloneDX) into `EvidenceItem`s.

pub mod attest;
pub mod cosign;
pub mod decode;
pub mod discover;
pub mod envelope;
pub mod provenance;
pub mod record;
pub mod sbom;
pub mod trail;
pub mod trust;

pub use decode::{decode_blob, decode_file};
pub use discover::{discover, Discovery};
pub use provenance::Provenance;
pub use sbom::SbomSummary;
pub use trust::{Signer, State, Verification};

use serde::Serialize;

/// A document that is not the evidence it claims to be, by what failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// Not a DSSE envelope, or its payload is not an in-toto statement.
    #[error("{0}")]
    Envelope(String),
    /// Not an in-toto statement.
    #[error("{0}")]
    Statement(String),
    /// Not a Sigstore bundle provost can read.
    #[error("{0}")]
    Bundle(String),
    /// Provenance whose predicate does not decode.
    #[error("{0}")]
    Provenance(String),
}

/// Where an item was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Found {
    /// The OCI 1.1 referrers API.
    ReferrersApi,
    /// The referrers tag schema (`sha256-<hex>` index).
    ReferrersTag,
    /// cosign's `sha256-<hex>.sig`, `.att` or `.sbom` tags.
    CosignTag,
    /// A BuildKit attestation manifest inside an image index.
    BuildxIndex,
    /// A local file.
    File,
}

impl Found {
    /// Words for lists.
    pub fn describe(self) -> &'static str {
        match self {
            Found::ReferrersApi => "referrers API",
            Found::ReferrersTag => "referrers tag",
            Found::CosignTag => "cosign tag",
            Found::BuildxIndex => "buildx index",
            Found::File => "file",
        }
    }
}

/// What kind of evidence an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Provenance,
    Sbom,
    Signature,
    Attestation,
    /// A release record (approval, quarantine): see `record`.
    Record,
    Unsupported,
    Invalid,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Provenance => "provenance",
            Kind::Sbom => "SBOM",
            Kind::Signature => "signature",
            Kind::Attestation => "attestation",
            Kind::Record => "record",
            Kind::Unsupported => "unsupported",
            Kind::Invalid => "invalid",
        }
    }
}

/// Whether an item's statement is about the artifact it was found for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "binding", content = "subjects")]
pub enum Binding {
    /// A subject (or the signed digest) is the artifact.
    Matches,
    /// It describes another artifact: never shown as this digest's evidence.
    DescribesOther(Vec<String>),
    /// Nothing to bind (a raw SBOM document, or a local file read without an artifact).
    NotApplicable,
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceItem {
    pub kind: Kind,
    pub predicate_type: Option<String>,
    pub media_type: String,
    /// The digest of the blob (layer) that holds the item.
    pub digest: String,
    /// The manifest the blob belongs to, when it came from a registry.
    pub manifest: Option<String>,
    pub found: Found,
    /// Where exactly: a tag, `referrers of …`, or a file name.
    pub location: String,
    /// The digest the item was attached for (a platform manifest for buildx attestations).
    pub describes: Option<String>,
    #[serde(flatten)]
    pub binding: Binding,
    /// Its signatures, each checked on its own, and the state they give the item.
    pub signer: Verification,
    pub signatures: usize,
    pub provenance: Option<Provenance>,
    pub sbom: Option<SbomSummary>,
    /// A release record's decoded predicate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<record::Record>,
    pub problem: Option<String>,
    /// The decoded document (statement, SBOM, payload) for the raw view.
    #[serde(skip)]
    pub raw: Option<serde_json::Value>,
}

impl EvidenceItem {
    /// An item for something that could not be read or decoded.
    pub fn problem(
        kind: Kind,
        media_type: &str,
        digest: &str,
        found: Found,
        location: &str,
        problem: String,
    ) -> EvidenceItem {
        EvidenceItem {
            kind,
            predicate_type: None,
            media_type: media_type.to_string(),
            digest: digest.to_string(),
            manifest: None,
            found,
            location: location.to_string(),
            describes: None,
            binding: Binding::NotApplicable,
            signer: Verification::unchecked(),
            signatures: 0,
            provenance: None,
            sbom: None,
            record: None,
            problem: Some(problem),
            raw: None,
        }
    }

    /// True when this item may be rendered as the artifact's own provenance or SBOM.
    pub fn usable(&self) -> bool {
        self.problem.is_none() && !matches!(self.binding, Binding::DescribesOther(_))
    }
}

/// The provenance items that are about the artifact, verified or not (for display).
pub fn provenance_of(items: &[EvidenceItem]) -> Vec<&EvidenceItem> {
    items
        .iter()
        .filter(|i| i.kind == Kind::Provenance && i.usable() && i.provenance.is_some())
        .collect()
}

/// The SBOMs that are about the artifact (or raw documents attached to it), verified or not.
pub fn sboms_of(items: &[EvidenceItem]) -> Vec<&EvidenceItem> {
    items
        .iter()
        .filter(|i| i.kind == Kind::Sbom && i.usable() && i.sbom.is_some())
        .collect()
}

/// The distinct trusted signers of `items`, in words, sorted.
pub fn trusted_signers<'a>(items: impl IntoIterator<Item = &'a EvidenceItem>) -> Vec<String> {
    let mut signers: Vec<String> = items
        .into_iter()
        .flat_map(|i| i.signer.verified_signers())
        .map(|s| s.sentence())
        .collect();
    signers.sort();
    signers.dedup();
    signers
}

/// Provenance a trusted signer vouches for that names this digest: the only provenance rules
/// may read.
pub fn verified_provenance(items: &[EvidenceItem]) -> Vec<&EvidenceItem> {
    provenance_of(items)
        .into_iter()
        .filter(|i| i.binding == Binding::Matches && i.signer.is_verified())
        .collect()
}

/// SBOMs a trusted signer vouches for: the only ones that can show a package is absent.
pub fn verified_sboms(items: &[EvidenceItem]) -> Vec<&EvidenceItem> {
    sboms_of(items)
        .into_iter()
        .filter(|i| i.binding == Binding::Matches && i.signer.is_verified())
        .collect()
}
