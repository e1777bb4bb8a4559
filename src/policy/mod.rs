//! May it go: the policy file, tiers and rules, and the verdict per environment.

pub mod file;
pub mod groups;
pub mod packages;
pub mod records;
mod rules;
pub mod verdict;
pub mod versions;

pub use file::{PolicyError, PolicyFile, Rule, RuleKind};
pub use verdict::{evaluate, evaluate_policy, Decision, Facts, Finding, Outcome, Verdict};

use crate::config::{Environment, Tier};

/// The demo landscape's policy (also the commented example of the format).
pub const DEMO_POLICY: &str = include_str!("demo.toml");

/// A loaded policy and where it came from.
#[derive(Debug, Clone)]
pub struct Policy {
    pub origin: String,
    pub file: PolicyFile,
}

impl Policy {
    /// The built-in demo policy.
    pub fn demo() -> Policy {
        // The embedded policy is checked by a unit test, so parsing cannot fail here.
        Policy {
            origin: "built-in demo policy".into(),
            file: PolicyFile::parse(DEMO_POLICY, "demo policy").unwrap_or_default(),
        }
    }

    /// No policy file: only the built-in checks.
    pub fn builtin() -> Policy {
        Policy {
            origin: "no policy file (built-in checks only)".into(),
            file: PolicyFile::default(),
        }
    }

    /// A policy file.
    pub fn load(path: &std::path::Path) -> Result<Policy, PolicyError> {
        Ok(Policy {
            origin: path.display().to_string(),
            file: PolicyFile::load(path)?,
        })
    }

    /// What `env` requires, in plain words.
    pub fn explain(&self, env: &Environment) -> String {
        let mut out = format!(
            "{} is a {} environment ({}).\n",
            env.name,
            env.tier,
            tier_words(env.tier)
        );
        out.push_str("Always checked: the image signature, provenance that is verified and describes the digest, and the integrity of every piece of evidence.\n");
        let rules: Vec<&Rule> = self
            .file
            .rule
            .iter()
            .filter(|r| r.environments.is_empty() || r.environments.contains(&env.name))
            .collect();
        if rules.is_empty() {
            out.push_str("No other rule applies.\n");
        }
        for r in rules {
            let what = match r.kind {
                RuleKind::Builder => format!("built by {}", r.allow.join(" or ")),
                RuleKind::Source => format!("built from {}", r.allow.join(" or ")),
                RuleKind::Ref => format!(
                    "built from ref {}",
                    r.allow
                        .iter()
                        .map(|a| if a == "semver" {
                            "a semver release tag (refs/tags/vX.Y.Z)".to_string()
                        } else {
                            a.clone()
                        })
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                RuleKind::Workflow => format!("built by workflow {}", r.allow.join(" or ")),
                RuleKind::Predicates => format!("attested with {}", r.require.join(" and ")),
                RuleKind::Sbom => "an SBOM attached".into(),
                RuleKind::Reproduced => {
                    let mut w = format!(
                        "built to this exact digest by {} independent builder(s): verified provenance naming the digest, each from a different builder id and a different signer",
                        r.count.unwrap_or(0)
                    );
                    if !r.allow.is_empty() {
                        w.push_str(&format!(" (builders {})", r.allow.join(" or ")));
                    }
                    w
                }
                RuleKind::MaxAge => format!("built within the last {} days", r.days.unwrap_or(0)),
                RuleKind::DeniedPackages => format!("no denied package ({})", r.deny.join(", ")),
                RuleKind::Quarantine => {
                    format!("not one of {} quarantined digest(s)", r.digests.len())
                }
                RuleKind::Approvals => {
                    let group = r
                        .group
                        .clone()
                        .or_else(|| self.file.approvers_of(&env.name).map(|g| g.name.clone()))
                        .unwrap_or_default();
                    let mut w = format!(
                        "{} distinct approval(s) from {group}, each the member's latest decision for this digest and environment, not expired; any member's standing rejection blocks",
                        r.count.unwrap_or(0)
                    );
                    if !r.required.is_empty() {
                        w.push_str(&format!("; {} must be among them", r.required.join(", ")));
                    }
                    if r.separation != Some(false) {
                        w.push_str("; whoever signed the image or its provenance does not count");
                    }
                    w
                }
            };
            out.push_str(&format!(
                "- {}: {what}{}\n",
                r.name,
                if r.critical { " [critical]" } else { "" }
            ));
        }
        out.push_str("Standing quarantine records (by a member of the quarantine group) block conditional and required tiers and warn in warn.\n");
        out.push_str(&self.explain_access(&env.name));
        out
    }

    /// Who may approve, promote and quarantine in `env`, and the members of those groups.
    pub fn explain_access(&self, env: &str) -> String {
        use groups::Action;
        let mut out = String::new();
        for action in [Action::Approve, Action::Promote, Action::Quarantine] {
            match self.file.group_for(action, env) {
                Some(g) => out.push_str(&format!(
                    "Who may {}: group {} ({}).\n",
                    action.word(),
                    g.name,
                    g.members
                        .iter()
                        .map(|m| m.describe())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                None => out.push_str(&format!(
                    "Who may {}: nobody (no [[access]] group for {env}).\n",
                    action.word()
                )),
            }
        }
        if self.file.allows_break_glass(env) {
            out.push_str(
                "Break-glass: the promote group may override a blocking gate (`promote --override REASON`); the reason is recorded.\n",
            );
        }
        out
    }
}

/// The tier's meaning, for explanations.
pub fn tier_words(t: Tier) -> &'static str {
    match t {
        Tier::Warn => "every check is shown; nothing blocks",
        Tier::Conditional => {
            "blocks on failing evidence and critical rules; missing evidence warns"
        }
        Tier::Required => {
            "needs verified signature and provenance meeting every rule; anything else blocks"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_policy_parses() {
        let p = PolicyFile::parse(DEMO_POLICY, "demo").expect("demo policy");
        assert!(p.rule.len() >= 9);
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_key() {
        let e = PolicyFile::parse("[[rule]]\nname = \"w\"\nkind = \"workflow\"\n", "p.toml")
            .expect_err("needs allow");
        let m = e.to_string();
        assert!(
            m.contains("p.toml") && m.contains("line 2") && m.contains("allow"),
            "{m}"
        );
        let e = PolicyFile::parse("[[rule]]\nname = \"x\"\nkind = \"colour\"\n", "p.toml")
            .expect_err("bad kind");
        assert!(
            e.to_string().contains("colour") && e.to_string().contains("line 3"),
            "{e}"
        );
        let e = PolicyFile::parse(
            "[[rule]]\nname = \"q\"\nkind = \"quarantine\"\ndigests = [\"sha256:nope\"]\n",
            "p.toml",
        )
        .expect_err("digest");
        assert!(e.to_string().contains("sha256:nope"));
    }
}
