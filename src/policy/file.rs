//! The policy file: trust, and rules scoped to environments. TOML, validated with the file, the
//! line and the key named in every error.

use serde::Deserialize;

/// A whole policy file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Who may vouch: the same format as `provost.toml`'s `[trust]`.
    #[serde(default)]
    pub trust: crate::config::TrustEntry,
    #[serde(default)]
    pub rule: Vec<Rule>,
}

/// One rule. `kind` picks what it checks; the other keys are its parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    pub kind: RuleKind,
    /// Environments the rule applies to (default: all).
    #[serde(default)]
    pub environments: Vec<String>,
    /// A critical rule blocks a conditional tier when it fails.
    #[serde(default)]
    pub critical: bool,
    /// Allowed values (globs) for builder, source, ref and workflow rules; `semver` in a ref
    /// rule accepts tags `refs/tags/vMAJOR.MINOR.PATCH[-pre]`.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Predicate types a `predicates` rule requires.
    #[serde(default)]
    pub require: Vec<String>,
    /// Days since the build for a `max-age` rule.
    pub days: Option<u32>,
    /// Packages a `denied-packages` rule refuses: a name or purl, optionally with a version
    /// range (`lodash <4.17.21`, `pkg:npm/left-pad`, `log4j-core >=2.0.0 <2.17.1`).
    #[serde(default)]
    pub deny: Vec<String>,
    /// Digests a `quarantine` rule blocks.
    #[serde(default)]
    pub digests: Vec<String>,
    /// Approvals a `approvals` rule requires, from `group`.
    pub count: Option<u32>,
    pub group: Option<String>,
}

/// What a rule checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleKind {
    Builder,
    Source,
    Ref,
    Workflow,
    Predicates,
    Sbom,
    MaxAge,
    DeniedPackages,
    Quarantine,
    Approvals,
}

/// A policy problem, naming the file, the line (when known) and the key.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PolicyError {
    pub path: String,
    pub message: String,
}

fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

impl PolicyFile {
    /// Parses and validates policy text from `path` (used in messages).
    pub fn parse(text: &str, path: &str) -> Result<PolicyFile, PolicyError> {
        let err = |message: String| PolicyError {
            path: path.to_string(),
            message,
        };
        let p: PolicyFile =
            toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
        let mut names = std::collections::HashSet::new();
        for r in &p.rule {
            let at = line_of(text, &format!("\"{}\"", r.name))
                .map(|l| format!("line {l}: "))
                .unwrap_or_default();
            if !names.insert(r.name.clone()) {
                return Err(err(format!("{at}rule name {:?} is used twice", r.name)));
            }
            let need = |ok: bool, key: &str, what: &str| {
                if ok {
                    Ok(())
                } else {
                    Err(err(format!(
                        "{at}rule {:?} ({:?}) needs `{key}`: {what}",
                        r.name, r.kind
                    )))
                }
            };
            match r.kind {
                RuleKind::Builder | RuleKind::Source | RuleKind::Ref | RuleKind::Workflow => {
                    need(!r.allow.is_empty(), "allow", "the allowed values")?
                }
                RuleKind::Predicates => {
                    need(!r.require.is_empty(), "require", "the predicate types")?
                }
                RuleKind::MaxAge => need(r.days.is_some(), "days", "the maximum age in days")?,
                RuleKind::DeniedPackages => {
                    need(!r.deny.is_empty(), "deny", "the packages")?;
                    for d in &r.deny {
                        super::packages::Denial::parse(d)
                            .map_err(|e| err(format!("{at}rule {:?} deny {d:?}: {e}", r.name)))?;
                    }
                }
                RuleKind::Quarantine => {
                    for d in &r.digests {
                        if !crate::oci::digest::is_valid(d) {
                            return Err(err(format!(
                                "{at}rule {:?} digests: {d:?} is not sha256:<64 hex digits>",
                                r.name
                            )));
                        }
                    }
                }
                RuleKind::Approvals => need(r.count.is_some(), "count", "how many approvals")?,
                RuleKind::Sbom => {}
            }
        }
        Ok(p)
    }

    /// Reads and validates a policy file.
    pub fn load(path: &std::path::Path) -> Result<PolicyFile, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }
}
