//! Copying a digest with everything that refers to it, byte for byte, between repositories of
//! one store or two: manifests (an index's children first), config and layers (mounted on the
//! same registry, skipped when present, streamed otherwise), then every referrer recursively
//! (signatures, attestations, SBOMs, bundles, release records, referrers of index children)
//! and cosign's `sha256-<hex>.sig/.att/.sbom` tags. Each manifest is pushed after its content,
//! and what the destination stores must have the digest that was read.

use crate::evidence::attest::add_all_to_fallback_index;
use crate::oci::media::{Descriptor, Manifest};
use crate::oci::{referrers_tag, FetchedManifest, OciError, Result, Store};
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;

/// Referrers followed per manifest, and manifests per transfer.
const MAX_REFERRERS: usize = 1_000;
const MAX_MANIFESTS: usize = 10_000;
/// The largest blob a promotion copies.
pub const MAX_BLOB: u64 = 64 * 1024 * 1024 * 1024;

/// One manifest to copy.
#[derive(Debug, Clone)]
pub struct Node {
    pub manifest: FetchedManifest,
    /// For a referrer: the digest it refers to, and its entry in a referrers index.
    pub referrer_of: Option<(String, Descriptor)>,
    /// A cosign tag (`sha256-<hex>.sig`) that names it.
    pub tag: Option<String>,
}

/// What a promotion copies, read from the source.
#[derive(Debug, Clone, Default)]
pub struct Transfer {
    pub digest: String,
    /// In push order: every manifest after the manifests and blobs it lists.
    pub manifests: Vec<Node>,
    /// Unique blobs, in first-use order.
    pub blobs: Vec<Descriptor>,
}

impl Transfer {
    pub fn bytes(&self) -> u64 {
        self.blobs.iter().map(|b| b.size).sum()
    }
    pub fn referrers(&self) -> usize {
        self.manifests
            .iter()
            .filter(|n| n.referrer_of.is_some())
            .count()
    }
    pub fn cosign_tags(&self) -> usize {
        self.manifests.iter().filter(|n| n.tag.is_some()).count()
    }
}

/// Reads what copying `digest` from `repo` of `src` involves.
pub async fn plan(src: &impl Store, repo: &str, digest: &str) -> Result<Transfer> {
    let tags: BTreeSet<String> = src
        .list_tags(repo)
        .await?
        .into_iter()
        .filter(|t| t.starts_with("sha256-"))
        .collect();
    let mut t = Transfer {
        digest: digest.to_string(),
        ..Default::default()
    };
    let mut seen = BTreeSet::new();
    let mut blobs = BTreeSet::new();
    visit(
        src,
        repo,
        &tags,
        digest.to_string(),
        None,
        None,
        &mut seen,
        &mut blobs,
        &mut t,
    )
    .await?;
    Ok(t)
}

#[allow(clippy::too_many_arguments)]
fn visit<'a, S: Store>(
    src: &'a S,
    repo: &'a str,
    tags: &'a BTreeSet<String>,
    digest: String,
    referrer_of: Option<(String, Descriptor)>,
    tag: Option<String>,
    seen: &'a mut BTreeSet<String>,
    blobs: &'a mut BTreeSet<String>,
    t: &'a mut Transfer,
) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>> {
    Box::pin(async move {
        if !seen.insert(digest.clone()) {
            return Ok(());
        }
        if seen.len() > MAX_MANIFESTS {
            return Err(too_many(src, &t.digest));
        }
        let m = src.get_manifest(repo, &digest).await?;
        let parsed = Manifest::parse(&m.bytes, &m.media_type).map_err(|e| OciError::Malformed {
            what: "manifest",
            name: digest.clone(),
            source_name: src.name().to_string(),
            reason: e.to_string(),
        })?;
        match &parsed.0 {
            Manifest::Index(idx) => {
                for child in &idx.manifests {
                    visit(
                        src,
                        repo,
                        tags,
                        child.digest.clone(),
                        None,
                        None,
                        seen,
                        blobs,
                        t,
                    )
                    .await?;
                }
            }
            Manifest::Image(img) => {
                for d in std::iter::once(&img.config).chain(&img.layers) {
                    if blobs.insert(d.digest.clone()) {
                        t.blobs.push(d.clone());
                    }
                }
            }
        }
        t.manifests.push(Node {
            manifest: m,
            referrer_of,
            tag,
        });
        for r in referrers(src, repo, &digest).await? {
            let entry = (digest.clone(), r.clone());
            visit(src, repo, tags, r.digest, Some(entry), None, seen, blobs, t).await?;
        }
        for suffix in ["sig", "att", "sbom"] {
            let name = format!("{}.{suffix}", referrers_tag(&digest));
            if !tags.contains(&name) {
                continue;
            }
            let target = src.resolve(repo, &name).await?;
            // A registry that resolves the tag to the subject itself holds no cosign artifact.
            if target == digest {
                continue;
            }
            visit(src, repo, tags, target, None, Some(name), seen, blobs, t).await?;
        }
        Ok(())
    })
}

fn too_many(src: &impl Store, digest: &str) -> OciError {
    OciError::Malformed {
        what: "artifact",
        name: digest.to_string(),
        source_name: src.name().to_string(),
        reason: format!("more than {MAX_MANIFESTS} manifests refer to it"),
    }
}

/// The referrers of `digest`: the API when the store has it, else the `sha256-<hex>` index
/// (validated: some registries answer that tag with the digest itself).
pub async fn referrers(store: &impl Store, repo: &str, digest: &str) -> Result<Vec<Descriptor>> {
    if let Some(list) = store.referrers(repo, digest, None).await? {
        return Ok(list.into_iter().take(MAX_REFERRERS).collect());
    }
    let tag = referrers_tag(digest);
    match store.get_manifest(repo, &tag).await {
        Ok(m) if m.digest == digest => Ok(vec![]),
        Ok(m) => match Manifest::parse(&m.bytes, &m.media_type) {
            Ok((Manifest::Index(idx), _)) => Ok(idx
                .manifests
                .into_iter()
                .filter(|d| d.digest != digest)
                .take(MAX_REFERRERS)
                .collect()),
            _ => Ok(vec![]),
        },
        Err(e) if e.is_not_found() => Ok(vec![]),
        Err(e) => Err(e),
    }
}

/// How far a copy has got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub blobs_done: usize,
    pub blobs: usize,
    pub bytes_done: u64,
    pub bytes: u64,
    pub manifests_done: usize,
    pub manifests: usize,
}

async fn copy_blob(
    src: &impl Store,
    src_repo: &str,
    dst: &impl Store,
    dst_repo: &str,
    same_store: bool,
    b: &Descriptor,
) -> Result<(u64, How)> {
    // On one registry a mount answers for a blob already there too: no HEAD first.
    let how = if same_store && src_repo == dst_repo {
        How::Present
    } else if same_store && dst.mount_blob(dst_repo, src_repo, &b.digest).await? {
        How::Mounted
    } else if dst.has_blob(dst_repo, &b.digest).await? {
        How::Present
    } else {
        let chunks = src.open_blob(src_repo, &b.digest, MAX_BLOB).await?;
        dst.put_blob_stream(dst_repo, &b.digest, b.size, chunks)
            .await?;
        How::Uploaded
    };
    Ok((b.size, how))
}

/// Blobs copied at once: each holds at most one upload chunk in memory.
const BLOB_CONCURRENCY: usize = 4;

enum How {
    Present,
    Mounted,
    Uploaded,
}

/// What a copy did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Copied {
    pub blobs_uploaded: usize,
    pub blobs_mounted: usize,
    pub blobs_present: usize,
    pub bytes_uploaded: u64,
    pub manifests: usize,
}

/// Copies `t` from `src_repo` of `src` to `dst_repo` of `dst`. `same_store` allows
/// cross-repository mounts. Nothing is tagged except cosign's tags and, where the destination
/// lacks the referrers API, the `sha256-<hex>` indexes. `progress` returning false stops the
/// copy between two items (None).
pub async fn copy(
    t: &Transfer,
    src: &impl Store,
    src_repo: &str,
    dst: &impl Store,
    dst_repo: &str,
    same_store: bool,
    progress: &(dyn Fn(Progress) -> bool + Send + Sync),
) -> Result<Option<Copied>> {
    let mut p = Progress {
        blobs: t.blobs.len(),
        bytes: t.bytes(),
        manifests: t.manifests.len(),
        ..Default::default()
    };
    let mut c = Copied::default();
    if !progress(p) {
        return Ok(None);
    }
    // Blobs several at a time (as skopeo does); each is skipped, mounted or streamed.
    let jobs: Vec<_> = t
        .blobs
        .iter()
        .map(|b| copy_blob(src, src_repo, dst, dst_repo, same_store, b))
        .collect();
    let mut done = futures::stream::iter(jobs).buffer_unordered(BLOB_CONCURRENCY);
    while let Some(r) = done.next().await {
        let (size, how) = r?;
        match how {
            How::Present => c.blobs_present += 1,
            How::Mounted => c.blobs_mounted += 1,
            How::Uploaded => {
                c.blobs_uploaded += 1;
                c.bytes_uploaded += size;
            }
        }
        p.blobs_done += 1;
        p.bytes_done += size;
        if !progress(p) {
            return Ok(None);
        }
    }
    drop(done);
    let has_api = dst.referrers(dst_repo, &t.digest, None).await?.is_some();
    for n in &t.manifests {
        let m = &n.manifest;
        let written = dst
            .put_manifest(dst_repo, None, &m.media_type, &m.bytes)
            .await?;
        if written != m.digest {
            return Err(OciError::DigestMismatch {
                digest: m.digest.clone(),
                actual: written,
                source_name: dst.name().to_string(),
            });
        }
        if let Some(tag) = &n.tag {
            dst.put_manifest(dst_repo, Some(tag), &m.media_type, &m.bytes)
                .await?;
        }
        c.manifests += 1;
        p.manifests_done += 1;
        if !progress(p) {
            return Ok(None);
        }
    }
    // Without the API, each subject's referrers go into its `sha256-<hex>` index, once every
    // manifest they name is there: one read-modify-write per subject.
    if !has_api {
        let mut by_subject: BTreeMap<&str, Vec<Descriptor>> = BTreeMap::new();
        for (subject, entry) in t.manifests.iter().filter_map(|n| n.referrer_of.as_ref()) {
            by_subject.entry(subject).or_default().push(entry.clone());
        }
        for (subject, entries) in by_subject {
            add_all_to_fallback_index(dst, dst_repo, subject, &entries).await?;
        }
    }
    Ok(Some(c))
}
