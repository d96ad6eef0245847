//! The chat header's "write as" choice and the actions at its end: mute, accept a stranger (the chat is a
//! request, `crate::quiet`), block or unblock (XEP-0191).

use super::{Context, Message};
use crate::ids::AccountId;
use crate::session::Command;
use crate::ui::i18n::{Lang, T, tr};
use crate::ui::{theme, widgets};
use iced::widget::{Row, button, container, row, text, tooltip};
use iced::{Alignment, Element};
use xmpp_parsers::jid::{BareJid, Jid};

fn link<'a>(lang: Lang, label: T, message: Message) -> iced::widget::Button<'a, Message> {
    button(text(tr(lang, label)).size(12))
        .padding([4, 8])
        .style(theme::link_button)
        .on_press(message)
}

/// The contact's face with their presence, at the start of the header (issue #18).
pub fn face<'a>(cx: &Context<'a>, picture: Option<&std::path::Path>) -> iced::Element<'a, Message> {
    use crate::ui::widgets::avatar;
    const SIDE: f32 = 40.0;
    let face = avatar::face(&cx.peer_label, cx.peer.as_str(), picture, SIDE);
    avatar::with_presence(face, cx.availability.show, SIDE)
}

/// Appends the header's actions to `top`.
pub fn actions<'a>(lang: Lang, cx: &Context<'a>, top: Row<'a, Message>) -> Row<'a, Message> {
    let mut top = top;
    if cx.request {
        top = top.push(
            button(text(tr(lang, T::Accept)).size(12))
                .padding([4, 8])
                .style(theme::primary_button)
                .on_press(Message::Accept),
        );
    }
    let (mute_label, mute_hint) = if cx.muted {
        (T::Unmute, T::MutedHint)
    } else {
        (T::Mute, T::MuteHint)
    };
    top = top.push(tooltip(
        link(lang, mute_label, Message::ToggleMute),
        container(text(tr(lang, mute_hint)).size(12))
            .padding(6)
            .style(theme::tag),
        tooltip::Position::Bottom,
    ));
    if let Some(blocked) = cx.blocked {
        let label = if blocked { T::Unblock } else { T::Block };
        top = top.push(link(lang, label, Message::SetBlocked(!blocked)));
    }
    top
}

/// Block or unblock `peer`.
pub fn block(peer: &BareJid, block: bool) -> Command {
    let jids = vec![Jid::from(peer.clone())];
    if block {
        Command::Block {
            jids,
            report: false,
        }
    } else {
        Command::Unblock { jids }
    }
}

/// Accept a stranger: add them as a contact and ask for their presence.
pub fn accept(peer: &BareJid) -> Command {
    Command::AddContact {
        jid: peer.clone(),
        name: None,
        subscribe: true,
    }
}

/// "Write as" with one pill per account that has this contact (`current` chosen).
pub fn write_as<'a>(current: &AccountId, cx: &Context<'a>) -> Element<'a, Message> {
    let mut pills = row![text(tr(cx.lang, T::WriteAs)).size(12).style(theme::muted)]
        .spacing(6)
        .align_y(Alignment::Center);
    for account in &cx.write_as {
        pills = pills.push(
            container(
                button(
                    row![
                        widgets::chip(account.colour(), 10),
                        text(widgets::short(&account.label(), 20)).size(13),
                    ]
                    .spacing(6)
                    .align_y(Alignment::Center),
                )
                .padding([3, 10])
                .style(theme::pill(account.id == *current))
                .on_press(Message::WriteAs(account.id.clone())),
            )
            .id(super::write_as_id(&account.id)),
        );
    }
    pills.into()
}
