//! Consistent colours from names (XEP-0392), so an account or a nick has the same colour
//! everywhere. (Stub: being implemented; the signature is the contract.)

/// The XEP-0392 colour (sRGB) for `input`.
pub fn consistent_color(_input: &str) -> [u8; 3] {
    [0x80, 0x80, 0x80]
}
