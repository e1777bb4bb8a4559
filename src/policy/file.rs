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
    /// Groups of people, by trusted key name or keyless identity.
    #[serde(default)]
    pub group: Vec<super::groups::Group>,
    /// Per environment, which group approves, promotes and quarantines.
    #[serde(default)]
    pub access: Vec<super::groups::Access>,
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
    /// Approvals an `approvals` rule requires, from `group`; builders a `reproduced` rule
    /// requires (each with its own builder id and its own signer).
    pub count: Option<u32>,
    /// The approving group (default: the environment's `approve` group in `[[access]]`).
    pub group: Option<String>,
    /// Members (key names or keyless subjects) who must be among an `approvals` rule's
    /// approvers.
    #[serde(default)]
    pub required: Vec<String>,
    /// Whether the image's and its provenance's signers are kept from approving it
    /// (separation of duties; default true).
    pub separation: Option<bool>,
    /// `allow`, compiled when the file is parsed.
    #[serde(skip)]
    pub allow_globs: Vec<Glob>,
}

impl Rule {
    /// True when `value` matches one of the rule's `allow` globs.
    pub fn allows(&self, value: &str) -> bool {
        if self.allow_globs.len() == self.allow.len() {
            return self.allow_globs.iter().any(|g| g.matches(value));
        }
        self.allow
            .iter()
            .any(|a| Glob::new(a).is_ok_and(|g| g.matches(value)))
    }
}

/// A validated glob: `*` matches any run of characters (slashes included), `?` one,
/// `[a-z]` a class, `{a,b}` alternatives.
#[derive(Debug, Clone)]
pub struct Glob(globset::GlobMatcher);

impl Glob {
    pub fn new(pattern: &str) -> Result<Glob, String> {
        if pattern.trim().is_empty() {
            return Err("an empty pattern matches nothing".into());
        }
        globset::GlobBuilder::new(pattern)
            .literal_separator(false)
            .build()
            .map(|g| Glob(g.compile_matcher()))
            .map_err(|e| e.kind().to_string())
    }

    pub fn matches(&self, value: &str) -> bool {
        self.0.is_match(value)
    }
}

/// cosign's predicate type shorthands, as `cosign attest --type` maps them; any other value is
/// taken as the URI itself.
pub fn predicate_type(t: &str) -> &str {
    match t {
        "slsaprovenance" | "slsaprovenance02" => "https://slsa.dev/provenance/v0.2",
        "slsaprovenance1" => "https://slsa.dev/provenance/v1",
        "link" => "https://in-toto.io/Link/v1",
        "spdx" | "spdxjson" => "https://spdx.dev/Document",
        "cyclonedx" => "https://cyclonedx.org/bom",
        "vuln" => "https://cosign.sigstore.dev/attestation/vuln/v1",
        "openvex" => "https://openvex.dev/ns",
        "custom" => "https://cosign.sigstore.dev/attestation/v1",
        other => other,
    }
}

/// The environments a policy is checked against when none are configured.
pub const DEFAULT_ENVIRONMENTS: &[&str] = &["dev", "staging", "prod"];

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
    /// `count` independent trusted builders reproduced the digest (SLSA_BUILD_REPRODUCED).
    Reproduced,
}

/// A policy problem, naming the file, the line (when known) and the key.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PolicyError {
    pub path: String,
    pub message: String,
}

impl PolicyFile {
    /// Parses and validates policy text from `path` (used in messages) against the default
    /// environments (dev, staging, prod).
    pub fn parse(text: &str, path: &str) -> Result<PolicyFile, PolicyError> {
        Self::parse_for(text, path, DEFAULT_ENVIRONMENTS)
    }

    /// Parses and validates policy text; every `environments` entry must be one of
    /// `environments` (a misspelt name would silently never apply).
    pub fn parse_for(
        text: &str,
        path: &str,
        environments: &[&str],
    ) -> Result<PolicyFile, PolicyError> {
        let err = |message: String| PolicyError {
            path: path.to_string(),
            message,
        };
        let mut p: PolicyFile =
            toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
        let mut names = std::collections::HashSet::new();
        // Rule names are found in one pass over the lines (linear in the file's size).
        let mut name_lines: std::collections::HashMap<String, usize> = Default::default();
        for (n, l) in text.lines().enumerate() {
            if let Some(v) = l
                .trim_start()
                .strip_prefix("name")
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix('='))
            {
                let v = v.trim().trim_matches('"').to_string();
                name_lines.entry(v).or_insert(n + 1);
            }
        }
        for r in p.rule.iter_mut() {
            let at = name_lines
                .get(&r.name)
                .map(|l| format!("line {l}: "))
                .unwrap_or_default();
            if r.name.trim().is_empty() {
                return Err(err(format!("{at}a rule needs a non-empty `name`")));
            }
            for e in &r.environments {
                if !environments.contains(&e.as_str()) {
                    return Err(err(format!(
                        "{at}rule {:?} environments: {e:?} is not an environment (known: {})",
                        r.name,
                        environments.join(", ")
                    )));
                }
            }
            r.allow_globs.clear();
            for a in &r.allow {
                if r.kind == RuleKind::Ref && a == "semver" {
                    r.allow_globs.push(Glob::new("refs/tags/*").map_err(err)?);
                    continue;
                }
                let g = Glob::new(a)
                    .map_err(|e| err(format!("{at}rule {:?} allow {a:?}: {e}", r.name)))?;
                r.allow_globs.push(g);
            }
            for t in &r.require {
                if t.trim().is_empty() {
                    return Err(err(format!(
                        "{at}rule {:?} require: an empty predicate type",
                        r.name
                    )));
                }
            }
        }
        for r in &p.rule {
            let at = name_lines
                .get(&r.name)
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
                RuleKind::Approvals => {
                    need(
                        r.count.is_some_and(|c| c > 0),
                        "count",
                        "how many approvals (at least 1)",
                    )?;
                    if let Some(g) = &r.group {
                        if !p.group.iter().any(|x| &x.name == g) {
                            return Err(err(format!(
                                "{at}rule {:?} group {g:?} is not defined (add a [[group]])",
                                r.name
                            )));
                        }
                    }
                }
                RuleKind::Reproduced => need(
                    r.count.is_some_and(|c| c > 0),
                    "count",
                    "how many independent builders must have built this digest (at least 1)",
                )?,
                RuleKind::Sbom => {}
            }
        }
        super::groups::check(&mut p.group, &p.access, environments).map_err(err)?;
        for r in p.rule.iter().filter(|r| r.kind == RuleKind::Approvals) {
            if r.group.is_none() {
                for e in environments
                    .iter()
                    .filter(|e| r.environments.is_empty() || r.environments.iter().any(|x| x == *e))
                {
                    if p.approvers_of(e).is_none() {
                        return Err(err(format!(
                            "rule {:?} needs `group`, or an [[access]] entry with `approve` for {e}",
                            r.name
                        )));
                    }
                }
            }
        }
        Ok(p)
    }

    /// A group by name.
    pub fn group_named(&self, name: &str) -> Option<&super::groups::Group> {
        self.group.iter().find(|g| g.name == name)
    }

    fn access_of(&self, env: &str) -> Option<&super::groups::Access> {
        self.access.iter().find(|a| a.environment == env)
    }

    /// Whether a blocking gate may be overridden when promoting into `env`.
    pub fn allows_break_glass(&self, env: &str) -> bool {
        self.access_of(env).is_some_and(|a| a.break_glass)
    }

    /// The group that approves for `env`.
    pub fn approvers_of(&self, env: &str) -> Option<&super::groups::Group> {
        self.access_of(env)
            .and_then(|a| a.approve.as_deref())
            .and_then(|g| self.group_named(g))
    }

    /// The group that may do `action` in `env`.
    pub fn group_for(
        &self,
        action: super::groups::Action,
        env: &str,
    ) -> Option<&super::groups::Group> {
        use super::groups::Action;
        let a = self.access_of(env)?;
        let g = match action {
            Action::Approve => a.approve.as_deref(),
            Action::Promote => a.promote.as_deref(),
            Action::Quarantine => a.quarantine.as_deref(),
        }?;
        self.group_named(g)
    }

    /// Reads and validates a policy file against the default environments.
    pub fn load(path: &std::path::Path) -> Result<PolicyFile, PolicyError> {
        Self::load_for(path, DEFAULT_ENVIRONMENTS)
    }

    /// Reads and validates a policy file against `environments`.
    pub fn load_for(
        path: &std::path::Path,
        environments: &[&str],
    ) -> Result<PolicyFile, PolicyError> {
        let text = crate::oci::files::read_text_file(path).map_err(|e| PolicyError {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::parse_for(&text, &path.display().to_string(), environments)
    }
}
