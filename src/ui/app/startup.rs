//! Loading what the app needs at start-up (store, keyring, accounts), off the UI thread,
//! and the helper that runs any blocking call off it.

use crate::ids::AccountId;
use crate::model::{Account, Contact};
use crate::secrets::{SecretError, SecretStore};
use crate::store::{ConversationSummary, Store};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use xmpp_parsers::jid::BareJid;

/// The preference that remembers which account to write to a contact from.
pub fn send_as_key(contact: &BareJid) -> String {
    format!("send-as:{contact}")
}

/// The preference that remembers the inbox filter (an account id; absent: all).
pub const FILTER_KEY: &str = "inbox-filter";

/// Runs a blocking call (sled, keyring, file system) on tokio's blocking pool.
pub async fn blocking<T, F>(f: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| e.to_string())
}

/// One stored account with what we found for it.
#[derive(Debug, Clone)]
pub struct LoadedAccount {
    pub account: Account,
    /// `None` when the keyring has no password or is unavailable.
    pub password: Option<String>,
    pub contacts: Vec<Contact>,
    pub conversations: Vec<ConversationSummary>,
    /// PLAIN login allowed for this account (`session::connect::allow_plain_pref`).
    pub allow_plain: bool,
    /// The key sealing its OMEMO state (`omemo::sealed::keyring_key`); `None` without a
    /// keyring.
    pub omemo_key: Option<crate::omemo::AtRestKey>,
}

impl LoadedAccount {
    pub fn new(account: Account, password: Option<String>) -> Self {
        LoadedAccount {
            account,
            password,
            contacts: Vec::new(),
            conversations: Vec::new(),
            allow_plain: false,
            omemo_key: None,
        }
    }
}

/// Everything start-up found, good and bad.
#[derive(Clone, Default)]
pub struct Startup {
    pub store: Option<Store>,
    /// The search index following the store (issue #19); rebuilt in the background when
    /// it is missing or behind.
    pub search: Option<Arc<crate::search::SearchIndex>>,
    pub secrets: Option<Arc<dyn SecretStore>>,
    /// Why the store could not be opened or read.
    pub store_error: Option<String>,
    /// The store was damaged and replaced by a new one.
    pub store_recovered: Option<crate::store::Recovered>,
    /// Why the keyring could not be used.
    pub keyring_error: Option<SecretError>,
    pub accounts: Vec<LoadedAccount>,
    /// The account last chosen to write from, per contact in several rosters.
    pub send_as: HashMap<BareJid, AccountId>,
    /// The inbox filter as it was left (`None`: all accounts).
    pub filter: Option<AccountId>,
    /// Settings, window state and drafts.
    pub desk: Box<crate::ui::desktop::restore::DeskStartup>,
}

impl fmt::Debug for Startup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Startup")
            .field("store", &self.store.is_some())
            .field("secrets", &self.secrets.is_some())
            .field("store_error", &self.store_error)
            .field("store_recovered", &self.store_recovered)
            .field("keyring_error", &self.keyring_error)
            .field("accounts", &self.accounts.len())
            .field("send_as", &self.send_as.len())
            .field("filter", &self.filter)
            .finish()
    }
}

/// Opens the store and the keyring and reads the accounts. Blocking: call it through
/// [`blocking`].
pub fn load(open_secrets: fn() -> Result<Arc<dyn SecretStore>, SecretError>) -> Startup {
    let mut startup = Startup::default();

    match crate::paths::data_dir() {
        None => startup.store_error = Some("no data directory on this system".into()),
        Some(dir) => {
            if let Err(e) = std::fs::create_dir_all(&dir) {
                log::warn!("could not create {}: {e}", dir.display());
            }
            match Store::open_or_recover(&dir.join("db")) {
                Ok((store, recovered)) => {
                    // LOQUAT_NO_SEARCH: without the index (the memory bench's comparison).
                    let search = if std::env::var_os("LOQUAT_NO_SEARCH").is_some() {
                        Err(crate::search::SearchError::Io("turned off".into()))
                    } else {
                        crate::search::SearchIndex::open(&store)
                    };
                    startup.search = match search {
                        Ok(index) => Some(Arc::new(index)),
                        Err(e) => {
                            log::error!("search: cannot open the index: {e}");
                            None
                        }
                    };
                    startup.store = Some(store);
                    startup.store_recovered = recovered;
                }
                Err(e) => startup.store_error = Some(e.to_string()),
            }
        }
    }

    match open_secrets() {
        Ok(secrets) => startup.secrets = Some(secrets),
        Err(e) => startup.keyring_error = Some(e),
    }

    let Some(store) = startup.store.clone() else {
        return startup;
    };
    let accounts = match store.accounts() {
        Ok(accounts) => accounts,
        Err(e) => {
            startup.store_error = Some(e.to_string());
            return startup;
        }
    };
    for account in accounts {
        let password = match &startup.secrets {
            Some(secrets) => match secrets.get(&account.id) {
                Ok(password) => password,
                Err(e) => {
                    log::warn!("no password for {}: {e}", account.jid);
                    startup.keyring_error.get_or_insert(e);
                    None
                }
            },
            None => None,
        };
        let contacts = store
            .roster(&account.id)
            .map(|(_, contacts)| contacts)
            .unwrap_or_else(|e| {
                log::warn!("cached roster of {}: {e}", account.jid);
                Vec::new()
            });
        let conversations = store.conversations(&account.id).unwrap_or_else(|e| {
            log::warn!("conversations of {}: {e}", account.jid);
            Vec::new()
        });
        let allow_plain = crate::session::connect::allows_plain(&store, &account.id);
        let omemo_key = startup.secrets.as_ref().and_then(|secrets| {
            crate::omemo::sealed::keyring_key(secrets.as_ref(), &account.id)
                .map_err(|e| log::warn!("no OMEMO key for {}: {e}", account.jid))
                .ok()
        });
        startup.accounts.push(LoadedAccount {
            account,
            password,
            contacts,
            conversations,
            allow_plain,
            omemo_key,
        });
    }
    load_prefs(&store, &mut startup);
    startup.desk = Box::new(crate::ui::desktop::restore::load(&store));
    startup
}

/// The remembered inbox filter and "write as" choices (for contacts in two or more
/// cached rosters). A preference that cannot be read is only logged.
fn load_prefs(store: &Store, startup: &mut Startup) {
    let read = |key: &str| {
        store.pref(key).unwrap_or_else(|e| {
            log::warn!("preference {key}: {e}");
            None
        })
    };
    let known = |id: &str| startup.accounts.iter().any(|a| a.account.id.0 == id);
    startup.filter = read(FILTER_KEY).filter(|id| known(id)).map(AccountId);
    let mut rosters: BTreeMap<&BareJid, usize> = BTreeMap::new();
    for loaded in &startup.accounts {
        for contact in &loaded.contacts {
            *rosters.entry(&contact.jid).or_default() += 1;
        }
    }
    let mut send_as = HashMap::new();
    for (jid, count) in rosters {
        if count < 2 {
            continue;
        }
        if let Some(id) = read(&send_as_key(jid)).filter(|id| known(id)) {
            send_as.insert(jid.clone(), AccountId(id));
        }
    }
    startup.send_as = send_as;
}
