//! Affiliation lists (XEP-0045 §9.5 members, §9.1 outcasts, §10.5 owners, §10.8
//! admins): asking a room for one list and changing someone's place on it, as IQ
//! payloads the session sends with `roomtools`. Sans-io, tested on literal XML.

use super::{Affiliation, AttrExt, NS_MUC_ADMIN};
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::minidom::Element;

/// One address on an affiliation list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affiliated {
    pub jid: BareJid,
    /// The nickname the room reserved for them, when it says.
    pub nick: Option<String>,
    /// Why they were put there (mostly for bans).
    pub reason: Option<String>,
}

/// The protocol's word for an affiliation.
pub fn word(affiliation: Affiliation) -> &'static str {
    match affiliation {
        Affiliation::Owner => "owner",
        Affiliation::Admin => "admin",
        Affiliation::Member => "member",
        Affiliation::None => "none",
        Affiliation::Outcast => "outcast",
    }
}

/// `<query xmlns='…muc#admin'><item affiliation='member'/></query>`: asks for one list.
pub fn list_request(affiliation: Affiliation) -> Element {
    Element::builder("query", NS_MUC_ADMIN)
        .append(
            Element::builder("item", NS_MUC_ADMIN)
                .a("affiliation", word(affiliation))
                .build(),
        )
        .build()
}

/// Puts `jid` on the `affiliation` list (`None` takes it off every list).
pub fn change_request(jid: &BareJid, affiliation: Affiliation, reason: Option<&str>) -> Element {
    let mut item = Element::builder("item", NS_MUC_ADMIN)
        .a("affiliation", word(affiliation))
        .a("jid", jid.as_str());
    if let Some(r) = reason.map(str::trim).filter(|r| !r.is_empty()) {
        item = item.append(Element::builder("reason", NS_MUC_ADMIN).append(r).build());
    }
    Element::builder("query", NS_MUC_ADMIN)
        .append(item.build())
        .build()
}

/// The addresses of a list answer, sorted; items without a valid address are skipped.
/// `None` when the answer is not a muc#admin query.
pub fn parse_list(query: &Element) -> Option<Vec<Affiliated>> {
    if !query.is("query", NS_MUC_ADMIN) {
        return None;
    }
    let mut list: Vec<Affiliated> = query
        .children()
        .filter(|c| c.is("item", NS_MUC_ADMIN))
        .filter_map(|item| {
            let jid = BareJid::new(item.attr("jid")?).ok()?;
            let text = |name: &str| {
                item.get_child(name, NS_MUC_ADMIN)
                    .map(|c| c.text().trim().to_owned())
                    .filter(|t| !t.is_empty())
            };
            Some(Affiliated {
                jid,
                nick: item.attr("nick").map(str::to_owned),
                reason: text("reason"),
            })
        })
        .collect();
    list.sort_by(|a, b| a.jid.as_str().cmp(b.jid.as_str()));
    list.dedup_by(|a, b| a.jid == b.jid);
    Some(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Element {
        xml.parse().expect("xml")
    }

    #[test]
    fn the_request_names_the_list() {
        let q = list_request(Affiliation::Outcast);
        let item = q.get_child("item", NS_MUC_ADMIN).expect("item");
        assert_eq!(item.attr("affiliation"), Some("outcast"));
        assert!(q.is("query", NS_MUC_ADMIN));
    }

    #[test]
    fn a_change_carries_the_address_and_a_trimmed_reason() {
        let jid = BareJid::new("bob@example.org").expect("jid");
        let q = change_request(&jid, Affiliation::Member, Some("  welcome "));
        let item = q.get_child("item", NS_MUC_ADMIN).expect("item");
        assert_eq!(item.attr("jid"), Some("bob@example.org"));
        assert_eq!(item.attr("affiliation"), Some("member"));
        assert_eq!(
            item.get_child("reason", NS_MUC_ADMIN).map(|r| r.text()),
            Some("welcome".to_owned())
        );
        let q = change_request(&jid, Affiliation::None, Some("  "));
        let item = q.get_child("item", NS_MUC_ADMIN).expect("item");
        assert!(item.get_child("reason", NS_MUC_ADMIN).is_none());
    }

    #[test]
    fn a_list_answer_is_read_sorted_without_bad_or_repeated_addresses() {
        let q = parse(
            "<query xmlns='http://jabber.org/protocol/muc#admin'>\
               <item affiliation='outcast' jid='zed@example.org'><reason> spam </reason></item>\
               <item affiliation='outcast' jid='amy@example.org' nick='amy'/>\
               <item affiliation='outcast' jid='not a jid@@'/>\
               <item affiliation='outcast'/>\
               <item affiliation='outcast' jid='zed@example.org'/>\
             </query>",
        );
        let list = parse_list(&q).expect("list");
        assert_eq!(
            list,
            vec![
                Affiliated {
                    jid: BareJid::new("amy@example.org").expect("jid"),
                    nick: Some("amy".into()),
                    reason: None,
                },
                Affiliated {
                    jid: BareJid::new("zed@example.org").expect("jid"),
                    nick: None,
                    reason: Some("spam".into()),
                },
            ]
        );
        assert!(parse_list(&parse("<query xmlns='jabber:iq:roster'/>")).is_none());
    }
}
