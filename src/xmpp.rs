//! Sans-io protocol translation: stanzas in, [`Event`]s out; commands in, stanzas out.
//! No sockets, no storage, no clock: every file tests itself on literal XML.

use crate::ids::AccountId;
use crate::model::{ChatMessage, Contact, Delivery, Show};
use std::collections::{HashMap, HashSet};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, FullJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza::Stanza;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

pub mod avatar;
pub mod blocking;
pub mod bookmarks;
pub mod changes;
pub mod chatstates;
pub mod correction;
mod delay;
pub mod disco;
pub mod mam;
pub mod message;
pub mod muc;
pub mod omemo2;
pub mod presence;
pub mod profile;
pub mod reactions;
pub mod register;
pub mod reply;
pub mod retraction;
pub mod roster;
pub mod upload;
pub mod vcard4;

/// What we are waiting for an answer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingIq {
    RosterGet,
    RosterSet,
    CarbonsEnable,
    OwnDiscoInfo,
    /// An archive query; `backward` pages go from the newest towards the oldest.
    Mam {
        queryid: String,
        backward: bool,
    },
    /// Group chat rooms (XEP-0045).
    Muc(muc::MucIq),
    /// Room bookmarks (XEP-0402 / XEP-0048).
    Bookmarks(bookmarks::BookmarkIq),
    /// HTTP File Upload discovery or a slot request.
    Upload(upload::UploadIq),
    /// Blocking (XEP-0191): server features, the blocklist, our changes.
    Blocking(blocking::BlockIq),
    /// A request whose answer goes back as it came (see [`Event::Answer`]): room
    /// configuration forms, service and room discovery.
    Query(u64),
}

struct Pending {
    kind: PendingIq,
    /// Who must answer: `None` means our own account (no `to` on the request).
    to: Option<Jid>,
    /// When [`ProtoState::expire`] first saw it waiting.
    seen_ms: Option<i64>,
}

/// How long an IQ request waits for its answer before it fails as
/// `remote-server-timeout` (issue #20: a server that never answers must not leave a
/// catch-up, an upload or a room form waiting for ever). Archive pages of large
/// archives are the slowest answers; they take seconds, not minutes.
pub const IQ_TIMEOUT_MS: i64 = 90_000;

/// Protocol state of one session.
pub struct ProtoState {
    pub account: AccountId,
    pub own: BareJid,
    pub bound: Option<FullJid>,
    /// Our server stamps stanza-ids we may trust (`urn:xmpp:sid:0` on our account).
    pub sid_trusted: bool,
    /// Our server converts PEP avatars to vcard-temp (XEP-0398, from our account's
    /// disco#info): our avatar then goes to PEP only.
    pub vcard_conversion: bool,
    pending: HashMap<String, Pending>,
    next_id: u64,
    /// Archive queries whose results we accept.
    mam_open: HashSet<String>,
    /// Rooms we are in or joining, room archive queries, bookmarks.
    pub rooms: muc::Rooms,
    /// Who the account blocks (XEP-0191); what they send is dropped here.
    pub blocklist: blocking::Blocklist,
}

/// What a handled stanza means for the app.
#[derive(Debug, PartialEq)]
pub enum Event {
    /// The whole roster (answer to our roster get). `None` items means "unchanged
    /// since the version we sent".
    Roster {
        version: Option<String>,
        items: Option<Vec<Contact>>,
    },
    ContactChanged {
        version: Option<String>,
        contact: Contact,
    },
    ContactRemoved {
        version: Option<String>,
        jid: BareJid,
    },
    Presence {
        from: Jid,
        show: Show,
        status: Option<String>,
    },
    SubscriptionRequest(BareJid),
    /// A chat message to store and show. `receipt` is the reply to send once stored.
    Message {
        message: Box<ChatMessage>,
        receipt: Option<Box<Stanza>>,
    },
    /// An outgoing message changed state (receipt, error).
    Delivery {
        id: String,
        peer: BareJid,
        state: Delivery,
    },
    /// One message from our archive (not yet stored).
    Archived {
        queryid: String,
        message: Box<ChatMessage>,
    },
    /// An archive query finished: one page is complete.
    ArchivePage {
        queryid: String,
        backward: bool,
        /// The archive has nothing more in this direction.
        complete: bool,
        /// Archive ids of the oldest and newest message of the page.
        first: Option<String>,
        last: Option<String>,
        /// The server refused or garbled the query.
        failed: bool,
        /// Refused because the archive no longer has the id the query started from
        /// (`item-not-found`): the archive does not reach back that far any more.
        gone: bool,
    },
    /// Our own account's disco#info arrived.
    OwnFeatures {
        sid: bool,
    },
    /// Carbons are on (or could not be enabled).
    CarbonsEnabled(bool),
    /// An answer about HTTP File Upload (discovery or a slot).
    Upload(upload::UploadEvent),
    /// Something to send back right away (IQ results and errors).
    Reply(Box<Stanza>),
    /// A stanza we dropped for a reason worth logging.
    Dropped(String),
    /// Group chat and bookmarks.
    Muc(muc::MucEvent),
    /// A change to an earlier message: a correction, reactions, a retraction or a
    /// moderation, live or from an archive (applied by the store, also to a message
    /// that arrives after it).
    Modify(Box<crate::model::Modification>),
    /// Someone is typing, paused, or left a conversation (`nick`: who, in a room).
    ChatState {
        conversation: crate::ids::ConversationId,
        nick: Option<String>,
        state: xmpp_parsers::chatstates::ChatState,
    },
    /// The blocklist changed, or the server refused a change (XEP-0191).
    Blocking(blocking::BlockEvent),
    /// The answer to a [`PendingIq::Query`], from the entity it was sent to.
    Answer {
        token: u64,
        result: Result<Option<Element>, StanzaError>,
    },
}

impl ProtoState {
    pub fn new(account: AccountId, own: BareJid) -> Self {
        ProtoState {
            account,
            own,
            bound: None,
            sid_trusted: false,
            vcard_conversion: false,
            pending: HashMap::new(),
            next_id: 0,
            mam_open: HashSet::new(),
            rooms: muc::Rooms::default(),
            blocklist: blocking::Blocklist::default(),
        }
    }

    /// A fresh stream (not a resumption) forgets the answers it waited for.
    pub fn reset(&mut self, bound: FullJid) {
        self.bound = Some(bound);
        self.pending.clear();
        self.mam_open.clear();
        self.rooms.reset();
    }

    fn next_id(&mut self) -> String {
        self.next_id += 1;
        format!("lq{}", self.next_id)
    }

    /// Builds an IQ request and remembers who must answer it.
    pub fn request(
        &mut self,
        kind: PendingIq,
        to: Option<Jid>,
        get: bool,
        payload: Element,
    ) -> Stanza {
        let id = self.next_id();
        self.pending.insert(
            id.clone(),
            Pending {
                kind,
                to: to.clone(),
                seen_ms: None,
            },
        );
        let iq = if get {
            Iq::Get {
                from: None,
                to,
                id,
                payload,
            }
        } else {
            Iq::Set {
                from: None,
                to,
                id,
                payload,
            }
        };
        Stanza::Iq(iq)
    }

    /// Is `from` an acceptable sender of the answer to a request sent to `to`?
    /// RFC 6120 8.1.2.1: a request without `to` is answered by our account (no `from`,
    /// our bare JID, or our full JID).
    fn answer_from_ok(&self, to: &Option<Jid>, from: &Option<Jid>) -> bool {
        match (to, from) {
            (None, None) => true,
            (None, Some(f)) => {
                f.to_bare() == self.own
                    && (f.resource().is_none()
                        || self.bound.as_ref().map(|b| Jid::from(b.clone())) == Some(f.clone()))
            }
            (Some(t), Some(f)) => t == f,
            (Some(t), None) => t.to_bare() == self.own && t.resource().is_none(),
        }
    }

    /// Is this stanza from our own account (no `from`, or our bare JID)?
    pub fn from_own_account(&self, from: &Option<Jid>) -> bool {
        match from {
            None => true,
            Some(f) => f.resource().is_none() && f.to_bare() == self.own,
        }
    }

    /// Requests that waited [`IQ_TIMEOUT_MS`] fail as if their server had answered
    /// `remote-server-timeout`; what waited on them learns it the usual way. Call it
    /// now and then (the session does every few seconds): a request's clock starts at
    /// the first call that sees it.
    pub fn expire(&mut self, now_ms: i64) -> Vec<Event> {
        let mut late = Vec::new();
        for (id, p) in &mut self.pending {
            match p.seen_ms {
                None => p.seen_ms = Some(now_ms),
                Some(t) if now_ms.saturating_sub(t) >= IQ_TIMEOUT_MS => {
                    late.push((id.clone(), p.to.clone()))
                }
                Some(_) => {}
            }
        }
        late.sort();
        let mut events = Vec::new();
        for (id, to) in late {
            log::warn!("no answer to IQ {id} in {} s", IQ_TIMEOUT_MS / 1000);
            let e = StanzaError::new(
                ErrorType::Wait,
                DefinedCondition::RemoteServerTimeout,
                "en",
                "no answer in time",
            );
            events.extend(self.answer(to, id, Err(e)));
        }
        events
    }

    /// Handles one stanza. `now_ms` stamps messages that carry no delay.
    pub fn handle(&mut self, stanza: Stanza, now_ms: i64) -> Vec<Event> {
        let events = self.handle_unfiltered(stanza, now_ms);
        blocking::filter(&self.blocklist, events)
    }

    fn handle_unfiltered(&mut self, stanza: Stanza, now_ms: i64) -> Vec<Event> {
        match stanza {
            Stanza::Iq(iq) => self.handle_iq(iq),
            Stanza::Message(mut m) => {
                if let Some(events) = bookmarks::event(self, &m) {
                    return events;
                }
                if let Some(events) = muc::message(self, &mut m, now_ms) {
                    return events;
                }
                message::handle(self, m, now_ms)
            }
            Stanza::Presence(p) => match muc::presence(self, &p) {
                Some(events) => events,
                None => presence::handle(self, p),
            },
        }
    }

    fn handle_iq(&mut self, iq: Iq) -> Vec<Event> {
        match iq {
            Iq::Get {
                from, id, payload, ..
            } => {
                if let Some(reply) = disco::answer(self, &from, &id, &payload) {
                    return vec![Event::Reply(Box::new(reply))];
                }
                vec![Event::Reply(Box::new(error_reply(
                    from,
                    id,
                    DefinedCondition::ServiceUnavailable,
                )))]
            }
            Iq::Set {
                from, id, payload, ..
            } => {
                if payload.is("query", xmpp_parsers::ns::ROSTER) {
                    if !self.from_own_account(&from) {
                        return vec![
                            Event::Dropped(format!(
                                "roster push from {} ignored (only our account may send them)",
                                from.as_ref().map(|f| f.to_string()).unwrap_or_default()
                            )),
                            Event::Reply(Box::new(error_reply(
                                from,
                                id,
                                DefinedCondition::ServiceUnavailable,
                            ))),
                        ];
                    }
                    let mut events = roster::push(payload);
                    events.push(Event::Reply(Box::new(result_reply(from, id))));
                    return events;
                }
                if self.from_own_account(&from)
                    && let Some(mut events) = blocking::push(self, &payload)
                {
                    events.push(Event::Reply(Box::new(result_reply(from, id))));
                    return events;
                }
                vec![Event::Reply(Box::new(error_reply(
                    from,
                    id,
                    DefinedCondition::ServiceUnavailable,
                )))]
            }
            Iq::Result {
                from, id, payload, ..
            } => self.answer(from, id, Ok(payload)),
            Iq::Error {
                from, id, error, ..
            } => self.answer(from, id, Err(error)),
        }
    }

    fn answer(
        &mut self,
        from: Option<Jid>,
        id: String,
        result: Result<Option<Element>, StanzaError>,
    ) -> Vec<Event> {
        let ok = match self.pending.get(&id) {
            None => {
                return vec![Event::Dropped(format!("unexpected IQ answer {id}"))];
            }
            Some(p) => {
                self.answer_from_ok(&p.to, &from) || muc::answer_from_room_ok(&p.kind, &from)
            }
        };
        if !ok {
            return vec![Event::Dropped(format!(
                "IQ answer {id} from the wrong sender {}",
                from.map(|f| f.to_string()).unwrap_or_default()
            ))];
        }
        let Some(pending) = self.pending.remove(&id) else {
            return Vec::new();
        };
        match pending.kind {
            PendingIq::RosterGet => match result {
                Ok(payload) => roster::result(payload),
                Err(e) => vec![Event::Dropped(format!("roster request failed: {e:?}"))],
            },
            PendingIq::RosterSet => match result {
                Ok(_) => Vec::new(),
                Err(e) => vec![Event::Dropped(format!("roster change refused: {e:?}"))],
            },
            PendingIq::CarbonsEnable => vec![Event::CarbonsEnabled(result.is_ok())],
            PendingIq::Mam { queryid, backward } => match result {
                Ok(payload) => self.archive_fin(queryid, backward, payload),
                Err(e) => {
                    log::warn!("archive query refused: {e:?}");
                    let gone = e.defined_condition == DefinedCondition::ItemNotFound;
                    let mut events = self.archive_fin(queryid, backward, None);
                    for ev in &mut events {
                        if let Event::ArchivePage { gone: g, .. } = ev {
                            *g = gone;
                        }
                    }
                    events
                }
            },
            PendingIq::Muc(kind) => muc::answer(self, kind, result),
            PendingIq::Bookmarks(kind) => bookmarks::answer(self, kind, result),
            PendingIq::OwnDiscoInfo => match result {
                Ok(Some(payload)) => {
                    self.vcard_conversion = vcard4::support(Some(&payload)).conversion;
                    let sid = disco::has_feature(payload, xmpp_parsers::ns::SID);
                    self.sid_trusted = sid;
                    vec![Event::OwnFeatures { sid }]
                }
                _ => vec![Event::OwnFeatures { sid: false }],
            },
            PendingIq::Upload(kind) => vec![Event::Upload(upload::answer(kind, result))],
            PendingIq::Query(token) => vec![Event::Answer { token, result }],
            PendingIq::Blocking(kind) => blocking::answer(self, kind, result),
        }
    }
}

/// Longest status text, room subject, reason or roster name kept, in characters.
pub const MAX_SHORT_TEXT: usize = 1024;

/// A short text from the network as we keep it: bidirectional controls removed (they
/// can make a name or status read as something else), at most [`MAX_SHORT_TEXT`]
/// characters (cut with "…"), so nobody can hand us a megabyte-long status.
pub fn short_text(text: &str) -> String {
    let mut out: String = text
        .chars()
        .filter(|c| !crate::notify::is_bidi_control(*c))
        .take(MAX_SHORT_TEXT + 1)
        .collect();
    if out.chars().count() > MAX_SHORT_TEXT {
        out = out.chars().take(MAX_SHORT_TEXT - 1).collect();
        out.push('…');
    }
    out
}

pub fn result_reply(to: Option<Jid>, id: String) -> Stanza {
    Stanza::Iq(Iq::Result {
        from: None,
        to,
        id,
        payload: None,
    })
}

pub fn error_reply(to: Option<Jid>, id: String, condition: DefinedCondition) -> Stanza {
    Stanza::Iq(Iq::Error {
        from: None,
        to,
        id,
        payload: None,
        error: {
            let mut e = StanzaError::new(ErrorType::Cancel, condition, "en", "");
            e.texts.clear();
            e
        },
    })
}

/// Parses literal XML into a stanza (tests and tools).
pub fn parse_stanza(xml: &str) -> Option<Stanza> {
    let el: Element = xml.parse().ok()?;
    if el.is("message", xmpp_parsers::ns::JABBER_CLIENT) {
        xmpp_parsers::message::Message::try_from(el)
            .ok()
            .map(Stanza::Message)
    } else if el.is("presence", xmpp_parsers::ns::JABBER_CLIENT) {
        xmpp_parsers::presence::Presence::try_from(el)
            .ok()
            .map(Stanza::Presence)
    } else if el.is("iq", xmpp_parsers::ns::JABBER_CLIENT) {
        Iq::try_from(el).ok().map(Stanza::Iq)
    } else {
        None
    }
}

/// Serialises a stanza to XML text (tests and logs).
pub fn to_xml(stanza: &Stanza) -> String {
    let el: Element = match stanza {
        Stanza::Iq(i) => i.clone().into(),
        Stanza::Message(m) => m.clone().into(),
        Stanza::Presence(p) => p.clone().into(),
    };
    String::from(&el)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub fn state() -> ProtoState {
        let own = BareJid::new("me@example.org").unwrap_or_else(|_| unreachable!());
        let mut s = ProtoState::new(AccountId("acc".into()), own);
        s.bound = FullJid::new("me@example.org/desk").ok();
        s
    }

    pub fn stanza(xml: &str) -> Stanza {
        match parse_stanza(xml) {
            Some(s) => s,
            None => unreachable!("test XML does not parse: {xml}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn iq_answer_from_a_stranger_is_ignored() {
        let mut s = state();
        let req = s.request(PendingIq::RosterGet, None, true, roster::query(None));
        let Stanza::Iq(Iq::Get { id, .. }) = req else {
            unreachable!()
        };
        let forged = stanza(&format!(
            "<iq xmlns='jabber:client' type='result' id='{id}' from='evil@example.com'>\
             <query xmlns='jabber:iq:roster'><item jid='x@y'/></query></iq>"
        ));
        let ev = s.handle(forged, 0);
        assert!(matches!(ev.as_slice(), [Event::Dropped(_)]), "{ev:?}");
        // The genuine answer is still accepted afterwards.
        let real = stanza(&format!(
            "<iq xmlns='jabber:client' type='result' id='{id}'>\
             <query xmlns='jabber:iq:roster' ver='v1'><item jid='x@y' subscription='both'/></query></iq>"
        ));
        let ev = s.handle(real, 0);
        assert!(
            matches!(ev.as_slice(), [Event::Roster { version: Some(v), items: Some(items) }] if v == "v1" && items.len() == 1),
            "{ev:?}"
        );
    }

    /// Issue #20: a request nobody answers fails after `IQ_TIMEOUT_MS` as a timeout,
    /// to a room's server as to our own; a late answer then changes nothing.
    #[test]
    fn unanswered_requests_time_out() {
        let mut s = state();
        let room = Jid::new("tea@conference.example.org").unwrap_or_else(|_| unreachable!());
        let req = s.request(PendingIq::Query(7), Some(room), true, roster::query(None));
        let Stanza::Iq(Iq::Get { id, .. }) = req else {
            unreachable!()
        };
        let t0 = 1_000_000;
        assert!(s.expire(t0).is_empty(), "the clock starts");
        assert!(s.expire(t0 + IQ_TIMEOUT_MS - 1).is_empty());
        let ev = s.expire(t0 + IQ_TIMEOUT_MS);
        assert!(
            matches!(ev.as_slice(), [Event::Answer { token: 7, result: Err(e) }] if e.defined_condition == DefinedCondition::RemoteServerTimeout),
            "{ev:?}"
        );
        assert!(s.expire(t0 + 10 * IQ_TIMEOUT_MS).is_empty(), "once");
        let late = stanza(&format!(
            "<iq xmlns='jabber:client' type='result' id='{id}' from='tea@conference.example.org'/>"
        ));
        assert!(matches!(s.handle(late, 0).as_slice(), [Event::Dropped(_)]));
        // Our own server's silence too: the roster request gives up in words.
        s.request(PendingIq::RosterGet, None, true, roster::query(None));
        s.expire(0);
        let ev = s.expire(IQ_TIMEOUT_MS);
        assert!(
            matches!(ev.as_slice(), [Event::Dropped(d)] if d.contains("roster")),
            "{ev:?}"
        );
    }

    #[test]
    fn short_texts_are_capped_and_lose_bidi_controls() {
        assert_eq!(short_text("ok"), "ok");
        assert_eq!(short_text("in\u{202E}voice"), "invoice");
        let long = short_text(&"字".repeat(1_000_000));
        assert_eq!(long.chars().count(), MAX_SHORT_TEXT);
        assert!(long.ends_with('…'));
        assert_eq!(
            short_text(&"a".repeat(MAX_SHORT_TEXT)),
            "a".repeat(MAX_SHORT_TEXT)
        );
    }

    /// Status texts, subjects, reasons and roster names from the network go through
    /// `short_text`.
    #[test]
    fn network_texts_are_capped_where_they_enter() {
        let huge = "x".repeat(5_000);
        let rlo = '\u{202E}';
        let mut s = state();
        let ev = s.handle(
            stanza(&format!(
                "<presence xmlns='jabber:client' from='bob@example.org/a'><status>{rlo}{huge}</status></presence>"
            )),
            0,
        );
        assert!(
            matches!(ev.as_slice(), [Event::Presence { status: Some(t), .. }] if t.chars().count() == MAX_SHORT_TEXT && !t.contains('\u{202E}')),
            "{:?}",
            ev.iter()
                .map(|e| format!("{e:?}").len())
                .collect::<Vec<_>>()
        );
        let ev = s.handle(
            stanza(&format!(
                "<iq xmlns='jabber:client' type='set' id='p1'><query xmlns='jabber:iq:roster'>\
                 <item jid='c@x' name='{huge}' subscription='both'/></query></iq>"
            )),
            0,
        );
        assert!(
            ev.iter().any(|e| matches!(e, Event::ContactChanged { contact, .. } if contact.name.as_ref().is_some_and(|n| n.chars().count() == MAX_SHORT_TEXT))),
            "{:?}",
            ev.iter().map(|e| format!("{e:?}").len()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn unknown_get_is_answered_with_an_error() {
        let mut s = state();
        let ev = s.handle(
            stanza("<iq xmlns='jabber:client' type='get' id='q1' from='a@b/c'><foo xmlns='urn:x'/></iq>"),
            0,
        );
        match ev.as_slice() {
            [Event::Reply(reply)] => {
                let xml = to_xml(reply);
                assert!(xml.contains("type='error'"), "{xml}");
                assert!(xml.contains("service-unavailable"), "{xml}");
            }
            other => unreachable!("{other:?}"),
        }
    }
}
