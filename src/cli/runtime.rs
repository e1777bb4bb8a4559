//! `provost runtime ENV`: what runs against what the environment's tag and chain say.

use super::exit::{Code, Usage};
use crate::setup::Settings;
use crate::text::sanitize;
use crate::triage::runtime::{self, Standing};
use color_eyre::eyre::{eyre, Result};

/// Exit code when a workload runs something its environment does not hold (as `drift`).
pub use super::exit::DRIFTED;

/// `provost runtime ENV`.
#[derive(clap::Args, Clone, Debug)]
pub struct RuntimeArgs {
    /// The environment
    pub environment: String,
    /// Read the workloads from a pod list (`kubectl get pods -A -o json` output) instead
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<std::path::PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// Exit 0 when every workload runs what the tag names and passes; 3 when one runs a digest
/// the policy blocks today; 8 on drift (stale, never promoted, unknown digest).
pub async fn runtime_cmd(settings: &Settings, a: &RuntimeArgs) -> Result<()> {
    let env = super::gate::environment(settings, &a.environment)?;
    let r = runtime::runtime(settings, env, a.from_file.as_deref())
        .await
        .map_err(|e| {
            if e.contains("names no runtime") {
                eyre!(Usage(e))
            } else {
                eyre!(e)
            }
        })?;
    if a.json {
        super::print_json(&r)?;
    } else {
        crate::say!(
            "{} runs {} workload(s) from its repositories ({}):",
            r.environment,
            r.workloads.len(),
            r.runtime
        );
        for w in &r.workloads {
            let mark = if w.standing == Standing::AsTagged {
                "✓"
            } else {
                "✗"
            };
            let digest = w
                .workload
                .digest
                .as_deref()
                .map(|d| crate::oci::digest::short(d).to_string())
                .unwrap_or_else(|| "?".into());
            crate::say!(
                "  {mark} {:<28} {}@{} ({}) — {}",
                sanitize(&w.workload.name),
                sanitize(w.workload.repository.as_deref().unwrap_or("?")),
                digest,
                sanitize(&w.workload.state),
                w.standing.words()
            );
            if let Some(v) = &w.verdict {
                use crate::policy::Outcome;
                // Every finding that does not hold (a failure, a missing check, an error):
                // a block is never printed without its reason.
                let why: Vec<String> = v
                    .findings
                    .iter()
                    .filter(|f| !matches!(f.outcome, Outcome::Pass | Outcome::Skipped))
                    .map(|f| format!("{}: {}", f.rule, f.message))
                    .collect();
                let why = if why.is_empty() {
                    "see `provost gate` for the findings".to_string()
                } else {
                    why.join("; ")
                };
                if v.decision == crate::policy::Decision::Block {
                    crate::say!("      running, but blocked today: {}", sanitize(&why));
                } else if v.decision == crate::policy::Decision::Warn {
                    crate::say!("      {} today: {}", v.decision.label(), sanitize(&why));
                }
            }
        }
        if !r.untracked.is_empty() {
            crate::say!(
                "  ({} other workload(s) run images outside {}'s repositories)",
                r.untracked.len(),
                r.environment
            );
        }
    }
    if r.blocked() {
        return Err(eyre!(Code(super::gate::BLOCKED)));
    }
    if r.drifted() {
        return Err(eyre!(Code(DRIFTED)));
    }
    Ok(())
}
