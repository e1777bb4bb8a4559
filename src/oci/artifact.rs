//! What an artifact is: the summary row of a tag and the full detail of one digest.

use super::error::{OciError, Result};
use super::media::{self, annotation, Descriptor, ImageConfig, Manifest};
use super::{ArtifactRef, Store, MAX_JSON_BLOB_BYTES};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many registry requests one listing keeps in flight.
pub const CONCURRENCY: usize = 16;

/// One row of a tag list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagSummary {
    pub tag: String,
    pub digest: String,
    pub media_type: String,
    /// Manifest, config and layers together (for an index, of every platform).
    pub size: u64,
    pub created: Option<String>,
    pub platforms: Vec<String>,
}

/// A layer of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    pub annotations: BTreeMap<String, String>,
}

/// One platform entry of an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformEntry {
    pub platform: String,
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    pub annotations: BTreeMap<String, String>,
}

/// The image configuration, as far as provost shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigSummary {
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    pub os: String,
    pub architecture: String,
    pub created: Option<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub user: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub history: Vec<String>,
    pub working_dir: Option<String>,
    pub ports: Vec<String>,
    /// The environment variables' names; their values may be secrets, so they are kept out
    /// of every output unless asked for (`diff --show-values`).
    pub env_names: Vec<String>,
    #[serde(skip)]
    pub env_values: BTreeMap<String, String>,
}

/// Everything the detail pane and `provost inspect` show about one digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Artifact {
    pub reference: String,
    pub repository: String,
    pub digest: String,
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub manifest_size: u64,
    pub size: u64,
    pub created: Option<String>,
    pub platform: Option<String>,
    pub config: Option<ConfigSummary>,
    pub layers: Vec<Layer>,
    pub platforms: Vec<PlatformEntry>,
    pub subject: Option<String>,
    pub annotations: BTreeMap<String, String>,
    pub tags: Vec<String>,
    /// Tags of the repository that were not resolved to see whether they point here (a large
    /// repository: at most `TAG_RESOLVE_LIMIT` tags are asked about).
    pub tags_unchecked: usize,
}

/// The most tags resolved to find the ones pointing at a digest: past it, the rest are counted
/// as "not checked" instead of costing one request each.
pub const TAG_RESOLVE_LIMIT: usize = 256;

/// The tags of `repo` pointing at `digest`, resolving at most `TAG_RESOLVE_LIMIT` of them:
/// `named` (the tag the user gave, already known to point here) first, then names without
/// digits (environment tags such as `prod`), then the rest from the end of the sorted list.
/// Returns the tags found and how many were not checked.
pub async fn tags_pointing_at(
    store: &impl Store,
    repo: &str,
    digest: &str,
    named: Option<&str>,
) -> (Vec<String>, usize) {
    let Ok(mut tags) = store.list_tags(repo).await else {
        return (named.map(|t| vec![t.to_string()]).unwrap_or_default(), 0);
    };
    tags.retain(|t| !super::is_evidence_tag(t) && Some(t.as_str()) != named);
    tags.sort();
    let total = tags.len();
    let (mut words, mut versions): (Vec<String>, Vec<String>) = tags
        .into_iter()
        .partition(|t| !t.chars().any(|c| c.is_ascii_digit()));
    versions.reverse();
    words.extend(versions);
    words.truncate(TAG_RESOLVE_LIMIT);
    let checked = words.len();
    let mut out: Vec<String> = stream::iter(words)
        .map(|t| async move {
            let d = store.resolve(repo, &t).await.ok();
            (t, d)
        })
        .buffer_unordered(CONCURRENCY)
        .filter_map(|(t, d)| async move { (d.as_deref() == Some(digest)).then_some(t) })
        .collect()
        .await;
    out.extend(named.map(str::to_string));
    out.sort();
    (out, total - checked)
}

fn malformed(store: &impl Store, name: &str, e: impl std::fmt::Display) -> OciError {
    OciError::Malformed {
        what: "manifest",
        name: name.to_string(),
        source_name: store.name().to_string(),
        reason: e.to_string(),
    }
}

fn platform_of(d: &Descriptor) -> String {
    d.platform
        .as_ref()
        .map(|p| p.to_string())
        .unwrap_or_else(|| {
            if d.annotations.contains_key("vnd.docker.reference.type") {
                "attestation".to_string()
            } else {
                "unknown".to_string()
            }
        })
}

pub async fn read_config(
    store: &impl Store,
    repo: &str,
    d: &Descriptor,
) -> Result<Option<ImageConfig>> {
    if d.media_type != media::OCI_CONFIG && d.media_type != media::DOCKER_CONFIG {
        return Ok(None);
    }
    let bytes = store.get_blob(repo, &d.digest, MAX_JSON_BLOB_BYTES).await?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| OciError::Malformed {
            what: "image config",
            name: d.digest.clone(),
            source_name: store.name().to_string(),
            reason: e.to_string(),
        })
}

/// Size of an image manifest with its config and layers.
fn image_size(manifest_len: usize, m: &media::ImageManifest) -> u64 {
    manifest_len as u64 + m.config.size + m.layers.iter().map(|l| l.size).sum::<u64>()
}

/// Size of every platform image of an index (children fetched concurrently).
async fn index_size(
    store: &impl Store,
    repo: &str,
    manifest_len: usize,
    idx: &media::ImageIndex,
) -> Result<u64> {
    let digests: Vec<String> = idx
        .manifests
        .iter()
        .take(256)
        .map(|d| d.digest.clone())
        .collect();
    let children: Vec<u64> = stream::iter(digests)
        .map(|digest| async move {
            let child = store.get_manifest(repo, &digest).await?;
            match Manifest::parse(&child.bytes, &child.media_type) {
                Ok((Manifest::Image(m), _)) => Ok(image_size(child.bytes.len(), &m)),
                Ok((Manifest::Index(_), _)) => Ok(child.bytes.len() as u64),
                Err(e) => Err(malformed(store, &digest, e)),
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    Ok(manifest_len as u64 + children.iter().sum::<u64>())
}

/// The summary row for one tag: digest, size, created and platforms.
pub async fn summarize(store: &impl Store, repo: &str, tag: &str) -> Result<TagSummary> {
    let fetched = store.get_manifest(repo, tag).await?;
    let (manifest, media_type) = Manifest::parse(&fetched.bytes, &fetched.media_type)
        .map_err(|e| malformed(store, tag, e))?;
    let (size, created, platforms) = match &manifest {
        Manifest::Image(m) => {
            let mut created = m.annotations.get(annotation::CREATED).cloned();
            let mut platforms = vec![];
            if created.is_none() || platforms.is_empty() {
                if let Ok(Some(cfg)) = read_config(store, repo, &m.config).await {
                    created = created.or(cfg.created.clone());
                    if !cfg.os.is_empty() {
                        platforms.push(format!("{}/{}", cfg.os, cfg.architecture));
                    }
                }
            }
            (image_size(fetched.bytes.len(), m), created, platforms)
        }
        Manifest::Index(idx) => {
            let size = index_size(store, repo, fetched.bytes.len(), idx).await?;
            let platforms = idx
                .manifests
                .iter()
                .filter(|d| d.platform.is_some())
                .map(platform_of)
                .collect();
            (
                size,
                idx.annotations.get(annotation::CREATED).cloned(),
                platforms,
            )
        }
    };
    Ok(TagSummary {
        tag: tag.to_string(),
        digest: fetched.digest,
        media_type,
        size,
        created,
        platforms,
    })
}

/// Every artifact tag of a repository with the digest it points at, sorted by tag.
pub async fn tags_with_digests(store: &impl Store, repo: &str) -> Result<Vec<(String, String)>> {
    Ok(tags_and_evidence(store, repo).await?.0)
}

/// `tags_with_digests`, and the evidence tags (`sha256-<hex>[.sig|.att|.sbom]`) of the same
/// listing, by name (not resolved).
pub async fn tags_and_evidence(
    store: &impl Store,
    repo: &str,
) -> Result<(Vec<(String, String)>, Vec<String>)> {
    tags_and_evidence_of(store, repo, false).await
}

/// `tags_and_evidence`, each image tag resolved by the registry itself even through a cache
/// (`Store::resolve_live`), so a tag moved since the last run is judged at once.
pub async fn tags_and_evidence_live(
    store: &impl Store,
    repo: &str,
) -> Result<(Vec<(String, String)>, Vec<String>)> {
    tags_and_evidence_of(store, repo, true).await
}

async fn tags_and_evidence_of(
    store: &impl Store,
    repo: &str,
    live: bool,
) -> Result<(Vec<(String, String)>, Vec<String>)> {
    let all = store.list_tags(repo).await?;
    // Evidence tags hold attachments, not artifacts.
    let (evidence, tags): (Vec<String>, Vec<String>) =
        all.into_iter().partition(|t| super::is_evidence_tag(t));
    let mut out: Vec<(String, String)> = stream::iter(tags)
        .map(|t| async move {
            let d = if live {
                store.resolve_live(repo, &t).await
            } else {
                store.resolve(repo, &t).await
            };
            d.map(|d| (t, d))
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    out.sort();
    Ok((out, evidence))
}

/// The full detail of the artifact `r` names. `known_tags` (tag → digest), when given, saves
/// resolving every tag again to find the ones pointing at this digest.
pub async fn describe(
    store: &impl Store,
    r: &ArtifactRef,
    known_tags: Option<&[(String, String)]>,
) -> Result<Artifact> {
    let fetched = store.get_manifest(&r.repository, r.reference()).await?;
    describe_fetched(store, r, fetched, known_tags).await
}

/// `describe` for a manifest already read (and digest-checked) by the caller.
pub async fn describe_fetched(
    store: &impl Store,
    r: &ArtifactRef,
    fetched: super::FetchedManifest,
    known_tags: Option<&[(String, String)]>,
) -> Result<Artifact> {
    let repo = r.repository.as_str();
    let (manifest, media_type) = Manifest::parse(&fetched.bytes, &fetched.media_type)
        .map_err(|e| malformed(store, r.reference(), e))?;
    // The tags pointing at the digest and the image's config are read at the same time.
    let tags_fut = async {
        match known_tags {
            Some(t) => {
                let mut p: Vec<String> = t
                    .iter()
                    .filter(|(_, d)| *d == fetched.digest)
                    .map(|(t, _)| t.clone())
                    .collect();
                p.sort();
                (p, 0)
            }
            None => {
                let named = r.tag.as_deref().filter(|_| r.digest.is_none());
                tags_pointing_at(store, repo, &fetched.digest, named).await
            }
        }
    };
    let config_fut = async {
        match &manifest {
            Manifest::Image(m) => Some(read_config(store, repo, &m.config).await),
            Manifest::Index(_) => None,
        }
    };
    let ((pointing, tags_unchecked), mut config) = futures::join!(tags_fut, config_fut);
    let mut art = Artifact {
        reference: r.pinned(&fetched.digest).to_string(),
        repository: repo.to_string(),
        digest: fetched.digest.clone(),
        media_type,
        artifact_type: None,
        manifest_size: fetched.bytes.len() as u64,
        size: 0,
        created: None,
        platform: None,
        config: None,
        layers: vec![],
        platforms: vec![],
        subject: None,
        annotations: BTreeMap::new(),
        tags: pointing,
        tags_unchecked,
    };
    match manifest {
        Manifest::Image(m) => {
            art.size = image_size(fetched.bytes.len(), &m);
            art.artifact_type = m.artifact_type.clone();
            art.subject = m.subject.as_ref().map(|s| s.digest.clone());
            art.created = m.annotations.get(annotation::CREATED).cloned();
            art.layers = m
                .layers
                .iter()
                .map(|l| Layer {
                    digest: l.digest.clone(),
                    media_type: l.media_type.clone(),
                    size: l.size,
                    annotations: l.annotations.clone(),
                })
                .collect();
            let read = match config.take() {
                Some(r) => r,
                None => read_config(store, repo, &m.config).await,
            };
            if let Some(cfg) = read? {
                art.created = art.created.or(cfg.created.clone());
                if !cfg.os.is_empty() {
                    art.platform = Some(match &cfg.variant {
                        Some(v) => format!("{}/{}/{v}", cfg.os, cfg.architecture),
                        None => format!("{}/{}", cfg.os, cfg.architecture),
                    });
                }
                let rc = cfg.config.clone().unwrap_or_default();
                art.config = Some(ConfigSummary {
                    digest: m.config.digest.clone(),
                    media_type: m.config.media_type.clone(),
                    size: m.config.size,
                    os: cfg.os.clone(),
                    architecture: cfg.architecture.clone(),
                    created: cfg.created.clone(),
                    entrypoint: rc.entrypoint.unwrap_or_default(),
                    cmd: rc.cmd.unwrap_or_default(),
                    user: rc.user.filter(|u| !u.is_empty()),
                    labels: rc.labels.unwrap_or_default(),
                    working_dir: rc.working_dir.filter(|w| !w.is_empty()),
                    ports: rc.exposed_ports.unwrap_or_default().into_keys().collect(),
                    env_names: rc
                        .env
                        .iter()
                        .flatten()
                        .map(|e| e.split_once('=').map(|(k, _)| k).unwrap_or(e).to_string())
                        .collect(),
                    env_values: rc
                        .env
                        .iter()
                        .flatten()
                        .filter_map(|e| e.split_once('='))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    history: cfg
                        .history
                        .iter()
                        .filter_map(|h| h.created_by.clone())
                        .collect(),
                });
            } else {
                art.config = Some(ConfigSummary {
                    digest: m.config.digest.clone(),
                    media_type: m.config.media_type.clone(),
                    size: m.config.size,
                    os: String::new(),
                    architecture: String::new(),
                    created: None,
                    entrypoint: vec![],
                    cmd: vec![],
                    user: None,
                    labels: BTreeMap::new(),
                    history: vec![],
                    working_dir: None,
                    ports: vec![],
                    env_names: vec![],
                    env_values: BTreeMap::new(),
                });
            }
            art.annotations = m.annotations;
        }
        Manifest::Index(idx) => {
            art.size = index_size(store, repo, fetched.bytes.len(), &idx).await?;
            art.artifact_type = idx.artifact_type.clone();
            art.subject = idx.subject.as_ref().map(|s| s.digest.clone());
            art.created = idx.annotations.get(annotation::CREATED).cloned();
            art.platforms = idx
                .manifests
                .iter()
                .map(|d| PlatformEntry {
                    platform: platform_of(d),
                    digest: d.digest.clone(),
                    media_type: d.media_type.clone(),
                    size: d.size,
                    annotations: d.annotations.clone(),
                })
                .collect();
            art.annotations = idx.annotations;
        }
    }
    Ok(art)
}

/// Bytes in binary units, e.g. `12.3 KiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(2048), "2.0 KiB");
        assert_eq!(human_size(5 * 1024 * 1024 + 1), "5.0 MiB");
    }
}
