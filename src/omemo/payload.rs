//! The OMEMO 0.3 payload: the message body under AES-128-GCM (the OMEMO 2 payload is in
//! `v2.rs`).

use super::OmemoError;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{AesGcm, aes::Aes128};

/// Decrypts an OMEMO 0.3 payload with the key material from the session: 16-byte key and
/// 16-byte tag (the usual), or the key alone with the tag at the payload's end (older
/// clients). 12- or 16-byte IVs.
pub(super) fn open(material: &[u8], iv: &[u8], payload: &[u8]) -> Result<String, OmemoError> {
    let (key, sealed) = match material.len() {
        32 => {
            let mut sealed = payload.to_vec();
            sealed.extend_from_slice(&material[16..]);
            (&material[..16], sealed)
        }
        16 => (material, payload.to_vec()),
        _ => return Err(OmemoError::Malformed("key material")),
    };
    use aes_gcm::aead::consts::{U12, U16};
    let plain = match iv.len() {
        12 => AesGcm::<Aes128, U12>::new_from_slice(key)
            .ok()
            .and_then(|g| g.decrypt(iv.try_into().ok()?, sealed.as_slice()).ok()),
        16 => AesGcm::<Aes128, U16>::new_from_slice(key)
            .ok()
            .and_then(|g| g.decrypt(iv.try_into().ok()?, sealed.as_slice()).ok()),
        _ => return Err(OmemoError::Malformed("iv")),
    }
    .ok_or(OmemoError::BadTag)?;
    String::from_utf8(plain).map_err(|_| OmemoError::Malformed("body is not UTF-8"))
}
