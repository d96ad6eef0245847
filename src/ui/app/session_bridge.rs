//! The bridge between sessions and iced: one subscription per running account, and the
//! one-shot login check of the sign-in form.

use crate::ids::AccountId;
use crate::session::handover::Handover;
use crate::session::{self, SessionParams, Update, UpdateKind};
use crate::store::Store;
use crate::ui::app::account_state::AccountState;
use futures::stream::{self, Stream, StreamExt};
use iced::Subscription;
use std::hash::{Hash, Hasher};

/// Identifies one session subscription. Only the account and the generation count
/// for identity, so renaming an account does not reconnect it; bumping the generation
/// starts a fresh session.
#[derive(Debug, Clone)]
pub struct SessionKey {
    pub account_id: AccountId,
    pub generation: u64,
    pub params: SessionParams,
    /// The session the sign-in form checked the login with, when there is one: it is
    /// taken up instead of starting another (not part of the identity).
    pub handover: Handover,
}

impl Hash for SessionKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.account_id.hash(state);
        self.generation.hash(state);
    }
}

fn start(key: &SessionKey) -> impl Stream<Item = Update> + use<> {
    session_for(&key.params, &key.handover)
}

/// The account's session: the one the sign-in form parked in `handover`, or a new one.
pub fn session_for(
    params: &SessionParams,
    handover: &Handover,
) -> impl Stream<Item = Update> + Send + use<> {
    match handover.take() {
        Some(running) => futures::future::Either::Left(running),
        None => futures::future::Either::Right(session::run(params.clone())),
    }
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
                        handover: state.handover.clone(),
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
    /// The login worked: `update` is the `Online` update, and the session that made it
    /// waits in `session` for the account to take it up.
    SignedIn {
        update: Box<Update>,
        session: Handover,
    },
    /// The session ended without saying whether the login worked.
    Ended(AccountId),
}

/// Runs the new account's session until it is online or fails. Online, the session is
/// parked in the report's [`Handover`] (with everything read from it so far) for the
/// account to go on with: one session per sign-in. Only the decisive update is
/// reported.
pub fn check_login(params: SessionParams) -> impl Stream<Item = CheckReport> {
    let account = params.account.clone();
    let (tx, rx) = futures::channel::mpsc::unbounded();
    let runner = async move {
        let mut updates = session::run(params).boxed();
        let mut seen = Vec::new();
        while let Some(update) = updates.next().await {
            match &update.kind {
                UpdateKind::Online { .. } => {
                    let report = Box::new(update.clone());
                    seen.push(update);
                    let session = Handover::park(seen, updates);
                    let _ = tx.unbounded_send(CheckReport::SignedIn {
                        update: report,
                        session,
                    });
                    return;
                }
                UpdateKind::Failed(_) | UpdateKind::Disconnected { .. } => {
                    let _ = tx.unbounded_send(CheckReport::Update(Box::new(update)));
                    return;
                }
                _ => seen.push(update),
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
            handover: Handover::default(),
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
