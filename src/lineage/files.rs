//! The files of image layers, read as streams: a layer's chunks flow from the registry into a
//! tar reader on a blocking thread (gzip, zstd or plain tar, told apart by their magic bytes), each file's
//! content is hashed on the way and never written anywhere. Caps: entries and bytes per layer,
//! path length. Paths come from the registry: they are sanitized wherever shown.

use crate::oci::media::Descriptor;
use crate::oci::Store;
use futures::StreamExt;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::io::Read;

/// Entries read per layer, and uncompressed bytes per layer.
pub const MAX_ENTRIES: usize = 200_000;
pub const MAX_BYTES: u64 = 8 * 1024 * 1024 * 1024;
/// Bytes of file names read per comparison side (every layer together).
pub const MAX_NAME_BYTES: usize = 32 << 20;

/// What one side of a comparison may still read: entries, bytes of files, bytes of names.
/// One budget covers every layer of an image (`flattened`), not each layer afresh.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub entries: usize,
    pub bytes: u64,
    pub names: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            entries: MAX_ENTRIES,
            bytes: MAX_BYTES,
            names: MAX_NAME_BYTES,
        }
    }
}
/// The largest compressed layer read.
const MAX_LAYER: u64 = 4 * 1024 * 1024 * 1024;

/// A zstd frame's first four bytes.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// One file as a layer holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub kind: &'static str,
    pub size: u64,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// SHA-256 of the content (regular files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl Entry {
    /// What a comparison looks at; `semantic` leaves the modification time out.
    pub fn describe(&self, semantic: bool) -> String {
        let mut s = format!(
            "{} {} B mode {:o} {}:{}",
            self.kind, self.size, self.mode, self.uid, self.gid
        );
        if let Some(l) = &self.link {
            s.push_str(&format!(" → {l}"));
        }
        if let Some(d) = &self.digest {
            s.push_str(&format!(" {}", crate::oci::digest::short(d)));
        }
        if !semantic {
            s.push_str(&format!(" mtime {}", self.mtime));
        }
        s
    }
}

/// A std reader over chunks sent from the async side.
struct Chunks {
    rx: std::sync::mpsc::Receiver<Result<bytes::Bytes, String>>,
    current: bytes::Bytes,
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.recv() {
                Ok(Ok(b)) => self.current = b,
                Ok(Err(e)) => return Err(std::io::Error::other(e)),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

fn read_tar(reader: impl Read, budget: &mut Budget) -> Result<BTreeMap<String, Entry>, String> {
    let Budget {
        entries: ref mut entries_left,
        bytes: ref mut bytes_left,
        names: ref mut names_left,
    } = *budget;
    let mut out = BTreeMap::new();
    // Long names and PAX records are bounded before the tar reader buffers them.
    let mut archive = tar::Archive::new(super::targuard::Guard::new(reader));
    for e in archive.entries().map_err(|e| format!("not a tar: {e}"))? {
        let mut e = e.map_err(|e| format!("reading the tar: {e}"))?;
        if *entries_left == 0 {
            return Err(format!(
                "more than {MAX_ENTRIES} files in the image (the cap for one comparison)"
            ));
        }
        *entries_left -= 1;
        let h = e.header().clone();
        // A PAX sparse file (GNU format 1.0) is archived as `GNUSparseFile.<n>/name`; runtimes
        // unpack it under `GNU.sparse.name`, with `GNU.sparse.realsize` bytes.
        let (mut sparse_name, mut real_size) = (None, None);
        if let Ok(Some(exts)) = e.pax_extensions() {
            for x in exts.flatten() {
                match x.key() {
                    Ok("GNU.sparse.name") => sparse_name = x.value().ok().map(str::to_string),
                    Ok("GNU.sparse.realsize") | Ok("GNU.sparse.size") => {
                        real_size = x.value().ok().and_then(|v| v.trim().parse::<u64>().ok())
                    }
                    _ => {}
                }
            }
        }
        let raw_path = match &sparse_name {
            Some(n) => n.as_bytes().to_vec(),
            None => e.path_bytes().into_owned(),
        };
        let path = String::from_utf8_lossy(&raw_path)
            .trim_start_matches("./")
            .trim_end_matches('/')
            .chars()
            .take(4096)
            .collect::<String>();
        let kind = match h.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => "file",
            tar::EntryType::Directory => "dir",
            tar::EntryType::Symlink => "symlink",
            tar::EntryType::Link => "hardlink",
            _ => "other",
        };
        let stored = h.size().unwrap_or(0);
        let size = real_size.unwrap_or(stored);
        if stored > *bytes_left {
            return Err(format!(
                "more than {MAX_BYTES} bytes of files in the image (the cap for one comparison)"
            ));
        }
        *bytes_left -= stored;
        if path.len() > *names_left {
            return Err(format!(
                "more than {MAX_NAME_BYTES} bytes of file names in the image (the cap for one comparison)"
            ));
        }
        *names_left -= path.len();
        let digest = if kind == "file" {
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = e
                    .read(&mut buf)
                    .map_err(|e| format!("reading {path}: {e}"))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            Some(format!("sha256:{}", hex::encode(hasher.finalize())))
        } else {
            None
        };
        let link = e
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).chars().take(4096).collect());
        out.insert(
            path,
            Entry {
                kind,
                size,
                mode: h.mode().unwrap_or(0),
                uid: h.uid().unwrap_or(0),
                gid: h.gid().unwrap_or(0),
                mtime: h.mtime().unwrap_or(0),
                link,
                digest,
            },
        );
    }
    Ok(out)
}

/// The files a layer's bytes hold: gzip, zstd or plain tar, told apart by their magic bytes.
/// Every gzip member and every zstd frame is read, one after another: what runtimes unpack.
pub fn decode_layer(
    mut r: impl Read,
    mut budget: Budget,
) -> Result<(BTreeMap<String, Entry>, Budget), String> {
    let mut magic = [0u8; 4];
    let n = super::zstd::fill(&mut r, &mut magic).map_err(|e| e.to_string())?;
    let head = std::io::Cursor::new(magic[..n].to_vec()).chain(r);
    let files = if n >= 2 && magic[..2] == [0x1f, 0x8b] {
        read_tar(flate2::read::MultiGzDecoder::new(head), &mut budget)
    } else if n == 4 && magic == ZSTD_MAGIC {
        read_tar(super::zstd::Frames::new(head), &mut budget)
    } else {
        read_tar(head, &mut budget)
    }?;
    Ok((files, budget))
}

/// The files of one layer.
pub async fn layer_files(
    store: &impl Store,
    repo: &str,
    layer: &Descriptor,
) -> Result<BTreeMap<String, Entry>, String> {
    Ok(layer_files_within(store, repo, layer, Budget::default())
        .await?
        .0)
}

/// The files of one layer within what `budget` leaves, and what it leaves after.
pub async fn layer_files_within(
    store: &impl Store,
    repo: &str,
    layer: &Descriptor,
    budget: Budget,
) -> Result<(BTreeMap<String, Entry>, Budget), String> {
    let mut stream = store
        .open_blob(repo, &layer.digest, MAX_LAYER)
        .await
        .map_err(|e| e.to_string())?;
    let (tx, rx) = std::sync::mpsc::sync_channel(4);
    let reader = tokio::task::spawn_blocking(move || {
        crate::failpoint::panic_at("layer-reader");
        decode_layer(
            Chunks {
                rx,
                current: bytes::Bytes::new(),
            },
            budget,
        )
    });
    // The layer is hashed as it streams: its digest must be the one the manifest names (the
    // whole blob is read even when the tar ends before its padding).
    let mut hasher = Sha256::new();
    let mut sending = true;
    while let Some(c) = stream.next().await {
        match c {
            Ok(b) => {
                hasher.update(&b);
                if sending && tx.send(Ok(b)).is_err() {
                    sending = false;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e.to_string()));
                drop(tx);
                let _ = reader.await;
                return Err(e.to_string());
            }
        }
    }
    drop(tx);
    // A failure inside the reader is an error with a sentence, never a bare "task panicked".
    let (files, left) = reader.await.map_err(|e| {
        format!(
            "reading layer {} failed inside provost ({e}); this is a bug, please report it",
            crate::oci::digest::short(&layer.digest)
        )
    })??;
    let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
    if actual != layer.digest {
        return Err(format!(
            "layer {} holds content with digest {actual}",
            layer.digest
        ));
    }
    Ok((files, left))
}

/// The filesystem an image's layers make, in order, with OCI whiteouts applied.
pub async fn flattened(
    store: &impl Store,
    repo: &str,
    layers: &[Descriptor],
) -> Result<BTreeMap<String, Entry>, String> {
    let mut fs: BTreeMap<String, Entry> = BTreeMap::new();
    // One budget for the whole image: four layers of long names are not four budgets.
    let mut budget = Budget::default();
    for l in layers {
        let (files, left) = layer_files_within(store, repo, l, budget).await?;
        budget = left;
        // Whiteouts hide what the layers below hold (whatever their order in this layer's
        // tar); then this layer's own entries go on top.
        let mut own = vec![];
        for (path, e) in files {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
            if name == ".wh..wh..opq" {
                if dir.is_empty() {
                    // At the root: nothing below survives.
                    fs.clear();
                } else {
                    let prefix = format!("{dir}/");
                    fs.retain(|p, _| !p.starts_with(&prefix));
                }
                continue;
            }
            if let Some(gone) = name.strip_prefix(".wh.") {
                let target = if dir.is_empty() {
                    gone.to_string()
                } else {
                    format!("{dir}/{gone}")
                };
                let prefix = format!("{target}/");
                fs.retain(|p, _| *p != target && !p.starts_with(&prefix));
                continue;
            }
            own.push((path, e));
        }
        fs.extend(own);
    }
    Ok(fs)
}
