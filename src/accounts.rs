//! Account lifecycle that spans storage and the keyring, and the account list's order.
//!
//! Everything here may block (sled flushes, D-Bus round trips to the keyring): call it
//! off the UI thread.

use crate::ids::AccountId;
use crate::model::Account;
use crate::secrets::{SecretError, SecretStore};
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// Removes an account: always its keyring entries (password and OMEMO key), its record
/// (roster cache included) and its OMEMO state; its history too when `delete_history`. Other accounts' data is never touched.
/// Blocking: call off the UI thread, after the account's session has been stopped.
///
/// The keyring entry goes first, so a password is never left behind for an account that
/// no longer exists:
/// - no entry (or `secrets` is `None`, i.e. passwords are only in memory): fine;
/// - no keyring on this system ([`SecretError::Unavailable`]): there is nothing we can
///   reach to delete, so the local data is removed anyway (logged) and this returns `Ok`;
/// - the keyring is locked or fails otherwise: nothing is removed and the error is
///   returned, so the user can unlock it and try again without orphaning the password.
pub fn remove_account(
    store: &Store,
    secrets: Option<&dyn SecretStore>,
    id: &AccountId,
    delete_history: bool,
) -> Result<(), AccountsError> {
    if let Some(secrets) = secrets {
        let omemo = crate::omemo::sealed::keyring_entry(id);
        for (entry, what) in [(id, "password"), (&omemo, "OMEMO key")] {
            match secrets.delete(entry) {
                Ok(()) => {}
                Err(SecretError::Unavailable(why)) => log::warn!(
                    "removing account {id}: the keyring is unavailable ({why}); removing \
                     its local data anyway"
                ),
                Err(e) => {
                    log::warn!("removing account {id}: could not delete its {what}: {e}");
                    return Err(e.into());
                }
            }
        }
    }
    store.remove_omemo_state(id)?;
    store.remove_account(id, delete_history)?;
    log::info!(
        "removed account {id}{}",
        if delete_history {
            " and its history"
        } else {
            " (history kept)"
        }
    );
    Ok(())
}

/// Accounts in list order: by position, then address, then id (so equal positions, e.g.
/// from before positions existed, still give one stable order).
pub fn ordered(mut accounts: Vec<Account>) -> Vec<Account> {
    accounts.sort_by(|a, b| {
        a.position
            .cmp(&b.position)
            .then_with(|| a.jid.as_str().cmp(b.jid.as_str()))
            .then_with(|| a.id.cmp(&b.id))
    });
    accounts
}

/// The stored accounts in list order (see [`ordered`]).
pub fn load_ordered(store: &Store) -> Result<Vec<Account>, AccountsError> {
    Ok(ordered(store.accounts()?))
}

/// The position for an account added now: after every stored one (0 for the first).
pub fn next_position(store: &Store) -> Result<u32, AccountsError> {
    Ok(store
        .accounts()?
        .iter()
        .map(|a| a.position.saturating_add(1))
        .max()
        .unwrap_or(0))
}

/// Saves a new list order: the accounts named in `ids` get positions 0, 1, 2, ... in
/// that order; stored accounts not named keep their relative order after them. Unknown
/// ids are ignored. Only records whose position changes are written.
pub fn set_order(store: &Store, ids: &[AccountId]) -> Result<(), AccountsError> {
    let mut current = ordered(store.accounts()?);
    let rank = |a: &Account| ids.iter().position(|id| *id == a.id).unwrap_or(usize::MAX);
    // Stable: unnamed accounts keep their current relative order.
    current.sort_by_key(rank);
    for (position, mut account) in (0u32..).zip(current) {
        if account.position != position {
            account.position = position;
            store.save_account(&account)?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::ids::{ConversationId, LocalMessageId};
    use crate::model::{ChatMessage, Delivery, Direction};
    use crate::secrets::MemorySecrets;
    use xmpp_parsers::jid::BareJid;

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    fn account(store: &Store, address: &str) -> Account {
        let mut a = Account::new(jid(address));
        a.position = next_position(store).unwrap();
        store.save_account(&a).unwrap();
        a
    }

    fn message(account: &AccountId, peer: &str, body: &str) -> ChatMessage {
        let id = LocalMessageId::generate();
        ChatMessage {
            truncated: false,
            extras: Default::default(),
            id: id.clone(),
            account: account.clone(),
            conversation: ConversationId::Chat(jid(peer)),
            direction: Direction::Incoming,
            sender: String::new(),
            body: body.to_owned(),
            timestamp_ms: 1_700_000_000_000,
            stanza_id_attr: None,
            origin_id: Some(id.0),
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
        }
    }

    fn history(store: &Store, account: &AccountId, peer: &str) -> Vec<String> {
        store
            .latest(account, &ConversationId::Chat(jid(peer)), 10)
            .unwrap()
            .into_iter()
            .map(|m| m.body)
            .collect()
    }

    /// A keyring that always fails the same way.
    struct Failing(SecretError);

    impl SecretStore for Failing {
        fn get(&self, _: &AccountId) -> Result<Option<String>, SecretError> {
            Err(self.0.clone())
        }
        fn set(&self, _: &AccountId, _: &str) -> Result<(), SecretError> {
            Err(self.0.clone())
        }
        fn delete(&self, _: &AccountId) -> Result<(), SecretError> {
            Err(self.0.clone())
        }
    }

    #[test]
    fn removing_deletes_password_record_and_history_of_that_account_only() {
        let store = Store::open_temporary().unwrap();
        let secrets = MemorySecrets::new();
        let a = account(&store, "a@example.org");
        let b = account(&store, "b@example.org");
        secrets.set(&a.id, "pa").unwrap();
        secrets.set(&b.id, "pb").unwrap();
        // The same peer in both accounts: the conversations are separate.
        store
            .insert_message(&message(&a.id, "peer@example.org", "to a"))
            .unwrap();
        store
            .insert_message(&message(&b.id, "peer@example.org", "to b"))
            .unwrap();
        store.save_roster(&a.id, Some("1"), &[]).unwrap();

        remove_account(&store, Some(&secrets), &a.id, true).unwrap();

        assert_eq!(secrets.get(&a.id).unwrap(), None);
        assert_eq!(secrets.get(&b.id).unwrap().as_deref(), Some("pb"));
        let left: Vec<_> = store
            .accounts()
            .unwrap()
            .into_iter()
            .map(|x| x.id)
            .collect();
        assert_eq!(left, vec![b.id.clone()]);
        assert!(history(&store, &a.id, "peer@example.org").is_empty());
        assert_eq!(history(&store, &b.id, "peer@example.org"), vec!["to b"]);
        assert_eq!(store.roster(&a.id).unwrap(), (None, Vec::new()));
        assert!(store.conversations(&a.id).unwrap().is_empty());
        assert_eq!(store.conversations(&b.id).unwrap().len(), 1);
    }

    #[test]
    fn keeping_history_keeps_messages_but_not_the_password() {
        let store = Store::open_temporary().unwrap();
        let secrets = MemorySecrets::new();
        let a = account(&store, "a@example.org");
        secrets.set(&a.id, "pa").unwrap();
        store
            .insert_message(&message(&a.id, "peer@example.org", "kept"))
            .unwrap();
        remove_account(&store, Some(&secrets), &a.id, false).unwrap();
        assert_eq!(secrets.get(&a.id).unwrap(), None);
        assert!(store.accounts().unwrap().is_empty());
        assert_eq!(history(&store, &a.id, "peer@example.org"), vec!["kept"]);
    }

    #[test]
    fn missing_password_and_no_keyring_are_fine() {
        let store = Store::open_temporary().unwrap();
        let a = account(&store, "a@example.org");
        let b = account(&store, "b@example.org");
        remove_account(&store, Some(&MemorySecrets::new()), &a.id, true).unwrap();
        remove_account(&store, None, &b.id, true).unwrap();
        assert!(store.accounts().unwrap().is_empty());
        // Removing twice is harmless.
        remove_account(&store, None, &b.id, true).unwrap();
    }

    #[test]
    fn unavailable_keyring_still_removes_local_data() {
        let store = Store::open_temporary().unwrap();
        let a = account(&store, "a@example.org");
        let keyring = Failing(SecretError::Unavailable("no bus".into()));
        remove_account(&store, Some(&keyring), &a.id, true).unwrap();
        assert!(store.accounts().unwrap().is_empty());
    }

    #[test]
    fn locked_keyring_removes_nothing_and_says_so() {
        let store = Store::open_temporary().unwrap();
        let a = account(&store, "a@example.org");
        store
            .insert_message(&message(&a.id, "peer@example.org", "still here"))
            .unwrap();
        let keyring = Failing(SecretError::Locked("unlock it".into()));
        let err = remove_account(&store, Some(&keyring), &a.id, true).unwrap_err();
        assert!(matches!(err, AccountsError::Secret(SecretError::Locked(_))));
        assert_eq!(store.accounts().unwrap().len(), 1);
        assert_eq!(
            history(&store, &a.id, "peer@example.org"),
            vec!["still here"]
        );
    }

    #[test]
    fn positions_append_and_order_is_stable() {
        let store = Store::open_temporary().unwrap();
        assert_eq!(next_position(&store).unwrap(), 0);
        let z = account(&store, "z@example.org");
        let a = account(&store, "a@example.org");
        assert_eq!((z.position, a.position), (0, 1));
        assert_eq!(next_position(&store).unwrap(), 2);
        // Positions win over addresses.
        let list = load_ordered(&store).unwrap();
        assert_eq!(
            list.iter().map(|x| x.jid.as_str()).collect::<Vec<_>>(),
            ["z@example.org", "a@example.org"]
        );
        // Equal positions fall back to the address.
        let mut x = Account::new(jid("x@example.org"));
        let mut y = Account::new(jid("b@example.org"));
        x.position = 5;
        y.position = 5;
        let sorted = ordered(vec![x, y, a.clone(), z.clone()]);
        assert_eq!(
            sorted.iter().map(|x| x.jid.as_str()).collect::<Vec<_>>(),
            [
                "z@example.org",
                "a@example.org",
                "b@example.org",
                "x@example.org"
            ]
        );
        // A gap left by a removed account does not make positions collide.
        remove_account(&store, None, &z.id, false).unwrap();
        assert_eq!(next_position(&store).unwrap(), 2);
    }

    #[test]
    fn set_order_rewrites_positions() {
        let store = Store::open_temporary().unwrap();
        let a = account(&store, "a@example.org");
        let b = account(&store, "b@example.org");
        let c = account(&store, "c@example.org");
        set_order(
            &store,
            &[c.id.clone(), AccountId("unknown".into()), a.id.clone()],
        )
        .unwrap();
        let list = load_ordered(&store).unwrap();
        assert_eq!(
            list.iter()
                .map(|x| (x.jid.as_str(), x.position))
                .collect::<Vec<_>>(),
            [
                ("c@example.org", 0),
                ("a@example.org", 1),
                ("b@example.org", 2)
            ]
        );
        assert_eq!(list.get(2).map(|x| &x.id), Some(&b.id));
    }
}
