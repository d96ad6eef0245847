//! "Members and bans" of a room, for its owners and admins (XEP-0045 affiliation
//! lists): members, admins, owners and banned addresses, one list at a time, with an
//! address to add (and a reason for a ban) and Remove on each entry. Every change says
//! in words whether the room agreed; the list is asked again after each change, so
//! what shows is what the room keeps.

use crate::ids::AccountId;
use crate::session::roomtools::QueryError;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::room::form::describe;
use crate::ui::theme;
use crate::xmpp::muc::Affiliation;
use crate::xmpp::muc::affiliations::Affiliated;
use iced::widget::{button, column, container, row, scrollable, text, text_input};
use iced::{Alignment, Element, Length};
use xmpp_parsers::jid::BareJid;

/// The lists, in the order of their tabs.
pub const LISTS: [Affiliation; 4] = [
    Affiliation::Member,
    Affiliation::Admin,
    Affiliation::Owner,
    Affiliation::Outcast,
];

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Loading,
    Ready(Vec<Affiliated>),
    Failed(QueryError),
}

/// What the last change did (the view says it in words).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Working,
    /// Put on this list.
    Added(BareJid, Affiliation),
    /// Taken off this list.
    Removed(BareJid, Affiliation),
    Refused(BareJid, QueryError),
    BadAddress,
}

#[derive(Debug)]
pub struct State {
    pub account: AccountId,
    pub room: BareJid,
    /// The list on screen.
    pub list: Affiliation,
    pub phase: Phase,
    /// The address typed to add to the list.
    pub address: String,
    /// The reason given with a ban.
    pub reason: String,
    pub outcome: Option<Outcome>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Show(Affiliation),
    Loaded(Affiliation, Result<Vec<Affiliated>, QueryError>),
    Address(String),
    Reason(String),
    Add,
    Remove(BareJid),
    /// The room's answer to a change: who, onto which list.
    Changed(BareJid, Affiliation, Result<(), QueryError>),
    Close,
}

/// What the dialog asks of the room panel.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Ask the room for this list.
    Load(Affiliation),
    /// Put this address on this list (`None`: off every list), with a reason.
    Change(BareJid, Affiliation, Option<String>),
    Close,
}

fn list_title(list: Affiliation) -> T {
    match list {
        Affiliation::Member => T::MembersListMembers,
        Affiliation::Admin => T::MembersListAdmins,
        Affiliation::Owner => T::MembersListOwners,
        Affiliation::Outcast | Affiliation::None => T::MembersListBanned,
    }
}

impl State {
    /// The dialog on the member list; the panel asks for it at once.
    pub fn new(account: AccountId, room: BareJid) -> Self {
        State {
            account,
            room,
            list: Affiliation::Member,
            phase: Phase::Loading,
            address: String::new(),
            reason: String::new(),
            outcome: None,
        }
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Show(list) => {
                self.list = list;
                self.phase = Phase::Loading;
                return Some(Event::Load(list));
            }
            Message::Loaded(list, result) => {
                // An answer for a list no longer on screen is dropped.
                if list == self.list {
                    self.phase = match result {
                        Ok(entries) => Phase::Ready(entries),
                        Err(e) => Phase::Failed(e),
                    };
                }
            }
            Message::Address(a) => self.address = a,
            Message::Reason(r) => self.reason = r,
            Message::Add => {
                let address = self.address.trim();
                let Ok(jid) = BareJid::new(address) else {
                    self.outcome = Some(Outcome::BadAddress);
                    return None;
                };
                let reason = Some(self.reason.trim().to_owned()).filter(|r| !r.is_empty());
                self.outcome = Some(Outcome::Working);
                return Some(Event::Change(jid, self.list, reason));
            }
            Message::Remove(jid) => {
                self.outcome = Some(Outcome::Working);
                return Some(Event::Change(jid, Affiliation::None, None));
            }
            Message::Changed(jid, to, Ok(())) => {
                self.outcome = Some(if to == Affiliation::None {
                    Outcome::Removed(jid, self.list)
                } else {
                    self.address.clear();
                    self.reason.clear();
                    Outcome::Added(jid, to)
                });
                self.phase = Phase::Loading;
                return Some(Event::Load(self.list));
            }
            Message::Changed(jid, _, Err(e)) => self.outcome = Some(Outcome::Refused(jid, e)),
            Message::Close => return Some(Event::Close),
        }
        None
    }

    pub fn view(&self, lang: Lang) -> Element<'_, Message> {
        let mut tabs = row![].spacing(6);
        for list in LISTS {
            tabs = tabs.push(
                button(text(tr(lang, list_title(list))).size(13))
                    .style(theme::pill(list == self.list))
                    .on_press(Message::Show(list)),
            );
        }
        let entries: Element<'_, Message> = match &self.phase {
            Phase::Loading => text(tr(lang, T::MembersLoading)).style(theme::muted).into(),
            Phase::Failed(e) => text(describe(lang, e)).style(theme::error_text).into(),
            Phase::Ready(list) if list.is_empty() => {
                text(tr(lang, T::MembersEmpty)).style(theme::muted).into()
            }
            Phase::Ready(list) => {
                let mut col = column![].spacing(6);
                for entry in list {
                    let mut about =
                        column![text(entry.jid.as_str()).wrapping(text::Wrapping::WordOrGlyph)]
                            .spacing(2)
                            .width(Length::Fill);
                    let details: Vec<&str> = [entry.nick.as_deref(), entry.reason.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect();
                    if !details.is_empty() {
                        about = about.push(
                            text(details.join(" · "))
                                .size(12)
                                .style(theme::muted)
                                .wrapping(text::Wrapping::WordOrGlyph),
                        );
                    }
                    col = col.push(
                        container(
                            row![
                                about,
                                button(text(tr(lang, T::MembersRemove)).size(13))
                                    .style(theme::secondary_button)
                                    .on_press(Message::Remove(entry.jid.clone())),
                            ]
                            .spacing(12)
                            .align_y(Alignment::Center),
                        )
                        .padding([8, 12])
                        .style(theme::card),
                    );
                }
                col.into()
            }
        };
        let mut add = row![
            text_input(tr(lang, T::MembersAddress), &self.address)
                .on_input(Message::Address)
                .on_submit(Message::Add)
                .style(theme::input)
                .width(Length::FillPortion(3)),
        ]
        .spacing(8)
        .align_y(Alignment::Center);
        if self.list == Affiliation::Outcast {
            add = add.push(
                text_input(tr(lang, T::MembersReason), &self.reason)
                    .on_input(Message::Reason)
                    .on_submit(Message::Add)
                    .style(theme::input)
                    .width(Length::FillPortion(2)),
            );
        }
        let add_label = if self.list == Affiliation::Outcast {
            T::MembersBan
        } else {
            T::MembersAdd
        };
        add = add.push(
            button(text(tr(lang, add_label)).size(13))
                .style(theme::primary_button)
                .on_press(Message::Add),
        );
        let outcome: Element<'_, Message> = match &self.outcome {
            None => column![].into(),
            Some(Outcome::Working) => text(tr(lang, T::MembersWorking)).style(theme::muted).into(),
            Some(Outcome::Added(who, list) | Outcome::Removed(who, list)) => {
                let key = match self.outcome {
                    Some(Outcome::Added(..)) => T::MembersAdded,
                    _ => T::MembersRemoved,
                };
                let list = tr(lang, list_title(*list));
                text(trf(lang, key, &[("who", who.as_str()), ("list", list)]))
                    .style(theme::good_text)
                    .into()
            }
            Some(Outcome::Refused(who, e)) => text(trf(
                lang,
                T::MembersRefused,
                &[("who", who.as_str()), ("why", &describe(lang, e))],
            ))
            .style(theme::error_text)
            .into(),
            Some(Outcome::BadAddress) => text(tr(lang, T::MembersBadAddress))
                .style(theme::error_text)
                .into(),
        };
        let body = column![
            row![
                text(trf(lang, T::MembersTitle, &[("room", self.room.as_str())]))
                    .style(theme::heading)
                    .width(Length::Fill),
                button(text(tr(lang, T::MembersClose)).size(13))
                    .style(theme::secondary_button)
                    .on_press(Message::Close),
            ]
            .align_y(Alignment::Center),
            tabs,
            add,
            outcome,
            entries,
        ]
        .spacing(12)
        .max_width(720);
        container(scrollable(body)).padding(20).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        State::new(
            AccountId("acc".into()),
            BareJid::new("tea@conference.example.org").expect("jid"),
        )
    }

    #[test]
    fn a_ban_carries_the_address_and_the_reason_and_reloads_after() {
        let mut s = state();
        assert_eq!(
            s.update(Message::Show(Affiliation::Outcast)),
            Some(Event::Load(Affiliation::Outcast))
        );
        s.update(Message::Address(" spam@example.org ".into()));
        s.update(Message::Reason("spam".into()));
        let bob = BareJid::new("spam@example.org").expect("jid");
        assert_eq!(
            s.update(Message::Add),
            Some(Event::Change(
                bob.clone(),
                Affiliation::Outcast,
                Some("spam".into())
            ))
        );
        assert_eq!(
            s.update(Message::Changed(bob, Affiliation::Outcast, Ok(()))),
            Some(Event::Load(Affiliation::Outcast)),
            "the list is asked again"
        );
        assert!(s.address.is_empty() && s.reason.is_empty());
        assert!(
            matches!(&s.outcome, Some(Outcome::Added(j, Affiliation::Outcast)) if j.as_str() == "spam@example.org")
        );
    }

    #[test]
    fn a_bad_address_or_a_refusal_is_said_in_words() {
        let mut s = state();
        s.update(Message::Address("not an address@@".into()));
        assert_eq!(s.update(Message::Add), None);
        assert_eq!(s.outcome, Some(Outcome::BadAddress));
        let bob = BareJid::new("bob@example.org").expect("jid");
        s.update(Message::Changed(
            bob,
            Affiliation::Member,
            Err(QueryError::Refused {
                condition: crate::session::roomtools::Condition::Forbidden,
                text: None,
            }),
        ));
        assert!(matches!(&s.outcome, Some(Outcome::Refused(..))));
        let shown = format!("{:?}", s.outcome);
        assert!(shown.contains("bob@example.org"), "{shown}");
    }

    #[test]
    fn an_answer_for_another_list_is_dropped() {
        let mut s = state();
        s.update(Message::Show(Affiliation::Admin));
        s.update(Message::Loaded(Affiliation::Member, Ok(Vec::new())));
        assert_eq!(s.phase, Phase::Loading);
        s.update(Message::Loaded(Affiliation::Admin, Ok(Vec::new())));
        assert_eq!(s.phase, Phase::Ready(Vec::new()));
    }
}
