//! The room's lock (issue #17, OMEMO in group chats): the chat's lock and panel
//! (`chat::encryption`) in the room's header. The session says whether the room can be
//! encrypted (members-only and non-anonymous) and which devices its members have; the
//! app reads and stores the room's choice here, as it does for a chat.

use crate::ids::AccountId;
use crate::session::Command;
use crate::session::omemo::{self as omemo, trust};
use crate::ui::app::startup::blocking;
use crate::ui::chat::encryption;
use crate::ui::room::joined;
use crate::ui::{App, Message};
use iced::Task;
use xmpp_parsers::jid::BareJid;

impl App {
    /// `room` opened: ask the session what it knows, and read the stored choice.
    pub(in crate::ui) fn room_encryption_opened(
        &mut self,
        account: &AccountId,
        room: &BareJid,
    ) -> Task<Message> {
        let _ = self.send(account, Command::OmemoStatus { peer: room.clone() });
        let key = (account.clone(), room.clone());
        let store = self.store.clone();
        if let Some(r) = self.rooms.rooms.get_mut(&key) {
            r.encryption.whose = Some(key.clone());
            // Nowhere to read a choice from: the default is the choice.
            r.encryption.loaded = store.is_none();
        }
        let Some(store) = store else {
            return Task::none();
        };
        Task::perform(
            blocking(move || {
                let choice = omemo::choice(&store, &key.0, &key.1);
                let require = trust::require_verification(&store);
                (key, choice, require)
            }),
            |result| match result {
                Ok((whose, choice, require)) => Message::Rooms(crate::ui::room::Message::Room(
                    joined::Message::Encryption(encryption::Message::Loaded {
                        whose,
                        choice,
                        require,
                    }),
                )),
                Err(e) => Message::Background(Err(e)),
            },
        )
    }

    /// A report about a room from `account`'s session (sent whenever what it knows
    /// changes, open or not). `false` when `report` is not about one of our rooms.
    pub(in crate::ui) fn room_omemo_report(
        &mut self,
        account: &AccountId,
        report: &trust::Report,
    ) -> bool {
        let require = self.settings().omemo_require_verification;
        let key = (account.clone(), report.peer.clone());
        let Some(r) = self.rooms.rooms.get_mut(&key) else {
            return false;
        };
        r.encryption.report = Some(report.clone());
        r.encryption.require = require;
        true
    }
}
