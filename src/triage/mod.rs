//! Incident triage: which digests a builder, commit, signer or package touched (from the
//! index), where they are now and were before (environment tags and chains), and how the gate
//! judges them today. The CLI's `find` and the console's `:find` both ask `find`.

pub mod compare;
pub mod runtime;

use crate::config::Environment;
use crate::index::{fill, Match, Query};
use crate::oci::disk::DiskCache;
use crate::oci::Store;
use crate::policy::Verdict;
use crate::release::chain;
use crate::release::promote::held;
use crate::setup::{NamedSource, Settings};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use std::collections::HashMap;

/// One digest that answered.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub source: String,
    pub repository: String,
    pub digest: String,
    pub tags: Vec<String>,
    /// Verified: every criterion holds on facts a trusted signature vouches for.
    pub matched: Match,
    /// The criteria that held only on unverified claims (empty for verified hits).
    pub claimed_only: Vec<String>,
    /// Environments whose tag names it now.
    pub holds_now: Vec<String>,
    /// Environments whose chain shows it promoted there before (not now).
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
    let mut places = Places::default();
    let mut hits = vec![];
    let mut envs_of = vec![];
    let mut tag_now: HashMap<(String, String, String), Result<Option<String>, String>> =
        HashMap::new();
    for h in raw {
        let Some(source) = settings.source(&h.facts.source) else {
            continue;
        };
        let envs: Vec<Environment> = settings
            .environments
            .iter()
            .filter(|e| e.source == source.name && e.tracks_repository(&h.facts.repository))
            .cloned()
            .collect();
        let mut holds_now = vec![];
        let mut held_before = vec![];
        let mut unknown_places = vec![];
        for e in &envs {
            // Where the environment's tag points now, asked of the registry (once per
            // repository and tag): the index's tag lists are only as fresh as its last fill.
            let now = match e.moving_tag() {
                Some(t) => {
                    let key = (
                        source.name.clone(),
                        h.facts.repository.clone(),
                        t.to_string(),
                    );
                    if !tag_now.contains_key(&key) {
                        // A missing tag holds nothing; a tag that cannot be read is unknown.
                        let d = match source.store.resolve(&h.facts.repository, t).await {
                            Ok(d) => Ok(Some(d)),
                            Err(e) if e.is_not_found() => Ok(None),
                            Err(e) => Err(crate::text::sanitize(&e.to_string()).into_owned()),
                        };
                        tag_now.insert(key.clone(), d);
                    }
                    match &tag_now[&key] {
                        Ok(d) => d.as_deref() == Some(h.facts.digest.as_str()),
                        Err(why) => {
                            unknown_places.push(format!("{} ({why})", e.name));
                            continue;
                        }
                    }
                }
                None => false,
            };
            if now {
                holds_now.push(e.name.clone());
                continue;
            }
            match places.held(settings, source, e).await {
                Ok(m) => {
                    if m.get(&h.facts.repository)
                        .is_some_and(|ds| ds.contains(&h.facts.digest))
                    {
                        held_before.push(e.name.clone());
                    }
                }
                Err(why) => unknown_places.push(format!("{} ({why})", e.name)),
            }
        }
        envs_of.push(envs);
        hits.push(Found {
            source: h.facts.source.clone(),
            repository: h.facts.repository.clone(),
            digest: h.facts.digest.clone(),
            tags: h.tags.clone(),
            matched: h.matched,
            claimed_only: if h.matched == Match::Unverified {
                q.claimed_only(&h.facts)
            } else {
                vec![]
            },
            holds_now,
            held_before,
            unknown_places,
            verdicts: vec![],
            facts: h.facts,
        });
    }
    // Today's verdicts: one gate per source, its content read through the gate's cache
    // (digest-checked content only: no tag pointer is reused), many digests at once.
    for source in &srcs {
        let todo: Vec<Todo> = hits
            .iter()
            .zip(&envs_of)
            .enumerate()
            .filter(|(_, (f, _))| f.source == source.name)
            .map(|(i, (f, e))| Todo {
                at: i,
                repository: f.repository.clone(),
                digest: f.digest.clone(),
                envs: e.clone(),
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
            hits[i].verdicts = verdicts;
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

/// Chains read once per environment: repository → digests it held there.
#[derive(Default)]
struct Places {
    /// Per environment: the digests its chain promoted, by repository, or why it could not
    /// be read.
    by_env: HashMap<String, Result<HashMap<String, Vec<String>>, String>>,
}

impl Places {
    async fn held(
        &mut self,
        settings: &Settings,
        source: &NamedSource,
        env: &Environment,
    ) -> Result<&HashMap<String, Vec<String>>, String> {
        if !self.by_env.contains_key(&env.name) {
            let read = Self::read(settings, source, env).await;
            self.by_env.insert(env.name.clone(), read);
        }
        self.by_env[&env.name].as_ref().map_err(Clone::clone)
    }

    async fn read(
        settings: &Settings,
        source: &NamedSource,
        env: &Environment,
    ) -> Result<HashMap<String, Vec<String>>, String> {
        let gate = settings.gate(source, None).map_err(|e| e.to_string())?;
        let w = chain::walk(
            source.store.as_ref(),
            &settings.audit_repository,
            &env.name,
            &gate.trust,
            &gate.root,
        )
        .await
        .map_err(|e| crate::text::sanitize(&format!("its chain: {e}")).into_owned())?;
        let repos: std::collections::BTreeSet<String> = w
            .entries
            .iter()
            .filter_map(|e| match &e.record {
                Some(crate::evidence::record::Record::Promotion(p)) => {
                    Some(p.to.repository.clone())
                }
                _ => None,
            })
            .collect();
        Ok(repos
            .into_iter()
            .map(|r| {
                let ds = held(&w, &gate, &r);
                (r, ds)
            })
            .collect())
    }
}
