//! Acting on a digest: signing and attesting, and release records (approvals, quarantines)
//! linked into audit chains (promotion and rollback come later). Every write goes through the `Store` trait, so layouts and registries behave alike.

pub mod act;
pub mod chain;
pub mod keyless;
pub mod promote;
pub mod record;
pub mod sign;
pub mod transfer;

/// The repository audit chains live in, unless `audit_repository` says otherwise.
pub const AUDIT_REPOSITORY: &str = "provost-audit";

/// What can go wrong acting on a digest, beyond the store's own errors.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// The timestamp authority did not give a valid timestamp.
    #[error("timestamp authority {url}: {reason}")]
    Timestamp { url: String, reason: String },
    /// The signature or bundle could not be made.
    #[error("signing {digest}: {reason}")]
    Signing { digest: String, reason: String },
    #[error(transparent)]
    Store(#[from] crate::oci::OciError),
}
