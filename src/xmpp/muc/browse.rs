//! Finding rooms (XEP-0045 §6): the account's group chat service among the server's
//! items (identity conference/text), the rooms it lists, and each room's name and
//! occupant count from its disco#info (the muc#roominfo form).

use super::NS_MUC;
use super::form::DataForm;
use crate::xmpp::avatar::AvatarHash;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;

/// Rooms asked for their details at most this many at a time (the list can be long).
pub const INFO_BATCH: usize = 20;

/// One entry of a disco#items answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub jid: Jid,
    pub name: Option<String>,
}

/// A room as the browser shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub jid: BareJid,
    pub name: Option<String>,
    /// From the room's info; `None` until asked or when the room does not say.
    pub occupants: Option<u32>,
    pub info: Option<RoomInfo>,
}

impl Listing {
    /// Does the filter text match the name or the address (any case)?
    pub fn matches(&self, filter: &str) -> bool {
        let filter = filter.trim().to_lowercase();
        filter.is_empty()
            || self.jid.as_str().to_lowercase().contains(&filter)
            || self
                .name
                .as_deref()
                .is_some_and(|n| n.to_lowercase().contains(&filter))
    }
}

/// What a room says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomInfo {
    pub name: Option<String>,
    pub description: Option<String>,
    pub occupants: Option<u32>,
    pub members_only: bool,
    pub password_protected: bool,
    pub persistent: bool,
    /// Anyone may see real addresses (non-anonymous).
    pub public_jids: bool,
    /// Occupants (not only moderators) may change the subject.
    pub subject_open: bool,
    /// The room's avatar (XEP-0486: `muc#roominfo_avatarhash`, the SHA-1 of the PHOTO
    /// in the room's vcard-temp); the first hash that reads.
    pub avatar_hash: Option<crate::xmpp::avatar::AvatarHash>,
    pub features: Vec<String>,
}

/// `<query xmlns='…disco#items'/>`.
pub fn items_query() -> Element {
    Element::builder("query", ns::DISCO_ITEMS).build()
}

/// The items of a disco#items answer (entries without a usable address are skipped).
pub fn parse_items(query: &Element) -> Vec<Item> {
    if !query.is("query", ns::DISCO_ITEMS) {
        return Vec::new();
    }
    query
        .children()
        .filter(|c| c.is("item", ns::DISCO_ITEMS))
        .filter_map(|c| {
            Some(Item {
                jid: Jid::new(c.attr("jid")?).ok()?,
                name: c
                    .attr("name")
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
            })
        })
        .collect()
}

/// Rooms from a service's items: bare addresses with a local part.
pub fn rooms_of(items: Vec<Item>) -> Vec<Listing> {
    let mut rooms: Vec<Listing> = items
        .into_iter()
        .filter(|i| i.jid.resource().is_none() && i.jid.node().is_some())
        .map(|i| Listing {
            jid: i.jid.to_bare(),
            name: i.name,
            occupants: None,
            info: None,
        })
        .collect();
    rooms.sort_by(|a, b| a.jid.cmp(&b.jid));
    rooms.dedup_by(|a, b| a.jid == b.jid);
    rooms
}

/// Is this disco#info answer from a group chat service (conference/text with MUC)?
pub fn is_muc_service(query: &Element) -> bool {
    if !query.is("query", ns::DISCO_INFO) {
        return false;
    }
    let identity = query.children().any(|c| {
        c.is("identity", ns::DISCO_INFO)
            && c.attr("category") == Some("conference")
            && c.attr("type") == Some("text")
    });
    let feature = query
        .children()
        .any(|c| c.is("feature", ns::DISCO_INFO) && c.attr("var") == Some(NS_MUC));
    identity && feature
}

/// A room's disco#info answer.
pub fn parse_room_info(query: &Element) -> Option<RoomInfo> {
    if !query.is("query", ns::DISCO_INFO) {
        return None;
    }
    let features: Vec<String> = query
        .children()
        .filter(|c| c.is("feature", ns::DISCO_INFO))
        .filter_map(|c| c.attr("var").map(str::to_owned))
        .collect();
    let has = |f: &str| features.iter().any(|x| x == f);
    let mut info = RoomInfo {
        name: query
            .children()
            .find(|c| c.is("identity", ns::DISCO_INFO) && c.attr("category") == Some("conference"))
            .and_then(|c| c.attr("name"))
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        members_only: has("muc_membersonly"),
        password_protected: has("muc_passwordprotected"),
        persistent: has("muc_persistent"),
        public_jids: has("muc_nonanonymous"),
        ..RoomInfo::default()
    };
    let form = query
        .children()
        .filter(|c| c.is("x", ns::DATA_FORMS))
        .filter_map(DataForm::parse)
        .find(|f| f.form_type() == Some("http://jabber.org/protocol/muc#roominfo"));
    if let Some(form) = form {
        let text = |var: &str| {
            form.field(var)
                .map(|f| f.first().trim().to_owned())
                .filter(|t| !t.is_empty())
        };
        info.occupants = text("muc#roominfo_occupants").and_then(|n| n.parse().ok());
        info.description = text("muc#roominfo_description");
        // XEP-0045 names it muc#roominfo_changesubject; Prosody 0.12 sends the
        // configuration name muc#roomconfig_changesubject.
        info.subject_open = matches!(
            text("muc#roominfo_changesubject")
                .or_else(|| text("muc#roomconfig_changesubject"))
                .as_deref(),
            Some("1") | Some("true")
        );
        if info.name.is_none() {
            info.name = text("muc#roomconfig_roomname");
        }
        info.avatar_hash = form
            .field("muc#roominfo_avatarhash")
            .and_then(|f| f.values.iter().take(8).find_map(|v| AvatarHash::parse(v)));
    }
    info.features = features;
    Some(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(xml: &str) -> Element {
        xml.parse().unwrap_or_else(|_| unreachable!("bad test XML"))
    }

    #[test]
    fn the_conference_service_is_found_by_identity() {
        let server_items = el("<query xmlns='http://jabber.org/protocol/disco#items'>\
            <item jid='upload.localhost' name='HTTP uploads'/><item jid='conference.localhost' name='Chatrooms'/>\
            <item jid='not a jid@@'/></query>");
        let items = parse_items(&server_items);
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].jid.as_str(), "conference.localhost");
        assert_eq!(items[1].name.as_deref(), Some("Chatrooms"));
        let muc = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
            <identity category='conference' type='text' name='Chatrooms'/>\
            <feature var='http://jabber.org/protocol/muc'/></query>");
        let upload = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
            <identity category='store' type='file'/><feature var='urn:xmpp:http:upload:0'/></query>");
        let irc = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
            <identity category='conference' type='irc'/><feature var='http://jabber.org/protocol/muc'/></query>");
        assert!(is_muc_service(&muc));
        assert!(!is_muc_service(&upload));
        assert!(!is_muc_service(&irc));
    }

    #[test]
    fn rooms_are_listed_with_names_and_filtered() {
        let items = parse_items(&el(
            "<query xmlns='http://jabber.org/protocol/disco#items'>\
            <item jid='tea@conference.localhost' name='Tea &amp; biscuits'/>\
            <item jid='coffee@conference.localhost'/>\
            <item jid='tea@conference.localhost/bob'/>\
            <item jid='conference.localhost'/></query>",
        ));
        let rooms = rooms_of(items);
        let jids: Vec<&str> = rooms.iter().map(|r| r.jid.as_str()).collect();
        assert_eq!(
            jids,
            vec!["coffee@conference.localhost", "tea@conference.localhost"]
        );
        assert_eq!(rooms[1].name.as_deref(), Some("Tea & biscuits"));
        assert!(rooms[1].matches("BISCUIT"));
        assert!(rooms[0].matches("coffee@"));
        assert!(!rooms[0].matches("tea"));
        assert!(rooms[0].matches("  "));
    }

    #[test]
    fn room_info_gives_the_room_avatar_hash() {
        let form = |values: &str| {
            el(&format!(
                "<query xmlns='http://jabber.org/protocol/disco#info'>\
                <x xmlns='jabber:x:data' type='result'>\
                  <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roominfo</value></field>\
                  <field var='muc#roominfo_avatarhash' type='text-multi'>{values}</field>\
                </x></query>"
            ))
        };
        let hash = "a31c4bd04de69663cfd7f424ea8f6ff1f84e16ee";
        let info = parse_room_info(&form(&format!("<value>{}</value>", hash.to_uppercase())));
        assert_eq!(
            info.and_then(|i| i.avatar_hash)
                .map(|h| h.to_string())
                .as_deref(),
            Some(hash)
        );
        // Garbage first, then a good one: the good one; only garbage: none.
        let info = parse_room_info(&form(&format!(
            "<value>../../etc/passwd</value><value>{hash}</value>"
        )));
        assert!(info.and_then(|i| i.avatar_hash).is_some());
        let junk = "<value>zz</value>".repeat(10_000);
        let info = parse_room_info(&form(&junk));
        assert_eq!(info.and_then(|i| i.avatar_hash), None);
        let info = parse_room_info(&form(""));
        assert_eq!(info.and_then(|i| i.avatar_hash), None);
    }

    #[test]
    fn room_info_gives_name_and_occupant_count() {
        let info = parse_room_info(&el("<query xmlns='http://jabber.org/protocol/disco#info'>\
            <identity category='conference' type='text' name='Tea room'/>\
            <feature var='http://jabber.org/protocol/muc'/><feature var='muc_membersonly'/>\
            <feature var='muc_persistent'/><feature var='muc_nonanonymous'/>\
            <x xmlns='jabber:x:data' type='result'>\
              <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roominfo</value></field>\
              <field var='muc#roominfo_description' label='Description'><value>Hot drinks</value></field>\
              <field var='muc#roominfo_occupants' label='Number of occupants'><value>3</value></field>\
              <field var='muc#roominfo_changesubject' type='boolean'><value>1</value></field>\
            </x></query>"))
        .unwrap_or_else(|| unreachable!());
        assert_eq!(info.name.as_deref(), Some("Tea room"));
        assert_eq!(info.occupants, Some(3));
        assert_eq!(info.description.as_deref(), Some("Hot drinks"));
        assert!(info.members_only && info.persistent && info.public_jids);
        assert!(!info.password_protected);
        assert!(info.subject_open);
        let prosody = parse_room_info(&el("<query xmlns='http://jabber.org/protocol/disco#info'>\
            <x xmlns='jabber:x:data' type='result'>\
              <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roominfo</value></field>\
              <field var='muc#roomconfig_changesubject' type='boolean'><value>1</value></field>\
            </x></query>"))
        .unwrap_or_else(|| unreachable!());
        assert!(prosody.subject_open);
        // No form: no count, not a guess.
        let bare = parse_room_info(&el("<query xmlns='http://jabber.org/protocol/disco#info'>\
            <identity category='conference' type='text'/></query>"))
        .unwrap_or_else(|| unreachable!());
        assert_eq!(bare.occupants, None);
        assert_eq!(bare.name, None);
    }
}
