//! The `provost.toml` file format.

use super::ConfigError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How strongly an environment gates (see DESIGN.md "Tiers").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Every rule is shown; nothing blocks.
    Warn,
    /// Failing evidence and critical rules block; missing evidence warns.
    Conditional,
    /// Fails closed: verified signature and provenance required.
    Required,
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Tier::Warn => "warn",
            Tier::Conditional => "conditional",
            Tier::Required => "required",
        })
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub theme: Option<String>,
    pub timeout_secs: Option<u64>,
    /// The overall bound of a headless command (default 60 × `timeout_secs`).
    pub command_timeout_secs: Option<u64>,
    /// Include the embedded demo store (default true).
    pub demo: Option<bool>,
    /// The policy file every gate and view applies (relative to this file).
    pub policy: Option<String>,
    /// The repository, in each source, that holds the audit chains (default `provost-audit`).
    pub audit_repository: Option<String>,
    /// Refuse every write (records, signatures) from the console and the CLI.
    pub read_only: Option<bool>,
    /// The private key records are signed with when no `--key` is given (cosign key format).
    pub signing_key: Option<String>,
    /// An RFC 3161 timestamp authority that countersigns every record.
    pub timestamp_server: Option<String>,
    /// The Fulcio instance keyless records are certified by.
    pub fulcio_url: Option<String>,
    /// The Rekor log every record is also entered in.
    pub rekor_url: Option<String>,
    #[serde(default)]
    pub registry: Vec<RegistryEntry>,
    #[serde(default)]
    pub store: Vec<StoreEntry>,
    #[serde(default)]
    pub environment: Vec<EnvironmentEntry>,
    #[serde(default)]
    pub trust: TrustEntry,
    /// `[ledger]`: where every decision about a digest is written and read.
    pub ledger: Option<LedgerEntry>,
}

/// `[ledger]`: the source (and repository) whose audit chains hold every approval,
/// quarantine, promotion and rollback, whichever registry holds the digest's copies.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerEntry {
    /// A configured registry or store name (default: the first environment's source).
    pub source: Option<String>,
    /// The repository in it (default: `audit_repository`).
    pub repository: Option<String>,
}

/// `[trust]`: who may vouch for a digest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustEntry {
    /// A trusted_root.json for keyless verification (default: Sigstore public good).
    pub trusted_root: Option<String>,
    #[serde(default)]
    pub key: Vec<TrustKey>,
    #[serde(default)]
    pub identity: Vec<TrustIdentity>,
}

/// `[[trust.key]]`: a named public key with an optional validity window, or revoked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustKey {
    pub name: String,
    pub path: String,
    /// RFC 3339. With `not_after`: signatures count when a trusted timestamp proves they were
    /// made inside the window; without a timestamp, only while the key is valid now.
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    #[serde(default)]
    pub revoked: bool,
}

/// `[[trust.identity]]`: a keyless identity, exact or regex.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustIdentity {
    pub subject: Option<String>,
    pub subject_regexp: Option<String>,
    pub issuer: Option<String>,
    pub issuer_regexp: Option<String>,
}

/// `[[registry]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryEntry {
    pub name: Option<String>,
    pub host: String,
    #[serde(default)]
    pub insecure: bool,
}

/// `[[store]]`: an OCI image layout directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreEntry {
    pub name: String,
    pub path: String,
}

/// `[[environment]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentEntry {
    pub name: String,
    pub tier: Tier,
    pub source: String,
    pub repository: Option<String>,
    pub tag: Option<String>,
    /// The environment digests are promoted from into this one.
    pub promotes_from: Option<String>,
    /// Where its workloads run: `{ docker = "unix:///run/podman/podman.sock" }` or
    /// `{ kubernetes = { context = "prod", namespaces = ["shop"] } }`.
    pub runtime: Option<RuntimeEntry>,
}

/// `runtime = { … }` of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum RuntimeEntry {
    /// A Docker Engine API endpoint: `unix:///PATH` (docker's or podman's socket) or
    /// `http://HOST:PORT`.
    Docker(String),
    /// A Kubernetes cluster, read with `kubectl get pods -o json`.
    Kubernetes(KubernetesEntry),
}

/// `runtime = { kubernetes = { … } }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesEntry {
    /// The kubeconfig context (default: kubectl's current one).
    pub context: Option<String>,
    /// Only these namespaces (default: all).
    #[serde(default)]
    pub namespaces: Vec<String>,
}

impl ConfigFile {
    /// Reads and parses a file; syntax errors carry the line, column and offending text.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = crate::oci::files::read_text_file(path).map_err(|e| match e {
            crate::oci::files::FileError::Io(source) => ConfigError::Read {
                path: path.display().to_string(),
                source,
            },
            other => ConfigError::Parse {
                path: path.display().to_string(),
                message: other.to_string(),
            },
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses text that came from `path` (used in messages).
    pub fn parse(text: &str, path: &str) -> Result<ConfigFile, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_string(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    /// Checks values the format alone cannot: names, hosts, timeouts, duplicates.
    pub fn validate(&self, path: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, value: &str, reason: &str| ConfigError::Invalid {
            path: path.to_string(),
            key: key.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        };
        if let Some(t) = self.timeout_secs {
            if t == 0 || t > 600 {
                return Err(invalid(
                    "timeout_secs",
                    &t.to_string(),
                    "must be between 1 and 600",
                ));
            }
        }
        if let Some(t) = self.command_timeout_secs {
            if t == 0 || t > 86_400 {
                return Err(invalid(
                    "command_timeout_secs",
                    &t.to_string(),
                    "must be between 1 and 86400",
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        names.insert(super::DEMO_SOURCE.to_string());
        names.insert(super::STORE_SOURCE.to_string());
        for r in &self.registry {
            let host_ok = !r.host.is_empty()
                && !r.host.contains("://")
                && !r.host.contains('/')
                && r.host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
            if !host_ok {
                return Err(invalid(
                    "registry.host",
                    &r.host,
                    "expected HOST or HOST:PORT without a scheme or path (mark plain-HTTP registries with insecure = true)",
                ));
            }
            let name = r.name.clone().unwrap_or_else(|| r.host.clone());
            if !names.insert(name.clone()) {
                return Err(invalid(
                    "registry.name",
                    &name,
                    "the name is already used by another source",
                ));
            }
        }
        for s in &self.store {
            if s.name.is_empty() || s.name.contains('/') {
                return Err(invalid(
                    "store.name",
                    &s.name,
                    "a store name is one word without '/'",
                ));
            }
            if !names.insert(s.name.clone()) {
                return Err(invalid(
                    "store.name",
                    &s.name,
                    "the name is already used by another source",
                ));
            }
        }
        let mut envs = std::collections::HashSet::new();
        for e in &self.environment {
            if e.name.is_empty()
                || !e
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            {
                return Err(invalid(
                    "environment.name",
                    &e.name,
                    "use letters, digits, - and _",
                ));
            }
            if !envs.insert(e.name.clone()) {
                return Err(invalid("environment.name", &e.name, "defined twice"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_file() {
        let f = ConfigFile::parse(
            r#"
theme = "light"
[[registry]]
host = "127.0.0.1:5000"
insecure = true
[[environment]]
name = "prod"
tier = "required"
source = "127.0.0.1:5000"
tag = "prod"
"#,
            "t.toml",
        )
        .expect("parses");
        f.validate("t.toml").expect("valid");
        assert_eq!(f.environment[0].tier, Tier::Required);
    }

    #[test]
    fn timeouts_out_of_range_name_their_key() {
        for (text, key) in [
            ("timeout_secs = 0\n", "timeout_secs"),
            ("timeout_secs = 601\n", "timeout_secs"),
            ("command_timeout_secs = 0\n", "command_timeout_secs"),
            ("command_timeout_secs = 86401\n", "command_timeout_secs"),
        ] {
            let f = ConfigFile::parse(text, "t.toml").expect("parses");
            let e = f.validate("t.toml").expect_err(text).to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
        let f = ConfigFile::parse("command_timeout_secs = 3600\n", "t.toml").expect("parses");
        f.validate("t.toml").expect("an hour is fine");
    }

    #[test]
    fn bad_tier_names_value_and_line() {
        let e = ConfigFile::parse(
            "[[environment]]\nname = \"prod\"\ntier = \"strict\"\nsource = \"demo\"\n",
            "my.toml",
        )
        .expect_err("bad tier");
        let msg = e.to_string();
        assert!(msg.contains("my.toml"), "{msg}");
        assert!(msg.contains("strict"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn bad_host_is_quoted() {
        let f = ConfigFile::parse("[[registry]]\nhost = \"https://r.example/v2\"\n", "c.toml")
            .expect("parses");
        let msg = f.validate("c.toml").expect_err("invalid").to_string();
        assert!(
            msg.contains("https://r.example/v2") && msg.contains("c.toml"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let msg = ConfigFile::parse("colour = \"red\"\n", "c.toml")
            .expect_err("unknown")
            .to_string();
        assert!(msg.contains("colour"), "{msg}");
    }
}
