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
        let pem = std::fs::read_to_string(k).map_err(|e| {
            eyre!(super::exit::Usage(format!(
                "reading the public key {}: {e}",
                crate::text::sanitize(k)
            )))
        })?;
        return Ok(Trust::Key {
            pem,
            name: Some(k.to_string()),
            window: Default::default(),
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
            crate::say!(
                "OK: verified, signed by {}",
                crate::text::sanitize(&s.sentence())
            );
        }
    }
    for f in &outcome.failures {
        crate::warn!("✗ {}", crate::text::sanitize(f));
    }
    Ok(outcome.verified)
}

/// `provost verify REF` / `provost verify-attestation REF`: cosign's commands, offline.
/// Succeeds only when at least one signature (attestation) verifies against the key or identity
/// given, or the configured trust when none is given; otherwise fails with exit code 6.
#[allow(clippy::too_many_arguments)]
pub async fn verify_image_cmd(
    settings: &crate::setup::Settings,
    reference: &str,
    attestations: bool,
    predicate_type: Option<&str>,
    trust: Option<Trust>,
    trusted_root: Option<&str>,
    json: bool,
) -> Result<()> {
    let (r, source, digest) = super::resolve_ref(settings, reference).await?;
    let trusts = match trust {
        Some(t) => vec![t],
        None => super::gate::gate_for(settings, &source, None)?
            .trust
            .to_vec(),
    };
    let file_root;
    let root = match trusted_root {
        Some(p) => {
            file_root = Root::File(p.into()).load().map_err(|e| eyre!(e))?;
            &file_root
        }
        None => settings.root.get().map_err(|e| eyre!(e))?,
    };
    let cosign_repo = super::evidence::cosign_repository();
    // The same walk as `evidence` and `gate`: every signature judged on its own.
    let d = verify::oci::discover_verified(
        source.store.as_ref(),
        &r.repository,
        &digest,
        cosign_repo.as_deref(),
        None,
        &trusts,
        root,
    )
    .await;
    let errors = &d.errors;
    let checks: Vec<Check> = d
        .items
        .iter()
        // Signatures copied from another digest are listed too, failing with why.
        .filter(|i| i.binding != crate::evidence::Binding::NotApplicable)
        .filter(|i| (i.kind == crate::evidence::Kind::Signature) != attestations)
        .filter(|i| i.signatures > 0 || i.kind == crate::evidence::Kind::Signature)
        .filter(|i| predicate_type.is_none() || i.predicate_type.as_deref() == predicate_type)
        .flat_map(|i| {
            let kind = if crate::evidence::envelope::is_bundle_media_type(&i.media_type) {
                "bundle"
            } else if attestations {
                "attestation"
            } else {
                "signature"
            };
            let checks: Vec<Check> = i
                .signer
                .signatures
                .iter()
                .map(|c| Check {
                    kind,
                    digest: i.digest.clone(),
                    predicate_type: i.predicate_type.clone().filter(|_| attestations),
                    outcome: CheckOutcome {
                        verified: c.result == crate::evidence::trust::CheckResult::Verified,
                        result: c.result,
                        signer: c.signer.clone(),
                        claimed: c.claimed.clone(),
                        failures: c.reasons.clone(),
                    },
                })
                .collect();
            if checks.is_empty() {
                // Present, but carrying no signature at all.
                vec![Check {
                    kind,
                    digest: i.digest.clone(),
                    predicate_type: i.predicate_type.clone().filter(|_| attestations),
                    outcome: CheckOutcome {
                        verified: false,
                        result: crate::evidence::trust::CheckResult::Invalid,
                        signer: None,
                        claimed: None,
                        failures: vec![i.problem.clone().unwrap_or_else(|| "not signed".into())],
                    },
                }]
            } else {
                checks
            }
        })
        .collect();
    let wanted: Vec<&Check> = checks.iter().collect();
    let ok = wanted.iter().any(|c| c.outcome.verified);
    if json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            digest: &'a str,
            verified: bool,
            checks: Vec<&'a Check>,
            errors: &'a [String],
        }
        super::print_json(&Out {
            digest: &digest,
            verified: ok,
            checks: wanted.clone(),
            errors,
        })?;
    }
    let what = if attestations {
        "attestation"
    } else {
        "signature"
    };
    if wanted.is_empty() {
        crate::warn!("✗ no {what} found for {digest}");
    }
    for c in &wanted {
        let label = c
            .predicate_type
            .as_deref()
            .map(|p| format!(" {p}"))
            .unwrap_or_default();
        if c.outcome.verified {
            if !json {
                let who = c
                    .outcome
                    .signer
                    .as_ref()
                    .map(|s| s.sentence())
                    .unwrap_or_default();
                crate::say!(
                    "✓ {}{} {} signed by {}",
                    c.kind,
                    crate::text::sanitize(&label),
                    crate::oci::digest::short(&c.digest),
                    crate::text::sanitize(&who)
                );
            }
        } else {
            for f in &c.outcome.failures {
                crate::warn!(
                    "✗ {}{} {}: {}",
                    c.kind,
                    crate::text::sanitize(&label),
                    crate::oci::digest::short(&c.digest),
                    crate::text::sanitize(f)
                );
            }
        }
    }
    for e in errors {
        crate::warn!("✗ {}", crate::text::sanitize(e));
    }
    if ok {
        Ok(())
    } else if attestations {
        Err(eyre!(super::exit::Failed("no attestation verified")))
    } else {
        Err(eyre!(super::exit::Failed("no signature verified")))
    }
}

/// One signature of an image (or of one of its attestations) and what checking it gave.
#[derive(Debug, serde::Serialize)]
struct Check {
    /// "signature" (`.sig`), "attestation" (`.att`, DSSE referrers) or "bundle".
    kind: &'static str,
    /// The layer (payload, envelope or bundle) digest.
    digest: String,
    predicate_type: Option<String>,
    outcome: CheckOutcome,
}

#[derive(Debug, serde::Serialize)]
struct CheckOutcome {
    verified: bool,
    result: crate::evidence::trust::CheckResult,
    signer: Option<verify::Signer>,
    claimed: Option<String>,
    failures: Vec<String>,
}
