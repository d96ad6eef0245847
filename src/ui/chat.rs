//! One open conversation: header, message history and composer.

pub mod devices;
pub mod encryption;
mod header;
mod window;
pub use window::{AROUND, Held, bar as window_bar};

use crate::ids::{AccountId, ConversationId, LocalMessageId};
use crate::model::{Account, ChatMessage, Delivery};
use crate::ui::app::account_state::Availability;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::screen::sidebar::show_text;
use crate::ui::theme;
use crate::ui::timeline;
use crate::ui::widgets;
use iced::widget::scrollable::Viewport;
use iced::widget::text_editor;
use iced::widget::{Id, button, column, container, row, scrollable, text};
use iced::{Alignment, Element, Length};
use std::collections::HashSet;
use xmpp_parsers::jid::BareJid;

pub use crate::ui::timeline::{Segment, has_link, segments};

/// The widget id of the composer (tests click it).
pub const COMPOSER_ID: &str = "conversation-composer";
/// The widget id of the message list.
pub const LIST_ID: &str = "conversation-list";
/// How many messages one history page holds.
pub const PAGE: usize = 50;

/// The widget id of the "write as" choice of an account in the header.
pub fn write_as_id(account: &AccountId) -> Id {
    Id::from(format!("conversation-write-as-{account}"))
}

#[derive(Debug, Clone)]
pub enum Message {
    Edit(text_editor::Action),
    Send,
    /// The next page of newer messages (reading a stretch of older history).
    LoadNewer,
    /// Back to the newest messages.
    Newest,
    Scrolled(Viewport),
    OpenLink(String),
    DismissError,
    /// Write from this account instead (the contact is in its roster too).
    WriteAs(AccountId),
    /// Try a message that failed again.
    Retry(LocalMessageId),
    /// Mute or unmute this conversation's notifications.
    ToggleMute,
    /// Block (`true`) or unblock the contact (XEP-0191).
    SetBlocked(bool),
    /// Add the stranger of a request as a contact.
    Accept,
    /// The attach button.
    Attach,
    /// Download the file a message carries.
    Download(LocalMessageId),
    /// Download it to a place the user chooses.
    SaveAs(LocalMessageId),
    /// A transfer card's button.
    Transfers(crate::ui::timeline::transfers::Message),
    /// "Load older messages" at the top of the list.
    LoadOlder,
    /// "Show more" (true) or "Show less" (false) on a long message.
    Unfold(LocalMessageId, bool),
    /// Toggle our reaction with this emoji on a message.
    React(LocalMessageId, String),
    /// A message's actions, or the composer's edit/reply state.
    Action(timeline::actions::Action),
    /// A second passed while "paused" is still to be said.
    Tick(std::time::Instant),
    /// The lock and its panel (OMEMO).
    Encryption(encryption::Message),
}

impl From<timeline::Message> for Message {
    fn from(message: timeline::Message) -> Self {
        match message {
            timeline::Message::OpenLink(url) => Message::OpenLink(url),
            timeline::Message::LoadOlder => Message::LoadOlder,
            timeline::Message::Unfold(id, unfold) => Message::Unfold(id, unfold),
            timeline::Message::Download(id) => Message::Download(id),
            timeline::Message::SaveAs(id) => Message::SaveAs(id),
            timeline::Message::Retry(id) => Message::Retry(id),
            timeline::Message::Preview(m) => {
                Message::Transfers(crate::ui::timeline::transfers::Message::Preview(m))
            }
            timeline::Message::Edit(action) => Message::Edit(action),
            timeline::Message::Send => Message::Send,
            timeline::Message::Attach => Message::Attach,
            timeline::Message::React(id, emoji) => Message::React(id, emoji),
            timeline::Message::Action(action) => Message::Action(action),
            // Faces open profiles only in rooms; a chat never sends this.
            timeline::Message::SenderProfile(_) => Message::DismissError,
            timeline::Message::ShowDevices => Message::Encryption(encryption::Message::Open),
        }
    }
}

/// What the conversation asks of the app.
#[derive(Debug, Clone)]
pub enum Event {
    /// Send this text (already checked to be non-empty).
    Send(String),
    /// Load the page before this message.
    LoadOlder(LocalMessageId),
    /// The store has nothing older: ask the server archive for the page before this
    /// archive id (its newest page with this contact when `None`), to sort below
    /// `below_ms` (the oldest time on screen).
    LoadOlderArchive {
        before: Option<String>,
        below_ms: Option<i64>,
    },
    OpenLink(String),
    /// Continue this conversation from another account.
    WriteAs(AccountId),
    /// Send this failed message again.
    Retry(LocalMessageId),
    ToggleMute,
    /// Choose files to send.
    Attach,
    /// Download the file of this message.
    Download(Box<ChatMessage>),
    /// Ask where, then download the file of this message there.
    SaveAs(Box<ChatMessage>),
    Transfers(crate::ui::timeline::transfers::Message),
    /// Tell the contact we are typing (throttled here).
    Composing,
    /// Tell the contact we stopped typing (5 s without a keystroke, or the text gone).
    Paused,
    /// Our whole set of reactions to this message is now `emojis`.
    React {
        target: LocalMessageId,
        emojis: Vec<String>,
    },
    /// Send this change on the conversation's account: a correction or a reply (the
    /// composer empties when it went out), a retraction.
    Command(crate::session::Command),
    /// Scroll the list to the highlighted message (a reply's original).
    Show,
    /// Put the cursor in the composer.
    Focus,
    /// Read message `id` and those around it from the store ([`State::around_loaded`]).
    LoadAround(LocalMessageId),
    /// Read the page after this message from the store ([`State::newer_loaded`]).
    LoadNewer(LocalMessageId),
    /// Show the newest messages again ([`State::leave_window`], then the newest page).
    Newest,
    Encryption(encryption::Event),
}

/// A problem shown above the composer.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    NotConnected,
    History(String),
    Link(String),
    /// The server archive did not give older messages.
    Archive,
}

/// What the view borrows from the app.
pub struct Context<'a> {
    pub lang: Lang,
    pub peer_label: String,
    pub peer: &'a BareJid,
    pub availability: Availability,
    pub in_roster: bool,
    /// The account this conversation is written from.
    pub account: &'a Account,
    /// Every account with this contact in its roster, when there are two or more.
    pub write_as: Vec<&'a Account>,
    /// Is that account connected (else the "as" line says it is not)?
    pub account_online: bool,
    /// Its notifications are muted.
    pub muted: bool,
    /// The contact is blocked (`Some(true)`) or not; `None`: the server cannot block.
    pub blocked: Option<bool>,
    /// The chat is a request from a stranger (`crate::quiet`): offer to accept.
    pub request: bool,
    /// The conversation's file transfers, shown above the composer.
    pub transfers: Option<Element<'a, Message>>,
    /// Inline image previews of received files.
    pub previews: Option<&'a crate::ui::timeline::previews::Previews>,
}

/// Most messages a conversation keeps on screen while new ones arrive and the reader
/// has scrolled up (reading older ones).
pub const MAX_SHOWN: usize = 500;

/// Most messages kept while the reader goes back through older pages (or down again):
/// three pages, the one read in and the two it joins. The newest beyond them leave the
/// view as an older page comes in (the oldest as a newer one does), and come back from
/// the store page by page on scrolling down. Every frame lays out every message kept,
/// so this is what keeps a frame's cost flat however far back one reads
/// (`benches/timeline.rs`, its last case).
pub const WINDOW_SHOWN: usize = 3 * PAGE;

/// Most messages kept on screen while the reader follows the newest end: enough to fill
/// a tall window several times over. Every frame lays out all messages kept, so during a
/// flood this is what a frame costs (`benches/delivery.rs`); scrolling up pages the
/// older ones back in from the store.
pub const FOLLOW_SHOWN: usize = 120;

pub struct State {
    pub account: AccountId,
    pub conversation: ConversationId,
    messages: Vec<ChatMessage>,
    ids: HashSet<LocalMessageId>,
    composer: text_editor::Content,
    loaded: bool,
    loading_older: bool,
    exhausted: bool,
    /// History is stored (older messages can be paged back in).
    stored: bool,
    problem: Option<Problem>,
    /// Periods of the account's history the server archive could not give us.
    gaps: Vec<crate::store::HistoryGap>,
    /// The list is scrolled to its newest end (where new messages come in).
    following: bool,
    /// The store has nothing older than what is on screen: the server archive is next.
    store_done: bool,
    /// Where the next older archive page starts (the oldest archive id it gave).
    archive_cursor: Option<String>,
    /// Long messages the reader unfolded ("Show more"); the others show folded.
    unfolded: HashSet<LocalMessageId>,
    /// Messages that were unread when the chat was opened, until the history shows.
    unread: usize,
    /// The first of them: the unread line shows above it.
    unread_from: Option<LocalMessageId>,
    /// The contact is typing (XEP-0085).
    pub typing: timeline::typing::Typing,
    /// When we last said we are typing.
    composing: timeline::typing::Composing,
    /// The "⋯" row, Delete's question, editing or replying.
    pub actions: timeline::actions::Actions,
    /// Opened at a message far back: the stretch of history shown.
    window: window::Window,
    /// The lock: OMEMO for this chat.
    pub encryption: encryption::State,
    /// The contact's cached avatar (issue #18), kept up to date by the app.
    pub avatar: Option<std::path::PathBuf>,
}

impl State {
    /// A conversation whose history is being loaded (`has_history`), or one without
    /// stored history (no store).
    pub fn new(account: AccountId, conversation: ConversationId, has_history: bool) -> Self {
        State {
            account,
            conversation,
            messages: Vec::new(),
            ids: HashSet::new(),
            composer: text_editor::Content::new(),
            loaded: !has_history,
            loading_older: false,
            exhausted: !has_history,
            stored: has_history,
            problem: None,
            gaps: Vec::new(),
            following: true,
            store_done: !has_history,
            archive_cursor: None,
            unfolded: HashSet::new(),
            unread: 0,
            unread_from: None,
            typing: Default::default(),
            composing: Default::default(),
            actions: Default::default(),
            window: Default::default(),
            encryption: Default::default(),
            avatar: None,
        }
    }

    /// `count` messages were unread when the chat was opened: the unread line goes
    /// above the first of them once the history is on screen.
    pub fn set_unread(&mut self, count: u32) {
        self.unread = usize::try_from(count).unwrap_or(usize::MAX);
        if self.loaded {
            self.settle_unread();
        }
    }

    fn settle_unread(&mut self) {
        if self.unread == 0 {
            return;
        }
        self.unread_from = self
            .messages
            .iter()
            .rev()
            .filter(|m| m.direction == crate::model::Direction::Incoming)
            .take(self.unread)
            .last()
            .map(|m| m.id.clone());
        self.unread = 0;
    }

    /// Where the unread line is (the first message unread on opening).
    pub fn unread_from(&self) -> Option<&LocalMessageId> {
        self.unread_from.as_ref()
    }

    /// A period of this account's history that may be missing messages.
    pub fn add_gap(&mut self, gap: crate::store::HistoryGap) {
        if !self.gaps.contains(&gap) {
            self.gaps.push(gap);
        }
    }

    pub fn is(&self, account: &AccountId, peer: &BareJid) -> bool {
        &self.account == account && self.conversation.jid() == peer
    }

    pub fn messages(&self) -> &[ChatMessage] {
        &self.messages
    }

    /// "Paused" is still to be said: the app ticks a clock for it.
    pub fn typing_pending(&self) -> bool {
        self.composing.waiting()
    }

    pub fn composer_text(&self) -> String {
        self.composer.text()
    }

    /// Puts a draft in the composer (kept when switching the account to write from).
    pub fn set_draft(&mut self, draft: &str) {
        if !draft.trim().is_empty() {
            self.composer = text_editor::Content::with_text(draft);
        }
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Edit(action) => {
                let edit = action.is_edit();
                self.composer.perform(action);
                if !edit {
                    return None;
                }
                if self.composer.text().trim().is_empty() {
                    return self.composing.emptied().then_some(Event::Paused);
                }
                self.composing
                    .keystroke(std::time::Instant::now())
                    .then_some(Event::Composing)
            }
            Message::Tick(now) => self.composing.tick(now).then_some(Event::Paused),
            Message::Send => {
                let body = timeline::to_send(&self.composer)?;
                self.composing.sent();
                let conversation = self.conversation.clone();
                Some(match self.actions.to_send(body) {
                    timeline::actions::Send::New(body) => Event::Send(body),
                    timeline::actions::Send::Correct { target, body } => {
                        Event::Command(crate::session::Command::Correct {
                            conversation,
                            target,
                            body,
                            id: LocalMessageId::generate(),
                        })
                    }
                    timeline::actions::Send::Reply { to, body } => {
                        Event::Command(crate::session::Command::Reply {
                            conversation,
                            to,
                            body,
                            id: LocalMessageId::generate(),
                        })
                    }
                })
            }
            Message::Action(action) => {
                let shown: Vec<&ChatMessage> = self.messages.iter().collect();
                match self.actions.update(action, &shown, &mut self.composer)? {
                    timeline::actions::Outcome::Retract(target) => {
                        Some(Event::Command(crate::session::Command::Retract {
                            conversation: self.conversation.clone(),
                            target,
                        }))
                    }
                    // Nobody moderates a chat.
                    timeline::actions::Outcome::Moderate { .. } => None,
                    timeline::actions::Outcome::Show => Some(Event::Show),
                    timeline::actions::Outcome::Focus => Some(Event::Focus),
                    timeline::actions::Outcome::LoadOlder => {
                        self.load_older().or_else(|| self.seek_step())
                    }
                }
            }
            Message::Scrolled(viewport) => {
                // Anchored at the bottom: the offset is 0 at the newest end, the
                // reversed offset 0 at the top.
                let was_following = self.following;
                self.following = viewport.absolute_offset().y <= 2.0;
                if self.following && !was_following && self.in_window() {
                    // Scrolled down to the end of a stretch of older history.
                    return self.load_newer();
                }
                let at_top = viewport.absolute_offset_reversed().y <= 2.0;
                if at_top && !self.messages.is_empty() {
                    return self.load_older();
                }
                None
            }
            Message::LoadOlder => self.load_older(),
            Message::LoadNewer => self.load_newer(),
            Message::Newest => Some(Event::Newest),
            Message::OpenLink(url) => Some(Event::OpenLink(url)),
            Message::Retry(id) => Some(Event::Retry(id)),
            Message::React(id, emoji) => {
                self.actions.open = None;
                let message = self.messages.iter().find(|m| m.id == id)?;
                Some(Event::React {
                    emojis: crate::ui::timeline::changes::toggled(message, &emoji),
                    target: id,
                })
            }
            Message::ToggleMute => Some(Event::ToggleMute),
            Message::SetBlocked(block) => Some(Event::Command(header::block(
                self.conversation.jid(),
                block,
            ))),
            Message::Accept => Some(Event::Command(header::accept(self.conversation.jid()))),
            Message::Encryption(m) => self.encryption.update(m).map(Event::Encryption),
            Message::Attach => Some(Event::Attach),
            Message::Download(id) => self
                .messages
                .iter()
                .find(|m| m.id == id)
                .map(|m| Event::Download(Box::new(m.clone()))),
            Message::SaveAs(id) => self
                .messages
                .iter()
                .find(|m| m.id == id)
                .map(|m| Event::SaveAs(Box::new(m.clone()))),
            Message::Transfers(m) => Some(Event::Transfers(m)),
            Message::WriteAs(account) => {
                (account != self.account).then_some(Event::WriteAs(account))
            }
            Message::DismissError => {
                self.problem = None;
                None
            }
            Message::Unfold(id, unfold) => {
                if unfold {
                    self.unfolded.insert(id);
                } else {
                    self.unfolded.remove(&id);
                }
                None
            }
        }
    }

    /// The next older page: from the store while it has one, then from the server
    /// archive (`None` while one is on its way, or when there is nothing older).
    fn load_older(&mut self) -> Option<Event> {
        if !self.loaded || self.loading_older || self.exhausted {
            return None;
        }
        let event = match self.messages.first() {
            Some(oldest) if !self.store_done => Event::LoadOlder(oldest.id.clone()),
            _ => Event::LoadOlderArchive {
                before: self
                    .archive_cursor
                    .clone()
                    .or_else(|| self.messages.iter().find_map(|m| m.server_id.clone())),
                below_ms: self.messages.first().map(|m| m.timestamp_ms),
            },
        };
        self.loading_older = true;
        Some(event)
    }

    /// A page of older history from the server archive (stored already). True when it
    /// added nothing here but the archive goes on: ask for the next page at once.
    pub fn archive_page(
        &mut self,
        messages: Vec<ChatMessage>,
        first: Option<String>,
        complete: bool,
        failed: bool,
    ) -> bool {
        self.loading_older = false;
        if failed {
            self.problem = Some(Problem::Archive);
            return false;
        }
        let moved = first.is_some() && first != self.archive_cursor;
        if first.is_some() {
            self.archive_cursor = first;
        }
        // Nothing older in the archive, or no way to ask further back.
        self.exhausted = complete || !moved;
        let added = self.push_older(messages);
        !added && !self.exhausted
    }

    /// A page of older messages (oldest first, from the store or the archive): above
    /// everything shown, in the page's order, which is the store's. By time they could
    /// land among messages of the same second (archive stamps have whole seconds).
    fn push_older(&mut self, page: Vec<ChatMessage>) -> bool {
        let fresh: Vec<ChatMessage> = page
            .into_iter()
            .filter(|m| self.ids.insert(m.id.clone()))
            .collect();
        let added = !fresh.is_empty();
        self.messages.splice(0..0, fresh);
        self.drop_newest();
        added
    }

    /// An older page came in while a reply's original is looked for: show it when it is
    /// here now, else ask for the next page (while there is one).
    pub fn seek_step(&mut self) -> Option<Event> {
        let shown: Vec<&ChatMessage> = self.messages.iter().collect();
        let more = !self.exhausted;
        match self.actions.seek_step(&shown, more)? {
            timeline::actions::Outcome::Show => Some(Event::Show),
            timeline::actions::Outcome::LoadOlder => self.load_older(),
            _ => None,
        }
    }

    /// Asks for the older page from the server archive right after the store ran out
    /// (`LoadOlderArchive`), so one "load older" reaches past the store.
    pub fn continue_in_archive(&mut self) -> Option<Event> {
        if self.store_done && !self.exhausted && !self.loading_older {
            return self.load_older();
        }
        None
    }

    /// The message went to the session: empty the composer.
    pub fn sent(&mut self) {
        self.composer = text_editor::Content::new();
        self.actions.sent();
        if self.problem == Some(Problem::NotConnected) {
            self.problem = None;
        }
    }

    pub fn set_problem(&mut self, problem: Problem) {
        self.problem = Some(problem);
    }

    /// Adds a message unless it is already shown; keeps time order.
    /// A shown message changed (corrected, reacted to, retracted): the stored version
    /// takes its place. False when it is not on screen.
    pub fn replace(&mut self, message: &ChatMessage) -> bool {
        match self.messages.iter_mut().find(|m| m.id == message.id) {
            Some(shown) => {
                *shown = message.clone();
                true
            }
            None => false,
        }
    }

    pub fn push(&mut self, message: ChatMessage) -> bool {
        let beyond = self
            .messages
            .last()
            .is_none_or(|m| m.timestamp_ms < message.timestamp_ms);
        if self.in_window() && beyond {
            return self.hold(message);
        }
        if !self.ids.insert(message.id.clone()) {
            return false;
        }
        let at = self
            .messages
            .partition_point(|m| m.timestamp_ms <= message.timestamp_ms);
        self.messages.insert(at, message);
        true
    }

    /// A live message: shown at its place, and the oldest ones beyond [`FOLLOW_SHOWN`]
    /// (while the reader follows the newest end) or [`MAX_SHOWN`] (while scrolled up)
    /// leave the view; they stay in the store and come back on scrolling up. Without
    /// this a flood kept every message in memory and laid all of them out each frame
    /// (100 MiB more and 200 ms frames after 5,000 messages, `benches/delivery.rs`).
    pub fn push_live(&mut self, message: ChatMessage) -> bool {
        if self.in_window() {
            return self.hold(message);
        }
        // Live messages come in the store's order: after everything.
        if !self.ids.insert(message.id.clone()) {
            return false;
        }
        if message.direction == crate::model::Direction::Incoming {
            // Their message is what they were typing.
            self.typing.clear("");
        }
        self.messages.push(message);
        let keep = if self.following {
            FOLLOW_SHOWN
        } else {
            MAX_SHOWN
        };
        if self.messages.len() > keep && !self.loading_older {
            let excess = self.messages.len() - keep;
            for gone in self.messages.drain(..excess) {
                self.ids.remove(&gone.id);
                self.unfolded.remove(&gone.id);
            }
            // Older messages are in the store, to be paged back in on scrolling up.
            if self.stored {
                self.exhausted = false;
                self.store_done = false;
            }
        }
        true
    }

    pub fn set_delivery(&mut self, id: &LocalMessageId, state: Delivery) {
        if let Some(message) = self.messages.iter_mut().find(|m| &m.id == id) {
            message.delivery = state;
        }
    }

    /// A page of history arrived (the latest page, or one before the oldest shown).
    pub fn history_loaded(&mut self, older: bool, result: Result<Vec<ChatMessage>, String>) {
        let first = !older;
        if older {
            self.loading_older = false;
        } else {
            self.loaded = true;
            if self.in_window() {
                // Opened at a message far back: the newest page is not what shows.
                return;
            }
        }
        match result {
            Ok(page) => {
                // The store ran out; older history may still be in the server archive
                // (a first sign-in fetches only so much, and not past a gap).
                if page.len() < PAGE {
                    self.store_done = true;
                    self.exhausted = !self.stored;
                }
                // The newest page (on opening) or the one before the oldest shown: either
                // way older than anything shown, which came live meanwhile.
                self.push_older(page);
                if first {
                    self.settle_unread();
                }
            }
            Err(detail) => {
                self.exhausted = true;
                self.problem = Some(Problem::History(detail));
            }
        }
    }

    pub fn view<'a>(&'a self, mut cx: Context<'a>) -> Element<'a, Message> {
        let lang = cx.lang;
        let status = cx
            .availability
            .status
            .clone()
            .filter(|s| !s.trim().is_empty())
            .map(|s| format!("{} · {s}", tr(lang, show_text(cx.availability.show))))
            .unwrap_or_else(|| tr(lang, show_text(cx.availability.show)).to_string());
        let mut subtitle = row![text(cx.peer.as_str()).size(12).style(theme::muted)]
            .spacing(8)
            .align_y(Alignment::Center);
        if cx.in_roster {
            subtitle = subtitle.push(text(status).size(12).style(theme::muted));
        } else {
            subtitle = subtitle.push(
                container(text(tr(lang, T::NotInContacts)).size(11))
                    .padding([0, 4])
                    .style(theme::tag),
            );
        }
        let mut top = row![
            header::face(&cx, self.avatar.as_deref()),
            column![
                text(cx.peer_label.clone()).size(18).style(theme::heading),
                subtitle
            ]
            .spacing(2)
            .width(Length::Fill),
        ]
        .spacing(10)
        .align_y(Alignment::Center);
        if cx.write_as.len() > 1 {
            top = top.push(header::write_as(&self.account, &cx));
        }
        let lock = self.encryption.lock_view(lang).map(Message::Encryption);
        let top = header::actions(lang, &cx, top.push(lock));
        let header = container(top)
            .padding([10, 16])
            .width(Length::Fill)
            .style(theme::bar);

        let top = if self.loading_older || !self.loaded {
            Some(timeline::Top::Loading)
        } else if self.store_done && !self.exhausted {
            // The server archive may have more than the store: a button (a short list
            // does not scroll, so scrolling up cannot ask).
            Some(timeline::Top::LoadOlder)
        } else if self.messages.is_empty() {
            Some(timeline::Top::Empty)
        } else {
            None
        };
        let list_cx = timeline::Context {
            lang,
            kind: timeline::Kind::Chat,
            peer_label: cx.peer_label.clone(),
            previews: cx.previews,
            actions: Some(&self.actions),
            moderator: false,
            faces: None,
        };
        let (list, keys) = timeline::keyed_list(
            &list_cx,
            self.messages
                .iter()
                .map(|m| encryption::entry(lang, &cx.peer_label, m)),
            &self.unfolded,
            &self.gaps,
            top,
            self.unread_from.as_ref(),
        );
        let messages = scrollable(list.map(Message::from))
            .id(LIST_ID)
            .anchor_bottom()
            .on_scroll(Message::Scrolled)
            .width(Length::Fill)
            .height(Length::Fill);
        // Pages come and go at both ends: what the reader reads stays put, unless
        // they follow the newest end.
        let messages = timeline::anchored(messages, keys, !self.following || self.in_window());

        let panel = self.encryption.panel(lang, &cx.peer_label);
        let mut body = column![header]
            .extend(panel.map(|p| p.map(Message::Encryption)))
            .push(messages);
        if let Some(bar) = self.window_bar(lang) {
            body = body.push(bar);
        }
        if let Some(problem) = &self.problem {
            let line = match problem {
                Problem::NotConnected => tr(lang, T::NotConnected).to_string(),
                Problem::History(detail) => trf(lang, T::HistoryFailed, &[("detail", detail)]),
                Problem::Link(detail) => trf(lang, T::LinkOpenFailed, &[("detail", detail)]),
                Problem::Archive => tr(lang, T::ArchiveOlderFailed).to_string(),
            };
            body = body.push(
                container(
                    row![
                        text(line).size(13).width(Length::Fill),
                        button(text(tr(lang, T::Dismiss)).size(13))
                            .style(theme::link_button)
                            .on_press(Message::DismissError),
                    ]
                    .align_y(Alignment::Center),
                )
                .padding([6, 10])
                .width(Length::Fill)
                .style(theme::error_box),
            );
        }
        if let Some(transfers) = cx.transfers.take() {
            body = body.push(transfers);
        }
        body.push(self.composer_view(&cx)).into()
    }

    fn composer_view<'a>(&'a self, cx: &Context<'a>) -> Element<'a, Message> {
        let lang = cx.lang;
        // Who this is sent as, always: chip, label, and the address when it differs.
        let label = cx.account.label();
        let mut as_line = row![
            widgets::chip(cx.account.colour(), 10),
            text(trf(lang, T::SendAs, &[("account", &label)])).size(12),
        ]
        .spacing(6)
        .align_y(Alignment::Center);
        if label != cx.account.jid.as_str() {
            as_line = as_line.push(text(cx.account.jid.as_str()).size(12).style(theme::muted));
        }
        if !cx.account_online {
            as_line = as_line.push(
                text(tr(lang, T::AccountNotOnline))
                    .size(12)
                    .style(theme::warning_text),
            );
        }
        let composer = timeline::composer(
            lang,
            &self.composer,
            COMPOSER_ID,
            tr(lang, T::ComposerPlaceholder).to_owned(),
            true,
            true,
            &self.actions,
        )
        .map(Message::from);
        let mut bar = column![].spacing(6);
        if let Some(line) = self.typing.line(lang, &cx.peer_label) {
            bar = bar.push(text(line).size(12).style(theme::muted));
        }
        if let Some(compose) = self.actions.bar(lang, timeline::Kind::Chat, &cx.peer_label) {
            bar = bar.push(compose.map(Message::from));
        }
        container(bar.push(as_line).push(composer))
            .padding(10)
            .width(Length::Fill)
            .style(theme::bar)
            .into()
    }
}

#[cfg(test)]
mod tests;
