//! When a message deserves a desktop notification, and what its text may say. Pure
//! policy: the UI asks, a notification backend shows.

use crate::ids::{AccountId, ConversationId};
use crate::model::{ChatMessage, Direction, Show};

/// Longest preview shown in a notification, in characters.
pub const PREVIEW_CHARS: usize = 140;

/// What the UI knows at the moment a message arrives.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub window_focused: bool,
    /// The conversation on screen, if any.
    pub open: Option<(&'a AccountId, &'a ConversationId)>,
    /// Our own presence on the account the message came to.
    pub own_presence: Show,
    /// The user muted this conversation.
    pub muted: bool,
    /// The message mentions our nickname (rooms).
    pub mention: bool,
    /// The sender is a stranger: the chat is a request (`crate::quiet`), which never
    /// notifies.
    pub stranger: bool,
}

/// Should `msg` raise a desktop notification?
pub fn should_notify(msg: &ChatMessage, ctx: &Context<'_>) -> bool {
    if msg.direction != Direction::Incoming {
        return false;
    }
    let on_screen = ctx.window_focused
        && ctx
            .open
            .is_some_and(|(a, c)| *a == msg.account && *c == msg.conversation());
    if on_screen {
        return false;
    }
    if ctx.own_presence == Show::DoNotDisturb {
        return false;
    }
    if ctx.stranger && !msg.conversation.in_room() {
        return false;
    }
    if msg.conversation.is_room() {
        // In rooms only mentions notify, and a mute silences even those.
        return ctx.mention && !ctx.muted;
    }
    !ctx.muted
}

/// A one-line, plain-text preview: control and bidirectional-override characters
/// removed, whitespace collapsed, markup characters escaped (notification servers
/// interpret a subset of HTML), at most [`PREVIEW_CHARS`] characters.
pub fn preview(body: &str) -> String {
    let mut out = String::new();
    let mut count = 0;
    let mut last_space = true;
    for c in body.chars() {
        if is_bidi_control(c) {
            continue;
        }
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        if count == PREVIEW_CHARS {
            out = out.trim_end().to_owned();
            out.push('…');
            return out;
        }
        count += 1;
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out.trim_end().to_owned()
}

/// A name from the network (a room nickname) as shown, alone or inside a sentence:
/// bidirectional controls removed, so a nick cannot reverse the words around it or pose
/// as another name ("\u{202E}nimda" reads as "admin"). Borrowed when there are none.
pub fn shown_name(name: &str) -> std::borrow::Cow<'_, str> {
    if name.chars().any(is_bidi_control) {
        std::borrow::Cow::Owned(name.chars().filter(|c| !is_bidi_control(*c)).collect())
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

/// Characters that reorder text and can make a preview lie about what it says.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::LocalMessageId;
    use crate::model::Delivery;
    use xmpp_parsers::jid::BareJid;

    fn msg(direction: Direction, is_room: bool) -> ChatMessage {
        ChatMessage {
            truncated: false,
            extras: Default::default(),
            id: LocalMessageId("m".into()),
            account: AccountId("a".into()),
            conversation: {
                let peer = BareJid::new("bob@example.org").unwrap_or_else(|_| unreachable!());
                if is_room {
                    ConversationId::Room(peer)
                } else {
                    ConversationId::Chat(peer)
                }
            },
            direction,
            sender: String::new(),
            body: "hi".into(),
            timestamp_ms: 0,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
        }
    }

    fn ctx<'a>(open: Option<(&'a AccountId, &'a ConversationId)>, focused: bool) -> Context<'a> {
        Context {
            window_focused: focused,
            open,
            own_presence: Show::Online,
            muted: false,
            mention: false,
            stranger: false,
        }
    }

    /// A stranger's chat is a request: it never notifies (issue #18).
    #[test]
    fn strangers_do_not_notify() {
        let m = msg(Direction::Incoming, false);
        let mut c = ctx(None, false);
        assert!(should_notify(&m, &c));
        c.stranger = true;
        assert!(!should_notify(&m, &c));
    }

    #[test]
    fn on_screen_or_own_messages_do_not_notify() {
        let m = msg(Direction::Incoming, false);
        let conv = m.conversation();
        assert!(!should_notify(&m, &ctx(Some((&m.account, &conv)), true)));
        // Same conversation but the window is in the background: notify.
        assert!(should_notify(&m, &ctx(Some((&m.account, &conv)), false)));
        // Same peer on another account is another conversation.
        let other = AccountId("b".into());
        assert!(should_notify(&m, &ctx(Some((&other, &conv)), true)));
        assert!(!should_notify(
            &msg(Direction::Outgoing, false),
            &ctx(None, false)
        ));
    }

    #[test]
    fn mute_dnd_and_rooms() {
        let m = msg(Direction::Incoming, false);
        let mut c = ctx(None, false);
        c.muted = true;
        assert!(!should_notify(&m, &c));
        let mut c = ctx(None, false);
        c.own_presence = Show::DoNotDisturb;
        assert!(!should_notify(&m, &c));
        let room = msg(Direction::Incoming, true);
        let mut c = ctx(None, false);
        assert!(!should_notify(&room, &c), "ordinary room traffic is quiet");
        c.mention = true;
        assert!(should_notify(&room, &c));
    }

    #[test]
    fn preview_is_plain_short_and_honest() {
        assert_eq!(
            preview("  hello\n\n  <b>world</b> & co "),
            "hello &lt;b&gt;world&lt;/b&gt; &amp; co"
        );
        assert_eq!(preview("pay \u{202E}gpj.exe"), "pay gpj.exe");
        let long = "字".repeat(500);
        let p = preview(&long);
        assert_eq!(p.chars().count(), PREVIEW_CHARS + 1);
        assert!(p.ends_with('…'));
    }

    #[test]
    fn shown_names_lose_bidi_controls() {
        assert_eq!(shown_name("\u{202E}nimda"), "nimda");
        assert_eq!(shown_name("a\u{2066}b\u{2069}\u{200F}c\u{061C}"), "abc");
        assert!(matches!(
            shown_name("plain 名字"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
