//! The iced application: app state, the top `Message`, `update`, `view` and the session
//! subscriptions. Screens and panels live in their own modules; the handlers of what
//! they ask for live in `app::handlers`.

pub mod app;
pub mod chat;
pub mod desktop;
pub mod i18n;
pub mod room;
pub mod screen;
pub mod theme;
pub mod timeline;
pub mod widgets;

use app::account_state::AccountState;
use app::{session_bridge, startup};
use desktop::restore;
use room::tasks;
use screen::main_area::MainArea;
use screen::{notices, onboarding, search, settings, sidebar};
use timeline::{attach, transfers};

use crate::ids::{AccountId, ConversationId};
use crate::model::ChatMessage;
use crate::secrets::{SecretError, SecretStore};
use crate::session::{Handle, Update};
use crate::store::Store;
use i18n::{Lang, T, tr, trf};
use iced::widget::{column, container, row, text};
use iced::{Element, Length, Size, Subscription, Task, window};
use startup::{Startup, blocking};
use std::collections::HashMap;
use std::sync::Arc;
use xmpp_parsers::jid::BareJid;

/// How this process was started: the single-instance socket it serves (none when it
/// could not be made) and what the command line asked for.
pub struct Launch {
    pub listener: Option<crate::instance::Listener>,
    pub request: crate::instance::Request,
}

/// Starts the application and returns when its window is closed.
pub fn run(launch: Launch) -> iced::Result {
    let lang = Lang::from_env();
    if let Some(listener) = launch.listener {
        desktop::listen(listener);
    }
    let uri = match launch.request {
        crate::instance::Request::Open(uri) => Some(uri),
        crate::instance::Request::Show => None,
    };
    // The store and the keyring are read from now on, beside iced's own start (fonts,
    // window, renderer), so the first frame can show the inbox or the sign-in form.
    let early = early_startup();
    iced::application(
        move || {
            let early = early.lock().ok().and_then(|mut e| e.take());
            App::boot(lang, uri.clone(), early)
        },
        App::update,
        App::view,
    )
    .title(App::title)
    .subscription(App::subscription)
    .theme(App::theme)
    .window(window_settings())
    .run()
}

/// Loads the start-up state on a thread of its own; its result comes on the receiver.
fn early_startup() -> Arc<std::sync::Mutex<Option<std::sync::mpsc::Receiver<Startup>>>> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("loquat-startup".into())
        .spawn(move || {
            let _ = tx.send(startup::load(open_secrets));
        });
    Arc::new(std::sync::Mutex::new(spawned.ok().map(|_| rx)))
}

/// How long `boot` waits for the early start-up before it shows "Loading" instead: the
/// store and keyring are usually read by the time iced asks, and a window whose first
/// frame is already the inbox is worth this short wait.
const EARLY_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

/// The keyring used for passwords (blocking: called off the UI thread at start-up).
pub fn open_secrets() -> Result<Arc<dyn SecretStore>, SecretError> {
    Ok(Arc::new(crate::secrets::KeyringSecrets::init()?))
}

fn window_settings() -> window::Settings {
    window::Settings {
        size: Size::new(1100.0, 720.0),
        min_size: Some(Size::new(720.0, 480.0)),
        // The desk module saves the window state and drafts, then exits or hides the
        // window to the tray (see `desktop`).
        exit_on_close_request: false,
        #[cfg(target_os = "linux")]
        platform_specific: window::settings::PlatformSpecific {
            application_id: "im.loquat.Loquat".into(),
            ..Default::default()
        },
        ..window::Settings::default()
    }
}

#[derive(Debug, Clone)]
pub enum Message {
    /// Start-up finished loading (off the UI thread).
    Started(Startup),
    /// While loading: time to look at how far opening the store has come.
    StartingTick,
    Onboarding(onboarding::Message),
    /// The search field above the inbox and its results (issue #19).
    Search(search::Message),
    Sidebar(sidebar::Message),
    Conversation(chat::Message),
    /// Settings > Accounts.
    Settings(settings::Message),
    /// A contact's profile in the main area.
    Profile(screen::profile::Message),
    /// Something happened in a session.
    Session(Update),
    /// A stretch of a chat's history from the store: the messages around one
    /// (`around`), or the page after the newest shown.
    ChatWindow {
        account: AccountId,
        conversation: ConversationId,
        around: bool,
        result: Result<Vec<ChatMessage>, String>,
    },
    HistoryLoaded {
        account: AccountId,
        conversation: ConversationId,
        older: bool,
        result: Result<Vec<ChatMessage>, String>,
    },
    /// The history gaps of the open conversation's account were read.
    GapsLoaded {
        account: AccountId,
        gaps: Vec<crate::store::HistoryGap>,
    },
    PasswordSaved(Result<(), String>),
    AccountSaved(Result<(), String>),
    /// The remembered "write as" account of a contact was read (opens the contact).
    SendAsLoaded {
        peer: BareJid,
        account: Option<AccountId>,
    },
    /// Removing an account's data and keyring entry finished.
    AccountRemoved {
        account: AccountId,
        was_enabled: bool,
        result: Result<(), String>,
    },
    /// A preference (filter, "write as" choice) was written.
    PrefSaved(Result<(), String>),
    LinkOpened(Result<(), String>),
    /// A background write finished (only failures are logged).
    Background(Result<(), String>),
    Notices(notices::Message),
    /// Tab / Shift+Tab moves the keyboard focus to the next / previous field.
    FocusNext {
        backwards: bool,
    },
    /// The window gained or lost the keyboard focus.
    WindowFocused(bool),
    /// The pause between displayed markers while messages stream in is over.
    DisplayedDue,
    /// Second launches, notification clicks, the tray.
    Desktop(desktop::Event),
    /// Settings > General, shortcuts, switcher, help, window state and drafts.
    Desk(restore::Message),
    /// Group chat: room list, join dialog, open room.
    Rooms(room::Message),
    /// File transfers (issue #4).
    Transfers(transfers::Message),
    /// Files to send to the open conversation (chosen or dropped on the window).
    FilesChosen(Vec<std::path::PathBuf>),
    /// Ctrl+V: send the clipboard's image, if it holds one.
    PasteImage,
    /// Where to save a received file (from the save dialog; `None`: cancelled).
    SaveTo(Box<ChatMessage>, Option<std::path::PathBuf>),
    /// A frame was drawn (listened to only for `LOQUAT_LOG_FIRST_FRAME`).
    FrameDrawn,
}

/// `LOQUAT_LOG_FIRST_FRAME=1` prints the wall-clock time of the first frame drawn after
/// loading (the start-up bench reads it); cleared once printed.
static FIRST_FRAME_PENDING: std::sync::LazyLock<std::sync::atomic::AtomicBool> =
    std::sync::LazyLock::new(|| {
        std::sync::atomic::AtomicBool::new(std::env::var_os("LOQUAT_LOG_FIRST_FRAME").is_some())
    });

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Screen {
    Loading,
    Onboarding,
    Main,
    /// Settings > Accounts.
    Accounts,
    /// Settings > General.
    General,
}

pub struct App {
    lang: Lang,
    screen: Screen,
    store: Option<Store>,
    /// Follows the store while the app runs (issue #19); searched by the search view.
    #[allow(dead_code)]
    search: Option<Arc<crate::search::SearchIndex>>,
    secrets: Option<Arc<dyn SecretStore>>,
    keyring_error: Option<SecretError>,
    accounts: Vec<AccountState>,
    handles: HashMap<AccountId, Handle>,
    /// Banners in plain words (keyring unavailable, server notices, ...).
    notices: notices::State,
    onboarding: onboarding::State,
    /// What the search field holds and found.
    search_box: search::State,
    sidebar: sidebar::State,
    /// What the main area shows (a chat, a room, the join dialog...).
    main: MainArea,
    settings: settings::State,
    /// Per contact: the account last chosen to write from (`None`: looked, nothing).
    send_as: HashMap<BareJid, Option<AccountId>>,
    /// The window has the keyboard focus (read markers are only sent then).
    window_focused: bool,
    /// The window is showing (not hidden to the tray).
    window_shown: bool,
    /// The tray icon is up.
    tray_up: bool,
    /// The unread count the tray icon shows.
    tray_unread: Option<u32>,
    /// An `xmpp:` link to open once start-up has finished.
    pending_uri: Option<String>,
    /// The last displayed marker sent: (account, peer, stanza id).
    last_displayed: Option<(AccountId, BareJid, String)>,
    /// When that marker went out, and whether a later one waits for the pause to end.
    displayed_at: Option<std::time::Instant>,
    displayed_waiting: bool,
    desk: restore::Desk,
    /// Group chat rooms (see `room`).
    rooms: room::Panel,
    transfers: transfers::State,
    /// The attach button's file dialog (a stub in tests).
    picker: Arc<dyn transfers::FilePicker>,
    /// While loading: how far a long step of opening the store has come (an upgrade).
    store_progress: Option<crate::store::progress::Progress>,
}

impl App {
    /// The first state: loading, while the store and keyring open off the UI thread.
    pub fn boot(
        lang: Lang,
        uri: Option<String>,
        early: Option<std::sync::mpsc::Receiver<Startup>>,
    ) -> (Self, Task<Message>) {
        let mut app = App::from_startup(lang, Startup::default());
        app.screen = Screen::Loading;
        app.pending_uri = uri;
        let tray = desktop::start_tray(lang);
        let failed = |e: String| Startup {
            store_error: Some(e),
            ..Startup::default()
        };
        let loading = match early {
            Some(rx) => match rx.recv_timeout(EARLY_WAIT) {
                Ok(startup) => {
                    log::debug!("start-up state read before the first frame");
                    let task = app.update(Message::Started(startup));
                    return (app, Task::batch([task, tray]));
                }
                // Still reading (a slow keyring, a big store): show "Loading" meanwhile.
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    log::debug!("start-up state not read yet: showing Loading");
                    Task::perform(blocking(move || rx.recv()), move |result| {
                        Message::Started(match result {
                            Ok(Ok(startup)) => startup,
                            Ok(Err(_)) => failed("start-up ended without a result".into()),
                            Err(e) => failed(e),
                        })
                    })
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Self::load_task(),
            },
            None => Self::load_task(),
        };
        (app, Task::batch([loading, tray]))
    }

    /// Reads the start-up state off the UI thread.
    fn load_task() -> Task<Message> {
        Task::perform(blocking(|| startup::load(open_secrets)), |result| {
            Message::Started(result.unwrap_or_else(|e| Startup {
                store_error: Some(e),
                ..Startup::default()
            }))
        })
    }

    /// The app as start-up found things: the sign-in form when there is no account,
    /// the main screen otherwise. Tests build apps this way too.
    pub fn from_startup(lang: Lang, mut startup: Startup) -> Self {
        // `lang` is the system's; the settings may choose another.
        let desk = restore::Desk::new(lang, *std::mem::take(&mut startup.desk));
        let lang = desk.lang();
        let mut notices = Vec::new();
        if let Some(detail) = &startup.store_error {
            notices.push(trf(lang, T::StoreUnavailable, &[("detail", detail)]));
        }
        if let Some(r) = &startup.store_recovered {
            notices.push(trf(
                lang,
                T::StoreRecovered,
                &[
                    ("detail", &r.reason),
                    ("path", &r.moved_to.display().to_string()),
                    ("accounts", &r.salvaged.accounts.to_string()),
                    ("settings", &r.salvaged.prefs.to_string()),
                    ("outbox", &r.salvaged.outbox.to_string()),
                ],
            ));
        }
        if let Some(error) = &startup.keyring_error {
            notices.push(trf(
                lang,
                T::KeyringUnavailable,
                &[("detail", &error.to_string())],
            ));
        }
        let mut accounts: Vec<AccountState> = startup
            .accounts
            .into_iter()
            .map(|loaded| {
                let mut state = AccountState::new(loaded.account, loaded.password);
                state.allow_plain = loaded.allow_plain;
                state.omemo_key = loaded.omemo_key;
                state.set_roster(loaded.contacts);
                state.set_conversations(loaded.conversations);
                state
            })
            .collect();
        accounts.sort_by(|a, b| {
            (a.account.position, a.account.jid.as_str())
                .cmp(&(b.account.position, b.account.jid.as_str()))
        });
        let filter = startup
            .filter
            .filter(|f| accounts.iter().any(|a| &a.account.id == f));
        App {
            lang,
            screen: if accounts.is_empty() {
                Screen::Onboarding
            } else {
                Screen::Main
            },
            store: startup.store,
            search: startup.search,
            secrets: startup.secrets,
            keyring_error: startup.keyring_error,
            accounts,
            handles: HashMap::new(),
            notices: notices::State::new(notices),
            onboarding: onboarding::State::new(),
            search_box: search::State::default(),
            sidebar: sidebar::State::with_filter(filter),
            main: MainArea::Nothing,
            settings: settings::State::new(),
            send_as: startup
                .send_as
                .into_iter()
                .map(|(jid, account)| (jid, Some(account)))
                .collect(),
            window_focused: true,
            window_shown: true,
            tray_up: false,
            tray_unread: None,
            pending_uri: None,
            last_displayed: None,
            displayed_at: None,
            displayed_waiting: false,
            desk,
            rooms: room::Panel::default(),
            transfers: transfers::State::default(),
            picker: Arc::new(transfers::SystemPicker),
            store_progress: None,
        }
    }

    /// Replaces the attach button's file dialog (tests never open a real one).
    pub fn set_file_picker(&mut self, picker: Arc<dyn transfers::FilePicker>) {
        self.picker = picker;
    }

    /// The transfers on screen (tests).
    pub fn transfers(&self) -> &transfers::State {
        &self.transfers
    }

    /// One account as the app sees it (tests check generations and connections).
    pub fn account_state(&self, account: &AccountId) -> Option<&AccountState> {
        self.accounts.iter().find(|a| &a.account.id == account)
    }

    /// The open 1:1 conversation's state (tests read what it shows and highlights).
    pub fn open_chat(&self) -> Option<&chat::State> {
        self.main.chat()
    }

    /// The room on screen, if one is.
    pub fn shown_room(&self) -> Option<&room::joined::Room> {
        let (account, room) = self.main.room()?;
        self.rooms.rooms.get(&(account.clone(), room.clone()))
    }

    /// The open conversation: the account it is written from and the peer.
    pub fn current_conversation(&self) -> Option<(&AccountId, &BareJid)> {
        self.main.chat().map(|c| (&c.account, c.conversation.jid()))
    }

    /// Is Settings > Accounts showing?
    pub fn is_accounts_screen(&self) -> bool {
        self.screen == Screen::Accounts
    }

    /// The account whose login the sign-in form is checking.
    pub fn pending_login(&self) -> Option<&AccountId> {
        self.onboarding.pending()
    }

    /// Is the main screen (sidebar and conversation) showing?
    pub fn is_main_screen(&self) -> bool {
        self.screen == Screen::Main
    }

    pub fn title(&self) -> String {
        let unread: u32 = self.accounts.iter().map(AccountState::unread_total).sum();
        if unread > 0 {
            format!("({unread}) Loquat")
        } else {
            "Loquat".to_string()
        }
    }

    pub fn subscription(&self) -> Subscription<Message> {
        let tab = iced::keyboard::listen().filter_map(|event| match event {
            iced::keyboard::Event::KeyPressed {
                key: iced::keyboard::Key::Named(iced::keyboard::key::Named::Tab),
                modifiers,
                ..
            } => Some(Message::FocusNext {
                backwards: modifiers.shift(),
            }),
            _ => None,
        });
        // Sessions run on every screen: adding or editing an account never stops the
        // others. (There are no accounts while loading or on the first sign-in.)
        let focus = iced::event::listen_with(|event, _status, _window| match event {
            iced::Event::Window(iced::window::Event::Focused) => Some(Message::WindowFocused(true)),
            iced::Event::Window(iced::window::Event::Unfocused) => {
                Some(Message::WindowFocused(false))
            }
            iced::Event::Window(iced::window::Event::FileDropped(path)) => {
                Some(Message::FilesChosen(vec![path]))
            }
            _ => None,
        });
        Subscription::batch([
            tab,
            focus,
            attach::paste_subscription(),
            session_bridge::subscription(&self.accounts, self.store.as_ref()).map(Message::Session),
            desktop::subscription().map(Message::Desktop),
            self.desk_subscription(),
            self.typing_clock(),
            self.indexing_clock(),
            if self.screen == Screen::Loading {
                // Only while the store opens: an upgrade can take minutes, once.
                iced::time::every(std::time::Duration::from_millis(250))
                    .map(|_| Message::StartingTick)
            } else {
                Subscription::none()
            },
            if self.screen != Screen::Loading
                && FIRST_FRAME_PENDING.load(std::sync::atomic::Ordering::Relaxed)
            {
                window::frames().map(|_| Message::FrameDrawn)
            } else {
                Subscription::none()
            },
        ])
    }

    /// A clock for "paused" (XEP-0085) while the open chat or room still has to say it.
    fn typing_clock(&self) -> Subscription<Message> {
        let every = std::time::Duration::from_secs(1);
        if self.main.chat().is_some_and(|c| c.typing_pending()) {
            return iced::time::every(every).map(|t| Message::Conversation(chat::Message::Tick(t)));
        }
        let room = self
            .main
            .room()
            .and_then(|(a, r)| self.rooms.rooms.get(&(a.clone(), r.clone())));
        if room.is_some_and(|r| r.typing_pending()) {
            return iced::time::every(every)
                .map(|t| Message::Rooms(room::Message::Room(room::joined::Message::Tick(t))));
        }
        Subscription::none()
    }

    pub fn update(&mut self, message: Message) -> Task<Message> {
        let task = self.dispatch(message);
        // Files that waited for their conversation's encryption go once it is known.
        match self.start_waiting_uploads() {
            Some(start) => Task::batch([task, start]),
            None => task,
        }
    }

    fn dispatch(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::StartingTick => {
                self.store_progress = crate::store::progress::current();
                Task::none()
            }
            Message::Started(startup) => {
                let previous =
                    std::mem::replace(self, App::from_startup(self.desk.system_lang(), startup));
                self.keep_desktop_state(previous);
                let restore = Task::batch([
                    self.restore_rooms(),
                    self.desk_restore(),
                    self.restore_transfers(),
                ]);
                if self.screen == Screen::Onboarding {
                    Task::batch([
                        iced::widget::operation::focus(onboarding::ADDRESS_ID),
                        restore,
                    ])
                } else if let Some(uri) = self.pending_uri.take() {
                    Task::batch([restore, self.open_uri(&uri)])
                } else {
                    restore
                }
            }
            Message::Onboarding(message) => {
                let (task, event) = self.onboarding.update(message, self.store.as_ref());
                let task = task.map(Message::Onboarding);
                match event {
                    Some(onboarding::Event::SignedIn {
                        account,
                        password,
                        allow_plain,
                        session,
                    }) => Task::batch([
                        task,
                        self.signed_in(*account, password, allow_plain, session),
                    ]),
                    Some(onboarding::Event::Closed) => {
                        self.onboarding = onboarding::State::new();
                        self.screen = Screen::Accounts;
                        task
                    }
                    None => task,
                }
            }
            Message::Search(message) => self.on_search(message),
            Message::ChatWindow {
                account,
                conversation,
                around,
                result,
            } => match conversation {
                ConversationId::Room(room) => {
                    self.room_window_loaded(account, room, around, result)
                }
                conversation => self.chat_window_loaded(account, conversation, around, result),
            },
            Message::Rooms(message) => self.on_rooms(message),
            Message::Profile(message) => self.on_profile(message),
            Message::Sidebar(message) => match self.sidebar.update(message, &self.accounts) {
                Some(event) => self.on_sidebar(event),
                None => Task::none(),
            },
            Message::Conversation(message) => {
                self.desk.touch();
                let event = self.main.chat_mut().and_then(|c| c.update(message));
                match event {
                    Some(event) => self.on_conversation(event),
                    None => Task::none(),
                }
            }
            Message::Settings(message) => {
                let (task, event) = self.settings.update(message, &self.accounts);
                let task = task.map(Message::Settings);
                match event {
                    Some(event) => Task::batch([task, self.on_settings(event)]),
                    None => task,
                }
            }
            Message::SendAsLoaded { peer, account } => self.send_as_loaded(peer, account),
            Message::AccountRemoved {
                account,
                was_enabled,
                result,
            } => self.account_removed(account, was_enabled, result),
            Message::PrefSaved(result) => {
                if let Err(detail) = result {
                    self.notice(trf(self.lang, T::PrefSaveFailed, &[("detail", &detail)]));
                }
                Task::none()
            }
            Message::Session(update) => {
                let notify = match &update.kind {
                    crate::session::UpdateKind::Message(message) => self.notify_task(message),
                    _ => Task::none(),
                };
                let previews = self.previews_for_update(&update);
                let task = self.on_session(update);
                Task::batch([task, notify, previews, self.sync_tray()])
            }
            Message::Desktop(event) => self.on_desktop(event),
            Message::GapsLoaded { account, gaps } => {
                if let Some(open) = self.main.chat_mut()
                    && open.account == account
                {
                    for gap in gaps {
                        open.add_gap(gap);
                    }
                }
                Task::none()
            }
            Message::HistoryLoaded {
                account,
                conversation,
                older,
                result,
            } => {
                let previews = self.previews_for(result.as_deref().unwrap_or_default());
                if let ConversationId::Room(room) = conversation {
                    let shown = self.room_history_loaded(account, room, older, result);
                    return Task::batch([previews, shown]);
                }
                if let ConversationId::Private { room, nick } = conversation {
                    let seek = self.private_history_loaded(account, room, nick, result);
                    return Task::batch([previews, seek]);
                }
                if let Some(open) = self
                    .main
                    .chat_mut()
                    .filter(|c| c.account == account && c.conversation == conversation)
                {
                    open.history_loaded(older, result);
                    if !older {
                        // A search result waits for its message: here, or further back.
                        if let Some(next) = open.seek_step() {
                            return Task::batch([previews, self.on_conversation(next)]);
                        }
                        self.send_displayed();
                    } else if let Some(next) =
                        open.seek_step().or_else(|| open.continue_in_archive())
                    {
                        // A reply's original found, or the next page for it; or the store
                        // ran out: the same "load older" goes on to the archive.
                        return Task::batch([previews, self.on_conversation(next)]);
                    }
                }
                previews
            }
            Message::PasswordSaved(result) => {
                if let Err(detail) = result {
                    self.notice(trf(
                        self.lang,
                        T::KeyringUnavailable,
                        &[("detail", &detail)],
                    ));
                }
                Task::none()
            }
            Message::AccountSaved(result) => {
                if let Err(detail) = result {
                    self.notice(trf(self.lang, T::AccountSaveFailed, &[("detail", &detail)]));
                }
                Task::none()
            }
            Message::LinkOpened(result) => {
                if let (Err(detail), Some(open)) = (result, self.main.chat_mut()) {
                    open.set_problem(chat::Problem::Link(detail));
                }
                Task::none()
            }
            Message::Transfers(m) => self.on_transfers(m),
            // On Settings > Accounts, a dropped or pasted picture is a new avatar.
            Message::FilesChosen(paths) if self.screen == Screen::Accounts => {
                self.avatar_dropped(paths)
            }
            Message::PasteImage if self.screen == Screen::Accounts => self.paste_avatar(),
            Message::FilesChosen(paths) => self.files_chosen(paths),
            Message::PasteImage => self.paste_image(),
            Message::SaveTo(message, path) => self.save_to(*message, path),
            Message::Background(result) => {
                if let Err(e) = result {
                    log::warn!("background task failed: {e}");
                }
                Task::none()
            }
            Message::WindowFocused(focused) => {
                self.window_focused = focused;
                self.send_displayed();
                Task::none()
            }
            Message::DisplayedDue => {
                self.displayed_waiting = false;
                self.send_displayed();
                Task::none()
            }
            Message::FocusNext { backwards: true } => iced::widget::operation::focus_previous(),
            Message::FocusNext { backwards: false } => iced::widget::operation::focus_next(),
            Message::Desk(message) => self.desk_update(message),
            Message::FrameDrawn => {
                if FIRST_FRAME_PENDING.swap(false, std::sync::atomic::Ordering::Relaxed) {
                    let at = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default();
                    println!("first-frame {:?} unix_us={}", self.screen, at.as_micros());
                }
                Task::none()
            }
            Message::Notices(message) => {
                self.notices.update(message);
                Task::none()
            }
        }
    }

    /// "Starting…", or how far the upgrade of the stored history has come.
    fn loading_view(&self) -> Element<'_, Message> {
        use crate::store::progress::Step;
        let lang = self.lang;
        let Some(progress) = self.store_progress else {
            return text(tr(lang, T::Loading)).style(theme::muted).into();
        };
        let words = match progress.step {
            Step::Upgrade => T::UpgradingHistory,
            Step::Rewrite => T::CompactingHistory,
        };
        let percent = progress.percent();
        column![
            text(trf(lang, words, &[("percent", &percent.to_string())])),
            iced::widget::progress_bar(0.0..=100.0, percent as f32)
                .length(360)
                .girth(8),
            text(tr(lang, T::UpgradeOnce)).size(13).style(theme::muted),
        ]
        .spacing(12)
        .align_x(iced::Alignment::Center)
        .into()
    }

    /// Adds a banner unless the same one is already showing.
    fn notice(&mut self, text: String) {
        self.notices.push(text);
    }

    pub fn view(&self) -> Element<'_, Message> {
        let lang = self.lang;
        let body: Element<'_, Message> = match self.screen {
            Screen::Loading => container(self.loading_view()).center(Length::Fill).into(),
            Screen::Onboarding => self.onboarding.view(lang).map(Message::Onboarding),
            Screen::Main => self.main_view(),
            Screen::Accounts => self
                .settings
                .view(settings::Context {
                    lang,
                    accounts: &self.accounts,
                })
                .map(Message::Settings),
            Screen::General => self.general_view(),
        };
        let body = self.with_overlays(body);
        widgets::calm::calm(match self.screen {
            Screen::Loading | Screen::Onboarding => {
                self.notices.above(lang, body, Message::Notices)
            }
            Screen::Main | Screen::Accounts | Screen::General => {
                self.notices.under(lang, body, Message::Notices)
            }
        })
    }

    fn main_view(&self) -> Element<'_, Message> {
        let lang = self.lang;
        let open = self.main.open();
        let sidebar = self
            .sidebar
            .view(&sidebar::Context {
                lang,
                accounts: &self.accounts,
                open,
            })
            .map(Message::Sidebar);
        // Invitations to rooms wait above the inbox.
        let sidebar: Element<'_, Message> = match self.rooms.invitations_view(lang) {
            Some(invitations) => column![invitations.map(Message::Rooms), sidebar].into(),
            None => sidebar,
        };
        // The search field above it all; its results take the lists' place.
        let lists = if self.search_box.is_active() {
            self.search_box
                .results(
                    lang,
                    |m| {
                        self.account_state(&m.account)
                            .map(|s| s.peer_label(m.peer()))
                            .unwrap_or_else(|| m.peer().to_string())
                    },
                    &self.accounts.iter().map(|s| &s.account).collect::<Vec<_>>(),
                    self.sidebar.filter(),
                )
                .map(Message::Search)
        } else {
            sidebar
        };
        let sidebar: Element<'_, Message> = column![
            self.search_box
                .field(lang, self.search.is_some())
                .map(Message::Search),
            lists
        ]
        .into();
        let files = room::RoomFiles {
            previews: Some(&self.transfers.previews),
            transfers: Some(&self.transfers),
            avatars: self
                .main
                .room()
                .and_then(|(account, _)| self.account_state(account))
                .map(|s| &s.avatars),
        };
        if self.main.room().is_some()
            && let Some(full) = self.transfers.previews.full_view(lang)
        {
            let full = full.map(|m| Message::Transfers(transfers::Message::Preview(m)));
            return row![sidebar, full].height(Length::Fill).into();
        }
        if let Some(room) = self
            .rooms
            .main_view(&self.main, lang, self.join_choices(), files)
        {
            return row![sidebar, room.map(Message::Rooms)]
                .height(Length::Fill)
                .into();
        }
        if let MainArea::Profile(profile) = &self.main {
            let view = profile.view(lang, self.account_state(&profile.account));
            return row![sidebar, view.map(Message::Profile)]
                .height(Length::Fill)
                .into();
        }
        let main: Element<'_, Message> = match self.main.chat().and_then(|open| {
            let state = self.account_state(&open.account)?;
            Some((open, state))
        }) {
            Some((open, state)) => {
                let peer = open.conversation.jid();
                // Every account with this contact in its roster can write to it.
                let write_as: Vec<&crate::model::Account> = self
                    .accounts
                    .iter()
                    .filter(|a| a.in_roster(peer))
                    .map(|a| &a.account)
                    .collect();
                let cx = chat::Context {
                    lang,
                    peer_label: state.peer_label(peer),
                    peer,
                    availability: state.availability(peer),
                    in_roster: state.in_roster(peer),
                    account: &state.account,
                    write_as,
                    account_online: state.is_online(),
                    muted: !self.settings().notifies(peer),
                    blocked: state
                        .blocking
                        .supported
                        .then(|| state.blocking.blocks(peer)),
                    request: state.is_request(peer),
                    previews: Some(&self.transfers.previews),
                    transfers: self
                        .transfers
                        .view(lang, &open.account, peer)
                        .map(|e| e.map(chat::Message::Transfers)),
                };
                match self.transfers.previews.full_view(lang) {
                    Some(full) => full.map(|m| Message::Transfers(transfers::Message::Preview(m))),
                    None => open.view(cx).map(Message::Conversation),
                }
            }
            None => container(text(tr(lang, T::NoConversation)).style(theme::muted))
                .center(Length::Fill)
                .into(),
        };
        row![sidebar, main].height(Length::Fill).into()
    }

    /// Runs the room panel's queued requests on their accounts' sessions.
    pub(in crate::ui) fn room_tool_tasks(&mut self) -> Task<Message> {
        let mut tasks = Vec::new();
        for (account, request) in std::mem::take(&mut self.rooms.requests) {
            let domain = self
                .account_state(&account)
                .and_then(|a| BareJid::new(a.account.jid.domain().as_str()).ok());
            match (self.handles.get(&account).cloned(), domain) {
                (Some(handle), Some(domain)) => {
                    tasks.push(tasks::task(handle, domain, request).map(Message::Rooms))
                }
                _ => self.notice(tr(self.lang, T::CommandNotConnected).to_owned()),
            }
        }
        Task::batch(tasks)
    }
}
