//! A per-evaluation read cache over any store: manifests by reference and blobs by digest are
//! fetched once, so discovery and verification of the same digest share their reads. Content is
//! still checked by the underlying store; nothing outlives the wrapper.

use super::media::Descriptor;
use super::{FetchedManifest, Result, Store};
use std::collections::HashMap;
use std::sync::Mutex;

/// Memoizing reads of `inner` for the wrapper's lifetime. Writes pass straight through.
pub struct ReadCache<'a, S: Store> {
    inner: &'a S,
    /// `None` remembers "not found", so a missing evidence tag is asked for once.
    manifests: Mutex<HashMap<(String, String), Option<FetchedManifest>>>,
    blobs: Mutex<HashMap<String, Vec<u8>>>,
}

impl<'a, S: Store> ReadCache<'a, S> {
    pub fn new(inner: &'a S) -> Self {
        ReadCache {
            inner,
            manifests: Mutex::new(HashMap::new()),
            blobs: Mutex::new(HashMap::new()),
        }
    }
}

impl<S: Store> Store for ReadCache<'_, S> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn list_repositories(&self) -> Result<Vec<String>> {
        self.inner.list_repositories().await
    }
    async fn list_tags(&self, repo: &str) -> Result<Vec<String>> {
        self.inner.list_tags(repo).await
    }
    async fn resolve(&self, repo: &str, tag: &str) -> Result<String> {
        self.inner.resolve(repo, tag).await
    }
    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<FetchedManifest> {
        let key = (repo.to_string(), reference.to_string());
        if let Some(hit) = self
            .manifests
            .lock()
            .ok()
            .and_then(|c| c.get(&key).cloned())
        {
            return hit.ok_or_else(|| super::OciError::NotFound {
                what: "manifest",
                name: format!("{repo}:{reference}"),
                source_name: self.inner.name().to_string(),
            });
        }
        match self.inner.get_manifest(repo, reference).await {
            Ok(m) => {
                if let Ok(mut c) = self.manifests.lock() {
                    c.insert(key, Some(m.clone()));
                }
                Ok(m)
            }
            Err(e) if e.is_not_found() => {
                if let Ok(mut c) = self.manifests.lock() {
                    c.insert(key, None);
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }
    async fn get_blob(&self, repo: &str, digest: &str, limit: u64) -> Result<Vec<u8>> {
        if let Some(b) = self
            .blobs
            .lock()
            .ok()
            .and_then(|c| c.get(digest).cloned())
            .filter(|b| b.len() as u64 <= limit)
        {
            return Ok(b);
        }
        let b = self.inner.get_blob(repo, digest, limit).await?;
        if let Ok(mut c) = self.blobs.lock() {
            c.insert(digest.to_string(), b.clone());
        }
        Ok(b)
    }
    async fn put_blob(&self, repo: &str, bytes: &[u8]) -> Result<String> {
        self.inner.put_blob(repo, bytes).await
    }
    async fn put_manifest(
        &self,
        repo: &str,
        tag: Option<&str>,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String> {
        self.inner.put_manifest(repo, tag, media_type, bytes).await
    }
    async fn referrers(
        &self,
        repo: &str,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>> {
        self.inner.referrers(repo, digest, artifact_type).await
    }
    async fn delete_manifest(&self, repo: &str, digest: &str) -> Result<()> {
        self.inner.delete_manifest(repo, digest).await
    }
}
