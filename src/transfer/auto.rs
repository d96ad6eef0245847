//! Which pictures are fetched on their own, and how many (issue #20, weakness 2).
//!
//! A picture nobody clicked is fetched only when it comes from someone we chose to
//! hear from: a contact in the roster (or ourselves), or a room we are in. Even then at
//! most [`Limits::at_once`] fetches run together (the rest wait in a short queue), and
//! one sender gets at most [`Limits::burst`] fetches, refilled at
//! [`Limits::per_minute`]: a contact posting hundreds of images costs a handful of
//! fetches, and the rest stay cards with a Download button.
//!
//! Pure bookkeeping, no I/O: the UI asks [`Gate::offer`] before it starts a fetch and
//! tells [`Gate::done`] when one ends.

use crate::model::{ChatMessage, Direction};
use std::collections::{HashMap, VecDeque};

/// How much automatic fetching is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fetches running together.
    pub at_once: usize,
    /// Fetches waiting for a free place; more are refused.
    pub queue: usize,
    /// Fetches one sender may start in a row.
    pub burst: u32,
    /// Fetches one sender regains per minute.
    pub per_minute: u32,
    /// Senders remembered (the oldest is forgotten first).
    pub senders: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            at_once: 3,
            queue: 32,
            burst: 8,
            per_minute: 6,
            senders: 512,
        }
    }
}

/// Who a picture comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// One sender: a contact's bare JID, or `room/nick` in a room.
    pub sender: String,
    /// A contact in the roster, ourselves, or a room we are in.
    pub known: bool,
}

impl Origin {
    /// Where `message` comes from. `in_roster`: its peer is in the account's roster;
    /// `in_room`: its peer is a room we are in now.
    pub fn of(message: &ChatMessage, in_roster: bool, in_room: bool) -> Origin {
        let ours = message.direction == Direction::Outgoing;
        if message.conversation.in_room() {
            let nick = message
                .conversation
                .private_nick()
                .unwrap_or(message.sender.as_str());
            Origin {
                sender: format!("{}/{nick}", message.peer()),
                known: ours || in_room,
            }
        } else {
            Origin {
                sender: message.peer().to_string(),
                known: ours || in_roster,
            }
        }
    }
}

/// Why a picture is not fetched on its own (it stays a card the user may click).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("not from a contact or a room we are in")]
    Stranger,
    #[error("this sender sent more pictures than are fetched on their own")]
    TooOften,
    #[error("too many pictures are waiting to be fetched")]
    QueueFull,
}

/// What to do with an offered fetch.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict<T> {
    /// Start it now.
    Start(T),
    /// It waits; [`Gate::done`] hands it back when a place is free.
    Queued,
    Refused(Refusal),
}

/// A sender's allowance (a token bucket, in thousandths of a fetch).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    milli: u64,
    at_ms: i64,
}

/// Counts running fetches, holds waiting ones, and meters each sender.
#[derive(Debug)]
pub struct Gate<T> {
    limits: Limits,
    running: usize,
    waiting: VecDeque<T>,
    buckets: HashMap<String, Bucket>,
}

impl<T> Default for Gate<T> {
    fn default() -> Self {
        Gate::new(Limits::default())
    }
}

impl<T> Gate<T> {
    pub fn new(limits: Limits) -> Gate<T> {
        Gate {
            limits,
            running: 0,
            waiting: VecDeque::new(),
            buckets: HashMap::new(),
        }
    }

    /// Fetches running now.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Fetches waiting for a place.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Asks to fetch `item` from `origin` at `now_ms`.
    pub fn offer(&mut self, origin: &Origin, item: T, now_ms: i64) -> Verdict<T> {
        if !origin.known {
            return Verdict::Refused(Refusal::Stranger);
        }
        if self.running >= self.limits.at_once && self.waiting.len() >= self.limits.queue {
            return Verdict::Refused(Refusal::QueueFull);
        }
        if !self.take_token(&origin.sender, now_ms) {
            return Verdict::Refused(Refusal::TooOften);
        }
        if self.running < self.limits.at_once {
            self.running += 1;
            Verdict::Start(item)
        } else {
            self.waiting.push_back(item);
            Verdict::Queued
        }
    }

    /// One fetch ended; returns the next one to start, if any waits.
    pub fn done(&mut self) -> Option<T> {
        match self.waiting.pop_front() {
            Some(next) => Some(next),
            None => {
                self.running = self.running.saturating_sub(1);
                None
            }
        }
    }

    fn take_token(&mut self, sender: &str, now_ms: i64) -> bool {
        let full = u64::from(self.limits.burst) * 1000;
        if !self.buckets.contains_key(sender) && self.buckets.len() >= self.limits.senders {
            // Forget the sender seen longest ago (a full bucket again later: at worst
            // one more burst from someone who waited).
            if let Some(oldest) = self
                .buckets
                .iter()
                .min_by_key(|(_, b)| b.at_ms)
                .map(|(k, _)| k.clone())
            {
                self.buckets.remove(&oldest);
            }
        }
        let bucket = self.buckets.entry(sender.to_owned()).or_insert(Bucket {
            milli: full,
            at_ms: now_ms,
        });
        let elapsed = u64::try_from(now_ms.saturating_sub(bucket.at_ms)).unwrap_or(0);
        // per_minute fetches per 60,000 ms = per_minute thousandths per 60 ms.
        let regained = elapsed.saturating_mul(u64::from(self.limits.per_minute)) / 60;
        bucket.milli = bucket.milli.saturating_add(regained).min(full);
        bucket.at_ms = bucket.at_ms.max(now_ms);
        if bucket.milli >= 1000 {
            bucket.milli -= 1000;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(sender: &str) -> Origin {
        Origin {
            sender: sender.to_owned(),
            known: true,
        }
    }

    #[test]
    fn strangers_are_refused() {
        let mut g: Gate<u32> = Gate::default();
        let o = Origin {
            sender: "mallory@evil.example".into(),
            known: false,
        };
        assert_eq!(g.offer(&o, 1, 0), Verdict::Refused(Refusal::Stranger));
        assert_eq!(g.running(), 0);
    }

    #[test]
    fn at_most_n_at_once_the_rest_wait_then_start_in_order() {
        let mut g = Gate::new(Limits {
            at_once: 2,
            queue: 2,
            burst: 100,
            per_minute: 100,
            senders: 10,
        });
        let o = known("bob@example.org");
        assert_eq!(g.offer(&o, 1, 0), Verdict::Start(1));
        assert_eq!(g.offer(&o, 2, 0), Verdict::Start(2));
        assert_eq!(g.offer(&o, 3, 0), Verdict::Queued);
        assert_eq!(g.offer(&o, 4, 0), Verdict::Queued);
        assert_eq!(g.offer(&o, 5, 0), Verdict::Refused(Refusal::QueueFull));
        assert_eq!(g.running(), 2);
        assert_eq!(g.done(), Some(3));
        assert_eq!(g.done(), Some(4));
        assert_eq!(g.running(), 2);
        assert_eq!(g.done(), None);
        assert_eq!(g.done(), None);
        assert_eq!(g.running(), 0);
        assert_eq!(g.done(), None);
        assert_eq!(g.running(), 0, "never below zero");
    }

    #[test]
    fn one_sender_is_metered_and_regains_slowly_others_are_not_affected() {
        let mut g = Gate::new(Limits {
            at_once: 1000,
            queue: 0,
            burst: 3,
            per_minute: 6,
            senders: 10,
        });
        let bob = known("bob@example.org");
        for i in 0..3 {
            assert_eq!(g.offer(&bob, i, 0), Verdict::Start(i));
        }
        assert_eq!(g.offer(&bob, 9, 0), Verdict::Refused(Refusal::TooOften));
        assert_eq!(
            g.offer(&known("room@muc.example.org/alice"), 1, 0),
            Verdict::Start(1)
        );
        // Six a minute: one more after ten seconds, not after five.
        assert_eq!(g.offer(&bob, 9, 5_000), Verdict::Refused(Refusal::TooOften));
        assert_eq!(g.offer(&bob, 9, 10_000), Verdict::Start(9));
        assert_eq!(
            g.offer(&bob, 9, 10_001),
            Verdict::Refused(Refusal::TooOften)
        );
        // A long pause refills up to the burst, not beyond.
        for i in 0..3 {
            assert_eq!(g.offer(&bob, i, 3_600_000), Verdict::Start(i));
        }
        assert_eq!(
            g.offer(&bob, 9, 3_600_000),
            Verdict::Refused(Refusal::TooOften)
        );
    }

    #[test]
    fn remembered_senders_are_bounded() {
        let mut g = Gate::new(Limits {
            at_once: usize::MAX,
            queue: 0,
            burst: 1,
            per_minute: 1,
            senders: 16,
        });
        for i in 0..10_000 {
            let _ = g.offer(&known(&format!("s{i}@x")), (), i);
        }
        assert!(g.buckets.len() <= 16, "{}", g.buckets.len());
    }

    fn message(peer: &str, is_room: bool, sender: &str, direction: Direction) -> ChatMessage {
        ChatMessage {
            id: crate::ids::LocalMessageId("m".into()),
            account: crate::ids::AccountId("a".into()),
            conversation: {
                let peer = xmpp_parsers::jid::BareJid::new(peer).unwrap_or_else(|_| unreachable!());
                if is_room {
                    crate::ids::ConversationId::Room(peer)
                } else {
                    crate::ids::ConversationId::Chat(peer)
                }
            },
            direction,
            sender: sender.into(),
            body: String::new(),
            timestamp_ms: 0,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: crate::model::Delivery::Delivered,
            attachment: None,
            extras: Default::default(),
            truncated: false,
        }
    }

    #[test]
    fn origin_knows_contacts_rooms_we_are_in_and_ourselves() {
        let chat = message("bob@example.org", false, "", Direction::Incoming);
        assert!(Origin::of(&chat, true, false).known);
        assert!(!Origin::of(&chat, false, true).known, "a stranger's chat");
        assert_eq!(Origin::of(&chat, true, false).sender, "bob@example.org");
        let ours = message("bob@example.org", false, "", Direction::Outgoing);
        assert!(Origin::of(&ours, false, false).known);
        let room = message("r@muc.example.org", true, "alice", Direction::Incoming);
        assert!(Origin::of(&room, false, true).known);
        assert!(!Origin::of(&room, true, false).known, "a room we left");
        assert_eq!(
            Origin::of(&room, false, true).sender,
            "r@muc.example.org/alice"
        );
        let mut private = message("r@muc.example.org", false, "", Direction::Incoming);
        private.conversation = crate::ids::ConversationId::Private {
            room: private.peer().clone(),
            nick: "eve".into(),
        };
        assert!(!Origin::of(&private, false, false).known);
        assert_eq!(
            Origin::of(&private, false, true).sender,
            "r@muc.example.org/eve"
        );
    }
}
