//! HTTP File Upload (XEP-0363) and out-of-band data (XEP-0066), sans-io.
//!
//! Discovery: disco#items on our server, then disco#info on each item until one lists
//! `urn:xmpp:http:upload:0`; its data form gives `max-file-size`. A slot request names
//! the file, its size and type; the answer is a PUT URL (with a few headers) and a GET
//! URL. The chat message that shares the file carries the GET URL as body and in an OOB
//! `x` element, as Conversations does.

use crate::model::Attachment;
use crate::model::transfer::guess_mime;
use xmpp_parsers::data_forms::DataForm;
use xmpp_parsers::disco::{DiscoInfoQuery, DiscoInfoResult, DiscoItemsQuery, DiscoItemsResult};
use xmpp_parsers::http_upload::{HeaderName, SlotRequest, SlotResult};
use xmpp_parsers::jid::Jid;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::oob::Oob;
use xmpp_parsers::stanza::Stanza;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};

/// Which upload question an IQ asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadIq {
    /// disco#items of our server.
    Items,
    /// disco#info of one item.
    Info { jid: Jid },
    /// A slot request; `token` matches the answer to its requester.
    Slot { token: u64 },
}

/// The account's upload service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadService {
    pub jid: Jid,
    /// Largest file the service accepts, when it says.
    pub max_size: Option<u64>,
}

/// A granted slot: PUT the bytes to `put_url` with `put_headers`, share `get_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub put_url: String,
    /// Only Authorization, Cookie and Expires, with CR and LF removed.
    pub put_headers: Vec<(String, String)>,
    pub get_url: String,
}

/// Why no slot (or no upload at all), in plain words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    #[error("your server offers no file upload")]
    NoService,
    #[error("the file is {} but your server accepts at most {}", human_size(*.size), human_size(*.limit))]
    TooLarge { size: u64, limit: u64 },
    #[error("your upload quota on the server is used up{0}")]
    Quota(String),
    #[error("the server refused the upload: {0}")]
    Refused(String),
    #[error("the server's answer made no sense: {0}")]
    Malformed(String),
    #[error("the server gave an address that is not https: {0}")]
    InsecureUrl(String),
}

/// What an upload answer means.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadEvent {
    /// Items of our server (empty when the query failed).
    Items(Vec<Jid>),
    /// One item's info: `Some` when it is an upload service.
    Info {
        jid: Jid,
        service: Option<UploadService>,
    },
    Slot {
        token: u64,
        result: Result<Slot, SlotError>,
    },
}

/// "12.3 MiB": sizes as people read them.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let name = UNITS.get(unit).copied().unwrap_or("B");
    if unit == 0 {
        format!("{bytes} B")
    } else if value >= 100.0 || value.fract() < 0.05 {
        format!("{value:.0} {name}")
    } else {
        format!("{value:.1} {name}")
    }
}

pub fn items_query() -> Element {
    DiscoItemsQuery {
        node: None,
        rsm: None,
    }
    .into()
}

pub fn info_query() -> Element {
    DiscoInfoQuery { node: None }.into()
}

pub fn slot_request(filename: &str, size: u64, content_type: Option<&str>) -> Element {
    SlotRequest {
        filename: filename.to_owned(),
        size,
        content_type: content_type.map(str::to_owned),
    }
    .into()
}

/// Turns the answer to one of our upload IQs into an event.
pub fn answer(kind: UploadIq, result: Result<Option<Element>, StanzaError>) -> UploadEvent {
    match kind {
        UploadIq::Items => UploadEvent::Items(match result {
            Ok(Some(el)) => DiscoItemsResult::try_from(el)
                .map(|r| r.items.into_iter().map(|i| i.jid).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        }),
        UploadIq::Info { jid } => {
            let service = match result {
                Ok(Some(el)) => parse_info(jid.clone(), el),
                _ => None,
            };
            UploadEvent::Info { jid, service }
        }
        UploadIq::Slot { token } => UploadEvent::Slot {
            token,
            result: match result {
                Ok(Some(el)) => parse_slot(el),
                Ok(None) => Err(SlotError::Malformed("an empty answer".into())),
                Err(e) => Err(slot_error(&e)),
            },
        },
    }
}

/// An upload service from a disco#info result, or `None` if it is not one.
pub fn parse_info(jid: Jid, payload: Element) -> Option<UploadService> {
    let info = DiscoInfoResult::try_from(payload).ok()?;
    if !info.features.contains(ns::HTTP_UPLOAD) {
        return None;
    }
    let max_size = info
        .extensions
        .iter()
        .filter(|f: &&DataForm| f.form_type() == Some(ns::HTTP_UPLOAD))
        .flat_map(|f| f.fields.iter())
        .find(|f| f.var.as_deref() == Some("max-file-size"))
        .and_then(|f| f.values.first())
        .and_then(|v| v.trim().parse::<u64>().ok());
    Some(UploadService { jid, max_size })
}

/// A slot from its XML, keeping only headers we may send and only https URLs.
pub fn parse_slot(payload: Element) -> Result<Slot, SlotError> {
    let slot = SlotResult::try_from(payload).map_err(|e| SlotError::Malformed(e.to_string()))?;
    for url in [&slot.put.url, &slot.get.url] {
        if !is_https(url) {
            return Err(SlotError::InsecureUrl(url.clone()));
        }
    }
    let put_headers = slot
        .put
        .headers
        .into_iter()
        .filter(|h| {
            matches!(
                h.name,
                HeaderName::Authorization | HeaderName::Cookie | HeaderName::Expires
            )
        })
        .map(|h| {
            let value: String = h
                .value
                .chars()
                .filter(|c| *c != '\r' && *c != '\n')
                .collect();
            (h.name.as_str().to_owned(), value)
        })
        .collect();
    Ok(Slot {
        put_url: slot.put.url,
        put_headers,
        get_url: slot.get.url,
    })
}

/// Is `url` an absolute https URL with a host?
pub fn is_https(url: &str) -> bool {
    url::Url::parse(url)
        .map(|u| u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()))
        .unwrap_or(false)
}

/// Plain words for a refused slot request.
fn slot_error(e: &StanzaError) -> SlotError {
    let text = e
        .texts
        .values()
        .next()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    // XEP-0363 §5: <file-too-large><max-file-size>N</max-file-size></file-too-large>.
    if let Some(limit) = e
        .other
        .as_ref()
        .filter(|o| o.is("file-too-large", ns::HTTP_UPLOAD))
        .and_then(|o| o.get_child("max-file-size", ns::HTTP_UPLOAD))
        .and_then(|m| m.text().trim().parse::<u64>().ok())
    {
        return SlotError::Refused(format!(
            "the file is too large; the server accepts at most {}",
            human_size(limit)
        ));
    }
    match e.defined_condition {
        DefinedCondition::ResourceConstraint => {
            SlotError::Quota(text.map(|t| format!(" ({t})")).unwrap_or_default())
        }
        DefinedCondition::NotAllowed | DefinedCondition::Forbidden => SlotError::Refused(
            text.unwrap_or_else(|| "you are not allowed to upload files".to_owned()),
        ),
        ref other => SlotError::Refused(text.unwrap_or_else(|| format!("{other:?}"))),
    }
}

/// Checks a file against the service before any slot is asked for.
pub fn check_size(service: &UploadService, size: u64) -> Result<(), SlotError> {
    match service.max_size {
        Some(limit) if size > limit => Err(SlotError::TooLarge { size, limit }),
        _ => Ok(()),
    }
}

/// Adds the OOB element that tells clients the body is a file URL.
pub fn add_oob(stanza: &mut Stanza, url: &str) {
    if let Stanza::Message(m) = stanza {
        m.payloads.push(
            Oob {
                url: url.to_owned(),
                desc: None,
            }
            .into(),
        );
    }
}

/// The file an incoming message points at: its OOB URL, or a body that is nothing but a
/// URL to a file name (a path ending in `name.ext`).
pub fn attachment(oob: Option<Oob>, body: &str) -> Option<Attachment> {
    let url = match oob {
        // Other schemes (ftp:, file:, javascript:, ...) stay plain text.
        Some(o) if o.url.trim().starts_with("https://") || o.url.trim().starts_with("http://") => {
            o.url.trim().to_owned()
        }
        _ => {
            let b = body.trim();
            // An encrypted file's link (XEP-0454) comes as the whole body, without OOB.
            let encrypted = aesgcm_https(b).is_some();
            if b.contains(char::is_whitespace) || !(b.starts_with("https://") || encrypted) {
                return None;
            }
            let name = name_from_url(&aesgcm_https(b).unwrap_or_else(|| b.to_owned()))?;
            if !name.contains('.') {
                return None;
            }
            b.to_owned()
        }
    };
    let name = name_from_url(&aesgcm_https(&url).unwrap_or_else(|| url.clone()))
        .unwrap_or_else(|| "file".to_owned());
    let mime = Some(guess_mime(&name).to_owned());
    Some(Attachment {
        url,
        name,
        size: None,
        mime,
    })
}

/// The https address of an encrypted file's `aesgcm://host/path#<iv><key>` link
/// (XEP-0454): the scheme swapped back, the key (fragment) left out. `None` for anything
/// else, or when what remains is not an https address with a host.
pub fn aesgcm_https(url: &str) -> Option<String> {
    let url = url.trim();
    let rest = url
        .get(..9)
        .filter(|p| p.eq_ignore_ascii_case("aesgcm://"))
        .and_then(|_| url.get(9..))?;
    if rest.is_empty() || rest.starts_with('/') {
        return None;
    }
    let https = format!("https://{}", rest.split('#').next().unwrap_or(rest));
    is_https(&https).then_some(https)
}

/// The last path segment of a URL, percent-decoded (not yet safe as a file name).
pub fn name_from_url(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let last = parsed.path_segments()?.next_back()?;
    if last.is_empty() {
        return None;
    }
    let decoded = percent_decode(last);
    Some(decoded)
}

/// Decodes `%XX` escapes (invalid UTF-8 becomes U+FFFD).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let (Some(h), Some(l)) = (bytes.get(i + 1), bytes.get(i + 2))
            && let (Some(h), Some(l)) = ((*h as char).to_digit(16), (*l as char).to_digit(16))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;

    fn el(xml: &str) -> Element {
        match xml.parse() {
            Ok(e) => e,
            Err(e) => unreachable!("{e}: {xml}"),
        }
    }

    #[test]
    fn service_and_limit_come_from_the_info_form() {
        let jid = Jid::new("upload.example.org").unwrap_or_else(|_| unreachable!());
        let info = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
            <identity category='store' type='file' name='HTTP File Upload'/>\
            <feature var='urn:xmpp:http:upload:0'/>\
            <x type='result' xmlns='jabber:x:data'>\
            <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload:0</value></field>\
            <field var='max-file-size'><value>5242880</value></field></x></query>");
        let s = parse_info(jid.clone(), info);
        assert_eq!(
            s,
            Some(UploadService {
                jid: jid.clone(),
                max_size: Some(5_242_880)
            })
        );
        let Some(s) = s else { unreachable!() };
        assert!(check_size(&s, 5_242_880).is_ok());
        let err = check_size(&s, 6_000_000).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("the file is 5.7 MiB but your server accepts at most 5 MiB")
        );
        let not_upload = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
            <identity category='conference' type='text'/><feature var='http://jabber.org/protocol/muc'/></query>");
        assert_eq!(parse_info(jid, not_upload), None);
    }

    #[test]
    fn slot_keeps_only_allowed_headers_without_newlines() {
        let slot = parse_slot(el("<slot xmlns='urn:xmpp:http:upload:0'>\
            <put url='https://up.example.org/a/b%20c.png'>\
            <header name='Authorization'>Bearer x&#13;&#10;Evil: 1</header>\
            <header name='Cookie'>a=b</header></put>\
            <get url='https://up.example.org/a/b%20c.png'/></slot>"));
        let Ok(slot) = slot else {
            unreachable!("{slot:?}")
        };
        assert_eq!(
            slot.put_headers,
            vec![
                ("Authorization".to_owned(), "Bearer xEvil: 1".to_owned()),
                ("Cookie".to_owned(), "a=b".to_owned())
            ]
        );
        // An unknown header name makes the whole slot invalid in xmpp-parsers.
        let bad = parse_slot(el("<slot xmlns='urn:xmpp:http:upload:0'>\
            <put url='https://up.example.org/x'><header name='Host'>evil</header></put>\
            <get url='https://up.example.org/x'/></slot>"));
        assert!(matches!(bad, Err(SlotError::Malformed(_))), "{bad:?}");
    }

    #[test]
    fn plain_http_slots_are_refused() {
        let r = parse_slot(el("<slot xmlns='urn:xmpp:http:upload:0'>\
            <put url='http://up.example.org/x'/><get url='https://up.example.org/x'/></slot>"));
        assert!(matches!(r, Err(SlotError::InsecureUrl(_))), "{r:?}");
    }

    #[test]
    fn slot_errors_are_in_plain_words() {
        let mut s = state();
        let req = s.request(
            PendingIq::Upload(UploadIq::Slot { token: 7 }),
            Some(Jid::new("upload.example.org").unwrap_or_else(|_| unreachable!())),
            true,
            slot_request("a.bin", 10, None),
        );
        let Stanza::Iq(xmpp_parsers::iq::Iq::Get { id, .. }) = req else {
            unreachable!()
        };
        let ev = s.handle(
            stanza(&format!(
                "<iq xmlns='jabber:client' type='error' id='{id}' from='upload.example.org'>\
                 <error type='wait'><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
                 <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Quota reached</text></error></iq>"
            )),
            0,
        );
        match ev.as_slice() {
            [
                Event::Upload(UploadEvent::Slot {
                    token: 7,
                    result: Err(e),
                }),
            ] => {
                assert_eq!(
                    e.to_string(),
                    "your upload quota on the server is used up (Quota reached)"
                )
            }
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn incoming_oob_or_bare_url_becomes_an_attachment() {
        let mut s = state();
        let ev = s.handle(
            stanza(
                "<message xmlns='jabber:client' type='chat' from='bob@example.org/p'>\
                 <body>https://up.example.org/x/photo%201.JPG</body>\
                 <x xmlns='jabber:x:oob'><url>https://up.example.org/x/photo%201.JPG</url></x></message>",
            ),
            5,
        );
        let att = ev.iter().find_map(|e| match e {
            Event::Message { message, .. } => message.attachment.clone().map(|a| *a),
            _ => None,
        });
        let Some(att) = att else {
            unreachable!("{ev:?}")
        };
        assert_eq!(att.name, "photo 1.JPG");
        assert_eq!(att.mime.as_deref(), Some("image/jpeg"));
        assert!(att.is_image());

        assert!(attachment(None, "https://example.org/report.pdf").is_some());
        assert!(attachment(None, "see https://example.org/report.pdf").is_none());
        assert!(attachment(None, "https://example.org/").is_none());
        assert!(attachment(None, "ftp://example.org/a.pdf").is_none());
        let oob = |url: &str| {
            Some(Oob {
                url: url.into(),
                desc: None,
            })
        };
        assert!(attachment(oob("file:///etc/passwd"), "x").is_none());
        assert!(attachment(oob("http://example.org/a.pdf"), "x").is_some());
    }

    #[test]
    fn outgoing_file_message_has_body_and_oob() {
        let to =
            xmpp_parsers::jid::BareJid::new("bob@example.org").unwrap_or_else(|_| unreachable!());
        let url = "https://up.example.org/a/b.png";
        let mut st = message::chat(to, url, &crate::ids::LocalMessageId("L".into()));
        add_oob(&mut st, url);
        let xml = to_xml(&st);
        assert!(
            xml.contains("<body>https://up.example.org/a/b.png</body>"),
            "{xml}"
        );
        assert!(
            xml.contains("<x xmlns='jabber:x:oob'><url>https://up.example.org/a/b.png</url></x>"),
            "{xml}"
        );
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(10 * 1024 * 1024), "10 MiB");
        assert_eq!(human_size(1536), "1.5 KiB");
    }
}
