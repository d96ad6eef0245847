//! The actor's side of faces in rooms (issue #18; decisions in `session/room_faces.rs`):
//! presences of the rooms we are in (sent a join to) and of their occupants. The room's
//! own avatar (XEP-0486: a photo hash in a presence from the room's bare JID, or
//! `muc#roominfo_avatarhash` in its disco#info) is fetched from the room's vcard-temp
//! like a contact's; an occupant's from `room/nick`'s vcard-temp, which the room passes
//! to the occupant's own server. Pictures are checked against their hash, made small off
//! the actor and cached like contacts' (`avatars.rs`). Presences of rooms we did not
//! join are left alone: they fetch nothing.

use super::Actor;
use super::avatars::Owner;
use crate::avatar::cache::Cache;
use crate::session::UpdateKind;
use crate::session::room_faces::{OccupantFetch, Step};
use crate::xmpp::PendingIq;
use crate::xmpp::avatar::{self as proto, AvatarHash, PhotoUpdate};
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::presence::{Presence, Type as PresenceType};
use xmpp_parsers::stanza_error::StanzaError;

impl Actor {
    /// A room we sent a join to (joining or in).
    fn in_room(&self, room: &BareJid) -> bool {
        self.proto.rooms.get(room).is_some()
    }

    /// A presence of a room we are in, or of one of its occupants: its faces are
    /// handled here (true; the presence still goes on to the room handling). False for
    /// every other presence.
    pub(super) async fn room_face_presence(&mut self, p: &Presence, cache: &Cache) -> bool {
        let Some(from) = p.from.as_ref() else {
            return false;
        };
        let room = from.to_bare();
        if !self.in_room(&room) {
            return false;
        }
        let Some(nick) = from.resource().map(|r| r.to_string()) else {
            // The room's own presence (XEP-0486).
            match proto::presence_photo(p) {
                Some(PhotoUpdate::Hash(hash)) => self.room_avatar_announced(room, hash).await,
                Some(PhotoUpdate::NoPhoto) => {
                    let step = self.faces.book.clear(room);
                    self.avatar_step(step).await;
                }
                Some(PhotoUpdate::Unknown) | None => {}
            }
            return true;
        };
        let step = if p.type_ == PresenceType::Unavailable {
            self.faces.rooms.left(&room, &nick)
        } else {
            match proto::presence_photo(p) {
                Some(update @ (PhotoUpdate::Hash(_) | PhotoUpdate::NoPhoto)) => self
                    .faces
                    .rooms
                    .photo(&room, &nick, &update, |h| cache.has(h)),
                // No word on a vCard photo: a contact's own avatar, when the room gives
                // their real address.
                Some(PhotoUpdate::Unknown) | None => match self.contact_face(p, cache) {
                    Some(hash) => self.faces.rooms.show(&room, &nick, hash),
                    None => Step::Nothing,
                },
            }
        };
        self.occupant_step(step).await;
        true
    }

    /// The cached avatar of the occupant's real address, when that is a contact's.
    fn contact_face(&self, p: &Presence, cache: &Cache) -> Option<AvatarHash> {
        let real = proto::occupant_real_jid(p)?;
        if !self.roster.iter().any(|c| c.jid == real) {
            return None;
        }
        self.faces
            .book
            .index()
            .get(&real)
            .filter(|h| cache.has(h))
            .cloned()
    }

    /// The room's avatar hash (from its presence or disco#info): fetched from the
    /// room's vCard unless the cache has it.
    pub(super) async fn room_avatar_announced(&mut self, room: BareJid, hash: AvatarHash) {
        let Some(cache) = self.faces.cache.clone() else {
            return;
        };
        if !self.in_room(&room) {
            return;
        }
        let step = self
            .faces
            .book
            .photo(room, &PhotoUpdate::Hash(hash), true, |h| cache.has(h));
        self.avatar_step(step).await;
    }

    /// We are out of `room`: its occupants' faces are forgotten.
    pub(super) fn room_faces_left(&mut self, room: &BareJid) {
        self.faces.rooms.room_left(room);
    }

    async fn occupant_step(&mut self, step: Step) {
        if step == Step::Queued {
            self.occupants_pump().await;
        } else {
            self.occupant_show(step);
        }
    }

    /// Tells the UI who shows what now (`Show`, `Clear`; nothing else).
    fn occupant_show(&self, step: Step) {
        let (room, faces) = match step {
            Step::Nothing | Step::Queued => return,
            Step::Show { room, nick, hash } => {
                let path = self.faces.cache.as_ref().map(|c| {
                    c.touch(&hash);
                    c.path(&hash)
                });
                (room, vec![(nick, path)])
            }
            Step::Clear { room, nick } => (room, vec![(nick, None)]),
        };
        self.emit(UpdateKind::OccupantAvatars { room, faces });
    }

    /// Sends queued occupant questions while fewer than a few are out.
    async fn occupants_pump(&mut self) {
        while let Some(fetch) = self.faces.rooms.next_fetch() {
            if self
                .faces
                .cache
                .as_ref()
                .is_some_and(|c| c.has(&fetch.expect))
            {
                let step = self
                    .faces
                    .rooms
                    .fetched(&fetch.room, &fetch.nick, fetch.expect.clone());
                self.occupant_show(step);
                continue;
            }
            let Ok(to) = fetch.room.with_resource_str(&fetch.nick) else {
                continue;
            };
            let token = self.avatar_token();
            let iq = self.proto.request(
                PendingIq::Query(token),
                Some(Jid::from(to)),
                true,
                proto::vcard_request(),
            );
            self.faces.rooms.sent(token, fetch);
            if !self.send(iq).await {
                break;
            }
        }
    }

    /// The answer to an occupant's vCard question.
    pub(super) async fn occupant_answer(
        &mut self,
        fetch: OccupantFetch,
        result: &Result<Option<Element>, StanzaError>,
    ) {
        let who = format!("{}/{}", fetch.room, fetch.nick);
        match result {
            Ok(payload) => match proto::vcard_photo(payload.as_ref(), Some(&fetch.expect)) {
                Ok(Some((hash, bytes))) => {
                    self.avatar_store(Owner::Occupant(fetch.room, fetch.nick), hash, bytes)
                        .await
                }
                Ok(None) => log::info!("{}: {who} has no vCard photo", self.own),
                Err(e) => log::info!("{}: picture of {who} refused: {e}", self.own),
            },
            Err(e) => log::info!(
                "{}: picture of {who} not given: {:?}",
                self.own,
                e.defined_condition
            ),
        }
        self.occupants_pump().await;
    }

    /// An occupant's picture was decoded (or refused).
    pub(super) async fn occupant_decoded(
        &mut self,
        room: BareJid,
        nick: String,
        hash: AvatarHash,
        made: Result<std::path::PathBuf, String>,
    ) {
        self.faces.rooms.decoded();
        // Left while their picture was asked for: cached for next time, not shown.
        let present = self
            .proto
            .rooms
            .get(&room)
            .is_some_and(|r| r.occupants.contains_key(&nick));
        match made {
            Ok(_) if !present => {}
            Ok(_) => {
                let step = self.faces.rooms.fetched(&room, &nick, hash);
                self.occupant_step(step).await;
            }
            Err(e) => log::info!("{}: picture of {room}/{nick} refused: {e}", self.own),
        }
        self.occupants_pump().await;
    }
}
