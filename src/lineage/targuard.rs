//! A bound on tar metadata before the tar reader sees it. The `tar` crate reads a GNU long
//! name or link (`L`, `K`) and a PAX record (`x`, `g`) whole into memory, whatever size its
//! header claims: one 145 KB zstd layer claiming a 4 GiB long name took 8.4 GB. This reader
//! follows the stream's headers (GNU sparse extension blocks and PAX `size` overrides
//! included) and refuses a metadata entry larger than `MAX_META` before a byte of it is read.

use super::zstd::fill;
use std::io::Read;

/// The largest long name, long link or PAX record read.
pub const MAX_META: u64 = 1 << 20;

const BLOCK: usize = 512;

/// Passes a tar stream through, refusing oversized metadata entries.
pub struct Guard<R> {
    inner: R,
    /// A header (or extension block) being passed on.
    out: Vec<u8>,
    pos: usize,
    /// Bytes of the current entry's data (with padding) still to pass through.
    data_left: u64,
    /// GNU sparse extension blocks still to pass through.
    sparse_ext: bool,
    /// A PAX `x` record being collected (its `size` overrides the next header's).
    pax: Option<Vec<u8>>,
    next_size: Option<u64>,
}

impl<R: Read> Guard<R> {
    pub fn new(inner: R) -> Self {
        Guard {
            inner,
            out: vec![],
            pos: 0,
            data_left: 0,
            sparse_ext: false,
            pax: None,
            next_size: None,
        }
    }
}

/// A header's numeric field: octal text, or base-256 when the top bit is set.
fn number(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for b in &field[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(*b))?;
        }
        return Some(v);
    }
    let text: String = field
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| *b as char)
        .collect();
    let t = text.trim();
    if t.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(t, 8).ok()
}

/// The `size` keyword of PAX records (`LEN size=N\n`).
fn pax_size(records: &[u8]) -> Option<u64> {
    String::from_utf8_lossy(records)
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(_, kv)| kv))
        .find_map(|kv| kv.strip_prefix("size=").and_then(|v| v.trim().parse().ok()))
}

fn padded(n: u64) -> u64 {
    n.div_ceil(BLOCK as u64) * BLOCK as u64
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.pos < self.out.len() {
            let n = buf.len().min(self.out.len() - self.pos);
            buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        if self.data_left > 0 {
            let want = buf.len().min(self.data_left.min(1 << 16) as usize);
            let n = self.inner.read(&mut buf[..want])?;
            self.data_left -= n as u64;
            if let Some(p) = &mut self.pax {
                p.extend_from_slice(&buf[..n]);
                if self.data_left == 0 {
                    self.next_size = pax_size(p);
                    self.pax = None;
                }
            }
            return Ok(n);
        }
        let mut h = vec![0u8; BLOCK];
        let n = fill(&mut self.inner, &mut h)?;
        h.truncate(n);
        if n < BLOCK {
            // The end (or a short tail the tar reader will judge).
            self.out = h;
            self.pos = 0;
            return if n == 0 { Ok(0) } else { self.read(buf) };
        }
        if self.sparse_ext {
            // A GNU sparse extension block: another follows while byte 504 says so.
            self.sparse_ext = h[504] != 0;
        } else if h.iter().any(|b| *b != 0) {
            let kind = h[156];
            let size = self
                .next_size
                .take()
                .filter(|_| !matches!(kind, b'x' | b'g'))
                .or_else(|| number(&h[124..136]));
            if let Some(size) = size {
                if matches!(kind, b'L' | b'K' | b'x' | b'g') && size > MAX_META {
                    let what = match kind {
                        b'L' => "long name",
                        b'K' => "long link name",
                        _ => "PAX record",
                    };
                    return Err(std::io::Error::other(format!(
                        "a tar header claims a {size}-byte {what} (more than {MAX_META} bytes): the layer is not read further"
                    )));
                }
                self.data_left = padded(size);
                if kind == b'x' {
                    self.pax = Some(vec![]);
                }
                if kind == b'S' && h[482] != 0 {
                    self.sparse_ext = true;
                }
            }
        }
        self.out = h;
        self.pos = 0;
        self.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: u8, size: u64) -> Vec<u8> {
        let mut h = vec![0u8; BLOCK];
        h[..4].copy_from_slice(b"name");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[156] = kind;
        h
    }

    #[test]
    fn an_oversized_long_name_is_refused_before_it_is_read() {
        let stream = header(b'L', 4 << 30);
        let mut g = Guard::new(stream.as_slice());
        let mut out = vec![];
        let e = g.read_to_end(&mut out).expect_err("refused");
        assert!(e.to_string().contains("long name"), "{e}");
    }

    #[test]
    fn ordinary_entries_pass_through_unchanged() {
        let mut tar = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_cksum();
        let long = "d/".repeat(80) + "file";
        tar.append_data(&mut h, &long, &b"abc"[..]).expect("append");
        let raw = tar.into_inner().expect("tar");
        let mut out = vec![];
        Guard::new(raw.as_slice())
            .read_to_end(&mut out)
            .expect("read");
        assert_eq!(out, raw);
    }
}
