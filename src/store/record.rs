//! The byte layout of one history record (schema 4).
//!
//! JSON spelled out every field name, the account and the peer (both already in the
//! record's key) and every id as text: about 380 bytes for a one-line message. The
//! compact record is about 90:
//!
//! ```text
//! [FORMAT = 1][flags][delivery][timestamp_ms: i64 BE][id][stanza id attr][origin id]
//! [server id][sender][body][failure text, when delivery is Failed][attachment JSON, when flagged]
//! [extras JSON, when flagged]
//! ```
//!
//! The account and the conversation come from the key
//! (`account | conversation | position | seq`). Text is `varint length | UTF-8`. An id is
//! one tag byte, then: nothing (absent, or the same as an id before it), 16 bytes (a UUID
//! in its usual lower-case hyphenated spelling, which most clients use) or text.
//! Records written before schema 4 are JSON; they start with `{` and still decode.
//! What changes add (corrections, reactions, retraction, a reply: `extras`) is rare and
//! varied, so it stays JSON, present only when there is any.

use super::keys;
use crate::ids::{AccountId, ConversationId, LocalMessageId};
use crate::model::{ChatMessage, Delivery, Direction};

const FORMAT: u8 = 1;

const FLAG_OUTGOING: u8 = 1;
const FLAG_TRUNCATED: u8 = 2;
const FLAG_ATTACHMENT: u8 = 4;
const FLAG_EXTRAS: u8 = 8;

const ID_NONE: u8 = 0;
const ID_UUID: u8 = 1;
const ID_TEXT: u8 = 2;
/// The same as the local id.
const ID_SAME_AS_ID: u8 = 3;
/// The same as the stanza id attribute.
const ID_SAME_AS_ATTR: u8 = 4;

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn take_varint(input: &mut &[u8]) -> Option<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let (byte, rest) = input.split_first()?;
        *input = rest;
        n |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

fn put_text(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn take_bytes<'a>(input: &mut &'a [u8], len: usize) -> Option<&'a [u8]> {
    if input.len() < len {
        return None;
    }
    let (bytes, rest) = input.split_at(len);
    *input = rest;
    Some(bytes)
}

fn take_text(input: &mut &[u8]) -> Option<String> {
    let len = usize::try_from(take_varint(input)?).ok()?;
    let bytes = take_bytes(input, len)?;
    Some(std::str::from_utf8(bytes).ok()?.to_owned())
}

/// A UUID's 16 bytes, when `s` is one spelled exactly as `Uuid::to_string` spells it.
fn as_uuid(s: &str) -> Option<[u8; 16]> {
    let uuid = uuid::Uuid::try_parse(s).ok()?;
    (uuid.hyphenated().to_string() == s).then(|| *uuid.as_bytes())
}

fn put_id(out: &mut Vec<u8>, id: Option<&str>, earlier: &[(Option<&str>, u8)]) {
    let Some(id) = id else {
        out.push(ID_NONE);
        return;
    };
    if let Some((_, tag)) = earlier.iter().find(|(e, _)| *e == Some(id)) {
        out.push(*tag);
    } else if let Some(bytes) = as_uuid(id) {
        out.push(ID_UUID);
        out.extend_from_slice(&bytes);
    } else {
        out.push(ID_TEXT);
        put_text(out, id);
    }
}

fn take_id(input: &mut &[u8], id: Option<&str>, attr: Option<&str>) -> Option<Option<String>> {
    let (tag, rest) = input.split_first()?;
    *input = rest;
    Some(match *tag {
        ID_NONE => None,
        ID_UUID => {
            let bytes: [u8; 16] = take_bytes(input, 16)?.try_into().ok()?;
            Some(uuid::Uuid::from_bytes(bytes).hyphenated().to_string())
        }
        ID_TEXT => Some(take_text(input)?),
        ID_SAME_AS_ID => Some(id?.to_owned()),
        ID_SAME_AS_ATTR => Some(attr?.to_owned()),
        _ => return None,
    })
}

fn delivery_tag(delivery: &Delivery) -> u8 {
    match delivery {
        Delivery::Pending => 0,
        Delivery::Sent => 1,
        Delivery::Acked => 2,
        Delivery::Delivered => 3,
        Delivery::Read => 4,
        Delivery::Failed(_) => 5,
    }
}

/// The compact record of `msg` (its account and conversation are in its key).
pub(super) fn encode(msg: &ChatMessage) -> Vec<u8> {
    let mut out = Vec::with_capacity(48 + msg.body.len() + msg.sender.len());
    out.push(FORMAT);
    let attachment = msg
        .attachment
        .as_ref()
        .and_then(|a| serde_json::to_vec(a).ok());
    let extras = (!msg.extras.is_empty())
        .then(|| serde_json::to_vec(&msg.extras).ok())
        .flatten();
    let mut flags = 0;
    if msg.direction == Direction::Outgoing {
        flags |= FLAG_OUTGOING;
    }
    if msg.truncated {
        flags |= FLAG_TRUNCATED;
    }
    if attachment.is_some() {
        flags |= FLAG_ATTACHMENT;
    }
    if extras.is_some() {
        flags |= FLAG_EXTRAS;
    }
    out.push(flags);
    out.push(delivery_tag(&msg.delivery));
    out.extend_from_slice(&msg.timestamp_ms.to_be_bytes());
    put_id(&mut out, Some(&msg.id.0), &[]);
    let id = (Some(msg.id.0.as_str()), ID_SAME_AS_ID);
    let attr = (msg.stanza_id_attr.as_deref(), ID_SAME_AS_ATTR);
    put_id(&mut out, msg.stanza_id_attr.as_deref(), &[id]);
    put_id(&mut out, msg.origin_id.as_deref(), &[id, attr]);
    put_id(&mut out, msg.server_id.as_deref(), &[id, attr]);
    put_text(&mut out, &msg.sender);
    put_text(&mut out, &msg.body);
    if let Delivery::Failed(why) = &msg.delivery {
        put_text(&mut out, why);
    }
    for json in [attachment, extras].into_iter().flatten() {
        put_varint(&mut out, json.len() as u64);
        out.extend_from_slice(&json);
    }
    out
}

/// Reads a record stored under history key `key`: compact, or JSON (before schema 4).
/// `None` when either is damaged.
pub(super) fn decode(key: &[u8], value: &[u8]) -> Option<ChatMessage> {
    match value.first() {
        Some(&FORMAT) => decode_compact(key, value.get(1..)?),
        Some(_) => serde_json::from_slice(value).ok(),
        None => None,
    }
}

fn decode_compact(key: &[u8], mut input: &[u8]) -> Option<ChatMessage> {
    let (account, rest) = keys::take_str(key)?;
    let (conversation, _) = keys::take_str(rest)?;
    let conversation = ConversationId::from_key(conversation)?;
    let input = &mut input;
    let [flags, delivery] = *take_bytes(input, 2)? else {
        return None;
    };
    let timestamp_ms = i64::from_be_bytes(take_bytes(input, 8)?.try_into().ok()?);
    let id = take_id(input, None, None)??;
    let stanza_id_attr = take_id(input, Some(&id), None)?;
    let origin_id = take_id(input, Some(&id), stanza_id_attr.as_deref())?;
    let server_id = take_id(input, Some(&id), stanza_id_attr.as_deref())?;
    let sender = take_text(input)?;
    let body = take_text(input)?;
    let delivery = match delivery {
        0 => Delivery::Pending,
        1 => Delivery::Sent,
        2 => Delivery::Acked,
        3 => Delivery::Delivered,
        4 => Delivery::Read,
        5 => Delivery::Failed(take_text(input)?),
        _ => return None,
    };
    let attachment = if flags & FLAG_ATTACHMENT != 0 {
        let len = usize::try_from(take_varint(input)?).ok()?;
        Some(serde_json::from_slice(take_bytes(input, len)?).ok()?)
    } else {
        None
    };
    let extras = if flags & FLAG_EXTRAS != 0 {
        let len = usize::try_from(take_varint(input)?).ok()?;
        serde_json::from_slice(take_bytes(input, len)?).ok()?
    } else {
        Default::default()
    };
    Some(ChatMessage {
        id: LocalMessageId(id),
        account: AccountId(account.to_owned()),
        conversation,
        direction: if flags & FLAG_OUTGOING != 0 {
            Direction::Outgoing
        } else {
            Direction::Incoming
        },
        sender,
        body,
        timestamp_ms,
        stanza_id_attr,
        origin_id,
        server_id,
        delivery,
        attachment,
        truncated: flags & FLAG_TRUNCATED != 0,
        extras,
    })
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
    use xmpp_parsers::jid::BareJid;

    fn message(conversation: &ConversationId) -> ChatMessage {
        ChatMessage {
            id: LocalMessageId::generate(),
            account: AccountId::generate(),
            conversation: conversation.clone(),
            direction: Direction::Incoming,
            sender: "Ann".into(),
            body: "hello 你好".into(),
            timestamp_ms: 1_760_000_000_123,
            stanza_id_attr: Some("abc".into()),
            origin_id: Some("abc".into()),
            server_id: Some(uuid::Uuid::new_v4().to_string()),
            delivery: Delivery::Delivered,
            attachment: None,
            truncated: false,
            extras: Default::default(),
        }
    }

    fn key(msg: &ChatMessage) -> Vec<u8> {
        keys::history(&keys::conversation(&msg.account, &msg.conversation()), 7, 9)
    }

    #[test]
    fn every_kind_of_message_round_trips() {
        let room = BareJid::new("room@muc.example.org").unwrap();
        let conversations = [
            ConversationId::Chat(BareJid::new("bob@example.org").unwrap()),
            ConversationId::Room(room.clone()),
            ConversationId::Private {
                room,
                nick: "some/nick".into(),
            },
        ];
        for conversation in &conversations {
            let mut msg = message(conversation);
            let k = key(&msg);
            assert_eq!(decode(&k, &encode(&msg)), Some(msg.clone()));
            // Outgoing: the ids are the local id; failed with its reason; no ids at all.
            msg.direction = Direction::Outgoing;
            msg.stanza_id_attr = Some(msg.id.0.clone());
            msg.origin_id = Some(msg.id.0.clone());
            msg.delivery = Delivery::Failed("the server said no".into());
            msg.truncated = true;
            assert_eq!(decode(&k, &encode(&msg)), Some(msg.clone()));
            msg.stanza_id_attr = None;
            msg.origin_id = None;
            msg.server_id = None;
            msg.sender = String::new();
            msg.body = "x".repeat(300);
            msg.id = LocalMessageId("not-a-uuid".into());
            msg.delivery = Delivery::Read;
            assert_eq!(decode(&k, &encode(&msg)), Some(msg.clone()));
            // An upper-case UUID is kept as written.
            msg.server_id = Some("6F9619FF-8B86-D011-B42D-00C04FC964FF".into());
            assert_eq!(decode(&k, &encode(&msg)), Some(msg));
        }
    }

    #[test]
    fn attachments_round_trip() {
        let mut msg = message(&ConversationId::Chat(
            BareJid::new("b@example.org").unwrap(),
        ));
        msg.attachment = serde_json::from_str(
            r#"{"url":"https://example.org/a.png","name":"a.png","size":12,"mime":"image/png"}"#,
        )
        .ok();
        assert!(msg.attachment.is_some());
        let k = key(&msg);
        assert_eq!(decode(&k, &encode(&msg)), Some(msg));
    }

    #[test]
    fn what_changes_added_round_trips() {
        let mut msg = message(&ConversationId::Room(
            BareJid::new("room@muc.example.org").unwrap(),
        ));
        msg.extras.occupant_id = Some("oid-1".into());
        msg.extras.reply_to = Some(crate::model::ReplyTo {
            id: "abc".into(),
            to: None,
            fallback: None,
        });
        msg.attachment = serde_json::from_str(
            r#"{"url":"https://example.org/a.png","name":"a.png","size":12,"mime":"image/png"}"#,
        )
        .ok();
        let k = key(&msg);
        assert_eq!(decode(&k, &encode(&msg)), Some(msg));
    }

    #[test]
    fn json_records_still_decode_and_damage_is_none() {
        let msg = message(&ConversationId::Chat(
            BareJid::new("b@example.org").unwrap(),
        ));
        let k = key(&msg);
        let json = serde_json::to_vec(&msg).unwrap();
        assert_eq!(decode(&k, &json), Some(msg.clone()));
        let compact = encode(&msg);
        for cut in 0..compact.len() {
            assert_eq!(decode(&k, &compact[..cut]), None, "cut at {cut}");
        }
        assert_eq!(decode(b"short", &compact), None);
        assert!(
            compact.len() * 3 < json.len(),
            "{} vs {}",
            compact.len(),
            json.len()
        );
    }
}
