//! Faces (issue #18): a contact's or room's avatar as a fixed-size circle, or, where
//! there is none, their initial on their XEP-0392 colour. The picture is the cached
//! thumbnail file (`crate::avatar::cache`), drawn by the renderer, which decodes it
//! when it comes on screen and drops it when it has been off screen a while: the app
//! holds paths, not pixels, so 2,000 contacts cost 2,000 paths.

use crate::colors::consistent_color;
use crate::model::Show;
use crate::ui::theme;
use iced::widget::{container, image, space, stack, text};
use iced::{ContentFit, Element, Length};
use std::path::Path;

/// Who shows which picture, per account: the thumbnail files the session reported.
pub type Faces = std::collections::HashMap<xmpp_parsers::jid::BareJid, std::path::PathBuf>;

/// The initial of `label`: its first letter or digit (any script), upper-cased; "?"
/// when it has none.
pub fn initial(label: &str) -> String {
    label
        .chars()
        .find(|c| c.is_alphanumeric())
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_else(|| "?".to_owned())
}

/// The face of `label` (shown as an initial) whose colour comes from `key` (the
/// address: the same colour as in other clients), `size` pixels across.
pub fn face<'a, M: 'a>(
    label: &str,
    key: &str,
    picture: Option<&Path>,
    size: f32,
) -> Element<'a, M> {
    match picture {
        Some(path) => image(image::Handle::from_path(path))
            .width(size)
            .height(size)
            .content_fit(ContentFit::Cover)
            .border_radius(size / 2.0)
            .into(),
        None => container(text(initial(label)).size((size * 0.5).round()))
            .center(Length::Fixed(size))
            .style(theme::avatar_disc(consistent_color(key)))
            .into(),
    }
}

/// A face with the presence dot on its lower right edge.
pub fn with_presence<'a, M: 'a>(face: Element<'a, M>, show: Show, size: f32) -> Element<'a, M> {
    let dot = (size * 0.3).round().max(8.0);
    stack![
        face,
        container(
            container(space())
                .width(dot)
                .height(dot)
                .style(theme::presence_dot_ringed(show, dot / 2.0))
        )
        .align_right(Length::Fixed(size))
        .align_bottom(Length::Fixed(size)),
    ]
    .width(size)
    .height(size)
    // Clipped to the face, the dot's layer is the face's size. Unclipped, a stack draws
    // it in a layer as big as the window, and iced's tiny-skia compositor clears a
    // window-sized clip mask for that layer in every region it redraws anywhere: a
    // scrolled message list has about 40 (`LOQUAT_BENCH_DAMAGE=1 cargo bench --bench
    // timeline`). The dot lies inside the face, so nothing is cut.
    .clip(true)
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_in_any_script() {
        assert_eq!(initial("alice"), "A");
        assert_eq!(initial("#room"), "R");
        assert_eq!(initial("王小明"), "王");
        assert_eq!(initial("ölaf"), "Ö");
        assert_eq!(initial("  "), "?");
    }
}
