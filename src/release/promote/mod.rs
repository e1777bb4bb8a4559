//! Promotion and rollback: a digest moves into an environment with its evidence. `route` says
//! where it goes (the environment path and repository templates), `plan` reads everything the
//! move involves without writing, and `run` does it in an order a kill cannot spoil: copy,
//! re-verify at the destination, record, and move the tag last with a compare-and-swap.

mod drift;
mod run;
mod words;

pub use drift::{drift, held, latest_promotions, Drift, DriftState};
pub use run::{run, Outcome, Step, CANCELLED};
pub use words::{ledger_words, plan_lines, rollback_target, size, verb};

use super::transfer::{self, Transfer};
use crate::config::Environment;
use crate::evidence::record::PromotionAction;
use crate::oci::Store;
use crate::policy::{Decision, Verdict};
use crate::setup::{NamedSource, Settings};

/// Where a promotion goes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Route {
    pub action: PromotionAction,
    pub from: Environment,
    pub to: Environment,
    pub src_source: String,
    pub src_repo: String,
    pub dst_source: String,
    pub dst_repo: String,
    /// The destination's moving tag.
    pub tag: String,
}

/// The route of an image in `src_repo` of source `src_source` into environment `to`: from the
/// environment `to` promotes from, into the repository `to`'s template names.
pub fn route(
    settings: &Settings,
    src_source: &str,
    src_repo: &str,
    to: &str,
) -> Result<Route, String> {
    let to = settings.environment(to)?;
    let from_name = to.promotes_from.as_deref().ok_or_else(|| {
        format!(
            "nothing promotes into {}: give it `promotes_from` in provost.toml",
            to.name
        )
    })?;
    let from = settings.environment(from_name)?;
    let name = from.name_in(src_repo).ok_or_else(|| {
        format!(
            "{src_repo} is not one of {}'s repositories ({})",
            from.name, from.repository
        )
    })?;
    let tag = to
        .moving_tag()
        .ok_or_else(|| format!("{} has no single tag to move ({})", to.name, to.tag))?;
    Ok(Route {
        action: PromotionAction::Promote,
        from: from.clone(),
        to: to.clone(),
        src_source: src_source.to_string(),
        src_repo: src_repo.to_string(),
        dst_source: to.source.clone(),
        dst_repo: to.repository_for(&name),
        tag: tag.to_string(),
    })
}

/// The route of a rollback of `env`'s image `name`: from the environment itself, back to an
/// earlier digest.
pub fn rollback_route(settings: &Settings, env: &str, repo: &str) -> Result<Route, String> {
    let e = settings.environment(env)?;
    let tag = e
        .moving_tag()
        .ok_or_else(|| format!("{} has no single tag to move ({})", e.name, e.tag))?;
    if !e.tracks_repository(repo) {
        return Err(format!(
            "{repo} is not one of {}'s repositories ({})",
            e.name, e.repository
        ));
    }
    Ok(Route {
        action: PromotionAction::Rollback,
        from: e.clone(),
        to: e.clone(),
        src_source: e.source.clone(),
        src_repo: repo.to_string(),
        dst_source: e.source.clone(),
        dst_repo: repo.to_string(),
        tag: tag.to_string(),
    })
}

/// Where the move stands before anything is written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum State {
    /// Everything is to do.
    Ready,
    /// A promotion record for exactly this move is on the chain but the tag has not moved
    /// (an earlier run was stopped): it is reused, not written twice.
    Resume { record: String },
    /// The tag already names the digest and its latest promotion says so: nothing to do.
    Done,
}

/// Why a plan cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Refusal {
    /// The gate blocks (not a usage problem: the policy said no).
    pub blocked: bool,
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Everything a promotion will do, read without writing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plan {
    pub route: Route,
    pub digest: String,
    /// What the tag names now at the destination (None: it does not exist).
    pub previous: Option<String>,
    #[serde(skip)]
    pub transfer: Transfer,
    /// The destination tier's verdict, judged on the source.
    pub verdict: Verdict,
    /// The approvals finding, in words, when the policy has one for the destination.
    pub approvals: Option<String>,
    /// The gate blocks and `--override` was given where the policy allows it.
    pub override_reason: Option<String>,
    pub state: State,
    /// Break-glass past the path: the environment the digest should have come through and
    /// never was in (recorded as skipped).
    pub skipped: Option<String>,
    /// Why it cannot go ahead (the gate blocks, or the override is not allowed).
    pub refusal: Option<Refusal>,
    pub reason: String,
}

impl Plan {
    pub fn same_store(&self) -> bool {
        self.route.src_source == self.route.dst_source
    }
}

pub fn named<'a>(settings: &'a Settings, name: &str) -> Result<&'a NamedSource, String> {
    settings
        .source(name)
        .ok_or_else(|| format!("no source named {name:?}"))
}

/// Reads the plan of moving `digest` along `route`.
pub async fn plan(
    settings: &Settings,
    route: Route,
    digest: &str,
    reason: &str,
    override_reason: Option<&str>,
    policy: Option<&std::path::Path>,
) -> Result<Plan, String> {
    let src = named(settings, &route.src_source)?;
    let dst = named(settings, &route.dst_source)?;
    let gate = settings.gate(src, policy).map_err(|e| e.to_string())?;
    let judged = gate
        .judge(
            src.store.as_ref(),
            &route.src_repo,
            digest,
            std::slice::from_ref(&route.to),
        )
        .await;
    let verdict = judged
        .verdicts
        .into_iter()
        .next()
        .ok_or_else(|| "the gate gave no verdict".to_string())?;
    let approvals = verdict
        .findings
        .iter()
        .filter(|f| f.outcome != crate::policy::Outcome::Skipped)
        .find(|f| {
            gate.policy
                .file
                .rule
                .iter()
                .any(|r| r.name == f.rule && r.kind == crate::policy::RuleKind::Approvals)
        })
        .map(|f| f.message.clone());
    let previous = match dst.store.resolve(&route.dst_repo, &route.tag).await {
        Ok(d) => Some(d),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(format!("reading {}:{}: {e}", route.dst_repo, route.tag)),
    };
    let transfer = transfer::plan(src.store.as_ref(), &route.src_repo, digest)
        .await
        .map_err(|e| format!("reading what {} involves: {e}", route.src_repo))?;
    let dst_gate = settings.gate(dst, policy).map_err(|e| e.to_string())?;
    let latest =
        drift::latest_for(settings, dst, &route.to.name, &route.dst_repo, &dst_gate).await?;
    let state = match (&latest, &previous) {
        (Some((_, p)), prev) if p.digest == digest && prev.as_deref() == Some(digest) => {
            State::Done
        }
        // Reused only to complete a run that really stopped: the same act, and the tag never
        // moved to it since (no done marker).
        (Some((rec, p)), prev)
            if p.digest == digest
                && p.previous_digest == *prev
                && p.action == route.action
                && !completed(settings, &route.to.name, rec).await? =>
        {
            State::Resume {
                record: rec.clone(),
            }
        }
        _ => State::Ready,
    };
    let skip = match route.action {
        PromotionAction::Promote if state != State::Done => {
            path_check(settings, &route, digest, &gate).await?
        }
        _ => None,
    };
    let blocked = verdict.decision == Decision::Block;
    let mut refusal = None;
    let mut overriding = None;
    let mut skipped = None;
    if let Some(why) = &skip {
        match override_reason {
            Some(r)
                if !r.trim().is_empty() && gate.policy.file.allows_break_glass(&route.to.name) =>
            {
                skipped = Some(route.from.name.clone());
                overriding = Some(r.to_string());
            }
            Some(r) if !r.trim().is_empty() => {
                refusal = Some(Refusal {
                    blocked: false,
                    message: format!(
                    "{why}; the policy allows no override into {} (break_glass in its [[access]])",
                    route.to.name
                ),
                })
            }
            _ => {
                refusal = Some(Refusal {
                    blocked: false,
                    message: format!(
                        "{why}; promote it into {} first{}",
                        route.from.name,
                        if gate.policy.file.allows_break_glass(&route.to.name) {
                            format!(
                                ", or break glass with --override REASON (recorded as skipping {})",
                                route.from.name
                            )
                        } else {
                            String::new()
                        }
                    ),
                })
            }
        }
    }
    if refusal.is_none() && blocked && state != State::Done {
        match override_reason {
            None => {
                refusal = Some(Refusal {
                    blocked: true,
                    message: format!(
                        "the {} gate blocks it ({}); nothing was copied",
                        route.to.name,
                        blocking(&verdict)
                    ),
                })
            }
            Some(_) if !gate.policy.file.allows_break_glass(&route.to.name) => {
                refusal = Some(Refusal {
                    blocked: false,
                    message: format!(
                        "the {} gate blocks it and the policy allows no override there (break_glass in its [[access]])",
                        route.to.name
                    ),
                })
            }
            Some(r) if r.trim().is_empty() => {
                refusal = Some(Refusal {
                    blocked: false,
                    message: "--override needs a reason".into(),
                });
            }
            Some(r) => overriding = Some(r.to_string()),
        }
    }
    Ok(Plan {
        route,
        digest: digest.to_string(),
        previous,
        transfer,
        verdict,
        approvals,
        override_reason: overriding,
        state,
        skipped,
        refusal,
        reason: reason.to_string(),
    })
}

/// The tag the ledger gives a promotion record once its tag moved (`done-<chain>-<hex>`):
/// a record with it is never reused to "complete" a run.
pub fn done_tag(chain: &str, record: &str) -> String {
    format!("done-{chain}-{}", record.trim_start_matches("sha256:"))
}

/// True when the promotion record `record` of `chain` completed (its done marker is there).
async fn completed(settings: &Settings, chain: &str, record: &str) -> Result<bool, String> {
    let chains = settings.chains()?;
    match chains
        .ledger
        .store
        .resolve_live(&chains.ledger.repository, &done_tag(chain, record))
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(format!(
            "reading the ledger ({}): {e}",
            chains.ledger.describe()
        )),
    }
}

/// Whether `digest` is, or was, in the environment the route promotes from: its tag there
/// names it now, or the ledger shows that environment held it. None: on the path; else why
/// not, in a sentence that names the path.
async fn path_check(
    settings: &Settings,
    route: &Route,
    digest: &str,
    gate: &crate::gate::Gate,
) -> Result<Option<String>, String> {
    let from = &route.from;
    if let (Some(tag), Ok(src)) = (from.moving_tag(), named(settings, &from.source)) {
        match src.store.resolve_live(&route.src_repo, tag).await {
            Ok(d) if d == digest => return Ok(None),
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                return Err(format!(
                    "reading {}:{tag} to see whether {} holds the digest: {e}",
                    route.src_repo, from.name
                ))
            }
        }
    }
    let walk = gate.chain(&from.name).await?;
    if drift::held(&walk, gate, &route.src_repo)
        .iter()
        .any(|d| d == digest)
    {
        return Ok(None);
    }
    let path = crate::config::path_to(&settings.environments, &route.to.name)
        .iter()
        .map(|e| e.name.as_str())
        .collect::<Vec<_>>()
        .join(" → ");
    let first = if from.promotes_from.is_none() {
        format!(
            " ({} is the first environment on the path: it gets its digests by a push to its tag)",
            from.name
        )
    } else {
        String::new()
    };
    Ok(Some(format!(
        "{}@{} was never in {}{first}, and {} promotes only from it: the path is {path}",
        route.src_repo,
        crate::oci::digest::short(digest),
        from.name,
        route.to.name
    )))
}

/// The blocking findings, in a few words.
fn blocking(v: &Verdict) -> String {
    let names: Vec<&str> = v
        .findings
        .iter()
        .filter(|f| {
            !matches!(
                f.outcome,
                crate::policy::Outcome::Pass | crate::policy::Outcome::Skipped
            )
        })
        .map(|f| f.rule.as_str())
        .collect();
    if names.is_empty() {
        "see `provost gate`".into()
    } else {
        names.join(", ")
    }
}
