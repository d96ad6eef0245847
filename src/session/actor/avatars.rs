//! The actor's side of avatars (issue #18; decisions in `session/avatars.rs`, protocol in
//! `xmpp/avatar.rs`, pictures and cache in `crate::avatar`): metadata notifications and
//! presence photo hashes of roster contacts (and ours) lead to fetches, a few at a time;
//! the bytes are checked against their hash, decoded into a thumbnail on a blocking
//! thread and cached by hash under the account's data folder; the UI hears who shows
//! which file. Our own avatar is published to PEP (data, then metadata) and our vCard
//! (PEP only where the server converts, XEP-0398), and its hash goes in our presence
//! (XEP-0153) once known, sent again when it changes.
//!
//! Off (nothing fetched) without a store in a data folder: there is nowhere to keep it.

use super::Actor;
use crate::avatar::cache::{self, Cache};
use crate::session::UpdateKind;
use crate::session::avatars::{Avatars, Fetch, Picture, Step};
use crate::xmpp::PendingIq;
use crate::xmpp::avatar::{self as proto, AvatarHash};
use std::collections::HashMap;
use tokio_xmpp::Stanza;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza_error::StanzaError;

/// Query tokens from here up are ours (OMEMO's start at 1 << 62, the room tools' at 1).
const TOKENS: u64 = 1 << 61;

/// The steps of publishing our avatar, each waiting for the one before.
#[derive(Debug)]
enum Publish {
    Data { png: Vec<u8>, hash: AvatarHash },
    Metadata { png: Vec<u8> },
    VCardGet { png: Vec<u8> },
    VCardSet,
}

/// Whose picture is decoded: a contact's, ours or a room's (by bare JID), or an
/// occupant's (`room_faces.rs`).
#[derive(Debug, Clone)]
pub(super) enum Owner {
    Jid(BareJid),
    Occupant(BareJid, String),
}

/// A picture decoded (or refused) off the actor: whose, its hash, and the thumbnail file.
pub(super) type Decoded = (Owner, AvatarHash, Result<std::path::PathBuf, String>);

#[derive(Default)]
pub(super) struct Faces {
    pub(super) book: Avatars,
    /// Occupants' faces in the rooms we are in (`room_faces.rs`).
    pub(super) rooms: crate::session::room_faces::RoomFaces,
    pub(super) cache: Option<Cache>,
    next: u64,
    publishing: HashMap<u64, Publish>,
    /// Where decoding tasks report (the actor's loop takes them: `avatar_decoded`).
    decoded: Option<tokio::sync::mpsc::UnboundedSender<Decoded>>,
    /// Our avatar's hash as our last presence said it (XEP-0153).
    photo_sent: Option<AvatarHash>,
}

impl Faces {
    pub(super) fn new(decoded: tokio::sync::mpsc::UnboundedSender<Decoded>) -> Faces {
        Faces {
            decoded: Some(decoded),
            ..Faces::default()
        }
    }
}

impl Actor {
    /// Opens the account's avatar cache and tells the UI who shows what.
    pub(super) async fn avatars_open(&mut self) {
        let Some(data) = self.store.as_ref().and_then(|s| s.data_folder()) else {
            return;
        };
        let dir = cache::account_dir(data, &self.account);
        let opened = tokio::task::spawn_blocking(move || {
            let cache = Cache::open(dir)?;
            let index = cache.load_index();
            let shown: Vec<(BareJid, Option<std::path::PathBuf>)> = index
                .iter()
                .filter(|(_, h)| cache.has(h))
                .map(|(j, h)| (j.clone(), Some(cache.path(h))))
                .collect();
            Ok::<_, std::io::Error>((cache, index, shown))
        })
        .await;
        match opened {
            Ok(Ok((cache, index, shown))) => {
                self.faces.cache = Some(cache);
                self.faces.book = Avatars::with_index(index);
                if !shown.is_empty() {
                    self.emit(UpdateKind::Avatars(shown));
                }
            }
            Ok(Err(e)) => log::warn!("{}: no avatar cache: {e}", self.own),
            Err(e) => log::warn!("{}: no avatar cache: {e}", self.own),
        }
    }

    fn avatar_allowed(&self, jid: &BareJid) -> bool {
        *jid == self.own || self.roster.iter().any(|c| c.jid == *jid)
    }

    /// Takes avatar metadata notifications; reads photo hashes off presences (which go
    /// on to the presence handling).
    pub(super) async fn avatar_inbound(&mut self, stanza: Stanza) -> Option<Stanza> {
        let Some(cache) = self.faces.cache.clone() else {
            return Some(stanza);
        };
        let step = match &stanza {
            Stanza::Message(m) => {
                // Only an avatar announcement is ours; every other message goes on.
                let Some((jid, meta)) = proto::metadata_event(m) else {
                    return Some(stanza);
                };
                let allowed = self.avatar_allowed(&jid);
                if !allowed {
                    log::info!("{}: avatar of {jid} ignored (not a contact)", self.own);
                }
                self.faces
                    .book
                    .metadata(jid, &meta, allowed, |h| cache.has(h))
            }
            Stanza::Presence(p) => {
                // The rooms we are in and their occupants (`room_faces.rs`).
                if self.room_face_presence(p, &cache).await {
                    return Some(stanza);
                }
                let (Some(update), Some(from)) = (proto::presence_photo(p), p.from.as_ref()) else {
                    return Some(stanza);
                };
                let jid = from.to_bare();
                let allowed = self.avatar_allowed(&jid);
                self.faces
                    .book
                    .photo(jid, &update, allowed, |h| cache.has(h))
            }
            Stanza::Iq(_) => return Some(stanza),
        };
        self.avatar_step(step).await;
        match stanza {
            Stanza::Message(_) => None,
            other => Some(other),
        }
    }

    pub(super) async fn avatar_step(&mut self, step: Step) {
        if step == Step::Queued {
            self.avatars_pump().await;
        } else {
            self.avatar_show(step);
        }
        self.photo_changed().await;
    }

    /// Our presence, with our avatar's hash when we know it (XEP-0153).
    pub(super) fn own_presence(&mut self) -> tokio_xmpp::Stanza {
        let photo = self.faces.book.index().get(&self.own).cloned();
        let presence = crate::xmpp::presence::own_with_photo(
            self.presence.0,
            self.presence.1.as_deref(),
            photo.as_ref(),
        );
        self.faces.photo_sent = photo;
        presence
    }

    /// Our avatar changed since our last presence: contacts on vCard avatars hear of it
    /// by a new presence.
    async fn photo_changed(&mut self) {
        let now = self.faces.book.index().get(&self.own);
        if !self.online || now == self.faces.photo_sent.as_ref() {
            return;
        }
        if self.presence.0 == crate::model::Show::Offline {
            return;
        }
        let presence = self.own_presence();
        self.send(presence).await;
    }

    /// Tells the UI who shows what now (`Show`, `Clear`; nothing else).
    fn avatar_show(&self, step: Step) {
        match step {
            Step::Show(jid, hash) => {
                let path = self.faces.cache.as_ref().map(|c| {
                    c.touch(&hash);
                    c.path(&hash)
                });
                self.emit(UpdateKind::Avatars(vec![(jid, path)]));
            }
            Step::Clear(jid) => self.emit(UpdateKind::Avatars(vec![(jid, None)])),
            Step::Nothing | Step::Queued => {}
        }
    }

    pub(super) fn avatar_token(&mut self) -> u64 {
        self.faces.next += 1;
        TOKENS + self.faces.next
    }

    /// Sends queued fetches while fewer than a few are out.
    async fn avatars_pump(&mut self) {
        while let Some(fetch) = self.faces.book.next_fetch() {
            // Announced twice (PEP and presence) and fetched meanwhile: nothing to ask.
            if let (Some(cache), Some(hash)) = (&self.faces.cache, fetch.hash())
                && cache.has(hash)
            {
                let step = self.faces.book.fetched(fetch.jid().clone(), hash.clone());
                self.avatar_show(step);
                continue;
            }
            let token = self.avatar_token();
            let (to, payload) = match &fetch {
                Fetch::Pep { jid, id } => (Some(jid.clone()), proto::data_request(id)),
                Fetch::VCard { jid, .. } => (Some(jid.clone()), proto::vcard_request()),
            };
            let iq = self
                .proto
                .request(PendingIq::Query(token), to.map(Jid::from), true, payload);
            self.faces.book.sent(token, fetch);
            if !self.send(iq).await {
                // The stream is gone; `avatars_reset` sends it again on the next one.
                break;
            }
        }
    }

    /// A fresh stream: fetches that were out go again.
    pub(super) async fn avatars_reset(&mut self) {
        self.faces.publishing.clear();
        self.faces.book.reset();
        self.faces.rooms.reset();
        self.avatars_pump().await;
    }

    /// Saves who shows what, when it changed (the session's tick).
    pub(super) async fn avatars_save(&mut self) {
        if !self.faces.book.dirty {
            return;
        }
        let Some(cache) = self.faces.cache.clone() else {
            return;
        };
        self.faces.book.dirty = false;
        let index = self.faces.book.index().clone();
        match tokio::task::spawn_blocking(move || cache.save_index(&index)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log::warn!("{}: avatar index not saved: {e}", self.own),
            Err(e) => log::warn!("{}: avatar index not saved: {e}", self.own),
        }
    }

    /// An answer to one of our requests; false when it is not ours.
    pub(super) async fn avatar_answer(
        &mut self,
        token: u64,
        result: &Result<Option<Element>, StanzaError>,
    ) -> bool {
        if let Some(step) = self.faces.publishing.remove(&token) {
            self.publish_step(step, result).await;
            return true;
        }
        if let Some(fetch) = self.faces.rooms.answered(token) {
            self.occupant_answer(fetch, result).await;
            return true;
        }
        let Some(fetch) = self.faces.book.answered(token) else {
            return false;
        };
        let got = match (&fetch, result) {
            (Fetch::Pep { id, .. }, Ok(payload)) => {
                proto::data_result(payload.as_ref(), id).map(|b| Some((id.clone(), b)))
            }
            (Fetch::VCard { expect, .. }, Ok(payload)) => {
                proto::vcard_photo(payload.as_ref(), expect.as_ref())
            }
            (_, Err(e)) => Err(proto::AvatarError::NotAnImage(format!(
                "refused: {:?}",
                e.defined_condition
            ))),
        };
        let jid = fetch.jid().clone();
        match got {
            Ok(Some((hash, bytes))) => self.avatar_store(Owner::Jid(jid), hash, bytes).await,
            Ok(None) => log::info!("{}: {jid} has no vCard photo", self.own),
            Err(e) => {
                log::info!("{}: avatar of {jid} not fetched: {e}", self.own);
                if let Some(next) = fetch.fallback() {
                    self.faces.book.enqueue(next);
                }
            }
        }
        self.avatars_pump().await;
        true
    }

    /// Decodes `bytes` (checked against `hash` already) into a cached thumbnail on a
    /// blocking thread; the actor goes on meanwhile and hears of it in
    /// [`Actor::avatar_decoded`]. It counts as a fetch in flight until then.
    pub(super) async fn avatar_store(&mut self, owner: Owner, hash: AvatarHash, bytes: Vec<u8>) {
        let (Some(cache), Some(done)) = (self.faces.cache.clone(), self.faces.decoded.clone())
        else {
            return;
        };
        match owner {
            Owner::Jid(_) => self.faces.book.decoding(),
            Owner::Occupant(..) => self.faces.rooms.decoding(),
        }
        let h = hash.clone();
        tokio::spawn(async move {
            let made = tokio::task::spawn_blocking(move || {
                let png = crate::avatar::thumbnail_png(&bytes).map_err(|e| e.to_string())?;
                cache.put(&h, &png).map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
            let _ = done.send((owner, hash, made));
        });
    }

    /// A picture was decoded (or refused): show it, and send what waited for room.
    pub(super) async fn avatar_decoded(&mut self, (owner, hash, made): Decoded) {
        let jid = match owner {
            Owner::Jid(jid) => jid,
            Owner::Occupant(room, nick) => {
                return self.occupant_decoded(room, nick, hash, made).await;
            }
        };
        self.faces.book.decoded();
        match made {
            Ok(_) => {
                let step = self.faces.book.fetched(jid, hash);
                self.avatar_step(step).await;
            }
            Err(e) => log::info!("{}: avatar of {jid} refused: {e}", self.own),
        }
        self.avatars_pump().await;
    }

    /// Publishes our avatar: the picture made square and small, then its data, its
    /// metadata, and our vCard's photo, one after the other.
    pub(super) async fn publish_avatar(&mut self, picture: Picture) {
        let made =
            tokio::task::spawn_blocking(move || crate::avatar::own_avatar_png(&picture.0)).await;
        let png = match made {
            Ok(Ok(png)) => png,
            Ok(Err(e)) => return self.emit(UpdateKind::AvatarPublished(Err(e.to_string()))),
            Err(e) => return self.emit(UpdateKind::AvatarPublished(Err(e.to_string()))),
        };
        let (hash, payload) = proto::publish_data(&png);
        // Shown at once; the server's notification confirms it.
        self.avatar_store(Owner::Jid(self.own.clone()), hash.clone(), png.clone())
            .await;
        self.publish_send(Publish::Data { png, hash }, false, payload)
            .await;
    }

    async fn publish_send(&mut self, step: Publish, get: bool, payload: Element) {
        let token = self.avatar_token();
        let iq = self
            .proto
            .request(PendingIq::Query(token), None, get, payload);
        self.faces.publishing.insert(token, step);
        if !self.send(iq).await {
            self.faces.publishing.remove(&token);
            self.emit(UpdateKind::AvatarPublished(Err("not connected".to_owned())));
        }
    }

    async fn publish_step(&mut self, step: Publish, result: &Result<Option<Element>, StanzaError>) {
        let payload = match result {
            Ok(p) => p.as_ref(),
            Err(e) => {
                let why = format!("the server refused it: {:?}", e.defined_condition);
                // The vCard is the older, second place: PEP has it already.
                if matches!(step, Publish::VCardGet { .. } | Publish::VCardSet) {
                    log::info!("{}: avatar not put in the vCard: {why}", self.own);
                    return self.emit(UpdateKind::AvatarPublished(Ok(())));
                }
                return self.emit(UpdateKind::AvatarPublished(Err(why)));
            }
        };
        match step {
            Publish::Data { png, hash } => {
                let info = proto::Info {
                    id: hash,
                    bytes: png.len() as u64,
                    mime: "image/png".to_owned(),
                    width: Some(crate::avatar::OWN_PX as u16),
                    height: Some(crate::avatar::OWN_PX as u16),
                    url: None,
                };
                let meta = proto::publish_metadata(&info);
                self.publish_send(Publish::Metadata { png }, false, meta)
                    .await
            }
            // XEP-0398: the server puts the PEP avatar in our vCard itself.
            Publish::Metadata { .. } if self.proto.vcard_conversion => {
                log::info!("{}: avatar in PEP only; the server converts", self.own);
                self.emit(UpdateKind::AvatarPublished(Ok(())))
            }
            Publish::Metadata { png } => {
                self.publish_send(Publish::VCardGet { png }, true, proto::vcard_request())
                    .await
            }
            Publish::VCardGet { png } => {
                let vcard = proto::vcard_with_photo(payload, &png, "image/png");
                self.publish_send(Publish::VCardSet, false, vcard).await
            }
            Publish::VCardSet => self.emit(UpdateKind::AvatarPublished(Ok(()))),
        }
    }
}
