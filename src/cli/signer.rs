//! Who signs a record: the key (or OIDC identity) a command was given, checked to be trusted
//! here, and the timestamp, Fulcio and Rekor services it signs through.

use super::exit::Usage;
use super::records::SignArgs;
use crate::release::record::Signing;
use crate::setup::{NamedSource, Settings};
use crate::text::sanitize;
use color_eyre::eyre::{eyre, Result};
use p256::ecdsa::SigningKey;

/// How a person signs.
pub(super) enum How {
    Key(SigningKey),
    /// An OIDC identity token, for a Fulcio certificate.
    Keyless(zeroize::Zeroizing<String>),
}

/// The key (or identity) and who it is in the policy's trust.
pub(super) struct Person {
    pub(super) how: How,
    /// The verified signer a record made this way will have.
    pub(super) signer: crate::evidence::Signer,
}

pub(super) fn load_person(
    settings: &Settings,
    source: &NamedSource,
    args: &SignArgs,
    trust: &[crate::verify::Trust],
) -> Result<Person> {
    // An explicit --key wins over a token in the environment.
    if let Some(token) = args.identity_token.as_ref().filter(|_| args.key.is_none()) {
        let token = zeroize::Zeroizing::new(token.trim().to_string());
        let who = crate::release::keyless::claims(&token).map_err(|e| eyre!(Usage(e)))?;
        let trusted = trust.iter().any(|t| match t {
            crate::verify::Trust::Identity { identity, issuer } => {
                identity.matches(&who.subject) && issuer.matches(&who.issuer)
            }
            _ => false,
        });
        if !trusted {
            return Err(eyre!(Usage(format!(
                "the identity {} (issuer {}) is not trusted here, so a record it signs would count for nothing (add a [[trust.identity]] and a group member)",
                sanitize(&who.subject),
                sanitize(&who.issuer)
            ))));
        }
        return Ok(Person {
            how: How::Keyless(token),
            signer: crate::evidence::Signer::Keyless {
                subject: who.subject,
                issuer: who.issuer,
                claims: Box::default(),
                integrated_time: None,
                log_index: None,
            },
        });
    }
    let spec = args
        .key
        .clone()
        .or_else(|| settings.signing_key.as_ref().map(|p| p.display().to_string()))
        .ok_or_else(|| {
            eyre!(Usage(
                "no key to sign with: pass --key FILE (or demo:NAME in the demo store), or set signing_key in provost.toml".into()
            ))
        })?;
    let path = settings
        .key_path(source, &spec)
        .map_err(|e| eyre!(Usage(e)))?
        .display()
        .to_string();
    let key = super::sign::load_key(&path)?;
    match crate::release::act::identify(&key, trust) {
        Some(signer) => Ok(Person {
            how: How::Key(key),
            signer,
        }),
        None => Err(eyre!(Usage(format!(
            "key {} is not a trusted key here, so a record it signs would count for nothing (add it to [[trust.key]] and to a group)",
            &crate::evidence::attest::key_id(&key)[..16]
        )))),
    }
}

/// The signing services a record uses, from the flags or provost.toml.
pub(super) struct Urls {
    tsa: Option<String>,
    rekor: Option<String>,
    fulcio: Option<String>,
}

pub(super) fn urls(settings: &Settings, args: &SignArgs) -> Urls {
    Urls {
        tsa: args
            .timestamp_server_url
            .clone()
            .or_else(|| settings.timestamp_server.clone()),
        rekor: args
            .rekor_url
            .clone()
            .or_else(|| settings.rekor_url.clone()),
        fulcio: args
            .fulcio_url
            .clone()
            .or_else(|| settings.fulcio_url.clone()),
    }
}

/// How `person` signs, with `urls`.
pub(super) fn signing<'a>(person: &'a Person, urls: &'a Urls) -> Result<Signing<'a>> {
    Ok(match &person.how {
        How::Key(key) => Signing::Key {
            key,
            timestamp_url: urls.tsa.as_deref(),
            rekor_url: urls.rekor.as_deref(),
        },
        How::Keyless(token) => match (&urls.fulcio, &urls.rekor) {
            (Some(f), Some(r)) => Signing::Keyless {
                token,
                fulcio_url: f,
                rekor_url: r,
            },
            _ => {
                return Err(eyre!(Usage(
                    "keyless signing needs a Fulcio and a Rekor URL (fulcio_url and rekor_url in provost.toml, or --fulcio-url and --rekor-url)".into()
                )))
            }
        },
    })
}
