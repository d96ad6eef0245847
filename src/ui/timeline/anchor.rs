//! Keeps the row at the top of the message list's viewport where it is when rows come
//! or go at either end: an older page read in above, newer pages dropped below, a
//! newer page read back in, a bar appearing under the list. iced's scrollable keeps
//! its offset from the bottom (it is anchored there, for the newest end), so any
//! change below the reader's place would move what they read; this wrapper notes the
//! top row and its place after every event, and after each new layout scrolls the
//! list so that row sits exactly where it was.

use iced::advanced::layout::{self, Layout};
use iced::advanced::widget::{Operation, Tree, tree};
use iced::advanced::{Clipboard, Shell, Widget, mouse, overlay, renderer};
use iced::widget::scrollable::AbsoluteOffset;
use iced::{Element, Event, Length, Rectangle, Size, Vector};

/// `list`: a scrollable anchored at its bottom whose content's children are the rows
/// named by `keys`, in order (`None`: a row not to hold on to, as a line that stays at
/// the top while pages come in under it). `hold`: keep the top row in place (else the list follows
/// its newest end, as a plain scrollable does).
pub fn anchored<'a, Message: 'a, Theme: 'a, Renderer: iced::advanced::Renderer + 'a>(
    list: impl Into<Element<'a, Message, Theme, Renderer>>,
    keys: Vec<Option<u64>>,
    hold: bool,
) -> Element<'a, Message, Theme, Renderer> {
    Element::new(Anchored {
        list: list.into(),
        keys,
        hold,
    })
}

struct Anchored<'a, Message, Theme, Renderer> {
    list: Element<'a, Message, Theme, Renderer>,
    keys: Vec<Option<u64>>,
    hold: bool,
}

/// The row at the top of the viewport and how far its bottom is below the viewport's
/// top. Its bottom, not its top: what changes in a row when rows come above it (the
/// name line goes when it joins the previous message's run) changes its top.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct State {
    anchor: Option<(u64, f32)>,
}

/// What the scrollable says of itself: its viewport, content and translation.
#[derive(Default)]
struct Read {
    found: Option<(Rectangle, Rectangle, Vector)>,
}

impl Operation for Read {
    fn traverse(&mut self, _operate: &mut dyn FnMut(&mut dyn Operation)) {}

    fn scrollable(
        &mut self,
        _id: Option<&iced::advanced::widget::Id>,
        bounds: Rectangle,
        content_bounds: Rectangle,
        translation: Vector,
        _state: &mut dyn iced::advanced::widget::operation::Scrollable,
    ) {
        if self.found.is_none() {
            self.found = Some((bounds, content_bounds, translation));
        }
    }
}

/// Scrolls a bottom-anchored scrollable so that its content is translated by `y`.
struct Translate {
    y: f32,
    done: bool,
}

impl Operation for Translate {
    fn traverse(&mut self, _operate: &mut dyn FnMut(&mut dyn Operation)) {}

    fn scrollable(
        &mut self,
        _id: Option<&iced::advanced::widget::Id>,
        bounds: Rectangle,
        content_bounds: Rectangle,
        _translation: Vector,
        state: &mut dyn iced::advanced::widget::operation::Scrollable,
    ) {
        if self.done {
            return;
        }
        self.done = true;
        let max = (content_bounds.height - bounds.height).max(0.0);
        // The offset of a bottom-anchored scrollable counts from the bottom.
        state.scroll_to(AbsoluteOffset {
            x: None,
            y: Some(max - self.y.clamp(0.0, max)),
        });
    }
}

impl<Message, Theme, Renderer: iced::advanced::Renderer> Anchored<'_, Message, Theme, Renderer> {
    fn read(&mut self, tree: &mut Tree, layout: Layout<'_>, renderer: &Renderer) -> Option<Read> {
        let mut read = Read::default();
        self.list
            .as_widget_mut()
            .operate(tree.children.first_mut()?, layout, renderer, &mut read);
        Some(read)
    }

    /// Notes the row at the top of the viewport.
    fn note(&mut self, tree: &mut Tree, layout: Layout<'_>, renderer: &Renderer) {
        let Some((bounds, content, translation)) =
            self.read(tree, layout, renderer).and_then(|r| r.found)
        else {
            return;
        };
        let anchor = layout.children().next().and_then(|content_layout| {
            if content.height <= bounds.height {
                return None;
            }
            let rows = content_layout.children();
            if rows.len() != self.keys.len() {
                return None;
            }
            rows.zip(&self.keys).find_map(|(row, key)| {
                let row = row.bounds();
                let bottom = row.y + row.height - content.y - translation.y;
                key.filter(|_| bottom > 0.0).map(|key| (key, bottom))
            })
        });
        tree.state.downcast_mut::<State>().anchor = anchor;
    }
}

impl<Message, Theme, Renderer: iced::advanced::Renderer> Widget<Message, Theme, Renderer>
    for Anchored<'_, Message, Theme, Renderer>
{
    fn size(&self) -> Size<Length> {
        self.list.as_widget().size()
    }

    fn size_hint(&self) -> Size<Length> {
        self.list.as_widget().size_hint()
    }

    fn tag(&self) -> tree::Tag {
        tree::Tag::of::<State>()
    }

    fn state(&self) -> tree::State {
        tree::State::new(State::default())
    }

    fn children(&self) -> Vec<Tree> {
        vec![Tree::new(&self.list)]
    }

    fn diff(&self, tree: &mut Tree) {
        tree.diff_children(std::slice::from_ref(&self.list));
    }

    fn layout(
        &mut self,
        tree: &mut Tree,
        renderer: &Renderer,
        limits: &layout::Limits,
    ) -> layout::Node {
        let Some(child) = tree.children.first_mut() else {
            return layout::Node::new(Size::ZERO);
        };
        let node = self.list.as_widget_mut().layout(child, renderer, limits);
        let layout = Layout::new(&node);
        let anchor = tree.state.downcast_ref::<State>().anchor;
        if self.hold
            && let Some((key, bottom)) = anchor
            && let Some(content) = layout.children().next()
            && content.children().len() == self.keys.len()
            && let Some(row) = content
                .children()
                .zip(&self.keys)
                .find_map(|(row, k)| (*k == Some(key)).then_some(row.bounds()))
            && let Some((bounds, content_bounds, translation)) =
                self.read(tree, layout, renderer).and_then(|r| r.found)
            && content_bounds.height > bounds.height
        {
            let wanted = row.y + row.height - content_bounds.y - bottom;
            if (wanted - translation.y).abs() > 0.25 {
                let mut translate = Translate {
                    y: wanted,
                    done: false,
                };
                if let Some(child) = tree.children.first_mut() {
                    self.list
                        .as_widget_mut()
                        .operate(child, layout, renderer, &mut translate);
                }
            }
        }
        self.note(tree, layout, renderer);
        node
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
        if let Some(child) = tree.children.first() {
            self.list
                .as_widget()
                .draw(child, renderer, theme, style, layout, cursor, viewport);
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
            self.list
                .as_widget_mut()
                .operate(child, layout, renderer, operation);
        }
        // The app may have scrolled the list (to a message, to the newest end).
        self.note(tree, layout, renderer);
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
            self.list.as_widget_mut().update(
                child, event, layout, cursor, renderer, clipboard, shell, viewport,
            );
        }
        self.note(tree, layout, renderer);
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
                self.list
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
        self.list
            .as_widget_mut()
            .overlay(child, layout, renderer, viewport, translation)
    }
}
