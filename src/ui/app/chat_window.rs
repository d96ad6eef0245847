//! The app's side of a chat opened at a message far back (see `ui::chat::window`):
//! reads the stretches of history the chat asks for from the store, off the UI thread.

use crate::ids::{AccountId, ConversationId};
use crate::model::ChatMessage;
use crate::ui::app::startup::blocking;
use crate::ui::chat::{self, PAGE};
use crate::ui::{App, Message};
use iced::Task;

impl App {
    /// The newest page of the open chat, read from the store.
    pub(in crate::ui) fn load_latest_chat(
        &self,
        account: AccountId,
        conversation: ConversationId,
    ) -> Task<Message> {
        let Some(store) = self.store.clone() else {
            return Task::none();
        };
        let (a, c) = (account.clone(), conversation.clone());
        Task::perform(
            blocking(move || store.latest(&a, &c, PAGE).map_err(|e| e.to_string())),
            move |result| Message::HistoryLoaded {
                account: account.clone(),
                conversation: conversation.clone(),
                older: false,
                result: result.and_then(|r| r),
            },
        )
    }

    /// What the open chat asks for its stretch of history.
    pub(in crate::ui) fn on_chat_window(&mut self, event: chat::Event) -> Task<Message> {
        let Some(open) = self.main.chat_mut() else {
            return Task::none();
        };
        let (account, conversation) = (open.account.clone(), open.conversation.clone());
        if let chat::Event::Newest = event {
            open.leave_window();
            let snap = iced::widget::operation::snap_to(
                chat::LIST_ID,
                iced::widget::scrollable::RelativeOffset {
                    x: None,
                    y: Some(0.0),
                },
            );
            return Task::batch([self.load_latest_chat(account, conversation), snap]);
        }
        let Some(store) = self.store.clone() else {
            return Task::none();
        };
        let (around, id) = match event {
            chat::Event::LoadAround(id) => (true, id),
            chat::Event::LoadNewer(id) => (false, id),
            _ => return Task::none(),
        };
        let (a, c) = (account.clone(), conversation.clone());
        Task::perform(
            blocking(move || {
                if around {
                    store.around(&a, &c, &id, chat::AROUND)
                } else {
                    store.after(&a, &c, &id, PAGE)
                }
                .map_err(|e| e.to_string())
            }),
            move |result| Message::ChatWindow {
                account: account.clone(),
                conversation: conversation.clone(),
                around,
                result: result.and_then(|r| r),
            },
        )
    }

    pub(in crate::ui) fn chat_window_loaded(
        &mut self,
        account: AccountId,
        conversation: ConversationId,
        around: bool,
        result: Result<Vec<ChatMessage>, String>,
    ) -> Task<Message> {
        let Some(open) = self
            .main
            .chat_mut()
            .filter(|c| c.account == account && c.conversation == conversation)
        else {
            return Task::none();
        };
        if !around {
            open.newer_loaded(result);
            return Task::none();
        }
        match open.around_loaded(result) {
            Some(event) => self.on_conversation(event),
            None => Task::none(),
        }
    }
}
