//! What a person asks to record, checked and turned into a draft — shared by the CLI and the
//! console, so both refuse the same things and sign the same statement.

use super::record::{self, Draft};
use crate::evidence::record::{
    Approval, ApprovalDecision, Link, Quarantine, QuarantineAction, Record, Scope, QUARANTINE_CHAIN,
};
use crate::evidence::Signer;
use crate::policy::groups::Action;
use crate::verify::Trust;
use p256::ecdsa::SigningKey;

/// What to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Approve {
        environment: String,
        reject: bool,
        /// RFC 3339.
        not_after: Option<String>,
    },
    Quarantine {
        lift: bool,
    },
    /// Promote into `to`, from the environment `to` promotes from (`release::promote`).
    Promote {
        to: String,
    },
    /// Move `environment`'s tag back to the digest it held before (`release::promote`).
    Rollback {
        environment: String,
    },
}

impl Kind {
    /// In words, for prompts.
    pub fn words(&self) -> String {
        match self {
            Kind::Approve {
                environment,
                reject: false,
                ..
            } => format!("approve for {environment}"),
            Kind::Approve {
                environment,
                reject: true,
                ..
            } => format!("reject for {environment}"),
            Kind::Quarantine { lift: false } => "quarantine".into(),
            Kind::Quarantine { lift: true } => "lift the quarantine of".into(),
            Kind::Promote { to } => format!("promote into {to}"),
            Kind::Rollback { environment } => format!("roll {environment} back"),
        }
    }

    /// A promotion or rollback (not a record on its own).
    pub fn moves_a_tag(&self) -> bool {
        matches!(self, Kind::Promote { .. } | Kind::Rollback { .. })
    }
}

/// The signer a record made with `key` will have, when `key` is one of the trusted keys.
pub fn identify(key: &SigningKey, trust: &[Trust]) -> Option<Signer> {
    let pem = crate::verify::keys::public_pem(key).ok()?;
    let fingerprint = crate::verify::keys::fingerprint_of_pem(&pem)?;
    trust.iter().find_map(|t| match t {
        Trust::Key { pem: p, name, .. }
            if crate::verify::keys::fingerprint_of_pem(p).as_deref() == Some(&fingerprint) =>
        {
            Some(Signer::Key {
                fingerprint: fingerprint.clone(),
                name: name.clone(),
            })
        }
        _ => None,
    })
}

/// Whether `signer` may write `kind` under `gate`'s policy, over `environments`; the reason
/// when not (the record would count for nothing).
pub fn check_allowed(
    gate: &crate::gate::Gate,
    signer: &Signer,
    kind: &Kind,
    environments: &[crate::config::Environment],
) -> Result<(), String> {
    let policy = &gate.policy.file;
    match kind {
        Kind::Approve { environment, .. } => match policy.group_for(Action::Approve, environment) {
            None => Err(format!(
                "nobody may approve for {environment} under {} (add an [[access]] entry with `approve`)",
                gate.policy.origin
            )),
            Some(g) if !g.has(signer) => Err(format!(
                "{} is not in {}, the group that approves for {environment}: the record would not count",
                signer.sentence(),
                g.name
            )),
            Some(_) => Ok(()),
        },
        Kind::Promote { to: env } | Kind::Rollback { environment: env } => {
            match policy.group_for(Action::Promote, env) {
                None => Err(format!(
                    "nobody may promote into {env} under {} (add an [[access]] entry with `promote`)",
                    gate.policy.origin
                )),
                Some(g) if !g.has(signer) => Err(format!(
                    "{} is not in {}, the group that promotes into {env}",
                    signer.sentence(),
                    g.name
                )),
                Some(_) => Ok(()),
            }
        }
        Kind::Quarantine { .. } => {
            let allowed = environments
                .iter()
                .filter_map(|e| policy.group_for(Action::Quarantine, &e.name))
                .any(|g| g.has(signer));
            if allowed {
                Ok(())
            } else {
                Err(format!(
                    "{} is in no group that may quarantine under {}: the record would not count",
                    signer.sentence(),
                    gate.policy.origin
                ))
            }
        }
    }
}

/// The policy's own text, for the digest an approval names.
pub fn policy_text(origin: &str) -> Vec<u8> {
    std::fs::read(origin).unwrap_or_else(|_| {
        if origin == crate::policy::Policy::demo().origin {
            crate::policy::DEMO_POLICY.as_bytes().to_vec()
        } else {
            vec![]
        }
    })
}

/// The draft for `kind` about `digest` in `repository`, made now.
pub async fn draft(
    store: &impl crate::oci::Store,
    gate: &crate::gate::Gate,
    repository: &str,
    digest: &str,
    kind: &Kind,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::oci::Result<Draft> {
    let (subject, children) = record::subject_of(store, repository, digest).await?;
    let time = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (record, children) = match kind {
        Kind::Approve {
            environment,
            reject,
            not_after,
        } => (
            Record::Approval(Approval {
                environment: environment.clone(),
                decision: if *reject {
                    ApprovalDecision::Reject
                } else {
                    ApprovalDecision::Approve
                },
                policy: record::policy_ref(&gate.policy.origin, &policy_text(&gate.policy.origin)),
                not_after: not_after.clone(),
                link: Link {
                    chain: environment.clone(),
                    previous: None,
                    time,
                    reason: reason.to_string(),
                },
            }),
            vec![],
        ),
        Kind::Quarantine { lift } => (
            Record::Quarantine(Quarantine {
                action: if *lift {
                    QuarantineAction::Lift
                } else {
                    QuarantineAction::Quarantine
                },
                scope: Scope {
                    digest: digest.to_string(),
                    children: children.iter().map(|c| c.digest.clone()).collect(),
                },
                link: Link {
                    chain: QUARANTINE_CHAIN.into(),
                    previous: None,
                    time,
                    reason: reason.to_string(),
                },
            }),
            children,
        ),
        Kind::Promote { .. } | Kind::Rollback { .. } => {
            return Err(crate::oci::OciError::InvalidReference {
                reference: kind.words(),
                reason: "a promotion is planned by release::promote, not drafted as a record"
                    .into(),
            })
        }
    };
    Ok(Draft {
        repository: repository.to_string(),
        subject,
        children,
        record,
    })
}

/// Sets the previous record a draft names to the chain's current head (what the plan shows;
/// the writer re-reads it and relinks when it moved).
pub async fn link_to_head(
    store: &impl crate::oci::Store,
    audit_repo: &str,
    draft: &mut Draft,
) -> crate::oci::Result<Option<String>> {
    let head = super::chain::head(store, audit_repo, &draft.record.link().chain).await?;
    draft.record.link_mut().previous = head.clone();
    Ok(head)
}
