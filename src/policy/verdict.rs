//! Turning verified evidence into a verdict for one environment: every rule evaluated, every
//! failure reported, the decision taken by the environment's tier.

use super::file::{Rule, RuleKind};
use super::packages::Denial;
use crate::config::{Environment, Tier};
use crate::evidence::{self, Binding, Discovery, EvidenceItem, Kind, Provenance};
use serde::Serialize;

/// The decision for one environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Pass,
    Warn,
    Block,
}

impl Decision {
    /// A mark and a word: never colour alone.
    pub fn label(self) -> &'static str {
        match self {
            Decision::Pass => "✓ pass",
            Decision::Warn => "⚠ warn",
            Decision::Block => "✗ block",
        }
    }
}

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    /// Evidence is present and fails the check.
    Fail,
    /// The evidence the check needs is absent.
    Missing,
    /// Not evaluated (for example approvals, until approvals exist).
    Skipped,
    /// The check could not be evaluated (a registry error, a broken document).
    Error,
}

/// One check's result, in a sentence a release manager reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub outcome: Outcome,
    /// Present-but-failing evidence of the kind a conditional tier blocks on.
    pub evidence_fails: bool,
    pub critical: bool,
    pub message: String,
    /// What would make it pass.
    pub hint: Option<String>,
    /// The digest of the evidence used.
    pub evidence: Option<String>,
}

/// The verdict for a digest in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub environment: String,
    pub tier: Tier,
    pub digest: String,
    pub decision: Decision,
    pub findings: Vec<Finding>,
}

/// What is known about a digest when it is judged.
pub struct Facts<'a> {
    pub digest: &'a str,
    /// Discovery with verification applied (signer columns filled in).
    pub discovery: &'a Discovery,
    /// The artifact's creation time, when the provenance does not say.
    pub created: Option<&'a str>,
    /// A failure that prevented a complete evaluation (registry down, …).
    pub error: Option<String>,
}

fn finding(rule: &str, outcome: Outcome, message: String) -> Finding {
    Finding {
        rule: rule.to_string(),
        outcome,
        evidence_fails: false,
        critical: false,
        message,
        hint: None,
        evidence: None,
    }
}

fn verified(i: &EvidenceItem) -> bool {
    i.signer.starts_with('✓')
}

fn glob(pattern: &str, value: &str) -> bool {
    wildmatch::WildMatch::new(pattern).matches(value)
}

/// `refs/tags/vMAJOR.MINOR.PATCH[-pre]`.
fn is_semver_tag(r: &str) -> bool {
    let Some(t) = r.strip_prefix("refs/tags/") else {
        return false;
    };
    let t = t.strip_prefix('v').unwrap_or(t);
    let core = t.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// The provenance the rules look at: a verified one bound to the digest, else any bound one.
fn chosen(items: &[EvidenceItem]) -> (Option<&EvidenceItem>, bool) {
    let bound = evidence::provenance_of(items);
    match bound.iter().find(|i| verified(i)) {
        Some(i) => (Some(*i), true),
        None => (bound.first().copied(), false),
    }
}

/// Evaluates `rules` (those scoped to `env`) and the built-in checks.
pub fn evaluate(
    rules: &[Rule],
    env: &Environment,
    facts: &Facts<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Verdict {
    let items = &facts.discovery.items;
    let mut out: Vec<Finding> = vec![];

    if let Some(e) = &facts.error {
        out.push(finding(
            "evaluation",
            Outcome::Error,
            format!("could not evaluate completely: {e}"),
        ));
    }
    for e in &facts.discovery.errors {
        out.push(finding(
            "evaluation",
            Outcome::Error,
            format!("evidence could not be read: {e}"),
        ));
    }
    // Integrity: evidence that is present but unreadable or corrupt.
    for i in items.iter().filter(|i| i.kind == Kind::Invalid) {
        let mut f = finding(
            "evidence-integrity",
            Outcome::Fail,
            format!(
                "{} found via {} is broken: {}",
                i.media_type,
                i.found.describe(),
                i.problem.clone().unwrap_or_default()
            ),
        );
        f.evidence_fails = true;
        f.evidence = Some(i.digest.clone());
        f.hint = Some("re-attach the evidence from its producer".into());
        out.push(f);
    }
    // Signature on the image.
    let sigs: Vec<&EvidenceItem> = items
        .iter()
        .filter(|i| i.kind == Kind::Signature && i.binding == Binding::Matches)
        .collect();
    let copied: Vec<&EvidenceItem> = items
        .iter()
        .filter(|i| i.kind == Kind::Signature && matches!(i.binding, Binding::DescribesOther(_)))
        .collect();
    match sigs.iter().find(|i| verified(i)) {
        Some(s) => {
            let mut f = finding(
                "signature",
                Outcome::Pass,
                format!("signed by {}", s.signer.trim_start_matches("✓ ")),
            );
            f.evidence = Some(s.digest.clone());
            out.push(f);
        }
        None if !sigs.is_empty() || !copied.is_empty() => {
            let why = sigs
                .first()
                .or(copied.first())
                .map(|s| s.signer.trim_start_matches("✗ ").to_string())
                .unwrap_or_default();
            let mut f = finding("signature", Outcome::Fail, format!("the image's signature does not verify against the trusted keys and identities: {why}"));
            f.evidence_fails = true;
            f.evidence = sigs.first().or(copied.first()).map(|s| s.digest.clone());
            f.hint = Some("sign it with a trusted key (provost sign REF --key KEY) or trust its signer in the policy".into());
            out.push(f);
        }
        None => {
            let mut f = finding(
                "signature",
                Outcome::Missing,
                "the image is not signed".into(),
            );
            f.hint = Some("sign it with a trusted key: provost sign REF --key KEY".into());
            out.push(f);
        }
    }
    // Provenance and its subject.
    for other in items
        .iter()
        .filter(|i| i.kind == Kind::Provenance && matches!(i.binding, Binding::DescribesOther(_)))
    {
        if let Binding::DescribesOther(s) = &other.binding {
            let mut f = finding(
                "subject-binding",
                Outcome::Fail,
                format!(
                    "provenance found via {} describes another artifact ({}), not this digest",
                    other.found.describe(),
                    s.join(", ")
                ),
            );
            f.evidence_fails = true;
            f.evidence = Some(other.digest.clone());
            f.hint = Some("attach provenance whose subject is this digest (rebuild, or re-attest the right digest)".into());
            out.push(f);
        }
    }
    let (prov_item, prov_verified) = chosen(items);
    let prov: Option<&Provenance> = prov_item.and_then(|i| i.provenance.as_ref());
    match (prov_item, prov_verified) {
        (Some(i), true) => {
            let mut f = finding(
                "provenance",
                Outcome::Pass,
                format!(
                    "provenance verified ({})",
                    i.signer.trim_start_matches("✓ ")
                ),
            );
            f.evidence = Some(i.digest.clone());
            out.push(f);
        }
        (Some(i), false) => {
            let mut f = finding(
                "provenance",
                Outcome::Fail,
                format!(
                    "provenance is present but no trusted signer vouches for it ({})",
                    i.signer.trim_start_matches("✗ ")
                ),
            );
            f.evidence_fails = i.signer.starts_with('✗');
            f.evidence = Some(i.digest.clone());
            f.hint = Some("attest provenance with a trusted key or identity".into());
            out.push(f);
        }
        (None, _) => {
            let mut f = finding(
                "provenance",
                Outcome::Missing,
                "no provenance describes this digest".into(),
            );
            f.hint = Some("attach SLSA provenance from the build (provost attest, cosign attest, or the CI's attestation step)".into());
            out.push(f);
        }
    }

    for rule in rules
        .iter()
        .filter(|r| r.environments.is_empty() || r.environments.iter().any(|e| e == &env.name))
    {
        let mut f = evaluate_rule(rule, facts, prov, now);
        f.critical = rule.critical;
        if f.evidence.is_none()
            && matches!(
                rule.kind,
                RuleKind::Builder
                    | RuleKind::Source
                    | RuleKind::Ref
                    | RuleKind::Workflow
                    | RuleKind::MaxAge
            )
        {
            f.evidence = prov_item.map(|i| i.digest.clone());
        }
        out.push(f);
    }

    let not_ok = |f: &Finding| !matches!(f.outcome, Outcome::Pass | Outcome::Skipped);
    let decision = match env.tier {
        Tier::Warn => {
            if out.iter().any(not_ok) {
                Decision::Warn
            } else {
                Decision::Pass
            }
        }
        Tier::Conditional => {
            let blocks = out
                .iter()
                .any(|f| f.outcome == Outcome::Fail && (f.evidence_fails || f.critical));
            if blocks {
                Decision::Block
            } else if out.iter().any(not_ok) {
                Decision::Warn
            } else {
                Decision::Pass
            }
        }
        // Fails closed: anything short of a pass, including missing evidence and errors.
        Tier::Required => {
            if out.iter().any(not_ok) {
                Decision::Block
            } else {
                Decision::Pass
            }
        }
    };
    Verdict {
        environment: env.name.clone(),
        tier: env.tier,
        digest: facts.digest.to_string(),
        decision,
        findings: out,
    }
}

fn evaluate_rule(
    rule: &Rule,
    facts: &Facts<'_>,
    prov: Option<&Provenance>,
    now: chrono::DateTime<chrono::Utc>,
) -> Finding {
    let name = rule.name.as_str();
    let allowed = || rule.allow.join(", ");
    let need_prov = |what: &str| {
        let mut f = finding(
            name,
            Outcome::Missing,
            format!("no provenance to check the {what} against"),
        );
        f.hint = Some("attach SLSA provenance from the build".into());
        f
    };
    match rule.kind {
        RuleKind::Builder => match prov {
            None => need_prov("builder"),
            Some(p) if rule.allow.iter().any(|a| glob(a, &p.builder_id)) => {
                finding(name, Outcome::Pass, format!("built by {}", p.builder_id))
            }
            Some(p) => {
                let mut f = finding(
                    name,
                    Outcome::Fail,
                    format!(
                        "built by {}; this environment trusts only {}",
                        p.builder_id,
                        allowed()
                    ),
                );
                f.hint = Some(format!("rebuild on a trusted builder ({})", allowed()));
                f
            }
        },
        RuleKind::Source => match prov.and_then(|p| p.source_repo.as_deref()) {
            None => need_prov("source repository"),
            Some(s) if rule.allow.iter().any(|a| glob(a, s)) => {
                finding(name, Outcome::Pass, format!("built from {s}"))
            }
            Some(s) => {
                let mut f = finding(
                    name,
                    Outcome::Fail,
                    format!("built from {s}; allowed sources are {}", allowed()),
                );
                f.hint = Some("build from an allowed repository".into());
                f
            }
        },
        RuleKind::Ref => match prov.and_then(|p| p.git_ref.as_deref()) {
            None => need_prov("git ref"),
            Some(r)
                if rule.allow.iter().any(|a| {
                    if a == "semver" {
                        is_semver_tag(r)
                    } else {
                        glob(a, r)
                    }
                }) =>
            {
                finding(name, Outcome::Pass, format!("built from {r}"))
            }
            Some(r) => {
                let mut f = finding(
                    name,
                    Outcome::Fail,
                    format!(
                        "built from {r}; this environment accepts only {}",
                        allowed()
                    ),
                );
                f.hint = Some("build from a release tag".into());
                f
            }
        },
        RuleKind::Workflow => match prov.and_then(|p| p.workflow_path.as_deref()) {
            None => need_prov("workflow"),
            Some(w) if rule.allow.iter().any(|a| glob(a, w)) => {
                finding(name, Outcome::Pass, format!("built by workflow {w}"))
            }
            Some(w) => {
                let mut f = finding(
                    name,
                    Outcome::Fail,
                    format!(
                        "built by workflow {w}; this environment accepts only {}",
                        allowed()
                    ),
                );
                f.hint = Some(format!("rebuild with {}", allowed()));
                f
            }
        },
        RuleKind::Predicates => {
            let present: Vec<&str> = facts
                .discovery
                .items
                .iter()
                .filter(|i| i.usable())
                .filter_map(|i| i.predicate_type.as_deref())
                .collect();
            let missing: Vec<&String> = rule
                .require
                .iter()
                .filter(|r| !present.contains(&r.as_str()))
                .collect();
            if missing.is_empty() {
                finding(
                    name,
                    Outcome::Pass,
                    format!("has {}", rule.require.join(", ")),
                )
            } else {
                let mut f = finding(
                    name,
                    Outcome::Missing,
                    format!(
                        "no {} attestation",
                        missing
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                f.hint = Some("attach the missing attestations".into());
                f
            }
        }
        RuleKind::Sbom => match evidence::sboms_of(&facts.discovery.items).first() {
            Some(i) => {
                let mut f = finding(
                    name,
                    Outcome::Pass,
                    match i.sbom.as_ref().map(|s| s.package_count).unwrap_or(0) {
                        1 => "SBOM attached (1 package)".to_string(),
                        n => format!("SBOM attached ({n} packages)"),
                    },
                );
                f.evidence = Some(i.digest.clone());
                f
            }
            None => {
                let mut f = finding(name, Outcome::Missing, "no SBOM is attached".into());
                f.hint = Some(
                    "attach an SPDX or CycloneDX SBOM (cosign attach sbom, or as a referrer)"
                        .into(),
                );
                f
            }
        },
        RuleKind::MaxAge => {
            let days = rule.days.unwrap_or(0) as i64;
            let built = prov
                .and_then(|p| p.finished.clone().or(p.started.clone()))
                .or(facts.created.map(str::to_string));
            match built
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            {
                None => {
                    let mut f = finding(
                        name,
                        Outcome::Missing,
                        "no build time to check the age against".into(),
                    );
                    f.hint = Some("attach provenance with build timestamps".into());
                    f
                }
                Some(t) => {
                    let age = (now - t.with_timezone(&chrono::Utc)).num_days();
                    if age <= days {
                        finding(
                            name,
                            Outcome::Pass,
                            format!("built {age} days ago (limit {days})"),
                        )
                    } else {
                        let mut f = finding(name, Outcome::Fail, format!("built {age} days ago; this environment accepts builds up to {days} days old"));
                        f.hint = Some("rebuild from current sources".into());
                        f
                    }
                }
            }
        }
        RuleKind::DeniedPackages => {
            let sboms = evidence::sboms_of(&facts.discovery.items);
            if sboms.is_empty() {
                let mut f = finding(
                    name,
                    Outcome::Missing,
                    "no SBOM to check for denied packages".into(),
                );
                f.hint = Some("attach an SBOM".into());
                return f;
            }
            let denials: Vec<Denial> = rule
                .deny
                .iter()
                .filter_map(|d| Denial::parse(d).ok())
                .collect();
            let mut hits: Vec<String> = vec![];
            for s in &sboms {
                for p in s
                    .sbom
                    .as_ref()
                    .map(|s| s.packages.as_slice())
                    .unwrap_or(&[])
                {
                    if denials.iter().any(|d| d.matches(p)) {
                        let h = format!("{} {}", p.name, p.version.clone().unwrap_or_default());
                        if !hits.contains(&h) {
                            hits.push(h);
                        }
                    }
                }
            }
            if hits.is_empty() {
                finding(name, Outcome::Pass, "no denied package in the SBOM".into())
            } else {
                let mut f = finding(
                    name,
                    Outcome::Fail,
                    format!("the SBOM lists denied packages: {}", hits.join(", ")),
                );
                f.evidence = sboms.first().map(|i| i.digest.clone());
                f.hint = Some("remove or upgrade them and rebuild".into());
                f
            }
        }
        RuleKind::Quarantine => {
            if rule.digests.iter().any(|d| d == facts.digest) {
                let mut f = finding(name, Outcome::Fail, "this digest is quarantined".into());
                f.evidence_fails = true;
                f.hint =
                    Some("lift the quarantine in the policy once the incident is closed".into());
                f
            } else {
                finding(name, Outcome::Pass, "not quarantined".into())
            }
        }
        RuleKind::Approvals => finding(
            name,
            Outcome::Skipped,
            format!(
                "{} approval(s){} will be required once approvals are recorded",
                rule.count.unwrap_or(0),
                rule.group
                    .as_deref()
                    .map(|g| format!(" from {g}"))
                    .unwrap_or_default()
            ),
        ),
    }
}
