//! `provost gate` and `provost policy`: verdicts for CI, with documented exit codes.

use super::parse_ref;
use crate::config::{Environment, NamedSource, Settings};
use crate::oci::artifact::tags_with_digests;
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
    source: &NamedSource,
    policy: &Policy,
    trust: &[crate::verify::Trust],
    repo: &str,
    reference: &str,
    env: &Environment,
) -> Verdict {
    let store = source.store.as_ref();
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

/// `provost gate`. Returns the exit code: 0 pass or warn, 3 block, 1 when evaluation failed.
#[allow(clippy::too_many_arguments)]
pub async fn gate_cmd(
    settings: &Settings,
    target: &str,
    env_name: &str,
    policy_path: Option<&str>,
    all: bool,
    json: bool,
    summary: Option<&str>,
) -> Result<i32> {
    let env = environment(settings, env_name)?;
    let r = parse_ref(settings, target)?;
    let source = settings.source_for(&r.registry)?;
    let policy = policy_for(settings, &source, policy_path)?;
    let targets: Vec<(String, String)> = if all {
        let tags = tags_with_digests(source.store.as_ref(), &r.repository)
            .await
            .wrap_err_with(|| format!("listing {}", r.repository))?;
        let mut by_digest: Vec<(String, Vec<String>)> = vec![];
        for (t, d) in tags {
            match by_digest.iter_mut().find(|(x, _)| *x == d) {
                Some(e) => e.1.push(t),
                None => by_digest.push((d, vec![t])),
            }
        }
        by_digest
            .into_iter()
            .map(|(d, tags)| (format!("{}:{}", r.repository, tags.join(",")), d))
            .collect()
    } else {
        vec![(r.to_string(), r.reference().to_string())]
    };
    let repo = r.repository.clone();
    let trust = gate_trust(settings, &source, &policy)?;
    let (source_ref, policy_ref, repo_ref, trust_ref) = (&source, &policy, &repo, &trust);
    let rows: Vec<(String, Verdict)> = stream::iter(targets)
        .map(|(name, reference)| async move {
            let v = judge(
                settings, source_ref, policy_ref, trust_ref, repo_ref, &reference, env,
            )
            .await;
            (name, v)
        })
        .buffered(32)
        .collect()
        .await;
    if json {
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
    if let Some(path) = summary {
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
