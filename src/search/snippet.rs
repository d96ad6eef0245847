//! A short piece of a message around the first match, with the matches marked.

use super::tokenize::{self, RunKind};
use std::ops::Range;

/// Part of a message's text and where the query matched in it (byte ranges of `text`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snippet {
    pub text: String,
    pub marks: Vec<Range<usize>>,
}

/// Where the words and CJK runs of `query` occur in `text`, sorted, merged.
/// With `typing`, the query's last word when still open ([`super::query::open_end`])
/// also marks the words it begins.
pub fn matches(text: &str, query: &str, typing: bool) -> Vec<Range<usize>> {
    let mut analyzer = tokenize::analyzer();
    let mut words: Vec<String> = Vec::new();
    let mut cjk: Vec<&str> = Vec::new();
    for part in super::parse(query) {
        let part_text = part.text().to_owned();
        for (kind, range) in tokenize::runs(&part_text) {
            let Some(run) = part_text.get(range) else {
                continue;
            };
            match kind {
                RunKind::Word => {
                    words.extend(tokenize::terms(&mut analyzer, run).into_iter().map(|t| t.1))
                }
                RunKind::Cjk => {
                    if let Some(at) = query.find(run) {
                        cjk.extend(query.get(at..at + run.len()));
                    }
                }
            }
        }
    }
    let prefix = (typing && super::query::open_end(query))
        .then(|| words.last().cloned())
        .flatten();
    let mut marks: Vec<Range<usize>> = Vec::new();
    if !words.is_empty() {
        let mut stream = analyzer.token_stream(text);
        while tantivy::tokenizer::TokenStream::advance(&mut stream) {
            let t = tantivy::tokenizer::TokenStream::token(&stream);
            if words.contains(&t.text) || prefix.as_ref().is_some_and(|p| t.text.starts_with(p)) {
                marks.push(t.offset_from..t.offset_to);
            }
        }
    }
    for run in cjk {
        marks.extend(text.match_indices(run).map(|(at, s)| at..at + s.len()));
    }
    marks.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in marks {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

/// About `max_chars` characters of `text` around its first match of `query` (from the
/// start when nothing matches), with `…` where it was cut.
pub fn snippet(text: &str, query: &str, max_chars: usize) -> Snippet {
    snippet_typed(text, query, max_chars, false)
}

/// [`snippet`], with the marks of [`matches`].
pub fn snippet_typed(text: &str, query: &str, max_chars: usize, typing: bool) -> Snippet {
    let text = text.trim();
    let marks = matches(text, query, typing);
    let first = marks.first().map_or(0, |r| r.start);
    // Start a little before the first match, on a character boundary.
    let lead = max_chars / 4;
    let before: Vec<usize> = text
        .get(..first)
        .unwrap_or("")
        .char_indices()
        .map(|(i, _)| i)
        .collect();
    let start = if before.len() > lead {
        before.get(before.len() - lead).copied().unwrap_or(0)
    } else {
        0
    };
    let end = text
        .get(start..)
        .unwrap_or("")
        .char_indices()
        .nth(max_chars)
        .map_or(text.len(), |(i, _)| start + i);
    let mut out = String::new();
    let mut shift = 0isize - start as isize;
    if start > 0 {
        out.push('…');
        shift += '…'.len_utf8() as isize;
    }
    out.push_str(text.get(start..end).unwrap_or(""));
    if end < text.len() {
        out.push('…');
    }
    let marks = marks
        .into_iter()
        .filter(|r| r.start >= start && r.end <= end)
        .map(|r| {
            let a = (r.start as isize + shift) as usize;
            let b = (r.end as isize + shift) as usize;
            a..b
        })
        // Newlines and tabs become spaces in a one-line snippet: same byte length.
        .collect();
    Snippet {
        text: out.replace(['\n', '\t', '\r'], " "),
        marks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(s: &Snippet) -> Vec<&str> {
        s.marks.iter().map(|r| &s.text[r.clone()]).collect()
    }

    #[test]
    fn marks_words_folded_and_cjk_substrings() {
        let s = snippet("Le Café est ouvert, 你好吗？", "cafe 好吗", 80);
        assert_eq!(marked(&s), vec!["Café", "好吗"]);
    }

    #[test]
    fn a_word_being_typed_marks_the_words_it_begins() {
        let s = snippet_typed("The reports are in the repo", "the rep", 80, true);
        assert_eq!(marked(&s), vec!["The", "reports", "the", "repo"]);
        let s = snippet_typed("The reports are in the repo", "the rep", 80, false);
        assert_eq!(marked(&s), vec!["The", "the"]);
    }

    #[test]
    fn cuts_around_the_first_match() {
        let long = format!("{} needle {}", "hay ".repeat(100), "hay ".repeat(100));
        let s = snippet(&long, "needle", 40);
        assert!(s.text.starts_with('…') && s.text.ends_with('…'));
        assert_eq!(marked(&s), vec!["needle"]);
        assert!(s.text.chars().count() <= 42);
    }
}
