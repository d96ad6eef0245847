//! One group chat room on screen: subject, messages with nicks in their XEP-0392
//! colours, joins/leaves/nick changes folded into compact lines, the occupant list with
//! roles and affiliations, and the room's true state (joining, in, kicked, lost…) with
//! the reason and a Rejoin button.

pub mod moderation;
mod view;

use crate::ids::{AccountId, LocalMessageId};
use crate::model::{ChatMessage, Delivery, Direction};
use crate::session::Command;
use crate::session::rooms::{Affiliation, Departure, MucError, Occupant, Role, RoomUpdate};
use crate::ui::i18n::{Lang, T, tr};
use crate::ui::room::edit_bar::{self, Edit};
use crate::ui::room::private::{self, Private};
use crate::ui::timeline;
use crate::ui::timeline::previews::Previews;
use crate::ui::timeline::transfers;
use iced::Element;
use iced::widget::text_editor;
use std::collections::{BTreeMap, HashSet};
use xmpp_parsers::jid::BareJid;

pub const COMPOSER_ID: &str = "room-composer";
/// The widget id of the room's message list.
pub const LIST_ID: &str = "room-list";

/// Where we stand with the room.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Joining,
    Joined,
    Out {
        departure: Departure,
        rejoin_in_secs: Option<u64>,
    },
    Failed(MucError),
}

/// Something that happened in the room, shown compactly between messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    Joined(String),
    Left(String),
    Nick { old: String, new: String },
}

/// Whether older messages can be asked for (from the store, then the room's archive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Older {
    #[default]
    Available,
    Loading,
    /// The beginning of the room's history.
    Exhausted,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Chat(Box<ChatMessage>),
    Notes(Vec<Note>),
}

#[derive(Debug, Clone)]
pub struct Room {
    /// Who is typing in the room (XEP-0085), by nick.
    pub typing: timeline::typing::Typing,
    /// When we last said we are typing.
    composing: timeline::typing::Composing,
    pub account: AccountId,
    pub jid: BareJid,
    pub nick: String,
    pub password: Option<String>,
    pub status: Status,
    pub subject: Option<String>,
    pub occupants: BTreeMap<String, Occupant>,
    pub lines: Vec<Line>,
    /// The multi-line composer (Enter sends, Shift+Enter adds a line).
    pub composer: text_editor::Content,
    /// The first message that was unread when the room was opened: the unread line
    /// shows above it.
    pub unread_from: Option<LocalMessageId>,
    /// Unread messages, and among them those that mention our nick.
    pub unread: u32,
    pub mentions: u32,
    /// We created this room (status 201): offer its settings.
    pub created: bool,
    /// The room lets every occupant change the subject.
    pub subject_open: bool,
    /// The subject, nick or invitation being edited.
    pub editing: Option<Edit>,
    /// What the room last refused (nick change, subject, invitation…).
    pub refusal: Option<MucError>,
    /// The last invitation sent, to confirm it.
    pub invited: Option<BareJid>,
    /// The owner's settings were saved (said once, until the next edit).
    pub saved: bool,
    /// The nickname we last asked for (to suggest another when it is taken).
    pub asked_nick: Option<String>,
    /// Private conversations with occupants, by nick; `private_open` is on screen.
    pub privates: BTreeMap<String, Private>,
    pub private_open: Option<String>,
    /// The "Load older messages" line at the top (set by the room's history pager).
    pub older: Older,
    /// The message list is scrolled to its newest end.
    pub following: bool,
    /// "Leave" was pressed: the choice (forget the bookmark or not) shows.
    pub leaving: bool,
    /// The occupant whose moderation box is open.
    pub moderating: Option<moderation::Moderating>,
    /// The owner pressed Destroy: the reason typed so far, until confirmed.
    pub destroying: Option<String>,
    /// Long messages the reader unfolded ("Show more"); the others show folded.
    pub unfolded: HashSet<LocalMessageId>,
    /// The "⋯" row, a question, editing or replying in the room.
    pub actions: timeline::actions::Actions,
    /// Opened at a message far back: the stretch of history shown.
    pub(in crate::ui) window: super::window::Window,
    /// The lock: OMEMO in this room (`super::lock`).
    pub encryption: crate::ui::chat::encryption::State,
    /// Occupants' pictures by nick (`super::faces`).
    pub faces: super::faces::Occupants,
    /// The occupant profile shown in place of the timeline.
    pub profile: Option<super::occupant_profile::State>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Rejoin,
    /// The composer's editor.
    Compose(text_editor::Action),
    Send,
    /// Something done in the timeline (a link, a file card, an image, attach...).
    Timeline(timeline::Message),
    /// A transfer card's button.
    Transfers(transfers::Message),
    /// The header's Leave: asks whether to forget the bookmark.
    Leave,
    /// Leave and forget the bookmark (`Some(true)`), leave for now (`Some(false)`),
    /// or stay (`None`).
    LeaveChosen(Option<bool>),
    /// An occupant's moderation box.
    Moderate(moderation::Message),
    /// The owner's Destroy: asks for a reason and a confirmation.
    Destroy,
    DestroyReason(String),
    /// Destroy (true) or keep the room (false).
    DestroyChosen(bool),
    Edit(edit_bar::Message),
    Configure,
    /// An owner's or admin's "Members and bans".
    Members,
    KeepDefaults,
    UseNick(String),
    OpenPrivate(String),
    Private(private::Message),
    /// An occupant's profile (`super::occupant_profile`).
    OpenProfile(String),
    Profile(super::occupant_profile::Message),
    LoadOlder,
    /// The next newer messages (reading a stretch of older history).
    LoadNewer,
    /// Back to the newest messages.
    Newest,
    Scrolled(iced::widget::scrollable::Viewport),
    /// "Show more" (true) or "Show less" (false) on a long message.
    Unfold(LocalMessageId, bool),
    /// A second passed while "paused" is still to be said.
    Tick(std::time::Instant),
    /// The lock and its panel.
    Encryption(crate::ui::chat::encryption::Message),
}

/// What the room view asks of its parent: send this command on the room's account.
#[derive(Debug, Clone)]
pub enum Event {
    Command(Command),
    /// Open the owner's configuration dialog.
    Configure,
    /// Open "Members and bans" (owners and admins).
    Members,
    /// Read a stored page of a private chat (before this message; `None`: the newest).
    LoadPrivate {
        nick: String,
        before: Option<LocalMessageId>,
    },
    /// Show the messages before the oldest one on screen.
    LoadOlder,
    /// Show the messages after the newest one on screen (reading older messages).
    LoadNewer,
    /// Back to the newest messages.
    Newest,
    OpenLink(String),
    /// Choose files to send to the room.
    Attach,
    /// Download the file of this message.
    Download(Box<ChatMessage>),
    /// Ask where, then download the file of this message there.
    SaveAs(Box<ChatMessage>),
    Transfers(transfers::Message),
    /// Leave the room; `forget` also removes its bookmark.
    Leave {
        forget: bool,
    },
    /// Scroll the list `list` to the highlighted message (a reply's original).
    Show(&'static str),
    /// Put the cursor in this composer.
    Focus(&'static str),
    /// The lock's panel asks for something (`super::lock`).
    Encryption(crate::ui::chat::encryption::Event),
    /// Ask for this occupant's profile.
    OccupantProfile(String),
}

impl From<timeline::Message> for Message {
    fn from(message: timeline::Message) -> Self {
        match message {
            timeline::Message::LoadOlder => Message::LoadOlder,
            timeline::Message::Unfold(id, unfold) => Message::Unfold(id, unfold),
            timeline::Message::Edit(action) => Message::Compose(action),
            timeline::Message::Send => Message::Send,
            other => Message::Timeline(other),
        }
    }
}

/// What the room view borrows from the app.
pub struct Context<'a> {
    pub lang: Lang,
    /// Inline image previews of received files.
    pub previews: Option<&'a Previews>,
    /// The room's file transfers, shown above the composer.
    pub transfers: Option<Element<'a, transfers::Message>>,
    /// The room's own avatar (XEP-0486), from the account's avatars.
    pub avatar: Option<&'a std::path::Path>,
}

/// Does `body` mention `nick` (as a whole word, any case)?
pub fn mentions(body: &str, nick: &str) -> bool {
    let nick = nick.trim().to_lowercase();
    if nick.is_empty() {
        return false;
    }
    let body = body.to_lowercase();
    body.match_indices(&nick).any(|(i, _)| {
        let before = body[..i].chars().next_back();
        let after = body[i + nick.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

pub(super) fn role_word(lang: Lang, role: Role) -> Option<&'static str> {
    match role {
        Role::Moderator => Some(tr(lang, T::RoleModerator)),
        Role::Participant => Some(tr(lang, T::RoleParticipant)),
        Role::Visitor => Some(tr(lang, T::RoleVisitor)),
        Role::None => None,
    }
}

pub(super) fn affiliation_word(lang: Lang, a: Affiliation) -> Option<&'static str> {
    match a {
        Affiliation::Owner => Some(tr(lang, T::AffOwner)),
        Affiliation::Admin => Some(tr(lang, T::AffAdmin)),
        Affiliation::Member => Some(tr(lang, T::AffMember)),
        Affiliation::None | Affiliation::Outcast => None,
    }
}

impl Room {
    pub fn new(account: AccountId, jid: BareJid, nick: String, password: Option<String>) -> Self {
        Room {
            typing: Default::default(),
            composing: Default::default(),
            account,
            jid,
            nick,
            password,
            status: Status::Joining,
            subject: None,
            occupants: BTreeMap::new(),
            lines: Vec::new(),
            composer: text_editor::Content::new(),
            unread_from: None,
            unread: 0,
            mentions: 0,
            created: false,
            subject_open: false,
            editing: None,
            refusal: None,
            invited: None,
            saved: false,
            asked_nick: None,
            privates: BTreeMap::new(),
            private_open: None,
            older: Older::default(),
            following: true,
            leaving: false,
            moderating: None,
            destroying: None,
            unfolded: HashSet::new(),
            actions: Default::default(),
            window: Default::default(),
            encryption: Default::default(),
            faces: Default::default(),
            profile: None,
        }
    }

    fn note(&mut self, note: Note) {
        if let Some(Line::Notes(notes)) = self.lines.last_mut() {
            notes.push(note);
        } else {
            self.lines.push(Line::Notes(vec![note]));
        }
    }

    /// A room update from the session (for this room).
    pub fn apply(&mut self, update: &RoomUpdate) {
        match update {
            RoomUpdate::Joining { nick, .. } => {
                self.nick = nick.clone();
                self.status = Status::Joining;
            }
            RoomUpdate::Joined {
                nick, occupants, ..
            } => {
                self.nick = nick.clone();
                self.status = Status::Joined;
                self.occupants = occupants
                    .iter()
                    .map(|o| (o.nick.clone(), o.clone()))
                    .collect();
            }
            RoomUpdate::JoinFailed { error, .. } => self.status = Status::Failed(error.clone()),
            RoomUpdate::Occupant {
                occupant, joined, ..
            } => {
                if *joined {
                    self.note(Note::Joined(occupant.nick.clone()));
                }
                self.occupants
                    .insert(occupant.nick.clone(), occupant.clone());
            }
            RoomUpdate::OccupantLeft { nick, .. } => {
                self.occupants.remove(nick);
                self.note(Note::Left(nick.clone()));
            }
            RoomUpdate::NickChanged { old, new, own, .. } => {
                if let Some(mut o) = self.occupants.remove(old) {
                    o.nick = new.clone();
                    self.occupants.insert(new.clone(), o);
                }
                if *own {
                    self.nick = new.clone();
                    self.refusal = None;
                }
                // Their private conversation follows them.
                if let Some(p) = self.privates.remove(old) {
                    self.privates.insert(new.clone(), p);
                    if self.private_open.as_deref() == Some(old) {
                        self.private_open = Some(new.clone());
                    }
                }
                self.note(Note::Nick {
                    old: old.clone(),
                    new: new.clone(),
                });
            }
            RoomUpdate::Subject { subject, .. } => {
                self.subject = Some(subject.clone()).filter(|s| !s.trim().is_empty());
            }
            RoomUpdate::Left {
                departure,
                rejoin_in_secs,
                ..
            } => {
                self.occupants.clear();
                self.status = Status::Out {
                    departure: departure.clone(),
                    rejoin_in_secs: *rejoin_in_secs,
                };
            }
            RoomUpdate::Refused { error, .. } => self.refusal = Some(error.clone()),
            RoomUpdate::Created { .. } => self.created = true,
            RoomUpdate::Info { subject_open, .. } => self.subject_open = *subject_open,
            RoomUpdate::Invitation(_) | RoomUpdate::Bookmarks(_) => {}
        }
    }

    /// A stored message of this room; `open` when the room is on screen.
    pub fn push(&mut self, message: ChatMessage, open: bool) {
        self.count(&message, open);
        self.lines.push(Line::Chat(Box::new(message)));
    }

    /// A new message: its sender stopped typing; unread (and maybe a mention) when
    /// the room is not `open`.
    pub(super) fn count(&mut self, message: &ChatMessage, open: bool) {
        self.typing.clear(&message.sender);
        if !open && message.direction == Direction::Incoming {
            self.unread += 1;
            if mentions(&message.body, &self.nick) {
                self.mentions += 1;
            }
        }
    }

    /// A stored private message with one occupant.
    pub fn push_private(&mut self, message: ChatMessage) {
        let Some(nick) = message.conversation.private_nick().map(str::to_owned) else {
            return;
        };
        let open = self.private_open.as_deref() == Some(nick.as_str());
        self.privates.entry(nick).or_default().push(message, open);
    }

    /// Our own occupant entry.
    pub fn me(&self) -> Option<&Occupant> {
        self.occupants.get(&self.nick)
    }

    pub fn is_owner(&self) -> bool {
        self.me()
            .is_some_and(|o| o.affiliation == Affiliation::Owner)
    }

    /// Owners and admins keep the room's member and ban lists.
    pub fn is_admin(&self) -> bool {
        self.me()
            .is_some_and(|o| matches!(o.affiliation, Affiliation::Owner | Affiliation::Admin))
    }

    /// Moderators may change the subject, and everyone (not visitors) when the room
    /// says so.
    pub fn may_change_subject(&self) -> bool {
        self.me().is_some_and(|o| {
            o.role == Role::Moderator || (self.subject_open && o.role == Role::Participant)
        })
    }

    pub fn mark_read(&mut self) {
        // The unread line goes above the first of the messages not read yet.
        let unread = usize::try_from(self.unread).unwrap_or(usize::MAX);
        self.unread_from = (unread > 0)
            .then(|| {
                self.lines
                    .iter()
                    .rev()
                    .filter_map(|l| match l {
                        Line::Chat(m) if m.direction == Direction::Incoming => Some(&m.id),
                        _ => None,
                    })
                    .take(unread)
                    .last()
                    .cloned()
            })
            .flatten();
        self.unread = 0;
        self.mentions = 0;
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Compose(action) => {
                let edit = action.is_edit();
                self.composer.perform(action);
                if !edit || self.status != Status::Joined {
                    return None;
                }
                let state = if self.composer.text().trim().is_empty() {
                    self.composing
                        .emptied()
                        .then_some(crate::session::ChatState::Paused)
                } else {
                    self.composing
                        .keystroke(std::time::Instant::now())
                        .then_some(crate::session::ChatState::Composing)
                };
                state.map(|state| self.chat_state(state))
            }
            Message::Tick(now) => {
                if self.composing.tick(now) && self.status == Status::Joined {
                    return Some(self.chat_state(crate::session::ChatState::Paused));
                }
                // The open private chat's "paused", to the occupant.
                let nick = self.private_open.clone()?;
                match self.privates.get_mut(&nick)?.tick(now, &self.jid, &nick)? {
                    private::Event::Command(c) => Some(Event::Command(c)),
                    _ => None,
                }
            }
            Message::Timeline(m) => self.on_timeline(m),
            Message::Encryption(m) => self.encryption.update(m).map(Event::Encryption),
            Message::Leave => {
                self.leaving = true;
                None
            }
            Message::Moderate(m) => self.moderate(m),
            Message::Destroy => {
                self.destroying = Some(String::new());
                None
            }
            Message::DestroyReason(reason) => {
                if let Some(r) = self.destroying.as_mut() {
                    *r = reason;
                }
                None
            }
            Message::DestroyChosen(confirmed) => {
                let reason = self.destroying.take()?;
                let reason = Some(reason.trim().to_owned()).filter(|r| !r.is_empty());
                (confirmed && self.is_owner()).then(|| {
                    self.refusal = None;
                    Event::Command(Command::DestroyRoom {
                        room: self.jid.clone(),
                        reason,
                    })
                })
            }
            Message::LeaveChosen(choice) => {
                self.leaving = false;
                choice.map(|forget| Event::Leave { forget })
            }
            Message::Transfers(m) => Some(Event::Transfers(m)),
            Message::Scrolled(viewport) => {
                // Anchored at the bottom: the offset is 0 at the newest end, the
                // reversed offset 0 at the top.
                let was_following = self.following;
                self.following = viewport.absolute_offset().y <= 2.0;
                if self.following && !was_following && self.wants_newer() {
                    // Scrolled down to the end of a stretch of older history.
                    return Some(Event::LoadNewer);
                }
                let at_top = viewport.absolute_offset_reversed().y <= 2.0;
                (at_top && self.older == Older::Available).then(|| {
                    self.older = Older::Loading;
                    Event::LoadOlder
                })
            }
            Message::Unfold(id, unfold) => {
                if unfold {
                    self.unfolded.insert(id);
                } else {
                    self.unfolded.remove(&id);
                }
                None
            }
            Message::LoadNewer => self.wants_newer().then_some(Event::LoadNewer),
            Message::Newest => Some(Event::Newest),
            Message::LoadOlder => (self.older == Older::Available).then(|| {
                self.older = Older::Loading;
                Event::LoadOlder
            }),
            Message::Rejoin => {
                self.status = Status::Joining;
                Some(Event::Command(Command::JoinRoom {
                    room: self.jid.clone(),
                    nick: self.nick.clone(),
                    password: self.password.clone(),
                }))
            }
            Message::Send => {
                if self.status != Status::Joined {
                    return None;
                }
                let body = timeline::to_send(&self.composer)?;
                self.composer = text_editor::Content::new();
                let conversation = crate::ids::ConversationId::Room(self.jid.clone());
                let id = LocalMessageId::generate();
                let command = match self.actions.to_send(body) {
                    timeline::actions::Send::New(body) => Command::SendRoom {
                        room: self.jid.clone(),
                        body,
                        id,
                    },
                    timeline::actions::Send::Correct { target, body } => Command::Correct {
                        conversation,
                        target,
                        body,
                        id,
                    },
                    timeline::actions::Send::Reply { to, body } => Command::Reply {
                        conversation,
                        to,
                        body,
                        id,
                    },
                };
                self.actions.sent();
                Some(Event::Command(command))
            }
            Message::Edit(m) => {
                self.refusal = None;
                self.invited = None;
                self.saved = false;
                let subject = self.subject.clone().unwrap_or_default();
                match edit_bar::update(&mut self.editing, m, &self.jid, &subject, &self.nick)? {
                    edit_bar::Event::Command(c) => {
                        if let Command::ChangeNick { nick, .. } = &c {
                            self.asked_nick = Some(nick.clone());
                        }
                        Some(Event::Command(c))
                    }
                    edit_bar::Event::Invited(to, c) => {
                        self.invited = Some(to);
                        Some(Event::Command(c))
                    }
                }
            }
            Message::Configure => {
                self.created = false;
                Some(Event::Configure)
            }
            Message::Members => Some(Event::Members),
            Message::KeepDefaults => {
                self.created = false;
                None
            }
            Message::UseNick(nick) => {
                self.refusal = None;
                self.asked_nick = Some(nick.clone());
                Some(Event::Command(Command::ChangeNick {
                    room: self.jid.clone(),
                    nick,
                }))
            }
            Message::OpenProfile(nick) => self.open_profile(nick),
            Message::Profile(m) => self.on_profile(m),
            Message::OpenPrivate(nick) => {
                let p = self.privates.entry(nick.clone()).or_default();
                p.unread = 0;
                let load = p.opened();
                self.private_open = Some(nick.clone());
                match load? {
                    private::Event::LoadStored(before) => Some(Event::LoadPrivate { nick, before }),
                    _ => None,
                }
            }
            Message::Private(private::Message::Back) => {
                self.private_open = None;
                None
            }
            Message::Private(m) => {
                let nick = self.private_open.clone()?;
                let p = self.privates.get_mut(&nick)?;
                match p.update(m, &self.jid, &nick)? {
                    private::Event::Command(c) => Some(Event::Command(c)),
                    private::Event::Show => Some(Event::Show(private::PRIVATE_LIST_ID)),
                    private::Event::Focus => Some(Event::Focus(private::PRIVATE_COMPOSER_ID)),
                    private::Event::LoadStored(before) => Some(Event::LoadPrivate { nick, before }),
                    private::Event::Timeline(m) => self.on_timeline(m),
                }
            }
        }
    }

    fn moderate(&mut self, message: moderation::Message) -> Option<Event> {
        match message {
            moderation::Message::Open(nick) => {
                self.moderating = Some(moderation::Moderating {
                    nick,
                    reason: String::new(),
                });
                None
            }
            moderation::Message::Reason(reason) => {
                if let Some(m) = self.moderating.as_mut() {
                    m.reason = reason;
                }
                None
            }
            moderation::Message::Close => {
                self.moderating = None;
                None
            }
            moderation::Message::Act(action) => {
                let state = self.moderating.take()?;
                let target = self.occupants.get(&state.nick)?;
                self.refusal = None;
                moderation::command(&self.jid, target, action, &state.reason).map(Event::Command)
            }
        }
    }

    /// What the timeline asks (of the room or of a private chat in it).
    fn on_timeline(&mut self, message: timeline::Message) -> Option<Event> {
        match message {
            timeline::Message::OpenLink(url) => Some(Event::OpenLink(url)),
            timeline::Message::Attach => (self.status == Status::Joined
                && self.private_open.is_none())
            .then_some(Event::Attach),
            timeline::Message::Download(id) => {
                self.find(&id).map(|m| Event::Download(Box::new(m.clone())))
            }
            timeline::Message::SaveAs(id) => {
                self.find(&id).map(|m| Event::SaveAs(Box::new(m.clone())))
            }
            timeline::Message::Retry(id) => Some(Event::Command(Command::Resend { id })),
            timeline::Message::Preview(m) => Some(Event::Transfers(transfers::Message::Preview(m))),
            timeline::Message::Action(action) => self.on_action(action),
            timeline::Message::SenderProfile(nick) => self.open_profile(nick),
            timeline::Message::ShowDevices => self.update(Message::Encryption(
                crate::ui::chat::encryption::Message::Open,
            )),
            timeline::Message::React(id, emoji) => {
                self.actions.open = None;
                if let Some(p) = self
                    .private_open
                    .as_ref()
                    .and_then(|n| self.privates.get_mut(n))
                {
                    p.actions.open = None;
                }
                let message = self.find(&id)?;
                Some(Event::Command(Command::React {
                    conversation: message.conversation(),
                    emojis: crate::ui::timeline::changes::toggled(message, &emoji),
                    target: id,
                }))
            }
            m @ (timeline::Message::LoadOlder
            | timeline::Message::Unfold(..)
            | timeline::Message::Edit(_)
            | timeline::Message::Send) => self.update(Message::from(m)),
        }
    }

    fn chat_state(&self, state: crate::session::ChatState) -> Event {
        Event::Command(Command::SendChatState {
            conversation: crate::ids::ConversationId::Room(self.jid.clone()),
            state,
        })
    }

    /// "Paused" is still to be said: the app ticks a clock for it.
    pub fn typing_pending(&self) -> bool {
        self.composing.waiting()
            || self
                .private_open
                .as_ref()
                .and_then(|n| self.privates.get(n))
                .is_some_and(|p| p.typing_pending())
    }

    /// We are a moderator here: "Remove…" on every message.
    pub fn is_moderator(&self) -> bool {
        self.me().is_some_and(|o| o.role == Role::Moderator)
    }

    /// A message action in the room's own timeline.
    fn on_action(&mut self, action: timeline::actions::Action) -> Option<Event> {
        let shown = chat_messages(&self.lines);
        let outcome = self.actions.update(action, &shown, &mut self.composer)?;
        let conversation = crate::ids::ConversationId::Room(self.jid.clone());
        match outcome {
            timeline::actions::Outcome::Retract(target) => Some(Event::Command(Command::Retract {
                conversation,
                target,
            })),
            timeline::actions::Outcome::Moderate { target, reason } => {
                self.is_moderator().then(|| {
                    Event::Command(Command::Moderate {
                        room: self.jid.clone(),
                        target,
                        reason,
                    })
                })
            }
            timeline::actions::Outcome::Show => Some(Event::Show(LIST_ID)),
            timeline::actions::Outcome::Focus => Some(Event::Focus(COMPOSER_ID)),
            timeline::actions::Outcome::LoadOlder => self.load_older().or_else(|| self.seek_step()),
        }
    }

    /// The page before the oldest shown, unless one is on its way or there is none.
    fn load_older(&mut self) -> Option<Event> {
        (self.older == Older::Available).then(|| {
            self.older = Older::Loading;
            Event::LoadOlder
        })
    }

    /// After an older page: show a reply's original looked for, or load the next page.
    pub fn seek_step(&mut self) -> Option<Event> {
        let shown = chat_messages(&self.lines);
        let more = self.older != Older::Exhausted;
        match self.actions.seek_step(&shown, more)? {
            timeline::actions::Outcome::Show => Some(Event::Show(LIST_ID)),
            timeline::actions::Outcome::LoadOlder => self.load_older(),
            _ => None,
        }
    }

    /// A message of the room or of one of its private chats.
    fn find(&self, id: &LocalMessageId) -> Option<&ChatMessage> {
        self.lines
            .iter()
            .find_map(|l| match l {
                Line::Chat(m) if &m.id == id => Some(m.as_ref()),
                _ => None,
            })
            .or_else(|| {
                self.privates
                    .values()
                    .find_map(|p| p.lines.iter().find(|m| &m.id == id))
            })
    }

    /// Our message moved on (sent, reflected by the room, failed).
    /// A message changed (corrected, reacted to, retracted): the stored version takes
    /// the place of the one shown, in the room or a private chat. False when not shown.
    pub fn replace(&mut self, message: &ChatMessage) -> bool {
        for line in &mut self.lines {
            if let Line::Chat(m) = line
                && m.id == message.id
            {
                **m = message.clone();
                return true;
            }
        }
        for p in self.privates.values_mut() {
            if let Some(m) = p.lines.iter_mut().find(|m| m.id == message.id) {
                *m = message.clone();
                return true;
            }
        }
        false
    }

    pub fn set_delivery(&mut self, id: &LocalMessageId, state: &Delivery) -> bool {
        for line in &mut self.lines {
            if let Line::Chat(m) = line
                && &m.id == id
            {
                m.delivery = state.clone();
                return true;
            }
        }
        for p in self.privates.values_mut() {
            if let Some(m) = p.lines.iter_mut().find(|m| &m.id == id) {
                m.delivery = state.clone();
                return true;
            }
        }
        false
    }
}

/// The room's messages among its lines (without the notes), oldest first.
fn chat_messages(lines: &[Line]) -> Vec<&ChatMessage> {
    lines
        .iter()
        .filter_map(|l| match l {
            Line::Chat(m) => Some(m.as_ref()),
            Line::Notes(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_whole_words() {
        assert!(mentions("hey Alice, tea?", "alice"));
        assert!(mentions("alice: tea", "Alice"));
        assert!(!mentions("malice aforethought", "alice"));
        assert!(!mentions("anything", ""));
    }

    #[test]
    fn the_unread_line_goes_above_the_first_message_not_read() {
        let jid = BareJid::new("tea@conference.example.org").unwrap();
        let mut room = Room::new(AccountId("a".into()), jid.clone(), "alice".into(), None);
        let message = |id: &str| ChatMessage {
            truncated: false,
            extras: Default::default(),
            id: LocalMessageId(id.into()),
            account: AccountId("a".into()),
            conversation: crate::ids::ConversationId::Room(jid.clone()),
            direction: Direction::Incoming,
            sender: "bob".into(),
            body: id.into(),
            timestamp_ms: 0,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
        };
        room.push(message("read"), true);
        room.push(message("new-1"), false);
        room.note(Note::Joined("carol".into()));
        room.push(message("new-2"), false);
        room.mark_read();
        assert_eq!(room.unread_from, Some(LocalMessageId("new-1".into())));
        // Opened again with nothing new: no line.
        room.mark_read();
        assert_eq!(room.unread_from, None);
    }
}
