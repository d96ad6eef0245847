//! Blocking (XEP-0191) in the session: our block and unblock commands out, the
//! blocklist to the UI. What blocked senders send never gets this far (see
//! `xmpp::blocking::filter`), so it is neither stored nor shown.

use super::Actor;
use crate::session::{Command, UpdateKind};
use crate::xmpp::blocking::{self, BlockEvent};

impl Actor {
    pub(super) async fn on_block_command(&mut self, command: Command) {
        let (stanza, block, jids) = match command {
            Command::Block { jids, report } => {
                for jid in &jids {
                    self.held_receipts.drop_peer(&jid.to_bare());
                }
                (
                    blocking::block(&mut self.proto, jids.clone(), report),
                    true,
                    jids,
                )
            }
            Command::Unblock { jids } => (
                blocking::unblock(&mut self.proto, jids.clone()),
                false,
                jids,
            ),
            _ => return,
        };
        match stanza {
            Some(st) => {
                self.send(st).await;
            }
            None => self.emit(UpdateKind::BlockRefused {
                block,
                jids,
                error: String::new(),
            }),
        }
    }

    pub(super) fn on_block_event(&mut self, event: BlockEvent) {
        match event {
            BlockEvent::List {
                items,
                supported,
                reporting,
            } => self.emit(UpdateKind::Blocklist {
                items,
                supported,
                reporting,
            }),
            BlockEvent::Refused { jids, block, error } => {
                self.emit(UpdateKind::BlockRefused { block, jids, error })
            }
        }
    }
}
