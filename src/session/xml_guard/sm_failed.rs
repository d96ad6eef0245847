//! The one workaround for a stream-management parser gap that made sessions die after a
//! server restart.
//!
//! XEP-0198 lets a server answer a failed resumption with `<failed/>` without an `h`
//! attribute (Prosody does when it no longer knows the session, e.g. after a restart).
//! xmpp-parsers 0.23 requires `h`, so tokio-xmpp 6 read an invalid element, dropped the
//! connection and tried the same resumption again, about ten logins a second, forever:
//! nothing was sent or received again. The guard's lexer already finds every top-level
//! start tag whole (whatever the reads split), so it hands such a tag here, and we add
//! `h='0'`. tokio-xmpp treats `h` on a failed resumption as an optimisation only, binds
//! a fresh session on the same connection and reports a new stream; the outbox then
//! sends again what the old stream never confirmed. (A resumption answered with
//! something else the library cannot read, an `h` that is not a number or bytes that
//! are not XML, is the actor's case: after two logins that led to neither a new nor a
//! resumed stream it starts a fresh stream.)
//!
//! The element is recognised by what it is, not by how it is spelt: any prefix bound to
//! the SM namespace (on the element or on the stream header), attributes in any order,
//! either quote, spaces around `=`.

/// XEP-0198's namespace.
const NS_SM: &[u8] = b"urn:xmpp:sm:3";

/// The namespace declarations of the stream header that a top-level element inherits.
#[derive(Debug, Default, Clone)]
pub(super) struct StreamNamespaces {
    /// The default namespace (`xmlns='…'`).
    default: Vec<u8>,
    /// `xmlns:prefix='…'` declarations.
    prefixed: Vec<(Vec<u8>, Vec<u8>)>,
}

impl StreamNamespaces {
    /// Reads them from the complete stream header start tag.
    pub(super) fn from_header(tag: &[u8]) -> StreamNamespaces {
        let mut ns = StreamNamespaces::default();
        if let Some((_, attrs)) = parse_start_tag(tag) {
            for (name, value) in attrs {
                if name == b"xmlns" {
                    ns.default = value.to_vec();
                } else if let Some(prefix) = name.strip_prefix(b"xmlns:") {
                    ns.prefixed.push((prefix.to_vec(), value.to_vec()));
                }
            }
        }
        ns
    }
}

/// `tag` is one complete top-level start tag (from `<` to `>`). When it is an SM
/// `<failed>` without `h`, returns it with `h='0'` added after the element name.
pub(super) fn patch(tag: &[u8], stream: &StreamNamespaces) -> Option<Vec<u8>> {
    let (qname, attrs) = parse_start_tag(tag)?;
    let (prefix, local) = match qname.iter().position(|&b| b == b':') {
        Some(i) => (Some(&qname[..i]), &qname[i + 1..]),
        None => (None, qname),
    };
    if local != b"failed" {
        return None;
    }
    // The element's own declarations win over the stream header's.
    let declared = |wanted: &[u8]| {
        attrs
            .iter()
            .find(|(name, _)| *name == wanted)
            .map(|(_, value)| *value)
    };
    let namespace = match prefix {
        None => declared(b"xmlns").unwrap_or(&stream.default),
        Some(p) => {
            let mut own = b"xmlns:".to_vec();
            own.extend_from_slice(p);
            match declared(&own) {
                Some(v) => v,
                None => stream
                    .prefixed
                    .iter()
                    .find(|(sp, _)| sp == p)
                    .map(|(_, v)| v.as_slice())?,
            }
        }
    };
    // Only an unprefixed `h` is the attribute the parser reads.
    if namespace != NS_SM || declared(b"h").is_some() {
        return None;
    }
    let at = 1 + qname.len();
    let mut out = Vec::with_capacity(tag.len() + 6);
    out.extend_from_slice(&tag[..at]);
    out.extend_from_slice(b" h='0'");
    out.extend_from_slice(&tag[at..]);
    Some(out)
}

/// An attribute's name and its (unescaped) value.
type Attr<'a> = (&'a [u8], &'a [u8]);

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The name and attributes of a complete start tag; `None` when it is not one we can
/// read (the real parser then decides what it is).
fn parse_start_tag(tag: &[u8]) -> Option<(&[u8], Vec<Attr<'_>>)> {
    let rest = tag.strip_prefix(b"<")?;
    let name_end = rest
        .iter()
        .position(|&b| is_space(b) || b == b'/' || b == b'>')?;
    let name = &rest[..name_end];
    if name.is_empty() {
        return None;
    }
    let mut attrs = Vec::new();
    let mut i = name_end;
    loop {
        while rest.get(i).is_some_and(|&b| is_space(b)) {
            i += 1;
        }
        match rest.get(i)? {
            b'/' | b'>' => return Some((name, attrs)),
            _ => {}
        }
        let start = i;
        while rest
            .get(i)
            .is_some_and(|&b| !is_space(b) && b != b'=' && b != b'/' && b != b'>')
        {
            i += 1;
        }
        let attr = &rest[start..i];
        while rest.get(i).is_some_and(|&b| is_space(b)) {
            i += 1;
        }
        if rest.get(i) != Some(&b'=') || attr.is_empty() {
            return None;
        }
        i += 1;
        while rest.get(i).is_some_and(|&b| is_space(b)) {
            i += 1;
        }
        let quote = *rest.get(i)?;
        if quote != b'\'' && quote != b'"' {
            return None;
        }
        let value_start = i + 1;
        let len = rest.get(value_start..)?.iter().position(|&b| b == quote)?;
        attrs.push((attr, &rest[value_start..value_start + len]));
        i = value_start + len + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::Guard;
    use super::*;

    const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' id='s1' version='1.0'>";
    const SM_HEADER: &str = "<stream:stream xmlns='jabber:client' xmlns:sm='urn:xmpp:sm:3' \
        xmlns:stream='http://etherx.jabber.org/streams' id='s2' version='1.0'>";
    const ERR: &str = "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>";

    /// (stream header, what the server sends, what the parser must get)
    fn cases() -> Vec<(&'static str, String, String)> {
        vec![
            // Prosody after a restart.
            (
                HEADER,
                format!("<failed xmlns='urn:xmpp:sm:3'>{ERR}</failed>"),
                format!("<failed h='0' xmlns='urn:xmpp:sm:3'>{ERR}</failed>"),
            ),
            // Empty element, double quotes, a line break, spaces around `=`.
            (
                HEADER,
                "<failed\n  xmlns = \"urn:xmpp:sm:3\"/>".to_owned(),
                "<failed h='0'\n  xmlns = \"urn:xmpp:sm:3\"/>".to_owned(),
            ),
            // Another attribute first, with a `>` in its value.
            (
                HEADER,
                format!("<failed x='a>b' xmlns='urn:xmpp:sm:3'>{ERR}</failed>"),
                format!("<failed h='0' x='a>b' xmlns='urn:xmpp:sm:3'>{ERR}</failed>"),
            ),
            // A prefix bound on the element.
            (
                HEADER,
                format!("<sm:failed xmlns:sm='urn:xmpp:sm:3'>{ERR}</sm:failed>"),
                format!("<sm:failed h='0' xmlns:sm='urn:xmpp:sm:3'>{ERR}</sm:failed>"),
            ),
            // A prefix bound on the stream header.
            (
                SM_HEADER,
                "<sm:failed/>".to_owned(),
                "<sm:failed h='0'/>".to_owned(),
            ),
            // With `h` (anywhere): untouched.
            (
                HEADER,
                format!("<failed h='4' xmlns='urn:xmpp:sm:3'>{ERR}</failed>"),
                format!("<failed h='4' xmlns='urn:xmpp:sm:3'>{ERR}</failed>"),
            ),
            (
                SM_HEADER,
                "<sm:failed h = \"4\"/>".to_owned(),
                "<sm:failed h = \"4\"/>".to_owned(),
            ),
            // Not the SM namespace, or not at the top level, or only text: untouched.
            (
                HEADER,
                "<failed xmlns='urn:example:other'/>".to_owned(),
                "<failed xmlns='urn:example:other'/>".to_owned(),
            ),
            (
                HEADER,
                "<sm:failed xmlns:sm='urn:example:other'/>".to_owned(),
                "<sm:failed xmlns:sm='urn:example:other'/>".to_owned(),
            ),
            (
                HEADER,
                "<message><failed xmlns='urn:xmpp:sm:3'/><body>&lt;failed \
                 xmlns='urn:xmpp:sm:3'&gt;</body></message>"
                    .to_owned(),
                "<message><failed xmlns='urn:xmpp:sm:3'/><body>&lt;failed \
                 xmlns='urn:xmpp:sm:3'&gt;</body></message>"
                    .to_owned(),
            ),
        ]
    }

    fn feed_in_pieces(pieces: &[&[u8]]) -> String {
        let mut g = Guard::default();
        let mut out = Vec::new();
        for p in pieces {
            assert!(g.feed(p, &mut out).is_empty());
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn failed_without_h_gets_one_however_the_reads_split() {
        for (header, sent, want) in cases() {
            let input = format!("{header}{sent}<r xmlns='urn:xmpp:sm:3'/>");
            let expected = format!("{header}{want}<r xmlns='urn:xmpp:sm:3'/>");
            let bytes = input.as_bytes();
            assert_eq!(feed_in_pieces(&[bytes]), expected);
            // Every split into two reads, and into three around the element.
            for i in 0..=bytes.len() {
                let (a, b) = bytes.split_at(i);
                assert_eq!(feed_in_pieces(&[a, b]), expected, "split at {i}");
            }
            let from = header.len();
            let to = from + sent.len();
            for i in from..=to {
                for j in i..=to {
                    let (a, rest) = bytes.split_at(i);
                    let (b, c) = rest.split_at(j - i);
                    assert_eq!(feed_in_pieces(&[a, b, c]), expected, "split at {i}, {j}");
                }
            }
            // One byte per read.
            let single: Vec<&[u8]> = bytes.chunks(1).collect();
            assert_eq!(feed_in_pieces(&single), expected);
        }
    }

    #[test]
    fn the_patched_element_is_what_tokio_xmpp_reads_as_a_failed_resumption() {
        use tokio_xmpp::xmlstream::XmppStreamElement;
        let stream = StreamNamespaces::from_header(SM_HEADER.as_bytes());
        for tag in [
            "<failed xmlns='urn:xmpp:sm:3'>",
            "<sm:failed xmlns:sm='urn:xmpp:sm:3'>",
        ] {
            let close = if tag.starts_with("<sm:") {
                "</sm:failed>"
            } else {
                "</failed>"
            };
            let raw: xmpp_parsers::minidom::Element =
                format!("{tag}{ERR}{close}").parse().expect("well-formed");
            assert!(
                XmppStreamElement::try_from(raw).is_err(),
                "the gap is still there"
            );
            let patched = patch(tag.as_bytes(), &stream).expect("patched");
            let text = format!("{}{ERR}{close}", String::from_utf8_lossy(&patched));
            let el: xmpp_parsers::minidom::Element = text.parse().expect("well-formed");
            assert!(
                matches!(
                    XmppStreamElement::try_from(el),
                    Ok(XmppStreamElement::SM(xmpp_parsers::sm::Nonza::Failed(f))) if f.h == Some(0)
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn unreadable_tags_are_left_to_the_parser() {
        let stream = StreamNamespaces::default();
        for tag in [
            "<failed xmlns=urn:xmpp:sm:3>",
            "<failed xmlns='urn:xmpp:sm:3>",
            "<failed xmlns>",
            "<>",
            "<sm:failed>",
        ] {
            assert_eq!(patch(tag.as_bytes(), &stream), None, "{tag}");
        }
    }
}
