//! Typed identifiers shared by every layer. Plain data, no I/O.

use serde::{Deserialize, Serialize};
use std::fmt;
use xmpp_parsers::jid::BareJid;

/// A local account, stable across renames and password changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountId(pub String);

impl AccountId {
    /// A fresh random id for a new account.
    pub fn generate() -> Self {
        AccountId(uuid::Uuid::new_v4().simple().to_string())
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a conversation is with: one person (1:1 chat) or a group chat room.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConversationId {
    Chat(BareJid),
    Room(BareJid),
    /// Private messages with one occupant of a room (`room@service/nick`): their own
    /// conversation, never the room's and never a chat with the room's bare address.
    Private {
        room: BareJid,
        nick: String,
    },
}

impl ConversationId {
    pub fn jid(&self) -> &BareJid {
        match self {
            ConversationId::Chat(j) | ConversationId::Room(j) => j,
            ConversationId::Private { room, .. } => room,
        }
    }

    /// A group chat's own conversation (not a private one with an occupant).
    pub fn is_room(&self) -> bool {
        matches!(self, ConversationId::Room(_))
    }

    /// A room, or a private chat with one of its occupants: what happens inside a room.
    pub fn in_room(&self) -> bool {
        !matches!(self, ConversationId::Chat(_))
    }

    /// The occupant's nick in a private chat inside a room.
    pub fn private_nick(&self) -> Option<&str> {
        match self {
            ConversationId::Private { nick, .. } => Some(nick),
            _ => None,
        }
    }

    /// Stable text form used as a storage key component.
    pub fn key(&self) -> String {
        match self {
            ConversationId::Chat(j) => format!("c:{j}"),
            ConversationId::Room(j) => format!("r:{j}"),
            ConversationId::Private { room, nick } => format!("p:{room}/{nick}"),
        }
    }

    /// Parses the output of [`ConversationId::key`].
    pub fn from_key(key: &str) -> Option<Self> {
        let (kind, jid) = key.split_once(':')?;
        if kind == "p" {
            // A bare address has no '/': the nick is everything after the first one.
            let (room, nick) = jid.split_once('/')?;
            return Some(ConversationId::Private {
                room: BareJid::new(room).ok()?,
                nick: nick.to_owned(),
            });
        }
        let jid = BareJid::new(jid).ok()?;
        match kind {
            "c" => Some(ConversationId::Chat(jid)),
            "r" => Some(ConversationId::Room(jid)),
            _ => None,
        }
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConversationId::Private { room, nick } => write!(f, "{room}/{nick}"),
            other => f.write_str(other.jid().as_str()),
        }
    }
}

/// Our own id for a message: used as the stanza `id` and the XEP-0359 origin-id of
/// messages we send, and as the local key of every stored message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LocalMessageId(pub String);

impl LocalMessageId {
    pub fn generate() -> Self {
        LocalMessageId(uuid::Uuid::new_v4().to_string())
    }
}

impl fmt::Display for LocalMessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_key_round_trips() {
        let jid = BareJid::new("alice@example.org").unwrap();
        let private = ConversationId::Private {
            room: BareJid::new("tea@conference.example.org").unwrap(),
            nick: "Bob / the builder".into(),
        };
        for id in [
            ConversationId::Chat(jid.clone()),
            ConversationId::Room(jid.clone()),
            private,
        ] {
            assert_eq!(ConversationId::from_key(&id.key()), Some(id));
        }
        assert_eq!(ConversationId::from_key("x:alice@example.org"), None);
        assert_eq!(ConversationId::from_key("garbage"), None);
        assert_eq!(
            ConversationId::from_key("p:tea@conference.example.org"),
            None
        );
        // A room's private conversation never equals the chat with its bare address.
        assert_ne!(
            ConversationId::from_key("p:tea@conference.example.org/bob"),
            Some(ConversationId::Chat(
                BareJid::new("tea@conference.example.org").unwrap()
            ))
        );
    }
}
