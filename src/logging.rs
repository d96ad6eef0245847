//! Logging that never writes a password down.
//!
//! At trace level tokio-xmpp logs every element it sends and receives
//! (`xmlstream::capture`: `SEND …`, `RECV …`), SASL included: a PLAIN login is the
//! password in base64, and a SCRAM exchange is enough for an offline guess of it.
//! [`Redacting`] wraps the real logger and replaces the text of every SASL element
//! (namespace `urn:ietf:params:xml:ns:xmpp-sasl`) with `[redacted]` before anything is
//! written.

use log::{Log, Metadata, Record};
use std::borrow::Cow;

const SASL_NS: &str = "xmpp-sasl";
const REDACTED: &str = "[redacted]";

/// `text` with the content of every SASL element replaced by `[redacted]`.
pub fn redact(text: &str) -> Cow<'_, str> {
    if !text.contains(SASL_NS) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(SASL_NS) {
        // The end of the start tag that declares the namespace.
        let Some(gt) = rest[at..].find('>').map(|i| at + i) else {
            break;
        };
        out.push_str(&rest[..=gt]);
        rest = &rest[gt + 1..];
        if out.ends_with("/>") {
            continue;
        }
        // Its text runs to the next tag; a nested element (<failure><text>…) is
        // redacted the same way, its text being what follows its own '>'.
        let end = rest.find('<').unwrap_or(rest.len());
        if end > 0 {
            out.push_str(REDACTED);
        }
        rest = &rest[end..];
        // Redact the text of children too, up to the closing tag of this element.
        while rest.starts_with('<') && !rest.starts_with("</") {
            let Some(gt) = rest.find('>') else { break };
            out.push_str(&rest[..=gt]);
            rest = &rest[gt + 1..];
            let end = rest.find('<').unwrap_or(rest.len());
            if end > 0 {
                out.push_str(REDACTED);
            }
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A logger that redacts SASL exchanges, then hands records to `inner`.
pub struct Redacting {
    inner: Box<dyn Log>,
}

impl Redacting {
    pub fn new(inner: Box<dyn Log>) -> Self {
        Redacting { inner }
    }
}

impl Log for Redacting {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.inner.enabled(record.metadata()) {
            return;
        }
        let text = record.args().to_string();
        let clean = redact(&text);
        self.inner.log(
            &Record::builder()
                .args(format_args!("{clean}"))
                .metadata(record.metadata().clone())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sasl_text_is_redacted() {
        let plain = "SEND <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AHVzZXIAc2VjcmV0</auth>";
        assert_eq!(
            redact(plain),
            "SEND <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>[redacted]</auth>"
        );
        let two = "<response xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">Yz1iaXdz</response>\
                   <success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>\
                   <failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>x</text></failure>";
        let got = redact(two);
        assert!(!got.contains("Yz1iaXdz") && !got.contains(">x<"), "{got}");
        let other = "RECV <message><body>hello</body></message>";
        assert_eq!(redact(other), other);
    }
}
