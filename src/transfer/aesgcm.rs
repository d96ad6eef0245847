//! Files in encrypted chats (XEP-0454, OMEMO media sharing): the file is encrypted with
//! AES-256-GCM under a fresh random 32-byte key and 12-byte IV before it is uploaded,
//! and shared as `aesgcm://host/path#<iv><key>` (hex) inside the OMEMO message, so the
//! upload server only ever holds ciphertext (with the 16-byte GCM tag appended). A
//! received `aesgcm://` link is fetched over https (its own scheme swapped back), and the
//! file is decrypted and its tag checked before anything shows it; a file that does not
//! match its key is an error and is removed.
//!
//! Older clients put a 16-byte IV in the fragment (96 hex digits): read too.
//!
//! The whole file is held in memory while it is encrypted or decrypted, so encrypted
//! files are limited to [`MAX_BYTES`] both ways (GCM's tag is checked at the end; a
//! streaming decryptor that holds nothing back until then is left for later).

use super::TransferError;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::aes::cipher::consts::{U12, U16};
use aes_gcm::{AesGcm, Nonce};
use std::path::Path;
use zeroize::Zeroizing;

/// The largest encrypted file sent or accepted (its plain size).
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// The tag GCM appends to the ciphertext.
pub const TAG: usize = 16;

/// The scheme of an encrypted file's link.
pub const SCHEME: &str = "aesgcm";

/// A parsed `aesgcm://` link: where the ciphertext is, and its key.
pub struct Link {
    /// The same address with `https` in place of `aesgcm` and no fragment.
    pub https: String,
    iv: Vec<u8>,
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("https", &self.https)
            .finish_non_exhaustive()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The address a file is fetched from: an `aesgcm://` link's https address, any other
/// URL as it is.
pub fn fetch_url(url: &str) -> String {
    crate::xmpp::upload::aesgcm_https(url).unwrap_or_else(|| url.to_owned())
}

/// Reads an `aesgcm://host/path#<iv><key>` link (IV of 12 or 16 bytes).
pub fn parse(url: &str) -> Option<Link> {
    let https = crate::xmpp::upload::aesgcm_https(url)?;
    let (_, fragment) = url.trim().split_once('#')?;
    let bytes = unhex(fragment)?;
    let iv_len = match bytes.len() {
        44 => 12,
        48 => 16,
        _ => return None,
    };
    let (iv, key) = bytes.split_at(iv_len);
    let mut k = Zeroizing::new([0u8; 32]);
    k.copy_from_slice(key);
    Some(Link {
        https,
        iv: iv.to_vec(),
        key: k,
    })
}

/// The link to share for a file uploaded to `get_url` (https) with `iv` and `key`.
pub fn link(get_url: &str, iv: &[u8; 12], key: &[u8; 32]) -> Option<String> {
    let rest = get_url.strip_prefix("https://")?;
    let rest = rest.split('#').next().unwrap_or(rest);
    Some(format!("{SCHEME}://{rest}#{}{}", hex(iv), hex(key)))
}

/// A fresh key and IV from the OS.
fn fresh() -> Result<([u8; 12], Zeroizing<[u8; 32]>), TransferError> {
    let mut iv = [0u8; 12];
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut iv)
        .and_then(|()| getrandom::fill(key.as_mut_slice()))
        .map_err(|e| TransferError::Io(format!("no randomness for the file's key: {e}")))?;
    Ok((iv, key))
}

/// Encrypts `plain` in place (the tag appended) with a fresh key; the IV and key.
pub fn encrypt(plain: &mut Vec<u8>) -> Result<([u8; 12], Zeroizing<[u8; 32]>), TransferError> {
    let (iv, key) = fresh()?;
    let cipher = AesGcm::<Aes256, U12>::new_from_slice(key.as_slice())
        .map_err(|_| TransferError::Io("bad key length".to_owned()))?;
    let tag = cipher
        .encrypt_inout_detached(&Nonce::from(iv), &[], plain.as_mut_slice().into())
        .map_err(|_| TransferError::Io("the file could not be encrypted".to_owned()))?;
    plain.extend_from_slice(tag.as_slice());
    Ok((iv, key))
}

/// What a file that does not decrypt is.
fn altered() -> TransferError {
    TransferError::Io(
        "the encrypted file does not match its key: it was altered or damaged".to_owned(),
    )
}

/// Decrypts `data` (ciphertext with its tag) in place for `link`, checking the tag.
pub fn decrypt(link: &Link, data: &mut Vec<u8>) -> Result<(), TransferError> {
    if data.len() < TAG {
        return Err(altered());
    }
    let body_len = data.len() - TAG;
    let (body, tag) = data.split_at_mut(body_len);
    let ok = match link.iv.len() {
        12 => {
            let cipher = AesGcm::<Aes256, U12>::new_from_slice(link.key.as_slice())
                .map_err(|_| altered())?;
            let nonce = <[u8; 12]>::try_from(link.iv.as_slice()).map_err(|_| altered())?;
            let tag = aes_gcm::Tag::<U16>::try_from(&*tag).map_err(|_| altered())?;
            cipher
                .decrypt_inout_detached(&Nonce::from(nonce), &[], body.into(), &tag)
                .is_ok()
        }
        16 => {
            let cipher = AesGcm::<Aes256, U16>::new_from_slice(link.key.as_slice())
                .map_err(|_| altered())?;
            let nonce = <[u8; 16]>::try_from(link.iv.as_slice()).map_err(|_| altered())?;
            let tag = aes_gcm::Tag::<U16>::try_from(&*tag).map_err(|_| altered())?;
            cipher
                .decrypt_inout_detached(&Nonce::from(nonce), &[], body.into(), &tag)
                .is_ok()
        }
        _ => false,
    };
    if !ok {
        return Err(altered());
    }
    data.truncate(body_len);
    Ok(())
}

/// Encrypts the file at `src` into `dst` (a new file); the IV and key. Blocking.
pub fn encrypt_file(
    src: &Path,
    dst: &Path,
) -> Result<([u8; 12], Zeroizing<[u8; 32]>), TransferError> {
    let mut data = Zeroizing::new(std::fs::read(src).map_err(TransferError::io)?);
    let keys = encrypt(&mut data)?;
    std::fs::write(dst, data.as_slice()).map_err(TransferError::io)?;
    Ok(keys)
}

/// Decrypts the downloaded file at `path` in place for `link`. Blocking. On failure the
/// file is left as it was (the caller removes it).
pub fn decrypt_file(path: &Path, link: &Link) -> Result<(), TransferError> {
    let mut data = std::fs::read(path).map_err(TransferError::io)?;
    decrypt(link, &mut data)?;
    let plain = Zeroizing::new(data);
    std::fs::write(path, plain.as_slice()).map_err(TransferError::io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_round_trips_through_a_link() {
        let mut data = b"a picture, honestly".to_vec();
        let (iv, key) = encrypt(&mut data).unwrap();
        assert_eq!(data.len(), 19 + TAG);
        assert!(!data.windows(7).any(|w| w == b"picture"));
        let url = link("https://up.example.org/f/a%20b.jpg", &iv, &key).unwrap();
        assert!(url.starts_with("aesgcm://up.example.org/f/a%20b.jpg#"));
        assert_eq!(url.split('#').nth(1).unwrap().len(), 88);
        let parsed = parse(&url).unwrap();
        assert_eq!(parsed.https, "https://up.example.org/f/a%20b.jpg");
        assert_eq!(fetch_url(&url), parsed.https);
        decrypt(&parsed, &mut data).unwrap();
        assert_eq!(data, b"a picture, honestly");
        // A received body that is the link is a file, named from its path.
        let file = crate::xmpp::upload::attachment(None, &url).unwrap();
        assert_eq!(file.url, url);
        assert_eq!(file.name, "a b.jpg");
    }

    #[test]
    fn an_altered_file_or_a_wrong_key_is_refused() {
        let mut data = vec![7u8; 1000];
        let (iv, key) = encrypt(&mut data).unwrap();
        let url = link("https://h/x.bin", &iv, &key).unwrap();
        let mut bad = data.clone();
        bad[10] ^= 1;
        assert!(decrypt(&parse(&url).unwrap(), &mut bad).is_err());
        let mut short = data[..8].to_vec();
        assert!(decrypt(&parse(&url).unwrap(), &mut short).is_err());
        let (iv2, key2) = fresh().unwrap();
        let other = link("https://h/x.bin", &iv2, &key2).unwrap();
        assert!(decrypt(&parse(&other).unwrap(), &mut data).is_err());
    }

    #[test]
    fn a_16_byte_iv_from_older_clients_is_read() {
        use aes_gcm::aead::Aead;
        let key = [3u8; 32];
        let iv = [9u8; 16];
        let cipher = AesGcm::<Aes256, U16>::new_from_slice(&key).unwrap();
        let mut data = cipher
            .encrypt(&Nonce::from(iv), b"old style".as_slice())
            .unwrap();
        let url = format!("aesgcm://h.example/x.txt#{}{}", hex(&iv), hex(&key));
        decrypt(&parse(&url).unwrap(), &mut data).unwrap();
        assert_eq!(data, b"old style");
    }

    #[test]
    fn junk_links_are_not_links() {
        for url in [
            "https://h/x.jpg",
            "aesgcm://h/x.jpg",
            "aesgcm://h/x.jpg#00",
            "aesgcm://h/x.jpg#zz",
            "aesgcm://#0011",
            &format!("aesgcm:///x#{}", "0".repeat(88)),
        ] {
            assert!(parse(url).is_none(), "{url}");
        }
        assert_eq!(fetch_url("AESGCM://h/x#00").as_str(), "https://h/x");
    }
}
