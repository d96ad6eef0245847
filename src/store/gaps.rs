//! History gaps: periods for which the server archive could not give us every message
//! (it no longer reached back to where we had stopped). The conversation shows a marker
//! there instead of pretending its history is whole.
//!
//! Kept per account in the `prefs` tree as JSON, newest last, at most [`MAX_GAPS`].

use super::{Store, StoreError};
use crate::ids::AccountId;
use serde::{Deserialize, Serialize};

/// More would only come from an archive that loses history again and again; the oldest
/// are dropped first.
const MAX_GAPS: usize = 64;

/// Messages between these two times (ms since the epoch) may be missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryGap {
    /// The newest message we had before the gap.
    pub after_ms: i64,
    /// The oldest message the archive still had after it.
    pub before_ms: i64,
}

fn key(account: &AccountId) -> String {
    format!("history-gaps:{account}")
}

impl Store {
    /// The account's history gaps, oldest first. Damaged data reads as none (with a
    /// warning): a missing marker is better than no history.
    pub fn history_gaps(&self, account: &AccountId) -> Result<Vec<HistoryGap>, StoreError> {
        let Some(text) = self.pref(&key(account))? else {
            return Ok(Vec::new());
        };
        Ok(serde_json::from_str(&text).unwrap_or_else(|e| {
            log::warn!("store: ignoring damaged history gaps: {e}");
            Vec::new()
        }))
    }

    /// Records a gap (flushed before returning).
    pub fn add_history_gap(&self, account: &AccountId, gap: HistoryGap) -> Result<(), StoreError> {
        let mut gaps = self.history_gaps(account)?;
        if gaps.contains(&gap) {
            return Ok(());
        }
        gaps.push(gap);
        gaps.sort_by_key(|g| g.after_ms);
        let excess = gaps.len().saturating_sub(MAX_GAPS);
        gaps.drain(..excess);
        let text = serde_json::to_string(&gaps).map_err(|e| StoreError::Io(e.to_string()))?;
        self.set_pref(&key(account), &text)
    }

    /// Time of the newest message stored for the account, if any.
    pub fn newest_time(&self, account: &AccountId) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conversations(account)?
            .into_iter()
            .filter_map(|c| c.last.map(|m| m.timestamp_ms))
            .max())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_kept_in_order_once_and_survive_damage() {
        let store = Store::open_temporary().unwrap();
        let a = AccountId("a".into());
        assert!(store.history_gaps(&a).unwrap().is_empty());
        let late = HistoryGap {
            after_ms: 5_000,
            before_ms: 9_000,
        };
        let early = HistoryGap {
            after_ms: 1_000,
            before_ms: 2_000,
        };
        store.add_history_gap(&a, late).unwrap();
        store.add_history_gap(&a, early).unwrap();
        store.add_history_gap(&a, late).unwrap();
        assert_eq!(store.history_gaps(&a).unwrap(), vec![early, late]);
        assert!(
            store
                .history_gaps(&AccountId("b".into()))
                .unwrap()
                .is_empty()
        );
        store.set_pref(&key(&a), "{not json").unwrap();
        assert!(store.history_gaps(&a).unwrap().is_empty());
    }
}
