//! The message list's rows drawn in a layer of their own whose bounds change, by a
//! fraction of a pixel too small to clip anything, each time the list scrolls, so that
//! a scroll reaches iced's tiny-skia compositor as one damaged region.
//!
//! On a window without a GPU the compositor redraws only the regions whose layers changed
//! since the last frame (iced 0.14, `iced_tiny_skia::window::compositor::present`, where
//! X11 gives a buffer of age 1). A scroll moves every row of the list, so each text and
//! bubble is damaged where it was and where it is now: about 130 rectangles, which iced
//! groups by their distance from the window's corner into 30-47 regions, and it redraws
//! each region separately, clearing a window-sized clip mask and going through every
//! layer again for each (iced-rs/iced#3368). That cost three times what redrawing the
//! whole window once would (`cargo bench --bench timeline`).
//!
//! A layer whose bounds differ from the last frame's is damaged as a whole and its
//! primitives are not compared (`iced_tiny_skia::Layer::damage`): the list's viewport,
//! one region. The bounds change by 1/256 px at their right edge on every other scroll.
//! That edge is the one whose place on screen the widget knows (a vertical list does not
//! scroll sideways) and it usually falls on a whole pixel (the window's width); the
//! change goes the way that does not cross half a pixel, where renderers decide which
//! pixels a clip covers (tiny-skia's mask without anti-aliasing, wgpu's scissor
//! rounding), so the same pixels are drawn either way.
//! Between scrolls the bounds stay the same, and a change in one row (a receipt, a
//! reaction) damages only that row, as before. The layout is the content's own node,
//! so the rows stay the children of the scrollable's content (the anchor reads them
//! there).

use iced::advanced::layout::{self, Layout};
use iced::advanced::widget::{Operation, Tree, tree};
use iced::advanced::{Clipboard, Shell, Widget, mouse, overlay, renderer};
use iced::{Element, Event, Length, Rectangle, Size, Vector};
use std::cell::Cell;

/// How much the layer's bounds change on every other scroll (see the module).
const NUDGE: f32 = 1.0 / 256.0;

/// `content`, the scrollable's content, drawn in a layer of its own (see the module).
pub fn one_region<'a, Message: 'a, Theme: 'a, Renderer: renderer::Renderer + 'a>(
    content: impl Into<Element<'a, Message, Theme, Renderer>>,
) -> Element<'a, Message, Theme, Renderer> {
    Element::new(OneRegion {
        content: content.into(),
    })
}

/// How the right edge of `viewport` moves when nudged: in, unless that crosses half a
/// pixel (see the module).
fn nudge(viewport: &Rectangle) -> f32 {
    let edge = (viewport.x + viewport.width).rem_euclid(1.0);
    if (0.5..0.5 + NUDGE).contains(&edge) {
        NUDGE
    } else {
        -NUDGE
    }
}

/// The list's offset at the last draw, and whether its layer was nudged then.
#[derive(Default)]
struct Drawn(Cell<(f32, bool)>);

struct OneRegion<'a, Message, Theme, Renderer> {
    content: Element<'a, Message, Theme, Renderer>,
}

impl<Message, Theme, Renderer: renderer::Renderer> Widget<Message, Theme, Renderer>
    for OneRegion<'_, Message, Theme, Renderer>
{
    fn size(&self) -> Size<Length> {
        self.content.as_widget().size()
    }

    fn size_hint(&self) -> Size<Length> {
        self.content.as_widget().size_hint()
    }

    fn tag(&self) -> tree::Tag {
        tree::Tag::of::<Drawn>()
    }

    fn state(&self) -> tree::State {
        tree::State::new(Drawn::default())
    }

    fn children(&self) -> Vec<Tree> {
        vec![Tree::new(&self.content)]
    }

    fn diff(&self, tree: &mut Tree) {
        tree.diff_children(std::slice::from_ref(&self.content));
    }

    fn layout(
        &mut self,
        tree: &mut Tree,
        renderer: &Renderer,
        limits: &layout::Limits,
    ) -> layout::Node {
        match tree.children.first_mut() {
            // The content's node itself: this wrapper adds no level to the layout.
            Some(child) => self.content.as_widget_mut().layout(child, renderer, limits),
            None => layout::Node::new(Size::ZERO),
        }
    }

    fn draw(
        &self,
        tree: &Tree,
        renderer: &mut Renderer,
        theme: &Theme,
        style: &renderer::Style,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        viewport: &Rectangle,
    ) {
        let drawn = tree.state.downcast_ref::<Drawn>();
        let (last_y, nudged) = drawn.0.get();
        // `viewport` is the visible part in the content's coordinates: its `y` moves
        // with the scroll offset and nothing else.
        let nudged = if viewport.y == last_y {
            nudged
        } else {
            !nudged
        };
        drawn.0.set((viewport.y, nudged));
        let bounds = Rectangle {
            width: (viewport.width + if nudged { nudge(viewport) } else { 0.0 }).max(0.0),
            ..*viewport
        };
        if let Some(child) = tree.children.first() {
            renderer.with_layer(bounds, |renderer| {
                self.content
                    .as_widget()
                    .draw(child, renderer, theme, style, layout, cursor, viewport);
            });
        }
    }

    fn operate(
        &mut self,
        tree: &mut Tree,
        layout: Layout<'_>,
        renderer: &Renderer,
        operation: &mut dyn Operation,
    ) {
        if let Some(child) = tree.children.first_mut() {
            self.content
                .as_widget_mut()
                .operate(child, layout, renderer, operation);
        }
    }

    fn update(
        &mut self,
        tree: &mut Tree,
        event: &Event,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        renderer: &Renderer,
        clipboard: &mut dyn Clipboard,
        shell: &mut Shell<'_, Message>,
        viewport: &Rectangle,
    ) {
        if let Some(child) = tree.children.first_mut() {
            self.content.as_widget_mut().update(
                child, event, layout, cursor, renderer, clipboard, shell, viewport,
            );
        }
    }

    fn mouse_interaction(
        &self,
        tree: &Tree,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        viewport: &Rectangle,
        renderer: &Renderer,
    ) -> mouse::Interaction {
        tree.children
            .first()
            .map_or(mouse::Interaction::None, |child| {
                self.content
                    .as_widget()
                    .mouse_interaction(child, layout, cursor, viewport, renderer)
            })
    }

    fn overlay<'b>(
        &'b mut self,
        tree: &'b mut Tree,
        layout: Layout<'b>,
        renderer: &Renderer,
        viewport: &Rectangle,
        translation: Vector,
    ) -> Option<overlay::Element<'b, Message, Theme, Renderer>> {
        let child = tree.children.first_mut()?;
        self.content
            .as_widget_mut()
            .overlay(child, layout, renderer, viewport, translation)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed unwrap is a failed test

    use super::one_region;
    use iced::widget::{column, container, scrollable, text};
    use iced::{Element, Length, Point, Rectangle, Size, mouse};
    use iced_runtime::core::clipboard;
    use iced_runtime::core::renderer::Headless;
    use iced_tiny_skia::graphics::damage;

    const WINDOW: Size = Size::new(800.0, 600.0);
    /// The list's viewport: the window less 60 px above and below.
    const VIEWPORT: Rectangle = Rectangle {
        x: 0.0,
        y: 60.0,
        width: 800.0,
        height: 480.0,
    };

    /// 200 rows of different widths, left and right as bubbles are; row `edited` (if
    /// any) says so.
    fn list(wrapped: bool, edited: Option<usize>) -> Element<'static, ()> {
        let rows = (0..200).map(|n| {
            let mark = if Some(n) == edited { " (edited)" } else { "" };
            let line = format!("row {n}: {}{mark}", "words ".repeat(n % 7 + 1));
            let side = if n % 3 == 0 {
                container(text(line)).align_right(Length::Fill)
            } else {
                container(text(line))
            };
            side.into()
        });
        let content = column(rows).spacing(6).padding(8);
        let content: Element<'static, ()> = if wrapped {
            one_region(content)
        } else {
            content.into()
        };
        container(scrollable(content).height(Length::Fill))
            .padding([60, 0])
            .into()
    }

    /// Frames as the runtime makes them: the first view drawn, then for each step its
    /// event (if any) given to the interface, the step's view built and drawn. Returns
    /// the regions iced's tiny-skia compositor would redraw at each step.
    fn frames(
        first: Element<'static, ()>,
        steps: Vec<(Option<iced::Event>, Element<'static, ()>)>,
    ) -> Vec<Vec<Rectangle>> {
        let mut renderer = futures::executor::block_on(<iced::Renderer as Headless>::new(
            iced::Font::DEFAULT,
            iced::Pixels(16.0),
            Some("tiny-skia"),
        ))
        .expect("tiny-skia renderer");
        let cursor = mouse::Cursor::Available(Point::new(400.0, 300.0));
        let theme = iced::Theme::Light;
        let style = iced_runtime::core::renderer::Style::default();
        let layers = |renderer: &mut iced::Renderer| {
            let iced_renderer::fallback::Renderer::Secondary(r) = renderer else {
                panic!("not tiny-skia");
            };
            r.layers().to_vec()
        };
        let mut ui =
            iced_runtime::UserInterface::build(first, WINDOW, Default::default(), &mut renderer);
        ui.draw(&mut renderer, &theme, &style, cursor);
        let mut before = layers(&mut renderer);
        let mut out = Vec::new();
        for (event, view) in steps {
            if let Some(event) = event {
                let mut produced = Vec::new();
                let _ = ui.update(
                    &[event],
                    cursor,
                    &mut renderer,
                    &mut clipboard::Null,
                    &mut produced,
                );
            }
            let cache = ui.into_cache();
            ui = iced_runtime::UserInterface::build(view, WINDOW, cache, &mut renderer);
            ui.draw(&mut renderer, &theme, &style, cursor);
            let after = layers(&mut renderer);
            let raw = damage::diff(
                &before,
                &after,
                |l| vec![l.bounds],
                iced_tiny_skia::Layer::damage,
            );
            out.push(damage::group(raw, Rectangle::with_size(WINDOW)));
            before = after;
        }
        out
    }

    fn wheel(lines: f32) -> Option<iced::Event> {
        Some(iced::Event::Mouse(mouse::Event::WheelScrolled {
            delta: mouse::ScrollDelta::Lines { x: 0.0, y: lines },
        }))
    }

    fn is_viewport(r: &Rectangle) -> bool {
        (r.x - VIEWPORT.x).abs() < 1.0
            && (r.y - VIEWPORT.y).abs() < 1.0
            && (r.width - VIEWPORT.width).abs() < 1.0
            && (r.height - VIEWPORT.height).abs() < 1.0
    }

    #[test]
    fn every_scroll_is_one_region_the_size_of_the_list() {
        let steps = [-3.0, -3.0, -3.0, 3.0, -3.0]
            .into_iter()
            .map(|lines| (wheel(lines), list(true, None)))
            .collect();
        for (n, regions) in frames(list(true, None), steps).iter().enumerate() {
            assert!(
                regions.len() == 1 && is_viewport(&regions[0]),
                "scroll {n}: {regions:?}"
            );
        }
        // Without the layer, the same scroll is many regions, redrawn one by one: what
        // the wrapper is for (if iced stops doing this, the wrapper can go).
        let plain = frames(list(false, None), vec![(wheel(-3.0), list(false, None))]);
        assert!(plain[0].len() > 3, "{:?}", plain[0]);
    }

    /// The nudged edge covers the same pixels as the edge itself wherever it falls.
    #[test]
    fn the_nudge_never_moves_the_edge_across_half_a_pixel() {
        for k in 0..4096 {
            let width = 700.0 + k as f32 / 4096.0;
            let viewport = Rectangle {
                x: 0.0,
                y: 0.0,
                width,
                height: 100.0,
            };
            let moved = width + super::nudge(&viewport);
            assert_ne!(moved, width);
            assert_eq!(moved.round(), width.round(), "{width}");
        }
    }

    #[test]
    fn without_a_scroll_only_what_changed_is_redrawn() {
        let steps = vec![
            (None, list(true, None)),
            (None, list(true, Some(10))),
            (wheel(-3.0), list(true, Some(10))),
            (None, list(true, None)),
        ];
        let regions = frames(list(true, None), steps);
        assert!(regions[0].is_empty(), "nothing changed: {:?}", regions[0]);
        let row: f32 = regions[1].iter().map(|r| r.width * r.height).sum();
        assert!(
            !regions[1].is_empty() && row < VIEWPORT.width * 60.0,
            "one row edited: {:?}",
            regions[1]
        );
        assert!(regions[2].len() == 1 && is_viewport(&regions[2][0]));
        let row: f32 = regions[3].iter().map(|r| r.width * r.height).sum();
        assert!(
            !regions[3].is_empty() && row < VIEWPORT.width * 60.0,
            "one row edited after a scroll: {:?}",
            regions[3]
        );
    }
}
