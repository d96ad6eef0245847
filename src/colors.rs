//! Consistent colours from names (XEP-0392, version 0.6 and later), so an account or a
//! nick has the same colour everywhere, in Loquat and in other clients.
//!
//! The text's SHA-1 gives a hue angle; HSLuv at saturation 100 and lightness 50 turns
//! that angle into an sRGB colour of even perceived brightness. No colour-vision
//! correction and no background adaptation here: those are display choices for the UI.
//!
//! HSLuv is implemented below from its definition: HSLuv -> LCh(uv) (the chroma scaled
//! to the largest one sRGB can show at that lightness and hue) -> CIE Luv -> CIE XYZ
//! (D65 white) -> linear sRGB -> sRGB with its transfer curve.

#![deny(clippy::indexing_slicing)]

use sha1::{Digest, Sha1};

/// The XEP-0392 colour (sRGB, 8 bits per channel) for `input`.
pub fn consistent_color(input: &str) -> [u8; 3] {
    hsluv_to_rgb(hue_angle(input), 100.0, 50.0).map(to_byte)
}

/// The XEP-0392 hue angle of `input`, in degrees, in `[0, 360)`: the first two bytes of
/// the SHA-1 of its UTF-8 bytes, read as a little-endian `u16`, scaled to a circle.
pub fn hue_angle(input: &str) -> f64 {
    let digest = Sha1::digest(input.as_bytes());
    let value = match digest.get(..2) {
        Some(&[low, high]) => u16::from_le_bytes([low, high]),
        // A SHA-1 digest always has 20 bytes.
        _ => 0,
    };
    f64::from(value) / 65536.0 * 360.0
}

/// A channel in `[0, 1]` (clamped) to `0..=255`.
fn to_byte(channel: f64) -> u8 {
    // In range after the clamp, so the cast neither wraps nor saturates.
    (channel.clamp(0.0, 1.0) * 255.0).round() as u8
}

// ---------------------------------------------------------------- HSLuv

/// CIE XYZ (D65) to linear sRGB (IEC 61966-2-1), one row per output channel.
const XYZ_TO_RGB: [[f64; 3]; 3] = [
    [3.240969941904521, -1.537383177570093, -0.498610760293],
    [-0.96924363628087, 1.87596750150772, 0.041555057407175],
    [0.055630079696993, -0.20397695888897, 1.056971514242878],
];

/// u' and v' chromaticity of the D65 reference white.
const REF_U: f64 = 0.19783000664283;
const REF_V: f64 = 0.46831999493879;
/// CIE constants for the lightness curve: (29/3)^3 and (6/29)^3.
const KAPPA: f64 = 24389.0 / 27.0;
const EPSILON: f64 = 216.0 / 24389.0;

/// sRGB (each channel in `[0, 1]`, not clamped) for an HSLuv colour: hue in degrees,
/// saturation and lightness in `[0, 100]`.
fn hsluv_to_rgb(hue: f64, saturation: f64, lightness: f64) -> [f64; 3] {
    let (l, c, h) = hsluv_to_lch(hue, saturation, lightness);
    let (l, u, v) = lch_to_luv(l, c, h);
    let xyz = luv_to_xyz(l, u, v);
    XYZ_TO_RGB.map(|row| gamma(dot(row, xyz)))
}

fn hsluv_to_lch(h: f64, s: f64, l: f64) -> (f64, f64, f64) {
    if l > 99.999_999_9 {
        return (100.0, 0.0, h);
    }
    if l < 1e-8 {
        return (0.0, 0.0, h);
    }
    (l, max_chroma(l, h) / 100.0 * s, h)
}

fn lch_to_luv(l: f64, c: f64, h: f64) -> (f64, f64, f64) {
    let rad = h.to_radians();
    (l, rad.cos() * c, rad.sin() * c)
}

fn luv_to_xyz(l: f64, u: f64, v: f64) -> [f64; 3] {
    if l == 0.0 {
        return [0.0, 0.0, 0.0];
    }
    let u_prime = u / (13.0 * l) + REF_U;
    let v_prime = v / (13.0 * l) + REF_V;
    let y = lightness_to_y(l);
    let x = 9.0 * y * u_prime / (4.0 * v_prime);
    let z = y * (12.0 - 3.0 * u_prime - 20.0 * v_prime) / (4.0 * v_prime);
    [x, y, z]
}

/// Relative luminance (white = 1) for CIE lightness `l`.
fn lightness_to_y(l: f64) -> f64 {
    if l <= 8.0 {
        l / KAPPA
    } else {
        ((l + 16.0) / 116.0).powi(3)
    }
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y).sum()
}

/// The sRGB transfer curve (linear light to encoded value).
fn gamma(c: f64) -> f64 {
    if c <= 0.003_130_8 {
        12.92 * c
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

/// The largest chroma sRGB can show at lightness `l` and hue `h` (degrees).
///
/// At a fixed lightness, each sRGB channel reaching 0 or 1 is a straight line in the
/// (u, v) plane. Walking from the grey axis along the hue's direction, the first of
/// these six lines we cross is the gamut's edge.
fn max_chroma(l: f64, h: f64) -> f64 {
    let rad = h.to_radians();
    let (sin, cos) = rad.sin_cos();
    bounds(l)
        .into_iter()
        .filter_map(|(slope, intercept)| {
            let length = intercept / (sin - slope * cos);
            (length >= 0.0).then_some(length)
        })
        .fold(f64::INFINITY, f64::min)
}

/// The six gamut lines `v = slope * u + intercept` at lightness `l`: for each channel,
/// where it is 0 and where it is 1.
///
/// With Y fixed by `l`, writing X and Z through u and v (see [`luv_to_xyz`]) makes
/// "channel `m1 X + m2 Y + m3 Z` equals `t`" linear in (u, v). The integer constants are
/// the Luv constants (13, 9, 4, the D65 white point, 116^3 = 1560896) multiplied out,
/// as in the HSLuv reference definition.
fn bounds(l: f64) -> [(f64, f64); 6] {
    let sub1 = (l + 16.0).powi(3) / 1_560_896.0;
    let sub2 = if sub1 > EPSILON { sub1 } else { l / KAPPA };
    let mut out = [(0.0, 0.0); 6];
    let mut slots = out.iter_mut();
    for [m1, m2, m3] in XYZ_TO_RGB {
        for t in [0.0, 1.0] {
            let top1 = (284_517.0 * m1 - 94_839.0 * m3) * sub2;
            let top2 =
                (838_422.0 * m3 + 769_860.0 * m2 + 731_718.0 * m1) * l * sub2 - 769_860.0 * t * l;
            let bottom = (632_260.0 * m3 - 126_452.0 * m2) * sub2 + 126_452.0 * t;
            if let Some(slot) = slots.next() {
                *slot = (top1 / bottom, top2 / bottom);
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    /// XEP-0392 section 9.1, "No Color Vision Deficiency correction": text, angle and
    /// sRGB (three decimals).
    const VECTORS: &[(&str, f64, [f64; 3])] = &[
        ("Romeo", 327.255249, [0.865, 0.000, 0.686]),
        ("juliet@capulet.lit", 209.410400, [0.000, 0.515, 0.573]),
        ("😺", 331.199341, [0.872, 0.000, 0.659]),
        ("council", 359.994507, [0.918, 0.000, 0.394]),
        ("Board", 171.430664, [0.000, 0.527, 0.457]),
    ];

    #[test]
    fn angles_match_the_xep_test_vectors() {
        for (text, angle, _) in VECTORS {
            let got = hue_angle(text);
            assert!(
                (got - angle).abs() < 1e-5,
                "{text}: angle {got}, XEP says {angle}"
            );
        }
    }

    #[test]
    fn colours_match_the_xep_test_vectors() {
        for (text, _, rgb) in VECTORS {
            let got = hsluv_to_rgb(hue_angle(text), 100.0, 50.0);
            for (channel, (g, want)) in got.iter().zip(rgb).enumerate() {
                assert!(
                    (g - want).abs() <= 0.0006,
                    "{text}: channel {channel} is {g:.4}, XEP says {want}"
                );
            }
            let bytes = consistent_color(text);
            for (b, want) in bytes.iter().zip(rgb) {
                assert!(
                    (f64::from(*b) - want * 255.0).abs() <= 1.0,
                    "{text}: {bytes:?}"
                );
            }
        }
    }

    #[test]
    fn angle_from_a_hand_computed_digest() {
        // SHA-1("abc") = a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d (FIPS 180 example):
        // the first two bytes, little-endian, are 0x99a9 = 39337.
        let want = 39337.0 / 65536.0 * 360.0;
        assert!((hue_angle("abc") - want).abs() < 1e-9);
        // And the empty string: da39a3ee... -> 0x39da = 14810.
        let want = 14810.0 / 65536.0 * 360.0;
        assert!((hue_angle("") - want).abs() < 1e-9);
    }

    #[test]
    fn deterministic_and_distinct() {
        assert_eq!(
            consistent_color("alice@example.org"),
            consistent_color("alice@example.org")
        );
        assert_ne!(
            consistent_color("alice@example.org"),
            consistent_color("bob@example.org")
        );
        // Case matters: the XEP hashes the JID as it is compared, not folded here.
        assert_ne!(hue_angle("Romeo"), hue_angle("romeo"));
    }

    #[test]
    fn every_hue_is_in_gamut_with_even_lightness() {
        for step in 0..720 {
            let hue = f64::from(step) / 2.0;
            let rgb = hsluv_to_rgb(hue, 100.0, 50.0);
            for c in rgb {
                assert!(
                    (-1e-6..=1.0 + 1e-6).contains(&c),
                    "hue {hue}: channel {c} out of gamut"
                );
            }
            // Full saturation touches the gamut: some channel is at 0 or 1.
            assert!(
                rgb.iter().any(|c| c.abs() < 1e-4 || (c - 1.0).abs() < 1e-4),
                "hue {hue}: {rgb:?} is not on the gamut's edge"
            );
            // Lightness 50 means relative luminance Y = ((50+16)/116)^3 for every hue.
            let linear = rgb.map(|c| {
                if c <= 0.04045 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            });
            let y = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
            assert!(
                (y - (66.0f64 / 116.0).powi(3)).abs() < 1e-3,
                "hue {hue}: Y {y}"
            );
        }
    }

    #[test]
    fn greys_at_the_ends_of_lightness() {
        assert_eq!(
            hsluv_to_rgb(10.0, 100.0, 100.0).map(to_byte),
            [255, 255, 255]
        );
        assert_eq!(hsluv_to_rgb(10.0, 100.0, 0.0).map(to_byte), [0, 0, 0]);
        let grey = hsluv_to_rgb(200.0, 0.0, 50.0).map(to_byte);
        assert_eq!(grey[0], grey[1]);
        assert_eq!(grey[1], grey[2]);
    }
}
