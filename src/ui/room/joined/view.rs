//! The room on screen: the state line, the timeline with its composer, the occupant
//! list (with moderation), or a private chat in place of the timeline.

use crate::colors::consistent_color;
use crate::notify::shown_name;
use crate::session::rooms::{Exit, Occupant};
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::room::edit_bar;
use crate::ui::room::joined::{
    COMPOSER_ID, Context, LIST_ID, Line, Message, Note, Older, Room, Status, affiliation_word,
    moderation, role_word,
};
use crate::ui::{theme, timeline};
use iced::widget::{button, column, container, row, scrollable, text};
use iced::{Alignment, Element, Length};

impl Room {
    /// The state line when we are not (or not yet) in the room; `None` when joined.
    fn status_view(&self, lang: Lang) -> Option<Element<'_, Message>> {
        let (words, reason, rejoin) = match &self.status {
            Status::Joined => return None,
            Status::Joining => (tr(lang, T::JoiningRoom).to_owned(), None, false),
            Status::Failed(e) => (
                crate::ui::room::join::describe(lang, e, &self.nick),
                None,
                true,
            ),
            Status::Out {
                departure,
                rejoin_in_secs,
            } => {
                let secs = rejoin_in_secs.map(|s| s.to_string()).unwrap_or_default();
                let words = match (&departure.exit, rejoin_in_secs) {
                    (Exit::Kicked, _) => match &departure.actor {
                        Some(actor) => trf(lang, T::RoomKicked, &[("actor", actor)]),
                        None => tr(lang, T::RoomKickedNoActor).to_owned(),
                    },
                    (Exit::Banned, _) => tr(lang, T::RoomBannedState).to_owned(),
                    (Exit::Left, _) => tr(lang, T::RoomLeftState).to_owned(),
                    (Exit::Destroyed, _) => tr(lang, T::RoomDestroyed).to_owned(),
                    (Exit::MembersOnly | Exit::AffiliationChanged, _) => {
                        tr(lang, T::RoomMembersOnlyNow).to_owned()
                    }
                    (Exit::Shutdown, Some(_)) => trf(lang, T::RoomShutdown, &[("secs", &secs)]),
                    (Exit::Lost, Some(_)) => trf(lang, T::RoomLost, &[("secs", &secs)]),
                    (Exit::Shutdown | Exit::Lost, None) => tr(lang, T::RoomLostNoRetry).to_owned(),
                };
                (
                    words,
                    departure.reason.clone(),
                    rejoin_in_secs.is_none() && departure.exit != Exit::Banned,
                )
            }
        };
        let mut body = column![text(words)].spacing(4);
        if let Some(reason) = reason {
            body = body
                .push(text(trf(lang, T::RoomReason, &[("reason", &reason)])).style(theme::muted));
        }
        let mut line = row![body.width(Length::Fill)]
            .spacing(12)
            .align_y(Alignment::Center);
        if rejoin {
            line = line.push(
                button(text(tr(lang, T::RoomRejoin)))
                    .style(theme::primary_button)
                    .on_press(Message::Rejoin),
            );
        }
        let style = match self.status {
            Status::Joining => theme::notice_box,
            _ => theme::error_box,
        };
        Some(container(line).padding(10).style(style).into())
    }

    fn occupants_view(&self, lang: Lang) -> Element<'_, Message> {
        let mut list: Vec<&Occupant> = self.occupants.values().collect();
        list.sort_by(|a, b| {
            (a.role, a.affiliation, &a.nick).cmp(&(b.role, b.affiliation, &b.nick))
        });
        let mut col = column![
            text(trf(
                lang,
                T::RoomOccupants,
                &[("count", &list.len().to_string())]
            ))
            .style(theme::heading)
        ]
        .spacing(6);
        for o in list {
            let colour = consistent_color(&o.nick);
            let detail: Vec<&str> = [
                affiliation_word(lang, o.affiliation),
                role_word(lang, o.role),
            ]
            .into_iter()
            .flatten()
            .collect();
            let mut entry = column![
                row![
                    crate::ui::room::faces::occupant(&o.nick, self.face_of(&o.nick)),
                    text(shown_name(&o.nick).into_owned()).style(theme::nick(colour)),
                ]
                .spacing(6)
                .align_y(Alignment::Center),
                text(detail.join(" · ")).size(12).style(theme::muted),
            ]
            .spacing(0);
            entry = entry.push(
                button(text(tr(lang, T::OpenProfile)).size(12))
                    .padding([0, 0])
                    .style(theme::link_button)
                    .on_press(Message::OpenProfile(o.nick.clone())),
            );
            if o.nick != self.nick && self.status == Status::Joined {
                entry = entry.push(
                    button(text(tr(lang, T::PrivateMessage)).size(12))
                        .padding([0, 0])
                        .style(theme::link_button)
                        .on_press(Message::OpenPrivate(o.nick.clone())),
                );
                let actions = self
                    .me()
                    .map(|me| moderation::allowed(me, o))
                    .unwrap_or_default();
                match &self.moderating {
                    Some(m) if m.nick == o.nick && !actions.is_empty() => {
                        entry =
                            entry.push(moderation::view(lang, m, &actions).map(Message::Moderate));
                    }
                    _ if !actions.is_empty() => {
                        entry = entry.push(
                            button(text(tr(lang, T::ModModerate)).size(12))
                                .padding([0, 0])
                                .style(theme::link_button)
                                .on_press(Message::Moderate(moderation::Message::Open(
                                    o.nick.clone(),
                                ))),
                        );
                    }
                    _ => {}
                }
            }
            col = col.push(entry);
        }
        if !self.privates.is_empty() {
            col = col.push(text(tr(lang, T::PrivateChats)).style(theme::heading));
            for (nick, p) in &self.privates {
                let mut line =
                    row![text(shown_name(nick).into_owned()).width(Length::Fill)].spacing(4);
                if p.unread > 0 {
                    line = line.push(crate::ui::widgets::unread(p.unread, false));
                }
                let selected = self.private_open.as_deref() == Some(nick.as_str());
                col = col.push(
                    button(line)
                        .width(Length::Fill)
                        .style(theme::list_item(selected))
                        .on_press(Message::OpenPrivate(nick.clone())),
                );
            }
        }
        container(scrollable(col).height(Length::Fill))
            .padding(10)
            .width(220)
            .height(Length::Fill)
            .style(theme::sidebar)
            .into()
    }

    /// The words of a line of joins, leaves and nick changes.
    fn notes_words(lang: Lang, notes: &[Note]) -> String {
        let words: Vec<String> = notes
            .iter()
            .map(|n| match n {
                Note::Joined(nick) => trf(lang, T::RoomJoinedLine, &[("nick", &shown_name(nick))]),
                Note::Left(nick) => trf(lang, T::RoomLeftLine, &[("nick", &shown_name(nick))]),
                Note::Nick { old, new } => trf(
                    lang,
                    T::RoomNickLine,
                    &[("old", &shown_name(old)), ("new", &shown_name(new))],
                ),
            })
            .collect();
        words.join(" · ")
    }

    /// The room without inline images or transfers (tests, previews of the layout).
    pub fn view(&self, lang: Lang) -> Element<'_, Message> {
        self.view_in(Context {
            lang,
            previews: None,
            transfers: None,
            avatar: None,
        })
    }

    pub fn view_in<'a>(&'a self, cx: Context<'a>) -> Element<'a, Message> {
        let lang = cx.lang;
        if let Some(profile) = self.profile_view(lang) {
            return row![profile.map(Message::Profile), self.occupants_view(lang)].into();
        }
        if let Some(nick) = &self.private_open
            && let Some(p) = self.privates.get(nick)
        {
            let present = self.occupants.contains_key(nick);
            let main = p
                .view(
                    lang,
                    cx.previews,
                    &self.jid,
                    nick,
                    present,
                    self.status == Status::Joined,
                )
                .map(Message::Private);
            return row![
                iced::widget::container(main).width(Length::Fill),
                self.occupants_view(lang)
            ]
            .into();
        }
        let subject = match &self.subject {
            Some(s) => text(s.clone()),
            None => text(tr(lang, T::RoomNoSubject)).style(theme::muted),
        };
        let header = container(
            column![
                row![
                    crate::ui::room::faces::header(&self.jid, cx.avatar),
                    text(self.jid.to_string()).size(18).style(theme::heading),
                    container(text(tr(lang, T::RoomBadge)).size(12))
                        .padding([1, 6])
                        .style(theme::tag),
                    iced::widget::space().width(Length::Fill),
                    self.encryption.lock_view(lang).map(Message::Encryption),
                ]
                .spacing(8)
                .align_y(Alignment::Center),
                subject,
                edit_bar::tools_view(self, lang),
            ]
            .spacing(4),
        )
        .padding(12)
        .width(Length::Fill)
        .style(theme::bar);
        let top = match self.older {
            Older::Available if !self.lines.is_empty() => Some(timeline::Top::LoadOlder),
            Older::Loading => Some(timeline::Top::Loading),
            _ if self.lines.is_empty() => Some(timeline::Top::Empty),
            Older::Available | Older::Exhausted => None,
        };
        let list_cx = timeline::Context {
            lang,
            kind: timeline::Kind::Room,
            peer_label: self.jid.to_string(),
            previews: cx.previews,
            actions: Some(&self.actions),
            moderator: self.is_moderator(),
            faces: Some(&self.faces),
        };
        let room_name = self.jid.to_string();
        let entries = self.lines.iter().map(|line| match line {
            // OMEMO's notices (a member's new device, a changed key) are note lines.
            Line::Chat(m) => crate::ui::chat::encryption::entry(lang, &room_name, m),
            Line::Notes(notes) => timeline::Entry::Note(Self::notes_words(lang, notes)),
        });
        let (list, keys) = timeline::keyed_list(
            &list_cx,
            entries,
            &self.unfolded,
            &[],
            top,
            self.unread_from.as_ref(),
        );
        let list = list.map(Message::from);
        let mut main = column![header].spacing(0);
        if let Some(panel) = self.encryption.panel(lang, self.jid.as_str()) {
            main = main.push(panel.map(Message::Encryption));
        }
        if let Some(status) = self.status_view(lang) {
            main = main.push(container(status).padding(8));
        }
        let list = scrollable(list)
            .id(LIST_ID)
            .anchor_bottom()
            .on_scroll(Message::Scrolled)
            .height(Length::Fill)
            .width(Length::Fill);
        // Pages come and go at both ends: what the reader reads stays put, unless
        // they follow the newest end.
        main = main.push(timeline::anchored(
            list,
            keys,
            !self.following || self.in_window(),
        ));
        if let Some(bar) = self.window_bar(lang) {
            main = main.push(bar);
        }
        if let Some(transfers) = cx.transfers {
            main = main.push(transfers.map(Message::Transfers));
        }
        let room_name = self.jid.node().map(|n| n.to_string()).unwrap_or_default();
        let composer = timeline::composer(
            lang,
            &self.composer,
            COMPOSER_ID,
            trf(lang, T::RoomComposerPlaceholder, &[("room", &room_name)]),
            self.status == Status::Joined,
            true,
            &self.actions,
        )
        .map(Message::from);
        let mut bar = column![].spacing(6);
        if let Some(line) = self.typing.line(lang, "") {
            bar = bar.push(text(line).size(12).style(theme::muted));
        }
        if let Some(compose) = self.actions.bar(lang, timeline::Kind::Room, "") {
            bar = bar.push(compose.map(Message::from));
        }
        main = main.push(
            container(bar.push(composer))
                .padding(10)
                .width(Length::Fill)
                .style(theme::bar),
        );
        row![main.width(Length::Fill), self.occupants_view(lang)].into()
    }
}
