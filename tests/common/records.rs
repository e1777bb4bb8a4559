//! Release-record drafts for the tests that write records directly (not through the CLI).

use provost::evidence::record::{Approval, ApprovalDecision, Link, Record};
use provost::oci::media::Descriptor;
use provost::oci::Store;
use provost::release::record::{policy_ref, subject_of, Draft};

/// An approval (or rejection) of `subject` in `repo` for `env`, timed now, not yet linked.
pub fn approval(
    repo: &str,
    subject: Descriptor,
    env: &str,
    decision: ApprovalDecision,
    reason: &str,
) -> Draft {
    Draft {
        repository: repo.into(),
        subject,
        children: vec![],
        record: Record::Approval(Approval {
            environment: env.into(),
            decision,
            policy: policy_ref("test", b""),
            not_after: None,
            link: Link {
                chain: env.into(),
                previous: None,
                time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                reason: reason.into(),
            },
        }),
    }
}

/// An approval of `digest` in `repo` for `env`, its subject read from the store. Call it
/// outside a runtime.
pub fn approval_draft(st: &impl Store, repo: &str, digest: &str, env: &str, reason: &str) -> Draft {
    let (subject, _) = super::runtime()
        .block_on(subject_of(st, repo, digest))
        .expect("subject");
    approval(repo, subject, env, ApprovalDecision::Approve, reason)
}
