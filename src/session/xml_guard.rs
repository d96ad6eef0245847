//! Limits on incoming XML, applied to the raw bytes before any element is built.
//!
//! The element builder under tokio-xmpp (xso's minidom compatibility layer) recurses
//! once per nesting level, so a single stanza nested some 40,000 levels deep, which
//! any contact can send and servers relay, overflows the stack and aborts the whole
//! process (every account). This filter sits between TLS and the XML parser and
//! tracks the nesting of each top-level element with a counter (no recursion): a
//! stanza nested deeper than [`MAX_DEPTH`] or longer than [`MAX_STANZA_BYTES`] never
//! reaches the parser. It is dropped with a log line, and in its place the parser
//! gets an empty stanza of the same kind that does not parse (`type='loquat-dropped'`),
//! which tokio-xmpp discards while still counting it for stream management, so the
//! server's and our stanza counts stay equal and the stream survives.
//!
//! The lexer understands just enough XML to find where elements start and end:
//! start tags (with quoted attribute values, which may contain `>`), end tags,
//! processing instructions, comments, CDATA and declarations. What it does not
//! understand it passes on, and the real parser then rejects it.
//!
//! Since it sees every top-level start tag whole, it also carries the one workaround
//! for stream management's `<failed/>` without `h` (see `xml_guard/sm_failed.rs`).

mod sm_failed;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Deepest nesting allowed inside one stanza (the stanza itself is level 1). Real
/// stanzas stay under about 10 (a forwarded archived message with a payload).
pub const MAX_DEPTH: usize = 64;
/// Longest stanza accepted, in bytes. Prosody's own default limit is 256 KiB.
pub const MAX_STANZA_BYTES: usize = 1024 * 1024;
/// How much of a dropped stanza's start tag goes into the log line.
const HEAD_BYTES: usize = 200;

/// Why a stanza was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    TooDeep,
    TooLarge,
}

/// A stanza that did not reach the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub reason: DropReason,
    /// The start of its start tag (name and attributes), for the log.
    pub head: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    Text,
    /// Just read `<`.
    Open,
    /// Inside a start tag; `quote` is the open attribute quote, `slash` whether the
    /// last non-space byte was `/`.
    Start {
        quote: Option<u8>,
        slash: bool,
    },
    End,
    /// `<?` … `?>`; `q` whether the last byte was `?`.
    Pi {
        q: bool,
    },
    /// After `<!`: which of `--`, `[CDATA[` or a declaration it is.
    Bang {
        len: usize,
    },
    /// `<!--` … `-->`; how many `-` were just read.
    Comment {
        dashes: u8,
    },
    /// `<![CDATA[` … `]]>`; how many `]` were just read.
    Cdata {
        brackets: u8,
    },
    /// `<!DOCTYPE …>` and the like (the parser rejects them).
    Decl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Outside any stanza: bytes go out, except markup, held in `pending` until we
    /// know what it is.
    Between,
    /// Inside a stanza under the limits: bytes are held in `stanza`.
    Buffer,
    /// Inside a stanza over a limit: bytes are thrown away until it ends.
    Discard(DropReason),
}

/// The byte-level state machine; [`XmlGuard`] puts it on a stream.
#[derive(Debug)]
pub struct Guard {
    max_depth: usize,
    max_bytes: usize,
    lex: Lex,
    mode: Mode,
    /// 0 before the stream header, 1 inside the stream, 2 and more inside a stanza.
    depth: usize,
    /// The start of the current markup (up to [`HEAD_BYTES`]), for its name.
    tag: Vec<u8>,
    /// Markup seen between stanzas, not yet released.
    pending: Vec<u8>,
    /// The stanza being read.
    stanza: Vec<u8>,
    /// The kind of the stanza being read (message, presence, iq), if it is one.
    kind: Option<&'static str>,
    head: String,
    /// What the stream header declared, for the top-level elements.
    stream_ns: sm_failed::StreamNamespaces,
}

impl Default for Guard {
    fn default() -> Self {
        Guard::new(MAX_DEPTH, MAX_STANZA_BYTES)
    }
}

impl Guard {
    pub fn new(max_depth: usize, max_bytes: usize) -> Self {
        Guard {
            max_depth,
            max_bytes,
            lex: Lex::Text,
            mode: Mode::Between,
            depth: 0,
            tag: Vec::new(),
            pending: Vec::new(),
            stanza: Vec::new(),
            kind: None,
            head: String::new(),
            stream_ns: sm_failed::StreamNamespaces::default(),
        }
    }

    /// Feeds bytes read from the network; appends what the parser may see to `out`
    /// and returns the stanzas dropped on the way.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Vec<Dropped> {
        let mut dropped = Vec::new();
        for &b in input {
            self.sink(b, out);
            if let Some(d) = self.step(b, out) {
                dropped.push(d);
            }
        }
        dropped
    }

    /// Where byte `b` goes, decided before it is lexed.
    fn sink(&mut self, b: u8, out: &mut Vec<u8>) {
        match self.mode {
            Mode::Between => {
                if self.lex == Lex::Text && b != b'<' {
                    out.push(b);
                } else {
                    self.pending.push(b);
                    if self.pending.len() > self.max_bytes {
                        // One markup (a start tag) larger than any stanza may be.
                        self.pending = Vec::new();
                        self.head = head_of(&self.tag);
                        self.kind = stanza_kind(&self.tag);
                        self.mode = Mode::Discard(DropReason::TooLarge);
                    }
                }
            }
            Mode::Buffer => {
                self.stanza.push(b);
                if self.stanza.len() > self.max_bytes {
                    self.stanza = Vec::new();
                    self.mode = Mode::Discard(DropReason::TooLarge);
                }
            }
            Mode::Discard(_) => {}
        }
    }

    fn step(&mut self, b: u8, out: &mut Vec<u8>) -> Option<Dropped> {
        match self.lex {
            Lex::Text => {
                if b == b'<' {
                    self.lex = Lex::Open;
                    self.tag.clear();
                    self.tag.push(b);
                }
                None
            }
            Lex::Open => {
                self.keep(b);
                self.lex = match b {
                    b'/' => Lex::End,
                    b'?' => Lex::Pi { q: false },
                    b'!' => Lex::Bang { len: 0 },
                    b'>' => {
                        // `<>` is not XML; the parser will say so.
                        return self.markup_done(Markup::Other, out);
                    }
                    b'"' | b'\'' => Lex::Start {
                        quote: Some(b),
                        slash: false,
                    },
                    _ => Lex::Start {
                        quote: None,
                        slash: false,
                    },
                };
                None
            }
            Lex::Start { quote, slash } => {
                self.keep(b);
                match quote {
                    Some(q) => {
                        if b == q {
                            self.lex = Lex::Start { quote: None, slash };
                        }
                        None
                    }
                    None => match b {
                        b'>' => self.markup_done(Markup::Start { empty: slash }, out),
                        b'"' | b'\'' => {
                            self.lex = Lex::Start {
                                quote: Some(b),
                                slash: false,
                            };
                            None
                        }
                        b' ' | b'\t' | b'\r' | b'\n' => None,
                        _ => {
                            self.lex = Lex::Start {
                                quote: None,
                                slash: b == b'/',
                            };
                            None
                        }
                    },
                }
            }
            Lex::End => {
                self.keep(b);
                if b == b'>' {
                    self.markup_done(Markup::End, out)
                } else {
                    None
                }
            }
            Lex::Pi { q } => {
                if q && b == b'>' {
                    self.markup_done(Markup::Other, out)
                } else {
                    self.lex = Lex::Pi { q: b == b'?' };
                    None
                }
            }
            Lex::Bang { len } => {
                self.keep(b);
                // What follows `<!`: "--" opens a comment, "[CDATA[" a CDATA section.
                const CDATA: &[u8] = b"[CDATA[";
                if len == 1 && self.tag.get(2) == Some(&b'-') && b == b'-' {
                    self.lex = Lex::Comment { dashes: 0 };
                } else if CDATA.get(len) == Some(&b) {
                    self.lex = if len + 1 == CDATA.len() {
                        Lex::Cdata { brackets: 0 }
                    } else {
                        Lex::Bang { len: len + 1 }
                    };
                } else if len == 0 && b == b'-' {
                    self.lex = Lex::Bang { len: 1 };
                } else if b == b'>' {
                    return self.markup_done(Markup::Other, out);
                } else {
                    self.lex = Lex::Decl;
                }
                None
            }
            Lex::Comment { dashes } => {
                if dashes >= 2 && b == b'>' {
                    self.markup_done(Markup::Other, out)
                } else {
                    self.lex = Lex::Comment {
                        dashes: if b == b'-' {
                            dashes.saturating_add(1)
                        } else {
                            0
                        },
                    };
                    None
                }
            }
            Lex::Cdata { brackets } => {
                if brackets >= 2 && b == b'>' {
                    self.markup_done(Markup::Other, out)
                } else {
                    self.lex = Lex::Cdata {
                        brackets: if b == b']' {
                            brackets.saturating_add(1)
                        } else {
                            0
                        },
                    };
                    None
                }
            }
            Lex::Decl => {
                if b == b'>' {
                    self.markup_done(Markup::Other, out)
                } else {
                    None
                }
            }
        }
    }

    fn keep(&mut self, b: u8) {
        if self.tag.len() < HEAD_BYTES {
            self.tag.push(b);
        }
    }

    /// A markup item ended (its `>` was just read).
    fn markup_done(&mut self, markup: Markup, out: &mut Vec<u8>) -> Option<Dropped> {
        self.lex = Lex::Text;
        let mut dropped = None;
        match markup {
            Markup::Start { empty } => {
                if self.depth <= 1 && is_stream_header(&self.tag) {
                    // The stream header, also when the stream restarts after TLS or
                    // authentication.
                    self.depth = 1;
                    if self.mode == Mode::Between {
                        self.stream_ns = sm_failed::StreamNamespaces::from_header(&self.pending);
                    }
                    self.release_pending(out);
                    self.mode = Mode::Between;
                    return None;
                }
                if self.depth == 1 {
                    self.kind = stanza_kind(&self.tag);
                    self.head = head_of(&self.tag);
                    match self.mode {
                        Mode::Between => {
                            self.stanza = std::mem::take(&mut self.pending);
                            // The whole start tag of a top-level element, however the
                            // reads split it.
                            if let Some(patched) = sm_failed::patch(&self.stanza, &self.stream_ns) {
                                self.stanza = patched;
                            }
                            self.mode = Mode::Buffer;
                        }
                        Mode::Buffer | Mode::Discard(_) => {}
                    }
                }
                if !empty {
                    self.depth = self.depth.saturating_add(1);
                    // depth 2 is the stanza itself, level 1.
                    if self.depth > self.max_depth.saturating_add(1) && self.mode == Mode::Buffer {
                        self.stanza = Vec::new();
                        self.mode = Mode::Discard(DropReason::TooDeep);
                    }
                }
            }
            Markup::End => {
                if self.depth <= 1 {
                    // The stream's end (or a stray end tag): the parser decides.
                    self.depth = 0;
                    self.release_pending(out);
                    self.mode = Mode::Between;
                    return None;
                }
                self.depth -= 1;
            }
            Markup::Other => {
                if self.depth <= 1 {
                    self.release_pending(out);
                    return None;
                }
            }
        }
        if self.depth <= 1 {
            // A stanza just ended (or was a single empty element).
            match self.mode {
                Mode::Between => self.release_pending(out),
                Mode::Buffer => {
                    out.append(&mut self.stanza);
                }
                Mode::Discard(reason) => {
                    if let Some(kind) = self.kind {
                        out.extend_from_slice(b"<");
                        out.extend_from_slice(kind.as_bytes());
                        out.extend_from_slice(b" type='loquat-dropped'/>");
                    }
                    dropped = Some(Dropped {
                        reason,
                        head: std::mem::take(&mut self.head),
                    });
                }
            }
            self.stanza = Vec::new();
            self.pending.clear();
            self.mode = Mode::Between;
        }
        dropped
    }

    fn release_pending(&mut self, out: &mut Vec<u8>) {
        match self.mode {
            Mode::Between => out.append(&mut self.pending),
            Mode::Buffer => out.append(&mut self.stanza),
            Mode::Discard(_) => self.pending.clear(),
        }
    }
}

enum Markup {
    Start { empty: bool },
    End,
    Other,
}

/// The element name at the start of `<name …`.
fn tag_name(tag: &[u8]) -> &[u8] {
    let rest = tag.get(1..).unwrap_or_default();
    let end = rest
        .iter()
        .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>'))
        .unwrap_or(rest.len());
    &rest[..end]
}

fn is_stream_header(tag: &[u8]) -> bool {
    let name = tag_name(tag);
    name == b"stream" || name.ends_with(b":stream")
}

/// `message`, `presence` or `iq` when the element is one of the stanzas (in the
/// stream's default namespace, no prefix).
fn stanza_kind(tag: &[u8]) -> Option<&'static str> {
    match tag_name(tag) {
        b"message" => Some("message"),
        b"presence" => Some("presence"),
        b"iq" => Some("iq"),
        _ => None,
    }
}

fn head_of(tag: &[u8]) -> String {
    String::from_utf8_lossy(tag).into_owned()
}

/// [`Guard`] on an I/O stream: reads are filtered, writes pass through.
pub struct XmlGuard<T> {
    inner: T,
    guard: Guard,
    out: Vec<u8>,
    /// Where the unread part of `out` starts.
    pos: usize,
}

impl<T> XmlGuard<T> {
    pub fn new(inner: T) -> Self {
        XmlGuard::with_limits(inner, MAX_DEPTH, MAX_STANZA_BYTES)
    }

    pub fn with_limits(inner: T, max_depth: usize, max_bytes: usize) -> Self {
        XmlGuard {
            inner,
            guard: Guard::new(max_depth, max_bytes),
            out: Vec::new(),
            pos: 0,
        }
    }

    /// The stream underneath. Bytes read but not yet handed out are lost, so call this
    /// only where the peer is waiting for us (after STARTTLS's `<proceed/>`).
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for XmlGuard<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.pos < this.out.len() {
                let n = (this.out.len() - this.pos).min(buf.remaining());
                buf.put_slice(&this.out[this.pos..this.pos + n]);
                this.pos += n;
                if this.pos == this.out.len() {
                    this.out.clear();
                    this.pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            let mut tmp = [0u8; 8192];
            let mut rb = ReadBuf::new(&mut tmp);
            match Pin::new(&mut this.inner).poll_read(cx, &mut rb) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {
                    let filled = rb.filled();
                    if filled.is_empty() {
                        return Poll::Ready(Ok(()));
                    }
                    for d in this.guard.feed(filled, &mut this.out) {
                        log::warn!(
                            "dropped an incoming stanza {}: {}",
                            match d.reason {
                                DropReason::TooDeep => "nested too deeply",
                                DropReason::TooLarge => "too large",
                            },
                            d.head
                        );
                    }
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for XmlGuard<T> {
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

    const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>";

    fn run(g: &mut Guard, input: &str) -> (String, Vec<Dropped>) {
        let mut out = Vec::new();
        let d = g.feed(input.as_bytes(), &mut out);
        (String::from_utf8_lossy(&out).into_owned(), d)
    }

    fn nested(depth: usize) -> String {
        let mut s = String::from("<message from='m@x/y' type='chat'><body>hi</body>");
        for _ in 1..depth {
            s.push_str("<a>");
        }
        for _ in 1..depth {
            s.push_str("</a>");
        }
        s.push_str("</message>");
        s
    }

    #[test]
    fn ordinary_stream_passes_unchanged() {
        let text = format!(
            "{HEADER}<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\
             </stream:features> <message to='a@b' x='1>2'><body>a &lt; b<![CDATA[</x>]]></body>\
             <!-- c --></message><presence/>\n{HEADER}<iq id='1' type='result'/></stream:stream>"
        );
        let mut g = Guard::default();
        let (out, dropped) = run(&mut g, &text);
        assert_eq!(out, text);
        assert!(dropped.is_empty());
    }

    #[test]
    fn deep_stanza_is_replaced_and_the_next_one_passes() {
        let mut g = Guard::new(64, 1 << 20);
        let (out, _) = run(&mut g, HEADER);
        assert_eq!(out, HEADER);
        let ok = nested(64);
        let (out, dropped) = run(&mut g, &ok);
        assert_eq!(out, ok);
        assert!(dropped.is_empty());
        let (out, dropped) = run(&mut g, &format!("{}<presence/>", nested(40_000)));
        assert_eq!(out, "<message type='loquat-dropped'/><presence/>");
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].reason, DropReason::TooDeep);
        assert!(dropped[0].head.starts_with("<message from='m@x/y'"));
    }

    #[test]
    fn large_stanza_is_dropped() {
        let mut g = Guard::new(64, 1000);
        run(&mut g, HEADER);
        let big = format!(
            "<iq id='1' type='result'><q>{}</q></iq><iq/>",
            "x".repeat(2000)
        );
        let (out, dropped) = run(&mut g, &big);
        assert_eq!(out, "<iq type='loquat-dropped'/><iq/>");
        assert_eq!(dropped[0].reason, DropReason::TooLarge);
        // A nonza over the limit leaves nothing behind.
        let (out, dropped) = run(&mut g, &format!("<x>{}</x>", "y".repeat(2000)));
        assert_eq!(out, "");
        assert_eq!(dropped.len(), 1);
    }

    #[test]
    fn replacement_does_not_parse_as_a_stanza() {
        for kind in ["message", "presence", "iq"] {
            let el: xmpp_parsers::minidom::Element =
                format!("<{kind} xmlns='jabber:client' type='loquat-dropped'/>")
                    .parse()
                    .expect("well-formed");
            let parsed = match kind {
                "message" => xmpp_parsers::message::Message::try_from(el).is_ok(),
                "presence" => xmpp_parsers::presence::Presence::try_from(el).is_ok(),
                _ => xmpp_parsers::iq::Iq::try_from(el).is_ok(),
            };
            assert!(!parsed, "{kind} replacement parsed");
        }
    }

    /// What tokio-xmpp's own reader makes of a lying server's bytes, through the guard.
    async fn read_through_tokio_xmpp(depth: usize) -> Vec<String> {
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        use tokio_xmpp::xmlstream::{
            ReadError, StreamHeader, Timeouts, XmppStream, XmppStreamElement, initiate_stream,
        };
        let (client, mut server) = tokio::io::duplex(1 << 16);
        let writer = tokio::spawn(async move {
            let mut text = String::from(HEADER);
            text.push_str("<stream:features/>");
            text.push_str(&nested(depth));
            text.push_str("<message from='m@x/y' type='chat'><body>after</body></message>");
            let _ = server.write_all(text.as_bytes()).await;
            // Keep the connection open until the reader is done.
            let mut sink = [0u8; 1024];
            loop {
                match tokio::io::AsyncReadExt::read(&mut server, &mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        });
        let io = tokio::io::BufStream::new(XmlGuard::new(client));
        let header = StreamHeader {
            to: Some("x".into()),
            from: None,
            id: None,
        };
        let stream = initiate_stream(io, "jabber:client", header, Timeouts::default())
            .await
            .expect("header");
        let (_, mut stream): (_, XmppStream<_>) = stream.recv_features().await.expect("features");
        let mut got = Vec::new();
        while got.len() < 2 {
            match stream.next().await {
                Some(Ok(el)) => match el.into_read_error() {
                    Ok(XmppStreamElement::Stanza(tokio_xmpp::Stanza::Message(m))) => {
                        got.push(m.bodies.values().next().cloned().unwrap_or_default())
                    }
                    Ok(other) => got.push(format!("{other:?}")),
                    Err(e) => got.push(format!("dropped: {e:?}")),
                },
                Some(Err(ReadError::SoftTimeout)) => continue,
                other => {
                    got.push(format!("end: {other:?}"));
                    break;
                }
            }
        }
        drop(stream);
        let _ = writer.await;
        got
    }

    #[tokio::test]
    async fn tokio_xmpp_survives_a_deep_stanza_behind_the_guard() {
        let got = read_through_tokio_xmpp(40_000).await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].starts_with("dropped: "), "{got:?}");
        assert_eq!(got[1], "after");
        // Under the limit, the same message arrives.
        let got = read_through_tokio_xmpp(MAX_DEPTH).await;
        assert_eq!(got, ["hi", "after"]);
    }
}
