//! Where OMEMO keeps its state: this device's identity, the Signal sessions, pre-keys,
//! signed pre-keys and the identity keys of the devices we talk to. The records are the
//! library's own serialisations, kept as opaque bytes.
//!
//! [`SledStore`] seals every value with an [`AtRestKey`] (AES-256-GCM, see `sealed`):
//! the key lives in the OS keyring, the data folder holds only sealed records.

use super::sealed::AtRestKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, thiserror::Error)]
#[error("OMEMO store: {0}")]
pub struct StoreError(pub String);

/// This device's identity: its device id (also its registration id) and identity key pair
/// (the public key as 33 bytes with its type prefix, the private key as 32 bytes).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OwnIdentity {
    pub device_id: u32,
    pub registration_id: u32,
    pub public: Vec<u8>,
    pub private: Vec<u8>,
}

impl std::fmt::Debug for OwnIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnIdentity")
            .field("device_id", &self.device_id)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// The state libomemo-c reads and writes through its store callbacks. Addresses are a bare
/// JID and a device id.
pub trait OmemoStore {
    fn identity(&self) -> Result<Option<OwnIdentity>, StoreError>;
    fn set_identity(&mut self, identity: &OwnIdentity) -> Result<(), StoreError>;

    fn session(&self, jid: &str, device: u32) -> Result<Option<Vec<u8>>, StoreError>;
    fn set_session(&mut self, jid: &str, device: u32, record: &[u8]) -> Result<(), StoreError>;
    /// Whether there was one.
    fn remove_session(&mut self, jid: &str, device: u32) -> Result<bool, StoreError>;
    /// The devices of `jid` we have a session with.
    fn session_devices(&self, jid: &str) -> Result<Vec<u32>, StoreError>;

    /// A pre-key by id: one still offered, or one used lately (see [`USED_PRE_KEY_SECS`]).
    fn pre_key(&self, id: u32) -> Result<Option<Vec<u8>>, StoreError>;
    fn set_pre_key(&mut self, id: u32, record: &[u8]) -> Result<(), StoreError>;
    /// Called by the library once a pre-key message used the pre-key: it is no longer
    /// offered (not in [`OmemoStore::pre_key_ids`], so not in the bundle) but kept aside,
    /// dated `now` (seconds since the Unix epoch), for another sender that chose it from
    /// the same bundle.
    fn use_pre_key(&mut self, id: u32, now: u64) -> Result<(), StoreError>;
    /// What the library's "remove pre-key" does: [`OmemoStore::use_pre_key`] now.
    fn remove_pre_key(&mut self, id: u32) -> Result<(), StoreError> {
        self.use_pre_key(id, now_secs())
    }
    /// The pre-keys still offered.
    fn pre_key_ids(&self) -> Result<Vec<u32>, StoreError>;
    /// The used pre-keys kept aside, with the time each was used.
    fn used_pre_keys(&self) -> Result<Vec<(u32, u64)>, StoreError>;
    /// Forgets a used pre-key for good.
    fn forget_used_pre_key(&mut self, id: u32) -> Result<(), StoreError>;

    fn signed_pre_key(&self, id: u32) -> Result<Option<Vec<u8>>, StoreError>;
    fn set_signed_pre_key(&mut self, id: u32, record: &[u8]) -> Result<(), StoreError>;
    fn remove_signed_pre_key(&mut self, id: u32) -> Result<(), StoreError>;
    fn signed_pre_key_ids(&self) -> Result<Vec<u32>, StoreError>;

    /// The identity key a remote device presented (33 bytes), if we saw one.
    fn remote_identity(&self, jid: &str, device: u32) -> Result<Option<Vec<u8>>, StoreError>;
    fn set_remote_identity(&mut self, jid: &str, device: u32, key: &[u8])
    -> Result<(), StoreError>;
    /// The other identity key a device showed after we had stored one (refused until the
    /// person accepts it), if it showed one.
    fn changed_identity(&self, jid: &str, device: u32) -> Result<Option<Vec<u8>>, StoreError>;
    /// Records (or with `None` forgets) the changed identity key of a device.
    fn set_changed_identity(
        &mut self,
        jid: &str,
        device: u32,
        key: Option<&[u8]>,
    ) -> Result<(), StoreError>;

    /// Makes everything written so far durable (called before a message leaves or after
    /// one was decrypted, so a crash cannot rewind a ratchet).
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

type Addr = (String, u32);

/// How long a used pre-key stays usable. Every device that fetched our bundle before we
/// published it again may pick the same pre-key (one chance in [`super::PRE_KEYS`] for
/// two senders), and its first message may be read much later, from the archive; with
/// the pre-key gone, that message and its session would be lost ("no session").
/// Conversations keeps used pre-keys until its archive catch-up ends; we keep them two
/// weeks, the forward-secrecy cost being that a device stolen meanwhile could read those
/// first messages.
pub const USED_PRE_KEY_SECS: u64 = 14 * 24 * 60 * 60;
/// At most this many used pre-keys are kept (the oldest go first).
pub const USED_PRE_KEYS_KEPT: usize = 200;

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The used pre-keys to forget at `now`: those older than [`USED_PRE_KEY_SECS`], and
/// beyond the newest [`USED_PRE_KEYS_KEPT`].
pub fn stale_used_pre_keys(mut used: Vec<(u32, u64)>, now: u64) -> Vec<u32> {
    used.sort_by_key(|&(id, at)| (std::cmp::Reverse(at), id));
    used.iter()
        .enumerate()
        .filter(|&(i, &(_, at))| {
            i >= USED_PRE_KEYS_KEPT || now.saturating_sub(at) > USED_PRE_KEY_SECS
        })
        .map(|(_, &(id, _))| id)
        .collect()
}

/// Everything in memory, for tests.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    identity: Option<OwnIdentity>,
    sessions: BTreeMap<Addr, Vec<u8>>,
    pre_keys: BTreeMap<u32, Vec<u8>>,
    used_pre_keys: BTreeMap<u32, (u64, Vec<u8>)>,
    signed_pre_keys: BTreeMap<u32, Vec<u8>>,
    remote: BTreeMap<Addr, Vec<u8>>,
    changed: BTreeMap<Addr, Vec<u8>>,
}

/// What to make of the identity key a device presents, against the one we stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// First sight: trusted (blind trust before verification, as Conversations does).
    New,
    /// The key we know.
    Same,
    /// Another key than the one we know: refused, and recorded for the person to accept
    /// or not (never accepted silently).
    Changed,
}

/// The trust decision for `presented` when we stored `known`.
pub fn trust(known: Option<&[u8]>, presented: &[u8]) -> Trust {
    match known {
        None => Trust::New,
        Some(k) if k == presented => Trust::Same,
        Some(_) => Trust::Changed,
    }
}

impl OmemoStore for MemoryStore {
    fn identity(&self) -> Result<Option<OwnIdentity>, StoreError> {
        Ok(self.identity.clone())
    }
    fn set_identity(&mut self, identity: &OwnIdentity) -> Result<(), StoreError> {
        self.identity = Some(identity.clone());
        Ok(())
    }
    fn session(&self, jid: &str, device: u32) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.sessions.get(&(jid.to_owned(), device)).cloned())
    }
    fn set_session(&mut self, jid: &str, device: u32, record: &[u8]) -> Result<(), StoreError> {
        self.sessions
            .insert((jid.to_owned(), device), record.to_vec());
        Ok(())
    }
    fn remove_session(&mut self, jid: &str, device: u32) -> Result<bool, StoreError> {
        Ok(self.sessions.remove(&(jid.to_owned(), device)).is_some())
    }
    fn session_devices(&self, jid: &str) -> Result<Vec<u32>, StoreError> {
        Ok(self
            .sessions
            .keys()
            .filter(|(j, _)| j == jid)
            .map(|(_, d)| *d)
            .collect())
    }
    fn pre_key(&self, id: u32) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .pre_keys
            .get(&id)
            .or_else(|| self.used_pre_keys.get(&id).map(|(_, r)| r))
            .cloned())
    }
    fn set_pre_key(&mut self, id: u32, record: &[u8]) -> Result<(), StoreError> {
        self.used_pre_keys.remove(&id);
        self.pre_keys.insert(id, record.to_vec());
        Ok(())
    }
    fn use_pre_key(&mut self, id: u32, now: u64) -> Result<(), StoreError> {
        if let Some(record) = self.pre_keys.remove(&id) {
            self.used_pre_keys.insert(id, (now, record));
        }
        Ok(())
    }
    fn pre_key_ids(&self) -> Result<Vec<u32>, StoreError> {
        Ok(self.pre_keys.keys().copied().collect())
    }
    fn used_pre_keys(&self) -> Result<Vec<(u32, u64)>, StoreError> {
        Ok(self
            .used_pre_keys
            .iter()
            .map(|(&id, &(at, _))| (id, at))
            .collect())
    }
    fn forget_used_pre_key(&mut self, id: u32) -> Result<(), StoreError> {
        self.used_pre_keys.remove(&id);
        Ok(())
    }
    fn signed_pre_key(&self, id: u32) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.signed_pre_keys.get(&id).cloned())
    }
    fn set_signed_pre_key(&mut self, id: u32, record: &[u8]) -> Result<(), StoreError> {
        self.signed_pre_keys.insert(id, record.to_vec());
        Ok(())
    }
    fn remove_signed_pre_key(&mut self, id: u32) -> Result<(), StoreError> {
        self.signed_pre_keys.remove(&id);
        Ok(())
    }
    fn signed_pre_key_ids(&self) -> Result<Vec<u32>, StoreError> {
        Ok(self.signed_pre_keys.keys().copied().collect())
    }
    fn remote_identity(&self, jid: &str, device: u32) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.remote.get(&(jid.to_owned(), device)).cloned())
    }
    fn set_remote_identity(
        &mut self,
        jid: &str,
        device: u32,
        key: &[u8],
    ) -> Result<(), StoreError> {
        self.remote.insert((jid.to_owned(), device), key.to_vec());
        Ok(())
    }
    fn changed_identity(&self, jid: &str, device: u32) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.changed.get(&(jid.to_owned(), device)).cloned())
    }
    fn set_changed_identity(
        &mut self,
        jid: &str,
        device: u32,
        key: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let addr = (jid.to_owned(), device);
        match key {
            Some(k) => self.changed.insert(addr, k.to_vec()),
            None => self.changed.remove(&addr),
        };
        Ok(())
    }
}

/// The sled trees `omemo_*` of the app's database, one account's records under a key
/// prefix, every value sealed with the account's [`AtRestKey`]. New trees, so the schema
/// version stays as it is.
#[derive(Clone)]
pub struct SledStore {
    db: sled::Db,
    key: AtRestKey,
    prefix: Vec<u8>,
    identity: sled::Tree,
    sessions: sled::Tree,
    pre_keys: sled::Tree,
    used_pre_keys: sled::Tree,
    signed_pre_keys: sled::Tree,
    remote: sled::Tree,
    changed: sled::Tree,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

/// The sled trees holding OMEMO records (every account's, each under its key prefix).
pub const TREES: [&str; 7] = [
    "omemo_identity",
    "omemo_sessions",
    "omemo_pre_keys",
    "omemo_used_pre_keys",
    "omemo_signed_pre_keys",
    "omemo_remote_identities",
    "omemo_changed_identities",
];

impl SledStore {
    /// The key prefix of `account`'s records in every tree of [`TREES`].
    pub fn account_prefix(account: &str) -> Vec<u8> {
        let mut prefix = account.as_bytes().to_vec();
        prefix.push(0);
        prefix
    }

    /// The OMEMO records of `account` (any stable id of the account) in `db`, sealed with
    /// `key`.
    pub fn open(db: &sled::Db, account: &str, key: AtRestKey) -> Result<SledStore, StoreError> {
        let tree = |name: &str| db.open_tree(name).map_err(err);
        let prefix = Self::account_prefix(account);
        Ok(SledStore {
            db: db.clone(),
            key,
            prefix,
            identity: tree("omemo_identity")?,
            sessions: tree("omemo_sessions")?,
            pre_keys: tree("omemo_pre_keys")?,
            used_pre_keys: tree("omemo_used_pre_keys")?,
            signed_pre_keys: tree("omemo_signed_pre_keys")?,
            remote: tree("omemo_remote_identities")?,
            changed: tree("omemo_changed_identities")?,
        })
    }

    fn jid_prefix(&self, jid: &str) -> Vec<u8> {
        let mut k = self.prefix.clone();
        k.extend_from_slice(jid.as_bytes());
        k.push(0);
        k
    }

    fn addr_key(&self, jid: &str, device: u32) -> Vec<u8> {
        let mut k = self.jid_prefix(jid);
        k.extend_from_slice(&device.to_be_bytes());
        k
    }

    fn id_key(&self, id: u32) -> Vec<u8> {
        let mut k = self.prefix.clone();
        k.extend_from_slice(&id.to_be_bytes());
        k
    }

    /// The record under `key`, opened. A record that does not open (another key in the
    /// keyring, an altered file) is an error, never read as absent: that would make a new
    /// identity over the old one.
    fn get(&self, tree: &sled::Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(sealed) = tree.get(key).map_err(err)? else {
            return Ok(None);
        };
        let name = String::from_utf8_lossy(&tree.name()).into_owned();
        match self.key.open(&name, key, &sealed) {
            Some(plain) => Ok(Some(plain.to_vec())),
            None => Err(StoreError(format!(
                "a sealed record in {name} does not open with this account's key"
            ))),
        }
    }

    fn put(&self, tree: &sled::Tree, key: Vec<u8>, value: &[u8]) -> Result<(), StoreError> {
        let name = String::from_utf8_lossy(&tree.name()).into_owned();
        let sealed = self
            .key
            .seal(&name, &key, value)
            .ok_or_else(|| StoreError("no randomness to seal a record".to_owned()))?;
        tree.insert(key, sealed).map_err(err).map(drop)
    }

    /// The trailing big-endian u32 of every key under `prefix`.
    fn ids(tree: &sled::Tree, prefix: &[u8]) -> Result<Vec<u32>, StoreError> {
        let mut out = Vec::new();
        for item in tree.scan_prefix(prefix) {
            let (k, _) = item.map_err(err)?;
            if let Some(tail) = k
                .get(prefix.len()..)
                .and_then(|t| <[u8; 4]>::try_from(t).ok())
            {
                out.push(u32::from_be_bytes(tail));
            }
        }
        Ok(out)
    }
}

impl OmemoStore for SledStore {
    fn identity(&self) -> Result<Option<OwnIdentity>, StoreError> {
        match self.get(&self.identity, &self.prefix)? {
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(err),
            None => Ok(None),
        }
    }
    fn set_identity(&mut self, identity: &OwnIdentity) -> Result<(), StoreError> {
        let bytes = zeroize::Zeroizing::new(serde_json::to_vec(identity).map_err(err)?);
        self.put(&self.identity, self.prefix.clone(), &bytes)
    }
    fn session(&self, jid: &str, device: u32) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(&self.sessions, &self.addr_key(jid, device))
    }
    fn set_session(&mut self, jid: &str, device: u32, record: &[u8]) -> Result<(), StoreError> {
        self.put(&self.sessions, self.addr_key(jid, device), record)
    }
    fn remove_session(&mut self, jid: &str, device: u32) -> Result<bool, StoreError> {
        Ok(self
            .sessions
            .remove(self.addr_key(jid, device))
            .map_err(err)?
            .is_some())
    }
    fn session_devices(&self, jid: &str) -> Result<Vec<u32>, StoreError> {
        Self::ids(&self.sessions, &self.jid_prefix(jid))
    }
    fn pre_key(&self, id: u32) -> Result<Option<Vec<u8>>, StoreError> {
        match self.get(&self.pre_keys, &self.id_key(id))? {
            Some(record) => Ok(Some(record)),
            None => Ok(self
                .get(&self.used_pre_keys, &self.id_key(id))?
                .and_then(|v| v.get(8..).map(<[u8]>::to_vec))),
        }
    }
    fn set_pre_key(&mut self, id: u32, record: &[u8]) -> Result<(), StoreError> {
        self.used_pre_keys.remove(self.id_key(id)).map_err(err)?;
        self.put(&self.pre_keys, self.id_key(id), record)
    }
    fn use_pre_key(&mut self, id: u32, now: u64) -> Result<(), StoreError> {
        let key = self.id_key(id);
        let Some(record) = self.get(&self.pre_keys, &key)? else {
            return Ok(());
        };
        let mut dated = now.to_be_bytes().to_vec();
        dated.extend_from_slice(&record);
        let dated = zeroize::Zeroizing::new(dated);
        self.put(&self.used_pre_keys, key.clone(), &dated)?;
        self.pre_keys.remove(key).map_err(err).map(drop)
    }
    fn pre_key_ids(&self) -> Result<Vec<u32>, StoreError> {
        Self::ids(&self.pre_keys, &self.prefix)
    }
    fn used_pre_keys(&self) -> Result<Vec<(u32, u64)>, StoreError> {
        let mut out = Vec::new();
        for id in Self::ids(&self.used_pre_keys, &self.prefix)? {
            let at = self
                .get(&self.used_pre_keys, &self.id_key(id))?
                .and_then(|v| v.get(..8).and_then(|t| <[u8; 8]>::try_from(t).ok()))
                .map_or(0, u64::from_be_bytes);
            out.push((id, at));
        }
        Ok(out)
    }
    fn forget_used_pre_key(&mut self, id: u32) -> Result<(), StoreError> {
        self.used_pre_keys
            .remove(self.id_key(id))
            .map_err(err)
            .map(drop)
    }
    fn signed_pre_key(&self, id: u32) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(&self.signed_pre_keys, &self.id_key(id))
    }
    fn set_signed_pre_key(&mut self, id: u32, record: &[u8]) -> Result<(), StoreError> {
        self.put(&self.signed_pre_keys, self.id_key(id), record)
    }
    fn remove_signed_pre_key(&mut self, id: u32) -> Result<(), StoreError> {
        self.signed_pre_keys
            .remove(self.id_key(id))
            .map_err(err)
            .map(drop)
    }
    fn signed_pre_key_ids(&self) -> Result<Vec<u32>, StoreError> {
        Self::ids(&self.signed_pre_keys, &self.prefix)
    }
    fn remote_identity(&self, jid: &str, device: u32) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(&self.remote, &self.addr_key(jid, device))
    }
    fn set_remote_identity(
        &mut self,
        jid: &str,
        device: u32,
        key: &[u8],
    ) -> Result<(), StoreError> {
        self.put(&self.remote, self.addr_key(jid, device), key)
    }
    fn changed_identity(&self, jid: &str, device: u32) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(&self.changed, &self.addr_key(jid, device))
    }
    fn set_changed_identity(
        &mut self,
        jid: &str,
        device: u32,
        key: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        match key {
            Some(k) => self.put(&self.changed, self.addr_key(jid, device), k),
            None => self
                .changed
                .remove(self.addr_key(jid, device))
                .map_err(err)
                .map(drop),
        }
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(err).map(drop)
    }
}
