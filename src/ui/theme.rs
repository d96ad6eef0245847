//! Named styles. Views pick a style by name; colours come from iced's theme palette
//! only, so light and dark follow the theme the system (or iced) chose.

use crate::model::Show;
use iced::widget::{button, container, text, text_editor, text_input};
use iced::{Background, Border, Color, Theme, border};

/// Text that matters less: times, status lines, hints.
pub fn muted(theme: &Theme) -> text::Style {
    let palette = theme.extended_palette();
    text::Style {
        color: Some(palette.background.base.text.scale_alpha(0.62)),
    }
}

/// An error said in words.
pub fn error_text(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(theme.extended_palette().danger.base.color),
    }
}

/// Something that went well ("Connected").
pub fn good_text(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(theme.extended_palette().success.base.color),
    }
}

/// Something in progress or degraded ("Connecting…").
pub fn warning_text(theme: &Theme) -> text::Style {
    let palette = theme.extended_palette();
    let color = if palette.is_dark {
        palette.warning.base.color
    } else {
        palette.warning.strong.color
    };
    text::Style { color: Some(color) }
}

/// Headings inside panels.
pub fn heading(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(theme.extended_palette().background.base.text),
    }
}

/// The sidebar background.
pub fn sidebar(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.background.weakest.color.into()),
        text_color: Some(palette.background.weakest.text),
        border: Border {
            color: palette.background.weak.color,
            width: 1.0,
            radius: 0.0.into(),
        },
        ..container::Style::default()
    }
}

/// The conversation header and other bars.
pub fn bar(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.background.weaker.color.into()),
        text_color: Some(palette.background.weaker.text),
        ..container::Style::default()
    }
}

/// A framed card (the sign-in form, an account box).
pub fn card(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.background.base.color.into()),
        text_color: Some(palette.background.base.text),
        border: Border {
            color: palette.background.strong.color,
            width: 1.0,
            radius: 8.0.into(),
        },
        ..container::Style::default()
    }
}

/// An inline error box.
pub fn error_box(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.danger.weak.color.scale_alpha(0.25).into()),
        text_color: Some(palette.background.base.text),
        border: Border {
            color: palette.danger.base.color,
            width: 1.0,
            radius: 6.0.into(),
        },
        ..container::Style::default()
    }
}

/// A banner with something to know (keyring unavailable, a server notice).
pub fn notice_box(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.warning.weak.color.scale_alpha(0.3).into()),
        text_color: Some(palette.background.base.text),
        border: Border {
            color: palette.warning.base.color,
            width: 1.0,
            radius: 6.0.into(),
        },
        ..container::Style::default()
    }
}

/// A message we wrote.
pub fn bubble_own(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.primary.weak.color.into()),
        text_color: Some(palette.primary.weak.text),
        border: border::rounded(10),
        ..container::Style::default()
    }
}

/// A message someone else wrote.
pub fn bubble_other(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.background.weak.color.into()),
        text_color: Some(palette.background.weak.text),
        border: border::rounded(10),
        ..container::Style::default()
    }
}

/// The pill around "Today" between days.
pub fn day_separator(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.background.weaker.color.into()),
        text_color: Some(palette.background.weaker.text),
        border: border::rounded(10),
        ..container::Style::default()
    }
}

/// The unread count bubble.
pub fn badge(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.primary.base.color.into()),
        text_color: Some(palette.primary.base.text),
        border: border::rounded(9),
        ..container::Style::default()
    }
}

/// The count of unread messages that mention us (stands out from ordinary unread).
pub fn badge_mention(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.danger.base.color.into()),
        text_color: Some(palette.danger.base.text),
        border: border::rounded(9),
        ..container::Style::default()
    }
}

/// The "#" that marks a group chat room in the conversation list.
pub fn room_mark(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.primary.weak.color.into()),
        text_color: Some(palette.primary.weak.text),
        border: border::rounded(4),
        ..container::Style::default()
    }
}

/// The small "not in contacts" tag.
pub fn tag(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: None,
        text_color: Some(palette.background.base.text.scale_alpha(0.7)),
        border: Border {
            color: palette.background.strong.color,
            width: 1.0,
            radius: 4.0.into(),
        },
        ..container::Style::default()
    }
}

/// The colour of an availability.
fn show_color(theme: &Theme, show: Show) -> Color {
    let palette = theme.extended_palette();
    // On dark backgrounds the base green is too dark to read as "online".
    let green = if palette.is_dark {
        palette.success.strong.color
    } else {
        palette.success.base.color
    };
    match show {
        Show::Chat | Show::Online => green,
        Show::Away => palette.warning.base.color,
        Show::ExtendedAway => {
            iced::theme::palette::mix(palette.warning.base.color, palette.danger.base.color, 0.45)
        }
        Show::DoNotDisturb => palette.danger.base.color,
        Show::Offline => palette.background.base.text.scale_alpha(0.3),
    }
}

/// The round presence dot next to a contact.
pub fn presence_dot(show: Show) -> impl Fn(&Theme) -> container::Style {
    move |theme| container::Style {
        background: Some(Background::Color(show_color(theme, show))),
        border: border::rounded(5),
        ..container::Style::default()
    }
}

/// The presence dot laid over a face, ringed in the background colour so it stands
/// apart from the picture.
pub fn presence_dot_ringed(show: Show, radius: f32) -> impl Fn(&Theme) -> container::Style {
    move |theme| container::Style {
        background: Some(Background::Color(show_color(theme, show))),
        border: Border {
            color: theme.extended_palette().background.base.color,
            width: 1.5,
            radius: radius.into(),
        },
        ..container::Style::default()
    }
}

/// The disc of a face without a picture: the person's colour, the initial in white.
pub fn avatar_disc(colour: [u8; 3]) -> impl Fn(&Theme) -> container::Style {
    move |_| container::Style {
        background: Some(Background::Color(rgb(colour))),
        text_color: Some(iced::Color::WHITE),
        border: border::rounded(999),
        ..container::Style::default()
    }
}

/// A row in the contact or conversation list.
pub fn list_item(selected: bool) -> impl Fn(&Theme, button::Status) -> button::Style {
    move |theme, status| {
        let palette = theme.extended_palette();
        let pair = match (selected, status) {
            (true, _) => palette.primary.weak,
            (false, button::Status::Hovered | button::Status::Pressed) => palette.background.weak,
            (false, _) => palette.background.weakest,
        };
        button::Style {
            background: Some(pair.color.into()),
            text_color: pair.text,
            border: border::rounded(6),
            ..button::Style::default()
        }
    }
}

/// The main action of a form.
pub fn primary_button(theme: &Theme, status: button::Status) -> button::Style {
    button::primary(theme, status)
}

/// A secondary action.
pub fn secondary_button(theme: &Theme, status: button::Status) -> button::Style {
    button::secondary(theme, status)
}

/// Something that destroys data (remove a contact).
pub fn danger_button(theme: &Theme, status: button::Status) -> button::Style {
    button::danger(theme, status)
}

/// A button that looks like a link (the "Advanced" expander, small actions).
pub fn link_button(theme: &Theme, status: button::Status) -> button::Style {
    let palette = theme.extended_palette();
    let color = match status {
        button::Status::Hovered | button::Status::Pressed => palette.primary.strong.color,
        button::Status::Disabled => palette.background.strong.color,
        button::Status::Active => palette.primary.base.color,
    };
    button::Style {
        background: None,
        text_color: color,
        ..button::Style::default()
    }
}

/// Text inputs use iced's default look.
pub fn input(theme: &Theme, status: text_input::Status) -> text_input::Style {
    text_input::default(theme, status)
}

/// The message composer.
pub fn composer(theme: &Theme, status: text_editor::Status) -> text_editor::Style {
    text_editor::default(theme, status)
}

/// The colours offered when a person picks an account colour by hand (the default is
/// the XEP-0392 colour of the address). Mid-tone, so both light and dark text read on
/// them and they stand out on light and dark backgrounds.
/// The ground of a search match in a message opened from the results (dark text on it
/// in both themes).
pub const SEARCH_MATCH: iced::Color = iced::Color::from_rgb(1.0, 0.84, 0.31);

pub const ACCOUNT_PALETTE: [[u8; 3]; 8] = [
    [0xd9, 0x4f, 0x4f],
    [0xe0, 0x8a, 0x2e],
    [0xc9, 0xa8, 0x1c],
    [0x4c, 0xa8, 0x5a],
    [0x2e, 0xa5, 0xa5],
    [0x3d, 0x7e, 0xd9],
    [0x8a, 0x5c, 0xd6],
    [0xc9, 0x5c, 0xa8],
];

fn rgb(colour: [u8; 3]) -> Color {
    Color::from_rgb8(colour[0], colour[1], colour[2])
}

/// The small square that says which account something belongs to.
pub fn account_chip(colour: [u8; 3]) -> impl Fn(&Theme) -> container::Style {
    move |theme| {
        let palette = theme.extended_palette();
        container::Style {
            background: Some(Background::Color(rgb(colour))),
            border: Border {
                color: palette.background.base.text.scale_alpha(0.25),
                width: 1.0,
                radius: 3.0.into(),
            },
            ..container::Style::default()
        }
    }
}

/// A nickname in a room, in its XEP-0392 colour (group chat).
pub fn nick(colour: [u8; 3]) -> impl Fn(&Theme) -> text::Style {
    move |_| text::Style {
        color: Some(rgb(colour)),
    }
}

/// A pill that can be selected: the account filter, the "write as" choice.
pub fn pill(selected: bool) -> impl Fn(&Theme, button::Status) -> button::Style {
    move |theme, status| {
        let palette = theme.extended_palette();
        let pair = match (selected, status) {
            (true, _) => palette.primary.weak,
            (false, button::Status::Hovered | button::Status::Pressed) => palette.background.weak,
            (false, _) => palette.background.base,
        };
        button::Style {
            background: Some(pair.color.into()),
            text_color: pair.text,
            border: Border {
                color: if selected {
                    palette.primary.base.color
                } else {
                    palette.background.strong.color
                },
                width: 1.0,
                radius: 12.0.into(),
            },
            ..button::Style::default()
        }
    }
}

/// A colour swatch in the account editor; the chosen one has a strong ring.
pub fn swatch(selected: bool) -> impl Fn(&Theme, button::Status) -> button::Style {
    move |theme, status| {
        let palette = theme.extended_palette();
        let ring = if selected {
            palette.background.base.text
        } else if matches!(status, button::Status::Hovered | button::Status::Pressed) {
            palette.background.strong.color
        } else {
            Color::TRANSPARENT
        };
        button::Style {
            background: None,
            text_color: palette.background.base.text,
            border: Border {
                color: ring,
                width: 2.0,
                radius: 6.0.into(),
            },
            ..button::Style::default()
        }
    }
}

/// A quieter unread count (per account, in the filter and the account cards).
pub fn badge_muted(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.background.strong.color.into()),
        text_color: Some(palette.background.strong.text),
        border: border::rounded(9),
        ..container::Style::default()
    }
}

/// A card whose account is in trouble: a red edge, so it is found at a glance.
pub fn card_error(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        border: Border {
            color: palette.danger.base.color,
            width: 1.0,
            radius: 8.0.into(),
        },
        ..card(theme)
    }
}

/// The dimmed screen behind an overlay (the quick switcher, the shortcut help).
pub fn scrim(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    let shade = if palette.is_dark { 0.6 } else { 0.35 };
    container::Style {
        background: Some(Color::BLACK.scale_alpha(shade).into()),
        ..container::Style::default()
    }
}

/// The box of a quote: a reply's quote in a bubble, the reply/edit bar above the
/// composer.
pub fn quote_box(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.background.base.color.scale_alpha(0.5).into()),
        text_color: Some(palette.background.base.text),
        border: border::rounded(6),
        ..container::Style::default()
    }
}

/// The coloured rule at the left of a quote.
pub fn quote_rule(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.primary.base.color.into()),
        border: border::rounded(2),
        ..container::Style::default()
    }
}

/// A preformatted block (XEP-0393 ```` ``` ````) inside a bubble.
pub fn pre_block(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.background.base.color.scale_alpha(0.6).into()),
        border: border::rounded(4),
        ..container::Style::default()
    }
}

/// A bubble a clicked reply quote pointed at.
pub fn highlight(theme: &Theme) -> container::Style {
    let palette = theme.extended_palette();
    container::Style {
        background: Some(palette.warning.weak.color.scale_alpha(0.35).into()),
        border: Border {
            color: palette.warning.base.color,
            width: 2.0,
            radius: 12.0.into(),
        },
        ..container::Style::default()
    }
}
