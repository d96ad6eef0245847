//! Finding http(s) links in message bodies.

/// A piece of a message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Splits a body into plain text and links. A link starts with `http://` or
/// `https://` not glued to a preceding ASCII letter or digit and ends at whitespace; trailing punctuation and
/// an unbalanced closing bracket stay outside the link.
pub fn segments(body: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest_start = 0;
    let mut search_from = 0;
    while let Some(start) = next_link_start(body, search_from) {
        let tail = &body[start..];
        let raw_end = tail
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
            .unwrap_or(tail.len());
        let end = trim_link(&tail[..raw_end]);
        let scheme_len = if tail
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        {
            8
        } else {
            7
        };
        if end <= scheme_len {
            search_from = start + scheme_len;
            continue;
        }
        if start > rest_start {
            out.push(Segment::Text(&body[rest_start..start]));
        }
        out.push(Segment::Link(&tail[..end]));
        rest_start = start + end;
        search_from = rest_start;
    }
    if rest_start < body.len() {
        out.push(Segment::Text(&body[rest_start..]));
    }
    out
}

/// Does the body contain at least one link?
pub fn has_link(body: &str) -> bool {
    segments(body).iter().any(|s| matches!(s, Segment::Link(_)))
}

fn next_link_start(body: &str, from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let rest = body.get(at..)?;
        let offset = rest.find("http")?;
        let start = at + offset;
        let candidate = &body[start..];
        let at_word_start = body[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        let lower: String = candidate
            .chars()
            .take(8)
            .collect::<String>()
            .to_ascii_lowercase();
        if at_word_start && (lower.starts_with("https://") || lower.starts_with("http://")) {
            return Some(start);
        }
        at = start + 4;
    }
}

/// Length of the link once trailing punctuation is left out.
fn trim_link(link: &str) -> usize {
    let mut end = link.len();
    loop {
        let Some(last) = link[..end].chars().next_back() else {
            return end;
        };
        let strip = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '。' | '，' | '！' | '？' => true,
            ')' => count(&link[..end], '(') < count(&link[..end], ')'),
            ']' => count(&link[..end], '[') < count(&link[..end], ']'),
            _ => false,
        };
        if !strip {
            return end;
        }
        end -= last.len_utf8();
    }
}

fn count(s: &str, c: char) -> usize {
    s.chars().filter(|x| *x == c).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::timeline::links::Segment::{Link, Text};

    #[test]
    fn plain_text_has_no_links() {
        assert_eq!(segments("hello 世界"), vec![Text("hello 世界")]);
        assert!(!has_link("see httpbin or http:/broken"));
        assert!(segments("").is_empty());
    }

    #[test]
    fn links_are_cut_out_of_the_text() {
        assert_eq!(
            segments("look: https://example.org/a?b=1, nice"),
            vec![
                Text("look: "),
                Link("https://example.org/a?b=1"),
                Text(", nice")
            ]
        );
        assert_eq!(segments("http://x.org"), vec![Link("http://x.org")]);
    }

    #[test]
    fn brackets_and_punctuation_stay_outside() {
        assert_eq!(
            segments("(see https://en.wikipedia.org/wiki/Loquat_(fruit)) ok."),
            vec![
                Text("(see "),
                Link("https://en.wikipedia.org/wiki/Loquat_(fruit)"),
                Text(") ok."),
            ]
        );
        assert_eq!(
            segments("链接https://a.cn/x。"),
            vec![Text("链接"), Link("https://a.cn/x"), Text("。")]
        );
    }

    #[test]
    fn scheme_alone_or_inside_a_word_is_not_a_link() {
        assert_eq!(segments("https:// nothing"), vec![Text("https:// nothing")]);
        assert_eq!(segments("xhttps://a.org"), vec![Text("xhttps://a.org")]);
    }
}
