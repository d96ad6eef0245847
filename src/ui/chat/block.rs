//! Blocking from a chat's header (XEP-0191): the button and the command it sends.

use super::Message;
use crate::session::Command;
use crate::ui::i18n::{Lang, T, tr};
use crate::ui::theme;
use iced::Element;
use iced::widget::text;
use xmpp_parsers::jid::{BareJid, Jid};

/// "Block" or, for a blocked contact, "Unblock".
pub fn button<'a>(lang: Lang, blocked: bool) -> Element<'a, Message> {
    let label = if blocked { T::Unblock } else { T::Block };
    iced::widget::button(text(tr(lang, label)).size(12))
        .padding([4, 8])
        .style(theme::link_button)
        .on_press(Message::SetBlocked(!blocked))
        .into()
}

/// Block or unblock `peer`.
pub fn command(peer: &BareJid, block: bool) -> Command {
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
