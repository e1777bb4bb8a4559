//! Sending one request to the registry: the auth challenge (answered only for the registry's
//! own origin), retries of idempotent reads on 429/502/503/504, `Link` targets kept on the
//! registry's origin, and failures in words.

use super::*;

/// Retries of one idempotent read on 429, 502, 503 and 504.
const MAX_RETRIES: u32 = 3;

/// The wait a `Retry-After` header asks for, in seconds (the HTTP-date form is not honoured:
/// the doubling backoff applies).
fn retry_after(res: &reqwest::Response) -> Option<Duration> {
    res.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// `scheme://host:port` of a URL, for messages.
fn origin_of(u: &url::Url) -> String {
    u.origin().ascii_serialization()
}

/// The origin `link` names, resolved against `base` (the link itself when it does not parse).
pub(super) fn origin_of_link(base: &str, link: &str) -> String {
    url::Url::parse(&format!("{base}/"))
        .and_then(|b| b.join(link))
        .map(|u| origin_of(&u))
        .unwrap_or_else(|_| link.chars().take(200).collect())
}

/// Same scheme, host and port (default ports made explicit), as browsers define an origin.
fn same_origin(a: &url::Url, b: &url::Url) -> bool {
    a.origin() == b.origin()
}

/// `PROVOST_TRACE_REQUESTS=1`: every registry request is printed to stderr (for benchmarks).
fn trace_requests() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("PROVOST_TRACE_REQUESTS").is_some())
}

impl RemoteStore {
    /// A request failure in words: a timeout says so; otherwise the innermost cause
    /// ("Connection refused") rather than reqwest's generic "error sending request".
    pub(super) fn request_failed(&self, e: reqwest::Error) -> OciError {
        let reason = if e.is_timeout() {
            format!(
                "timed out after {} s (a whole request, body included, may take at most {} s)",
                self.timeout.as_secs(),
                self.timeout.as_secs() * 3
            )
        } else {
            let mut cause: &dyn std::error::Error = &e;
            while let Some(next) = cause.source() {
                cause = next;
            }
            let url = e.url().map(|u| format!(" ({u})")).unwrap_or_default();
            format!("{cause}{url}")
        };
        OciError::Transport {
            source_name: self.host.clone(),
            reason,
        }
    }

    /// Sends a request, answering one auth challenge when the registry asks for one.
    pub(super) async fn send(
        &self,
        method: Method,
        url: &str,
        scope: &str,
        headers: HeaderMap,
    ) -> Result<reqwest::Response> {
        self.send_body(method, url, scope, headers, None).await
    }

    /// `send` with a request body (held as `Bytes`, so answering a challenge resends it
    /// without a copy).
    pub(super) async fn send_body(
        &self,
        method: Method,
        url: &str,
        scope: &str,
        headers: HeaderMap,
        body: Option<bytes::Bytes>,
    ) -> Result<reqwest::Response> {
        let cached = self
            .auth_cache
            .lock()
            .ok()
            .and_then(|c| c.get(scope).cloned());
        let build = |auth: Option<&str>| {
            let mut req = self
                .http
                .request(method.clone(), url)
                .headers(headers.clone());
            if let Some(a) = auth {
                req = req.header(AUTHORIZATION, a);
            }
            if let Some(b) = &body {
                req = req.body(b.clone());
            }
            req
        };
        REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        crate::oci::budget::asking(&self.host);
        if trace_requests() {
            crate::warn!("provost: {method} {url}");
        }
        // Idempotent reads are retried on 429, 502, 503 and 504, a few times, waiting as the
        // registry's Retry-After says (at most 5 s) or with a doubling backoff.
        let idempotent = matches!(method, Method::GET | Method::HEAD);
        let mut attempt = 0u32;
        let res = loop {
            let res = build(cached.as_deref())
                .send()
                .await
                .map_err(|e| self.request_failed(e))?;
            let retryable = matches!(res.status().as_u16(), 429 | 502 | 503 | 504);
            if !(idempotent && retryable && attempt < MAX_RETRIES) {
                break res;
            }
            let wait = retry_after(&res)
                .unwrap_or(Duration::from_millis(250 << attempt))
                .min(Duration::from_secs(5));
            attempt += 1;
            REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        };
        if res.status() != StatusCode::UNAUTHORIZED {
            return Ok(res);
        }
        // A 401 from another origin (a redirect target such as blob storage) is never answered
        // with the registry's credentials, Basic or token, as docker and containerd do.
        if !self.is_own_origin(res.url()) {
            return Err(self.foreign_challenge(scope, res.url()));
        }
        let challenge = res
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|h| h.to_str().ok())
            .and_then(auth::parse_challenge);
        let unauthorized = |reason: &str| OciError::Unauthorized {
            source_name: self.host.clone(),
            name: scope.to_string(),
            reason: reason.to_string(),
        };
        let Some(challenge) = challenge else {
            return Err(unauthorized(
                "401 without a usable WWW-Authenticate challenge",
            ));
        };
        let credential = self.credential()?;
        let header = auth::respond(
            &self.http,
            &self.host,
            &challenge,
            credential,
            scope,
            self.base.starts_with("http://"),
        )
        .await?;
        let Some(header) = header else {
            return Err(unauthorized(
                "authentication required and no credential is configured",
            ));
        };
        REQUESTS.fetch_add(2, std::sync::atomic::Ordering::Relaxed); // token fetch + retry
        let res = build(Some(&header))
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        if res.status() == StatusCode::UNAUTHORIZED {
            if !self.is_own_origin(res.url()) {
                // Redirected after authenticating, and the target wants credentials too: it
                // gets none (the redirect dropped the Authorization header; no challenge from
                // another origin is answered).
                return Err(self.foreign_challenge(scope, res.url()));
            }
            return Err(unauthorized(&format!(
                "credentials rejected ({})",
                credential.describe()
            )));
        }
        if let Ok(mut c) = self.auth_cache.lock() {
            c.insert(scope.to_string(), header);
        }
        Ok(res)
    }

    pub(super) async fn error_for(
        &self,
        res: reqwest::Response,
        what: &'static str,
        name: &str,
    ) -> OciError {
        let status = res.status();
        let url = res.url().to_string();
        if status == StatusCode::NOT_FOUND {
            return OciError::NotFound {
                what,
                name: name.to_string(),
                source_name: self.host.clone(),
            };
        }
        let body = read_limited(res, 4096, &self.host, "error body", name)
            .await
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .chars()
                    .take(300)
                    .collect::<String>()
            })
            .unwrap_or_default();
        OciError::Registry {
            source_name: self.host.clone(),
            status: status.as_u16(),
            url,
            body,
        }
    }

    /// A `Link` target resolved against the registry (as a URL library resolves it) and
    /// followed only on the registry's own scheme, host and port: the request would carry the
    /// registry's Authorization, which must never reach another origin.
    pub(super) fn absolute(&self, link: &str) -> Result<String> {
        let base = url::Url::parse(&format!("{}/", self.base)).map_err(|e| self.transport(e))?;
        let target = base.join(link).map_err(|e| OciError::Malformed {
            what: "Link header",
            name: crate::text::sanitize(link).chars().take(200).collect(),
            source_name: self.host.clone(),
            reason: e.to_string(),
        })?;
        if !same_origin(&base, &target) {
            return Err(OciError::Transport {
                source_name: self.host.clone(),
                reason: format!(
                    "a Link header points at another origin ({}); provost follows pagination \
                     only on the registry itself",
                    crate::text::sanitize(&origin_of(&target))
                ),
            });
        }
        Ok(target.to_string())
    }

    /// The refusal when another origin (a redirect target) asks for credentials.
    fn foreign_challenge(&self, scope: &str, url: &url::Url) -> OciError {
        OciError::Unauthorized {
            source_name: self.host.clone(),
            name: scope.to_string(),
            reason: format!(
                "redirected to another origin ({}) that asked for credentials; the registry's \
                 credentials are never sent there",
                crate::text::sanitize(&origin_of(url))
            ),
        }
    }

    /// True when `url` is on the registry's own scheme, host and port.
    pub(super) fn is_own_origin(&self, url: &url::Url) -> bool {
        url::Url::parse(&format!("{}/", self.base)).is_ok_and(|b| same_origin(&b, url))
    }
}
