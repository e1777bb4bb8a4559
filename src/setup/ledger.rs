//! Where the ledger is: `[ledger] source` (and `repository`), else the first environment's
//! source (where the path starts and its first records are written), else the first source.

use super::NamedSource;
use crate::config::{ConfigError, ConfigFile, Environment};
use crate::ledger::{Chains, Ledger};
use std::sync::Arc;

/// Checks a repository name for the audit chains.
pub fn check_repository(path: &str, key: &str, repo: &str) -> Result<(), ConfigError> {
    if repo.is_empty()
        || repo.len() > 200
        || repo.starts_with(['/', '.', '-', '_'])
        || repo.ends_with('/')
        || !repo
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c))
    {
        return Err(ConfigError::Invalid {
            path: path.to_string(),
            key: key.into(),
            value: crate::text::sanitize(repo).to_string(),
            reason: "not a repository name (lowercase letters, digits, '.', '_', '-', '/')".into(),
        });
    }
    Ok(())
}

/// Why a configured source name is not one: the names that are.
pub fn unknown_source(sources: &[NamedSource]) -> String {
    format!(
        "no registry or store has that name (known: {})",
        sources
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The ledger's reader, or None when there is no source at all.
pub fn open(
    file: &ConfigFile,
    path: &str,
    sources: &[NamedSource],
    environments: &[Environment],
    audit_repository: &str,
    cache_dir: Option<std::path::PathBuf>,
) -> Result<Option<Arc<Chains>>, ConfigError> {
    let entry = file.ledger.clone().unwrap_or_default();
    let name = match &entry.source {
        Some(s) => Some(s.clone()),
        None => environments
            .first()
            .map(|e| e.source.clone())
            .or_else(|| sources.first().map(|s| s.name.clone())),
    };
    let Some(name) = name else {
        return Ok(None);
    };
    let source = sources
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| ConfigError::Invalid {
            path: path.to_string(),
            key: "ledger.source".into(),
            value: crate::text::sanitize(&name).to_string(),
            reason: unknown_source(sources),
        })?;
    let repository = entry
        .repository
        .clone()
        .unwrap_or_else(|| audit_repository.to_string());
    check_repository(path, "ledger.repository", &repository)?;
    Ok(Some(Arc::new(Chains::new(
        Ledger {
            source: source.name.clone(),
            store: source.store.clone(),
            repository,
        },
        cache_dir,
    ))))
}
