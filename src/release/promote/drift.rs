//! Which digest each environment tag should name (its chain's latest promotion record that
//! verifies and was signed by the promote group) and whether it does.

use crate::evidence::record::{Promotion, Record};
use crate::gate::Gate;
use crate::oci::Store;
use crate::policy::groups::Action;
use crate::release::chain::Walk;
use crate::setup::{NamedSource, Settings};
use std::collections::BTreeMap;

/// The chain's promotion records that count, newest first: verified, signed by a member of
/// the environment's promote group, into the chain's own environment.
fn counted<'a>(walk: &'a Walk, gate: &'a Gate) -> impl Iterator<Item = (&'a str, &'a Promotion)> {
    let group = gate.policy.file.group_for(Action::Promote, &walk.chain);
    walk.entries
        .iter()
        .filter_map(move |e| match (&e.record, e.signer()) {
            (Some(Record::Promotion(p)), Some(signer))
                if group.is_some_and(|g| g.has(signer)) && p.to.environment == walk.chain =>
            {
                Some((e.digest.as_str(), p))
            }
            _ => None,
        })
}

/// The newest counted promotion per destination repository: (record digest, promotion).
pub fn latest_promotions(walk: &Walk, gate: &Gate) -> BTreeMap<String, (String, Promotion)> {
    let mut out = BTreeMap::new();
    for (d, p) in counted(walk, gate) {
        out.entry(p.to.repository.clone())
            .or_insert_with(|| (d.to_string(), p.clone()));
    }
    out
}

/// The digests `repo` held in the chain's environment by its counted promotion records,
/// newest first, each once.
pub fn held(walk: &Walk, gate: &Gate, repo: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for (_, p) in counted(walk, gate).filter(|(_, p)| p.to.repository == repo) {
        for d in std::iter::once(&p.digest).chain(&p.previous_digest) {
            if !out.contains(d) {
                out.push(d.clone());
            }
        }
    }
    out
}

/// The latest counted promotion of `repo` into `env` on `dst`'s chain.
pub(super) async fn latest_for(
    settings: &Settings,
    dst: &NamedSource,
    env: &str,
    repo: &str,
    gate: &Gate,
) -> Result<Option<(String, Promotion)>, String> {
    let _ = (settings, dst);
    let w = gate.chain(env).await?;
    Ok(latest_promotions(&w, gate).remove(repo))
}

/// How an environment tag stands against its chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftState {
    /// The tag names what the latest promotion moved it to.
    InSync,
    /// The tag names another digest: it was moved outside provost (or a promotion stopped
    /// after its record and before the tag; running it again completes it).
    Drifted,
    /// The tag is gone although a promotion moved it.
    Missing,
    /// The tag exists and no promotion was ever recorded.
    Unrecorded,
}

/// One environment tag.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Drift {
    pub environment: String,
    pub source: String,
    pub repository: String,
    pub tag: String,
    pub state: DriftState,
    /// What the tag names now.
    pub actual: Option<String>,
    /// What its latest promotion says.
    pub recorded: Option<String>,
    pub record: Option<String>,
}

/// Every environment tag of `envs` (all when empty) against its chain.
pub async fn drift(settings: &Settings, envs: &[String]) -> Result<Vec<Drift>, String> {
    let mut out = vec![];
    for e in settings
        .environments
        .iter()
        .filter(|e| envs.is_empty() || envs.contains(&e.name))
    {
        let Some(tag) = e.moving_tag() else {
            continue;
        };
        let src = super::named(settings, &e.source)?;
        let gate = settings.gate(src, None).map_err(|e| e.to_string())?;
        let w = gate.chain(&e.name).await?;
        let latest = latest_promotions(&w, &gate);
        let repos = src
            .store
            .list_repositories()
            .await
            .map_err(|err| format!("listing {}: {err}", src.name))?;
        for repo in repos
            .into_iter()
            .filter(|r| e.tracks_repository(r) && *r != settings.audit_repository)
        {
            let actual = match src.store.resolve(&repo, tag).await {
                Ok(d) => Some(d),
                Err(err) if err.is_not_found() => None,
                Err(err) => return Err(format!("reading {repo}:{tag}: {err}")),
            };
            let rec = latest.get(&repo);
            let state = match (rec, &actual) {
                (None, None) => continue,
                (None, Some(_)) => DriftState::Unrecorded,
                (Some(_), None) => DriftState::Missing,
                (Some((_, p)), Some(a)) if *a == p.digest => DriftState::InSync,
                (Some(_), Some(_)) => DriftState::Drifted,
            };
            out.push(Drift {
                environment: e.name.clone(),
                source: src.name.clone(),
                repository: repo.clone(),
                tag: tag.to_string(),
                state,
                actual,
                recorded: rec.map(|(_, p)| p.digest.clone()),
                record: rec.map(|(d, _)| d.clone()),
            });
        }
    }
    Ok(out)
}
