//! The errors a store can report.

use thiserror::Error;

/// What went wrong reading from or writing to a store.
#[derive(Debug, Error)]
pub enum OciError {
    #[error("digest mismatch for {digest} from {source_name}: content hashes to {actual}")]
    DigestMismatch {
        digest: String,
        actual: String,
        source_name: String,
    },
    #[error("{what} {digest} from {source_name} is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        what: &'static str,
        digest: String,
        size: u64,
        limit: u64,
        source_name: String,
    },
    #[error("{what} not found in {source_name}: {name}")]
    NotFound {
        what: &'static str,
        name: String,
        source_name: String,
    },
    #[error("invalid digest {0:?}: provost accepts only sha256:<64 hex digits>")]
    InvalidDigest(String),
    #[error("invalid reference {reference:?}: {reason}")]
    InvalidReference { reference: String, reason: String },
    #[error("{source_name} denied access to {name}: {reason}")]
    Unauthorized {
        source_name: String,
        name: String,
        reason: String,
    },
    #[error("{source_name} answered {status} for {url}: {body}")]
    Registry {
        source_name: String,
        status: u16,
        url: String,
        body: String,
    },
    #[error("cannot reach {source_name}: {reason}")]
    Transport { source_name: String, reason: String },
    /// The answer began and broke off (a reset, a short body, a body past its deadline).
    #[error("{source_name} broke off its answer: {reason}")]
    Interrupted { source_name: String, reason: String },
    #[error("malformed {what} {name} from {source_name}: {reason}")]
    Malformed {
        what: &'static str,
        name: String,
        source_name: String,
        reason: String,
    },
    #[error("credentials for {registry}: {reason}")]
    Credentials { registry: String, reason: String },
    #[error("layout {path}: {reason}")]
    Layout { path: String, reason: String },
    #[error("i/o on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl OciError {
    /// True for failures that mean the content itself cannot be trusted.
    pub fn is_integrity(&self) -> bool {
        matches!(
            self,
            OciError::DigestMismatch { .. } | OciError::TooLarge { .. }
        )
    }

    /// True when the thing asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, OciError::NotFound { .. })
    }

    pub(crate) fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        OciError::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

pub type Result<T, E = OciError> = std::result::Result<T, E>;
