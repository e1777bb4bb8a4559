//! An on-disk cache under any store, shared by successive runs.
//!
//! Two kinds of entries, with different rules:
//! - **Content** (manifests and blobs, by digest) never goes stale: it is kept in pack files
//!   (`pack.rs`; up to 512 MiB) and its digest is checked again on every read, so a damaged or
//!   tampered cache file is a miss, never an answer.
//! - **Pointers** (tag → digest) do go stale: one is reused only while it is younger than the
//!   cache's time-to-live. When the run has listed the repository's tags, the live list also
//!   settles which tags exist: a tag that is not in it is "not found" without a request, and a
//!   tag that is in it but not in the cache is fetched. So an added or deleted evidence tag is
//!   seen at once; only a tag moved to other content inside the time-to-live is not.
//!
//! Pointer files are authenticated: each carries an HMAC-SHA256 under a per-user key kept
//! outside the cache (`with_key`), and a file whose MAC does not check out — edited, copied
//! from another user, or written without the key — is ignored, so an edited pointer can never
//! make a gate judge another digest than the registry named. Without a key, no pointer is read
//! or written. Cache files are read only when they are regular files (never links or special
//! files).
//!
//! Referrers API answers are not cached (a registry without the API costs one request a run).

use super::media::Descriptor;
use super::pack::{Kind, Packs};
use super::{FetchedManifest, OciError, Result, Store};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Blobs larger than this are not kept on disk (evidence blobs are far smaller).
const MAX_CACHED_BLOB: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pointer {
    digest: String,
    /// Unix seconds when the registry last answered for this tag.
    at: i64,
}

/// A pointer file on disk: the pointers as JSON text and their MAC.
#[derive(Debug, Serialize, Deserialize)]
struct SignedPointers {
    mac: String,
    body: String,
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn mac_of(key: &[u8; 32], body: &[u8]) -> Option<HmacSha256> {
    use hmac::Mac;
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).ok()?;
    m.update(body);
    Some(m)
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct PointerFile {
    source: String,
    repository: String,
    tags: HashMap<String, Pointer>,
}

#[derive(Default)]
struct Repo {
    file: PointerFile,
    loaded: bool,
    dirty: bool,
    /// The tags the registry listed during this run, when it was asked.
    live: Option<HashSet<String>>,
}

/// How much a run took from the cache, for the user and the benchmark.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CacheUse {
    /// Tag lookups answered by a pointer younger than the time-to-live.
    pub pointers: usize,
    /// Tag lookups answered "not found" by the live tag list.
    pub absent: usize,
    /// Manifests and blobs read from disk.
    pub content: usize,
}

/// The on-disk cache wrapped around `inner`. Call [`DiskCache::flush`] to keep the pointers.
pub struct DiskCache<'a, S: Store> {
    inner: &'a S,
    /// Manifests and blobs by digest.
    packs: Packs,
    dir: PathBuf,
    ttl: Duration,
    repos: Mutex<HashMap<String, Repo>>,
    pointers: AtomicUsize,
    absent: AtomicUsize,
    content: AtomicUsize,
    /// The key pointer files are authenticated with; none disables pointers.
    key: Option<zeroize::Zeroizing<[u8; 32]>>,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn is_digest(reference: &str) -> bool {
    reference.contains(':') && super::digest::is_valid(reference)
}

/// Where the tag pointers of `repo` in the store called `store` are kept under `dir`.
fn pointer_file(dir: &Path, store: &str, repo: &str) -> PathBuf {
    let key = super::digest::sha256(format!("{store}\n{repo}").as_bytes());
    let hex = super::digest::hex_part(&key)
        .unwrap_or("invalid")
        .to_string();
    dir.join("tags").join(format!("{hex}.json"))
}

/// Forgets the cached tag pointers of `repo` (after provost itself wrote to it: a signature,
/// an attestation), so the next gate asks the registry. A missing file is fine.
pub fn invalidate(dir: &Path, store: &str, repo: &str) {
    let _ = std::fs::remove_file(pointer_file(dir, store, repo));
}

impl<'a, S: Store> DiskCache<'a, S> {
    /// A cache in `dir` (created on first write) reusing pointers younger than `ttl`.
    pub fn new(inner: &'a S, dir: &Path, ttl: Duration) -> Self {
        DiskCache {
            inner,
            packs: Packs::new(dir),
            dir: dir.to_path_buf(),
            ttl,
            repos: Mutex::new(HashMap::new()),
            pointers: AtomicUsize::new(0),
            absent: AtomicUsize::new(0),
            content: AtomicUsize::new(0),
            key: None,
        }
    }

    /// Authenticates tag pointers with `key` (kept outside the cache); without it, pointers
    /// are neither read nor written.
    pub fn with_key(mut self, key: [u8; 32]) -> Self {
        self.key = Some(zeroize::Zeroizing::new(key));
        self
    }

    /// `new`, authenticated by `key` when there is one (`Settings::cache_key`); without a key
    /// no pointer is read or written.
    pub fn keyed(inner: &'a S, dir: &Path, ttl: Duration, key: Option<[u8; 32]>) -> Self {
        let cache = Self::new(inner, dir, ttl);
        match key {
            Some(k) => cache.with_key(k),
            None => cache,
        }
    }

    /// The manifest from the registry, its content kept by digest and, asked by tag, the
    /// pointer remembered.
    async fn fetch(&self, repo: &str, reference: &str) -> Result<FetchedManifest> {
        let m = self.inner.get_manifest(repo, reference).await?;
        self.packs
            .put(Kind::Manifest, &m.digest, &m.media_type, &m.bytes);
        if !is_digest(reference) {
            self.remember(repo, reference, &m.digest);
        }
        Ok(m)
    }

    fn read_pointers(&self, repo: &str) -> Option<PointerFile> {
        use hmac::Mac;
        let key = self.key.as_ref()?;
        let bytes = super::files::read_regular(&self.pointer_path(repo), 16 << 20, false).ok()?;
        let signed: SignedPointers = serde_json::from_slice(&bytes).ok()?;
        let mac = hex::decode(&signed.mac).ok()?;
        mac_of(key, signed.body.as_bytes())?
            .verify_slice(&mac)
            .ok()?;
        serde_json::from_str(&signed.body).ok()
    }

    fn write_pointers(&self, repo: &str, file: &PointerFile) -> bool {
        use hmac::Mac;
        let Some(key) = self.key.as_ref() else {
            return false;
        };
        let Ok(body) = serde_json::to_string(file) else {
            return false;
        };
        let Some(m) = mac_of(key, body.as_bytes()) else {
            return false;
        };
        let signed = SignedPointers {
            mac: hex::encode(m.finalize().into_bytes()),
            body,
        };
        serde_json::to_vec(&signed)
            .map(|b| write_atomic(&self.pointer_path(repo), &b).is_ok())
            .unwrap_or(false)
    }

    pub fn used(&self) -> CacheUse {
        CacheUse {
            pointers: self.pointers.load(Ordering::Relaxed),
            absent: self.absent.load(Ordering::Relaxed),
            content: self.content.load(Ordering::Relaxed),
        }
    }

    fn pointer_path(&self, repo: &str) -> PathBuf {
        pointer_file(&self.dir, self.inner.name(), repo)
    }

    fn read_manifest(&self, digest: &str) -> Option<FetchedManifest> {
        let (media_type, bytes) = self.packs.get(Kind::Manifest, digest)?;
        self.content.fetch_add(1, Ordering::Relaxed);
        Some(FetchedManifest {
            digest: digest.to_string(),
            media_type,
            bytes,
        })
    }

    fn with_repo<T>(&self, repo: &str, f: impl FnOnce(&mut Repo) -> T) -> Option<T> {
        let mut repos = self.repos.lock().ok()?;
        let r = repos.entry(repo.to_string()).or_default();
        if !r.loaded {
            r.loaded = true;
            if let Some(file) = self.read_pointers(repo) {
                // A file for another source or repository (a hash collision or a copied
                // cache) is ignored.
                if file.source == self.inner.name() && file.repository == repo {
                    r.file = file;
                }
            }
            r.file.source = self.inner.name().to_string();
            r.file.repository = repo.to_string();
        }
        Some(f(r))
    }

    /// What the cache knows about a tag: `Some(None)` when the live list says it does not exist,
    /// `Some(Some(digest))` for a fresh pointer, `None` when the registry must be asked.
    fn lookup(&self, repo: &str, tag: &str) -> Option<Option<String>> {
        let ttl = self.ttl.as_secs() as i64;
        self.with_repo(repo, |r| {
            if let Some(live) = &r.live {
                if !live.contains(tag) {
                    return Some(None);
                }
            }
            let p = r.file.tags.get(tag)?;
            let age = now() - p.at;
            (0..ttl).contains(&age).then(|| Some(p.digest.clone()))
        })
        .flatten()
    }

    fn remember(&self, repo: &str, tag: &str, digest: &str) {
        self.with_repo(repo, |r| {
            r.file.tags.insert(
                tag.to_string(),
                Pointer {
                    digest: digest.to_string(),
                    at: now(),
                },
            );
            if let Some(live) = &mut r.live {
                live.insert(tag.to_string());
            }
            r.dirty = true;
        });
    }

    fn not_found(&self, repo: &str, tag: &str) -> OciError {
        self.absent.fetch_add(1, Ordering::Relaxed);
        OciError::NotFound {
            what: "manifest",
            name: format!("{repo}:{tag}"),
            source_name: self.inner.name().to_string(),
        }
    }

    /// Writes the pointers this run learned. Entries for tags the live list no longer holds are
    /// dropped.
    pub fn flush(&self) {
        self.packs.flush();
        let Ok(mut repos) = self.repos.lock() else {
            return;
        };
        for (repo, r) in repos.iter_mut() {
            if let Some(live) = &r.live {
                let before = r.file.tags.len();
                r.file.tags.retain(|t, _| live.contains(t));
                r.dirty |= r.file.tags.len() != before;
            }
            if !r.dirty {
                continue;
            }
            if self.write_pointers(repo, &r.file) {
                r.dirty = false;
            }
        }
    }
}

impl<S: Store> Drop for DiskCache<'_, S> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let tmp = parent.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

impl<S: Store> Store for DiskCache<'_, S> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn list_repositories(&self) -> Result<Vec<String>> {
        self.inner.list_repositories().await
    }
    async fn list_tags(&self, repo: &str) -> Result<Vec<String>> {
        let tags = self.inner.list_tags(repo).await?;
        self.with_repo(repo, |r| r.live = Some(tags.iter().cloned().collect()));
        Ok(tags)
    }
    async fn resolve(&self, repo: &str, tag: &str) -> Result<String> {
        if is_digest(tag) {
            return self.inner.resolve(repo, tag).await;
        }
        match self.lookup(repo, tag) {
            Some(Some(d)) => {
                self.pointers.fetch_add(1, Ordering::Relaxed);
                Ok(d)
            }
            Some(None) => Err(self.not_found(repo, tag)),
            // A GET instead of a HEAD: the same one request, and the manifest it brings is the
            // one the caller reads next.
            None => Ok(self.get_manifest(repo, tag).await?.digest),
        }
    }
    /// The registry is asked (a GET by tag: the same one request as a HEAD, and on a cold run
    /// the manifest it brings is the one read next); the pointer and the content are kept.
    async fn resolve_live(&self, repo: &str, tag: &str) -> Result<String> {
        if is_digest(tag) {
            return self.inner.resolve(repo, tag).await;
        }
        Ok(self.fetch(repo, tag).await?.digest)
    }
    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<FetchedManifest> {
        let digest = if is_digest(reference) {
            Some(reference.to_string())
        } else {
            match self.lookup(repo, reference) {
                Some(Some(d)) => Some(d),
                Some(None) => return Err(self.not_found(repo, reference)),
                None => None,
            }
        };
        if let Some(d) = &digest {
            if let Some(m) = self.read_manifest(d) {
                if !is_digest(reference) {
                    self.pointers.fetch_add(1, Ordering::Relaxed);
                }
                return Ok(m);
            }
        }
        self.fetch(repo, reference).await
    }
    async fn get_blob(&self, repo: &str, digest: &str, limit: u64) -> Result<Vec<u8>> {
        if let Some((_, b)) = self.packs.get(Kind::Blob, digest) {
            if b.len() as u64 <= limit {
                self.content.fetch_add(1, Ordering::Relaxed);
                return Ok(b);
            }
        }
        let b = self.inner.get_blob(repo, digest, limit).await?;
        if (b.len() as u64) <= MAX_CACHED_BLOB {
            self.packs.put(Kind::Blob, digest, "-", &b);
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
        let d = self
            .inner
            .put_manifest(repo, tag, media_type, bytes)
            .await?;
        if let Some(t) = tag {
            self.remember(repo, t, &d);
        }
        Ok(d)
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
