//! The lists of the sidebar: contact requests, conversations and contacts.

use super::{AddForm, Context, EditForm, Message, show_text};
use crate::model::Show;
use crate::ui::account::AccountState;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use iced::widget::{Column, button, column, container, row, space, text, text_input};
use iced::{Alignment, Element, Length};

/// The first line of a message, cut to fit one line of the list.
fn preview(body: &str) -> String {
    const MAX: usize = 30;
    let first = body.lines().next().unwrap_or("");
    if first.chars().count() > MAX || body.lines().nth(1).is_some() {
        let cut: String = first.chars().take(MAX).collect();
        format!("{}…", cut.trim_end())
    } else {
        first.to_string()
    }
}

/// The round presence dot.
pub fn presence_dot<'a>(show: Show) -> Element<'a, Message> {
    container(space())
        .width(10)
        .height(10)
        .style(theme::presence_dot(show))
        .into()
}

fn section_title<'a>(lang: Lang, key: T) -> Element<'a, Message> {
    text(tr(lang, key)).size(13).style(theme::muted).into()
}

fn is_open(cx: &Context<'_>, state: &AccountState, peer: &xmpp_parsers::jid::BareJid) -> bool {
    cx.open
        .is_some_and(|(account, open)| account == &state.account.id && open == peer)
}

/// Incoming subscription requests with Accept / Deny.
pub fn requests<'a>(lang: Lang, state: &'a AccountState) -> Element<'a, Message> {
    let mut list = column![section_title(lang, T::SubscriptionRequests)].spacing(6);
    for jid in &state.requests {
        let id = state.account.id.clone();
        list = list.push(
            container(
                column![
                    text(trf(lang, T::WantsToSeePresence, &[("jid", jid.as_str())])).size(13),
                    row![
                        button(text(tr(lang, T::Accept)).size(13))
                            .style(theme::primary_button)
                            .on_press(Message::Answer(id.clone(), jid.clone(), true)),
                        button(text(tr(lang, T::Deny)).size(13))
                            .style(theme::secondary_button)
                            .on_press(Message::Answer(id, jid.clone(), false)),
                    ]
                    .spacing(8),
                ]
                .spacing(6),
            )
            .padding(8)
            .width(Length::Fill)
            .style(theme::notice_box),
        );
    }
    list.into()
}

/// Conversations, most recent first, with unread badges.
pub fn conversations<'a>(cx: &Context<'a>, state: &'a AccountState) -> Element<'a, Message> {
    let lang = cx.lang;
    let mut list = column![section_title(lang, T::Conversations)].spacing(4);
    for entry in &state.conversations {
        let mut title = row![text(state.peer_label(&entry.peer)).size(14)]
            .spacing(6)
            .align_y(Alignment::Center);
        if !state.in_roster(&entry.peer) {
            title = title.push(
                container(text(tr(lang, T::NotInContacts)).size(11))
                    .padding([0, 4])
                    .style(theme::tag),
            );
        }
        let preview = preview(&entry.last_body);
        let mut line = row![
            column![title, text(preview).size(12).style(theme::muted)]
                .spacing(2)
                .width(Length::Fill),
        ]
        .spacing(6)
        .align_y(Alignment::Center);
        if entry.unread > 0 {
            line = line.push(
                container(text(entry.unread.to_string()).size(11))
                    .padding([1, 7])
                    .style(theme::badge),
            );
        }
        list = list.push(
            button(line)
                .width(Length::Fill)
                .padding([6, 8])
                .style(theme::list_item(is_open(cx, state, &entry.peer)))
                .on_press(Message::Open(state.account.id.clone(), entry.peer.clone())),
        );
    }
    list.into()
}

/// The roster with presence, the add form and the inline rename / remove form.
pub fn contacts<'a>(
    cx: &Context<'a>,
    state: &'a AccountState,
    add: Option<&'a AddForm>,
    edit: Option<&'a EditForm>,
) -> Element<'a, Message> {
    let lang = cx.lang;
    let id = &state.account.id;
    let mut list: Column<'a, Message> = column![
        row![
            container(section_title(lang, T::Contacts)).width(Length::Fill),
            button(text(format!("+ {}", tr(lang, T::AddContact))).size(13))
                .padding([2, 4])
                .style(theme::link_button)
                .on_press(Message::StartAdd(id.clone())),
        ]
        .align_y(Alignment::Center),
    ]
    .spacing(4);

    if let Some(form) = add.filter(|f| f.account.as_ref() == Some(id)) {
        list = list.push(add_form(lang, form));
    }
    if state.contacts.is_empty() {
        list = list.push(text(tr(lang, T::NoContacts)).size(13).style(theme::muted));
    }

    for contact in state.contacts.values() {
        let availability = state.availability(&contact.jid);
        let status = availability
            .status
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| tr(lang, show_text(availability.show)).to_string());
        let entry = button(
            row![
                presence_dot(availability.show),
                column![
                    text(contact.label()).size(14),
                    text(status).size(12).style(theme::muted),
                ]
                .spacing(2),
            ]
            .spacing(8)
            .align_y(Alignment::Center),
        )
        .width(Length::Fill)
        .padding([6, 8])
        .style(theme::list_item(is_open(cx, state, &contact.jid)))
        .on_press(Message::Open(id.clone(), contact.jid.clone()));
        let edit_button = button(text(tr(lang, T::Edit)).size(12))
            .padding([2, 4])
            .style(theme::link_button)
            .on_press(Message::StartEdit(
                id.clone(),
                contact.jid.clone(),
                contact.name.clone().unwrap_or_default(),
            ));
        list = list.push(
            row![entry, edit_button]
                .spacing(2)
                .align_y(Alignment::Center),
        );

        if let Some(form) = edit.filter(|f| &f.account == id && f.jid == contact.jid) {
            list = list.push(edit_form(lang, form, contact.label()));
        }
    }
    list.into()
}

fn add_form<'a>(lang: Lang, form: &'a AddForm) -> Element<'a, Message> {
    let mut fields = column![
        text_input(tr(lang, T::AddressPlaceholder), &form.jid)
            .on_input(Message::AddJidInput)
            .on_submit(Message::SubmitAdd)
            .size(13)
            .padding(6)
            .style(theme::input),
        text_input(tr(lang, T::ContactNamePlaceholder), &form.name)
            .on_input(Message::AddNameInput)
            .on_submit(Message::SubmitAdd)
            .size(13)
            .padding(6)
            .style(theme::input),
    ]
    .spacing(6);
    if form.invalid {
        fields = fields.push(
            text(tr(lang, T::ErrInvalidAddress))
                .size(12)
                .style(theme::error_text),
        );
    }
    fields = fields.push(
        row![
            button(text(tr(lang, T::Add)).size(13))
                .style(theme::primary_button)
                .on_press(Message::SubmitAdd),
            button(text(tr(lang, T::Cancel)).size(13))
                .style(theme::secondary_button)
                .on_press(Message::CancelForm),
        ]
        .spacing(8),
    );
    container(fields)
        .padding(8)
        .width(Length::Fill)
        .style(theme::card)
        .into()
}

fn edit_form<'a>(lang: Lang, form: &'a EditForm, label: String) -> Element<'a, Message> {
    let content: Element<'a, Message> = if form.confirm_remove {
        column![
            text(trf(lang, T::ConfirmRemove, &[("name", &label)])).size(13),
            row![
                button(text(tr(lang, T::Remove)).size(13))
                    .style(theme::danger_button)
                    .on_press(Message::ConfirmRemove),
                button(text(tr(lang, T::Cancel)).size(13))
                    .style(theme::secondary_button)
                    .on_press(Message::CancelForm),
            ]
            .spacing(8),
        ]
        .spacing(6)
        .into()
    } else {
        column![
            text(form.jid.as_str()).size(12).style(theme::muted),
            text_input(tr(lang, T::ContactNamePlaceholder), &form.name)
                .on_input(Message::EditNameInput)
                .on_submit(Message::SubmitRename)
                .size(13)
                .padding(6)
                .style(theme::input),
            row![
                button(text(tr(lang, T::Save)).size(13))
                    .style(theme::primary_button)
                    .on_press(Message::SubmitRename),
                button(text(tr(lang, T::Remove)).size(13))
                    .style(theme::danger_button)
                    .on_press(Message::AskRemove),
                button(text(tr(lang, T::Cancel)).size(13))
                    .style(theme::link_button)
                    .on_press(Message::CancelForm),
            ]
            .spacing(6),
        ]
        .spacing(6)
        .into()
    };
    container(content)
        .padding(8)
        .width(Length::Fill)
        .style(theme::card)
        .into()
}

#[cfg(test)]
mod tests {
    use super::preview;

    #[test]
    fn previews_fit_one_line() {
        assert_eq!(preview("short"), "short");
        assert_eq!(preview("first\nsecond"), "first…");
        let long = "x".repeat(50);
        assert_eq!(preview(&long), format!("{}…", "x".repeat(30)));
        assert_eq!(preview(""), "");
    }
}
