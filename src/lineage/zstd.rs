//! A zstd stream as runtimes read it: every frame, one after another (skippable frames
//! skipped), not just the first. `ruzstd`'s streaming decoder reads one frame; this reader
//! starts a new one wherever the last ended while input remains.

use ruzstd::decoding::StreamingDecoder;
use std::io::Read;

/// A reader that can be given back bytes it was read ahead of.
pub struct Pushback<R> {
    pending: Vec<u8>,
    inner: R,
}

impl<R: Read> Read for Pushback<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.pending.is_empty() {
            let n = buf.len().min(self.pending.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

/// Every frame of a zstd stream, decoded in order.
pub struct Frames<R: Read> {
    decoder: Option<StreamingDecoder<Pushback<R>, ruzstd::decoding::FrameDecoder>>,
    source: Option<Pushback<R>>,
}

impl<R: Read> Frames<R> {
    pub fn new(inner: R) -> Self {
        Frames {
            decoder: None,
            source: Some(Pushback {
                pending: vec![],
                inner,
            }),
        }
    }
}

/// Reads up to `buf.len()` bytes, fewer only at the end of input.
pub(super) fn fill(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A skippable frame's magic: 0x184D2A50 to 0x184D2A5F, little-endian.
fn is_skippable(magic: &[u8; 4]) -> bool {
    magic[0] & 0xf0 == 0x50 && magic[1..] == [0x2a, 0x4d, 0x18]
}

impl<R: Read> Read for Frames<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(d) = &mut self.decoder {
                let n = d.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                // This frame is done: the rest of the input may hold another.
                self.source = self.decoder.take().map(StreamingDecoder::into_inner);
            }
            let Some(mut src) = self.source.take() else {
                return Ok(0);
            };
            let mut magic = [0u8; 4];
            let n = fill(&mut src, &mut magic)?;
            if n == 0 {
                return Ok(0);
            }
            if n == 4 && is_skippable(&magic) {
                let mut len = [0u8; 4];
                if fill(&mut src, &mut len)? < 4 {
                    return Err(std::io::Error::other("a truncated skippable zstd frame"));
                }
                let len = u64::from(u32::from_le_bytes(len));
                let skipped = std::io::copy(&mut (&mut src).take(len), &mut std::io::sink())?;
                if skipped < len {
                    return Err(std::io::Error::other("a truncated skippable zstd frame"));
                }
                self.source = Some(src);
                continue;
            }
            src.pending.splice(0..0, magic[..n].iter().copied());
            let d = StreamingDecoder::new(src)
                .map_err(|e| std::io::Error::other(format!("not a zstd frame: {e}")))?;
            self.decoder = Some(d);
        }
    }
}
