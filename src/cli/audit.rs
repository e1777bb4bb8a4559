//! `provost audit log CHAIN` and `provost audit verify CHAIN`: the audit trail of an
//! environment (or of quarantines), read from the registry by anyone.

use crate::evidence::record::Record;
use crate::ledger::Chains;
use crate::release::chain;
use crate::setup::{NamedSource, Settings};
use crate::text::sanitize;
use color_eyre::eyre::{eyre, Result, WrapErr};

/// Where this machine remembers the newest head it saw of each chain.
pub const SEEN_FILE: &str = "audit-heads.json";

/// The audit trail does not verify.
pub use super::exit::TAMPERED;

/// `provost audit …`.
#[derive(clap::Subcommand, Clone, Debug)]
pub enum AuditCmd {
    /// Who did what, when and why: every record of a chain, newest first
    Log(AuditArgs),
    /// Check a chain: signatures, groups, unbroken links, no fork, and a head that has not gone
    /// back since this machine last saw it; exits 7 when anything does not hold
    Verify(AuditArgs),
}

/// Which chain.
#[derive(clap::Args, Clone, Debug)]
pub struct AuditArgs {
    /// An environment, or `quarantine`
    pub chain: String,
    /// Read the chain from this source's audit repository instead of the ledger's
    #[arg(long)]
    pub source: Option<String>,
    #[arg(long)]
    pub json: bool,
    /// Policy file (its groups say who may sign what)
    #[arg(long)]
    pub policy: Option<String>,
    /// Read every record from the registry (no content from the local cache)
    #[arg(long)]
    pub no_cache: bool,
}

/// The chains to read: the ledger's, or (`--source`) another source's audit repository.
fn chains_of(settings: &Settings, a: &AuditArgs) -> Result<std::sync::Arc<Chains>> {
    if a.chain != crate::evidence::record::QUARANTINE_CHAIN {
        super::gate::environment(settings, &a.chain)?;
    }
    match &a.source {
        None => Ok(settings.chains().map_err(|e| eyre!(e))?.clone()),
        Some(name) => {
            let s = settings.source_for(name)?;
            Ok(std::sync::Arc::new(Chains::new(
                crate::ledger::Ledger {
                    source: s.name.clone(),
                    store: s.store.clone(),
                    repository: settings.audit_repository.clone(),
                },
                settings.cache_dir(),
            )))
        }
    }
}

async fn read(
    settings: &Settings,
    a: &AuditArgs,
) -> Result<(std::sync::Arc<Chains>, crate::gate::Gate, chain::Walk)> {
    chain::check_chain_name(&a.chain).map_err(|e| eyre!(super::exit::Usage(e)))?;
    let chains = chains_of(settings, a)?;
    let source = NamedSource {
        name: chains.ledger.source.clone(),
        store: chains.ledger.store.clone(),
    };
    let gate = super::gate::gate_for(settings, &source, a.policy.as_deref())?;
    let walk = chains
        .read(&a.chain, &gate.trust, &gate.root, !a.no_cache)
        .await
        .wrap_err_with(|| format!("reading chain {} of {}", a.chain, chains.ledger.describe()))?;
    Ok((chains, gate, walk))
}

/// Where the record's digest lives: for a promotion its destination (source name, when one
/// is configured for that registry, and repository); else the repository the record names.
fn place(settings: &Settings, e: &chain::Entry) -> String {
    match &e.record {
        Some(Record::Promotion(p)) => {
            let name = settings
                .source(&p.to.registry)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| p.to.registry.clone());
            format!("{name} {}", p.to.repository)
        }
        _ => e.repository.clone().unwrap_or_default(),
    }
}

/// `provost audit log`.
pub async fn log_cmd(settings: &Settings, a: &AuditArgs) -> Result<()> {
    let (chains, _, walk) = read(settings, a).await?;
    if a.json {
        return super::print_json(&walk);
    }
    if walk.entries.is_empty() {
        crate::say!(
            "chain {} of {} has no record yet",
            a.chain,
            chains.ledger.describe()
        );
        return Ok(());
    }
    crate::say!(
        "chain {} of {}, newest first",
        a.chain,
        chains.ledger.describe()
    );
    crate::say!(
        "{:<34} {:<24} {:<44} {:<20} {:<28} WHY",
        "WHEN",
        "WHO",
        "WHAT",
        "DIGEST",
        "WHERE"
    );
    for e in &walk.entries {
        let who = match e.signer() {
            Some(s) => format!("✓ {}", crate::policy::records::signer_name(s)),
            None => format!("✗ unverified ({})", e.why_unproven()),
        };
        let what = e
            .record
            .as_ref()
            .map(|r| r.action_words())
            .unwrap_or_else(|| format!("unreadable: {}", e.problem.clone().unwrap_or_default()));
        let digest = e
            .subject
            .as_deref()
            .map(crate::oci::digest::short)
            .unwrap_or_default()
            .to_string();
        let why = e
            .record
            .as_ref()
            .map(|r| r.link().reason.clone())
            .unwrap_or_default();
        crate::say!(
            "{:<34} {:<24} {:<44} {:<20} {:<28} {}",
            e.when(),
            sanitize(&who),
            sanitize(&what),
            sanitize(&digest),
            sanitize(&place(settings, e)),
            sanitize(&why)
        );
    }
    if let Some(b) = &walk.broken {
        crate::warn!("the chain is broken: {}", sanitize(b));
    }
    Ok(())
}

/// `provost audit verify`.
pub async fn verify_cmd(settings: &Settings, a: &AuditArgs) -> Result<()> {
    let (chains, gate, walk) = read(settings, a).await?;
    let seen = settings.data_dir.as_ref().map(|d| d.join(SEEN_FILE));
    let identity = chains.ledger.identity();
    let report = chain::verify(
        chains.ledger.store.as_ref(),
        &chains.ledger.repository,
        &walk,
        &gate.policy.file,
        &gate.trust,
        &gate.root,
        seen.as_deref().map(|p| (p, identity.as_str())),
    )
    .await
    .wrap_err_with(|| format!("verifying chain {}", a.chain))?;
    if a.json {
        super::print_json(&report)?;
    } else if report.problems.is_empty() {
        crate::say!(
            "✓ chain {} in {} of {}: {} record(s) from head {} — every signature verifies, every signer was in the right group, the links are unbroken, no fork, and the head has not gone back",
            a.chain,
            sanitize(&chains.ledger.repository),
            sanitize(&chains.ledger.source),
            report.records,
            report.head.as_deref().map(crate::oci::digest::short).unwrap_or_else(|| "(none)".into())
        );
    } else {
        crate::say!(
            "✗ chain {} in {} of {} does not verify ({} record(s) read):",
            a.chain,
            sanitize(&chains.ledger.repository),
            sanitize(&chains.ledger.source),
            report.records
        );
        for p in &report.problems {
            crate::say!("  - {}", sanitize(p));
        }
    }
    if report.problems.is_empty() {
        Ok(())
    } else {
        Err(eyre!(super::exit::Code(TAMPERED)))
    }
}
