//! Safe local file names for received files, and never overwriting an existing file.

use std::path::{Path, PathBuf};

/// Longest file name we create, in bytes (most file systems allow 255).
pub const MAX_NAME_BYTES: usize = 120;

/// Characters that reorder text (bidi controls): a right-to-left override makes
/// `evil<RLO>gpj.exe` look like `evilexe.jpg`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A single path component that is safe to create in the download folder: percent-decoded
/// first, then no separators, no `..`, no control or bidi characters, no leading dot,
/// no trailing dots or spaces, not a reserved Windows device name, length capped with the
/// extension kept. Never empty.
pub fn safe_file_name(raw: &str) -> String {
    let decoded = crate::xmpp::upload::percent_decode(raw);
    // Only the last component of anything that looks like a path.
    let last = decoded.rsplit(['/', '\\']).next().unwrap_or("").to_owned();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .map(|c| match c {
            ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            other => other,
        })
        .collect();
    let trimmed = cleaned
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' '])
        .to_owned();
    let mut name = if trimmed.is_empty() {
        "file".to_owned()
    } else {
        trimmed
    };
    let stem_upper = name
        .split('.')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    const RESERVED: [&str; 6] = ["CON", "PRN", "AUX", "NUL", "COM1", "LPT1"];
    if RESERVED.contains(&stem_upper.as_str())
        || (stem_upper.len() == 4
            && (stem_upper.starts_with("COM") || stem_upper.starts_with("LPT"))
            && stem_upper.ends_with(|c: char| c.is_ascii_digit()))
    {
        name = format!("_{name}");
    }
    cap_length(&name)
}

fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= 12 => (&name[..i], &name[i..]),
        _ => (name, ""),
    }
}

fn cap_length(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_owned();
    }
    let (stem, ext) = split_ext(name);
    let mut out = String::new();
    for c in stem.chars() {
        if out.len() + c.len_utf8() + ext.len() > MAX_NAME_BYTES {
            break;
        }
        out.push(c);
    }
    out.push_str(ext);
    out
}

/// Creates a new, empty file named `name` in `dir`, or `name (1)`, `name (2)`, ... when
/// that exists: an existing file is never overwritten. Returns the open file and its path.
pub async fn create_unique(dir: &Path, name: &str) -> std::io::Result<(tokio::fs::File, PathBuf)> {
    let (stem, ext) = split_ext(name);
    for n in 0..1000u32 {
        let candidate = if n == 0 {
            name.to_owned()
        } else {
            format!("{stem} ({n}){ext}")
        };
        let path = dir.join(&candidate);
        match tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
        {
            Ok(f) => return Ok((f, path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("too many files named {name}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_one_harmless_component() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("..%2F..%2F.bashrc"), "bashrc");
        assert_eq!(safe_file_name("a\\b\\c.txt"), "c.txt");
        assert_eq!(safe_file_name("evil\u{202E}gpj.exe"), "evilgpj.exe");
        assert_eq!(safe_file_name("new\nline\u{0}.txt"), "newline.txt");
        assert_eq!(safe_file_name(".."), "file");
        assert_eq!(safe_file_name(""), "file");
        assert_eq!(safe_file_name("CON.txt"), "_CON.txt");
        assert_eq!(safe_file_name("photo%20one.jpg"), "photo one.jpg");
        assert_eq!(safe_file_name("what?.txt"), "what_.txt");
        let long = format!("{}.png", "ж".repeat(300));
        let capped = safe_file_name(&long);
        assert!(
            capped.len() <= MAX_NAME_BYTES && capped.ends_with(".png"),
            "{capped}"
        );
    }
}
