//! Release records judged: the `approvals` rule counts distinct verified members of the
//! approving group, and standing quarantine records block. Only a record in the audit trail
//! (linked in the ledger's chain), with one signature, verified, made by a member of the right
//! group counts; every other record is named in the finding and counts for nothing. A
//! quarantine claimed outside the trail still makes the verdict stricter; a trail that could
//! not be read is "cannot tell", which blocks a required tier.

use super::file::{PolicyFile, Rule};
use super::groups::{Action, Group};
use super::verdict::{finding, Facts, Finding, Outcome};
use crate::config::Environment;
use crate::evidence::record::{ApprovalDecision, QuarantineAction, Record};
use crate::evidence::trail::Entry;
use crate::evidence::{self, Binding, EvidenceItem, Kind, Signer};

/// A short name for a signer: the key's configured name, or the keyless subject.
pub fn signer_name(s: &Signer) -> String {
    match s {
        Signer::Key { name: Some(n), .. } => n.clone(),
        Signer::Key { fingerprint, .. } => {
            format!("key {}", fingerprint.chars().take(16).collect::<String>())
        }
        Signer::Keyless { subject, .. } => subject.clone(),
    }
}

/// One record about the digest, with who made it when that is proven.
pub struct Signed<'a> {
    /// The record's digest.
    pub digest: &'a str,
    pub record: &'a Record,
    /// The one verified signer, when the record has exactly one signature and it verified.
    pub signer: Option<&'a Signer>,
    why: String,
}

impl Signed<'_> {
    /// Why the record has no proven signer, in words.
    pub fn why_unproven(&self) -> String {
        self.why.clone()
    }
}

/// The records bound to the digest among discovered evidence (any kind), as referrers
/// carry them: what the History tab lists, and what the gate checks against the trail.
pub fn records_of(items: &[EvidenceItem]) -> Vec<Signed<'_>> {
    items
        .iter()
        .filter(|i| i.kind == Kind::Record && i.binding == Binding::Matches)
        .filter_map(|i| {
            let record = i.record.as_ref()?;
            let verified = i.signer.verified_signers();
            let signer = match (i.signatures, verified.as_slice()) {
                (1, [s]) => Some(*s),
                _ => None,
            };
            let why = if i.signatures > 1 {
                "it carries more than one signature".into()
            } else {
                match i.signer.signatures.first() {
                    Some(c) => c.sentence(),
                    None => "it is not signed".into(),
                }
            };
            Some(Signed {
                // The record's own digest is its referrer manifest's (what the chain links).
                digest: i.manifest.as_deref().unwrap_or(&i.digest),
                record,
                signer,
                why,
            })
        })
        .collect()
}

/// Every record in `trail` (each chain read), then the records attached to the digest that it
/// does not hold (`false`: not in the audit trail, counts for nothing).
pub fn as_shown<'a>(
    trail: Option<&'a crate::evidence::trail::Trail>,
    items: &'a [EvidenceItem],
) -> Vec<(Signed<'a>, bool)> {
    let mut out: Vec<(Signed<'a>, bool)> = vec![];
    for c in trail.map(|t| t.chains.as_slice()).unwrap_or_default() {
        for e in c.entries.as_deref().unwrap_or_default() {
            if let Some(record) = &e.record {
                out.push((
                    Signed {
                        digest: &e.digest,
                        record,
                        signer: e.signer(),
                        why: e.why_unproven(),
                    },
                    true,
                ));
            }
        }
    }
    for r in records_of(items) {
        if !trail.is_some_and(|t| t.contains(r.digest)) {
            out.push((r, false));
        }
    }
    out
}

/// The records of `chain` in the trail: Err when the chain could not be read; none without
/// a trail (nothing counts outside the ledger).
fn trail_records<'a>(facts: &'a Facts<'_>, chain: &str) -> Result<Vec<Signed<'a>>, String> {
    let Some(t) = facts.trail else {
        return Ok(vec![]);
    };
    let Some(c) = t.chain(chain) else {
        return Ok(vec![]);
    };
    let entries: &'a [Entry] = c.entries.as_ref().map_err(|e| e.clone())?;
    Ok(entries
        .iter()
        .filter_map(|e| {
            Some(Signed {
                digest: &e.digest,
                record: e.record.as_ref()?,
                signer: e.signer(),
                why: e.why_unproven(),
            })
        })
        .collect())
}

/// Records attached to the digest that the audit trail does not hold.
fn outside_trail<'a>(facts: &'a Facts<'_>) -> Vec<Signed<'a>> {
    records_of(&facts.discovery.items)
        .into_iter()
        .filter(|r| !facts.trail.is_some_and(|t| t.contains(r.digest)))
        .collect()
}

fn who(r: &Signed<'_>) -> String {
    r.signer
        .map(signer_name)
        .unwrap_or_else(|| "an unverified signer".into())
}

fn day(t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| t.to_string())
}

/// Identities kept from approving: whoever signed the image or its verified provenance.
fn excluded(facts: &Facts<'_>) -> Vec<String> {
    let items = &facts.discovery.items;
    let mut ids: Vec<String> = items
        .iter()
        .filter(|i| i.kind == Kind::Signature && i.binding == Binding::Matches)
        .chain(evidence::verified_provenance(items))
        .flat_map(|i| i.signer.verified_signers())
        .map(Signer::identity)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn names_match(name: &str, signer: &Signer) -> bool {
    signer_name(signer) == name
}

/// The `approvals` rule.
pub(super) fn approvals(
    rule: &Rule,
    policy: Option<&PolicyFile>,
    env: &Environment,
    facts: &Facts<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Finding {
    let name = rule.name.as_str();
    let count = rule.count.unwrap_or(1) as usize;
    let group: Option<&Group> = policy.and_then(|p| match &rule.group {
        Some(g) => p.group_named(g),
        None => p.approvers_of(&env.name),
    });
    let Some(group) = group else {
        let mut f = finding(
            name,
            Outcome::Missing,
            format!(
                "0 of {count} approvals (no approving group is defined for {})",
                env.name
            ),
        );
        f.hint = Some("define a [[group]] and an [[access]] entry with `approve`".into());
        return f;
    };
    let separation = rule.separation != Some(false);
    let excluded = if separation { excluded(facts) } else { vec![] };
    let mut notes: Vec<String> = vec![];
    // The latest decision of each member (ties: a rejection wins).
    let mut latest: std::collections::BTreeMap<String, (&Signer, &Signed<'_>)> = Default::default();
    let records = match trail_records(facts, &env.name) {
        Ok(r) => r,
        Err(e) => {
            let mut f = finding(
                name,
                Outcome::Error,
                format!(
                    "cannot tell which approvals for {} were recorded: {e}",
                    env.name
                ),
            );
            f.hint = Some("check that the ledger's registry is reachable, then run again".into());
            return f;
        }
    };
    for r in outside_trail(facts) {
        if let Record::Approval(a) = r.record {
            if a.environment == env.name {
                notes.push(format!(
                    "{}'s {} is not in the audit trail (it does not count)",
                    who(&r),
                    if a.decision == ApprovalDecision::Approve {
                        "approval"
                    } else {
                        "rejection"
                    }
                ));
            }
        }
    }
    for r in &records {
        let Record::Approval(a) = r.record else {
            continue;
        };
        if a.environment != env.name {
            continue;
        }
        let who = match r.signer {
            None => {
                notes.push(format!(
                    "an unverified {} does not count ({})",
                    if a.decision == ApprovalDecision::Approve {
                        "approval"
                    } else {
                        "rejection"
                    },
                    r.why_unproven()
                ));
                continue;
            }
            Some(s) if !group.has(s) => {
                notes.push(format!(
                    "{} is not in {} ({} does not count)",
                    signer_name(s),
                    group.name,
                    if a.decision == ApprovalDecision::Approve {
                        "approval"
                    } else {
                        "rejection"
                    },
                ));
                continue;
            }
            Some(s) => s,
        };
        let id = who.identity();
        let newer = match latest.get(&id) {
            None => true,
            Some((_, prev)) => {
                let (t, pt) = (r.record.time(), prev.record.time());
                t > pt
                    || (t == pt
                        && matches!(r.record, Record::Approval(x) if x.decision == ApprovalDecision::Reject))
            }
        };
        if newer {
            latest.insert(id, (who, r));
        }
    }
    let mut approvers: Vec<&Signer> = vec![];
    let mut rejections: Vec<String> = vec![];
    let mut evidence_digest = None;
    for (id, (who, r)) in &latest {
        let Record::Approval(a) = r.record else {
            continue;
        };
        let who_name = signer_name(who);
        match a.decision {
            ApprovalDecision::Reject => {
                rejections.push(format!("{who_name} rejected: {}", a.link.reason));
                evidence_digest = Some(r.digest.to_string());
            }
            ApprovalDecision::Approve => {
                let expired = a.not_after.as_deref().and_then(|n| {
                    chrono::DateTime::parse_from_rfc3339(n)
                        .ok()
                        .filter(|t| t.with_timezone(&chrono::Utc) < now)
                        .map(|_| n.to_string())
                });
                if let Some(n) = expired {
                    notes.push(format!("{who_name}'s approval expired on {}", day(&n)));
                } else if excluded.contains(id) {
                    notes.push(format!(
                        "{who_name} signed the image or its provenance, so their approval does not count"
                    ));
                } else {
                    approvers.push(who);
                    evidence_digest.get_or_insert(r.digest.to_string());
                }
            }
        }
    }
    let mut names: Vec<String> = approvers.iter().map(|s| signer_name(s)).collect();
    names.sort();
    let missing_required: Vec<&String> = rule
        .required
        .iter()
        .filter(|req| !approvers.iter().any(|s| names_match(req, s)))
        .collect();
    let mut message = format!(
        "{} of {count} approvals from {}{}",
        approvers.len(),
        group.name,
        if names.is_empty() {
            String::new()
        } else {
            format!(" ({})", names.join(", "))
        }
    );
    for r in &rejections {
        message.push_str(&format!("; {r}"));
    }
    if !missing_required.is_empty() {
        message.push_str(&format!(
            "; {} must approve",
            missing_required
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    for n in &notes {
        message.push_str(&format!("; {n}"));
    }
    let (outcome, hint) = if !rejections.is_empty() {
        (
            Outcome::Fail,
            "a standing rejection blocks until its author approves (provost approve REF --env ENV)",
        )
    } else if approvers.len() >= count && missing_required.is_empty() {
        (Outcome::Pass, "")
    } else {
        (
            Outcome::Missing,
            "ask the group's members to approve: provost approve REF --env ENV --key KEY",
        )
    };
    let mut f = finding(name, outcome, message);
    f.evidence_fails = outcome == Outcome::Fail;
    f.evidence = evidence_digest;
    if !hint.is_empty() {
        f.hint = Some(hint.into());
    }
    f
}

/// Standing quarantine records for the digest: one finding, or none when there is no record.
pub(super) fn quarantine(
    policy: Option<&PolicyFile>,
    env: &Environment,
    facts: &Facts<'_>,
) -> Option<Finding> {
    let records = match trail_records(facts, crate::evidence::record::QUARANTINE_CHAIN) {
        Ok(r) => r,
        Err(e) => {
            let mut f = finding(
                "quarantine-record",
                Outcome::Error,
                format!("cannot tell whether this digest was quarantined: {e}"),
            );
            f.hint = Some("check that the ledger's registry is reachable, then run again".into());
            return Some(f);
        }
    };
    let qs: Vec<_> = records
        .iter()
        .filter_map(|r| match r.record {
            Record::Quarantine(q) if q.scope.covers(facts.digest) => Some((r, q)),
            _ => None,
        })
        .collect();
    // Claimed outside the trail: it counts for nothing, yet a quarantine is never ignored.
    let outside: Vec<String> = outside_trail(facts)
        .iter()
        .filter_map(|r| match r.record {
            Record::Quarantine(q) if q.scope.covers(facts.digest) => Some(format!(
                "a {} record by {} that is not in the audit trail",
                if q.action == QuarantineAction::Lift {
                    "lift"
                } else {
                    "quarantine"
                },
                who(r)
            )),
            _ => None,
        })
        .collect();
    let outside_quarantine = outside_trail(facts).iter().any(|r| {
        matches!(r.record, Record::Quarantine(q)
            if q.scope.covers(facts.digest) && q.action == QuarantineAction::Quarantine)
    });
    if qs.is_empty() && outside.is_empty() {
        return None;
    }
    let group = policy.and_then(|p| p.group_for(Action::Quarantine, &env.name));
    let mut counted = vec![];
    let mut uncounted = outside;
    let mut unproven_quarantine = outside_quarantine;
    for (r, q) in &qs {
        if q.action == QuarantineAction::Quarantine
            && !matches!((r.signer, group), (Some(s), Some(g)) if g.has(s))
        {
            unproven_quarantine = true;
        }
        match (r.signer, group) {
            (Some(s), Some(g)) if g.has(s) => counted.push((s, *r, *q)),
            (Some(s), _) => uncounted.push(format!(
                "a {} record by {}, who is not in the quarantine group{}",
                if q.action == QuarantineAction::Lift {
                    "lift"
                } else {
                    "quarantine"
                },
                signer_name(s),
                group.map(|g| format!(" ({})", g.name)).unwrap_or_default()
            )),
            (None, _) => uncounted.push(format!(
                "an unverified {} record ({})",
                if q.action == QuarantineAction::Lift {
                    "lift"
                } else {
                    "quarantine"
                },
                r.why_unproven()
            )),
        }
    }
    // In time order; at equal times a quarantine comes after a lift (stricter).
    counted.sort_by_key(|(_, r, q)| (r.record.time(), q.action == QuarantineAction::Quarantine));
    let mut standing: Option<(&Signer, &Signed<'_>, &crate::evidence::record::Quarantine)> = None;
    let mut lifted: Option<String> = None;
    for (s, r, q) in &counted {
        match q.action {
            QuarantineAction::Quarantine => {
                standing = Some((s, r, q));
                lifted = None;
            }
            QuarantineAction::Lift => {
                if let Some((qs, _, qq)) = standing.take() {
                    lifted = Some(format!(
                        "quarantined by {} ({}), lifted by {} on {}: {}",
                        signer_name(qs),
                        qq.link.reason,
                        signer_name(s),
                        day(&q.link.time),
                        q.link.reason
                    ));
                }
            }
        }
    }
    let tail = if uncounted.is_empty() {
        String::new()
    } else {
        format!("; not counted: {}", uncounted.join("; "))
    };
    let mut f = match (standing, lifted) {
        (Some((s, r, q)), _) => {
            let mut f = finding(
                "quarantine-record",
                Outcome::Fail,
                format!(
                    "quarantined by {} on {}: {}{tail}",
                    signer_name(s),
                    day(&q.link.time),
                    q.link.reason
                ),
            );
            f.evidence_fails = true;
            f.evidence = Some(r.digest.to_string());
            f.hint = Some(
                "lift it once the incident is closed: provost unquarantine REF --reason TEXT"
                    .into(),
            );
            f
        }
        (None, Some(l)) => finding("quarantine-record", Outcome::Pass, format!("{l}{tail}")),
        (None, None) if unproven_quarantine => {
            // A quarantine that cannot be proven is not ignored: it warns, and a required
            // tier (which needs every check to hold) blocks on it.
            let mut f = finding(
                "quarantine-record",
                Outcome::Fail,
                format!(
                    "quarantine claimed but not proven: {}",
                    uncounted.join("; ")
                ),
            );
            f.hint = Some(
                "check who wrote it; a member of the quarantine group can confirm it or lift it"
                    .into(),
            );
            f
        }
        (None, None) => finding(
            "quarantine-record",
            Outcome::Pass,
            format!("not quarantined{tail}"),
        ),
    };
    if f.outcome == Outcome::Pass && unproven_quarantine {
        f.outcome = Outcome::Fail;
        f.hint = Some("check who wrote the records that do not count".into());
    }
    Some(f)
}
