//! A contact's profile in the main area: name, address, subscription and groups from
//! the roster, the vCard fields they filled in (XEP-0054) and what their online clients
//! run (XEP-0092), fetched when it opens (`session::profile`); with Start chat, Edit
//! (rename and groups, in the contact list's form), Block and Remove.

use crate::ids::AccountId;
use crate::model::Subscription;
use crate::session::Command;
use crate::session::profile::Profile;
use crate::ui::app::account_state::AccountState;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use iced::widget::{button, column, container, row, scrollable, space, text};
use iced::{Alignment, Element, Length};
use xmpp_parsers::jid::BareJid;

#[derive(Debug, Clone)]
pub enum Message {
    Loaded(AccountId, BareJid, Box<Profile>),
    StartChat,
    Edit,
    Block,
    AskRemove,
    ConfirmRemove,
    CancelRemove,
    Close,
}

/// What the panel asks of the app.
#[derive(Debug, Clone)]
pub enum Event {
    StartChat(AccountId, BareJid),
    /// Open the contact list's edit form (name and groups).
    Edit(AccountId, BareJid),
    Command(AccountId, Command),
    Close,
}

#[derive(Debug)]
pub struct State {
    pub account: AccountId,
    pub jid: BareJid,
    profile: Option<Profile>,
    confirm_remove: bool,
}

impl State {
    pub fn new(account: AccountId, jid: BareJid) -> Self {
        State {
            account,
            jid,
            profile: None,
            confirm_remove: false,
        }
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        let (account, jid) = (self.account.clone(), self.jid.clone());
        match message {
            Message::Loaded(a, j, profile) => {
                if a == account && j == jid {
                    self.profile = Some(*profile);
                }
                None
            }
            Message::StartChat => Some(Event::StartChat(account, jid)),
            Message::Edit => Some(Event::Edit(account, jid)),
            Message::Block => Some(Event::Command(
                account,
                Command::Block {
                    jids: vec![jid.into()],
                    report: false,
                },
            )),
            Message::AskRemove => {
                self.confirm_remove = true;
                None
            }
            Message::CancelRemove => {
                self.confirm_remove = false;
                None
            }
            Message::ConfirmRemove => {
                self.confirm_remove = false;
                Some(Event::Command(account, Command::RemoveContact { jid }))
            }
            Message::Close => Some(Event::Close),
        }
    }

    pub fn view<'a>(&'a self, lang: Lang, state: Option<&'a AccountState>) -> Element<'a, Message> {
        let contact = state.and_then(|s| s.contacts.get(&self.jid));
        let title = contact
            .map(|c| c.label())
            .unwrap_or_else(|| self.jid.to_string());
        let mut page = column![
            row![
                text(title)
                    .size(24)
                    .style(theme::heading)
                    .width(Length::Fill),
                button(text(tr(lang, T::ProfileClose)).size(13))
                    .style(theme::link_button)
                    .on_press(Message::Close),
            ]
            .align_y(Alignment::Center),
            text(self.jid.as_str()).size(14).style(theme::muted),
        ]
        .spacing(8);

        let field = |label: T, value: String| field(lang, label, value);
        if let Some(c) = contact {
            page = page.push(field(
                T::ProfileSubscription,
                subscription_text(lang, c.subscription, c.pending_out),
            ));
            let groups = if c.groups.is_empty() {
                tr(lang, T::Ungrouped).to_owned()
            } else {
                c.groups.join(", ")
            };
            page = page.push(field(T::ProfileGroups, groups));
        } else {
            page = page.push(
                text(tr(lang, T::ProfileNotContact))
                    .size(13)
                    .style(theme::muted),
            );
        }

        page = page.push(space().height(6));
        page = page.push(details(lang, self.profile.as_ref()));

        page = page.push(space().height(10));
        let mut actions = row![
            button(text(tr(lang, T::ProfileStartChat)).size(13))
                .style(theme::primary_button)
                .on_press(Message::StartChat),
        ]
        .spacing(8);
        if contact.is_some() {
            actions = actions
                .push(
                    button(text(tr(lang, T::Edit)).size(13))
                        .style(theme::secondary_button)
                        .on_press(Message::Edit),
                )
                .push(
                    button(text(tr(lang, T::Remove)).size(13))
                        .style(theme::danger_button)
                        .on_press(Message::AskRemove),
                );
        }
        actions = actions.push(
            button(text(tr(lang, T::Block)).size(13))
                .style(theme::secondary_button)
                .on_press(Message::Block),
        );
        page = page.push(actions);
        if self.confirm_remove {
            let name = contact
                .map(|c| c.label())
                .unwrap_or_else(|| self.jid.to_string());
            page = page.push(
                container(
                    column![
                        text(trf(lang, T::ConfirmRemove, &[("name", &name)])).size(13),
                        crate::ui::widgets::confirm_buttons(
                            lang,
                            T::Remove,
                            Message::ConfirmRemove,
                            Message::CancelRemove,
                        ),
                    ]
                    .spacing(6),
                )
                .padding(10)
                .width(Length::Fill)
                .style(theme::notice_box),
            );
        }
        scrollable(
            container(container(page).max_width(640))
                .center_x(Length::Fill)
                .padding([24, 24]),
        )
        .height(Length::Fill)
        .width(Length::Fill)
        .into()
    }
}

/// A row of the profile: label, then value.
pub fn field<'a, M: 'a>(lang: Lang, label: T, value: String) -> iced::widget::Row<'a, M> {
    row![
        text(tr(lang, label))
            .size(13)
            .style(theme::muted)
            .width(140),
        text(value).size(14).width(Length::Fill),
    ]
    .spacing(8)
}

/// What someone says about themselves: their vCard fields and what their clients run,
/// or that it is being asked (`None`). Also the occupant profile's (`room::occupant_profile`).
pub fn details<'a, M: 'a>(lang: Lang, profile: Option<&'a Profile>) -> Element<'a, M> {
    let field = |label: T, value: String| field(lang, label, value);
    let mut page = column![].spacing(8);
    match profile {
        None => {
            page = page.push(
                text(tr(lang, T::ProfileLoading))
                    .size(13)
                    .style(theme::muted),
            )
        }
        Some(p) => {
            match &p.card {
                None => {
                    page = page.push(
                        text(tr(lang, T::ProfileNoCard))
                            .size(13)
                            .style(theme::muted),
                    );
                }
                Some(card) => {
                    let rows: [(T, Option<String>); 9] = [
                        (T::ProfileFullName, card.full_name.clone()),
                        (T::ProfileNickname, card.nickname.clone()),
                        (
                            T::ProfileEmail,
                            (!card.emails.is_empty()).then(|| card.emails.join(", ")),
                        ),
                        (
                            T::ProfilePhone,
                            (!card.phones.is_empty()).then(|| card.phones.join(", ")),
                        ),
                        (T::ProfileOrg, join_some(&[&card.organisation, &card.title])),
                        (T::ProfilePlace, join_some(&[&card.locality, &card.country])),
                        (T::ProfileBirthday, card.birthday.clone()),
                        (T::ProfileWeb, card.url.clone()),
                        (T::ProfileAbout, card.note.clone()),
                    ];
                    for (label, value) in rows {
                        if let Some(value) = value {
                            page = page.push(field(label, value));
                        }
                    }
                }
            }
            page = page.push(
                text(tr(lang, T::ProfileClients))
                    .size(14)
                    .style(theme::heading),
            );
            if p.software.is_empty() {
                page = page.push(
                    text(tr(lang, T::ProfileNoClients))
                        .size(13)
                        .style(theme::muted),
                );
            }
            for (resource, s) in &p.software {
                let mut what = s.name.clone();
                if let Some(v) = &s.version {
                    what.push(' ');
                    what.push_str(v);
                }
                if let Some(os) = &s.os {
                    what = trf(lang, T::ProfileClientOn, &[("client", &what), ("os", os)]);
                }
                page = page.push(
                    row![
                        text(resource.as_str())
                            .size(13)
                            .style(theme::muted)
                            .width(140),
                        text(what).size(14),
                    ]
                    .spacing(8),
                );
            }
        }
    }
    page.into()
}

fn join_some(parts: &[&Option<String>]) -> Option<String> {
    let parts: Vec<&str> = parts.iter().filter_map(|p| p.as_deref()).collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn subscription_text(lang: Lang, s: Subscription, pending_out: bool) -> String {
    let key = match s {
        Subscription::Both => T::SubBoth,
        Subscription::To => T::SubTo,
        Subscription::From => T::SubFrom,
        Subscription::None if pending_out => T::SubAsked,
        Subscription::None => T::SubNone,
    };
    tr(lang, key).to_owned()
}
