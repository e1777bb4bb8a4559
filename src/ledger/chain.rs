//! Reading one chain of the ledger: its head, its records (each signature checked), and the
//! walk from the head back to the first record. Content-addressed bytes may come from a cache;
//! a record is taken as present only where the live tag listing names it, the live head is
//! it, or a live read confirms it (so a record deleted from the registry is found even by a
//! machine that cached it).

use crate::evidence::envelope::{self, BundleContent};
use crate::evidence::record;
pub use crate::evidence::trail::Entry;
use crate::evidence::trust::SignatureCheck;
use crate::oci::media::{ImageManifest, Manifest};
use crate::oci::{OciError, Store};
use crate::verify::{LazyRoot, Trust};
use serde::Serialize;

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
        signatures: 0,
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
    e.signatures = env.signatures.len();
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
/// record no tag names is read when the links reach it). With `confirm` (the store answers
/// content from a cache), a record neither the live tag listing names nor the live head is
/// confirmed by a live read before it counts as present.
pub async fn walk(
    store: &impl Store,
    repo: &str,
    chain: &str,
    trusts: &[Trust],
    root: &LazyRoot,
    confirm: bool,
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
            None if confirm && w.head.as_deref() != Some(d.as_str()) => {
                match store.resolve_live(repo, &d).await {
                    Ok(_) => read_entry(store, repo, &d, trusts, root).await,
                    Err(e) => Err(e),
                }
            }
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
pub fn record_tags<'a>(
    tags: &'a [String],
    chain: &'a str,
) -> impl Iterator<Item = (&'a str, String)> {
    let prefix = format!("rec-{chain}-");
    tags.iter().filter_map(move |t| {
        let h = t.strip_prefix(&prefix)?;
        (h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| (t.as_str(), format!("sha256:{h}")))
    })
}
