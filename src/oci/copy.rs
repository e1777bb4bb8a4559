//! Copying an artifact (manifest, its children and blobs) between stores, checked at every
//! step: what `cosign load` and `skopeo copy` do, on provost's own store trait.

use super::media::Manifest;
use super::{Result, Store};
use std::future::Future;
use std::pin::Pin;

/// Blobs copied whole are capped at this size.
pub const MAX_COPY_BLOB: u64 = 1024 * 1024 * 1024;

/// Copies the manifest `digest` (recursively for an index) from `src`/`src_repo` to
/// `dst`/`dst_repo`, tagging it `tag` when given. Returns the digest written, which is the
/// digest read: bytes are never re-serialised.
pub fn copy_artifact<'a, S: Store, D: Store>(
    src: &'a S,
    src_repo: &'a str,
    dst: &'a D,
    dst_repo: &'a str,
    digest: &'a str,
    tag: Option<&'a str>,
) -> Pin<Box<dyn Future<Output = Result<String>> + Send + 'a>> {
    Box::pin(async move {
        let m = src.get_manifest(src_repo, digest).await?;
        match Manifest::parse(&m.bytes, &m.media_type) {
            Ok((Manifest::Index(idx), _)) => {
                for child in &idx.manifests {
                    copy_artifact(src, src_repo, dst, dst_repo, &child.digest, None).await?;
                }
            }
            Ok((Manifest::Image(img), _)) => {
                for d in std::iter::once(&img.config).chain(img.layers.iter()) {
                    let bytes = src.get_blob(src_repo, &d.digest, MAX_COPY_BLOB).await?;
                    dst.put_blob(dst_repo, &bytes).await?;
                }
            }
            Err(e) => {
                return Err(super::OciError::Malformed {
                    what: "manifest",
                    name: digest.to_string(),
                    source_name: src.name().to_string(),
                    reason: e.to_string(),
                })
            }
        }
        dst.put_manifest(dst_repo, tag, &m.media_type, &m.bytes)
            .await
    })
}
