//! Search across all history (issue #19): the field above the inbox and, while it
//! holds a query, the results in place of the lists: newest first, each with its
//! conversation, account, sender, time and a snippet with the matches marked. Results
//! come from the index off the UI thread as the person types; clicking one opens its
//! conversation. Ctrl+Shift+F puts the cursor in the field; Esc empties it.

use crate::model::{ChatMessage, Direction};
use crate::search::{Filters, Found, SearchIndex};
use crate::ui::app::startup::blocking;
use crate::ui::i18n::{Lang, T, timefmt, tr, trf};
use crate::ui::theme;
use iced::widget::{Column, button, column, container, rich_text, row, scrollable, span, text};
use iced::widget::{Id, text_input};
use iced::{Element, Length, Task};
use std::sync::Arc;

/// The search field (Ctrl+Shift+F focuses it).
pub const FIELD_ID: &str = "search-all";
/// Results shown at most.
const LIMIT: usize = 50;
/// Characters of a result's snippet.
const SNIPPET: usize = 90;

#[derive(Debug, Default)]
pub struct State {
    query: String,
    /// Bumped with each query; older answers are dropped.
    asked: u64,
    results: Vec<Found>,
    /// The query the results are for.
    answered: String,
    error: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Query(String),
    Results(u64, Result<Vec<Found>, String>),
    Open(usize),
    Clear,
}

/// What the search asks of the app.
#[derive(Debug, Clone)]
pub enum Event {
    /// Open the conversation of this message.
    Open(Box<ChatMessage>),
}

impl State {
    /// Is a query typed (the results show instead of the lists)?
    pub fn is_active(&self) -> bool {
        !self.query.trim().is_empty()
    }

    pub fn update(
        &mut self,
        message: Message,
        index: Option<&Arc<SearchIndex>>,
    ) -> (Task<Message>, Option<Event>) {
        match message {
            Message::Query(query) => {
                self.query = query;
                self.asked += 1;
                if !self.is_active() {
                    self.results.clear();
                    self.answered.clear();
                    self.error = None;
                    return (Task::none(), None);
                }
                let Some(index) = index.cloned() else {
                    return (Task::none(), None);
                };
                let (asked, query) = (self.asked, self.query.clone());
                let task = Task::perform(
                    blocking(move || {
                        index
                            .search_in_store(&query, &Filters::default(), LIMIT, SNIPPET)
                            .map_err(|e| e.to_string())
                    }),
                    move |result| Message::Results(asked, result.and_then(|r| r)),
                );
                (task, None)
            }
            Message::Results(asked, result) => {
                if asked == self.asked {
                    match result {
                        Ok(found) => {
                            self.results = found;
                            self.answered = self.query.clone();
                            self.error = None;
                        }
                        Err(e) => self.error = Some(e),
                    }
                }
                (Task::none(), None)
            }
            Message::Open(i) => {
                let event = self
                    .results
                    .get(i)
                    .map(|found| Event::Open(Box::new(found.message.clone())));
                (Task::none(), event)
            }
            Message::Clear => {
                self.query.clear();
                self.asked += 1;
                self.results.clear();
                self.answered.clear();
                self.error = None;
                (Task::none(), None)
            }
        }
    }

    /// The field.
    pub fn field(&self, lang: Lang, available: bool) -> Element<'_, Message> {
        let input = text_input(tr(lang, T::SearchPlaceholder), &self.query)
            .id(Id::new(FIELD_ID))
            .on_input_maybe(available.then_some(Message::Query))
            .padding(6)
            .size(14)
            .style(theme::input);
        let mut line = row![input].spacing(6).align_y(iced::Alignment::Center);
        if self.is_active() {
            line = line.push(
                button(text("×").size(14))
                    .padding([2, 8])
                    .style(theme::link_button)
                    .on_press(Message::Clear),
            );
        }
        container(line)
            .padding([8, 12])
            .width(300)
            .style(theme::sidebar)
            .into()
    }

    /// The results, for the place of the sidebar's lists; `label` names a
    /// conversation as the lists do.
    pub fn results<'a>(
        &'a self,
        lang: Lang,
        label: impl Fn(&ChatMessage) -> String,
    ) -> Element<'a, Message> {
        let mut list = Column::new().spacing(4).padding([0, 12]);
        let heading = if let Some(e) = &self.error {
            trf(lang, T::SearchFailed, &[("detail", e)])
        } else if self.answered != self.query {
            tr(lang, T::Searching).to_owned()
        } else if self.results.is_empty() {
            tr(lang, T::SearchNothing).to_owned()
        } else {
            trf(
                lang,
                T::SearchFound,
                &[("count", &self.results.len().to_string())],
            )
        };
        list = list.push(text(heading).size(12).style(theme::muted));
        for (i, found) in self.results.iter().enumerate() {
            list = list.push(result(lang, found, label(&found.message), i));
        }
        container(scrollable(list).height(Length::Fill))
            .width(300)
            .height(Length::Fill)
            .style(theme::sidebar)
            .into()
    }
}

fn result<'a>(lang: Lang, found: &'a Found, label: String, i: usize) -> Element<'a, Message> {
    let m = &found.message;
    let when = timefmt::local(m.timestamp_ms)
        .map(|at| timefmt::date_time(lang, at.naive_local()))
        .unwrap_or_default();
    let sender = match m.direction {
        Direction::Outgoing => tr(lang, T::Me).to_owned(),
        Direction::Incoming if !m.sender.is_empty() => {
            crate::notify::shown_name(&m.sender).into_owned()
        }
        Direction::Incoming => m.peer().to_string(),
    };
    // The snippet, its matches in bold.
    let snippet = &found.snippet;
    let mut spans: Vec<iced::widget::text::Span<'a, ()>> = Vec::new();
    let mut at = 0;
    for mark in &snippet.marks {
        let (start, end) = (
            mark.start.min(snippet.text.len()),
            mark.end.min(snippet.text.len()),
        );
        if start < at
            || !snippet.text.is_char_boundary(start)
            || !snippet.text.is_char_boundary(end)
        {
            continue;
        }
        spans.push(span(&snippet.text[at..start]));
        spans.push(span(&snippet.text[start..end]).font(iced::Font {
            weight: iced::font::Weight::Bold,
            ..iced::Font::DEFAULT
        }));
        at = end;
    }
    spans.push(span(&snippet.text[at..]));
    let body: Element<'a, Message> = rich_text(spans).size(13).into();
    button(
        column![
            row![
                text(label).size(14).width(Length::Fill),
                text(when).size(11).style(theme::muted),
            ]
            .spacing(6),
            text(sender).size(12).style(theme::muted),
            body,
        ]
        .spacing(2),
    )
    .width(Length::Fill)
    .padding([6, 8])
    .style(theme::list_item(false))
    .on_press(Message::Open(i))
    .into()
}
