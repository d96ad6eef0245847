//! Byte layout of every key the store writes.
//!
//! Text components are length-prefixed (`u32` big-endian length, then the UTF-8 bytes), so
//! no component can be a prefix of another: the keys of account `a` never start with the
//! prefix of account `ab`. Numbers are big-endian so byte order is numeric order.

use crate::ids::{AccountId, ConversationId, LocalMessageId};
use crate::model::{ChatMessage, Direction};
use sha2::{Digest, Sha256};

/// Length of the `position | seq` tail of a history key.
pub(super) const HISTORY_TAIL: usize = 16;

/// Appends one length-prefixed text component.
pub(super) fn put_str(out: &mut Vec<u8>, s: &str) {
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Reads one length-prefixed text component; `None` when the bytes are damaged.
pub(super) fn take_str(input: &[u8]) -> Option<(&str, &[u8])> {
    let (len, rest) = input.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
    if rest.len() < len {
        return None;
    }
    let (text, rest) = rest.split_at(len);
    Some((std::str::from_utf8(text).ok()?, rest))
}

/// Prefix shared by every per-account key in the history, id, dedupe and summary trees.
pub(super) fn account(account: &AccountId) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + account.0.len());
    put_str(&mut out, &account.0);
    out
}

/// `account | conversation`: the prefix of one conversation's history, and the key of
/// its summary.
pub(super) fn conversation(account_id: &AccountId, conversation: &ConversationId) -> Vec<u8> {
    let conv = conversation.key();
    let mut out = Vec::with_capacity(8 + account_id.0.len() + conv.len() + HISTORY_TAIL);
    put_str(&mut out, &account_id.0);
    put_str(&mut out, &conv);
    out
}

/// Reads the conversation back from a summary key (`account | conversation`).
pub(super) fn parse_conversation(key: &[u8]) -> Option<ConversationId> {
    let (_account, rest) = take_str(key)?;
    let (conv, rest) = take_str(rest)?;
    if !rest.is_empty() {
        return None;
    }
    ConversationId::from_key(conv)
}

/// Maps an `i64` to a `u64` whose big-endian bytes sort in numeric order (sign bit flipped).
pub(super) fn order_i64(value: i64) -> u64 {
    (value as u64) ^ (1 << 63)
}

/// `account | conversation | position | seq` (see `store::order` for the position).
pub(super) fn history(prefix: &[u8], position: u64, seq: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + HISTORY_TAIL);
    out.extend_from_slice(prefix);
    out.extend_from_slice(&position.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out
}

/// The `(timestamp, seq)` tail of a history key, for sorting conversations.
pub(super) fn history_tail(key: &[u8]) -> Option<[u8; HISTORY_TAIL]> {
    key.split_last_chunk::<HISTORY_TAIL>()
        .map(|(_, tail)| *tail)
}

/// What the dedupe index stores for a message at history key `key`: only its
/// `position | seq` tail, as the dedupe key already holds the account and the
/// conversation (schema 4; before, the whole history key).
pub(super) fn dedupe_value(key: &[u8]) -> &[u8] {
    key.split_last_chunk::<HISTORY_TAIL>()
        .map_or(key, |(_, tail)| tail.as_slice())
}

/// The history key a dedupe entry points at: its account and conversation with the
/// stored tail, or the whole key stored before schema 4.
pub(super) fn dedupe_target(dedupe_key: &[u8], value: &[u8]) -> Option<Vec<u8>> {
    if value.len() != HISTORY_TAIL {
        return Some(value.to_vec());
    }
    let (account, rest) = take_str(dedupe_key)?;
    let (_kind, rest) = rest.split_first()?;
    let (conversation, _) = take_str(rest)?;
    let mut out = Vec::with_capacity(8 + account.len() + conversation.len() + HISTORY_TAIL);
    put_str(&mut out, account);
    put_str(&mut out, conversation);
    out.extend_from_slice(value);
    Some(out)
}

/// `account | local id` -> history key.
pub(super) fn local_id(account_id: &AccountId, id: &LocalMessageId) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + account_id.0.len() + id.0.len());
    put_str(&mut out, &account_id.0);
    put_str(&mut out, &id.0);
    out
}

/// `account | conversation | id`: where the references to one id (any kind) start, in
/// the `refs` and `pending` trees.
pub(super) fn reference(
    account_id: &AccountId,
    conversation: &ConversationId,
    id: &str,
) -> Vec<u8> {
    let conv = conversation.key();
    let mut out = Vec::with_capacity(12 + account_id.0.len() + conv.len() + id.len());
    put_str(&mut out, &account_id.0);
    put_str(&mut out, &conv);
    put_str(&mut out, id);
    out
}

/// Kinds of id a message is known by in the `refs` tree.
pub(super) const REF_SERVER: u8 = b'S';
pub(super) const REF_ORIGIN: u8 = b'O';
pub(super) const REF_ATTR: u8 = b'A';
/// The id of a correction applied to the message (a later correction may name it).
pub(super) const REF_CORRECTION: u8 = b'C';

/// `reference | kind | local id` -> empty: message `local` is known by that id.
pub(super) fn reference_entry(prefix: &[u8], kind: u8, local: &LocalMessageId) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + 5 + local.0.len());
    out.extend_from_slice(prefix);
    out.push(kind);
    put_str(&mut out, &local.0);
    out
}

/// Every `refs` key of one message (schema 3-4; the upgrade to 3 writes them): by its server stanza-id, origin-id, stanza `id`
/// and the ids of corrections applied to it.
pub(super) fn references(msg: &ChatMessage) -> Vec<Vec<u8>> {
    let conv = msg.conversation();
    let mut out = Vec::new();
    let mut add = |kind: u8, id: Option<&str>| {
        if let Some(id) = id.filter(|i| !i.is_empty()) {
            let prefix = reference(&msg.account, &conv, id);
            out.push(reference_entry(&prefix, kind, &msg.id));
        }
    };
    add(REF_SERVER, msg.server_id.as_deref());
    add(REF_ORIGIN, msg.origin_id.as_deref());
    add(REF_ATTR, msg.stanza_id_attr.as_deref());
    for v in &msg.extras.versions {
        add(REF_CORRECTION, v.id.as_deref());
    }
    out
}

const SERVER_ID: u8 = b'S';
const ORIGIN_ID: u8 = b'O';
const STANZA_ATTR: u8 = b'A';

/// The byte that stands for a message's direction in dedupe keys and checks.
pub(super) fn direction_byte(direction: Direction) -> u8 {
    match direction {
        Direction::Incoming => b'i',
        Direction::Outgoing => b'o',
    }
}

/// Keys of the deduplication index for one message, each `account | kind | conversation | ...`.
///
/// - a server-assigned stanza-id (XEP-0359) identifies a message in that archive;
/// - an origin-id is unique per sender, so it is keyed with direction and sender;
/// - the stanza `id` attribute is only used when neither exists, together with a hash of
///   the body, because many clients reuse simple ids.
///
/// A message is a duplicate when any of its keys is already present.
pub(super) fn dedupe(msg: &ChatMessage) -> Vec<Vec<u8>> {
    let conv = msg.conversation().key();
    let start = |kind: u8| {
        let mut out = Vec::with_capacity(64);
        put_str(&mut out, &msg.account.0);
        out.push(kind);
        put_str(&mut out, &conv);
        out
    };
    let mut keys = Vec::with_capacity(2);
    if let Some(server_id) = &msg.server_id {
        let mut key = start(SERVER_ID);
        put_str(&mut key, server_id);
        keys.push(key);
    }
    if let Some(origin_id) = &msg.origin_id {
        let mut key = start(ORIGIN_ID);
        key.push(direction_byte(msg.direction));
        put_str(&mut key, &msg.sender);
        put_str(&mut key, origin_id);
        keys.push(key);
    }
    if keys.is_empty()
        && let Some(attr) = &msg.stanza_id_attr
    {
        let mut key = start(STANZA_ATTR);
        key.push(direction_byte(msg.direction));
        put_str(&mut key, &msg.sender);
        put_str(&mut key, attr);
        let hash = Sha256::digest(msg.body.as_bytes());
        key.extend_from_slice(hash.get(..16).unwrap_or(&hash));
        keys.push(key);
    }
    keys
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

    #[test]
    fn text_components_do_not_collide() {
        let a = account(&AccountId("a".into()));
        let ab = account(&AccountId("ab".into()));
        assert!(!ab.starts_with(&a));
        assert!(!a.starts_with(&ab));
        assert_eq!(take_str(&ab), Some(("ab", &[][..])));
        assert_eq!(take_str(&[0, 0, 0, 9, b'x']), None);
        assert_eq!(take_str(&[0, 0]), None);
    }

    #[test]
    fn history_keys_sort_by_position_then_seq() {
        let p = b"prefix".to_vec();
        let times = [i64::MIN, -5, -1, 0, 1, 1_700_000_000_000, i64::MAX];
        for pair in times.windows(2) {
            let (a, b) = (order_i64(pair[0]), order_i64(pair[1]));
            assert!(history(&p, a, u64::MAX) < history(&p, b, 0));
        }
        assert!(history(&p, 7, 1) < history(&p, 7, 2));
    }
}
