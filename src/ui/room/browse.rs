//! "Browse rooms" inside the join dialog: the rooms of the account's group chat
//! service with name, address and occupant count (asked lazily, a batch at a time),
//! a filter box, and Join, which fills the join dialog.

use crate::session::roomtools::QueryError;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::room::form::describe;
use crate::ui::theme;
use crate::xmpp::muc::browse::{INFO_BATCH, Listing, RoomInfo};
use iced::widget::{Id, button, column, container, row, scrollable, text, text_input};
use iced::{Alignment, Element, Length};
use xmpp_parsers::jid::BareJid;

pub const FILTER_ID: &str = "browse-filter";

#[derive(Debug, Clone, Default)]
pub struct State {
    pub service: Option<BareJid>,
    pub rooms: Vec<Listing>,
    pub filter: String,
    pub loading: bool,
    pub error: Option<QueryError>,
    /// Rooms whose details were asked for (answered or not).
    asked: usize,
}

#[derive(Debug, Clone)]
pub enum Message {
    Listed(Result<(BareJid, Vec<Listing>), QueryError>),
    Infos(Vec<(BareJid, RoomInfo)>),
    Filter(String),
    More,
    Pick(BareJid),
    Close,
}

/// What the browser asks of the join dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Ask these rooms for their details.
    Infos(Vec<BareJid>),
    Pick(BareJid),
    Close,
}

impl State {
    /// A browser waiting for its list.
    pub fn loading() -> Self {
        State {
            loading: true,
            ..State::default()
        }
    }

    /// The next rooms to ask about (the filtered ones first).
    fn next_batch(&mut self) -> Option<Event> {
        let filter = self.filter.clone();
        let batch: Vec<BareJid> = self
            .rooms
            .iter()
            .filter(|r| r.info.is_none() && r.matches(&filter))
            .take(INFO_BATCH)
            .map(|r| r.jid.clone())
            .collect();
        if batch.is_empty() {
            return None;
        }
        self.asked += batch.len();
        Some(Event::Infos(batch))
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Listed(Ok((service, rooms))) => {
                self.loading = false;
                self.service = Some(service);
                self.rooms = rooms;
                self.next_batch()
            }
            Message::Listed(Err(e)) => {
                self.loading = false;
                self.error = Some(e);
                None
            }
            Message::Infos(infos) => {
                for (jid, info) in infos {
                    if let Some(r) = self.rooms.iter_mut().find(|r| r.jid == jid) {
                        r.occupants = info.occupants;
                        if info.name.is_some() {
                            r.name = info.name.clone();
                        }
                        r.info = Some(info);
                    }
                }
                None
            }
            Message::Filter(f) => {
                self.filter = f;
                None
            }
            Message::More => self.next_batch(),
            Message::Pick(jid) => Some(Event::Pick(jid)),
            Message::Close => Some(Event::Close),
        }
    }

    pub fn view(&self, lang: Lang) -> Element<'_, Message> {
        let mut body = column![
            row![
                text(tr(lang, T::BrowseTitle))
                    .size(18)
                    .style(theme::heading)
                    .width(Length::Fill),
                button(text(tr(lang, T::ConfigCancel)).size(13))
                    .style(theme::secondary_button)
                    .on_press(Message::Close),
            ]
            .align_y(Alignment::Center),
        ]
        .spacing(8);
        if let Some(service) = &self.service {
            body = body.push(
                text(trf(
                    lang,
                    T::BrowseService,
                    &[("service", service.as_str())],
                ))
                .size(12)
                .style(theme::muted),
            );
        }
        body = body.push(
            text_input(tr(lang, T::BrowseFilter), &self.filter)
                .id(Id::new(FILTER_ID))
                .style(theme::input)
                .on_input(Message::Filter),
        );
        if self.loading {
            body = body.push(text(tr(lang, T::BrowseLoading)).style(theme::muted));
        }
        if let Some(e) = &self.error {
            body = body.push(
                container(text(describe(lang, e)).style(theme::error_text))
                    .padding(8)
                    .style(theme::error_box),
            );
        }
        let shown: Vec<&Listing> = self
            .rooms
            .iter()
            .filter(|r| r.matches(&self.filter))
            .collect();
        if !self.loading && self.error.is_none() && shown.is_empty() {
            body = body.push(text(tr(lang, T::BrowseEmpty)).style(theme::muted));
        }
        let mut list = column![].spacing(4);
        for r in &shown {
            let name = r
                .name
                .clone()
                .or_else(|| r.jid.node().map(|n| n.to_string()))
                .unwrap_or_default();
            let count = match r.occupants {
                Some(n) => trf(lang, T::BrowseOccupants, &[("count", &n.to_string())]),
                None => String::new(),
            };
            let mut flags = Vec::new();
            if let Some(info) = &r.info {
                if info.members_only {
                    flags.push(tr(lang, T::BrowseMembersOnly));
                }
                if info.password_protected {
                    flags.push(tr(lang, T::BrowsePassword));
                }
            }
            list = list.push(
                container(
                    row![
                        column![
                            text(name),
                            text(r.jid.to_string()).size(12).style(theme::muted),
                            text(flags.join(" · ")).size(12).style(theme::muted),
                        ]
                        .spacing(1)
                        .width(Length::Fill),
                        text(count).size(13).style(theme::muted),
                        button(text(tr(lang, T::JoinRoomButton)).size(13))
                            .style(theme::primary_button)
                            .on_press(Message::Pick(r.jid.clone())),
                    ]
                    .spacing(10)
                    .align_y(Alignment::Center),
                )
                .padding(6)
                .style(theme::bar),
            );
        }
        if shown.iter().any(|r| r.info.is_none()) && self.asked < self.rooms.len() {
            list = list.push(
                button(text(tr(lang, T::BrowseMore)).size(13))
                    .style(theme::link_button)
                    .on_press(Message::More),
            );
        }
        body = body.push(scrollable(list).height(Length::Fixed(320.0)));
        container(body).padding(12).style(theme::card).into()
    }
}
