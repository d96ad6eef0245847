//! Local storage on sled. No sled type leaves this module.
//! (Stub: the real implementation is being written; signatures are the contract.)

use crate::ids::{AccountId, ConversationId, LocalMessageId};
use crate::model::{Account, ChatMessage, Contact, Delivery};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("storage error: {0}")]
    Io(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

/// Did an insert add a message, or was it already stored?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    Duplicate,
}

/// One line of the conversation list.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationSummary {
    pub account: AccountId,
    pub conversation: ConversationId,
    pub last: Option<ChatMessage>,
    pub unread: u32,
}

/// Handle to the database; cheap to clone, shareable across threads.
#[derive(Clone)]
pub struct Store {}

impl Store {
    pub fn open(_path: &Path) -> Result<Store, StoreError> {
        Err(StoreError::Io("not implemented".into()))
    }
    pub fn open_temporary() -> Result<Store, StoreError> {
        Err(StoreError::Io("not implemented".into()))
    }
    pub fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        Ok(Vec::new())
    }
    pub fn save_account(&self, _account: &Account) -> Result<(), StoreError> {
        Ok(())
    }
    pub fn remove_account(&self, _id: &AccountId, _delete_history: bool) -> Result<(), StoreError> {
        Ok(())
    }
    pub fn insert_message(&self, _msg: &ChatMessage) -> Result<Inserted, StoreError> {
        Ok(Inserted::New)
    }
    pub fn insert_messages(&self, msgs: &[ChatMessage]) -> Result<Vec<Inserted>, StoreError> {
        Ok(msgs.iter().map(|_| Inserted::New).collect())
    }
    pub fn latest(
        &self,
        _account: &AccountId,
        _conversation: &ConversationId,
        _limit: usize,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        Ok(Vec::new())
    }
    pub fn before(
        &self,
        _account: &AccountId,
        _conversation: &ConversationId,
        _oldest_shown: &LocalMessageId,
        _limit: usize,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        Ok(Vec::new())
    }
    pub fn find_message(
        &self,
        _account: &AccountId,
        _id: &LocalMessageId,
    ) -> Result<Option<ChatMessage>, StoreError> {
        Ok(None)
    }
    pub fn set_delivery(
        &self,
        _account: &AccountId,
        _id: &LocalMessageId,
        _state: &Delivery,
    ) -> Result<Option<ChatMessage>, StoreError> {
        Ok(None)
    }
    pub fn conversations(
        &self,
        _account: &AccountId,
    ) -> Result<Vec<ConversationSummary>, StoreError> {
        Ok(Vec::new())
    }
    pub fn mark_read(
        &self,
        _account: &AccountId,
        _conversation: &ConversationId,
    ) -> Result<(), StoreError> {
        Ok(())
    }
    pub fn save_roster(
        &self,
        _account: &AccountId,
        _version: Option<&str>,
        _contacts: &[Contact],
    ) -> Result<(), StoreError> {
        Ok(())
    }
    pub fn roster(
        &self,
        _account: &AccountId,
    ) -> Result<(Option<String>, Vec<Contact>), StoreError> {
        Ok((None, Vec::new()))
    }
    pub fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
