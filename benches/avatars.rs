//! Avatar cache with a 2,000-contact roster (issue #18); prints its figures.
//!
//! `cargo bench --no-default-features --bench avatars`
//!
//! 2,000 generated 256 px avatars (JPEG, smooth photo-like content, each different) go
//! the way a fetched avatar goes: decoded under `image::Limits`, cut to a 96 px round
//! thumbnail, written to the account's cache by hash; then the index of who shows what
//! is saved and read back. Printed: disk bytes of the cache, time per avatar, the
//! process's resident memory before and after (and its peak), and for reference what
//! keeping every decoded thumbnail in memory would cost. Without `--bench`
//! (`cargo test --all-targets`) it runs 3 avatars as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench code

#[path = "common/mod.rs"]
mod common;

use loquat::avatar::cache::{self, Cache};
use loquat::xmpp::avatar::AvatarHash;
use std::collections::HashMap;
use std::time::Instant;
use xmpp_parsers::jid::BareJid;

/// A 256 px photo-like JPEG: smooth colour fields that differ per `n`, with grain.
fn generated(n: u32) -> Vec<u8> {
    let f = |v: u32| ((v.wrapping_mul(2_654_435_761) >> 24) & 0xff) as f32 / 255.0;
    let (a, b, c) = (f(n), f(n + 7), f(n + 13));
    // Sensor-like grain, so the pictures compress as photos do rather than as drawings.
    let mut seed = n.wrapping_mul(747_796_405).wrapping_add(2_891_336_453) | 1;
    let mut grain = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        (seed % 41) as f32 - 20.0
    };
    let img = image::RgbImage::from_fn(256, 256, |x, y| {
        let (x, y) = (x as f32 / 256.0, y as f32 / 256.0);
        let wave = ((x * 6.0 + a * 9.0).sin() * (y * 5.0 + b * 7.0).cos() + 1.0) / 2.0;
        let g = grain();
        image::Rgb([
            (255.0 * (a * 0.6 + wave * 0.4) + g).clamp(0.0, 255.0) as u8,
            (255.0 * (b * 0.5 + x * 0.5 * wave) + g).clamp(0.0, 255.0) as u8,
            (255.0 * (c * 0.7 + y * 0.3) + g).clamp(0.0, 255.0) as u8,
        ])
    });
    let mut out = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut out),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    out
}

fn status_kib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

fn main() {
    let real_run = std::env::args().any(|a| a == "--bench");
    let n: u32 = if real_run { 2_000 } else { 3 };
    let tmp = tempfile::tempdir().unwrap();
    let dir = cache::account_dir(tmp.path(), &loquat::ids::AccountId("bench".into()));
    let cache = Cache::open(dir.clone()).unwrap();

    let sources: Vec<Vec<u8>> = (0..n).map(generated).collect();
    let source_bytes: usize = sources.iter().map(Vec::len).sum();
    let rss_before = status_kib("VmRSS:");

    let t = Instant::now();
    let mut index: HashMap<BareJid, AvatarHash> = HashMap::new();
    for (i, bytes) in sources.iter().enumerate() {
        let hash = AvatarHash::of(bytes);
        let png = loquat::avatar::thumbnail_png(bytes).unwrap();
        cache.put(&hash, &png).unwrap();
        index.insert(
            BareJid::new(&format!("contact{i}@example.org")).unwrap(),
            hash,
        );
    }
    let per = t.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
    let t = Instant::now();
    cache.save_index(&index).unwrap();
    let loaded = cache.load_index();
    let index_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(loaded.len(), index.len());
    // What the UI keeps: one path per contact (`ui::widgets::avatar::Faces`).
    let faces: HashMap<BareJid, std::path::PathBuf> = loaded
        .iter()
        .map(|(j, h)| (j.clone(), cache.path(h)))
        .collect();
    let faces_bytes: usize = faces
        .iter()
        .map(|(j, p)| j.as_str().len() + p.as_os_str().len() + 64)
        .sum();
    let rss_after = status_kib("VmRSS:");
    let peak = status_kib("VmHWM:");

    let disk = cache.disk_bytes();
    let index_file = std::fs::metadata(dir.join("index"))
        .map(|m| m.len())
        .unwrap_or(0);
    let decoded_all = u64::from(n)
        * u64::from(loquat::avatar::THUMB_PX)
        * u64::from(loquat::avatar::THUMB_PX)
        * 4;
    println!(
        "avatars: {n} contacts, sources {:.1} KiB each (256 px JPEG)",
        source_bytes as f64 / f64::from(n) / 1024.0
    );
    println!(
        "  cache on disk: {:.2} MiB thumbnails ({:.1} KiB each) + {:.1} KiB index; cap {} MiB; whole folder {:.2} MiB",
        disk as f64 / 1048576.0,
        disk as f64 / f64::from(n) / 1024.0,
        index_file as f64 / 1024.0,
        cache::CAP_BYTES / 1048576,
        common::dir_size(&dir) as f64 / 1048576.0
    );
    println!(
        "  decode + thumbnail + write: {per:.2} ms per avatar; index save + load: {index_ms:.1} ms"
    );
    println!(
        "  resident memory: {:.1} MiB before, {:.1} MiB after (+{:.1} MiB), peak {:.1} MiB",
        rss_before / 1024.0,
        rss_after / 1024.0,
        (rss_after - rss_before) / 1024.0,
        peak / 1024.0
    );
    println!(
        "  the UI's map of faces: ~{:.0} KiB for {n} paths; every thumbnail decoded in memory would be {:.1} MiB (ratio {:.0}x)",
        faces_bytes as f64 / 1024.0,
        decoded_all as f64 / 1048576.0,
        decoded_all as f64 / faces_bytes as f64
    );
}
