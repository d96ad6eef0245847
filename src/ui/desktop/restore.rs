//! The desktop side of the app: settings applied live (theme, language), keyboard
//! shortcuts, the quick switcher, the help overlay, and restoring the window, the open
//! conversation and drafts at the next launch (saved on change, debounced, and on
//! close or quit).

use crate::config::{Drafts, LanguageChoice, OpenConversation, Settings, ThemeChoice, WindowState};
use crate::ids::AccountId;
use crate::store::Store;
use crate::ui::app::startup::blocking;
use crate::ui::desktop::shortcuts::{self, Action};
use crate::ui::desktop::switcher;
use crate::ui::i18n::Lang;
use crate::ui::screen::settings::general;
use crate::ui::{App, Screen};
use iced::widget::{center, mouse_area, opaque, stack};
use iced::{Element, Point, Size, Subscription, Task, Theme, window};
use std::time::Duration;
use xmpp_parsers::jid::BareJid;

/// How long after the last change the window state and drafts are written.
const DEBOUNCE: Duration = Duration::from_millis(800);

/// What start-up read for this module.
#[derive(Debug, Clone, Default)]
pub struct DeskStartup {
    pub settings: Settings,
    pub window: WindowState,
    pub drafts: Drafts,
}

/// Reads settings, window state and drafts (blocking; a read error is logged and the
/// defaults are used).
pub fn load(store: &Store) -> DeskStartup {
    fn or_default<T: Default>(what: &str, result: Result<T, crate::config::ConfigError>) -> T {
        result.unwrap_or_else(|e| {
            log::warn!("{what}: {e}");
            T::default()
        })
    }
    DeskStartup {
        settings: or_default("settings", Settings::load(store)),
        window: or_default("window state", WindowState::load(store)),
        drafts: or_default("drafts", Drafts::load(store)),
    }
}

#[derive(Debug, Clone)]
pub enum Message {
    Shortcut(Action),
    Switcher(switcher::Message),
    General(general::Message),
    CloseHelp,
    Moved(Point),
    Resized(Size),
    CloseRequested,
    /// Quitting: where the window is now (some systems send no move events), then save
    /// and exit.
    Quit(Option<Point>),
    /// The debounce timer: write what changed.
    Flush,
    Saved(Result<(), String>),
}

#[derive(Debug)]
pub struct Desk {
    system_lang: Lang,
    settings: Settings,
    window: WindowState,
    saved_window: WindowState,
    drafts: Drafts,
    saved_drafts: Drafts,
    general: general::State,
    switcher: Option<switcher::State>,
    help: bool,
    dirty: bool,
}

impl Desk {
    pub fn new(system_lang: Lang, loaded: DeskStartup) -> Self {
        Desk {
            system_lang,
            general: general::State::open(&loaded.settings),
            settings: loaded.settings,
            saved_window: loaded.window.clone(),
            window: loaded.window,
            saved_drafts: loaded.drafts.clone(),
            drafts: loaded.drafts,
            switcher: None,
            help: false,
            dirty: false,
        }
    }

    pub fn system_lang(&self) -> Lang {
        self.system_lang
    }

    /// The interface language: the chosen one, else the system's.
    pub fn lang(&self) -> Lang {
        match self.settings.language {
            LanguageChoice::System => self.system_lang,
            LanguageChoice::English => Lang::En,
            LanguageChoice::ChineseSimplified => Lang::ZhCn,
        }
    }

    /// Something that may change the window state or a draft happened.
    pub fn touch(&mut self) {
        self.dirty = true;
    }
}

/// Window events this module keeps track of.
fn window_events() -> Subscription<Message> {
    iced::event::listen_with(|event, _status, _window| match event {
        iced::Event::Window(window::Event::Moved(at)) => Some(Message::Moved(at)),
        iced::Event::Window(window::Event::Resized(size)) => Some(Message::Resized(size)),
        iced::Event::Window(window::Event::CloseRequested) => Some(Message::CloseRequested),
        _ => None,
    })
}

impl App {
    /// The theme: the chosen one, or `None` to follow the system's light or dark mode.
    pub fn theme(&self) -> Option<Theme> {
        match self.desk.settings.theme {
            ThemeChoice::System => None,
            ThemeChoice::Light => Some(Theme::Light),
            ThemeChoice::Dark => Some(Theme::Dark),
        }
    }

    /// The settings as they are now.
    pub fn settings(&self) -> &Settings {
        &self.desk.settings
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn is_switcher_open(&self) -> bool {
        self.desk.switcher.is_some()
    }

    pub fn is_help_open(&self) -> bool {
        self.desk.help
    }

    /// Is Settings > General showing?
    pub fn is_general_screen(&self) -> bool {
        self.screen == Screen::General
    }

    /// The unsent text kept for a conversation.
    pub fn draft(&self, account: &AccountId, peer: &BareJid) -> Option<&str> {
        self.desk.drafts.get(account, peer)
    }

    /// The composer's text in the open conversation.
    pub fn composer_text(&self) -> Option<String> {
        self.main.chat().map(|c| c.composer_text())
    }

    pub(in crate::ui) fn desk_subscription(&self) -> Subscription<crate::ui::Message> {
        let mut parts = vec![
            shortcuts::subscription().map(Message::Shortcut),
            window_events(),
        ];
        if self.desk.dirty {
            parts.push(iced::time::every(DEBOUNCE).map(|_| Message::Flush));
        }
        Subscription::batch(parts).map(crate::ui::Message::Desk)
    }

    /// Keeps the composer's text of the open conversation as its draft (before the
    /// conversation closes or another one opens).
    pub(in crate::ui) fn stash_draft(&mut self) {
        self.desk.touch();
        if let Some(open) = self.main.chat() {
            let text = open.composer_text();
            self.desk
                .drafts
                .set(&open.account, open.conversation.jid(), &text);
        }
    }

    /// Drops the draft of a conversation (its text moved elsewhere).
    pub(in crate::ui) fn forget_draft(&mut self, account: &AccountId, peer: &BareJid) {
        self.desk.drafts.set(account, peer, "");
        self.desk.touch();
    }

    /// The draft to put in a conversation that opens.
    pub(in crate::ui) fn restore_draft(&self, open: &mut crate::ui::chat::State) {
        if let Some(text) = self.desk.drafts.get(&open.account, open.conversation.jid()) {
            open.set_draft(text);
        }
    }

    /// After start-up: the window's size, position and minimised state, and the
    /// conversation that was open.
    pub(in crate::ui) fn desk_restore(&mut self) -> Task<crate::ui::Message> {
        let saved = self.desk.window.clone();
        let minimise = self.desk.settings.start_minimised;
        let size = Size::new(saved.width, saved.height);
        let position = saved.position;
        let window = window::oldest().then(move |id| {
            let Some(id) = id else {
                return Task::none();
            };
            let mut tasks = vec![window::resize(id, size)];
            if let Some((x, y)) = position {
                tasks.push(window::move_to(id, Point::new(x, y)));
            }
            if minimise {
                tasks.push(window::minimize(id, true));
            }
            Task::batch(tasks)
        });
        let open = match saved.open {
            Some(OpenConversation { account, peer })
                if self.screen == Screen::Main && self.account_state(&account).is_some() =>
            {
                self.open_conversation(account, peer)
            }
            _ => Task::none(),
        };
        Task::batch([window, open])
    }

    pub(in crate::ui) fn desk_update(&mut self, message: Message) -> Task<crate::ui::Message> {
        match message {
            Message::Shortcut(action) => return self.shortcut(action),
            Message::Switcher(message) => {
                let Some(state) = self.desk.switcher.as_mut() else {
                    return Task::none();
                };
                match state.update(message, &self.accounts) {
                    Some(switcher::Event::Open { account, peer }) => {
                        self.desk.switcher = None;
                        self.screen = Screen::Main;
                        return self.open_conversation(account, peer);
                    }
                    Some(switcher::Event::Close) => self.desk.switcher = None,
                    None => {}
                }
            }
            Message::General(message) => {
                match self.desk.general.update(message, &self.desk.settings) {
                    Some(general::Event::Back) => self.screen = Screen::Main,
                    Some(general::Event::Accounts) => self.screen = Screen::Accounts,
                    Some(general::Event::Changed(settings)) => {
                        return self.apply_settings(settings);
                    }
                    Some(general::Event::RebuildSearch) => {
                        if let Some(index) = &self.search {
                            index.rebuild();
                        }
                    }
                    None => {}
                }
            }
            Message::CloseHelp => self.desk.help = false,
            Message::Moved(at) => {
                self.desk.window.position = Some((at.x, at.y));
                self.desk.touch();
            }
            Message::Resized(size) => {
                self.desk.window.width = size.width;
                self.desk.window.height = size.height;
                self.desk.touch();
            }
            Message::Flush => return self.flush(),
            Message::CloseRequested => {
                if let Some(hide) = self.close_to_tray() {
                    return Task::batch([hide, self.flush()]);
                }
                return self.flush_and_quit();
            }
            Message::Quit(position) => {
                if let Some(at) = position {
                    self.desk.window.position = Some((at.x, at.y));
                }
                return self.save_and_exit();
            }
            Message::Saved(result) => {
                if let Err(e) = result {
                    log::warn!("window state or drafts not saved: {e}");
                }
            }
        }
        Task::none()
    }

    /// Applies new settings at once (language and theme switch live) and saves them.
    pub(in crate::ui) fn apply_settings(&mut self, settings: Settings) -> Task<crate::ui::Message> {
        self.desk.settings = settings.clone();
        self.lang = self.desk.lang();
        let Some(store) = self.store.clone() else {
            return Task::none();
        };
        Task::perform(
            blocking(move || settings.save(&store).map_err(|e| e.to_string())),
            |result| crate::ui::Message::PrefSaved(result.and_then(|r| r)),
        )
    }

    /// Opens Settings > General.
    pub(in crate::ui) fn open_general(&mut self) {
        self.desk.general = general::State::open(&self.desk.settings);
        self.screen = Screen::General;
    }

    pub(in crate::ui) fn general_view(&self) -> Element<'_, crate::ui::Message> {
        self.desk
            .general
            .view(
                self.lang,
                &self.desk.settings,
                self.search.as_ref().and_then(|i| i.progress()),
            )
            .map(|m| crate::ui::Message::Desk(Message::General(m)))
    }

    /// The switcher or the help on top of the screen, the screen dimmed below.
    pub(in crate::ui) fn with_overlays<'a>(
        &'a self,
        body: Element<'a, crate::ui::Message>,
    ) -> Element<'a, crate::ui::Message> {
        let overlay: Element<'a, crate::ui::Message> = if self.desk.help {
            crate::ui::desktop::help::view(self.lang, crate::ui::Message::Desk(Message::CloseHelp))
        } else if let Some(state) = &self.desk.switcher {
            state
                .view(self.lang, &self.accounts)
                .map(|m| crate::ui::Message::Desk(Message::Switcher(m)))
        } else {
            return body;
        };
        let close = if self.desk.help {
            Message::CloseHelp
        } else {
            Message::Switcher(switcher::Message::Close)
        };
        let dim = mouse_area(
            center(opaque(overlay))
                .padding(40)
                .style(crate::ui::theme::scrim),
        )
        .on_press(crate::ui::Message::Desk(close));
        stack![body, opaque(dim)].into()
    }

    fn shortcut(&mut self, action: Action) -> Task<crate::ui::Message> {
        log::debug!("shortcut {action:?}");
        let on_main = self.screen == Screen::Main;
        match action {
            Action::Switcher if on_main || self.screen == Screen::General => {
                self.desk.help = false;
                self.desk.switcher = Some(switcher::State::new());
                return iced::widget::operation::focus(switcher::INPUT_ID);
            }
            Action::Search if on_main && !self.overlay_open() => {
                return self.search_shortcut(false);
            }
            Action::SearchHere if on_main && !self.overlay_open() => {
                return self.search_shortcut(true);
            }
            Action::Help if self.screen != Screen::Loading => {
                self.desk.switcher = None;
                self.desk.help = !self.desk.help;
            }
            Action::Escape => {
                if self.desk.help {
                    self.desk.help = false;
                } else if self.desk.switcher.is_some() {
                    self.desk.switcher = None;
                } else if on_main && self.search_box.is_active() {
                    return self.on_search(crate::ui::screen::search::Message::Clear);
                } else if self.screen == Screen::General
                    || (self.screen == Screen::Accounts && !self.settings.escape())
                {
                    self.screen = Screen::Main;
                }
            }
            Action::Up | Action::Down => {
                if let Some(state) = self.desk.switcher.as_mut() {
                    state.step(action == Action::Down, &self.accounts);
                }
            }
            Action::Previous | Action::Next if on_main && !self.overlay_open() => {
                return self.step_conversation(action == Action::Next);
            }
            Action::CloseConversation if on_main && !self.overlay_open() => {
                self.stash_draft();
                self.main.close_chat();
            }
            Action::Quit => return self.flush_and_quit(),
            _ => {}
        }
        Task::none()
    }

    fn overlay_open(&self) -> bool {
        self.desk.help || self.desk.switcher.is_some()
    }

    /// The conversations in the sidebar's order: the shown accounts' conversations,
    /// most recent first (equal times keep the account order).
    pub fn sidebar_order(&self) -> Vec<(AccountId, BareJid)> {
        let filter = self.sidebar.filter();
        let mut entries: Vec<(i64, AccountId, BareJid)> = self
            .accounts
            .iter()
            .filter(|a| filter.is_none_or(|f| f == &a.account.id))
            .flat_map(|a| {
                a.conversations
                    .iter()
                    .map(|c| (c.last_activity_ms, a.account.id.clone(), c.peer.clone()))
            })
            .collect();
        entries.sort_by_key(|(at, _, _)| std::cmp::Reverse(*at));
        entries.into_iter().map(|(_, a, p)| (a, p)).collect()
    }

    /// Alt+Down / Alt+Up: the next / previous conversation (the first / last one when
    /// none is open); stops at the ends.
    fn step_conversation(&mut self, down: bool) -> Task<crate::ui::Message> {
        let order = self.sidebar_order();
        let current = self
            .main
            .open()
            .and_then(|(account, peer)| order.iter().position(|(a, p)| a == account && p == peer));
        let target = match (current, down) {
            (None, true) => order.first(),
            (None, false) => order.last(),
            (Some(i), true) => order.get(i + 1),
            (Some(i), false) => i.checked_sub(1).and_then(|i| order.get(i)),
        };
        match target.cloned() {
            Some((account, peer)) => self.open_conversation(account, peer),
            None => Task::none(),
        }
    }

    /// The window state and drafts as they are now.
    fn current_window(&self) -> WindowState {
        WindowState {
            open: self.main.chat().map(|c| OpenConversation {
                account: c.account.clone(),
                peer: c.conversation.jid().clone(),
            }),
            ..self.desk.window.clone()
        }
    }

    /// Writes the window state and drafts when they changed since the last write.
    pub fn flush(&mut self) -> Task<crate::ui::Message> {
        match self.write_changes() {
            Some(task) => task.map(|result| crate::ui::Message::Desk(Message::Saved(result))),
            None => Task::none(),
        }
    }

    /// The write of what changed, if anything did (and there is a store).
    fn write_changes(&mut self) -> Option<Task<Result<(), String>>> {
        self.desk.dirty = false;
        if let Some(open) = self.main.chat() {
            let text = open.composer_text();
            self.desk
                .drafts
                .set(&open.account, open.conversation.jid(), &text);
        }
        let window = self.current_window();
        let window = (window != self.desk.saved_window).then_some(window);
        let drafts = (self.desk.drafts != self.desk.saved_drafts).then(|| self.desk.drafts.clone());
        let store = self.store.clone()?;
        if window.is_none() && drafts.is_none() {
            return None;
        }
        if let Some(w) = &window {
            self.desk.saved_window = w.clone();
        }
        if let Some(d) = &drafts {
            self.desk.saved_drafts = d.clone();
        }
        Some(Task::perform(
            blocking(move || {
                if let Some(w) = window {
                    w.save(&store).map_err(|e| e.to_string())?;
                }
                if let Some(d) = drafts {
                    d.save(&store).map_err(|e| e.to_string())?;
                }
                Ok(())
            }),
            |result| result.and_then(|r| r),
        ))
    }

    /// Asks where the window is, then saves what changed and quits (Ctrl+Q, closing
    /// the window).
    pub(in crate::ui) fn flush_and_quit(&mut self) -> Task<crate::ui::Message> {
        window::oldest()
            .then(|id| match id {
                Some(id) => window::position(id),
                None => Task::done(None),
            })
            .map(|position| crate::ui::Message::Desk(Message::Quit(position)))
    }

    /// Saves what changed and signs every account out (unavailable presence, the
    /// stream closed, so the server ends the session rather than keeping it for a
    /// resumption), both at once; exits when both are done. Signing out is bounded
    /// (`session::SIGN_OUT_WAIT`): a server that does not answer never holds up quitting.
    fn save_and_exit(&mut self) -> Task<crate::ui::Message> {
        let save = match self.write_changes() {
            Some(task) => task.map(|result| {
                if let Err(e) = result {
                    log::warn!("window state or drafts not saved: {e}");
                }
            }),
            None => Task::none(),
        };
        let handles = self.handles.values().cloned().collect();
        let sign_out = Task::future(crate::session::sign_out_all(handles));
        Task::batch([save, sign_out])
            .collect()
            .then(|_| iced::exit())
    }
}
