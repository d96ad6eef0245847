//! Image thumbnails, decoded off the async threads under `image::Limits`: a
//! decompression bomb becomes an error (shown as a placeholder), never an out-of-memory.

use super::TransferError;
use image::{ImageReader, Limits};
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// Widest or tallest image we decode.
pub const MAX_DIMENSION: u32 = 16_384;
/// Most memory one decode may allocate.
pub const MAX_ALLOC: u64 = 256 * 1024 * 1024;
/// Longest side of a thumbnail.
pub const THUMB_SIDE: u32 = 320;

/// A thumbnail written to the cache folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// PNG file of the thumbnail.
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    /// Size of the full image.
    pub full_width: u32,
    pub full_height: u32,
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_DIMENSION);
    l.max_image_height = Some(MAX_DIMENSION);
    l.max_alloc = Some(MAX_ALLOC);
    l
}

/// Decodes `src` under limits (the first frame of an animation) and writes a thumbnail
/// to `cache_dir`, named after `key` (e.g. a hash of the URL). Blocking: call it through
/// [`make_thumbnail`] from async code.
pub fn thumbnail_blocking(
    src: &Path,
    cache_dir: &Path,
    key: &str,
) -> Result<Thumbnail, TransferError> {
    scaled_blocking(src, cache_dir, key, THUMB_SIDE)
}

/// Longest side of the in-app full view.
pub const FULL_SIDE: u32 = 2048;

/// Decodes under limits and writes a copy no larger than `side` on each side.
pub fn scaled_blocking(
    src: &Path,
    cache_dir: &Path,
    key: &str,
    side: u32,
) -> Result<Thumbnail, TransferError> {
    let file = std::fs::File::open(src).map_err(TransferError::io)?;
    let mut reader = ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .map_err(TransferError::io)?;
    reader.limits(limits());
    let image = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(l) => TransferError::ImageTooLarge(l.to_string()),
        other => TransferError::Image(other.to_string()),
    })?;
    let (full_width, full_height) = (image.width(), image.height());
    let thumb = if image.width() <= side && image.height() <= side {
        image
    } else {
        image.thumbnail(side, side)
    };
    crate::paths::ensure_private_dir(cache_dir).map_err(TransferError::io)?;
    let safe_key: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(64)
        .collect();
    let path = cache_dir.join(format!("thumb-{safe_key}-{side}.png"));
    // 0600: the pictures people sent are nobody else's business.
    let file = crate::paths::create_private_file(&path).map_err(TransferError::io)?;
    let mut writer = std::io::BufWriter::new(file);
    thumb
        .write_to(&mut writer, image::ImageFormat::Png)
        .map_err(|e| TransferError::Image(e.to_string()))?;
    std::io::Write::flush(&mut writer).map_err(TransferError::io)?;
    Ok(Thumbnail {
        path,
        width: thumb.width(),
        height: thumb.height(),
        full_width,
        full_height,
    })
}

/// [`thumbnail_blocking`] on a blocking thread.
pub async fn make_thumbnail(
    src: PathBuf,
    cache_dir: PathBuf,
    key: String,
) -> Result<Thumbnail, TransferError> {
    match tokio::task::spawn_blocking(move || thumbnail_blocking(&src, &cache_dir, &key)).await {
        Ok(r) => r,
        Err(e) => Err(TransferError::Image(format!("the decoder stopped: {e}"))),
    }
}

/// The image at `src` scaled to fit [`FULL_SIDE`], for the in-app viewer; returns the
/// PNG written to `cache_dir`.
pub async fn make_full(src: PathBuf, cache_dir: PathBuf) -> Result<PathBuf, TransferError> {
    let key = cache_key(&src.to_string_lossy());
    match tokio::task::spawn_blocking(move || scaled_blocking(&src, &cache_dir, &key, FULL_SIDE))
        .await
    {
        Ok(r) => r.map(|t| t.path),
        Err(e) => Err(TransferError::Image(format!("the decoder stopped: {e}"))),
    }
}

/// A cache key for a URL (hex SHA-256).
pub fn cache_key(url: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(url.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where thumbnails are cached. `LOQUAT_CACHE_DIR` overrides the platform default.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LOQUAT_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("im", "Loquat", "loquat")
        .map(|d| d.cache_dir().join("thumbnails"))
}
