//! The audit trail: per chain (an environment, or `quarantine`) the records form a list, each
//! naming the digest of the one before, and a tag in the audit repository points
//! at the newest. Every record confirmed on the chain is also tagged `<chain>-<hex>`, so
//! verification sees records that are not on it (a fork, an insertion). Reading the chain
//! checks each record's bundle against the trusted keys and identities; `verify` adds the
//! group of each signer, the links, the times, and whether the head went back since this
//! machine last saw it.

use crate::evidence::record::{Record, QUARANTINE_CHAIN};
use crate::evidence::Signer;
pub use crate::ledger::chain::{
    check_chain_name, head, head_tag, read_entry, record_tag, record_tags, walk, Entry, Walk,
    MAX_RECORDS,
};
use crate::oci::{OciError, Store};
use crate::policy::groups::Action;
use crate::policy::PolicyFile;
use crate::verify::{LazyRoot, Trust};
use serde::Serialize;
use std::path::Path;

/// What `audit verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub chain: String,
    pub head: Option<String>,
    pub records: usize,
    /// Every problem, in a sentence that says what and where. Empty: the chain verifies.
    pub problems: Vec<String>,
}

/// Which group may write records of `r` into `chain`.
fn allowed(policy: &PolicyFile, chain: &str, r: &Record, signer: &Signer) -> Result<(), String> {
    match r {
        Record::Approval(_) => match policy.group_for(Action::Approve, chain) {
            Some(g) if g.has(signer) => Ok(()),
            Some(g) => Err(format!(
                "is not in {}, the group that approves for {chain}",
                g.name
            )),
            None => Err(format!("no group approves for {chain}")),
        },
        Record::Promotion(_) => match policy.group_for(Action::Promote, chain) {
            Some(g) if g.has(signer) => Ok(()),
            Some(g) => Err(format!(
                "is not in {}, the group that promotes into {chain}",
                g.name
            )),
            None => Err(format!("no group promotes into {chain}")),
        },
        Record::Quarantine(_) => {
            let groups: Vec<_> = policy
                .access
                .iter()
                .filter_map(|a| policy.group_for(Action::Quarantine, &a.environment))
                .collect();
            if groups.iter().any(|g| g.has(signer)) {
                Ok(())
            } else if groups.is_empty() {
                Err("no group may quarantine".into())
            } else {
                Err("is in no group that may quarantine".into())
            }
        }
    }
}

/// Checks a walked chain: signatures, groups, links, times, records off the chain (from the
/// `<chain>-<hex>` tags), and the head against what this machine saw before (`seen`).
pub async fn verify(
    store: &impl Store,
    repo: &str,
    walk: &Walk,
    policy: &PolicyFile,
    trusts: &[Trust],
    root: &LazyRoot,
    seen: Option<(&Path, &str)>,
) -> Result<Report, OciError> {
    let chain = walk.chain.as_str();
    let short = crate::oci::digest::short;
    let mut problems = vec![];
    let n = walk.entries.len();
    for (i, e) in walk.entries.iter().enumerate() {
        let at = format!(
            "record {} ({} of {n}, from the head)",
            short(&e.digest),
            i + 1
        );
        if let Some(p) = &e.problem {
            problems.push(format!("{at}: {p}"));
        }
        let Some(r) = &e.record else { continue };
        if r.link().chain != chain {
            problems.push(format!(
                "{at} belongs to chain {}, not {chain}",
                r.link().chain
            ));
        }
        if let Record::Approval(a) = r {
            if a.environment != chain {
                problems.push(format!("{at} approves for {}, not {chain}", a.environment));
            }
        }
        if matches!(r, Record::Quarantine(_)) != (chain == QUARANTINE_CHAIN) {
            problems.push(format!(
                "{at} is a {} record in chain {chain}",
                r.predicate_type()
            ));
        }
        match (e.signer(), &e.check) {
            (Some(s), _) => {
                if let Err(why) = allowed(policy, chain, r, s) {
                    problems.push(format!("{at} was signed by {}, who {why}", s.sentence()));
                }
            }
            // More than one signature is already named as the record's problem.
            (None, _) if e.signatures > 1 => {}
            (None, Some(c)) => problems.push(format!(
                "{at}: the signature does not verify: {}",
                c.sentence()
            )),
            (None, None) => problems.push(format!("{at}: the signature was not checked")),
        }
        if let (Some(t), Some(prev)) = (
            r.time(),
            walk.entries
                .get(i + 1)
                .and_then(|p| p.record.as_ref())
                .and_then(Record::time),
        ) {
            // Clocks differ between writers: five minutes of skew are not a finding.
            if t + chrono::Duration::minutes(5) < prev {
                problems.push(format!(
                    "{at} claims a time ({}) before its previous record's ({})",
                    t.format("%Y-%m-%d %H:%M:%S UTC"),
                    prev.format("%Y-%m-%d %H:%M:%S UTC")
                ));
            }
        }
    }
    if let Some(b) = &walk.broken {
        problems.push(format!("the chain is broken: {b}"));
    }
    // Records confirmed on the chain but not reachable from the head.
    let on_chain: std::collections::HashSet<&str> =
        walk.entries.iter().map(|e| e.digest.as_str()).collect();
    for (tag, named) in record_tags(&walk.tags, chain) {
        if on_chain.contains(named.as_str()) {
            continue;
        }
        let e = match read_entry(store, repo, &named, trusts, root).await {
            Ok(e) => e,
            Err(err) if err.is_not_found() => {
                let actual = store.resolve(repo, tag).await?;
                problems.push(format!(
                    "tag {tag} points at {}, not at the record it names",
                    short(&actual)
                ));
                continue;
            }
            Err(err) => return Err(err),
        };
        let who = e
            .signer()
            .map(Signer::sentence)
            .unwrap_or_else(|| "an unverified signer".into());
        match e.previous() {
            Some(p) if on_chain.contains(p) => {
                let sibling = walk
                    .entries
                    .iter()
                    .find(|x| x.previous() == Some(p))
                    .map(|x| short(&x.digest))
                    .unwrap_or_else(|| "the head".into());
                problems.push(format!(
                    "fork: record {} by {who} names previous record {}, as record {sibling} on the chain does; it is not on the chain from the head",
                    short(&named),
                    short(p)
                ));
            }
            _ => problems.push(format!(
                "record {} by {who} is tagged as part of the chain but the chain from the head does not reach it",
                short(&named)
            )),
        }
    }
    if let Some((path, identity)) = seen {
        check_seen(path, identity, walk, &mut problems);
    }
    Ok(Report {
        chain: chain.to_string(),
        head: walk.head.clone(),
        records: n,
        problems,
    })
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
struct Seen {
    head: String,
    #[serde(default)]
    records: Option<usize>,
}

/// Head memory is keyed by the ledger's identity (`Ledger::identity`: registry host and
/// repository, or a layout's canonical path), never by a display name.
fn seen_key(identity: &str, chain: &str) -> String {
    format!("{identity}:{chain}")
}

fn read_seen(path: &Path) -> std::collections::BTreeMap<String, Seen> {
    crate::oci::files::read_regular(path, 4 << 20, false)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Remembers `head` as the newest head of the chain seen on this machine.
pub fn remember(path: &Path, identity: &str, chain: &str, head: &str, records: Option<usize>) {
    let mut all = read_seen(path);
    all.insert(
        seen_key(identity, chain),
        Seen {
            head: head.to_string(),
            records,
        },
    );
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let tmp = path.with_extension("json.tmp");
    if serde_json::to_vec_pretty(&all)
        .ok()
        .is_some_and(|b| std::fs::write(&tmp, b).is_ok())
    {
        let _ = std::fs::rename(&tmp, path);
    }
}

fn check_seen(path: &Path, identity: &str, walk: &Walk, problems: &mut Vec<String>) {
    let all = read_seen(path);
    let known = all.get(&seen_key(identity, &walk.chain));
    let contains = |d: &str| walk.entries.iter().any(|e| e.digest == d);
    match (known, &walk.head) {
        (Some(k), _) if !contains(&k.head) => problems.push(format!(
            "the head went back: this machine last saw head {}{}, and the chain from the current head {} ({} records) does not contain it",
            crate::oci::digest::short(&k.head),
            k.records.map(|n| format!(" ({n} records)")).unwrap_or_default(),
            walk.head.as_deref().map(crate::oci::digest::short).unwrap_or_else(|| "(none)".into()),
            walk.entries.len()
        )),
        (_, Some(h)) if problems.is_empty() => {
            remember(path, identity, &walk.chain, h, Some(walk.entries.len()))
        }
        _ => {}
    }
}
