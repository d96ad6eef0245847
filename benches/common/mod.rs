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
