//! Release records: what a person did about a digest (approved or rejected it for an
//! environment, quarantined it or lifted a quarantine), as the predicate of an in-toto
//! Statement v1 whose subject is the digest. Signed records are stored as Sigstore bundles
//! (DSSE) referring to the digest and linked into a per-environment audit chain; this module
//! only holds the typed predicate and reads it back. Nothing here verifies a signature.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every record's predicate type starts with this prefix.
pub const PREFIX: &str = "https://provost.dev/records/";
/// An approval or rejection of a digest for one environment.
pub const APPROVAL_V1: &str = "https://provost.dev/records/approval/v1";
/// A quarantine of a digest (and an index's children), or its lifting.
pub const QUARANTINE_V1: &str = "https://provost.dev/records/quarantine/v1";

/// A promotion (or rollback) of a digest into an environment: the environment tag moved.
pub const PROMOTION_V1: &str = "https://provost.dev/records/promotion/v1";
/// The predicate type of the verdict a promotion record carries.
pub const VSA_V1: &str = "https://slsa.dev/verification_summary/v1";

/// The annotation on a record's referrer manifest (and its referrers-index entry) that carries
/// the record's bundle, so a gate reads records from the listing alone.
pub const BUNDLE_ANNOTATION: &str = "dev.provost.record.bundle";
/// Bundles larger than this are not inlined (they are fetched as the layer).
pub const MAX_INLINE_BUNDLE: usize = 64 * 1024;

/// The chain quarantine records are linked into (a quarantine holds in every environment).
pub const QUARANTINE_CHAIN: &str = "quarantine";

/// Whether a predicate type is one of provost's records.
pub fn is_record(predicate_type: &str) -> bool {
    predicate_type.starts_with(PREFIX)
}

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalDecision {
    Approve,
    Reject,
}

/// Quarantine or lift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuarantineAction {
    Quarantine,
    Lift,
}

/// The policy in force when a record was made: where it came from and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRef {
    pub uri: String,
    pub digest: std::collections::BTreeMap<String, String>,
}

/// The fields every record carries: the chain it belongs to and its link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// The chain (an environment's name, or `quarantine`).
    pub chain: String,
    /// The digest of the chain's previous record (its referrer manifest), None for the first.
    pub previous: Option<String>,
    /// When the signer says the record was made (RFC 3339, UTC).
    pub time: String,
    /// Why, in the signer's words.
    pub reason: String,
}

/// An approval record's predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Approval {
    pub environment: String,
    pub decision: ApprovalDecision,
    pub policy: PolicyRef,
    /// After this time (RFC 3339) the approval no longer counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    #[serde(flatten)]
    pub link: Link,
}

/// A quarantine record's predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Quarantine {
    pub action: QuarantineAction,
    /// The digest quarantined, and for an index every child it lists.
    pub scope: Scope,
    #[serde(flatten)]
    pub link: Link,
}

/// Promote forward, or roll back to a digest the environment held before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromotionAction {
    Promote,
    Rollback,
}

/// One end of a promotion: an environment and where its images live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    pub environment: String,
    /// The registry host or store name.
    pub registry: String,
    pub repository: String,
}

/// The gate's verdict at the destination, as a SLSA Verification Summary Attestation v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Verification {
    /// Always `https://slsa.dev/verification_summary/v1`.
    pub predicate_type: String,
    /// The VSA predicate: verifier, timeVerified, resourceUri, policy, inputAttestations,
    /// verificationResult, verifiedLevels.
    pub predicate: Value,
}

/// A promotion record's predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Promotion {
    pub action: PromotionAction,
    pub from: Place,
    pub to: Place,
    /// The digest promoted (the statement's subject).
    pub digest: String,
    /// The environment tag that moved.
    pub tag: String,
    /// What the tag pointed at before (None when it did not exist).
    pub previous_digest: Option<String>,
    /// Break-glass: the gate blocked and the promoter overrode it, for this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    /// Break-glass: the environment on the path the digest never was in (`promotes_from`),
    /// skipped under an override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    pub verification: Verification,
    #[serde(flatten)]
    pub link: Link,
}

/// What a quarantine covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub digest: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
}

impl Scope {
    /// True when the quarantine covers `digest`.
    pub fn covers(&self, digest: &str) -> bool {
        self.digest == digest || self.children.iter().any(|c| c == digest)
    }
}

/// A decoded record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
// Records are held a chain at a time, not by the million: boxing the promotion saves nothing
// that matters and costs every match a deref.
#[allow(clippy::large_enum_variant)]
pub enum Record {
    Approval(Approval),
    Quarantine(Quarantine),
    Promotion(Promotion),
}

impl Record {
    pub fn predicate_type(&self) -> &'static str {
        match self {
            Record::Approval(_) => APPROVAL_V1,
            Record::Quarantine(_) => QUARANTINE_V1,
            Record::Promotion(_) => PROMOTION_V1,
        }
    }

    pub fn link(&self) -> &Link {
        match self {
            Record::Approval(a) => &a.link,
            Record::Quarantine(q) => &q.link,
            Record::Promotion(p) => &p.link,
        }
    }

    /// The link, to set what it names.
    pub fn link_mut(&mut self) -> &mut Link {
        match self {
            Record::Approval(a) => &mut a.link,
            Record::Quarantine(q) => &mut q.link,
            Record::Promotion(p) => &mut p.link,
        }
    }

    /// The predicate as JSON.
    pub fn predicate(&self) -> Value {
        match self {
            Record::Approval(a) => serde_json::to_value(a),
            Record::Quarantine(q) => serde_json::to_value(q),
            Record::Promotion(p) => serde_json::to_value(p),
        }
        .unwrap_or(Value::Null)
    }

    /// The signer's claimed time, parsed.
    pub fn time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::parse_from_rfc3339(&self.link().time)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc))
    }

    /// What the record says, in a few words (for logs and history).
    pub fn action_words(&self) -> String {
        match self {
            Record::Approval(a) => match a.decision {
                ApprovalDecision::Approve => format!("approved for {}", a.environment),
                ApprovalDecision::Reject => format!("rejected for {}", a.environment),
            },
            Record::Quarantine(q) => match q.action {
                QuarantineAction::Quarantine if q.scope.children.is_empty() => {
                    "quarantined".to_string()
                }
                QuarantineAction::Quarantine => format!(
                    "quarantined (with {} platform manifest(s))",
                    q.scope.children.len()
                ),
                QuarantineAction::Lift => "quarantine lifted".to_string(),
            },
            Record::Promotion(p) => {
                let verb = match p.action {
                    PromotionAction::Promote => format!("promoted from {} to", p.from.environment),
                    PromotionAction::Rollback => "rolled back".to_string(),
                };
                let mut w = format!("{verb} {}", p.to.environment);
                if let Some(env) = &p.skipped {
                    w.push_str(&format!(" (skipped {env})"));
                } else if p.override_reason.is_some() {
                    w.push_str(" (gate overridden)");
                }
                w
            }
        }
    }
}

/// Decodes a record predicate of `predicate_type`; an unknown record type or a malformed
/// predicate is an error (a broken record, never silently ignored).
pub fn parse(predicate_type: &str, predicate: &Value) -> Result<Record, String> {
    let record = match predicate_type {
        APPROVAL_V1 => serde_json::from_value(predicate.clone())
            .map(Record::Approval)
            .map_err(|e| format!("approval record: {e}"))?,
        QUARANTINE_V1 => serde_json::from_value(predicate.clone())
            .map(Record::Quarantine)
            .map_err(|e| format!("quarantine record: {e}"))?,
        PROMOTION_V1 => serde_json::from_value(predicate.clone())
            .map(Record::Promotion)
            .map_err(|e| format!("promotion record: {e}"))?,
        other => return Err(format!("unknown record type {other}")),
    };
    let link = record.link();
    if record.time().is_none() {
        return Err(format!("record time {:?} is not RFC 3339", link.time));
    }
    if let Some(p) = &link.previous {
        if !crate::oci::digest::is_valid(p) {
            return Err(format!("previous {p:?} is not a sha256 digest"));
        }
    }
    if let Record::Approval(a) = &record {
        if let Some(n) = &a.not_after {
            if chrono::DateTime::parse_from_rfc3339(n).is_err() {
                return Err(format!("notAfter {n:?} is not RFC 3339"));
            }
        }
        if a.link.chain != a.environment {
            return Err(format!(
                "an approval for {} is linked into chain {}",
                a.environment, a.link.chain
            ));
        }
    }
    if let Record::Quarantine(q) = &record {
        if q.link.chain != QUARANTINE_CHAIN {
            return Err(format!(
                "a quarantine record is linked into chain {}",
                q.link.chain
            ));
        }
        for d in std::iter::once(&q.scope.digest).chain(&q.scope.children) {
            if !crate::oci::digest::is_valid(d) {
                return Err(format!("scope {d:?} is not a sha256 digest"));
            }
        }
    }
    if let Record::Promotion(p) = &record {
        if p.link.chain != p.to.environment {
            return Err(format!(
                "a promotion into {} is linked into chain {}",
                p.to.environment, p.link.chain
            ));
        }
        for d in std::iter::once(&p.digest).chain(&p.previous_digest) {
            if !crate::oci::digest::is_valid(d) {
                return Err(format!("{d:?} is not a sha256 digest"));
            }
        }
        if p.verification.predicate_type != VSA_V1 {
            return Err(format!(
                "the verification is a {:?}, not a SLSA verification summary",
                p.verification.predicate_type
            ));
        }
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(chain: &str) -> Link {
        Link {
            chain: chain.into(),
            previous: None,
            time: "2026-12-01T10:00:00Z".into(),
            reason: "looks good".into(),
        }
    }

    #[test]
    fn records_round_trip_and_malformed_ones_are_errors() {
        let a = Record::Approval(Approval {
            environment: "prod".into(),
            decision: ApprovalDecision::Approve,
            policy: PolicyRef {
                uri: "policy.toml".into(),
                digest: [("sha256".to_string(), "ab".repeat(32))].into(),
            },
            not_after: Some("2026-12-31T00:00:00Z".into()),
            link: link("prod"),
        });
        let back = parse(APPROVAL_V1, &a.predicate()).expect("parses");
        assert_eq!(back, a);
        let mut bad = a.predicate();
        bad["decision"] = "maybe".into();
        assert!(parse(APPROVAL_V1, &bad).is_err());
        let mut other_chain = a.predicate();
        other_chain["chain"] = "dev".into();
        assert!(parse(APPROVAL_V1, &other_chain).is_err());
        let mut bad_time = a.predicate();
        bad_time["time"] = "yesterday".into();
        assert!(parse(APPROVAL_V1, &bad_time).is_err());
        assert!(parse("https://provost.dev/records/other/v9", &a.predicate()).is_err());
        let q = Record::Quarantine(Quarantine {
            action: QuarantineAction::Quarantine,
            scope: Scope {
                digest: format!("sha256:{}", "1".repeat(64)),
                children: vec![format!("sha256:{}", "2".repeat(64))],
            },
            link: link(QUARANTINE_CHAIN),
        });
        let back = parse(QUARANTINE_V1, &q.predicate()).expect("parses");
        assert_eq!(back, q);
        let Record::Quarantine(qq) = back else {
            panic!("a quarantine")
        };
        assert!(qq.scope.covers(&format!("sha256:{}", "2".repeat(64))));
        let mut bad_scope = q.predicate();
        bad_scope["scope"]["digest"] = "latest".into();
        assert!(parse(QUARANTINE_V1, &bad_scope).is_err());
    }
}
