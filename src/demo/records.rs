//! The demo's release records, so every state shows in the first minute: digests with 2 of 2
//! approvals for prod (every digest prod holds), one with 1 of 2, one with a standing
//! rejection, one whose approval expired, a standing quarantine and a lifted one — each signed
//! by the demo's people and linked into the prod and quarantine chains of the audit repository.

use super::keys::DemoKeys;
use crate::evidence::record::{
    Approval, ApprovalDecision, Link, Quarantine, QuarantineAction, Record, Scope, QUARANTINE_CHAIN,
};
use crate::oci::{OciError, Result, Store};
use crate::release::record::{self, Draft, Signing};

/// The audit repository provost uses unless configured otherwise.
pub use crate::release::AUDIT_REPOSITORY;

enum Act {
    Approve(Option<&'static str>),
    Reject,
    Quarantine,
    Lift,
}

/// (repository, version tag, person, time, what, reason)
const RECORDS: &[(&str, &str, &str, &str, Act, &str)] = &[
    (
        "acme/billing",
        "3.1.0",
        "alice",
        "2026-10-02T09:10:00Z",
        Act::Approve(None),
        "invoicing 3.1 passed the month-end dry run",
    ),
    (
        "acme/billing",
        "3.1.0",
        "bob",
        "2026-10-02T11:45:00Z",
        Act::Approve(None),
        "reviewed the migration plan",
    ),
    (
        "acme/web",
        "2.1.0",
        "alice",
        "2026-10-08T08:30:00Z",
        Act::Approve(None),
        "UX sign-off done",
    ),
    (
        "acme/web",
        "2.1.0",
        "bob",
        "2026-10-08T09:05:00Z",
        Act::Approve(None),
        "canary clean for 24 h",
    ),
    (
        "acme/worker",
        "0.9.1",
        "bob",
        "2026-09-16T10:00:00Z",
        Act::Approve(None),
        "queue drain tested",
    ),
    (
        "acme/worker",
        "0.9.1",
        "alice",
        "2026-09-16T13:20:00Z",
        Act::Approve(None),
        "on-call agrees",
    ),
    (
        "acme/api",
        "1.4.1",
        "alice",
        "2026-11-04T09:00:00Z",
        Act::Approve(None),
        "hotfix for the rate limiter",
    ),
    (
        "acme/api",
        "1.4.1",
        "bob",
        "2026-11-04T10:30:00Z",
        Act::Approve(None),
        "load test green",
    ),
    (
        "acme/api",
        "1.2.0",
        "carol",
        "2026-11-10T07:40:00Z",
        Act::Quarantine,
        "suspected poisoned build cache (INC-2190)",
    ),
    (
        "acme/api",
        "1.2.0",
        "carol",
        "2026-11-12T16:05:00Z",
        Act::Lift,
        "cache verified clean; INC-2190 closed",
    ),
    (
        "acme/worker",
        "1.0.0",
        "bob",
        "2026-11-13T10:00:00Z",
        Act::Approve(Some("2026-11-30T00:00:00Z")),
        "approved for the November window only",
    ),
    (
        "acme/web",
        "2.2.0",
        "alice",
        "2026-11-19T15:00:00Z",
        Act::Approve(None),
        "multi-arch build checked on arm64",
    ),
    (
        "acme/billing",
        "3.2.0",
        "alice",
        "2026-11-20T09:00:00Z",
        Act::Approve(None),
        "feature complete",
    ),
    (
        "acme/billing",
        "3.2.0",
        "bob",
        "2026-11-20T14:10:00Z",
        Act::Reject,
        "invoice totals round the wrong way (INC-2211)",
    ),
    (
        "acme/api",
        "1.3.0",
        "carol",
        "2026-11-25T18:30:00Z",
        Act::Quarantine,
        "CVE-2026-48121 in the bundled TLS library",
    ),
];

fn failed(reason: String) -> OciError {
    OciError::Layout {
        path: "demo records".into(),
        reason,
    }
}

/// Writes the demo's records into `store`.
pub async fn seed(store: &impl Store, keys: &DemoKeys) -> Result<()> {
    let policy = record::policy_ref(
        crate::policy::Policy::demo().origin.as_str(),
        crate::policy::DEMO_POLICY.as_bytes(),
    );
    // Each chain in time order, as people would have written them.
    let mut records: Vec<_> = RECORDS.iter().collect();
    records.sort_by_key(|r| r.3);
    for (repo, tag, person, time, act, reason) in records {
        let digest = store.resolve(repo, tag).await?;
        let (subject, children) = record::subject_of(store, repo, &digest).await?;
        let link = |chain: &str| Link {
            chain: chain.to_string(),
            previous: None,
            time: time.to_string(),
            reason: reason.to_string(),
        };
        let (record, children) = match act {
            Act::Approve(_) | Act::Reject => (
                Record::Approval(Approval {
                    environment: "prod".into(),
                    decision: if matches!(act, Act::Reject) {
                        ApprovalDecision::Reject
                    } else {
                        ApprovalDecision::Approve
                    },
                    policy: policy.clone(),
                    not_after: match act {
                        Act::Approve(n) => n.map(str::to_string),
                        _ => None,
                    },
                    link: link("prod"),
                }),
                vec![],
            ),
            Act::Quarantine | Act::Lift => (
                Record::Quarantine(Quarantine {
                    action: if matches!(act, Act::Lift) {
                        QuarantineAction::Lift
                    } else {
                        QuarantineAction::Quarantine
                    },
                    scope: Scope {
                        digest: digest.clone(),
                        children: children.iter().map(|c| c.digest.clone()).collect(),
                    },
                    link: link(QUARANTINE_CHAIN),
                }),
                children,
            ),
        };
        let key = keys
            .person(person)
            .ok_or_else(|| failed(format!("no demo key for {person}")))?;
        let draft = Draft {
            repository: repo.to_string(),
            subject,
            children,
            record,
        };
        record::write(
            store,
            AUDIT_REPOSITORY,
            &draft,
            &Signing::Key {
                key,
                timestamp_url: None,
                rekor_url: None,
            },
        )
        .await
        .map_err(|e| failed(e.to_string()))?;
    }
    Ok(())
}
