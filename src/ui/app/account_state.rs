//! What the UI knows about one account: its connection, roster, presences, pending
//! contact requests and conversation list. Plain state and pure logic, no widgets.

use crate::ids::{ConversationId, LocalMessageId};
use crate::model::{Account, ChatMessage, Contact, Delivery, Direction, Show};
use crate::session::SessionError;
use crate::store::ConversationSummary;
use std::collections::{BTreeMap, HashMap, VecDeque};
use xmpp_parsers::jid::{BareJid, FullJid, Jid};

/// Where the session of an account stands, as shown to the user.
#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    /// No password known yet: nothing runs until the user types it.
    WaitingForPassword,
    Connecting {
        attempt: u32,
    },
    Online {
        bound: FullJid,
    },
    Disconnected {
        error: SessionError,
        retry_in_secs: Option<u64>,
    },
    /// Stopped for good until the user asks to reconnect.
    Failed(SessionError),
}

/// One line of the conversation list: a chat or a group chat room.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationEntry {
    pub peer: BareJid,
    /// A group chat room (opens the room view; its preview names the sender).
    pub room: bool,
    pub last_activity_ms: i64,
    pub last_body: String,
    /// The last message shared a file: the list says so instead of its URL.
    pub last_file: Option<LastFile>,
    pub unread: u32,
    /// Of the unread messages of a room, those that mention our nickname.
    pub mentions: u32,
}

/// A file in the last message of a conversation, as the list previews it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastFile {
    /// An image ("🖼 Photo").
    Photo,
    /// Another file, by name ("📎 name").
    File(String),
}

/// The preview of a message in the list: rooms say who wrote it. With a file, the
/// body is only that prefix (the file is in [`last_file`]).
fn list_body(message: &ChatMessage) -> String {
    let body = if message.attachment.is_some() {
        ""
    } else {
        message.body.as_str()
    };
    if message.conversation.is_room() && !message.sender.is_empty() {
        format!("{}: {}", crate::notify::shown_name(&message.sender), body)
    } else {
        body.to_owned()
    }
}

/// The file of a message, for the list.
pub fn last_file(message: &ChatMessage) -> Option<LastFile> {
    let file = message.attachment.as_deref()?;
    Some(if file.is_image() {
        LastFile::Photo
    } else {
        LastFile::File(file.name.clone())
    })
}

/// A contact's availability, aggregated over its resources.
#[derive(Debug, Clone, PartialEq)]
pub struct Availability {
    pub show: Show,
    pub status: Option<String>,
}

/// Everything about one account the screens need.
#[derive(Debug, Clone)]
pub struct AccountState {
    pub account: Account,
    /// Kept in memory for the session; never written anywhere by the UI.
    pub password: Option<String>,
    /// Bumped to force a fresh session (the subscription key changes).
    pub generation: u64,
    pub connection: Connection,
    pub contacts: BTreeMap<BareJid, Contact>,
    /// Bounded against floods (`model::presences`).
    presences: crate::model::presences::PresenceBook<Availability>,
    pub requests: Vec<BareJid>,
    /// Who the account blocks, and what its server offers (XEP-0191, XEP-0377).
    pub blocking: crate::quiet::Blocking,
    pub conversations: Vec<ConversationEntry>,
    /// The latest messages of each conversation seen in this run, so a conversation
    /// opens with them at once (and still shows them when there is no store).
    recent: HashMap<BareJid, VecDeque<ChatMessage>>,
    pub own_show: Show,
    pub own_status: String,
    /// PLAIN login allowed for this account (its store preference, read at start-up).
    pub allow_plain: bool,
    /// The sign-in form's session, signed in and waiting for the account's subscription
    /// to take it up (`session::handover`); empty otherwise.
    pub handover: crate::session::handover::Handover,
    /// The key sealing the account's OMEMO state, from the keyring at start-up; OMEMO is
    /// off without one (no keyring, or an account added in this run until the next start).
    pub omemo_key: Option<crate::omemo::AtRestKey>,
    /// Who shows which avatar (thumbnail files from the session; issue #18).
    pub avatars: crate::ui::widgets::avatar::Faces,
}

/// How many messages per conversation are kept in memory.
const RECENT: usize = 200;

impl AccountState {
    pub fn new(account: Account, password: Option<String>) -> Self {
        let connection = if password.is_some() {
            Connection::Connecting { attempt: 0 }
        } else {
            Connection::WaitingForPassword
        };
        AccountState {
            account,
            password,
            generation: 0,
            connection,
            contacts: BTreeMap::new(),
            presences: Default::default(),
            requests: Vec::new(),
            blocking: Default::default(),
            conversations: Vec::new(),
            recent: HashMap::new(),
            own_show: Show::Online,
            own_status: String::new(),
            allow_plain: false,
            handover: Default::default(),
            omemo_key: None,
            avatars: Default::default(),
        }
    }

    /// Should a session run for this account?
    pub fn wants_session(&self) -> bool {
        self.account.enabled && self.password.is_some()
    }

    /// Start over with a fresh session (after a failure or a new password).
    pub fn reconnect(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.connection = if self.password.is_some() {
            Connection::Connecting { attempt: 0 }
        } else {
            Connection::WaitingForPassword
        };
    }

    pub fn is_online(&self) -> bool {
        matches!(self.connection, Connection::Online { .. })
    }

    pub fn set_roster(&mut self, contacts: Vec<Contact>) {
        self.contacts = contacts.into_iter().map(|c| (c.jid.clone(), c)).collect();
    }

    pub fn upsert_contact(&mut self, contact: Contact) {
        self.contacts.insert(contact.jid.clone(), contact);
    }

    pub fn remove_contact(&mut self, jid: &BareJid) {
        self.contacts.remove(jid);
    }

    /// What the UI calls this peer: the roster name, else the address.
    pub fn peer_label(&self, jid: &BareJid) -> String {
        self.contacts
            .get(jid)
            .map(Contact::label)
            .unwrap_or_else(|| jid.to_string())
    }

    pub fn in_roster(&self, jid: &BareJid) -> bool {
        self.contacts.contains_key(jid)
    }

    /// Records the presence of one resource.
    pub fn set_presence(&mut self, from: &Jid, show: Show, status: Option<String>) {
        let in_roster = self.contacts.contains_key(&from.to_bare());
        let value = (show != Show::Offline).then_some(Availability { show, status });
        self.presences.set(from, value, in_roster);
    }

    /// The most available resource wins; no resource means offline.
    pub fn availability(&self, jid: &BareJid) -> Availability {
        self.presences
            .resources(jid)
            .min_by_key(|a| a.show)
            .cloned()
            .unwrap_or(Availability {
                show: Show::Offline,
                status: None,
            })
    }

    /// The session ended: nobody is known to be online any more.
    /// The online clients of `jid` (full JIDs), for the profile panel.
    pub fn online_clients(&self, jid: &BareJid) -> Vec<xmpp_parsers::jid::FullJid> {
        self.presences
            .resource_names(jid)
            .filter_map(|r| jid.with_resource_str(r).ok())
            .collect()
    }

    pub fn clear_presences(&mut self) {
        self.presences.clear();
    }

    pub fn add_request(&mut self, from: BareJid) {
        crate::model::presences::add_request(&mut self.requests, from);
    }

    /// A chat with `peer` is a request (quiet box): not a contact, not ourselves.
    pub fn is_request(&self, peer: &BareJid) -> bool {
        crate::quiet::is_request(
            &ConversationId::Chat(peer.clone()),
            &self.account.jid,
            self.in_roster(peer),
        )
    }

    /// The conversations that are requests (not blocked), newest first.
    pub fn request_entries(&self) -> impl Iterator<Item = &ConversationEntry> {
        self.conversations
            .iter()
            .filter(|c| !c.room && self.is_request(&c.peer) && !self.blocking.blocks(&c.peer))
    }

    /// The blocklist arrived or changed: blocked people's contact requests go.
    pub fn set_blocking(&mut self, blocking: crate::quiet::Blocking) {
        self.blocking = blocking;
        let blocking = &self.blocking;
        self.requests.retain(|j| !blocking.blocks(j));
    }

    /// Forget a conversation (a request deleted): its line goes.
    pub fn forget_conversation(&mut self, peer: &BareJid) {
        self.conversations.retain(|c| c.room || &c.peer != peer);
        self.recent.remove(peer);
    }

    pub fn remove_request(&mut self, from: &BareJid) {
        self.requests.retain(|j| j != from);
    }

    /// Fills the conversation list from the store at start-up.
    pub fn set_conversations(&mut self, summaries: Vec<ConversationSummary>) {
        self.conversations = summaries
            .into_iter()
            // Private messages in rooms live with their room, not in this list.
            .filter(|s| !matches!(s.conversation, crate::ids::ConversationId::Private { .. }))
            .map(|s| ConversationEntry {
                peer: s.conversation.jid().clone(),
                room: matches!(s.conversation, ConversationId::Room(_)),
                last_activity_ms: s.last.as_ref().map(|m| m.timestamp_ms).unwrap_or(0),
                last_body: s.last.as_ref().map(list_body).unwrap_or_default(),
                last_file: s.last.as_ref().and_then(last_file),
                unread: s.unread,
                mentions: 0,
            })
            .collect();
        self.sort_conversations();
    }

    /// A message arrived or was sent: move its conversation up. Returns true when it
    /// counts as unread (incoming, and the conversation is not the one on screen).
    pub fn note_message(&mut self, message: &ChatMessage, is_open: bool) -> bool {
        let unread = message.direction == Direction::Incoming && !is_open;
        match self
            .conversations
            .iter_mut()
            .find(|c| &c.peer == message.peer())
        {
            Some(entry) => {
                entry.room = message.conversation.is_room();
                if message.timestamp_ms >= entry.last_activity_ms {
                    entry.last_activity_ms = message.timestamp_ms;
                    entry.last_body = list_body(message);
                    entry.last_file = last_file(message);
                }
                if unread {
                    entry.unread = entry.unread.saturating_add(1);
                }
            }
            None => self.conversations.push(ConversationEntry {
                peer: message.peer().clone(),
                room: message.conversation.is_room(),
                last_activity_ms: message.timestamp_ms,
                last_body: list_body(message),
                last_file: last_file(message),
                unread: u32::from(unread),
                mentions: 0,
            }),
        }
        self.sort_conversations();
        unread
    }

    /// Keeps a message of this run in memory.
    pub fn remember(&mut self, message: &ChatMessage) {
        let recent = self.recent.entry(message.peer().clone()).or_default();
        if recent.iter().any(|m| m.id == message.id) {
            return;
        }
        recent.push_back(message.clone());
        while recent.len() > RECENT {
            recent.pop_front();
        }
    }

    /// The messages of this run with `peer`, in arrival order.
    pub fn recent(&self, peer: &BareJid) -> impl Iterator<Item = &ChatMessage> {
        self.recent.get(peer).into_iter().flatten()
    }

    pub fn set_delivery(&mut self, id: &LocalMessageId, state: &Delivery) {
        if let Some(message) = self.recent.values_mut().flatten().find(|m| &m.id == id) {
            message.delivery = state.clone();
        }
    }

    /// An unread room message mentions our nickname.
    pub fn note_mention(&mut self, room: &BareJid) {
        if let Some(entry) = self.conversations.iter_mut().find(|c| &c.peer == room) {
            entry.mentions = entry.mentions.saturating_add(1).min(entry.unread);
        }
    }

    /// At start-up: how many of a room's unread messages mention us (counted from its
    /// stored history).
    pub fn set_mentions(&mut self, room: &BareJid, mentions: u32) {
        if let Some(entry) = self.conversations.iter_mut().find(|c| &c.peer == room) {
            entry.mentions = mentions.min(entry.unread);
        }
    }

    /// Is this peer a group chat room of this account (as far as the list knows)?
    pub fn is_room(&self, peer: &BareJid) -> bool {
        self.conversations.iter().any(|c| c.room && &c.peer == peer)
    }

    pub fn mark_read(&mut self, peer: &BareJid) {
        if let Some(entry) = self.conversations.iter_mut().find(|c| &c.peer == peer) {
            entry.unread = 0;
            entry.mentions = 0;
        }
    }

    /// What the title and tray count: unread chat messages, and the messages of rooms
    /// that mention us (ordinary room traffic only shows on the room's line).
    /// Unread messages that call for attention (title, tray, account badges): not
    /// those of requests from strangers, which wait quietly (`crate::quiet`).
    pub fn unread_total(&self) -> u32 {
        self.conversations
            .iter()
            .filter(|c| c.room || !self.is_request(&c.peer))
            .map(|c| if c.room { c.mentions } else { c.unread })
            .sum()
    }

    fn sort_conversations(&mut self) {
        self.conversations
            .sort_by_key(|c| std::cmp::Reverse(c.last_activity_ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, LocalMessageId};
    use crate::model::Delivery;

    fn state() -> AccountState {
        let jid = BareJid::new("me@example.org").unwrap();
        AccountState::new(Account::new(jid), Some("pw".into()))
    }

    fn message(peer: &str, ts: i64, direction: Direction) -> ChatMessage {
        ChatMessage {
            truncated: false,
            extras: Default::default(),
            id: LocalMessageId::generate(),
            account: AccountId("a".into()),
            conversation: ConversationId::Chat(BareJid::new(peer).unwrap()),
            direction,
            sender: String::new(),
            body: format!("at {ts}"),
            timestamp_ms: ts,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
        }
    }

    #[test]
    fn presence_aggregates_over_resources() {
        let mut s = state();
        let bob = BareJid::new("bob@example.org").unwrap();
        let phone = Jid::new("bob@example.org/phone").unwrap();
        let laptop = Jid::new("bob@example.org/laptop").unwrap();
        assert_eq!(s.availability(&bob).show, Show::Offline);
        s.set_presence(&phone, Show::Away, None);
        s.set_presence(&laptop, Show::DoNotDisturb, Some("busy".into()));
        assert_eq!(s.availability(&bob).show, Show::Away);
        s.set_presence(&phone, Show::Offline, None);
        assert_eq!(s.availability(&bob).show, Show::DoNotDisturb);
        assert_eq!(s.availability(&bob).status.as_deref(), Some("busy"));
        s.set_presence(&laptop, Show::Offline, None);
        assert_eq!(s.availability(&bob).show, Show::Offline);
    }

    #[test]
    fn recent_conversations_come_first_and_count_unread() {
        let mut s = state();
        for peer in ["a@x.org", "b@x.org", "c@x.org"] {
            s.upsert_contact(Contact {
                jid: BareJid::new(peer).unwrap(),
                name: None,
                subscription: crate::model::Subscription::Both,
                pending_out: false,
                groups: Vec::new(),
            });
        }
        assert!(s.note_message(&message("a@x.org", 10, Direction::Incoming), false));
        assert!(!s.note_message(&message("b@x.org", 20, Direction::Outgoing), false));
        assert!(!s.note_message(&message("c@x.org", 5, Direction::Incoming), true));
        let order: Vec<String> = s.conversations.iter().map(|c| c.peer.to_string()).collect();
        assert_eq!(order, ["b@x.org", "a@x.org", "c@x.org"]);
        assert_eq!(s.unread_total(), 1);
        s.mark_read(&BareJid::new("a@x.org").unwrap());
        assert_eq!(s.unread_total(), 0);
    }

    /// A stranger's unread chat is a request: it waits quietly, out of the count.
    #[test]
    fn requests_do_not_count_as_unread() {
        let mut s = state();
        s.note_message(&message("stranger@x.org", 10, Direction::Incoming), false);
        assert_eq!(s.request_entries().count(), 1);
        assert_eq!(s.unread_total(), 0);
        s.upsert_contact(Contact {
            jid: BareJid::new("stranger@x.org").unwrap(),
            name: None,
            subscription: crate::model::Subscription::None,
            pending_out: true,
            groups: Vec::new(),
        });
        assert_eq!(s.request_entries().count(), 0);
        assert_eq!(s.unread_total(), 1, "accepted: it counts");
    }
}
