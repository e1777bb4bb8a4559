//! The parts of `RemoteStore` that are plumbing: `Link` paging and oci-client error mapping.

use super::*;

impl RemoteStore {
    /// Follows `Link: <…>; rel="next"` pages of a list endpoint, collecting `field`.
    pub(super) async fn list_paged(
        &self,
        first: String,
        scope: &str,
        field: &str,
        what: &'static str,
        name: &str,
    ) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut next = Some(first);
        let mut seen = std::collections::HashSet::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES || !seen.insert(url.clone()) {
                return Err(OciError::Malformed {
                    what,
                    name: name.into(),
                    source_name: self.host.clone(),
                    reason: "the registry's Link paging does not end".into(),
                });
            }
            let res = self
                .send(Method::GET, &url, scope, HeaderMap::new())
                .await?;
            if !res.status().is_success() {
                return Err(self.error_for(res, what, name).await);
            }
            next = res
                .headers()
                .get(LINK)
                .and_then(|h| h.to_str().ok())
                .and_then(next_link)
                .map(|l| self.absolute(&l))
                .transpose()?;
            let body = read_limited(res, MAX_LIST_PAGE_BYTES, &self.host, what, name).await?;
            let v: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| OciError::Malformed {
                    what,
                    name: name.into(),
                    source_name: self.host.clone(),
                    reason: e.to_string(),
                })?;
            if let Some(items) = v.get(field).and_then(|x| x.as_array()) {
                out.extend(items.iter().filter_map(|x| x.as_str().map(str::to_string)));
            }
            if out.len() > MAX_LIST_ENTRIES {
                return Err(OciError::Malformed {
                    what,
                    name: name.into(),
                    source_name: self.host.clone(),
                    reason: format!("more than {MAX_LIST_ENTRIES} entries; refusing the rest"),
                });
            }
        }
        Ok(out)
    }

    pub(super) fn map_oci(
        &self,
        e: OciDistributionError,
        what: &'static str,
        name: &str,
    ) -> OciError {
        match e {
            OciDistributionError::DigestError(d) => OciError::DigestMismatch {
                digest: name.to_string(),
                actual: d.to_string(),
                source_name: self.host.clone(),
            },
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => OciError::Unauthorized {
                source_name: self.host.clone(),
                name: name.to_string(),
                reason: "credentials missing or rejected".into(),
            },
            OciDistributionError::ServerError { code: 401, .. } => OciError::Unauthorized {
                source_name: self.host.clone(),
                name: name.to_string(),
                reason: "credentials missing or rejected".into(),
            },
            OciDistributionError::ServerError { code: 404, .. } => OciError::NotFound {
                what,
                name: name.to_string(),
                source_name: self.host.clone(),
            },
            OciDistributionError::RequestError(r) => self.transport(r),
            other => OciError::Registry {
                source_name: self.host.clone(),
                status: 0,
                url: name.to_string(),
                body: other.to_string(),
            },
        }
    }
}
