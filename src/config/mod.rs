//! `provost.toml` and the other file formats: registries, layout stores, environments, trust
//! entries; where files live. It opens nothing: `setup` builds the running configuration.

mod file;
pub mod paths;

pub use file::{
    ConfigFile, EnvironmentEntry, RegistryEntry, StoreEntry, Tier, TrustEntry, TrustIdentity,
    TrustKey,
};

use crate::oci::OciError;
use std::path::PathBuf;
use thiserror::Error;

/// A configuration problem, always naming the file and the value at fault.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: {key} = {value:?}: {reason}")]
    Invalid {
        path: String,
        key: String,
        value: String,
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] OciError),
}

/// The name of the embedded demo store.
pub const DEMO_SOURCE: &str = "demo";
/// The name of the layout given with `--store DIR`. A fixed name (not the directory's) so a
/// reference `NAME/repo` never collides with a repository that happens to share the directory
/// name.
pub const STORE_SOURCE: &str = "store";

/// One environment: a name, a tier, and the artifacts it tracks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Environment {
    pub name: String,
    pub tier: Tier,
    pub source: String,
    pub repository: String,
    pub tag: String,
}

impl Environment {
    /// True when the environment tracks `repo`.
    pub fn tracks_repository(&self, repo: &str) -> bool {
        wildmatch::WildMatch::new(&self.repository).matches(repo)
    }
    /// True when the environment tracks `tag`.
    pub fn tracks_tag(&self, tag: &str) -> bool {
        wildmatch::WildMatch::new(&self.tag).matches(tag)
    }
}

pub(crate) fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
}
