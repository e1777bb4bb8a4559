//! `provost approve`, `quarantine`, `unquarantine`: signed release records. Each shows exactly
//! what it will sign and with which key, asks (or, without a terminal, needs `--yes`), writes
//! the record into the chain and onto the digest, and shows the verdict it changed.

use super::exit::Usage;
pub(super) use super::signer::{load_person, signing, urls, Person};
use crate::release::act::Kind;
use crate::release::record::{self, Draft};
use crate::setup::{NamedSource, Settings};
use crate::text::sanitize;
use color_eyre::eyre::{eyre, Result, WrapErr};

/// How a record is signed, from the command line.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct SignArgs {
    /// The private key to sign with (cosign key format; passphrase from PROVOST_PASSWORD,
    /// COSIGN_PASSWORD or a prompt), or `demo:NAME` for a person of the demo store (default:
    /// `signing_key` in provost.toml)
    #[arg(long, value_name = "FILE|demo:NAME")]
    pub key: Option<String>,
    /// An RFC 3161 timestamp authority that countersigns the record (default:
    /// `timestamp_server` in provost.toml); independent Sigstore verifiers need it
    #[arg(long, value_name = "URL")]
    pub timestamp_server_url: Option<String>,
    /// Write without asking
    #[arg(long)]
    pub yes: bool,
    /// Print the plan, or what was written, as JSON
    #[arg(long)]
    pub json: bool,
    /// Policy file (default: the configured one, or the demo policy for the demo store)
    #[arg(long)]
    pub policy: Option<String>,
    /// Sign keyless: an OIDC identity token for Fulcio (also read from SIGSTORE_ID_TOKEN;
    /// --key wins); needs fulcio_url and rekor_url (provost.toml) or --fulcio-url and
    /// --rekor-url
    #[arg(long, env = "SIGSTORE_ID_TOKEN", hide_env_values = true)]
    pub identity_token: Option<String>,
    /// The Fulcio instance for keyless signing (default: fulcio_url in provost.toml)
    #[arg(long, value_name = "URL")]
    pub fulcio_url: Option<String>,
    /// The Rekor log every record is entered in (default: rekor_url in provost.toml)
    #[arg(long, value_name = "URL")]
    pub rekor_url: Option<String>,
}

/// `provost approve REF --env ENV`.
#[derive(clap::Args, Clone, Debug)]
pub struct ApproveArgs {
    pub reference: String,
    #[arg(long = "env")]
    pub environment: String,
    /// Why, in words (recorded and shown to everyone)
    #[arg(long, default_value = "")]
    pub reason: String,
    /// Record a rejection instead: it blocks until you approve
    #[arg(long)]
    pub reject: bool,
    /// The approval stops counting after this time (RFC 3339) or this many days (`7d`)
    #[arg(long, value_name = "TIME|DAYSd")]
    pub expires: Option<String>,
    #[command(flatten)]
    pub sign: SignArgs,
}

/// `provost quarantine REF --reason TEXT` and `unquarantine`.
#[derive(clap::Args, Clone, Debug)]
pub struct QuarantineArgs {
    pub reference: String,
    /// Why (required: a quarantine without a reason helps nobody)
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub sign: SignArgs,
}

fn parse_expiry(s: &str, now: chrono::DateTime<chrono::Utc>) -> Result<String> {
    if let Some(days) = s.strip_suffix('d') {
        let n: i64 = days.parse().map_err(|_| {
            eyre!(Usage(format!(
                "--expires {:?}: not a number of days",
                sanitize(s)
            )))
        })?;
        if !(1..=3650).contains(&n) {
            return Err(eyre!(Usage("--expires: between 1 and 3650 days".into())));
        }
        return Ok(
            (now + chrono::Duration::days(n)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    let t = chrono::DateTime::parse_from_rfc3339(s).map_err(|e| {
        eyre!(Usage(format!(
            "--expires {:?}: {e} (RFC 3339 or 7d)",
            sanitize(s)
        )))
    })?;
    if t.with_timezone(&chrono::Utc) <= now {
        return Err(eyre!(Usage("--expires is in the past".into())));
    }
    Ok(t.with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

pub(super) fn refuse_read_only(settings: &Settings) -> Result<()> {
    if settings.read_only {
        return Err(eyre!(Usage(
            "read-only: this configuration (read_only = true or --read-only) refuses every write"
                .into()
        )));
    }
    Ok(())
}

/// Asks on the terminal; without one, `--yes` is needed.
pub(super) fn confirm(yes: bool, question: &str) -> Result<bool> {
    use std::io::{IsTerminal, Write};
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        crate::say!("dry run: nothing was written (pass --yes to write)");
        return Ok(false);
    }
    crate::text::err_part(&format!("{question} [y/N] "));
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    // Waiting for the user is not counted against the command's bound.
    crate::oci::budget::paused(|| std::io::stdin().read_line(&mut answer))
        .wrap_err("reading the answer")?;
    let ok = matches!(answer.trim(), "y" | "Y" | "yes");
    if !ok {
        crate::say!("nothing was written");
    }
    Ok(ok)
}

/// What will be signed, in words and as the exact statement.
async fn show_plan(
    settings: &Settings,
    draft: &mut Draft,
    person: &Person,
    source: &NamedSource,
    json: bool,
) -> Result<()> {
    let chains = settings.chains().map_err(|e| eyre!(e))?;
    let audit_repo = chains.ledger.repository.as_str();
    let head = crate::release::act::link_to_head(chains.ledger.store.as_ref(), audit_repo, draft)
        .await
        .wrap_err("reading the chain's head")?;
    let st = draft.statement();
    if json {
        return super::print_json(&serde_json::json!({
            "signer": person.signer,
            "statement": st,
            "source": source.name,
            "ledger": chains.ledger.source,
            "auditRepository": audit_repo,
            "chain": draft.record.link().chain,
        }));
    }
    crate::say!(
        "{} {}@{}",
        draft.record.action_words(),
        sanitize(&draft.repository),
        draft.subject.digest
    );
    crate::say!("signed by {}", person.signer.sentence());
    crate::say!(
        "linked into chain {} of the ledger ({}) and stored as a referrer of the digest in {}",
        draft.record.link().chain,
        chains.ledger.describe(),
        sanitize(&source.name)
    );
    if head.is_some() {
        crate::say!(
            "(if another writer moves the chain's head first, the record names the new head and is signed again)"
        );
    }
    crate::say!("the statement that will be signed:");
    let text = serde_json::to_string_pretty(&st).unwrap_or_default();
    crate::say_part!("{text}\n");
    Ok(())
}

async fn sign_and_write(
    settings: &Settings,
    source: &NamedSource,
    draft: Draft,
    person: &Person,
    args: &SignArgs,
) -> Result<record::Written> {
    let urls = urls(settings, args);
    let signing = signing(person, &urls)?;
    let chains = settings.chains().map_err(|e| eyre!(e))?;
    let written = crate::release::record::write_to(
        chains.ledger.store.as_ref(),
        &chains.ledger.repository,
        source.store.as_ref(),
        &draft,
        &signing,
    )
    .await
    .wrap_err_with(|| format!("writing the record for {}", sanitize(&draft.repository)))?;
    if let Some(dir) = crate::config::paths::cache_dir() {
        use crate::oci::Store;
        let name = source.store.name();
        crate::oci::disk::invalidate(&dir, name, &draft.repository);
    }
    if let (Some(data), Ok(chains)) = (&settings.data_dir, settings.chains()) {
        chains.forget();
        crate::release::chain::remember(
            &data.join(super::audit::SEEN_FILE),
            &chains.ledger.identity(),
            &written.chain,
            &written.record,
            None,
        );
    }
    Ok(written)
}

/// Prints the finding the record changed, judged again with the same gate.
#[allow(clippy::too_many_arguments)]
async fn show_effect(
    gate: &crate::gate::Gate,
    source: &NamedSource,
    repo: &str,
    digest: &str,
    envs: &[crate::config::Environment],
    rules: &[&str],
    json: bool,
    written: &record::Written,
) -> Result<()> {
    let j = gate.judge(source.store.as_ref(), repo, digest, envs).await;
    if json {
        return super::print_json(&serde_json::json!({
            "written": written,
            "verdicts": j.verdicts,
        }));
    }
    crate::say!(
        "wrote record {} (chain {}{})",
        written.record,
        written.chain,
        if written.relinked > 0 {
            format!(
                ", relinked {} time(s) after another writer moved the head",
                written.relinked
            )
        } else {
            String::new()
        }
    );
    for v in &j.verdicts {
        for f in v
            .findings
            .iter()
            .filter(|f| rules.contains(&f.rule.as_str()))
        {
            crate::say!(
                "{} ({}): {} — {}",
                v.environment,
                v.decision.label(),
                f.rule,
                sanitize(&f.message)
            );
        }
    }
    Ok(())
}

/// `provost approve`.
pub async fn approve_cmd(settings: &Settings, a: &ApproveArgs) -> Result<()> {
    let env = super::gate::environment(settings, &a.environment)?.clone();
    let now = chrono::Utc::now();
    let not_after = a
        .expires
        .as_deref()
        .map(|e| parse_expiry(e, now))
        .transpose()?;
    let kind = Kind::Approve {
        environment: env.name.clone(),
        reject: a.reject,
        not_after,
    };
    let (r, source, digest) = super::resolve_ref(settings, &a.reference).await?;
    let gate = super::gate::gate_for(settings, &source, a.sign.policy.as_deref())?;
    let rules: Vec<String> = gate
        .policy
        .file
        .rule
        .iter()
        .filter(|r| r.kind == crate::policy::RuleKind::Approvals)
        .map(|r| r.name.clone())
        .collect();
    let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
    record_cmd(
        settings,
        &a.sign,
        (&r.repository, &source, &digest),
        &gate,
        &kind,
        &a.reason,
        std::slice::from_ref(&env),
        &rules,
    )
    .await
}

/// Checks, plans, confirms, writes and shows the effect of one record.
#[allow(clippy::too_many_arguments)]
async fn record_cmd(
    settings: &Settings,
    sign: &SignArgs,
    (repo, source, digest): (&str, &NamedSource, &str),
    gate: &crate::gate::Gate,
    kind: &Kind,
    reason: &str,
    shown: &[crate::config::Environment],
    rules: &[&str],
) -> Result<()> {
    refuse_read_only(settings)?;
    let person = load_person(settings, source, sign, &gate.trust)?;
    crate::release::act::check_allowed(gate, &person.signer, kind, &settings.environments)
        .map_err(|e| eyre!(Usage(e)))?;
    let mut draft = crate::release::act::draft(
        source.store.as_ref(),
        gate,
        repo,
        digest,
        kind,
        reason,
        chrono::Utc::now(),
    )
    .await
    .wrap_err_with(|| format!("reading {}@{digest}", sanitize(repo)))?;
    show_plan(
        settings,
        &mut draft,
        &person,
        source,
        sign.json && !sign.yes,
    )
    .await?;
    if !confirm(
        sign.yes,
        &format!("Sign and write this record ({})?", kind.words()),
    )? {
        return Ok(());
    }
    let written = sign_and_write(settings, source, draft, &person, sign).await?;
    show_effect(
        gate, source, repo, digest, shown, rules, sign.json, &written,
    )
    .await
}

/// `provost quarantine` (lift = false) and `provost unquarantine` (lift = true).
pub async fn quarantine_cmd(settings: &Settings, a: &QuarantineArgs, lift: bool) -> Result<()> {
    if a.reason.trim().is_empty() {
        return Err(eyre!(Usage("--reason must say why".into())));
    }
    let (r, source, digest) = super::resolve_ref(settings, &a.reference).await?;
    let gate = super::gate::gate_for(settings, &source, a.sign.policy.as_deref())?;
    record_cmd(
        settings,
        &a.sign,
        (&r.repository, &source, &digest),
        &gate,
        &Kind::Quarantine { lift },
        &a.reason,
        &settings.environments,
        &["quarantine-record"],
    )
    .await
}

/// Quarantines every hit of a `find`: one plan listing every digest, one question, then one
/// signed record per digest (each linked into the quarantine chain in turn), each reported.
pub async fn quarantine_many(
    settings: &Settings,
    sign: &SignArgs,
    hits: &[&crate::triage::Found],
    reason: &str,
) -> Result<()> {
    refuse_read_only(settings)?;
    let kind = Kind::Quarantine { lift: false };
    // Every source involved: its gate, and the person as that source trusts them.
    let mut plans = vec![];
    for h in hits {
        let source = settings
            .source(&h.source)
            .ok_or_else(|| eyre!(Usage(format!("no source {:?}", sanitize(&h.source)))))?
            .clone();
        let gate = super::gate::gate_for(settings, &source, sign.policy.as_deref())?;
        plans.push((source, gate, *h));
    }
    let Some((first_source, first_gate, _)) = plans.first() else {
        return Ok(());
    };
    let person = load_person(settings, first_source, sign, &first_gate.trust)?;
    for (_, gate, _) in &plans {
        crate::release::act::check_allowed(gate, &person.signer, &kind, &settings.environments)
            .map_err(|e| eyre!(Usage(e)))?;
    }
    crate::say!(
        "will quarantine {} digest(s), signed by {}, reason {:?}:",
        plans.len(),
        person.signer.sentence(),
        reason
    );
    for (source, _, h) in &plans {
        crate::say!(
            "  {}/{}@{}{}",
            source.name,
            sanitize(&h.repository),
            h.digest,
            if h.holds_now.is_empty() {
                String::new()
            } else {
                format!("  (now in {})", h.holds_now.join(", "))
            }
        );
    }
    crate::say!(
        "each record is linked into chain quarantine of the ledger ({}) and stored as a referrer of its digest",
        settings
            .chains()
            .map(|c| c.ledger.describe())
            .unwrap_or_default()
    );
    if !confirm(
        sign.yes,
        &format!("Sign and write these {} quarantine records?", plans.len()),
    )? {
        return Ok(());
    }
    let mut written_all = vec![];
    let mut failed = 0;
    for (source, gate, h) in &plans {
        let draft = match crate::release::act::draft(
            source.store.as_ref(),
            gate,
            &h.repository,
            &h.digest,
            &kind,
            reason,
            chrono::Utc::now(),
        )
        .await
        {
            Ok(d) => d,
            Err(e) => {
                failed += 1;
                crate::warn!("✗ {}@{}: {e}", sanitize(&h.repository), h.digest);
                continue;
            }
        };
        match sign_and_write(settings, source, draft, &person, sign).await {
            Ok(w) => {
                if !sign.json {
                    crate::say!(
                        "✓ quarantined {}@{} (record {})",
                        sanitize(&h.repository),
                        crate::oci::digest::short(&h.digest),
                        crate::oci::digest::short(&w.record)
                    );
                }
                written_all.push(serde_json::json!({
                    "source": source.name,
                    "repository": h.repository,
                    "digest": h.digest,
                    "written": w,
                }));
            }
            Err(e) => {
                failed += 1;
                crate::warn!("✗ {}@{}: {e:#}", sanitize(&h.repository), h.digest);
            }
        }
    }
    if sign.json {
        super::print_json(&serde_json::json!({ "quarantined": written_all }))?;
    }
    if failed > 0 {
        return Err(eyre!(
            "{failed} of {} quarantine record(s) were not written (the others were)",
            plans.len()
        ));
    }
    Ok(())
}
