//! Group chat (XEP-0045): joining with history suppressed (the room's archive fills the
//! gap instead), self-presence and status codes, occupants, subject, groupchat messages,
//! room archives (XEP-0313 on the room), invitations (XEP-0249 and mediated), self-ping
//! (XEP-0410). Rules: a room's stanza-id is trusted only when `by` is the room and the
//! room advertises `urn:xmpp:sid:0`; archive results only from the queried room for an
//! open query; a muc#user `item jid` inside a live message is never read.

use super::{Event, PendingIq, ProtoState};
use crate::ids::LocalMessageId;
use crate::model::{ChatMessage, Delivery, Direction, Show};
use xmpp_parsers::delay::Delay;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::mam::{Fin, Result_};
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::presence::{Presence, Type};
#[cfg(test)]
use xmpp_parsers::stanza::Stanza;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};
use xmpp_parsers::stanza_id::{OriginId, StanzaId};

pub mod affiliations;
pub mod browse;
mod build;
pub mod form;
mod private;
mod requests;
#[cfg(test)]
mod tests;
mod types;

pub use build::*;
pub use private::{private_message, private_nick};
pub use requests::groupchat;
pub use types::*;

pub const NS_MUC: &str = "http://jabber.org/protocol/muc";
pub const NS_MUC_USER: &str = "http://jabber.org/protocol/muc#user";
pub const NS_MUC_OWNER: &str = "http://jabber.org/protocol/muc#owner";
pub const NS_MUC_ADMIN: &str = "http://jabber.org/protocol/muc#admin";
pub const NS_CONFERENCE: &str = "jabber:x:conference";

/// Occupants listed per room. A room (or whoever floods it with joins) cannot grow
/// our memory past this: further newcomers are not listed (their messages still
/// show) until someone leaves. Far above the rooms people chat in.
pub const MAX_OCCUPANTS: usize = 5_000;

/// `ElementBuilder::attr` with a plain attribute name (minidom wants an `NcName`).
pub(crate) trait AttrExt {
    fn a(self, name: &str, value: &str) -> Self;
}

impl AttrExt for xmpp_parsers::minidom::ElementBuilder {
    fn a(self, name: &str, value: &str) -> Self {
        match xmpp_parsers::minidom::rxml::NcName::try_from(name) {
            Ok(n) => self.attr(n, value.to_owned()),
            Err(_) => self,
        }
    }
}

fn room_event(e: MucEvent) -> Event {
    Event::Muc(e)
}

fn children<'a>(el: &'a Element, name: &'a str, ns: &'a str) -> impl Iterator<Item = &'a Element> {
    el.children().filter(move |c| c.is(name, ns))
}

/// What a muc#user `<x/>` in a presence says.
#[derive(Debug, Default)]
struct UserInfo {
    codes: Vec<u16>,
    role: Option<Role>,
    affiliation: Option<Affiliation>,
    jid: Option<BareJid>,
    new_nick: Option<String>,
    reason: Option<String>,
    actor: Option<String>,
    destroyed: Option<Option<String>>,
}

fn parse_role(s: Option<&str>) -> Option<Role> {
    Some(match s? {
        "moderator" => Role::Moderator,
        "participant" => Role::Participant,
        "visitor" => Role::Visitor,
        "none" => Role::None,
        _ => return None,
    })
}

fn parse_affiliation(s: Option<&str>) -> Option<Affiliation> {
    Some(match s? {
        "owner" => Affiliation::Owner,
        "admin" => Affiliation::Admin,
        "member" => Affiliation::Member,
        "outcast" => Affiliation::Outcast,
        "none" => Affiliation::None,
        _ => return None,
    })
}

fn text_of(el: &Element, name: &str, ns: &str) -> Option<String> {
    el.get_child(name, ns)
        .map(|c| c.text().trim().to_owned())
        .filter(|t| !t.is_empty())
}

fn user_info(payloads: &[Element]) -> Option<UserInfo> {
    let x = payloads.iter().find(|p| p.is("x", NS_MUC_USER))?;
    let mut info = UserInfo::default();
    for s in children(x, "status", NS_MUC_USER) {
        if let Some(code) = s.attr("code").and_then(|c| c.parse().ok()) {
            info.codes.push(code);
        }
    }
    if let Some(item) = x.get_child("item", NS_MUC_USER) {
        info.role = parse_role(item.attr("role"));
        info.affiliation = parse_affiliation(item.attr("affiliation"));
        info.jid = item
            .attr("jid")
            .and_then(|j| Jid::new(j).ok())
            .map(|j| j.to_bare());
        info.new_nick = item.attr("nick").map(str::to_owned);
        info.reason = text_of(item, "reason", NS_MUC_USER).map(|r| super::short_text(&r));
        info.actor = item
            .get_child("actor", NS_MUC_USER)
            .and_then(|a| a.attr("nick"))
            .map(str::to_owned);
    }
    if let Some(d) = x.get_child("destroy", NS_MUC_USER) {
        info.destroyed = Some(text_of(d, "reason", NS_MUC_USER).map(|r| super::short_text(&r)));
    }
    Some(info)
}

fn departure_of(info: &UserInfo) -> Departure {
    let exit = if info.destroyed.is_some() {
        Exit::Destroyed
    } else if info.codes.contains(&301) {
        Exit::Banned
    } else if info.codes.contains(&307) {
        Exit::Kicked
    } else if info.codes.contains(&321) {
        Exit::AffiliationChanged
    } else if info.codes.contains(&322) {
        Exit::MembersOnly
    } else if info.codes.contains(&332) {
        Exit::Shutdown
    } else {
        Exit::Left
    };
    Departure {
        exit,
        reason: info
            .reason
            .clone()
            .or_else(|| info.destroyed.clone().flatten()),
        actor: info.actor.clone(),
    }
}

fn show_of(p: &Presence) -> Show {
    use xmpp_parsers::presence::Show as X;
    match (p.type_.clone(), p.show.clone()) {
        (Type::Unavailable, _) => Show::Offline,
        (_, None) => Show::Online,
        (_, Some(X::Chat)) => Show::Chat,
        (_, Some(X::Away)) => Show::Away,
        (_, Some(X::Xa)) => Show::ExtendedAway,
        (_, Some(X::Dnd)) => Show::DoNotDisturb,
    }
}

/// Presence from a room we are in or joining; `None` when it is not about a room.
pub(super) fn presence(state: &mut ProtoState, p: &Presence) -> Option<Vec<Event>> {
    let from = p.from.as_ref()?;
    let room_jid = from.to_bare();
    let room = state.rooms.rooms.get_mut(&room_jid)?;
    if p.type_ == Type::Error {
        let error = p
            .payloads
            .iter()
            .find_map(|el| StanzaError::try_from(el.clone()).ok())
            .map(|e| MucError::from_stanza_error(&e))
            .unwrap_or(MucError::Other("unknown error".into()));
        if room.joined {
            return Some(vec![room_event(MucEvent::Refused {
                room: room_jid,
                error,
            })]);
        }
        state.rooms.rooms.remove(&room_jid);
        return Some(vec![room_event(MucEvent::JoinFailed {
            room: room_jid,
            error,
        })]);
    }
    let Some(nick) = from.resource().map(|r| r.to_string()) else {
        return Some(vec![Event::Dropped(format!(
            "presence from room {room_jid} itself ignored"
        ))]);
    };
    let info = user_info(&p.payloads).unwrap_or_default();
    let own = info.codes.contains(&110);
    let occupant = Occupant {
        nick: nick.clone(),
        role: info.role.unwrap_or(Role::None),
        affiliation: info.affiliation.unwrap_or(Affiliation::None),
        real_jid: info.jid.clone(),
        show: show_of(p),
    };
    let mut events = Vec::new();
    match p.type_ {
        Type::Unavailable if info.codes.contains(&303) => {
            let Some(new) = info.new_nick.clone() else {
                return Some(vec![Event::Dropped("nick change without new nick".into())]);
            };
            if let Some(mut o) = room.occupants.remove(&nick) {
                o.nick = new.clone();
                room.occupants.insert(new.clone(), o);
            }
            if own {
                room.nick = new.clone();
            }
            events.push(room_event(MucEvent::NickChanged {
                room: room_jid,
                old: nick,
                new,
                own,
            }));
        }
        Type::Unavailable => {
            room.occupants.remove(&nick);
            let departure = departure_of(&info);
            if own {
                state.rooms.rooms.remove(&room_jid);
                events.push(room_event(MucEvent::Left {
                    room: room_jid,
                    departure,
                }));
            } else {
                events.push(room_event(MucEvent::OccupantLeft {
                    room: room_jid,
                    nick,
                    departure,
                }));
            }
        }
        Type::None => {
            let created = info.codes.contains(&201);
            if !own && room.occupants.len() >= MAX_OCCUPANTS && !room.occupants.contains_key(&nick)
            {
                return Some(vec![Event::Dropped(format!(
                    "{room_jid} has more than {MAX_OCCUPANTS} occupants; {nick} is not listed"
                ))]);
            }
            let is_new = room
                .occupants
                .insert(nick.clone(), occupant.clone())
                .is_none();
            if own && let Some(id) = presence_occupant_id(p) {
                room.own_oid = Some(id);
            }
            if own && !room.joined {
                room.joined = true;
                // 210: the room gave us another nick than we asked for.
                room.nick = nick.clone();
                if created {
                    // A new room stays locked (others get item-not-found) until it is
                    // configured: accept the defaults, and report the join once open.
                    events.push(Event::Reply(Box::new(state.instant_room(room_jid))));
                } else {
                    let occupants = room.occupants.values().cloned().collect();
                    events.push(room_event(MucEvent::Joined {
                        room: room_jid.clone(),
                        nick,
                        created,
                        occupants,
                    }));
                }
            } else if room.joined {
                events.push(room_event(MucEvent::Occupant {
                    room: room_jid,
                    occupant,
                    joined: is_new,
                }));
            }
        }
        _ => {}
    }
    Some(events)
}

/// Messages that belong to group chat: room traffic, room archives, invitations.
/// `None` means "not ours, let the 1:1 code look at it".
pub(super) fn message(state: &mut ProtoState, m: &mut Message, now_ms: i64) -> Option<Vec<Event>> {
    if m.type_ == MessageType::Error {
        return None;
    }
    if let Some(events) = room_archive_result(state, m, now_ms) {
        return Some(events);
    }
    if let Some(inv) = invitation(state, m) {
        return Some(inv);
    }
    if m.type_ != MessageType::Groupchat {
        return None;
    }
    let Some(from) = m.from.clone() else {
        return Some(vec![Event::Dropped("groupchat without sender".into())]);
    };
    let room_jid = from.to_bare();
    let Some(room) = state.rooms.rooms.get(&room_jid) else {
        return Some(vec![Event::Dropped(format!(
            "groupchat from {room_jid}, a room we are not in"
        ))]);
    };
    let nick = from.resource().map(|r| r.to_string());
    let has_body = m.bodies.values().any(|b| !b.trim().is_empty());
    if !has_body && let Some(subject) = m.subjects.values().next() {
        return Some(vec![room_event(MucEvent::Subject {
            room: room_jid,
            subject: super::short_text(subject.trim()),
            by: nick,
        })]);
    }
    let own_nick = room.nick.clone();
    let sid = room.sid;
    let occupant_id = occupant_id(m, room.oid);
    let server_id = room_stanza_id(m, &room_jid, sid);
    // Only the room's own delay (its history on join) dates a message; a sender's
    // would back-date it into old history.
    let delay = super::delay::take_trusted(m, &Jid::from(room_jid.clone()));
    let mut events = Vec::new();
    if let Some(n) = nick.as_deref()
        && n != own_nick
        && let Some(chat_state) = super::chatstates::parse(m)
    {
        events.push(Event::ChatState {
            conversation: crate::ids::ConversationId::Room(room_jid.clone()),
            nick: Some(n.to_owned()),
            state: chat_state,
        });
    }
    let at_ms = delay
        .as_ref()
        .map(|d| d.stamp.0.timestamp_millis())
        .filter(|t| *t > 0 && *t <= now_ms + 60_000)
        .unwrap_or(now_ms);
    if let Some(change) = room_change(
        state,
        m,
        &room_jid,
        nick.as_deref(),
        &own_nick,
        occupant_id.as_deref(),
        at_ms,
    ) {
        events.extend(change);
        return Some(events);
    }
    let Some(nick) = nick else {
        // Messages from the room itself (status notes) carry no sender nick.
        return Some(events);
    };
    events.extend(
        room_message(state, m.clone(), room_jid, nick, &own_nick, delay, now_ms).map(
            |mut message| {
                message.server_id = server_id;
                message.extras.occupant_id = occupant_id;
                Event::Message {
                    message: Box::new(message),
                    receipt: None,
                }
            },
        ),
    );
    Some(events)
}

/// The occupant id (XEP-0421) a room's presence carries; believed only where the
/// room says it stamps them (`Room::own_occupant_id`): such a room replaces any the
/// occupant put there.
fn presence_occupant_id(p: &Presence) -> Option<String> {
    p.payloads
        .iter()
        .find(|el| el.is("occupant-id", ns::OID))
        .and_then(|el| el.attr("id"))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

/// The sender's occupant id (XEP-0421), only from a room that says it stamps them
/// (elsewhere anyone could claim one); removed from `m` either way.
fn occupant_id(m: &mut Message, trusted: bool) -> Option<String> {
    let found = m
        .extract_payload::<xmpp_parsers::occupant_id::OccupantId>()
        .ok()
        .flatten()
        .map(|o| o.id)
        .filter(|id| !id.is_empty());
    if trusted { found } else { None }
}

/// A correction, reactions, retraction or moderation in a room, as a modification of
/// the room's message; `None` when `m` carries none. A moderation counts only from the
/// room itself (no nick), everything else only from an occupant.
fn room_change(
    state: &ProtoState,
    m: &Message,
    room: &BareJid,
    nick: Option<&str>,
    own_nick: &str,
    occupant_id: Option<&str>,
    at_ms: i64,
) -> Option<Vec<Event>> {
    let found = super::changes::detect(m)?;
    let moderation = matches!(found, super::changes::Found::Moderate { .. });
    if moderation != nick.is_none() {
        return Some(vec![Event::Dropped(format!(
            "{} in {room} from {} ignored",
            if moderation { "moderation" } else { "change" },
            nick.unwrap_or("the room itself")
        ))]);
    }
    let nick = nick.unwrap_or_default();
    let direction = if !moderation && nick == own_nick {
        Direction::Outgoing
    } else {
        Direction::Incoming
    };
    let origin_id = m
        .payloads
        .iter()
        .find(|p| p.is("origin-id", ns::SID))
        .and_then(|p| p.attr("id"))
        .map(str::to_owned);
    let own = state.own.to_string();
    let modification = super::changes::into_modification(
        found,
        super::changes::Context {
            account: &state.account,
            own: &own,
            conversation: crate::ids::ConversationId::Room(room.clone()),
            direction,
            nick,
            occupant_id,
            id: origin_id.or_else(|| m.id.as_ref().map(|i| i.0.clone())),
            at_ms,
        },
    );
    Some(vec![Event::Modify(Box::new(modification))])
}

/// A room's stanza-id, only when `by` is the room and the room says it stamps them.
fn room_stanza_id(m: &mut Message, room: &BareJid, trusted: bool) -> Option<String> {
    let by = Jid::from(room.clone());
    let mut found = None;
    m.payloads.retain(|el| {
        if el.is("stanza-id", ns::SID)
            && let Ok(sid) = StanzaId::try_from(el.clone())
            && sid.by == by
        {
            found = Some(sid.id);
            return false;
        }
        true
    });
    if trusted { found } else { None }
}

/// Turns a groupchat message into a stored message. Never looks at muc#user items.
fn room_message(
    state: &ProtoState,
    mut m: Message,
    room: BareJid,
    nick: String,
    own_nick: &str,
    delay: Option<Delay>,
    now_ms: i64,
) -> Option<ChatMessage> {
    let origin_id = m.extract_payload::<OriginId>().ok().flatten().map(|o| o.id);
    let oob = m.extract_payload::<xmpp_parsers::oob::Oob>().ok().flatten();
    let (_, body) = m.get_best_body_cloned(vec!["en", ""])?;
    let reply_to = super::reply::parse(&m);
    let body = match &reply_to {
        Some(_) => Some(super::reply::strip_fallback(&m, &body))
            .filter(|b| !b.trim().is_empty())
            .unwrap_or(body),
        None => body,
    };
    let (body, truncated) = super::message::limit_body(body);
    let attachment = super::upload::attachment(oob, &body).map(Box::new);
    if body.trim().is_empty() {
        return None;
    }
    // Whole seconds: room archives (Prosody's among them) stamp to the second, and a
    // live message must not sort after archived ones of the same second.
    let timestamp_ms = delay
        .map(|d| d.stamp.0.timestamp_millis())
        .filter(|t| *t > 0 && *t <= now_ms + 60_000)
        .unwrap_or(now_ms - now_ms.rem_euclid(1000));
    let direction = if nick == own_nick {
        Direction::Outgoing
    } else {
        Direction::Incoming
    };
    let stanza_id_attr = m.id.as_ref().map(|i| i.0.clone());
    let id = match (direction, &origin_id) {
        (Direction::Outgoing, Some(o)) => LocalMessageId(o.clone()),
        _ => LocalMessageId::generate(),
    };
    Some(ChatMessage {
        id,
        account: state.account.clone(),
        conversation: crate::ids::ConversationId::Room(room),
        direction,
        sender: nick,
        body,
        timestamp_ms,
        stanza_id_attr,
        origin_id,
        server_id: None,
        delivery: Delivery::Delivered,
        truncated,
        attachment,
        extras: crate::model::Extras {
            reply_to,
            ..Default::default()
        },
    })
}

fn room_archive_result(state: &mut ProtoState, m: &mut Message, now_ms: i64) -> Option<Vec<Event>> {
    let el = m.payloads.iter().find(|p| p.is("result", ns::MAM))?;
    if state.from_own_account(&m.from) {
        return None; // our own archive: mam.rs
    }
    let queryid = el.attr("queryid").unwrap_or_default().to_owned();
    let from = m.from.clone();
    let Some(room) = state.rooms.mam.get(&queryid).cloned() else {
        return Some(vec![Event::Dropped(format!(
            "archive result for a room query we did not open ({queryid})"
        ))]);
    };
    if from != Some(Jid::from(room.clone())) {
        return Some(vec![Event::Dropped(format!(
            "archive result for {room} from {} ignored",
            from.map(|f| f.to_string()).unwrap_or_default()
        ))]);
    }
    let result = m.extract_payload::<Result_>().ok().flatten()?;
    let delay = result.forwarded.delay;
    let inner = result.forwarded.message;
    if inner.type_ != MessageType::Groupchat {
        return Some(Vec::new());
    }
    let inner_from = inner.from.clone();
    if inner_from.as_ref().map(Jid::to_bare) != Some(room.clone()) {
        return Some(vec![Event::Dropped(
            "room archive entry from elsewhere".into(),
        )]);
    }
    let nick = inner_from.and_then(|f| f.resource().map(|r| r.to_string()));
    let (own_nick, oid) = state
        .rooms
        .rooms
        .get(&room)
        .map(|r| (r.nick.clone(), r.oid))
        .unwrap_or_default();
    let mut inner = inner;
    let occupant_id = occupant_id(&mut inner, oid);
    let at_ms = delay
        .as_ref()
        .map(|d| d.stamp.0.timestamp_millis())
        .filter(|t| *t > 0 && *t <= now_ms + 60_000)
        .unwrap_or(now_ms);
    if let Some(change) = room_change(
        state,
        &inner,
        &room,
        nick.as_deref(),
        &own_nick,
        occupant_id.as_deref(),
        at_ms,
    ) {
        return Some(change);
    }
    let Some(nick) = nick else {
        return Some(Vec::new());
    };
    Some(
        room_message(state, inner, room.clone(), nick, &own_nick, delay, now_ms)
            .map(|mut message| {
                message.server_id = Some(result.id);
                message.extras.occupant_id = occupant_id;
                room_event(MucEvent::Archived {
                    room,
                    queryid,
                    message: Box::new(message),
                })
            })
            .into_iter()
            .collect(),
    )
}

fn invitation(state: &ProtoState, m: &Message) -> Option<Vec<Event>> {
    let from = m.from.as_ref()?;
    // XEP-0249: anyone may invite us directly; the invitation names the room.
    if let Some(x) = m.payloads.iter().find(|p| p.is("x", NS_CONFERENCE)) {
        let Some(room) = x.attr("jid").and_then(|j| BareJid::new(j).ok()) else {
            return Some(vec![Event::Dropped(
                "direct invitation without room".into(),
            )]);
        };
        return Some(vec![room_event(MucEvent::Invitation(Invitation {
            room,
            from: from.to_bare(),
            reason: x
                .attr("reason")
                .map(super::short_text)
                .filter(|r| !r.is_empty()),
            password: x.attr("password").map(str::to_owned),
            direct: true,
        }))]);
    }
    // Mediated: the room itself forwards an invitation from one of its occupants.
    let x = m.payloads.iter().find(|p| p.is("x", NS_MUC_USER))?;
    let invite = x.get_child("invite", NS_MUC_USER)?;
    if from.resource().is_some() {
        return Some(vec![Event::Dropped(
            "mediated invitation not from a room".into(),
        )]);
    }
    let inviter = invite
        .attr("from")
        .and_then(|j| Jid::new(j).ok())
        .map(|j| j.to_bare())
        .unwrap_or_else(|| from.to_bare());
    let _ = state;
    Some(vec![room_event(MucEvent::Invitation(Invitation {
        room: from.to_bare(),
        from: inviter,
        reason: text_of(invite, "reason", NS_MUC_USER).map(|r| super::short_text(&r)),
        password: text_of(x, "password", NS_MUC_USER),
        direct: false,
    }))])
}

/// An answer to one of our room requests.
pub(super) fn answer(
    state: &mut ProtoState,
    kind: MucIq,
    result: Result<Option<Element>, StanzaError>,
) -> Vec<Event> {
    match kind {
        MucIq::Info(room) => {
            let info = match result {
                Ok(Some(p)) => browse::parse_room_info(&p).unwrap_or_default(),
                _ => Default::default(),
            };
            let has = |f: &str| info.features.iter().any(|x| x == f);
            let (sid, mam) = (has(ns::SID), has(ns::MAM));
            if let Some(r) = state.rooms.rooms.get_mut(&room) {
                r.sid = sid;
                r.oid = has(ns::OID);
                r.features_known = true;
            }
            vec![room_event(MucEvent::Features {
                room,
                sid,
                mam,
                subject_open: info.subject_open,
                // OMEMO needs both (see `session::omemo::rooms::is_private`).
                private: info.members_only && info.public_jids,
                avatar: info.avatar_hash,
            })]
        }
        MucIq::Instant(room) => {
            let mut events = Vec::new();
            if let Err(e) = result {
                events.push(room_event(MucEvent::Refused {
                    room: room.clone(),
                    error: MucError::from_stanza_error(&e),
                }));
            }
            if let Some(r) = state.rooms.rooms.get(&room) {
                events.push(room_event(MucEvent::Joined {
                    room: room.clone(),
                    nick: r.nick.clone(),
                    created: true,
                    occupants: r.occupants.values().cloned().collect(),
                }));
            }
            events
        }
        MucIq::Configure(room) | MucIq::Action(room) => match result {
            Ok(_) => Vec::new(),
            Err(e) => vec![room_event(MucEvent::Refused {
                room,
                error: MucError::from_stanza_error(&e),
            })],
        },
        MucIq::SelfPing(room) => {
            use DefinedCondition as C;
            let joined = match result {
                Ok(_) => true,
                // The occupant's client does not answer pings: still joined.
                Err(e) => matches!(
                    e.defined_condition,
                    C::ServiceUnavailable | C::FeatureNotImplemented
                ),
            };
            if !joined && let Some(r) = state.rooms.rooms.get_mut(&room) {
                r.joined = false;
            }
            vec![room_event(MucEvent::SelfPing { room, joined })]
        }
        MucIq::Mam {
            room,
            queryid,
            backward,
        } => {
            state.rooms.mam.remove(&queryid);
            let fin = match result {
                Ok(Some(p)) => Fin::try_from(p).ok(),
                _ => None,
            };
            let event = match fin {
                Some(fin) => MucEvent::ArchivePage {
                    room,
                    queryid,
                    backward,
                    complete: fin.complete,
                    first: fin.set.first.map(|f| f.item),
                    last: fin.set.last,
                    failed: false,
                },
                None => MucEvent::ArchivePage {
                    room,
                    queryid,
                    backward,
                    complete: true,
                    first: None,
                    last: None,
                    failed: true,
                },
            };
            vec![room_event(event)]
        }
    }
}

/// Error answers to a self-ping come from the room itself (not the nick we pinged).
pub(super) fn answer_from_room_ok(kind: &PendingIq, from: &Option<Jid>) -> bool {
    matches!((kind, from), (PendingIq::Muc(MucIq::SelfPing(room)), Some(f))
        if f.resource().is_none() && f.to_bare() == *room)
}

/// Iq type helper for tests.
#[cfg(test)]
pub(crate) fn iq_id(st: &Stanza) -> String {
    match st {
        Stanza::Iq(xmpp_parsers::iq::Iq::Get { id, .. } | xmpp_parsers::iq::Iq::Set { id, .. }) => {
            id.clone()
        }
        _ => String::new(),
    }
}
