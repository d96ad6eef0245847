//! What survives a damaged database (issue #20, weakness 6).
//!
//! History can be fetched again from the server's archive; the account list (with its
//! trust pins), the user's settings and the outbox of unsent messages cannot. So:
//!
//! - A small copy of them, the *keep file* (`loquat-keep.json` in the database
//!   folder, 0600), is rewritten at the flush after any of them changed. It is a
//!   second copy in a file of its own, plain JSON: a damage that takes sled's files
//!   need not take it.
//! - [`Store::open_or_recover`] moves a damaged database aside as before, then fills
//!   the new one with what can still be read: first from the damaged database itself
//!   when sled can still open it (the damage was in one of our records, e.g. the
//!   schema version), record by record, skipping unreadable ones; then from the keep
//!   file for anything still missing. Archive positions (catch-up cursors, gaps) are
//!   not carried over: the new history is rebuilt from the archive from scratch.

use super::{Store, StoreError, schema, tree};
use crate::model::{Account, ChatMessage};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Preferences that are the user's choices, kept across a recovery. Everything else
/// in `prefs` is derived from the server (archive cursors, gaps) and must start over
/// with the rebuilt history. (`settings`, `window`, `drafts` are `config`'s keys,
/// `inbox-filter` and `send-as:` the UI's, `account.` per-account choices such as
/// allowing PLAIN.)
pub(super) fn kept_pref(key: &str) -> bool {
    matches!(key, "settings" | "window" | "drafts" | "inbox-filter")
        || key.starts_with("send-as:")
        || key.starts_with("account.")
}

/// The keep file's place for the database folder `db`: inside it (sled leaves files
/// it does not know alone), so it moves aside with a damaged database and is private
/// like the rest.
pub fn keep_path(db: &Path) -> PathBuf {
    db.join("loquat-keep.json")
}

/// The keep file's content.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Kept {
    #[serde(default)]
    accounts: Vec<serde_json::Value>,
    #[serde(default)]
    prefs: BTreeMap<String, String>,
    #[serde(default)]
    outbox: Vec<serde_json::Value>,
}

/// Where a store writes its keep file, and whether it is out of date.
#[derive(Debug)]
pub(super) struct Keeper {
    path: PathBuf,
    dirty: AtomicBool,
}

impl Keeper {
    /// The database folder this keeper keeps for.
    pub(super) fn db(&self) -> Option<&Path> {
        self.path.parent()
    }

    pub(super) fn new(db: &Path) -> Keeper {
        Keeper {
            path: keep_path(db),
            // Written at the first flush, so a database from before the keep file
            // gets one.
            dirty: AtomicBool::new(true),
        }
    }
}

/// What a recovery brought over into the new database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Salvaged {
    pub accounts: usize,
    pub prefs: usize,
    /// Unsent messages, back in the outbox (sent again once online).
    pub outbox: usize,
}

impl Store {
    /// Notes that the keep file is out of date (written at the next flush).
    pub(super) fn keep_changed(&self) {
        if let Some(k) = &self.keeper {
            k.dirty.store(true, Ordering::Relaxed);
        }
    }

    /// Rewrites the keep file if something in it changed. A failure is logged and
    /// retried at the next flush; it never fails the flush itself.
    pub(super) fn write_keep(&self) {
        let Some(k) = &self.keeper else {
            return;
        };
        if !k.dirty.swap(false, Ordering::Relaxed) {
            return;
        }
        if let Err(e) = self.write_keep_to(&k.path) {
            k.dirty.store(true, Ordering::Relaxed);
            log::warn!("store: could not write {}: {e}", k.path.display());
        }
    }

    fn write_keep_to(&self, path: &Path) -> Result<(), String> {
        let mut kept = Kept::default();
        for item in self.accounts.iter() {
            let (_, value) = item.map_err(|e| e.to_string())?;
            if let Ok(v) = serde_json::from_slice(&value) {
                kept.accounts.push(v);
            }
        }
        for item in tree(&self.db, super::prefs::PREFS)
            .map_err(|e| e.to_string())?
            .iter()
        {
            let (key, value) = item.map_err(|e| e.to_string())?;
            if let (Ok(k), Ok(v)) = (
                String::from_utf8(key.to_vec()),
                String::from_utf8(value.to_vec()),
            ) && kept_pref(&k)
            {
                kept.prefs.insert(k, v);
            }
        }
        for item in self.outbox.iter() {
            let (key, _) = item.map_err(|e| e.to_string())?;
            if let Some(value) = self.history.get(&key).map_err(|e| e.to_string())?
                && let Some(m) = super::record::decode(&key, &value)
                && let Ok(v) = serde_json::to_value(m)
            {
                kept.outbox.push(v);
            }
        }
        let text = serde_json::to_vec(&kept).map_err(|e| e.to_string())?;
        // Synced, renamed, folder synced: the copy that matters when the database is
        // damaged (often by a crash) must itself survive the crash whole.
        crate::paths::replace_private_file(path, &text).map_err(|e| e.to_string())
    }

    /// Fills this (new) store from the damaged database moved to `damaged`, and from
    /// its keep file.
    pub(super) fn salvage(&self, damaged: &Path) -> Salvaged {
        let mut found = from_damaged(damaged).unwrap_or_default();
        if let Some(kept) = read_keep(&keep_path(damaged)) {
            merge(&mut found, kept);
        }
        let mut done = Salvaged::default();
        for account in &found.accounts {
            match serde_json::from_value::<Account>(account.clone()) {
                Ok(a) if self.save_account(&a).is_ok() => done.accounts += 1,
                _ => log::warn!("store: an account could not be recovered"),
            }
        }
        for (k, v) in &found.prefs {
            if self.set_pref(k, v).is_ok() {
                done.prefs += 1;
            }
        }
        let outbox: Vec<ChatMessage> = found
            .outbox
            .iter()
            .filter_map(|m| serde_json::from_value::<ChatMessage>(m.clone()).ok())
            .filter(super::history::in_outbox)
            .collect();
        match self.insert_old_messages(&outbox) {
            Ok(results) => done.outbox = results.len(),
            Err(e) => log::warn!("store: the unsent messages could not be recovered: {e}"),
        }
        let _ = self.flush();
        done
    }
}

/// Adds what `kept` has and `found` lacks (the damaged database is the newer copy).
fn merge(found: &mut Kept, kept: Kept) {
    let id = |v: &serde_json::Value| v.get("id").cloned();
    for a in kept.accounts {
        if !found.accounts.iter().any(|b| id(b) == id(&a)) {
            found.accounts.push(a);
        }
    }
    for (k, v) in kept.prefs {
        found.prefs.entry(k).or_insert(v);
    }
    for m in kept.outbox {
        if !found.outbox.iter().any(|b| id(b) == id(&m)) {
            found.outbox.push(m);
        }
    }
}

fn read_keep(path: &Path) -> Option<Kept> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(k) => Some(k),
        Err(e) => {
            log::warn!("store: {} is unreadable too: {e}", path.display());
            None
        }
    }
}

/// Reads accounts, kept preferences and the outbox from the damaged database, record
/// by record, when sled can still open it (the damage was in our records).
fn from_damaged(path: &Path) -> Option<Kept> {
    // sled has panicked on some damaged files; a failed salvage must not stop the
    // start of a new database.
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sled::Config::new().path(path).open()
    }))
    .ok()?;
    let db = match opened {
        Ok(db) => db,
        Err(e) => {
            log::info!("store: the damaged database cannot be opened to salvage it: {e}");
            return None;
        }
    };
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_trees(&db)));
    match read {
        Ok(Ok(kept)) => Some(kept),
        Ok(Err(e)) => {
            log::info!("store: salvage stopped: {e}");
            None
        }
        Err(_) => None,
    }
}

fn read_trees(db: &sled::Db) -> Result<Kept, StoreError> {
    let mut kept = Kept::default();
    let names: Vec<Vec<u8>> = db.tree_names().into_iter().map(|n| n.to_vec()).collect();
    let has = |n: &str| names.iter().any(|m| m.as_slice() == n.as_bytes());
    if has(schema::ACCOUNTS) {
        for (_, value) in tree(db, schema::ACCOUNTS)?.iter().flatten() {
            if let Ok(v) = serde_json::from_slice::<Account>(&value)
                .map_err(|_| ())
                .and_then(|a| serde_json::to_value(a).map_err(|_| ()))
            {
                kept.accounts.push(v);
            }
        }
    }
    if has(super::prefs::PREFS) {
        for (key, value) in tree(db, super::prefs::PREFS)?.iter().flatten() {
            if let (Ok(k), Ok(v)) = (
                String::from_utf8(key.to_vec()),
                String::from_utf8(value.to_vec()),
            ) && kept_pref(&k)
            {
                kept.prefs.insert(k, v);
            }
        }
    }
    if has(schema::OUTBOX) && has(schema::HISTORY) {
        let history = tree(db, schema::HISTORY)?;
        for (key, _) in tree(db, schema::OUTBOX)?.iter().flatten() {
            if let Ok(Some(value)) = history.get(&key)
                && let Some(v) = super::record::decode(&key, &value)
                && let Ok(v) = serde_json::to_value(v)
            {
                kept.outbox.push(v);
            }
        }
    }
    Ok(kept)
}
