//! [`InputReader`]: an input file (a history, a plan) as a parser reads it, with the checks
//! every input gets before its content is looked at: at most a limit of bytes, UTF-8 checked
//! as it arrives (naming the offset of the first bad byte), a leading byte-order mark dropped.
//! It holds one buffer whatever the file's size, so a device that never ends (`/dev/zero`) is
//! refused at its first byte by the parser, or at the limit, without being held.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;

const BUFFER: usize = 64 << 10;
const BOM: &[u8] = "\u{feff}".as_bytes();

/// Reads a file (or any reader) for a parser: at most `limit` bytes, checked to be UTF-8 as
/// they are read, a leading byte-order mark dropped. Errors are `io::Error`s of kind
/// `InvalidData` whose text says what is wrong (`not UTF-8 (invalid byte at offset 1)`,
/// `larger than 512 MiB; not read`); the caller names the file.
pub struct InputReader<R> {
    inner: R,
    buf: Box<[u8]>,
    /// The next byte to hand out.
    pos: usize,
    /// The end of the bytes checked to be UTF-8 (`pos..valid` can be handed out).
    valid: usize,
    /// The end of the bytes read (`valid..filled`: the start of a character not read whole).
    filled: usize,
    /// The offset in the input of `buf[0]`.
    offset: u64,
    /// Bytes read from `inner`.
    read: u64,
    limit: u64,
    /// Whether the start of the input was looked at for a byte-order mark.
    started: bool,
    /// A problem found after bytes before it were handed out: reported at the next read.
    failed: Option<String>,
}

impl InputReader<File> {
    /// Opens `path` for reading at most `limit` bytes.
    pub fn open(path: &Path, limit: u64) -> io::Result<Self> {
        Ok(InputReader::new(File::open(path)?, limit))
    }
}

impl<R: Read> InputReader<R> {
    /// Reads `inner`, at most `limit` bytes.
    pub fn new(inner: R, limit: u64) -> Self {
        InputReader {
            inner,
            buf: vec![0; BUFFER].into_boxed_slice(),
            pos: 0,
            valid: 0,
            filled: 0,
            offset: 0,
            read: 0,
            limit,
            started: false,
            failed: None,
        }
    }

    /// The whole input as text (for inputs parsed from a `&str`).
    pub fn read_text(mut self) -> io::Result<String> {
        let mut text = String::new();
        loop {
            let chunk = self.fill_buf()?;
            if chunk.is_empty() {
                return Ok(text);
            }
            // Checked as it was read.
            text.push_str(std::str::from_utf8(chunk).map_err(invalid)?);
            let n = chunk.len();
            self.consume(n);
        }
    }

    fn error(&mut self, message: String) -> io::Error {
        self.failed = Some(message.clone());
        io::Error::new(io::ErrorKind::InvalidData, message)
    }

    /// Reads until some checked bytes can be handed out, or the input ends.
    fn fill(&mut self) -> io::Result<()> {
        // Keep the start of a character not read whole; drop what was handed out.
        self.buf.copy_within(self.valid..self.filled, 0);
        self.offset += self.valid as u64;
        self.filled -= self.valid;
        self.pos = 0;
        self.valid = 0;
        loop {
            let n = loop {
                match self.inner.read(&mut self.buf[self.filled..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            self.read += n as u64;
            if self.read > self.limit {
                let limit = self.limit;
                return Err(self.error(format!("larger than {}; not read", size(limit))));
            }
            self.filled += n;
            let end = n == 0;
            if !self.started {
                if self.filled < BOM.len() && !end {
                    continue;
                }
                self.started = true;
                if self.buf[..self.filled].starts_with(BOM) {
                    self.pos = BOM.len();
                }
            }
            match std::str::from_utf8(&self.buf[..self.filled]) {
                Ok(_) => self.valid = self.filled,
                Err(e) if e.error_len().is_none() && !end => self.valid = e.valid_up_to(),
                Err(e) => {
                    // A bad byte, or a character cut short by the end of the input: what comes
                    // before it is handed out first.
                    self.valid = e.valid_up_to();
                    let at = self.offset + e.valid_up_to() as u64;
                    let message = format!("not UTF-8 (invalid byte at offset {at})");
                    if self.valid <= self.pos {
                        return Err(self.error(message));
                    }
                    self.failed = Some(message);
                }
            }
            if self.valid > self.pos || end {
                return Ok(());
            }
        }
    }
}

fn invalid(e: std::str::Utf8Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// `512 MiB`, `64 KiB`, `100 bytes`.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

impl<R: Read> BufRead for InputReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.valid {
            if let Some(message) = &self.failed {
                return Err(io::Error::new(io::ErrorKind::InvalidData, message.clone()));
            }
            self.fill()?;
        }
        Ok(&self.buf[self.pos..self.valid])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.valid);
    }
}

impl<R: Read> Read for InputReader<R> {
    #[inline]
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // serde_json reads a byte at a time.
        if out.len() == 1 && self.pos < self.valid {
            out[0] = self.buf[self.pos];
            self.pos += 1;
            return Ok(1);
        }
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader handing out `chunk` bytes per read, to cut characters across reads.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn text(bytes: &[u8], chunk: usize, limit: u64) -> Result<String, String> {
        InputReader::new(Trickle(bytes, chunk), limit)
            .read_text()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn text_is_checked_as_it_is_read() {
        for chunk in [1, 2, 3, 5, BUFFER] {
            assert_eq!(text(b"{}", chunk, 10).as_deref(), Ok("{}"));
            assert_eq!(
                text("\u{feff}é{}".as_bytes(), chunk, 10).as_deref(),
                Ok("é{}")
            );
            assert_eq!(text("\u{feff}".as_bytes(), chunk, 10).as_deref(), Ok(""));
            assert_eq!(text("é".as_bytes(), chunk, 10).as_deref(), Ok("é"));
            assert_eq!(text("a€b".as_bytes(), chunk, 10).as_deref(), Ok("a€b"));
            assert_eq!(
                text(b"{\xe9}", chunk, 10),
                Err("not UTF-8 (invalid byte at offset 1)".into())
            );
            assert_eq!(
                text(b"ab\xe2\x82", chunk, 10),
                Err("not UTF-8 (invalid byte at offset 2)".into())
            );
            assert_eq!(
                text(b"12345678901", chunk, 10),
                Err("larger than 10 bytes; not read".into())
            );
            assert_eq!(text(b"1234567890", chunk, 10).as_deref(), Ok("1234567890"));
        }
        let big = vec![b' '; 3 * BUFFER + 7];
        assert_eq!(
            text(&big, BUFFER, 4 * BUFFER as u64).unwrap().len(),
            big.len()
        );
        assert_eq!(
            text(&big, BUFFER, 3 * BUFFER as u64),
            Err("larger than 192 KiB; not read".into())
        );
    }

    #[test]
    fn a_bad_byte_after_good_text_is_reported_after_it() {
        let mut r = InputReader::new(Trickle(b"[1, \xff]", 100), 100);
        let mut head = [0u8; 4];
        assert_eq!(r.read(&mut head).unwrap(), 4);
        assert_eq!(&head, b"[1, ");
        let e = r.read(&mut head).unwrap_err();
        assert_eq!(e.to_string(), "not UTF-8 (invalid byte at offset 4)");
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}
