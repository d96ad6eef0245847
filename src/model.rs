//! Plain data the whole app talks about: accounts, contacts, messages. No I/O.

use crate::ids::{AccountId, ConversationId, LocalMessageId};
use serde::{Deserialize, Serialize};
use xmpp_parsers::jid::BareJid;

pub mod extras;
pub mod presences;
pub mod styling;
pub mod transfer;
pub use extras::{Applied, Author, Change, Extras, Modification, ReplyTo};
pub use transfer::Attachment;

/// How to reach an account's server when SRV records are not enough.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerOverride {
    /// Host name or IP address to connect to instead of the SRV lookup.
    pub host: Option<String>,
    /// Port to use with `host` (5222 for STARTTLS when unset).
    pub port: Option<u16>,
    /// Use direct TLS (XEP-0368) on `host:port` instead of STARTTLS.
    pub direct_tls: bool,
}

/// Extra trust an account grants beyond the system roots. Never "verification off".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Trust {
    /// PEM text of additional root certificates trusted for this account only.
    pub extra_roots_pem: Option<String>,
    /// SHA-256 fingerprints (lower-case hex, no separators) of server certificates the
    /// user accepted explicitly for this account.
    pub pinned_sha256: Vec<String>,
}

/// An account as stored on disk: no secret ever lives here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub jid: BareJid,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub server: ServerOverride,
    #[serde(default)]
    pub trust: Trust,
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Place in the account list (ascending).
    #[serde(default)]
    pub position: u32,
    /// A colour the user chose; `None` means the XEP-0392 colour of the address.
    #[serde(default)]
    pub color: Option<[u8; 3]>,
}

fn default_true() -> bool {
    true
}

impl Account {
    pub fn new(jid: BareJid) -> Self {
        Account {
            id: AccountId::generate(),
            jid,
            display_name: None,
            server: ServerOverride::default(),
            trust: Trust::default(),
            enabled: true,
            position: 0,
            color: None,
        }
    }

    /// The account's colour: the user's choice, else XEP-0392 of the address.
    pub fn colour(&self) -> [u8; 3] {
        self.color
            .unwrap_or_else(|| crate::colors::consistent_color(self.jid.as_str()))
    }

    /// What the UI calls this account.
    pub fn label(&self) -> String {
        self.display_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| self.jid.to_string())
    }
}

/// Availability, ordered from most to least available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Show {
    Chat,
    Online,
    Away,
    ExtendedAway,
    DoNotDisturb,
    Offline,
}

/// Roster subscription state (RFC 6121).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Subscription {
    #[default]
    None,
    To,
    From,
    Both,
}

/// A roster entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub jid: BareJid,
    pub name: Option<String>,
    pub subscription: Subscription,
    /// We asked for their presence and they have not answered yet.
    pub pending_out: bool,
    pub groups: Vec<String>,
}

impl Contact {
    pub fn label(&self) -> String {
        self.name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| self.jid.to_string())
    }
}

/// Who wrote a message, seen from our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    Incoming,
    Outgoing,
}

/// Where an outgoing message is on its way to the other person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Delivery {
    /// Stored locally, not yet handed to the server.
    Pending,
    /// Written to the stream.
    Sent,
    /// The server acknowledged it (XEP-0198).
    Acked,
    /// The recipient's client confirmed it (XEP-0184).
    Delivered,
    /// The recipient displayed it (XEP-0333).
    Read,
    /// An error came back; the text says why in plain words.
    Failed(String),
}

/// One stored message. Incoming messages have `Delivery::Delivered`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "record::Record", into = "record::Record")]
pub struct ChatMessage {
    /// Our local key; equals the stanza id and origin-id for messages we sent.
    pub id: LocalMessageId,
    pub account: AccountId,
    /// The chat, room or room private chat it belongs to.
    pub conversation: ConversationId,
    pub direction: Direction,
    /// Display name of the sender (the nick in rooms); empty means "the peer" or "me".
    pub sender: String,
    pub body: String,
    /// Unix time in milliseconds (from XEP-0203 delay when present).
    pub timestamp_ms: i64,
    /// The `id` attribute of the stanza.
    pub stanza_id_attr: Option<String>,
    /// XEP-0359 origin-id.
    pub origin_id: Option<String>,
    /// XEP-0359 stanza-id assigned by our server (only when trusted).
    pub server_id: Option<String>,
    pub delivery: Delivery,
    /// A file the message points at (XEP-0066 / HTTP upload); absent in old records.
    pub attachment: Option<Box<Attachment>>,
    /// The body was longer than Loquat stores (`xmpp::message::MAX_BODY_BYTES`) and was
    /// cut there; the timeline says so.
    pub truncated: bool,
    /// Corrections, reactions, retraction, reply reference (see [`extras`]).
    pub extras: Extras,
}

impl ChatMessage {
    /// The conversation, owned (for keys and commands).
    pub fn conversation(&self) -> ConversationId {
        self.conversation.clone()
    }

    /// The contact's or room's bare address (a room private chat's room).
    pub fn peer(&self) -> &BareJid {
        self.conversation.jid()
    }
}

/// How a message is written in the store: the fields of the first version, so records
/// written by every version still load and older versions can read new ones.
mod record {
    use super::*;

    #[derive(Serialize, Deserialize)]
    pub(super) struct Record {
        id: LocalMessageId,
        account: AccountId,
        /// Bare JID of the conversation partner (or room).
        peer: BareJid,
        is_room: bool,
        direction: Direction,
        sender: String,
        body: String,
        timestamp_ms: i64,
        stanza_id_attr: Option<String>,
        origin_id: Option<String>,
        server_id: Option<String>,
        delivery: Delivery,
        #[serde(default)]
        attachment: Option<Box<Attachment>>,
        /// A private message with one occupant of the room `peer`: their nick.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        private_nick: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        truncated: bool,
        #[serde(default, skip_serializing_if = "Extras::is_empty")]
        extras: Extras,
    }

    impl From<Record> for ChatMessage {
        fn from(r: Record) -> Self {
            let conversation = match (r.private_nick, r.is_room) {
                (Some(nick), _) => ConversationId::Private { room: r.peer, nick },
                (None, true) => ConversationId::Room(r.peer),
                (None, false) => ConversationId::Chat(r.peer),
            };
            ChatMessage {
                id: r.id,
                account: r.account,
                conversation,
                direction: r.direction,
                sender: r.sender,
                body: r.body,
                timestamp_ms: r.timestamp_ms,
                stanza_id_attr: r.stanza_id_attr,
                origin_id: r.origin_id,
                server_id: r.server_id,
                delivery: r.delivery,
                attachment: r.attachment,
                truncated: r.truncated,
                extras: r.extras,
            }
        }
    }

    impl From<ChatMessage> for Record {
        fn from(m: ChatMessage) -> Self {
            // A private chat is stored under its room with the occupant's nick, and
            // `is_room` false, as the first version wrote it.
            let (peer, is_room, private_nick) = match m.conversation {
                ConversationId::Chat(peer) => (peer, false, None),
                ConversationId::Room(room) => (room, true, None),
                ConversationId::Private { room, nick } => (room, false, Some(nick)),
            };
            Record {
                id: m.id,
                account: m.account,
                peer,
                is_room,
                direction: m.direction,
                sender: m.sender,
                body: m.body,
                timestamp_ms: m.timestamp_ms,
                stanza_id_attr: m.stanza_id_attr,
                origin_id: m.origin_id,
                server_id: m.server_id,
                delivery: m.delivery,
                attachment: m.attachment,
                private_nick,
                truncated: m.truncated,
                extras: m.extras,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_without_the_truncated_flag_still_load_and_whole_ones_do_not_store_it() {
        let peer = BareJid::new("bob@example.org").unwrap();
        let message = ChatMessage {
            id: LocalMessageId("m1".into()),
            account: AccountId("acc".into()),
            conversation: ConversationId::Chat(peer),
            direction: Direction::Incoming,
            sender: String::new(),
            body: "hi".into(),
            timestamp_ms: 1,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
            truncated: false,
            extras: Extras::default(),
        };
        let json = serde_json::to_string(&message).unwrap();
        assert!(!json.contains("truncated"), "{json}");
        let old: ChatMessage = serde_json::from_str(&json).unwrap();
        assert_eq!(old, message, "a record from before the flag loads as whole");
        let cut = ChatMessage {
            truncated: true,
            ..message
        };
        let json = serde_json::to_string(&cut).unwrap();
        let back: ChatMessage = serde_json::from_str(&json).unwrap();
        assert!(back.truncated);
    }

    #[test]
    fn every_kind_of_conversation_is_stored_as_the_first_version_wrote_it() {
        // A record of a room private chat as version 0.1 wrote it.
        let old = r#"{"id":"m2","account":"acc","peer":"room@muc.example.org","is_room":false,
            "direction":"Incoming","sender":"bob","body":"psst","timestamp_ms":5,
            "stanza_id_attr":null,"origin_id":null,"server_id":null,"delivery":"Delivered",
            "private_nick":"bob"}"#;
        let private: ChatMessage = serde_json::from_str(old).unwrap();
        let room = BareJid::new("room@muc.example.org").unwrap();
        assert_eq!(
            private.conversation,
            ConversationId::Private {
                room: room.clone(),
                nick: "bob".into()
            }
        );
        for conversation in [
            ConversationId::Chat(BareJid::new("bob@example.org").unwrap()),
            ConversationId::Room(room.clone()),
            private.conversation.clone(),
        ] {
            let message = ChatMessage {
                conversation: conversation.clone(),
                ..private.clone()
            };
            let json: serde_json::Value = serde_json::to_value(&message).unwrap();
            assert_eq!(json["peer"], conversation.jid().to_string());
            assert_eq!(json["is_room"], conversation.is_room());
            let back: ChatMessage = serde_json::from_value(json).unwrap();
            assert_eq!(back.conversation, conversation);
        }
    }
}
