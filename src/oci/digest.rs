//! Content digests: computing, validating and checking `sha256:<hex>` strings.

use sha2::{Digest as _, Sha256};

/// The only digest algorithm provost accepts; others are refused rather than trusted unchecked.
pub const SHA256_PREFIX: &str = "sha256:";

/// `sha256:<hex>` of the given bytes.
pub fn sha256(bytes: &[u8]) -> String {
    format!("{SHA256_PREFIX}{}", hex::encode(Sha256::digest(bytes)))
}

/// True when `digest` is `sha256:` followed by exactly 64 lowercase hex digits.
pub fn is_valid(digest: &str) -> bool {
    match digest.strip_prefix(SHA256_PREFIX) {
        Some(hex) => {
            hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }
        None => false,
    }
}

/// The 64 hex digits of a valid digest.
pub fn hex_part(digest: &str) -> Option<&str> {
    if is_valid(digest) {
        digest.strip_prefix(SHA256_PREFIX)
    } else {
        None
    }
}

/// A short form for tables: the first 12 hex digits (of anything, never a slicing panic: a
/// hostile "digest" may be short or hold multi-byte characters).
pub fn short(digest: &str) -> String {
    match digest.strip_prefix(SHA256_PREFIX) {
        Some(hex) if hex.chars().count() > 12 => hex.chars().take(12).collect(),
        _ => digest.chars().take(19).collect(),
    }
}

/// Why a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("{0:?} names no algorithm (expected sha256:<64 hex digits>)")]
    NoAlgorithm(String),
    #[error("{0:?}: provost accepts only sha256 digests")]
    UnknownAlgorithm(String),
    #[error("{0:?}: a sha256 digest has 64 lowercase hex digits")]
    BadHex(String),
}

/// A validated `sha256:<64 lowercase hex>` digest. Parsing is the only way to make one from
/// outside data, so everything holding a `Digest` can slice and print it safely.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Digest(String);

impl Digest {
    /// Parses and validates a digest string.
    pub fn parse(s: &str) -> Result<Digest, DigestError> {
        let shown: String = s.chars().take(80).collect();
        let Some((alg, _)) = s.split_once(':') else {
            return Err(DigestError::NoAlgorithm(shown));
        };
        if alg != "sha256" {
            return Err(DigestError::UnknownAlgorithm(shown));
        }
        if !is_valid(s) {
            return Err(DigestError::BadHex(shown));
        }
        Ok(Digest(s.to_string()))
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(sha256(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 64 hex digits.
    pub fn hex(&self) -> &str {
        &self.0[SHA256_PREFIX.len()..]
    }

    /// The first 12 hex digits.
    pub fn short(&self) -> &str {
        &self.hex()[..12]
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

impl AsRef<str> for Digest {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// True when `bytes` hash to `expected`.
pub fn matches(bytes: &[u8], expected: &str) -> bool {
    is_valid(expected) && sha256(bytes) == expected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_the_empty_string() {
        assert_eq!(
            sha256(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn validates_shape() {
        assert!(is_valid(&sha256(b"x")));
        assert!(!is_valid("sha256:abc"));
        assert!(!is_valid("sha512:00"));
        assert!(!is_valid(&sha256(b"x").to_uppercase()));
        assert!(!is_valid(
            "sha256:../../etc/passwd0000000000000000000000000000000000000000000000000"
        ));
    }

    #[test]
    fn hostile_digests_are_refused_and_never_panic() {
        for bad in [
            "",
            "sha256:",
            "sha256:abc",
            "sha512:00",
            "md5:x",
            "sha256:ééééééééééééééé",
            "nodigest",
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad:?}");
            let _ = short(bad);
        }
        assert_eq!(short("sha256:ééééééééééééééé").chars().count(), 12);
        let d = Digest::of(b"x");
        assert_eq!(d.short().len(), 12);
        assert_eq!(Digest::parse(d.as_str()), Ok(d.clone()));
        assert!(matches!(
            Digest::parse("sha512:00"),
            Err(DigestError::UnknownAlgorithm(_))
        ));
    }

    #[test]
    fn short_form() {
        let d = sha256(b"x");
        assert_eq!(short(&d).len(), 12);
        assert!(matches(b"x", &d));
        assert!(!matches(b"y", &d));
    }
}
