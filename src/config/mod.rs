//! `provost.toml` and the other file formats: registries, layout stores, environments, trust
//! entries; where files live. It opens nothing: `setup` builds the running configuration.

mod file;
pub mod paths;

pub use file::{
    ConfigFile, EnvironmentEntry, KubernetesEntry, RegistryEntry, RuntimeEntry, StoreEntry, Tier,
    TrustEntry, TrustIdentity, TrustKey,
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
    /// The repositories it tracks: a glob (`*`, `acme/*`), or a template naming each image's
    /// repository by its name (`prod/{name}`).
    pub repository: String,
    pub tag: String,
    /// The environment digests are promoted from into this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotes_from: Option<String>,
}

/// The placeholder for an image's name in an environment's repository template.
pub const NAME_PLACEHOLDER: &str = "{name}";

impl Environment {
    /// True when the environment tracks `repo`.
    pub fn tracks_repository(&self, repo: &str) -> bool {
        wildmatch::WildMatch::new(&self.repository.replace(NAME_PLACEHOLDER, "*")).matches(repo)
    }
    /// True when the environment tracks `tag`.
    pub fn tracks_tag(&self, tag: &str) -> bool {
        wildmatch::WildMatch::new(&self.tag).matches(tag)
    }
    /// The image's name in this environment's repository `repo` (`prod/acme/api` under
    /// `prod/{name}` is `acme/api`; under a glob the repository is the name); None when the
    /// environment does not track `repo`.
    pub fn name_in(&self, repo: &str) -> Option<String> {
        if !self.tracks_repository(repo) {
            return None;
        }
        match self.repository.split_once(NAME_PLACEHOLDER) {
            Some((pre, post)) => repo
                .strip_prefix(pre)
                .and_then(|r| r.strip_suffix(post))
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            None => Some(repo.to_string()),
        }
    }
    /// The repository holding image `name` in this environment: the template filled in, the
    /// name itself under a glob, or the one repository named.
    pub fn repository_for(&self, name: &str) -> String {
        if self.repository.contains(NAME_PLACEHOLDER) {
            self.repository.replace(NAME_PLACEHOLDER, name)
        } else if self.repository.contains(['*', '?', '[']) {
            name.to_string()
        } else {
            self.repository.clone()
        }
    }
    /// The environment's moving tag, when it has one (not a glob).
    pub fn moving_tag(&self) -> Option<&str> {
        (!self.tag.contains(['*', '?', '['])).then_some(self.tag.as_str())
    }
}

/// The path promotions take into `to`: `[dev, staging, prod]` for prod; environments listed
/// once even if the configuration loops (it is refused at load, see `check_paths`).
pub fn path_to<'a>(environments: &'a [Environment], to: &str) -> Vec<&'a Environment> {
    let mut path: Vec<&Environment> = vec![];
    let mut at = environments.iter().find(|e| e.name == to);
    while let Some(e) = at {
        if path.iter().any(|p| p.name == e.name) {
            break;
        }
        path.insert(0, e);
        at = e
            .promotes_from
            .as_deref()
            .and_then(|f| environments.iter().find(|x| x.name == f));
    }
    path
}

/// Every `promotes_from` names another environment, the paths have no loop, and an
/// environment promoted into has one moving tag. Returns the first problem, in words.
pub fn check_paths(environments: &[Environment]) -> Result<(), (String, String, String)> {
    for e in environments {
        let Some(from) = &e.promotes_from else {
            continue;
        };
        let key = format!("environment {:?} promotes_from", e.name);
        if !environments.iter().any(|x| &x.name == from) || from == &e.name {
            return Err((key, from.clone(), "names no other environment".into()));
        }
        if path_to(environments, &e.name)
            .first()
            .and_then(|f| f.promotes_from.as_ref())
            .is_some()
        {
            return Err((key, from.clone(), "the promotion path loops".into()));
        }
        if e.moving_tag().is_none() {
            return Err((
                format!("environment {:?} tag", e.name),
                e.tag.clone(),
                "an environment promoted into needs one tag to move (not a glob)".into(),
            ));
        }
    }
    Ok(())
}

pub(crate) fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
}
