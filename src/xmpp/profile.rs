//! What a contact says about themselves: the vCard people fill in (vcard-temp,
//! XEP-0054) and the software each of their clients runs (XEP-0092).
//!
//! Both come from the network: only the fields shown are kept, each cut like any
//! network text (`short_text`), the note at most [`MAX_NOTE`] characters, at most
//! [`MAX_VALUES`] addresses or numbers; a 10 MB vCard costs its parse, not our memory.

use xmpp_parsers::minidom::Element;

pub const NS_VCARD: &str = "vcard-temp";
pub const NS_VERSION: &str = "jabber:iq:version";
/// Longest "about" text kept.
pub const MAX_NOTE: usize = 2_000;
/// Most e-mail addresses or telephone numbers kept.
pub const MAX_VALUES: usize = 4;

/// The vCard fields people fill in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Card {
    pub full_name: Option<String>,
    pub nickname: Option<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub url: Option<String>,
    pub organisation: Option<String>,
    pub title: Option<String>,
    pub birthday: Option<String>,
    pub locality: Option<String>,
    pub country: Option<String>,
    pub note: Option<String>,
}

impl Card {
    pub fn is_empty(&self) -> bool {
        *self == Card::default()
    }
}

/// What one client answered to "which software are you?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Software {
    pub name: String,
    pub version: Option<String>,
    pub os: Option<String>,
}

/// `<vCard xmlns='vcard-temp'/>`: ask a contact's bare JID for their vCard (IQ get).
pub fn vcard_request() -> Element {
    Element::builder("vCard", NS_VCARD).build()
}

/// `<query xmlns='jabber:iq:version'/>`: ask one client (a full JID) what it runs.
pub fn version_request() -> Element {
    Element::builder("query", NS_VERSION).build()
}

fn text_of(el: &Element, path: &[&str]) -> Option<String> {
    let mut at = el;
    for name in path {
        at = at.get_child(name, NS_VCARD)?;
    }
    let t = super::short_text(at.text().trim());
    (!t.is_empty()).then_some(t)
}

/// The vCard in an answer (`None`: no vCard, or not one).
pub fn parse_vcard(el: &Element) -> Option<Card> {
    if !el.is("vCard", NS_VCARD) {
        return None;
    }
    let many = |name: &str, inner: &str| -> Vec<String> {
        el.children()
            .filter(|c| c.is(name, NS_VCARD))
            .filter_map(|c| text_of(c, &[inner]))
            .take(MAX_VALUES)
            .collect()
    };
    // Prosody (mod_vcard_legacy) stores DESC as vCard4's note and gives it back as NOTE.
    let desc = el
        .get_child("DESC", NS_VCARD)
        .or_else(|| el.get_child("NOTE", NS_VCARD));
    let note = desc.and_then(|d| {
        let t: String = d
            .text()
            .trim()
            .chars()
            .filter(|c| !crate::notify::is_bidi_control(*c))
            .take(MAX_NOTE + 1)
            .collect();
        if t.is_empty() {
            return None;
        }
        if t.chars().count() > MAX_NOTE {
            let mut t: String = t.chars().take(MAX_NOTE - 1).collect();
            t.push('…');
            return Some(t);
        }
        Some(t)
    });
    let adr = el.get_child("ADR", NS_VCARD);
    Some(Card {
        full_name: text_of(el, &["FN"]),
        nickname: text_of(el, &["NICKNAME"]),
        emails: many("EMAIL", "USERID"),
        phones: many("TEL", "NUMBER"),
        url: text_of(el, &["URL"]),
        organisation: text_of(el, &["ORG", "ORGNAME"]),
        title: text_of(el, &["TITLE"]),
        birthday: text_of(el, &["BDAY"]),
        locality: adr.and_then(|a| text_of(a, &["LOCALITY"])),
        country: adr.and_then(|a| text_of(a, &["CTRY"])),
        note,
    })
}

/// The software in an answer to [`version_request`] (`None` without a name).
pub fn parse_version(el: &Element) -> Option<Software> {
    if !el.is("query", NS_VERSION) {
        return None;
    }
    let get = |name: &str| {
        el.get_child(name, NS_VERSION)
            .map(|c| super::short_text(c.text().trim()))
            .filter(|t| !t.is_empty())
    };
    Some(Software {
        name: get("name")?,
        version: get("version"),
        os: get("os"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(xml: &str) -> Element {
        match xml.parse() {
            Ok(e) => e,
            Err(e) => unreachable!("test XML does not parse: {e} ({} bytes)", xml.len()),
        }
    }

    #[test]
    fn a_filled_vcard_reads() {
        let card = parse_vcard(&el("<vCard xmlns='vcard-temp'>\
             <FN>Juliet Capulet</FN><NICKNAME>Jules</NICKNAME>\
             <EMAIL><INTERNET/><PREF/><USERID>juliet@example.org</USERID></EMAIL>\
             <TEL><WORK/><NUMBER>+1 555 0100</NUMBER></TEL>\
             <URL>https://example.org/~juliet</URL>\
             <ORG><ORGNAME>House Capulet</ORGNAME></ORG><TITLE>Heiress</TITLE>\
             <BDAY>1996-07-31</BDAY>\
             <ADR><HOME/><LOCALITY>Verona</LOCALITY><CTRY>Italy</CTRY></ADR>\
             <DESC>Wherefore art thou?</DESC></vCard>"))
        .unwrap_or_default();
        assert_eq!(card.full_name.as_deref(), Some("Juliet Capulet"));
        assert_eq!(card.nickname.as_deref(), Some("Jules"));
        assert_eq!(card.emails, ["juliet@example.org"]);
        assert_eq!(card.phones, ["+1 555 0100"]);
        assert_eq!(card.organisation.as_deref(), Some("House Capulet"));
        assert_eq!(card.locality.as_deref(), Some("Verona"));
        assert_eq!(card.country.as_deref(), Some("Italy"));
        assert_eq!(card.note.as_deref(), Some("Wherefore art thou?"));
        // The "about" text as Prosody gives it back.
        let card = parse_vcard(&el("<vCard xmlns='vcard-temp'><NOTE>hi</NOTE></vCard>"));
        assert_eq!(card.and_then(|c| c.note).as_deref(), Some("hi"));
        // An empty vCard (what servers answer for nobody's) is empty, a wrong answer none.
        assert!(parse_vcard(&el("<vCard xmlns='vcard-temp'/>")).is_some_and(|c| c.is_empty()));
        assert_eq!(parse_vcard(&el("<query xmlns='jabber:iq:version'/>")), None);
    }

    #[test]
    fn a_huge_vcard_is_cut_to_what_is_shown() {
        // The largest that gets here: the stream refuses stanzas over 1 MiB
        // (`session::xml_guard::MAX_STANZA_BYTES`), so a "10 MB vCard" never arrives whole.
        let huge = "x".repeat(450 * 1024);
        let mut xml =
            format!("<vCard xmlns='vcard-temp'><FN>{huge}</FN><DESC>\u{202E}{huge}</DESC>");
        for i in 0..1000 {
            xml.push_str(&format!("<EMAIL><USERID>a{i}@x</USERID></EMAIL>"));
        }
        xml.push_str("</vCard>");
        let card = parse_vcard(&el(&xml)).unwrap_or_default();
        assert_eq!(
            card.full_name.map(|n| n.chars().count()),
            Some(crate::xmpp::MAX_SHORT_TEXT)
        );
        let note = card.note.unwrap_or_default();
        assert_eq!(note.chars().count(), MAX_NOTE);
        assert!(!note.contains('\u{202E}'));
        assert_eq!(card.emails.len(), MAX_VALUES);
    }

    #[test]
    fn software_versions_read() {
        let s = parse_version(&el("<query xmlns='jabber:iq:version'>\
             <name>Gajim</name><version>1.9</version><os>Linux</os></query>"));
        assert_eq!(
            s,
            Some(Software {
                name: "Gajim".into(),
                version: Some("1.9".into()),
                os: Some("Linux".into())
            })
        );
        // No name: nothing to show.
        assert_eq!(
            parse_version(&el(
                "<query xmlns='jabber:iq:version'><version>1</version></query>"
            )),
            None
        );
        let long = "v".repeat(50_000);
        let s = parse_version(&el(&format!(
            "<query xmlns='jabber:iq:version'><name>{long}</name></query>"
        )));
        assert!(s.is_some_and(|s| s.name.chars().count() == crate::xmpp::MAX_SHORT_TEXT));
    }
}
