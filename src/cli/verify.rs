//! `provost verify-bundle`: the Sigstore conformance CLI protocol, offline.

use crate::verify::{self, Matcher, Root, Subject, Trust};
use color_eyre::eyre::{eyre, Result, WrapErr};

/// The conformance protocol's arguments.
pub struct VerifyBundleArgs {
    pub staging: bool,
    pub bundle: String,
    pub identity: Option<String>,
    pub identity_regexp: Option<String>,
    pub issuer: Option<String>,
    pub issuer_regexp: Option<String>,
    pub key: Option<String>,
    pub trusted_root: Option<String>,
    pub json: bool,
    pub file_or_digest: String,
}

/// Builds the trust from `--key` or the identity flags; errors name what is missing.
pub fn trust_from(
    key: Option<&str>,
    identity: Option<&str>,
    identity_regexp: Option<&str>,
    issuer: Option<&str>,
    issuer_regexp: Option<&str>,
) -> Result<Trust> {
    if let Some(k) = key {
        let pem =
            std::fs::read_to_string(k).wrap_err_with(|| format!("reading the public key {k}"))?;
        return Ok(Trust::Key {
            pem,
            name: Some(k.to_string()),
        });
    }
    let identity = match (identity, identity_regexp) {
        (Some(i), _) => Matcher::Exact(i.to_string()),
        (None, Some(r)) => Matcher::regex(r).map_err(|e| eyre!(e))?,
        (None, None) => return Err(eyre!("give --key, or --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]")),
    };
    let issuer = match (issuer, issuer_regexp) {
        (Some(i), _) => Matcher::Exact(i.to_string()),
        (None, Some(r)) => Matcher::regex(r).map_err(|e| eyre!(e))?,
        (None, None) => return Err(eyre!("a keyless identity needs --certificate-oidc-issuer or --certificate-oidc-issuer-regexp")),
    };
    Ok(Trust::Identity { identity, issuer })
}

/// The artifact: a `sha256:<hex>` digest, or a file to read.
pub fn subject_from(file_or_digest: &str) -> Result<Subject> {
    if file_or_digest.starts_with("sha256:") {
        if !crate::oci::digest::is_valid(file_or_digest) {
            return Err(eyre!(
                "{file_or_digest:?} is not sha256: followed by 64 lowercase hex digits"
            ));
        }
        return Ok(Subject::Digest(file_or_digest.to_string()));
    }
    let bytes = std::fs::read(file_or_digest)
        .wrap_err_with(|| format!("reading the artifact {file_or_digest}"))?;
    Ok(Subject::Bytes(bytes))
}

/// Runs `verify-bundle`; `Ok(false)` when the bundle does not verify (every reason printed).
pub fn verify_bundle_cmd(a: &VerifyBundleArgs) -> Result<bool> {
    let trust = trust_from(
        a.key.as_deref(),
        a.identity.as_deref(),
        a.identity_regexp.as_deref(),
        a.issuer.as_deref(),
        a.issuer_regexp.as_deref(),
    )?;
    let subject = subject_from(&a.file_or_digest)?;
    let root = match (&a.trusted_root, a.staging) {
        (Some(p), _) => Root::File(p.into()),
        (None, true) => Root::Staging,
        (None, false) => Root::Production,
    };
    let root = root.load().map_err(|e| eyre!(e))?;
    let bundle = std::fs::read_to_string(&a.bundle)
        .wrap_err_with(|| format!("reading the bundle {}", a.bundle))?;
    let outcome = verify::verify_bundle(&bundle, &subject, &trust, &root);
    if a.json {
        super::print_json(&outcome)?;
    } else if outcome.verified {
        if let Some(s) = &outcome.signer {
            println!(
                "OK: verified, signed by {}",
                crate::text::sanitize(&s.sentence())
            );
        }
    }
    for f in &outcome.failures {
        eprintln!("✗ {}", crate::text::sanitize(f));
    }
    Ok(outcome.verified)
}
