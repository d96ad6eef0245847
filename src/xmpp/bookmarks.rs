//! Room bookmarks: XEP-0402 (PEP native bookmarks, one item per room), falling back to
//! XEP-0048 in private XML storage (XEP-0049) when the server has no PEP bookmarks.
//! Bookmark events are accepted only from our own bare JID.

use super::muc::{AttrExt, MucEvent};
use super::{Event, PendingIq, ProtoState};
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::stanza::Stanza;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};

/// One bookmarked room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bookmark {
    pub room: BareJid,
    pub name: Option<String>,
    pub nick: Option<String>,
    pub password: Option<String>,
    pub autojoin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookmarkEvent {
    /// The whole list (answer to our fetch).
    All(Vec<Bookmark>),
    /// Added or changed (PEP notification from our own account).
    Changed(Bookmark),
    Removed(BareJid),
    /// The server refused to store a bookmark.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookmarkIq {
    FetchPep,
    FetchPrivate,
    Publish,
}

/// What we know of the account's bookmarks.
#[derive(Debug, Default)]
pub struct BookmarkState {
    /// The server lacks PEP bookmarks: use private storage (whole list at once).
    pub legacy: bool,
    /// The list as last seen, for private storage writes.
    pub known: Vec<Bookmark>,
}

fn conference_el(b: &Bookmark, namespace: &str, with_jid: bool) -> Element {
    let mut c = Element::builder("conference", namespace)
        .a("autojoin", if b.autojoin { "true" } else { "false" });
    if with_jid {
        c = c.a("jid", b.room.as_str());
    }
    if let Some(n) = &b.name {
        c = c.a("name", n.as_str());
    }
    if let Some(n) = &b.nick {
        c = c.append(
            Element::builder("nick", namespace)
                .append(n.as_str())
                .build(),
        );
    }
    if let Some(p) = &b.password {
        c = c.append(
            Element::builder("password", namespace)
                .append(p.as_str())
                .build(),
        );
    }
    c.build()
}

fn parse_conference(room: BareJid, c: &Element, namespace: &str) -> Bookmark {
    let text = |name: &str| {
        c.get_child(name, namespace)
            .map(|e| e.text())
            .filter(|t| !t.trim().is_empty())
    };
    Bookmark {
        room,
        name: c.attr("name").map(str::to_owned),
        nick: text("nick"),
        password: text("password"),
        autojoin: matches!(c.attr("autojoin"), Some("true" | "1")),
    }
}

/// `<item id='room'><conference xmlns='urn:xmpp:bookmarks:1'/></item>` elements.
fn parse_items<'a>(items: impl Iterator<Item = &'a Element>) -> Vec<Bookmark> {
    items
        .filter_map(|item| {
            let room = BareJid::new(item.attr("id")?).ok()?;
            let c = item.get_child("conference", ns::BOOKMARKS2)?;
            Some(parse_conference(room, c, ns::BOOKMARKS2))
        })
        .collect()
}

fn publish_options() -> Element {
    let field = |var: &str, value: &str| {
        Element::builder("field", ns::DATA_FORMS)
            .a("var", var)
            .append(
                Element::builder("value", ns::DATA_FORMS)
                    .append(value)
                    .build(),
            )
            .build()
    };
    let form_type = Element::builder("field", ns::DATA_FORMS)
        .a("var", "FORM_TYPE")
        .a("type", "hidden")
        .append(
            Element::builder("value", ns::DATA_FORMS)
                .append("http://jabber.org/protocol/pubsub#publish-options")
                .build(),
        )
        .build();

    Element::builder("publish-options", ns::PUBSUB)
        .append(
            Element::builder("x", ns::DATA_FORMS)
                .a("type", "submit")
                .append(form_type)
                .append(field("pubsub#persist_items", "true"))
                .append(field("pubsub#max_items", "max"))
                .append(field("pubsub#send_last_published_item", "never"))
                .append(field("pubsub#access_model", "whitelist"))
                .build(),
        )
        .build()
}

fn private_storage(bookmarks: &[Bookmark]) -> Element {
    let mut storage = Element::builder("storage", ns::BOOKMARKS);
    for b in bookmarks {
        storage = storage.append(conference_el(b, ns::BOOKMARKS, true));
    }
    Element::builder("query", ns::PRIVATE)
        .append(storage.build())
        .build()
}

impl ProtoState {
    /// Asks for our bookmarks (PEP first; private storage if the server has no PEP ones).
    pub fn bookmarks_fetch(&mut self) -> Stanza {
        let payload = Element::builder("pubsub", ns::PUBSUB)
            .append(
                Element::builder("items", ns::PUBSUB)
                    .a("node", ns::BOOKMARKS2)
                    .build(),
            )
            .build();
        self.request(
            PendingIq::Bookmarks(BookmarkIq::FetchPep),
            None,
            true,
            payload,
        )
    }

    /// Stores (adds or replaces) one bookmark.
    pub fn bookmark_publish(&mut self, b: &Bookmark) -> Stanza {
        let state = &mut self.rooms.bookmarks;
        state.known.retain(|k| k.room != b.room);
        state.known.push(b.clone());
        if state.legacy {
            let payload = private_storage(&state.known);
            return self.request(
                PendingIq::Bookmarks(BookmarkIq::Publish),
                None,
                false,
                payload,
            );
        }
        let payload = Element::builder("pubsub", ns::PUBSUB)
            .append(
                Element::builder("publish", ns::PUBSUB)
                    .a("node", ns::BOOKMARKS2)
                    .append(
                        Element::builder("item", ns::PUBSUB)
                            .a("id", b.room.as_str())
                            .append(conference_el(b, ns::BOOKMARKS2, false))
                            .build(),
                    )
                    .build(),
            )
            .append(publish_options())
            .build();
        self.request(
            PendingIq::Bookmarks(BookmarkIq::Publish),
            None,
            false,
            payload,
        )
    }

    /// Removes the bookmark of a room.
    pub fn bookmark_retract(&mut self, room: &BareJid) -> Stanza {
        let state = &mut self.rooms.bookmarks;
        state.known.retain(|k| k.room != *room);
        if state.legacy {
            let payload = private_storage(&state.known);
            return self.request(
                PendingIq::Bookmarks(BookmarkIq::Publish),
                None,
                false,
                payload,
            );
        }
        let payload = Element::builder("pubsub", ns::PUBSUB)
            .append(
                Element::builder("retract", ns::PUBSUB)
                    .a("node", ns::BOOKMARKS2)
                    .a("notify", "true")
                    .append(
                        Element::builder("item", ns::PUBSUB)
                            .a("id", room.as_str())
                            .build(),
                    )
                    .build(),
            )
            .build();
        self.request(
            PendingIq::Bookmarks(BookmarkIq::Publish),
            None,
            false,
            payload,
        )
    }
}

fn ev(e: BookmarkEvent) -> Event {
    Event::Muc(MucEvent::Bookmarks(e))
}

/// Answers to bookmark requests.
pub(super) fn answer(
    state: &mut ProtoState,
    kind: BookmarkIq,
    result: Result<Option<Element>, StanzaError>,
) -> Vec<Event> {
    match (kind, result) {
        (BookmarkIq::FetchPep, Ok(payload)) => {
            let all = payload
                .as_ref()
                .and_then(|p| p.get_child("items", ns::PUBSUB))
                .map(|items| parse_items(items.children().filter(|c| c.is("item", ns::PUBSUB))))
                .unwrap_or_default();
            state.rooms.bookmarks.known = all.clone();
            vec![ev(BookmarkEvent::All(all))]
        }
        (BookmarkIq::FetchPep, Err(e)) if e.defined_condition == DefinedCondition::ItemNotFound => {
            // No bookmarks node yet: nothing bookmarked.
            state.rooms.bookmarks.known.clear();
            vec![ev(BookmarkEvent::All(Vec::new()))]
        }
        (BookmarkIq::FetchPep, Err(_)) => {
            state.rooms.bookmarks.legacy = true;
            let payload = Element::builder("query", ns::PRIVATE)
                .append(Element::builder("storage", ns::BOOKMARKS).build())
                .build();
            let req = state.request(
                PendingIq::Bookmarks(BookmarkIq::FetchPrivate),
                None,
                true,
                payload,
            );
            vec![Event::Reply(Box::new(req))]
        }
        (BookmarkIq::FetchPrivate, Ok(payload)) => {
            let all: Vec<Bookmark> = payload
                .as_ref()
                .and_then(|p| p.get_child("storage", ns::BOOKMARKS))
                .map(|s| {
                    s.children()
                        .filter(|c| c.is("conference", ns::BOOKMARKS))
                        .filter_map(|c| {
                            let room = BareJid::new(c.attr("jid")?).ok()?;
                            Some(parse_conference(room, c, ns::BOOKMARKS))
                        })
                        .collect()
                })
                .unwrap_or_default();
            state.rooms.bookmarks.known = all.clone();
            vec![ev(BookmarkEvent::All(all))]
        }
        (BookmarkIq::FetchPrivate, Err(e)) => vec![Event::Dropped(format!(
            "no bookmarks storage on this server: {e:?}"
        ))],
        (BookmarkIq::Publish, Ok(_)) => Vec::new(),
        (BookmarkIq::Publish, Err(e)) => vec![ev(BookmarkEvent::Failed(
            super::message::describe_error(&e),
        ))],
    }
}

/// A PEP notification about our bookmarks; `None` when the message is not one.
pub(super) fn event(state: &mut ProtoState, m: &Message) -> Option<Vec<Event>> {
    let event = m
        .payloads
        .iter()
        .find(|p| p.is("event", ns::PUBSUB_EVENT))?;
    let items = event
        .get_child("items", ns::PUBSUB_EVENT)
        .filter(|i| i.attr("node") == Some(ns::BOOKMARKS2))?;
    // Only our own account publishes our private bookmarks.
    if !state.from_own_account(&m.from) {
        return Some(vec![Event::Dropped(format!(
            "bookmark event from {} ignored",
            m.from.as_ref().map(Jid::to_string).unwrap_or_default()
        ))]);
    }
    let mut out = Vec::new();
    for b in parse_items(items.children().filter(|c| c.is("item", ns::PUBSUB_EVENT))) {
        state.rooms.bookmarks.known.retain(|k| k.room != b.room);
        state.rooms.bookmarks.known.push(b.clone());
        out.push(ev(BookmarkEvent::Changed(b)));
    }
    for r in items
        .children()
        .filter(|c| c.is("retract", ns::PUBSUB_EVENT))
    {
        if let Some(room) = r.attr("id").and_then(|j| BareJid::new(j).ok()) {
            state.rooms.bookmarks.known.retain(|k| k.room != room);
            out.push(ev(BookmarkEvent::Removed(room)));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;

    fn bm(ev: &[Event]) -> Vec<&BookmarkEvent> {
        ev.iter()
            .filter_map(|e| match e {
                Event::Muc(MucEvent::Bookmarks(b)) => Some(b),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn pep_bookmarks_are_read_and_published() {
        let mut s = state();
        let req = s.bookmarks_fetch();
        let id = super::super::muc::iq_id(&req);
        let ev = s.handle(
            stanza(&format!(
                "<iq xmlns='jabber:client' type='result' id='{id}'>\
                 <pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'>\
                 <item id='tea@conference.example.org'><conference xmlns='urn:xmpp:bookmarks:1' name='Tea' autojoin='true'>\
                 <nick>me</nick></conference></item></items></pubsub></iq>"
            )),
            0,
        );
        let b = bm(&ev);
        let [BookmarkEvent::All(all)] = b.as_slice() else {
            unreachable!("{ev:?}")
        };
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].room.as_str(), "tea@conference.example.org");
        assert!(all[0].autojoin);
        assert_eq!(all[0].nick.as_deref(), Some("me"));
        let xml = to_xml(&s.bookmark_publish(&all[0]));
        assert!(xml.contains("urn:xmpp:bookmarks:1"), "{xml}");
        assert!(xml.contains("id='tea@conference.example.org'"), "{xml}");
        assert!(xml.contains("whitelist"), "{xml}");
    }

    #[test]
    fn without_pep_bookmarks_private_storage_is_used() {
        let mut s = state();
        let id = super::super::muc::iq_id(&s.bookmarks_fetch());
        let ev = s.handle(
            stanza(&format!(
                "<iq xmlns='jabber:client' type='error' id='{id}'>\
                 <error type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
            )),
            0,
        );
        let [Event::Reply(req)] = ev.as_slice() else {
            unreachable!("{ev:?}")
        };
        let xml = to_xml(req);
        assert!(
            xml.contains("jabber:iq:private") && xml.contains("storage:bookmarks"),
            "{xml}"
        );
        let id = super::super::muc::iq_id(req);
        let ev = s.handle(
            stanza(&format!(
                "<iq xmlns='jabber:client' type='result' id='{id}'><query xmlns='jabber:iq:private'>\
                 <storage xmlns='storage:bookmarks'><conference jid='old@conference.example.org' autojoin='1'>\
                 <nick>me</nick></conference></storage></query></iq>"
            )),
            0,
        );
        assert!(
            matches!(bm(&ev).as_slice(), [BookmarkEvent::All(all)] if all.len() == 1 && all[0].autojoin),
            "{ev:?}"
        );
        // Writes now go to private storage, with the whole list.
        let new = Bookmark {
            room: BareJid::new("new@conference.example.org").unwrap_or_else(|_| unreachable!()),
            name: None,
            nick: Some("me".into()),
            password: None,
            autojoin: true,
        };
        let xml = to_xml(&s.bookmark_publish(&new));
        assert!(xml.contains("jabber:iq:private"), "{xml}");
        assert!(
            xml.contains("old@conference.example.org")
                && xml.contains("new@conference.example.org"),
            "{xml}"
        );
    }

    #[test]
    fn bookmark_events_only_from_own_account() {
        let mut s = state();
        let event = |from: &str| {
            stanza(&format!(
                "<message xmlns='jabber:client' from='{from}' to='me@example.org/desk'>\
                 <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:bookmarks:1'>\
                 <item id='evil@conference.example.org'><conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'/></item>\
                 </items></event></message>"
            ))
        };
        for from in ["mallory@example.org", "me@example.org/phone"] {
            let ev = s.handle(event(from), 0);
            assert!(
                matches!(ev.as_slice(), [Event::Dropped(_)]),
                "{from}: {ev:?}"
            );
        }
        let ev = s.handle(event("me@example.org"), 0);
        assert!(
            matches!(bm(&ev).as_slice(), [BookmarkEvent::Changed(b)] if b.autojoin),
            "{ev:?}"
        );
    }
}
