//! What checking an item's signatures gave, as types: each signature judged on its own
//! (verified with a structured signer, untrusted with who did sign, invalid with why), and the
//! item's state derived from them. Policy reads these types; nothing parses display strings.

use serde::Serialize;

/// Workflow claims a Fulcio certificate carries (OIDs 1.3.6.1.4.1.57264.1.*).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Claims {
    pub build_signer_uri: Option<String>,
    pub source_repository_uri: Option<String>,
    pub source_repository_digest: Option<String>,
    pub source_repository_ref: Option<String>,
    pub build_trigger: Option<String>,
    pub run_invocation_uri: Option<String>,
    pub runner_environment: Option<String>,
}

/// Who signed, once the signature is proven.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Signer {
    Key {
        fingerprint: String,
        name: Option<String>,
    },
    Keyless {
        subject: String,
        issuer: String,
        claims: Box<Claims>,
        integrated_time: Option<String>,
        log_index: Option<String>,
    },
}

fn head(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

impl Signer {
    /// The signer in plain words.
    pub fn sentence(&self) -> String {
        match self {
            Signer::Key { fingerprint, name } => match name {
                Some(n) => format!("key {n} ({})", head(fingerprint, 16)),
                None => format!("key {}", head(fingerprint, 16)),
            },
            Signer::Keyless {
                subject,
                issuer,
                integrated_time,
                log_index,
                ..
            } => {
                let issuer_host = issuer.trim_start_matches("https://");
                let who = if let Some(rest) = subject.strip_prefix("https://github.com/") {
                    format!("GitHub Actions workflow {rest}")
                } else {
                    subject.clone()
                };
                let mut s = format!("{who}, issuer {issuer_host}");
                match (log_index, integrated_time) {
                    (Some(i), Some(t)) => s.push_str(&format!(", Rekor entry {i} at {t}")),
                    (None, Some(t)) => s.push_str(&format!(", logged at {t}")),
                    _ => {}
                }
                s
            }
        }
    }

    /// A stable identity for counting distinct signers: the key fingerprint, or issuer and
    /// subject of a keyless certificate.
    pub fn identity(&self) -> String {
        match self {
            Signer::Key { fingerprint, .. } => format!("key:{fingerprint}"),
            Signer::Keyless {
                subject, issuer, ..
            } => format!("keyless:{issuer}|{subject}"),
        }
    }
}

/// How the time of a signature was proven.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", content = "at", rename_all = "kebab-case")]
pub enum TimeProof {
    /// Nothing proves when it was made: the key had to be valid now.
    Unproven,
    /// An RFC 3161 timestamp from a trusted authority.
    Timestamp(String),
    /// A transparency log's integrated time.
    TransparencyLog(String),
}

/// The result of checking one signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckResult {
    /// A trusted key or identity made it.
    Verified,
    /// The signature is well formed but no trusted key or identity made it (or the key's
    /// window does not admit it).
    Untrusted,
    /// It cannot be checked at all or is bound to something else: malformed, copied from
    /// another digest, unreadable.
    Invalid,
}

/// One signature and what checking it gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureCheck {
    pub result: CheckResult,
    /// Who signed: for a verified signature the trusted signer; for an untrusted one, the
    /// proven identity when there is one (a keyless certificate that chains to the root).
    pub signer: Option<Signer>,
    /// What the signature claims about its signer without proof (a key id or public-key
    /// hint), for reviewers.
    pub claimed: Option<String>,
    pub time: TimeProof,
    /// Every failed check, in words.
    pub reasons: Vec<String>,
}

impl SignatureCheck {
    /// A verified signature.
    pub fn verified(signer: Signer, time: TimeProof) -> SignatureCheck {
        SignatureCheck {
            result: CheckResult::Verified,
            signer: Some(signer),
            claimed: None,
            time,
            reasons: vec![],
        }
    }

    /// A signature nobody trusted made (`signer` when the identity is still proven).
    pub fn untrusted(signer: Option<Signer>, reasons: Vec<String>) -> SignatureCheck {
        SignatureCheck {
            result: CheckResult::Untrusted,
            signer,
            claimed: None,
            time: TimeProof::Unproven,
            reasons,
        }
    }

    /// A signature that cannot count for anything.
    pub fn invalid(reason: impl Into<String>) -> SignatureCheck {
        SignatureCheck {
            result: CheckResult::Invalid,
            signer: None,
            claimed: None,
            time: TimeProof::Unproven,
            reasons: vec![reason.into()],
        }
    }

    /// The check in words.
    pub fn sentence(&self) -> String {
        match self.result {
            CheckResult::Verified => self
                .signer
                .as_ref()
                .map(Signer::sentence)
                .unwrap_or_default(),
            CheckResult::Untrusted => {
                let who = match (&self.signer, &self.claimed) {
                    (Some(s), _) => format!("signed by {} (not trusted)", s.sentence()),
                    (None, Some(c)) => format!("signed by {c} (not trusted)"),
                    (None, None) => "signed by a key or identity that is not trusted".into(),
                };
                match self.reasons.first() {
                    Some(r) => format!("{who}: {r}"),
                    None => who,
                }
            }
            CheckResult::Invalid => self
                .reasons
                .first()
                .cloned()
                .unwrap_or_else(|| "invalid signature".into()),
        }
    }
}

/// The state of an item as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// At least one signature was made by a trusted key or identity.
    Verified,
    /// Signed, but by nobody trusted.
    Untrusted,
    /// Signed, and no signature could count (malformed, bound elsewhere, unreadable).
    Invalid,
    /// Nothing signs it.
    Unsigned,
    /// Signatures were not checked (a local file read without trust).
    Unchecked,
}

/// Every signature of one evidence item, each judged on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub state: State,
    pub signatures: Vec<SignatureCheck>,
}

impl Default for Verification {
    fn default() -> Self {
        Verification::unchecked()
    }
}

impl Verification {
    /// Not checked.
    pub fn unchecked() -> Verification {
        Verification {
            state: State::Unchecked,
            signatures: vec![],
        }
    }

    /// Nothing signs it.
    pub fn unsigned() -> Verification {
        Verification {
            state: State::Unsigned,
            signatures: vec![],
        }
    }

    /// The item's state from its signatures: verified when any is, else untrusted when any is,
    /// else invalid; unsigned without signatures.
    pub fn from_checks(signatures: Vec<SignatureCheck>) -> Verification {
        let has = |r: CheckResult| signatures.iter().any(|c| c.result == r);
        let state = if signatures.is_empty() {
            State::Unsigned
        } else if has(CheckResult::Verified) {
            State::Verified
        } else if has(CheckResult::Untrusted) {
            State::Untrusted
        } else {
            State::Invalid
        };
        Verification { state, signatures }
    }

    pub fn is_verified(&self) -> bool {
        self.state == State::Verified
    }

    /// Signed but failing: what a conditional tier blocks on.
    pub fn fails(&self) -> bool {
        matches!(self.state, State::Untrusted | State::Invalid)
    }

    /// The trusted signers, one per verified signature.
    pub fn verified_signers(&self) -> Vec<&Signer> {
        self.signatures
            .iter()
            .filter(|c| c.result == CheckResult::Verified)
            .filter_map(|c| c.signer.as_ref())
            .collect()
    }

    /// The signatures that did not verify.
    pub fn failed(&self) -> Vec<&SignatureCheck> {
        self.signatures
            .iter()
            .filter(|c| c.result != CheckResult::Verified)
            .collect()
    }

    /// The state with its mark, for lists: `✓ who`, `✗ why`, `· unsigned`, `? unverified`.
    pub fn cell(&self) -> String {
        match self.state {
            State::Verified => {
                let mut who: Vec<String> = self
                    .verified_signers()
                    .iter()
                    .map(|s| s.sentence())
                    .collect();
                who.dedup();
                format!("✓ {}", who.join("; "))
            }
            State::Untrusted | State::Invalid => format!(
                "✗ {}",
                self.signatures
                    .first()
                    .map(SignatureCheck::sentence)
                    .unwrap_or_default()
            ),
            State::Unsigned => "· unsigned".into(),
            State::Unchecked => "? unverified".into(),
        }
    }
}

/// One evidence layer, handed to a verifier while discovery reads it.
pub struct Layer<'a> {
    pub blob: &'a [u8],
    /// The media type it was decoded as.
    pub media_type: &'a str,
    pub annotations: &'a std::collections::BTreeMap<String, String>,
    /// The digest its signatures must be bound to.
    pub target: &'a str,
}

/// Checks the signatures of one layer. Implemented by `verify` (trusted keys, identities and
/// the trusted root), so discovery and verification are one walk over the evidence.
pub trait LayerVerifier: Sync {
    /// One check per signature the layer carries; empty when it carries none.
    fn check(&self, layer: &Layer<'_>) -> Vec<SignatureCheck>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: &str) -> Signer {
        Signer::Key {
            fingerprint: "ab".repeat(32),
            name: Some(n.into()),
        }
    }

    #[test]
    fn one_trusted_signature_among_others_verifies_and_each_is_kept() {
        let v = Verification::from_checks(vec![
            SignatureCheck::untrusted(None, vec!["not signed by trusted key new".into()]),
            SignatureCheck::verified(key("old"), TimeProof::Unproven),
        ]);
        assert_eq!(v.state, State::Verified);
        assert_eq!(v.signatures.len(), 2);
        assert_eq!(v.verified_signers().len(), 1);
        assert_eq!(v.failed().len(), 1);
    }

    #[test]
    fn states_without_a_trusted_signature() {
        assert_eq!(Verification::from_checks(vec![]).state, State::Unsigned);
        let v = Verification::from_checks(vec![SignatureCheck::invalid("copied")]);
        assert_eq!(v.state, State::Invalid);
        assert!(v.fails());
        assert!(v.cell().starts_with('✗'));
        let v = Verification::from_checks(vec![
            SignatureCheck::invalid("copied"),
            SignatureCheck::untrusted(Some(key("x")), vec![]),
        ]);
        assert_eq!(v.state, State::Untrusted);
    }

    #[test]
    fn short_or_multibyte_fingerprints_never_panic() {
        let s = Signer::Key {
            fingerprint: "é".into(),
            name: None,
        };
        assert_eq!(s.sentence(), "key é");
    }
}
