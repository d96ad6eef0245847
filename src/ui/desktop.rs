//! Desktop integration: requests from a second launch (single instance, `xmpp:` links),
//! desktop notifications, and the tray icon.
//!
//! These come from threads and D-Bus callbacks outside iced, so they all post into one
//! channel that a single subscription turns into [`Event`]s.

use crate::ids::{AccountId, ConversationId};
use crate::instance::{Listener, Request};
use crate::model::{ChatMessage, Show};
use crate::ui::screen::main_area::MainArea;
use crate::ui::{App, Message, Screen};
use crate::uri::{self, XmppUri};
use futures::channel::mpsc;
use futures::stream::{self, Stream, StreamExt};
use iced::{Subscription, Task, window};
use std::sync::{Mutex, OnceLock};
use xmpp_parsers::jid::BareJid;

pub mod display;
pub mod help;
pub mod restore;
pub mod shortcuts;
pub mod switcher;
mod tray;

/// Something the desktop asked of the app.
#[derive(Debug, Clone)]
pub enum Event {
    /// A second launch handed its request over.
    Request(Request),
    /// A notification was clicked: open that conversation (or room).
    Open {
        account: AccountId,
        peer: BareJid,
        room: bool,
    },
    /// Tray: show the window, or hide it when it is showing.
    ToggleWindow,
    /// Tray: set every account's presence.
    Presence(Show),
    /// Tray: quit.
    Quit,
    /// The tray icon is up (`true`) or no tray host exists (`false`).
    TrayStarted(bool),
}

struct Bus {
    tx: mpsc::UnboundedSender<Event>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Event>>>,
}

fn bus() -> &'static Bus {
    static BUS: OnceLock<Bus> = OnceLock::new();
    BUS.get_or_init(|| {
        let (tx, rx) = mpsc::unbounded();
        Bus {
            tx,
            rx: Mutex::new(Some(rx)),
        }
    })
}

/// Posts an event from any thread.
pub(crate) fn post(event: Event) {
    let _ = bus().tx.unbounded_send(event);
}

fn events() -> impl Stream<Item = Event> {
    let rx = bus().rx.lock().ok().and_then(|mut slot| slot.take());
    match rx {
        Some(rx) => rx.left_stream(),
        // Only one subscription may own the channel.
        None => stream::pending().right_stream(),
    }
}

/// Desktop events from outside iced.
pub fn subscription() -> Subscription<Event> {
    Subscription::run(events)
}

/// Serves requests of later launches on a thread of its own.
pub fn listen(listener: Listener) {
    let spawned = std::thread::Builder::new()
        .name("loquat-instance".into())
        .spawn(move || {
            loop {
                match listener.next_request() {
                    Ok(request) => post(Event::Request(request)),
                    Err(e) => {
                        log::warn!("single-instance socket stopped: {e}");
                        return;
                    }
                }
            }
        });
    if let Err(e) = spawned {
        log::warn!("could not listen for other launches: {e}");
    }
}

/// Starts the tray icon (Linux); reports [`Event::TrayStarted`].
pub fn start_tray(lang: crate::ui::i18n::Lang) -> Task<Message> {
    Task::perform(tray::start(lang), |up| {
        Message::Desktop(Event::TrayStarted(up))
    })
}

/// What a notification says and where a click leads.
#[derive(Debug, Clone)]
pub struct Note {
    pub account: AccountId,
    pub peer: BareJid,
    pub room: bool,
    pub title: String,
    pub body: String,
}

/// Shows a notification and waits for a click on it.
async fn show_note(note: Note) -> Option<Event> {
    let mut n = notify_rust::Notification::new();
    n.appname("Loquat")
        .summary(&note.title)
        .body(&note.body)
        .icon("im.loquat.Loquat");
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        n.action("default", "Open")
            .hint(notify_rust::Hint::Category("im.received".into()))
            .hint(notify_rust::Hint::DesktopEntry("im.loquat.Loquat".into()));
        let handle = match n.show_async().await {
            Ok(handle) => handle,
            Err(e) => {
                log::info!("no desktop notification: {e}");
                return None;
            }
        };
        let mut clicked = false;
        handle
            .wait_for_action_async(|response| {
                clicked = matches!(
                    response,
                    notify_rust::NotificationResponse::Default
                        | notify_rust::NotificationResponse::Action(_)
                );
            })
            .await;
        clicked.then_some(Event::Open {
            account: note.account,
            peer: note.peer,
            room: note.room,
        })
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        if let Err(e) = n.show() {
            log::info!("no desktop notification: {e}");
        }
        None
    }
}

impl App {
    /// Does `message` raise a desktop notification now (`crate::notify`)? A request
    /// from a stranger never does (`crate::quiet`).
    pub fn notifies(&self, message: &ChatMessage) -> bool {
        let Some(state) = self.account_state(&message.account) else {
            return false;
        };
        let open_room = self
            .main
            .room()
            .map(|(account, room)| (account, ConversationId::Room(room.clone())));
        let open = match &open_room {
            Some((account, room)) => Some((*account, room)),
            None => self.main.chat().map(|c| (&c.account, &c.conversation)),
        };
        let room = message
            .conversation
            .is_room()
            .then(|| {
                self.rooms
                    .rooms
                    .get(&(message.account.clone(), message.peer().clone()))
            })
            .flatten();
        // Our own messages echoed by the room never notify.
        if room.is_some_and(|r| r.nick == message.sender) {
            return false;
        }
        let ctx = crate::notify::Context {
            window_focused: self.window_focused && self.window_shown,
            open,
            own_presence: state.own_show,
            muted: !self.settings().notifies(message.peer()),
            mention: room
                .is_some_and(|r| crate::ui::room::joined::mentions(&message.body, &r.nick)),
            stranger: !message.conversation.in_room() && state.is_request(message.peer()),
        };
        crate::notify::should_notify(message, &ctx)
    }

    /// A notification for `message` when the policy says so (not on screen, not muted,
    /// not in do-not-disturb, not a stranger).
    pub(in crate::ui) fn notify_task(&self, message: &ChatMessage) -> Task<Message> {
        let Some(state) = self.account_state(&message.account) else {
            return Task::none();
        };
        if !self.notifies(message) {
            return Task::none();
        }
        let sender = if let Some(nick) = message.conversation.private_nick() {
            // A private message in a room: never labelled as the room's bare address.
            format!(
                "{} · {} ({})",
                crate::notify::preview(nick),
                crate::notify::preview(&message.peer().to_string()),
                crate::ui::i18n::tr(self.lang, crate::ui::i18n::T::PrivateMessage)
            )
        } else if message.conversation.is_room() {
            // "nick in room"
            format!(
                "{} · {}",
                crate::notify::preview(&message.sender),
                crate::notify::preview(&message.peer().to_string())
            )
        } else {
            crate::notify::preview(&state.peer_label(message.peer()))
        };
        // With several accounts, say which one the message came to.
        let title = if self.accounts.len() > 1 {
            format!(
                "{sender} → {}",
                crate::notify::preview(&state.account.label())
            )
        } else {
            sender
        };
        let note = Note {
            account: message.account.clone(),
            peer: message.peer().clone(),
            // A private message opens its room (where its conversation is listed).
            room: message.conversation.in_room(),
            title,
            body: crate::notify::preview(&crate::ui::timeline::fold::readable_body(
                self.lang,
                &message.body,
            )),
        };
        Task::perform(show_note(note), |event| match event {
            Some(event) => Message::Desktop(event),
            None => Message::Background(Ok(())),
        })
    }

    /// Keeps the tray's unread count in step with the title.
    pub(in crate::ui) fn sync_tray(&mut self) -> Task<Message> {
        let unread = self.unread_total();
        if self.tray_unread == Some(unread) || !self.tray_up {
            return Task::none();
        }
        self.tray_unread = Some(unread);
        Task::future(tray::set_unread(unread)).discard()
    }

    pub(in crate::ui) fn on_desktop(&mut self, event: Event) -> Task<Message> {
        match event {
            Event::Request(Request::Show) => self.show_window(),
            Event::Request(Request::Open(text)) => {
                Task::batch([self.show_window(), self.open_uri(&text)])
            }
            Event::Open {
                account,
                peer,
                room: true,
            } => {
                self.screen = Screen::Main;
                let open = self.update(Message::Rooms(crate::ui::room::Message::Open(
                    account, peer,
                )));
                Task::batch([self.show_window(), open])
            }
            Event::Open { account, peer, .. } => {
                self.screen = Screen::Main;
                Task::batch([self.show_window(), self.open_conversation(account, peer)])
            }
            Event::ToggleWindow => {
                if self.window_shown {
                    self.window_shown = false;
                    window::latest().and_then(|id| window::set_mode(id, window::Mode::Hidden))
                } else {
                    self.show_window()
                }
            }
            Event::Presence(show) => {
                self.presence_for_all(show, None);
                Task::none()
            }
            Event::Quit => self.flush_and_quit(),
            Event::TrayStarted(up) => {
                self.tray_up = up;
                self.sync_tray()
            }
        }
    }

    /// Start-up replaces the whole app state; what the desktop told us stays.
    pub(in crate::ui) fn keep_desktop_state(&mut self, previous: App) {
        self.window_focused = previous.window_focused;
        self.window_shown = previous.window_shown;
        self.tray_up = previous.tray_up;
        self.tray_unread = previous.tray_unread;
        if self.pending_uri.is_none() {
            self.pending_uri = previous.pending_uri;
        }
    }

    /// Closing the window: hide it to the tray when the user wants that and a tray
    /// host shows our icon (`None`: quit as usual).
    pub(in crate::ui) fn close_to_tray(&mut self) -> Option<Task<Message>> {
        if !(self.settings().close_to_tray && self.tray_up) {
            return None;
        }
        self.window_shown = false;
        Some(window::latest().and_then(|id| window::set_mode(id, window::Mode::Hidden)))
    }

    fn show_window(&mut self) -> Task<Message> {
        self.window_shown = true;
        window::latest().and_then(|id| {
            window::set_mode::<Message>(id, window::Mode::Windowed).chain(window::gain_focus(id))
        })
    }

    /// Acts on an `xmpp:` URI from the command line or another launch.
    pub fn open_uri(&mut self, text: &str) -> Task<Message> {
        let parsed = match uri::parse(text) {
            Ok(parsed) => parsed,
            Err(e) => {
                use crate::ui::i18n::{T, tr, trf};
                let notice = match e {
                    uri::UriError::NotXmpp => tr(self.lang, T::UriNotXmpp).to_owned(),
                    uri::UriError::BadAddress => tr(self.lang, T::UriBadAddress).to_owned(),
                    uri::UriError::BadEncoding => tr(self.lang, T::UriBadEncoding).to_owned(),
                    uri::UriError::UnknownAction(action) => trf(
                        self.lang,
                        T::UriUnknownAction,
                        &[("action", &crate::notify::preview(&action))],
                    ),
                };
                self.notice(notice);
                return Task::none();
            }
        };
        if self.accounts.is_empty() {
            // Nothing to open it with yet: keep it until an account exists.
            self.pending_uri = Some(text.to_owned());
            return Task::none();
        }
        self.screen = Screen::Main;
        match parsed {
            XmppUri::Message { jid, body } => {
                let Some(account) = self.account_for(&jid) else {
                    return Task::none();
                };
                let task = self.open_conversation(account, jid.clone());
                if let (Some(body), Some(open)) = (body, self.main.chat_mut())
                    && open.conversation == ConversationId::Chat(jid)
                {
                    open.set_draft(&body);
                    self.desk.touch();
                }
                task
            }
            XmppUri::Roster { jid, name } => self.start_add_contact(jid, name),
            XmppUri::Subscribe { jid } => self.start_add_contact(jid, None),
            XmppUri::Join { room, password } => {
                use crate::ui::room;
                use crate::ui::room::join;
                let mut steps = vec![
                    room::Message::OpenJoin,
                    room::Message::Join(join::Message::Room(room.to_string())),
                ];
                if let Some(password) = password {
                    steps.push(room::Message::Join(join::Message::Password(password)));
                }
                Task::batch(
                    steps
                        .into_iter()
                        .map(|step| self.update(Message::Rooms(step))),
                )
            }
        }
    }

    /// The account to open `peer` with: the remembered choice, else one that has them in
    /// its roster, else the one that talked with them last, else the first online
    /// account, else the first account.
    fn account_for(&self, peer: &BareJid) -> Option<AccountId> {
        if let Some(Some(chosen)) = self.send_as.get(peer)
            && self.account_state(chosen).is_some()
        {
            return Some(chosen.clone());
        }
        self.accounts
            .iter()
            .find(|a| a.in_roster(peer))
            // The newest conversation with them, from whichever account.
            .or_else(|| {
                self.accounts
                    .iter()
                    .filter_map(|a| {
                        let entry = a.conversations.iter().find(|c| &c.peer == peer)?;
                        Some((entry.last_activity_ms, a))
                    })
                    .max_by_key(|(when, _)| *when)
                    .map(|(_, a)| a)
            })
            .or_else(|| self.accounts.iter().find(|a| a.is_online()))
            .or_else(|| self.accounts.first())
            .map(|a| a.account.id.clone())
    }

    fn start_add_contact(&mut self, jid: BareJid, name: Option<String>) -> Task<Message> {
        use crate::ui::screen::sidebar::Message as S;
        for message in [
            S::StartAdd,
            S::AddJidInput(jid.to_string()),
            S::AddNameInput(name.unwrap_or_default()),
        ] {
            let _ = self.sidebar.update(message, &self.accounts);
        }
        Task::none()
    }

    /// The join dialog, when open: the room address and password typed so far (tests).
    pub fn joining_room(&self) -> Option<(&str, &str)> {
        match &self.main {
            MainArea::Join(_, form) => Some((form.room.as_str(), form.password.as_str())),
            _ => None,
        }
    }

    /// The add-contact form, when open: address and name (tests).
    pub fn adding_contact(&self) -> Option<(&str, &str)> {
        self.sidebar.adding()
    }

    fn unread_total(&self) -> u32 {
        self.accounts
            .iter()
            .map(crate::ui::app::account_state::AccountState::unread_total)
            .sum()
    }
}
