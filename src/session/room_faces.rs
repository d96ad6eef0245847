//! Faces in rooms (issue #18), decided without I/O: the pictures of occupants of rooms
//! we are in. An occupant announces its photo hash in its room presence (XEP-0153's
//! `vcard-temp:x:update`, passed on by the room); the picture is its vcard-temp
//! `PHOTO`, asked of `room/nick` (the room hands the question to the occupant's own
//! server). An occupant whose real address is a contact with a picture shows that.
//!
//! Bounded: at most [`MAX_PER_ROOM`] occupants of one room have a face (the rest keep
//! their coloured initial), [`MAX_IN_FLIGHT`] questions are out at once, at most
//! [`MAX_QUEUED`] wait; a room we leave forgets its faces. The room's own avatar
//! (XEP-0486) is an ordinary bare-JID avatar in `session::avatars`.

use crate::xmpp::avatar::{AvatarHash, PhotoUpdate};
use std::collections::{HashMap, VecDeque};
use xmpp_parsers::jid::BareJid;

/// Occupants of one room with a face; past it the others keep their initial.
pub const MAX_PER_ROOM: usize = 200;
/// Occupant questions out at once (contacts' avatars have their own few).
pub const MAX_IN_FLIGHT: usize = 2;
/// Occupant questions waiting, all rooms together.
pub const MAX_QUEUED: usize = 1024;

/// One occupant's picture to ask for: the vCard of `room/nick`, which must hash to
/// `expect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccupantFetch {
    pub room: BareJid,
    pub nick: String,
    pub expect: AvatarHash,
}

/// What an occupant's presence means for its face.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Nothing,
    /// `nick` in `room` now shows `hash`, which the cache has.
    Show {
        room: BareJid,
        nick: String,
        hash: AvatarHash,
    },
    /// `nick` in `room` has no face any more.
    Clear {
        room: BareJid,
        nick: String,
    },
    /// Queued for fetching.
    Queued,
}

/// Who shows what in each room we are in, and the questions to ask.
#[derive(Debug, Default)]
pub struct RoomFaces {
    shown: HashMap<BareJid, HashMap<String, AvatarHash>>,
    queue: VecDeque<OccupantFetch>,
    waiting: HashMap<u64, OccupantFetch>,
    decoding: usize,
}

impl RoomFaces {
    /// The hash `nick` shows in `room`.
    pub fn shown(&self, room: &BareJid, nick: &str) -> Option<&AvatarHash> {
        self.shown.get(room)?.get(nick)
    }

    /// Occupants of `room` with a face or a question queued or out.
    fn count(&self, room: &BareJid) -> usize {
        let shown = self.shown.get(room).map_or(0, HashMap::len);
        let queued = self.queue.iter().filter(|f| f.room == *room).count();
        let out = self.waiting.values().filter(|f| f.room == *room).count();
        shown + queued + out
    }

    fn known(&self, room: &BareJid, nick: &str) -> bool {
        self.shown(room, nick).is_some()
            || self.queue.iter().any(|f| f.room == *room && f.nick == nick)
            || self
                .waiting
                .values()
                .any(|f| f.room == *room && f.nick == nick)
    }

    /// A photo hash in the presence of `nick` in `room` (a room we are in: the caller
    /// checks). `cached`: whether the cache has a hash.
    pub fn photo(
        &mut self,
        room: &BareJid,
        nick: &str,
        update: &PhotoUpdate,
        cached: impl Fn(&AvatarHash) -> bool,
    ) -> Step {
        match update {
            PhotoUpdate::Unknown => Step::Nothing,
            // In a room the presence is the occupant's only word on its picture.
            PhotoUpdate::NoPhoto => self.left(room, nick),
            PhotoUpdate::Hash(hash) => {
                if self.shown(room, nick) == Some(hash) {
                    return Step::Nothing;
                }
                if !self.known(room, nick) && self.count(room) >= MAX_PER_ROOM {
                    return Step::Nothing;
                }
                if cached(hash) {
                    return self.show(room, nick, hash.clone());
                }
                self.enqueue(OccupantFetch {
                    room: room.clone(),
                    nick: nick.to_owned(),
                    expect: hash.clone(),
                })
            }
        }
    }

    /// `nick` shows a picture the cache has (a contact's own avatar).
    pub fn show(&mut self, room: &BareJid, nick: &str, hash: AvatarHash) -> Step {
        let faces = self.shown.entry(room.clone()).or_default();
        if faces.get(nick) == Some(&hash) {
            return Step::Nothing;
        }
        if !faces.contains_key(nick) && faces.len() >= MAX_PER_ROOM {
            return Step::Nothing;
        }
        faces.insert(nick.to_owned(), hash.clone());
        Step::Show {
            room: room.clone(),
            nick: nick.to_owned(),
            hash,
        }
    }

    fn enqueue(&mut self, fetch: OccupantFetch) -> Step {
        if self.waiting.values().any(|f| *f == fetch) {
            return Step::Nothing;
        }
        if let Some(old) = self
            .queue
            .iter_mut()
            .find(|f| f.room == fetch.room && f.nick == fetch.nick)
        {
            *old = fetch;
            return Step::Queued;
        }
        if self.queue.len() >= MAX_QUEUED {
            return Step::Nothing;
        }
        self.queue.push_back(fetch);
        Step::Queued
    }

    /// `nick` left `room` (or changed nick, or took its picture away).
    pub fn left(&mut self, room: &BareJid, nick: &str) -> Step {
        self.queue.retain(|f| !(f.room == *room && f.nick == nick));
        match self.shown.get_mut(room).and_then(|m| m.remove(nick)) {
            Some(_) => Step::Clear {
                room: room.clone(),
                nick: nick.to_owned(),
            },
            None => Step::Nothing,
        }
    }

    /// We are out of `room`: its faces and questions go.
    pub fn room_left(&mut self, room: &BareJid) {
        self.shown.remove(room);
        self.queue.retain(|f| f.room != *room);
    }

    /// The next question to send, if fewer than [`MAX_IN_FLIGHT`] are out.
    pub fn next_fetch(&mut self) -> Option<OccupantFetch> {
        if self.waiting.len() + self.decoding >= MAX_IN_FLIGHT {
            return None;
        }
        self.queue.pop_front()
    }

    pub fn sent(&mut self, token: u64, fetch: OccupantFetch) {
        self.waiting.insert(token, fetch);
    }

    /// The question answered by `token`, if it is ours.
    pub fn answered(&mut self, token: u64) -> Option<OccupantFetch> {
        self.waiting.remove(&token)
    }

    pub fn decoding(&mut self) {
        self.decoding += 1;
    }

    pub fn decoded(&mut self) {
        self.decoding = self.decoding.saturating_sub(1);
    }

    /// The picture `fetch` asked for is in the cache: shown, unless the occupant left
    /// or announced another meanwhile.
    pub fn fetched(&mut self, room: &BareJid, nick: &str, hash: AvatarHash) -> Step {
        let replaced = self
            .queue
            .iter()
            .any(|f| f.room == *room && f.nick == nick && f.expect != hash);
        if replaced {
            return Step::Nothing;
        }
        self.show(room, nick, hash)
    }

    /// A fresh stream: we are in no room until we rejoin; everything is asked again.
    pub fn reset(&mut self) {
        self.shown.clear();
        self.queue.clear();
        self.waiting.clear();
    }

    /// Questions waiting or out (for tests).
    pub fn pending(&self) -> usize {
        self.queue.len() + self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(n: u32) -> BareJid {
        BareJid::new(&format!("room{n}@conference.localhost")).unwrap_or_else(|_| unreachable!())
    }

    fn hash(n: u32) -> AvatarHash {
        AvatarHash::of(&n.to_be_bytes())
    }

    #[test]
    fn a_hash_is_fetched_once_then_shown() {
        let mut faces = RoomFaces::default();
        let r = room(1);
        let h = PhotoUpdate::Hash(hash(1));
        assert_eq!(faces.photo(&r, "juliet", &h, |_| false), Step::Queued);
        // The same again (the presence repeated): still one question.
        assert_eq!(faces.photo(&r, "juliet", &h, |_| false), Step::Queued);
        assert_eq!(faces.pending(), 1);
        let f = faces.next_fetch().unwrap_or_else(|| unreachable!());
        assert_eq!((f.nick.as_str(), &f.expect), ("juliet", &hash(1)));
        faces.sent(7, f);
        assert_eq!(faces.photo(&r, "juliet", &h, |_| false), Step::Nothing);
        let f = faces.answered(7).unwrap_or_else(|| unreachable!());
        assert!(matches!(
            faces.fetched(&f.room, &f.nick, f.expect.clone()),
            Step::Show { .. }
        ));
        assert_eq!(faces.shown(&r, "juliet"), Some(&hash(1)));
        // Known and cached: nothing more.
        assert_eq!(faces.photo(&r, "juliet", &h, |_| true), Step::Nothing);
        // A hash the cache has (another occupant with the same picture): no question.
        assert!(matches!(
            faces.photo(&r, "romeo", &h, |_| true),
            Step::Show { .. }
        ));
        assert_eq!(faces.pending(), 0);
    }

    #[test]
    fn leaving_or_taking_the_picture_away_clears() {
        let mut faces = RoomFaces::default();
        let r = room(1);
        faces.photo(&r, "a", &PhotoUpdate::Hash(hash(1)), |_| true);
        assert!(matches!(
            faces.photo(&r, "a", &PhotoUpdate::NoPhoto, |_| true),
            Step::Clear { .. }
        ));
        // "Not known yet" changes nothing.
        faces.photo(&r, "b", &PhotoUpdate::Hash(hash(2)), |_| true);
        assert_eq!(
            faces.photo(&r, "b", &PhotoUpdate::Unknown, |_| true),
            Step::Nothing
        );
        assert!(matches!(faces.left(&r, "b"), Step::Clear { .. }));
        assert_eq!(faces.left(&r, "b"), Step::Nothing);
        // A queued question of someone who left is dropped.
        faces.photo(&r, "c", &PhotoUpdate::Hash(hash(3)), |_| false);
        faces.left(&r, "c");
        assert_eq!(faces.pending(), 0);
        faces.photo(&r, "d", &PhotoUpdate::Hash(hash(4)), |_| true);
        faces.photo(&r, "e", &PhotoUpdate::Hash(hash(5)), |_| false);
        faces.room_left(&r);
        assert_eq!((faces.shown(&r, "d"), faces.pending()), (None, 0));
    }

    #[test]
    fn a_crowded_room_is_capped_and_questions_few_at_a_time() {
        let mut faces = RoomFaces::default();
        let r = room(1);
        for i in 0..1000 {
            faces.photo(&r, &format!("n{i}"), &PhotoUpdate::Hash(hash(i)), |_| false);
        }
        assert_eq!(faces.pending(), MAX_PER_ROOM);
        // Cached pictures count too.
        assert_eq!(
            faces.photo(&r, "late", &PhotoUpdate::Hash(hash(1)), |_| true),
            Step::Nothing
        );
        // Another room has its own allowance.
        assert_eq!(
            faces.photo(&room(2), "x", &PhotoUpdate::Hash(hash(1)), |_| false),
            Step::Queued
        );
        let mut out = 0;
        while let Some(f) = faces.next_fetch() {
            out += 1;
            faces.sent(out, f);
        }
        assert_eq!(out, MAX_IN_FLIGHT as u64);
        // Decoding counts as in flight.
        faces.answered(1);
        faces.decoding();
        assert_eq!(faces.next_fetch(), None);
        faces.decoded();
        assert!(faces.next_fetch().is_some());
    }

    #[test]
    fn many_rooms_never_queue_without_bound() {
        let mut faces = RoomFaces::default();
        for n in 0..50 {
            for i in 0..MAX_PER_ROOM as u32 {
                faces.photo(
                    &room(n),
                    &format!("n{i}"),
                    &PhotoUpdate::Hash(hash(i)),
                    |_| false,
                );
            }
        }
        assert_eq!(faces.pending(), MAX_QUEUED);
    }

    #[test]
    fn a_picture_replaced_while_fetched_is_not_shown_old() {
        let mut faces = RoomFaces::default();
        let r = room(1);
        faces.photo(&r, "a", &PhotoUpdate::Hash(hash(1)), |_| false);
        let f = faces.next_fetch().unwrap_or_else(|| unreachable!());
        faces.sent(1, f);
        faces.photo(&r, "a", &PhotoUpdate::Hash(hash(2)), |_| false);
        let f = faces.answered(1).unwrap_or_else(|| unreachable!());
        assert_eq!(faces.fetched(&r, "a", f.expect), Step::Nothing);
        let f = faces.next_fetch().unwrap_or_else(|| unreachable!());
        assert_eq!(f.expect, hash(2));
    }
}
