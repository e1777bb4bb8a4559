//! A per-evaluation read cache over any store: manifests by reference and blobs by digest are
//! fetched once, even when discovery and verification ask for them at the same moment (the
//! second caller waits for the first fetch). Content is still checked by the underlying store;
//! nothing outlives the wrapper.

use super::media::Descriptor;
use super::{FetchedManifest, OciError, Result, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

type Cell<T> = Arc<OnceCell<T>>;
type Cells<K, T> = Mutex<HashMap<K, Cell<T>>>;

/// Memoizing reads of `inner` for the wrapper's lifetime. Writes pass straight through.
pub struct ReadCache<'a, S: Store> {
    inner: &'a S,
    /// `None` remembers "not found", so a missing evidence tag is asked for once.
    manifests: Cells<(String, String), Option<FetchedManifest>>,
    blobs: Cells<String, Vec<u8>>,
    referrers: Cells<(String, String, Option<String>), Option<Vec<Descriptor>>>,
}

impl<'a, S: Store> ReadCache<'a, S> {
    pub fn new(inner: &'a S) -> Self {
        ReadCache {
            inner,
            manifests: Mutex::new(HashMap::new()),
            blobs: Mutex::new(HashMap::new()),
            referrers: Mutex::new(HashMap::new()),
        }
    }
}

fn cell<K: std::hash::Hash + Eq, T>(map: &Cells<K, T>, key: K) -> Cell<T> {
    match map.lock() {
        Ok(mut m) => m.entry(key).or_default().clone(),
        // A poisoned map only costs the cache: fall back to an uncached fetch.
        Err(_) => Arc::new(OnceCell::new()),
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
    async fn resolve_live(&self, repo: &str, tag: &str) -> Result<String> {
        self.inner.resolve_live(repo, tag).await
    }
    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<FetchedManifest> {
        let c = cell(&self.manifests, (repo.to_string(), reference.to_string()));
        let hit = c
            .get_or_try_init(|| async {
                match self.inner.get_manifest(repo, reference).await {
                    Ok(m) => Ok(Some(m)),
                    Err(e) if e.is_not_found() => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .await?;
        hit.clone().ok_or_else(|| OciError::NotFound {
            what: "manifest",
            name: format!("{repo}:{reference}"),
            source_name: self.inner.name().to_string(),
        })
    }
    async fn get_blob(&self, repo: &str, digest: &str, limit: u64) -> Result<Vec<u8>> {
        let c = cell(&self.blobs, digest.to_string());
        let b = c
            .get_or_try_init(|| self.inner.get_blob(repo, digest, limit))
            .await?;
        if b.len() as u64 > limit {
            // Cached under a larger limit: the caller's limit still holds.
            return self.inner.get_blob(repo, digest, limit).await;
        }
        Ok(b.clone())
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
        let c = cell(
            &self.referrers,
            (
                repo.to_string(),
                digest.to_string(),
                artifact_type.map(str::to_string),
            ),
        );
        c.get_or_try_init(|| self.inner.referrers(repo, digest, artifact_type))
            .await
            .cloned()
    }
    async fn delete_manifest(&self, repo: &str, digest: &str) -> Result<()> {
        self.inner.delete_manifest(repo, digest).await
    }
}
