//! The release ledger: the one place decisions about a digest are written and read, whichever
//! registry holds its copies. It is one source's audit repository (`[ledger]` in
//! provost.toml; by default the first environment's source), and every chain (one per
//! environment, and `quarantine`) lives there.
//!
//! `Chains` is the one reader of those chains: the gate, audit, drift, runtime, triage,
//! rollback and the console all ask it. Within a run a chain is read once per trust list and
//! kept for a short while (`forget` drops it after a write); content-addressed bytes come
//! through the disk cache for a registry, but a record counts as present only when the live
//! tag listing, the live head or a live read confirms it.

pub mod chain;

use crate::evidence::trail::{ChainTrail, Trail};
use crate::oci::{OciError, Source, Store};
use crate::verify::{LazyRoot, Trust};
pub use chain::Walk;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a chain read for verdicts is reused before it is read again (the console runs
/// for hours; a headless command is over well before).
const MEMO_TTL: Duration = Duration::from_secs(20);

/// Where the ledger lives.
#[derive(Debug, Clone)]
pub struct Ledger {
    /// The configured source's name (for messages).
    pub source: String,
    pub store: Arc<Source>,
    /// The audit repository in that source.
    pub repository: String,
}

impl Ledger {
    /// What identifies the ledger across runs and display names: the registry host and
    /// repository, or a layout's canonical path and repository.
    pub fn identity(&self) -> String {
        match self.store.as_ref() {
            Source::Layout(l) => {
                let p = l.root().canonicalize().unwrap_or_else(|_| l.root().into());
                format!("{}//{}", p.display(), self.repository)
            }
            Source::Remote(r) => format!("{}/{}", r.name(), self.repository),
        }
    }

    /// "chain repository of source", for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} of {}",
            crate::text::sanitize(&self.repository),
            crate::text::sanitize(&self.source)
        )
    }
}

/// Why a chain could not be read as verdicts read it. Cloned into every verdict that needed
/// it, so it keeps what the exit code needs rather than the store's error itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// No source is configured at all.
    #[error("no ledger: no registry or store is configured")]
    NotConfigured,
    /// An environment name that cannot name a chain.
    #[error("{0}")]
    ChainName(String),
    /// The registry or layout could not be read.
    #[error("reading chain {chain} of {ledger}: {message}")]
    Read {
        chain: String,
        ledger: String,
        message: String,
        /// The store answered "not found" (exit 5) or refused content (exit 4).
        not_found: bool,
        integrity: bool,
    },
    /// The links break before the first record.
    #[error("chain {chain} of {ledger} is broken: {why}")]
    Broken {
        chain: String,
        ledger: String,
        why: String,
    },
    /// The reader's memo lock was poisoned by a panic elsewhere.
    #[error("the ledger reader is unusable (a thread panicked)")]
    Poisoned,
}

impl From<LedgerError> for String {
    fn from(e: LedgerError) -> String {
        e.to_string()
    }
}

type Memo = Arc<tokio::sync::OnceCell<Result<Arc<Walk>, LedgerError>>>;

/// The one reader of the ledger's chains.
pub struct Chains {
    pub ledger: Ledger,
    cache_dir: Option<PathBuf>,
    /// False with `--no-cache`: verdicts read every record from the registry.
    cached: std::sync::atomic::AtomicBool,
    memo: Mutex<HashMap<(String, u64), (Instant, Memo)>>,
}

impl std::fmt::Debug for Chains {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chains")
            .field("ledger", &self.ledger)
            .finish_non_exhaustive()
    }
}

/// A hash of a trust list: chains read under one trust list are not reused under another.
pub fn trust_key(trust: &[Trust]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{trust:?}").hash(&mut h);
    h.finish()
}

impl Chains {
    /// The reader of `ledger`, caching content in `cache_dir` when there is one.
    pub fn new(ledger: Ledger, cache_dir: Option<PathBuf>) -> Self {
        Chains {
            ledger,
            cache_dir,
            cached: std::sync::atomic::AtomicBool::new(true),
            memo: Mutex::new(HashMap::new()),
        }
    }

    /// Whether verdicts may take content-addressed bytes from the disk cache.
    pub fn set_cached(&self, cached: bool) {
        self.cached
            .store(cached, std::sync::atomic::Ordering::Relaxed);
    }

    /// Drops every chain read so far (after a write, or when the user refreshes).
    pub fn forget(&self) {
        if let Ok(mut m) = self.memo.lock() {
            m.clear();
        }
        if let Some(dir) = &self.cache_dir {
            crate::oci::disk::invalidate(dir, self.ledger.store.name(), &self.ledger.repository);
        }
    }

    /// Reads `chain` now, from the head (live) back; `cached` lets content-addressed bytes
    /// come from the disk cache (their presence is still confirmed live).
    pub async fn read(
        &self,
        chain: &str,
        trust: &[Trust],
        root: &LazyRoot,
        cached: bool,
    ) -> Result<Walk, OciError> {
        let store = self.ledger.store.as_ref();
        let repo = self.ledger.repository.as_str();
        match (store, self.cache_dir.as_ref().filter(|_| cached)) {
            (Source::Remote(_), Some(dir)) => {
                let c = crate::oci::disk::DiskCache::new(store, dir, Duration::ZERO);
                let w = chain::walk(&c, repo, chain, trust, root, true).await;
                c.flush();
                w
            }
            _ => chain::walk(store, repo, chain, trust, root, false).await,
        }
    }

    /// `chain` as verdicts read it: once per run and trust list (for a short while), the
    /// failure kept in words.
    pub async fn walk(
        &self,
        chain: &str,
        trust: &[Trust],
        key: u64,
        root: &LazyRoot,
    ) -> Result<Arc<Walk>, LedgerError> {
        let cell = {
            let Ok(mut m) = self.memo.lock() else {
                return Err(LedgerError::Poisoned);
            };
            let k = (chain.to_string(), key);
            match m.get(&k) {
                Some((at, c)) if at.elapsed() < MEMO_TTL => c.clone(),
                _ => {
                    let c: Memo = Default::default();
                    m.insert(k, (Instant::now(), c.clone()));
                    c
                }
            }
        };
        cell.get_or_init(|| async {
            chain::check_chain_name(chain).map_err(LedgerError::ChainName)?;
            let cached = self.cached.load(std::sync::atomic::Ordering::Relaxed);
            let w = self
                .read(chain, trust, root, cached)
                .await
                .map_err(|e| LedgerError::Read {
                    chain: chain.to_string(),
                    ledger: self.ledger.describe(),
                    message: e.to_string(),
                    not_found: e.is_not_found(),
                    integrity: e.is_integrity(),
                })?;
            match &w.broken {
                Some(b) => Err(LedgerError::Broken {
                    chain: chain.to_string(),
                    ledger: self.ledger.describe(),
                    why: b.clone(),
                }),
                None => Ok(Arc::new(w)),
            }
        })
        .await
        .clone()
    }

    /// The audit trail of `digest`: the records about it in each of `chains`.
    pub async fn trail(
        &self,
        digest: &str,
        chains: &[&str],
        trust: &[Trust],
        key: u64,
        root: &LazyRoot,
    ) -> Trail {
        let mut out = Trail {
            ledger: self.ledger.describe(),
            chains: vec![],
        };
        for c in chains {
            if out.chain(c).is_some() {
                continue;
            }
            let entries = self
                .walk(c, trust, key, root)
                .await
                .map_err(String::from)
                .map(|w| {
                    w.entries
                        .iter()
                        .filter(|e| e.is_about(digest))
                        .cloned()
                        .collect()
                });
            out.chains.push(ChainTrail {
                chain: c.to_string(),
                entries,
            });
        }
        out
    }
}

/// The ledger as the gate reads it: the chains, and the trust their records are checked with.
#[derive(Debug, Clone)]
pub struct LedgerReader {
    pub chains: Arc<Chains>,
    pub trust: Arc<Vec<Trust>>,
    key: u64,
}

impl LedgerReader {
    pub fn new(chains: Arc<Chains>, trust: Vec<Trust>) -> Self {
        let key = trust_key(&trust);
        LedgerReader {
            chains,
            trust: Arc::new(trust),
            key,
        }
    }

    /// The trail of `digest` in `chains`.
    pub async fn trail(&self, digest: &str, chains: &[&str], root: &LazyRoot) -> Trail {
        self.chains
            .trail(digest, chains, &self.trust, self.key, root)
            .await
    }

    /// `chain`, as verdicts read it.
    pub async fn walk(&self, chain: &str, root: &LazyRoot) -> Result<Arc<Walk>, LedgerError> {
        self.chains.walk(chain, &self.trust, self.key, root).await
    }
}
