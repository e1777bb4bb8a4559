//! `RemoteStore`: a registry over the OCI distribution API.
//!
//! Pushes (blob uploads and manifests) go through `oci-client`. Catalog and tag listing (with
//! `Link` paging), manifest and blob reads (size-capped while streaming, digest-checked) and
//! deletes use reqwest directly: the crate drops `Link` headers, reads manifests without a size
//! cap, and re-probes `/v2/` before every anonymous blob read, which doubled `inspect`'s time.

use super::auth::{self, Credential};
use super::digest;
use super::error::{OciError, Result};
pub(crate) use super::http::read_limited;
use super::http::{accept_manifests, next_link, urlencode};
use super::reference::valid_tag;
use super::{check_manifest, FetchedManifest, Store, MAX_MANIFEST_BYTES};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::Reference;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LINK, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// HTTP requests sent to registries by this process (for benchmarks and `PROVOST_COUNT_REQUESTS`).
pub static REQUESTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub mod blobs;
mod request;
mod support;

/// Pages followed at most when listing, so a registry cannot keep provost paging forever.
const MAX_PAGES: usize = 100_000;
/// Entries collected over all pages of one listing, and referrers of one digest.
const MAX_LIST_ENTRIES: usize = 2_000_000;
const MAX_REFERRERS: usize = 10_000;
/// Catalog and tag list pages are JSON documents capped at this size.
const MAX_LIST_PAGE_BYTES: u64 = 16 * 1024 * 1024;

/// A registry reached over HTTPS, or plain HTTP when marked insecure.
pub struct RemoteStore {
    host: String,
    base: String,
    http: reqwest::Client,
    timeout: Duration,
    /// Set once the registry has shown it has no referrers API.
    no_referrers_api: std::sync::atomic::AtomicBool,
    /// Whether the registry has answered whether it has the referrers API; until it has, one
    /// caller asks at a time (so 32 concurrent discoveries cost one probe, not 32).
    referrers_known: std::sync::atomic::AtomicBool,
    referrers_probe: tokio::sync::Mutex<()>,
    /// Built on first push: listing and reading never pay for a second HTTP client.
    oci: std::sync::OnceLock<oci_client::Client>,
    oci_config: Mutex<Option<ClientConfig>>,
    credential: std::result::Result<Credential, String>,
    auth_cache: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for RemoteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteStore")
            .field("base", &self.base)
            .finish()
    }
}

impl RemoteStore {
    /// A store for `host` (host[:port]); credentials come from the docker config.
    pub fn new(host: &str, insecure: bool, timeout: Duration) -> Result<RemoteStore> {
        let credential = auth::lookup(host).map_err(|e| e.to_string());
        Self::with_credential(host, insecure, timeout, credential)
    }

    /// A store with an explicit credential (or a deferred credential error).
    pub fn with_credential(
        host: &str,
        insecure: bool,
        timeout: Duration,
        credential: std::result::Result<Credential, String>,
    ) -> Result<RemoteStore> {
        let scheme = if insecure { "http" } else { "https" };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5).min(timeout))
            .read_timeout(timeout)
            // A total deadline per request, body included: a server dripping one byte at a
            // time never trips the read timeout, and must not hang a command.
            .timeout(timeout * 3)
            .user_agent(concat!("provost/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OciError::Transport {
                source_name: host.into(),
                reason: e.to_string(),
            })?;
        let protocol = if insecure {
            ClientProtocol::HttpsExcept(vec![host.to_string()])
        } else {
            ClientProtocol::Https
        };
        let oci_config = ClientConfig {
            protocol,
            read_timeout: Some(timeout),
            connect_timeout: Some(Duration::from_secs(5).min(timeout)),
            platform_resolver: None,
            ..Default::default()
        };
        Ok(RemoteStore {
            host: host.to_string(),
            base: format!("{scheme}://{host}"),
            http,
            timeout,
            no_referrers_api: std::sync::atomic::AtomicBool::new(false),
            referrers_known: std::sync::atomic::AtomicBool::new(false),
            referrers_probe: tokio::sync::Mutex::new(()),
            oci: std::sync::OnceLock::new(),
            oci_config: Mutex::new(Some(oci_config)),
            credential,
            auth_cache: Mutex::new(HashMap::new()),
        })
    }

    /// How provost authenticates here, for status lines (never the secret).
    pub fn credential_summary(&self) -> String {
        match &self.credential {
            Ok(c) => c.describe(),
            Err(e) => format!("credential error: {e}"),
        }
    }

    fn credential(&self) -> Result<&Credential> {
        self.credential.as_ref().map_err(|e| OciError::Credentials {
            registry: self.host.clone(),
            reason: e.clone(),
        })
    }

    fn transport(&self, e: impl std::fmt::Display) -> OciError {
        OciError::Transport {
            source_name: self.host.clone(),
            reason: e.to_string(),
        }
    }

    fn oci_ref(&self, repo: &str, reference: &str) -> Reference {
        if reference.starts_with("sha256:") {
            Reference::with_digest(self.host.clone(), repo.to_string(), reference.to_string())
        } else {
            Reference::with_tag(self.host.clone(), repo.to_string(), reference.to_string())
        }
    }

    async fn oci(&self) -> Result<&oci_client::Client> {
        let auth = self.credential()?.to_registry_auth();
        let client = self.oci.get_or_init(|| {
            let config = self
                .oci_config
                .lock()
                .ok()
                .and_then(|mut c| c.take())
                .unwrap_or_default();
            oci_client::Client::new(config)
        });
        client.store_auth_if_needed(&self.host, &auth).await;
        Ok(client)
    }
}

impl Store for RemoteStore {
    fn name(&self) -> &str {
        &self.host
    }

    async fn list_repositories(&self) -> Result<Vec<String>> {
        // No `n`: a registry whose page limit is below a requested `n` answers 400, so take its
        // default page size and follow its Link headers.
        let url = format!("{}/v2/_catalog", self.base);
        let mut repos = self
            .list_paged(
                url,
                "registry:catalog:*",
                "repositories",
                "catalog",
                "_catalog",
            )
            .await?;
        repos.retain(|r| super::reference::valid_repository(r));
        repos.sort();
        repos.dedup();
        Ok(repos)
    }

    async fn list_tags(&self, repo: &str) -> Result<Vec<String>> {
        let url = format!("{}/v2/{repo}/tags/list", self.base);
        let scope = format!("repository:{repo}:pull");
        let mut tags = self
            .list_paged(url, &scope, "tags", "repository", repo)
            .await?;
        // Tags become URL path segments later: anything outside the tag grammar is dropped.
        tags.retain(|t| valid_tag(t));
        tags.sort();
        tags.dedup();
        Ok(tags)
    }

    async fn resolve(&self, repo: &str, tag: &str) -> Result<String> {
        crate::oci::check_reference(tag)?;
        let url = format!("{}/v2/{repo}/manifests/{tag}", self.base);
        let scope = format!("repository:{repo}:pull");
        let res = self
            .send(Method::HEAD, &url, &scope, accept_manifests())
            .await?;
        if !res.status().is_success() {
            return Err(self.error_for(res, "tag", &format!("{repo}:{tag}")).await);
        }
        match res
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .filter(|d| digest::is_valid(d))
        {
            Some(d) => Ok(d.to_string()),
            None => Ok(self.get_manifest(repo, tag).await?.digest),
        }
    }

    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<FetchedManifest> {
        crate::oci::check_reference(reference)?;
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let scope = format!("repository:{repo}:pull");
        let res = self
            .send(Method::GET, &url, &scope, accept_manifests())
            .await?;
        let name = format!("{repo}@{reference}");
        if !res.status().is_success() {
            return Err(self.error_for(res, "manifest", &name).await);
        }
        let media_type = res
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(';').next().unwrap_or("").trim().to_string())
            .unwrap_or_default();
        let claimed = res
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = read_limited(res, MAX_MANIFEST_BYTES, &self.host, "manifest", &name).await?;
        let digest = check_manifest(&self.host, reference, &bytes, claimed.as_deref())?;
        let media_type = match super::media::Manifest::parse(&bytes, &media_type) {
            Ok((_, mt)) => mt,
            Err(_) => media_type,
        };
        Ok(FetchedManifest {
            digest,
            media_type,
            bytes,
        })
    }

    async fn get_blob(&self, repo: &str, digest: &str, limit: u64) -> Result<Vec<u8>> {
        if !digest::is_valid(digest) {
            return Err(OciError::InvalidDigest(digest.to_string()));
        }
        // A plain GET (redirects followed, credentials not forwarded to other hosts), streamed
        // under the size cap and hashed before anything uses it.
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.base);
        let scope = format!("repository:{repo}:pull");
        let res = self
            .send(Method::GET, &url, &scope, HeaderMap::new())
            .await?;
        if !res.status().is_success() {
            return Err(self.error_for(res, "blob", digest).await);
        }
        let out = read_limited(res, limit, &self.host, "blob", digest).await?;
        let actual = digest::sha256(&out);
        if actual != digest {
            return Err(OciError::DigestMismatch {
                digest: digest.to_string(),
                actual,
                source_name: self.host.clone(),
            });
        }
        Ok(out)
    }

    async fn put_blob(&self, repo: &str, bytes: &[u8]) -> Result<String> {
        let oci = self.oci().await?;
        let d = digest::sha256(bytes);
        let reference = self.oci_ref(repo, &d);
        if let Ok(true) = oci.blob_exists(&reference, &d).await {
            return Ok(d);
        }
        oci.push_blob(&reference, bytes.to_vec(), &d)
            .await
            .map_err(|e| self.map_oci(e, "blob", &d))?;
        Ok(d)
    }

    async fn put_manifest(
        &self,
        repo: &str,
        tag: Option<&str>,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String> {
        let d = digest::sha256(bytes);
        let reference = tag.unwrap_or(&d);
        if tag.is_some_and(|t| !valid_tag(t)) {
            return Err(OciError::InvalidReference {
                reference: crate::text::sanitize(reference).to_string(),
                reason: "not a valid tag".into(),
            });
        }
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_TYPE,
            media_type.parse().map_err(|_| OciError::Malformed {
                what: "media type",
                name: media_type.to_string(),
                source_name: self.host.clone(),
                reason: "not a valid header value".into(),
            })?,
        );
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let scope = format!("repository:{repo}:pull,push");
        let res = self
            .send_body(
                Method::PUT,
                &url,
                &scope,
                h,
                Some(bytes::Bytes::copy_from_slice(bytes)),
            )
            .await?;
        if !res.status().is_success() {
            return Err(self
                .error_for(res, "manifest", &format!("{repo}:{reference}"))
                .await);
        }
        // The registry says which digest it stored: it must be the digest of what was sent.
        if let Some(stored) = res
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
        {
            if stored != d {
                return Err(OciError::DigestMismatch {
                    digest: d,
                    actual: crate::text::sanitize(stored).chars().take(80).collect(),
                    source_name: self.host.clone(),
                });
            }
        }
        Ok(d)
    }

    async fn referrers(
        &self,
        repo: &str,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<super::media::Descriptor>>> {
        if !digest::is_valid(digest) {
            return Err(OciError::InvalidDigest(digest.to_string()));
        }
        use std::sync::atomic::Ordering::Relaxed;
        let _probe = if self.referrers_known.load(Relaxed) {
            None
        } else {
            Some(self.referrers_probe.lock().await)
        };
        if self.no_referrers_api.load(Relaxed) {
            return Ok(None);
        }
        let mut url = format!("{}/v2/{repo}/referrers/{digest}", self.base);
        if let Some(t) = artifact_type {
            url.push_str(&format!("?artifactType={}", urlencode(t)));
        }
        let scope = format!("repository:{repo}:pull");
        let mut out = vec![];
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(u) = next.take() {
            pages += 1;
            if pages > 1000 {
                break;
            }
            let mut h = HeaderMap::new();
            if let Ok(v) = super::media::OCI_INDEX.parse() {
                h.insert(ACCEPT, v);
            }
            let res = self.send(Method::GET, &u, &scope, h).await?;
            let status = res.status().as_u16();
            // Registries without the API answer 404, and some 400, 405 or 501.
            if pages == 1 && matches!(status, 400 | 404 | 405 | 501) {
                // A plain (non-JSON) answer means no such route at all: remember it, so later
                // digests go straight to the tag schema. A JSON error (unknown repository or
                // manifest) says nothing about the API, so it is not remembered.
                let json = res
                    .headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|c| c.contains("json"));
                if !json {
                    self.no_referrers_api.store(true, Relaxed);
                    self.referrers_known.store(true, Relaxed);
                }
                return Ok(None);
            }
            if !res.status().is_success() {
                return Err(self.error_for(res, "referrers", digest).await);
            }
            self.referrers_known.store(true, Relaxed);
            if out.len() > MAX_REFERRERS {
                return Err(OciError::Malformed {
                    what: "referrers index",
                    name: digest.to_string(),
                    source_name: self.host.clone(),
                    reason: format!("more than {MAX_REFERRERS} referrers; refusing the rest"),
                });
            }
            next = res
                .headers()
                .get(LINK)
                .and_then(|h| h.to_str().ok())
                .and_then(next_link)
                .map(|l| self.absolute(&l))
                .transpose()?;
            let body =
                read_limited(res, MAX_MANIFEST_BYTES, &self.host, "referrers", digest).await?;
            let index: super::media::ImageIndex =
                serde_json::from_slice(&body).map_err(|e| OciError::Malformed {
                    what: "referrers index",
                    name: digest.to_string(),
                    source_name: self.host.clone(),
                    reason: e.to_string(),
                })?;
            out.extend(index.manifests);
        }
        // Registries may ignore the filter: apply it here too.
        if let Some(t) = artifact_type {
            out.retain(|d| d.artifact_type.as_deref() == Some(t));
        }
        Ok(Some(out))
    }

    async fn has_blob(&self, repo: &str, digest: &str) -> Result<bool> {
        self.head_blob(repo, digest).await
    }

    async fn mount_blob(&self, repo: &str, from_repo: &str, digest: &str) -> Result<bool> {
        self.mount(repo, from_repo, digest).await
    }

    async fn open_blob(&self, repo: &str, digest: &str, limit: u64) -> Result<super::BlobStream> {
        self.stream_blob(repo, digest, limit).await
    }

    async fn put_blob_stream(
        &self,
        repo: &str,
        digest: &str,
        size: u64,
        chunks: super::BlobStream,
    ) -> Result<()> {
        self.upload_stream(repo, digest, size, chunks).await
    }

    async fn delete_manifest(&self, repo: &str, digest: &str) -> Result<()> {
        if !digest::is_valid(digest) {
            return Err(OciError::InvalidDigest(digest.to_string()));
        }
        let url = format!("{}/v2/{repo}/manifests/{digest}", self.base);
        let scope = format!("repository:{repo}:delete");
        let res = self
            .send(Method::DELETE, &url, &scope, HeaderMap::new())
            .await?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(self
                .error_for(res, "manifest", &format!("{repo}@{digest}"))
                .await)
        }
    }
}
