//! HTTP helpers for registry requests: size-capped body reads, `Link` paging, query encoding.

use super::error::{OciError, Result};
use futures::StreamExt;
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_LENGTH};

pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Parses the `next` target out of a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let is_next = params.split(';').any(|p| {
            p.trim()
                .replace(' ', "")
                .eq_ignore_ascii_case("rel=\"next\"")
                || p.trim().eq_ignore_ascii_case("rel=next")
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_string())
    })
}

/// Reads a response body, refusing it as soon as it passes `limit` bytes; `name` (a digest or
/// reference) is what the refusal names.
pub(crate) async fn read_limited(
    res: reqwest::Response,
    limit: u64,
    source_name: &str,
    what: &'static str,
    name: &str,
) -> Result<Vec<u8>> {
    let too_large = |size: u64| OciError::TooLarge {
        what,
        digest: name.to_string(),
        size,
        limit,
        source_name: source_name.to_string(),
    };
    if let Some(len) = res
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > limit {
            return Err(too_large(len));
        }
    }
    let mut out = Vec::new();
    let mut stream = res.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| OciError::Interrupted {
            source_name: source_name.to_string(),
            reason: body_error(&e),
        })?;
        if (out.len() + chunk.len()) as u64 > limit {
            return Err(too_large((out.len() + chunk.len()) as u64));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A body read that failed, in words: a deadline says so, else the innermost cause.
fn body_error(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    let mut timed_out = e.is_timeout();
    while let Some(next) = cause.source() {
        cause = next;
        timed_out |= cause.to_string().contains("timed out");
    }
    if timed_out {
        "timed out while the body arrived (the request's total deadline passed)".into()
    } else {
        format!("reading the body: {cause}")
    }
}

pub(crate) fn accept_manifests() -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = super::media::ACCEPTED_MANIFESTS.join(", ").parse() {
        h.insert(ACCEPT, v);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::next_link;

    #[test]
    fn parses_link_headers() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=100>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=b&n=100")
        );
        assert_eq!(next_link(r#"<https://r.example/v2/x?y>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }
}
