//! Window-wide keyboard shortcuts: which key press means what. The mapping is a pure
//! function (tested below); the subscription turns key presses into [`Action`]s.

use iced::keyboard::{Event, Key, Modifiers, key::Named};
use iced::{Subscription, event};

/// What a shortcut asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Ctrl+K: the quick switcher.
    Switcher,
    /// Alt+Up / Alt+Down: the previous / next conversation in the sidebar.
    Previous,
    Next,
    /// Ctrl+W: close the open conversation.
    CloseConversation,
    /// Esc: close the topmost dialog.
    Escape,
    /// Ctrl+Shift+F: search all history.
    Search,
    /// Ctrl+F: search the open conversation.
    SearchHere,
    /// Ctrl+Q: quit.
    Quit,
    /// F1 or Ctrl+?: the list of shortcuts.
    Help,
    /// Plain Up / Down: move the selection in the switcher (ignored elsewhere).
    Up,
    Down,
}

/// The action of a key press, if it is a shortcut.
pub fn action(key: &Key, modifiers: Modifiers) -> Option<Action> {
    // Ctrl on Linux and Windows, Cmd on macOS.
    let command = modifiers.command();
    match key {
        Key::Named(Named::F1) => Some(Action::Help),
        Key::Named(Named::Escape) if modifiers.is_empty() => Some(Action::Escape),
        Key::Named(Named::ArrowUp) if modifiers.alt() && !command => Some(Action::Previous),
        Key::Named(Named::ArrowDown) if modifiers.alt() && !command => Some(Action::Next),
        Key::Named(Named::ArrowUp) if modifiers.is_empty() => Some(Action::Up),
        Key::Named(Named::ArrowDown) if modifiers.is_empty() => Some(Action::Down),
        Key::Character(c) if command && !modifiers.alt() => match c.to_lowercase().as_str() {
            "k" => Some(Action::Switcher),
            "f" if modifiers.shift() => Some(Action::Search),
            "f" => Some(Action::SearchHere),
            "w" => Some(Action::CloseConversation),
            "q" => Some(Action::Quit),
            "?" => Some(Action::Help),
            // Ctrl+Shift+/ is Ctrl+? on layouts where the key reports the base symbol.
            "/" if modifiers.shift() => Some(Action::Help),
            _ => None,
        },
        _ => None,
    }
}

/// Every shortcut key press, whether or not a widget used it (Esc must close the
/// switcher even while its field has the focus).
pub fn subscription() -> Subscription<Action> {
    event::listen_with(|event, _status, _window| match event {
        iced::Event::Keyboard(Event::KeyPressed { key, modifiers, .. }) => action(&key, modifiers),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(s: &str) -> Key {
        Key::Character(s.into())
    }

    #[test]
    fn shortcuts_map_to_actions() {
        let ctrl = Modifiers::CTRL;
        assert_eq!(action(&ch("k"), ctrl), Some(Action::Switcher));
        assert_eq!(
            action(&ch("F"), ctrl | Modifiers::SHIFT),
            Some(Action::Search)
        );
        assert_eq!(action(&ch("f"), ctrl), Some(Action::SearchHere));
        assert_eq!(action(&ch("K"), ctrl), Some(Action::Switcher));
        assert_eq!(action(&ch("w"), ctrl), Some(Action::CloseConversation));
        assert_eq!(action(&ch("q"), ctrl), Some(Action::Quit));
        assert_eq!(
            action(&ch("?"), ctrl | Modifiers::SHIFT),
            Some(Action::Help)
        );
        assert_eq!(
            action(&ch("/"), ctrl | Modifiers::SHIFT),
            Some(Action::Help)
        );
        assert_eq!(
            action(&Key::Named(Named::F1), Modifiers::empty()),
            Some(Action::Help)
        );
        assert_eq!(
            action(&Key::Named(Named::ArrowUp), Modifiers::ALT),
            Some(Action::Previous)
        );
        assert_eq!(
            action(&Key::Named(Named::ArrowDown), Modifiers::ALT),
            Some(Action::Next)
        );
        assert_eq!(
            action(&Key::Named(Named::Escape), Modifiers::empty()),
            Some(Action::Escape)
        );
    }

    #[test]
    fn typing_is_not_a_shortcut() {
        assert_eq!(action(&ch("k"), Modifiers::empty()), None);
        assert_eq!(action(&ch("w"), Modifiers::SHIFT), None);
        assert_eq!(action(&ch("/"), Modifiers::CTRL), None);
        assert_eq!(action(&ch("k"), Modifiers::CTRL | Modifiers::ALT), None);
        assert_eq!(
            action(&Key::Named(Named::Escape), Modifiers::SHIFT),
            None,
            "Shift+Esc is left alone"
        );
    }
}
