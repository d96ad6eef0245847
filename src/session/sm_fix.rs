//! Works around a parser gap that made every session die after a server restart.
//!
//! XEP-0198 lets a server answer a failed resumption with `<failed/>` without an `h`
//! attribute (Prosody does, when it no longer knows the session, e.g. after a
//! restart). xmpp-parsers 0.23 requires `h`, so tokio-xmpp 6 saw an invalid element,
//! dropped the connection and tried to resume again, forever: the account never came
//! back. This transport filter adds `h='0'` to such an element (tokio-xmpp treats `h`
//! on a failed resumption as an optimisation only) so the client binds a fresh session.
//! Everything else passes through untouched.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const PATTERNS: [&[u8]; 2] = [
    b"<failed xmlns='urn:xmpp:sm:3'",
    b"<failed xmlns=\"urn:xmpp:sm:3\"",
];
/// Longest unfinished tag we hold back while waiting for its `>`.
const MAX_CARRY: usize = 512;

pub struct SmFailedFix<T> {
    inner: T,
    /// Bytes ready for the reader.
    out: Vec<u8>,
    /// An unfinished tag at the end of what we read, kept until it is complete.
    carry: Vec<u8>,
}

impl<T> SmFailedFix<T> {
    pub fn new(inner: T) -> Self {
        SmFailedFix {
            inner,
            out: Vec::new(),
            carry: Vec::new(),
        }
    }
}

/// Adds `h='0'` to every `<failed xmlns='urn:xmpp:sm:3'…>` start tag that lacks `h`.
/// `data` holds only complete tags.
fn patch(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    let mut i = 0;
    while i < data.len() {
        let hit = PATTERNS
            .iter()
            .find(|p| data.get(i..i + p.len()) == Some(*p));
        match hit {
            Some(p) => {
                let end = data[i..]
                    .iter()
                    .position(|&b| b == b'>')
                    .map_or(data.len(), |e| i + e);
                let tag = &data[i..end];
                out.extend_from_slice(p);
                let has_h = tag.windows(3).any(|w| w == b" h=");
                if !has_h {
                    out.extend_from_slice(b" h='0'");
                }
                i += p.len();
            }
            None => {
                out.push(data[i]);
                i += 1;
            }
        }
    }
    out
}

/// Splits `data` into what can be released (complete tags) and an unfinished tail.
fn split_complete(data: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let last_open = data.iter().rposition(|&b| b == b'<');
    let last_close = data.iter().rposition(|&b| b == b'>');
    match (last_open, last_close) {
        (Some(o), c) if c.is_none_or(|c| c < o) && data.len() - o <= MAX_CARRY => {
            (patch(&data[..o]), data[o..].to_vec())
        }
        _ => (patch(data), Vec::new()),
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for SmFailedFix<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if !self.out.is_empty() {
                let n = self.out.len().min(buf.remaining());
                buf.put_slice(&self.out[..n]);
                self.out.drain(..n);
                return Poll::Ready(Ok(()));
            }
            let mut tmp = [0u8; 8192];
            let mut rb = ReadBuf::new(&mut tmp);
            match Pin::new(&mut self.inner).poll_read(cx, &mut rb) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {
                    let filled = rb.filled();
                    if filled.is_empty() {
                        // End of stream: hand over whatever was held back.
                        let rest = std::mem::take(&mut self.carry);
                        if rest.is_empty() {
                            return Poll::Ready(Ok(()));
                        }
                        self.out = patch(&rest);
                        continue;
                    }
                    let mut data = std::mem::take(&mut self.carry);
                    data.extend_from_slice(filled);
                    let (ready, carry) = split_complete(&data);
                    self.out = ready;
                    self.carry = carry;
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for SmFailedFix<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn failed_without_h_gets_one() {
        let got = patch(b"<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
        assert_eq!(
            got,
            b"<failed xmlns='urn:xmpp:sm:3' h='0'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>".to_vec()
        );
        let with_h = b"<failed xmlns='urn:xmpp:sm:3' h='5'/>";
        assert_eq!(patch(with_h), with_h.to_vec());
        let other = b"<message><body>&lt;failed xmlns='urn:xmpp:sm:3'</body></message>";
        assert_eq!(patch(other), other.to_vec());
    }

    #[tokio::test]
    async fn split_reads_are_patched_and_everything_else_passes() {
        let (mut w, r) = tokio::io::duplex(4);
        let text = b"<a>x</a><failed xmlns='urn:xmpp:sm:3'><x/></failed><b>y</b>".to_vec();
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for chunk in text.chunks(3) {
                let _ = w.write_all(chunk).await;
            }
        });
        let mut fix = SmFailedFix::new(r);
        let mut got = Vec::new();
        let _ = fix.read_to_end(&mut got).await;
        let _ = writer.await;
        assert_eq!(
            String::from_utf8_lossy(&got),
            "<a>x</a><failed xmlns='urn:xmpp:sm:3' h='0'><x/></failed><b>y</b>"
        );
    }
}
