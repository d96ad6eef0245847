//! File transfers (issue #4): one record per upload or download, so a transfer that was
//! running when Loquat stopped shows as interrupted, with Retry, after a restart.
//!
//! They live in their own sled tree, `transfers`, keyed `account | 0x00 | transfer id`,
//! with JSON [`TransferRecord`] values. The tree is opened on first use, so older
//! databases need no migration: a missing tree is an empty one.

use super::{Store, StoreError, io_error, tree};
use crate::ids::AccountId;
use crate::model::transfer::{TransferId, TransferRecord, TransferState};

const TRANSFERS: &str = "transfers";

fn key(account: &AccountId, id: &TransferId) -> Vec<u8> {
    let mut k = account.0.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(id.0.as_bytes());
    k
}

impl Store {
    fn transfers_tree(&self) -> Result<sled::Tree, StoreError> {
        tree(&self.db, TRANSFERS)
    }

    /// Stores (or replaces) a transfer record, flushed before returning.
    pub fn save_transfer(&self, record: &TransferRecord) -> Result<(), StoreError> {
        let value = serde_json::to_vec(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.transfers_tree()?
            .insert(key(&record.account, &record.id), value)
            .map_err(io_error)?;
        self.flush()
    }

    /// One transfer, if stored.
    pub fn transfer(
        &self,
        account: &AccountId,
        id: &TransferId,
    ) -> Result<Option<TransferRecord>, StoreError> {
        let Some(v) = self
            .transfers_tree()?
            .get(key(account, id))
            .map_err(io_error)?
        else {
            return Ok(None);
        };
        serde_json::from_slice(&v)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("transfer {id}: {e}")))
    }

    /// All transfers of an account, oldest change first. Damaged records are skipped.
    pub fn transfers(&self, account: &AccountId) -> Result<Vec<TransferRecord>, StoreError> {
        let mut prefix = account.0.as_bytes().to_vec();
        prefix.push(0);
        let mut out = Vec::new();
        for item in self.transfers_tree()?.scan_prefix(prefix) {
            let (_, v) = item.map_err(io_error)?;
            match serde_json::from_slice::<TransferRecord>(&v) {
                Ok(r) => out.push(r),
                Err(e) => log::warn!("store: skipping a damaged transfer record: {e}"),
            }
        }
        out.sort_by_key(|r| r.updated_ms);
        Ok(out)
    }

    pub fn remove_transfer(&self, account: &AccountId, id: &TransferId) -> Result<(), StoreError> {
        if self
            .transfers_tree()?
            .remove(key(account, id))
            .map_err(io_error)?
            .is_some()
        {
            self.flush()?;
        }
        Ok(())
    }

    /// At start-up: every transfer still marked active was cut off when Loquat stopped.
    /// Marks them interrupted and returns them (all accounts).
    pub fn mark_interrupted_transfers(&self) -> Result<Vec<TransferRecord>, StoreError> {
        let tree = self.transfers_tree()?;
        let mut changed = Vec::new();
        for item in tree.iter() {
            let (k, v) = item.map_err(io_error)?;
            let Ok(mut r) = serde_json::from_slice::<TransferRecord>(&v) else {
                continue;
            };
            if r.state == TransferState::Active {
                r.state = TransferState::Interrupted;
                let value =
                    serde_json::to_vec(&r).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                tree.insert(k, value).map_err(io_error)?;
                changed.push(r);
            }
        }
        if !changed.is_empty() {
            self.flush()?;
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;
    use crate::model::transfer::TransferDirection;
    use xmpp_parsers::jid::BareJid;

    fn record(id: &str, state: TransferState) -> TransferRecord {
        TransferRecord {
            id: TransferId(id.into()),
            account: AccountId("acc".into()),
            peer: BareJid::new("bob@example.org").unwrap(),
            direction: TransferDirection::Upload,
            path: "/home/me/photo.jpg".into(),
            name: "photo.jpg".into(),
            size: Some(1234),
            url: None,
            state,
            updated_ms: 1,
        }
    }

    #[test]
    fn a_running_transfer_is_interrupted_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .save_transfer(&record("t1", TransferState::Active))
                .unwrap();
            store
                .save_transfer(&record("t2", TransferState::Done))
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let interrupted = store.mark_interrupted_transfers().unwrap();
        assert_eq!(interrupted.len(), 1);
        assert_eq!(interrupted[0].id.0, "t1");
        let all = store.transfers(&AccountId("acc".into())).unwrap();
        let states: Vec<_> = all
            .iter()
            .map(|r| (r.id.0.as_str(), r.state.clone()))
            .collect();
        assert!(
            states.contains(&("t1", TransferState::Interrupted)),
            "{states:?}"
        );
        assert!(states.contains(&("t2", TransferState::Done)), "{states:?}");
        assert!(store.mark_interrupted_transfers().unwrap().is_empty());
        store
            .remove_transfer(&AccountId("acc".into()), &TransferId("t2".into()))
            .unwrap();
        assert_eq!(store.transfers(&AccountId("acc".into())).unwrap().len(), 1);
    }
}
