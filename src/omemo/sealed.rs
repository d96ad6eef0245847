//! OMEMO state at rest: every record [`super::SledStore`] writes (identity key pair,
//! sessions, pre-keys, remote identities) is sealed with AES-256-GCM under a key held in
//! the OS keyring ([`crate::secrets::omemo_key`]), so the data folder alone never holds a
//! private key in the clear.
//!
//! A sealed value is `1 | nonce (12) | ciphertext | tag (16)`. The associated data is the
//! tree's name and the record's key, so a record moved to another key or tree (or another
//! account's prefix) does not open.

use crate::ids::AccountId;
use crate::secrets::{SecretError, SecretStore};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

const VERSION: u8 = 1;
const NONCE: usize = 12;

/// The 32-byte key the OMEMO records are sealed with.
#[derive(Clone)]
pub struct AtRestKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for AtRestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AtRestKey(<hidden>)")
    }
}

impl AtRestKey {
    /// A fresh random key, or `None` when the system has no randomness to give.
    pub fn generate() -> Option<AtRestKey> {
        let mut k = Zeroizing::new([0u8; 32]);
        getrandom::fill(k.as_mut_slice()).ok()?;
        Some(AtRestKey(k))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> AtRestKey {
        AtRestKey(Zeroizing::new(bytes))
    }

    /// Lowercase hex, the form kept in the keyring.
    pub fn to_hex(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(64));
        for b in self.0.iter() {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    /// The key from its hex form; `None` when it is not 64 hex digits.
    pub fn from_hex(hex: &str) -> Option<AtRestKey> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut k = Zeroizing::new([0u8; 32]);
        for (i, slot) in k.iter_mut().enumerate() {
            *slot = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(AtRestKey(k))
    }

    fn cipher(&self) -> Option<Aes256Gcm> {
        Aes256Gcm::new_from_slice(self.0.as_slice()).ok()
    }

    /// `plain` sealed for `tree` and `key`.
    pub fn seal(&self, tree: &str, key: &[u8], plain: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE];
        getrandom::fill(&mut nonce).ok()?;
        let aad = aad(tree, key);
        let sealed = self
            .cipher()?
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .ok()?;
        let mut out = Vec::with_capacity(1 + NONCE + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Some(out)
    }

    /// What [`AtRestKey::seal`] sealed for the same `tree` and `key`; `None` when the value
    /// was sealed with another key, altered or moved.
    pub fn open(&self, tree: &str, key: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (&version, rest) = sealed.split_first()?;
        if version != VERSION || rest.len() < NONCE + 16 {
            return None;
        }
        let (nonce, body) = rest.split_at(NONCE);
        let nonce: [u8; NONCE] = nonce.try_into().ok()?;
        let aad = aad(tree, key);
        self.cipher()?
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

/// The keyring entry (the "user" under [`crate::secrets::KEYRING_SERVICE`]) holding the
/// OMEMO key of `account`, beside its password.
pub fn keyring_entry(account: &AccountId) -> AccountId {
    AccountId(format!("omemo-at-rest:{}", account.0))
}

/// The key sealing `account`'s OMEMO state: read from `secrets`, or made and saved there
/// the first time. Blocks (keyring calls): run it off the UI thread. With the in-memory
/// fallback (no keyring), the key lasts for this run only, as passwords do: then the
/// session keeps its OMEMO state in memory too (see `session::omemo`).
pub fn keyring_key(
    secrets: &dyn SecretStore,
    account: &AccountId,
) -> Result<AtRestKey, SecretError> {
    let entry = keyring_entry(account);
    if let Some(hex) = secrets.get(&entry)? {
        let hex = Zeroizing::new(hex);
        return AtRestKey::from_hex(&hex).ok_or_else(|| {
            SecretError::Other("the OMEMO key in the keyring is damaged".to_owned())
        });
    }
    let key = AtRestKey::generate()
        .ok_or_else(|| SecretError::Other("no randomness for an OMEMO key".to_owned()))?;
    secrets.set(&entry, &key.to_hex())?;
    Ok(key)
}

fn aad(tree: &str, key: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(tree.len() + 1 + key.len());
    a.extend_from_slice(tree.as_bytes());
    a.push(0);
    a.extend_from_slice(key);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let k = AtRestKey::generate().unwrap();
        let sealed = k.seal("t", b"k1", b"secret").unwrap();
        assert_eq!(k.open("t", b"k1", &sealed).unwrap().as_slice(), b"secret");
        assert!(
            k.open("t", b"k2", &sealed).is_none(),
            "moved to another key"
        );
        assert!(
            k.open("u", b"k1", &sealed).is_none(),
            "moved to another tree"
        );
        let other = AtRestKey::generate().unwrap();
        assert!(other.open("t", b"k1", &sealed).is_none(), "another key");
        let mut bad = sealed.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(k.open("t", b"k1", &bad).is_none(), "altered");
        assert!(k.open("t", b"k1", &[1, 2, 3]).is_none(), "short");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn the_key_is_made_once_and_kept_in_the_secret_store() {
        let secrets = crate::secrets::MemorySecrets::new();
        let account = AccountId("a1".to_owned());
        let k = keyring_key(&secrets, &account).unwrap();
        let again = keyring_key(&secrets, &account).unwrap();
        let sealed = k.seal("t", b"", b"x").unwrap();
        assert!(again.open("t", b"", &sealed).is_some(), "the same key");
        assert!(
            secrets.get(&account).unwrap().is_none(),
            "not the password entry"
        );
        let other = keyring_key(&secrets, &AccountId("a2".to_owned())).unwrap();
        assert!(
            other.open("t", b"", &sealed).is_none(),
            "one key per account"
        );
    }

    #[test]
    fn hex_form() {
        let k = AtRestKey::generate().unwrap();
        let back = AtRestKey::from_hex(&k.to_hex()).unwrap();
        let sealed = k.seal("t", b"", b"x").unwrap();
        assert!(back.open("t", b"", &sealed).is_some());
        assert!(AtRestKey::from_hex("zz").is_none());
        assert!(AtRestKey::from_hex(&"g".repeat(64)).is_none());
    }
}
