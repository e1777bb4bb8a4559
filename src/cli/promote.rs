//! `provost promote`, `rollback` and `drift`: moving a digest into an environment with its
//! evidence, back to an earlier digest, and finding tags moved outside provost.

use super::exit::{Code, Usage};
use super::records::{confirm, load_person, refuse_read_only, signing, urls, SignArgs};
use crate::evidence::record::PromotionAction;
use crate::release::act::Kind;
use crate::release::promote::{self, DriftState, Plan, State, Step};
use crate::setup::Settings;
use crate::text::sanitize;
use color_eyre::eyre::{eyre, Result};

/// The exit code when an environment tag has drifted from its chain.
pub use super::exit::DRIFTED;

/// `provost promote REF --to ENV`.
#[derive(clap::Args, Clone, Debug)]
pub struct PromoteArgs {
    /// What to promote (resolved to a digest once; everything after works on the digest)
    pub reference: String,
    /// The environment to promote into (it names where it promotes from)
    #[arg(long = "to", value_name = "ENV")]
    pub to: String,
    /// Why, in words (recorded)
    #[arg(long, default_value = "")]
    pub reason: String,
    /// Break-glass: promote although the gate blocks, where the policy allows it; the reason
    /// is recorded and shown wherever the digest is
    #[arg(long = "override", value_name = "REASON")]
    pub override_reason: Option<String>,
    #[command(flatten)]
    pub sign: SignArgs,
}

/// `provost rollback ENV`.
#[derive(clap::Args, Clone, Debug)]
pub struct RollbackArgs {
    pub environment: String,
    /// The repository whose environment tag rolls back (needed when the environment tracks
    /// several)
    #[arg(long = "repository", value_name = "REPO")]
    pub repository: Option<String>,
    /// Roll back to this digest (one the environment's chain shows it held)
    #[arg(long = "to", value_name = "DIGEST", conflicts_with = "steps")]
    pub to: Option<String>,
    /// Roll back this many promotions (default 1)
    #[arg(long)]
    pub steps: Option<usize>,
    #[arg(long, default_value = "")]
    pub reason: String,
    #[command(flatten)]
    pub sign: SignArgs,
}

/// `provost drift [ENV]`.
#[derive(clap::Args, Clone, Debug)]
pub struct DriftArgs {
    pub environment: Vec<String>,
    #[arg(long)]
    pub json: bool,
}

use promote::size;

fn show_plan(plan: &Plan, signer: &str, audit_repo: &str) {
    for l in promote::plan_lines(plan, signer, audit_repo) {
        crate::say!("{}", sanitize(&l));
    }
}

/// Progress on stderr: one rewritten line on a terminal, a line per stage otherwise.
fn progress_line(step: Step) -> bool {
    use std::io::{IsTerminal, Write};
    let tty = std::io::stderr().is_terminal();
    let (text, stage_end) = match step {
        Step::Copying(p) if p.manifests_done == 0 => (
            format!(
                "copying blobs {}/{} ({} of {})",
                p.blobs_done,
                p.blobs,
                size(p.bytes_done),
                size(p.bytes)
            ),
            p.blobs_done == p.blobs,
        ),
        Step::Copying(p) => (
            format!(
                "copying manifests and referrers {}/{}",
                p.manifests_done, p.manifests
            ),
            p.manifests_done == p.manifests,
        ),
        Step::Verifying => ("re-verifying at the destination".into(), true),
        Step::Recording => ("writing the promotion record".into(), true),
        Step::MovingTag => ("moving the tag".into(), true),
    };
    let mut err = std::io::stderr();
    if tty {
        let _ = write!(err, "\r\x1b[K{}", sanitize(&text));
        let _ = err.flush();
    } else if stage_end {
        let _ = writeln!(err, "{}", sanitize(&text));
    }
    true
}

fn progress_done() {
    use std::io::{IsTerminal, Write};
    if std::io::stderr().is_terminal() {
        let _ = write!(std::io::stderr(), "\r\x1b[K");
    }
}

/// Who signs the move, checked against the group that may make it, before anything is read
/// or judged: a non-member hears about the group first (exit 2).
fn who_acts(
    settings: &Settings,
    route: &promote::Route,
    sign: &SignArgs,
) -> Result<super::signer::Person> {
    let dst = promote::named(settings, &route.dst_source).map_err(|e| eyre!(Usage(e)))?;
    let gate = super::gate::gate_for(settings, dst, sign.policy.as_deref())?;
    let person = load_person(settings, dst, sign, &gate.trust)?;
    let kind = match route.action {
        PromotionAction::Promote => Kind::Promote {
            to: route.to.name.clone(),
        },
        PromotionAction::Rollback => Kind::Rollback {
            environment: route.to.name.clone(),
        },
    };
    crate::release::act::check_allowed(&gate, &person.signer, &kind, &settings.environments)
        .map_err(|e| eyre!(Usage(e)))?;
    Ok(person)
}

async fn carry_out(
    settings: &Settings,
    plan: Plan,
    sign: &SignArgs,
    policy: Option<&std::path::Path>,
    person: &super::signer::Person,
) -> Result<()> {
    if plan.state == State::Done {
        crate::say!(
            "{}:{} already names {} and its chain says so: nothing to do",
            sanitize(&plan.route.dst_repo),
            plan.route.tag,
            plan.digest
        );
        return Ok(());
    }
    if let Some(r) = &plan.refusal {
        crate::say!("refused: {}", sanitize(&r.message));
        for f in plan.verdict.findings.iter().filter(|f| {
            !matches!(
                f.outcome,
                crate::policy::Outcome::Pass | crate::policy::Outcome::Skipped
            )
        }) {
            crate::say!("  {} — {}", f.rule, sanitize(&f.message));
        }
        return Err(if r.blocked {
            eyre!(Code(super::gate::BLOCKED))
        } else {
            eyre!(Usage(r.message.clone()))
        });
    }
    if sign.json && !sign.yes {
        return super::print_json(&plan);
    }
    show_plan(
        &plan,
        &person.signer.sentence(),
        &promote::ledger_words(settings, &plan),
    );
    let q = match plan.route.action {
        PromotionAction::Promote => format!("Promote into {}?", plan.route.to.name),
        PromotionAction::Rollback => format!("Roll {} back?", plan.route.to.name),
    };
    if !confirm(sign.yes, &q)? {
        return Ok(());
    }
    let u = urls(settings, sign);
    let s = signing(person, &u)?;
    let out = promote::run(settings, &plan, &s, policy, &progress_line)
        .await
        .map_err(|e| eyre!(sanitize(&e).to_string()))?;
    progress_done();
    if sign.json {
        return super::print_json(&out);
    }
    if let Some(c) = &out.copied {
        crate::say!(
            "copied: {} blob(s) uploaded ({}), {} mounted, {} already there; {} manifest(s)",
            c.blobs_uploaded,
            size(c.bytes_uploaded),
            c.blobs_mounted,
            c.blobs_present,
            c.manifests
        );
    }
    crate::say!(
        "re-verified at the destination: {} {}",
        plan.route.to.name,
        out.decision.map(|d| d.label()).unwrap_or("?")
    );
    if let Some(r) = &out.record {
        crate::say!(
            "record {r}{}",
            if out.reused_record {
                " (reused from a stopped run)"
            } else {
                ""
            }
        );
    }
    crate::say!(
        "{}:{} now names {}",
        sanitize(&out.repository),
        out.tag,
        out.digest
    );
    Ok(())
}

/// `provost promote`.
pub async fn promote_cmd(settings: &Settings, a: &PromoteArgs) -> Result<()> {
    refuse_read_only(settings)?;
    let (r, source, digest) = super::resolve_ref(settings, &a.reference).await?;
    let route = promote::route(settings, &source.name, &r.repository, &a.to)
        .map_err(|e| eyre!(Usage(e)))?;
    let person = who_acts(settings, &route, &a.sign)?;
    let policy = a.sign.policy.as_deref().map(std::path::Path::new);
    let plan = promote::plan(
        settings,
        route,
        &digest,
        &a.reason,
        a.override_reason.as_deref(),
        policy,
    )
    .await
    .map_err(|e| eyre!(sanitize(&e).to_string()))?;
    carry_out(settings, plan, &a.sign, policy, &person).await
}

/// `provost rollback`.
pub async fn rollback_cmd(settings: &Settings, a: &RollbackArgs) -> Result<()> {
    use crate::oci::Store;
    refuse_read_only(settings)?;
    let env = super::gate::environment(settings, &a.environment)?.clone();
    let repo = match &a.repository {
        Some(r) => r.clone(),
        None if !env.repository.contains(['*', '?', '[', '{']) => env.repository.clone(),
        None => {
            return Err(eyre!(Usage(format!(
                "{} tracks several repositories ({}): name one with --repository",
                env.name, env.repository
            ))))
        }
    };
    let route = promote::rollback_route(settings, &env.name, &repo).map_err(|e| eyre!(Usage(e)))?;
    let person = who_acts(settings, &route, &a.sign)?;
    let src = promote::named(settings, &route.dst_source).map_err(|e| eyre!(Usage(e)))?;
    let gate = super::gate::gate_for(settings, src, a.sign.policy.as_deref())?;
    let walk = gate.chain(&env.name).await.map_err(|e| eyre!(e))?;
    let current = src.store.resolve(&repo, &route.tag).await.ok();
    let target = promote::rollback_target(
        &walk,
        &gate,
        &repo,
        current.as_deref(),
        a.to.as_deref(),
        a.steps.unwrap_or(1),
    )
    .map_err(|e| eyre!(Usage(sanitize(&e).to_string())))?;
    let policy = a.sign.policy.as_deref().map(std::path::Path::new);
    let plan = promote::plan(settings, route, &target, &a.reason, None, policy)
        .await
        .map_err(|e| eyre!(sanitize(&e).to_string()))?;
    carry_out(settings, plan, &a.sign, policy, &person).await
}

/// `provost drift`.
pub async fn drift_cmd(settings: &Settings, a: &DriftArgs) -> Result<()> {
    for e in &a.environment {
        super::gate::environment(settings, e)?;
    }
    let rows = promote::drift(settings, &a.environment)
        .await
        .map_err(|e| eyre!(sanitize(&e).to_string()))?;
    let drifted = rows
        .iter()
        .any(|r| matches!(r.state, DriftState::Drifted | DriftState::Missing));
    if a.json {
        super::print_json(&rows)?;
    } else {
        for r in &rows {
            let short = |d: &Option<String>| {
                d.as_deref()
                    .map(|d| crate::oci::digest::short(d).to_string())
                    .unwrap_or_else(|| "-".into())
            };
            let words = match r.state {
                DriftState::InSync => "✓ in sync".to_string(),
                DriftState::Drifted => format!(
                    "✗ moved outside provost (names {}, its last promotion {})",
                    short(&r.actual),
                    short(&r.recorded)
                ),
                DriftState::Missing => {
                    format!("✗ tag missing (its last promotion {})", short(&r.recorded))
                }
                DriftState::Unrecorded => "· never promoted by provost".to_string(),
            };
            crate::say!(
                "{:<10} {}:{}  {words}",
                r.environment,
                sanitize(&r.repository),
                r.tag
            );
        }
    }
    if drifted {
        return Err(eyre!(Code(DRIFTED)));
    }
    Ok(())
}
