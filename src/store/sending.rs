//! Our own changes (corrections, reactions, retractions) on their way out, like the
//! outbox for messages: a change is applied to history first, queued here with the
//! stanza that carries it, sent when the session is (back) online (rooms: once joined),
//! and taken out when the server confirmed it. Sent again with the same id after a new
//! stream or a restart, so a change made offline is never only on this device.
//!
//! Tree `sending`: `account | seq` -> JSON [`QueuedChange`], in the order made.

use super::{Store, StoreError, io_error, keys};
use crate::ids::{AccountId, ConversationId, LocalMessageId};
use serde::{Deserialize, Serialize};

/// One change waiting for the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedChange {
    /// The stanza's id (and origin-id): the same every time it is sent.
    pub id: LocalMessageId,
    #[serde(with = "crate::model::extras::conversation_key")]
    pub conversation: ConversationId,
    /// The stanza as sent, serialised.
    pub stanza: String,
}

impl Store {
    /// Queues a change (flushed before it returns).
    pub fn queue_change(
        &self,
        account: &AccountId,
        change: &QueuedChange,
    ) -> Result<(), StoreError> {
        let mut key = keys::account(account);
        key.extend_from_slice(&self.db.generate_id().map_err(io_error)?.to_be_bytes());
        let value = serde_json::to_vec(change).map_err(|e| StoreError::Io(e.to_string()))?;
        self.sending.insert(key, value).map_err(io_error)?;
        self.flush()
    }

    /// The account's changes still waiting, oldest first.
    pub fn queued_changes(&self, account: &AccountId) -> Result<Vec<QueuedChange>, StoreError> {
        let mut out = Vec::new();
        for item in self.sending.scan_prefix(keys::account(account)) {
            let (_, value) = item.map_err(io_error)?;
            match serde_json::from_slice(&value) {
                Ok(change) => out.push(change),
                Err(e) => log::warn!("store: a queued change that cannot be read: {e}"),
            }
        }
        Ok(out)
    }

    /// The server took change `id`: it leaves the queue. Whether it was queued.
    pub fn unqueue_change(
        &self,
        account: &AccountId,
        id: &LocalMessageId,
    ) -> Result<bool, StoreError> {
        let mut found = None;
        for item in self.sending.scan_prefix(keys::account(account)) {
            let (key, value) = item.map_err(io_error)?;
            if serde_json::from_slice::<QueuedChange>(&value).is_ok_and(|c| c.id == *id) {
                found = Some(key);
                break;
            }
        }
        let Some(key) = found else {
            return Ok(false);
        };
        self.sending.remove(key).map_err(io_error)?;
        self.flush()?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmpp_parsers::jid::BareJid;

    fn change(id: &str, conversation: ConversationId) -> QueuedChange {
        QueuedChange {
            id: LocalMessageId(id.into()),
            conversation,
            stanza: format!("<message id='{id}'/>"),
        }
    }

    #[test]
    fn queued_changes_keep_their_order_per_account_survive_a_reopen_and_leave_once_confirmed() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (AccountId("a".into()), AccountId("b".into()));
        let bob = ConversationId::Chat(BareJid::new("bob@example.org").unwrap());
        let room = ConversationId::Room(BareJid::new("tea@muc.example.org").unwrap());
        {
            let store = Store::open(dir.path()).unwrap();
            store.queue_change(&a, &change("c1", bob.clone())).unwrap();
            store.queue_change(&b, &change("x1", bob.clone())).unwrap();
            store.queue_change(&a, &change("c2", room.clone())).unwrap();
            store.queue_change(&a, &change("c3", bob.clone())).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let ids = |s: &Store, acc: &AccountId| -> Vec<String> {
            s.queued_changes(acc)
                .unwrap()
                .into_iter()
                .map(|c| c.id.0)
                .collect()
        };
        assert_eq!(ids(&store, &a), ["c1", "c2", "c3"]);
        assert_eq!(
            store
                .queued_changes(&a)
                .unwrap()
                .get(1)
                .map(|c| c.conversation.clone()),
            Some(room)
        );
        assert!(
            store
                .unqueue_change(&a, &LocalMessageId("c2".into()))
                .unwrap()
        );
        assert!(
            !store
                .unqueue_change(&a, &LocalMessageId("c2".into()))
                .unwrap()
        );
        assert!(
            !store
                .unqueue_change(&a, &LocalMessageId("x1".into()))
                .unwrap()
        );
        assert_eq!(ids(&store, &a), ["c1", "c3"]);
        assert_eq!(ids(&store, &b), ["x1"]);
    }
}
