//! What the app does for the search (see `crate::ui::screen::search`): gives it what
//! it needs to ask (the sidebar's account, who each account blocks), opens a result's
//! conversation or room at the message, and the Ctrl+F / Ctrl+Shift+F shortcuts.

use crate::ids::ConversationId;
use crate::model::ChatMessage;
use crate::search::Sender;
use crate::ui::screen::search::{self, Ask};
use crate::ui::{App, Message};
use iced::Task;

impl App {
    fn search_ask(&self) -> Ask {
        let mut hidden = Vec::new();
        let mut hidden_domains = Vec::new();
        for state in &self.accounts {
            for item in &state.blocking.items {
                if item.resource().is_some() {
                    continue;
                }
                let account = state.account.id.clone();
                if item.node().is_some() {
                    hidden.push((account, Sender::Contact(item.to_bare())));
                } else {
                    hidden_domains.push((account, item.domain().to_string()));
                }
            }
        }
        Ask {
            index: self.search.clone(),
            account: self.sidebar.filter().cloned(),
            hidden,
            hidden_domains,
        }
    }

    pub(in crate::ui) fn on_search(&mut self, message: search::Message) -> Task<Message> {
        let ask = self.search_ask();
        let (task, event) = self.search_box.update(message, &ask);
        let task = task.map(Message::Search);
        match event {
            Some(search::Event::Open(found)) => Task::batch([task, self.open_at(&found)]),
            Some(search::Event::Account(account)) => {
                let filter = match self.sidebar.update(
                    crate::ui::screen::sidebar::Message::Filter(account),
                    &self.accounts,
                ) {
                    Some(event) => self.on_sidebar(event),
                    None => Task::none(),
                };
                // The sidebar's filter change asks the search again.
                Task::batch([task, filter])
            }
            None => task,
        }
    }

    /// Opens a search result's conversation or room, scrolled to the message and with
    /// it highlighted; older pages come from the store (then the archive) until it is
    /// there.
    fn open_at(&mut self, found: &ChatMessage) -> Task<Message> {
        let account = found.account.clone();
        let marks = crate::search::matches(&found.body, self.search_box.query(), true);
        match &found.conversation {
            ConversationId::Room(room) => {
                self.room_open_at(account, room.clone(), &found.id, marks)
            }
            ConversationId::Chat(peer) => {
                let open = self.open_conversation(account.clone(), peer.clone());
                let Some(chat) = self
                    .main
                    .chat_mut()
                    .filter(|c| c.account == account && c.conversation == found.conversation)
                else {
                    return open;
                };
                // On screen: shown at once; else the messages around it are read.
                match chat.open_at(&found.id, marks) {
                    Some(event) => Task::batch([open, self.on_conversation(event)]),
                    None => open,
                }
            }
            ConversationId::Private { room, nick } => {
                self.private_open_at(account, room.clone(), nick.clone(), &found.id, marks)
            }
        }
    }

    /// While the search index is rebuilt, a look at its progress twice a second (and
    /// once more when it is done); no timer otherwise.
    pub(in crate::ui) fn indexing_clock(&self) -> iced::Subscription<Message> {
        let running = self.search.as_ref().is_some_and(|i| i.progress().is_some());
        if running || self.search_box.indexing_shown() {
            iced::time::every(std::time::Duration::from_millis(500))
                .map(|_| Message::Search(search::Message::Tick))
        } else {
            iced::Subscription::none()
        }
    }

    /// Ctrl+F (`here`) narrows the search to the conversation on screen; Ctrl+Shift+F
    /// searches everything. Either puts the cursor in the field.
    pub(in crate::ui) fn search_shortcut(&mut self, here: bool) -> Task<Message> {
        let open = self
            .main
            .open()
            .map(|(account, peer)| (account.clone(), peer.clone()));
        match open.filter(|_| here) {
            Some((account, peer)) => {
                let conversation = if self.main.room().is_some() {
                    ConversationId::Room(peer.clone())
                } else {
                    ConversationId::Chat(peer.clone())
                };
                let name = self
                    .account_state(&account)
                    .map(|s| s.peer_label(&peer))
                    .unwrap_or_else(|| peer.to_string());
                self.search_box.search_within(account, conversation, name);
            }
            None => self.search_box.search_everywhere(),
        }
        let again = self.on_search(search::Message::Again);
        Task::batch([again, iced::widget::operation::focus(search::FIELD_ID)])
    }
}
