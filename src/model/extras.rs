//! What modern XMPP adds to a stored message after it arrived: corrections (XEP-0308),
//! reactions (XEP-0444), retraction and moderation (XEP-0424 / XEP-0425), and the
//! message a reply refers to (XEP-0461). Plain data and the rules that change it; no I/O.
//!
//! Every change is applied idempotently and, where the stanzas carry a time, order
//! independently: the live copy and the archive's copy of the same stanza change a
//! message once, and an older reaction never replaces a newer one.

use super::{ChatMessage, Direction};
use crate::ids::{AccountId, ConversationId};
use serde::{Deserialize, Serialize};

/// The additions to one message; absent in records written before they existed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Extras {
    /// Every text the message had, oldest first, once it was corrected (empty while it
    /// was not): the last one is `ChatMessage::body`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<Version>,
    /// The newest set of reactions of each reactor (empty sets are removed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reactions>,
    /// Retracted by its sender or removed by a moderator: the text is gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retracted: Option<Retraction>,
    /// The message this one replies to (XEP-0461).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyTo>,
    /// The sender's occupant id in a room that stamps them (XEP-0421): who may correct
    /// or retract it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occupant_id: Option<String>,
}

impl Extras {
    pub fn is_empty(&self) -> bool {
        *self == Extras::default()
    }
}

/// One text of a corrected message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub body: String,
    /// When this text was written (the original's time for the first one).
    pub at_ms: i64,
    /// The id of the correction stanza (`None` for the original text), so the same
    /// correction seen twice (live and from the archive) counts once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// One reactor's reactions to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reactions {
    /// Who, as a stable key: a bare JID in chats, `oid:<occupant id>` or `nick:<nick>`
    /// in rooms.
    pub reactor: String,
    /// What the UI calls them (a nick in rooms; empty in chats).
    #[serde(default)]
    pub name: String,
    /// Reactions from this account (any of its devices).
    #[serde(default)]
    pub mine: bool,
    pub emojis: Vec<String>,
    /// Time of the reaction stanza; a stanza older than this one changes nothing.
    pub at_ms: i64,
}

/// Why a message has no text any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retraction {
    pub at_ms: i64,
    /// Removed by a room moderator (XEP-0425) rather than by its sender.
    #[serde(default)]
    pub moderated: bool,
    /// The moderator, as the room names them (a nick or an address), when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The message a reply refers to: its id (the room's stanza-id in rooms, the sender's
/// id in chats) and, when given, who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTo {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Our replies only: the quote sent before the body for clients without replies
    /// (kept so a resend carries the same one; removed with the text on retraction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

/// Who sent a change: checked against who sent the message it changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub direction: Direction,
    /// The nick in rooms; empty in chats.
    #[serde(default)]
    pub nick: String,
    #[serde(default)]
    pub occupant_id: Option<String>,
}

/// What a change stanza does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// XEP-0308: the new text; `id` is the correction stanza's own id.
    Correct { body: String, id: Option<String> },
    /// XEP-0444: the reactor's whole set now (empty removes theirs).
    React {
        reactor: String,
        name: String,
        emojis: Vec<String>,
    },
    /// XEP-0424: the sender takes it back.
    Retract,
    /// XEP-0425: the room removed it.
    Moderate {
        by: Option<String>,
        reason: Option<String>,
    },
}

/// A change to a message we may not have yet (found by `target`, any of its ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Modification {
    pub account: AccountId,
    #[serde(with = "conversation_key")]
    pub conversation: ConversationId,
    /// The id the stanza names: a stanza id, an origin-id or a server's stanza-id.
    pub target: String,
    pub author: Author,
    pub change: Change,
    /// When it was sent (archive or server delay) or arrived.
    pub at_ms: i64,
}

/// A conversation as its storage key text (`ConversationId::key`).
pub(crate) mod conversation_key {
    use crate::ids::ConversationId;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(c: &ConversationId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&c.key())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ConversationId, D::Error> {
        let text = String::deserialize(d)?;
        ConversationId::from_key(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a conversation: {text}")))
    }
}

/// What applying a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Changed,
    /// Already applied, or superseded by a newer one: nothing to do.
    Unchanged,
    /// The sender of the change may not change this message (logged by the caller).
    Refused,
}

impl Modification {
    /// Whether this change needs its author to be the message's sender.
    pub fn needs_same_sender(&self) -> bool {
        matches!(self.change, Change::Correct { .. } | Change::Retract)
    }
}

impl ChatMessage {
    /// Whether `author` is who sent this message: the same side in a chat; in a room
    /// the same occupant id when both have one, else the same nick.
    pub fn sent_by(&self, author: &Author) -> bool {
        if author.direction != self.direction {
            return false;
        }
        if !self.conversation.in_room() {
            return true;
        }
        match (&self.extras.occupant_id, &author.occupant_id) {
            (Some(a), Some(b)) => a == b,
            // Our own message as we stored it before the room told us our occupant id:
            // only we write under our nick at a time (direction comes from it).
            (None, Some(_)) if self.direction == Direction::Outgoing => self.sender == author.nick,
            // One side stamped and the other not: a room that started (or stopped)
            // stamping, or someone claiming a nick; the nick decides only when neither has one.
            (Some(_), None) | (None, Some(_)) => false,
            (None, None) => self.sender == author.nick,
        }
    }

    /// The message was corrected at least once.
    pub fn edited(&self) -> bool {
        self.extras.versions.len() > 1
    }

    /// Its texts before the current one, oldest first.
    pub fn earlier_versions(&self) -> &[Version] {
        let n = self.extras.versions.len().saturating_sub(1);
        self.extras.versions.get(..n).unwrap_or_default()
    }

    /// Applies one change (see the module rules).
    pub fn apply(&mut self, m: &Modification) -> Applied {
        if m.needs_same_sender() && !self.sent_by(&m.author) {
            return Applied::Refused;
        }
        match &m.change {
            Change::Correct { body, id } => self.correct(body, id.as_deref(), m.at_ms),
            Change::React {
                reactor,
                name,
                emojis,
            } => self.react(reactor, name, emojis, m.author.direction, m.at_ms),
            Change::Retract => self.retract(Retraction {
                at_ms: m.at_ms,
                moderated: false,
                by: None,
                reason: None,
            }),
            Change::Moderate { by, reason } => self.retract(Retraction {
                at_ms: m.at_ms,
                moderated: true,
                by: by.clone(),
                reason: reason.clone(),
            }),
        }
    }

    fn correct(&mut self, body: &str, id: Option<&str>, at_ms: i64) -> Applied {
        if self.extras.retracted.is_some() {
            return Applied::Unchanged;
        }
        let versions = &mut self.extras.versions;
        if id.is_some() && versions.iter().any(|v| v.id.as_deref() == id) {
            return Applied::Unchanged;
        }
        if versions.is_empty() {
            versions.push(Version {
                body: std::mem::take(&mut self.body),
                at_ms: self.timestamp_ms,
                id: None,
            });
        }
        versions.push(Version {
            body: body.to_owned(),
            at_ms,
            id: id.map(str::to_owned),
        });
        // The original stays first; corrections by time (arrival order on a tie).
        if let Some((_, rest)) = versions.split_first_mut() {
            rest.sort_by_key(|v| v.at_ms);
        }
        self.body = versions.last().map(|v| v.body.clone()).unwrap_or_default();
        Applied::Changed
    }

    fn react(
        &mut self,
        reactor: &str,
        name: &str,
        emojis: &[String],
        direction: Direction,
        at_ms: i64,
    ) -> Applied {
        let all = &mut self.extras.reactions;
        let mut unique: Vec<String> = Vec::new();
        for e in emojis {
            if !e.is_empty() && !unique.contains(e) {
                unique.push(e.clone());
            }
        }
        match all.iter().position(|r| r.reactor == reactor) {
            Some(i) => {
                let Some(old) = all.get(i) else {
                    return Applied::Unchanged;
                };
                if old.at_ms > at_ms || (old.at_ms == at_ms && old.emojis == unique) {
                    return Applied::Unchanged;
                }
                if unique.is_empty() {
                    all.remove(i);
                } else if let Some(old) = all.get_mut(i) {
                    old.emojis = unique;
                    old.at_ms = at_ms;
                    old.name = name.to_owned();
                }
            }
            None if unique.is_empty() => return Applied::Unchanged,
            None => all.push(Reactions {
                reactor: reactor.to_owned(),
                name: name.to_owned(),
                mine: direction == Direction::Outgoing,
                emojis: unique,
                at_ms,
            }),
        }
        Applied::Changed
    }

    fn retract(&mut self, why: Retraction) -> Applied {
        if self.extras.retracted.is_some() {
            return Applied::Unchanged;
        }
        // No text kept: neither the current one nor earlier versions nor a file link.
        self.body.clear();
        self.extras.versions.clear();
        self.attachment = None;
        if let Some(r) = &mut self.extras.reply_to {
            r.fallback = None;
        }
        self.extras.retracted = Some(why);
        Applied::Changed
    }
}

/// Who reacts, as [`Reactions::reactor`] keys them.
pub fn reactor_key(
    conversation: &ConversationId,
    direction: Direction,
    own: &str,
    nick: &str,
    occupant_id: Option<&str>,
) -> String {
    match conversation {
        ConversationId::Room(_) => match occupant_id {
            Some(o) => format!("oid:{o}"),
            None => format!("nick:{nick}"),
        },
        ConversationId::Chat(peer) => match direction {
            Direction::Outgoing => own.to_owned(),
            Direction::Incoming => peer.to_string(),
        },
        ConversationId::Private { nick: other, .. } => match direction {
            Direction::Outgoing => own.to_owned(),
            Direction::Incoming => format!("nick:{other}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::LocalMessageId;
    use crate::model::Delivery;
    use xmpp_parsers::jid::BareJid;

    fn msg(room: bool) -> ChatMessage {
        ChatMessage {
            id: LocalMessageId("m1".into()),
            account: AccountId("acc".into()),
            conversation: if room {
                ConversationId::Room(BareJid::new("bob@example.org").unwrap())
            } else {
                ConversationId::Chat(BareJid::new("bob@example.org").unwrap())
            },
            direction: Direction::Incoming,
            sender: if room { "bob".into() } else { String::new() },
            body: "helo".into(),
            timestamp_ms: 1_000,
            stanza_id_attr: Some("s1".into()),
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
            truncated: false,
            extras: Extras::default(),
        }
    }

    fn change(
        m: &ChatMessage,
        nick: &str,
        oid: Option<&str>,
        change: Change,
        at: i64,
    ) -> Modification {
        Modification {
            account: m.account.clone(),
            conversation: m.conversation(),
            target: "s1".into(),
            author: Author {
                direction: Direction::Incoming,
                nick: nick.into(),
                occupant_id: oid.map(str::to_owned),
            },
            change,
            at_ms: at,
        }
    }

    fn correct(body: &str, id: &str) -> Change {
        Change::Correct {
            body: body.into(),
            id: Some(id.into()),
        }
    }

    #[test]
    fn corrections_keep_versions_and_count_once_in_any_order() {
        let mut m = msg(false);
        let c1 = change(&m, "", None, correct("hello", "c1"), 2_000);
        let c2 = change(&m, "", None, correct("hello!", "c2"), 3_000);
        assert_eq!(m.apply(&c2), Applied::Changed);
        assert_eq!(m.apply(&c1), Applied::Changed);
        assert_eq!(m.apply(&c2), Applied::Unchanged, "the archive's copy");
        assert_eq!(m.body, "hello!", "the newest text wins whatever the order");
        assert!(m.edited());
        let earlier: Vec<&str> = m
            .earlier_versions()
            .iter()
            .map(|v| v.body.as_str())
            .collect();
        assert_eq!(earlier, ["helo", "hello"]);
    }

    #[test]
    fn only_the_sender_corrects_or_retracts() {
        let mut m = msg(false);
        let mut c = change(&m, "", None, correct("mine now", "c1"), 2_000);
        c.author.direction = Direction::Outgoing;
        assert_eq!(m.apply(&c), Applied::Refused);
        let mut r = change(&m, "", None, Change::Retract, 2_000);
        r.author.direction = Direction::Outgoing;
        assert_eq!(m.apply(&r), Applied::Refused);
        assert_eq!(m.body, "helo");

        // Rooms: another nick, or the same nick with another occupant id.
        let mut m = msg(true);
        m.extras.occupant_id = Some("OID-BOB".into());
        assert_eq!(
            m.apply(&change(&m, "mallory", Some("OID-M"), correct("x", "c"), 2)),
            Applied::Refused
        );
        assert_eq!(
            m.apply(&change(&m, "bob", Some("OID-M"), correct("x", "c"), 2)),
            Applied::Refused,
            "a nick taken over by someone else"
        );
        assert_eq!(
            m.apply(&change(&m, "bob", None, correct("x", "c"), 2)),
            Applied::Refused,
            "no occupant id where the original had one"
        );
        assert_eq!(
            m.apply(&change(
                &m,
                "bob-renamed",
                Some("OID-BOB"),
                correct("fixed", "c"),
                2
            )),
            Applied::Changed,
            "the same occupant under a new nick"
        );
        assert_eq!(m.body, "fixed");
    }

    #[test]
    fn a_newer_reaction_set_replaces_and_an_older_one_does_not() {
        let mut m = msg(false);
        let react = |e: &[&str]| Change::React {
            reactor: "bob@example.org".into(),
            name: String::new(),
            emojis: e.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(
            m.apply(&change(&m, "", None, react(&["👍", "👍", "🎉"]), 10)),
            Applied::Changed
        );
        assert_eq!(m.extras.reactions[0].emojis, ["👍", "🎉"]);
        assert_eq!(
            m.apply(&change(&m, "", None, react(&["❤"]), 5)),
            Applied::Unchanged
        );
        assert_eq!(
            m.apply(&change(&m, "", None, react(&["❤"]), 20)),
            Applied::Changed
        );
        assert_eq!(m.extras.reactions[0].emojis, ["❤"]);
        assert_eq!(
            m.apply(&change(&m, "", None, react(&[]), 30)),
            Applied::Changed
        );
        assert!(m.extras.reactions.is_empty());
    }

    #[test]
    fn a_retraction_keeps_no_text() {
        let mut m = msg(false);
        m.apply(&change(&m, "", None, correct("second", "c1"), 2));
        assert_eq!(
            m.apply(&change(&m, "", None, Change::Retract, 3)),
            Applied::Changed
        );
        assert!(m.body.is_empty() && m.extras.versions.is_empty());
        assert_eq!(
            m.apply(&change(&m, "", None, Change::Retract, 4)),
            Applied::Unchanged
        );
        assert_eq!(
            m.apply(&change(&m, "", None, correct("back", "c9"), 5)),
            Applied::Unchanged,
            "a retracted message is not brought back"
        );
        let json = serde_json::to_string(&m).unwrap();
        assert!(!json.contains("helo") && !json.contains("second"), "{json}");
    }

    #[test]
    fn old_records_load_and_plain_ones_do_not_store_extras() {
        let m = msg(false);
        let json = serde_json::to_string(&m).unwrap();
        assert!(!json.contains("extras"), "{json}");
        let back: ChatMessage = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }
}
