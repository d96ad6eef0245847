//! `xmpp:` URIs (RFC 5122 with the XEP-0147 query actions people actually use):
//! `xmpp:user@host`, `?message;body=...`, `?join[;password=...]`, `?roster[;name=...]`,
//! `?subscribe`. Pure parsing; the UI decides what to open.

use xmpp_parsers::jid::BareJid;

/// What an `xmpp:` link asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmppUri {
    /// Open a chat, optionally with a draft.
    Message { jid: BareJid, body: Option<String> },
    /// Join a group chat.
    Join {
        room: BareJid,
        password: Option<String>,
    },
    /// Add to contacts.
    Roster { jid: BareJid, name: Option<String> },
    /// Ask for their presence.
    Subscribe { jid: BareJid },
}

/// Why a link could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    #[error("not an xmpp: link")]
    NotXmpp,
    #[error("the link has no valid address")]
    BadAddress,
    #[error("the link asks for something Loquat does not do ({0})")]
    UnknownAction(String),
    #[error("the link is not correctly encoded")]
    BadEncoding,
}

/// Parses an `xmpp:` URI. A link that names an account to act from
/// (`xmpp://account@host/...`) is accepted; the account part is ignored.
pub fn parse(uri: &str) -> Result<XmppUri, UriError> {
    let uri = uri.trim();
    let rest = uri
        .get(..5)
        .filter(|scheme| scheme.eq_ignore_ascii_case("xmpp:"))
        .and_then(|_| uri.get(5..))
        .ok_or(UriError::NotXmpp)?;
    // Drop an authority part ("//account@host/").
    let rest = match rest.strip_prefix("//") {
        Some(after) => after.split_once('/').map(|(_, path)| path).unwrap_or(""),
        None => rest,
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let path = path.split('#').next().unwrap_or("");
    let jid_text = decode(path)?;
    // A full JID (with a resource) names the same person: keep the bare part.
    let jid = xmpp_parsers::jid::Jid::new(&jid_text)
        .map(|j| j.to_bare())
        .map_err(|_| UriError::BadAddress)?;
    if jid.node().is_none() && jid.domain().as_str().is_empty() {
        return Err(UriError::BadAddress);
    }
    let Some(query) = query else {
        return Ok(XmppUri::Message { jid, body: None });
    };
    let query = query.split('#').next().unwrap_or("");
    let mut parts = query.split(';');
    let action = parts.next().unwrap_or("").to_ascii_lowercase();
    let mut params = Vec::new();
    for p in parts.filter(|p| !p.is_empty()) {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        params.push((k.to_ascii_lowercase(), decode(v)?));
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    match action.as_str() {
        "" | "message" => Ok(XmppUri::Message {
            jid,
            body: param("body"),
        }),
        "join" => Ok(XmppUri::Join {
            room: jid,
            password: param("password"),
        }),
        "roster" => Ok(XmppUri::Roster {
            jid,
            name: param("name"),
        }),
        "subscribe" => Ok(XmppUri::Subscribe { jid }),
        other => Err(UriError::UnknownAction(other.to_owned())),
    }
}

/// Percent-decoding to UTF-8 (`+` stays a plus, as RFC 3986 says).
fn decode(s: &str) -> Result<String, UriError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(UriError::BadEncoding)?;
            // from_str_radix would also take a sign ("%+1").
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return Err(UriError::BadEncoding);
            }
            let hex = std::str::from_utf8(hex).map_err(|_| UriError::BadEncoding)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| UriError::BadEncoding)?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UriError::BadEncoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn the_common_forms() {
        assert_eq!(
            parse("xmpp:romeo@montague.net"),
            Ok(XmppUri::Message {
                jid: jid("romeo@montague.net"),
                body: None
            })
        );
        assert_eq!(
            parse("xmpp:romeo@montague.net?message;body=Here%27s%20a%20test%20%E4%BD%A0%E5%A5%BD"),
            Ok(XmppUri::Message {
                jid: jid("romeo@montague.net"),
                body: Some("Here's a test 你好".into())
            })
        );
        assert_eq!(
            parse("XMPP:darkcave@chat.shakespeare.lit?join;password=cauldronburn"),
            Ok(XmppUri::Join {
                room: jid("darkcave@chat.shakespeare.lit"),
                password: Some("cauldronburn".into())
            })
        );
        assert_eq!(
            parse("xmpp:juliet@capulet.lit?roster;name=Juliet%20C"),
            Ok(XmppUri::Roster {
                jid: jid("juliet@capulet.lit"),
                name: Some("Juliet C".into())
            })
        );
        assert_eq!(
            parse("xmpp://guest@example.com/support@example.com?subscribe"),
            Ok(XmppUri::Subscribe {
                jid: jid("support@example.com")
            })
        );
        assert_eq!(
            parse("xmpp:%E7%8E%8B@example.cn"),
            Ok(XmppUri::Message {
                jid: jid("王@example.cn"),
                body: None
            })
        );
    }

    #[test]
    fn bad_links_are_errors_not_panics() {
        assert_eq!(parse("https://example.org"), Err(UriError::NotXmpp));
        assert_eq!(parse("xmp"), Err(UriError::NotXmpp));
        assert_eq!(parse("xmpp:"), Err(UriError::BadAddress));
        assert_eq!(
            parse("xmpp:a@b?message;body=%E4%BD"),
            Err(UriError::BadEncoding)
        );
        assert_eq!(
            parse("xmpp:a@b?message;body=%ZZ"),
            Err(UriError::BadEncoding)
        );
        assert_eq!(parse("xmpp:a@b?message;body=%"), Err(UriError::BadEncoding));
        assert_eq!(
            parse("xmpp:a@b?remove"),
            Err(UriError::UnknownAction("remove".into()))
        );
        assert_eq!(
            parse("xmpp:a@b/laptop"),
            Ok(XmppUri::Message {
                jid: jid("a@b"),
                body: None
            })
        );
        assert_eq!(parse("xmpp:@/"), Err(UriError::BadAddress));
    }
}
