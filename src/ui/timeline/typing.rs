//! "Typing…" both ways (XEP-0085): who is writing in the open conversation, in words
//! ("Bob is typing…", "A and B are typing…"), and when to tell the other side that we
//! are (once on the first keystroke, then at most every [`COMPOSING_EVERY`] while we go
//! on; "paused" after [`PAUSED_AFTER`] without a keystroke or when the composer is
//! emptied; the message itself says we are active again).

use crate::session::ChatState;
use crate::ui::i18n::{Lang, T, tr, trf};
use std::time::{Duration, Instant};

/// How often "composing" goes out again while we keep typing.
pub const COMPOSING_EVERY: Duration = Duration::from_secs(10);
/// How long after the last keystroke "paused" goes out (XEP-0085 suggests 5 s... 30 s).
pub const PAUSED_AFTER: Duration = Duration::from_secs(5);

/// Who is typing, by the name shown (empty: the contact of a chat).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Typing {
    who: Vec<String>,
}

impl Typing {
    /// Someone's chat state changed.
    pub fn set(&mut self, name: &str, state: ChatState) {
        self.who.retain(|w| w != name);
        if state == ChatState::Composing {
            self.who.push(name.to_owned());
        }
    }

    /// A message from them arrived: they stopped typing it.
    pub fn clear(&mut self, name: &str) {
        self.who.retain(|w| w != name);
    }

    /// The line under the messages, or `None` when nobody types. `contact`: what a
    /// nameless typer (the chat's contact) is called.
    pub fn line(&self, lang: Lang, contact: &str) -> Option<String> {
        let name = |w: &String| {
            if w.is_empty() {
                contact.to_owned()
            } else {
                // A nick must not turn the sentence around it (issue #20).
                crate::notify::shown_name(w).into_owned()
            }
        };
        match self.who.as_slice() {
            [] => None,
            [one] => Some(trf(lang, T::TypingOne, &[("who", &name(one))])),
            [a, b] => Some(trf(lang, T::TypingTwo, &[("a", &name(a)), ("b", &name(b))])),
            _ => Some(tr(lang, T::TypingMany).to_owned()),
        }
    }
}

/// When our own "composing" and "paused" go out.
#[derive(Debug, Clone, Default)]
pub struct Composing {
    last: Option<Instant>,
    /// The last keystroke since we said "composing" (none once we said "paused" or
    /// sent the message).
    typed: Option<Instant>,
}

impl Composing {
    /// A keystroke that changed the text at `now`: true when "composing" should be
    /// sent (the first one, or [`COMPOSING_EVERY`] after the last one sent).
    pub fn keystroke(&mut self, now: Instant) -> bool {
        let due = self
            .last
            .is_none_or(|at| now.duration_since(at) >= COMPOSING_EVERY);
        if due {
            self.last = Some(now);
        }
        self.typed = Some(now);
        due
    }

    /// The composer was emptied: true when "paused" should be sent (we had said
    /// "composing").
    pub fn emptied(&mut self) -> bool {
        self.last = None;
        self.typed.take().is_some()
    }

    /// Time passed: true when "paused" should be sent ([`PAUSED_AFTER`] since the last
    /// keystroke after "composing").
    pub fn tick(&mut self, now: Instant) -> bool {
        if self
            .typed
            .is_some_and(|at| now.duration_since(at) >= PAUSED_AFTER)
        {
            self.typed = None;
            self.last = None;
            return true;
        }
        false
    }

    /// "Paused" is still to come: the conversation needs a clock tick.
    pub fn waiting(&self) -> bool {
        self.typed.is_some()
    }

    /// The message went out (it carries "active"): the next keystroke starts anew.
    pub fn sent(&mut self) {
        self.last = None;
        self.typed = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_types_is_said_in_words_and_stops_with_their_message() {
        let mut t = Typing::default();
        assert_eq!(t.line(Lang::En, "Bob"), None);
        t.set("", ChatState::Composing);
        assert_eq!(t.line(Lang::En, "Bob").as_deref(), Some("Bob is typing…"));
        t.clear("");
        t.set("anna", ChatState::Composing);
        t.set("ben", ChatState::Composing);
        assert_eq!(
            t.line(Lang::En, "").as_deref(),
            Some("anna and ben are typing…")
        );
        t.set("cleo", ChatState::Composing);
        assert_eq!(t.line(Lang::ZhCn, "").as_deref(), Some("好几个人正在输入…"));
        t.set("cleo", ChatState::Paused);
        t.set("ben", ChatState::Gone);
        assert_eq!(t.line(Lang::En, "").as_deref(), Some("anna is typing…"));
    }

    #[test]
    fn composing_goes_out_once_then_every_ten_seconds_and_again_after_a_send() {
        let mut c = Composing::default();
        let t0 = Instant::now();
        assert!(c.keystroke(t0));
        assert!(!c.keystroke(t0 + Duration::from_secs(3)));
        assert!(!c.keystroke(t0 + Duration::from_secs(9)));
        assert!(c.keystroke(t0 + Duration::from_secs(10)));
        c.sent();
        assert!(c.keystroke(t0 + Duration::from_secs(11)));
    }

    #[test]
    fn a_nick_cannot_turn_the_typing_line_around() {
        let mut typing = Typing::default();
        typing.set("\u{202E}bob", ChatState::Composing);
        assert_eq!(
            typing.line(Lang::En, "x").as_deref(),
            Some("bob is typing…")
        );
    }

    #[test]
    fn paused_goes_out_five_seconds_after_the_last_keystroke_or_when_emptied() {
        let mut c = Composing::default();
        let t0 = Instant::now();
        assert!(!c.tick(t0), "nothing typed, nothing to pause");
        assert!(!c.waiting());
        assert!(c.keystroke(t0));
        assert!(c.waiting());
        assert!(!c.keystroke(t0 + Duration::from_secs(3)));
        assert!(
            !c.tick(t0 + Duration::from_secs(7)),
            "5 s after the last one"
        );
        assert!(c.tick(t0 + Duration::from_secs(8)));
        assert!(!c.tick(t0 + Duration::from_secs(20)), "once");
        // Typing again says "composing" again at once.
        assert!(c.keystroke(t0 + Duration::from_secs(21)));
        assert!(c.emptied());
        assert!(!c.emptied());
        assert!(!c.tick(t0 + Duration::from_secs(60)));
        // A sent message carries "active": no "paused" after it.
        assert!(c.keystroke(t0 + Duration::from_secs(61)));
        c.sent();
        assert!(!c.tick(t0 + Duration::from_secs(70)));
    }
}
