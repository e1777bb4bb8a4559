//! The audit trail: per chain (an environment, or `quarantine`) the records form a list, each
//! naming the digest of the one before, and a tag in the audit repository points
//! at the newest. Every record confirmed on the chain is also tagged `<chain>-<hex>`, so
//! verification sees records that are not on it (a fork, an insertion). Reading the chain
//! checks each record's bundle against the trusted keys and identities; `verify` adds the
//! group of each signer, the links, the times, and whether the head went back since this
//! machine last saw it.

use crate::evidence::envelope::{self, BundleContent};
use crate::evidence::record::{self, Record, QUARANTINE_CHAIN};
use crate::evidence::trust::{SignatureCheck, TimeProof};
use crate::evidence::Signer;
use crate::oci::media::{ImageManifest, Manifest};
use crate::oci::{OciError, Store};
use crate::policy::groups::Action;
use crate::policy::PolicyFile;
use crate::verify::{LazyRoot, Trust};
use serde::Serialize;
use std::path::Path;

/// Records read from one chain at most (a loop or an endless chain stops here).
pub const MAX_RECORDS: usize = 100_000;
/// A record's bundle is refused above this size.
const MAX_BUNDLE: u64 = 1 << 20;

/// A chain name must be usable as a tag, with room for `-<64 hex>` after it.
pub fn check_chain_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 58
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{:?} cannot name an audit chain (letters, digits, '.', '_', '-'; at most 58)",
            crate::text::sanitize(name)
        ))
    }
}

/// The tag a confirmed record carries in the audit repository.
pub fn record_tag(chain: &str, digest: &str) -> String {
    format!("rec-{chain}-{}", digest.trim_start_matches("sha256:"))
}

/// The tag that points at the chain's newest record.
pub fn head_tag(chain: &str) -> String {
    format!("head-{chain}")
}

/// The chain's head, or None when the chain has no record yet.
/// A registry may fail a read of a tag another writer is moving (distribution answers 500):
/// such reads are tried again, a few times, shortly after.
pub async fn head(store: &impl Store, repo: &str, chain: &str) -> Result<Option<String>, OciError> {
    let mut tries = 0;
    loop {
        match store.resolve(repo, &head_tag(chain)).await {
            Ok(d) => return Ok(Some(d)),
            Err(e) if e.is_not_found() => return Ok(None),
            Err(OciError::Registry { status, .. }) if status >= 500 && tries < 5 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(40 * tries)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

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
    /// Its one signature, checked.
    pub check: Option<SignatureCheck>,
    /// What is wrong with it as a document (unreadable, not a record, more than one signature).
    pub problem: Option<String>,
}

impl Entry {
    /// The proven signer.
    pub fn signer(&self) -> Option<&Signer> {
        self.check
            .as_ref()
            .filter(|c| c.result == crate::evidence::trust::CheckResult::Verified)
            .and_then(|c| c.signer.as_ref())
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

    fn previous(&self) -> Option<&str> {
        self.record
            .as_ref()
            .and_then(|r| r.link().previous.as_deref())
    }
}

/// Reads the record `digest` from `repo` and checks its signature.
pub async fn read_entry(
    store: &impl Store,
    repo: &str,
    digest: &str,
    trusts: &[Trust],
    root: &LazyRoot,
) -> Result<Entry, OciError> {
    let m = store.get_manifest(repo, digest).await?;
    let mut e = Entry {
        digest: m.digest.clone(),
        subject: None,
        repository: None,
        record: None,
        check: None,
        problem: None,
    };
    let img: ImageManifest = match Manifest::parse(&m.bytes, &m.media_type) {
        Ok((Manifest::Image(i), _)) => i,
        _ => {
            e.problem = Some("it is not an artifact manifest".into());
            return Ok(e);
        }
    };
    e.subject = img.subject.as_ref().map(|s| s.digest.clone());
    let Some(layer) = img
        .layers
        .first()
        .filter(|l| envelope::is_bundle_media_type(&l.media_type))
    else {
        e.problem = Some("it holds no Sigstore bundle".into());
        return Ok(e);
    };
    let blob = store.get_blob(repo, &layer.digest, MAX_BUNDLE).await?;
    let bundle = match envelope::parse_bundle(&blob) {
        Ok(b) => b,
        Err(err) => {
            e.problem = Some(format!("its bundle does not parse: {err}"));
            return Ok(e);
        }
    };
    let BundleContent::Dsse(env) = &bundle.content else {
        e.problem = Some("its bundle holds no DSSE envelope".into());
        return Ok(e);
    };
    if env.signatures.len() != 1 {
        e.problem = Some(format!(
            "it carries {} signatures; a record carries one",
            env.signatures.len()
        ));
    }
    let st = match envelope::statement_from_envelope(env) {
        Ok(s) => s,
        Err(err) => {
            e.problem = Some(format!("its statement does not parse: {err}"));
            return Ok(e);
        }
    };
    e.repository = st.subject.first().map(|s| s.name.clone());
    match record::parse(&st.predicate_type, &st.predicate) {
        Ok(r) => e.record = Some(r),
        Err(err) => {
            e.problem
                .get_or_insert(format!("it is not a provost record: {err}"));
            return Ok(e);
        }
    }
    let Some(subject) = e.subject.clone().filter(|s| st.binds(s)) else {
        e.problem
            .get_or_insert("its statement is not about the manifest's subject".into());
        return Ok(e);
    };
    match root.get() {
        Ok(root) => {
            e.check =
                Some(crate::verify::oci::check_bundle(&blob, &subject, trusts, root).to_check())
        }
        Err(err) => e.check = Some(SignatureCheck::invalid(format!("trusted root: {err}"))),
    }
    Ok(e)
}

/// A chain read from its head backwards.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Walk {
    pub chain: String,
    pub head: Option<String>,
    /// Newest first.
    pub entries: Vec<Entry>,
    /// Where the links break, when they do before the first record.
    pub broken: Option<String>,
    /// The audit repository's tags, as listed when the chain was read.
    #[serde(skip)]
    pub tags: Vec<String>,
}

/// Reads the chain from its head to its first record. The records its `rec-<chain>-<hex>` tags
/// name are read first, several at a time; the links are then followed from the head (a
/// record no tag names is read when the links reach it).
pub async fn walk(
    store: &impl Store,
    repo: &str,
    chain: &str,
    trusts: &[Trust],
    root: &LazyRoot,
) -> Result<Walk, OciError> {
    use futures::StreamExt;
    let head = head(store, repo, chain).await?;
    let mut w = Walk {
        chain: chain.to_string(),
        head: head.clone(),
        ..Default::default()
    };
    let tags = match store.list_tags(repo).await {
        Ok(t) => t,
        Err(e) if e.is_not_found() => vec![],
        Err(e) => return Err(e),
    };
    let named: Vec<String> = record_tags(&tags, chain)
        .map(|(_, d)| d)
        .take(MAX_RECORDS)
        .collect();
    let mut prefetched: std::collections::HashMap<String, Entry> = futures::stream::iter(named)
        .map(|d| async move { read_entry(store, repo, &d, trusts, root).await.ok() })
        .buffer_unordered(8)
        .filter_map(|e| async move { e.map(|e| (e.digest.clone(), e)) })
        .collect()
        .await;
    w.tags = tags;
    let mut seen = std::collections::HashSet::new();
    let mut next = head;
    while let Some(d) = next.take() {
        if !seen.insert(d.clone()) {
            w.broken = Some(format!(
                "the links loop back to record {}",
                crate::oci::digest::short(&d)
            ));
            break;
        }
        if w.entries.len() >= MAX_RECORDS {
            w.broken = Some(format!("more than {MAX_RECORDS} records; stopped reading"));
            break;
        }
        let read = match prefetched.remove(&d) {
            Some(e) => Ok(e),
            None => read_entry(store, repo, &d, trusts, root).await,
        };
        let e = match read {
            Ok(e) => e,
            Err(err) if err.is_not_found() => {
                w.broken = Some(match w.entries.last() {
                    Some(after) => format!(
                        "record {} names previous record {}, which the audit repository does not hold (deleted?)",
                        crate::oci::digest::short(&after.digest),
                        crate::oci::digest::short(&d)
                    ),
                    None => format!(
                        "the head names record {d}, which the audit repository does not hold"
                    ),
                });
                break;
            }
            Err(err) => return Err(err),
        };
        if e.record.is_none() {
            let why = e.problem.clone().unwrap_or_default();
            w.broken = Some(format!(
                "record {} cannot be read as a record ({why}), so the links stop there",
                crate::oci::digest::short(&e.digest)
            ));
            w.entries.push(e);
            break;
        }
        next = e.previous().map(str::to_string);
        w.entries.push(e);
    }
    Ok(w)
}

/// The `rec-<chain>-<hex>` tags among `tags`, with the record digest each names.
fn record_tags<'a>(tags: &'a [String], chain: &'a str) -> impl Iterator<Item = (&'a str, String)> {
    let prefix = format!("rec-{chain}-");
    tags.iter().filter_map(move |t| {
        let h = t.strip_prefix(&prefix)?;
        (h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| (t.as_str(), format!("sha256:{h}")))
    })
}

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
    seen: Option<&Path>,
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
    if let Some(path) = seen {
        check_seen(path, store.name(), repo, walk, &mut problems);
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

fn seen_key(store: &str, repo: &str, chain: &str) -> String {
    format!("{store}/{repo}:{chain}")
}

fn read_seen(path: &Path) -> std::collections::BTreeMap<String, Seen> {
    crate::oci::files::read_regular(path, 4 << 20, false)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Remembers `head` as the newest head of the chain seen on this machine.
pub fn remember(
    path: &Path,
    store: &str,
    repo: &str,
    chain: &str,
    head: &str,
    records: Option<usize>,
) {
    let mut all = read_seen(path);
    all.insert(
        seen_key(store, repo, chain),
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

fn check_seen(path: &Path, store: &str, repo: &str, walk: &Walk, problems: &mut Vec<String>) {
    let all = read_seen(path);
    let known = all.get(&seen_key(store, repo, &walk.chain));
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
            remember(path, store, repo, &walk.chain, h, Some(walk.entries.len()))
        }
        _ => {}
    }
}
