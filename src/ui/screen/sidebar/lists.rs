//! The lists of the sidebar, merged across the shown accounts: contact requests,
//! conversations (newest activity first) and contacts. With several accounts every line
//! carries its account's chip and label.

use crate::ids::AccountId;
use crate::model::Show;
use crate::ui::app::account_state::{AccountState, ConversationEntry};
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::screen::sidebar::groups::Item;
use crate::ui::screen::sidebar::{AddForm, Context, EditForm, Message, show_text};
use crate::ui::theme;
use crate::ui::widgets;
use crate::ui::widgets::avatar;
use iced::widget::text::Wrapping;
use iced::widget::{Column, button, column, container, row, space, text, text_input};
use iced::{Alignment, Element, Length};
use std::collections::BTreeMap;
use xmpp_parsers::jid::BareJid;

/// Side of the faces on list lines (issue #18).
const FACE: f32 = 32.0;

/// How many characters of an account label fit on a list line.
const TAG_CHARS: usize = 11;

/// How many characters of a name or status a list line shows before "…".
const LINE_CHARS: usize = 40;

/// The list's line for a conversation's last message: its text, or the file it
/// shared ("📎 name", "🖼 Photo") instead of the file's URL.
pub(super) fn entry_preview(
    lang: crate::ui::i18n::Lang,
    entry: &crate::ui::app::account_state::ConversationEntry,
) -> String {
    use crate::ui::app::account_state::LastFile;
    if entry.last_file.is_none() {
        return preview(&crate::ui::timeline::fold::readable_body(
            lang,
            &entry.last_body,
        ));
    }
    match &entry.last_file {
        None => preview(&entry.last_body),
        Some(LastFile::Photo) => format!(
            "{}🖼 {}",
            entry.last_body,
            crate::ui::i18n::tr(lang, crate::ui::i18n::T::PreviewPhoto)
        ),
        Some(LastFile::File(name)) => {
            // A right-to-left override in a name would show it as the spoof it is.
            let name: String = name
                .chars()
                .filter(|c| !crate::notify::is_bidi_control(*c))
                .collect();
            preview(&format!("{}📎 {name}", entry.last_body))
        }
    }
}

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
    section_title_text(tr(lang, key).to_owned())
}

pub(super) fn section_title_text<'a>(title: String) -> Element<'a, Message> {
    text(title).size(13).style(theme::muted).into()
}

pub(super) fn is_open(cx: &Context<'_>, account: &AccountId, peer: &BareJid) -> bool {
    cx.open
        .is_some_and(|(open_account, open)| open_account == account && open == peer)
}

/// The account tag of a line, when there are several accounts.
pub(super) fn tag<'a>(cx: &Context<'a>, state: &AccountState) -> Option<Element<'a, Message>> {
    cx.multi()
        .then(|| widgets::account_tag(&state.account, TAG_CHARS))
}

/// Conversations of all shown accounts, most recent first, with unread badges.
pub fn conversations<'a>(
    cx: &Context<'a>,
    accounts: &[&'a AccountState],
    near: &super::lazy::Near,
) -> Element<'a, Message> {
    let lang = cx.lang;
    let mut entries: Vec<(&'a AccountState, &'a ConversationEntry)> = accounts
        .iter()
        .flat_map(|state| {
            state
                .conversations
                .iter()
                // Strangers' chats are requests, listed apart (`requests.rs`).
                .filter(|entry| entry.room || !state.is_request(&entry.peer))
                .map(move |entry| (*state, entry))
        })
        .collect();
    // Stable: equal times keep the account order.
    entries.sort_by_key(|(_, entry)| std::cmp::Reverse(entry.last_activity_ms));

    let mut list = column![
        row![
            container(section_title(lang, T::Conversations)).width(Length::Fill),
            button(text(format!("+ {}", tr(lang, T::JoinRoomTitle))).size(13))
                .padding([2, 4])
                .style(theme::link_button)
                .on_press(Message::JoinRoom),
        ]
        .align_y(Alignment::Center)
    ]
    .spacing(4);
    if entries.is_empty() && cx.multi() {
        list = list.push(
            text(tr(lang, T::NoConversationsHere))
                .size(13)
                .style(theme::muted),
        );
    }
    let list = super::lazy::push(
        list,
        super::lazy::List::Conversations,
        entries,
        near,
        |_| Some(super::lazy::LINE),
        |(state, entry)| conversation_line(cx, state, entry),
    );
    list.into()
}

/// One line of the conversation list: face, name (or room), account tag, the last
/// message and the unread counts, [`super::lazy::LINE`] high whatever they hold.
fn conversation_line<'a>(
    cx: &Context<'a>,
    state: &'a AccountState,
    entry: &'a ConversationEntry,
) -> Element<'a, Message> {
    let lang = cx.lang;
    let label = if entry.room {
        room_label(&entry.peer)
    } else {
        state.peer_label(&entry.peer)
    };
    let mut title = if entry.room {
        row![room_mark(), one_line(label.clone(), 14)]
    } else {
        row![one_line(label.clone(), 14)]
    }
    .spacing(6)
    .align_y(Alignment::Center);
    if !entry.room && !state.in_roster(&entry.peer) {
        title = title.push(
            container(text(tr(lang, T::NotInContacts)).size(11))
                .padding([0, 4])
                .style(theme::tag),
        );
    }
    let mut first = row![container(title).width(Length::Fill)]
        .spacing(6)
        .align_y(Alignment::Center);
    if let Some(tag) = tag(cx, state) {
        first = first.push(tag);
    }
    let mut second = row![
        container(
            text(entry_preview(cx.lang, entry))
                .size(12)
                .style(theme::muted)
                .wrapping(Wrapping::None)
        )
        .width(Length::Fill)
        .clip(true)
    ]
    .spacing(6)
    .align_y(Alignment::Center);
    if entry.room {
        // A mention counts apart, in the strong colour; the rest of the room's
        // traffic is quieter.
        if entry.mentions > 0 {
            second = second.push(widgets::mentions(entry.mentions));
        }
        if entry.unread > entry.mentions {
            second = second.push(widgets::unread(entry.unread - entry.mentions, false));
        }
    } else if entry.unread > 0 {
        second = second.push(widgets::unread(entry.unread, true));
    }
    let id = &state.account.id;
    let face = avatar::face(
        &label,
        entry.peer.as_str(),
        state.avatars.get(&entry.peer).map(|p| p.as_path()),
        FACE,
    );
    button(
        container(
            row![face, column![first, second].spacing(2)]
                .spacing(8)
                .align_y(Alignment::Center),
        )
        .height(Length::Fill)
        .align_y(Alignment::Center),
    )
    .width(Length::Fill)
    .height(super::lazy::LINE)
    .padding([6, 8])
    .style(theme::list_item(is_open(cx, id, &entry.peer)))
    .on_press(Message::Open(id.clone(), entry.peer.clone()))
    .into()
}

/// A name or a status on one line: never wrapped (a line keeps its height), cut with
/// "…" when long, and clipped to its place if still too wide (wide scripts).
fn one_line<'a>(label: String, size: u32) -> Element<'a, Message> {
    container(
        text(widgets::short(&label, LINE_CHARS))
            .size(size)
            .wrapping(Wrapping::None),
    )
    .width(Length::Fill)
    .clip(true)
    .into()
}

/// The mark of a group chat room in the list.
fn room_mark<'a>() -> Element<'a, Message> {
    container(text("#").size(12))
        .padding([0, 5])
        .style(theme::room_mark)
        .into()
}

/// A room's name in the list: the part before the @ (the address if there is none).
pub fn room_label(room: &BareJid) -> String {
    room.node()
        .map(|n| n.to_string())
        .unwrap_or_else(|| room.to_string())
}

/// One contact, with every shown account that has it in its roster.
#[derive(Clone)]
struct ContactLine<'a> {
    jid: &'a BareJid,
    label: String,
    accounts: Vec<&'a AccountState>,
    /// Its roster groups in every shown account (`groups.rs`).
    groups: Vec<String>,
}

fn contact_lines<'a>(accounts: &[&'a AccountState]) -> Vec<ContactLine<'a>> {
    let mut by_jid: BTreeMap<&'a BareJid, ContactLine<'a>> = BTreeMap::new();
    for state in accounts {
        for contact in state.contacts.values() {
            let line = by_jid.entry(&contact.jid).or_insert_with(|| ContactLine {
                jid: &contact.jid,
                label: contact.label(),
                accounts: Vec::new(),
                groups: Vec::new(),
            });
            line.accounts.push(state);
            for g in &contact.groups {
                if !line.groups.contains(g) {
                    line.groups.push(g.clone());
                }
            }
        }
    }
    let mut lines: Vec<ContactLine<'a>> = by_jid.into_values().collect();
    lines.sort_by_cached_key(|line| (line.label.to_lowercase(), line.jid.clone()));
    lines
}

/// The roster of every shown account (a contact in two accounts is one line with both
/// tags), with presence, the add form and the inline rename / remove form.
pub fn contacts<'a>(
    cx: &Context<'a>,
    accounts: &[&'a AccountState],
    add: Option<&'a AddForm>,
    edit: Option<&'a EditForm>,
    groups: &'a super::groups::Groups,
    near: &super::lazy::Near,
) -> Element<'a, Message> {
    let lang = cx.lang;
    let mut list: Column<'a, Message> = column![
        row![
            container(section_title(lang, T::Contacts)).width(Length::Fill),
            button(text(format!("+ {}", tr(lang, T::AddContact))).size(13))
                .padding([2, 4])
                .style(theme::link_button)
                .on_press(Message::StartAdd),
        ]
        .align_y(Alignment::Center),
    ]
    .spacing(4);

    if let Some(form) = add {
        list = list.push(add_form(cx, accounts, form));
    }
    let lines = contact_lines(accounts);
    if lines.is_empty() {
        list = list.push(text(tr(lang, T::NoContacts)).size(13).style(theme::muted));
    }

    let items = groups.arrange(lines, |l| &l.groups);
    let list = super::lazy::push(
        list,
        super::lazy::List::Contacts,
        items,
        near,
        |item| match item {
            Item::Header { group, .. } if groups.renaming(group) => None,
            Item::Header { .. } => Some(super::lazy::HEADER),
            Item::Line(line) if edit.is_some_and(|f| &f.jid == line.jid) => None,
            Item::Line(_) => Some(super::lazy::LINE),
        },
        |item| match item {
            Item::Header {
                group,
                count,
                collapsed,
            } => {
                let header = groups
                    .header(lang, &group, count, collapsed)
                    .map(Message::Groups);
                if groups.renaming(&group) {
                    header
                } else {
                    container(header)
                        .height(super::lazy::HEADER)
                        .align_y(Alignment::Center)
                        .into()
                }
            }
            Item::Line(line) => contact_line(cx, &line, edit),
        },
    );
    list.into()
}

/// One contact's line ([`super::lazy::LINE`] high), and its edit form under it when open.
fn contact_line<'a>(
    cx: &Context<'a>,
    line: &ContactLine<'a>,
    edit: Option<&'a EditForm>,
) -> Element<'a, Message> {
    let lang = cx.lang;
    // The most available of the accounts' views of this contact.
    let availability = line
        .accounts
        .iter()
        .map(|state| state.availability(line.jid))
        .min_by_key(|a| a.show)
        .unwrap_or(crate::ui::app::account_state::Availability {
            show: Show::Offline,
            status: None,
        });
    let status = availability
        .status
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| tr(lang, show_text(availability.show)).to_string());
    let mut first = row![one_line(line.label.clone(), 14)]
        .spacing(6)
        .align_y(Alignment::Center);
    if cx.multi() {
        match line.accounts.as_slice() {
            [state] => first = first.push(widgets::account_tag(&state.account, TAG_CHARS)),
            // In several rosters: their colours only, so the name keeps its room.
            states => {
                for state in states {
                    first = first.push(widgets::chip(state.account.colour(), 9));
                }
            }
        }
    }
    let selected = line
        .accounts
        .iter()
        .any(|state| is_open(cx, &state.account.id, line.jid));
    let picture = line
        .accounts
        .iter()
        .find_map(|state| state.avatars.get(line.jid));
    let face = avatar::face(
        &line.label,
        line.jid.as_str(),
        picture.map(|p| p.as_path()),
        FACE,
    );
    let status = container(
        text(widgets::short(
            status.lines().next().unwrap_or(""),
            LINE_CHARS,
        ))
        .size(12)
        .style(theme::muted)
        .wrapping(Wrapping::None),
    )
    .width(Length::Fill)
    .clip(true);
    let entry = button(
        container(
            row![
                avatar::with_presence(face, availability.show, FACE),
                column![first, status].spacing(2),
            ]
            .spacing(8)
            .align_y(Alignment::Center),
        )
        .height(Length::Fill)
        .align_y(Alignment::Center),
    )
    .width(Length::Fill)
    .height(super::lazy::LINE)
    .padding([6, 8])
    .style(theme::list_item(selected))
    .on_press(Message::OpenContact(line.jid.clone()));
    let Some(owner) = line.accounts.first() else {
        return entry.into();
    };
    let name = owner
        .contacts
        .get(line.jid)
        .and_then(|c| c.name.clone())
        .unwrap_or_default();
    let edit_button = button(text(tr(lang, T::Edit)).size(12))
        .padding([2, 4])
        .style(theme::link_button)
        .on_press(Message::StartEdit(
            owner.account.id.clone(),
            line.jid.clone(),
            name,
        ));
    let shown = row![entry, edit_button]
        .spacing(2)
        .align_y(Alignment::Center);
    match edit.filter(|f| &f.jid == line.jid) {
        Some(form) => column![shown, edit_form(cx, form, line)]
            .spacing(super::lazy::SPACING)
            .into(),
        None => shown.into(),
    }
}

/// Pills to choose one of several accounts inside a form.
fn account_pills<'a>(
    lang: Lang,
    accounts: &[&'a AccountState],
    chosen: Option<&AccountId>,
    on_pick: fn(AccountId) -> Message,
) -> Element<'a, Message> {
    let mut pills = row![
        text(tr(lang, T::AccountPrompt))
            .size(12)
            .style(theme::muted)
    ]
    .spacing(6)
    .align_y(Alignment::Center);
    for state in accounts {
        let id = &state.account.id;
        pills = pills.push(
            button(widgets::account_tag(&state.account, 18))
                .padding([2, 8])
                .style(theme::pill(chosen == Some(id)))
                .on_press(on_pick(id.clone())),
        );
    }
    pills.wrap().vertical_spacing(6).into()
}

fn add_form<'a>(
    cx: &Context<'a>,
    accounts: &[&'a AccountState],
    form: &'a AddForm,
) -> Element<'a, Message> {
    let lang = cx.lang;
    let mut fields = column![].spacing(6);
    if accounts.len() > 1 {
        fields = fields.push(account_pills(
            lang,
            accounts,
            form.account.as_ref(),
            Message::AddAccountPicked,
        ));
    }
    fields = fields
        .push(
            text_input(tr(lang, T::AddressPlaceholder), &form.jid)
                .on_input(Message::AddJidInput)
                .on_submit(Message::SubmitAdd)
                .size(13)
                .padding(6)
                .style(theme::input),
        )
        .push(
            text_input(tr(lang, T::ContactNamePlaceholder), &form.name)
                .on_input(Message::AddNameInput)
                .on_submit(Message::SubmitAdd)
                .size(13)
                .padding(6)
                .style(theme::input),
        );
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
                .on_press_maybe(form.account.is_some().then_some(Message::SubmitAdd)),
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

fn edit_form<'a>(
    cx: &Context<'a>,
    form: &'a EditForm,
    line: &ContactLine<'a>,
) -> Element<'a, Message> {
    let lang = cx.lang;
    let content: Element<'a, Message> = if form.confirm_remove {
        column![
            text(trf(lang, T::ConfirmRemove, &[("name", &line.label)])).size(13),
            crate::ui::widgets::confirm_buttons(
                lang,
                T::Remove,
                Message::ConfirmRemove,
                Message::CancelForm,
            ),
        ]
        .spacing(6)
        .into()
    } else {
        let mut fields = column![text(form.jid.as_str()).size(12).style(theme::muted)].spacing(6);
        // In several rosters: rename or remove it in the chosen one.
        if line.accounts.len() > 1 {
            fields = fields.push(account_pills(
                lang,
                &line.accounts,
                Some(&form.account),
                Message::EditAccountPicked,
            ));
        }
        fields
            .push(
                text_input(tr(lang, T::ContactNamePlaceholder), &form.name)
                    .on_input(Message::EditNameInput)
                    .on_submit(Message::SubmitRename)
                    .size(13)
                    .padding(6)
                    .style(theme::input),
            )
            .push(
                text_input(tr(lang, T::GroupsPlaceholder), &form.groups)
                    .on_input(Message::EditGroupsInput)
                    .on_submit(Message::SubmitRename)
                    .size(13)
                    .padding(6)
                    .style(theme::input)
                    .id(super::groups::GROUPS_ID),
            )
            .push(
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
            )
            .push(
                button(text(tr(lang, T::OpenProfile)).size(13))
                    .style(theme::link_button)
                    .on_press(Message::OpenProfile(form.account.clone(), form.jid.clone())),
            )
            .push(
                // Blocking keeps the contact; their messages and presence stop.
                button(text(tr(lang, T::Block)).size(13))
                    .style(theme::link_button)
                    .on_press(Message::Request(
                        form.account.clone(),
                        form.jid.clone(),
                        super::RequestAction::Block { report: false },
                    )),
            )
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
    use crate::ui::screen::sidebar::lists::preview;

    #[test]
    fn previews_fit_one_line() {
        assert_eq!(preview("short"), "short");
        assert_eq!(preview("first\nsecond"), "first…");
        let long = "x".repeat(50);
        assert_eq!(preview(&long), format!("{}…", "x".repeat(30)));
        assert_eq!(preview(""), "");
    }

    #[test]
    fn a_shared_file_previews_as_its_name_or_photo_not_its_url() {
        use crate::ui::app::account_state::{ConversationEntry, LastFile};
        use crate::ui::i18n::Lang;
        let entry = |body: &str, file| ConversationEntry {
            peer: xmpp_parsers::jid::BareJid::new("tea@conference.example.org").unwrap(),
            room: true,
            last_activity_ms: 0,
            last_body: body.into(),
            last_file: file,
            unread: 0,
            mentions: 0,
        };
        let photo = entry("bob: ", Some(LastFile::Photo));
        assert_eq!(
            crate::ui::screen::sidebar::lists::entry_preview(Lang::En, &photo),
            "bob: 🖼 Photo"
        );
        assert_eq!(
            crate::ui::screen::sidebar::lists::entry_preview(Lang::ZhCn, &photo),
            "bob: 🖼 图片"
        );
        // A right-to-left override cannot make "invoice\u{202E}fdp.exe" read as a pdf.
        let file = entry("", Some(LastFile::File("invoice\u{202E}fdp.exe".into())));
        assert_eq!(
            crate::ui::screen::sidebar::lists::entry_preview(Lang::En, &file),
            "📎 invoicefdp.exe"
        );
        assert_eq!(
            crate::ui::screen::sidebar::lists::entry_preview(Lang::En, &entry("hi", None)),
            "hi"
        );
    }
}
