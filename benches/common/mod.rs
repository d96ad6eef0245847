//! Helpers the bench binaries share: process CPU and memory from /proc, folder sizes.
//! Included with `#[path = "common/mod.rs"] mod common;` (not a bench of its own).

#![allow(dead_code)] // each bench uses some of these

use std::path::Path;

/// CPU time (user + system) the process `pid` has used, in seconds.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// (PSS, RSS, USS) in MiB from /proc/PID/smaps_rollup.
pub fn memory(pid: u32) -> Option<(f64, f64, f64)> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| -> f64 {
        rollup
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    Some((
        field("Pss:"),
        field("Rss:"),
        field("Private_Clean:") + field("Private_Dirty:"),
    ))
}

/// Where a process's PSS lies, in MiB, largest first: anonymous memory (the heaps,
/// `[anon]`), `[heap]`, `[stack]`, and each mapped file by name (fonts, libraries, an
/// index mapped from disk), from /proc/PID/smaps.
pub fn pss_by_mapping(pid: u32) -> Vec<(String, f64)> {
    let Ok(smaps) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) else {
        return Vec::new();
    };
    let mut totals: std::collections::BTreeMap<String, f64> = Default::default();
    let mut current = String::new();
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            // A mapping's header: address perms offset dev inode [path].
            let path = line.split_whitespace().nth(5).unwrap_or("");
            current = if path.is_empty() {
                "[anon]".to_owned()
            } else if path.starts_with('[') {
                path.to_owned()
            } else {
                let name = Path::new(path)
                    .file_name()
                    .map_or(path.to_owned(), |n| n.to_string_lossy().into_owned());
                // The search index's segment files (`<32 hex digits>.<kind>`), by kind.
                match name.split_once('.') {
                    Some((stem, kind))
                        if stem.len() == 32 && stem.chars().all(|c| c.is_ascii_hexdigit()) =>
                    {
                        format!("index *.{kind}")
                    }
                    _ => name,
                }
            };
        } else if first == "Pss:" {
            let kib = words
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
            *totals.entry(current.clone()).or_default() += kib / 1024.0;
        }
    }
    let mut out: Vec<(String, f64)> = totals.into_iter().collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

/// Bytes in the files under `path` (0 for what cannot be read).
pub fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
