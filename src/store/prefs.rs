//! Small key/value preferences (UI state such as the account last used per contact or
//! the inbox filter). Never secrets. (Stub: being implemented.)

use super::{Store, StoreError};

impl Store {
    /// The value stored under `key`, if any.
    pub fn pref(&self, _key: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }

    /// Stores `value` under `key` (flushed before returning).
    pub fn set_pref(&self, _key: &str, _value: &str) -> Result<(), StoreError> {
        Ok(())
    }

    /// Removes `key`.
    pub fn remove_pref(&self, _key: &str) -> Result<(), StoreError> {
        Ok(())
    }
}
