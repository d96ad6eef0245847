//! The trust in other devices' identity keys, as the person sees it: their fingerprints,
//! a key that changed (refused by `callbacks::is_trusted_identity`, recorded) and the one
//! way to accept it.

use super::{Omemo, OmemoError, fingerprint};

impl Omemo {
    /// The fingerprint of the identity key `jid`'s `device` showed us (in a bundle we built
    /// a session from, or a message), if it showed one.
    pub fn remote_fingerprint(&self, jid: &str, device: u32) -> Result<Option<String>, OmemoError> {
        self.store(|s| Ok(s.remote_identity(jid, device)?.map(|k| fingerprint(&k))))
    }

    /// The fingerprint of the other identity key `jid`'s `device` showed after the one we
    /// know (refused until the person accepts it), if it showed one.
    pub fn changed_fingerprint(
        &self,
        jid: &str,
        device: u32,
    ) -> Result<Option<String>, OmemoError> {
        self.store(|s| Ok(s.changed_identity(jid, device)?.map(|k| fingerprint(&k))))
    }

    /// The person accepts the changed identity key of `jid`'s `device` whose fingerprint
    /// they were shown (`fingerprint`, spaces ignored): it replaces the stored one and the
    /// session made with the old key is dropped, so the next message from or to the device
    /// starts a new one. `false` when that device shows no such changed key.
    pub fn accept_changed_identity(
        &self,
        jid: &str,
        device: u32,
        shown: &str,
    ) -> Result<bool, OmemoError> {
        let compact = |f: &str| f.split_whitespace().collect::<String>().to_lowercase();
        self.store(|s| {
            let Some(key) = s.changed_identity(jid, device)? else {
                return Ok(false);
            };
            if compact(&fingerprint(&key)) != compact(shown) {
                return Ok(false);
            }
            s.set_remote_identity(jid, device, &key)?;
            s.set_changed_identity(jid, device, None)?;
            s.remove_session(jid, device)?;
            s.flush()?;
            Ok(true)
        })
    }

    /// A bundle of `jid`'s `device` fetched while we already have a session with it (so
    /// none is built from it) shows `identity_key`. A key other than the one we hold is
    /// recorded as changed, exactly as when a message under it is refused
    /// (`callbacks::is_trusted_identity`): the stored key and the session stay, and the
    /// device is left out of what we send until the person accepts it. `true` when the
    /// key changed; a key that is not a Curve25519 key is `BadBundle`.
    pub fn note_bundle_identity(
        &self,
        jid: &str,
        device: u32,
        identity_key: &[u8],
    ) -> Result<bool, OmemoError> {
        let well_formed = identity_key.len() == super::xml::PUBLIC_KEY_LEN
            && identity_key.first() == Some(&0x05)
            && identity_key.last().is_some_and(|b| b & 0x80 == 0);
        if !well_formed {
            return Err(OmemoError::BadBundle("key encoding"));
        }
        self.store(|s| {
            let known = s.remote_identity(jid, device)?;
            if super::store::trust(known.as_deref(), identity_key) != super::store::Trust::Changed {
                return Ok(false);
            }
            if s.changed_identity(jid, device)?.as_deref() != Some(identity_key) {
                s.set_changed_identity(jid, device, Some(identity_key))?;
                s.flush()?;
            }
            Ok(true)
        })
    }
}
