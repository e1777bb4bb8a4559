//! `provost index` and `provost find`: the triage index, and the question a security reviewer
//! asks first (what did this builder, commit, signer or package touch, where is it, how does
//! it stand), with `--quarantine` to act on every verified hit at once.

use super::exit::Usage;
use crate::index::fill::Progress;
use crate::index::Query;
use crate::policy::Decision;
use crate::setup::Settings;
use crate::text::sanitize;
use crate::triage::{self, Found, Report};
use color_eyre::eyre::{eyre, Result};

/// `provost find`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct FindArgs {
    /// Builder id (glob: `https://github.com/actions/runner*`)
    #[arg(long)]
    pub builder: Option<String>,
    /// Source repository (glob: `github.com/acme/*`)
    #[arg(long)]
    pub source: Option<String>,
    /// Workflow path (glob)
    #[arg(long)]
    pub workflow: Option<String>,
    /// Commit (a prefix of at least 7 hex digits)
    #[arg(long)]
    pub commit: Option<String>,
    /// Signer: key name, fingerprint (prefix of 8 or more) or keyless identity (globs allowed)
    #[arg(long)]
    pub signer: Option<String>,
    /// A package in the SBOM, optionally with a range: `NAME`, `NAME@1.3.0`,
    /// `NAME@>=2.0.0,<2.17.1`, `NAME@vers:npm/<4.17.21` (repeatable: every one must be there)
    #[arg(long, value_name = "NAME[@RANGE]")]
    pub package: Vec<String>,
    /// An evidence predicate type (glob)
    #[arg(long)]
    pub predicate: Option<String>,
    /// Built at or after (date or RFC 3339 time)
    #[arg(long, value_name = "TIME")]
    pub built_after: Option<String>,
    /// Built before (date or RFC 3339 time)
    #[arg(long, value_name = "TIME")]
    pub built_before: Option<String>,
    /// Only these sources (repeatable; default: every configured source)
    #[arg(long = "in", value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Ask the index as it is, without first indexing new digests
    #[arg(long)]
    pub no_refresh: bool,
    /// Quarantine every verified hit: one signed record per digest, asked once
    #[arg(long, requires = "reason")]
    pub quarantine: bool,
    /// Also quarantine hits that matched only on unverified claims
    #[arg(long, requires = "quarantine")]
    pub include_unverified: bool,
    /// Why (for --quarantine)
    #[arg(long)]
    pub reason: Option<String>,
    #[command(flatten)]
    pub sign: super::records::SignArgs,
}

/// The query the flags ask.
pub fn query(a: &FindArgs) -> Result<Query> {
    let mut pairs: Vec<(&str, String)> = vec![];
    let flags = [
        ("builder", &a.builder),
        ("source", &a.source),
        ("workflow", &a.workflow),
        ("commit", &a.commit),
        ("signer", &a.signer),
    ];
    for (k, v) in flags {
        if let Some(v) = v {
            pairs.push((k, v.clone()));
        }
    }
    pairs.extend(a.package.iter().map(|p| ("package", p.clone())));
    let more = [
        ("predicate", &a.predicate),
        ("built-after", &a.built_after),
        ("built-before", &a.built_before),
    ];
    for (k, v) in more {
        if let Some(v) = v {
            pairs.push((k, v.clone()));
        }
    }
    Query::build(&pairs, a.sources.clone()).map_err(|e| eyre!(Usage(e)))
}

/// A progress line on stderr when it is a terminal.
pub fn progress_line() -> impl Fn(Progress) + Send + Sync {
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    move |p: Progress| {
        if tty && p.total > 0 {
            let width = 24;
            let filled = p.done * width / p.total.max(1);
            // The bar's own escapes (return, clear the line) are the only raw bytes: the
            // names are sanitized.
            let line = format!(
                "\r\x1b[2Kindexing {}/{} [{}{}] {}/{}{}",
                sanitize(&p.source),
                sanitize(&p.repository),
                "█".repeat(filled),
                "·".repeat(width - filled),
                p.done,
                p.total,
                if p.done == p.total { "\r\x1b[2K" } else { "" }
            );
            #[allow(clippy::disallowed_macros)]
            {
                eprint!("{line}");
            }
        }
    }
}

/// `provost index [SOURCE…]`.
pub async fn index_cmd(settings: &Settings, names: &[String], json: bool) -> Result<()> {
    let srcs = triage::sources(settings, names).map_err(|e| eyre!(Usage(e)))?;
    let mut index = crate::index::fill::open(settings).map_err(|e| eyre!(e))?;
    if let Some(why) = &index.rebuilt {
        crate::warn!("provost: the index was rebuilt: {why}");
    }
    let started = std::time::Instant::now();
    let p = progress_line();
    let filled = triage::fill_sources(settings, &srcs, &mut index, &p)
        .await
        .map_err(|e| eyre!(e))?;
    let total = index.len().map_err(|e| eyre!(e.to_string()))?;
    if json {
        return super::print_json(&serde_json::json!({
            "indexed": filled,
            "digests": total,
            "index": index.path().display().to_string(),
        }));
    }
    crate::say!(
        "indexed {} digest(s) in {} repositories ({} already known{}) in {:.1}s; the index holds {} digest(s)",
        filled.indexed,
        filled.repositories,
        filled.known,
        if filled.evidence_changed > 0 {
            format!(
                "; {} judged again: their evidence tags changed",
                filled.evidence_changed
            )
        } else {
            String::new()
        },
        started.elapsed().as_secs_f64(),
        total
    );
    for f in &filled.failed {
        crate::warn!("  not indexed (tried again next time): {f}");
    }
    Ok(())
}

fn decision_words(h: &Found) -> String {
    if h.verdicts.is_empty() {
        return "no environment tracks it".into();
    }
    h.verdicts
        .iter()
        .map(|v| format!("{} {}", v.environment, v.decision.label()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_hit(h: &Found) {
    crate::say!("  {}", h.digest);
    for p in &h.places {
        crate::say!(
            "      {} {}  {}",
            sanitize(&p.source),
            sanitize(&p.repository),
            match (&p.unknown, p.tags.is_empty()) {
                (Some(why), _) => format!(
                    "(could not tell whether it is still there: {})",
                    sanitize(why)
                ),
                (None, true) => "(untagged)".to_string(),
                (None, false) => sanitize(&p.tags.join(", ")).into_owned(),
            }
        );
    }
    let builders = h.facts.verified.builders.join(", ");
    let commits: Vec<String> = h
        .facts
        .verified
        .commits
        .iter()
        .map(|c| c.chars().take(12).collect())
        .collect();
    if !builders.is_empty() || !commits.is_empty() {
        crate::say!(
            "      built by {} from {}",
            or_dash(&builders),
            or_dash(&commits.join(", "))
        );
    }
    if !h.claimed_only.is_empty() {
        crate::say!(
            "      unverified: only a claim nothing trusted signed says {}",
            h.claimed_only.join(", ")
        );
    }
    crate::say!(
        "      now in: {}   before in: {}",
        or_dash(&h.holds_now.join(", ")),
        or_dash(&h.held_before.join(", "))
    );
    if !h.unknown_places.is_empty() {
        crate::say!("      could not tell: {}", h.unknown_places.join("; "));
    }
    crate::say!("      verdicts: {}", decision_words(h));
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

fn print_report(r: &Report) {
    let verified: Vec<&Found> = r.verified().collect();
    let unverified: Vec<&Found> = r.unverified().collect();
    crate::say!(
        "{} digest(s) match {} on verified facts",
        verified.len(),
        r.query.join(" and ")
    );
    for h in &verified {
        print_hit(h);
    }
    if !unverified.is_empty() {
        crate::say!(
            "{} more match only on unverified claims (shown apart; not counted, not quarantined without --include-unverified):",
            unverified.len()
        );
        for h in &unverified {
            print_hit(h);
        }
    }
}

/// `provost find`. Exit 0 with or without hits; with `--quarantine`, what the records say.
pub async fn find_cmd(settings: &Settings, a: &FindArgs) -> Result<()> {
    let q = query(a)?;
    if a.quarantine && a.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(eyre!(Usage(
            "--quarantine needs --reason saying why".into()
        )));
    }
    let p = progress_line();
    let r = triage::find(settings, &q, !a.no_refresh, &p)
        .await
        .map_err(|e| eyre!(e))?;
    if let Some(why) = &r.rebuilt {
        crate::warn!("provost: the index was rebuilt: {why}");
    }
    if let Some(f) = &r.indexed {
        for x in &f.failed {
            crate::warn!("provost: not indexed, so not searched: {x}");
        }
    }
    let json = a.sign.json;
    // Some place could not be read: the answer is partial (exit 9), never "not there".
    let partial = || -> Result<()> {
        if r.hits.iter().any(|h| !h.unknown_places.is_empty()) {
            Err(eyre!(super::exit::Code(PARTIAL)))
        } else {
            Ok(())
        }
    };
    if json && !a.quarantine {
        super::print_json(&r)?;
        return partial();
    }
    if !json {
        print_report(&r);
    }
    if !a.quarantine {
        return partial();
    }
    let targets: Vec<&Found> = r
        .hits
        .iter()
        .filter(|h| a.include_unverified || h.matched == crate::index::Match::Verified)
        .filter(|h| {
            // Already quarantined everywhere it is judged: nothing to add.
            !h.verdicts.iter().all(|v| {
                v.decision == Decision::Block
                    && v.findings.iter().any(|f| {
                        f.rule == "quarantine-record"
                            && f.outcome == crate::policy::Outcome::Fail
                            && f.evidence_fails
                    })
            }) || h.verdicts.is_empty()
        })
        .collect();
    if targets.is_empty() {
        crate::say!("nothing to quarantine");
        return Ok(());
    }
    let reason = a.reason.clone().unwrap_or_default();
    super::records::quarantine_many(settings, &a.sign, &targets, &reason).await?;
    partial()
}

/// `find`'s exit code when some place could not be read (its hits say which).
pub use super::exit::PARTIAL;
