//! Who may act: groups of identities and, per environment, which group approves, promotes and
//! quarantines. A member is a trusted key by its configured name, or a keyless identity by
//! certificate subject and OIDC issuer (exact or regex). Membership is decided on a *verified*
//! signer only: a record whose signature does not verify has no signer to be a member.

use crate::evidence::Signer;
use crate::verify::Matcher;
use serde::Deserialize;

/// `[[group]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    #[serde(default, rename = "member")]
    pub members: Vec<Member>,
}

/// `[[group.member]]`: `key = "NAME"`, or `subject`/`subject_regexp` with
/// `issuer`/`issuer_regexp`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub key: Option<String>,
    pub subject: Option<String>,
    pub subject_regexp: Option<String>,
    pub issuer: Option<String>,
    pub issuer_regexp: Option<String>,
    /// Compiled when the file is parsed.
    #[serde(skip)]
    matchers: Option<(Matcher, Matcher)>,
}

/// `[[access]]`: which group may do what in one environment.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Access {
    pub environment: String,
    pub approve: Option<String>,
    pub promote: Option<String>,
    pub quarantine: Option<String>,
    /// Break-glass: the promote group may override a blocking gate here (`--override REASON`),
    /// and the reason is recorded and shown wherever the digest is.
    #[serde(default)]
    pub break_glass: bool,
}

/// What a person can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Approve,
    Promote,
    Quarantine,
}

impl Action {
    pub fn word(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Promote => "promote",
            Action::Quarantine => "quarantine",
        }
    }
}

impl Member {
    /// Checks the member's shape and compiles its matchers.
    pub(super) fn compile(&mut self) -> Result<(), String> {
        let keyless = self.subject.is_some()
            || self.subject_regexp.is_some()
            || self.issuer.is_some()
            || self.issuer_regexp.is_some();
        match (&self.key, keyless) {
            (Some(k), false) if !k.trim().is_empty() => return Ok(()),
            (Some(_), false) => return Err("an empty key name".into()),
            (Some(_), true) => {
                return Err("a member is a key or a keyless identity, not both".into())
            }
            (None, false) => return Err("a member needs `key`, or `subject` and `issuer`".into()),
            (None, true) => {}
        }
        let one = |exact: &Option<String>, re: &Option<String>, what: &str| match (exact, re) {
            (Some(e), None) => Ok(Matcher::Exact(e.clone())),
            (None, Some(r)) => Matcher::regex(r).map_err(|e| e.to_string()),
            (Some(_), Some(_)) => Err(format!("`{what}` and `{what}_regexp` together")),
            (None, None) => Err(format!(
                "a keyless member needs `{what}` or `{what}_regexp`"
            )),
        };
        self.matchers = Some((
            one(&self.subject, &self.subject_regexp, "subject")?,
            one(&self.issuer, &self.issuer_regexp, "issuer")?,
        ));
        Ok(())
    }

    /// True when the verified `signer` is this member.
    pub fn is(&self, signer: &Signer) -> bool {
        match (signer, &self.key, &self.matchers) {
            (Signer::Key { name: Some(n), .. }, Some(k), _) => n == k,
            (
                Signer::Keyless {
                    subject, issuer, ..
                },
                None,
                Some((s, i)),
            ) => s.matches(subject) && i.matches(issuer),
            _ => false,
        }
    }

    /// The member in words.
    pub fn describe(&self) -> String {
        if let Some(k) = &self.key {
            return format!("key {k}");
        }
        match &self.matchers {
            Some((s, i)) => format!("{s} (issuer {i})"),
            None => "an unchecked member".into(),
        }
    }
}

impl Group {
    /// True when the verified `signer` is one of the members.
    pub fn has(&self, signer: &Signer) -> bool {
        self.members.iter().any(|m| m.is(signer))
    }
}

/// Validates groups and access entries against each other and the environments.
pub(super) fn check(
    groups: &mut [Group],
    access: &[Access],
    environments: &[&str],
) -> Result<(), String> {
    let mut names = std::collections::HashSet::new();
    for g in groups.iter_mut() {
        if g.name.trim().is_empty() {
            return Err("a group needs a non-empty `name`".into());
        }
        if !names.insert(g.name.clone()) {
            return Err(format!("group name {:?} is used twice", g.name));
        }
        if g.members.is_empty() {
            return Err(format!("group {:?} has no members", g.name));
        }
        for m in g.members.iter_mut() {
            m.compile()
                .map_err(|e| format!("group {:?} member: {e}", g.name))?;
        }
    }
    let mut envs = std::collections::HashSet::new();
    for a in access {
        if !environments.contains(&a.environment.as_str()) {
            return Err(format!(
                "access environment {:?} is not an environment (known: {})",
                a.environment,
                environments.join(", ")
            ));
        }
        if !envs.insert(a.environment.clone()) {
            return Err(format!("access for {:?} is given twice", a.environment));
        }
        for g in [&a.approve, &a.promote, &a.quarantine]
            .into_iter()
            .flatten()
        {
            if !names.contains(g) {
                return Err(format!(
                    "access for {:?} names group {g:?}, which is not defined",
                    a.environment
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Signer {
        Signer::Key {
            fingerprint: "ab".repeat(32),
            name: Some(name.into()),
        }
    }

    #[test]
    fn members_match_verified_signers_only_by_name_or_identity() {
        let mut alice = Member {
            key: Some("alice".into()),
            ..Default::default()
        };
        alice.compile().expect("valid");
        assert!(alice.is(&key("alice")));
        assert!(!alice.is(&key("bob")));
        let unnamed = Signer::Key {
            fingerprint: "ab".repeat(32),
            name: None,
        };
        assert!(!alice.is(&unnamed));
        let mut carol = Member {
            subject_regexp: Some("carol@.*".into()),
            issuer: Some("https://issuer.example".into()),
            ..Default::default()
        };
        carol.compile().expect("valid");
        let keyless = |s: &str, i: &str| Signer::Keyless {
            subject: s.into(),
            issuer: i.into(),
            claims: Box::default(),
            integrated_time: None,
            log_index: None,
        };
        assert!(carol.is(&keyless("carol@example.com", "https://issuer.example")));
        assert!(!carol.is(&keyless("carol@example.com", "https://other.example")));
        assert!(!carol.is(&keyless("mallory carol@x", "https://issuer.example")));
        for bad in [
            Member::default(),
            Member {
                key: Some("a".into()),
                subject: Some("b".into()),
                ..Default::default()
            },
            Member {
                subject: Some("b".into()),
                ..Default::default()
            },
            Member {
                subject: Some("b".into()),
                subject_regexp: Some("b".into()),
                issuer: Some("c".into()),
                ..Default::default()
            },
        ] {
            let mut bad = bad;
            assert!(bad.compile().is_err(), "{bad:?}");
        }
    }
}
