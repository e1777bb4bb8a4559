//! What can go wrong setting verification up (a failed verification is an `Outcome` with every
//! failed check, not an error).

/// A verification input that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A trusted root that cannot be read or parsed.
    #[error("{0}")]
    TrustedRoot(String),
    /// An identity or issuer pattern that does not compile.
    #[error("bad regular expression {pattern:?}: {reason}")]
    Pattern { pattern: String, reason: String },
    /// A key that cannot be read, decrypted or encoded.
    #[error("{0}")]
    Key(String),
    /// No passphrase could be had.
    #[error("{0}")]
    Passphrase(String),
}
