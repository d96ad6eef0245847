//! Telling a follower (the search index, `crate::search`) what history became, and
//! reading all of it back for a rebuild.
//!
//! The store calls [`HistoryObserver::will_write`] before a write that changes what a
//! message says (so the follower can note it is behind, in case the process dies before
//! it caught up), then, after the flush, [`HistoryObserver::stored`] /
//! [`HistoryObserver::changed`] / [`HistoryObserver::account_removed`]. Calls happen on
//! the writing thread: they must only hand work over (a channel send), never do it.

use super::{Store, StoreError, io_error};
use crate::ids::AccountId;
use crate::model::ChatMessage;
use std::sync::{Arc, RwLock};

/// Follows every change to stored history. See the module documentation.
pub trait HistoryObserver: Send + Sync {
    /// A write that changes history is about to happen.
    fn will_write(&self);
    /// These messages were stored (new ones only, as they were written).
    fn stored(&self, msgs: &[ChatMessage]);
    /// A stored message changed (corrected, retracted, moderated, reacted to).
    fn changed(&self, msg: &ChatMessage);
    /// All history of an account was deleted.
    fn account_removed(&self, account: &AccountId);
}

/// The observer slot every clone of a store shares.
pub(super) type ObserverSlot = Arc<RwLock<Option<Arc<dyn HistoryObserver>>>>;

impl Store {
    /// Makes `observer` follow this store (and all its clones); replaces any earlier one.
    pub fn set_observer(&self, observer: Option<Arc<dyn HistoryObserver>>) {
        if let Ok(mut slot) = self.observer.write() {
            *slot = observer;
        }
    }

    pub(super) fn observer(&self) -> Option<Arc<dyn HistoryObserver>> {
        self.observer.read().ok().and_then(|slot| slot.clone())
    }

    pub(super) fn observe_will_write(&self) {
        if let Some(o) = self.observer() {
            o.will_write();
        }
    }

    /// How many history records there are (for a rebuild's progress).
    pub fn history_len(&self) -> usize {
        self.history.len()
    }

    /// Calls `each` with every readable stored message, in key order (damaged records
    /// are skipped); stops early when it returns `false`.
    pub fn for_each_message(
        &self,
        mut each: impl FnMut(ChatMessage) -> bool,
    ) -> Result<(), StoreError> {
        for item in self.history.iter() {
            let (key, value) = item.map_err(io_error)?;
            if let Some(msg) = self.decode_message(&key, &value)
                && !each(msg)
            {
                break;
            }
        }
        Ok(())
    }
}
