//! Incident triage: which digests a builder, commit, signer or package touched (from the
//! index), where they are now and were before (environment tags and chains), and how the gate
//! judges them today. The CLI's `find` and the console's `:find` both ask `find`.

pub mod compare;
mod places;
pub mod runtime;

use crate::config::Environment;
use crate::index::{fill, Match, Query};
use crate::oci::disk::DiskCache;
use crate::oci::Store;
use crate::policy::Verdict;

use crate::setup::{NamedSource, Settings};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use std::collections::HashMap;

/// One digest that answered.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    /// The first copy found (where `--quarantine` names it; the record holds for every copy).
    pub source: String,
    pub repository: String,
    pub digest: String,
    /// Tags naming it, in any place.
    pub tags: Vec<String>,
    /// Every place holding the digest: each copy the index found, and each repository the
    /// ledger shows it promoted into that still holds it (tagged or not).
    pub places: Vec<places::Place>,
    /// Verified: every criterion holds on facts a trusted signature vouches for.
    pub matched: Match,
    /// The criteria that held only on unverified claims (empty for verified hits).
    pub claimed_only: Vec<String>,
    /// Environments whose tag names it now.
    pub holds_now: Vec<String>,
    /// Environments the ledger shows held it before (not now).
    pub held_before: Vec<String>,
    /// Environments where it could not be told whether it is or was there (their tag or chain
    /// could not be read), each with the reason: never counted as "not there".
    pub unknown_places: Vec<String>,
    /// Today's verdict in every environment that tracks the repository.
    pub verdicts: Vec<Verdict>,
    /// The facts the index holds (verified and claimed apart).
    pub facts: crate::index::DigestFacts,
}

/// What `find` answered.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub query: Vec<String>,
    pub hits: Vec<Found>,
    /// What indexing first did (None with `refresh = false`).
    pub indexed: Option<fill::Filled>,
    /// Why the index file was rebuilt, when it was.
    pub rebuilt: Option<String>,
}

impl Report {
    pub fn verified(&self) -> impl Iterator<Item = &Found> {
        self.hits.iter().filter(|h| h.matched == Match::Verified)
    }
    pub fn unverified(&self) -> impl Iterator<Item = &Found> {
        self.hits.iter().filter(|h| h.matched == Match::Unverified)
    }
}

/// The sources a query covers (`--in`), each checked to exist.
pub fn sources<'a>(
    settings: &'a Settings,
    names: &[String],
) -> Result<Vec<&'a NamedSource>, String> {
    if names.is_empty() {
        return Ok(settings.sources.iter().collect());
    }
    names
        .iter()
        .map(|n| {
            settings.source(n).ok_or_else(|| {
                format!(
                    "no source {:?} (configured: {})",
                    crate::text::sanitize(n),
                    settings
                        .sources
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        })
        .collect()
}

/// Answers `q`: indexes the sources first when `refresh` (only digests not seen before), then
/// asks the index, then reads each hit's environments and judges it.
pub async fn find(
    settings: &Settings,
    q: &Query,
    refresh: bool,
    progress: &(dyn Fn(fill::Progress) + Send + Sync),
) -> Result<Report, String> {
    let srcs = sources(settings, &q.sources)?;
    let mut index = fill::open(settings)?;
    let mut rebuilt = index.rebuilt.clone();
    let mut indexed = None;
    // A rebuilt index is empty: it is filled whatever the caller asked.
    if refresh || rebuilt.is_some() {
        indexed = Some(fill_sources(settings, &srcs, &mut index, progress).await?);
    }
    let raw = match index.find(q) {
        Ok(h) => h,
        Err(e) => {
            // A row that does not authenticate: the file is not trusted, rebuilt and refilled.
            let why = e.to_string();
            index = index.rebuild(&why).map_err(|e| e.to_string())?;
            rebuilt = Some(why);
            indexed = Some(fill_sources(settings, &srcs, &mut index, progress).await?);
            index.find(q).map_err(|e| e.to_string())?
        }
    };
    let mut ledger = places::LedgerPlaces::read(settings).await;
    let mut hits = vec![];
    let mut envs_of = vec![];
    let mut tag_now: HashMap<(String, String, String), Result<Option<String>, String>> =
        HashMap::new();
    for (digest, copies) in places::by_digest(raw) {
        let Some(first) = copies.first() else {
            continue;
        };
        let (matched, facts, first_source, first_repo) = (
            first.matched,
            first.facts.clone(),
            first.facts.source.clone(),
            first.facts.repository.clone(),
        );
        let mut unknown_places = vec![];
        let mut all = places::from_index(&copies);
        ledger
            .add_promoted(settings, &digest, &mut all, &mut unknown_places)
            .await;
        let mut holds_now = vec![];
        let mut held_before = vec![];
        // Every environment tracking a place: the first such place is where it is judged.
        let mut envs: Vec<(Environment, String, String)> = vec![];
        for e in &settings.environments {
            let tracked: Vec<&places::Place> = all
                .iter()
                .filter(|p| p.unknown.is_none())
                .filter(|p| e.source == p.source && e.tracks_repository(&p.repository))
                .collect();
            let mut now = false;
            let mut unknown = None;
            if let Some(t) = e.moving_tag() {
                for p in &tracked {
                    let Some(source) = settings.source(&p.source) else {
                        continue;
                    };
                    let key = (p.source.clone(), p.repository.clone(), t.to_string());
                    if !tag_now.contains_key(&key) {
                        // A missing tag holds nothing; a tag that cannot be read is unknown.
                        let d = match source.store.resolve(&p.repository, t).await {
                            Ok(d) => Ok(Some(d)),
                            Err(e) if e.is_not_found() => Ok(None),
                            Err(e) => Err(crate::text::sanitize(&e.to_string()).into_owned()),
                        };
                        tag_now.insert(key.clone(), d);
                    }
                    match &tag_now[&key] {
                        Ok(d) => now |= d.as_deref() == Some(digest.as_str()),
                        Err(why) => unknown = Some(why.clone()),
                    }
                }
            }
            if let Some(p) = tracked.first() {
                envs.push((e.clone(), p.source.clone(), p.repository.clone()));
            }
            if now {
                holds_now.push(e.name.clone());
                continue;
            }
            match ledger.held_before(&e.name, &digest) {
                Ok(true) => held_before.push(e.name.clone()),
                Ok(false) => {}
                Err(why) => unknown = Some(why),
            }
            if let Some(why) = unknown {
                unknown_places.push(format!("{} ({why})", e.name));
            }
        }
        envs_of.push(envs);
        hits.push(Found {
            source: first_source,
            repository: first_repo,
            digest: digest.clone(),
            tags: copies.iter().flat_map(|c| c.tags.clone()).collect(),
            places: all,
            matched,
            claimed_only: if matched == Match::Unverified {
                q.claimed_only(&facts)
            } else {
                vec![]
            },
            holds_now,
            held_before,
            unknown_places,
            verdicts: vec![],
            facts,
        });
    }
    // Today's verdicts: one gate per source, its content read through the gate's cache
    // (digest-checked content only: no tag pointer is reused), many digests at once.
    for source in &settings.sources {
        let todo: Vec<Todo> = hits
            .iter()
            .zip(&envs_of)
            .enumerate()
            .flat_map(|(i, (f, envs))| {
                let mut by_repo: Vec<Todo> = vec![];
                for (e, src, repo) in envs.iter().filter(|(_, s, _)| *s == source.name) {
                    let _ = src;
                    match by_repo.iter_mut().find(|t| t.repository == *repo) {
                        Some(t) => t.envs.push(e.clone()),
                        None => by_repo.push(Todo {
                            at: i,
                            repository: repo.clone(),
                            digest: f.digest.clone(),
                            envs: vec![e.clone()],
                        }),
                    }
                }
                by_repo
            })
            .collect();
        if todo.is_empty() {
            continue;
        }
        let gate = settings.gate(source, None).map_err(|e| e.to_string())?;
        let judged = match (&*source.store, settings.cache_dir()) {
            (crate::oci::Source::Remote(_), Some(dir)) => {
                let cache = DiskCache::keyed(
                    source.store.as_ref(),
                    &dir,
                    std::time::Duration::ZERO,
                    settings.cache_key(),
                );
                let r = judge_hits(&gate, &cache, todo).await;
                cache.flush();
                r
            }
            _ => judge_hits(&gate, source.store.as_ref(), todo).await,
        };
        for (i, verdicts) in judged {
            hits[i].verdicts.extend(verdicts);
        }
    }
    Ok(Report {
        query: q.criteria.iter().map(|c| c.words()).collect(),
        hits,
        indexed,
        rebuilt,
    })
}

/// A hit to judge: its position among the hits, and the environments that track it.
struct Todo {
    at: usize,
    repository: String,
    digest: String,
    envs: Vec<Environment>,
}

/// Judges each hit in the environments that track it: (position, verdicts).
async fn judge_hits(
    gate: &crate::gate::Gate,
    store: &impl crate::oci::Store,
    todo: Vec<Todo>,
) -> Vec<(usize, Vec<Verdict>)> {
    stream::iter(todo)
        .map(|t| async move {
            let j = gate.judge(store, &t.repository, &t.digest, &t.envs).await;
            (t.at, j.verdicts)
        })
        .buffered(32)
        .collect()
        .await
}

/// Indexes every source of `srcs`, adding up what each did.
pub async fn fill_sources(
    settings: &Settings,
    srcs: &[&NamedSource],
    index: &mut crate::index::Index,
    progress: &(dyn Fn(fill::Progress) + Send + Sync),
) -> Result<fill::Filled, String> {
    let mut total = fill::Filled::default();
    for s in srcs {
        let f = fill::fill_source(settings, s, index, progress).await?;
        total.repositories += f.repositories;
        total.indexed += f.indexed;
        total.known += f.known;
        total.evidence_changed += f.evidence_changed;
        total.failed.extend(f.failed);
    }
    Ok(total)
}
