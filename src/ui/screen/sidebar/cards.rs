//! The top of the sidebar: the account filter with unread counts, the presence for all
//! accounts, and one card per account with its connection, problems and own presence.

use crate::ids::AccountId;
use crate::model::Show;
use crate::ui::app::account_state::AccountState;
use crate::ui::i18n::{T, tr, trf};
use crate::ui::screen::sidebar::lists::presence_dot;
use crate::ui::screen::sidebar::{Context, Message, ShowChoice};
use crate::ui::theme;
use crate::ui::widgets::{self, Remedy};
use iced::widget::{Id, button, column, container, pick_list, row, text, text_input};
use iced::{Alignment, Element, Length};

/// The widget id of a filter pill (`None`: "All accounts"), so tests can click it.
pub fn filter_id(account: Option<&AccountId>) -> Id {
    match account {
        Some(account) => Id::from(format!("sidebar-filter-{account}")),
        None => Id::new("sidebar-filter-all"),
    }
}

/// The widget id of an account's card in the sidebar.
pub fn account_card_id(account: &AccountId) -> Id {
    Id::from(format!("sidebar-account-{account}"))
}

/// The filter ("All accounts" or one) with unread counts, the presence for all accounts
/// and the way to the account settings. Shown when there are several accounts.
pub fn top_bar<'a>(cx: &Context<'a>, filter: Option<&AccountId>) -> Element<'a, Message> {
    let lang = cx.lang;
    let total: u32 = cx.accounts.iter().map(AccountState::unread_total).sum();
    let mut all = row![text(tr(lang, T::AllAccounts)).size(13)]
        .spacing(6)
        .align_y(Alignment::Center);
    if total > 0 {
        all = all.push(widgets::unread(total, false));
    }
    let mut pills = row![pill(all.into(), filter.is_none(), None)].spacing(5);
    for state in cx.accounts {
        let id = &state.account.id;
        let mut content = row![
            widgets::chip(state.account.colour(), 10),
            text(widgets::short(&state.account.label(), 18)).size(13),
        ]
        .spacing(6)
        .align_y(Alignment::Center);
        let unread = state.unread_total();
        if unread > 0 {
            content = content.push(widgets::unread(unread, false));
        }
        pills = pills.push(pill(content.into(), filter == Some(id), Some(id)));
    }

    // Always the placeholder: picking sets every account; each card shows its own.
    let presence = row![
        pick_list(
            ShowChoice::all(lang),
            None::<ShowChoice>,
            Message::ShowPickedForAll
        )
        .placeholder(tr(lang, T::SetAllTo))
        .text_size(13)
        .padding([3, 8])
        .width(Length::Fill),
        button(text(tr(lang, T::ManageAccounts)).size(13))
            .padding([2, 0])
            .style(theme::link_button)
            .on_press(Message::OpenAccounts),
    ]
    .spacing(10)
    .align_y(Alignment::Center);

    column![pills.wrap().vertical_spacing(6), presence]
        .spacing(10)
        .into()
}

fn pill<'a>(
    content: Element<'a, Message>,
    selected: bool,
    account: Option<&AccountId>,
) -> Element<'a, Message> {
    container(
        button(content)
            .padding([3, 8])
            .style(theme::pill(selected))
            .on_press(Message::Filter(account.cloned())),
    )
    .id(filter_id(account))
    .into()
}

/// One account: colour, name, connection in plain words with what to do about a
/// problem, and its own presence and status message.
pub fn account_card<'a>(
    cx: &Context<'a>,
    state: &'a AccountState,
    typed_password: Option<&'a String>,
    typed_status: Option<&'a String>,
    error: Option<T>,
) -> Element<'a, Message> {
    let lang = cx.lang;
    let id = &state.account.id;
    let (line, style) = widgets::connection_line(lang, state);

    let mut title = row![
        widgets::chip(state.account.colour(), 12),
        text(state.account.label())
            .size(16)
            .style(theme::heading)
            .width(Length::Fill),
    ]
    .spacing(8)
    .align_y(Alignment::Center);
    if cx.multi() {
        let unread = state.unread_total();
        if unread > 0 {
            title = title.push(widgets::unread(unread, false));
        }
    } else {
        // One account: no filter bar, so the way to the account settings is here.
        title = title.push(
            button(text(tr(lang, T::ManageAccounts)).size(13))
                .padding([0, 2])
                .style(theme::link_button)
                .on_press(Message::OpenAccounts),
        );
    }
    let mut card = column![title, text(line).size(13).style(style)].spacing(6);

    match widgets::remedy(state) {
        Some(Remedy::Fix) => {
            card = card.push(
                button(text(tr(lang, T::Fix)).size(13))
                    .style(theme::primary_button)
                    .on_press(Message::Fix(id.clone())),
            );
        }
        Some(Remedy::Reconnect) => {
            card = card.push(
                button(text(tr(lang, T::Reconnect)).size(13))
                    .style(theme::secondary_button)
                    .on_press(Message::Reconnect(id.clone())),
            );
        }
        None => {}
    }

    if !state.account.enabled {
        card = card.push(
            button(text(tr(lang, T::Enable)).size(13))
                .style(theme::secondary_button)
                .on_press(Message::Enable(id.clone())),
        );
    }

    if state.account.enabled && state.password.is_none() {
        let typed = typed_password.map(String::as_str).unwrap_or("");
        card = card
            .push(
                text(trf(
                    lang,
                    T::PasswordNeeded,
                    &[("jid", state.account.jid.as_str())],
                ))
                .size(13),
            )
            .push(
                row![
                    text_input(tr(lang, T::PasswordPlaceholder), typed)
                        .secure(true)
                        .on_input(|v| Message::PasswordInput(id.clone(), v))
                        .on_submit(Message::SubmitPassword(id.clone()))
                        .padding(6)
                        .style(theme::input),
                    button(text(tr(lang, T::Connect)).size(13))
                        .style(theme::primary_button)
                        .on_press(Message::SubmitPassword(id.clone())),
                ]
                .spacing(6)
                .align_y(Alignment::Center),
            );
    }

    if let Some(error) = error {
        card = card.push(
            container(
                row![
                    text(tr(lang, error)).size(12).width(Length::Fill),
                    button(text(tr(lang, T::Dismiss)).size(12))
                        .padding([2, 4])
                        .style(theme::link_button)
                        .on_press(Message::DismissError(id.clone())),
                ]
                .align_y(Alignment::Center),
            )
            .padding(6)
            .style(theme::error_box),
        );
    }

    if state.account.enabled {
        let selected = ShowChoice {
            show: state.own_show,
            lang,
        };
        let status = typed_status
            .map(String::as_str)
            .unwrap_or(&state.own_status);
        let picker = row![
            container(presence_dot(own_dot(state))).padding([0, 2]),
            pick_list(ShowChoice::all(lang), Some(selected), |choice| {
                Message::ShowPicked(id.clone(), choice)
            })
            .text_size(13)
            .padding([4, 8]),
        ]
        .spacing(6)
        .align_y(Alignment::Center);
        let placeholder = if cx.multi() {
            T::StatusShort
        } else {
            T::StatusPlaceholder
        };
        let status = text_input(tr(lang, placeholder), status)
            .on_input(|v| Message::StatusInput(id.clone(), v))
            .on_submit(Message::SubmitStatus(id.clone()))
            .size(13)
            .padding(6)
            .style(theme::input);
        // Several cards stack up: presence and status share a line to save room.
        // One account keeps the roomier layout (and the positions tests/e2e.sh clicks).
        card = if cx.multi() {
            card.push(row![picker, status].spacing(6).align_y(Alignment::Center))
        } else {
            card.push(picker).push(status)
        };
    }

    container(card)
        .id(account_card_id(id))
        .padding(10)
        .width(Length::Fill)
        .style(if widgets::account_error(state).is_some() {
            theme::card_error
        } else {
            theme::card
        })
        .into()
}

/// The dot shows what others see: our chosen availability while online, else offline.
fn own_dot(state: &AccountState) -> Show {
    if state.is_online() {
        state.own_show
    } else {
        Show::Offline
    }
}
