//! Filling the index from the configured sources: every repository, every tagged digest not
//! indexed before under today's trust, judged by the gate (through its on-disk content cache)
//! and stored with the tags that name it.

use super::{DigestFacts, Index};
use crate::gate::Gate;
use crate::oci::artifact::tags_and_evidence;
use crate::oci::disk::DiskCache;
use crate::oci::Store;
use crate::setup::{NamedSource, Settings};
use futures::stream::{self, StreamExt};
use std::collections::HashMap;

/// Digests judged at once (as `gate --all`).
const CONCURRENCY: usize = 32;

/// Where a fill stands, for a progress line.
#[derive(Debug, Clone)]
pub struct Progress {
    pub source: String,
    pub repository: String,
    /// Digests judged so far in this repository, of `total` new ones.
    pub done: usize,
    pub total: usize,
}

/// What a fill did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Filled {
    pub repositories: usize,
    /// Digests judged and stored now.
    pub indexed: usize,
    /// Digests already indexed under the same trust (tags refreshed only).
    pub known: usize,
    /// Digests indexed before and judged again because their evidence tags changed (a
    /// signature or attestation added or removed since).
    pub evidence_changed: usize,
    /// What could not be read, in sentences (those digests are tried again next time).
    pub failed: Vec<String>,
}

/// The repositories of `source` to index: all but the audit repository.
async fn repositories(settings: &Settings, source: &NamedSource) -> Result<Vec<String>, String> {
    let repos = source
        .store
        .list_repositories()
        .await
        .map_err(|e| format!("listing {}: {e}", source.name))?;
    Ok(repos
        .into_iter()
        .filter(|r| *r != settings.audit_repository)
        .collect())
}

/// Indexes `source`: new digests are judged, known ones get their tags refreshed.
pub async fn fill_source(
    settings: &Settings,
    source: &NamedSource,
    index: &mut Index,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Filled, String> {
    let gate = settings
        .gate(source, None)
        .map_err(|e| format!("the gate for {}: {e}", source.name))?;
    let trust = super::trust_hash(&gate.trust);
    let mut out = Filled::default();
    let cache_dir = settings.cache_dir();
    for repo in repositories(settings, source).await? {
        out.repositories += 1;
        let known = index
            .known(&source.name, &repo, &trust)
            .map_err(|e| e.to_string())?;
        // Remote content is read through the gate's cache (digest-checked content; no tag
        // pointer reused), and the tags are listed through it, so an evidence tag that is
        // not in this run's list is known absent without asking.
        let (tags, judged, marks) = match (&*source.store, &cache_dir) {
            (crate::oci::Source::Remote(_), Some(dir)) => {
                let cache = DiskCache::keyed(
                    source.store.as_ref(),
                    dir,
                    std::time::Duration::ZERO,
                    settings.cache_key(),
                );
                let r = index_repo(&gate, &cache, &known, source, &repo, &mut out, progress).await;
                cache.flush();
                r?
            }
            _ => {
                index_repo(
                    &gate,
                    source.store.as_ref(),
                    &known,
                    source,
                    &repo,
                    &mut out,
                    progress,
                )
                .await?
            }
        };
        let mut facts = vec![];
        let mut kept = vec![];
        for (f, t, errors) in judged {
            if errors.is_empty() {
                kept.push((t, marks.get(&f.digest).cloned().unwrap_or_default()));
                facts.push(f);
            } else {
                out.failed.push(format!(
                    "{}@{}: {}",
                    repo,
                    crate::oci::digest::short(&f.digest),
                    errors.join("; ")
                ));
            }
        }
        out.indexed += facts.len();
        index
            .put_many(&facts, &trust, &kept)
            .map_err(|e| e.to_string())?;
        index
            .set_tags(&source.name, &repo, &tags)
            .map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// What judging one repository's new digests gave: its tags (tag, digest), per new digest
/// its facts, tags and read errors, and per digest its evidence tags' mark.
type Judged = (
    Vec<(String, String)>,
    Vec<(DigestFacts, Vec<String>, Vec<String>)>,
    HashMap<String, String>,
);

/// Lists `repo`'s tags and judges the digests the index does not hold yet, or holds as
/// judged with other evidence tags than the listing shows now.
async fn index_repo(
    gate: &Gate,
    store: &impl Store,
    known: &HashMap<String, String>,
    source: &NamedSource,
    repo: &str,
    out: &mut Filled,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Judged, String> {
    let (tags, evidence) = tags_and_evidence(store, repo)
        .await
        .map_err(|e| format!("listing {}: {e}", crate::text::sanitize(repo)))?;
    let marks = super::evidence_marks(&evidence);
    let unchanged = |d: &str| {
        known
            .get(d)
            .is_some_and(|m| m.as_str() == marks.get(d).map(String::as_str).unwrap_or(""))
    };
    let mut new: Vec<(String, Vec<String>)> = vec![];
    let mut at: HashMap<&str, usize> = HashMap::new();
    for (t, d) in &tags {
        if unchanged(d) {
            continue;
        }
        match at.get(d.as_str()) {
            Some(&i) => new[i].1.push(t.clone()),
            None => {
                at.insert(d, new.len());
                new.push((d.clone(), vec![t.clone()]));
            }
        }
    }
    let digests: std::collections::BTreeSet<&String> = tags.iter().map(|(_, d)| d).collect();
    out.known += digests.iter().filter(|d| unchanged(d)).count();
    out.evidence_changed += digests
        .iter()
        .filter(|d| known.contains_key(d.as_str()) && !unchanged(d))
        .count();
    progress(Progress {
        source: source.name.clone(),
        repository: repo.to_string(),
        done: 0,
        total: new.len(),
    });
    let judged = judge_all(gate, store, source, repo, new, progress).await;
    Ok((tags, judged, marks))
}

async fn judge_all(
    gate: &Gate,
    store: &impl Store,
    source: &NamedSource,
    repo: &str,
    digests: Vec<(String, Vec<String>)>,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Vec<(DigestFacts, Vec<String>, Vec<String>)> {
    let total = digests.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let done = &done;
    stream::iter(digests)
        .map(|(d, tags)| async move {
            let j = gate.judge(store, repo, &d, &[]).await;
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress(Progress {
                source: source.name.clone(),
                repository: repo.to_string(),
                done: n,
                total,
            });
            let errors = j.discovery.errors.clone();
            (
                DigestFacts::from_judgement(&source.name, repo, &j),
                tags,
                errors,
            )
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await
}

/// Opens the user's index, authenticated by the cache key.
pub fn open(settings: &Settings) -> Result<Index, String> {
    let key = settings
        .cache_key()
        .ok_or_else(|| super::IndexError::NoKey.to_string())?;
    // Named after the key: two users (or test homes) sharing a cache directory never
    // replace each other's index.
    let path = settings
        .cache_dir()
        .map(|d| d.join(format!("index-{}.sqlite", super::key_id(&key))))
        .ok_or("no user cache directory to keep the index in")?;
    let seal = settings
        .data_dir
        .as_ref()
        .map(|d| d.join(format!("index-{}.seal", super::key_id(&key))))
        .ok_or("no user data directory to keep the index's seal in")?;
    Index::open(&path, &seal, key).map_err(|e| e.to_string())
}

/// Stores what a `gate --all` judged (with the evidence tags of its listing), so the index
/// keeps up with every gate run. Failures are not the gate's business: the index is a cache
/// and the next `provost index` fills in.
pub fn remember(
    settings: &Settings,
    gate: &Gate,
    judged: &[(DigestFacts, Vec<String>)],
    evidence_tags: &[String],
) {
    let Ok(mut index) = open(settings) else {
        return;
    };
    let trust = super::trust_hash(&gate.trust);
    let marks = super::evidence_marks(evidence_tags);
    let (facts, kept): (Vec<_>, Vec<_>) = judged
        .iter()
        .map(|(f, t)| {
            let m = marks.get(&f.digest).cloned().unwrap_or_default();
            (f.clone(), (t.clone(), m))
        })
        .unzip();
    let _ = index.put_many(&facts, &trust, &kept);
}
