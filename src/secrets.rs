//! Passwords live only in the OS keyring.
//!
//! [`KeyringSecrets`] keeps them in the system keyring through `keyring-core` (on Linux:
//! the freedesktop Secret Service, i.e. GNOME Keyring or KWallet, over D-Bus).
//! [`MemorySecrets`] keeps them in memory, for unit tests and as the fallback when no
//! keyring is available (then the user is asked for the password at each start).
//!
//! Every call may block (D-Bus round trips, an unlock prompt): the UI runs them in
//! `spawn_blocking`. Each keyring call also runs on a short-lived thread of its own, so
//! it behaves the same from a plain thread, from `spawn_blocking` or (by mistake) from
//! an async task: the D-Bus library drives its own tokio runtime with `block_on`, which
//! would panic if it were entered from a thread that is already running a runtime.

use std::collections::HashMap;
use std::sync::Mutex;

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

/// The keyring "service" every Loquat password is filed under; the "user" is the
/// account id (not the JID, so renaming an account keeps its password).
pub const KEYRING_SERVICE: &str = "im.loquat.Loquat";

/// Passwords in the OS keyring.
///
/// Create it once at start-up with [`KeyringSecrets::init`]; it sets the process-wide
/// default `keyring-core` store.
#[derive(Debug)]
pub struct KeyringSecrets {
    _private: (),
}

impl KeyringSecrets {
    /// Connects to the system keyring and makes it the default `keyring-core` store.
    ///
    /// Fails with [`SecretError::Unavailable`] when there is no keyring to talk to (no
    /// session bus, or no Secret Service on it): the app then keeps passwords in memory
    /// and asks for them at each start. Blocks: call it off the UI thread.
    #[cfg(target_os = "linux")]
    pub fn init() -> Result<KeyringSecrets, SecretError> {
        on_own_thread(|| {
            let store = zbus_secret_service_keyring_store::Store::new().map_err(classify)?;
            keyring_core::set_default_store(store);
            Ok(KeyringSecrets { _private: () })
        })
    }

    /// Other systems have native stores for `keyring-core` (the Apple keychain, the
    /// Windows credential manager); they are not wired up yet, so there the app runs as
    /// with no keyring: passwords are asked for and kept in memory.
    #[cfg(not(target_os = "linux"))]
    pub fn init() -> Result<KeyringSecrets, SecretError> {
        Err(SecretError::Unavailable(
            "Loquat does not support the keyring of this operating system yet".to_owned(),
        ))
    }
}

impl SecretStore for KeyringSecrets {
    fn get(&self, account: &AccountId) -> Result<Option<String>, SecretError> {
        let user = account.0.clone();
        on_own_thread(move || {
            let entry = keyring_core::Entry::new(KEYRING_SERVICE, &user).map_err(classify)?;
            match entry.get_password() {
                Ok(password) => Ok(Some(password)),
                Err(keyring_core::Error::NoEntry) => Ok(None),
                Err(e) => Err(classify(e)),
            }
        })
    }

    fn set(&self, account: &AccountId, password: &str) -> Result<(), SecretError> {
        let user = account.0.clone();
        let password = password.to_owned();
        on_own_thread(move || {
            let entry = keyring_core::Entry::new(KEYRING_SERVICE, &user).map_err(classify)?;
            entry.set_password(&password).map_err(classify)
        })
    }

    /// Deleting a password that is not there is not an error.
    fn delete(&self, account: &AccountId) -> Result<(), SecretError> {
        let user = account.0.clone();
        on_own_thread(move || {
            let entry = keyring_core::Entry::new(KEYRING_SERVICE, &user).map_err(classify)?;
            match entry.delete_credential() {
                Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
                Err(e) => Err(classify(e)),
            }
        })
    }
}

/// Runs a blocking keyring call on a fresh thread, which has no async runtime, and waits
/// for it. A panic inside the keyring libraries becomes an error instead of unwinding
/// into the caller.
fn on_own_thread<T, F>(work: F) -> Result<T, SecretError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, SecretError> + Send + 'static,
{
    let handle = std::thread::Builder::new()
        .name("loquat-keyring".to_owned())
        .spawn(work)
        .map_err(|e| {
            SecretError::Other(format!("could not start a thread for the keyring: {e}"))
        })?;
    match handle.join() {
        Ok(result) => result,
        Err(_) => Err(SecretError::Other(
            "the keyring library failed unexpectedly".to_owned(),
        )),
    }
}

const NO_BUS: &str = "cannot reach the desktop session bus (D-Bus), so the system keyring \
                      cannot be used";
const NO_SERVICE: &str = "no Secret Service (such as GNOME Keyring or KWallet) is running \
                          on the desktop session bus";

const LOCKED: &str = "unlock your login keyring (signing in to the desktop usually does) \
                      and try again";

/// Turns a `keyring-core` error into the three cases the UI acts on.
fn classify(err: keyring_core::Error) -> SecretError {
    use keyring_core::Error as K;
    match err {
        K::NoStorageAccess(e) => SecretError::Locked(format!("{LOCKED} ({e})")),
        K::NoDefaultStore => {
            SecretError::Unavailable("the system keyring was not set up".to_owned())
        }
        K::PlatformFailure(e) => classify_platform(e.as_ref()),
        K::Ambiguous(entries) => SecretError::Other(format!(
            "{} keyring items match this account; remove the extra ones with the \
             system's password manager",
            entries.len()
        )),
        K::BadEncoding(_) => SecretError::Other("the stored password is not valid text".to_owned()),
        other => SecretError::Other(other.to_string()),
    }
}

#[cfg(target_os = "linux")]
fn classify_platform(err: &(dyn std::error::Error + Send + Sync + 'static)) -> SecretError {
    use secret_service::Error as S;
    match err.downcast_ref::<S>() {
        Some(S::Unavailable) => SecretError::Unavailable(NO_SERVICE.to_owned()),
        Some(S::Locked | S::Prompt | S::PromptDisconnected | S::NoResult) => {
            SecretError::Locked(format!("{LOCKED} ({err})"))
        }
        Some(S::Zbus(z)) => classify_zbus(z).unwrap_or_else(|| SecretError::Other(z.to_string())),
        Some(S::ZbusFdo(f)) => classify_fdo(f).unwrap_or_else(|| SecretError::Other(f.to_string())),
        _ => classify_io(err).unwrap_or_else(|| SecretError::Other(err.to_string())),
    }
}

#[cfg(not(target_os = "linux"))]
fn classify_platform(err: &(dyn std::error::Error + Send + Sync + 'static)) -> SecretError {
    classify_io(err).unwrap_or_else(|| SecretError::Other(err.to_string()))
}

#[cfg(target_os = "linux")]
fn classify_zbus(err: &zbus::Error) -> Option<SecretError> {
    use zbus::Error as Z;
    match err {
        Z::Address(_) | Z::Connection(..) | Z::Handshake(_) => {
            Some(SecretError::Unavailable(format!("{NO_BUS} ({err})")))
        }
        Z::InputOutput(io) => Some(classify_io_error(io)),
        Z::InterfaceNotFound => Some(SecretError::Unavailable(NO_SERVICE.to_owned())),
        Z::FDO(f) => classify_fdo(f),
        Z::MethodError(name, _, _) => match name.as_str() {
            "org.freedesktop.DBus.Error.ServiceUnknown"
            | "org.freedesktop.DBus.Error.NameHasNoOwner" => {
                Some(SecretError::Unavailable(NO_SERVICE.to_owned()))
            }
            n if n.starts_with("org.freedesktop.DBus.Error.Spawn") => {
                Some(SecretError::Unavailable(NO_SERVICE.to_owned()))
            }
            "org.freedesktop.DBus.Error.AccessDenied" | "org.freedesktop.Secret.Error.IsLocked" => {
                Some(SecretError::Locked(err.to_string()))
            }
            _ => None,
        },
        _ => None,
    }
}

#[cfg(target_os = "linux")]
fn classify_fdo(err: &zbus::fdo::Error) -> Option<SecretError> {
    use zbus::fdo::Error as F;
    match err {
        F::ServiceUnknown(_)
        | F::NameHasNoOwner(_)
        | F::SpawnExecFailed(_)
        | F::SpawnForkFailed(_)
        | F::SpawnChildExited(_)
        | F::SpawnChildSignaled(_)
        | F::SpawnFailed(_)
        | F::SpawnFailedToSetup(_)
        | F::SpawnConfigInvalid(_)
        | F::SpawnServiceNotValid(_)
        | F::SpawnServiceNotFound(_) => Some(SecretError::Unavailable(NO_SERVICE.to_owned())),
        F::AccessDenied(_) => Some(SecretError::Locked(err.to_string())),
        F::NoServer(_) | F::Disconnected(_) | F::NoNetwork(_) => {
            Some(SecretError::Unavailable(format!("{NO_BUS} ({err})")))
        }
        _ => None,
    }
}

/// Looks for an I/O error anywhere in the chain of causes.
fn classify_io(err: &(dyn std::error::Error + 'static)) -> Option<SecretError> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(classify_io_error(io));
        }
        current = e.source();
    }
    None
}

/// The session bus socket is missing or dead: there is no keyring to talk to.
fn classify_io_error(io: &std::io::Error) -> SecretError {
    use std::io::ErrorKind as E;
    match io.kind() {
        E::NotFound
        | E::ConnectionRefused
        | E::ConnectionReset
        | E::ConnectionAborted
        | E::NotConnected
        | E::BrokenPipe
        | E::AddrNotAvailable
        | E::PermissionDenied
        | E::UnexpectedEof => SecretError::Unavailable(format!("{NO_BUS} ({io})")),
        _ => SecretError::Other(format!("talking to the system keyring failed: {io}")),
    }
}

/// Passwords in memory: for unit tests, and for a session without a keyring. Its
/// `Debug` names the accounts only; a password is wiped when replaced or removed.
#[derive(Default)]
pub struct MemorySecrets {
    passwords: Mutex<HashMap<AccountId, zeroize::Zeroizing<String>>>,
}

impl std::fmt::Debug for MemorySecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let accounts: Vec<AccountId> = self
            .passwords
            .lock()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        f.debug_struct("MemorySecrets")
            .field("accounts", &accounts)
            .finish_non_exhaustive()
    }
}

impl MemorySecrets {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut HashMap<AccountId, zeroize::Zeroizing<String>>) -> T,
    ) -> Result<T, SecretError> {
        let mut map = self
            .passwords
            .lock()
            .map_err(|_| SecretError::Other("the in-memory password list is damaged".to_owned()))?;
        Ok(f(&mut map))
    }
}

impl SecretStore for MemorySecrets {
    fn get(&self, account: &AccountId) -> Result<Option<String>, SecretError> {
        self.with(|m| m.get(account).map(|p| p.as_str().to_owned()))
    }

    fn set(&self, account: &AccountId, password: &str) -> Result<(), SecretError> {
        self.with(|m| {
            m.insert(account.clone(), password.to_owned().into());
        })
    }

    fn delete(&self, account: &AccountId) -> Result<(), SecretError> {
        self.with(|m| {
            m.remove(account);
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn memory_round_trip() {
        let s = MemorySecrets::new();
        let a = AccountId("a".to_owned());
        let b = AccountId("b".to_owned());
        assert_eq!(s.get(&a).unwrap(), None);
        s.set(&a, "密码 one").unwrap();
        s.set(&b, "two").unwrap();
        assert_eq!(s.get(&a).unwrap().as_deref(), Some("密码 one"));
        s.set(&a, "changed").unwrap();
        assert_eq!(s.get(&a).unwrap().as_deref(), Some("changed"));
        s.delete(&a).unwrap();
        s.delete(&a).unwrap();
        assert_eq!(s.get(&a).unwrap(), None);
        assert_eq!(s.get(&b).unwrap().as_deref(), Some("two"));
    }

    #[test]
    fn memory_store_is_a_shareable_trait_object() {
        let s: std::sync::Arc<dyn SecretStore> = std::sync::Arc::new(MemorySecrets::new());
        let a = AccountId("x".to_owned());
        let s2 = s.clone();
        let a2 = a.clone();
        std::thread::spawn(move || s2.set(&a2, "pw").unwrap())
            .join()
            .unwrap();
        assert_eq!(s.get(&a).unwrap().as_deref(), Some("pw"));
    }

    #[test]
    fn missing_bus_socket_is_unavailable() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no socket");
        assert!(matches!(
            classify_io(&io),
            Some(SecretError::Unavailable(_))
        ));
        let k = keyring_core::Error::PlatformFailure(Box::new(io));
        assert!(matches!(classify(k), SecretError::Unavailable(_)));
    }

    #[test]
    fn refused_access_is_locked() {
        let io = std::io::Error::other("denied");
        let k = keyring_core::Error::NoStorageAccess(Box::new(io));
        assert!(matches!(classify(k), SecretError::Locked(_)));
        assert!(matches!(
            classify(keyring_core::Error::NoDefaultStore),
            SecretError::Unavailable(_)
        ));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn secret_service_errors_are_sorted() {
        let k = keyring_core::Error::PlatformFailure(Box::new(secret_service::Error::Unavailable));
        assert!(matches!(classify(k), SecretError::Unavailable(_)));
        let k = keyring_core::Error::PlatformFailure(Box::new(secret_service::Error::Locked));
        assert!(matches!(classify(k), SecretError::Locked(_)));
        let fdo = zbus::fdo::Error::ServiceUnknown("org.freedesktop.secrets".to_owned());
        let k = keyring_core::Error::PlatformFailure(Box::new(secret_service::Error::ZbusFdo(fdo)));
        assert!(matches!(classify(k), SecretError::Unavailable(_)));
    }

    #[test]
    fn errors_read_as_plain_words() {
        let e = SecretError::Unavailable(NO_SERVICE.to_owned());
        assert!(
            e.to_string()
                .starts_with("no keyring is available: no Secret Service")
        );
    }

    #[test]
    fn memory_secrets_debug_shows_no_password() {
        let s = MemorySecrets::new();
        let id = AccountId("acc-1".into());
        s.set(&id, "hunter2-very-secret").unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("acc-1"), "{shown}");
        assert_eq!(s.get(&id).unwrap().as_deref(), Some("hunter2-very-secret"));
    }
}
