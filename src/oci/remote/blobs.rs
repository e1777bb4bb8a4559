//! Moving blobs without holding them: a HEAD for what the registry has, cross-repository
//! mounts, streamed reads, and chunked uploads (POST, PATCH per chunk, PUT with the digest)
//! hashed as they go, so a 1 GiB layer costs one chunk of memory.

use super::RemoteStore;
use crate::oci::digest;
use crate::oci::error::{OciError, Result};
use crate::oci::BlobStream;
use futures::StreamExt;
use reqwest::header::{
    HeaderMap, HeaderValue, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, LOCATION,
};
use reqwest::{Method, StatusCode};
use sha2::{Digest as _, Sha256};

/// Bytes sent per PATCH.
pub const UPLOAD_CHUNK: usize = 8 * 1024 * 1024;

impl RemoteStore {
    fn push_scope(repo: &str) -> String {
        format!("repository:{repo}:pull,push")
    }

    pub(super) async fn head_blob(&self, repo: &str, d: &str) -> Result<bool> {
        if !digest::is_valid(d) {
            return Err(OciError::InvalidDigest(d.to_string()));
        }
        let url = format!("{}/v2/{repo}/blobs/{d}", self.base);
        let res = self
            .send(
                Method::HEAD,
                &url,
                &format!("repository:{repo}:pull"),
                HeaderMap::new(),
            )
            .await?;
        match res.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.error_for(res, "blob", d).await),
        }
    }

    pub(super) async fn mount(&self, repo: &str, from: &str, d: &str) -> Result<bool> {
        if !digest::is_valid(d) {
            return Err(OciError::InvalidDigest(d.to_string()));
        }
        let url = format!(
            "{}/v2/{repo}/blobs/uploads/?mount={d}&from={}",
            self.base,
            crate::oci::http::urlencode(from)
        );
        let res = self
            .send_body(
                Method::POST,
                &url,
                &Self::push_scope(repo),
                HeaderMap::new(),
                None,
            )
            .await?;
        match res.status() {
            StatusCode::CREATED => Ok(true),
            StatusCode::ACCEPTED => {
                // The registry opened an upload instead: close it, the caller uploads.
                if let Some(loc) = self.location(&res) {
                    let _ = self
                        .send(
                            Method::DELETE,
                            &loc,
                            &Self::push_scope(repo),
                            HeaderMap::new(),
                        )
                        .await;
                }
                Ok(false)
            }
            _ => Err(self.error_for(res, "blob", d).await),
        }
    }

    pub(super) async fn stream_blob(&self, repo: &str, d: &str, limit: u64) -> Result<BlobStream> {
        if !digest::is_valid(d) {
            return Err(OciError::InvalidDigest(d.to_string()));
        }
        let url = format!("{}/v2/{repo}/blobs/{d}", self.base);
        let res = self
            .send(
                Method::GET,
                &url,
                &format!("repository:{repo}:pull"),
                HeaderMap::new(),
            )
            .await?;
        if !res.status().is_success() {
            return Err(self.error_for(res, "blob", d).await);
        }
        let host = self.host.clone();
        let name = d.to_string();
        let mut seen = 0u64;
        let stream = res.bytes_stream().map(move |c| {
            let c = c.map_err(|e| OciError::Interrupted {
                source_name: host.clone(),
                reason: format!("reading blob {name}: {e}"),
            })?;
            seen += c.len() as u64;
            if seen > limit {
                return Err(OciError::TooLarge {
                    what: "blob",
                    digest: name.clone(),
                    size: seen,
                    limit,
                    source_name: host.clone(),
                });
            }
            Ok(c)
        });
        Ok(Box::pin(stream))
    }

    fn location(&self, res: &reqwest::Response) -> Option<String> {
        let loc = res.headers().get(LOCATION)?.to_str().ok()?;
        self.absolute(loc).ok()
    }

    fn upload_location(&self, res: &reqwest::Response, d: &str) -> Result<String> {
        let malformed = |reason: String| OciError::Malformed {
            what: "upload",
            name: d.to_string(),
            source_name: self.host.clone(),
            reason,
        };
        let Some(loc) = res.headers().get(LOCATION) else {
            return Err(malformed("the registry gave no Location header".into()));
        };
        let Ok(loc) = loc.to_str() else {
            return Err(malformed("its Location header is not text".into()));
        };
        match self.absolute(loc) {
            Ok(u) => Ok(u),
            Err(OciError::Transport { .. }) => Err(malformed(format!(
                "the registry's upload Location points at another origin ({}); provost uploads only to the registry itself, so its credentials never go elsewhere",
                crate::text::sanitize(&super::request::origin_of_link(&self.base, loc))
            ))),
            Err(_) => Err(malformed(format!(
                "its Location header ({}) is not a URL",
                crate::text::sanitize(loc).chars().take(200).collect::<String>()
            ))),
        }
    }

    /// Uploads `chunks` as blob `d`: the registry is told the digest only at the end, and
    /// only once the bytes sent hash to it.
    pub(super) async fn upload_stream(
        &self,
        repo: &str,
        d: &str,
        size: u64,
        mut chunks: BlobStream,
    ) -> Result<()> {
        if !digest::is_valid(d) {
            return Err(OciError::InvalidDigest(d.to_string()));
        }
        let scope = Self::push_scope(repo);
        let start = format!("{}/v2/{repo}/blobs/uploads/", self.base);
        let res = self
            .send_body(Method::POST, &start, &scope, HeaderMap::new(), None)
            .await?;
        if res.status() != StatusCode::ACCEPTED {
            return Err(self.error_for(res, "blob", d).await);
        }
        let mut location = self.upload_location(&res, d)?;
        let mut hasher = Sha256::new();
        let mut sent = 0u64;
        let mut buf = bytes::BytesMut::with_capacity(UPLOAD_CHUNK.min(size as usize));
        let mut done = false;
        while !done {
            match chunks.next().await {
                Some(c) => buf.extend_from_slice(&c?),
                None => done = true,
            }
            if sent + buf.len() as u64 > size {
                let _ = self
                    .send(Method::DELETE, &location, &scope, HeaderMap::new())
                    .await;
                return Err(OciError::TooLarge {
                    what: "blob",
                    digest: d.to_string(),
                    size: sent + buf.len() as u64,
                    limit: size,
                    source_name: self.host.clone(),
                });
            }
            if buf.len() >= UPLOAD_CHUNK || (done && !buf.is_empty()) {
                let body = buf.split().freeze();
                hasher.update(&body);
                let mut h = HeaderMap::new();
                h.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
                let range = format!("{}-{}", sent, sent + body.len() as u64 - 1);
                if let Ok(v) = HeaderValue::from_str(&range) {
                    h.insert(CONTENT_RANGE, v);
                }
                h.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
                sent += body.len() as u64;
                let res = self
                    .send_body(Method::PATCH, &location, &scope, h, Some(body))
                    .await?;
                if res.status() != StatusCode::ACCEPTED {
                    return Err(self.error_for(res, "blob", d).await);
                }
                location = self.upload_location(&res, d)?;
            }
        }
        let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
        if actual != d || sent != size {
            let _ = self
                .send(Method::DELETE, &location, &scope, HeaderMap::new())
                .await;
            return Err(OciError::DigestMismatch {
                digest: d.to_string(),
                actual,
                source_name: self.host.clone(),
            });
        }
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{sep}digest={d}");
        let mut h = HeaderMap::new();
        h.insert(CONTENT_LENGTH, HeaderValue::from(0));
        let res = self
            .send_body(Method::PUT, &url, &scope, h, Some(bytes::Bytes::new()))
            .await?;
        if res.status() != StatusCode::CREATED {
            return Err(self.error_for(res, "blob", d).await);
        }
        Ok(())
    }
}
