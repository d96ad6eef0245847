//! Our own avatar (issue #18): a picture chosen in Settings ("Choose a picture…", the
//! same picker as attachments, so tests stub it), dropped on the window or pasted
//! (Ctrl+V) while Settings > Accounts is shown, is read and made square and small off
//! the UI thread, then previewed in Settings (`settings::avatar`). "Publish" hands the
//! PNG to the account's session (`Command::PublishAvatar`), whose answer comes back as
//! a notice; "Remove avatar" runs `session::own_profile::remove_avatar`.

use crate::ids::AccountId;
use crate::session::Command;
use crate::session::avatars::Picture;
use crate::ui::app::startup::blocking;
use crate::ui::i18n::{T, tr, trf};
use crate::ui::screen::settings;
use crate::ui::{App, Message};
use iced::Task;
use std::path::PathBuf;
use std::sync::Arc;

/// Largest picture file read (a camera photo fits; it is scaled down before use).
const MAX_FILE: u64 = 40 * 1024 * 1024;

/// Reads `path` and makes the avatar to publish of it. Blocking.
fn make(path: &std::path::Path) -> Result<Arc<Vec<u8>>, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > MAX_FILE {
        return Err(format!("{} is larger than 40 MB", path.display()));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    crate::avatar::own_avatar_png(&bytes)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

fn preview(account: AccountId, made: Result<Arc<Vec<u8>>, String>) -> Message {
    Message::Settings(settings::Message::AvatarPreview(account, made))
}

impl App {
    /// The picture waiting for "Publish" in Settings (for tests).
    pub fn own_avatar_preview(&self) -> Option<&settings::avatar::Preview> {
        self.settings.avatar().preview()
    }

    /// A picture file for `account`'s avatar: made ready and previewed.
    fn avatar_from(&mut self, account: AccountId, path: PathBuf) -> Task<Message> {
        Task::perform(blocking(move || make(&path)), move |r| {
            preview(account.clone(), r.and_then(|r| r))
        })
    }

    pub(in crate::ui) fn choose_avatar(&mut self, account: AccountId) -> Task<Message> {
        let picker = self.picker.clone();
        Task::perform(async move { picker.pick().await }, move |paths| {
            Message::Settings(settings::Message::AvatarFiles(account.clone(), paths))
        })
    }

    /// Files chosen for `account`'s avatar: the first one is previewed.
    pub(in crate::ui) fn avatar_files(
        &mut self,
        account: AccountId,
        paths: Vec<PathBuf>,
    ) -> Task<Message> {
        match paths.into_iter().next() {
            Some(path) => self.avatar_from(account, path),
            None => Task::none(),
        }
    }

    /// Files dropped on the window while Settings > Accounts is shown: a new avatar
    /// for the account the settings screen names (`settings::avatar::State::target`).
    pub(in crate::ui) fn avatar_dropped(&mut self, paths: Vec<PathBuf>) -> Task<Message> {
        match self.settings.avatar().target(&self.accounts) {
            Some(account) => self.avatar_files(account, paths),
            None => Task::none(),
        }
    }

    /// Ctrl+V while Settings > Accounts is shown: the clipboard's image, if any.
    pub(in crate::ui) fn paste_avatar(&mut self) -> Task<Message> {
        let Some(account) = self.settings.avatar().target(&self.accounts) else {
            return Task::none();
        };
        Task::perform(
            blocking(crate::ui::timeline::attach::clipboard_image_to_file),
            move |r| match r {
                Ok(Ok(path)) => Message::Settings(settings::Message::AvatarFiles(
                    account.clone(),
                    path.into_iter().collect(),
                )),
                Ok(Err(e)) | Err(e) => Message::Background(Err(format!("paste: {e}"))),
            },
        )
    }

    pub(in crate::ui) fn publish_avatar(&mut self, account: AccountId, png: Arc<Vec<u8>>) {
        let command = Command::PublishAvatar {
            picture: Picture(png),
        };
        if self.send(&account, command).is_err() {
            self.notice(tr(self.lang, T::CommandNotConnected).to_owned());
        }
    }

    pub(in crate::ui) fn remove_avatar(&mut self, account: AccountId) -> Task<Message> {
        let handle = self.handles.get(&account).cloned();
        let own = self.account_state(&account).map(|s| s.account.jid.clone());
        let (Some(handle), Some(own)) = (handle, own) else {
            self.notice(tr(self.lang, T::CommandNotConnected).to_owned());
            return Task::none();
        };
        Task::perform(
            async move {
                crate::session::own_profile::remove_avatar(&handle, &own)
                    .await
                    .map_err(|e| e.to_string())
            },
            move |r| Message::Settings(settings::Message::AvatarRemoved(account.clone(), r)),
        )
    }

    pub(in crate::ui) fn avatar_removed(&mut self, account: AccountId, result: Result<(), String>) {
        let label = self
            .account_state(&account)
            .map(|s| s.account.label())
            .unwrap_or_default();
        self.notice(match result {
            Ok(()) => trf(self.lang, T::AvatarRemoved, &[("account", &label)]),
            Err(why) => trf(
                self.lang,
                T::AvatarNotRemoved,
                &[("account", &label), ("why", &why)],
            ),
        });
    }
}
