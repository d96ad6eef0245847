//! How text becomes index terms, the same for messages and for queries.
//!
//! - Latin (and every other script written with spaces): runs of letters and digits are
//!   words, lowercased here and accent-folded by tantivy's `AsciiFoldingFilter` after
//!   (`Café` and `cafe` are the same term). A word takes one position.
//! - Chinese, Japanese kana and Korean Hangul (written without spaces): a run of them
//!   takes one position per character; at each position the index holds the character
//!   alone (a unigram) and the character with the next one (a bigram). Any substring of
//!   the run is then found: one character by its unigram, two by their bigram, longer
//!   ones as a phrase of their overlapping bigrams at consecutive positions.
//!
//! Words and CJK runs share one position counter, so a phrase may mix them (`PDF报告`).
//!
//! The unigrams of runs longer than one character go to a field of their own without
//! positions ([`CHARS_ANALYZER`]): a one-character query needs only which messages hold
//! the character, and positions of every character would make the index a fifth larger.

use tantivy::tokenizer::{
    AsciiFoldingFilter, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// The name the analyzer is registered under in the index.
pub const ANALYZER: &str = "loquat";
/// The analyzer of the CJK character field: every CJK character, nothing else.
pub const CHARS_ANALYZER: &str = "loquat-chars";

/// Words longer than this many bytes (a pasted hash, a base64 blob) are not indexed.
const MAX_WORD_BYTES: usize = 64;

/// Han ideographs, kana and Hangul: the scripts written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF     // Hangul Jamo
        | 0x3005..=0x3007   // 々 〆 〇
        | 0x3040..=0x30FF   // Hiragana, Katakana
        | 0x3130..=0x318F   // Hangul compatibility Jamo
        | 0x31F0..=0x31FF   // Katakana phonetic extensions
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0xFF66..=0xFF9D   // half-width Katakana
        | 0x20000..=0x3FFFF // CJK extensions B and later
    )
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// A stretch of text that makes terms: a word, or a run of CJK characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    Word,
    Cjk,
}

/// The word and CJK runs of `text`, as byte ranges, in order; what lies between them
/// (spaces, punctuation, emoji) makes no terms.
pub fn runs(text: &str) -> Vec<(RunKind, std::ops::Range<usize>)> {
    let mut out: Vec<(RunKind, std::ops::Range<usize>)> = Vec::new();
    for (at, c) in text.char_indices() {
        let kind = if is_cjk(c) {
            RunKind::Cjk
        } else if is_word_char(c) {
            RunKind::Word
        } else {
            continue;
        };
        let end = at + c.len_utf8();
        match out.last_mut() {
            Some((k, range)) if *k == kind && range.end == at => range.end = end,
            _ => out.push((kind, at..end)),
        }
    }
    out
}

/// The tokenizer behind [`analyzer`]: words and CJK unigrams + bigrams, see the module
/// documentation.
#[derive(Clone, Default)]
pub struct LoquatTokenizer {
    tokens: Vec<Token>,
    /// Only the CJK characters (the `chars` field).
    chars_only: bool,
}

/// The tokens of one text, computed when the stream is made.
pub struct LoquatTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    next: usize,
}

fn push(tokens: &mut Vec<Token>, used: &mut usize, from: usize, to: usize, position: usize) {
    if *used == tokens.len() {
        tokens.push(Token::default());
    }
    if let Some(t) = tokens.get_mut(*used) {
        t.offset_from = from;
        t.offset_to = to;
        t.position = position;
        t.position_length = 1;
        t.text.clear();
    }
    *used += 1;
}

fn fill(tokens: &mut Vec<Token>, text: &str, chars_only: bool) {
    let mut used = 0;
    let mut position = 0;
    for (kind, range) in runs(text) {
        let Some(run) = text.get(range.clone()) else {
            continue;
        };
        match kind {
            RunKind::Word if chars_only => {}
            RunKind::Word => {
                push(tokens, &mut used, range.start, range.end, position);
                if let Some(t) = tokens.get_mut(used - 1) {
                    t.text.extend(run.chars().flat_map(char::to_lowercase));
                }
                position += 1;
            }
            RunKind::Cjk => {
                let chars: Vec<(usize, char)> = run.char_indices().collect();
                let alone = chars.len() == 1;
                for (i, (at, c)) in chars.iter().enumerate() {
                    let from = range.start + at;
                    if chars_only || alone {
                        push(tokens, &mut used, from, from + c.len_utf8(), position);
                        if let Some(t) = tokens.get_mut(used - 1) {
                            t.text.push(*c);
                        }
                    }
                    if chars_only {
                        continue;
                    }
                    if let Some((_, next)) = chars.get(i + 1) {
                        let to = from + c.len_utf8() + next.len_utf8();
                        push(tokens, &mut used, from, to, position);
                        if let Some(t) = tokens.get_mut(used - 1) {
                            t.text.push(*c);
                            t.text.push(*next);
                        }
                    }
                    position += 1;
                }
            }
        }
    }
    tokens.truncate(used);
}

impl Tokenizer for LoquatTokenizer {
    type TokenStream<'a> = LoquatTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> LoquatTokenStream<'a> {
        fill(&mut self.tokens, text, self.chars_only);
        LoquatTokenStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

impl TokenStream for LoquatTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        // `advance` keeps `next` within 1..=len while a token is current.
        let at = self.next.saturating_sub(1);
        match self.tokens.get(at) {
            Some(t) => t,
            None => empty_token(),
        }
    }

    fn token_mut(&mut self) -> &mut Token {
        let at = self.next.saturating_sub(1);
        if self.tokens.is_empty() {
            self.tokens.push(Token::default());
        }
        let last = self.tokens.len() - 1;
        let at = at.min(last);
        &mut self.tokens[at]
    }
}

fn empty_token() -> &'static Token {
    static EMPTY: std::sync::OnceLock<Token> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Token::default)
}

/// The analyzer messages and queries go through.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(LoquatTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(AsciiFoldingFilter)
        .build()
}

/// The analyzer of the CJK character field.
pub fn chars_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(LoquatTokenizer {
        tokens: Vec::new(),
        chars_only: true,
    })
    .build()
}

/// The terms of `text` as `(position, term)`, positions counted from 0.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        out.push((t.position, t.text.clone()));
    }
    out
}

/// What a query unit (a phrase, or one space-separated chunk) must match: terms of the
/// body field at relative positions (one term is a term query, more a phrase query),
/// and single CJK characters that must be in the message (the `chars` field; where they
/// stood in a phrase, the phrase is only as precise as its other terms).
pub fn query_terms(analyzer: &mut TextAnalyzer, text: &str) -> (Vec<(usize, String)>, Vec<String>) {
    let mut out = Vec::new();
    let mut chars = Vec::new();
    let mut position = 0;
    for (kind, range) in runs(text) {
        let Some(run) = text.get(range) else {
            continue;
        };
        match kind {
            RunKind::Word => {
                // One word run gives one term (none if it is too long to be indexed).
                if let Some((_, term)) = terms(analyzer, run).into_iter().next() {
                    out.push((position, term));
                }
                position += 1;
            }
            RunKind::Cjk => {
                let n = run.chars().count();
                let all = terms(analyzer, run);
                if n == 1 {
                    chars.extend(all.into_iter().map(|(_, t)| t));
                } else {
                    out.extend(
                        all.into_iter()
                            .filter(|(_, t)| t.chars().count() == 2)
                            .map(|(p, t)| (position + p, t)),
                    );
                }
                position += n;
            }
        }
    }
    (out, chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_and_cjk_makes_unigrams_and_bigrams() {
        let mut a = analyzer();
        let got = terms(&mut a, "Café 你好吗 OK 我");
        let want: Vec<(usize, String)> =
            [(0, "cafe"), (1, "你好"), (2, "好吗"), (4, "ok"), (5, "我")]
                .into_iter()
                .map(|(p, t)| (p, t.to_owned()))
                .collect();
        assert_eq!(got, want);
        let chars: Vec<String> = terms(&mut chars_analyzer(), "Café 你好吗")
            .into_iter()
            .map(|t| t.1)
            .collect();
        assert_eq!(chars, ["你", "好", "吗"]);
    }

    #[test]
    fn query_terms_are_bigram_phrases() {
        let mut a = analyzer();
        let t = |s: &str| -> Vec<(usize, String)> {
            s.split(' ')
                .filter(|x| !x.is_empty())
                .enumerate()
                .map(|(i, x)| {
                    let (p, w) = x.split_once(':').unwrap();
                    let _ = i;
                    (p.parse().unwrap(), w.to_owned())
                })
                .collect()
        };
        let none = Vec::<String>::new();
        assert_eq!(query_terms(&mut a, "你"), (t(""), vec!["你".to_owned()]));
        assert_eq!(query_terms(&mut a, "你好"), (t("0:你好"), none.clone()));
        assert_eq!(
            query_terms(&mut a, "你好吗"),
            (t("0:你好 1:好吗"), none.clone())
        );
        assert_eq!(
            query_terms(&mut a, "PDF报告"),
            (t("0:pdf 1:报告"), none.clone())
        );
        assert_eq!(query_terms(&mut a, "Résumé!"), (t("0:resume"), none));
    }

    #[test]
    fn runs_split_scripts_and_punctuation() {
        let text = "ab,你好 c";
        let r = runs(text);
        assert_eq!(
            r,
            vec![
                (RunKind::Word, 0..2),
                (RunKind::Cjk, 3..9),
                (RunKind::Word, 10..11)
            ]
        );
    }
}
