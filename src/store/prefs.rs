//! Small key/value preferences (UI state such as the account last used per contact or
//! the inbox filter). Never secrets.
//!
//! They live in their own sled tree, `prefs`, as UTF-8 keys and values. The tree is
//! opened on first use (sled keeps it open afterwards), so databases written before it
//! existed need no migration: a missing tree is simply an empty one.

use super::{Store, StoreError, io_error, tree};

/// Name of the sled tree holding the preferences.
pub(super) const PREFS: &str = "prefs";

impl Store {
    fn prefs_tree(&self) -> Result<sled::Tree, StoreError> {
        tree(&self.db, PREFS)
    }

    /// The value stored under `key`, if any.
    pub fn pref(&self, key: &str) -> Result<Option<String>, StoreError> {
        let Some(value) = self.prefs_tree()?.get(key.as_bytes()).map_err(io_error)? else {
            return Ok(None);
        };
        match String::from_utf8(value.to_vec()) {
            Ok(text) => Ok(Some(text)),
            Err(_) => Err(StoreError::Corrupt(format!(
                "the preference {key:?} is not valid text"
            ))),
        }
    }

    /// Stores `value` under `key` (flushed before returning).
    pub fn set_pref(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.prefs_tree()?
            .insert(key.as_bytes(), value.as_bytes())
            .map_err(io_error)?;
        if super::recover::kept_pref(key) {
            self.keep_changed();
        }
        self.flush()
    }

    /// Removes `key` (flushed before returning). Removing a missing key is not an error.
    pub fn remove_pref(&self, key: &str) -> Result<(), StoreError> {
        if self
            .prefs_tree()?
            .remove(key.as_bytes())
            .map_err(io_error)?
            .is_some()
        {
            if super::recover::kept_pref(key) {
                self.keep_changed();
            }
            self.flush()?;
        }
        Ok(())
    }
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
    fn set_get_overwrite_remove() {
        let store = Store::open_temporary().unwrap();
        assert_eq!(store.pref("inbox.filter").unwrap(), None);
        store.set_pref("inbox.filter", "all").unwrap();
        assert_eq!(store.pref("inbox.filter").unwrap().as_deref(), Some("all"));
        store.set_pref("inbox.filter", "account:abc").unwrap();
        assert_eq!(
            store.pref("inbox.filter").unwrap().as_deref(),
            Some("account:abc")
        );
        store.remove_pref("inbox.filter").unwrap();
        assert_eq!(store.pref("inbox.filter").unwrap(), None);
        store.remove_pref("inbox.filter").unwrap();
        store.remove_pref("never.set").unwrap();
    }

    #[test]
    fn keys_are_independent_and_text_is_kept_exactly() {
        let store = Store::open_temporary().unwrap();
        store.set_pref("a", "1").unwrap();
        store.set_pref("ab", "2").unwrap();
        store
            .set_pref("last_account/张三@example.org", "账户 ✓")
            .unwrap();
        store.set_pref("empty", "").unwrap();
        assert_eq!(store.pref("a").unwrap().as_deref(), Some("1"));
        assert_eq!(store.pref("ab").unwrap().as_deref(), Some("2"));
        assert_eq!(
            store
                .pref("last_account/张三@example.org")
                .unwrap()
                .as_deref(),
            Some("账户 ✓")
        );
        assert_eq!(store.pref("empty").unwrap().as_deref(), Some(""));
        store.remove_pref("a").unwrap();
        assert_eq!(store.pref("ab").unwrap().as_deref(), Some("2"));
    }

    #[test]
    fn clones_share_preferences() {
        let store = Store::open_temporary().unwrap();
        let other = store.clone();
        store.set_pref("k", "v").unwrap();
        assert_eq!(other.pref("k").unwrap().as_deref(), Some("v"));
    }

    #[test]
    fn survives_reopening_and_does_not_touch_accounts() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.set_pref("window.width", "1200").unwrap();
            assert!(store.accounts().unwrap().is_empty());
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.pref("window.width").unwrap().as_deref(), Some("1200"));
        assert!(store.accounts().unwrap().is_empty());
    }

    #[test]
    fn damaged_value_is_an_error_not_a_panic() {
        let store = Store::open_temporary().unwrap();
        store
            .prefs_tree()
            .unwrap()
            .insert(b"bad", &[0xff, 0xfe][..])
            .unwrap();
        assert!(matches!(store.pref("bad"), Err(StoreError::Corrupt(_))));
    }
}
