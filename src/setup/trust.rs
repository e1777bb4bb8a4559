//! The trust list from a `[trust]` section (of the configuration or of a policy file): keys
//! read from their PEM files with their validity windows, keyless identities, the root.

use super::NamedSource;
use crate::config::{expand_home, ConfigError};

/// Builds the trust list: configured keys (revoked ones left out: they verify nothing; the
/// others with their validity windows) and identities.
pub fn load_trust(
    t: &crate::config::TrustEntry,
    config_path: Option<&std::path::Path>,
    path_str: &str,
    sources: &[NamedSource],
) -> Result<(Vec<crate::verify::Trust>, crate::verify::Root), ConfigError> {
    use crate::verify::{Matcher, Root, Trust};
    let invalid = |key: &str, value: &str, reason: String| ConfigError::Invalid {
        path: path_str.to_string(),
        key: key.to_string(),
        value: value.to_string(),
        reason,
    };
    let base = config_path
        .and_then(|p| p.parent())
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let mut out = vec![];
    for k in &t.key {
        if k.revoked {
            continue;
        }
        let time = |key: &str, v: &Option<String>| {
            v.as_deref()
                .map(|s| {
                    chrono::DateTime::parse_from_rfc3339(s)
                        .map(|t| t.with_timezone(&chrono::Utc))
                        .map_err(|e| invalid(key, s, format!("not an RFC 3339 time: {e}")))
                })
                .transpose()
        };
        let window = crate::verify::KeyWindow {
            not_before: time("trust.key.not_before", &k.not_before)?,
            not_after: time("trust.key.not_after", &k.not_after)?,
        };
        let p = base.join(expand_home(&k.path));
        let pem = std::fs::read_to_string(&p).map_err(|e| {
            invalid(
                "trust.key.path",
                &k.path,
                format!("cannot read {}: {e}", p.display()),
            )
        })?;
        if sigstore_verify::types::DerPublicKey::from_pem(&pem).is_err() {
            return Err(invalid(
                "trust.key.path",
                &k.path,
                "not a PEM public key".into(),
            ));
        }
        out.push(Trust::Key {
            pem,
            name: Some(k.name.clone()),
            window,
        });
    }
    for i in &t.identity {
        let identity = match (&i.subject, &i.subject_regexp) {
            (Some(s), _) => Matcher::Exact(s.clone()),
            (None, Some(r)) => Matcher::regex(r)
                .map_err(|e| invalid("trust.identity.subject_regexp", r, e.to_string()))?,
            (None, None) => {
                return Err(invalid(
                    "trust.identity",
                    "",
                    "needs subject or subject_regexp".into(),
                ))
            }
        };
        let issuer = match (&i.issuer, &i.issuer_regexp) {
            (Some(s), _) => Matcher::Exact(s.clone()),
            (None, Some(r)) => Matcher::regex(r)
                .map_err(|e| invalid("trust.identity.issuer_regexp", r, e.to_string()))?,
            (None, None) => {
                return Err(invalid(
                    "trust.identity",
                    "",
                    "needs issuer or issuer_regexp".into(),
                ))
            }
        };
        out.push(Trust::Identity { identity, issuer });
    }
    let _ = sources;
    let root = match &t.trusted_root {
        Some(p) => Root::File(base.join(expand_home(p))),
        None => Root::Production,
    };
    Ok((out, root))
}
