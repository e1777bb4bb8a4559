//! Turning verified evidence into a verdict for one environment: every rule evaluated, every
//! failure reported, the decision taken by the environment's tier.

use super::file::{Rule, RuleKind};
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
    /// Not scoped to this environment: never counts for or against.
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
    /// Discovery with verification applied: every item carries its typed signature checks.
    pub discovery: &'a Discovery,
    /// The artifact's creation time (from its config), when the provenance does not say.
    pub created: Option<&'a str>,
    /// A failure that prevented a complete evaluation (registry down, …).
    pub error: Option<String>,
    /// The artifact's own content failed its digest check (manifest, config, a platform
    /// manifest): present and corrupt, so even a conditional tier blocks.
    pub integrity: Vec<String>,
    /// For a platform manifest judged as part of an index: the index's digest and the trusted
    /// signers of its signature, which covers every manifest the index lists.
    pub covered_by: Option<(String, Vec<String>)>,
    /// The digest's audit trail from the ledger; only records in it count. None: no ledger
    /// (then no record counts).
    pub trail: Option<&'a crate::evidence::trail::Trail>,
}

impl<'a> Facts<'a> {
    /// Facts from a discovery alone.
    pub fn new(digest: &'a str, discovery: &'a Discovery) -> Facts<'a> {
        Facts {
            digest,
            discovery,
            created: None,
            error: None,
            integrity: vec![],
            covered_by: None,
            trail: None,
        }
    }
}

pub(super) fn finding(rule: &str, outcome: Outcome, message: String) -> Finding {
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

/// True when the rule is scoped to `env` (no `environments` means every environment).
pub fn applies(rule: &Rule, env: &Environment) -> bool {
    rule.environments.is_empty() || rule.environments.iter().any(|e| e == &env.name)
}

/// Evaluates `rules` (those scoped to `env`) and the built-in checks, with no groups: no
/// release record can count.
pub fn evaluate(
    rules: &[Rule],
    env: &Environment,
    facts: &Facts<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Verdict {
    evaluate_in(rules, None, env, facts, now)
}

/// Evaluates a whole policy file: its rules, and its groups for the release records.
pub fn evaluate_policy(
    policy: &super::PolicyFile,
    env: &Environment,
    facts: &Facts<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Verdict {
    evaluate_in(&policy.rule, Some(policy), env, facts, now)
}

fn evaluate_in(
    rules: &[Rule],
    policy: Option<&super::PolicyFile>,
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
    for e in &facts.integrity {
        let mut f = finding(
            "artifact-integrity",
            Outcome::Fail,
            format!("the artifact's own content does not check out: {e}"),
        );
        f.evidence_fails = true;
        f.hint = Some("push the image again from a trusted copy".into());
        out.push(f);
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
    let mut sig = signature_finding(items);
    if let (Outcome::Missing | Outcome::Fail, Some((index, signers))) =
        (sig.outcome, &facts.covered_by)
    {
        if !signers.is_empty() && sig.outcome == Outcome::Missing {
            sig = finding(
                "signature",
                Outcome::Pass,
                format!(
                    "covered by the signature on index {} (signed by {})",
                    crate::oci::digest::short(index),
                    signers.join("; ")
                ),
            );
            sig.evidence = Some(index.clone());
        }
    }
    out.push(sig);
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
    // Rules read verified provenance only; an unverified one is named so a reviewer sees it.
    let verified = evidence::verified_provenance(items);
    let prov_item = verified.first().copied();
    let unverified: Vec<&EvidenceItem> = evidence::provenance_of(items)
        .into_iter()
        .filter(|i| !i.signer.is_verified())
        .collect();
    out.push(provenance_finding(prov_item, &unverified));
    let prov: Option<&Provenance> = prov_item.and_then(|i| i.provenance.as_ref());
    let ctx = super::rules::RuleContext {
        facts,
        prov,
        unverified_prov: unverified.first().and_then(|i| i.provenance.as_ref()),
        now,
        policy,
        env,
    };
    if let Some(q) = super::records::quarantine(policy, env, facts) {
        out.push(q);
    }

    for rule in rules {
        if !applies(rule, env) {
            let mut f = finding(
                &rule.name,
                Outcome::Skipped,
                format!(
                    "not scoped to {} (applies to {})",
                    env.name,
                    rule.environments.join(", ")
                ),
            );
            f.critical = rule.critical;
            out.push(f);
            continue;
        }
        let mut f = super::rules::evaluate_rule(rule, &ctx);
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

    let decision = decide(env.tier, &out);
    Verdict {
        environment: env.name.clone(),
        tier: env.tier,
        digest: facts.digest.to_string(),
        decision,
        findings: out,
    }
}

/// The tier's decision over the findings. Skipped findings (rules not scoped to the
/// environment) never count.
pub fn decide(tier: Tier, findings: &[Finding]) -> Decision {
    let not_ok = |f: &Finding| !matches!(f.outcome, Outcome::Pass | Outcome::Skipped);
    match tier {
        Tier::Warn => {
            if findings.iter().any(not_ok) {
                Decision::Warn
            } else {
                Decision::Pass
            }
        }
        Tier::Conditional => {
            let blocks = findings
                .iter()
                .any(|f| f.outcome == Outcome::Fail && (f.evidence_fails || f.critical));
            if blocks {
                Decision::Block
            } else if findings.iter().any(not_ok) {
                Decision::Warn
            } else {
                Decision::Pass
            }
        }
        // Fails closed: anything short of a pass, including missing evidence, errors and
        // approvals not recorded, blocks.
        Tier::Required => {
            if findings.iter().any(not_ok) {
                Decision::Block
            } else {
                Decision::Pass
            }
        }
    }
}

/// The image signature: passes on any signature a trusted signer made for this digest.
fn signature_finding(items: &[EvidenceItem]) -> Finding {
    let sigs: Vec<&EvidenceItem> = items
        .iter()
        .filter(|i| i.kind == Kind::Signature && i.binding == Binding::Matches)
        .collect();
    let copied: Vec<&EvidenceItem> = items
        .iter()
        .filter(|i| i.kind == Kind::Signature && matches!(i.binding, Binding::DescribesOther(_)))
        .collect();
    let signers = evidence::trusted_signers(sigs.iter().copied());
    if !signers.is_empty() {
        let mut f = finding(
            "signature",
            Outcome::Pass,
            format!("signed by {}", signers.join("; ")),
        );
        f.evidence = sigs
            .iter()
            .find(|i| i.signer.is_verified())
            .map(|i| i.digest.clone());
        return f;
    }
    if let Some(s) = sigs.first().or(copied.first()) {
        let why = match &s.binding {
            Binding::DescribesOther(d) => format!("it signs another digest ({})", d.join(", ")),
            _ => s
                .signer
                .signatures
                .first()
                .map(|c| c.sentence())
                .or(s.problem.clone())
                .unwrap_or_else(|| "it was not checked".into()),
        };
        let mut f = finding(
            "signature",
            Outcome::Fail,
            format!(
                "the image's signature does not verify against the trusted keys and identities: {why}"
            ),
        );
        f.evidence_fails = true;
        f.evidence = Some(s.digest.clone());
        f.hint = Some(
            "sign it with a trusted key (provost sign REF --key KEY) or trust its signer in the policy"
                .into(),
        );
        return f;
    }
    let mut f = finding(
        "signature",
        Outcome::Missing,
        "the image is not signed".into(),
    );
    f.hint = Some("sign it with a trusted key: provost sign REF --key KEY".into());
    f
}

/// Verified provenance for this digest, or why there is none.
fn provenance_finding(verified: Option<&EvidenceItem>, unverified: &[&EvidenceItem]) -> Finding {
    if let Some(i) = verified {
        let who: Vec<String> = i
            .signer
            .verified_signers()
            .iter()
            .map(|s| s.sentence())
            .collect();
        let mut f = finding(
            "provenance",
            Outcome::Pass,
            format!("provenance verified ({})", who.join("; ")),
        );
        f.evidence = Some(i.digest.clone());
        return f;
    }
    if let Some(i) = unverified.first() {
        let why = match i.signer.state {
            evidence::State::Unsigned => "it is not signed".to_string(),
            _ => i
                .signer
                .signatures
                .first()
                .map(|c| c.sentence())
                .unwrap_or_else(|| "it was not checked".into()),
        };
        let mut f = finding(
            "provenance",
            Outcome::Fail,
            format!("provenance is present but no trusted signer vouches for it: {why}"),
        );
        f.evidence_fails = i.signer.fails();
        f.evidence = Some(i.digest.clone());
        f.hint = Some("attest provenance with a trusted key or identity".into());
        return f;
    }
    let mut f = finding(
        "provenance",
        Outcome::Missing,
        "no provenance describes this digest".into(),
    );
    f.hint = Some("attach SLSA provenance from the build (provost attest, cosign attest, or the CI's attestation step)".into());
    f
}
