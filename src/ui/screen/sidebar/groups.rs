//! Contact groups in the contact list (RFC 6121 roster groups): a section per group,
//! collapsible, with "Ungrouped" last; a contact in two groups shows in both. A list
//! where nobody is in a group shows no sections at all. Renaming a group sends one
//! roster set per member in every shown account that has it (`Command::RenameGroup`).

use super::Event;
use crate::session::Command;
use crate::ui::app::account_state::AccountState;
use crate::ui::i18n::{Lang, T, tr};
use crate::ui::theme;
use iced::widget::{button, column, container, row, text, text_input};
use iced::{Alignment, Element, Length};
use std::collections::{BTreeMap, HashSet};

/// The widget id of a contact's groups field in its edit form.
pub const GROUPS_ID: &str = "sidebar-contact-groups";
/// The widget id of the group rename field.
pub const RENAME_ID: &str = "sidebar-group-rename";

#[derive(Debug, Clone)]
pub enum Message {
    /// Open or close a section (`""`: the ungrouped one).
    Toggle(String),
    StartRename(String),
    RenameInput(String),
    SubmitRename,
    CancelRename,
}

#[derive(Debug, Default)]
pub struct Groups {
    collapsed: HashSet<String>,
    /// The group being renamed and the new name typed so far.
    rename: Option<(String, String)>,
}

/// One line of the arranged contact list.
pub enum Item<L> {
    Header {
        /// The group's name; empty for "Ungrouped".
        group: String,
        count: usize,
        collapsed: bool,
    },
    Line(L),
}

impl Groups {
    /// Lines under their group's header (sorted by name, case aside), "Ungrouped"
    /// last; collapsed sections keep only their header. No group anywhere: the lines
    /// as they came.
    pub fn arrange<L: Clone>(
        &self,
        lines: Vec<L>,
        groups_of: impl Fn(&L) -> &[String],
    ) -> Vec<Item<L>> {
        if lines.iter().all(|l| groups_of(l).is_empty()) {
            return lines.into_iter().map(Item::Line).collect();
        }
        let mut sections: BTreeMap<(String, String), Vec<L>> = BTreeMap::new();
        let mut ungrouped = Vec::new();
        for line in lines {
            let groups = groups_of(&line);
            if groups.is_empty() {
                ungrouped.push(line);
                continue;
            }
            for g in groups {
                sections
                    .entry((g.to_lowercase(), g.clone()))
                    .or_default()
                    .push(line.clone());
            }
        }
        let mut out = Vec::new();
        let mut push = |group: String, members: Vec<L>| {
            let collapsed = self.collapsed.contains(&group);
            out.push(Item::Header {
                group,
                count: members.len(),
                collapsed,
            });
            if !collapsed {
                out.extend(members.into_iter().map(Item::Line));
            }
        };
        for ((_, group), members) in sections {
            push(group, members);
        }
        if !ungrouped.is_empty() {
            push(String::new(), ungrouped);
        }
        out
    }

    pub fn update(&mut self, message: Message, accounts: &[&AccountState]) -> Option<Event> {
        match message {
            Message::Toggle(group) => {
                if !self.collapsed.remove(&group) {
                    self.collapsed.insert(group);
                }
            }
            Message::StartRename(group) => self.rename = Some((group.clone(), group)),
            Message::RenameInput(value) => {
                if let Some((_, to)) = &mut self.rename {
                    *to = value;
                }
            }
            Message::CancelRename => self.rename = None,
            Message::SubmitRename => {
                let (from, to) = self.rename.take()?;
                let to = to.trim().to_owned();
                if to.is_empty() || to == from {
                    return None;
                }
                if self.collapsed.remove(&from) {
                    self.collapsed.insert(to.clone());
                }
                let commands: Vec<_> = accounts
                    .iter()
                    .filter(|s| s.contacts.values().any(|c| c.groups.contains(&from)))
                    .map(|s| {
                        (
                            s.account.id.clone(),
                            Command::RenameGroup {
                                from: from.clone(),
                                to: to.clone(),
                            },
                        )
                    })
                    .collect();
                return (!commands.is_empty()).then_some(Event::Commands(commands));
            }
        }
        None
    }

    /// Whether this group's header is its rename form now.
    pub fn renaming(&self, group: &str) -> bool {
        self.rename.as_ref().is_some_and(|(from, _)| from == group)
    }

    /// A section's header: open/close, the count, and (for a real group) Rename.
    pub fn header<'a>(
        &'a self,
        lang: Lang,
        group: &str,
        count: usize,
        collapsed: bool,
    ) -> Element<'a, Message> {
        let name = if group.is_empty() {
            tr(lang, T::Ungrouped).to_owned()
        } else {
            group.to_owned()
        };
        let arrow = if collapsed { "▸" } else { "▾" };
        if let Some((_, to)) = self.rename.as_ref().filter(|(from, _)| from == group) {
            return container(
                column![
                    text_input(tr(lang, T::GroupNamePlaceholder), to)
                        .on_input(Message::RenameInput)
                        .on_submit(Message::SubmitRename)
                        .size(13)
                        .padding(6)
                        .style(theme::input)
                        .id(RENAME_ID),
                    row![
                        button(text(tr(lang, T::Save)).size(13))
                            .style(theme::primary_button)
                            .on_press(Message::SubmitRename),
                        button(text(tr(lang, T::Cancel)).size(13))
                            .style(theme::secondary_button)
                            .on_press(Message::CancelRename),
                    ]
                    .spacing(8),
                ]
                .spacing(6),
            )
            .padding(8)
            .width(Length::Fill)
            .style(theme::card)
            .into();
        }
        let mut line = row![
            button(
                text(format!("{arrow} {name} ({count})"))
                    .size(13)
                    .style(theme::muted),
            )
            .padding([2, 4])
            .width(Length::Fill)
            .style(theme::link_button)
            .on_press(Message::Toggle(group.to_owned())),
        ]
        .align_y(Alignment::Center);
        if !group.is_empty() {
            line = line.push(
                button(text(tr(lang, T::RenameGroup)).size(12))
                    .padding([2, 4])
                    .style(theme::link_button)
                    .on_press(Message::StartRename(group.to_owned())),
            );
        }
        line.into()
    }
}

/// A contact's groups as typed in its edit form: comma-separated names.
pub fn parse(text: &str) -> Vec<String> {
    crate::xmpp::roster::clean_groups(text.split([',', '，']).map(str::to_owned))
}

/// A contact's groups for its edit form.
pub fn join(groups: &[String]) -> String {
    groups.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_sorted_with_ungrouped_last_and_collapse() {
        let lines: Vec<(&str, Vec<String>)> = vec![
            ("ann", vec!["work".into(), "Friends".into()]),
            ("bob", vec![]),
            ("cy", vec!["work".into()]),
        ];
        let mut g = Groups::default();
        let shape = |g: &Groups| -> Vec<String> {
            g.arrange(lines.clone(), |l| &l.1)
                .into_iter()
                .map(|i| match i {
                    Item::Header { group, count, .. } => format!("[{group}:{count}]"),
                    Item::Line(l) => l.0.to_owned(),
                })
                .collect()
        };
        assert_eq!(
            shape(&g),
            ["[Friends:1]", "ann", "[work:2]", "ann", "cy", "[:1]", "bob"]
        );
        g.update(Message::Toggle("work".into()), &[]);
        assert_eq!(shape(&g), ["[Friends:1]", "ann", "[work:2]", "[:1]", "bob"]);
        // Nobody in a group: no sections.
        let flat = g.arrange(vec![("x", Vec::<String>::new())], |l| &l.1);
        assert!(matches!(flat.as_slice(), [Item::Line(_)]));
    }

    #[test]
    fn typed_groups_are_split_on_either_comma() {
        assert_eq!(
            parse(" Work, Friends，家人 ,, Work"),
            ["Work", "Friends", "家人"]
        );
        assert_eq!(join(&parse("a, b")), "a, b");
    }
}
