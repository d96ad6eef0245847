//! The message list: day separators, bubbles, times, delivery ticks and links.

use super::links::{Segment, segments};
use super::{Context, Message};
use crate::ids::LocalMessageId;
use crate::model::{ChatMessage, Delivery, Direction};
use crate::store::HistoryGap;
use crate::ui::fold;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use crate::ui::timefmt;
use chrono::{DateTime, Datelike, Local, NaiveDate};
use iced::widget::text::Wrapping;
use iced::widget::{button, column, container, keyed_column, rich_text, row, space, span, text};
use iced::{Alignment, Element, Length};
use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// Keys of the rows, so rows keep their state when older pages are prepended.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Key {
    Top,
    Day(i32),
    Message(u64),
    Gap(i64),
}

fn local_time(timestamp_ms: i64) -> Option<DateTime<Local>> {
    timefmt::local(timestamp_ms)
}

/// "Today", "Yesterday" or the date, in the interface language.
pub fn day_label(lang: Lang, day: NaiveDate, today: NaiveDate) -> String {
    timefmt::day_label(lang, day, today)
}

fn key_of(message: &ChatMessage) -> Key {
    let mut hasher = DefaultHasher::new();
    message.id.hash(&mut hasher);
    Key::Message(hasher.finish())
}

/// The rows of the list, oldest first.
pub fn view<'a>(
    cx: &Context<'a>,
    messages: &'a [ChatMessage],
    unfolded: &HashSet<LocalMessageId>,
    gaps: &[HistoryGap],
    top: Option<T>,
) -> Element<'a, Message> {
    let today = Local::now().date_naive();
    let mut rows: Vec<(Key, Element<'a, Message>)> = Vec::with_capacity(messages.len() * 2 + 1);
    if let Some(top) = top {
        let line: Element<'a, Message> = if top == T::LoadOlder {
            button(text(tr(cx.lang, top)).size(13))
                .style(theme::link_button)
                .on_press(Message::LoadOlder)
                .into()
        } else {
            text(tr(cx.lang, top)).size(13).style(theme::muted).into()
        };
        rows.push((
            Key::Top,
            container(line).center_x(Length::Fill).padding(8).into(),
        ));
    }
    let mut last_day: Option<NaiveDate> = None;
    let mut previous: Option<i64> = None;
    for message in messages {
        // A gap shows between the last message before it and the first one after it.
        if let Some(prev) = previous
            && let Some(gap) = gaps
                .iter()
                .find(|g| prev <= g.after_ms && message.timestamp_ms >= g.before_ms)
        {
            rows.push((Key::Gap(gap.after_ms), gap_marker(cx.lang)));
        }
        previous = Some(message.timestamp_ms);
        let time = local_time(message.timestamp_ms);
        if let Some(day) = time.map(|t| t.date_naive())
            && last_day != Some(day)
        {
            last_day = Some(day);
            rows.push((
                Key::Day(day.num_days_from_ce()),
                container(
                    container(text(day_label(cx.lang, day, today)).size(12))
                        .padding([2, 10])
                        .style(theme::day_separator),
                )
                .center_x(Length::Fill)
                .padding([6, 0])
                .into(),
            ));
        }
        let unfolded = unfolded.contains(&message.id);
        rows.push((key_of(message), bubble(cx, message, unfolded, time)));
    }
    // iced's keyed column diffs a row whose key moved against whatever state sits at
    // its new place, without checking the kind of widget. A bare container shares its
    // content's state, so a "loading" line could inherit a message row's state and
    // panic. Wrapped in a one-child row, every entry has the same kind of state and
    // the row diffs its child properly.
    let rows = rows
        .into_iter()
        .map(|(key, element)| (key, row![element].width(Length::Fill).into()));
    keyed_column(rows).spacing(6).padding([8, 14]).into()
}

/// "Messages may be missing here": the server archive did not reach back this far.
fn gap_marker<'a>(lang: Lang) -> Element<'a, Message> {
    container(
        container(text(tr(lang, T::HistoryGap)).size(12).style(theme::muted))
            .padding([4, 12])
            .style(theme::day_separator),
    )
    .center_x(Length::Fill)
    .padding([6, 0])
    .into()
}

fn bubble<'a>(
    cx: &Context<'a>,
    message: &'a ChatMessage,
    unfolded: bool,
    time: Option<DateTime<Local>>,
) -> Element<'a, Message> {
    let own = message.direction == Direction::Outgoing;
    let sender = if own {
        tr(cx.lang, T::Me).to_string()
    } else if !message.sender.trim().is_empty() {
        message.sender.clone()
    } else {
        cx.peer_label.clone()
    };
    let time = time.map(|t| timefmt::time(&t)).unwrap_or_default();

    let mut content: iced::widget::Column<'a, Message> = column![
        row![
            text(sender).size(13).style(theme::heading),
            text(time).size(11).style(theme::muted),
        ]
        .spacing(8)
        .align_y(Alignment::Center),
        match message.attachment.as_deref() {
            Some(file) => match cx.previews.and_then(|p| {
                p.thumbnail(&file.url, |m| {
                    Message::Transfers(super::super::transfers::Message::Preview(m))
                })
            }) {
                Some(thumbnail) => thumbnail,
                None => super::super::transfers::file_card(
                    cx.lang,
                    file,
                    Message::Download(message.id.clone()),
                    Message::SaveAs(message.id.clone()),
                ),
            },
            None => fold::body(cx.lang, message, unfolded, body, |unfold| {
                Message::Unfold(message.id.clone(), unfold)
            }),
        },
    ]
    .spacing(3);

    // A failed message says why, and offers Retry, below its bubble where the text
    // reads on the window background instead of on the bubble colour.
    let mut failure = None;
    if own {
        let tick = match &message.delivery {
            Delivery::Pending => Some(text(tr(cx.lang, T::DeliveryPending)).style(theme::muted)),
            Delivery::Sent => Some(text(tr(cx.lang, T::DeliverySent)).style(theme::muted)),
            Delivery::Acked => Some(text(tr(cx.lang, T::DeliveryAcked)).style(theme::muted)),
            Delivery::Delivered => {
                Some(text(tr(cx.lang, T::DeliveryDelivered)).style(theme::good_text))
            }
            Delivery::Read => Some(text(tr(cx.lang, T::DeliveryRead)).style(theme::good_text)),
            Delivery::Failed(reason) => {
                failure = Some(
                    row![
                        text(trf(cx.lang, T::DeliveryFailed, &[("reason", reason)]))
                            .size(12)
                            .style(theme::error_text),
                        button(text(tr(cx.lang, T::Retry)).size(12))
                            .padding([2, 6])
                            .style(theme::link_button)
                            .on_press(Message::Retry(message.id.clone())),
                    ]
                    .spacing(6)
                    .align_y(Alignment::Center),
                );
                None
            }
        };
        if let Some(tick) = tick {
            // Right under the body, on the right, without widening the bubble.
            content = column![content, tick.size(11)].align_x(Alignment::End);
        }
    }

    let style = if own {
        theme::bubble_own
    } else {
        theme::bubble_other
    };
    let bubble = container(content)
        .padding([6, 10])
        .max_width(560)
        .style(style);
    if own {
        let right = row![space::horizontal(), bubble];
        match failure {
            Some(failure) => column![right, row![space::horizontal(), failure]]
                .spacing(2)
                .into(),
            None => right.into(),
        }
    } else {
        row![bubble, space::horizontal()].into()
    }
}

/// The body (or the part of it shown) as plain text, or as rich text with clickable
/// links.
fn body(shown: &str) -> Element<'_, Message> {
    let parts = segments(shown);
    if !parts.iter().any(|p| matches!(p, Segment::Link(_))) {
        return text(shown).size(15).wrapping(Wrapping::WordOrGlyph).into();
    }
    let spans: Vec<_> = parts
        .into_iter()
        .map(|part| match part {
            Segment::Text(t) => span(t),
            Segment::Link(url) => span(url).link(url.to_string()).underline(true),
        })
        .collect();
    rich_text(spans)
        .on_link_click(Message::OpenLink)
        .size(15)
        .wrapping(Wrapping::WordOrGlyph)
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_named_relative_to_today() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        let yesterday = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        let older = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        assert_eq!(day_label(Lang::En, today, today), "Today");
        assert_eq!(day_label(Lang::ZhCn, yesterday, today), "昨天");
        assert_eq!(day_label(Lang::En, older, today), "Dec 31, 2025");
        assert_eq!(day_label(Lang::ZhCn, older, today), "2025年12月31日");
    }
}
