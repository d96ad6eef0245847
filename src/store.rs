//! Local storage on sled. No sled type leaves this module.
//!
//! Layout (schema version 1, see [`schema`]):
//! - `accounts`: account id -> JSON [`Account`];
//! - `roster`: account id -> JSON roster version and contacts;
//! - `history`: `account | conversation | position | seq` -> compact [`ChatMessage`] record
//!   (schema 4, see `record`; JSON before), so one
//!   conversation is a contiguous key range in its one order, read from its end. The
//!   ordering rule (arrival order live, the archive's order for archive pages, never
//!   whole-second stamps) is written in [`order`];
//! - `local_ids`: `account | local id` -> history key;
//! - `known_ids` (schema 5, see [`known`]): `account | conversation | id` -> every message
//!   known by that id (server stanza-id, origin-id, stanza id attribute, applied
//!   corrections), by local id, and whether the id tells a message that arrives from one
//!   stored. Corrections, reactions and retractions find their message there, and
//!   deduplication finds the stored copy. (Schema 1-4 had a `dedupe` and a `refs` tree.)
//! - `summaries`: `account | conversation` -> unread count and the key of the last message;
//! - `outbox` (schema 2): history key -> local id of each outgoing message the server has
//!   not confirmed yet, so it can be sent again after a restart.
//! - `pending_changes` (schema 3): corrections, reactions and retractions that came
//!   before their message (see [`changes`]).
//! - `sending`: our own changes (corrections, reactions, retractions) until the server
//!   confirmed them, the outbox for changes (see [`sending`]).
//!
//! Durability rule: a message counts as stored only after a flush, and the insert
//! functions flush before they return. Calls block on disk I/O: run them off the UI thread.

#![deny(clippy::indexing_slicing)]

use crate::ids::{AccountId, ConversationId};
use crate::model::{Account, ChatMessage, Contact};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

mod changes;
mod forget;
mod gaps;
mod history;
mod keys;
mod known;
mod observe;
mod order;
mod prefs;
pub mod progress;
mod rebuild;
mod record;
mod recover;
mod schema;
mod sending;
#[cfg(test)]
mod tests;
mod transfers;

pub use changes::ChangeOutcome;
pub use gaps::HistoryGap;
pub use observe::HistoryObserver;
pub use order::PageOrder;
pub use recover::{Salvaged, keep_path};
pub use schema::SCHEMA_VERSION;
pub use sending::QueuedChange;

/// Decodes one history record (compact, or JSON from before schema 4) stored under
/// history key `key`; `None` when it is damaged. For the fuzz tests of what a damaged
/// or hostile data folder may hold.
#[doc(hidden)]
pub fn decode_history_record(key: &[u8], value: &[u8]) -> Option<ChatMessage> {
    record::decode(key, value)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("storage error: {0}")]
    Io(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// The disk (or the data folder's file system) has no space left.
    #[error("the disk is full")]
    Full,
}

/// Did an insert add a message, or was it already stored?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    Duplicate,
}

impl Inserted {
    /// The messages of a batch that its insert (`results`, in the same order) added.
    pub fn only_new(batch: Vec<ChatMessage>, results: Vec<Inserted>) -> Vec<ChatMessage> {
        batch
            .into_iter()
            .zip(results)
            .filter(|(_, r)| *r == Inserted::New)
            .map(|(m, _)| m)
            .collect()
    }
}

/// One line of the conversation list.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationSummary {
    pub account: AccountId,
    pub conversation: ConversationId,
    pub last: Option<ChatMessage>,
    pub unread: u32,
}

/// A damaged database that [`Store::open_or_recover`] replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Where the damaged files are now.
    pub moved_to: std::path::PathBuf,
    /// What was wrong, in the storage engine's words.
    pub reason: String,
    /// What was carried over into the new database.
    pub salvaged: Salvaged,
}

/// Handle to the database; cheap to clone, shareable across threads.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    accounts: sled::Tree,
    roster: sled::Tree,
    history: sled::Tree,
    local_ids: sled::Tree,
    known: sled::Tree,
    summaries: sled::Tree,
    outbox: sled::Tree,
    pending: sled::Tree,
    /// Our own changes on their way out (see [`sending`]).
    sending: sled::Tree,
    /// Messages that changes waiting for them altered as they were stored, until the
    /// session takes them (so what it shows is what was stored), by `account | id`.
    absorbed: Arc<std::sync::Mutex<std::collections::HashMap<Vec<u8>, ChatMessage>>>,
    /// History records decoded since open, shared by all clones.
    records_read: Arc<AtomicU64>,
    /// The keep file (accounts, settings, outbox) of an on-disk store.
    keeper: Option<Arc<recover::Keeper>>,
    /// Who follows history changes (the search index), shared by all clones.
    observer: observe::ObserverSlot,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("records_read", &self.records_read())
            .finish_non_exhaustive()
    }
}

/// How many times (50 ms apart) `open` waits for another handle's file lock to go.
const LOCK_RETRIES: u32 = 60;

/// Page cache size. sled keeps every page it wrote or read in memory up to this size (its
/// default is 1 GiB), and a first sign-in writes the whole archive catch-up: 128 MiB held
/// all of a 20,000-message catch-up in memory (issue #21; `cargo bench --bench memory`).
/// A conversation opens from one short key range, which a small cache serves as well.
/// sled counts a page's size on disk, not what its decoded node holds: 16 MiB of cache
/// kept about 25 MiB more resident than 4 MiB after a 20,000-message catch-up, and the
/// catch-up took as long (release build, `LOQUAT_BENCH_DIAGNOSE=1` memory bench).
/// `LOQUAT_STORE_CACHE_MB` overrides it (the memory bench measures other sizes).
const CACHE_BYTES: u64 = 4 * 1024 * 1024;

fn cache_bytes() -> u64 {
    std::env::var("LOQUAT_STORE_CACHE_MB")
        .ok()
        .and_then(|mb| mb.parse::<u64>().ok())
        .map_or(CACHE_BYTES, |mb| mb.saturating_mul(1024 * 1024))
}

fn io_error(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { .. } | sled::Error::Unsupported(_) => {
            StoreError::Corrupt(e.to_string())
        }
        sled::Error::Io(io) if is_full(&io) => StoreError::Full,
        other => StoreError::Io(other.to_string()),
    }
}

/// No space left on the device, or over a quota.
fn is_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || e.raw_os_error() == Some(28)
}

fn tree(db: &sled::Db, name: &str) -> Result<sled::Tree, StoreError> {
    db.open_tree(name).map_err(io_error)
}

/// Roster cache record.
#[derive(Serialize, Deserialize)]
struct RosterRecord {
    version: Option<String>,
    contacts: Vec<Contact>,
}

impl Store {
    /// Opens (or creates) the database in directory `path`, migrating it to the current
    /// schema. Fails with a plain message when another process holds it or when a newer
    /// Loquat wrote it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        // For this user only: history, trust pins and the outbox (folders 0700, files
        // 0600, whatever the umask).
        rebuild::finish_interrupted(path)?;
        crate::paths::ensure_private_dir(path)
            .map_err(|e| StoreError::Io(format!("cannot create {}: {e}", path.display())))?;
        let db = Self::open_sled(path)?;
        // Files sled wrote under the umask (by an older Loquat, or snapshots of the last
        // run; the folder kept them from others meanwhile).
        if let Err(e) = crate::paths::restrict_tree(path) {
            log::warn!("store: could not make {} private: {e}", path.display());
        }
        let found = schema::stored_version(&db)?;
        let _finished = progress::Finished;
        // Upgraded in place from before schema 5: rewritten once (see `rebuild`). Noted
        // before the upgrade, so that a rewrite that fails or is cut short comes again.
        let upgrading = (1..5).contains(&found);
        if upgrading {
            schema::set_rewrite_pending(&db, true)?;
        }
        schema::migrate(&db)?;
        let db = if schema::rewrite_pending(&db)? && rebuild::worth_trying(path, upgrading) {
            let rewritten = match rebuild::rebuild(db, path) {
                Ok(()) => true,
                Err(e) => {
                    // The upgraded database works as it is: go on with it.
                    log::warn!("store: could not rewrite the upgraded database: {e}");
                    rebuild::after_failure(path)?;
                    false
                }
            };
            if let Err(e) = crate::paths::restrict_tree(path) {
                log::warn!("store: could not make {} private: {e}", path.display());
            }
            let db = Self::open_sled(path)?;
            if rewritten && let Err(e) = schema::set_rewrite_pending(&db, false) {
                // Only costs another rewrite at the next start.
                log::warn!("store: could not note the rewrite as done: {e}");
            }
            db
        } else {
            db
        };
        let mut store = Store::from_db(db)?;
        store.keeper = Some(Arc::new(recover::Keeper::new(path)));
        Ok(store)
    }

    /// Opens sled's database in `path`, waiting briefly for another handle's lock.
    fn open_sled(path: &Path) -> Result<sled::Db, StoreError> {
        // sled releases its file lock a moment after the last handle is dropped (its
        // flusher thread lets go last), so a quick reopen, in tests or when Loquat is
        // restarted at once, may find the lock still held: wait for it briefly.
        let mut attempts = 0;
        let opened = loop {
            match sled::Config::new()
                .path(path)
                .cache_capacity(cache_bytes())
                .open()
            {
                // sled reports this as an `Other` I/O error with this text.
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock")
                        && attempts < LOCK_RETRIES =>
                {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => break other,
            }
        };
        opened.map_err(|e| match io_error(e) {
            StoreError::Io(m) => StoreError::Io(format!(
                "cannot open the database in {}: {m}",
                path.display()
            )),
            corrupt => corrupt,
        })
    }

    /// Like [`Store::open`], but a damaged database is not the end: it is moved aside
    /// (kept for inspection, never deleted) and a fresh one is created in its place, to
    /// be filled again from the server archive. A database held by another Loquat, or
    /// written by a newer Loquat, is left alone and reported as an error.
    pub fn open_or_recover(path: &Path) -> Result<(Store, Option<Recovered>), StoreError> {
        let reason = match Store::open(path) {
            Ok(store) => return Ok((store, None)),
            Err(StoreError::Corrupt(reason)) if !reason.contains("newer version") => reason,
            Err(e) => return Err(e),
        };
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "db".to_owned());
        // A second recovery within the same second must not meet the first one's.
        let mut moved_to = path.with_file_name(format!("{name}.damaged-{stamp}"));
        for n in 1..1000 {
            if !moved_to.exists() {
                break;
            }
            moved_to = path.with_file_name(format!("{name}.damaged-{stamp}-{n}"));
        }
        std::fs::rename(path, &moved_to).map_err(|e| {
            StoreError::Io(format!(
                "the database in {} is damaged ({reason}) and could not be moved aside: {e}",
                path.display()
            ))
        })?;
        log::error!(
            "store: damaged database moved to {} ({reason}); starting a new one",
            moved_to.display()
        );
        let store = Store::open(path)?;
        let salvaged = store.salvage(&moved_to);
        log::info!(
            "store: recovered {} accounts, {} settings and {} unsent messages",
            salvaged.accounts,
            salvaged.prefs,
            salvaged.outbox
        );
        Ok((
            store,
            Some(Recovered {
                moved_to,
                reason,
                salvaged,
            }),
        ))
    }

    /// A database that lives only as long as this handle and its clones (tests, demos).
    pub fn open_temporary() -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .temporary(true)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(io_error)?;
        Store::from_db(db)
    }

    fn from_db(db: sled::Db) -> Result<Store, StoreError> {
        schema::migrate(&db)?;
        Ok(Store {
            accounts: tree(&db, schema::ACCOUNTS)?,
            roster: tree(&db, schema::ROSTER)?,
            history: tree(&db, schema::HISTORY)?,
            local_ids: tree(&db, schema::LOCAL_IDS)?,
            known: tree(&db, schema::KNOWN)?,
            summaries: tree(&db, schema::SUMMARIES)?,
            outbox: tree(&db, schema::OUTBOX)?,
            pending: tree(&db, schema::PENDING)?,
            sending: tree(&db, schema::SENDING)?,
            absorbed: Arc::default(),
            db,
            records_read: Arc::new(AtomicU64::new(0)),
            keeper: None,
            observer: Arc::default(),
        })
    }

    /// The data folder the database lives in (its folder's parent); `None` for a
    /// temporary store.
    pub fn data_folder(&self) -> Option<&Path> {
        self.keeper.as_ref()?.db()?.parent()
    }

    /// The schema version recorded in the database.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        schema::stored_version(&self.db)
    }

    /// How many history records this store (and its clones) decoded since it was opened.
    /// Lets tests check that reads cost what they should.
    pub fn records_read(&self) -> u64 {
        self.records_read.load(Ordering::Relaxed)
    }

    /// All accounts, in id order. A damaged record is skipped with a warning.
    pub fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let mut out = Vec::new();
        for item in self.accounts.iter() {
            let (key, value) = item.map_err(io_error)?;
            match serde_json::from_slice::<Account>(&value) {
                Ok(account) => out.push(account),
                Err(e) => log::warn!(
                    "store: skipping damaged account record {:?}: {e}",
                    String::from_utf8_lossy(&key)
                ),
            }
        }
        Ok(out)
    }

    /// Adds or replaces an account record; flushed before returning.
    pub fn save_account(&self, account: &Account) -> Result<(), StoreError> {
        let value = serde_json::to_vec(account)
            .map_err(|e| StoreError::Io(format!("cannot encode account: {e}")))?;
        self.accounts
            .insert(keys::account(&account.id), value)
            .map_err(io_error)?;
        self.keep_changed();
        self.flush()
    }

    /// Removes the account record and its roster cache; with `delete_history`, also all
    /// its messages, indexes and conversation summaries. Other accounts are untouched.
    /// Stop the account's session first: messages inserted meanwhile may survive.
    pub fn remove_account(&self, id: &AccountId, delete_history: bool) -> Result<(), StoreError> {
        let prefix = keys::account(id);
        if delete_history {
            self.observe_will_write();
            // History first, the account record last: if this is interrupted, the
            // account is still listed and removing it again finishes the job.
            for tree in [
                &self.summaries,
                &self.outbox,
                &self.history,
                &self.local_ids,
                &self.known,
                &self.pending,
            ] {
                delete_prefix(tree, &prefix)?;
            }
        }
        self.roster.remove(&prefix).map_err(io_error)?;
        self.accounts.remove(&prefix).map_err(io_error)?;
        self.keep_changed();
        self.flush()?;
        if delete_history && let Some(o) = self.observer() {
            o.account_removed(id);
        }
        Ok(())
    }

    /// Replaces the cached roster of an account (not flushed: a lost roster cache only
    /// costs a full roster fetch).
    pub fn save_roster(
        &self,
        account: &AccountId,
        version: Option<&str>,
        contacts: &[Contact],
    ) -> Result<(), StoreError> {
        let record = RosterRecord {
            version: version.map(str::to_owned),
            contacts: contacts.to_vec(),
        };
        let value = serde_json::to_vec(&record)
            .map_err(|e| StoreError::Io(format!("cannot encode roster: {e}")))?;
        self.roster
            .insert(keys::account(account), value)
            .map_err(io_error)?;
        Ok(())
    }

    /// The cached roster version and contacts; empty when none (or when it is damaged,
    /// which is logged and makes the session fetch the full roster).
    pub fn roster(
        &self,
        account: &AccountId,
    ) -> Result<(Option<String>, Vec<Contact>), StoreError> {
        let Some(value) = self.roster.get(keys::account(account)).map_err(io_error)? else {
            return Ok((None, Vec::new()));
        };
        match serde_json::from_slice::<RosterRecord>(&value) {
            Ok(record) => Ok((record.version, record.contacts)),
            Err(e) => {
                log::warn!("store: ignoring damaged roster cache of {account}: {e}");
                Ok((None, Vec::new()))
            }
        }
    }

    /// Writes everything to disk.
    /// `account`'s OMEMO state in this database (its own `omemo_*` trees), every record
    /// sealed with `key`. The one door to the database for OMEMO.
    pub fn omemo_state(
        &self,
        account: &AccountId,
        key: crate::omemo::AtRestKey,
    ) -> Result<crate::omemo::SledStore, StoreError> {
        crate::omemo::SledStore::open(&self.db, &account.0, key)
            .map_err(|e| StoreError::Io(e.to_string()))
    }

    /// Deletes `account`'s OMEMO state: its records in every `omemo_*` tree (identity,
    /// sessions, pre-keys, the keys of the devices it talked to) and its `omemo.*`
    /// preferences (choices, verifications, devices seen, key changes announced). Other accounts are untouched.
    pub fn remove_omemo_state(&self, account: &AccountId) -> Result<(), StoreError> {
        let prefix = crate::omemo::SledStore::account_prefix(&account.0);
        for name in crate::omemo::store::TREES {
            delete_prefix(&tree(&self.db, name)?, &prefix)?;
        }
        let prefs = tree(&self.db, prefs::PREFS)?;
        for kind in ["choice", "verified", "seen", "keynotice"] {
            delete_prefix(&prefs, format!("omemo.{kind}.{}.", account.0).as_bytes())?;
        }
        self.flush()
    }

    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(io_error)?;
        self.write_keep();
        Ok(())
    }
}

/// Deletes every key starting with `prefix`, in bounded batches.
fn delete_prefix(tree: &sled::Tree, prefix: &[u8]) -> Result<(), StoreError> {
    const CHUNK: usize = 10_000;
    loop {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for key in tree.scan_prefix(prefix).keys().take(CHUNK) {
            batch.remove(key.map_err(io_error)?);
            n += 1;
        }
        if n == 0 {
            return Ok(());
        }
        tree.apply_batch(batch).map_err(io_error)?;
    }
}
