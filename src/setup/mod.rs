//! The composition root: turns the configuration files into the running `Settings` — opens
//! every source (seeding the demo store on first use), resolves the policy path and builds the
//! trust list. The core below it (`gate`, `policy`, `verify`, `evidence`, `oci`) never reads a
//! file on its own; `config` holds the formats only.

mod ledger;
mod signing;
mod trust;
use crate::config::{
    expand_home, paths, ConfigError, ConfigFile, Environment, Tier, DEMO_SOURCE, STORE_SOURCE,
};
use crate::gate::Gate;
use crate::oci::layout::LayoutStore;
use crate::oci::remote::RemoteStore;
use crate::oci::Source;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
pub use trust::load_trust;

/// A configured source with its open store.
#[derive(Debug, Clone)]
pub struct NamedSource {
    pub name: String,
    pub store: Arc<Source>,
}

/// The resolved configuration the CLI and the TUI run on.
#[derive(Debug, Clone)]
pub struct Settings {
    pub path: Option<PathBuf>,
    pub theme: String,
    pub timeout: Duration,
    /// The overall bound of a headless command (`command_timeout_secs`, default 60 × timeout).
    pub command_timeout: Duration,
    pub sources: Vec<NamedSource>,
    pub environments: Vec<Environment>,
    pub insecure: Vec<String>,
    /// Keys and identities that may vouch, already filtered for revocation and expiry.
    pub trust: Vec<crate::verify::Trust>,
    /// The trusted root for keyless verification, loaded.
    pub root: std::sync::Arc<crate::verify::LazyRoot>,
    /// The configured policy file (`policy = "FILE"`), resolved against the config's folder.
    pub policy: Option<PathBuf>,
    /// The user's data directory, where the keys trusted for demo stores are recorded.
    pub data_dir: Option<PathBuf>,
    /// Where audit chains live in each source.
    pub audit_repository: String,
    /// Every write is refused.
    pub read_only: bool,
    /// The default key records are signed with.
    pub signing_key: Option<PathBuf>,
    /// The timestamp authority that countersigns records, when configured.
    pub timestamp_server: Option<String>,
    /// Fulcio, for keyless records.
    pub fulcio_url: Option<String>,
    /// Rekor, which every record is also entered in when set.
    pub rekor_url: Option<String>,
    /// Each environment's runtime, when it names one: (environment, runtime).
    pub runtimes: Vec<(String, crate::config::RuntimeEntry)>,
    /// The ledger's chains (`[ledger]`): where every decision is written and read. None only
    /// when no source is configured at all.
    pub chains: Option<Arc<crate::ledger::Chains>>,
}

/// What the command line adds to the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub store: Option<PathBuf>,
    pub insecure_registries: Vec<String>,
    pub theme: Option<String>,
    /// `--policy FILE`: overrides the configured policy.
    pub policy: Option<PathBuf>,
    /// The data directory (default: the platform's); tests point it at a temporary one.
    pub data_dir: Option<PathBuf>,
    /// `--read-only`: refuse every write.
    pub read_only: bool,
}

impl Settings {
    /// Loads `--config`, else the user's `provost.toml` when present, and opens every source.
    /// With `--store DIR` that layout becomes the default source in place of the demo store.
    pub async fn load(o: &Overrides) -> Result<Settings, ConfigError> {
        let (path, file) = match &o.config {
            Some(p) => (Some(p.clone()), ConfigFile::load(p)?),
            None => match paths::config_file() {
                Some(p) if p.is_file() => (Some(p.clone()), ConfigFile::load(&p)?),
                _ => (None, ConfigFile::default()),
            },
        };
        let path_str = path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "built-in defaults".into());
        file.validate(&path_str)?;
        let timeout = Duration::from_secs(file.timeout_secs.unwrap_or(10).max(1));
        let command_timeout = file
            .command_timeout_secs
            .map(Duration::from_secs)
            .unwrap_or(timeout * 60);
        let mut insecure: Vec<String> = o.insecure_registries.clone();
        for r in &file.registry {
            if r.insecure && !insecure.contains(&r.host) {
                insecure.push(r.host.clone());
            }
        }
        let data_dir = o.data_dir.clone().or_else(paths::data_dir);
        let mut sources = Vec::new();
        let default_store = match &o.store {
            Some(dir) => Some((
                STORE_SOURCE.to_string(),
                LayoutStore::open(STORE_SOURCE, dir)?,
            )),
            None if file.demo.unwrap_or(true) => {
                let dir = paths::demo_store().ok_or_else(|| ConfigError::Invalid {
                    path: path_str.clone(),
                    key: "demo".into(),
                    value: "true".into(),
                    reason: "no user data directory to hold the demo store (is HOME set?)".into(),
                })?;
                let data = data_dir.clone().ok_or_else(|| ConfigError::Invalid {
                    path: path_str.clone(),
                    key: "demo".into(),
                    value: "true".into(),
                    reason: "no user data directory to record the demo key in (is HOME set?)"
                        .into(),
                })?;
                crate::demo::ensure(&dir, &data).await?;
                Some((
                    DEMO_SOURCE.to_string(),
                    LayoutStore::open(DEMO_SOURCE, &dir)?,
                ))
            }
            None => None,
        };
        let default_name = default_store.as_ref().map(|(n, _)| n.clone());
        if let Some((name, store)) = default_store {
            sources.push(NamedSource {
                name,
                store: Arc::new(Source::Layout(store)),
            });
        }
        for s in &file.store {
            let dir = expand_home(&s.path);
            sources.push(NamedSource {
                name: s.name.clone(),
                store: Arc::new(Source::Layout(LayoutStore::open(&s.name, &dir)?)),
            });
        }
        for r in &file.registry {
            let store = RemoteStore::new(&r.host, insecure.contains(&r.host), timeout)?;
            sources.push(NamedSource {
                name: r.name.clone().unwrap_or_else(|| r.host.clone()),
                store: Arc::new(Source::Remote(Box::new(store))),
            });
        }
        for host in &o.insecure_registries {
            if !sources
                .iter()
                .any(|s| s.store.location() == *host || s.name == *host)
            {
                sources.push(NamedSource {
                    name: host.clone(),
                    store: Arc::new(Source::Remote(Box::new(RemoteStore::new(
                        host, true, timeout,
                    )?))),
                });
            }
        }
        let environments = if file.environment.is_empty() {
            match &default_name {
                Some(name) => ["dev", "staging", "prod"]
                    .iter()
                    .zip([Tier::Warn, Tier::Conditional, Tier::Required])
                    .zip([None, Some("dev"), Some("staging")])
                    .map(|((env, tier), from)| Environment {
                        name: env.to_string(),
                        tier,
                        source: name.clone(),
                        repository: "*".into(),
                        tag: env.to_string(),
                        promotes_from: from.map(str::to_string),
                    })
                    .collect(),
                None => vec![],
            }
        } else {
            file.environment
                .iter()
                .map(|e| Environment {
                    name: e.name.clone(),
                    tier: e.tier,
                    source: e.source.clone(),
                    repository: e.repository.clone().unwrap_or_else(|| "*".into()),
                    tag: e.tag.clone().unwrap_or_else(|| "*".into()),
                    promotes_from: e.promotes_from.clone(),
                })
                .collect()
        };
        crate::config::check_paths(&environments).map_err(|(key, value, reason)| {
            ConfigError::Invalid {
                path: path_str.clone(),
                key,
                value,
                reason,
            }
        })?;
        for e in &environments {
            if !sources.iter().any(|s| s.name == e.source) {
                return Err(ConfigError::Invalid {
                    path: path_str.clone(),
                    key: format!("environment {:?} source", e.name),
                    value: e.source.clone(),
                    reason: ledger::unknown_source(&sources),
                });
            }
        }
        let theme = o
            .theme
            .clone()
            .or(file.theme.clone())
            .unwrap_or_else(|| "default".into());
        let (trust, root_spec) = load_trust(&file.trust, path.as_deref(), &path_str, &sources)?;
        if let crate::verify::Root::File(p) = &root_spec {
            if !p.is_file() {
                return Err(ConfigError::Invalid {
                    path: path_str.clone(),
                    key: "trust.trusted_root".into(),
                    value: file.trust.trusted_root.clone().unwrap_or_default(),
                    reason: format!("{} is not a file", p.display()),
                });
            }
        }
        let root = std::sync::Arc::new(crate::verify::LazyRoot::new(root_spec));
        let base = path
            .as_deref()
            .and_then(|p| p.parent())
            .map(|p| p.to_path_buf())
            .unwrap_or_default();
        let policy = match &o.policy {
            Some(p) => Some(p.clone()),
            None => file.policy.as_deref().map(|p| base.join(expand_home(p))),
        };
        if let Some(p) = &policy {
            if !p.is_file() {
                return Err(ConfigError::Invalid {
                    path: if o.policy.is_some() {
                        "command line".into()
                    } else {
                        path_str.clone()
                    },
                    key: "policy".into(),
                    value: p.display().to_string(),
                    reason: "no such policy file".into(),
                });
            }
        }
        let audit_repository = file
            .audit_repository
            .clone()
            .unwrap_or_else(|| crate::release::AUDIT_REPOSITORY.to_string());
        ledger::check_repository(&path_str, "audit_repository", &audit_repository)?;
        let cache_dir = paths::cache_dir().filter(|d| crate::oci::files::private_dir(d).is_ok());
        let chains = ledger::open(
            &file,
            &path_str,
            &sources,
            &environments,
            &audit_repository,
            cache_dir,
        )?;
        let signing_key = file
            .signing_key
            .as_deref()
            .map(|p| base.join(expand_home(p)));
        let runtimes = file
            .environment
            .iter()
            .filter_map(|e| e.runtime.clone().map(|r| (e.name.clone(), r)))
            .collect();
        Ok(Settings {
            chains,
            runtimes,
            audit_repository,
            read_only: o.read_only || file.read_only.unwrap_or(false),
            signing_key,
            timestamp_server: file.timestamp_server.clone(),
            fulcio_url: file.fulcio_url.clone(),
            rekor_url: file.rekor_url.clone(),
            policy,
            data_dir,
            path,
            theme,
            timeout,
            command_timeout,
            sources,
            environments,
            insecure,
            trust,
            root,
        })
    }

    /// The key trusted for a demo layout this user's `provost demo` created at that path, as
    /// recorded in the data directory. Nothing in the layout itself grants trust.
    fn demo_key(&self, source: &NamedSource) -> Option<String> {
        match (source.store.as_ref(), &self.data_dir) {
            (Source::Layout(l), Some(data)) => crate::demo::keys::trusted_key(data, l.root()),
            _ => None,
        }
    }

    /// True for a demo store this user created (it gets the demo policy by default).
    pub fn is_demo(&self, source: &NamedSource) -> bool {
        self.demo_key(source).is_some()
    }

    /// The trust that applies to artifacts of `source`: the configured trust, plus the demo key
    /// for a demo store this user created, at the path it was created (and only there).
    pub fn trust_for(&self, source: &NamedSource) -> Vec<crate::verify::Trust> {
        let mut t = self.trust.clone();
        if let Some(pem) = self.demo_key(source) {
            t.push(crate::verify::Trust::Key {
                pem,
                name: Some(crate::demo::DEMO_KEY_NAME.to_string()),
                window: Default::default(),
            });
            if let (Source::Layout(l), Some(data)) = (source.store.as_ref(), &self.data_dir) {
                for (name, pem) in crate::demo::keys::trusted_people(data, l.root()) {
                    t.push(crate::verify::Trust::Key {
                        pem,
                        name: Some(name),
                        window: Default::default(),
                    });
                }
            }
        }
        t
    }

    /// The environment called `name`, or why not (naming the configured ones, sanitized).
    pub fn environment(&self, name: &str) -> Result<&Environment, String> {
        self.environments
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| {
                format!(
                    "no environment {:?} (configured: {})",
                    crate::text::sanitize(name),
                    self.environments
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }

    /// The source called `name`, or whose registry host is `name`.
    pub fn source(&self, name: &str) -> Option<&NamedSource> {
        self.sources
            .iter()
            .find(|s| s.name == name)
            .or_else(|| self.sources.iter().find(|s| s.store.location() == name))
    }

    /// The source a reference names: a configured one, else an ad-hoc registry (plain HTTP
    /// only when marked insecure), else the default store when `registry` is empty.
    pub fn source_for(&self, registry: &str) -> Result<NamedSource, ConfigError> {
        if registry.is_empty() {
            return self
                .sources
                .first()
                .cloned()
                .ok_or_else(|| ConfigError::Invalid {
                    path: "command line".into(),
                    key: "reference".into(),
                    value: String::new(),
                    reason: "no registry given and no default store (use --store DIR)".into(),
                });
        }
        if let Some(s) = self.source(registry) {
            return Ok(s.clone());
        }
        let insecure = self.insecure.iter().any(|h| h == registry);
        Ok(NamedSource {
            name: registry.to_string(),
            store: Arc::new(Source::Remote(Box::new(RemoteStore::new(
                registry,
                insecure,
                self.timeout,
            )?))),
        })
    }
}

/// The environment names `--config` (or the user's provost.toml) declares; empty when it
/// declares none (then dev, staging and prod apply). Opens no store.
pub fn environment_names(config: Option<&std::path::Path>) -> Result<Vec<String>, ConfigError> {
    let file = match config {
        Some(p) => ConfigFile::load(p)?,
        None => match paths::config_file() {
            Some(p) if p.is_file() => ConfigFile::load(&p)?,
            _ => ConfigFile::default(),
        },
    };
    Ok(file.environment.iter().map(|e| e.name.clone()).collect())
}

/// Why a gate could not be set up: a bad policy or trust file (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
    #[error(transparent)]
    Trust(#[from] crate::config::ConfigError),
}

impl Settings {
    /// The gate for artifacts of `source`: the policy is `policy_path`, else the configured
    /// `policy`, else the demo policy for a demo store this user created, else only the
    /// built-in checks; trust is the configuration's (with the demo key where it applies) plus
    /// the policy's own `[trust]`, whose paths are relative to the policy file.
    pub fn gate(
        &self,
        source: &NamedSource,
        policy_path: Option<&std::path::Path>,
    ) -> Result<Gate, SetupError> {
        let settings = self;
        let names: Vec<&str> = if settings.environments.is_empty() {
            crate::policy::file::DEFAULT_ENVIRONMENTS.to_vec()
        } else {
            settings
                .environments
                .iter()
                .map(|e| e.name.as_str())
                .collect()
        };
        let policy = match policy_path.or(settings.policy.as_deref()) {
            Some(p) => crate::policy::Policy {
                origin: p.display().to_string(),
                file: crate::policy::PolicyFile::load_for(p, &names)?,
            },
            None if settings.is_demo(source) => crate::policy::Policy::demo(),
            None => crate::policy::Policy::builtin(),
        };
        let mut trust = settings.trust_for(source);
        let (extra, root_spec) = crate::setup::load_trust(
            &policy.file.trust,
            Some(std::path::Path::new(&policy.origin)),
            &policy.origin,
            &[],
        )?;
        // A policy's own trusted root replaces the configuration's for this gate.
        let root = match (&policy.file.trust.trusted_root, root_spec) {
            (Some(given), crate::verify::Root::File(p)) => {
                if !p.is_file() {
                    return Err(SetupError::Trust(ConfigError::Invalid {
                        path: policy.origin.clone(),
                        key: "trust.trusted_root".into(),
                        value: crate::text::sanitize(given).to_string(),
                        reason: format!("{} is not a file", p.display()),
                    }));
                }
                Arc::new(crate::verify::LazyRoot::new(crate::verify::Root::File(p)))
            }
            (Some(_), spec) => Arc::new(crate::verify::LazyRoot::new(spec)),
            (None, _) => settings.root.clone(),
        };
        let ledger = settings.chains.as_ref().map(|c| {
            let mut t = match settings.source(&c.ledger.source) {
                Some(s) => settings.trust_for(s),
                None => settings.trust.clone(),
            };
            t.extend(extra.iter().cloned());
            crate::ledger::LedgerReader::new(c.clone(), t)
        });
        trust.extend(extra);
        Ok(Gate {
            policy,
            trust: Arc::new(trust),
            root,
            cosign_repository: std::env::var("COSIGN_REPOSITORY")
                .ok()
                .filter(|s| !s.is_empty()),
            clock: None,
            ledger,
        })
    }

    /// The ledger's reader, or why there is none.
    pub fn chains(&self) -> Result<&Arc<crate::ledger::Chains>, crate::ledger::LedgerError> {
        self.chains
            .as_ref()
            .ok_or(crate::ledger::LedgerError::NotConfigured)
    }

    /// `--no-cache`: the ledger's records are read from the registry too.
    pub fn uncached(&self) {
        if let Some(c) = &self.chains {
            c.set_cached(false);
        }
    }

    /// Where records are linked, in words for a write through `source`: the ledger's
    /// repository, and its source when that is another one.
    pub fn ledger_words(&self, source: &str) -> String {
        match self.chains() {
            Ok(c) if c.ledger.source == source => c.ledger.repository.clone(),
            Ok(c) => c.ledger.describe(),
            Err(_) => self.audit_repository.clone(),
        }
    }

    /// The ledger's source.
    pub fn ledger_source(&self) -> Result<NamedSource, crate::ledger::LedgerError> {
        let c = self.chains()?;
        Ok(NamedSource {
            name: c.ledger.source.clone(),
            store: c.ledger.store.clone(),
        })
    }
}

impl Settings {
    /// The key that authenticates the cache's tag pointers: 32 random bytes in the data
    /// directory (outside the cache, mode 0600), made on first use. None when it cannot be
    /// read or made safely; then no pointer is trusted.
    pub fn cache_key(&self) -> Option<[u8; 32]> {
        let dir = self.data_dir.as_ref()?;
        let path = dir.join("cache.key");
        if let Ok(hexed) = crate::oci::files::read_regular(&path, 256, false) {
            let bytes = hex::decode(String::from_utf8_lossy(&hexed).trim()).ok()?;
            return bytes.try_into().ok();
        }
        if path.symlink_metadata().is_ok() {
            // Something that is not a regular file sits there: trust nothing.
            return None;
        }
        std::fs::create_dir_all(dir).ok()?;
        let mut key = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut key);
        use std::io::Write;
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o.open(&path).ok()?;
        f.write_all(hex::encode(key).as_bytes()).ok()?;
        Some(key)
    }

    /// The gate's on-disk cache directory, created private (0700); None when it is unusable
    /// (a link, another user's), and then nothing is cached.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        let dir = paths::cache_dir()?;
        crate::oci::files::private_dir(&dir).ok()?;
        Some(dir)
    }
}
