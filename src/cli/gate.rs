//! `provost gate` and `provost policy`: verdicts for CI, with documented exit codes.

use super::parse_ref;
use crate::config::{Environment, NamedSource, Settings};
use crate::oci::artifact::tags_with_digests;
use crate::oci::disk::{CacheUse, DiskCache};
use crate::oci::Store;
use crate::policy::{evaluate, Decision, Facts, Outcome, Policy, PolicyFile, Verdict};
use crate::text::sanitize;
use color_eyre::eyre::{eyre, Result, WrapErr};
use futures::stream::{self, StreamExt};

/// Exit code for a blocked gate.
pub const BLOCKED: i32 = 3;

/// The policy to apply: `--policy`, else the demo policy for a demo layout, else none (only the
/// built-in checks).
pub fn policy_for(settings: &Settings, source: &NamedSource, path: Option<&str>) -> Result<Policy> {
    if let Some(p) = path {
        return Policy::load(std::path::Path::new(p)).map_err(|e| eyre!(e));
    }
    if crate::demo::is_demo_layout(source.store.as_ref()) {
        return Ok(Policy::demo());
    }
    let _ = settings;
    Ok(Policy {
        origin: "no policy file (built-in checks only)".into(),
        file: PolicyFile::default(),
    })
}

fn environment<'a>(settings: &'a Settings, name: &str) -> Result<&'a Environment> {
    settings
        .environments
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| {
            eyre!(
                "no environment {name:?} (configured: {})",
                settings
                    .environments
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// The trust a gate applies: the configuration's (with the demo key for the demo layout) plus
/// the policy's own `[trust]`, whose paths are relative to the policy file. A broken policy
/// trust entry is an error, not a silently smaller trust list.
pub fn gate_trust(
    settings: &Settings,
    source: &NamedSource,
    policy: &Policy,
) -> Result<Vec<crate::verify::Trust>> {
    let mut trust = settings.trust_for(source);
    let (extra, _) = crate::config::load_trust(
        &policy.file.trust,
        Some(std::path::Path::new(&policy.origin)),
        &policy.origin,
        &[],
    )?;
    trust.extend(extra);
    Ok(trust)
}

/// Judges one digest: discovery, verification, evaluation. Errors become findings.
pub async fn judge(
    settings: &Settings,
    store: &impl Store,
    policy: &Policy,
    trust: &[crate::verify::Trust],
    repo: &str,
    reference: &str,
    env: &Environment,
) -> Verdict {
    let (digest, error) = if reference.starts_with("sha256:") {
        (reference.to_string(), None)
    } else {
        match store.resolve(repo, reference).await {
            Ok(d) => (d, None),
            Err(e) => (String::new(), Some(e.to_string())),
        }
    };
    let (root, error) = match (settings.root.get(), error) {
        (Ok(r), e) => (Some(r), e),
        (Err(re), e) => (None, e.or(Some(re))),
    };
    let discovery = match (root, &error) {
        (Some(root), None) => {
            crate::verify::oci::discover_verified(
                store,
                repo,
                &digest,
                super::evidence::cosign_repository().as_deref(),
                None,
                trust,
                root,
            )
            .await
        }
        _ => Default::default(),
    };
    let facts = Facts {
        digest: &digest,
        discovery: &discovery,
        created: None,
        error,
    };
    evaluate(&policy.file.rule, env, &facts, chrono::Utc::now())
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
                    f.rule,
                    f.message.replace('|', "\\|")
                )
            })
            .collect();
        out.push_str(&format!(
            "| `{}` | {} ({}) | {} | {} |\n",
            name,
            v.environment,
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
    let dir = crate::config::paths::cache_dir();
    match (&*source.store, opts.cache_ttl, dir) {
        (crate::oci::Source::Remote(_), Some(ttl), Some(dir)) => {
            let cache = DiskCache::new(source.store.as_ref(), &dir, ttl);
            let code = gate_on(settings, &source, &cache, &r, env_name, opts).await;
            cache.flush();
            let used = cache.used();
            if used != CacheUse::default() && !opts.json {
                eprintln!(
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
    let policy = policy_for(settings, source, opts.policy.as_deref())?;
    let trust = gate_trust(settings, source, &policy)?;
    let repo = r.repository.as_str();
    let rows: Vec<(String, Verdict)> = if opts.all {
        let tags = tags_with_digests(store, repo)
            .await
            .wrap_err_with(|| format!("listing {repo}"))?;
        let mut by_digest: Vec<(String, Vec<String>)> = vec![];
        for (t, d) in tags {
            match by_digest.iter_mut().find(|(x, _)| *x == d) {
                Some(e) => e.1.push(t),
                None => by_digest.push((d, vec![t])),
            }
        }
        let (policy, trust) = (&policy, &trust);
        stream::iter(by_digest)
            .map(|(digest, tags)| async move {
                let v = judge(settings, store, policy, trust, repo, &digest, env).await;
                (format!("{repo}:{}", tags.join(",")), v)
            })
            .buffered(32)
            .collect()
            .await
    } else {
        // The named tag is always resolved by the registry itself (never from a cached
        // pointer), and when that fails the failure is the verdict's: the gate is for what the
        // tag names now.
        let raw = source.store.as_ref();
        let v = match raw.resolve(repo, r.reference()).await {
            Ok(d) => judge(settings, store, &policy, &trust, repo, &d, env).await,
            Err(_) => judge(settings, raw, &policy, &trust, repo, r.reference(), env).await,
        };
        vec![(r.to_string(), v)]
    };
    if opts.json {
        let verdicts: Vec<serde_json::Value> = rows
            .iter()
            .map(|(n, v)| {
                let mut j = serde_json::to_value(v).unwrap_or_default();
                j["artifact"] = serde_json::Value::String(n.clone());
                j
            })
            .collect();
        super::print_json(&serde_json::json!({"policy": policy.origin, "verdicts": verdicts}))?;
    } else {
        for (n, v) in &rows {
            print!(
                "{}",
                verdict_text(&format!("{n}@{}", crate::oci::digest::short(&v.digest)), v)
            );
        }
    }
    if let Some(path) = &opts.summary {
        std::fs::write(path, summary_markdown(&rows))
            .wrap_err_with(|| format!("writing the summary {path}"))?;
    }
    let errored = rows
        .iter()
        .any(|(_, v)| v.findings.iter().any(|f| f.outcome == Outcome::Error));
    let blocked = rows.iter().any(|(_, v)| v.decision == Decision::Block);
    Ok(if errored {
        super::exit::ERROR
    } else if blocked {
        BLOCKED
    } else {
        0
    })
}

/// `provost policy check FILE`.
pub fn policy_check(path: &str) -> Result<()> {
    let p = PolicyFile::load(std::path::Path::new(path)).map_err(|e| eyre!(e))?;
    println!("{path}: valid, {} rule(s)", p.rule.len());
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
    let policy = policy_for(settings, &source, policy_path)?;
    print!("{}", policy.explain(env));
    println!("(policy: {})", policy.origin);
    Ok(())
}
