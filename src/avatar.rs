//! Avatar pictures (issue #18): pictures from the network decoded under `image::Limits`
//! into small square thumbnails (call from a blocking thread), our own picture cropped
//! and scaled before it is published, and the on-disk cache (`cache`). The protocol side
//! is `xmpp::avatar`; fetching and deciding is the session's (`session::avatars`).

pub mod cache;

use crate::xmpp::avatar::AvatarError;
use image::{DynamicImage, ImageReader, Limits};
use std::io::Cursor;

/// Side of the cached thumbnails, in pixels (twice the largest size drawn, for HiDPI).
pub const THUMB_PX: u32 = 96;
/// Side of the avatar we publish.
pub const OWN_PX: u32 = 256;
/// Widest or tallest avatar from the network we decode.
pub const MAX_DIMENSION: u32 = 4096;
/// Most memory decoding one avatar from the network may allocate.
pub const MAX_ALLOC: u64 = 32 * 1024 * 1024;
/// Our own picture comes from a file the user chose (a camera photo): larger limits.
const OWN_MAX_DIMENSION: u32 = 12_000;
const OWN_MAX_ALLOC: u64 = 512 * 1024 * 1024;

fn decode(bytes: &[u8], dimension: u32, alloc: u64) -> Result<DynamicImage, AvatarError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| AvatarError::NotAnImage(e.to_string()))?;
    if reader.format().is_none() {
        return Err(AvatarError::NotAnImage("unknown format".to_owned()));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(dimension);
    limits.max_image_height = Some(dimension);
    limits.max_alloc = Some(alloc);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| AvatarError::NotAnImage(e.to_string()))
}

/// The centre square of `image`, scaled to `side` pixels.
fn square(image: &DynamicImage, side: u32) -> DynamicImage {
    let (w, h) = (image.width(), image.height());
    let s = w.min(h).max(1);
    let cropped = image.crop_imm((w - s.min(w)) / 2, (h - s.min(h)) / 2, s, s);
    cropped.resize_exact(side, side, image::imageops::FilterType::Triangle)
}

fn png(image: &DynamicImage) -> Result<Vec<u8>, AvatarError> {
    let mut out = Vec::new();
    image
        .to_rgba8()
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .map_err(|e| AvatarError::NotAnImage(e.to_string()))?;
    Ok(out)
}

/// `image` with everything outside its inscribed circle transparent (the edge
/// anti-aliased): the renderers round an image's corners only on some backends, so the
/// thumbnail carries its round shape itself.
fn circle(image: &DynamicImage) -> DynamicImage {
    let mut rgba = image.to_rgba8();
    let (w, h) = rgba.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let r = cx.min(cy);
    for (x, y, p) in rgba.enumerate_pixels_mut() {
        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
        let coverage = (r - (dx * dx + dy * dy).sqrt() + 0.5).clamp(0.0, 1.0);
        p.0[3] = (f32::from(p.0[3]) * coverage).round() as u8;
    }
    DynamicImage::ImageRgba8(rgba)
}

/// An avatar from the network as the PNG thumbnail we cache: [`THUMB_PX`] square, the
/// picture in a circle. Blocking; refuses what is not a picture or exceeds
/// [`MAX_DIMENSION`]/[`MAX_ALLOC`].
pub fn thumbnail_png(bytes: &[u8]) -> Result<Vec<u8>, AvatarError> {
    let image = decode(bytes, MAX_DIMENSION, MAX_ALLOC)?;
    png(&circle(&square(&image, THUMB_PX)))
}

/// A picture the user chose, as the avatar we publish: the centre square scaled to
/// [`OWN_PX`], PNG (XEP-0084 asks for a PNG version). Blocking.
pub fn own_avatar_png(bytes: &[u8]) -> Result<Vec<u8>, AvatarError> {
    let image = decode(bytes, OWN_MAX_DIMENSION, OWN_MAX_ALLOC)?;
    png(&square(&image, OWN_PX))
}

#[cfg(test)]
mod tests;
