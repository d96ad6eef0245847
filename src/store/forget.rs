//! Deleting one conversation on this device (a request from a stranger the user does
//! not want): its messages and every index that points at them. The server archive
//! keeps its copy; the archive position is not moved back, so a catch-up does not
//! bring them again.

use super::{Store, StoreError, delete_prefix, io_error, keys};
use crate::ids::{AccountId, ConversationId};

impl Store {
    /// Removes the conversation's messages, their local ids and the ids they are known by,
    /// outbox entries and its summary, then flushes. Other conversations are untouched.
    pub fn delete_conversation(
        &self,
        account: &AccountId,
        conversation: &ConversationId,
    ) -> Result<(), StoreError> {
        let prefix = keys::conversation(account, conversation);
        // The summary first: if this is interrupted, the line is gone and deleting
        // again (from the same request) is not possible, but nothing dangles either.
        self.summaries.remove(&prefix).map_err(io_error)?;
        let mut batch_ids = sled::Batch::default();
        for item in self.history.scan_prefix(&prefix) {
            let (key, value) = item.map_err(io_error)?;
            if let Some(msg) = super::record::decode(&key, &value) {
                batch_ids.remove(keys::local_id(account, &msg.id));
            }
            self.outbox.remove(&key).map_err(io_error)?;
        }
        self.local_ids.apply_batch(batch_ids).map_err(io_error)?;
        // `known_ids` keys start with the conversation's prefix.
        for tree in [&self.known, &self.pending, &self.history] {
            delete_prefix(tree, &prefix)?;
        }
        self.keep_changed();
        self.flush()
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code
mod tests {
    use super::*;
    use crate::ids::LocalMessageId;
    use crate::model::{ChatMessage, Delivery, Direction};
    use xmpp_parsers::jid::BareJid;

    fn msg(peer: &str, n: i64) -> ChatMessage {
        ChatMessage {
            truncated: false,
            extras: Default::default(),
            id: LocalMessageId(format!("{peer}-m{n}")),
            account: AccountId("acct".into()),
            conversation: ConversationId::Chat(BareJid::new(peer).unwrap()),
            direction: Direction::Incoming,
            sender: String::new(),
            body: format!("message {n}"),
            timestamp_ms: 1_700_000_000_000 + n,
            stanza_id_attr: Some(format!("a{n}")),
            origin_id: None,
            server_id: Some(format!("s{n}")),
            delivery: Delivery::Delivered,
            attachment: None,
        }
    }

    /// A deleted request is gone with its indexes; the other conversation stays, and
    /// the same message stored again is new (its dedupe entry went too).
    #[test]
    fn a_deleted_conversation_leaves_nothing_behind() {
        let store = Store::open_temporary().unwrap();
        let account = AccountId("acct".into());
        let spam: Vec<_> = (0..5).map(|n| msg("spam@evil.example", n)).collect();
        let friend: Vec<_> = (0..3).map(|n| msg("friend@example.org", n)).collect();
        store.insert_messages(&spam).unwrap();
        store.insert_messages(&friend).unwrap();
        assert_eq!(store.conversations(&account).unwrap().len(), 2);
        let conv = spam[0].conversation();
        store.delete_conversation(&account, &conv).unwrap();
        let left = store.conversations(&account).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].conversation, friend[0].conversation());
        assert!(store.latest(&account, &conv, 100).unwrap().is_empty());
        assert_eq!(
            store
                .latest(&account, &friend[0].conversation(), 100)
                .unwrap()
                .len(),
            3
        );
        assert!(store.find_message(&account, &spam[0].id).unwrap().is_none());
        assert_eq!(
            store.insert_message(&spam[0]).unwrap(),
            crate::store::Inserted::New
        );
    }
}
