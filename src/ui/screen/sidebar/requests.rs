//! The quiet box (`crate::quiet`): chats from strangers and contact requests, apart
//! from the inbox, with their count. A chat line opens the conversation; under it,
//! Accept (add as a contact), Block (and report, where the server takes reports) and
//! Delete. A contact request offers Accept, Deny and Block.

use super::lists::{entry_preview, is_open, section_title_text, tag};
use super::{Context, Message, RequestAction};
use crate::ui::app::account_state::AccountState;
use crate::ui::i18n::{T, tr, trf};
use crate::ui::theme;
use iced::widget::{button, column, container, row, text};
use iced::{Alignment, Element, Length};

/// Requests in the shown accounts: strangers' chats and contact requests (one each
/// for a stranger who did both).
pub fn count(accounts: &[&AccountState]) -> usize {
    accounts
        .iter()
        .map(|s| {
            let chats: Vec<_> = s.request_entries().map(|e| &e.peer).collect();
            chats.len() + s.requests.iter().filter(|j| !chats.contains(j)).count()
        })
        .sum()
}

fn small<'a>(label: T, lang: crate::ui::i18n::Lang) -> iced::widget::Text<'a> {
    text(tr(lang, label)).size(12)
}

pub fn view<'a>(cx: &Context<'a>, accounts: &[&'a AccountState]) -> Element<'a, Message> {
    let lang = cx.lang;
    let n = count(accounts).to_string();
    let mut list = column![section_title_text(trf(
        lang,
        T::RequestsCount,
        &[("count", &n)]
    ))]
    .spacing(6);
    for state in accounts {
        let id = &state.account.id;
        let act = |jid: &xmpp_parsers::jid::BareJid, action| {
            Message::Request(id.clone(), jid.clone(), action)
        };
        let block_buttons = |jid: &xmpp_parsers::jid::BareJid| {
            let mut r = row![
                button(small(T::Block, lang))
                    .padding([2, 6])
                    .style(theme::danger_button)
                    .on_press(act(jid, RequestAction::Block { report: false }))
            ]
            .spacing(6);
            if state.blocking.reporting {
                r = r.push(
                    button(small(T::BlockAndReport, lang))
                        .padding([2, 6])
                        .style(theme::danger_button)
                        .on_press(act(jid, RequestAction::Block { report: true })),
                );
            }
            r
        };
        for entry in state.request_entries() {
            let mut first =
                row![container(text(entry.peer.to_string()).size(14)).width(Length::Fill)]
                    .spacing(6)
                    .align_y(Alignment::Center);
            if let Some(tag) = tag(cx, state) {
                first = first.push(tag);
            }
            let mut second = row![
                text(entry_preview(lang, entry))
                    .size(12)
                    .style(theme::muted)
                    .width(Length::Fill)
            ]
            .spacing(6);
            if entry.unread > 0 {
                second = second.push(crate::ui::widgets::unread(entry.unread, false));
            }
            let line = button(column![first, second].spacing(2))
                .width(Length::Fill)
                .padding([6, 8])
                .style(theme::list_item(is_open(cx, id, &entry.peer)))
                .on_press(Message::Open(id.clone(), entry.peer.clone()));
            let actions = row![
                button(small(T::Accept, lang))
                    .padding([2, 6])
                    .style(theme::primary_button)
                    .on_press(act(&entry.peer, RequestAction::Accept)),
                button(small(T::DeleteConversation, lang))
                    .padding([2, 6])
                    .style(theme::secondary_button)
                    .on_press(act(&entry.peer, RequestAction::Delete)),
            ]
            .spacing(6);
            list = list.push(
                container(
                    column![
                        line,
                        text(tr(lang, T::RequestHint)).size(11).style(theme::muted),
                        actions,
                        block_buttons(&entry.peer),
                    ]
                    .spacing(4),
                )
                .padding(6)
                .width(Length::Fill)
                .style(theme::notice_box),
            );
        }
        let chats: Vec<_> = state.request_entries().map(|e| &e.peer).collect();
        for jid in state.requests.iter().filter(|j| !chats.contains(j)) {
            let mut body =
                column![text(trf(lang, T::WantsToSeePresence, &[("jid", jid.as_str())])).size(13)]
                    .spacing(6);
            if let Some(tag) = tag(cx, state) {
                body = body.push(tag);
            }
            body = body.push(
                row![
                    button(small(T::Accept, lang))
                        .padding([2, 6])
                        .style(theme::primary_button)
                        .on_press(Message::Answer(id.clone(), jid.clone(), true)),
                    button(small(T::Deny, lang))
                        .padding([2, 6])
                        .style(theme::secondary_button)
                        .on_press(Message::Answer(id.clone(), jid.clone(), false)),
                ]
                .spacing(6),
            );
            body = body.push(block_buttons(jid));
            list = list.push(
                container(body)
                    .padding(8)
                    .width(Length::Fill)
                    .style(theme::notice_box),
            );
        }
    }
    list.into()
}
