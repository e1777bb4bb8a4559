//! `provost gate` and `provost policy`: verdicts for CI, with documented exit codes.

use super::parse_ref;
use crate::config::Environment;
use crate::gate::Gate;
use crate::oci::artifact::tags_and_evidence_live;
use crate::oci::disk::{CacheUse, DiskCache};
use crate::oci::Store;
use crate::policy::{Decision, Outcome, PolicyFile, Verdict};
use crate::setup::{NamedSource, Settings};
use crate::text::sanitize;
use color_eyre::eyre::{eyre, Result, WrapErr};
use futures::stream::{self, StreamExt};

/// Exit code for a blocked gate.
pub use super::exit::BLOCKED;

/// The environment called `name`, or a usage error naming the configured ones.
pub fn environment<'a>(settings: &'a Settings, name: &str) -> Result<&'a Environment> {
    settings
        .environment(name)
        .map_err(|e| eyre!(super::exit::Usage(e)))
}

/// The gate for a source, a bad policy or trust file being a usage error (exit 2).
pub fn gate_for(settings: &Settings, source: &NamedSource, policy: Option<&str>) -> Result<Gate> {
    settings
        .gate(source, policy.map(std::path::Path::new))
        .map_err(|e| eyre!(super::exit::Usage(e.to_string())))
}

fn mark(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "✓",
        Outcome::Fail => "✗",
        Outcome::Missing => "?",
        Outcome::Skipped => "·",
        Outcome::Error => "!",
    }
}

/// The verdict in words, every finding listed, hints under the failures.
pub fn verdict_text(name: &str, v: &Verdict) -> String {
    let mut out = format!(
        "{} → {} ({}): {}\n",
        sanitize(name),
        v.environment,
        v.tier,
        v.decision.label()
    );
    for f in &v.findings {
        out.push_str(&format!(
            "  {} {:<20} {}\n",
            mark(f.outcome),
            f.rule,
            sanitize(&f.message)
        ));
        if !matches!(f.outcome, Outcome::Pass | Outcome::Skipped) {
            if let Some(h) = &f.hint {
                out.push_str(&format!("      → {}\n", sanitize(h)));
            }
        }
    }
    out
}

fn summary_markdown(rows: &[(String, Verdict)]) -> String {
    use crate::text::markdown;
    let mut out = String::from(
        "## provost gate\n\n| artifact | environment | decision | reasons |\n|---|---|---|---|\n",
    );
    for (name, v) in rows {
        let reasons: Vec<String> = v
            .findings
            .iter()
            .filter(|f| !matches!(f.outcome, Outcome::Pass | Outcome::Skipped))
            .map(|f| {
                format!(
                    "{} {}: {}",
                    mark(f.outcome),
                    markdown(&f.rule),
                    markdown(&f.message)
                )
            })
            .collect();
        out.push_str(&format!(
            "| {} | {} ({}) | {} | {} |\n",
            markdown(name),
            markdown(&v.environment),
            v.tier,
            v.decision.label(),
            if reasons.is_empty() {
                "all checks pass".into()
            } else {
                reasons.join("<br>")
            }
        ));
    }
    out
}

/// How `provost gate` runs, beyond its target and environment.
#[derive(Debug, Clone, Default)]
pub struct GateOptions {
    pub policy: Option<String>,
    pub all: bool,
    pub json: bool,
    pub summary: Option<String>,
    /// Reuse on-disk tag pointers younger than this (`None`: no on-disk cache at all).
    pub cache_ttl: Option<std::time::Duration>,
}

/// `provost gate`. Returns the exit code: 0 pass or warn, 3 block, 1 when evaluation failed.
pub async fn gate_cmd(
    settings: &Settings,
    target: &str,
    env_name: &str,
    opts: &GateOptions,
) -> Result<i32> {
    let r = parse_ref(settings, target)?;
    let source = settings.source_for(&r.registry)?;
    let dir = settings.cache_dir();
    match (&*source.store, opts.cache_ttl, dir) {
        (crate::oci::Source::Remote(_), Some(ttl), Some(dir)) => {
            let cache = DiskCache::keyed(source.store.as_ref(), &dir, ttl, settings.cache_key());
            let code = gate_on(settings, &source, &cache, &r, env_name, opts).await;
            cache.flush();
            let used = cache.used();
            if used != CacheUse::default() && !opts.json {
                crate::warn!(
                    "cache: {} tag lookup(s) reused (younger than {}s), {} absent by the tag list, \
                     {} manifest(s)/blob(s) from the cache — --no-cache to ask the registry for everything",
                    used.pointers,
                    ttl.as_secs(),
                    used.absent,
                    used.content
                );
            }
            code
        }
        _ => gate_on(settings, &source, source.store.as_ref(), &r, env_name, opts).await,
    }
}

async fn gate_on(
    settings: &Settings,
    source: &NamedSource,
    store: &impl Store,
    r: &crate::oci::ArtifactRef,
    env_name: &str,
    opts: &GateOptions,
) -> Result<i32> {
    let env = environment(settings, env_name)?;
    let gate = gate_for(settings, source, opts.policy.as_deref())?;
    let repo = r.repository.as_str();
    let envs = std::slice::from_ref(env);
    // Each row: the artifact's name, its verdict, and (for --json) the evidence it was judged
    // on, with every signature's typed result.
    let rows: Vec<(String, Verdict, serde_json::Value)> = if opts.all {
        // Every image tag is resolved by the registry itself, on every tier: a tag moved since
        // the last run is judged at once, for the digest the console (which resolves live too)
        // shows. Evidence tags are settled by the live list.
        let (tags, evidence_tags) = tags_and_evidence_live(store, repo)
            .await
            .wrap_err_with(|| format!("listing {}", sanitize(repo)))?;
        if tags.is_empty() && !repository_exists(source.store.as_ref(), repo).await? {
            // Nothing to judge is not a pass: a missing repository is "not found" (exit 5).
            return Err(eyre!(crate::oci::OciError::NotFound {
                what: "repository",
                name: repo.to_string(),
                source_name: source.name.clone(),
            }));
        }
        let mut by_digest: Vec<(String, Vec<String>)> = vec![];
        for (t, d) in tags {
            match by_digest.iter_mut().find(|(x, _)| *x == d) {
                Some(e) => e.1.push(t),
                None => by_digest.push((d, vec![t])),
            }
        }
        let gate = &gate;
        let judged: Vec<_> = stream::iter(by_digest)
            .map(|(digest, tags)| async move {
                let j = gate.judge(store, repo, &digest, envs).await;
                // Kept by the triage index, when the evidence was read in full.
                let facts = j.discovery.errors.is_empty().then(|| {
                    (
                        crate::index::DigestFacts::from_judgement(&source.name, repo, &j),
                        tags.clone(),
                    )
                });
                let (v, e) = split(j);
                ((format!("{repo}:{}", tags.join(",")), v, e), facts)
            })
            .buffered(32)
            .collect()
            .await;
        let facts: Vec<_> = judged.iter().filter_map(|(_, f)| f.clone()).collect();
        crate::index::fill::remember(settings, gate, &facts, &evidence_tags);
        judged.into_iter().map(|(row, _)| row).collect()
    } else {
        // The named tag is always resolved by the registry itself (never from a cached
        // pointer). A tag or repository that does not exist gets no verdict (exit 5); a registry
        // that cannot answer gets a verdict that says so, blocking where the tier fails closed.
        let raw = source.store.as_ref();
        let (v, e) = match &r.digest {
            Some(d) => split(gate.judge(store, repo, d, envs).await),
            None => match raw.resolve(repo, r.reference()).await {
                Ok(d) => split(gate.judge(store, repo, &d, envs).await),
                Err(e) if e.is_not_found() => {
                    return Err(eyre!(e)).wrap_err_with(|| format!("resolving {r}"));
                }
                Err(e) => (
                    crate::gate::unresolved(env, &format!("resolving {r}: {e}")),
                    serde_json::Value::Array(vec![]),
                ),
            },
        };
        vec![(r.to_string(), v, e)]
    };
    if opts.json {
        let verdicts: Vec<serde_json::Value> = rows
            .iter()
            .map(|(n, v, e)| {
                let mut j = serde_json::to_value(v).unwrap_or_default();
                j["artifact"] = serde_json::Value::String(n.clone());
                j["evidence"] = e.clone();
                j
            })
            .collect();
        super::print_json(
            &serde_json::json!({"policy": gate.policy.origin, "verdicts": verdicts}),
        )?;
    } else {
        for (n, v, _) in &rows {
            crate::say_part!(
                "{}",
                verdict_text(&format!("{n}@{}", crate::oci::digest::short(&v.digest)), v)
            );
        }
    }
    if let Some(path) = &opts.summary {
        let rows: Vec<(String, Verdict)> = rows
            .iter()
            .map(|(n, v, _)| (n.clone(), v.clone()))
            .collect();
        std::fs::write(path, summary_markdown(&rows))
            .wrap_err_with(|| format!("writing the summary {path}"))?;
    }
    let errored = rows
        .iter()
        .any(|(_, v, _)| v.findings.iter().any(|f| f.outcome == Outcome::Error));
    let blocked = rows.iter().any(|(_, v, _)| v.decision == Decision::Block);
    Ok(if errored {
        super::exit::ERROR
    } else if blocked {
        BLOCKED
    } else {
        0
    })
}

/// A judgement of one environment as the verdict and, for `--json`, the evidence it read: each
/// item's kind, type, digest, binding and typed signature results.
fn split(mut j: crate::gate::Judgement) -> (Verdict, serde_json::Value) {
    let evidence = j
        .discovery
        .items
        .iter()
        .map(|i| {
            serde_json::json!({
                "kind": i.kind,
                "predicate_type": i.predicate_type,
                "digest": i.digest,
                "found": i.found,
                "binding": i.binding,
                "signer": i.signer,
            })
        })
        .collect();
    (j.verdicts.remove(0), serde_json::Value::Array(evidence))
}

/// True when the store lists `repo` (a layout with no such repository lists no tags for it
/// either, rather than failing).
async fn repository_exists(store: &impl Store, repo: &str) -> Result<bool> {
    match store.list_repositories().await {
        Ok(repos) => Ok(repos.iter().any(|r| r == repo)),
        // A registry that does not list its catalog: the empty tag list stands.
        Err(_) => Ok(true),
    }
}

/// `provost policy check FILE`: validated against the configured environments (dev, staging
/// and prod when none are configured).
pub fn policy_check(path: &str, environments: &[String]) -> Result<()> {
    let names: Vec<&str> = if environments.is_empty() {
        crate::policy::file::DEFAULT_ENVIRONMENTS.to_vec()
    } else {
        environments.iter().map(String::as_str).collect()
    };
    let p = PolicyFile::load_for(std::path::Path::new(path), &names)
        .map_err(|e| eyre!(super::exit::Usage(e.to_string())))?;
    crate::say!("{}: valid, {} rule(s)", sanitize(path), p.rule.len());
    Ok(())
}

/// `provost policy explain --env NAME`.
pub fn policy_explain(
    settings: &Settings,
    env_name: &str,
    policy_path: Option<&str>,
) -> Result<()> {
    let env = environment(settings, env_name)?;
    let source = settings.source_for(&env.source)?;
    let gate = gate_for(settings, &source, policy_path)?;
    crate::say_part!("{}", gate.policy.explain(env));
    let path = crate::config::path_to(&settings.environments, &env.name);
    if path.len() > 1 {
        let names: Vec<&str> = path.iter().map(|e| e.name.as_str()).collect();
        crate::say!(
            "Promotion path: {}; `provost promote REF --to {}` moves the tag {} in {} (repositories {}).",
            names.join(" → "),
            env.name,
            sanitize(&env.tag),
            sanitize(&env.source),
            sanitize(&env.repository)
        );
    }
    if let Ok(c) = settings.chains() {
        crate::say!(
            "Records that count for {} are those linked into chain {} (and quarantine) of the ledger, {}; a copy in any registry is judged by them. The first environment of a path gets its digests by a push to its tag.",
            env.name,
            env.name,
            c.ledger.describe()
        );
    }
    crate::say!("(policy: {})", sanitize(&gate.policy.origin));
    Ok(())
}

/// `provost policy compare OLD NEW [--env ENV] [REF | --all SOURCE]`.
pub async fn policy_compare(
    settings: &Settings,
    (old, new): (&str, &str),
    env_name: Option<&str>,
    reference: Option<&str>,
    all: Option<&str>,
    json: bool,
) -> Result<()> {
    use crate::triage::compare::{self, Target};
    let (source, targets) = match (reference, all) {
        (Some(r), _) => {
            let (r, source, digest) = super::resolve_ref(settings, r).await?;
            let t = Target {
                name: r.to_string(),
                repository: r.repository.clone(),
                digest,
            };
            (source, vec![t])
        }
        (None, Some(s)) => {
            let source = settings
                .source(s)
                .cloned()
                .ok_or_else(|| eyre!(super::exit::Usage(format!("no source {:?}", sanitize(s)))))?;
            let t = compare::every_digest(&source, &settings.audit_repository)
                .await
                .map_err(|e| eyre!(e))?;
            (source, t)
        }
        (None, None) => {
            return Err(eyre!(super::exit::Usage(
                "name what to judge: a reference, or --all SOURCE".into()
            )))
        }
    };
    let envs: Vec<Environment> = match env_name {
        Some(n) => vec![environment(settings, n)?.clone()],
        None => settings
            .environments
            .iter()
            .filter(|e| e.source == source.name)
            .cloned()
            .collect(),
    };
    let a = gate_for(settings, &source, Some(old))?;
    let b = gate_for(settings, &source, Some(new))?;
    let c = compare::compare(&source, &a, &b, &envs, &targets).await;
    if json {
        return super::print_json(&c);
    }
    crate::say!(
        "{} of {} verdict(s) change from {} to {}:",
        c.changes.len(),
        c.judged,
        sanitize(old),
        sanitize(new)
    );
    for ch in &c.changes {
        crate::say!(
            "  {}@{} in {}: {} → {}",
            sanitize(&ch.artifact),
            crate::oci::digest::short(&ch.digest),
            ch.environment,
            ch.old.label(),
            ch.new.label()
        );
        for f in &ch.findings {
            let o = |x: Option<Outcome>| x.map(mark).unwrap_or("(no rule)");
            crate::say!(
                "      {} → {} {}: {}",
                o(f.old),
                o(f.new),
                f.rule,
                sanitize(&f.message)
            );
        }
    }
    Ok(())
}
