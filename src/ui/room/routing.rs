//! What the app does for group chat: the panel's messages and requests, the join
//! dialog's accounts, and room messages from the sessions (into the room and the inbox).

use crate::ids::AccountId;
use crate::model::ChatMessage;
use crate::session::Command;
use crate::ui::i18n::{T, tr};
use crate::ui::room::{AccountChoice, Event};
use crate::ui::{App, Message};
use iced::Task;

impl App {
    /// Group chat messages: the panel decides, the account's session acts.
    pub(in crate::ui) fn on_rooms(&mut self, message: crate::ui::room::Message) -> Task<Message> {
        let default_account = self.join_account(None);
        let default_nick = default_account
            .as_ref()
            .and_then(|id| self.account_state(id))
            .and_then(|a| a.account.jid.node().map(|n| n.to_string()));
        // The panel may put a room or a dialog in place of the chat: keep its draft.
        self.stash_draft();
        let outgoing = self
            .rooms
            .update(&mut self.main, message, default_account, default_nick);
        let task = match outgoing {
            Some(Event::Command(_, Command::SendChatState { .. }))
                if !self.settings().chat_states =>
            {
                Task::none()
            }
            Some(Event::Command(account, command @ Command::SendChatState { .. })) => {
                // Best effort, as in chats: no notice when it cannot go out.
                let _ = self.send(&account, command);
                Task::none()
            }
            Some(Event::Command(account, command)) => {
                // Writing while reading older messages: back to the newest.
                let newest = match &command {
                    Command::SendRoom { room, .. }
                        if self
                            .rooms
                            .rooms
                            .get(&(account.clone(), room.clone()))
                            .is_some_and(|r| r.in_window()) =>
                    {
                        Some(room.clone())
                    }
                    _ => None,
                };
                if self.send(&account, command).is_err() {
                    self.notice(tr(self.lang, T::CommandNotConnected).to_owned());
                }
                match newest {
                    Some(room) => {
                        self.room_window(account, room, crate::ui::room::window::Ask::Newest)
                    }
                    None => Task::none(),
                }
            }
            Some(Event::Open(account, room)) => self.open_room(account, room),
            Some(Event::LoadOlder(account, room)) => self.room_load_older(account, room),
            Some(Event::Window(account, room, ask)) => self.room_window(account, room, ask),
            Some(Event::LoadPrivate(account, room, nick, before)) => {
                self.private_load(account, room, nick, before)
            }
            Some(Event::Timeline(event)) => self.on_room_timeline(event),
            Some(Event::Commands(account, commands)) => {
                for command in commands {
                    if self.send(&account, command).is_err() {
                        self.notice(tr(self.lang, T::CommandNotConnected).to_owned());
                        break;
                    }
                }
                Task::none()
            }
            None => Task::none(),
        };
        Task::batch([task, self.room_tool_tasks()])
    }

    /// Links, files and images in a room: handled as in a chat.
    fn on_room_timeline(&mut self, event: crate::ui::room::joined::Event) -> Task<Message> {
        use crate::ui::chat;
        use crate::ui::room::joined;
        match event {
            joined::Event::OpenLink(url) => self.open_link(url),
            joined::Event::Attach => self.on_file_event(chat::Event::Attach),
            joined::Event::Download(m) => self.on_file_event(chat::Event::Download(m)),
            joined::Event::SaveAs(m) => self.on_file_event(chat::Event::SaveAs(m)),
            joined::Event::Transfers(m) => self.on_transfers(m),
            joined::Event::Show(list) => crate::ui::timeline::actions::show(list),
            joined::Event::Focus(id) => iced::widget::operation::focus(id),
            joined::Event::Encryption(e) => match self.main.room() {
                Some((account, room)) => {
                    let (account, room) = (account.clone(), room.clone());
                    self.on_encryption(account, room, e)
                }
                None => Task::none(),
            },
            joined::Event::Command(_)
            | joined::Event::Configure
            | joined::Event::Members
            | joined::Event::LoadPrivate { .. }
            | joined::Event::LoadOlder
            | joined::Event::LoadNewer
            | joined::Event::Newest
            | joined::Event::Leave { .. }
            | joined::Event::OccupantProfile(_) => Task::none(),
        }
    }

    /// The join dialog, joining from `preferred` (the inbox's filter) when it is signed
    /// in, else from the first account signed in.
    pub(in crate::ui) fn open_join(&mut self, preferred: Option<AccountId>) -> Task<Message> {
        let account = self.join_account(preferred);
        let nick = account
            .as_ref()
            .and_then(|id| self.account_state(id))
            .and_then(|a| a.account.jid.node().map(|n| n.to_string()));
        self.stash_draft();
        let _ = self.rooms.update(
            &mut self.main,
            crate::ui::room::Message::OpenJoin,
            account,
            nick,
        );
        Task::none()
    }

    fn join_account(&self, preferred: Option<AccountId>) -> Option<AccountId> {
        preferred
            .filter(|id| self.handles.contains_key(id))
            .or_else(|| {
                self.accounts
                    .iter()
                    .find(|a| self.handles.contains_key(&a.account.id))
                    .map(|a| a.account.id.clone())
            })
    }

    /// The accounts a room can be joined from: those with a session.
    pub(in crate::ui) fn join_choices(&self) -> Vec<AccountChoice> {
        self.accounts
            .iter()
            .filter(|a| self.handles.contains_key(&a.account.id))
            .map(|a| AccountChoice {
                id: a.account.id.clone(),
                label: a.account.label(),
            })
            .collect()
    }

    /// Is this a group chat room of the account (listed as one, or known to the panel)?
    pub(in crate::ui) fn is_room(
        &self,
        account: &AccountId,
        peer: &xmpp_parsers::jid::BareJid,
    ) -> bool {
        self.rooms
            .rooms
            .contains_key(&(account.clone(), peer.clone()))
            || self.account_state(account).is_some_and(|a| a.is_room(peer))
    }

    /// A stored room message from a session: into the room, and up the inbox with its
    /// unread and mention counts. `history`: fetched from the archive, not new.
    pub(in crate::ui) fn room_message(&mut self, message: &ChatMessage, history: bool) {
        let key = (message.account.clone(), message.peer().clone());
        let shown = self.main.is_room(&key.0, &key.1);
        let open = history || shown;
        let mention = if history && message.conversation.private_nick().is_none() {
            self.rooms.merge_history(message);
            false
        } else {
            self.rooms.push(message, shown)
        };
        if let Some(state) = self.account_mut(&message.account) {
            let unread = state.note_message(message, open);
            if unread && mention {
                state.note_mention(message.peer());
            }
        }
    }
}
