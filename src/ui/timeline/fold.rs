//! Long message bodies, folded: the timeline draws the first [`FOLD_CHARS`] characters
//! or [`FOLD_LINES`] lines of a body, whichever comes first, with "Show more (N more
//! characters)"; the reader unfolds one message at a time. Laying out and drawing a
//! 100 kB body took seconds a frame and froze scrolling (issue 14); a folded one costs
//! what an ordinary message costs. Also the note on a body cut by the storage limit
//! (`xmpp::message::MAX_BODY_BYTES`). Used by every place that draws message bodies:
//! the chat timeline, room lines and room private chats.

use crate::model::ChatMessage;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use crate::xmpp::message::MAX_BODY_BYTES;
use iced::Element;
use iced::widget::text::Wrapping;
use iced::widget::{button, column, text};

/// Most characters of a body drawn while it is folded.
pub const FOLD_CHARS: usize = 2_000;
/// Most lines of a body drawn while it is folded.
pub const FOLD_LINES: usize = 40;

/// A body too long to draw whole by default: the part shown folded, and how many
/// characters it leaves out. `None` when the body is short enough to show whole.
/// Looks at no more than [`FOLD_CHARS`] characters (plus a count of the rest).
pub fn fold(body: &str) -> Option<(&str, usize)> {
    let mut lines = 1;
    let mut cut = None;
    for (n, (at, c)) in body.char_indices().enumerate() {
        if n == FOLD_CHARS {
            cut = Some(at);
            break;
        }
        if c == '\n' {
            lines += 1;
            if lines > FOLD_LINES {
                cut = Some(at);
                break;
            }
        }
    }
    let at = cut?;
    let (shown, hidden) = body.split_at(at);
    Some((shown.trim_end(), hidden.chars().count()))
}

/// Plain body text that breaks a word longer than the bubble (a link, or a hostile
/// 100 kB "word") instead of running past the bubble's edge.
pub fn plain<'a, M: 'a>(shown: &'a str) -> Element<'a, M> {
    text(shown).wrapping(Wrapping::WordOrGlyph).into()
}

/// What the timeline says in place of an OMEMO message it could not decrypt.
pub fn undecryptable_text(lang: Lang, why: crate::session::omemo::Undecryptable) -> String {
    use crate::session::omemo::Undecryptable as U;
    let reason = match why {
        U::NoSession => T::OmemoNoSession,
        U::NotForThisDevice => T::OmemoNotForThisDevice,
        U::BadMac => T::OmemoBadMac,
        U::Altered => T::OmemoAltered,
        U::UntrustedIdentity => T::OmemoUntrustedIdentity,
        U::UnknownSender => T::OmemoUnknownSender,
        U::WrongSender => T::OmemoWrongSender,
        U::Other => T::OmemoDamaged,
    };
    trf(lang, T::OmemoUndecryptable, &[("reason", tr(lang, reason))])
}

/// `body` with an OMEMO marker (an undecryptable message, a new device, a changed key;
/// also after a room's "nick: " prefix in the conversation list) put in words, for the
/// list and notifications.
pub fn readable_body(lang: Lang, body: &str) -> std::borrow::Cow<'_, str> {
    use crate::session::omemo::trust;
    let Some(at) = body.find("\u{1F512}omemo-") else {
        return body.into();
    };
    let (before, marker) = body.split_at(at);
    let words = if let Some((id, _)) = trust::new_device(marker) {
        trf(lang, T::EncNewDeviceShort, &[("id", &id.to_string())])
    } else if let Some((id, _, _)) = trust::key_changed(marker) {
        trf(lang, T::EncKeyChangedShort, &[("id", &id.to_string())])
    } else if let Some(why) = crate::session::omemo::undecryptable(marker) {
        undecryptable_text(lang, why)
    } else {
        return body.into();
    };
    format!("{before}{words}").into()
}

/// A message's body as the timeline shows it: `draw` makes the text widget from the
/// part to show (the whole body, or its start while folded), followed by the
/// "Show more" / "Show less" button (`toggle(true)` unfolds) and the storage note.
pub fn body<'a, M: Clone + 'a>(
    lang: Lang,
    message: &'a ChatMessage,
    expanded: bool,
    draw: impl FnOnce(&'a str) -> Element<'a, M>,
    toggle: impl Fn(bool) -> M,
) -> Element<'a, M> {
    // An OMEMO message that could not be decrypted: why, never a fallback text.
    if let Some(why) = crate::session::omemo::undecryptable(&message.body) {
        return text(undecryptable_text(lang, why))
            .style(theme::warning_text)
            .into();
    }
    let folded = fold(&message.body);
    if folded.is_none() && !message.truncated {
        return draw(&message.body);
    }
    let mut parts = column![].spacing(4);
    match folded {
        Some((shown, hidden)) if !expanded => {
            parts = parts.push(draw(shown)).push(
                button(text(trf(lang, T::ShowMore, &[("count", &hidden.to_string())])).size(12))
                    .padding([2, 0])
                    .style(theme::link_button)
                    .on_press(toggle(true)),
            );
        }
        Some(_) => {
            parts = parts.push(draw(&message.body)).push(
                button(text(tr(lang, T::ShowLess)).size(12))
                    .padding([2, 0])
                    .style(theme::link_button)
                    .on_press(toggle(false)),
            );
        }
        None => parts = parts.push(draw(&message.body)),
    }
    if message.truncated {
        parts = parts.push(
            text(trf(
                lang,
                T::MessageCut,
                &[("size", &(MAX_BODY_BYTES / 1024).to_string())],
            ))
            .size(12)
            .style(theme::warning_text),
        );
    }
    parts.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_bodies_are_not_folded() {
        assert_eq!(fold("hello"), None);
        assert_eq!(fold(&"x".repeat(FOLD_CHARS)), None);
        assert_eq!(fold(&"line\n".repeat(FOLD_LINES - 1)), None);
    }

    #[test]
    fn a_long_body_folds_at_the_character_limit_on_a_char_boundary() {
        let body = "枇".repeat(FOLD_CHARS + 500);
        let (shown, hidden) = fold(&body).unwrap();
        assert_eq!(shown.chars().count(), FOLD_CHARS);
        assert_eq!(hidden, 500);
    }

    #[test]
    fn many_short_lines_fold_at_the_line_limit() {
        let body = "a line\n".repeat(100);
        let (shown, hidden) = fold(&body).unwrap();
        assert_eq!(shown.lines().count(), FOLD_LINES);
        assert_eq!(hidden, body.chars().count() - FOLD_LINES * 7 + 1);
    }
}

#[cfg(test)]
mod readable_tests {
    use super::*;
    use crate::session::omemo::{UNDECRYPTABLE_MARKER, Undecryptable};

    #[test]
    fn undecryptable_markers_are_put_in_words_for_lists_and_notifications() {
        let marker = format!("{UNDECRYPTABLE_MARKER}bad-mac");
        let words = undecryptable_text(Lang::En, Undecryptable::BadMac);
        assert_eq!(readable_body(Lang::En, &marker), words);
        assert_eq!(
            readable_body(Lang::En, &format!("carol: {marker}")),
            format!("carol: {words}")
        );
        assert!(!readable_body(Lang::ZhCn, &marker).contains("omemo-undecryptable"));
        assert_eq!(readable_body(Lang::En, "lunch?"), "lunch?");
    }
}
