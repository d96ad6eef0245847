//! What modern clients do to messages, drawn under and inside the bubble: the
//! "edited" mark (with the earlier texts on hover), reactions with their counts (who
//! on hover, ours highlighted, a click toggles ours), and the line that stands for a
//! message deleted by its sender or removed by a room moderator.

use crate::model::ChatMessage;
use crate::model::extras::Retraction;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use crate::ui::timeline::Message;
use iced::widget::{button, column, container, row, text, tooltip};
use iced::{Alignment, Element};

/// One emoji under a message: how many reacted with it, whether we did, and who.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub emoji: String,
    pub count: usize,
    pub mine: bool,
    pub who: Vec<String>,
}

/// The reactions of a message grouped by emoji, in the order they first appear.
/// `me`: what we are called; `peer`: the contact's name in a chat (reactors there have
/// no nick).
pub fn tallies(message: &ChatMessage, me: &str, peer: &str) -> Vec<Tally> {
    let mut out: Vec<Tally> = Vec::new();
    for r in &message.extras.reactions {
        let name = if r.mine {
            me.to_owned()
        } else if r.name.is_empty() {
            peer.to_owned()
        } else {
            r.name.clone()
        };
        for emoji in &r.emojis {
            match out.iter_mut().find(|t| &t.emoji == emoji) {
                Some(t) => {
                    t.count += 1;
                    t.mine |= r.mine;
                    if !t.who.contains(&name) {
                        t.who.push(name.clone());
                    }
                }
                None => out.push(Tally {
                    emoji: emoji.clone(),
                    count: 1,
                    mine: r.mine,
                    who: vec![name.clone()],
                }),
            }
        }
    }
    out
}

/// Our whole set of reactions after a click on `emoji`: added, or taken away when it
/// was ours (the protocol sends the whole set each time).
pub fn toggled(message: &ChatMessage, emoji: &str) -> Vec<String> {
    let mut mine: Vec<String> = message
        .extras
        .reactions
        .iter()
        .filter(|r| r.mine)
        .flat_map(|r| r.emojis.iter().cloned())
        .collect();
    mine.dedup();
    match mine.iter().position(|e| e == emoji) {
        Some(i) => {
            mine.remove(i);
        }
        None => mine.push(emoji.to_owned()),
    }
    mine
}

/// The line in place of a retracted or moderated message's text.
pub fn retracted(lang: Lang, r: &Retraction) -> Element<'static, Message> {
    let words = match (r.moderated, &r.by, &r.reason) {
        (false, _, _) => tr(lang, T::MessageDeleted).to_owned(),
        (true, _, Some(reason)) => trf(lang, T::MessageModeratedWhy, &[("reason", reason)]),
        (true, _, None) => tr(lang, T::MessageModerated).to_owned(),
    };
    text(words).size(14).style(theme::muted).into()
}

/// "edited", with the earlier texts in a tooltip.
pub fn edited<'a>(lang: Lang, message: &'a ChatMessage) -> Option<Element<'a, Message>> {
    if !message.edited() {
        return None;
    }
    let mut earlier = column![
        text(tr(lang, T::MessageEarlier))
            .size(11)
            .style(theme::muted)
    ]
    .spacing(2)
    .max_width(360);
    for v in message.earlier_versions() {
        earlier = earlier.push(text(v.body.as_str()).size(12));
    }
    Some(
        tooltip(
            text(tr(lang, T::MessageEdited))
                .size(11)
                .style(theme::muted),
            container(earlier).padding(6).style(theme::tag),
            tooltip::Position::Top,
        )
        .into(),
    )
}

/// The reactions under a message: one chip per emoji; who reacted on hover; a click
/// toggles ours.
pub fn reactions<'a>(
    lang: Lang,
    message: &'a ChatMessage,
    peer: &str,
) -> Option<Element<'a, Message>> {
    let tallies = tallies(message, tr(lang, T::Me), peer);
    if tallies.is_empty() {
        return None;
    }
    let mut chips = row![].spacing(4).align_y(Alignment::Center);
    for t in tallies {
        let label = format!("{} {}", t.emoji, t.count);
        let chip = button(text(label).size(13))
            .padding([1, 6])
            .style(theme::pill(t.mine))
            .on_press(Message::React(message.id.clone(), t.emoji.clone()));
        chips = chips.push(tooltip(
            chip,
            container(text(t.who.join(", ")).size(12))
                .padding(4)
                .style(theme::tag),
            tooltip::Position::Top,
        ));
    }
    Some(chips.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::extras::Reactions;

    fn with(reactions: Vec<(&str, &str, bool, &[&str])>) -> ChatMessage {
        let mut m = ChatMessage {
            id: crate::ids::LocalMessageId("m1".into()),
            account: crate::ids::AccountId("acc".into()),
            conversation: crate::ids::ConversationId::Chat(
                xmpp_parsers::jid::BareJid::new("bob@example.org").expect("jid"),
            ),
            direction: crate::model::Direction::Incoming,
            sender: String::new(),
            body: "hello".into(),
            timestamp_ms: 1,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: crate::model::Delivery::Delivered,
            attachment: None,
            truncated: false,
            extras: Default::default(),
        };
        m.extras.reactions = reactions
            .into_iter()
            .map(|(reactor, name, mine, emojis)| Reactions {
                reactor: reactor.into(),
                name: name.into(),
                mine,
                emojis: emojis.iter().map(|e| e.to_string()).collect(),
                at_ms: 0,
            })
            .collect();
        m
    }

    #[test]
    fn reactions_are_counted_per_emoji_with_who_and_ours() {
        let m = with(vec![
            ("nick:bob", "bob", false, &["👍", "🎉"]),
            ("nick:carol", "carol", false, &["👍"]),
            ("me", "", true, &["👍"]),
        ]);
        let t = tallies(&m, "Me", "Bob");
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[0].emoji.as_str(), t[0].count, t[0].mine),
            ("👍", 3, true)
        );
        assert_eq!(t[0].who, vec!["bob", "carol", "Me"]);
        assert_eq!(
            (t[1].emoji.as_str(), t[1].count, t[1].mine),
            ("🎉", 1, false)
        );
    }

    #[test]
    fn a_click_adds_or_takes_away_ours_and_keeps_the_rest_of_our_set() {
        let m = with(vec![("bob", "", false, &["👍"]), ("me", "", true, &["❤"])]);
        assert_eq!(toggled(&m, "👍"), vec!["❤", "👍"]);
        assert_eq!(toggled(&m, "❤"), Vec::<String>::new());
    }
}
