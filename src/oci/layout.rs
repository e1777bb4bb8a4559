//! `LayoutStore`: an OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`).
//!
//! Repositories live in the `org.opencontainers.image.ref.name` annotation as `repo:tag`, so
//! `skopeo copy oci:DIR:acme/api:1.0 …` addresses the same image. A ref name without a `:`
//! (as `skopeo copy … oci:DIR:latest` writes) belongs to the layout's default repository, named
//! after its directory.

use super::digest;
use super::error::{OciError, Result};
use super::media::{self, annotation, Descriptor, ImageIndex};
use super::{check_manifest, FetchedManifest, Store};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Annotation provost writes on untagged index.json entries to remember their repository.
pub const REPOSITORY_ANNOTATION: &str = "dev.provost.repository";

/// An OCI image layout on disk.
#[derive(Debug)]
pub struct LayoutStore {
    name: String,
    root: PathBuf,
    default_repo: String,
    /// For `cosign save` layouts: the image the kind-annotated entries belong to.
    cosign_subject: Option<String>,
    write_lock: Mutex<()>,
}

impl LayoutStore {
    /// Open an existing layout; fails when `oci-layout` is missing.
    pub fn open(name: &str, root: &Path) -> Result<LayoutStore> {
        let marker = root.join("oci-layout");
        if !marker.is_file() {
            return Err(OciError::Layout {
                path: root.display().to_string(),
                reason: "not an OCI image layout (no oci-layout file)".into(),
            });
        }
        Ok(Self::at(name, root))
    }

    /// Open a layout, creating an empty one when the directory holds none.
    pub fn create(name: &str, root: &Path) -> Result<LayoutStore> {
        std::fs::create_dir_all(root.join("blobs/sha256")).map_err(|e| OciError::io(root, e))?;
        let marker = root.join("oci-layout");
        if !marker.exists() {
            write_atomic(&marker, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        let index = root.join("index.json");
        if !index.exists() {
            let empty = ImageIndex {
                schema_version: 2,
                media_type: Some(media::OCI_INDEX.to_string()),
                artifact_type: None,
                manifests: vec![],
                subject: None,
                annotations: Default::default(),
            };
            write_atomic(&index, &to_json(&empty)?)?;
        }
        Ok(Self::at(name, root))
    }

    fn at(name: &str, root: &Path) -> LayoutStore {
        let base = root
            .file_name()
            .map(|s| s.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let default_repo = if super::reference::valid_repository(&base) {
            base
        } else {
            "default".to_string()
        };
        let mut store = LayoutStore {
            name: name.to_string(),
            root: root.to_path_buf(),
            default_repo,
            cosign_subject: None,
            write_lock: Mutex::new(()),
        };
        if let Ok(index) = store.read_index() {
            store.cosign_subject = index
                .manifests
                .iter()
                .find(|d| {
                    matches!(
                        d.annotations.get("kind").map(String::as_str),
                        Some(
                            "dev.cosignproject.cosign/image"
                                | "dev.cosignproject.cosign/imageIndex"
                        )
                    )
                })
                .map(|d| d.digest.clone());
        }
        store
    }

    /// The layout directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The repository that ref names without a `:` belong to.
    pub fn default_repository(&self) -> &str {
        &self.default_repo
    }

    /// The layout's `index.json`.
    pub fn read_index(&self) -> Result<ImageIndex> {
        let path = self.root.join("index.json");
        let bytes = super::files::read_regular(&path, super::MAX_MANIFEST_BYTES * 16, true)
            .map_err(|e| match e {
                super::files::FileError::Io(io) => OciError::io(&path, io),
                other => self.layout_error(&format!("index.json: {other}")),
            })?;
        serde_json::from_slice(&bytes).map_err(|e| self.layout_error(&format!("index.json: {e}")))
    }

    fn layout_error(&self, reason: &str) -> OciError {
        OciError::Layout {
            path: self.root.display().to_string(),
            reason: reason.to_string(),
        }
    }

    /// Splits an index.json entry into (repository, tag). `cosign save` layouts name entries by
    /// a `kind` annotation instead of a ref name: the image becomes tag `latest` and its
    /// signatures, attestations and SBOMs the cosign tags they came from.
    fn entry_name(&self, d: &Descriptor) -> Option<(String, Option<String>)> {
        if let Some(kind) = d
            .annotations
            .get("kind")
            .filter(|_| !d.annotations.contains_key(annotation::REF_NAME))
        {
            let suffix = match kind.as_str() {
                "dev.cosignproject.cosign/image" | "dev.cosignproject.cosign/imageIndex" => None,
                "dev.cosignproject.cosign/sigs" => Some("sig"),
                "dev.cosignproject.cosign/atts" => Some("att"),
                "dev.cosignproject.cosign/sboms" => Some("sbom"),
                _ => return None,
            };
            let tag = match suffix {
                None => "latest".to_string(),
                Some(sfx) => format!(
                    "{}.{sfx}",
                    super::referrers_tag(&self.cosign_subject.clone().unwrap_or_default())
                ),
            };
            return Some((self.default_repo.clone(), Some(tag)));
        }
        match d.annotations.get(annotation::REF_NAME) {
            Some(name) => match name.rsplit_once(':') {
                Some((repo, tag)) if !repo.is_empty() => {
                    Some((repo.to_string(), Some(tag.to_string())))
                }
                _ => Some((self.default_repo.clone(), Some(name.clone()))),
            },
            None => d
                .annotations
                .get(REPOSITORY_ANNOTATION)
                .map(|r| (r.clone(), None)),
        }
    }

    fn ref_name(&self, repo: &str, tag: &str) -> String {
        if repo == self.default_repo {
            tag.to_string()
        } else {
            format!("{repo}:{tag}")
        }
    }

    fn blob_path(&self, digest: &str) -> Result<PathBuf> {
        // Only validated digests become paths, so a hostile digest cannot escape the layout.
        let hex =
            digest::hex_part(digest).ok_or_else(|| OciError::InvalidDigest(digest.to_string()))?;
        Ok(self.root.join("blobs/sha256").join(hex))
    }

    fn read_blob_checked(&self, what: &'static str, digest: &str, limit: u64) -> Result<Vec<u8>> {
        let path = self.blob_path(digest)?;
        let meta = std::fs::metadata(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                OciError::NotFound {
                    what,
                    name: digest.to_string(),
                    source_name: self.name.clone(),
                }
            } else {
                OciError::io(&path, e)
            }
        })?;
        if meta.len() > limit {
            return Err(OciError::TooLarge {
                what,
                digest: digest.to_string(),
                size: meta.len(),
                limit,
                source_name: self.name.clone(),
            });
        }
        if !meta.is_file() {
            return Err(self.layout_error(&format!(
                "blob {digest} is not a regular file (a FIFO or device is refused)"
            )));
        }
        let bytes = super::files::read_regular(&path, limit, true).map_err(|e| match e {
            super::files::FileError::Io(io) => OciError::io(&path, io),
            other => self.layout_error(&format!("blob {digest}: {other}")),
        })?;
        let actual = digest::sha256(&bytes);
        if actual != digest {
            return Err(OciError::DigestMismatch {
                digest: digest.to_string(),
                actual,
                source_name: self.name.clone(),
            });
        }
        Ok(bytes)
    }

    fn write_blob(&self, bytes: &[u8]) -> Result<String> {
        let d = digest::sha256(bytes);
        let path = self.blob_path(&d)?;
        if !path.exists() {
            write_atomic(&path, bytes)?;
        }
        Ok(d)
    }

    fn update_index(&self, change: impl FnOnce(&mut ImageIndex)) -> Result<()> {
        let _guard = self
            .write_lock
            .lock()
            .map_err(|_| self.layout_error("lock poisoned"))?;
        let mut index = self.read_index()?;
        change(&mut index);
        write_atomic(&self.root.join("index.json"), &to_json(&index)?)
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| OciError::Layout {
        path: String::new(),
        reason: e.to_string(),
    })
}

/// Write through a temporary file and a rename, so readers never see half a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let mut f = std::fs::File::create(&tmp).map_err(|e| OciError::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| OciError::io(&tmp, e))?;
    f.sync_all().map_err(|e| OciError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| OciError::io(path, e))
}

impl Store for LayoutStore {
    fn name(&self) -> &str {
        &self.name
    }

    async fn list_repositories(&self) -> Result<Vec<String>> {
        let index = self.read_index()?;
        let repos: BTreeSet<String> = index
            .manifests
            .iter()
            .filter_map(|d| self.entry_name(d).map(|(r, _)| r))
            .collect();
        Ok(repos.into_iter().collect())
    }

    async fn list_tags(&self, repo: &str) -> Result<Vec<String>> {
        let index = self.read_index()?;
        let tags: BTreeSet<String> = index
            .manifests
            .iter()
            .filter_map(|d| self.entry_name(d))
            .filter(|(r, _)| r == repo)
            .filter_map(|(_, t)| t)
            .collect();
        Ok(tags.into_iter().collect())
    }

    async fn resolve(&self, repo: &str, tag: &str) -> Result<String> {
        super::check_reference(tag)?;
        let index = self.read_index()?;
        index
            .manifests
            .iter()
            .find(|d| self.entry_name(d) == Some((repo.to_string(), Some(tag.to_string()))))
            .map(|d| d.digest.clone())
            .ok_or_else(|| OciError::NotFound {
                what: "tag",
                name: format!("{repo}:{tag}"),
                source_name: self.name.clone(),
            })
    }

    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<FetchedManifest> {
        super::check_reference(reference)?;
        let index = self.read_index()?;
        let wanted = if reference.starts_with("sha256:") {
            reference.to_string()
        } else {
            self.resolve(repo, reference).await?
        };
        let bytes = self.read_blob_checked("manifest", &wanted, super::MAX_MANIFEST_BYTES)?;
        let digest = check_manifest(&self.name, &wanted, &bytes, None)?;
        let listed = index
            .manifests
            .iter()
            .find(|d| d.digest == digest)
            .map(|d| d.media_type.clone());
        let media_type = match listed {
            Some(mt) => mt,
            None => media::Manifest::parse(&bytes, "")
                .map(|(_, mt)| mt)
                .map_err(|e| OciError::Malformed {
                    what: "manifest",
                    name: digest.clone(),
                    source_name: self.name.clone(),
                    reason: e.to_string(),
                })?,
        };
        Ok(FetchedManifest {
            digest,
            media_type,
            bytes,
        })
    }

    async fn get_blob(&self, _repo: &str, digest: &str, limit: u64) -> Result<Vec<u8>> {
        self.read_blob_checked("blob", digest, limit)
    }

    async fn put_blob(&self, _repo: &str, bytes: &[u8]) -> Result<String> {
        self.write_blob(bytes)
    }

    async fn has_blob(&self, _repo: &str, digest: &str) -> Result<bool> {
        Ok(self.blob_path(digest)?.is_file())
    }

    /// Every repository of a layout shares its blobs: a blob it has is already mounted.
    async fn mount_blob(&self, _repo: &str, _from_repo: &str, digest: &str) -> Result<bool> {
        Ok(self.blob_path(digest)?.is_file())
    }

    async fn put_manifest(
        &self,
        repo: &str,
        tag: Option<&str>,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String> {
        if bytes.len() as u64 > super::MAX_MANIFEST_BYTES {
            return Err(OciError::TooLarge {
                what: "manifest",
                digest: digest::sha256(bytes),
                size: bytes.len() as u64,
                limit: super::MAX_MANIFEST_BYTES,
                source_name: self.name.clone(),
            });
        }
        let d = self.write_blob(bytes)?;
        let mut desc = Descriptor {
            media_type: media_type.to_string(),
            digest: d.clone(),
            size: bytes.len() as u64,
            ..Default::default()
        };
        let ref_name = tag.map(|t| self.ref_name(repo, t));
        match &ref_name {
            Some(n) => desc
                .annotations
                .insert(annotation::REF_NAME.into(), n.clone()),
            None => desc
                .annotations
                .insert(REPOSITORY_ANNOTATION.into(), repo.to_string()),
        };
        self.update_index(|index| {
            index.manifests.retain(|m| match &ref_name {
                // A tag moves: the old entry for the same name goes.
                Some(n) => m.annotations.get(annotation::REF_NAME) != Some(n),
                None => {
                    !(m.digest == d
                        && m.annotations.get(REPOSITORY_ANNOTATION).map(String::as_str)
                            == Some(repo))
                }
            });
            index.manifests.push(desc);
        })?;
        Ok(d)
    }

    async fn referrers(
        &self,
        _repo: &str,
        _digest: &str,
        _artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>> {
        // A layout has no referrers API: discovery uses the tag schema.
        Ok(None)
    }

    async fn delete_manifest(&self, repo: &str, digest: &str) -> Result<()> {
        if !digest::is_valid(digest) {
            return Err(OciError::InvalidDigest(digest.to_string()));
        }
        let mut found = false;
        self.update_index(|index| {
            let before = index.manifests.len();
            index.manifests.retain(|m| {
                !(m.digest == digest && self.entry_name(m).map(|(r, _)| r).as_deref() == Some(repo))
            });
            found = index.manifests.len() != before;
        })?;
        if found {
            Ok(())
        } else {
            Err(OciError::NotFound {
                what: "manifest",
                name: format!("{repo}@{digest}"),
                source_name: self.name.clone(),
            })
        }
    }
}
