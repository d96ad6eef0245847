//! Requests to rooms: join, leave, self-ping, kick, instant configuration, archive pages.

use super::{AttrExt, MucIq, NS_MUC_ADMIN, NS_MUC_OWNER, Room, build};
use crate::ids::LocalMessageId;
use crate::xmpp::{PendingIq, ProtoState};
use std::collections::BTreeMap;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::mam::{Query, QueryId};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::presence::Presence;
use xmpp_parsers::rsm::SetQuery;
use xmpp_parsers::stanza::Stanza;

impl ProtoState {
    /// Join a room: ask what it supports, then enter with history suppressed (the
    /// archive fills the gap). Returns the stanzas to send, in order.
    pub fn muc_join(&mut self, room: BareJid, nick: &str, password: Option<&str>) -> Vec<Stanza> {
        let info = self.muc_info(&room);
        self.rooms.rooms.insert(
            room.clone(),
            Room {
                nick: nick.to_owned(),
                joined: false,
                sid: false,
                oid: false,
                features_known: false,
                own_oid: None,
                occupants: BTreeMap::new(),
            },
        );
        vec![info, build::join_presence(&room, nick, password)]
    }

    /// Asks a room what it supports (its answer sets whether its stanza-ids are trusted).
    pub fn muc_info(&mut self, room: &BareJid) -> Stanza {
        self.request(
            PendingIq::Muc(MucIq::Info(room.clone())),
            Some(Jid::from(room.clone())),
            true,
            crate::xmpp::disco::info_query(),
        )
    }

    /// Whether we trust the stanza-ids `room` stamps (it said it stamps them).
    pub fn muc_trusts_ids(&self, room: &BareJid) -> bool {
        self.rooms.rooms.get(room).is_some_and(|r| r.sid)
    }

    /// Leave a room; the room's answer ends it (a `Left` event).
    pub fn muc_leave(&mut self, room: &BareJid) -> Option<Stanza> {
        let r = self.rooms.rooms.get(room)?;
        let to = Jid::from(room.with_resource_str(&r.nick).ok()?);
        Some(Stanza::Presence(Presence::unavailable().with_to(to)))
    }

    /// Forget a room without waiting for the room (our own stream went away).
    pub fn muc_forget(&mut self, room: &BareJid) {
        self.rooms.rooms.remove(room);
    }

    /// XEP-0410 self-ping to our own occupant.
    pub fn muc_self_ping(&mut self, room: &BareJid) -> Option<Stanza> {
        let r = self.rooms.rooms.get(room)?;
        let to = Jid::from(room.with_resource_str(&r.nick).ok()?);
        Some(self.request(
            PendingIq::Muc(MucIq::SelfPing(room.clone())),
            Some(to),
            true,
            xmpp_parsers::ping::Ping.into(),
        ))
    }

    /// Accepts the default configuration of a room we just created.
    pub(super) fn instant_room(&mut self, room: BareJid) -> Stanza {
        let payload = Element::builder("query", NS_MUC_OWNER)
            .append(
                Element::builder("x", ns::DATA_FORMS)
                    .a("type", "submit")
                    .build(),
            )
            .build();
        self.request(
            PendingIq::Muc(MucIq::Instant(room.clone())),
            Some(Jid::from(room)),
            false,
            payload,
        )
    }

    /// Submits the room configuration form (owners).
    pub fn muc_configure(&mut self, room: &BareJid, fields: &[(String, Vec<String>)]) -> Stanza {
        let field = |var: &str, values: &[String], hidden: bool| {
            let mut f = Element::builder("field", ns::DATA_FORMS).a("var", var);
            if hidden {
                f = f.a("type", "hidden");
            }
            for v in values {
                f = f.append(
                    Element::builder("value", ns::DATA_FORMS)
                        .append(v.as_str())
                        .build(),
                );
            }
            f.build()
        };
        let mut x = Element::builder("x", ns::DATA_FORMS)
            .a("type", "submit")
            .append(field(
                "FORM_TYPE",
                &["http://jabber.org/protocol/muc#roomconfig".to_owned()],
                true,
            ));
        for (var, values) in fields {
            x = x.append(field(var, values, false));
        }
        let payload = Element::builder("query", NS_MUC_OWNER)
            .append(x.build())
            .build();
        self.request(
            PendingIq::Muc(MucIq::Configure(room.clone())),
            Some(Jid::from(room.clone())),
            false,
            payload,
        )
    }

    /// Removes an occupant (role none), as a moderator.
    pub fn muc_kick(&mut self, room: &BareJid, nick: &str, reason: Option<&str>) -> Stanza {
        self.muc_set_role(room, nick, super::Role::None, reason)
    }

    /// As a moderator, give an occupant a role (XEP-0045 §8: `none` kicks, `visitor`
    /// takes voice, `participant` gives it, `moderator` grants moderation). An error
    /// comes back as `MucEvent::Refused`.
    pub fn muc_set_role(
        &mut self,
        room: &BareJid,
        nick: &str,
        role: super::Role,
        reason: Option<&str>,
    ) -> Stanza {
        let role = match role {
            super::Role::Moderator => "moderator",
            super::Role::Participant => "participant",
            super::Role::Visitor => "visitor",
            super::Role::None => "none",
        };
        let item = Element::builder("item", NS_MUC_ADMIN)
            .a("nick", nick)
            .a("role", role);
        self.muc_admin_item(room, item, reason)
    }

    /// As an admin or owner, set a user's affiliation by their address (§9-10:
    /// `outcast` bans, `none` removes, `member`, `admin`, `owner`).
    pub fn muc_set_affiliation(
        &mut self,
        room: &BareJid,
        jid: &BareJid,
        affiliation: super::Affiliation,
        reason: Option<&str>,
    ) -> Stanza {
        let item = Element::builder("item", NS_MUC_ADMIN)
            .a("jid", jid.as_str())
            .a("affiliation", super::affiliations::word(affiliation));
        self.muc_admin_item(room, item, reason)
    }

    /// As the owner, destroy a room (XEP-0045 §10.9); the occupants are told why.
    pub fn muc_destroy(&mut self, room: &BareJid, reason: Option<&str>) -> Stanza {
        let mut destroy = Element::builder("destroy", NS_MUC_OWNER);
        if let Some(r) = reason.map(str::trim).filter(|r| !r.is_empty()) {
            destroy = destroy.append(Element::builder("reason", NS_MUC_OWNER).append(r).build());
        }
        let payload = Element::builder("query", NS_MUC_OWNER)
            .append(destroy.build())
            .build();
        self.request(
            PendingIq::Muc(MucIq::Action(room.clone())),
            Some(Jid::from(room.clone())),
            false,
            payload,
        )
    }

    fn muc_admin_item(
        &mut self,
        room: &BareJid,
        mut item: xmpp_parsers::minidom::ElementBuilder,
        reason: Option<&str>,
    ) -> Stanza {
        if let Some(r) = reason.map(str::trim).filter(|r| !r.is_empty()) {
            item = item.append(Element::builder("reason", NS_MUC_ADMIN).append(r).build());
        }
        let payload = Element::builder("query", NS_MUC_ADMIN)
            .append(item.build())
            .build();
        self.request(
            PendingIq::Muc(MucIq::Action(room.clone())),
            Some(Jid::from(room.clone())),
            false,
            payload,
        )
    }

    /// One page of a room's archive; results are accepted only from that room.
    pub fn muc_mam_query(
        &mut self,
        room: &BareJid,
        from: crate::xmpp::mam::From,
    ) -> (String, Stanza) {
        use crate::xmpp::mam::{From, PAGE};
        let queryid = self.next_id();
        let (after, before) = match &from {
            From::After(id) => (Some(id.clone()), None),
            // A room's archive is one conversation already.
            From::Newest | From::NewestWith(_) => (None, Some(String::new())),
            From::Before(id) => (None, Some(id.clone())),
            From::BeforeWith(_, id) => (None, Some(id.clone().unwrap_or_default())),
        };
        let query = Query {
            queryid: Some(QueryId(queryid.clone())),
            node: None,
            form: None,
            set: Some(SetQuery {
                max: Some(PAGE),
                after,
                before,
                index: None,
            }),
            flip_page: false,
        };
        self.rooms.mam.insert(queryid.clone(), room.clone());
        let st = self.request(
            PendingIq::Muc(MucIq::Mam {
                room: room.clone(),
                queryid: queryid.clone(),
                backward: !matches!(from, From::After(_)),
            }),
            Some(Jid::from(room.clone())),
            false,
            query.into(),
        );
        (queryid, st)
    }
}

/// A groupchat message with our id as stanza id and origin-id (the reflection is
/// matched by origin-id).
pub fn groupchat(room: BareJid, body: &str, id: &LocalMessageId) -> Stanza {
    Stanza::Message(crate::xmpp::message::outgoing(
        Jid::from(room),
        xmpp_parsers::message::MessageType::Groupchat,
        body,
        id,
    ))
}
