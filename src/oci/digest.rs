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

/// A short form for tables: the first 12 hex digits.
pub fn short(digest: &str) -> String {
    match digest.strip_prefix(SHA256_PREFIX) {
        Some(hex) if hex.len() > 12 => hex[..12].to_string(),
        _ => digest.chars().take(19).collect(),
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
    fn short_form() {
        let d = sha256(b"x");
        assert_eq!(short(&d).len(), 12);
        assert!(matches(b"x", &d));
        assert!(!matches(b"y", &d));
    }
}
