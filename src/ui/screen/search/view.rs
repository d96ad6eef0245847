//! How the search looks: the field (with the conversation it is narrowed to), the
//! filter bar, and the results.

use super::{FIELD_ID, From, Message, Named, Period, State, Within};
use crate::ids::AccountId;
use crate::model::{Account, ChatMessage, Direction};
use crate::search::{Found, Sender};
use crate::ui::i18n::{Lang, T, timefmt, tr, trf};
use crate::ui::{theme, widgets};
use iced::widget::{Column, button, column, container, pick_list, rich_text, row, scrollable};
use iced::widget::{Id, span, text, text_input, tooltip};
use iced::{Alignment, Element, Length};

/// A period as the picker shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shown(Period, Lang);

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = match self.0 {
            Period::Any => T::SearchAnyTime,
            Period::Day => T::SearchPastDay,
            Period::Week => T::SearchPastWeek,
            Period::Month => T::SearchPastMonth,
            Period::Year => T::SearchPastYear,
        };
        f.write_str(tr(self.1, t))
    }
}

/// Who wrote a message, as a result line names them.
pub fn sender_name(lang: Lang, m: &ChatMessage) -> String {
    match m.direction {
        Direction::Outgoing => tr(lang, T::Me).to_owned(),
        Direction::Incoming if !m.sender.is_empty() => {
            crate::notify::shown_name(&m.sender).into_owned()
        }
        Direction::Incoming => m.peer().to_string(),
    }
}

/// A filter that is set, with × to remove it.
fn chip<'a>(label: String, remove: Message, lang: Lang) -> Element<'a, Message> {
    let close = tooltip(
        button(text("×").size(12))
            .padding([0, 4])
            .style(theme::link_button)
            .on_press(remove),
        container(text(tr(lang, T::SearchRemoveFilter)).size(12))
            .padding(4)
            .style(theme::tag),
        tooltip::Position::Bottom,
    );
    container(
        row![text(widgets::short(&label, 28)).size(12), close]
            .spacing(2)
            .align_y(Alignment::Center),
    )
    .padding([1, 6])
    .style(theme::tag)
    .into()
}

/// A small drop-down of the filter bar.
fn picker<'a, T>(
    options: Vec<T>,
    selected: Option<T>,
    on_pick: impl Fn(T) -> Message + 'a,
) -> Element<'a, Message>
where
    T: std::fmt::Display + PartialEq + Clone + 'a,
{
    pick_list(options, selected, on_pick)
        .text_size(12)
        .padding([2, 6])
        .width(Length::Fill)
        .into()
}

/// A filter that is on or off.
fn toggle<'a>(label: &'a str, on: bool, press: Message) -> Element<'a, Message> {
    button(text(label).size(12))
        .padding([2, 8])
        .style(theme::pill(on))
        .on_press(press)
        .into()
}

impl State {
    /// The field, and the conversation it is narrowed to (Ctrl+F).
    pub fn field(&self, lang: Lang, available: bool) -> Element<'_, Message> {
        let placeholder = match &self.within {
            Some(w) => trf(lang, T::SearchHerePlaceholder, &[("name", &w.name)]),
            None => tr(lang, T::SearchPlaceholder).to_owned(),
        };
        let input = text_input(&placeholder, &self.query)
            .id(Id::new(FIELD_ID))
            .on_input_maybe(available.then_some(Message::Query))
            .padding(6)
            .size(14)
            .style(theme::input);
        let mut line = row![input].spacing(6).align_y(Alignment::Center);
        if self.is_active() || self.within.is_some() {
            line = line.push(
                button(text("×").size(14))
                    .padding([2, 8])
                    .style(theme::link_button)
                    .on_press(Message::Clear),
            );
        }
        let mut content = column![line].spacing(6);
        if let Some((done, total)) = self.indexing {
            content = content.push(
                text(super::indexing_words(lang, done, total))
                    .size(12)
                    .style(theme::muted),
            );
        }
        if let Some(w) = self.within.as_ref().filter(|_| !self.is_active()) {
            content = content.push(chip(
                trf(lang, T::SearchIn, &[("name", &w.name)]),
                Message::Within(None),
                lang,
            ));
        }
        container(content)
            .padding([8, 12])
            .width(300)
            .style(theme::sidebar)
            .into()
    }

    /// The filter bar above the results: files, links, period; the conversation and
    /// the sender, picked among the results'.
    fn filter_bar<'a>(
        &'a self,
        lang: Lang,
        label: &dyn Fn(&ChatMessage) -> String,
        accounts: &[&'a Account],
        chosen: Option<&AccountId>,
    ) -> Element<'a, Message> {
        let periods: Vec<Shown> = Period::ALL.iter().map(|p| Shown(*p, lang)).collect();
        // The conversations and senders of the results, the chosen ones first.
        let mut places = vec![Named {
            value: None,
            name: tr(lang, T::SearchAllConversations).to_owned(),
        }];
        let mut people = vec![Named {
            value: None,
            name: tr(lang, T::SearchAnyone).to_owned(),
        }];
        places.extend(self.within.clone().map(|w| Named {
            value: Some(w.value),
            name: w.name,
        }));
        people.extend(self.from.clone().map(|f| Named {
            value: Some(f.value),
            name: f.name,
        }));
        for found in &self.results {
            let m = &found.message;
            let place = Some((m.account.clone(), m.conversation.clone()));
            if !places.iter().any(|p| p.value == place) {
                places.push(Named {
                    value: place,
                    name: widgets::short(&label(m), 30),
                });
            }
            let person = Some((m.account.clone(), Sender::of(m)));
            if !people.iter().any(|p| p.value == person) {
                people.push(Named {
                    value: person,
                    name: widgets::short(&sender_name(lang, m), 30),
                });
            }
        }
        let place = places
            .iter()
            .find(|p| p.value == self.within.as_ref().map(|w| w.value.clone()))
            .cloned();
        let person = people
            .iter()
            .find(|p| p.value == self.from.as_ref().map(|f| f.value.clone()))
            .cloned();
        let mut bar = column![
            row![
                toggle(
                    tr(lang, T::SearchFiles),
                    self.has_file,
                    Message::Files(!self.has_file)
                ),
                toggle(
                    tr(lang, T::SearchLinks),
                    self.has_link,
                    Message::Links(!self.has_link)
                ),
                picker(periods, Some(Shown(self.period, lang)), |s: Shown| {
                    Message::Period(s.0)
                }),
            ]
            .spacing(5)
            .align_y(Alignment::Center),
            row![
                picker(places, place, |p: Named<Option<_>>| {
                    Message::Within(p.value.map(|value| Within {
                        value,
                        name: p.name,
                    }))
                }),
                picker(people, person, |p: Named<Option<_>>| {
                    Message::From(p.value.map(|value| From {
                        value,
                        name: p.name,
                    }))
                }),
            ]
            .spacing(5),
        ]
        .spacing(5);
        if accounts.len() > 1 {
            let mut all = vec![Named {
                value: None,
                name: tr(lang, T::AllAccounts).to_owned(),
            }];
            all.extend(accounts.iter().map(|a| Named {
                value: Some(a.id.clone()),
                name: widgets::short(&a.label(), 30),
            }));
            let picked = all.iter().find(|a| a.value.as_ref() == chosen).cloned();
            bar = bar.push(picker(all, picked, |a: Named<Option<AccountId>>| {
                Message::Account(a.value)
            }));
        }
        bar.into()
    }

    /// The results, for the place of the sidebar's lists; `label` names a
    /// conversation as the lists do. With several `accounts`, each result says which
    /// it is in, and the search can be narrowed to one (`chosen`).
    pub fn results<'a>(
        &'a self,
        lang: Lang,
        label: impl Fn(&ChatMessage) -> String,
        accounts: &[&'a Account],
        chosen: Option<&AccountId>,
    ) -> Element<'a, Message> {
        let account = |id: &AccountId| {
            (accounts.len() > 1)
                .then(|| accounts.iter().find(|a| a.id == *id).copied())
                .flatten()
        };
        let mut list = Column::new().spacing(4).padding([0, 12]);
        list = list.push(self.filter_bar(lang, &label, accounts, chosen));
        let current = self
            .answered
            .as_ref()
            .is_some_and(|(q, _)| *q == self.query);
        let heading = if let Some(e) = &self.error {
            trf(lang, T::SearchFailed, &[("detail", e)])
        } else if !current {
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
            let m = &found.message;
            list = list.push(result(lang, found, label(m), account(&m.account), i));
        }
        container(scrollable(list).height(Length::Fill))
            .width(300)
            .height(Length::Fill)
            .style(theme::sidebar)
            .into()
    }
}

/// The snippet, its matches in bold.
fn snippet<'a>(found: &'a Found) -> Element<'a, Message> {
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
    rich_text(spans).size(13).into()
}

fn result<'a>(
    lang: Lang,
    found: &'a Found,
    label: String,
    account: Option<&'a Account>,
    i: usize,
) -> Element<'a, Message> {
    let m = &found.message;
    let when = timefmt::local(m.timestamp_ms)
        .map(|at| timefmt::date_time(lang, at.naive_local()))
        .unwrap_or_default();
    let mut who = row![text(sender_name(lang, m)).size(12).style(theme::muted)]
        .spacing(8)
        .align_y(Alignment::Center);
    if let Some(account) = account {
        who = who.push(widgets::account_tag(account, 22));
    }
    button(
        column![
            row![
                text(label).size(14).width(Length::Fill),
                text(when).size(11).style(theme::muted),
            ]
            .spacing(6),
            who,
            snippet(found),
        ]
        .spacing(2),
    )
    .width(Length::Fill)
    .padding([6, 8])
    .style(theme::list_item(false))
    .on_press(Message::Open(i))
    .into()
}
