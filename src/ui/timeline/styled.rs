//! A message body drawn with its message styling (XEP-0393) as styles, never as
//! markup: *strong* in bold, _emphasis_ in italics, ~strike~ struck through, `pre` and
//! ```` ``` ```` blocks in monospace, `>` quotes indented with a rule; the styling
//! characters themselves are not shown. Links stay clickable everywhere but in `pre`.
//! A `/me` body (XEP-0245) reads as an action line: "* Bob waves".

use crate::model::styling::{self, Block, Style};
use crate::ui::theme;
use crate::ui::timeline::Message;
use crate::ui::timeline::links::{Segment, segments};
use iced::font::{Style as FontStyle, Weight};
use iced::widget::text::{Span, Wrapping};
use iced::widget::{column, container, rich_text, row, span, text};
use iced::{Element, Font};

const SIZE: u32 = 15;
/// A message of a few emoji and nothing else is drawn this large.
const EMOJI_SIZE: u32 = 34;

/// Can `body` be drawn as plain text (no styling characters, no link, not `/me`)?
fn plain(body: &str) -> bool {
    !body.contains(['*', '_', '~', '`', '>'])
        && styling::action(body).is_none()
        && !segments(body).iter().any(|s| matches!(s, Segment::Link(_)))
}

fn font(style: &Style) -> Option<Font> {
    if style.pre {
        return Some(Font::MONOSPACE);
    }
    if !style.strong && !style.emphasis {
        return None;
    }
    Some(Font {
        weight: if style.strong {
            Weight::Bold
        } else {
            Weight::Normal
        },
        style: if style.emphasis {
            FontStyle::Italic
        } else {
            FontStyle::Normal
        },
        ..Font::DEFAULT
    })
}

/// The spans of one styled line: directives left out, links clickable outside `pre`.
fn line_spans(line: &str, out: &mut Vec<Span<'static, String>>) {
    for part in styling::spans(line) {
        if part.style.directive {
            continue;
        }
        let f = font(&part.style);
        let strike = part.style.strike;
        if part.style.pre {
            out.push(span(part.text).font_maybe(f).strikethrough(strike));
            continue;
        }
        for seg in segments(&part.text) {
            out.push(match seg {
                Segment::Text(t) => span(t.to_owned()).font_maybe(f).strikethrough(strike),
                Segment::Link(url) => span(url.to_owned())
                    .link(url.to_owned())
                    .underline(true)
                    .font_maybe(f)
                    .strikethrough(strike),
            });
        }
    }
}

fn paragraph<'a>(spans: Vec<Span<'static, String>>) -> Element<'a, Message> {
    let words: String = spans.iter().map(|s| s.text.as_ref()).collect();
    said(
        rich_text(spans)
            .on_link_click(Message::OpenLink)
            .size(SIZE)
            .wrapping(Wrapping::WordOrGlyph)
            .into(),
        words,
    )
}

fn blocks<'a>(blocks: Vec<Block>) -> Element<'a, Message> {
    let mut out = column![].spacing(2);
    // Consecutive lines make one paragraph.
    let mut lines: Vec<Span<'static, String>> = Vec::new();
    let mut open = false;
    for block in blocks {
        match block {
            Block::Line(parts) => {
                if open {
                    lines.push(span("\n".to_owned()));
                }
                open = true;
                let joined: String = parts.into_iter().map(|p| p.text).collect();
                line_spans(&joined, &mut lines);
            }
            Block::Pre(code) => {
                if open {
                    out = out.push(paragraph(std::mem::take(&mut lines)));
                    open = false;
                }
                out = out.push(
                    container(
                        text(code.join("\n"))
                            .font(Font::MONOSPACE)
                            .size(14)
                            .wrapping(Wrapping::WordOrGlyph),
                    )
                    .padding([2, 6])
                    .style(theme::pre_block),
                );
            }
            Block::Quote(inner) => {
                if open {
                    out = out.push(paragraph(std::mem::take(&mut lines)));
                    open = false;
                }
                out = out.push(
                    row![
                        container(iced::widget::space())
                            .width(3)
                            .height(iced::Length::Fill)
                            .style(theme::quote_rule),
                        self::blocks(inner),
                    ]
                    .spacing(6)
                    .height(iced::Length::Shrink),
                );
            }
        }
    }
    if open {
        out = out.push(paragraph(lines));
    }
    out.into()
}

/// A body (or the part of it shown): styled, with clickable links; `actor` is who a
/// `/me` body names.
pub fn body<'a>(shown: &'a str, actor: &str) -> Element<'a, Message> {
    if styling::emoji_only(shown) {
        return text(shown.trim()).size(EMOJI_SIZE).into();
    }
    if plain(shown) {
        return text(shown)
            .size(SIZE)
            .wrapping(Wrapping::WordOrGlyph)
            .into();
    }
    if let Some(rest) = styling::action(shown) {
        let italic = Font {
            style: FontStyle::Italic,
            ..Font::DEFAULT
        };
        let mut spans = vec![span(format!("* {actor} ")).font(italic)];
        for (i, line) in rest.split('\n').enumerate() {
            if i > 0 {
                spans.push(span("\n".to_owned()));
            }
            let start = spans.len();
            line_spans(line, &mut spans);
            // The action reads in italics, as the person's own words do not.
            for s in spans.iter_mut().skip(start) {
                if s.font.is_none() {
                    s.font = Some(italic);
                }
            }
        }
        return paragraph(spans);
    }
    blocks(styling::parse(shown))
}

/// [`body`], with `marks` (byte ranges of `shown`: where a search matched) drawn
/// bold on a bright ground. Only plain bodies are marked (styling moves the text the
/// ranges point into); a styled one is drawn as [`body`] draws it.
pub fn body_marked<'a>(
    shown: &'a str,
    actor: &str,
    marks: &[std::ops::Range<usize>],
) -> Element<'a, Message> {
    if marks.is_empty() || !plain(shown) || styling::emoji_only(shown) {
        return body(shown, actor);
    }
    let mut spans: Vec<Span<'static, String>> = Vec::new();
    let mut at = 0;
    for mark in marks {
        let (start, end) = (mark.start.min(shown.len()), mark.end.min(shown.len()));
        if start < at
            || start >= end
            || !shown.is_char_boundary(start)
            || !shown.is_char_boundary(end)
        {
            continue;
        }
        spans.push(span(shown[at..start].to_owned()));
        spans.push(
            span(shown[start..end].to_owned())
                .font(Font {
                    weight: Weight::Bold,
                    ..Font::DEFAULT
                })
                .color(iced::Color::BLACK)
                .background(theme::SEARCH_MATCH),
        );
        at = end;
    }
    spans.push(span(shown[at..].to_owned()));
    paragraph(spans)
}

/// A drawn body that also says its words to widget operations, as a `text` widget does:
/// iced's rich text does not, so without this a styled body would be invisible to
/// anything that reads the window's texts (the UI tests, a screen reader later).
struct Said<'a, M> {
    content: Element<'a, M>,
    words: String,
}

/// `content`, saying `words` (the text as read, without styling characters).
fn said<'a, M: 'a>(content: Element<'a, M>, words: String) -> Element<'a, M> {
    Element::new(Said { content, words })
}

mod said_widget {
    use super::Said;
    use iced::advanced::widget::{Operation, Tree};
    use iced::advanced::{Clipboard, Layout, Shell, Widget, mouse};
    use iced::{Event, Rectangle, Theme};

    type R = iced::Renderer;

    impl<M> Widget<M, Theme, R> for Said<'_, M> {
        crate::ui::widgets::delegate_to_content!();

        fn operate(
            &mut self,
            tree: &mut Tree,
            layout: Layout<'_>,
            renderer: &R,
            operation: &mut dyn Operation,
        ) {
            operation.text(None, layout.bounds(), &self.words);
            self.content
                .as_widget_mut()
                .operate(tree, layout, renderer, operation)
        }
        fn update(
            &mut self,
            tree: &mut Tree,
            event: &Event,
            layout: Layout<'_>,
            cursor: mouse::Cursor,
            renderer: &R,
            clipboard: &mut dyn Clipboard,
            shell: &mut Shell<'_, M>,
            viewport: &Rectangle,
        ) {
            self.content.as_widget_mut().update(
                tree, event, layout, cursor, renderer, clipboard, shell, viewport,
            )
        }
    }
}
