//! Content-addressed pack files for the on-disk cache: each run appends what it fetched as one
//! new pack (one file, not one per digest — creating thousands of small files cost a quarter
//! of a cold `gate --all` here), and reads go through an index of every pack.
//!
//! A pack is a sequence of records: a header line
//! `provost-pack-1 KIND DIGEST LENGTH MEDIA_TYPE\n`, then LENGTH bytes, then `\n`. A truncated or
//! garbled record ends the reading of its pack (what came before stays usable). Content is
//! checked against its digest on every read, so a damaged pack is a miss, never an answer.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Seek};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const MAGIC: &str = "provost-pack-1";
/// Past this many packs, a flush merges them into one.
const MAX_PACKS: usize = 24;
/// Past this total size, the packs are dropped and the cache starts again.
const MAX_TOTAL: u64 = 512 * 1024 * 1024;

/// What an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Manifest,
    Blob,
}

impl Kind {
    fn from_tag(tag: &str) -> Kind {
        if tag == "m" {
            Kind::Manifest
        } else {
            Kind::Blob
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Kind::Manifest => "m",
            Kind::Blob => "b",
        }
    }
}

/// An entry's kind tag and digest.
type Key = (&'static str, String);

#[derive(Debug, Clone)]
struct Entry {
    pack: usize,
    offset: u64,
    len: u64,
    media_type: String,
}

#[derive(Default)]
struct Index {
    loaded: bool,
    files: Vec<(PathBuf, File)>,
    entries: HashMap<Key, Entry>,
    total: u64,
}

/// This run's content in the order it came (so a pack reads back in fetch order), found by key.
#[derive(Default)]
struct Fresh {
    at: HashMap<Key, usize>,
    items: Vec<(Key, String, Vec<u8>)>,
}

/// The packs in one directory.
pub struct Packs {
    dir: PathBuf,
    index: Mutex<Index>,
    /// This run's content: readable at once, written as one pack by `flush`.
    fresh: Mutex<Fresh>,
}

fn read_pack(file: &File, pack: usize, into: &mut HashMap<Key, Entry>) {
    let Ok(size) = file.metadata().map(|m| m.len()) else {
        return;
    };
    read_entries(BufReader::new(file), size, pack, into);
}

/// The number of entries a pack's bytes index (for fuzzing the reader on bytes in memory).
pub fn scan(bytes: &[u8]) -> usize {
    let mut m = HashMap::new();
    read_entries(std::io::Cursor::new(bytes), bytes.len() as u64, 0, &mut m);
    m.len()
}

fn read_entries<R: BufRead + Seek>(
    mut r: R,
    size: u64,
    pack: usize,
    into: &mut HashMap<Key, Entry>,
) {
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut parts = line.trim_end_matches('\n').splitn(5, ' ');
        let (Some(MAGIC), Some(kind), Some(digest), Some(len), Some(media)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return;
        };
        let kind = match kind {
            "m" => "m",
            "b" => "b",
            _ => return,
        };
        let Ok(len) = len.parse::<u64>() else {
            return;
        };
        let Ok(offset) = r.stream_position() else {
            return;
        };
        // A length past the end of the file (a damaged header) ends this pack: nothing is ever
        // allocated for more than the file holds.
        if offset.checked_add(len).is_none_or(|end| end >= size) {
            return;
        }
        if r.seek(std::io::SeekFrom::Current(len as i64 + 1)).is_err() {
            return;
        }
        into.insert(
            (kind, digest.to_string()),
            Entry {
                pack,
                offset,
                len,
                media_type: media.to_string(),
            },
        );
    }
}

fn record(kind: Kind, digest: &str, media_type: &str, bytes: &[u8]) -> Vec<u8> {
    // Header values never hold a newline (digests are checked; media types come from HTTP
    // headers or manifests, and a newline is replaced to be safe).
    let media = if media_type.is_empty() {
        "-".to_string()
    } else {
        media_type.replace(['\n', '\r'], " ")
    };
    let mut out = format!("{MAGIC} {} {digest} {} {media}\n", kind.tag(), bytes.len()).into_bytes();
    out.extend_from_slice(bytes);
    out.push(b'\n');
    out
}

impl Packs {
    pub fn new(dir: &Path) -> Packs {
        Packs {
            dir: dir.join("packs"),
            index: Mutex::new(Index::default()),
            fresh: Mutex::new(Fresh::default()),
        }
    }

    fn load(&self, idx: &mut Index) {
        if idx.loaded {
            return;
        }
        idx.loaded = true;
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        // Only regular files: a link or a special file in place of a pack is never read.
        let mut paths: Vec<PathBuf> = rd
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "pack"))
            .collect();
        // Oldest first, so newer records win.
        paths.sort();
        let total: u64 = paths
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        if total > MAX_TOTAL {
            for p in &paths {
                let _ = std::fs::remove_file(p);
            }
            return;
        }
        idx.total = total;
        for p in paths {
            if let Ok(f) = File::open(&p) {
                let n = idx.files.len();
                read_pack(&f, n, &mut idx.entries);
                idx.files.push((p, f));
            }
        }
    }

    /// The content stored for `digest`, with its media type, if its digest still checks out.
    pub fn get(&self, kind: Kind, digest: &str) -> Option<(String, Vec<u8>)> {
        if let Some(hit) = self.fresh.lock().ok().and_then(|f| {
            let i = *f.at.get(&(kind.tag(), digest.to_string()))?;
            f.items.get(i).map(|(_, m, b)| (m.clone(), b.clone()))
        }) {
            return Some(hit);
        }
        let mut idx = self.index.lock().ok()?;
        self.load(&mut idx);
        let key = (kind.tag(), digest.to_string());
        let e = idx.entries.get(&key)?.clone();
        let mut buf = vec![0u8; e.len as usize];
        let ok = idx.files[e.pack]
            .1
            .read_exact_at(&mut buf, e.offset)
            .is_ok()
            && super::digest::matches(&buf, digest);
        if !ok {
            idx.entries.remove(&key);
            return None;
        }
        Some((e.media_type, buf))
    }

    /// Keeps `bytes` (already checked against `digest` by the caller) for the next flush.
    pub fn put(&self, kind: Kind, digest: &str, media_type: &str, bytes: &[u8]) {
        if let Ok(mut f) = self.fresh.lock() {
            let key = (kind.tag(), digest.to_string());
            if f.at.contains_key(&key) {
                return;
            }
            let i = f.items.len();
            f.at.insert(key.clone(), i);
            f.items.push((key, media_type.to_string(), bytes.to_vec()));
        }
    }

    /// Writes this run's content as one new pack; merges the packs when there are many.
    pub fn flush(&self) {
        let fresh = match self.fresh.lock() {
            Ok(mut f) => std::mem::take(&mut *f),
            Err(_) => return,
        };
        let mut pending = vec![];
        for ((kind, digest), media_type, bytes) in &fresh.items {
            pending.extend(record(Kind::from_tag(kind), digest, media_type, bytes));
        }
        let Ok(mut idx) = self.index.lock() else {
            return;
        };
        self.load(&mut idx);
        if pending.is_empty() && idx.files.len() <= MAX_PACKS {
            return;
        }
        let name = format!(
            "{:020}-{}.pack",
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default(),
            std::process::id()
        );
        if idx.files.len() < MAX_PACKS {
            let _ = super::disk::write_atomic(&self.dir.join(name), &pending);
            return;
        }
        // Merge: every live entry (checked) plus this run's, into one pack.
        let mut merged = vec![];
        let entries: Vec<(Key, Entry)> = idx
            .entries
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for ((kind, digest), e) in entries {
            let mut buf = vec![0u8; e.len as usize];
            if idx.files[e.pack]
                .1
                .read_exact_at(&mut buf, e.offset)
                .is_ok()
                && super::digest::matches(&buf, &digest)
            {
                merged.extend(record(Kind::from_tag(kind), &digest, &e.media_type, &buf));
            }
        }
        merged.extend(pending);
        if super::disk::write_atomic(&self.dir.join(name), &merged).is_ok() {
            for (p, _) in idx.files.drain(..) {
                let _ = std::fs::remove_file(p);
            }
            idx.entries.clear();
            idx.loaded = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(bytes: &[u8]) -> String {
        crate::oci::digest::sha256(bytes)
    }

    #[test]
    fn round_trip_truncation_damage_and_merge() {
        let tmp = tempfile::tempdir().expect("tmp");
        let packs = Packs::new(tmp.path());
        let (a, b) = (b"{\"a\":1}".to_vec(), b"blob\nwith newline".to_vec());
        packs.put(
            Kind::Manifest,
            &d(&a),
            "application/vnd.oci.image.manifest.v1+json",
            &a,
        );
        packs.put(Kind::Blob, &d(&b), "-", &b);
        packs.flush();

        let again = Packs::new(tmp.path());
        let (mt, got) = again.get(Kind::Manifest, &d(&a)).expect("manifest");
        assert_eq!(
            (mt.as_str(), got),
            ("application/vnd.oci.image.manifest.v1+json", a.clone())
        );
        assert_eq!(again.get(Kind::Blob, &d(&b)).expect("blob").1, b);
        assert!(again.get(Kind::Blob, &d(&a)).is_none(), "kinds are apart");

        // A pack cut short keeps the records before the cut.
        let dir = tmp.path().join("packs");
        let path = std::fs::read_dir(&dir)
            .expect("dir")
            .flatten()
            .next()
            .expect("pack")
            .path();
        let full = std::fs::read(&path).expect("read");
        std::fs::write(&path, &full[..full.len() - 5]).expect("cut");
        let cut = Packs::new(tmp.path());
        assert!(cut.get(Kind::Manifest, &d(&a)).is_some());
        assert!(cut.get(Kind::Blob, &d(&b)).is_none());

        // A header claiming more than the file holds is never believed (nor allocated).
        let huge = String::from_utf8_lossy(&full).replacen(
            &format!(" {} ", a.len()),
            " 999999999999999 ",
            1,
        );
        std::fs::write(&path, huge.as_bytes()).expect("huge");
        assert!(Packs::new(tmp.path()).get(Kind::Manifest, &d(&a)).is_none());

        // Damaged content is a miss.
        let mut bad = full.clone();
        let at = bad
            .windows(5)
            .position(|w| w == b"{\"a\":")
            .expect("content");
        bad[at + 5] = b'9';
        std::fs::write(&path, &bad).expect("damage");
        assert!(Packs::new(tmp.path()).get(Kind::Manifest, &d(&a)).is_none());
        std::fs::write(&path, &full).expect("restore");

        // Many packs merge into one that still holds everything.
        for i in 0..MAX_PACKS + 1 {
            let p = Packs::new(tmp.path());
            let x = format!("content {i}").into_bytes();
            p.put(Kind::Blob, &d(&x), "-", &x);
            p.flush();
        }
        let count = std::fs::read_dir(&dir).expect("dir").count();
        assert!(count <= 2, "{count} packs after merging");
        let merged = Packs::new(tmp.path());
        assert!(merged.get(Kind::Manifest, &d(&a)).is_some());
        for i in 0..MAX_PACKS + 1 {
            let x = format!("content {i}").into_bytes();
            assert_eq!(merged.get(Kind::Blob, &d(&x)).expect("merged").1, x);
        }
    }
}
