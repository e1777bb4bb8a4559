//! `ArtifactRef`: where an artifact lives, and parsing the forms users type.

use super::digest;
use super::error::{OciError, Result};
use serde::Serialize;

/// A registry (or store), repository, optional tag and optional digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactRef {
    /// Registry host[:port], or a store name; empty for the default store.
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ArtifactRef {
    /// The reference a registry or layout resolves: the digest when known, else the tag.
    pub fn reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The same artifact pinned to `digest`.
    pub fn pinned(&self, digest: &str) -> ArtifactRef {
        ArtifactRef {
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }

    /// Parse `[registry/]repo[:tag][@sha256:…]`. The first path component is a registry when it
    /// holds a `.` or `:` or is `localhost` (the docker convention), or when `is_source` says
    /// it names a configured source.
    pub fn parse(input: &str, is_source: impl Fn(&str) -> bool) -> Result<ArtifactRef> {
        let bad = |reason: &str| OciError::InvalidReference {
            reference: input.to_string(),
            reason: reason.to_string(),
        };
        if input.is_empty() {
            return Err(bad("empty"));
        }
        if input.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("contains whitespace or control characters"));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((r, d)) => {
                if !digest::is_valid(d) {
                    return Err(bad(
                        "the digest must be sha256: followed by 64 lowercase hex digits",
                    ));
                }
                (r, Some(d.to_string()))
            }
            None => (input, None),
        };
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i + 1..].contains('/') => {
                (&rest[..i], Some(rest[i + 1..].to_string()))
            }
            _ => (rest, None),
        };
        if let Some(t) = &tag {
            if !valid_tag(t) {
                return Err(bad(
                    "a tag is 1-128 of [A-Za-z0-9_.-], not starting with . or -",
                ));
            }
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, repo))
                if first.contains('.')
                    || first.contains(':')
                    || first == "localhost"
                    || is_source(first) =>
            {
                (first.to_string(), repo.to_string())
            }
            _ => (String::new(), name.to_string()),
        };
        if !valid_repository(&repository) {
            return Err(bad(
                "a repository is lowercase [a-z0-9] components separated by / and [._-]",
            ));
        }
        Ok(ArtifactRef {
            registry,
            repository,
            tag,
            digest,
        })
    }
}

impl std::fmt::Display for ArtifactRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.registry.is_empty() {
            write!(f, "{}/", self.registry)?;
        }
        write!(f, "{}", self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// The distribution spec's tag grammar: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// The distribution spec's repository grammar, component by component.
pub fn valid_repository(repo: &str) -> bool {
    !repo.is_empty()
        && repo.len() <= 255
        && repo.split('/').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_lowercase() | b[0].is_ascii_digit()
                && b[b.len() - 1].is_ascii_lowercase() | b[b.len() - 1].is_ascii_digit()
                && b.iter().all(|ch| {
                    ch.is_ascii_lowercase()
                        || ch.is_ascii_digit()
                        || matches!(ch, b'.' | b'_' | b'-')
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ArtifactRef> {
        ArtifactRef::parse(s, |n| n == "demo")
    }

    #[test]
    fn parses_registry_forms() {
        let r = parse("127.0.0.1:5000/acme/api:1.2").expect("valid");
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "acme/api");
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        let d = digest::sha256(b"x");
        let r = parse(&format!("ghcr.io/acme/api@{d}")).expect("valid");
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.tag, None);
        assert_eq!(r.to_string(), format!("ghcr.io/acme/api@{d}"));
    }

    #[test]
    fn store_relative_and_source_names() {
        let r = parse("acme/api:prod").expect("valid");
        assert_eq!(r.registry, "");
        assert_eq!(r.repository, "acme/api");
        let r = parse("demo/acme/api").expect("valid");
        assert_eq!(r.registry, "demo");
        assert_eq!(r.reference(), "latest");
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse("").is_err());
        assert!(parse("Acme/API:1").is_err());
        assert!(parse("acme/api@sha256:1234").is_err());
        assert!(parse("acme/api:-bad").is_err());
        assert!(parse("acme/api:\u{1b}[31m").is_err());
        assert!(parse("acme//api").is_err());
    }
}
