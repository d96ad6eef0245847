//! What the app does for the chat's lock (issue #17): reads the conversation's stored
//! encryption choice when it opens, stores the person's changes (`session::omemo::
//! set_choice`, `trust::set_verified`), asks the session for the devices and hands its
//! reports to the open chat.

use crate::ids::AccountId;
use crate::session::Command;
use crate::session::omemo::{self as omemo, trust};
use crate::ui::app::startup::blocking;
use crate::ui::chat::{self, encryption};
use crate::ui::{App, Message};
use iced::Task;
use xmpp_parsers::jid::BareJid;

impl App {
    /// The chat with `peer` opened: read its stored choice and the verification setting,
    /// and ask the session for the devices.
    pub(in crate::ui) fn encryption_opened(
        &mut self,
        account: &AccountId,
        peer: &BareJid,
    ) -> Task<Message> {
        let _ = self.send(account, Command::OmemoStatus { peer: peer.clone() });
        let store = self.store.clone();
        if let Some(open) = self.main.chat_mut() {
            open.encryption.whose = Some((account.clone(), peer.clone()));
            // Nowhere to read a choice from: the default is the choice.
            open.encryption.loaded = store.is_none();
        }
        let Some(store) = store else {
            return Task::none();
        };
        let (a, p) = (account.clone(), peer.clone());
        Task::perform(
            blocking(move || {
                let choice = omemo::choice(&store, &a, &p);
                let require = trust::require_verification(&store);
                (a, p, choice, require)
            }),
            |result| match result {
                Ok((account, peer, choice, require)) => {
                    Message::Conversation(chat::Message::Encryption(encryption::Message::Loaded {
                        whose: (account, peer),
                        choice,
                        require,
                    }))
                }
                Err(e) => Message::Background(Err(e)),
            },
        )
    }

    /// `account` is online (again): the open chat's lock asks afresh (what it asked while
    /// offline found nothing).
    pub(in crate::ui) fn omemo_online(&mut self, account: &AccountId) {
        let Some(peer) = self
            .main
            .chat()
            .filter(|c| &c.account == account && !c.conversation.is_room())
            .map(|c| c.conversation.jid().clone())
        else {
            return;
        };
        let _ = self.send(account, Command::OmemoStatus { peer });
    }

    /// A report of a conversation's devices from `account`'s session.
    pub(in crate::ui) fn omemo_report(&mut self, account: &AccountId, report: trust::Report) {
        if self.room_omemo_report(account, &report) {
            return;
        }
        let require = self.settings().omemo_require_verification;
        if let Some(open) = self.main.chat_mut()
            && open.is(account, &report.peer)
        {
            open.encryption.report = Some(report);
            open.encryption.require = require;
        }
    }

    /// The lock state of `account`'s conversation with `peer`: the open chat's when it
    /// is that chat, else the room's (rooms keep theirs while joined).
    pub(in crate::ui) fn encryption_state(
        &self,
        account: &AccountId,
        peer: &BareJid,
    ) -> Option<&encryption::State> {
        if let Some(open) = self.main.chat().filter(|c| c.is(account, peer)) {
            return Some(&open.encryption);
        }
        self.rooms
            .rooms
            .get(&(account.clone(), peer.clone()))
            .map(|r| &r.encryption)
    }

    /// [`App::encryption_state`], to change.
    fn encryption_state_mut(
        &mut self,
        account: &AccountId,
        peer: &BareJid,
    ) -> Option<&mut encryption::State> {
        if self.main.chat().is_some_and(|c| c.is(account, peer)) {
            return self.main.chat_mut().map(|open| &mut open.encryption);
        }
        self.rooms
            .rooms
            .get_mut(&(account.clone(), peer.clone()))
            .map(|r| &mut r.encryption)
    }

    /// The lock's panel of `account`'s chat or room `peer` asks for something.
    pub(in crate::ui) fn on_encryption(
        &mut self,
        account: AccountId,
        peer: BareJid,
        event: encryption::Event,
    ) -> Task<Message> {
        let store = self.store.clone();
        match event {
            encryption::Event::Refresh => {
                let _ = self.send(&account, Command::OmemoStatus { peer });
                Task::none()
            }
            encryption::Event::SetChoice(choice) => {
                let Some(store) = store else {
                    return Task::none();
                };
                Task::perform(
                    blocking(move || {
                        omemo::set_choice(&store, &account, &peer, choice)
                            .map_err(|e| e.to_string())
                    }),
                    |result| Message::Background(result.and_then(|r| r)),
                )
            }
            encryption::Event::AcceptKey {
                jid,
                device,
                fingerprint,
            } => {
                let _ = self.send(
                    &account,
                    Command::OmemoAcceptKey {
                        peer,
                        jid,
                        device,
                        fingerprint,
                    },
                );
                Task::none()
            }
            encryption::Event::Verify {
                jid,
                device,
                fingerprint,
            } => {
                // Shown at once; the session's next report says the same.
                if let Some(report) = self
                    .encryption_state_mut(&account, &peer)
                    .and_then(|e| e.report.as_mut())
                {
                    let others = report.own_others.iter_mut();
                    for d in others.chain(report.contact.iter_mut().flatten()) {
                        if d.jid == jid && d.id == device {
                            d.verified = fingerprint.is_some();
                        }
                    }
                }
                let Some(store) = store else {
                    return Task::none();
                };
                let handle = self.handles.get(&account).cloned();
                Task::perform(
                    blocking(move || {
                        let stored = trust::set_verified(
                            &store,
                            &account,
                            &jid,
                            device,
                            fingerprint.as_deref(),
                        )
                        .map_err(|e| e.to_string());
                        if let Some(handle) = handle {
                            let _ = handle.send(Command::OmemoStatus { peer });
                        }
                        stored
                    }),
                    |result| Message::Background(result.and_then(|r| r)),
                )
            }
        }
    }
}
