//! Account lifecycle that spans storage and the keyring. (Stub: being implemented; the
//! signatures are the contract.)

use crate::ids::AccountId;
use crate::secrets::{SecretError, SecretStore};
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// Removes an account: always its keyring entry and its record (roster cache included);
/// its history too when `delete_history`. Other accounts' data is never touched.
/// Blocking: call off the UI thread.
pub fn remove_account(
    _store: &Store,
    _secrets: Option<&dyn SecretStore>,
    _id: &AccountId,
    _delete_history: bool,
) -> Result<(), AccountsError> {
    Ok(())
}
