//! The API key scrubbed from answers as they stream in.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};

pub(crate) use crate::error::{MIN_SCRUB_LEN, REDACTED};

/// The API key, ready to be searched for (built once per client: a
/// `memchr::memmem` finder, not a byte-by-byte window compare).
pub(crate) struct KeyFinder {
    finder: memchr::memmem::Finder<'static>,
}

impl KeyFinder {
    /// `None` for keys shorter than [`MIN_SCRUB_LEN`] (every `k` of a body
    /// would be replaced).
    pub(crate) fn new(key: &str) -> Option<Arc<Self>> {
        (key.len() >= MIN_SCRUB_LEN).then(|| {
            Arc::new(Self {
                finder: memchr::memmem::Finder::new(key.as_bytes()).into_owned(),
            })
        })
    }

    fn len(&self) -> usize {
        self.finder.needle().len()
    }

    /// Whether `hay` holds the key.
    pub(crate) fn found_in(&self, hay: &[u8]) -> bool {
        self.finder.find(hay).is_some()
    }
}

/// Replaces the key in a stream of chunks; the last `key.len() - 1` bytes
/// of each chunk wait for the next, so a key split between two is found.
pub(crate) struct Scrubber {
    key: Arc<KeyFinder>,
    held: Vec<u8>,
}

impl Scrubber {
    pub(super) fn new(key: Arc<KeyFinder>) -> Self {
        Self {
            key,
            held: Vec::new(),
        }
    }

    /// Whether a tail that could begin a key waits for the next chunk.
    pub(super) fn holding(&self) -> bool {
        !self.held.is_empty()
    }

    pub(super) fn push(&mut self, chunk: Bytes) -> Bytes {
        if self.held.is_empty() && !self.key.found_in(&chunk) {
            // The usual case: no key, nothing held. Only a tail that could
            // begin a key waits for the next chunk; the rest goes on
            // without a copy.
            let cut = self.key_start_in_tail(&chunk);
            self.held = chunk[cut..].to_vec();
            return chunk.slice(..cut);
        }
        let mut buf = std::mem::take(&mut self.held);
        buf.extend_from_slice(&chunk);
        let keep = buf.len().saturating_sub(self.key.len() - 1);
        let (out, rest) = self.replace(&buf, keep);
        self.held = buf[rest..].to_vec();
        out
    }

    /// Where, in `chunk`'s last `key.len() - 1` bytes, the earliest
    /// suffix that is a beginning of the key starts (`chunk.len()` if none).
    fn key_start_in_tail(&self, chunk: &[u8]) -> usize {
        let key = self.key.finder.needle();
        let from = chunk.len().saturating_sub(key.len() - 1);
        (from..chunk.len())
            .find(|&i| key.starts_with(&chunk[i..]))
            .unwrap_or(chunk.len())
    }

    /// The last chunk: everything held back and `chunk`, scrubbed to the
    /// end. `chunk` itself when nothing is held and the key is not in it.
    pub(super) fn push_last(&mut self, chunk: Bytes) -> Bytes {
        if self.held.is_empty() {
            if !self.key.found_in(&chunk) {
                return chunk;
            }
            return self.replace(&chunk, chunk.len()).0;
        }
        let mut buf = std::mem::take(&mut self.held);
        buf.extend_from_slice(&chunk);
        self.replace(&buf, buf.len()).0
    }

    pub(super) fn finish(&mut self) -> Option<Bytes> {
        if self.held.is_empty() {
            return None;
        }
        let buf = std::mem::take(&mut self.held);
        Some(self.replace(&buf, buf.len()).0)
    }

    /// `buf` with the key replaced, up to where the bytes from `keep` on
    /// could begin a key; and where that is.
    fn replace(&self, buf: &[u8], keep: usize) -> (Bytes, usize) {
        let mut out = BytesMut::with_capacity(buf.len());
        let mut i = 0;
        while i < keep {
            match self.key.finder.find(&buf[i..]) {
                Some(p) if i + p < keep => {
                    out.extend_from_slice(&buf[i..i + p]);
                    out.extend_from_slice(REDACTED.as_bytes());
                    i += p + self.key.len();
                }
                _ => {
                    out.extend_from_slice(&buf[i..keep]);
                    i = keep;
                }
            }
        }
        (out.freeze(), i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrub_all(key: &str, chunks: &[&str]) -> String {
        let finder = KeyFinder::new(key).unwrap();
        let mut s = Scrubber::new(finder.clone());
        let mut out = Vec::new();
        for c in chunks {
            out.extend_from_slice(&s.push(Bytes::copy_from_slice(c.as_bytes())));
        }
        out.extend_from_slice(&s.finish().unwrap_or_default());
        // The same chunks with the last one known to be the last.
        let mut s = Scrubber::new(finder);
        let mut last = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            if i + 1 == chunks.len() {
                last.extend_from_slice(&s.push_last(Bytes::copy_from_slice(c.as_bytes())));
            } else {
                last.extend_from_slice(&s.push(Bytes::copy_from_slice(c.as_bytes())));
            }
        }
        assert!(s.finish().is_none());
        assert_eq!(out, last);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_key_is_scrubbed_across_chunks() {
        assert_eq!(scrub_all("secret", &["a secret b"]), "a [REDACTED] b");
        assert_eq!(
            scrub_all("secret", &["a sec", "ret b se", "cret"]),
            "a [REDACTED] b [REDACTED]"
        );
        assert_eq!(scrub_all("secret", &["s", "e", "c"]), "sec");
        assert_eq!(
            scrub_all("secret", &["secretsecret"]),
            "[REDACTED][REDACTED]"
        );
        assert_eq!(scrub_all("secret", &["nothing here"]), "nothing here");
    }

    #[test]
    fn any_split_scrubs_as_one_chunk_does() {
        let text = "se xx secret yy secretsecret sec s";
        let whole = scrub_all("secret", &[text]);
        assert_eq!(whole, "se xx [REDACTED] yy [REDACTED][REDACTED] sec s");
        for i in 0..=text.len() {
            for j in i..=text.len() {
                let parts = [&text[..i], &text[i..j], &text[j..]];
                assert_eq!(scrub_all("secret", &parts), whole, "split at {i}, {j}");
            }
        }
    }
}
