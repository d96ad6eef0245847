//! Schema version and the ordered list of migrations.
//!
//! The `meta` tree holds `schema_version` as a big-endian `u32`. A database without it is
//! new (version 0). Opening runs every migration above the stored version, in order, and
//! records each step before the next one starts, so an interrupted upgrade resumes where
//! it stopped. A database written by a newer Loquat is refused with a plain message.

use super::{StoreError, io_error, tree};

/// The layout this build reads and writes.
pub const SCHEMA_VERSION: u32 = 5;

pub(super) const META: &str = "meta";
pub(super) const ACCOUNTS: &str = "accounts";
pub(super) const ROSTER: &str = "roster";
pub(super) const HISTORY: &str = "history";
pub(super) const LOCAL_IDS: &str = "local_ids";
/// Schema 1-4 only (schema 5 moved it into [`KNOWN`]).
pub(super) const DEDUPE: &str = "dedupe";
pub(super) const SUMMARIES: &str = "summaries";
pub(super) const OUTBOX: &str = "outbox";
/// Schema 3-4 only (schema 5 moved it into [`KNOWN`]).
pub(super) const REFS: &str = "refs";
/// Every id a message is known by (schema 5, see `known`).
pub(super) const KNOWN: &str = "known_ids";
pub(super) const PENDING: &str = "pending_changes";
/// Our own changes waiting for the server (a new tree, nothing to migrate).
pub(super) const SENDING: &str = "sending";

const VERSION_KEY: &[u8] = b"schema_version";
/// Present while a database upgraded from schema 1-4 waits for its rewrite (`rebuild`).
const REWRITE_KEY: &[u8] = b"rewrite_pending";

type Migration = fn(&sled::Db) -> Result<(), StoreError>;

/// `(version reached, what it does, step)`, in ascending order, ending at
/// [`SCHEMA_VERSION`]. Append new steps; never edit or reorder old ones.
const MIGRATIONS: &[(u32, &str, Migration)] = &[
    (1, "initial layout", initial_layout),
    (2, "outbox of unconfirmed outgoing messages", outbox_index),
    (
        3,
        "message references for corrections, reactions, retractions",
        references,
    ),
    (
        4,
        "compact message records and dedupe entries",
        compact_records,
    ),
    (5, "one tree of the ids messages are known by", known_ids),
];

/// Version 1: accounts and roster (JSON values); history keyed
/// `account | conversation | time | seq` (JSON `ChatMessage`); local-id and dedupe indexes
/// pointing at history keys; one summary per conversation (unread count, last key).
fn initial_layout(db: &sled::Db) -> Result<(), StoreError> {
    for name in [ACCOUNTS, ROSTER, HISTORY, LOCAL_IDS, DEDUPE, SUMMARIES] {
        tree(db, name)?;
    }
    Ok(())
}

/// Version 2: `outbox`, history key -> local id of every outgoing message the server has
/// not confirmed yet (delivery `Pending` or `Sent`), filled from the existing history.
fn outbox_index(db: &sled::Db) -> Result<(), StoreError> {
    let history = tree(db, HISTORY)?;
    let outbox = tree(db, OUTBOX)?;
    for item in history.iter() {
        let (key, value) = item.map_err(io_error)?;
        let Ok(msg) = serde_json::from_slice::<crate::model::ChatMessage>(&value) else {
            continue;
        };
        if super::history::in_outbox(&msg) {
            outbox.insert(key, msg.id.0.as_bytes()).map_err(io_error)?;
        }
    }
    Ok(())
}

/// Version 3: `refs`, `account | conversation | id | kind | local id` for every id a
/// message is known by (server stanza-id, origin-id, stanza id, applied corrections),
/// filled from the existing history; and `pending_changes`, changes that arrived
/// before their message (`account | conversation | id | seq` -> JSON `Modification`).
/// Message records keep their format: what changes add (`ChatMessage::extras`) is an
/// optional field that older records simply lack.
fn references(db: &sled::Db) -> Result<(), StoreError> {
    let history = tree(db, HISTORY)?;
    let refs = tree(db, REFS)?;
    tree(db, PENDING)?;
    for item in history.iter() {
        let (_, value) = item.map_err(io_error)?;
        let Ok(msg) = serde_json::from_slice::<crate::model::ChatMessage>(&value) else {
            continue;
        };
        for key in super::keys::references(&msg) {
            refs.insert(key, &[]).map_err(io_error)?;
        }
    }
    Ok(())
}

/// Version 4: history values become compact records (`record`: about a quarter of the
/// JSON), dedupe values only the history key's `position | seq` tail. Issue #21: history
/// took 55-64 MB for 20,000 messages. Written in batches; readers accept both forms, so
/// an interrupted run simply continues.
fn compact_records(db: &sled::Db) -> Result<(), StoreError> {
    const CHUNK: usize = 1_000;
    let history = tree(db, HISTORY)?;
    let dedupe = tree(db, DEDUPE)?;
    let mut records = sled::Batch::default();
    let mut entries = sled::Batch::default();
    let mut n = 0;
    let total = count(&history);
    for (seen, item) in history.iter().enumerate() {
        if seen % CHUNK == 0 {
            super::progress::report(super::progress::Step::Upgrade, seen as u64, total);
        }
        let (key, value) = item.map_err(io_error)?;
        if value.first() != Some(&b'{') {
            continue;
        }
        let Some(msg) = super::record::decode(&key, &value) else {
            continue;
        };
        records.insert(key.clone(), super::record::encode(&msg));
        for k in super::keys::dedupe(&msg) {
            entries.insert(k, super::keys::dedupe_value(&key));
        }
        n += 1;
        if n % CHUNK == 0 {
            history
                .apply_batch(std::mem::take(&mut records))
                .map_err(io_error)?;
            dedupe
                .apply_batch(std::mem::take(&mut entries))
                .map_err(io_error)?;
        }
    }
    history.apply_batch(records).map_err(io_error)?;
    dedupe.apply_batch(entries).map_err(io_error)?;
    Ok(())
}

/// Version 5: `dedupe` and `refs` become `known_ids` (see `known`): one entry per id
/// instead of up to five per message. Issue #21: sled splits pages beyond 16 entries,
/// and each page costs disk and start-up memory. Built from the history records (every
/// id, and the server and origin ids' duplicate rules, which are the message's own),
/// then the id-attribute rules from the old dedupe keys, which hold the text as it
/// arrived. Written in batches and merged, so an interrupted run starts over safely;
/// the old trees go last.
fn known_ids(db: &sled::Db) -> Result<(), StoreError> {
    use super::known;
    use std::collections::{BTreeMap, BTreeSet};
    /// Messages per write; bounds the memory of a very long conversation.
    const CHUNK: usize = 2_000;
    let started = std::time::Instant::now();
    let history = tree(db, HISTORY)?;
    let known_tree = tree(db, KNOWN)?;
    // Every key starts with its conversation: into an empty tree, a conversation's
    // first write has nothing to merge with. An interrupted run merges everything.
    let fresh = known_tree.is_empty();
    let write = |pending: &mut BTreeMap<Vec<u8>, Vec<known::Known>>,
                 merge_stored: bool,
                 exact: bool|
     -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (key, entries) in std::mem::take(pending) {
            let mut value = if merge_stored {
                known_tree.get(&key).map_err(io_error)?.map(|v| v.to_vec())
            } else {
                None
            };
            for entry in &entries {
                if exact {
                    value = Some(known::merge_rule(value.as_deref(), entry));
                } else if let Some(v) = known::merge(value.as_deref(), entry) {
                    value = Some(v);
                }
            }
            if let Some(value) = value {
                batch.insert(key, value);
            }
        }
        known_tree.apply_batch(batch).map_err(io_error)
    };
    let mut pending: BTreeMap<Vec<u8>, Vec<known::Known>> = BTreeMap::new();
    let mut accounts: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut conversation: Vec<u8> = Vec::new();
    // Whether this conversation was partly written already (a long one).
    let mut written = false;
    let mut n = 0usize;
    let mut in_chunk = 0usize;
    let total = count(&history);
    for (seen, item) in history.iter().enumerate() {
        if seen % CHUNK == 0 {
            super::progress::report(super::progress::Step::Upgrade, seen as u64, total);
        }
        let (key, value) = item.map_err(io_error)?;
        let this = key
            .get(..key.len().saturating_sub(super::keys::HISTORY_TAIL))
            .unwrap_or_default();
        if this != conversation.as_slice() {
            write(&mut pending, !fresh || written, false)?;
            conversation = this.to_vec();
            written = false;
            in_chunk = 0;
            if let Some((account, _)) = super::keys::take_str(this) {
                accounts.insert(super::keys::account(&crate::ids::AccountId(account.into())));
            }
        }
        let Some(msg) = super::record::decode(&key, &value) else {
            continue;
        };
        for (k, mut entry) in known::entries(&msg, &msg) {
            // The attribute's rule comes from the old dedupe key below.
            if entry.kind == super::keys::REF_ATTR {
                entry.dedupe = false;
                entry.check = 0;
            }
            pending.entry(k).or_default().push(entry);
        }
        n += 1;
        in_chunk += 1;
        if in_chunk == CHUNK {
            write(&mut pending, !fresh || written, false)?;
            written = true;
            in_chunk = 0;
        }
    }
    write(&mut pending, !fresh || written, false)?;
    let from_records = started.elapsed();
    // Only the id attributes' keys (`account | A | ...`).
    let dedupe = tree(db, DEDUPE)?;
    let mut rules = 0usize;
    for account in &accounts {
        let mut prefix = account.clone();
        prefix.push(b'A');
        for item in dedupe.scan_prefix(&prefix) {
            let (key, value) = item.map_err(io_error)?;
            let Some((k, entry)) = attr_rule(&history, &key, &value) else {
                continue;
            };
            rules += 1;
            pending.entry(k).or_default().push(entry);
            if pending.len() >= CHUNK {
                write(&mut pending, true, true)?;
            }
        }
    }
    write(&mut pending, true, true)?;
    known_tree.flush().map_err(io_error)?;
    let from_rules = started.elapsed();
    for name in [DEDUPE, REFS] {
        db.drop_tree(name).map_err(io_error)?;
    }
    log::info!(
        "store: ids of {n} messages in {:.1} s, {rules} id-attribute rules in {:.1} s, \
         old trees dropped in {:.1} s",
        from_records.as_secs_f64(),
        (from_rules - from_records).as_secs_f64(),
        (started.elapsed() - from_rules).as_secs_f64()
    );
    Ok(())
}

/// The `known_ids` entry of a schema 1-4 dedupe key by id attribute
/// (`account | A | conversation | direction | sender | id | text hash`), for the
/// message it points at; `None` for the other kinds and damaged entries.
fn attr_rule(
    history: &sled::Tree,
    key: &[u8],
    value: &[u8],
) -> Option<(Vec<u8>, super::known::Known)> {
    use super::keys::take_str;
    let (account, rest) = take_str(key)?;
    let (kind, rest) = rest.split_first()?;
    if *kind != b'A' {
        return None;
    }
    let (conversation, rest) = take_str(rest)?;
    let (direction, rest) = rest.split_first()?;
    let (sender, rest) = take_str(rest)?;
    let (id, hash) = take_str(rest)?;
    let target = super::keys::dedupe_target(key, value)?;
    let stored = history.get(&target).ok()??;
    let msg = super::record::decode(&target, &stored)?;
    let mut out = Vec::with_capacity(12 + account.len() + conversation.len() + id.len());
    super::keys::put_str(&mut out, account);
    super::keys::put_str(&mut out, conversation);
    super::keys::put_str(&mut out, id);
    Some((
        out,
        super::known::Known {
            kind: super::keys::REF_ATTR,
            dedupe: true,
            check: super::known::attr_check(*direction, sender, hash),
            local: msg.id,
        },
    ))
}

/// The version stored in `db` (0 for a new database).
pub(super) fn stored_version(db: &sled::Db) -> Result<u32, StoreError> {
    let meta = tree(db, META)?;
    match meta.get(VERSION_KEY).map_err(io_error)? {
        None => Ok(0),
        Some(bytes) => match <[u8; 4]>::try_from(bytes.as_ref()) {
            Ok(raw) => Ok(u32::from_be_bytes(raw)),
            Err(_) => Err(StoreError::Corrupt(
                "the database's schema version is unreadable".into(),
            )),
        },
    }
}

/// Whether the database still waits for the rewrite that follows an upgrade from schema
/// 1-4 (a rewrite that failed, on a full disk, is tried again at a later start).
pub(super) fn rewrite_pending(db: &sled::Db) -> Result<bool, StoreError> {
    tree(db, META)?.contains_key(REWRITE_KEY).map_err(io_error)
}

/// Notes (flushed) that the database waits for its rewrite, or that it is done.
pub(super) fn set_rewrite_pending(db: &sled::Db, pending: bool) -> Result<(), StoreError> {
    let meta = tree(db, META)?;
    if pending {
        meta.insert(REWRITE_KEY, &[]).map_err(io_error)?;
    } else {
        meta.remove(REWRITE_KEY).map_err(io_error)?;
    }
    db.flush().map_err(io_error)?;
    Ok(())
}

/// Entries in `tree`, for an upgrade's progress (sled counts them by walking the keys).
pub(super) fn count(tree: &sled::Tree) -> u64 {
    tree.len() as u64
}

fn set_version(db: &sled::Db, version: u32) -> Result<(), StoreError> {
    let meta = tree(db, META)?;
    meta.insert(VERSION_KEY, &version.to_be_bytes())
        .map_err(io_error)?;
    db.flush().map_err(io_error)?;
    Ok(())
}

/// Brings `db` up to [`SCHEMA_VERSION`], or refuses a newer one.
pub(super) fn migrate(db: &sled::Db) -> Result<(), StoreError> {
    let found = stored_version(db)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::Corrupt(format!(
            "the database was written by a newer version of Loquat (schema {found}, this \
             version understands up to {SCHEMA_VERSION}); please update Loquat"
        )));
    }
    for (version, what, step) in MIGRATIONS {
        if *version <= found {
            continue;
        }
        log::info!("store: migrating to schema {version} ({what})");
        step(db)?;
        set_version(db, *version)?;
    }
    Ok(())
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

    #[test]
    fn migrations_are_ordered_and_end_at_current() {
        let versions: Vec<u32> = MIGRATIONS.iter().map(|m| m.0).collect();
        assert!(versions.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(versions.first(), Some(&1));
        assert_eq!(versions.last(), Some(&SCHEMA_VERSION));
    }

    #[test]
    fn a_version_2_history_gets_its_references() {
        use crate::ids::{AccountId, ConversationId};
        let db = sled::Config::new().temporary(true).open().unwrap();
        initial_layout(&db).unwrap();
        outbox_index(&db).unwrap();
        set_version(&db, 2).unwrap();
        // A record as Loquat wrote it before schema 3 (no `extras`).
        let old = r#"{"id":"L1","account":"acc","peer":"bob@example.org","is_room":false,
            "direction":"Incoming","sender":"","body":"hi","timestamp_ms":5,
            "stanza_id_attr":"s1","origin_id":"o1","server_id":null,"delivery":"Delivered"}"#;
        tree(&db, HISTORY)
            .unwrap()
            .insert(
                super::super::keys::history(
                    &super::super::keys::conversation(
                        &AccountId("acc".into()),
                        &ConversationId::Chat(
                            xmpp_parsers::jid::BareJid::new("bob@example.org").unwrap(),
                        ),
                    ),
                    super::super::keys::order_i64(5),
                    1,
                ),
                old.as_bytes(),
            )
            .unwrap();
        migrate(&db).unwrap();
        assert_eq!(stored_version(&db).unwrap(), SCHEMA_VERSION);
        // Schema 5 carried them into `known_ids`.
        let known = tree(&db, KNOWN).unwrap();
        let conv =
            ConversationId::Chat(xmpp_parsers::jid::BareJid::new("bob@example.org").unwrap());
        for id in ["s1", "o1"] {
            let key = super::super::keys::reference(&AccountId("acc".into()), &conv, id);
            let found = super::super::known::decode(&known.get(&key).unwrap().unwrap());
            assert_eq!(found.len(), 1, "{id}");
            assert_eq!(found[0].local.0, "L1");
        }
        assert!(tree(&db, PENDING).unwrap().is_empty());
    }

    #[test]
    fn newer_schema_is_refused_without_panic() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        migrate(&db).unwrap();
        assert_eq!(stored_version(&db).unwrap(), SCHEMA_VERSION);
        set_version(&db, SCHEMA_VERSION + 1).unwrap();
        let err = migrate(&db).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(ref m) if m.contains("newer version")));

        tree(&db, META).unwrap().insert(VERSION_KEY, b"xx").unwrap();
        assert!(matches!(migrate(&db), Err(StoreError::Corrupt(_))));
    }
}
