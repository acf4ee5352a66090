//! Limits on a request's head, below hyper: at most [`MAX_HEAD_BYTES`] bytes and [`MAX_HEADER_LINES`]
//! header lines. hyper answers a head it cannot parse with 400 and closes the connection, but a head that
//! is merely too large with 431; the exporter answers both with 400. So the stream under hyper counts each
//! head's bytes and lines (nothing more: where a head ends is an empty line) and, at the first byte past a
//! limit, hands hyper a NUL instead — a byte no part of a request head may hold — and an empty line (after
//! a partial head hyper parses again only once it sees one), then the end of the stream. hyper itself
//! parses everything.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most bytes of one request head (request line and headers, line ends included).
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// The most header lines of one request (the request line not counted).
pub const MAX_HEADER_LINES: usize = 64;

/// Where the scan of the current head is.
#[derive(Debug, Default)]
struct Scan {
    bytes: usize,
    /// Lines ended so far in this head (the request line is the first).
    lines: usize,
    /// Bytes of the current line other than CR.
    line_len: usize,
}

impl Scan {
    /// Take one byte; false once the head is past a limit.
    fn push(&mut self, b: u8) -> bool {
        self.bytes += 1;
        if self.bytes > MAX_HEAD_BYTES {
            return false;
        }
        match b {
            // An empty line ends a head that has begun; blank lines before a request line (which hyper
            // skips) count towards the limit of the head they precede.
            b'\n' if self.line_len == 0 && self.lines > 0 => *self = Scan::default(),
            b'\n' if self.line_len == 0 => {}
            b'\n' => {
                self.lines += 1;
                self.line_len = 0;
            }
            b'\r' => {}
            _ => self.line_len += 1,
        }
        self.lines <= MAX_HEADER_LINES + 1
    }
}

/// A stream whose request heads are held to the limits.
pub struct HeadLimit<S> {
    inner: S,
    scan: Scan,
    /// A limit was passed: what is left of [`CUT`] to hand over, then the end of the stream.
    cut: Option<&'static [u8]>,
}

/// What hyper reads in place of the first byte past a limit.
const CUT: &[u8] = b"\0\r\n\r\n";

impl<S> HeadLimit<S> {
    pub fn new(inner: S) -> HeadLimit<S> {
        HeadLimit {
            inner,
            scan: Scan::default(),
            cut: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for HeadLimit<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.cut.is_none() {
            let before = buf.filled().len();
            ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
            let past = buf.filled()[before..]
                .iter()
                .position(|&b| !this.scan.push(b));
            let Some(i) = past else {
                return Poll::Ready(Ok(()));
            };
            buf.set_filled(before + i);
            this.cut = Some(CUT);
        }
        if let Some(tail) = &mut this.cut {
            let n = tail.len().min(buf.remaining());
            buf.put_slice(&tail[..n]);
            *tail = &tail[n..];
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HeadLimit<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &[u8]) -> Option<usize> {
        let mut s = Scan::default();
        text.iter().position(|&b| !s.push(b))
    }

    #[test]
    fn heads_within_the_limits_pass_and_each_head_starts_afresh() {
        let mut head = b"GET /metrics HTTP/1.1\r\n".to_vec();
        for i in 0..MAX_HEADER_LINES {
            head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        assert_eq!(scan(&head), None);
        // Two such heads on one connection (keep-alive) are two heads.
        let two = [head.clone(), head].concat();
        assert_eq!(scan(&two), None);
        // Bare line feeds end lines and heads too.
        assert_eq!(scan(b"GET / HTTP/1.1\nHost: x\n\n"), None);
    }

    #[test]
    fn one_line_too_many_or_one_byte_too_many_is_cut() {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADER_LINES {
            head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        assert_eq!(scan(&head), Some(head.len() - 1));
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.resize(MAX_HEAD_BYTES, b'a');
        assert_eq!(scan(&big), None);
        big.push(b'a');
        assert_eq!(scan(&big), Some(MAX_HEAD_BYTES));
        // Blank lines before a request line count towards its head: they do not start it afresh.
        let mut blank = b"\r\n".repeat(MAX_HEAD_BYTES);
        blank.extend_from_slice(b"GET /-/healthy HTTP/1.1\r\n\r\n");
        assert_eq!(scan(&blank), Some(MAX_HEAD_BYTES));
    }
}
