//! The room view's edit bar: a new subject, our own nickname, or a direct invitation
//! (XEP-0249) with an optional message. Plain state and a view; the room decides who
//! sees which button and sends the resulting command.

use crate::session::Command;
use crate::ui::i18n::{Lang, T, tr};
use crate::ui::theme;
use iced::widget::{Id, button, column, container, row, text, text_input};
use iced::{Alignment, Element, Length};
use xmpp_parsers::jid::BareJid;

pub const EDIT_ID: &str = "room-edit";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Subject(String),
    Nick(String),
    Invite {
        to: String,
        reason: String,
        invalid: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Subject,
    Nick,
    Invite,
}

#[derive(Debug, Clone)]
pub enum Message {
    Start(Kind),
    Text(String),
    Reason(String),
    Save,
    Cancel,
}

/// What an edit asks for.
#[derive(Debug, Clone)]
pub enum Event {
    Command(Command),
    /// An invitation went out to this address.
    Invited(BareJid, Command),
}

/// Applies one message; returns the command to send when the edit is saved.
pub fn update(
    edit: &mut Option<Edit>,
    message: Message,
    room: &BareJid,
    subject: &str,
    nick: &str,
) -> Option<Event> {
    match message {
        Message::Start(Kind::Subject) => *edit = Some(Edit::Subject(subject.to_owned())),
        Message::Start(Kind::Nick) => *edit = Some(Edit::Nick(nick.to_owned())),
        Message::Start(Kind::Invite) => {
            *edit = Some(Edit::Invite {
                to: String::new(),
                reason: String::new(),
                invalid: false,
            })
        }
        Message::Text(t) => match edit.as_mut()? {
            Edit::Subject(s) | Edit::Nick(s) => *s = t,
            Edit::Invite { to, invalid, .. } => {
                *to = t;
                *invalid = false;
            }
        },
        Message::Reason(r) => {
            if let Some(Edit::Invite { reason, .. }) = edit.as_mut() {
                *reason = r;
            }
        }
        Message::Cancel => *edit = None,
        Message::Save => {
            let outcome = match edit.as_mut()? {
                Edit::Subject(s) => Event::Command(Command::SetSubject {
                    room: room.clone(),
                    subject: s.trim().to_owned(),
                }),
                Edit::Nick(n) => {
                    let n = n.trim();
                    if n.is_empty() || n == nick {
                        *edit = None;
                        return None;
                    }
                    Event::Command(Command::ChangeNick {
                        room: room.clone(),
                        nick: n.to_owned(),
                    })
                }
                Edit::Invite {
                    to,
                    reason,
                    invalid,
                } => {
                    let Some(jid) = BareJid::new(to.trim()).ok().filter(|j| j.node().is_some())
                    else {
                        *invalid = true;
                        return None;
                    };
                    let reason = reason.trim();
                    Event::Invited(
                        jid.clone(),
                        Command::InviteToRoom {
                            room: room.clone(),
                            to: jid,
                            reason: (!reason.is_empty()).then(|| reason.to_owned()),
                            direct: true,
                        },
                    )
                }
            };
            *edit = None;
            return Some(outcome);
        }
    }
    None
}

pub fn view(edit: &Edit, lang: Lang) -> Element<'_, Message> {
    let (value, placeholder, save) = match edit {
        Edit::Subject(s) => (s, tr(lang, T::RoomSubjectPlaceholder), T::RoomEditSave),
        Edit::Nick(n) => (n, tr(lang, T::RoomEditNick), T::RoomEditSave),
        Edit::Invite { to, .. } => (to, tr(lang, T::RoomInviteAddress), T::RoomInviteSend),
    };
    let mut fields = column![
        text_input(placeholder, value)
            .id(Id::new(EDIT_ID))
            .style(theme::input)
            .on_input(Message::Text)
            .on_submit(Message::Save)
    ]
    .spacing(6)
    .width(Length::Fill);
    if let Edit::Invite {
        reason, invalid, ..
    } = edit
    {
        fields = fields.push(
            text_input(tr(lang, T::RoomInviteReason), reason)
                .style(theme::input)
                .on_input(Message::Reason)
                .on_submit(Message::Save),
        );
        if *invalid {
            fields = fields.push(text(tr(lang, T::RoomInviteInvalid)).style(theme::error_text));
        }
    }
    container(
        row![
            fields,
            button(text(tr(lang, save)))
                .style(theme::primary_button)
                .on_press(Message::Save),
            button(text(tr(lang, T::ConfigCancel)))
                .style(theme::secondary_button)
                .on_press(Message::Cancel),
        ]
        .spacing(8)
        .align_y(Alignment::Start),
    )
    .padding(10)
    .style(theme::notice_box)
    .into()
}

/// The room's tool buttons (what our role allows) and what came of the last edit.
/// The widget id of the reason asked before destroying a room.
pub const DESTROY_REASON_ID: &str = "room-destroy-reason";

pub fn tools_view(
    room: &crate::ui::room::joined::Room,
    lang: Lang,
) -> Element<'_, crate::ui::room::joined::Message> {
    use crate::ui::room::joined::Message as M;
    let mut col = column![].spacing(6);
    if room.status == crate::ui::room::joined::Status::Joined {
        let small = |label: T, m: M| {
            button(text(tr(lang, label)).size(13))
                .style(theme::secondary_button)
                .on_press(m)
        };
        let mut bar = row![].spacing(6);
        if room.may_change_subject() {
            bar = bar.push(small(
                T::RoomEditSubject,
                M::Edit(Message::Start(Kind::Subject)),
            ));
        }
        bar = bar.push(small(T::RoomEditNick, M::Edit(Message::Start(Kind::Nick))));
        bar = bar.push(small(T::RoomInvite, M::Edit(Message::Start(Kind::Invite))));
        if room.is_admin() {
            bar = bar.push(small(T::MembersOpen, M::Members));
        }
        if room.is_owner() {
            bar = bar.push(small(T::ConfigOpen, M::Configure));
            bar = bar.push(small(T::RoomDestroy, M::Destroy));
        }
        bar = bar.push(small(T::RoomLeave, M::Leave));
        col = col.push(bar);
    }
    if let Some(reason) = &room.destroying {
        col = col.push(
            container(
                column![
                    text(tr(lang, T::RoomDestroyAsk)),
                    iced::widget::text_input(tr(lang, T::RoomDestroyReason), reason)
                        .id(iced::widget::Id::new(DESTROY_REASON_ID))
                        .on_input(M::DestroyReason)
                        .style(theme::input),
                    row![
                        button(text(tr(lang, T::RoomDestroyConfirm)).size(13))
                            .style(theme::danger_button)
                            .on_press(M::DestroyChosen(true)),
                        button(text(tr(lang, T::Cancel)).size(13))
                            .style(theme::link_button)
                            .on_press(M::DestroyChosen(false)),
                    ]
                    .spacing(8),
                ]
                .spacing(6),
            )
            .padding(10)
            .style(theme::notice_box),
        );
    }
    if room.leaving {
        col = col.push(
            container(
                row![
                    text(tr(lang, T::RoomLeaveAsk)).width(Length::Fill),
                    button(text(tr(lang, T::RoomLeaveForNow)).size(13))
                        .style(theme::secondary_button)
                        .on_press(M::LeaveChosen(Some(false))),
                    button(text(tr(lang, T::RoomLeaveForget)).size(13))
                        .style(theme::primary_button)
                        .on_press(M::LeaveChosen(Some(true))),
                    button(text(tr(lang, T::Cancel)).size(13))
                        .style(theme::link_button)
                        .on_press(M::LeaveChosen(None)),
                ]
                .spacing(8)
                .align_y(Alignment::Center),
            )
            .padding(10)
            .style(theme::notice_box),
        );
    }
    if room.created && room.is_owner() {
        col = col.push(
            container(
                row![
                    text(tr(lang, T::RoomCreatedNote)).width(Length::Fill),
                    button(text(tr(lang, T::RoomCreatedConfigure)))
                        .style(theme::primary_button)
                        .on_press(M::Configure),
                    button(text(tr(lang, T::RoomCreatedKeep)))
                        .style(theme::secondary_button)
                        .on_press(M::KeepDefaults),
                ]
                .spacing(8)
                .align_y(Alignment::Center),
            )
            .padding(10)
            .style(theme::notice_box),
        );
    }
    if let Some(edit) = &room.editing {
        col = col.push(view(edit, lang).map(M::Edit));
    }
    if let Some(error) = &room.refusal {
        let mut line = row![].spacing(8).align_y(Alignment::Center);
        match error {
            crate::session::rooms::MucError::NicknameInUse => {
                // The nick we asked for is not known here any more: suggest from ours.
                let asked = room.asked_nick.as_deref().unwrap_or(&room.nick);
                let suggestion = format!("{asked}_");
                line = line
                    .push(
                        text(crate::ui::i18n::trf(
                            lang,
                            T::MucNickInUse,
                            &[("nick", asked), ("suggestion", &suggestion)],
                        ))
                        .style(theme::error_text)
                        .width(Length::Fill),
                    )
                    .push(
                        button(text(crate::ui::i18n::trf(
                            lang,
                            T::MucUseSuggestion,
                            &[("suggestion", &suggestion)],
                        )))
                        .style(theme::secondary_button)
                        .on_press(M::UseNick(suggestion.clone())),
                    );
            }
            other => {
                let why = crate::ui::room::join::describe(lang, other, &room.nick);
                line = line.push(
                    text(crate::ui::i18n::trf(lang, T::RoomRefused, &[("why", &why)]))
                        .style(theme::error_text),
                );
            }
        }
        col = col.push(container(line).padding(8).style(theme::error_box));
    }
    if room.saved {
        col = col.push(text(tr(lang, T::ConfigSaved)).style(theme::good_text));
    }
    if let Some(to) = &room.invited {
        col = col.push(
            text(crate::ui::i18n::trf(
                lang,
                T::RoomInviteSent,
                &[("to", to.as_str())],
            ))
            .style(theme::good_text),
        );
    }
    col.into()
}
