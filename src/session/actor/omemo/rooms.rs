//! The actor's side of OMEMO in group chats (decisions in `session/omemo/rooms.rs`):
//! whether each joined room is private (its disco#info, asked again when it says its
//! configuration changed), its members (the affiliation lists we may read, and the real
//! addresses in occupants' presence), their device lists and bundles, room messages
//! encrypted to every member's devices (or held until they are known, or refused: never
//! plain text once encryption applies), and incoming room messages decrypted with the
//! sender's real address. Our own reflected message keeps the text we stored.

use super::super::Actor;
use super::Ask;
use crate::ids::LocalMessageId;
use crate::model::Delivery;
use crate::session::omemo::rooms::{self as decide_rooms, RoomKeys};
use crate::session::omemo::trust::RoomStatus;
use crate::session::omemo::{self as decide, Plan};
use crate::xmpp::muc::{Affiliation, Occupant, affiliations};
use tokio_xmpp::Stanza;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza_error::StanzaError;

/// The affiliations whose holders are members (and so receive a room's messages' keys).
const MEMBERS: [Affiliation; 3] = [Affiliation::Member, Affiliation::Admin, Affiliation::Owner];

fn is_member(a: Affiliation) -> bool {
    MEMBERS.contains(&a)
}

impl Actor {
    /// The room said what it is (its disco#info answer, `private` when members-only and
    /// non-anonymous).
    pub(in crate::session::actor) async fn omemo_room_features(
        &mut self,
        room: &BareJid,
        private: bool,
    ) {
        if !self.crypto.is_on() {
            return;
        }
        let keys = self.crypto.rooms.entry(room.clone()).or_default();
        keys.private = Some(private);
        log::info!(
            "{}: room {room} is {}",
            self.own,
            if private {
                "private (OMEMO possible)"
            } else {
                "not private (no OMEMO)"
            }
        );
        self.omemo_room_ask_lists(room).await;
        self.omemo_room_fetch_members(room).await;
        self.omemo_rooms_retry().await;
        self.omemo_room_report(room).await;
    }

    /// We are in `room`: its members from the occupants' presence, and the affiliation
    /// lists asked for.
    pub(in crate::session::actor) async fn omemo_room_joined(
        &mut self,
        room: &BareJid,
        occupants: &[Occupant],
    ) {
        if !self.crypto.is_on() {
            return;
        }
        let keys = self.crypto.rooms.entry(room.clone()).or_default();
        keys.members = occupants
            .iter()
            .filter(|o| is_member(o.affiliation))
            .filter_map(|o| o.real_jid.clone())
            .collect();
        keys.members.insert(self.own.clone());
        keys.joined = true;
        keys.lists_asked = false;
        self.omemo_room_ask_lists(room).await;
    }

    /// Asks a joined room that may be private (not known to be open) for its
    /// affiliation lists, once per join.
    async fn omemo_room_ask_lists(&mut self, room: &BareJid) {
        let Some(keys) = self.crypto.rooms.get_mut(room) else {
            return;
        };
        if !keys.joined || keys.lists_asked || keys.private == Some(false) {
            return;
        }
        keys.lists_asked = true;
        keys.lists_pending = MEMBERS.len();
        for a in MEMBERS {
            self.omemo_ask(
                Ask::Members(room.clone()),
                Some(room.clone()),
                true,
                affiliations::list_request(a),
            )
            .await;
        }
    }

    /// Someone came in or changed affiliation: a member with an address joins the list.
    pub(in crate::session::actor) async fn omemo_room_occupant(
        &mut self,
        room: &BareJid,
        occupant: &Occupant,
    ) {
        let Some(jid) = occupant.real_jid.clone() else {
            return;
        };
        let Some(keys) = self.crypto.rooms.get_mut(room) else {
            return;
        };
        let changed = if is_member(occupant.affiliation) {
            keys.members.insert(jid)
        } else {
            keys.members.remove(&jid)
        };
        if changed {
            self.omemo_room_fetch_members(room).await;
            self.omemo_room_report(room).await;
        }
    }

    /// An affiliation list's answer (a refusal leaves the list to the presences).
    pub(super) async fn omemo_room_members(
        &mut self,
        room: BareJid,
        result: &Result<Option<Element>, StanzaError>,
    ) {
        let listed = match result {
            Ok(Some(q)) => affiliations::parse_list(q).unwrap_or_default(),
            Ok(None) => Vec::new(),
            Err(e) => {
                log::info!(
                    "{}: room {room} did not give a member list: {:?}",
                    self.own,
                    e.defined_condition
                );
                Vec::new()
            }
        };
        let Some(keys) = self.crypto.rooms.get_mut(&room) else {
            return;
        };
        keys.lists_pending = keys.lists_pending.saturating_sub(1);
        keys.members.extend(listed.into_iter().map(|a| a.jid));
        self.omemo_room_fetch_members(&room).await;
        if self.crypto.rooms.get(&room).is_some_and(RoomKeys::settled) {
            self.omemo_room_report(&room).await;
        }
    }

    /// Fetches the device lists of a private room's members we do not know yet.
    async fn omemo_room_fetch_members(&mut self, room: &BareJid) {
        let Some(keys) = self.crypto.rooms.get(room) else {
            return;
        };
        if keys.private != Some(true) {
            return;
        }
        let wanted: Vec<BareJid> = keys
            .members
            .iter()
            .filter(|m| **m != self.own)
            .filter(|m| {
                !self.crypto.devices.contains_key(*m) && !self.crypto.fetching.contains_key(*m)
            })
            .cloned()
            .collect();
        for m in wanted {
            self.omemo_fetch_devices(m).await;
        }
    }

    /// A room message on its way out: encrypted to every member's devices and our own
    /// other ones when the room is private and encryption applies, as it is otherwise,
    /// or `None` when it waits for what we must know or must not go (its delivery then
    /// fails with the reason).
    pub(in crate::session::actor) async fn omemo_room_outgoing(
        &mut self,
        room: &BareJid,
        stanza: Stanza,
        id: &LocalMessageId,
    ) -> Option<Stanza> {
        let Stanza::Message(mut message) = stanza else {
            return Some(stanza);
        };
        if message.bodies.is_empty() || !self.crypto.configured() {
            return Some(Stanza::Message(message));
        }
        // Decided again now (the outbox offers it again after a rejoin): held once more
        // below if it still waits, never sent twice.
        self.crypto.room_held.retain(|(_, _, i)| i != id);
        let (account, peer) = (self.account.clone(), room.clone());
        let choice = match self
            .with_store(move |s| Ok(decide::choice(s, &account, &peer)))
            .await
        {
            Some(Ok(c)) => c,
            _ => decide::Choice::Auto,
        };
        let fail = |why: String| {
            log::info!("{}: not sending {id} to {room}: {why}", self.own);
            let _ = self.delivery_tx.send((id.clone(), Delivery::Failed(why)));
        };
        if !self.crypto.is_on() {
            if choice == decide::Choice::Off {
                return Some(Stanza::Message(message));
            }
            // The key is there but the state did not open: a private room may be
            // encrypted, so nothing goes in plain text.
            if let Some(why) = self.crypto.broken.clone() {
                fail(format!(
                    "OMEMO could not be opened on this device ({why}); nothing is sent in plain text"
                ));
                return None;
            }
            return Some(Stanza::Message(message));
        }
        let ours = self.crypto.with(|o| o.device_id()).unwrap_or_default();
        let plan = decide_rooms::plan(
            choice,
            room,
            self.crypto.rooms.get(room),
            &self.crypto.devices,
            &self.own,
            ours,
        );
        let devices = match plan {
            Plan::Plain => return Some(Stanza::Message(message)),
            Plan::Fail(why) => {
                fail(why);
                return None;
            }
            Plan::Wait => {
                if self.omemo_room_stuck(room) {
                    fail(format!(
                        "could not learn whether every member of {room} uses OMEMO"
                    ));
                    return None;
                }
                self.omemo_room_fetch_members(room).await;
                self.omemo_room_hold(room, message, id);
                return None;
            }
            // A member's bundles are still on their way: its sessions are not built.
            Plan::Encrypt(devices)
                if devices
                    .iter()
                    .any(|(j, _)| self.crypto.fetching.contains_key(j)) =>
            {
                self.omemo_room_hold(room, message, id);
                return None;
            }
            Plan::Encrypt(devices) => devices,
        };
        let devices = match self.omemo_only_verified(room, devices).await {
            Ok(d) => d,
            Err(why) => {
                fail(why);
                return None;
            }
        };
        let conversation = crate::ids::ConversationId::Room(room.clone());
        let (devices, changed) = self.omemo_leave_out_changed(conversation, devices).await;
        if !changed.is_empty() && !devices.iter().any(|(j, _)| *j != self.own) {
            fail(decide::trust::changed_keys_reason(room, &changed));
            return None;
        }
        let body = message.bodies.values().next().cloned().unwrap_or_default();
        // Rooms stay on OMEMO 0.3 (`false`): a member's device must be reached.
        let own = self.own.clone();
        let sealed = self.omemo_seal(
            room,
            &body,
            &devices,
            false,
            |j| *j != own,
            || format!("no member's device in {room} could be encrypted to"),
        );
        match sealed {
            Ok(elements) => {
                decide::seal_message_all(&mut message, elements);
                Some(Stanza::Message(message))
            }
            Err(why) => {
                fail(why);
                None
            }
        }
    }

    /// Keeps a room message until what it waits for is known (once: the room's outbox
    /// may offer it again meanwhile).
    fn omemo_room_hold(&mut self, room: &BareJid, message: Message, id: &LocalMessageId) {
        if !self.crypto.room_held.iter().any(|(_, _, i)| i == id) {
            self.crypto
                .room_held
                .push((room.clone(), message, id.clone()));
        }
    }

    /// The room's state is known but some member's device list could not be read and
    /// nothing is being fetched any more: waiting would wait forever.
    fn omemo_room_stuck(&self, room: &BareJid) -> bool {
        let Some(keys) = self.crypto.rooms.get(room).filter(|k| k.settled()) else {
            return false;
        };
        keys.members
            .iter()
            .filter(|m| **m != self.own)
            .all(|m| self.crypto.devices.contains_key(m) || !self.crypto.fetching.contains_key(m))
            && keys
                .members
                .iter()
                .any(|m| *m != self.own && !self.crypto.devices.contains_key(m))
    }

    /// Held room messages whose rooms are now known go on (or fail).
    pub(super) async fn omemo_rooms_retry(&mut self) {
        if self.crypto.room_held.is_empty() {
            return;
        }
        for (room, message, id) in std::mem::take(&mut self.crypto.room_held) {
            let joined = self.proto.rooms.get(&room).is_some_and(|r| r.joined);
            if let Some(st) = self
                .omemo_room_outgoing(&room, Stanza::Message(message), &id)
                .await
                && joined
            {
                self.send(st).await;
            }
        }
    }

    /// Decrypts a room's OMEMO message (live or from its archive) in place; `None` when
    /// `message` is not one, `Some(None)` when there is nothing more to do about it (our
    /// own reflected message, which gets the text we stored, or an unknown sender).
    pub(super) async fn omemo_room_inbound(
        &mut self,
        message: &mut Message,
    ) -> Option<Option<decide::Found>> {
        if decide_rooms::config_changed(message)
            && let Some(room) = message.from.as_ref().map(|f| f.to_bare())
            && self.proto.rooms.get(&room).is_some()
        {
            let info = self.proto.muc_info(&room);
            self.send(info).await;
        }
        let ours = self.crypto.with(|o| o.device_id());
        let own = self.own.clone();
        let found = {
            let (proto, crypto) = (&self.proto, &self.crypto);
            decide_rooms::rewrite(
                message,
                |r| *r != own && proto.rooms.get(r).is_some(),
                |r, nick| {
                    proto
                        .rooms
                        .get(r)
                        .and_then(|room| room.occupants.get(nick))
                        .and_then(|o| o.real_jid.clone())
                },
                |sealed| {
                    let Some(sender) = sealed.sender else {
                        return Err(crate::omemo::OmemoError::UnknownSender);
                    };
                    // Never encrypted for the device that sent it: see below.
                    if *sender == own && sealed.device == ours {
                        return Err(crate::omemo::OmemoError::NotForUs);
                    }
                    crypto
                        .with(|o| o.decrypt(sender.as_str(), sealed.encrypted))
                        .unwrap_or(Err(crate::omemo::OmemoError::NotForUs))
                },
            )
        }?;
        let from_us = found.sender.as_ref() == Some(&self.own) && found.device == ours;
        if from_us && let Some(origin) = found.origin_id.clone() {
            let account = self.account.clone();
            let stored = self
                .with_store(move |s| s.find_message(&account, &LocalMessageId(origin)))
                .await;
            if let Some(Ok(Some(m))) = stored {
                decide_rooms::put_text(message, &m.body);
            }
            return Some(None);
        }
        if found.sender.is_none() {
            log::info!(
                "{}: an OMEMO message in {} from an occupant whose address we do not know",
                self.own,
                found.room
            );
        }
        Some(found.found())
    }

    /// What OMEMO knows about `room`, for its lock: whether it is private, and its
    /// members' devices.
    pub(in crate::session::actor) async fn omemo_room_report(&mut self, room: &BareJid) {
        let keys = self.crypto.rooms.get(room).cloned().unwrap_or_default();
        let known = keys.settled()
            && keys
                .members
                .iter()
                .all(|m| *m == self.own || self.crypto.devices.contains_key(m));
        let contact = known.then(|| {
            keys.members
                .iter()
                .filter(|m| **m != self.own)
                .flat_map(|m| {
                    self.crypto
                        .devices
                        .get(m)
                        .into_iter()
                        .flatten()
                        .map(|d| (m.clone(), *d))
                })
                .collect::<Vec<_>>()
        });
        let status = RoomStatus {
            private: keys.private,
            members: keys.members.len(),
        };
        self.omemo_report_devices(room, contact, Some(status)).await;
    }
}
