//! Which keys a person can sign records with: the configured `signing_key`, a `--key` file,
//! or (in a demo store this user created) one of the demo's people as `demo:NAME`.

use super::{NamedSource, Settings};
use std::path::PathBuf;

impl Settings {
    /// The private key file `spec` names for records about artifacts of `source`: a path, or
    /// `demo:NAME` for a person of a demo store this user created.
    pub fn key_path(&self, source: &NamedSource, spec: &str) -> Result<PathBuf, String> {
        let Some(name) = spec.strip_prefix("demo:") else {
            return Ok(PathBuf::from(spec));
        };
        let found = match (source.store.as_ref(), &self.data_dir) {
            (crate::oci::Source::Layout(l), Some(data)) => {
                crate::demo::keys::person_key_file(data, l.root(), name)
            }
            _ => None,
        };
        found.ok_or_else(|| {
            format!(
                "no demo person {:?} for {} (the demo's people are {})",
                crate::text::sanitize(name),
                crate::text::sanitize(&source.name),
                crate::demo::keys::PEOPLE.join(", ")
            )
        })
    }

    /// The keys the console offers for records about artifacts of `source`: (label, spec).
    pub fn signer_choices(&self, source: &NamedSource) -> Vec<(String, String)> {
        let mut out = vec![];
        if let Some(p) = &self.signing_key {
            out.push((
                format!("signing_key {}", p.display()),
                p.display().to_string(),
            ));
        }
        if self.is_demo(source) {
            for p in crate::demo::keys::PEOPLE {
                out.push((format!("demo person {p}"), format!("demo:{p}")));
            }
        }
        out
    }
}
