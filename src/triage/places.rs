//! Where a digest is: one answer per digest, whichever copies hold it. The index gives the
//! copies it found; the ledger gives every repository the digest was promoted into (a copy
//! stays after its tag moves on) and every environment that held it before.

use crate::evidence::record::Record;
use crate::index::Hit;
use crate::ledger::Walk;
use crate::oci::Store;
use crate::setup::Settings;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// One place holding the digest.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Place {
    pub source: String,
    pub repository: String,
    /// Tags naming it there (empty: untagged).
    pub tags: Vec<String>,
    /// Why it could not be told whether this place still holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
}

/// The index's hits grouped by digest, in the order they came.
pub fn by_digest(raw: Vec<Hit>) -> Vec<(String, Vec<Hit>)> {
    let mut out: Vec<(String, Vec<Hit>)> = vec![];
    for h in raw {
        match out.iter_mut().find(|(d, _)| *d == h.facts.digest) {
            Some((_, v)) => v.push(h),
            None => out.push((h.facts.digest.clone(), vec![h])),
        }
    }
    out
}

/// The copies the index found.
pub fn from_index(copies: &[Hit]) -> Vec<Place> {
    copies
        .iter()
        .map(|c| Place {
            source: c.facts.source.clone(),
            repository: c.facts.repository.clone(),
            tags: c.tags.clone(),
            unknown: None,
        })
        .collect()
}

/// The ledger's chains, read once per `find`: per environment, its walk (or why not).
pub struct LedgerPlaces {
    gate: Option<crate::gate::Gate>,
    walks: HashMap<String, Result<Arc<Walk>, String>>,
    error: Option<String>,
}

impl LedgerPlaces {
    pub async fn read(settings: &Settings) -> LedgerPlaces {
        let gate = settings
            .ledger_source()
            .map_err(String::from)
            .and_then(|s| settings.gate(&s, None).map_err(|e| e.to_string()));
        let (gate, error) = match gate {
            Ok(g) => (Some(g), None),
            Err(e) => (None, Some(e)),
        };
        let mut walks = HashMap::new();
        if let Some(g) = &gate {
            for e in &settings.environments {
                let w = g
                    .chain(&e.name)
                    .await
                    .map_err(|e| crate::text::sanitize(&format!("its chain: {e}")).into_owned());
                walks.insert(e.name.clone(), w);
            }
        }
        LedgerPlaces { gate, walks, error }
    }

    /// True when the ledger shows `env` held `digest` (by a counted promotion).
    pub fn held_before(&self, env: &str, digest: &str) -> Result<bool, String> {
        let (Some(gate), Some(w)) = (&self.gate, self.walks.get(env)) else {
            return Err(self.error.clone().unwrap_or_else(|| "no ledger".into()));
        };
        let w = w.as_ref().map_err(Clone::clone)?;
        Ok(promoted_repos(w).iter().any(|repo| {
            crate::release::promote::held(w, gate, repo)
                .iter()
                .any(|d| d == digest)
        }))
    }

    /// Adds every repository the ledger shows `digest` promoted into that still holds it,
    /// asked of its registry; a place that cannot be asked is kept as unknown.
    pub async fn add_promoted(
        &mut self,
        settings: &Settings,
        digest: &str,
        places: &mut Vec<Place>,
        unknown: &mut Vec<String>,
    ) {
        let mut dests: Vec<(String, String)> = vec![];
        for w in self.walks.values().filter_map(|w| w.as_ref().ok()) {
            for e in &w.entries {
                let Some(Record::Promotion(p)) = &e.record else {
                    continue;
                };
                if e.signer().is_none()
                    || (p.digest != digest && p.previous_digest.as_deref() != Some(digest))
                {
                    continue;
                }
                let source = settings
                    .source(&p.to.registry)
                    .map(|s| s.name.clone())
                    .unwrap_or_else(|| p.to.registry.clone());
                let d = (source, p.to.repository.clone());
                if !dests.contains(&d) {
                    dests.push(d);
                }
            }
        }
        for (source, repo) in dests {
            if places
                .iter()
                .any(|p| p.source == source && p.repository == repo)
            {
                continue;
            }
            let Some(s) = settings.source(&source) else {
                continue;
            };
            match s.store.resolve(&repo, digest).await {
                Ok(_) => places.push(Place {
                    source,
                    repository: repo,
                    tags: vec![],
                    unknown: None,
                }),
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    let why = crate::text::sanitize(&e.to_string()).into_owned();
                    unknown.push(format!("{source} {repo} ({why})"));
                    places.push(Place {
                        source,
                        repository: repo,
                        tags: vec![],
                        unknown: Some(why),
                    });
                }
            }
        }
    }
}

/// Every repository a chain's promotions name.
fn promoted_repos(w: &Walk) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for e in &w.entries {
        if let Some(Record::Promotion(p)) = &e.record {
            if !out.contains(&p.to.repository) {
                out.push(p.to.repository.clone());
            }
        }
    }
    out
}
