//! Where a message sorts in its conversation: the store orders by time, then by
//! insertion, so times from whole-second delay stamps need care.

use crate::model::{ChatMessage, Direction};
use std::collections::HashMap;
use xmpp_parsers::jid::BareJid;

/// Newest time given to a live message per conversation and direction.
pub(super) type LastLive = HashMap<(BareJid, bool), i64>;

/// On the live stream the server delivers each sender's messages in order, and what
/// it held back (re-sent after a resumption) comes first. Their whole-second delay
/// stamps could still sort them after messages that arrived later (order broken
/// after a reset mid-burst, `tests/delivery.rs`): a live message never sorts before
/// one that arrived before it in the same conversation and direction.
pub(super) fn keep_arrival_order(last_live: &mut LastLive, m: &mut ChatMessage) {
    let key = (m.peer.clone(), m.direction == Direction::Incoming);
    if let Some(last) = last_live.get(&key)
        && m.timestamp_ms < *last
    {
        m.timestamp_ms = *last;
    }
    last_live.insert(key, m.timestamp_ms);
}

/// Backward pages arrive newest first, but a store orders equal times by insertion: an
/// older page sharing a second with the newer one sorted after it (seen in
/// `tests/delivery.rs`: 500 archived messages came back out of order). Every message
/// of an older page is kept strictly before what the newer pages stored. Returns the new
/// floor.
pub(super) fn below_floor(batch: &mut [ChatMessage], floor: Option<i64>) -> Option<i64> {
    let mut floor = floor;
    for m in batch.iter_mut().rev() {
        if let Some(f) = floor
            && m.timestamp_ms >= f
        {
            m.timestamp_ms = f - 1;
        }
        floor = Some(m.timestamp_ms);
    }
    floor
}
