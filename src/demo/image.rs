//! Building real OCI images from small deterministic layers: tar + gzip with fixed metadata,
//! an image config, a manifest, and an index for multi-platform images.

use crate::oci::media::{
    self, Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform, RootFs, RuntimeConfig,
};
use crate::oci::{digest, Result, Store};
use std::collections::BTreeMap;
use std::io::Write;

/// A compressed layer and the digest of its uncompressed tar (the config's diff id).
#[derive(Debug, Clone)]
pub struct Layer {
    /// The compressed tar: gzip, or zstd (told by its magic bytes).
    pub tar_gz: Vec<u8>,
    pub diff_id: String,
    pub created_by: String,
}

/// One file in a layer.
pub struct File<'a> {
    pub path: &'a str,
    pub contents: &'a [u8],
    pub mode: u32,
}

/// A reproducible gzip'd tar: sorted entries, mtime 0, uid/gid 0, no gzip timestamp.
pub fn layer(files: &[File<'_>], created_by: &str) -> std::io::Result<Layer> {
    layer_at(0, files, created_by)
}

/// [`layer`] with every entry modified at `mtime` (seconds since the epoch).
pub fn layer_at(mtime: u64, files: &[File<'_>], created_by: &str) -> std::io::Result<Layer> {
    let mut sorted: Vec<&File<'_>> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(b.path));
    let mut tar = tar::Builder::new(Vec::new());
    tar.mode(tar::HeaderMode::Deterministic);
    let mut dirs: Vec<String> = vec![];
    for f in sorted {
        // Parent directories first, as real image layers have them.
        let mut prefix = String::new();
        for part in f.path.split('/').take(f.path.split('/').count() - 1) {
            prefix.push_str(part);
            prefix.push('/');
            if !dirs.contains(&prefix) {
                dirs.push(prefix.clone());
                let mut h = tar::Header::new_ustar();
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                h.set_mtime(mtime);
                h.set_uid(0);
                h.set_gid(0);
                h.set_cksum();
                tar.append_data(&mut h, &prefix, std::io::empty())?;
            }
        }
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(f.mode);
        h.set_size(f.contents.len() as u64);
        h.set_mtime(mtime);
        h.set_uid(0);
        h.set_gid(0);
        h.set_cksum();
        tar.append_data(&mut h, f.path, f.contents)?;
    }
    let raw = tar.into_inner()?;
    let diff_id = digest::sha256(&raw);
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(&raw)?;
    Ok(Layer {
        tar_gz: gz.finish()?,
        diff_id,
        created_by: created_by.to_string(),
    })
}

/// Deterministic filler bytes, so demo binaries have realistic, distinct sizes.
pub fn filler(seed: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut block = digest::sha256(seed.as_bytes());
    while out.len() < len {
        block = digest::sha256(block.as_bytes());
        out.extend_from_slice(block.as_bytes());
        out.push(b'\n');
    }
    out.truncate(len);
    out
}

/// Everything one single-platform image needs.
pub struct ImageSpec {
    pub platform: Platform,
    pub created: String,
    pub entrypoint: Vec<String>,
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub layers: Vec<Layer>,
}

fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    // Serialising our own structs cannot fail; an empty document would fail digest checks later.
    serde_json::to_vec(v).unwrap_or_default()
}

/// Pushes layers, config and manifest; returns the manifest's descriptor (with platform).
pub async fn push_image(
    store: &impl Store,
    repo: &str,
    spec: &ImageSpec,
    tag: Option<&str>,
) -> Result<Descriptor> {
    let config = ImageConfig {
        created: Some(spec.created.clone()),
        architecture: spec.platform.architecture.clone(),
        os: spec.platform.os.clone(),
        variant: spec.platform.variant.clone(),
        author: None,
        config: Some(RuntimeConfig {
            user: Some("65532:65532".into()),
            env: Some(spec.env.clone()),
            entrypoint: Some(spec.entrypoint.clone()),
            cmd: None,
            working_dir: Some("/app".into()),
            labels: Some(spec.labels.clone()),
            exposed_ports: None,
        }),
        rootfs: Some(RootFs {
            kind: "layers".into(),
            diff_ids: spec.layers.iter().map(|l| l.diff_id.clone()).collect(),
        }),
        history: spec
            .layers
            .iter()
            .map(|l| media::History {
                created: Some(spec.created.clone()),
                created_by: Some(l.created_by.clone()),
                empty_layer: None,
            })
            .collect(),
    };
    let config_bytes = json(&config);
    let config_digest = store.put_blob(repo, &config_bytes).await?;
    let mut layers = vec![];
    for l in &spec.layers {
        let d = store.put_blob(repo, &l.tar_gz).await?;
        layers.push(Descriptor {
            // The media type follows the bytes: a zstd frame, else gzip.
            media_type: if l.tar_gz.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
                media::OCI_LAYER_ZSTD.into()
            } else {
                media::OCI_LAYER_GZIP.into()
            },
            digest: d,
            size: l.tar_gz.len() as u64,
            ..Default::default()
        });
    }
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        artifact_type: None,
        config: Descriptor {
            media_type: media::OCI_CONFIG.into(),
            digest: config_digest,
            size: config_bytes.len() as u64,
            ..Default::default()
        },
        layers,
        subject: None,
        annotations: spec.annotations.clone(),
    };
    let bytes = json(&manifest);
    let d = store
        .put_manifest(repo, tag, media::OCI_MANIFEST, &bytes)
        .await?;
    Ok(Descriptor {
        media_type: media::OCI_MANIFEST.into(),
        digest: d,
        size: bytes.len() as u64,
        platform: Some(spec.platform.clone()),
        ..Default::default()
    })
}

/// Pushes an index over already-pushed platform manifests; returns its descriptor.
pub async fn push_index(
    store: &impl Store,
    repo: &str,
    children: Vec<Descriptor>,
    annotations: BTreeMap<String, String>,
    tag: Option<&str>,
) -> Result<Descriptor> {
    let index = ImageIndex {
        schema_version: 2,
        media_type: Some(media::OCI_INDEX.into()),
        artifact_type: None,
        manifests: children,
        subject: None,
        annotations,
    };
    let bytes = json(&index);
    let d = store
        .put_manifest(repo, tag, media::OCI_INDEX, &bytes)
        .await?;
    Ok(Descriptor {
        media_type: media::OCI_INDEX.into(),
        digest: d,
        size: bytes.len() as u64,
        ..Default::default()
    })
}

/// Points `tag` at an existing manifest.
pub async fn tag(store: &impl Store, repo: &str, digest: &str, tag: &str) -> Result<()> {
    let m = store.get_manifest(repo, digest).await?;
    store
        .put_manifest(repo, Some(tag), &m.media_type, &m.bytes)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_reproducible() {
        let files = [File {
            path: "app/x",
            contents: b"hello",
            mode: 0o755,
        }];
        let a = layer(&files, "COPY x").expect("layer");
        let b = layer(&files, "COPY x").expect("layer");
        assert_eq!(a.tar_gz, b.tar_gz);
        assert_eq!(a.diff_id, b.diff_id);
        // It is a real gzip'd tar holding the file.
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(a.tar_gz.as_slice()));
        let names: Vec<String> = archive
            .entries()
            .expect("entries")
            .map(|e| {
                e.expect("entry")
                    .path()
                    .expect("path")
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(names, vec!["app/", "app/x"]);
    }
}
