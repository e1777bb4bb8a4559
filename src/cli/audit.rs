//! `provost audit log CHAIN` and `provost audit verify CHAIN`: the audit trail of an
//! environment (or of quarantines), read from the registry by anyone.

use crate::oci::Store;
use crate::release::chain;
use crate::setup::{NamedSource, Settings};
use crate::text::sanitize;
use color_eyre::eyre::{eyre, Result, WrapErr};

/// Where this machine remembers the newest head it saw of each chain.
pub const SEEN_FILE: &str = "audit-heads.json";

/// The audit trail does not verify.
pub const TAMPERED: i32 = 7;

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
    /// The source holding the chain (default: the environment's source, else the default store)
    #[arg(long)]
    pub source: Option<String>,
    #[arg(long)]
    pub json: bool,
    /// Policy file (its groups say who may sign what)
    #[arg(long)]
    pub policy: Option<String>,
}

fn source_of(settings: &Settings, a: &AuditArgs) -> Result<NamedSource> {
    if a.chain != crate::evidence::record::QUARANTINE_CHAIN {
        super::gate::environment(settings, &a.chain)?;
    }
    let name = match &a.source {
        Some(s) => s.clone(),
        None => settings
            .environments
            .iter()
            .find(|e| e.name == a.chain)
            .map(|e| e.source.clone())
            .unwrap_or_default(),
    };
    Ok(settings.source_for(&name)?)
}

async fn read(
    settings: &Settings,
    a: &AuditArgs,
) -> Result<(NamedSource, crate::gate::Gate, chain::Walk)> {
    chain::check_chain_name(&a.chain).map_err(|e| eyre!(super::exit::Usage(e)))?;
    let source = source_of(settings, a)?;
    let gate = super::gate::gate_for(settings, &source, a.policy.as_deref())?;
    let cache_dir = settings.cache_dir();
    let walk = match &cache_dir {
        // Records are content-addressed: read them through the disk cache; the head tag is
        // read live by the walk (the cache holds no pointer for it: ttl zero).
        Some(dir) => {
            let cached = crate::oci::disk::DiskCache::new(
                source.store.as_ref(),
                dir,
                std::time::Duration::ZERO,
            );
            let w = chain::walk(
                &cached,
                &settings.audit_repository,
                &a.chain,
                &gate.trust,
                &gate.root,
            )
            .await;
            cached.flush();
            w
        }
        None => {
            chain::walk(
                source.store.as_ref(),
                &settings.audit_repository,
                &a.chain,
                &gate.trust,
                &gate.root,
            )
            .await
        }
    }
    .wrap_err_with(|| {
        format!(
            "reading chain {} of {}",
            a.chain,
            sanitize(&settings.audit_repository)
        )
    })?;
    Ok((source, gate, walk))
}

/// `provost audit log`.
pub async fn log_cmd(settings: &Settings, a: &AuditArgs) -> Result<()> {
    let (_, _, walk) = read(settings, a).await?;
    if a.json {
        return super::print_json(&walk);
    }
    if walk.entries.is_empty() {
        crate::say!("chain {} has no record yet", a.chain);
        return Ok(());
    }
    crate::say!(
        "{:<34} {:<24} {:<40} {:<32} WHY",
        "WHEN",
        "WHO",
        "WHAT",
        "DIGEST"
    );
    for e in &walk.entries {
        let who = match (e.signer(), &e.check) {
            (Some(s), _) => format!("✓ {}", crate::policy::records::signer_name(s)),
            _ => "✗ unverified".to_string(),
        };
        let what = e
            .record
            .as_ref()
            .map(|r| r.action_words())
            .unwrap_or_else(|| format!("unreadable: {}", e.problem.clone().unwrap_or_default()));
        let digest = format!(
            "{}@{}",
            e.repository.clone().unwrap_or_default(),
            e.subject
                .as_deref()
                .map(crate::oci::digest::short)
                .unwrap_or_default()
        );
        let why = e
            .record
            .as_ref()
            .map(|r| r.link().reason.clone())
            .unwrap_or_default();
        crate::say!(
            "{:<34} {:<24} {:<40} {:<32} {}",
            e.when(),
            sanitize(&who),
            sanitize(&what),
            sanitize(&digest),
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
    let (source, gate, walk) = read(settings, a).await?;
    let seen = settings.data_dir.as_ref().map(|d| d.join(SEEN_FILE));
    let report = chain::verify(
        source.store.as_ref(),
        &settings.audit_repository,
        &walk,
        &gate.policy.file,
        &gate.trust,
        &gate.root,
        seen.as_deref(),
    )
    .await
    .wrap_err_with(|| format!("verifying chain {}", a.chain))?;
    if a.json {
        super::print_json(&report)?;
    } else if report.problems.is_empty() {
        crate::say!(
            "✓ chain {} in {} of {}: {} record(s) from head {} — every signature verifies, every signer was in the right group, the links are unbroken, no fork, and the head has not gone back",
            a.chain,
            sanitize(&settings.audit_repository),
            sanitize(source.store.name()),
            report.records,
            report.head.as_deref().map(crate::oci::digest::short).unwrap_or_else(|| "(none)".into())
        );
    } else {
        crate::say!(
            "✗ chain {} in {} of {} does not verify ({} record(s) read):",
            a.chain,
            sanitize(&settings.audit_repository),
            sanitize(source.store.name()),
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
