//! What the app does with the events of its panels and the updates of its sessions.

use crate::ids::{AccountId, ConversationId, LocalMessageId};
use crate::model::{Account, Direction, Show};
use crate::session::{Command, NotConnected, Update, UpdateKind};
use crate::ui::app::account_state::{AccountState, Connection};
use crate::ui::app::startup::blocking;
use crate::ui::chat::{self, PAGE, Problem};
use crate::ui::i18n::{T, trf};
use crate::ui::screen::onboarding;
use crate::ui::screen::sidebar::{self, RequestAction};
use crate::ui::{App, Message, Screen};
use iced::Task;
use iced::widget::operation::RelativeOffset;

/// Least time between two displayed markers sent because messages arrived.
pub const MARKER_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);
use xmpp_parsers::jid::BareJid;

impl App {
    /// The sign-in form verified a login: keep the account (last in the list), save it
    /// and its password off the UI thread, and show the main screen (or the account
    /// list, when this was "add another account"). `allow_plain`: the form allowed PLAIN
    /// login, which the account keeps.
    pub(in crate::ui) fn signed_in(
        &mut self,
        mut account: Account,
        password: String,
        allow_plain: bool,
        session: crate::session::handover::Handover,
    ) -> Task<Message> {
        account.position = self
            .accounts
            .iter()
            .filter(|a| a.account.id != account.id)
            .map(|a| a.account.position.saturating_add(1))
            .max()
            .unwrap_or(0);
        let mut tasks = vec![self.save_password_task(&account.id, password.clone())];
        if let Some(store) = self.store.clone() {
            let saved = account.clone();
            tasks.push(Task::perform(
                blocking(move || store.save_account(&saved).map_err(|e| e.to_string())),
                |result| Message::AccountSaved(result.and_then(|r| r)),
            ));
        }
        if allow_plain {
            tasks.push(self.save_allow_plain_task(&account.id, true));
        }
        self.accounts.retain(|a| a.account.id != account.id);
        let mut state = AccountState::new(account, Some(password));
        state.allow_plain = allow_plain;
        state.handover = session;
        self.accounts.push(state);
        self.screen = if self.onboarding.is_adding() {
            Screen::Accounts
        } else {
            Screen::Main
        };
        self.onboarding = onboarding::State::new();
        Task::batch(tasks)
    }

    pub(in crate::ui) fn account_mut(&mut self, id: &AccountId) -> Option<&mut AccountState> {
        self.accounts.iter_mut().find(|a| &a.account.id == id)
    }

    pub(in crate::ui) fn send(
        &self,
        account: &AccountId,
        command: Command,
    ) -> Result<(), NotConnected> {
        self.handles
            .get(account)
            .ok_or(NotConnected)
            .and_then(|handle| handle.send(command))
    }

    pub(in crate::ui) fn on_sidebar(&mut self, event: sidebar::Event) -> Task<Message> {
        match event {
            sidebar::Event::Open { account, peer } => return self.open_conversation(account, peer),
            sidebar::Event::OpenContact(peer) => return self.open_contact(peer),
            sidebar::Event::OpenProfile { account, jid } => return self.open_profile(account, jid),
            sidebar::Event::JoinRoom(filter) => return self.open_join(filter),
            sidebar::Event::Command { account, command } => {
                if self.send(&account, command).is_err() {
                    self.sidebar.set_error(account, T::CommandNotConnected);
                }
            }
            sidebar::Event::Commands(commands) => {
                for (account, command) in commands {
                    if self.send(&account, command).is_err() {
                        self.sidebar.set_error(account, T::CommandNotConnected);
                    }
                }
            }
            sidebar::Event::Reconnect(account) => self.reconnect(&account),
            sidebar::Event::PresenceForAll(show) => self.presence_for_all(show, None),
            sidebar::Event::OpenAccounts => self.screen = Screen::Accounts,
            sidebar::Event::Fix(account) => {
                self.screen = Screen::Accounts;
                if let Some(state) = self.accounts.iter().find(|a| a.account.id == account) {
                    return self.settings.open_editor(state).map(Message::Settings);
                }
            }
            sidebar::Event::FilterChanged(filter) => {
                // The search follows the account filter.
                let again = self.on_search(crate::ui::screen::search::Message::Again);
                return Task::batch([self.filter_changed(filter), again]);
            }
            sidebar::Event::Enable(account) => return self.set_enabled(&account, true),
            sidebar::Event::Password { account, password } => {
                self.handles.remove(&account);
                if let Some(state) = self.account_mut(&account) {
                    state.password = Some(password);
                    state.reconnect();
                }
            }
            sidebar::Event::OwnPresence {
                account,
                show,
                status,
            } => {
                let Some(state) = self.account_mut(&account) else {
                    return Task::none();
                };
                state.own_show = show;
                state.own_status = status.clone();
                // When offline, the choice is sent once the session is online.
                if state.is_online() {
                    let command = Command::SetPresence {
                        show,
                        status: (!status.is_empty()).then_some(status),
                    };
                    if self.send(&account, command).is_err() {
                        self.sidebar.set_error(account, T::CommandNotConnected);
                    }
                }
            }
            sidebar::Event::Request {
                account,
                jid,
                action,
            } => return self.on_request(account, jid, action),
            sidebar::Event::Answered {
                account,
                jid,
                accept,
            } => {
                let command = Command::AnswerSubscription {
                    jid: jid.clone(),
                    accept,
                };
                if self.send(&account, command).is_err() {
                    self.sidebar.set_error(account, T::CommandNotConnected);
                } else if let Some(state) = self.account_mut(&account) {
                    state.remove_request(&jid);
                }
            }
        }
        Task::none()
    }

    /// Tells the peer of the open conversation we have seen their latest message
    /// (XEP-0333): only while the window has the focus, once per message.
    pub(in crate::ui) fn send_displayed(&mut self) {
        if !self.window_focused {
            return;
        }
        let Some(conversation) = self.main.chat() else {
            return;
        };
        // No read marker to a stranger until they are accepted (`crate::quiet`).
        if self
            .account_state(&conversation.account)
            .is_some_and(|s| s.is_request(conversation.conversation.jid()))
        {
            return;
        }
        let Some(last) = conversation
            .messages()
            .iter()
            .rev()
            .find(|m| m.direction == Direction::Incoming && !m.conversation.is_room())
        else {
            return;
        };
        let Some(id) = last.stanza_id_attr.clone() else {
            return;
        };
        let key = (
            conversation.account.clone(),
            last.peer().clone(),
            id.clone(),
        );
        if self.last_displayed.as_ref() == Some(&key) {
            return;
        }
        if let Some(handle) = self.handles.get(&conversation.account)
            && handle
                .send(Command::MarkDisplayed {
                    peer: last.peer().clone(),
                    id,
                })
                .is_ok()
        {
            self.last_displayed = Some(key);
            self.displayed_at = Some(std::time::Instant::now());
        }
    }

    /// A displayed marker for a message that just arrived in the chat on screen: at
    /// once, unless one went out less than [`MARKER_PAUSE`] ago; then one marker for the
    /// newest message when the pause ends (markers are cumulative, XEP-0333). A flood
    /// of 5,000 sent 5,000 markers back, and the sender handled each one.
    pub(in crate::ui) fn displayed_soon(&mut self) -> Task<Message> {
        let since = self.displayed_at.map(|t| t.elapsed());
        match since {
            Some(since) if since < MARKER_PAUSE => {
                if self.displayed_waiting {
                    return Task::none();
                }
                self.displayed_waiting = true;
                // The timer is made when the runtime polls it (not here, where there
                // may be no runtime).
                let pause = MARKER_PAUSE - since;
                Task::perform(async move { tokio::time::sleep(pause).await }, |_| {
                    Message::DisplayedDue
                })
            }
            _ => {
                self.send_displayed();
                Task::none()
            }
        }
    }

    /// Tells the session of the open chat's account which chat is on screen: a long
    /// catch-up then fetches that chat's newest messages first.
    pub(in crate::ui) fn tell_viewing(&self) {
        let Some(open) = self.main.chat() else {
            return;
        };
        let ConversationId::Chat(peer) = &open.conversation else {
            return;
        };
        if let Some(handle) = self.handles.get(&open.account) {
            let _ = handle.send(Command::Viewing {
                peer: Some(peer.clone()),
            });
        }
    }

    /// The chat on screen leaves it for a room or another account's chat: its session
    /// stops fetching that chat's newest page first.
    pub(in crate::ui) fn withdraw_viewing(&self, next: Option<&AccountId>) {
        let Some(open) = self.main.chat() else {
            return;
        };
        if matches!(open.conversation, ConversationId::Chat(_))
            && Some(&open.account) != next
            && let Some(handle) = self.handles.get(&open.account)
        {
            let _ = handle.send(Command::Viewing { peer: None });
        }
    }

    pub(in crate::ui) fn open_conversation(
        &mut self,
        account: AccountId,
        peer: BareJid,
    ) -> Task<Message> {
        if self.is_room(&account, &peer) {
            return self.open_room(account, peer);
        }
        self.withdraw_viewing(Some(&account));
        self.main.close_rooms();
        if self.main.chat().is_some_and(|c| c.is(&account, &peer)) {
            // Already open (e.g. restored at start-up): clicking it still means "write".
            return iced::widget::operation::focus(chat::COMPOSER_ID);
        }
        let has_store = self.store.is_some();
        self.stash_draft();
        let Some(state) = self.account_mut(&account) else {
            return Task::none();
        };
        let unread = state
            .conversations
            .iter()
            .find(|c| c.peer == peer)
            .map_or(0, |c| c.unread);
        state.mark_read(&peer);
        let mut open = chat::State::new(
            account.clone(),
            ConversationId::Chat(peer.clone()),
            has_store,
        );
        for message in state.recent(&peer) {
            open.push(message.clone());
        }
        open.set_unread(unread);
        open.avatar = state.avatars.get(&peer).cloned();
        self.restore_draft(&mut open);
        let conv_id = open.conversation.clone();
        self.main.show_chat(open);
        self.tell_viewing();
        let lock = self.encryption_opened(&account, &peer);
        let focus = iced::widget::operation::focus(chat::COMPOSER_ID);
        let Some(store) = self.store.clone() else {
            return Task::batch([focus, lock]);
        };
        let (a_for_gaps, account_for_gaps) = (account.clone(), account.clone());
        let load = self.load_latest_chat(account, conv_id);
        let gap_reader = store.clone();
        let gap_account = a_for_gaps;
        let gaps = Task::perform(
            blocking(move || gap_reader.history_gaps(&gap_account)),
            move |result| match result.and_then(|r| r.map_err(|e| e.to_string())) {
                Ok(gaps) => Message::GapsLoaded {
                    account: account_for_gaps.clone(),
                    gaps,
                },
                Err(e) => Message::Background(Err(e)),
            },
        );
        let mark = self.mark_read_task(store);
        Task::batch([focus, load, gaps, mark, lock])
    }

    /// Marks the open conversation read in the store, off the UI thread.
    fn mark_read_task(&self, store: crate::store::Store) -> Task<Message> {
        let Some(open) = self.main.chat() else {
            return Task::none();
        };
        let (account, conversation) = (open.account.clone(), open.conversation.clone());
        Task::perform(
            blocking(move || {
                store
                    .mark_read(&account, &conversation)
                    .map_err(|e| e.to_string())
            }),
            |result| Message::Background(result.and_then(|r| r)),
        )
    }

    /// Opens a link from a message in the system's browser.
    pub(in crate::ui) fn open_link(&self, url: String) -> Task<Message> {
        Task::perform(
            blocking(move || ::open::that_detached(&url).map_err(|e| e.to_string())),
            |result| Message::LinkOpened(result.and_then(|r| r)),
        )
    }

    pub(in crate::ui) fn on_conversation(&mut self, event: chat::Event) -> Task<Message> {
        let Some(open) = self.main.chat() else {
            return Task::none();
        };
        match event {
            e @ (chat::Event::Composing | chat::Event::Paused) => {
                if !self.settings().chat_states {
                    return Task::none();
                }
                // Best effort: not being able to say "typing" is not worth a word.
                let command = Command::SendChatState {
                    conversation: open.conversation.clone(),
                    state: if matches!(e, chat::Event::Paused) {
                        crate::session::ChatState::Paused
                    } else {
                        crate::session::ChatState::Composing
                    },
                };
                let _ = self.send(&open.account.clone(), command);
                Task::none()
            }
            chat::Event::React { target, emojis } => {
                let (account, conversation) = (open.account.clone(), open.conversation.clone());
                let command = Command::React {
                    conversation,
                    target,
                    emojis,
                };
                if self.send(&account, command).is_err()
                    && let Some(open) = self.main.chat_mut()
                {
                    open.set_problem(Problem::NotConnected);
                }
                Task::none()
            }
            chat::Event::Command(command) => {
                let composed = matches!(command, Command::Correct { .. } | Command::Reply { .. });
                let result = self.send(&open.account.clone(), command);
                let Some(open) = self.main.chat_mut() else {
                    return Task::none();
                };
                match result {
                    Ok(()) if composed => {
                        open.sent();
                        iced::widget::operation::snap_to(
                            chat::LIST_ID,
                            RelativeOffset {
                                x: None,
                                y: Some(0.0),
                            },
                        )
                    }
                    Ok(()) => Task::none(),
                    Err(NotConnected) => {
                        open.set_problem(Problem::NotConnected);
                        Task::none()
                    }
                }
            }
            chat::Event::Show => crate::ui::timeline::actions::show(chat::LIST_ID),
            chat::Event::Focus => iced::widget::operation::focus(chat::COMPOSER_ID),
            chat::Event::ToggleMute => {
                let peer = open.conversation.jid().clone();
                let mut settings = self.settings().clone();
                if !settings.muted.remove(&peer) {
                    settings.muted.insert(peer);
                }
                self.apply_settings(settings)
            }
            chat::Event::Send(body) => {
                let (account, peer) = (open.account.clone(), open.conversation.jid().clone());
                // Answering a stranger accepts them: the chat leaves Requests, as the
                // Accept button does (and as Conversations adds whom you write to).
                let accepted = if !open.conversation.is_room()
                    && self
                        .account_state(&account)
                        .is_some_and(|s| s.is_request(&peer))
                {
                    self.on_request(account.clone(), peer.clone(), RequestAction::Accept)
                } else {
                    Task::none()
                };
                let command = Command::SendChat {
                    to: peer,
                    body,
                    id: LocalMessageId::generate(),
                };
                let result = self.send(&account, command);
                let Some(open) = self.main.chat_mut() else {
                    return accepted;
                };
                let shown = match result {
                    Ok(()) => {
                        open.sent();
                        // The list is anchored at the bottom: offset 0 is the newest.
                        iced::widget::operation::snap_to(
                            chat::LIST_ID,
                            RelativeOffset {
                                x: None,
                                y: Some(0.0),
                            },
                        )
                    }
                    Err(NotConnected) => {
                        open.set_problem(Problem::NotConnected);
                        Task::none()
                    }
                };
                // Writing while reading older messages: back to the newest, where
                // what was sent shows.
                let newest = if open.in_window() {
                    self.on_chat_window(chat::Event::Newest)
                } else {
                    Task::none()
                };
                Task::batch([accepted, shown, newest])
            }
            chat::Event::LoadOlder(oldest) => {
                let Some(store) = self.store.clone() else {
                    return Task::none();
                };
                let (account, conversation) = (open.account.clone(), open.conversation.clone());
                let (a, c) = (account.clone(), conversation.clone());
                Task::perform(
                    blocking(move || {
                        store
                            .before(&a, &c, &oldest, PAGE)
                            .map_err(|e| e.to_string())
                    }),
                    move |result| Message::HistoryLoaded {
                        account: account.clone(),
                        conversation: conversation.clone(),
                        older: true,
                        result: result.and_then(|r| r),
                    },
                )
            }
            chat::Event::LoadOlderArchive { before, below_ms } => {
                let (account, peer) = (open.account.clone(), open.conversation.jid().clone());
                let command = Command::ChatLoadOlder {
                    peer,
                    before,
                    below_ms,
                };
                if self.send(&account, command).is_err()
                    && let Some(open) = self.main.chat_mut()
                {
                    open.archive_page(Vec::new(), None, false, true);
                    open.set_problem(Problem::NotConnected);
                }
                Task::none()
            }
            e @ (chat::Event::LoadAround(_) | chat::Event::LoadNewer(_) | chat::Event::Newest) => {
                self.on_chat_window(e)
            }
            chat::Event::Encryption(e) => match self.main.chat() {
                Some(open) => {
                    let (account, peer) = (open.account.clone(), open.conversation.jid().clone());
                    self.on_encryption(account, peer, e)
                }
                None => Task::none(),
            },
            chat::Event::OpenLink(url) => self.open_link(url),
            chat::Event::WriteAs(account) => self.write_as(account),
            e @ (chat::Event::Attach
            | chat::Event::Download(_)
            | chat::Event::SaveAs(_)
            | chat::Event::Transfers(_)) => self.on_file_event(e),
            chat::Event::Retry(id) => {
                let account = open.account.clone();
                if self.send(&account, Command::Resend { id }).is_err()
                    && let Some(open) = self.main.chat_mut()
                {
                    open.set_problem(Problem::NotConnected);
                }
                Task::none()
            }
        }
    }

    pub(in crate::ui) fn on_session(&mut self, update: Update) -> Task<Message> {
        let lang = self.lang;
        let account = update.account;
        let Some(index) = self.accounts.iter().position(|a| a.account.id == account) else {
            return Task::none();
        };
        let state = &mut self.accounts[index];
        match update.kind {
            UpdateKind::Ready(handle) => {
                // A session that was starting while its account got disabled.
                if state.account.enabled {
                    self.handles.insert(account, handle);
                    self.tell_viewing();
                }
            }
            UpdateKind::Connecting { attempt } => {
                state.connection = Connection::Connecting { attempt }
            }
            UpdateKind::Online { bound, .. } => {
                state.connection = Connection::Online { bound };
                if state.own_show != Show::Online || !state.own_status.is_empty() {
                    let status = state.own_status.clone();
                    let command = Command::SetPresence {
                        show: state.own_show,
                        status: (!status.is_empty()).then_some(status),
                    };
                    if self.send(&account, command).is_err() {
                        log::warn!("could not restore the presence of {account}");
                    }
                }
                self.omemo_online(&account);
            }
            UpdateKind::Disconnected {
                error,
                retry_in_secs,
            } => {
                state.clear_presences();
                state.connection = Connection::Disconnected {
                    error,
                    retry_in_secs,
                }
            }
            UpdateKind::Failed(error) => {
                // Only this account: its contacts are not known to be online any more.
                state.clear_presences();
                state.connection = Connection::Failed(error);
            }
            UpdateKind::Roster(contacts) => state.set_roster(contacts),
            UpdateKind::ContactChanged(contact) => {
                let peer = contact.jid.clone();
                state.upsert_contact(contact);
                // An accepted request on screen: its read marker may go now.
                if self.main.chat().is_some_and(|c| c.is(&account, &peer)) {
                    self.send_displayed();
                }
            }
            UpdateKind::ContactRemoved(jid) => state.remove_contact(&jid),
            UpdateKind::Presence { from, show, status } => state.set_presence(&from, show, status),
            UpdateKind::SubscriptionRequest { from } => state.add_request(from),
            UpdateKind::Message(message) => {
                if message.conversation.in_room() {
                    // Rooms have their own view (see `ui::room`), and a line in the inbox.
                    self.room_message(&message, false);
                    return Task::none();
                }
                let open = self.main.chat().is_some_and(|c| {
                    c.is(&account, message.peer()) && !message.conversation.is_room()
                });
                state.note_message(&message, open);
                state.remember(&message);
                let incoming = message.direction == Direction::Incoming;
                if open
                    && let Some(conversation) = self.main.chat_mut()
                    && conversation.push_live(message)
                    && incoming
                {
                    let marker = self.displayed_soon();
                    if let Some(store) = self.store.clone() {
                        return Task::batch([marker, self.mark_read_task(store)]);
                    }
                    return marker;
                }
            }
            UpdateKind::History(messages) => {
                for message in messages {
                    if message.conversation.in_room() {
                        self.room_message(&message, true);
                        continue;
                    }
                    let Some(state) = self.account_mut(&account) else {
                        continue;
                    };
                    state.note_message(&message, true);
                    state.remember(&message);
                    if let Some(conversation) = self.main.chat_mut().filter(|c| {
                        c.is(&account, message.peer()) && !message.conversation.is_room()
                    }) {
                        conversation.push(message);
                    }
                }
            }
            UpdateKind::Delivery {
                id,
                state: delivery,
            } => {
                state.set_delivery(&id, &delivery);
                self.rooms.set_delivery(&account, &id, &delivery);
                if let Some(conversation) = self.main.chat_mut().filter(|c| c.account == account) {
                    conversation.set_delivery(&id, delivery);
                }
            }
            UpdateKind::Omemo(report) => self.omemo_report(&account, report),
            UpdateKind::Notice(notice) => {
                let label = state.account.label();
                self.notice(trf(
                    lang,
                    T::AccountNotice,
                    &[("account", &label), ("notice", &notice)],
                ));
            }
            UpdateKind::Avatars(faces) => {
                for (jid, path) in faces {
                    if let Some(open) = self.main.chat_mut().filter(|c| {
                        c.account == account && c.conversation == ConversationId::Chat(jid.clone())
                    }) {
                        open.avatar = path.clone();
                    }
                    match path {
                        Some(path) => state.avatars.insert(jid, path),
                        None => state.avatars.remove(&jid),
                    };
                }
            }
            UpdateKind::OccupantAvatars { room, faces } => {
                self.rooms.set_occupant_faces(&account, &room, faces)
            }
            UpdateKind::AvatarPublished(result) => {
                let label = state.account.label();
                self.notice(match result {
                    Ok(()) => trf(lang, T::AvatarPublished, &[("account", &label)]),
                    Err(why) => trf(
                        lang,
                        T::AvatarNotPublished,
                        &[("account", &label), ("why", &why)],
                    ),
                });
            }
            UpdateKind::Room(update) => self.rooms.apply(&mut self.main, &account, &update),
            UpdateKind::Blocklist {
                items,
                supported,
                reporting,
            } => state.set_blocking(crate::quiet::Blocking {
                items,
                supported,
                reporting,
            }),
            UpdateKind::BlockRefused { block, jids, error } => {
                let jids: Vec<String> = jids.iter().map(|j| j.to_string()).collect();
                let key = match (block, state.blocking.supported) {
                    (_, false) => T::BlockUnsupported,
                    (true, true) => T::BlockRefused,
                    (false, true) => T::UnblockRefused,
                };
                self.notice(trf(
                    lang,
                    key,
                    &[("jid", &jids.join(", ")), ("detail", &error)],
                ));
            }
            // History already arrived message by message. What the burst freed goes
            // back to the system (`memory`).
            UpdateKind::CaughtUp => {
                return Task::perform(blocking(crate::memory::give_back_freed), |_| ()).discard();
            }
            UpdateKind::MessageChanged(message) => {
                if let Some(open) = self.main.chat_mut()
                    && open.account == account
                {
                    open.replace(&message);
                }
                if message.conversation.is_room()
                    && let Some(r) = self
                        .rooms
                        .rooms
                        .get_mut(&(account.clone(), message.peer().clone()))
                {
                    r.replace(&message);
                }
            }
            UpdateKind::ChatState {
                conversation,
                nick,
                state,
            } => {
                if let Some(open) = self.main.chat_mut()
                    && open.account == account
                    && open.conversation == conversation
                {
                    open.typing.set("", state.clone());
                }
                if let (crate::ids::ConversationId::Room(room), Some(nick)) = (&conversation, &nick)
                    && let Some(r) = self.rooms.rooms.get_mut(&(account.clone(), room.clone()))
                {
                    r.typing.set(nick, state);
                }
            }
            UpdateKind::HistoryGap(gap) => {
                if let Some(open) = self.main.chat_mut()
                    && open.account == account
                {
                    open.add_gap(gap);
                }
            }
            UpdateKind::RoomOlder {
                room,
                messages,
                first,
                complete,
            } => return self.room_older_arrived(account, room, messages, first, complete),
            UpdateKind::ChatOlder {
                peer,
                messages,
                first,
                complete,
                failed,
            } => {
                let Some(open) = self.main.chat_mut().filter(|c| {
                    c.account == account && c.conversation == ConversationId::Chat(peer.clone())
                }) else {
                    return Task::none();
                };
                let next = if open.archive_page(messages, first, complete, failed) {
                    open.continue_in_archive()
                } else {
                    open.seek_step()
                };
                if let Some(next) = next {
                    return self.on_conversation(next);
                }
            }
        }
        Task::none()
    }
}
