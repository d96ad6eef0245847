//! Moderating one occupant from the room's occupant list: kick and ban with a reason,
//! take or give voice, make or remove a moderator (XEP-0045 §8-9). Only what our own
//! role and affiliation allow is offered; the room has the last word, and a refusal
//! shows in words above the messages (`Room::refusal`).

use crate::session::Command;
use crate::session::rooms::{Affiliation, Occupant, Role};
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use iced::widget::{Id, button, column, container, text, text_input};
use iced::{Element, Length};
use xmpp_parsers::jid::BareJid;

/// The widget id of the reason field.
pub const REASON_ID: &str = "moderation-reason";

/// The occupant being moderated, and the reason typed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moderating {
    pub nick: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Kick,
    Ban,
    /// Give (true) or take (false) voice.
    Voice(bool),
    /// Make (true) or remove (false) a moderator.
    Moderator(bool),
    /// Block the occupant's real address (XEP-0191), when the room shows it: for
    /// anyone, not only moderators.
    Block,
}

#[derive(Debug, Clone)]
pub enum Message {
    Open(String),
    Reason(String),
    Act(Action),
    Close,
}

/// What we may do to `target`, given our own occupant entry.
pub fn allowed(me: &Occupant, target: &Occupant) -> Vec<Action> {
    let mut actions = Vec::new();
    if me.nick == target.nick {
        return actions;
    }
    let admin = matches!(me.affiliation, Affiliation::Owner | Affiliation::Admin);
    // Owners and admins cannot be kicked or muted by a moderator; the room would refuse.
    let protected = matches!(target.affiliation, Affiliation::Owner | Affiliation::Admin);
    if me.role == Role::Moderator && !protected {
        actions.push(Action::Kick);
        match target.role {
            Role::Visitor => actions.push(Action::Voice(true)),
            Role::Participant => actions.push(Action::Voice(false)),
            Role::Moderator | Role::None => {}
        }
    }
    if admin && !protected {
        match target.role {
            Role::Moderator => actions.push(Action::Moderator(false)),
            Role::Participant | Role::Visitor => actions.push(Action::Moderator(true)),
            Role::None => {}
        }
        if target.real_jid.is_some() {
            actions.push(Action::Ban);
        }
    }
    if target.real_jid.is_some() {
        actions.push(Action::Block);
    }
    actions
}

/// The command for `action` on `target` in `room` (`None` for a ban without a known
/// address).
pub fn command(room: &BareJid, target: &Occupant, action: Action, reason: &str) -> Option<Command> {
    let reason = Some(reason.trim().to_owned()).filter(|r| !r.is_empty());
    let role = |role| Command::SetRole {
        room: room.clone(),
        nick: target.nick.clone(),
        role,
        reason: reason.clone(),
    };
    Some(match action {
        Action::Kick => role(Role::None),
        Action::Voice(true) => role(Role::Participant),
        Action::Voice(false) => role(Role::Visitor),
        Action::Moderator(true) => role(Role::Moderator),
        // Back to an ordinary occupant with voice.
        Action::Moderator(false) => role(Role::Participant),
        Action::Ban => Command::SetAffiliation {
            room: room.clone(),
            jid: target.real_jid.clone()?,
            affiliation: Affiliation::Outcast,
            reason,
        },
        Action::Block => Command::Block {
            jids: vec![xmpp_parsers::jid::Jid::from(target.real_jid.clone()?)],
            report: false,
        },
    })
}

fn label(action: Action) -> T {
    match action {
        Action::Kick => T::ModKick,
        Action::Ban => T::ModBan,
        Action::Voice(true) => T::ModVoiceGive,
        Action::Voice(false) => T::ModVoiceTake,
        Action::Moderator(true) => T::ModMakeModerator,
        Action::Moderator(false) => T::ModRemoveModerator,
        Action::Block => T::Block,
    }
}

/// The box under the occupant: reason and the actions allowed.
pub fn view<'a>(lang: Lang, state: &'a Moderating, actions: &[Action]) -> Element<'a, Message> {
    let mut col = column![
        text(trf(
            lang,
            T::ModHeading,
            &[("nick", &crate::notify::shown_name(&state.nick))]
        ))
        .size(12)
        .style(theme::muted),
        text_input(tr(lang, T::ModReason), &state.reason)
            .id(Id::new(REASON_ID))
            .on_input(Message::Reason)
            .size(13)
            .style(theme::input),
    ]
    .spacing(4);
    for action in actions {
        let style = match action {
            Action::Kick | Action::Ban => theme::danger_button,
            _ => theme::secondary_button,
        };
        col = col.push(
            button(text(tr(lang, label(*action))).size(12))
                .width(Length::Fill)
                .style(style)
                .on_press(Message::Act(*action)),
        );
    }
    col = col.push(
        button(text(tr(lang, T::Cancel)).size(12))
            .style(theme::link_button)
            .on_press(Message::Close),
    );
    container(col).padding(6).style(theme::card).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Show;

    fn occupant(nick: &str, role: Role, affiliation: Affiliation, jid: bool) -> Occupant {
        Occupant {
            nick: nick.into(),
            role,
            affiliation,
            real_jid: jid.then(|| BareJid::new(&format!("{nick}@example.org")).unwrap()),
            show: Show::Online,
        }
    }

    #[test]
    fn only_what_our_role_and_affiliation_allow_is_offered() {
        let owner = occupant("o", Role::Moderator, Affiliation::Owner, true);
        let moderator = occupant("m", Role::Moderator, Affiliation::Member, true);
        let visitor = occupant("v", Role::Visitor, Affiliation::None, true);
        let anonymous = occupant("a", Role::Participant, Affiliation::None, false);
        let admin = occupant("ad", Role::Moderator, Affiliation::Admin, true);
        assert_eq!(
            allowed(&owner, &visitor),
            [
                Action::Kick,
                Action::Voice(true),
                Action::Moderator(true),
                Action::Ban,
                Action::Block
            ]
        );
        assert_eq!(
            allowed(&moderator, &anonymous),
            [Action::Kick, Action::Voice(false)]
        );
        assert_eq!(
            allowed(&owner, &anonymous),
            [Action::Kick, Action::Voice(false), Action::Moderator(true)],
            "no ban without the address"
        );
        assert_eq!(
            allowed(&moderator, &admin),
            [Action::Block],
            "anyone may block an address the room shows"
        );
        assert!(allowed(&visitor, &anonymous).is_empty());
        assert!(allowed(&owner, &owner).is_empty());
        let room = BareJid::new("tea@conference.example.org").unwrap();
        assert!(matches!(
            command(&room, &visitor, Action::Block, ""),
            Some(Command::Block { jids, report: false }) if jids.len() == 1 && jids[0].to_string() == "v@example.org"
        ));
        assert!(command(&room, &anonymous, Action::Block, "").is_none());
        assert!(matches!(
            command(&room, &visitor, Action::Ban, " spam "),
            Some(Command::SetAffiliation { affiliation: Affiliation::Outcast, reason: Some(r), .. }) if r == "spam"
        ));
        assert!(matches!(
            command(&room, &visitor, Action::Voice(true), ""),
            Some(Command::SetRole {
                role: Role::Participant,
                reason: None,
                ..
            })
        ));
        assert!(command(&room, &anonymous, Action::Ban, "").is_none());
    }
}
