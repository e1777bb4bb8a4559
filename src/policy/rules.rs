//! One policy rule evaluated against verified facts. Rules that need provenance read only
//! verified provenance for the digest, rules that need an SBOM only verified SBOMs; an
//! unverified document can only make a rule stricter (a denied package in any SBOM fails).

use super::file::{Rule, RuleKind};
use super::packages::Denial;
use super::verdict::{finding, Facts, Finding, Outcome};
use crate::evidence::{self, Provenance};

/// What one rule is evaluated against.
pub(super) struct RuleContext<'a> {
    pub facts: &'a Facts<'a>,
    /// Verified provenance that names the digest.
    pub prov: Option<&'a Provenance>,
    /// Provenance present but not verified: named in findings, never satisfies a rule.
    pub unverified_prov: Option<&'a Provenance>,
    pub now: chrono::DateTime<chrono::Utc>,
    /// The whole policy (its groups), when judging with one.
    pub policy: Option<&'a super::PolicyFile>,
    pub env: &'a crate::config::Environment,
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

pub(super) fn evaluate_rule(rule: &Rule, ctx: &RuleContext<'_>) -> Finding {
    let (facts, prov, now) = (ctx.facts, ctx.prov, ctx.now);
    let name = rule.name.as_str();
    let allowed = || rule.allow.join(", ");
    let need_prov = |what: &str| {
        let claim = ctx.unverified_prov.and_then(|p| match rule.kind {
            RuleKind::Builder => Some(p.builder_id.clone()),
            RuleKind::Source => p.source_repo.clone(),
            RuleKind::Ref => p.git_ref.clone(),
            RuleKind::Workflow => p.workflow_path.clone(),
            _ => None,
        });
        let mut f = finding(
            name,
            Outcome::Missing,
            match claim {
                Some(c) => format!(
                    "no verified provenance to check the {what} against (unverified provenance claims {c}; it cannot count)"
                ),
                None => format!("no verified provenance to check the {what} against"),
            },
        );
        f.hint = Some(
            "attach SLSA provenance from the build, signed by a trusted key or identity".into(),
        );
        f
    };
    match rule.kind {
        RuleKind::Builder => match prov {
            None => need_prov("builder"),
            Some(p) if rule.allows(&p.builder_id) => {
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
            Some(s) if rule.allows(s) => finding(name, Outcome::Pass, format!("built from {s}")),
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
                if rule.allow.iter().any(|a| a == "semver" && is_semver_tag(r))
                    || rule
                        .allow
                        .iter()
                        .zip(&rule.allow_globs)
                        .any(|(a, g)| a != "semver" && g.matches(r)) =>
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
            Some(w) if rule.allows(w) => {
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
            // Only attestations a trusted signer made for this digest count.
            let present: Vec<&str> = facts
                .discovery
                .items
                .iter()
                .filter(|i| {
                    i.usable() && i.binding == evidence::Binding::Matches && i.signer.is_verified()
                })
                .filter_map(|i| i.predicate_type.as_deref())
                .collect();
            let wanted: Vec<String> = rule
                .require
                .iter()
                .map(|r| super::file::predicate_type(r).to_string())
                .collect();
            let missing: Vec<&String> = wanted
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
                        "no verified {} attestation",
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
        RuleKind::Sbom => match evidence::verified_sboms(&facts.discovery.items).first() {
            Some(i) => {
                let mut f = finding(
                    name,
                    Outcome::Pass,
                    match i.sbom.as_ref().map(|s| s.package_count).unwrap_or(0) {
                        1 => "verified SBOM attached (1 package)".to_string(),
                        n => format!("verified SBOM attached ({n} packages)"),
                    },
                );
                f.evidence = Some(i.digest.clone());
                f
            }
            None => {
                let unverified = evidence::sboms_of(&facts.discovery.items);
                let mut f = finding(
                    name,
                    Outcome::Missing,
                    if unverified.is_empty() {
                        "no SBOM is attached".into()
                    } else {
                        format!(
                            "{} SBOM(s) attached, but no trusted signer vouches for any",
                            unverified.len()
                        )
                    },
                );
                f.evidence = unverified.first().map(|i| i.digest.clone());
                f.hint = Some(
                    "attest an SPDX or CycloneDX SBOM with a trusted key (provost attest --type spdxjson)"
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
            // Every SBOM is searched, signed or not: a denied package anywhere fails. Only a
            // verified SBOM can show that none is present.
            let sboms = evidence::sboms_of(&facts.discovery.items);
            let denials: Vec<Denial> = rule
                .deny
                .iter()
                .filter_map(|d| Denial::parse(d).ok())
                .collect();
            let mut hits: Vec<String> = vec![];
            let mut hit_in = None;
            for s in &sboms {
                for p in s
                    .sbom
                    .as_ref()
                    .map(|s| s.packages.as_slice())
                    .unwrap_or(&[])
                {
                    if denials.iter().any(|d| d.matches(p)) {
                        let mut h = format!("{} {}", p.name, p.version.clone().unwrap_or_default());
                        if !s.signer.is_verified() {
                            h.push_str(" (in an unverified SBOM)");
                        }
                        if !hits.contains(&h) {
                            hits.push(h);
                        }
                        hit_in.get_or_insert(s.digest.clone());
                    }
                }
            }
            if !hits.is_empty() {
                let mut f = finding(
                    name,
                    Outcome::Fail,
                    format!("the SBOM lists denied packages: {}", hits.join(", ")),
                );
                f.evidence = hit_in;
                f.hint = Some("remove or upgrade them and rebuild".into());
                return f;
            }
            match evidence::verified_sboms(&facts.discovery.items).first() {
                Some(v) => {
                    let mut f = finding(
                        name,
                        Outcome::Pass,
                        "no denied package in the verified SBOM".into(),
                    );
                    f.evidence = Some(v.digest.clone());
                    f
                }
                None => {
                    let mut f = finding(
                        name,
                        Outcome::Missing,
                        if sboms.is_empty() {
                            "no SBOM to check for denied packages".into()
                        } else {
                            "no verified SBOM shows that no denied package is present (the unverified ones list none)".into()
                        },
                    );
                    f.hint = Some("attest an SBOM with a trusted key".into());
                    f
                }
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
        RuleKind::Approvals => super::records::approvals(rule, ctx.policy, ctx.env, facts, now),
        RuleKind::Reproduced => reproduced(rule, facts),
    }
}

/// SLSA's `SLSA_BUILD_REPRODUCED`: independent builders that built this very digest. Only
/// verified provenance naming the digest counts; a builder counts once, and only with a signer
/// no counted builder used (one key vouching for two builders is one party, not two).
fn reproduced(rule: &Rule, facts: &Facts<'_>) -> Finding {
    let need = rule.count.unwrap_or(1) as usize;
    let (mut builders, mut signers): (Vec<String>, Vec<String>) = (vec![], vec![]);
    for i in evidence::verified_provenance(&facts.discovery.items) {
        let Some(p) = &i.provenance else { continue };
        if !rule.allow.is_empty() && !rule.allows(&p.builder_id) {
            continue;
        }
        let by: Vec<String> = i
            .signer
            .verified_signers()
            .iter()
            .map(|s| s.sentence())
            .collect();
        if builders.contains(&p.builder_id) || by.iter().any(|s| signers.contains(s)) {
            continue;
        }
        builders.push(p.builder_id.clone());
        signers.extend(by);
    }
    let unverified = evidence::provenance_of(&facts.discovery.items)
        .iter()
        .filter(|i| !i.signer.is_verified())
        .count();
    let listed = if builders.is_empty() {
        "none".to_string()
    } else {
        builders.join(", ")
    };
    if builders.len() >= need {
        return finding(
            &rule.name,
            Outcome::Pass,
            format!(
                "{} independent builder(s) built this digest: {listed}",
                builders.len()
            ),
        );
    }
    let mut message = format!(
        "{} of {need} independent builders built this digest ({listed})",
        builders.len()
    );
    if unverified > 0 {
        message.push_str(&format!(
            "; {unverified} unverified provenance document(s) cannot count"
        ));
    }
    let mut f = finding(&rule.name, Outcome::Missing, message);
    f.hint = Some(
        "rebuild the same commit on another trusted builder and attach its signed provenance"
            .into(),
    );
    f
}
