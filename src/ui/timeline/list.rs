//! The message list: day separators, bubbles grouped by sender, times, delivery ticks,
//! links, file cards and inline images, the gap marker and the unread line.

use crate::colors::consistent_color;
use crate::ids::LocalMessageId;
use crate::model::{ChatMessage, Delivery, Direction};
use crate::store::HistoryGap;
use crate::ui::i18n::timefmt;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use crate::ui::timeline::fold;
use crate::ui::timeline::{Context, Entry, Kind, Message, Top};
use chrono::{DateTime, Datelike, Local, NaiveDate};
use iced::widget::text::Wrapping;
use iced::widget::{button, column, container, keyed_column, row, space, text, tooltip};
use iced::{Alignment, Element, Length};
use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// Messages from one sender this close together share one name line.
pub const GROUP_MS: i64 = 5 * 60 * 1000;

/// Keys of the rows, so rows keep their state when older pages are prepended.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Key {
    Top,
    Day(i32),
    Message(u64),
    Gap(i64),
    Note(u64),
    Unread,
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

/// Does `message` continue the run of `previous` (same sender, same side, within
/// [`GROUP_MS`])? Then its bubble shows no name line.
fn continues(previous: Option<&ChatMessage>, message: &ChatMessage) -> bool {
    previous.is_some_and(|p| {
        p.direction == message.direction
            && p.sender == message.sender
            && (0..=GROUP_MS).contains(&(message.timestamp_ms - p.timestamp_ms))
    })
}

/// A centred small line on the window background (day, gap, note, unread).
fn marker<'a>(line: Element<'a, Message>) -> Element<'a, Message> {
    container(container(line).padding([2, 10]).style(theme::day_separator))
        .center_x(Length::Fill)
        .padding([6, 0])
        .into()
}

/// The rows of the list, oldest first. `unread_from`: the first message not read when
/// the conversation was opened (the unread line goes above it).
pub fn view<'a>(
    cx: &Context<'a>,
    entries: impl IntoIterator<Item = Entry<'a>>,
    unfolded: &HashSet<LocalMessageId>,
    gaps: &[HistoryGap],
    top: Option<Top>,
    unread_from: Option<&LocalMessageId>,
) -> Element<'a, Message> {
    keyed(cx, entries, unfolded, gaps, top, unread_from).0
}

/// [`view`], and a key for each of its rows in order, `Some` for a message's (for
/// [`super::anchor`]).
pub fn keyed<'a>(
    cx: &Context<'a>,
    entries: impl IntoIterator<Item = Entry<'a>>,
    unfolded: &HashSet<LocalMessageId>,
    gaps: &[HistoryGap],
    top: Option<Top>,
    unread_from: Option<&LocalMessageId>,
) -> (Element<'a, Message>, Vec<Option<u64>>) {
    let today = Local::now().date_naive();
    let mut rows: Vec<(Key, Element<'a, Message>)> = Vec::new();
    if let Some(top) = top {
        let line: Element<'a, Message> = match top {
            Top::LoadOlder => button(text(tr(cx.lang, T::LoadOlder)).size(13))
                .style(theme::link_button)
                .on_press(Message::LoadOlder)
                .into(),
            Top::Loading => text(tr(cx.lang, T::LoadingOlder))
                .size(13)
                .style(theme::muted)
                .into(),
            Top::Empty => text(tr(cx.lang, T::NoMessages))
                .size(13)
                .style(theme::muted)
                .into(),
        };
        rows.push((
            Key::Top,
            container(line).center_x(Length::Fill).padding(8).into(),
        ));
    }
    let mut last_day: Option<NaiveDate> = None;
    let mut previous: Option<i64> = None;
    // The message the next one may group with (none after a marker or a note).
    let mut run: Option<&'a ChatMessage> = None;
    let entries: Vec<Entry<'a>> = entries.into_iter().collect();
    let shown: Vec<&'a ChatMessage> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Message(m) => Some(*m),
            Entry::Note(_) | Entry::DevicesNote(_) => None,
        })
        .collect();
    for (index, entry) in entries.into_iter().enumerate() {
        let message = match entry {
            Entry::Message(message) => message,
            Entry::Note(words) => {
                let mut hasher = DefaultHasher::new();
                (index, &words).hash(&mut hasher);
                rows.push((
                    Key::Note(hasher.finish()),
                    container(text(words).size(12).style(theme::muted))
                        .padding([0, 4])
                        .into(),
                ));
                run = None;
                continue;
            }
            Entry::DevicesNote(words) => {
                let mut hasher = DefaultHasher::new();
                (index, &words).hash(&mut hasher);
                let show = button(text(tr(cx.lang, T::EncShowDevices)).size(12))
                    .padding([0, 4])
                    .style(theme::link_button)
                    .on_press(Message::ShowDevices);
                rows.push((
                    Key::Note(hasher.finish()),
                    column![
                        container(text(words).size(12).style(theme::muted)).padding([0, 4]),
                        show,
                    ]
                    .into(),
                ));
                run = None;
                continue;
            }
        };
        // A gap shows between the last message before it and the first one after it.
        if let Some(prev) = previous
            && let Some(gap) = gaps
                .iter()
                .find(|g| prev <= g.after_ms && message.timestamp_ms >= g.before_ms)
        {
            rows.push((Key::Gap(gap.after_ms), gap_marker(cx.lang)));
            run = None;
        }
        previous = Some(message.timestamp_ms);
        let time = local_time(message.timestamp_ms);
        if let Some(day) = time.map(|t| t.date_naive())
            && last_day != Some(day)
        {
            last_day = Some(day);
            rows.push((
                Key::Day(day.num_days_from_ce()),
                marker(text(day_label(cx.lang, day, today)).size(12).into()),
            ));
            run = None;
        }
        if unread_from == Some(&message.id) {
            rows.push((
                Key::Unread,
                marker(
                    text(tr(cx.lang, T::UnreadLine))
                        .size(12)
                        .style(theme::warning_text)
                        .into(),
                ),
            ));
            run = None;
        }
        let grouped = continues(run, message);
        run = Some(message);
        let unfolded = unfolded.contains(&message.id);
        rows.push((
            key_of(message),
            bubble(cx, message, unfolded, time, grouped, &shown),
        ));
    }
    // iced's keyed column diffs a row whose key moved against whatever state sits at
    // its new place, without checking the kind of widget. A bare container shares its
    // content's state, so a "loading" line could inherit a message row's state and
    // panic. Wrapped in a one-child row, every entry has the same kind of state and
    // the row diffs its child properly.
    let keys = rows
        .iter()
        .map(|(key, _)| match key {
            Key::Message(hash) => Some(*hash),
            _ => None,
        })
        .collect();
    let rows = rows
        .into_iter()
        .map(|(key, element)| (key, row![element].width(Length::Fill).into()));
    // A scroll moves every row: one damaged region for the compositor (see `one_region`).
    (
        super::one_region::one_region(keyed_column(rows).spacing(6).padding([8, 14])),
        keys,
    )
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

/// How our own message's delivery reads (`None` for a failure, said below the bubble).
fn tick<'a>(cx: &Context<'a>, delivery: &Delivery) -> Option<iced::widget::Text<'a>> {
    let room = cx.kind == Kind::Room;
    let lang = cx.lang;
    Some(match delivery {
        Delivery::Pending => text(tr(lang, T::DeliveryPending)).style(theme::muted),
        Delivery::Sent => text(tr(lang, T::DeliverySent)).style(theme::muted),
        // A room confirms by reflecting the message; it has no receipts.
        Delivery::Acked if room => text(tr(lang, T::DeliverySent)).style(theme::muted),
        Delivery::Delivered | Delivery::Read if room => {
            text(tr(lang, T::DeliveryReflected)).style(theme::good_text)
        }
        Delivery::Acked => text(tr(lang, T::DeliveryAcked)).style(theme::muted),
        Delivery::Delivered => text(tr(lang, T::DeliveryDelivered)).style(theme::good_text),
        Delivery::Read => text(tr(lang, T::DeliveryRead)).style(theme::good_text),
        Delivery::Failed(_) => return None,
    })
}

/// What a sender is called on their bubble's name line and in `/me` lines.
fn sender_name(cx: &Context<'_>, message: &ChatMessage) -> String {
    if message.direction == Direction::Outgoing {
        tr(cx.lang, T::Me).to_owned()
    } else if message.sender.trim().is_empty() {
        cx.peer_label.clone()
    } else {
        message.sender.clone()
    }
}

/// The compact quote above a reply's text: who and the first line of the message it
/// answers; a click shows that message. When it is not loaded here, it says so.
fn reply_quote<'a>(
    cx: &Context<'a>,
    message: &ChatMessage,
    shown: &[&'a ChatMessage],
) -> Option<Element<'a, Message>> {
    let reply = message.extras.reply_to.as_ref()?;
    if message.extras.retracted.is_some() {
        return None;
    }
    let original = shown
        .iter()
        .find(|m| crate::ui::timeline::actions::named(m, &reply.id));
    let words: Element<'a, Message> = match original {
        Some(original) => {
            let who = crate::ui::timeline::actions::who(
                cx.lang,
                cx.kind,
                &cx.peer_label,
                original.direction == Direction::Outgoing,
                &original.sender,
            );
            let line = if original.extras.retracted.is_some() {
                tr(cx.lang, T::QuoteDeleted).to_owned()
            } else {
                crate::ui::timeline::actions::first_line(&crate::ui::timeline::fold::readable_body(
                    cx.lang,
                    &original.body,
                ))
            };
            column![
                text(who).size(12).style(theme::heading),
                text(line)
                    .size(12)
                    .style(theme::muted)
                    .wrapping(Wrapping::WordOrGlyph),
            ]
            .spacing(1)
            .into()
        }
        None => {
            let words = match cx.actions {
                Some(a) if a.seeking.as_ref().is_some_and(|(r, _)| *r == reply.id) => {
                    T::QuoteSeeking
                }
                Some(a) if a.lost.as_ref() == Some(&reply.id) => T::QuoteNotFound,
                Some(_) => T::QuoteFind,
                None => T::QuoteNotLoaded,
            };
            text(tr(cx.lang, words))
                .size(12)
                .style(theme::muted)
                .wrapping(Wrapping::WordOrGlyph)
                .into()
        }
    };
    let quote = row![
        container(space())
            .width(3)
            .height(28)
            .style(theme::quote_rule),
        words
    ]
    .spacing(6)
    .align_y(Alignment::Center);
    Some(match original {
        Some(original) if cx.actions.is_some() => button(quote)
            .padding([2, 6])
            .style(theme::link_button)
            .on_press(Message::Action(crate::ui::timeline::actions::Action::Jump(
                original.id.clone(),
            )))
            .into(),
        // Not loaded: a click pages back until it shows.
        None if cx
            .actions
            .is_some_and(|a| a.seeking.is_none() && a.lost.as_ref() != Some(&reply.id)) =>
        {
            button(quote)
                .padding([2, 6])
                .style(theme::link_button)
                .on_press(Message::Action(crate::ui::timeline::actions::Action::Seek(
                    reply.id.clone(),
                )))
                .into()
        }
        _ => container(quote)
            .padding([2, 6])
            .style(theme::quote_box)
            .into(),
    })
}

fn bubble<'a>(
    cx: &Context<'a>,
    message: &'a ChatMessage,
    unfolded: bool,
    time: Option<DateTime<Local>>,
    grouped: bool,
    shown: &[&'a ChatMessage],
) -> Element<'a, Message> {
    let own = message.direction == Direction::Outgoing;
    let time = time.map(|t| timefmt::time(&t)).unwrap_or_default();
    let actor = sender_name(cx, message);
    // "/me" names us as others see us: our nick in a room.
    let me_as = if own && !message.sender.trim().is_empty() {
        message.sender.clone()
    } else {
        actor.clone()
    };

    // A search result opened here: where the query matched, marked.
    let marks: &[std::ops::Range<usize>] = match cx.actions {
        Some(a) if a.highlight.as_ref() == Some(&message.id) => &a.marks,
        _ => &[],
    };
    let attachment: Element<'a, Message> = match message.attachment.as_deref() {
        // Deleted by its sender or removed by a moderator: no text, no file.
        _ if message.extras.retracted.is_some() => match &message.extras.retracted {
            Some(r) => crate::ui::timeline::changes::retracted(cx.lang, r),
            None => column![].into(),
        },
        Some(file) => match cx
            .previews
            .and_then(|p| p.thumbnail(&file.url, Message::Preview))
        {
            Some(thumbnail) => thumbnail,
            None => crate::ui::timeline::transfers::file_card(
                cx.lang,
                file,
                file.size
                    .or_else(|| cx.previews.and_then(|p| p.known_size(&file.url))),
                Message::Download(message.id.clone()),
                Message::SaveAs(message.id.clone()),
            ),
        },
        None => fold::body(
            cx.lang,
            message,
            unfolded,
            |shown| crate::ui::timeline::styled::body_marked(shown, &me_as, marks),
            |unfold| Message::Unfold(message.id.clone(), unfold),
        ),
    };
    let mut content: iced::widget::Column<'a, Message> = column![].spacing(3);
    if !grouped {
        let sender = if own || message.sender.trim().is_empty() {
            text(actor.clone()).style(theme::heading)
        } else if cx.kind == Kind::Chat {
            text(crate::notify::shown_name(&message.sender).into_owned()).style(theme::heading)
        } else {
            // Our own bubble is coloured already: only others' nicks get colours,
            // so a low-contrast colour never lands on the accent.
            let colour = consistent_color(&message.sender);
            text(crate::notify::shown_name(&message.sender).into_owned()).style(theme::nick(colour))
        };
        content = content.push(
            row![
                sender.size(13).wrapping(Wrapping::WordOrGlyph),
                text(time.clone()).size(11).style(theme::muted),
            ]
            .spacing(8)
            .align_y(Alignment::Center),
        );
    }
    if let Some(quote) = reply_quote(cx, message, shown) {
        content = content.push(quote);
    }
    content = content.push(attachment);
    let mut footer = row![].spacing(8).align_y(Alignment::Center);
    let mut has_footer = false;
    if let Some(chips) = crate::ui::timeline::changes::reactions(cx.lang, message, &cx.peer_label) {
        footer = footer.push(chips);
        has_footer = true;
    }
    if let Some(mark) = crate::ui::timeline::changes::edited(cx.lang, message) {
        footer = footer.push(mark);
        has_footer = true;
    }
    if has_footer {
        content = content.push(footer);
    }

    // A failed message says why, and offers Retry, below its bubble where the text
    // reads on the window background instead of on the bubble colour.
    let mut failure = None;
    if own {
        if let Delivery::Failed(reason) = &message.delivery {
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
        }
        if let Some(tick) = tick(cx, &message.delivery) {
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
    let highlighted = cx
        .actions
        .is_some_and(|a| a.highlight.as_ref() == Some(&message.id));
    let bubble: Element<'a, Message> = if highlighted {
        container(bubble)
            .id(crate::ui::timeline::actions::HIGHLIGHT_ID)
            .padding(2)
            .style(theme::highlight)
            .into()
    } else {
        bubble.into()
    };
    // A message in a run shows its time on hover.
    let bubble: Element<'a, Message> = if grouped {
        tooltip(
            bubble,
            container(text(time).size(11)).padding(4).style(theme::tag),
            tooltip::Position::Left,
        )
        .into()
    } else {
        bubble
    };
    // The "⋯" beside the bubble, and the row of actions (or a question) under it.
    let (more, under) = match cx.actions {
        Some(actions) => {
            let r = crate::ui::timeline::actions::Row {
                lang: cx.lang,
                kind: cx.kind,
                actions,
                moderator: cx.moderator,
            };
            (
                Some(crate::ui::timeline::actions::more(
                    cx.lang,
                    &message.id,
                    actions.open.as_ref() == Some(&message.id),
                )),
                crate::ui::timeline::actions::under(&r, message),
            )
        }
        None => (None, None),
    };
    let line: Element<'a, Message> = if own {
        row![space::horizontal()]
            .push(more)
            .push(bubble)
            .spacing(4)
            .align_y(Alignment::Center)
            .into()
    } else {
        let line = row![bubble]
            .push(more)
            .push(space::horizontal())
            .spacing(4)
            .align_y(Alignment::Center);
        if cx.kind == Kind::Room {
            row![
                crate::ui::timeline::faces::beside(message, grouped, cx.faces),
                line
            ]
            .spacing(6)
            .into()
        } else {
            line.into()
        }
    };
    let mut block = column![line].spacing(2);
    if own {
        if let Some(failure) = failure {
            block = block.push(row![space::horizontal(), failure]);
        }
        if let Some(under) = under {
            block = block.push(row![space::horizontal(), under]);
        }
    } else if let Some(under) = under {
        let indent = if cx.kind == Kind::Room {
            crate::ui::timeline::faces::SIDE + 6.0
        } else {
            0.0
        };
        block = block.push(row![space().width(indent), under, space::horizontal()]);
    }
    block.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(sender: &str, direction: Direction, ts: i64) -> ChatMessage {
        ChatMessage {
            truncated: false,
            extras: Default::default(),
            id: LocalMessageId::generate(),
            account: crate::ids::AccountId("a".into()),
            conversation: crate::ids::ConversationId::Room(
                xmpp_parsers::jid::BareJid::new("tea@conference.example.org").unwrap(),
            ),
            direction,
            sender: sender.into(),
            body: "hi".into(),
            timestamp_ms: ts,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
        }
    }

    #[test]
    fn a_run_from_one_sender_within_minutes_is_grouped() {
        let first = message("bob", Direction::Incoming, 1_000_000);
        let soon = message("bob", Direction::Incoming, 1_000_000 + GROUP_MS);
        let late = message("bob", Direction::Incoming, 1_000_001 + GROUP_MS);
        let other = message("carol", Direction::Incoming, 1_000_100);
        let mine = message("bob", Direction::Outgoing, 1_000_100);
        assert!(continues(Some(&first), &soon));
        assert!(!continues(Some(&first), &late));
        assert!(!continues(Some(&first), &other));
        assert!(!continues(Some(&first), &mine));
        assert!(!continues(None, &first));
    }

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
