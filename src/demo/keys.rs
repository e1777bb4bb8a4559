//! The demo's keys, generated fresh each time `provost demo` creates a store. The private key
//! stays in the user's data directory; its public key is trusted for that store at that path
//! only, as recorded in the data directory (never in the layout, so a copied or planted layout
//! gains nothing). No key is derivable from the source.

use crate::oci::{OciError, Result};
use p256::ecdsa::SigningKey;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The keys one demo store is seeded with.
pub struct DemoKeys {
    /// Signs the release evidence; trusted for the store.
    pub release: SigningKey,
    /// A contractor's laptop key, say: signs one release, trusted by nobody.
    pub untrusted: SigningKey,
    /// The demo's people (alice and bob approve, carol quarantines), trusted for the store
    /// under their names.
    pub people: Vec<(String, SigningKey)>,
}

/// The demo's people, as the demo policy's groups name them.
pub const PEOPLE: &[&str] = &["alice", "bob", "carol"];

impl DemoKeys {
    /// Two new random keys.
    pub fn generate() -> DemoKeys {
        DemoKeys {
            release: crate::verify::keys::generate(),
            untrusted: crate::verify::keys::generate(),
            people: PEOPLE
                .iter()
                .map(|n| (n.to_string(), crate::verify::keys::generate()))
                .collect(),
        }
    }

    /// One of the people's keys.
    pub fn person(&self, name: &str) -> Option<&SigningKey> {
        self.people.iter().find(|(n, _)| n == name).map(|(_, k)| k)
    }
}

/// One demo store this user created, and the public key trusted for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    /// The store's canonical path.
    path: PathBuf,
    public_key: String,
    /// The people's public keys, by name.
    #[serde(default)]
    people: Vec<(String, String)>,
}

const RECORDS: &str = "demo-trust.json";

fn records_path(data: &Path) -> PathBuf {
    data.join(RECORDS)
}

fn read_records(data: &Path) -> Vec<Record> {
    std::fs::read(records_path(data))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn canonical(dir: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(dir).ok()
}

fn key_file(data: &Path, dir: &Path) -> PathBuf {
    person_file(data, dir, None)
}

/// Where a demo key is kept: the release key, or a person's.
fn person_file(data: &Path, dir: &Path, person: Option<&str>) -> PathBuf {
    let id = crate::oci::digest::sha256(dir.as_os_str().as_encoded_bytes());
    let hex: String = id.trim_start_matches("sha256:").chars().take(16).collect();
    match person {
        None => data.join("demo-keys").join(format!("{hex}.key")),
        Some(p) => data.join("demo-keys").join(format!("{hex}-{p}.key")),
    }
}

/// The private key file of a demo person for the store at `dir` (for `--key demo:NAME`).
pub fn person_key_file(data: &Path, dir: &Path, name: &str) -> Option<PathBuf> {
    let dir = canonical(dir)?;
    if !PEOPLE.contains(&name) {
        return None;
    }
    let f = person_file(data, &dir, Some(name));
    f.is_file().then_some(f)
}

/// The people trusted for the store at `dir`: (name, public key PEM).
pub fn trusted_people(data: &Path, dir: &Path) -> Vec<(String, String)> {
    let Some(dir) = canonical(dir) else {
        return vec![];
    };
    read_records(data)
        .into_iter()
        .find(|r| r.path == dir)
        .map(|r| r.people)
        .unwrap_or_default()
}

/// Records that the store at `dir` was seeded with `keys`: the private key is written beside
/// the record (mode 0600), the public key trusted for that path. Written atomically.
pub fn record(data: &Path, dir: &Path, keys: &DemoKeys) -> Result<()> {
    let dir = canonical(dir).ok_or_else(|| OciError::Layout {
        path: dir.display().to_string(),
        reason: "the demo store vanished while it was recorded".into(),
    })?;
    let io = |p: &Path, e| OciError::io(p, e);
    let kf = key_file(data, &dir);
    if let Some(parent) = kf.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    }
    let pem = keys
        .release
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| OciError::Layout {
            path: kf.display().to_string(),
            reason: e.to_string(),
        })?;
    write_private(&kf, pem.as_bytes()).map_err(|e| io(&kf, e))?;
    let public_key =
        crate::verify::keys::public_pem(&keys.release).map_err(|e| OciError::Layout {
            path: kf.display().to_string(),
            reason: e.to_string(),
        })?;
    let mut people = vec![];
    for (name, key) in &keys.people {
        let f = person_file(data, &dir, Some(name));
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| OciError::Layout {
                path: f.display().to_string(),
                reason: e.to_string(),
            })?;
        write_private(&f, pem.as_bytes()).map_err(|e| io(&f, e))?;
        let public = crate::verify::keys::public_pem(key).map_err(|e| OciError::Layout {
            path: f.display().to_string(),
            reason: e.to_string(),
        })?;
        people.push((name.clone(), public));
    }
    let mut records = read_records(data);
    records.retain(|r| r.path != dir);
    records.push(Record {
        path: dir,
        public_key,
        people,
    });
    let p = records_path(data);
    let bytes = serde_json::to_vec_pretty(&records).unwrap_or_default();
    let tmp = p.with_extension("json.tmp");
    std::fs::write(&tmp, bytes).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, &p).map_err(|e| io(&p, e))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)?.write_all(bytes)
}

/// The public key trusted for the layout at `dir`, if this user's `provost demo` created it
/// there.
pub fn trusted_key(data: &Path, dir: &Path) -> Option<String> {
    let dir = canonical(dir)?;
    read_records(data)
        .into_iter()
        .find(|r| r.path == dir)
        .map(|r| r.public_key)
}

/// The release key of the demo store at `dir`, for signing more demo data by hand.
pub fn release_key(data: &Path, dir: &Path) -> Option<SigningKey> {
    let dir = canonical(dir)?;
    let pem = std::fs::read_to_string(key_file(data, &dir)).ok()?;
    crate::verify::keys::load_signing_key(&pem, || {
        Err(crate::verify::VerifyError::Passphrase(
            "the demo key is not encrypted".into(),
        ))
    })
    .ok()
}
