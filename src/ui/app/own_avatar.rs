//! Our own avatar (issue #18): Settings' "Choose a picture…" opens the file dialog (the
//! same picker as attachments, so tests stub it); the chosen file is read off the UI
//! thread and handed to the account's session, which crops it to a square, scales it
//! and publishes it (`Command::PublishAvatar`); its answer comes back as a notice.

use crate::ids::AccountId;
use crate::session::Command;
use crate::session::avatars::Picture;
use crate::ui::i18n::{T, tr};
use crate::ui::{App, Message};
use iced::Task;
use std::sync::Arc;

/// Largest picture file read (a camera photo fits; the session scales it down).
const MAX_FILE: u64 = 40 * 1024 * 1024;

impl App {
    pub(in crate::ui) fn choose_avatar(&mut self, account: AccountId) -> Task<Message> {
        let Some(handle) = self.handles.get(&account).cloned() else {
            self.notice(tr(self.lang, T::CommandNotConnected).to_owned());
            return Task::none();
        };
        let picker = self.picker.clone();
        Task::perform(
            async move {
                let Some(path) = picker.pick().await.into_iter().next() else {
                    return Ok(());
                };
                let bytes = tokio::task::spawn_blocking(move || {
                    let size = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
                    if size > MAX_FILE {
                        return Err(format!("{} is larger than 40 MB", path.display()));
                    }
                    std::fs::read(&path).map_err(|e| e.to_string())
                })
                .await
                .map_err(|e| e.to_string())??;
                handle
                    .send(Command::PublishAvatar {
                        picture: Picture(Arc::new(bytes)),
                    })
                    .map_err(|_| "not connected".to_owned())
            },
            Message::Background,
        )
    }
}
