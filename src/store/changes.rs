//! Changes to stored messages: corrections, reactions, retractions, moderations
//! (`model::extras` has the rules). A change finds its message by any id the message is
//! known by (the `known_ids` tree, see `known`) in the same conversation; one whose message is not stored
//! yet (archive paging, offline delivery) waits in `pending_changes` and is applied when
//! the message is inserted, before it is written: a retracted message's text is never
//! stored then.

use super::{Store, StoreError, io_error, keys};
use crate::ids::LocalMessageId;
use crate::model::{Applied, ChatMessage, Modification};
use sled::IVec;

/// What [`Store::apply_change`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeOutcome {
    /// The message as it is stored now.
    Changed(Box<ChatMessage>),
    /// Already applied (the archive's copy of a live change), or superseded.
    Unchanged,
    /// Its sender may not change that message: ignored.
    Refused,
    /// Its message is not stored yet: kept until it is.
    Pending,
}

/// Which kinds of id a change most likely names: the room's stanza-id in rooms
/// (XEP-0444, XEP-0425 ask for it), the sender's ids in chats.
fn preference(room: bool, kind: u8) -> u8 {
    let order: &[u8] = if room {
        &[
            keys::REF_SERVER,
            keys::REF_ORIGIN,
            keys::REF_ATTR,
            keys::REF_CORRECTION,
        ]
    } else {
        &[
            keys::REF_ATTR,
            keys::REF_ORIGIN,
            keys::REF_CORRECTION,
            keys::REF_SERVER,
        ]
    };
    order
        .iter()
        .position(|k| *k == kind)
        .and_then(|p| u8::try_from(p).ok())
        .unwrap_or(u8::MAX)
}

impl Store {
    /// The stored messages known by `id` in the change's conversation, most likely first.
    fn referenced(&self, m: &Modification) -> Result<Vec<LocalMessageId>, StoreError> {
        let key = keys::reference(&m.account, &m.conversation, &m.target);
        let mut found = Vec::new();
        if let Some(value) = self.known.get(&key).map_err(io_error)? {
            for k in super::known::decode(&value) {
                found.push((preference(m.conversation.is_room(), k.kind), k.local));
            }
        }
        found.sort();
        let mut ids: Vec<LocalMessageId> = Vec::new();
        for (_, id) in found {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// Applies a change to the message it names, or keeps it until that message is
    /// stored. Flushed before it returns.
    pub fn apply_change(&self, m: &Modification) -> Result<ChangeOutcome, StoreError> {
        let candidates = self.referenced(m)?;
        if candidates.is_empty() {
            let mut key = keys::reference(&m.account, &m.conversation, &m.target);
            key.extend_from_slice(&self.db.generate_id().map_err(io_error)?.to_be_bytes());
            let value = serde_json::to_vec(m)
                .map_err(|e| StoreError::Io(format!("cannot encode a change: {e}")))?;
            self.pending.insert(key, value).map_err(io_error)?;
            self.flush()?;
            return Ok(ChangeOutcome::Pending);
        }
        let mut refused = false;
        for id in candidates {
            let Some(key) = self.history_key_of(&m.account, &id)? else {
                continue;
            };
            let Some(value) = self.history.get(&key).map_err(io_error)? else {
                continue;
            };
            let Some(mut msg) = self.decode_message(&key, &value) else {
                continue;
            };
            match msg.apply(m) {
                Applied::Refused => refused = true,
                Applied::Unchanged => return Ok(ChangeOutcome::Unchanged),
                Applied::Changed => {
                    self.observe_will_write();
                    self.write_changed(&key, &value, &msg)?;
                    self.flush()?;
                    if let Some(o) = self.observer() {
                        o.changed(&msg);
                    }
                    return Ok(ChangeOutcome::Changed(Box::new(msg)));
                }
            }
        }
        Ok(if refused {
            ChangeOutcome::Refused
        } else {
            ChangeOutcome::Unchanged
        })
    }

    /// Writes a changed record where it was (only if nobody changed it meanwhile) and
    /// the references its corrections added.
    fn write_changed(&self, key: &IVec, old: &IVec, msg: &ChatMessage) -> Result<(), StoreError> {
        let encoded = super::record::encode(msg);
        match self
            .history
            .compare_and_swap(key, Some(old), Some(encoded))
            .map_err(io_error)?
        {
            Ok(()) => {}
            Err(_) => {
                return Err(StoreError::Io(
                    "a message changed while a change was applied to it".into(),
                ));
            }
        }
        for (key, entry) in super::known::entries(msg, msg) {
            self.known
                .fetch_and_update(&key, |stored| {
                    super::known::merge(stored, &entry).or_else(|| stored.map(<[u8]>::to_vec))
                })
                .map_err(io_error)?;
        }
        Ok(())
    }

    fn history_key_of(
        &self,
        account: &crate::ids::AccountId,
        id: &LocalMessageId,
    ) -> Result<Option<IVec>, StoreError> {
        self.local_ids
            .get(keys::local_id(account, id))
            .map_err(io_error)
    }

    /// Applies to `msg` (not stored yet) the changes that waited for it; returns the
    /// keys of those it took, to remove once it is stored.
    pub(super) fn absorb_pending(&self, msg: &mut ChatMessage) -> Result<Vec<IVec>, StoreError> {
        let conv = msg.conversation();
        let ids: Vec<String> = [&msg.server_id, &msg.origin_id, &msg.stanza_id_attr]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        let mut found: Vec<(IVec, Modification)> = Vec::new();
        for id in ids {
            let prefix = keys::reference(&msg.account, &conv, &id);
            for item in self.pending.scan_prefix(&prefix) {
                let (key, value) = item.map_err(io_error)?;
                // Exactly this id: a sequence number follows the prefix.
                if key.len() != prefix.len() + 8 || found.iter().any(|(k, _)| *k == key) {
                    continue;
                }
                match serde_json::from_slice::<Modification>(&value) {
                    Ok(m) => found.push((key, m)),
                    Err(e) => log::warn!("store: skipping a damaged waiting change: {e}"),
                }
            }
        }
        found.sort_by_key(|(_, m)| m.at_ms);
        let mut taken = Vec::new();
        for (key, m) in found {
            match msg.apply(&m) {
                // Not its sender: it may be meant for another message with that id.
                Applied::Refused => {
                    log::warn!("store: a waiting change from someone else was not applied");
                }
                Applied::Changed | Applied::Unchanged => taken.push(key),
            }
        }
        Ok(taken)
    }

    /// Forgets waiting changes that were applied.
    pub(super) fn drop_pending(&self, taken: &[IVec]) -> Result<(), StoreError> {
        for key in taken {
            self.pending.remove(key).map_err(io_error)?;
        }
        Ok(())
    }

    /// Notes that `msg` was stored changed by waiting changes (see `take_absorbed`).
    pub(super) fn note_absorbed(&self, msg: &ChatMessage) {
        if let Ok(mut map) = self.absorbed.lock() {
            map.insert(keys::local_id(&msg.account, &msg.id), msg.clone());
        }
    }

    /// Whether any stored message was changed on its way in and not taken yet.
    pub fn has_absorbed(&self) -> bool {
        self.absorbed.lock().map(|m| !m.is_empty()).unwrap_or(false)
    }

    /// The message as stored, when changes that waited for it altered it on its way
    /// in (a retraction, a correction, reactions that came first): the session shows
    /// this instead of what arrived. Each is given once. No disk access.
    pub fn take_absorbed(&self, msg: &ChatMessage) -> Option<ChatMessage> {
        self.absorbed
            .lock()
            .ok()?
            .remove(&keys::local_id(&msg.account, &msg.id))
    }

    /// How many changes wait for their message (tests, diagnostics).
    pub fn pending_changes(&self) -> usize {
        self.pending.len()
    }

    /// Our own room message, stored when we sent it, learns from the room's reflection
    /// (or an archive copy) the stanza-id others refer to it by, and our occupant id.
    pub(super) fn learn_room_ids(&self, copy: &ChatMessage) -> Result<(), StoreError> {
        let Some(server_id) = &copy.server_id else {
            return Ok(());
        };
        let Some(key) = self.history_key_of(&copy.account, &copy.id)? else {
            return Ok(());
        };
        let Some(value) = self.history.get(&key).map_err(io_error)? else {
            return Ok(());
        };
        let Some(mut stored) = self.decode_message(&key, &value) else {
            return Ok(());
        };
        if stored.server_id.is_some() || !stored.conversation.is_room() {
            return Ok(());
        }
        stored.server_id = Some(server_id.clone());
        if stored.extras.occupant_id.is_none() {
            stored.extras.occupant_id = copy.extras.occupant_id.clone();
        }
        // Its new id finds it, and tells its archive copy from a new message.
        self.write_changed(&key, &value, &stored)
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, ConversationId};
    use crate::model::{Author, Change, Delivery, Direction};
    use xmpp_parsers::jid::BareJid;

    fn room() -> BareJid {
        BareJid::new("tea@conference.example.org").unwrap()
    }

    fn msg(id: &str, is_room: bool, direction: Direction, sender: &str) -> ChatMessage {
        ChatMessage {
            id: LocalMessageId(format!("L-{id}")),
            account: AccountId("acc".into()),
            conversation: if is_room {
                ConversationId::Room(room())
            } else {
                ConversationId::Chat(BareJid::new("bob@example.org").unwrap())
            },
            direction,
            sender: sender.into(),
            body: format!("text of {id}"),
            timestamp_ms: 1_000,
            stanza_id_attr: Some(id.into()),
            origin_id: Some(id.into()),
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
            truncated: false,
            extras: Default::default(),
        }
    }

    fn change(
        of: &ChatMessage,
        target: &str,
        direction: Direction,
        nick: &str,
        change: Change,
    ) -> Modification {
        Modification {
            account: of.account.clone(),
            conversation: of.conversation(),
            target: target.into(),
            author: Author {
                direction,
                nick: nick.into(),
                occupant_id: None,
            },
            change,
            at_ms: 2_000,
        }
    }

    fn stored(s: &Store, m: &ChatMessage) -> ChatMessage {
        s.find_message(&m.account, &m.id).unwrap().unwrap()
    }

    #[test]
    fn a_correction_finds_its_message_once_and_a_chained_one_too() {
        let s = Store::open_temporary().unwrap();
        let m = msg("o1", false, Direction::Incoming, "");
        s.insert_message(&m).unwrap();
        let fix = |id: &str, target: &str, body: &str| {
            change(
                &m,
                target,
                Direction::Incoming,
                "",
                Change::Correct {
                    body: body.into(),
                    id: Some(id.into()),
                },
            )
        };
        assert!(matches!(
            s.apply_change(&fix("c1", "o1", "second")).unwrap(),
            ChangeOutcome::Changed(_)
        ));
        assert_eq!(
            s.apply_change(&fix("c1", "o1", "second")).unwrap(),
            ChangeOutcome::Unchanged
        );
        // Some clients name the previous correction instead of the original.
        assert!(matches!(
            s.apply_change(&fix("c2", "c1", "third")).unwrap(),
            ChangeOutcome::Changed(_)
        ));
        let now = stored(&s, &m);
        assert_eq!(now.body, "third");
        assert_eq!(now.earlier_versions().len(), 2);
        assert_eq!(s.pending_changes(), 0);
    }

    #[test]
    fn a_retraction_before_its_message_means_the_text_is_never_stored() {
        let s = Store::open_temporary().unwrap();
        let m = msg("o2", false, Direction::Incoming, "");
        let r = change(&m, "o2", Direction::Incoming, "", Change::Retract);
        assert_eq!(s.apply_change(&r).unwrap(), ChangeOutcome::Pending);
        // Someone else's correction of it waits too, and is refused when it arrives.
        let forged = change(
            &m,
            "o2",
            Direction::Outgoing,
            "",
            Change::Correct {
                body: "forged".into(),
                id: Some("f".into()),
            },
        );
        assert_eq!(s.apply_change(&forged).unwrap(), ChangeOutcome::Pending);
        s.insert_message(&m).unwrap();
        let now = stored(&s, &m);
        assert!(now.extras.retracted.is_some());
        assert_eq!(now.body, "");
        let key = s.history_key_of(&m.account, &m.id).unwrap().unwrap();
        let raw = s.history.get(key).unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("text of o2"));
        assert_eq!(
            s.pending_changes(),
            1,
            "the refused one is left, the applied one gone"
        );
    }

    #[test]
    fn only_the_same_occupant_changes_a_room_message() {
        let s = Store::open_temporary().unwrap();
        let mut m = msg("o3", true, Direction::Incoming, "bob");
        m.server_id = Some("SID-3".into());
        s.insert_message(&m).unwrap();
        let mallory = change(&m, "o3", Direction::Incoming, "mallory", Change::Retract);
        assert_eq!(s.apply_change(&mallory).unwrap(), ChangeOutcome::Refused);
        let moderation = change(
            &m,
            "SID-3",
            Direction::Incoming,
            "",
            Change::Moderate {
                by: Some("boss".into()),
                reason: Some("spam".into()),
            },
        );
        let ChangeOutcome::Changed(now) = s.apply_change(&moderation).unwrap() else {
            panic!("moderation by the room applies");
        };
        assert!(now.extras.retracted.as_ref().is_some_and(|r| r.moderated));
    }

    #[test]
    fn our_room_message_learns_its_stanza_id_from_the_reflection() {
        let s = Store::open_temporary().unwrap();
        let mine = msg("mine1", true, Direction::Outgoing, "me");
        s.insert_message(&mine).unwrap();
        let mut reflection = mine.clone();
        reflection.server_id = Some("SID-9".into());
        reflection.extras.occupant_id = Some("OID-ME".into());
        assert_eq!(
            s.insert_message(&reflection).unwrap(),
            crate::store::Inserted::Duplicate
        );
        let react = change(
            &mine,
            "SID-9",
            Direction::Incoming,
            "bob",
            Change::React {
                reactor: "nick:bob".into(),
                name: "bob".into(),
                emojis: vec!["👍".into()],
            },
        );
        let ChangeOutcome::Changed(now) = s.apply_change(&react).unwrap() else {
            panic!("a reaction naming the room's stanza-id finds our message");
        };
        assert_eq!(now.extras.reactions[0].emojis, ["👍"]);
        assert_eq!(now.extras.occupant_id.as_deref(), Some("OID-ME"));
        assert_eq!(now.conversation(), ConversationId::Room(room()));
    }
}
