//! Scrolling back through a long chat or room (issue #21): the list holds a few pages
//! around what is on screen, and the message at the top of the viewport stays exactly
//! where it is while older pages come in above (and the newest drop away below) and, on the way
//! down, newer pages come back in below (and the oldest drop away above).
//!
//! The chat's (or room's) view runs in iced's own `UserInterface` (layout and widget
//! state kept from frame to frame as the runtime keeps them), scrolled with the mouse
//! wheel; the store's pages are handed to it as the app would.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_scrollback`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")]

mod support;
use support::view::{Where, headless, redraw};

use iced::{Point, Size, mouse};
use iced_runtime::core::clipboard;
use iced_runtime::core::renderer::Headless;
use iced_runtime::user_interface::{Cache, UserInterface};
use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Delivery, Direction};
use loquat::ui::chat;
use loquat::ui::i18n::Lang;
use loquat::ui::room::joined::{self, Line, Room};
use xmpp_parsers::jid::BareJid;

const WINDOW: Size = Size::new(900.0, 700.0);
const OVER_LIST: Point = Point::new(450.0, 300.0);

fn stored(account: &AccountId, conversation: &ConversationId, n: usize) -> Vec<ChatMessage> {
    let words = "a message of some length, so that bubbles differ in height as they do; \
                 some go on for a while and wrap onto a second line or a third one too";
    (0..n)
        .map(|i| ChatMessage {
            id: LocalMessageId(format!("id{i}")),
            account: account.clone(),
            conversation: conversation.clone(),
            direction: if i % 3 == 0 {
                Direction::Outgoing
            } else {
                Direction::Incoming
            },
            sender: if i % 3 == 0 { "alice" } else { "bob" }.into(),
            body: format!("m{i:05} {}", &words[..(i * 37) % words.len()]),
            timestamp_ms: 1_700_000_000_000 + i as i64 * 60_000,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
            truncated: false,
            extras: Default::default(),
        })
        .collect()
}

/// A conversation that reads back page by page: a chat or a room.
trait Pane: Sized {
    type Message;
    const LIST_ID: &'static str;
    fn open(account: &Account, total: usize) -> (Self, Vec<ChatMessage>);
    fn view<'a>(&'a self, account: &'a Account) -> iced::Element<'a, Self::Message>;
    /// The message through the pane, the store's page it asks for handed back (from
    /// `all`). Whether a page came in.
    fn apply(&mut self, message: Self::Message, all: &[ChatMessage]) -> bool;
    /// The messages held, oldest first.
    fn ids(&self) -> Vec<String>;
    fn in_window(&self) -> bool;
}

/// The store's page before (or after) message `id`.
fn page(all: &[ChatMessage], id: &LocalMessageId, older: bool) -> Vec<ChatMessage> {
    let at = all.iter().position(|m| &m.id == id).unwrap();
    if older {
        all[at.saturating_sub(chat::PAGE)..at].to_vec()
    } else {
        all[at + 1..(at + 1 + chat::PAGE).min(all.len())].to_vec()
    }
}

impl Pane for chat::State {
    type Message = chat::Message;
    const LIST_ID: &'static str = chat::LIST_ID;

    fn open(account: &Account, total: usize) -> (Self, Vec<ChatMessage>) {
        let peer = ConversationId::Chat(BareJid::new("bob@example.org").unwrap());
        let all = stored(&account.id, &peer, total);
        let mut chat = chat::State::new(account.id.clone(), peer, true);
        chat.history_loaded(false, Ok(all[all.len() - chat::PAGE..].to_vec()));
        (chat, all)
    }

    fn view<'a>(&'a self, account: &'a Account) -> iced::Element<'a, chat::Message> {
        chat::State::view(
            self,
            chat::Context {
                lang: Lang::En,
                peer_label: "Bob".into(),
                peer: self.conversation.jid(),
                availability: loquat::ui::app::account_state::Availability {
                    show: loquat::model::Show::Online,
                    status: None,
                },
                in_roster: true,
                account,
                write_as: Vec::new(),
                account_online: true,
                muted: false,
                blocked: None,
                request: false,
                transfers: None,
                previews: None,
            },
        )
    }

    fn apply(&mut self, message: chat::Message, all: &[ChatMessage]) -> bool {
        match self.update(message) {
            Some(chat::Event::LoadOlder(id)) => {
                self.history_loaded(true, Ok(page(all, &id, true)));
                true
            }
            Some(chat::Event::LoadNewer(id)) => {
                self.newer_loaded(Ok(page(all, &id, false)));
                true
            }
            _ => false,
        }
    }

    fn ids(&self) -> Vec<String> {
        ids(self.messages())
    }

    fn in_window(&self) -> bool {
        chat::State::in_window(self)
    }
}

fn room_ids(room: &Room) -> Vec<&LocalMessageId> {
    room.lines
        .iter()
        .filter_map(|l| match l {
            Line::Chat(m) => Some(&m.id),
            Line::Notes(_) => None,
        })
        .collect()
}

impl Pane for Room {
    type Message = joined::Message;
    const LIST_ID: &'static str = joined::LIST_ID;

    fn open(account: &Account, total: usize) -> (Self, Vec<ChatMessage>) {
        let jid = BareJid::new("tea@muc.example.org").unwrap();
        let all = stored(&account.id, &ConversationId::Room(jid.clone()), total);
        let mut room = Room::new(account.id.clone(), jid, "alice".into(), None);
        // The newest stored page, as the app reads it on opening.
        for m in &all[all.len() - chat::PAGE..] {
            room.lines.push(Line::Chat(Box::new(m.clone())));
        }
        (room, all)
    }

    fn view<'a>(&'a self, _account: &'a Account) -> iced::Element<'a, joined::Message> {
        Room::view(self, Lang::En)
    }

    fn apply(&mut self, message: joined::Message, all: &[ChatMessage]) -> bool {
        match self.update(message) {
            Some(joined::Event::LoadOlder) => {
                let oldest = room_ids(self)[0].clone();
                let older = page(all, &oldest, true);
                if older.is_empty() {
                    // The beginning of the room (its archive would say so).
                    self.older = joined::Older::Exhausted;
                    return false;
                }
                self.older_loaded(older, true);
                true
            }
            Some(joined::Event::LoadNewer) => {
                let newest = room_ids(self).last().copied().cloned().unwrap();
                self.newer_loaded(page(all, &newest, false));
                true
            }
            _ => false,
        }
    }

    fn ids(&self) -> Vec<String> {
        room_ids(self).into_iter().map(|id| id.0.clone()).collect()
    }

    fn in_window(&self) -> bool {
        Room::in_window(self)
    }
}

struct Screen<P: Pane> {
    pane: P,
    account: Account,
    all: Vec<ChatMessage>,
    renderer: iced::Renderer,
    cache: Option<Cache>,
    /// Screenshots of the list just before and after pages came in, for review.
    shots: Option<(std::path::PathBuf, usize)>,
}

impl<P: Pane> Screen<P> {
    fn new(total: usize) -> Self {
        let account = Account::new(BareJid::new("alice@example.org").unwrap());
        let (pane, all) = P::open(&account, total);
        let renderer = headless();
        let mut screen = Screen {
            pane,
            account,
            all,
            renderer,
            cache: None,
            shots: None,
        };
        screen.frame(&[redraw()]);
        screen
    }

    /// One frame as the runtime makes it: the view built (and laid out) with the widget
    /// state of the last, the events through it. Returns the messages they produced.
    fn frame(&mut self, events: &[iced::Event]) -> Vec<P::Message> {
        let cache = self.cache.take().unwrap_or_default();
        let mut produced = Vec::new();
        let cache = {
            let mut ui = UserInterface::build(
                self.pane.view(&self.account),
                WINDOW,
                cache,
                &mut self.renderer,
            );
            let _ = ui.update(
                events,
                mouse::Cursor::Available(OVER_LIST),
                &mut self.renderer,
                &mut clipboard::Null,
                &mut produced,
            );
            ui.into_cache()
        };
        self.cache = Some(cache);
        produced
    }

    /// The messages through the pane, the store's pages it asks for handed back.
    /// Returns whether a page came in.
    fn apply(&mut self, messages: Vec<P::Message>) -> bool {
        let mut paged = false;
        for message in messages {
            paged |= self.pane.apply(message, &self.all);
        }
        paged
    }

    /// The message bodies in the list and where they are on screen (y of their top).
    fn shown(&mut self) -> Vec<(String, f32)> {
        let cache = self.cache.take().unwrap_or_default();
        let mut found = Where::new(P::LIST_ID);
        let cache = {
            let mut ui = UserInterface::build(
                self.pane.view(&self.account),
                WINDOW,
                cache,
                &mut self.renderer,
            );
            ui.operate(&self.renderer, &mut found);
            ui.into_cache()
        };
        self.cache = Some(cache);
        let (list, translation) = found.list.expect("the message list");
        found
            .texts
            .into_iter()
            .filter(|(text, _)| text.starts_with('m') && text.as_bytes().get(6) == Some(&b' '))
            .map(|(text, bounds)| (text[..6].to_owned(), bounds.y - translation.y))
            .filter(|(_, y)| *y >= list.y - 200.0 && *y < list.y + list.height)
            .collect()
    }

    /// The first message whose top is inside the list's viewport, and its y.
    fn top(&mut self) -> (String, f32) {
        let list_top = self.list_top();
        self.shown()
            .into_iter()
            .filter(|(_, y)| *y >= list_top)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("a message on screen")
    }

    fn list_top(&mut self) -> f32 {
        let cache = self.cache.take().unwrap_or_default();
        let mut found = Where::new(P::LIST_ID);
        let cache = {
            let mut ui = UserInterface::build(
                self.pane.view(&self.account),
                WINDOW,
                cache,
                &mut self.renderer,
            );
            ui.operate(&self.renderer, &mut found);
            ui.into_cache()
        };
        self.cache = Some(cache);
        found.list.expect("the message list").0.y
    }

    /// Draws the window to `<shots>/scrollback-<n>-<what>.png`.
    fn shoot(&mut self, what: &str) {
        let Some((dir, n)) = self.shots.clone() else {
            return;
        };
        let cache = self.cache.take().unwrap_or_default();
        let cache = {
            let mut ui = UserInterface::build(
                self.pane.view(&self.account),
                WINDOW,
                cache,
                &mut self.renderer,
            );
            ui.draw(
                &mut self.renderer,
                &iced::Theme::Light,
                &iced_runtime::core::renderer::Style::default(),
                mouse::Cursor::Available(OVER_LIST),
            );
            ui.into_cache()
        };
        self.cache = Some(cache);
        let pixels = self.renderer.screenshot(
            Size::new(WINDOW.width as u32, WINDOW.height as u32),
            1.0,
            iced::Color::WHITE,
        );
        // `dir` ends in a directory or a file name's start (`<dir>/room-`).
        let path = std::path::PathBuf::from(format!("{}scrollback-{n}-{what}.png", dir.display()));
        image::save_buffer(
            path,
            &pixels,
            WINDOW.width as u32,
            WINDOW.height as u32,
            image::ExtendedColorType::Rgba8,
        )
        .unwrap();
    }

    fn y_of(&mut self, body: &str) -> Option<f32> {
        self.shown()
            .into_iter()
            .find(|(text, _)| text == body)
            .map(|(_, y)| y)
    }

    /// One wheel step (`up` or down) and what follows from it; when a page came in,
    /// checks that the message at the top of the viewport did not move.
    fn wheel(&mut self, pixels: f32) -> bool {
        let wheel = iced::Event::Mouse(mouse::Event::WheelScrolled {
            delta: mouse::ScrollDelta::Pixels { x: 0.0, y: pixels },
        });
        let produced = self.frame(&[wheel]);
        let (body, y) = self.top();
        let held = self.pane.ids().len();
        let before = self.pane.ids();
        let shoot = self.shots.as_ref().is_some_and(|(_, n)| *n < 6);
        if shoot {
            self.shoot("before");
        }
        if !self.apply(produced) {
            return false;
        }
        let _ = self.frame(&[redraw()]);
        if shoot {
            self.shoot("after");
            if let Some((_, n)) = &mut self.shots {
                *n += 1;
            }
        }
        if self.pane.ids() == before {
            // The last, empty page: nothing came or went (the bar under the list goes,
            // and the list, at its end, grows into its place).
            return true;
        }
        let after = self.y_of(&body);
        // Within a pixel: what is left is rounding, not a jump.
        assert!(
            after.is_some_and(|after| (after - y).abs() < 1.0),
            "{body} was at {y} before a page came in, at {after:?} after ({held} messages \
             held, {} now)",
            self.pane.ids().len()
        );
        true
    }
}

fn ids(messages: &[ChatMessage]) -> Vec<String> {
    messages.iter().map(|m| m.id.0.clone()).collect()
}

/// Back to the first message with the wheel and down to the newest again: the top
/// message stays put at every page, a few pages at most are held, and every message
/// comes back once, in order.
fn scroll_back_and_down<P: Pane>() {
    let total = 8 * chat::PAGE;
    let mut screen = Screen::<P>::new(total);
    let (mut pages, mut frames) = (0, 0);
    while screen.pane.ids().first().map(String::as_str) != Some("id0") {
        frames += 1;
        assert!(frames < 400, "the wheel did not reach the first message");
        if screen.wheel(250.0) {
            pages += 1;
            assert!(screen.pane.ids().len() <= chat::WINDOW_SHOWN);
        }
    }
    assert_eq!(pages, 7);
    assert!(screen.pane.in_window(), "the newest pages were let go");
    let mut seen = screen.pane.ids();
    let mut frames = 0;
    while screen.pane.in_window() {
        frames += 1;
        assert!(frames < 400, "the wheel did not reach the newest message");
        if screen.wheel(-250.0) {
            assert!(screen.pane.ids().len() <= chat::WINDOW_SHOWN);
            let shown = screen.pane.ids();
            let last = seen.last().cloned().unwrap();
            let from = shown.iter().position(|id| *id == last).unwrap() + 1;
            seen.extend(shown[from..].iter().cloned());
        }
    }
    assert_eq!(seen, ids(&screen.all));
}

#[test]
fn scrolling_back_and_down_again_keeps_the_top_message_in_place_and_a_few_pages_held() {
    scroll_back_and_down::<chat::State>();
}

#[test]
fn a_room_scrolled_back_and_down_again_keeps_the_top_message_in_place_and_a_few_pages_held() {
    scroll_back_and_down::<Room>();
}

/// The list just before and after each of the first pages came in, going back: the
/// pairs should look the same. `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test
/// ui_scrollback -- --ignored` (`scrollback-*` a chat's, `room-scrollback-*` a room's).
#[test]
#[ignore = "writes screenshots for review"]
fn render_scrollback_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    shoot_back::<chat::State>(dir.join(""));
    shoot_back::<Room>(dir.join("room-"));
}

fn shoot_back<P: Pane>(prefix: std::path::PathBuf) {
    let mut screen = Screen::<P>::new(8 * chat::PAGE);
    screen.shots = Some((prefix, 0));
    for _ in 0..400 {
        if screen.pane.ids().first().map(String::as_str) == Some("id0") {
            break;
        }
        screen.wheel(250.0);
    }
}
