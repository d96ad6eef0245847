//! The actor's side of OMEMO (issue #17; decisions in `session/omemo.rs`, crypto in
//! `crate::omemo`): this device's OMEMO state opened at start, our device list (merged,
//! never dropping our other devices) and bundle published at each new stream, device-list
//! notifications, incoming `<encrypted>` messages decrypted before the message layer
//! reads them (live, carbons, archive), pre-keys refilled and the bundle republished
//! after a pre-key message, and a key transport message (OMEMO 2: an empty message with
//! a key exchange) after `NoSession` / `BadMac`.
//!
//! Off (everything passes through untouched) when the session has no OMEMO key.

mod rooms;
mod trust;
mod v2;

use super::Actor;
use crate::ids::LocalMessageId;
use crate::model::Delivery;
use crate::omemo::{AtRestKey, MemoryStore, Omemo, xml as oxml};
use crate::session::omemo::Plan;
use crate::session::omemo::{self as decide, Undecryptable};
use crate::xmpp::PendingIq;
use crate::xmpp::omemo2 as x2;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use tokio_xmpp::Stanza;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza_error::StanzaError;

/// Query tokens at and above this are ours (the room tools count up from 1).
const TOKENS: u64 = 1 << 62;

/// What an answer we wait for is about.
#[derive(Debug, Clone)]
enum Ask {
    OwnList,
    /// Our OMEMO 2 device list.
    OwnList2,
    Publish,
    /// A device list of a contact; then its devices' bundles are fetched.
    List(BareJid),
    /// One bundle; `repair` sends a key transport message once the session is built.
    Bundle {
        jid: BareJid,
        device: u32,
        repair: bool,
    },
    /// One affiliation list of a room (`rooms.rs`).
    Members(BareJid),
    /// A contact's OMEMO 2 device list (`v2.rs`).
    List2(BareJid),
    /// One OMEMO 2 bundle; `repair` sends an empty OMEMO 2 message (a key exchange)
    /// once a fresh session is built.
    Bundle2 {
        jid: BareJid,
        device: u32,
        repair: bool,
    },
}

#[derive(Default)]
pub(super) struct Crypto {
    /// `Mutex` because the actor is shared across awaits (`Omemo` is `Send`, not `Sync`);
    /// it is never held across an await.
    omemo: Option<Mutex<Omemo>>,
    waiting: HashMap<u64, Ask>,
    next: u64,
    /// Device lists we know (ours included), from answers and notifications: the union
    /// of the OMEMO 0.3 and OMEMO 2 lists (`v2.rs Crypto::set_list`).
    pub(super) devices: HashMap<BareJid, Vec<u32>>,
    /// The OMEMO 0.3 lists alone.
    lists03: HashMap<BareJid, Vec<u32>>,
    /// The OMEMO 2 lists alone.
    lists2: HashMap<BareJid, Vec<u32>>,
    /// Devices we sent a key transport message to in this session (once each).
    repaired: HashSet<(BareJid, u32)>,
    /// The same for OMEMO 2 sessions, kept apart: a device speaking both versions has
    /// two sessions, each repaired once.
    repaired2: HashSet<(BareJid, u32)>,
    /// Device-list and bundle requests still out, per JID: messages to it wait for them.
    fetching: HashMap<BareJid, usize>,
    /// Messages waiting for their recipient's devices, in order.
    held: Vec<(BareJid, Message, LocalMessageId)>,
    /// The account has an OMEMO key but its state did not open: why. Then chats are not
    /// sent in plain text unless the person turned encryption off for them.
    broken: Option<String>,
    /// What we know of each room we joined (`rooms.rs`).
    rooms: HashMap<BareJid, crate::session::omemo::rooms::RoomKeys>,
    /// Room messages waiting for the room's members and their devices, in order.
    room_held: Vec<(BareJid, Message, LocalMessageId)>,
}

impl Crypto {
    /// Opens the account's OMEMO state: in the store, sealed with `key`; in memory when
    /// there is no store. Off without a key, or when the state does not open (logged).
    pub(super) async fn open(
        store: Option<crate::store::Store>,
        account: crate::ids::AccountId,
        key: Option<AtRestKey>,
    ) -> Crypto {
        let Some(key) = key else {
            return Crypto::default();
        };
        let opened = tokio::task::spawn_blocking(move || match store {
            Some(s) => s
                .omemo_state(&account, key)
                .map_err(|e| e.to_string())
                .and_then(|st| Omemo::open(st).map_err(|e| e.to_string())),
            None => Omemo::open(MemoryStore::default()).map_err(|e| e.to_string()),
        })
        .await;
        match opened {
            Ok(Ok(o)) => Crypto {
                omemo: Some(Mutex::new(o)),
                ..Crypto::default()
            },
            Ok(Err(e)) => {
                log::error!("OMEMO is off for this session: {e}");
                Crypto {
                    broken: Some(e),
                    ..Crypto::default()
                }
            }
            Err(e) => {
                log::error!("OMEMO is off for this session: {e}");
                Crypto {
                    broken: Some(e.to_string()),
                    ..Crypto::default()
                }
            }
        }
    }

    /// Runs `f` on the OMEMO state, if it is on.
    pub(super) fn with<T>(&self, f: impl FnOnce(&mut Omemo) -> T) -> Option<T> {
        let m = self.omemo.as_ref()?;
        let mut guard = match m.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        Some(f(&mut guard))
    }

    /// One request about `jid` is over; whether none is left.
    fn fetch_finished(&mut self, jid: &BareJid) -> bool {
        if let Some(n) = self.fetching.get_mut(jid) {
            *n = n.saturating_sub(1);
            if *n > 0 {
                return false;
            }
            self.fetching.remove(jid);
        }
        true
    }

    /// The account has an OMEMO key (whether or not its state opened).
    fn configured(&self) -> bool {
        self.omemo.is_some() || self.broken.is_some()
    }

    pub(super) fn is_on(&self) -> bool {
        self.omemo.is_some()
    }
}

impl Actor {
    async fn omemo_ask(&mut self, ask: Ask, to: Option<BareJid>, get: bool, payload: Element) {
        self.crypto.next += 1;
        let token = TOKENS + self.crypto.next;
        if let Ask::List(jid)
        | Ask::Bundle { jid, .. }
        | Ask::List2(jid)
        | Ask::Bundle2 { jid, .. } = &ask
        {
            *self.crypto.fetching.entry(jid.clone()).or_default() += 1;
        }
        let iq = self
            .proto
            .request(PendingIq::Query(token), to.map(Jid::from), get, payload);
        self.crypto.waiting.insert(token, ask);
        // Not sent: the stream is gone, and what waits is sent again from the outbox
        // after the next one (`omemo_on_reset`).
        if !self.send(iq).await
            && let Some(
                Ask::List(jid)
                | Ask::Bundle { jid, .. }
                | Ask::List2(jid)
                | Ask::Bundle2 { jid, .. },
            ) = self.crypto.waiting.remove(&token)
        {
            self.crypto.fetch_finished(&jid);
        }
    }

    /// A new stream: read our published device list (to add this device to it) and
    /// publish our bundle.
    pub(super) async fn omemo_on_reset(&mut self) {
        self.crypto.waiting.clear();
        self.crypto.fetching.clear();
        // What waited for devices is still in the outbox, which sends it again.
        for (_, _, id) in std::mem::take(&mut self.crypto.held) {
            self.in_flight.remove(&id);
        }
        // Room messages wait in the outbox until the room is joined again.
        self.crypto.room_held.clear();
        self.crypto.rooms.clear();
        if !self.crypto.is_on() {
            return;
        }
        self.omemo_ask(
            Ask::OwnList,
            Some(self.own.clone()),
            true,
            oxml::items_request(oxml::DEVICE_LIST_NODE),
        )
        .await;
        self.omemo_ask(
            Ask::OwnList2,
            Some(self.own.clone()),
            true,
            oxml::items_request(x2::DEVICES_NODE),
        )
        .await;
        self.omemo_publish_bundle().await;
    }

    async fn omemo_publish_bundle(&mut self) {
        let Some(Ok((device, bundle))) =
            self.crypto.with(|o| o.bundle().map(|b| (o.device_id(), b)))
        else {
            return;
        };
        let payload = oxml::publish(
            &oxml::bundle_node(device),
            "current",
            oxml::bundle_element(&bundle),
        );
        self.omemo_ask(Ask::Publish, None, false, payload).await;
        // The same keys in OMEMO 2's form, item `device` of the bundles node.
        match self.crypto.with(|o| o.bundle_v2()) {
            Some(Ok(b)) => {
                let payload = x2::publish(
                    x2::BUNDLES_NODE,
                    &device.to_string(),
                    x2::bundle_element(&b),
                );
                self.omemo_ask(Ask::Publish, None, false, payload).await;
            }
            Some(Err(e)) => log::warn!("{}: no OMEMO 2 bundle: {e}", self.own),
            None => {}
        }
    }

    /// Makes sure `published` (our OMEMO 2 device list) has this device.
    async fn omemo_own_list_v2(&mut self, published: Vec<u32>) {
        let Some(ours) = self.crypto.with(|o| o.device_id()) else {
            return;
        };
        let merged = decide::merged_device_list(&published, ours);
        let list = merged.clone().unwrap_or(published);
        // OMEMO 2 sessions with our other devices that speak it.
        self.omemo_devices_known_v2(self.own.clone(), list).await;
        if let Some(list) = merged {
            let payload = x2::publish(x2::DEVICES_NODE, "current", x2::device_list_element(&list));
            self.omemo_ask(Ask::Publish, None, false, payload).await;
        }
    }

    /// Makes sure `published` (our account's device list) has this device.
    async fn omemo_own_list(&mut self, published: Vec<u32>) {
        let Some(ours) = self.crypto.with(|o| o.device_id()) else {
            return;
        };
        let merged = decide::merged_device_list(&published, ours);
        let list = merged.clone().unwrap_or(published);
        // Sessions with our other devices, so what we send reaches them too.
        self.omemo_devices_known(self.own.clone(), list).await;
        if let Some(list) = merged {
            let payload = oxml::publish(
                oxml::DEVICE_LIST_NODE,
                "current",
                oxml::device_list_element(&list),
            );
            self.omemo_ask(Ask::Publish, None, false, payload).await;
        }
    }

    /// Asks for `jid`'s device list (then the bundles of its devices we have no session
    /// with).
    pub(super) async fn omemo_fetch_devices(&mut self, jid: BareJid) {
        self.omemo_ask(
            Ask::List(jid.clone()),
            Some(jid.clone()),
            true,
            oxml::items_request(oxml::DEVICE_LIST_NODE),
        )
        .await;
        self.omemo_ask(
            Ask::List2(jid.clone()),
            Some(jid),
            true,
            oxml::items_request(x2::DEVICES_NODE),
        )
        .await;
    }

    /// A device-list request about `jid` failed in a way that does not mean "none": we
    /// do not know whether the contact uses OMEMO, so what waited for it fails rather
    /// than go out in plain text.
    fn omemo_list_failed(&mut self, jid: &BareJid, e: &StanzaError) {
        self.crypto.fetch_finished(jid);
        let (failed, still): (Vec<_>, Vec<_>) = std::mem::take(&mut self.crypto.held)
            .into_iter()
            .partition(|(to, _, _)| to == jid);
        self.crypto.held = still;
        for (_, _, id) in failed {
            let why = format!(
                "could not learn whether {jid} uses OMEMO: {:?}",
                e.defined_condition
            );
            let _ = self.delivery_tx.send((id, Delivery::Failed(why)));
        }
    }

    async fn omemo_fetch_bundle(&mut self, jid: BareJid, device: u32, repair: bool) {
        let payload = oxml::items_request(&oxml::bundle_node(device));
        self.omemo_ask(
            Ask::Bundle {
                jid: jid.clone(),
                device,
                repair,
            },
            Some(jid),
            true,
            payload,
        )
        .await;
    }

    /// The answer to one of our queries; `false` when the token is not ours.
    pub(super) async fn omemo_answer(
        &mut self,
        token: u64,
        result: &Result<Option<Element>, StanzaError>,
    ) -> bool {
        let Some(ask) = self.crypto.waiting.remove(&token) else {
            return token >= TOKENS;
        };
        match ask {
            Ask::OwnList => {
                // No list yet (item-not-found) is an empty one; any other error leaves
                // the list alone rather than risk dropping our other devices.
                let published = match result {
                    Ok(pubsub) => decide::device_list_result(pubsub.as_ref()),
                    Err(e)
                        if e.defined_condition
                            == xmpp_parsers::stanza_error::DefinedCondition::ItemNotFound =>
                    {
                        Vec::new()
                    }
                    Err(e) => {
                        log::warn!("{}: could not read our OMEMO device list: {e:?}", self.own);
                        return true;
                    }
                };
                self.omemo_own_list(published).await;
            }
            Ask::OwnList2 => {
                let published = match result {
                    Ok(pubsub) => decide::device_list_result_v2(pubsub.as_ref()),
                    Err(e)
                        if e.defined_condition
                            == xmpp_parsers::stanza_error::DefinedCondition::ItemNotFound =>
                    {
                        Vec::new()
                    }
                    Err(e) => {
                        log::warn!(
                            "{}: could not read our OMEMO 2 device list: {e:?}",
                            self.own
                        );
                        return true;
                    }
                };
                self.omemo_own_list_v2(published).await;
            }
            Ask::Publish => {
                if let Err(e) = result {
                    log::warn!("{}: an OMEMO publish failed: {e:?}", self.own);
                }
            }
            Ask::List(jid) => match result {
                Ok(pubsub) => {
                    let list = decide::device_list_result(pubsub.as_ref());
                    self.omemo_devices_known(jid, list).await;
                }
                // The contact has no device list (or no PEP at all): no OMEMO.
                Err(e) if decide::means_no_devices(&e.defined_condition) => {
                    self.omemo_devices_known(jid, Vec::new()).await;
                }
                // No answer, or a refusal we cannot read as "none": we do not know
                // whether the contact uses OMEMO, so what waited fails rather than go
                // out in plain text.
                Err(e) => self.omemo_list_failed(&jid, e),
            },
            Ask::List2(jid) => match result {
                Ok(pubsub) => {
                    let list = decide::device_list_result_v2(pubsub.as_ref());
                    self.omemo_devices_known_v2(jid, list).await;
                }
                Err(e) if v2::no_list(e) => self.omemo_devices_known_v2(jid, Vec::new()).await,
                Err(e) => self.omemo_list_failed(&jid, e),
            },
            Ask::Bundle2 {
                jid,
                device,
                repair,
            } => self.omemo_bundle_v2(jid, device, repair, result).await,
            Ask::Bundle {
                jid,
                device,
                repair,
            } => {
                let bundle = result
                    .as_ref()
                    .ok()
                    .and_then(Option::as_ref)
                    .and_then(oxml::first_item)
                    .and_then(|b| oxml::parse_bundle(b).ok());
                let Some(bundle) = bundle else {
                    log::info!("{}: no OMEMO bundle for {jid}/{device}", self.own);
                    self.omemo_bundle_done(&jid).await;
                    return true;
                };
                let has_session = self
                    .crypto
                    .with(|o| o.has_session(jid.as_str(), device).unwrap_or(false));
                if has_session == Some(true) && !repair {
                    // A session already: only the identity key is checked, so a device
                    // reinstalled under its id is known before it writes to us.
                    let noted = self.crypto.with(|o| {
                        o.note_bundle_identity(jid.as_str(), device, &bundle.identity_key)
                    });
                    if let Some(Ok(true)) = noted {
                        log::warn!(
                            "{}: the bundle of {jid}/{device} shows another key",
                            self.own
                        );
                    }
                } else {
                    let built = self
                        .crypto
                        .with(|o| o.build_session(jid.as_str(), device, &bundle));
                    match built {
                        Some(Ok(())) if repair => self.omemo_key_transport(&jid, device).await,
                        Some(Err(e)) => {
                            log::info!("{}: no session with {jid}/{device}: {e}", self.own)
                        }
                        _ => {}
                    }
                }
                self.omemo_bundle_done(&jid).await;
            }
            Ask::Members(room) => self.omemo_room_members(room, result).await,
        }
        self.omemo_rooms_retry().await;
        true
    }

    /// `jid`'s devices are `list`: remember them and fetch their bundles (never our own
    /// device's): a session is built with those we have none with, and the others'
    /// identity keys are checked, so a key that changed is known before that device
    /// writes (messages to `jid` wait for these answers).
    async fn omemo_devices_known(&mut self, jid: BareJid, list: Vec<u32>) {
        let ours = self.crypto.with(|o| o.device_id());
        let fetch: Vec<u32> = list
            .iter()
            .copied()
            .filter(|d| ours.is_some() && !(jid == self.own && Some(*d) == ours))
            .collect();
        self.crypto.set_list(&jid, false, list);
        for d in fetch {
            self.omemo_fetch_bundle(jid.clone(), d, false).await;
        }
        self.omemo_bundle_done(&jid).await;
    }

    /// Sends a key transport message (no payload) to `jid`'s `device`, which moves the
    /// session on so its next messages decrypt (repair after NoSession / BadMac).
    async fn omemo_key_transport(&mut self, jid: &BareJid, device: u32) {
        let Some(Ok(element)) = self.crypto.with(|o| o.key_transport(jid.as_str(), device)) else {
            return;
        };
        let mut m = xmpp_parsers::message::Message::new(Some(Jid::from(jid.clone())));
        m.type_ = xmpp_parsers::message::MessageType::Chat;
        m.id = Some(xmpp_parsers::message::Id(
            crate::ids::LocalMessageId::generate().0,
        ));
        m.payloads.push(element);
        // Not kept by the archive or copied to our other devices: it carries no text.
        m.payloads
            .push(Element::builder("no-store", "urn:xmpp:hints").build());
        self.send(Stanza::Message(m)).await;
        log::info!("{}: OMEMO session with {jid}/{device} repaired", self.own);
    }

    /// An empty OMEMO 2 message to `jid`'s `device` after its key exchange: the session
    /// is up, so its next messages need no key exchange.
    async fn omemo_empty_v2(&mut self, jid: &BareJid, device: u32) {
        let Some(Ok(element)) = self.crypto.with(|o| o.empty_v2(jid.as_str(), device)) else {
            return;
        };
        let mut m = Message::new(Some(Jid::from(jid.clone())));
        m.type_ = xmpp_parsers::message::MessageType::Chat;
        m.id = Some(xmpp_parsers::message::Id(LocalMessageId::generate().0));
        m.payloads.push(element);
        m.payloads
            .push(Element::builder("no-store", "urn:xmpp:hints").build());
        self.send(Stanza::Message(m)).await;
    }

    /// One request about `jid` was answered (or failed); when none is left, the
    /// messages waiting for its devices go on.
    async fn omemo_bundle_done(&mut self, jid: &BareJid) {
        if !self.crypto.fetch_finished(jid) {
            return;
        }
        self.omemo_settled(jid).await;
        let (ready, still): (Vec<_>, Vec<_>) = std::mem::take(&mut self.crypto.held)
            .into_iter()
            .partition(|(to, _, _)| to == jid);
        self.crypto.held = still;
        for (to, message, id) in ready {
            let Some(message) = self
                .omemo_outgoing(&to, Stanza::Message(message), &id)
                .await
            else {
                continue;
            };
            if !self
                .out
                .send_tracked(message, id.clone(), self.delivery_tx.clone())
                .await
            {
                let _ = self
                    .delivery_tx
                    .send((id, Delivery::Failed("not connected".to_owned())));
            }
        }
    }

    /// A chat message to `to` on its way out: encrypted to the contact's devices and our
    /// own other ones when the conversation is encrypted, as it is (OMEMO off, or the
    /// contact has none), or `None` when it waits for the contact's devices or must not
    /// go (its delivery then fails with the reason). Never plain text once encryption
    /// applies.
    pub(super) async fn omemo_outgoing(
        &mut self,
        to: &BareJid,
        stanza: Stanza,
        id: &LocalMessageId,
    ) -> Option<Stanza> {
        let Stanza::Message(mut message) = stanza else {
            return Some(stanza);
        };
        // Reactions, retractions, markers: no text to hide. Without an OMEMO key (no
        // keyring, tests) the session has no OMEMO at all and sends as it always did.
        if message.bodies.is_empty() || !self.crypto.configured() {
            return Some(Stanza::Message(message));
        }
        let (account, peer) = (self.account.clone(), to.clone());
        let choice = match self
            .with_store(move |s| Ok(decide::choice(s, &account, &peer)))
            .await
        {
            Some(Ok(c)) => c,
            _ => decide::Choice::Auto,
        };
        if !self.crypto.is_on() {
            let refuse = match (&self.crypto.broken, choice) {
                (_, decide::Choice::Off) | (None, _) => None,
                (Some(why), _) => Some(format!(
                    "OMEMO could not be opened on this device ({why}); nothing is sent in plain text"
                )),
            };
            if let Some(why) = refuse {
                log::info!("{}: not sending {id}: {why}", self.own);
                let _ = self.delivery_tx.send((id.clone(), Delivery::Failed(why)));
                return None;
            }
            return Some(Stanza::Message(message));
        }
        let ours = self.crypto.with(|o| o.device_id()).unwrap_or_default();
        let own = self
            .crypto
            .devices
            .get(&self.own)
            .cloned()
            .unwrap_or_default();
        let waiting = self.crypto.fetching.contains_key(to);
        let plan = decide::plan(
            choice,
            to,
            self.crypto.devices.get(to).map(Vec::as_slice),
            &self.own,
            &own,
            ours,
        );
        let fail = |why: String| {
            log::info!("{}: not sending {id}: {why}", self.own);
            let _ = self.delivery_tx.send((id.clone(), Delivery::Failed(why)));
        };
        let devices = match plan {
            Plan::Plain => return Some(Stanza::Message(message)),
            Plan::Fail(why) => {
                fail(why);
                return None;
            }
            Plan::Wait => {
                if !waiting {
                    self.omemo_fetch_devices(to.clone()).await;
                }
                self.crypto.held.push((to.clone(), message, id.clone()));
                return None;
            }
            Plan::Encrypt(_) if waiting => {
                self.crypto.held.push((to.clone(), message, id.clone()));
                return None;
            }
            Plan::Encrypt(devices) => devices,
        };
        let devices = match self.omemo_only_verified(to, devices).await {
            Ok(devices) => devices,
            Err(why) => {
                fail(why);
                return None;
            }
        };
        let conversation = crate::ids::ConversationId::Chat(to.clone());
        let (devices, changed) = self.omemo_leave_out_changed(conversation, devices).await;
        if !changed.is_empty() && !devices.iter().any(|(j, _)| j == to) {
            fail(decide::trust::changed_keys_reason(to, &changed));
            return None;
        }
        let body = message.bodies.values().next().cloned().unwrap_or_default();
        match self.omemo_seal_chat(to, &body, &devices) {
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

    /// Decrypts an incoming message's `<encrypted>` in place (see
    /// `session::omemo::rewrite`) and handles device-list notifications; `None` when the
    /// stanza was only for OMEMO.
    pub(super) async fn omemo_inbound(&mut self, stanza: Stanza) -> Option<Stanza> {
        if !self.crypto.is_on() {
            return Some(stanza);
        }
        let Stanza::Message(mut message) = stanza else {
            return Some(stanza);
        };
        if let Some((jid, list)) = decide::device_list_event(&message) {
            if jid == self.own {
                self.omemo_own_list(list).await;
            } else {
                self.omemo_devices_known(jid, list).await;
            }
            return None;
        }
        if let Some((jid, list)) = decide::device_list_event_v2(&message) {
            if jid == self.own {
                self.omemo_own_list_v2(list).await;
            } else {
                self.omemo_devices_known_v2(jid, list).await;
            }
            return None;
        }
        let own = self.own.clone();
        let found = match self.omemo_room_inbound(&mut message).await {
            Some(in_room) => in_room,
            None => {
                let crypto = &self.crypto;
                decide::rewrite(&mut message, &own, |from, e| {
                    crypto
                        .with(|o| {
                            if decide::is_encrypted_v2(e) {
                                o.decrypt_v2(from.as_str(), own.as_str(), e)
                            } else {
                                o.decrypt(from.as_str(), e)
                            }
                        })
                        .unwrap_or(Err(crate::omemo::OmemoError::NotForUs))
                })
            }
        };
        if let Some(found) = found {
            match &found.result {
                Ok(d) if d.prekey => {
                    if found.v2 {
                        self.omemo_empty_v2(&found.sender, d.device).await;
                    }
                    if let Some(Ok(true)) = self.crypto.with(|o| o.refill_pre_keys()) {
                        // The pre-keys are shared: both bundles show the new ones.
                        self.omemo_publish_bundle().await;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let why = Undecryptable::from_error(e);
                    log::info!(
                        "{}: an OMEMO message from {} could not be decrypted: {e}",
                        self.own,
                        found.sender
                    );
                    // Repaired once per device and version in this session: a fresh
                    // session from the bundle of the message's version, then a key
                    // transport (0.3) or an empty message with a key exchange (OMEMO 2).
                    if let (true, Some(device)) = (why.wants_repair(), found.device) {
                        let key = (found.sender.clone(), device);
                        if found.v2 {
                            if self.crypto.repaired2.insert(key) {
                                self.omemo_fetch_bundle_v2(found.sender.clone(), device, true)
                                    .await;
                            }
                        } else if self.crypto.repaired.insert(key) {
                            self.omemo_fetch_bundle(found.sender.clone(), device, true)
                                .await;
                        }
                    }
                    if matches!(why, Undecryptable::UntrustedIdentity) {
                        // The lock's panel shows the changed key for the person to accept.
                        self.omemo_status(found.sender.clone()).await;
                    }
                }
            }
        }
        Some(Stanza::Message(message))
    }
}
