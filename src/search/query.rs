//! A typed query split into the parts that must all match: `"quoted phrases"` (straight
//! or curly quotes, or 「corner brackets」) and the space-separated chunks around them.

/// One part of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// A chunk without spaces (which is a phrase when it mixes scripts: `PDF报告`).
    Chunk(String),
    /// Quoted words that must appear in this order, next to each other.
    Phrase(String),
}

impl Part {
    pub fn text(&self) -> &str {
        match self {
            Part::Chunk(t) | Part::Phrase(t) => t,
        }
    }
}

fn closing(open: char) -> Option<char> {
    match open {
        '"' => Some('"'),
        '“' => Some('”'),
        '「' => Some('」'),
        '『' => Some('』'),
        _ => None,
    }
}

/// The parts of `query`; an unclosed quote runs to the end.
pub fn parse(query: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut chunk = String::new();
    let mut chars = query.chars();
    let flush = |chunk: &mut String, out: &mut Vec<Part>| {
        if !chunk.is_empty() {
            out.push(Part::Chunk(std::mem::take(chunk)));
        }
    };
    while let Some(c) = chars.next() {
        if let Some(close) = closing(c) {
            flush(&mut chunk, &mut out);
            let phrase: String = chars.by_ref().take_while(|x| *x != close).collect();
            if !phrase.trim().is_empty() {
                out.push(Part::Phrase(phrase));
            }
        } else if c.is_whitespace() {
            flush(&mut chunk, &mut out);
        } else {
            chunk.push(c);
        }
    }
    flush(&mut chunk, &mut out);
    out
}

/// Is the query's last word still open (typed last, nothing after it: no space, no
/// closing quote), and a word of a spaced script, so it may match as a prefix?
pub fn open_end(query: &str) -> bool {
    matches!(parse(query).last(), Some(Part::Chunk(_)))
        && query
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() && !super::tokenize::is_cjk(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_and_phrases() {
        assert_eq!(
            parse(r#"PDF  报告 "to be" “你 好”"#),
            vec![
                Part::Chunk("PDF".into()),
                Part::Chunk("报告".into()),
                Part::Phrase("to be".into()),
                Part::Phrase("你 好".into()),
            ]
        );
        assert_eq!(parse("  "), vec![]);
        assert_eq!(parse("\"open"), vec![Part::Phrase("open".into())]);
    }

    #[test]
    fn only_a_word_still_being_typed_is_open() {
        assert!(open_end("the rep"));
        assert!(open_end("报告 pdf"));
        assert!(!open_end("the rep "));
        assert!(!open_end("\"the rep\""));
        assert!(!open_end("\"the rep"));
        assert!(!open_end("pdf报告"));
        assert!(!open_end("what?"));
        assert!(!open_end(""));
    }
}
