//! Who vouches for a digest: Sigstore bundles (keyless and managed-key) verified offline
//! against a pinned trusted root, with `sigstore-verify` doing the X.509 chain, SCT,
//! transparency-log (Rekor v1 and v2) and RFC 3161 checks. provost adds the identity policy
//! (exact or regex, for identity and issuer) and turns the proof into a `Signer` in words.
//!
//! Every check fails closed: anything that cannot be parsed or proven is a failure, and every
//! failed check is reported, not only the first.

mod error;
pub mod keys;
mod layer;
pub mod oci;

use regex::Regex;
use serde::Serialize;
use sigstore_verify::trust_root::{
    TrustedRoot, SIGSTORE_PRODUCTION_TRUSTED_ROOT, SIGSTORE_STAGING_TRUSTED_ROOT,
};
use sigstore_verify::types::{Artifact, ArtifactDigest, Bundle, DerPublicKey, HashAlgorithm};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

/// When a key's signatures count: signatures made (by a trusted timestamp) between `not_before`
/// and `not_after`. A signature with no trusted timestamp counts only while the key is valid
/// now, since nothing proves when it was made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyWindow {
    pub not_before: Option<chrono::DateTime<chrono::Utc>>,
    pub not_after: Option<chrono::DateTime<chrono::Utc>>,
}

impl KeyWindow {
    fn contains(&self, t: chrono::DateTime<chrono::Utc>) -> bool {
        self.not_before.is_none_or(|b| t >= b) && self.not_after.is_none_or(|a| t <= a)
    }

    fn describe(&self) -> String {
        let f = |t: &chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
        match (&self.not_before, &self.not_after) {
            (Some(b), Some(a)) => format!("{} to {}", f(b), f(a)),
            (Some(b), None) => format!("from {}", f(b)),
            (None, Some(a)) => format!("until {}", f(a)),
            (None, None) => "always".into(),
        }
    }

    /// Whether a signature verified with this key counts, given the trusted times at which it
    /// was proven to exist (RFC 3161 timestamps, Rekor integrated times); every such time must
    /// fall inside the window, and without one the key must be valid now.
    pub fn admits(
        &self,
        name: &str,
        times: &[chrono::DateTime<chrono::Utc>],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), String> {
        if *self == KeyWindow::default() {
            return Ok(());
        }
        if times.is_empty() {
            return if self.contains(now) {
                Ok(())
            } else {
                Err(format!(
                    "key {name} is valid {} and this signature carries no trusted timestamp \
                     proving it was made inside that window",
                    self.describe()
                ))
            };
        }
        match times.iter().find(|t| !self.contains(**t)) {
            None => Ok(()),
            Some(t) => Err(format!(
                "signed at {} (trusted timestamp), outside key {name}'s validity window ({})",
                t.format("%Y-%m-%d %H:%M:%S UTC"),
                self.describe()
            )),
        }
    }
}

/// How an identity or issuer is matched.
#[derive(Debug, Clone)]
pub enum Matcher {
    Exact(String),
    Regex(Regex),
}

impl Matcher {
    /// A regex matcher; the pattern is anchored so it must match the whole value.
    pub fn regex(pattern: &str) -> Result<Matcher, VerifyError> {
        // Bounded: a pattern from a file may not compile into an unbounded automaton.
        regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
            .size_limit(1 << 20)
            .nest_limit(64)
            .build()
            .map(Matcher::Regex)
            .map_err(|e| VerifyError::Pattern {
                pattern: pattern.to_string(),
                reason: e.to_string(),
            })
    }

    pub fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(s) => s == value,
            Matcher::Regex(r) => r.is_match(value),
        }
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Matcher::Exact(s) => write!(f, "{s}"),
            Matcher::Regex(r) => write!(
                f,
                "/{}/",
                r.as_str().trim_start_matches("^(?:").trim_end_matches(")$")
            ),
        }
    }
}

/// What a signature must be traced to.
#[derive(Debug, Clone)]
pub enum Trust {
    /// A public key (PEM SPKI, as `cosign.pub`), with an optional configured name and the
    /// window in which its signatures count.
    Key {
        pem: String,
        name: Option<String>,
        window: KeyWindow,
    },
    /// A keyless identity: certificate SAN and OIDC issuer.
    Identity { identity: Matcher, issuer: Matcher },
}

/// The thing signed: its bytes, or its `sha256:` digest.
#[derive(Debug, Clone)]
pub enum Subject {
    Bytes(Vec<u8>),
    Digest(String),
}

/// Which trusted root to verify against.
#[derive(Debug, Clone)]
pub enum Root {
    Production,
    Staging,
    File(std::path::PathBuf),
}

impl Root {
    /// Loads the root: the public-good roots ship inside the binary, so no network is needed.
    pub fn load(&self) -> Result<TrustedRoot, VerifyError> {
        self.load_text().map_err(VerifyError::TrustedRoot)
    }

    fn load_text(&self) -> Result<TrustedRoot, String> {
        match self {
            Root::Production => {
                TrustedRoot::from_json(SIGSTORE_PRODUCTION_TRUSTED_ROOT).map_err(|e| e.to_string())
            }
            Root::Staging => {
                TrustedRoot::from_json(SIGSTORE_STAGING_TRUSTED_ROOT).map_err(|e| e.to_string())
            }
            Root::File(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read trusted root {}: {e}", p.display()))?;
                TrustedRoot::from_json(&text)
                    .map_err(|e| format!("trusted root {}: {e}", p.display()))
            }
        }
    }
}

/// A trusted root loaded on first use, so commands that never verify keyless signatures do not
/// pay for parsing it.
#[derive(Debug)]
pub struct LazyRoot {
    spec: Root,
    cell: std::sync::OnceLock<Result<TrustedRoot, VerifyError>>,
}

impl LazyRoot {
    pub fn new(spec: Root) -> LazyRoot {
        LazyRoot {
            spec,
            cell: std::sync::OnceLock::new(),
        }
    }

    /// The root, loading it the first time.
    pub fn get(&self) -> Result<&TrustedRoot, VerifyError> {
        self.cell
            .get_or_init(|| self.spec.load())
            .as_ref()
            .map_err(|e| e.clone())
    }
}

pub use crate::evidence::trust::{Claims, Signer, TimeProof};
pub use error::VerifyError;

/// The result of one verification: proven or not, by whom, and every failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub verified: bool,
    pub signer: Option<Signer>,
    pub failures: Vec<String>,
    /// How the signature's time was proven, when it verified.
    pub time: TimeProof,
    /// The failure is structural (malformed, bound to another digest, no signature at all),
    /// not a question of who signed.
    #[serde(skip)]
    pub invalid: bool,
    /// Who the signature says made it, unproven (a key id or public-key hint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed: Option<String>,
}

impl Outcome {
    pub(crate) fn failed(failures: Vec<String>) -> Outcome {
        Outcome {
            verified: false,
            signer: None,
            failures,
            time: TimeProof::Unproven,
            invalid: false,
            claimed: None,
        }
    }

    /// A structural failure: nothing about this signature can count.
    pub(crate) fn invalid(failure: String) -> Outcome {
        Outcome {
            invalid: true,
            ..Outcome::failed(vec![failure])
        }
    }

    /// A verified signature.
    pub(crate) fn proven(signer: Signer, time: TimeProof) -> Outcome {
        Outcome {
            verified: true,
            signer: Some(signer),
            failures: vec![],
            time,
            invalid: false,
            claimed: None,
        }
    }

    /// The outcome as a typed check for the evidence item it belongs to.
    pub fn to_check(&self) -> crate::evidence::trust::SignatureCheck {
        use crate::evidence::trust::SignatureCheck;
        match (&self.signer, self.verified) {
            (Some(s), true) => SignatureCheck::verified(s.clone(), self.time.clone()),
            (signer, _) if self.invalid => SignatureCheck {
                signer: signer.clone(),
                ..SignatureCheck::invalid(self.failures.join("; "))
            },
            (signer, _) => SignatureCheck {
                claimed: self.claimed.clone(),
                ..SignatureCheck::untrusted(signer.clone(), self.failures.clone())
            },
        }
    }
}

/// SHA-256 of a DER SPKI, hex: the fingerprint provost shows for keys.
pub fn key_fingerprint(der: &[u8]) -> String {
    crate::oci::digest::sha256(der)
        .trim_start_matches("sha256:")
        .to_string()
}

fn artifact_of(subject: &Subject) -> Result<Artifact<'_>, String> {
    match subject {
        Subject::Bytes(b) => Ok(Artifact::from_blob(b)),
        Subject::Digest(d) => {
            let hex = crate::oci::digest::hex_part(d)
                .ok_or_else(|| format!("{d:?} is not sha256: followed by 64 hex digits"))?;
            let bytes = hex::decode(hex).map_err(|e| e.to_string())?;
            ArtifactDigest::new(HashAlgorithm::Sha2256, bytes)
                .map(Artifact::Digest)
                .map_err(|e| e.to_string())
        }
    }
}

/// Verifies a Sigstore bundle (JSON) over `subject` against `trust` and `root`.
pub fn verify_bundle(
    bundle_json: &str,
    subject: &Subject,
    trust: &Trust,
    root: &TrustedRoot,
) -> Outcome {
    let bundle = match Bundle::from_json(bundle_json) {
        Ok(b) => b,
        Err(e) => return Outcome::invalid(format!("malformed bundle: {e}")),
    };
    verify_parsed(&bundle, subject, trust, root)
}

/// `verify_bundle` for an already-parsed bundle.
pub fn verify_parsed(
    bundle: &Bundle,
    subject: &Subject,
    trust: &Trust,
    root: &TrustedRoot,
) -> Outcome {
    let artifact = match artifact_of(subject) {
        Ok(a) => a,
        Err(e) => return Outcome::failed(vec![e]),
    };
    let verifier = match Verifier::new(root) {
        Ok(v) => v,
        Err(e) => return Outcome::failed(vec![format!("unusable trusted root: {e}")]),
    };
    match trust {
        Trust::Key { pem, name, window } => {
            let key = match DerPublicKey::from_pem(pem) {
                Ok(k) => k,
                Err(e) => return Outcome::failed(vec![format!("unusable public key: {e}")]),
            };
            let fingerprint = key_fingerprint(key.as_bytes());
            // A managed key is its own trust anchor: a key-signed bundle with no log entries
            // (what `provost sign --bundle` writes, and cosign with --tlog-upload=false) is
            // accepted as a keyed cosign signature is; log entries that are present must verify.
            let policy = if bundle.verification_material.tlog_entries.is_empty() {
                PublicKeyVerificationPolicy::new(key).skip_tlog_unsafe()
            } else {
                PublicKeyVerificationPolicy::new(key)
            };
            match verifier.verify(artifact, bundle, &policy) {
                Ok(result) => {
                    let times: Vec<_> = result
                        .verified_timestamps()
                        .iter()
                        .filter_map(|t| {
                            chrono::DateTime::from_timestamp(
                                t.as_second(),
                                t.subsec_nanosecond().max(0) as u32,
                            )
                        })
                        .collect();
                    let label = name
                        .clone()
                        .unwrap_or_else(|| fingerprint.chars().take(16).collect());
                    let signer = Signer::Key {
                        fingerprint,
                        name: name.clone(),
                    };
                    let time = times
                        .first()
                        .map(|t| {
                            TimeProof::Timestamp(t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                        })
                        .unwrap_or(TimeProof::Unproven);
                    match window.admits(&label, &times, chrono::Utc::now()) {
                        Ok(()) => Outcome::proven(signer, time),
                        Err(e) => Outcome {
                            signer: Some(signer),
                            ..Outcome::failed(vec![e])
                        },
                    }
                }
                Err(e) => Outcome::failed(vec![e.to_string()]),
            }
        }
        Trust::Identity { identity, issuer } => {
            // The crate proves the chain, SCT, log entry and signature for any identity; the
            // identity policy (exact or regex) is then checked on the proven certificate.
            let result =
                match verifier.verify(artifact, bundle, &VerificationPolicy::any_identity()) {
                    Ok(r) => r,
                    Err(e) => return Outcome::failed(vec![e.to_string()]),
                };
            let subject_name = result
                .identity()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            let issuer_name = result.issuer().map(str::to_string).unwrap_or_default();
            let mut failures = vec![];
            if !identity.matches(&subject_name) {
                failures.push(format!(
                    "certificate identity {subject_name:?} does not match {identity}"
                ));
            }
            if !issuer.matches(&issuer_name) {
                failures.push(format!(
                    "OIDC issuer {issuer_name:?} does not match {issuer}"
                ));
            }
            let ci = result
                .certificate()
                .map(|c| c.ci_claims.clone())
                .unwrap_or_default();
            let signer = Signer::Keyless {
                subject: subject_name,
                issuer: issuer_name,
                claims: Box::new(Claims {
                    build_signer_uri: ci.build_signer_uri,
                    source_repository_uri: ci.source_repository_uri,
                    source_repository_digest: ci.source_repository_digest,
                    source_repository_ref: ci.source_repository_ref,
                    build_trigger: ci.build_trigger,
                    run_invocation_uri: ci.run_invocation_uri,
                    runner_environment: ci.runner_environment,
                }),
                integrated_time: result
                    .integrated_time()
                    .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string()),
                log_index: log_index(bundle),
            };
            let time = match (
                result.integrated_time(),
                result.verified_timestamps().first(),
            ) {
                (Some(t), _) => {
                    TimeProof::TransparencyLog(t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
                }
                (None, Some(t)) => {
                    TimeProof::Timestamp(t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
                }
                (None, None) => TimeProof::Unproven,
            };
            Outcome {
                verified: failures.is_empty(),
                signer: Some(signer),
                failures,
                time,
                invalid: false,
                claimed: None,
            }
        }
    }
}

fn log_index(bundle: &Bundle) -> Option<String> {
    let v = serde_json::to_value(bundle).ok()?;
    let e = v["verificationMaterial"]["tlogEntries"].get(0)?;
    e["logIndex"]
        .as_str()
        .map(str::to_string)
        .or_else(|| e["logIndex"].as_i64().map(|i| i.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_matchers_are_anchored() {
        let m = Matcher::regex("https://github.com/acme/.*").expect("regex");
        assert!(m.matches("https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1"));
        assert!(!m.matches("evil https://github.com/acme/x"));
        assert!(Matcher::regex("(").is_err());
        // A pattern whose automaton would be huge is refused, not compiled.
        assert!(Matcher::regex("(?:a{1000}){1000}").is_err());
    }

    #[test]
    fn embedded_roots_load() {
        assert!(Root::Production.load().is_ok());
        assert!(Root::Staging.load().is_ok());
    }
}
