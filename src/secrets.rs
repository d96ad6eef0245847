//! Passwords live only in the OS keyring. (Stub: being written; signatures are the contract.)

use crate::ids::AccountId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No keyring service on this system (e.g. no Secret Service on the session bus).
    #[error("no keyring is available: {0}")]
    Unavailable(String),
    /// The keyring exists but is locked or refused access.
    #[error("the keyring is locked or refused access: {0}")]
    Locked(String),
    #[error("keyring error: {0}")]
    Other(String),
}

/// Where passwords are kept. Calls may block: run them off the UI thread.
pub trait SecretStore: Send + Sync {
    fn get(&self, account: &AccountId) -> Result<Option<String>, SecretError>;
    fn set(&self, account: &AccountId, password: &str) -> Result<(), SecretError>;
    fn delete(&self, account: &AccountId) -> Result<(), SecretError>;
}
