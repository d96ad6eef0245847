//! An owner's room configuration dialog: any XEP-0004 form the service sends, rendered
//! field by field (text, password, multi-line, yes/no, one-of and many-of lists,
//! addresses, fixed notes; hidden fields kept as they came), with Save and Cancel and
//! the service's refusal in words.

use crate::ids::AccountId;
use crate::session::roomtools::{Condition, QueryError};
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use crate::xmpp::muc::form::{DataForm, Field, FieldKind, FieldOption};
use iced::widget::{
    button, checkbox, column, container, pick_list, row, scrollable, text, text_editor, text_input,
};
use iced::{Element, Length};
use std::collections::BTreeMap;
use xmpp_parsers::jid::BareJid;

/// Up to this many choices are shown side by side; more go in a drop-down list.
const FEW_OPTIONS: usize = 5;

/// Where the dialog stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Loading,
    Editing,
    Saving,
    /// The form could not be had or saved; `form` may still be there to retry.
    Failed(QueryError),
}

pub struct State {
    pub account: AccountId,
    pub room: BareJid,
    pub form: Option<DataForm>,
    pub phase: Phase,
    /// Multi-line fields, by field index.
    editors: BTreeMap<usize, text_editor::Content>,
    /// Required fields the user left empty (by title), shown instead of sending.
    missing: Vec<String>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("roomform::State")
            .field("room", &self.room)
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub enum Message {
    Loaded(Result<DataForm, QueryError>),
    Text(usize, String),
    Bool(usize, bool),
    Pick(usize, String),
    Toggle(usize, String, bool),
    Edit(usize, text_editor::Action),
    Save,
    Saved(Result<(), QueryError>),
    Cancel,
}

/// What the dialog asks of its parent.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Submit(DataForm),
    /// The room took the settings: close the dialog and say so.
    Saved,
    /// Cancelled: close the dialog.
    Close,
}

/// A list option as `pick_list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Choice(FieldOption);

impl std::fmt::Display for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.label)
    }
}

/// A service's refusal in words.
pub fn describe(lang: Lang, e: &QueryError) -> String {
    match e {
        QueryError::NotConnected => tr(lang, T::CommandNotConnected).to_owned(),
        QueryError::NoAnswer => tr(lang, T::ToolNoAnswer).to_owned(),
        QueryError::Malformed => tr(lang, T::ToolMalformed).to_owned(),
        QueryError::NoService => tr(lang, T::BrowseNoService).to_owned(),
        QueryError::Refused { condition, text } => {
            let words = match condition {
                Condition::Forbidden | Condition::NotAllowed | Condition::NotAuthorized => {
                    tr(lang, T::ToolForbidden).to_owned()
                }
                Condition::ItemNotFound => tr(lang, T::MucNotFound).to_owned(),
                Condition::ServiceUnavailable | Condition::FeatureNotImplemented => {
                    tr(lang, T::MucServiceUnavailable).to_owned()
                }
                Condition::BadRequest | Condition::NotAcceptable => {
                    tr(lang, T::ToolBadForm).to_owned()
                }
                Condition::Conflict => tr(lang, T::ToolConflict).to_owned(),
                Condition::Other(name) => trf(lang, T::MucOtherError, &[("detail", name)]),
            };
            match text {
                Some(t) => format!("{words} ({t})"),
                None => words,
            }
        }
    }
}

impl State {
    pub fn new(account: AccountId, room: BareJid) -> Self {
        State {
            account,
            room,
            form: None,
            phase: Phase::Loading,
            editors: BTreeMap::new(),
            missing: Vec::new(),
        }
    }

    fn field_mut(&mut self, i: usize) -> Option<&mut Field> {
        self.form.as_mut()?.fields.get_mut(i)
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Loaded(Ok(form)) => {
                self.editors = form
                    .fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.kind.multiline())
                    .map(|(i, f)| (i, text_editor::Content::with_text(&f.values.join("\n"))))
                    .collect();
                self.form = Some(form);
                self.phase = Phase::Editing;
            }
            Message::Loaded(Err(e)) => self.phase = Phase::Failed(e),
            Message::Text(i, v) | Message::Pick(i, v) => {
                if let Some(f) = self.field_mut(i) {
                    f.set_single(&v);
                }
            }
            Message::Bool(i, on) => {
                if let Some(f) = self.field_mut(i) {
                    f.set_bool(on);
                }
            }
            Message::Toggle(i, v, on) => {
                if let Some(f) = self.field_mut(i) {
                    f.toggle(&v, on);
                }
            }
            Message::Edit(i, action) => {
                if let Some(content) = self.editors.get_mut(&i) {
                    content.perform(action);
                    let lines = content.text();
                    if let Some(f) = self.field_mut(i) {
                        f.set_lines(&lines);
                    }
                }
            }
            Message::Save => {
                let form = self.form.clone()?;
                if matches!(self.phase, Phase::Saving | Phase::Loading) {
                    return None;
                }
                self.missing = form.missing();
                if !self.missing.is_empty() {
                    return None;
                }
                self.phase = Phase::Saving;
                return Some(Event::Submit(form));
            }
            Message::Saved(Ok(())) => return Some(Event::Saved),
            Message::Saved(Err(e)) => self.phase = Phase::Failed(e),
            Message::Cancel => return Some(Event::Close),
        }
        None
    }

    fn field_view<'a>(&'a self, i: usize, f: &'a Field) -> Element<'a, Message> {
        let title = || {
            let mut t = f.title().to_owned();
            if f.required {
                t.push_str(" *");
            }
            text(t)
        };
        let input: Element<'a, Message> = match f.kind {
            FieldKind::Hidden => return column![].into(),
            FieldKind::Fixed => return text(f.values.join("\n")).style(theme::heading).into(),
            FieldKind::Boolean => {
                return checkbox(f.is_true())
                    .label(f.title())
                    .on_toggle(move |on| Message::Bool(i, on))
                    .into();
            }
            FieldKind::TextSingle | FieldKind::JidSingle | FieldKind::TextPrivate => {
                text_input("", f.first())
                    .secure(f.kind == FieldKind::TextPrivate)
                    .style(theme::input)
                    .on_input(move |v| Message::Text(i, v))
                    .into()
            }
            FieldKind::TextMulti | FieldKind::JidMulti => match self.editors.get(&i) {
                Some(content) => text_editor(content)
                    .on_action(move |a| Message::Edit(i, a))
                    .height(72)
                    .style(theme::composer)
                    .into(),
                None => column![].into(),
            },
            FieldKind::ListSingle if f.options.len() <= FEW_OPTIONS => {
                // A few choices: all in sight, the chosen one marked.
                let mut choices = row![].spacing(6);
                for o in &f.options {
                    let selected = o.value == f.first();
                    choices = choices.push(
                        button(text(o.label.as_str()).size(13))
                            .style(theme::pill(selected))
                            .on_press(Message::Pick(i, o.value.clone())),
                    );
                }
                choices.into()
            }
            FieldKind::ListSingle => {
                let choices: Vec<Choice> = f.options.iter().cloned().map(Choice).collect();
                let selected = choices.iter().find(|c| c.0.value == f.first()).cloned();
                pick_list(choices, selected, move |c: Choice| {
                    Message::Pick(i, c.0.value)
                })
                .width(Length::Fill)
                .into()
            }
            FieldKind::ListMulti => {
                let mut col = column![].spacing(4);
                for o in &f.options {
                    let value = o.value.clone();
                    col = col.push(
                        checkbox(f.values.contains(&o.value))
                            .label(o.label.as_str())
                            .on_toggle(move |on| Message::Toggle(i, value.clone(), on)),
                    );
                }
                col.into()
            }
        };
        let mut col = column![title(), input].spacing(4);
        if let Some(desc) = &f.desc {
            col = col.push(text(desc.as_str()).size(12).style(theme::muted));
        }
        col.into()
    }

    pub fn view(&self, lang: Lang) -> Element<'_, Message> {
        let heading = trf(lang, T::ConfigTitle, &[("room", self.room.as_str())]);
        let mut body = column![text(heading).size(20).style(theme::heading)].spacing(10);
        if let Some(form) = &self.form {
            if let Some(t) = &form.title {
                body = body.push(text(t.as_str()).style(theme::muted));
            }
            for line in &form.instructions {
                body = body.push(text(line.as_str()).size(13).style(theme::muted));
            }
            for (i, f) in form.visible() {
                body = body.push(self.field_view(i, f));
            }
        }
        match &self.phase {
            Phase::Loading => {
                body = body.push(text(tr(lang, T::ConfigLoading)).style(theme::muted))
            }
            Phase::Failed(e) => {
                body = body.push(
                    container(text(describe(lang, e)).style(theme::error_text))
                        .padding(10)
                        .style(theme::error_box),
                )
            }
            Phase::Editing | Phase::Saving => {}
        }
        if !self.missing.is_empty() {
            body = body.push(
                text(trf(
                    lang,
                    T::ConfigMissing,
                    &[("fields", &self.missing.join(", "))],
                ))
                .style(theme::error_text),
            );
        }
        let label = if self.phase == Phase::Saving {
            T::ConfigSaving
        } else {
            T::ConfigSave
        };
        let mut save = button(text(tr(lang, label))).style(theme::primary_button);
        if self.form.is_some() && !matches!(self.phase, Phase::Saving | Phase::Loading) {
            save = save.on_press(Message::Save);
        }
        let cancel = button(text(tr(lang, T::ConfigCancel)))
            .style(theme::secondary_button)
            .on_press(Message::Cancel);
        body = body.push(row![save, cancel].spacing(8));
        container(scrollable(body.max_width(560).padding(4)).height(Length::Fill))
            .padding(20)
            .width(Length::Fill)
            .style(theme::card)
            .into()
    }
}
