//! Settings > Accounts: our own profile (issue #18), one account at a time. "Edit
//! profile…" loads it from the server (`session::own_profile::load`), the form edits
//! the fields people fill, "Save profile" writes it back (`own_profile::save`); the app
//! runs both on the account's session (`ui::app::own_profile`).

use crate::ids::AccountId;
use crate::session::own_profile::Saved;
use crate::ui::app::account_state::AccountState;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use crate::xmpp::vcard4::OwnCard;
use iced::widget::{button, column, container, row, text, text_input};
use iced::{Alignment, Element, Length};

/// The widget id of the first field (focused when the form opens).
pub const FULL_NAME_ID: &str = "own-profile-full-name";

/// One field of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    FullName,
    Nickname,
    Email,
    Phone,
    Url,
    Birthday,
    Note,
}

impl Field {
    pub const ALL: [Field; 7] = [
        Field::FullName,
        Field::Nickname,
        Field::Email,
        Field::Phone,
        Field::Url,
        Field::Birthday,
        Field::Note,
    ];

    /// The widget id of the field's input.
    pub fn id(self) -> &'static str {
        match self {
            Field::FullName => FULL_NAME_ID,
            Field::Nickname => "own-profile-nickname",
            Field::Email => "own-profile-email",
            Field::Phone => "own-profile-phone",
            Field::Url => "own-profile-url",
            Field::Birthday => "own-profile-birthday",
            Field::Note => "own-profile-note",
        }
    }

    fn label(self) -> T {
        match self {
            Field::FullName => T::ProfileFullName,
            Field::Nickname => T::ProfileNickname,
            Field::Email => T::ProfileEmail,
            Field::Phone => T::ProfilePhone,
            Field::Url => T::ProfileWeb,
            Field::Birthday => T::ProfileBirthday,
            Field::Note => T::ProfileAbout,
        }
    }

    fn of(self, card: &mut OwnCard) -> &mut String {
        match self {
            Field::FullName => &mut card.full_name,
            Field::Nickname => &mut card.nickname,
            Field::Email => &mut card.email,
            Field::Phone => &mut card.phone,
            Field::Url => &mut card.url,
            Field::Birthday => &mut card.birthday,
            Field::Note => &mut card.note,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Message {
    Open(AccountId),
    /// The profile the server has (or why it could not be read).
    Loaded(AccountId, Result<OwnCard, String>),
    Input(Field, String),
    Save,
    /// The server's answer to the save.
    Saved(AccountId, Result<Saved, String>),
    Close,
}

/// What the panel asks of the app.
#[derive(Debug, Clone)]
pub enum Event {
    Load(AccountId),
    Save(AccountId, OwnCard),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Loading,
    Editing,
    Saving,
    Saved,
    NotLoaded(String),
    NotSaved(String),
}

#[derive(Debug)]
struct Open {
    account: AccountId,
    card: OwnCard,
    status: Status,
}

#[derive(Debug, Default)]
pub struct State {
    open: Option<Open>,
}

impl State {
    /// Esc: closes the form. False when none was open (or it is saving).
    pub fn escape(&mut self) -> bool {
        if self
            .open
            .as_ref()
            .is_some_and(|o| o.status != Status::Saving)
        {
            self.open = None;
            return true;
        }
        false
    }

    pub fn forget(&mut self, account: &AccountId) {
        if self.open.as_ref().is_some_and(|o| &o.account == account) {
            self.open = None;
        }
    }

    /// The values in the form, when it is open for `account` (for tests).
    pub fn card(&self, account: &AccountId) -> Option<&OwnCard> {
        self.open
            .as_ref()
            .filter(|o| &o.account == account)
            .map(|o| &o.card)
    }

    pub fn update(&mut self, message: Message) -> (iced::Task<Message>, Option<Event>) {
        let event = match message {
            Message::Open(account) => {
                self.open = Some(Open {
                    account: account.clone(),
                    card: OwnCard::default(),
                    status: Status::Loading,
                });
                Some(Event::Load(account))
            }
            Message::Loaded(account, result) => {
                if let Some(open) = self.open.as_mut().filter(|o| o.account == account) {
                    match result {
                        Ok(card) => {
                            open.card = card;
                            open.status = Status::Editing;
                            return (iced::widget::operation::focus(FULL_NAME_ID), None);
                        }
                        Err(why) => open.status = Status::NotLoaded(why),
                    }
                }
                None
            }
            Message::Input(field, value) => {
                if let Some(open) = self.open.as_mut() {
                    *field.of(&mut open.card) = value;
                    if matches!(open.status, Status::Saved | Status::NotSaved(_)) {
                        open.status = Status::Editing;
                    }
                }
                None
            }
            Message::Save => match self.open.as_mut() {
                Some(open) if matches!(open.status, Status::Editing | Status::NotSaved(_)) => {
                    open.status = Status::Saving;
                    Some(Event::Save(open.account.clone(), open.card.bounded()))
                }
                _ => None,
            },
            Message::Saved(account, result) => {
                if let Some(open) = self.open.as_mut().filter(|o| o.account == account) {
                    open.status = match result {
                        Ok(_) => Status::Saved,
                        Err(why) => Status::NotSaved(why),
                    };
                }
                None
            }
            Message::Close => {
                if self
                    .open
                    .as_ref()
                    .is_some_and(|o| o.status != Status::Saving)
                {
                    self.open = None;
                }
                None
            }
        };
        (iced::Task::none(), event)
    }

    /// The profile part of an account's card: a button, or the open form.
    pub fn view<'a, M: 'a + Clone>(
        &'a self,
        lang: Lang,
        state: &'a AccountState,
        wrap: fn(Message) -> M,
    ) -> Element<'a, M> {
        let id = &state.account.id;
        let title = column![
            text(tr(lang, T::OwnProfileTitle))
                .size(14)
                .style(theme::heading),
            text(tr(lang, T::OwnProfileHint))
                .size(12)
                .style(theme::muted),
        ]
        .spacing(2)
        .width(Length::Fill);
        let Some(open) = self.open.as_ref().filter(|o| &o.account == id) else {
            let edit = button(text(tr(lang, T::EditOwnProfile)).size(13))
                .padding([4, 12])
                .style(theme::secondary_button)
                .on_press(wrap(Message::Open(id.clone())));
            return row![title, edit]
                .spacing(8)
                .align_y(Alignment::Center)
                .into();
        };
        let mut form = column![title].spacing(8);
        let editable = matches!(
            open.status,
            Status::Editing | Status::Saved | Status::NotSaved(_)
        );
        if open.status == Status::Loading {
            form = form.push(
                text(tr(lang, T::OwnProfileLoading))
                    .size(13)
                    .style(theme::muted),
            );
        }
        if let Status::NotLoaded(why) = &open.status {
            form = form.push(
                text(trf(lang, T::OwnProfileNotLoaded, &[("why", why)]))
                    .size(13)
                    .style(theme::error_text),
            );
        }
        if editable || open.status == Status::Saving {
            for field in Field::ALL {
                let value = match field {
                    Field::FullName => &open.card.full_name,
                    Field::Nickname => &open.card.nickname,
                    Field::Email => &open.card.email,
                    Field::Phone => &open.card.phone,
                    Field::Url => &open.card.url,
                    Field::Birthday => &open.card.birthday,
                    Field::Note => &open.card.note,
                };
                let placeholder = if field == Field::Birthday {
                    tr(lang, T::OwnProfileBirthdayHint)
                } else {
                    ""
                };
                let mut input = text_input(placeholder, value)
                    .id(field.id())
                    .size(14)
                    .padding(6)
                    .style(theme::input);
                if editable {
                    input = input
                        .on_input(move |v| wrap(Message::Input(field, v)))
                        .on_submit(wrap(Message::Save));
                }
                form = form.push(
                    row![
                        text(tr(lang, field.label()))
                            .size(13)
                            .width(Length::Fixed(110.0)),
                        input,
                    ]
                    .spacing(8)
                    .align_y(Alignment::Center),
                );
            }
        }
        let status = match &open.status {
            Status::Saving => Some(text(tr(lang, T::OwnProfileSaving)).style(theme::muted)),
            Status::Saved => Some(text(tr(lang, T::OwnProfileSaved)).style(theme::muted)),
            Status::NotSaved(why) => Some(
                text(trf(lang, T::OwnProfileNotSaved, &[("why", why)])).style(theme::error_text),
            ),
            _ => None,
        };
        let mut buttons = row![
            button(text(tr(lang, T::OwnProfileSave)).size(13))
                .padding([4, 12])
                .style(theme::primary_button)
                .on_press_maybe(editable.then(|| wrap(Message::Save))),
            button(text(tr(lang, T::ProfileClose)).size(13))
                .padding([4, 12])
                .style(theme::secondary_button)
                .on_press_maybe((open.status != Status::Saving).then(|| wrap(Message::Close))),
        ]
        .spacing(8)
        .align_y(Alignment::Center);
        if let Some(status) = status {
            buttons = buttons.push(status.size(13));
        }
        container(form.push(buttons))
            .padding(10)
            .width(Length::Fill)
            .style(theme::notice_box)
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_loads_edits_and_saves_one_account() {
        let a = AccountId::generate();
        let mut s = State::default();
        let (_, ev) = s.update(Message::Open(a.clone()));
        assert!(matches!(ev, Some(Event::Load(ref x)) if *x == a));
        // Nothing to save while it loads.
        assert!(s.update(Message::Save).1.is_none());
        let loaded = OwnCard {
            full_name: "Juliet".into(),
            ..OwnCard::default()
        };
        let _ = s.update(Message::Loaded(a.clone(), Ok(loaded)));
        let _ = s.update(Message::Input(Field::Note, "  hello  ".into()));
        let (_, ev) = s.update(Message::Save);
        let Some(Event::Save(who, card)) = ev else {
            unreachable!("a save: {ev:?}")
        };
        assert_eq!(who, a);
        assert_eq!(card.full_name, "Juliet");
        assert_eq!(card.note, "hello");
        // Saving: one at a time, and Esc does not drop it.
        assert!(s.update(Message::Save).1.is_none());
        assert!(!s.escape());
        let _ = s.update(Message::Saved(a.clone(), Ok(Saved::default())));
        assert!(s.escape());
        assert!(s.card(&a).is_none());
    }
}
