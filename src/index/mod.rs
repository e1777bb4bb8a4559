//! The triage index: per digest, the facts its evidence states (verified apart from claims),
//! kept in an embedded SQLite database so a question over thousands of digests is answered
//! without reading a registry. The index is a cache, never an authority: each row carries a
//! MAC under the user's cache key (kept outside the cache directory) and the trust it was
//! verified under, and a file that is damaged, foreign, or not a regular file is removed and
//! rebuilt. Filled by `provost index` and by every `gate --all`.

pub mod facts;
pub mod fill;
pub mod query;
mod search;
mod store;

pub use facts::DigestFacts;
pub use query::{Criterion, Match, Query};
pub use store::evidence_marks;

use hmac::Mac;
use rusqlite::{params, Connection, OptionalExtension};

use std::path::{Path, PathBuf};

/// `PRAGMA application_id`: "prov".
const APPLICATION_ID: i64 = 0x7072_6f76;
/// `PRAGMA user_version`: the schema.
const SCHEMA: i64 = 3;
/// The index file is refused above this size (10,000 digests with SBOMs fit well within).
pub const MAX_FILE: u64 = 2 << 30;

/// Why the index cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("the index {path}: {message}")]
    Db { path: String, message: String },
    #[error("no private key to authenticate the index with (the data directory is unusable)")]
    NoKey,
}

/// The open index.
pub struct Index {
    conn: Connection,
    key: [u8; 32],
    path: PathBuf,
    /// Where the seal is kept (outside the cache): the MAC of the file's identity and change
    /// time as provost last left it.
    seal: PathBuf,
    /// Why an existing file was thrown away on opening, when it was.
    pub rebuilt: Option<String>,
}

/// Where the index saw a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub source: String,
    pub repository: String,
    pub digest: String,
    pub tags: Vec<String>,
}

/// A hit as the index holds it.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Its facts; their SBOM packages are read only for a question about packages (else
    /// empty).
    pub facts: DigestFacts,
    pub tags: Vec<String>,
    pub matched: Match,
}

fn db_err(path: &Path, e: impl std::fmt::Display) -> IndexError {
    IndexError::Db {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// A short hash of what verification trusted: facts verified under other trust are stale.
pub fn trust_hash(trust: &[crate::verify::Trust]) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(format!("{trust:?}").as_bytes());
    hex::encode(&h[..8])
}

pub(crate) fn key_id(key: &[u8; 32]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"provost index key id\0");
    h.update(key);
    hex::encode(&h.finalize()[..8])
}

/// Why the file at `path` may not be opened as an index, if anything.
fn refuse_file(path: &Path) -> Option<String> {
    let m = path.symlink_metadata().ok()?;
    if !m.file_type().is_file() {
        return Some("not a regular file".into());
    }
    if m.len() > MAX_FILE {
        return Some(format!("larger than {} bytes", MAX_FILE));
    }
    None
}

fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        if p.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            let _ = std::fs::remove_dir_all(&p);
        } else {
            let _ = std::fs::remove_file(&p);
        }
    }
}

const CREATE: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE digests(
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    trust TEXT NOT NULL,
    facts TEXT NOT NULL,
    packages_sha256 TEXT NOT NULL,
    evidence TEXT NOT NULL,
    mac TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    indexed_at TEXT NOT NULL,
    UNIQUE(source, repository, digest)
);
CREATE TABLE packages(
    id INTEGER PRIMARY KEY REFERENCES digests(id) ON DELETE CASCADE,
    json TEXT NOT NULL
);
CREATE TABLE terms(
    id INTEGER NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    verified INTEGER NOT NULL
);
CREATE INDEX terms_kind_value ON terms(kind, value);
CREATE INDEX terms_id ON terms(id);
";

impl Index {
    /// Opens (or creates) the index at `path`, checking that it is ours and whole; anything
    /// else is removed and a new one made (`rebuilt` says why).
    pub fn open(path: &Path, seal: &Path, key: [u8; 32]) -> Result<Index, IndexError> {
        let mut rebuilt = refuse_file(path);
        if rebuilt.is_some() {
            remove(path);
        }
        if rebuilt.is_none() && path.exists() {
            match Self::check(path, &key) {
                Ok(conn) => {
                    let i = Index {
                        conn,
                        key,
                        path: path.to_path_buf(),
                        seal: seal.to_path_buf(),
                        rebuilt: None,
                    };
                    // Changed since provost last wrote it (another process, an editor): every
                    // row and term is checked before the file is believed again.
                    // Per-row MACs cannot show a row that is gone: the set of rows is sealed
                    // too, and must be the one provost last wrote.
                    let checked = if i.sealed() {
                        Ok(())
                    } else {
                        i.quick_check()
                            .and_then(|()| i.verify_all())
                            .and_then(|()| i.same_rows())
                    };
                    match checked {
                        Ok(()) => {
                            i.write_seal();
                            return Ok(i);
                        }
                        Err(why) => {
                            drop(i);
                            remove(path);
                            rebuilt = Some(why);
                        }
                    }
                }
                Err(why) => {
                    remove(path);
                    rebuilt = Some(why);
                }
            }
        }
        if let Some(dir) = path.parent() {
            crate::oci::files::private_dir(dir).map_err(|e| db_err(path, e))?;
        }
        let conn = Connection::open(path).map_err(|e| db_err(path, e))?;
        Self::pragmas(&conn).map_err(|e| db_err(path, e))?;
        conn.execute_batch(CREATE).map_err(|e| db_err(path, e))?;
        conn.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA};"
        ))
        .map_err(|e| db_err(path, e))?;
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('key', ?1)",
            params![key_id(&key)],
        )
        .map_err(|e| db_err(path, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        let i = Index {
            conn,
            key,
            path: path.to_path_buf(),
            seal: seal.to_path_buf(),
            rebuilt,
        };
        i.write_seal();
        Ok(i)
    }

    /// The file's identity and change time: a write by anyone changes the change time, which
    /// no one can set back.
    fn file_state(&self) -> Option<String> {
        use std::os::unix::fs::MetadataExt;
        let m = self.path.symlink_metadata().ok()?;
        Some(format!(
            "{}:{}:{}:{}.{}",
            m.dev(),
            m.ino(),
            m.len(),
            m.ctime(),
            m.ctime_nsec()
        ))
    }

    fn seal_of(&self, state: &str) -> String {
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        m.update(b"provost index seal\0");
        m.update(self.path.display().to_string().as_bytes());
        m.update(&[0]);
        m.update(state.as_bytes());
        hex::encode(m.finalize().into_bytes())
    }

    /// The seal file's lines: the file state's MAC, then the row set's.
    fn seal_lines(&self) -> Option<(String, String)> {
        let text = crate::oci::files::read_regular(&self.seal, 4096, false).ok()?;
        let text = String::from_utf8_lossy(&text).to_string();
        let mut lines = text.lines();
        Some((
            lines.next()?.trim().to_string(),
            lines.next().unwrap_or("").trim().to_string(),
        ))
    }

    /// True when the file is exactly as provost last left it.
    fn sealed(&self) -> bool {
        let (Some(state), Some((seal, _))) = (self.file_state(), self.seal_lines()) else {
            return false;
        };
        seal == self.seal_of(&state)
    }

    /// A MAC over every row's MAC, in order: which rows there are.
    fn row_set(&self) -> Option<String> {
        let mut st = self
            .conn
            .prepare("SELECT mac FROM digests ORDER BY mac")
            .ok()?;
        let macs = st.query_map([], |r| r.get::<_, String>(0)).ok()?;
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        m.update(b"provost index rows\0");
        for mac in macs {
            m.update(mac.ok()?.as_bytes());
            m.update(b"\n");
        }
        Some(hex::encode(m.finalize().into_bytes()))
    }

    /// The rows are the ones provost last wrote (none deleted, none added from elsewhere).
    fn same_rows(&self) -> Result<(), String> {
        let kept = self.seal_lines().map(|(_, rows)| rows).unwrap_or_default();
        if self.row_set().is_some_and(|now| now == kept) {
            Ok(())
        } else {
            Err("its rows are not the ones provost last wrote (one deleted or added?)".into())
        }
    }

    /// Records the file as provost leaves it (after every write).
    fn write_seal(&self) {
        if let (Some(state), Some(rows)) = (self.file_state(), self.row_set()) {
            let tmp = self.seal.with_extension("tmp");
            if std::fs::write(&tmp, format!("{}\n{rows}\n", self.seal_of(&state))).is_ok() {
                let _ = std::fs::rename(&tmp, &self.seal);
            }
        }
    }

    /// SQLite's own check of its pages and indexes.
    fn quick_check(&self) -> Result<(), String> {
        let ok: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| format!("damaged ({e})"))?;
        if ok != "ok" {
            return Err(format!("damaged ({ok})"));
        }
        Ok(())
    }

    fn pragmas(conn: &Connection) -> rusqlite::Result<()> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(
            "PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        )
    }

    /// Why an existing file is not a usable index.
    fn check(path: &Path, key: &[u8; 32]) -> Result<Connection, String> {
        let conn = Connection::open(path).map_err(|e| e.to_string())?;
        let app: i64 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| format!("not a database ({e})"))?;
        if app != APPLICATION_ID {
            return Err("not a provost index".into());
        }
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if v != SCHEMA {
            return Err(format!("schema {v}, this provost reads {SCHEMA}"));
        }
        let id: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'key'", [], |r| r.get(0))
            .optional()
            .map_err(|e| format!("damaged ({e})"))?;
        if id.as_deref() != Some(key_id(key).as_str()) {
            return Err("made under another key (another user's, or the key was replaced)".into());
        }
        Self::pragmas(&conn).map_err(|e| e.to_string())?;
        Ok(conn)
    }

    /// Where the index lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes everything and starts again (after `find` found a row it cannot trust).
    pub fn rebuild(self, why: &str) -> Result<Index, IndexError> {
        let path = self.path.clone();
        let seal = self.seal.clone();
        let key = self.key;
        drop(self.conn);
        remove(&path);
        let mut i = Index::open(&path, &seal, key)?;
        i.rebuilt = Some(why.to_string());
        Ok(i)
    }
}
