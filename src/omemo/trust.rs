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
}
