//! The actor's side of OMEMO trust (decisions in `session/omemo/trust.rs`): the report of
//! a conversation's devices for the chat's lock, the notice of a new unverified device
//! of a contact who has a verified one, and leaving unverified devices out when the
//! person requires verification.

use super::super::{Actor, now_ms};
use crate::ids::{ConversationId, LocalMessageId};
use crate::model::{ChatMessage, Delivery, Direction};
use crate::session::UpdateKind;
use crate::session::omemo::trust::{self, Device, Report};
use xmpp_parsers::jid::BareJid;

impl Actor {
    /// `Command::OmemoStatus`: the report now, or once the contact's devices are known.
    pub(in crate::session::actor) async fn omemo_status(&mut self, peer: BareJid) {
        if self.is_known_room(&peer) {
            self.omemo_room_report(&peer).await;
            return;
        }
        if self.crypto.is_on()
            && !self.crypto.devices.contains_key(&peer)
            && !self.crypto.fetching.contains_key(&peer)
        {
            self.omemo_fetch_devices(peer.clone()).await;
            if self.crypto.fetching.contains_key(&peer) {
                // Reported when the list and its bundles are in (`omemo_settled`).
                return;
            }
        }
        self.omemo_report(&peer).await;
    }

    /// `Command::OmemoAcceptKey`: the person accepts the changed identity key of `jid`'s
    /// `device` whose fingerprint they were shown. It replaces the stored key (not
    /// verified), the old session is dropped and a new one is built from the device's
    /// bundle; then `peer`'s conversation gets a fresh report.
    pub(in crate::session::actor) async fn omemo_accept_key(
        &mut self,
        peer: BareJid,
        jid: BareJid,
        device: u32,
        fingerprint: String,
    ) {
        let accepted = self
            .crypto
            .with(|o| o.accept_changed_identity(jid.as_str(), device, &fingerprint));
        match accepted {
            Some(Ok(true)) => {
                log::info!("{}: new identity key of {jid}/{device} accepted", self.own);
                let (account, j) = (self.account.clone(), jid.clone());
                let _ = self
                    .with_store(move |s| trust::set_verified(s, &account, &j, device, None))
                    .await;
                if let Some(list) = self.crypto.devices.get(&jid).cloned() {
                    self.omemo_devices_known(jid.clone(), list).await;
                }
            }
            Some(Ok(false)) => log::info!("{}: no such changed key of {jid}/{device}", self.own),
            Some(Err(e)) => log::warn!("{}: accepting the key of {jid}/{device}: {e}", self.own),
            None => {}
        }
        self.omemo_status(peer).await;
    }

    /// What we know about `peer`'s devices (and ours), with the person's verifications.
    async fn omemo_report(&mut self, peer: &BareJid) -> Report {
        let contact = if peer == &self.own {
            Some(Vec::new())
        } else {
            self.crypto
                .devices
                .get(peer)
                .map(|l| l.iter().map(|d| (peer.clone(), *d)).collect())
        };
        self.omemo_report_devices(peer, contact, None).await
    }

    /// The report about `peer` (a contact, or a room with its `room` status) with
    /// `contact` as the other side's devices, sent to the UI.
    pub(in crate::session::actor) async fn omemo_report_devices(
        &mut self,
        peer: &BareJid,
        contact: Option<Vec<(BareJid, u32)>>,
        room: Option<trust::RoomStatus>,
    ) -> Report {
        let device = |jid: &BareJid, id: u32| Device {
            jid: jid.clone(),
            id,
            fingerprint: self
                .crypto
                .with(|o| o.remote_fingerprint(jid.as_str(), id).ok().flatten())
                .flatten(),
            verified: false,
            changed: self
                .crypto
                .with(|o| o.changed_fingerprint(jid.as_str(), id).ok().flatten())
                .flatten(),
        };
        let ours = self.crypto.with(|o| o.device_id());
        let own_others: Vec<Device> = self
            .crypto
            .devices
            .get(&self.own)
            .map(|l| {
                l.iter()
                    .filter(|d| Some(**d) != ours)
                    .map(|d| device(&self.own, *d))
                    .collect()
            })
            .unwrap_or_default();
        let contact = contact.map(|l| l.iter().map(|(j, d)| device(j, *d)).collect::<Vec<_>>());
        let report = Report {
            peer: peer.clone(),
            available: self.crypto.is_on(),
            broken: self.crypto.broken.is_some(),
            ours: self.crypto.with(|o| Device {
                jid: self.own.clone(),
                id: o.device_id(),
                fingerprint: Some(o.fingerprint()),
                verified: true,
                changed: None,
            }),
            own_others,
            contact,
            room,
        };
        let account = self.account.clone();
        let unmarked = report.clone();
        let report = match self
            .with_store(move |s| {
                let mut report = report;
                let others = report.own_others.iter_mut();
                for d in others.chain(report.contact.iter_mut().flatten()) {
                    d.verified =
                        trust::is_verified(s, &account, &d.jid, d.id, d.fingerprint.as_deref());
                }
                Ok(report)
            })
            .await
        {
            Some(Ok(r)) => r,
            _ => unmarked,
        };
        self.emit(UpdateKind::Omemo(report.clone()));
        report
    }

    /// `jid`'s devices are known and their bundles fetched: report them, and announce a
    /// new unverified device of a contact who has a verified one, in the conversation.
    pub(super) async fn omemo_settled(&mut self, jid: &BareJid) {
        if !self.crypto.is_on() {
            return;
        }
        let report = self.omemo_report(jid).await;
        let Some(contact) = report.contact.filter(|_| *jid != self.own) else {
            return;
        };
        let list: Vec<u32> = contact.iter().map(|d| d.id).collect();
        let (account, peer) = (self.account.clone(), jid.clone());
        let fresh = match self
            .with_store(move |s| trust::newly_seen(s, &account, &peer, &list))
            .await
        {
            Some(Ok(fresh)) => fresh,
            _ => return,
        };
        if fresh.is_empty() || !contact.iter().any(|d| d.verified) {
            return;
        }
        for d in contact
            .iter()
            .filter(|d| fresh.contains(&d.id) && !d.verified)
        {
            log::info!("{}: {jid} has a new OMEMO device {}", self.own, d.id);
            let (rooms, chat) = self.omemo_notice_places(jid).await;
            for room in rooms {
                let body = trust::member_new_device_body(jid, d.id, d.fingerprint.as_deref());
                self.omemo_notice(ConversationId::Room(room), body).await;
            }
            if chat {
                let body = trust::new_device_body(d.id, d.fingerprint.as_deref());
                self.omemo_notice(ConversationId::Chat(jid.clone()), body)
                    .await;
            }
        }
    }

    /// Where news about `jid`'s devices goes: the rooms we are in where it is a member,
    /// and whether its 1:1 chat too (when it is in no such room, or we have a chat with
    /// it already).
    async fn omemo_notice_places(&self, jid: &BareJid) -> (Vec<BareJid>, bool) {
        let rooms: Vec<BareJid> = self
            .crypto
            .rooms
            .iter()
            .filter(|(_, k)| k.joined && k.members.contains(jid))
            .map(|(room, _)| room.clone())
            .collect();
        if rooms.is_empty() {
            return (rooms, true);
        }
        let (account, chat) = (self.account.clone(), ConversationId::Chat(jid.clone()));
        let talked = self
            .with_store(move |s| s.latest(&account, &chat, 1).map(|l| !l.is_empty()))
            .await;
        (rooms, matches!(talked, Some(Ok(true))))
    }

    /// Stores (then shows) an OMEMO notice in `conversation`: a message whose body is one
    /// of the markers the timeline puts in words.
    async fn omemo_notice(&self, conversation: ConversationId, body: String) {
        let message = ChatMessage {
            truncated: false,
            extras: Default::default(),
            id: LocalMessageId::generate(),
            account: self.account.clone(),
            conversation,
            direction: Direction::Incoming,
            sender: String::new(),
            body,
            timestamp_ms: now_ms(),
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
        };
        self.store_message(message).await;
    }

    /// Of a message's recipient `devices`, those whose identity key did not change since
    /// we last trusted it: a device that showed another key (refused, not accepted yet)
    /// would get a message under the old session it no longer has, so it gets nothing.
    /// The first time a changed key is met, `conversation` gets a notice saying so (once
    /// per key, also across restarts). Returns the devices kept and those left out.
    pub(super) async fn omemo_leave_out_changed(
        &self,
        conversation: ConversationId,
        devices: Vec<(BareJid, u32)>,
    ) -> (Vec<(BareJid, u32)>, Vec<(BareJid, u32)>) {
        let mut keep = Vec::with_capacity(devices.len());
        let mut changed = Vec::new();
        for (jid, device) in devices {
            let new = self
                .crypto
                .with(|o| o.changed_fingerprint(jid.as_str(), device))
                .and_then(|r| r.ok().flatten());
            match new {
                Some(fp) => changed.push((jid, device, fp)),
                None => keep.push((jid, device)),
            }
        }
        let mut left_out = Vec::with_capacity(changed.len());
        for (jid, device, fp) in changed {
            log::info!(
                "{}: {jid}/{device} changed its key: left out until it is accepted",
                self.own
            );
            let (account, j, f) = (self.account.clone(), jid.clone(), fp.clone());
            let first = self
                .with_store(move |s| trust::first_key_notice(s, &account, &j, device, &f))
                .await;
            // Without a store (tests) every send says it; with one, once per key.
            if !matches!(first, Some(Ok(false))) {
                let body = trust::key_changed_body(&jid, device, &fp);
                self.omemo_notice(conversation.clone(), body).await;
            }
            left_out.push((jid, device));
        }
        (keep, left_out)
    }

    /// With verification required (the setting), `devices` less the unverified ones;
    /// `Err(why)` when none of `to`'s devices is left.
    pub(super) async fn omemo_only_verified(
        &self,
        to: &BareJid,
        devices: Vec<(BareJid, u32)>,
    ) -> Result<Vec<(BareJid, u32)>, String> {
        let with_prints: Vec<(BareJid, u32, Option<String>)> = devices
            .iter()
            .map(|(j, d)| {
                let fp = self
                    .crypto
                    .with(|o| o.remote_fingerprint(j.as_str(), *d).ok().flatten())
                    .flatten();
                (j.clone(), *d, fp)
            })
            .collect();
        let account = self.account.clone();
        let checked = self
            .with_store(move |s| {
                if !trust::require_verification(s) {
                    return Ok(None);
                }
                Ok(Some(
                    with_prints
                        .into_iter()
                        .filter(|(j, d, fp)| trust::is_verified(s, &account, j, *d, fp.as_deref()))
                        .map(|(j, d, _)| (j, d))
                        .collect::<Vec<_>>(),
                ))
            })
            .await;
        let verified = match checked {
            Some(Ok(Some(v))) => v,
            // Not required (or no store: nothing can be verified, nothing required).
            Some(Ok(None)) | None => return Ok(devices),
            Some(Err(e)) => return Err(format!("could not read which devices are verified: {e}")),
        };
        let (keep, left_out) =
            trust::only_verified(devices, |j, d| verified.contains(&(j.clone(), d)));
        // In a room (`to` is the room), some member's device must be left.
        let left = if self.proto.rooms.get(to).is_some() {
            keep.iter().any(|(j, _)| *j != self.own)
        } else {
            keep.iter().any(|(j, _)| j == to)
        };
        if !left {
            return Err(format!(
                "verification is required and no device of {to} is verified ({} left out)",
                left_out.len()
            ));
        }
        if !left_out.is_empty() {
            log::info!(
                "{}: {} unverified device(s) left out of a message to {to}",
                self.own,
                left_out.len()
            );
        }
        Ok(keep)
    }
}
