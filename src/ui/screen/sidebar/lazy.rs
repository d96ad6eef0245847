//! The sidebar's long lists (conversations, contacts) built only near the screen
//! (issue #21). Every line has a fixed height, so a run of lines out of sight stands as
//! an empty space of exactly their height: the list's length and the scroll bar are
//! what they would be with every line built, while only the lines near the visible part
//! are laid out, shaped and kept in memory. A roster of 2,000 used to hold 2,000 shaped
//! names and statuses.
//!
//! Lines go in chunks of [`CHUNK`], each in a [`sensor`] that says when it comes within
//! [`AHEAD`] pixels of the visible part (and when it leaves), so a chunk is built before
//! it scrolls into view. The first chunks of each list are built from the start, so the
//! first frame shows them without waiting for a sensor. A chunk holding a line of no
//! fixed height (an open edit form, a group being renamed) is always built.

use super::Message;
use iced::Element;
use iced::widget::{Column, column, sensor, space};
use std::collections::HashSet;

/// The height of a conversation or contact line.
pub const LINE: f32 = 49.0;
/// The height of a contact group's header.
pub const HEADER: f32 = 22.0;
/// The space between lines.
pub const SPACING: f32 = 4.0;
/// Lines in a chunk: a chunk (about 530 px) is shorter than the visible part, so one
/// that crosses it has an edge inside it, which is what a sensor looks at.
pub const CHUNK: usize = 10;
/// How far from the visible part a chunk is built in advance.
const AHEAD: f32 = 600.0;
/// The chunks of each list built before any sensor has spoken.
const FIRST: usize = 3;

/// Which list a chunk is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum List {
    Conversations,
    Contacts,
}

/// A chunk came near the visible part, or went away from it.
#[derive(Debug, Clone, Copy)]
pub enum Seen {
    Near(List, usize),
    Away(List, usize),
}

/// The chunks built now.
#[derive(Debug)]
pub struct Near(HashSet<(List, usize)>);

impl Default for Near {
    fn default() -> Self {
        Near(
            (0..FIRST)
                .flat_map(|i| [(List::Conversations, i), (List::Contacts, i)])
                .collect(),
        )
    }
}

impl Near {
    pub fn update(&mut self, seen: Seen) {
        match seen {
            Seen::Near(list, chunk) => self.0.insert((list, chunk)),
            Seen::Away(list, chunk) => self.0.remove(&(list, chunk)),
        };
    }

    fn contains(&self, list: List, chunk: usize) -> bool {
        self.0.contains(&(list, chunk))
    }
}

/// Pushes `items` onto `list_column` in chunks: built with `build` when near the screen,
/// else as one space as tall as they are. `height` is an item's fixed height, `None`
/// for one that has none (its chunk is always built).
pub fn push<'a, I>(
    mut list_column: Column<'a, Message>,
    list: List,
    items: Vec<I>,
    near: &Near,
    height: impl Fn(&I) -> Option<f32>,
    build: impl Fn(I) -> Element<'a, Message>,
) -> Column<'a, Message> {
    let mut items = items.into_iter();
    for index in 0.. {
        let chunk: Vec<I> = items.by_ref().take(CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        let fixed: Option<f32> = chunk.iter().map(&height).sum();
        let content: Element<'a, Message> = match fixed {
            Some(sum) if !near.contains(list, index) => {
                let gaps = chunk.len().saturating_sub(1) as f32 * SPACING;
                space().height(sum + gaps).into()
            }
            _ => column(chunk.into_iter().map(&build))
                .spacing(SPACING)
                .into(),
        };
        list_column = list_column.push(
            sensor(content)
                .key((list, index))
                .anticipate(AHEAD)
                .on_show(move |_| Message::Lines(Seen::Near(list, index)))
                .on_hide(Message::Lines(Seen::Away(list, index))),
        );
    }
    list_column
}
