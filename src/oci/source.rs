//! `Source`: one configured place artifacts live, either a registry or a layout directory.

use super::error::Result;
use super::layout::LayoutStore;
use super::remote::RemoteStore;
use super::{FetchedManifest, Store};

/// A registry or a layout, behind one `Store` implementation.
#[derive(Debug)]
pub enum Source {
    Layout(LayoutStore),
    Remote(Box<RemoteStore>),
}

impl Source {
    /// "layout" or "registry".
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Layout(_) => "layout",
            Source::Remote(_) => "registry",
        }
    }

    /// Where it is: a directory path or a registry URL.
    pub fn location(&self) -> String {
        match self {
            Source::Layout(l) => l.root().display().to_string(),
            Source::Remote(r) => r.name().to_string(),
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Source::Layout($s) => $e,
            Source::Remote($s) => $e,
        }
    };
}

impl Store for Source {
    fn name(&self) -> &str {
        dispatch!(self, s => s.name())
    }
    async fn list_repositories(&self) -> Result<Vec<String>> {
        dispatch!(self, s => s.list_repositories().await)
    }
    async fn list_tags(&self, repo: &str) -> Result<Vec<String>> {
        dispatch!(self, s => s.list_tags(repo).await)
    }
    async fn resolve(&self, repo: &str, tag: &str) -> Result<String> {
        dispatch!(self, s => s.resolve(repo, tag).await)
    }
    async fn resolve_live(&self, repo: &str, tag: &str) -> Result<String> {
        dispatch!(self, s => s.resolve_live(repo, tag).await)
    }
    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<FetchedManifest> {
        dispatch!(self, s => s.get_manifest(repo, reference).await)
    }
    async fn get_blob(&self, repo: &str, digest: &str, limit: u64) -> Result<Vec<u8>> {
        dispatch!(self, s => s.get_blob(repo, digest, limit).await)
    }
    async fn put_blob(&self, repo: &str, bytes: &[u8]) -> Result<String> {
        dispatch!(self, s => s.put_blob(repo, bytes).await)
    }
    async fn put_manifest(
        &self,
        repo: &str,
        tag: Option<&str>,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String> {
        dispatch!(self, s => s.put_manifest(repo, tag, media_type, bytes).await)
    }
    async fn referrers(
        &self,
        repo: &str,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<crate::oci::media::Descriptor>>> {
        dispatch!(self, s => s.referrers(repo, digest, artifact_type).await)
    }
    async fn delete_manifest(&self, repo: &str, digest: &str) -> Result<()> {
        dispatch!(self, s => s.delete_manifest(repo, digest).await)
    }
    async fn has_blob(&self, repo: &str, digest: &str) -> Result<bool> {
        dispatch!(self, s => s.has_blob(repo, digest).await)
    }
    async fn mount_blob(&self, repo: &str, from_repo: &str, digest: &str) -> Result<bool> {
        dispatch!(self, s => s.mount_blob(repo, from_repo, digest).await)
    }
    async fn open_blob(&self, repo: &str, digest: &str, limit: u64) -> Result<super::BlobStream> {
        dispatch!(self, s => s.open_blob(repo, digest, limit).await)
    }
    async fn put_blob_stream(
        &self,
        repo: &str,
        digest: &str,
        size: u64,
        chunks: super::BlobStream,
    ) -> Result<()> {
        dispatch!(self, s => s.put_blob_stream(repo, digest, size, chunks).await)
    }
}
