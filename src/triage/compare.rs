//! Policy drift: which digests would change verdict under a new policy, and through which
//! findings. Both policies are applied by the gate itself (each with its own trust), so the
//! answer is what `gate` would say before and after the change.

use crate::config::Environment;
use crate::gate::Gate;
use crate::oci::artifact::tags_with_digests;
use crate::oci::Store;
use crate::policy::{Decision, Outcome, Verdict};
use crate::setup::NamedSource;
use serde::Serialize;

/// One digest to judge: where it is and what to call it.
#[derive(Debug, Clone)]
pub struct Target {
    pub repository: String,
    pub digest: String,
    pub name: String,
}

/// A finding whose outcome differs.
#[derive(Debug, Clone, Serialize)]
pub struct FindingChange {
    pub rule: String,
    pub old: Option<Outcome>,
    pub new: Option<Outcome>,
    /// The new policy's words for it (the old one's when the rule is gone).
    pub message: String,
}

/// A verdict that changes.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub artifact: String,
    pub digest: String,
    pub environment: String,
    pub old: Decision,
    pub new: Decision,
    pub findings: Vec<FindingChange>,
}

/// What a comparison found.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub old_policy: String,
    pub new_policy: String,
    /// Digest × environment verdicts compared.
    pub judged: usize,
    pub changes: Vec<Change>,
}

/// Every tagged digest of every repository of `source` (but the audit repository).
pub async fn every_digest(source: &NamedSource, audit: &str) -> Result<Vec<Target>, String> {
    let repos = source
        .store
        .list_repositories()
        .await
        .map_err(|e| format!("listing {}: {e}", source.name))?;
    let mut out: Vec<Target> = vec![];
    for repo in repos.into_iter().filter(|r| r != audit) {
        let tags = tags_with_digests(source.store.as_ref(), &repo)
            .await
            .map_err(|e| format!("listing {}: {e}", crate::text::sanitize(&repo)))?;
        for (t, d) in tags {
            match out
                .iter_mut()
                .find(|x| x.repository == repo && x.digest == d)
            {
                Some(x) => x.name.push_str(&format!(",{t}")),
                None => out.push(Target {
                    name: format!("{repo}:{t}"),
                    repository: repo.clone(),
                    digest: d,
                }),
            }
        }
    }
    Ok(out)
}

fn changed_findings(old: &Verdict, new: &Verdict) -> Vec<FindingChange> {
    let mut out = vec![];
    for f in &new.findings {
        let before = old.findings.iter().find(|o| o.rule == f.rule);
        if before.map(|o| o.outcome) != Some(f.outcome) {
            out.push(FindingChange {
                rule: f.rule.clone(),
                old: before.map(|o| o.outcome),
                new: Some(f.outcome),
                message: f.message.clone(),
            });
        }
    }
    for o in &old.findings {
        if !new.findings.iter().any(|f| f.rule == o.rule) {
            out.push(FindingChange {
                rule: o.rule.clone(),
                old: Some(o.outcome),
                new: None,
                message: o.message.clone(),
            });
        }
    }
    out
}

/// Judges every target in every environment of `envs` under both gates.
pub async fn compare(
    source: &NamedSource,
    old: &Gate,
    new: &Gate,
    envs: &[Environment],
    targets: &[Target],
) -> Comparison {
    use futures::stream::{self, StreamExt};
    let store = source.store.as_ref();
    let rows: Vec<(Target, Vec<Verdict>, Vec<Verdict>)> = stream::iter(targets.iter().cloned())
        .map(|t| async move {
            let a = old.judge(store, &t.repository, &t.digest, envs).await;
            let b = new.judge(store, &t.repository, &t.digest, envs).await;
            (t, a.verdicts, b.verdicts)
        })
        .buffered(8)
        .collect()
        .await;
    let mut c = Comparison {
        old_policy: old.policy.origin.clone(),
        new_policy: new.policy.origin.clone(),
        judged: 0,
        changes: vec![],
    };
    for (t, a, b) in rows {
        for (va, vb) in a.iter().zip(&b) {
            c.judged += 1;
            if va.decision != vb.decision {
                c.changes.push(Change {
                    artifact: t.name.clone(),
                    digest: t.digest.clone(),
                    environment: va.environment.clone(),
                    old: va.decision,
                    new: vb.decision,
                    findings: changed_findings(va, vb),
                });
            }
        }
    }
    c
}
