//! A plan in words (the CLI prints these lines, the console's confirm dialog shows them), and
//! which earlier digest a rollback goes back to.

use super::{Plan, State};
use crate::evidence::record::PromotionAction;
use crate::gate::Gate;
use crate::release::chain::Walk;

/// Bytes in binary units.
pub fn size(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

/// "promote" or "roll back".
pub fn verb(action: PromotionAction) -> &'static str {
    match action {
        PromotionAction::Promote => "promote",
        PromotionAction::Rollback => "roll back",
    }
}

/// Where the plan's record is linked, in words: the ledger's repository, and its source when
/// the destination is another one.
pub fn ledger_words(settings: &crate::setup::Settings, plan: &Plan) -> String {
    settings.ledger_words(&plan.route.dst_source)
}

/// The plan, line by line (unsanitized: callers sanitize for their terminal).
pub fn plan_lines(plan: &Plan, signer: &str, audit_repo: &str) -> Vec<String> {
    let r = &plan.route;
    let t = &plan.transfer;
    let mut out = vec![
        format!("{} {}@{}", verb(r.action), r.src_repo, plan.digest),
        format!("  from   {} ({} {})", r.from.name, r.src_source, r.src_repo),
        format!("  to     {} ({} {})", r.to.name, r.dst_source, r.dst_repo),
        format!(
            "  copies {} manifest(s), {} blob(s) ({}), {} referrer(s), {} cosign tag(s){}",
            t.manifests.len() - t.referrers() - t.cosign_tags(),
            t.blobs.len(),
            size(t.bytes()),
            t.referrers(),
            t.cosign_tags(),
            if plan.same_store() && r.src_repo == r.dst_repo {
                " — same repository: already there"
            } else if plan.same_store() {
                " — same registry: blobs are mounted"
            } else {
                ""
            }
        ),
        format!(
            "  gate   {} ({}): {}",
            r.to.name,
            r.to.tier,
            plan.verdict.decision.label()
        ),
    ];
    if let Some(a) = &plan.approvals {
        out.push(format!("  approvals  {a}"));
    }
    if let (Some(o), Some(env)) = (&plan.override_reason, &plan.skipped) {
        out.push(format!(
            "  OVERRIDE   skipped {env} (the digest was never in it); break-glass reason recorded: {o}"
        ));
    } else if let Some(o) = &plan.override_reason {
        out.push(format!(
            "  OVERRIDE   the gate blocks; break-glass reason recorded: {o}"
        ));
    }
    let from = plan
        .previous
        .as_deref()
        .map(|d| format!("from {d}"))
        .unwrap_or_else(|| "(new tag)".into());
    out.push(format!(
        "  tag    {}:{} moves {from} to {}",
        r.dst_repo, r.tag, plan.digest
    ));
    out.push(match &plan.state {
        State::Resume { record } => format!(
            "  record {record} is already on the {} chain (a stopped run): it is reused",
            r.to.name
        ),
        State::Done => "  nothing to do: the tag already names it".to_string(),
        State::Ready => format!(
            "  record signed by {signer}, a referrer at the destination, linked into chain {} of {audit_repo}",
            r.to.name
        ),
    });
    out
}

/// The digest a rollback of `repo` goes back to: `to` when the chain shows the environment
/// held it, else the `steps`-th earlier digest (newest first, the current one skipped).
pub fn rollback_target(
    walk: &Walk,
    gate: &Gate,
    repo: &str,
    current: Option<&str>,
    to: Option<&str>,
    steps: usize,
) -> Result<String, String> {
    let held = super::held(walk, gate, repo);
    if let Some(d) = to {
        return held.iter().find(|h| *h == d).cloned().ok_or_else(|| {
            format!(
                "{} never held {d} by its chain (it held: {})",
                walk.chain,
                if held.is_empty() {
                    "nothing".to_string()
                } else {
                    held.join(", ")
                }
            )
        });
    }
    if steps == 0 {
        return Err("--steps must be at least 1".into());
    }
    let earlier: Vec<&String> = held
        .iter()
        .filter(|d| Some(d.as_str()) != current)
        .collect();
    earlier.get(steps - 1).map(|d| (*d).clone()).ok_or_else(|| {
        format!(
            "the {} chain shows {} earlier digest(s) of {repo}: cannot go back {steps}",
            walk.chain,
            earlier.len()
        )
    })
}
