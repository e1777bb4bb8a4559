//! Where artifacts live: the `Store` trait, a remote OCI registry and a local OCI image layout.
//! Every manifest and blob read is checked against its digest before it is returned.

pub mod artifact;
pub mod auth;
pub mod budget;
pub mod cache;
pub mod copy;
pub mod digest;
pub mod disk;
pub mod error;
pub mod files;
pub mod http;
pub mod layout;
pub mod media;
pub mod pack;
pub mod reference;
pub mod remote;
pub mod source;

pub use digest::{Digest, DigestError};
pub use error::{OciError, Result};
pub use reference::ArtifactRef;
pub use source::Source;

use std::future::Future;

/// Manifests larger than this are refused before they are parsed.
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// Configs and other small JSON blobs read whole into memory are capped at this size.
pub const MAX_JSON_BLOB_BYTES: u64 = 4 * 1024 * 1024;

/// A manifest read from a store, already checked against its digest.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub digest: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// Read and write access to artifacts by repository, tag and digest.
pub trait Store: Send + Sync {
    /// A name for messages: the registry host or the store's name.
    fn name(&self) -> &str;

    /// Every repository, sorted.
    fn list_repositories(&self) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// Every tag of a repository, sorted.
    fn list_tags(&self, repo: &str) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// The digest a tag points at, without reading the manifest body.
    fn resolve(&self, repo: &str, tag: &str) -> impl Future<Output = Result<String>> + Send;

    /// `resolve`, asked of the registry itself even where a cache holds a pointer (a tag moved
    /// a moment ago is seen). Stores without a pointer cache resolve live already.
    fn resolve_live(&self, repo: &str, tag: &str) -> impl Future<Output = Result<String>> + Send {
        self.resolve(repo, tag)
    }

    /// A manifest by tag or digest, checked against its digest (and against the digest asked for).
    fn get_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> impl Future<Output = Result<FetchedManifest>> + Send;

    /// A blob, checked against its digest; refused when larger than `limit` bytes.
    fn get_blob(
        &self,
        repo: &str,
        digest: &str,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<u8>>> + Send;

    /// Store a blob; returns its digest.
    fn put_blob(&self, repo: &str, bytes: &[u8]) -> impl Future<Output = Result<String>> + Send;

    /// Store a manifest under a tag, or untagged when `tag` is None; returns its digest.
    fn put_manifest(
        &self,
        repo: &str,
        tag: Option<&str>,
        media_type: &str,
        bytes: &[u8],
    ) -> impl Future<Output = Result<String>> + Send;

    /// Referrers of `digest` from the OCI 1.1 referrers API, filtered by artifact type; `None`
    /// when the store has no such API and the `sha256-<hex>` tag schema applies instead.
    fn referrers(
        &self,
        repo: &str,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> impl Future<Output = Result<Option<Vec<media::Descriptor>>>> + Send;

    /// Delete a manifest by digest (and every tag pointing at it).
    fn delete_manifest(&self, repo: &str, digest: &str) -> impl Future<Output = Result<()>> + Send;

    /// Whether `repo` already holds blob `digest` (false when the store cannot tell cheaply).
    fn has_blob(&self, repo: &str, digest: &str) -> impl Future<Output = Result<bool>> + Send {
        let _ = (repo, digest);
        async { Ok(false) }
    }

    /// Makes blob `digest` of `from_repo` (in this same store) part of `repo` without moving
    /// its bytes (a cross-repository mount); false when the store did not.
    fn mount_blob(
        &self,
        repo: &str,
        from_repo: &str,
        digest: &str,
    ) -> impl Future<Output = Result<bool>> + Send {
        let _ = (repo, from_repo, digest);
        async { Ok(false) }
    }

    /// A blob as a stream of chunks, refused past `limit` bytes; whoever consumes it checks the
    /// digest. By default the blob is read whole first.
    fn open_blob(
        &self,
        repo: &str,
        digest: &str,
        limit: u64,
    ) -> impl Future<Output = Result<BlobStream>> + Send {
        async move {
            let bytes = self.get_blob(repo, digest, limit).await?;
            let one: BlobStream = Box::pin(futures::stream::once(async {
                Ok(bytes::Bytes::from(bytes))
            }));
            Ok(one)
        }
    }

    /// Stores the blob `digest` of `size` bytes read from `chunks`, refusing content whose
    /// digest differs. By default the chunks are gathered and stored whole.
    fn put_blob_stream(
        &self,
        repo: &str,
        digest: &str,
        size: u64,
        chunks: BlobStream,
    ) -> impl Future<Output = Result<()>> + Send {
        async move {
            use futures::StreamExt;
            let mut chunks = chunks;
            let mut all = Vec::with_capacity(size.min(copy::MAX_COPY_BLOB) as usize);
            while let Some(c) = chunks.next().await {
                all.extend_from_slice(&c?);
                if all.len() as u64 > size {
                    break;
                }
            }
            let actual = digest::sha256(&all);
            if actual != digest {
                return Err(OciError::DigestMismatch {
                    digest: digest.to_string(),
                    actual,
                    source_name: self.name().to_string(),
                });
            }
            self.put_blob(repo, &all).await.map(|_| ())
        }
    }
}

/// A blob read chunk by chunk.
pub type BlobStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<bytes::Bytes>> + Send + 'static>>;

/// True for tags that hold evidence rather than images: the referrers tag schema's
/// `sha256-<hex>` and cosign's `sha256-<hex>.sig`, `.att` and `.sbom`.
pub fn is_evidence_tag(tag: &str) -> bool {
    let Some(rest) = tag.strip_prefix("sha256-") else {
        return false;
    };
    let hex = rest.split('.').next().unwrap_or("");
    let suffix = &rest[hex.len()..];
    hex.len() == 64
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && matches!(suffix, "" | ".sig" | ".att" | ".sbom")
}

/// Checks a manifest reference before it is sent anywhere: a tag by the distribution grammar,
/// or a valid digest. A string that looks like a digest but is not one is refused, never
/// fetched as a tag.
pub(crate) fn check_reference(reference: &str) -> Result<()> {
    if reference.contains(':') {
        Digest::parse(reference)
            .map(|_| ())
            .map_err(|_| OciError::InvalidDigest(reference.chars().take(80).collect()))
    } else if reference::valid_tag(reference) {
        Ok(())
    } else {
        Err(OciError::InvalidReference {
            reference: reference.chars().take(80).collect(),
            reason: "a tag is 1-128 of [A-Za-z0-9_.-], not starting with . or -".into(),
        })
    }
}

/// The referrers tag schema's tag for a digest: `sha256-<hex>`.
pub fn referrers_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

/// Checks fetched manifest bytes: size, digest, and the digest that was asked for.
pub(crate) fn check_manifest(
    source_name: &str,
    reference: &str,
    bytes: &[u8],
    claimed: Option<&str>,
) -> Result<String> {
    let actual = digest::sha256(bytes);
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(OciError::TooLarge {
            what: "manifest",
            digest: reference.to_string(),
            size: bytes.len() as u64,
            limit: MAX_MANIFEST_BYTES,
            source_name: source_name.to_string(),
        });
    }
    // Fail closed: a digest reference or a registry-claimed digest must match the bytes.
    for expected in [Some(reference), claimed].into_iter().flatten() {
        if expected.starts_with("sha256:") && expected != actual {
            return Err(OciError::DigestMismatch {
                digest: expected.to_string(),
                actual,
                source_name: source_name.to_string(),
            });
        }
    }
    Ok(actual)
}

#[cfg(test)]
mod tests {
    #[test]
    fn what_looks_like_a_digest_must_be_one() {
        assert!(super::check_reference("prod").is_ok());
        assert!(super::check_reference(&super::digest::sha256(b"x")).is_ok());
        for bad in ["sha256:abc", "sha512:00", "md5:x", "sha256:é", "-x", ""] {
            assert!(super::check_reference(bad).is_err(), "{bad:?}");
        }
    }
}
