//! The audit trail as the verdict reads it: records read from the ledger's chains (one
//! `Entry` per record, its signature checked), and for one digest the entries about it
//! (`Trail`). A record counts for a verdict only when it is in the trail; a chain that could
//! not be read is kept as its error, so a verdict can say "could not tell", never "not there".

use super::record::{Record, QUARANTINE_CHAIN};
use super::trust::{CheckResult, SignatureCheck, TimeProof};
use super::Signer;
use serde::Serialize;

/// One record as read from the audit repository.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The record's digest (its referrer manifest).
    pub digest: String,
    /// The digest it is about (the manifest's subject).
    pub subject: Option<String>,
    /// The repository the statement names.
    pub repository: Option<String>,
    pub record: Option<Record>,
    /// Its signature, checked (the first, when it carries several).
    pub check: Option<SignatureCheck>,
    /// How many signatures its envelope carries; a record carries one.
    pub signatures: usize,
    /// What is wrong with it as a document (unreadable, not a record, more than one signature).
    pub problem: Option<String>,
}

impl Entry {
    /// The proven signer: exactly one signature, and it verified.
    pub fn signer(&self) -> Option<&Signer> {
        if self.signatures != 1 {
            return None;
        }
        self.check
            .as_ref()
            .filter(|c| c.result == CheckResult::Verified)
            .and_then(|c| c.signer.as_ref())
    }

    /// Why there is no proven signer, in words.
    pub fn why_unproven(&self) -> String {
        if self.signatures > 1 {
            return "it carries more than one signature".into();
        }
        match &self.check {
            Some(c) => c.sentence(),
            None => self
                .problem
                .clone()
                .unwrap_or_else(|| "it is not signed".into()),
        }
    }

    /// The trusted time, else the time the signer claims (marked).
    pub fn when(&self) -> String {
        match self.check.as_ref().map(|c| &c.time) {
            Some(TimeProof::Timestamp(t)) | Some(TimeProof::TransparencyLog(t)) => t.clone(),
            _ => self
                .record
                .as_ref()
                .and_then(Record::time)
                .map(|t| format!("{} (claimed)", t.format("%Y-%m-%d %H:%M:%S UTC")))
                .unwrap_or_else(|| "unknown time".into()),
        }
    }

    /// The record it names as the one before it.
    pub fn previous(&self) -> Option<&str> {
        self.record
            .as_ref()
            .and_then(|r| r.link().previous.as_deref())
    }

    /// True when the record is about `digest`: its subject, or a quarantine's scope.
    pub fn is_about(&self, digest: &str) -> bool {
        match &self.record {
            Some(Record::Quarantine(q)) => q.scope.covers(digest),
            _ => self.subject.as_deref() == Some(digest),
        }
    }
}

/// One chain's records about a digest, or why the chain could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct ChainTrail {
    pub chain: String,
    /// Newest first.
    pub entries: Result<Vec<Entry>, String>,
}

/// The audit trail of one digest: per chain read, the records about it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trail {
    /// Where the ledger is (for messages): source and repository.
    pub ledger: String,
    pub chains: Vec<ChainTrail>,
}

impl Trail {
    /// The chain `name`, when it was read (or tried).
    pub fn chain(&self, name: &str) -> Option<&ChainTrail> {
        self.chains.iter().find(|c| c.chain == name)
    }

    /// The quarantine chain.
    pub fn quarantine(&self) -> Option<&ChainTrail> {
        self.chain(QUARANTINE_CHAIN)
    }

    /// True when the record `digest` is in any chain of the trail.
    pub fn contains(&self, record: &str) -> bool {
        self.chains.iter().any(|c| {
            c.entries
                .as_ref()
                .is_ok_and(|es| es.iter().any(|e| e.digest == record))
        })
    }
}
