//! cosign's wire constants: the annotations its signature and attestation layers carry. They
//! live here, with the evidence that carries them, so both `verify` (which checks them) and
//! `release` (which writes them) depend down on `evidence`, not on each other.

/// The base64 signature on a `.sig` / `.att` layer.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The PEM signing certificate of a keyless signature.
pub const CERT_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The PEM chain above that certificate.
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// The Rekor bundle (entry and signed entry timestamp).
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// An RFC 3161 timestamp over the signature: `{"SignedRFC3161Timestamp": base64 DER}`.
pub const TIMESTAMP_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";
