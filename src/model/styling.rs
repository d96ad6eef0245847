//! Message styling (XEP-0393) and `/me` actions (XEP-0245): a body turned into blocks
//! and styled spans for the timeline to draw. Pure text in, plain data out: no markup
//! is ever interpreted beyond these rules (no HTML, nothing loaded).
//!
//! Blocks: a line starting with ```` ``` ```` opens a preformatted block that runs to a
//! line that is exactly ```` ``` ```` (or the end of its parent); lines starting with `>`
//! form a quote (one optional space after `>` is dropped) whose content is parsed
//! again, so quotes nest; every other line is text with spans.
//!
//! Spans, within one line: `*strong*`, `_emphasis_`, `~strike~`, `` `pre` ``. An opening
//! directive stands at the start of the line, after whitespace, or right after another
//! opening directive; it is not followed by whitespace. The span closes at the first
//! same character after it that is not preceded by whitespace; an empty span (`**`) or
//! one without a close is plain text. Spans nest, except inside `pre`. The directives
//! stay in the text (as spans marked [`Style::directive`]), so the UI may show them
//! faintly or hide them; nothing of the body is lost.

/// How one span is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub strong: bool,
    pub emphasis: bool,
    pub strike: bool,
    /// Monospace, nothing styled inside.
    pub pre: bool,
    /// One of the styling characters themselves.
    pub directive: bool,
}

/// A run of text with one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub style: Style,
}

/// One block of a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// One line of text.
    Line(Vec<Span>),
    /// A preformatted block: its lines as they are (without the fences).
    Pre(Vec<String>),
    /// A quote: its content, parsed again.
    Quote(Vec<Block>),
}

/// The text after `/me ` when the body is an action ("/me waves" shows as
/// "*Bob* waves"), per XEP-0245; `None` for any other body.
pub fn action(body: &str) -> Option<&str> {
    body.strip_prefix("/me ")
}

/// At most this many emoji make a message "emoji only", drawn large.
pub const EMOJI_ONLY_MAX: usize = 6;

/// Is `body` one to [`EMOJI_ONLY_MAX`] emoji and nothing else (spaces aside)? Such
/// messages are drawn large, as other messengers do. Joiners, variation selectors, skin
/// tones, keycaps and flag letters belong to the emoji before them.
pub fn emoji_only(body: &str) -> bool {
    let mut bases = 0;
    for c in body.chars() {
        if c.is_whitespace() {
            continue;
        }
        let cp = u32::from(c);
        let part_of_previous = matches!(cp,
            0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F);
        if part_of_previous {
            if bases == 0 {
                return false;
            }
            continue;
        }
        let emoji = matches!(cp,
            0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0x2300..=0x23FF
            | 0x2190..=0x21FF | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0xA9 | 0xAE | 0x203C
            | 0x2049 | 0x2122 | 0x2139 | 0x24C2 | 0x25AA..=0x25FE);
        // A digit, # or * counts only as the start of a keycap (followed by U+20E3).
        if !emoji {
            return false;
        }
        bases += 1;
    }
    (1..=EMOJI_ONLY_MAX).contains(&bases)
}

/// The blocks of a message body.
pub fn parse(body: &str) -> Vec<Block> {
    let lines: Vec<&str> = body.split('\n').collect();
    blocks(&lines)
}

fn blocks(lines: &[&str]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(line) = lines.get(i) {
        if line.starts_with("```") {
            let mut content = Vec::new();
            i += 1;
            while let Some(l) = lines.get(i) {
                i += 1;
                if *l == "```" {
                    break;
                }
                content.push((*l).to_owned());
            }
            out.push(Block::Pre(content));
        } else if line.starts_with('>') {
            let mut inner = Vec::new();
            while let Some(l) = lines.get(i).and_then(|l| l.strip_prefix('>')) {
                inner.push(l.strip_prefix(' ').unwrap_or(l));
                i += 1;
            }
            out.push(Block::Quote(blocks(&inner)));
        } else {
            out.push(Block::Line(spans(line)));
            i += 1;
        }
    }
    out
}

/// The styled spans of one line.
pub fn spans(line: &str) -> Vec<Span> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    parse_range(&chars, 0, chars.len(), Style::default(), &mut out);
    out
}

fn flag(style: Style, directive: char) -> Style {
    let mut s = style;
    match directive {
        '*' => s.strong = true,
        '_' => s.emphasis = true,
        '~' => s.strike = true,
        _ => s.pre = true,
    }
    s
}

fn push(out: &mut Vec<Span>, text: String, style: Style) {
    if text.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(last) if last.style == style => last.text.push_str(&text),
        _ => out.push(Span { text, style }),
    }
}

fn at(chars: &[char], i: usize) -> Option<char> {
    chars.get(i).copied()
}

fn parse_range(chars: &[char], start: usize, end: usize, style: Style, out: &mut Vec<Span>) {
    let mut plain = String::new();
    let mut i = start;
    while i < end {
        let Some(c) = at(chars, i) else { break };
        let opens = matches!(c, '*' | '_' | '~' | '`')
            && (i == start
                || i.checked_sub(1)
                    .and_then(|p| at(chars, p))
                    .is_some_and(char::is_whitespace))
            && at(chars, i + 1).is_some_and(|n| !n.is_whitespace())
            && i + 1 < end;
        let close = if opens {
            (i + 2..end).find(|j| {
                at(chars, *j) == Some(c) && at(chars, j - 1).is_some_and(|p| !p.is_whitespace())
            })
        } else {
            None
        };
        let Some(close) = close else {
            plain.push(c);
            i += 1;
            continue;
        };
        push(out, std::mem::take(&mut plain), style);
        let inner = flag(style, c);
        let directive = Style {
            directive: true,
            ..inner
        };
        push(out, c.to_string(), directive);
        if c == '`' {
            let text: String = chars.get(i + 1..close).unwrap_or_default().iter().collect();
            push(out, text, inner);
        } else {
            parse_range(chars, i + 1, close, inner, out);
        }
        push(out, c.to_string(), directive);
        i = close + 1;
    }
    push(out, plain, style);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text of the spans with `style`, for short assertions.
    fn styled(line: &str, pick: impl Fn(&Style) -> bool) -> Vec<String> {
        spans(line)
            .into_iter()
            .filter(|s| pick(&s.style) && !s.style.directive)
            .map(|s| s.text)
            .collect()
    }

    fn plain(line: &str) -> bool {
        spans(line)
            == vec![Span {
                text: line.to_owned(),
                style: Style::default(),
            }]
    }

    #[test]
    fn the_xeps_span_examples() {
        // XEP-0393 §5.2 and §6.2.
        assert_eq!(styled("I *really* want this", |s| s.strong), ["really"]);
        assert_eq!(
            styled(
                "The full title is _Twelfth Night, or What You Will_ but *most* people shorten it.",
                |s| s.emphasis
            ),
            ["Twelfth Night, or What You Will"]
        );
        assert_eq!(styled("~strikethrough~", |s| s.strike), ["strikethrough"]);
        assert_eq!(
            styled("`this *is not strong*`", |s| s.pre),
            ["this *is not strong*"]
        );
        assert!(
            styled("`this *is not strong*`", |s| s.strong).is_empty(),
            "nothing is styled inside pre"
        );
        assert_eq!(
            styled("*strong _and emphasis_*", |s| s.strong && s.emphasis),
            ["and emphasis"]
        );
        assert_eq!(styled("*_both_*", |s| s.strong && s.emphasis), ["both"]);
    }

    #[test]
    fn what_is_not_styled() {
        for line in [
            "not *strong",
            "**",
            "* not strong*",
            "*not strong *",
            "foo*bar*",
            "a_b_c",
            "2 * 3 * 4",
            "",
        ] {
            assert!(
                plain(line) || line.is_empty(),
                "{line:?}: {:?}",
                spans(line)
            );
        }
        // A span never crosses a line.
        let b = parse("*not\nstrong*");
        assert!(
            b.iter().all(
                |b| matches!(b, Block::Line(s) if s.iter().all(|s| s.style == Style::default()))
            )
        );
    }

    #[test]
    fn directives_stay_in_the_text() {
        let all: String = spans("a *b* `c` ~d~ _e_")
            .into_iter()
            .map(|s| s.text)
            .collect();
        assert_eq!(all, "a *b* `c` ~d~ _e_");
        let s = spans("*b*");
        assert!(s[0].style.directive && s[0].style.strong);
        assert!(!s[1].style.directive && s[1].style.strong);
    }

    #[test]
    fn the_xeps_blocks() {
        // §6.1.1: preformatted blocks, closed or running to the end.
        assert_eq!(
            parse("```\n*not strong*\n> not a quote\n```\nafter *b*"),
            vec![
                Block::Pre(vec!["*not strong*".into(), "> not a quote".into()]),
                Block::Line(spans("after *b*")),
            ]
        );
        assert_eq!(
            parse("```rust\nlet x;"),
            vec![Block::Pre(vec!["let x;".into()])]
        );
        // §6.1.2: quotes, nested, ending at the first line without `>`.
        assert_eq!(
            parse("> That that is, is.\n>> nested\nSaid the old hermit"),
            vec![
                Block::Quote(vec![
                    Block::Line(spans("That that is, is.")),
                    Block::Quote(vec![Block::Line(spans("nested"))]),
                ]),
                Block::Line(spans("Said the old hermit")),
            ]
        );
        // A pre block inside a quote ends with the quote.
        assert_eq!(
            parse("> ```\n> code\nout"),
            vec![
                Block::Quote(vec![Block::Pre(vec!["code".into()])]),
                Block::Line(spans("out")),
            ]
        );
    }

    #[test]
    fn me_actions() {
        assert_eq!(action("/me shrugs in disgust"), Some("shrugs in disgust"));
        assert_eq!(action("/meh"), None);
        assert_eq!(action("hello /me x"), None);
    }

    #[test]
    fn a_few_emoji_alone_are_emoji_only_and_anything_else_is_not() {
        for yes in ["👍", "❤️", " 😂😂 ", "👨‍👩‍👧", "👍🏽", "🇨🇳", "☕", "🎉🎉🎉🎉🎉🎉"]
        {
            assert!(emoji_only(yes), "{yes:?}");
        }
        for no in [
            "",
            "  ",
            "ok 👍",
            "👍!",
            "🎉🎉🎉🎉🎉🎉🎉",
            "你好",
            "\u{FE0F}",
            ":)",
            "1",
        ] {
            assert!(!emoji_only(no), "{no:?}");
        }
    }
}
