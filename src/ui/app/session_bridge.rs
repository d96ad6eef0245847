//! The bridge between sessions and iced: one subscription per running account, and the
//! one-shot login check of the sign-in form.

use crate::ids::AccountId;
use crate::session::{self, Command, SessionParams, Update, UpdateKind};
use crate::store::Store;
use crate::ui::app::account_state::AccountState;
use futures::stream::{self, Stream, StreamExt};
use iced::Subscription;
use std::hash::{Hash, Hasher};
use std::time::Duration;

/// Identifies one session subscription. Only the account and the generation count
/// for identity, so renaming an account does not reconnect it; bumping the generation
/// starts a fresh session.
#[derive(Debug, Clone)]
pub struct SessionKey {
    pub account_id: AccountId,
    pub generation: u64,
    pub params: SessionParams,
}

impl Hash for SessionKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.account_id.hash(state);
        self.generation.hash(state);
    }
}

fn start(key: &SessionKey) -> impl Stream<Item = Update> + use<> {
    session::run(key.params.clone())
}

/// The parameters of the real (not verify-only) session of an account.
pub fn params_for(state: &AccountState, store: Option<&Store>) -> Option<SessionParams> {
    let password = state.password.clone()?;
    Some(SessionParams {
        account: state.account.id.clone(),
        jid: state.account.jid.clone(),
        password,
        server: state.account.server.clone(),
        trust: state.account.trust.clone(),
        // The same resource at every start: a session a crash left on the server is
        // replaced by the next sign-in, not joined by a second one.
        resource: Some(session::stable_resource(&state.account.id)),
        store: store.cloned(),
        verify_only: false,
        allow_plain: state.allow_plain,
        omemo_key: state.omemo_key.clone(),
    })
}

/// One subscription per enabled account whose password we know.
pub fn subscription<'a>(
    accounts: impl IntoIterator<Item = &'a AccountState>,
    store: Option<&Store>,
) -> Subscription<Update> {
    Subscription::batch(
        accounts
            .into_iter()
            .filter(|state| state.wants_session())
            .filter_map(|state| {
                let params = params_for(state, store)?;
                Some(Subscription::run_with(
                    SessionKey {
                        account_id: state.account.id.clone(),
                        generation: state.generation,
                        params,
                    },
                    start,
                ))
            }),
    )
}

/// What the login check reports back to the sign-in form.
#[derive(Debug, Clone)]
pub enum CheckReport {
    /// The decisive update: `Online`, `Failed` or `Disconnected`.
    Update(Box<Update>),
    /// The session ended without saying whether the login worked.
    Ended(AccountId),
}

/// Runs a verify-only session until it is online (then disconnects it cleanly) or
/// fails. Only the decisive update is reported.
pub fn check_login(params: SessionParams) -> impl Stream<Item = CheckReport> {
    let account = params.account.clone();
    let (tx, rx) = futures::channel::mpsc::unbounded();
    let runner = async move {
        let mut updates = std::pin::pin!(session::run(params));
        let mut handle = None;
        while let Some(update) = updates.next().await {
            match &update.kind {
                UpdateKind::Ready(h) => handle = Some(h.clone()),
                UpdateKind::Online { .. } => {
                    let _ = tx.unbounded_send(CheckReport::Update(Box::new(update)));
                    if let Some(handle) = &handle {
                        let _ = handle.send(Command::Disconnect);
                    }
                    // Let the session say goodbye to the server, but not for ever.
                    let drain = async { while updates.next().await.is_some() {} };
                    let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
                    return;
                }
                UpdateKind::Failed(_) | UpdateKind::Disconnected { .. } => {
                    let _ = tx.unbounded_send(CheckReport::Update(Box::new(update)));
                    return;
                }
                _ => {}
            }
        }
        let _ = tx.unbounded_send(CheckReport::Ended(account));
    };
    stream::select(rx, stream::once(runner).filter_map(|()| async { None }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash_of(key: &SessionKey) -> u64 {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        h.finish()
    }

    #[test]
    fn session_key_ignores_everything_but_account_and_generation() {
        let jid = xmpp_parsers::jid::BareJid::new("me@example.org").unwrap();
        let mut state = AccountState::new(crate::model::Account::new(jid), Some("pw".into()));
        let key = |state: &AccountState| SessionKey {
            account_id: state.account.id.clone(),
            generation: state.generation,
            params: params_for(state, None).unwrap(),
        };
        let before = hash_of(&key(&state));
        state.account.display_name = Some("Renamed".into());
        state.password = Some("other".into());
        assert_eq!(before, hash_of(&key(&state)));
        state.reconnect();
        assert_ne!(before, hash_of(&key(&state)));
    }

    #[test]
    fn an_account_asks_for_the_same_resource_at_every_start() {
        let jid = xmpp_parsers::jid::BareJid::new("me@example.org").unwrap();
        let state = AccountState::new(crate::model::Account::new(jid.clone()), Some("pw".into()));
        let resource = params_for(&state, None).unwrap().resource.unwrap();
        assert!(resource.starts_with("loquat."), "{resource}");
        let again = AccountState::new(state.account.clone(), Some("new password".into()));
        assert_eq!(
            params_for(&again, None).unwrap().resource,
            Some(resource.clone())
        );
        // Another account (here: the same address added again, or on another device)
        // has another id, so its sessions never push this one out.
        let other = AccountState::new(crate::model::Account::new(jid), Some("pw".into()));
        assert_ne!(params_for(&other, None).unwrap().resource, Some(resource));
    }
}
