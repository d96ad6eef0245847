use super::cache::Cache;
use super::*;
use crate::xmpp::avatar::AvatarHash;
use image::{ImageBuffer, Rgba};

fn png_of(w: u32, h: u32) -> Vec<u8> {
    let img = ImageBuffer::from_fn(w, h, |x, y| {
        Rgba([(x % 256) as u8, (y % 256) as u8, 90, 255])
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgba8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A CRC-32 (PNG chunks), to forge headers.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A real 1x1 PNG whose header claims `w` x `h` (an image bomb: a few bytes that ask
/// for gigabytes).
fn bomb(w: u32, h: u32) -> Vec<u8> {
    let mut png = png_of(1, 1);
    // Signature (8), IHDR length (4), "IHDR" (4), then width and height.
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

#[test]
fn an_avatar_becomes_a_small_square_png() {
    let thumb = thumbnail_png(&png_of(300, 200)).unwrap();
    let back = image::load_from_memory(&thumb).unwrap().to_rgba8();
    assert_eq!((back.width(), back.height()), (THUMB_PX, THUMB_PX));
    // Round: the corners are transparent, the centre is not.
    assert_eq!(back.get_pixel(0, 0).0[3], 0);
    assert_eq!(back.get_pixel(THUMB_PX / 2, THUMB_PX / 2).0[3], 255);
    let own = own_avatar_png(&png_of(640, 480)).unwrap();
    let back = image::load_from_memory_with_format(&own, image::ImageFormat::Png).unwrap();
    assert_eq!((back.width(), back.height()), (OWN_PX, OWN_PX));
}

/// Hostile: what is not a picture, and pictures that would take too much memory to
/// decode, are refused (as errors, without allocating what they ask for).
#[test]
fn non_images_and_image_bombs_are_refused() {
    assert!(matches!(
        thumbnail_png(b"<html>hello</html>"),
        Err(AvatarError::NotAnImage(_))
    ));
    assert!(matches!(
        thumbnail_png(&[]),
        Err(AvatarError::NotAnImage(_))
    ));
    // The forged header itself is well formed: the same trick with a small size decodes
    // (the pixel data then runs short, which is a different error).
    let honest = bomb(1, 1);
    assert!(thumbnail_png(&honest).is_ok());
    for (w, h) in [(100_000, 100_000), (5_000, 10), (4_000, 4_000)] {
        let r = thumbnail_png(&bomb(w, h));
        let Err(AvatarError::NotAnImage(why)) = &r else {
            unreachable!("{w}x{h}: {r:?}")
        };
        assert!(why.to_lowercase().contains("limit"), "{w}x{h}: {why}");
    }
}

#[test]
fn cache_keeps_thumbnails_by_hash_and_evicts_the_oldest_past_its_cap() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::with_cap(dir.path().join("a"), 10_000).unwrap();
    let hashes: Vec<AvatarHash> = (0..6u8).map(|i| AvatarHash::of(&[i])).collect();
    for (i, h) in hashes.iter().enumerate() {
        cache.put(h, &vec![i as u8; 3_000]).unwrap();
        // Distinct modification times, oldest first.
        let t =
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000 + i as u64);
        std::fs::File::options()
            .append(true)
            .open(cache.path(h))
            .unwrap()
            .set_modified(t)
            .unwrap();
        assert!(cache.disk_bytes() <= 10_000, "{}", cache.disk_bytes());
    }
    assert!(cache.has(&hashes[5]), "the newest stays");
    assert!(!cache.has(&hashes[0]), "the oldest went");
    // Using one makes it the newest: it survives the next eviction, the others go.
    cache.touch(&hashes[3]);
    cache.put(&AvatarHash::of(b"new"), &[1u8; 3_000]).unwrap();
    assert!(cache.has(&hashes[3]));
    assert!(!cache.has(&hashes[4]));

    let mut index = std::collections::HashMap::new();
    index.insert(
        xmpp_parsers::jid::BareJid::new("a@b.c").unwrap(),
        hashes[3].clone(),
    );
    cache.save_index(&index).unwrap();
    std::fs::write(
        dir.path().join("a/index"),
        format!("a@b.c {}\nnot a line\n@@ {}\n", hashes[3], hashes[1]),
    )
    .unwrap();
    assert_eq!(cache.load_index(), index);
}
