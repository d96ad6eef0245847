//! The app's side of file transfers (issue #4): the attach button, files dropped on
//! the window, downloads from file cards, and starting, storing and forgetting
//! transfers. The transfer cards themselves live in `transfers`.

use crate::model::transfer::TransferDirection;
use crate::transfer::{self, DownloadLimits};
use crate::ui::app::startup::blocking;
use crate::ui::chat;
use crate::ui::i18n::{T, tr};
use crate::ui::timeline::previews;
use crate::ui::timeline::transfers::{self, Item, Status};
use crate::ui::{App, Message};
use iced::Task;
use std::path::PathBuf;

/// Ctrl+V (Cmd+V on macOS) anywhere in the window. Text is pasted by the composer
/// itself; this only looks for an image.
pub(in crate::ui) fn paste_subscription() -> iced::Subscription<Message> {
    iced::keyboard::listen().filter_map(|event| match event {
        iced::keyboard::Event::KeyPressed { key, modifiers, .. }
            if modifiers.command()
                && matches!(key.as_ref(), iced::keyboard::Key::Character(c) if c.eq_ignore_ascii_case("v")) =>
        {
            Some(Message::PasteImage)
        }
        _ => None,
    })
}

/// Reads an image from the clipboard and writes it as a PNG to send; `None` when the
/// clipboard holds no image. Blocking.
pub(in crate::ui) fn clipboard_image_to_file() -> Result<Option<PathBuf>, String> {
    let mut clipboard = arboard::Clipboard::new().map_err(|e| e.to_string())?;
    let image = match clipboard.get_image() {
        Ok(i) => i,
        Err(arboard::Error::ContentNotAvailable) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let (w, h) = (image.width as u32, image.height as u32);
    let Some(rgba) = ::image::RgbaImage::from_raw(w, h, image.bytes.into_owned()) else {
        return Err("the clipboard image has an unexpected size".to_owned());
    };
    // Never a shared temporary folder: others could read or replace the picture.
    let dir = transfer::cache::root()
        .map_err(|_| {
            "no private folder to keep the pasted picture in (the system names no home \
             folder)"
                .to_owned()
        })?
        .join("pasted");
    crate::paths::ensure_private_dir(&dir).map_err(|e| e.to_string())?;
    let name = chrono::Local::now()
        .format("screenshot-%Y%m%d-%H%M%S.png")
        .to_string();
    let path = dir.join(name);
    rgba.save_with_format(&path, ::image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(Some(path))
}

impl App {
    /// Ctrl+V in a conversation: an image on the clipboard is sent like a chosen file.
    pub(in crate::ui) fn paste_image(&mut self) -> Task<Message> {
        if self.main.chat().is_none() && self.rooms.file_target(&self.main).is_none() {
            return Task::none();
        }
        Task::perform(blocking(clipboard_image_to_file), |r| match r {
            Ok(Ok(Some(path))) => Message::FilesChosen(vec![path]),
            Ok(Ok(None)) => Message::FilesChosen(Vec::new()),
            Ok(Err(e)) | Err(e) => Message::Background(Err(format!("paste: {e}"))),
        })
    }

    /// Downloads a received file to where the user chose (a `(1)` suffix if a file is
    /// there already: nothing is overwritten).
    pub(in crate::ui) fn save_to(
        &mut self,
        message: crate::model::ChatMessage,
        path: Option<PathBuf>,
    ) -> Task<Message> {
        let (Some(path), Some(attachment)) = (path, message.attachment.as_deref()) else {
            return Task::none();
        };
        let Some(dir) = path.parent().map(|p| p.to_path_buf()) else {
            return Task::none();
        };
        let mut item = Item::download(
            message.account.clone(),
            message.peer().clone(),
            attachment,
            dir,
        );
        if let Some(name) = path.file_name() {
            item.name = name.to_string_lossy().into_owned();
        }
        self.start_transfer(item)
    }

    /// Files to send to the open conversation (from the dialog or dropped on the window).
    pub(in crate::ui) fn files_chosen(&mut self, paths: Vec<PathBuf>) -> Task<Message> {
        // The open chat, else the open room (files go to the room as groupchat
        // messages, see `start_transfer`).
        let target = match self.main.chat() {
            Some(open) => Some((open.account.clone(), open.conversation.jid().clone())),
            None => self.rooms.file_target(&self.main),
        };
        let Some((account, peer)) = target else {
            return Task::none();
        };
        let tasks: Vec<_> = paths
            .into_iter()
            .filter(|p| p.is_file())
            .map(|p| self.start_transfer(Item::upload(account.clone(), peer.clone(), p)))
            .collect();
        Task::batch(tasks)
    }

    /// What the conversation asked about files.
    pub(in crate::ui) fn on_file_event(&mut self, event: chat::Event) -> Task<Message> {
        match event {
            chat::Event::Attach => {
                if let Some(why) = self.picker.missing() {
                    let key = match why {
                        transfers::ChooserMissing::NoChooser => T::NoFileChooser,
                        transfers::ChooserMissing::NoSessionBus => T::NoFileChooserBus,
                    };
                    self.notice(tr(self.lang, key).to_owned());
                    return Task::none();
                }
                let picker = self.picker.clone();
                Task::perform(async move { picker.pick().await }, Message::FilesChosen)
            }
            chat::Event::Download(message) => {
                let Some(attachment) = message.attachment.as_deref() else {
                    return Task::none();
                };
                // Never a shared temporary folder: others could read or replace it.
                let Some(dir) = self
                    .settings()
                    .download_dir
                    .clone()
                    .or_else(transfer::default_download_dir)
                else {
                    return Task::done(Message::Background(Err(
                        transfer::TransferError::NoDownloadFolder.to_string(),
                    )));
                };
                let item = Item::download(
                    message.account.clone(),
                    message.peer().clone(),
                    attachment,
                    dir,
                );
                self.start_transfer(item)
            }
            chat::Event::SaveAs(message) => {
                let picker = self.picker.clone();
                let name = message
                    .attachment
                    .as_deref()
                    .map(|a| transfer::names::safe_file_name(&a.name))
                    .unwrap_or_else(|| "file".to_owned());
                Task::perform(async move { picker.save_as(name).await }, move |path| {
                    Message::SaveTo(message.clone(), path)
                })
            }
            chat::Event::Transfers(m) => self.on_transfers(m),
            _ => Task::none(),
        }
    }

    pub(in crate::ui) fn on_transfers(&mut self, message: transfers::Message) -> Task<Message> {
        if let transfers::Message::Preview(m) = message {
            let (task, event) = self.transfers.previews.update(m);
            let task = task.map(|m| Message::Transfers(transfers::Message::Preview(m)));
            return match event {
                Some(previews::Event::OpenExternal(path)) => Task::batch([
                    task,
                    Task::perform(
                        blocking(move || ::open::that_detached(&path).map_err(|e| e.to_string())),
                        |r| Message::LinkOpened(r.and_then(|r| r)),
                    ),
                ]),
                None => task,
            };
        }
        let Some(event) = self.transfers.update(message) else {
            return Task::none();
        };
        match event {
            transfers::Event::Start(item) => self.start_transfer(item),
            transfers::Event::Persist(record) => match self.store.clone() {
                Some(store) => Task::perform(
                    blocking(move || store.save_transfer(&record).map_err(|e| e.to_string())),
                    |r| Message::Background(r.and_then(|r| r)),
                ),
                None => Task::none(),
            },
            transfers::Event::Forget(account, id) => match self.store.clone() {
                Some(store) => Task::perform(
                    blocking(move || {
                        store
                            .remove_transfer(&account, &id)
                            .map_err(|e| e.to_string())
                    }),
                    |r| Message::Background(r.and_then(|r| r)),
                ),
                None => Task::none(),
            },
            transfers::Event::Open(path) => Task::perform(
                blocking(move || ::open::that_detached(&path).map_err(|e| e.to_string())),
                |r| Message::LinkOpened(r.and_then(|r| r)),
            ),
        }
    }

    /// Fetches previews of received images (only incoming ones are fetched on their own).
    pub(in crate::ui) fn previews_for(
        &mut self,
        messages: &[crate::model::ChatMessage],
    ) -> Task<Message> {
        let mut tasks = Vec::new();
        for m in messages {
            let Some(file) = m.attachment.as_deref() else {
                continue;
            };
            let Some(state) = self.account_state(&m.account) else {
                continue;
            };
            let (trust, domain) = (state.account.trust.clone(), state.account.jid.domain());
            let in_roster = state.in_roster(m.peer());
            let in_room = self
                .rooms
                .rooms
                .get(&(m.account.clone(), m.peer().clone()))
                .is_some_and(|r| {
                    matches!(
                        r.status,
                        crate::ui::room::joined::Status::Joined
                            | crate::ui::room::joined::Status::Joining
                    )
                });
            let origin = transfer::auto::Origin::of(m, in_roster, in_room);
            let max = self.settings().auto_image_max;
            let domain = domain.to_string();
            if let Some(task) = self
                .transfers
                .previews
                .fetch(file, &origin, &trust, &domain, max)
            {
                tasks.push(task.map(|p| Message::Transfers(transfers::Message::Preview(p))));
            }
        }
        Task::batch(tasks)
    }

    pub(in crate::ui) fn previews_for_update(
        &mut self,
        update: &crate::session::Update,
    ) -> Task<Message> {
        match &update.kind {
            crate::session::UpdateKind::Message(m) => self.previews_for(std::slice::from_ref(m)),
            crate::session::UpdateKind::History(ms)
            | crate::session::UpdateKind::ChatOlder { messages: ms, .. }
            | crate::session::UpdateKind::RoomOlder { messages: ms, .. } => self.previews_for(ms),
            _ => Task::none(),
        }
    }

    /// Stored transfers that were cut off by the last quit: shown as interrupted.
    pub(in crate::ui) fn restore_transfers(&self) -> Task<Message> {
        let Some(store) = self.store.clone() else {
            return Task::none();
        };
        Task::perform(
            blocking(move || {
                store.mark_interrupted_transfers()?;
                let mut all = Vec::new();
                for account in store.accounts()? {
                    all.extend(store.transfers(&account.id)?);
                }
                Ok::<_, crate::store::StoreError>(all)
            }),
            |r| match r {
                Ok(Ok(records)) => Message::Transfers(transfers::Message::Restored(
                    records
                        .into_iter()
                        .filter(|r| !matches!(r.state, crate::model::transfer::TransferState::Done))
                        .collect(),
                )),
                Ok(Err(e)) => Message::Background(Err(e.to_string())),
                Err(e) => Message::Background(Err(e)),
            },
        )
    }

    /// Runs `item` (new or retried), storing it as active first.
    fn start_transfer(&mut self, mut item: Item) -> Task<Message> {
        let trust = self
            .account_state(&item.account)
            .map(|a| a.account.trust.clone())
            .unwrap_or_default();
        // Plain http only for a download the user clicked; everything else is https.
        let user_http = item.direction == TransferDirection::Download
            && item
                .url
                .as_deref()
                .is_some_and(|u| u.starts_with("http://"));
        let client = if user_http {
            transfer::http_client_allowing_http(&trust)
        } else {
            transfer::http_client(&trust)
        };
        let client = match client {
            Ok(c) => c,
            Err(e) => {
                item.status = Status::Failed(e.to_string());
                self.transfers.show(item);
                return Task::none();
            }
        };
        let stream = match item.direction {
            TransferDirection::Upload => {
                let Some(handle) = self.handles.get(&item.account).cloned() else {
                    item.status = Status::Failed(transfer::TransferError::NotConnected.to_string());
                    self.transfers.show(item);
                    return Task::none();
                };
                let to = if self.is_room(&item.account, &item.peer) {
                    transfer::Recipient::Room(item.peer.clone())
                } else {
                    transfer::Recipient::Chat(item.peer.clone())
                };
                // In an encrypted chat or room the file is encrypted before upload
                // (XEP-0454). While that is not known (the lock still checking, the
                // choice not read, the conversation not open) the file waits: it must
                // not reach the server in plain text by mistake
                // (`start_waiting_uploads` starts it once known).
                if self
                    .encryption_state(&item.account, &item.peer)
                    .is_some_and(|e| e.file_refused())
                {
                    item.status = Status::Failed(tr(self.lang, T::FileRefusedOmemo).to_owned());
                    let persist = self.persist_transfer(&item);
                    self.transfers.show(item);
                    return persist;
                }
                let encrypted = self
                    .encryption_state(&item.account, &item.peer)
                    .and_then(|e| e.file_encryption());
                let Some(encrypted) = encrypted else {
                    item.status = Status::Waiting;
                    let persist = self.persist_transfer(&item);
                    self.transfers.show(item);
                    return persist;
                };
                if encrypted {
                    transfer::send_file_encrypted(handle, client, to, item.path.clone())
                } else {
                    transfer::send_file_to(handle, client, to, item.path.clone())
                }
            }
            TransferDirection::Download => {
                let url = item.url.clone().unwrap_or_default();
                transfer::download(
                    client,
                    url,
                    item.path.clone(),
                    item.name.clone(),
                    DownloadLimits::default(),
                )
            }
        };
        item.status = Status::Running(None);
        let persist = self.persist_transfer(&item);
        let run = self.transfers.run(item, stream).map(Message::Transfers);
        Task::batch([persist, run])
    }

    /// Stores `item` as it stands (active, so an upload cut off by quitting shows as
    /// interrupted).
    fn persist_transfer(&self, item: &Item) -> Task<Message> {
        let record = item.record();
        match self.store.clone() {
            Some(store) => Task::perform(
                blocking(move || store.save_transfer(&record).map_err(|e| e.to_string())),
                |r| Message::Background(r.and_then(|r| r)),
            ),
            None => Task::none(),
        }
    }

    /// Uploads that waited for their conversation's encryption to be known start once
    /// it is (after any update: a report, the stored choice read, the chat opened);
    /// `None` when none can start.
    pub(in crate::ui) fn start_waiting_uploads(&mut self) -> Option<Task<Message>> {
        let ready: Vec<Item> = self
            .transfers
            .items()
            .iter()
            .filter(|i| i.status == Status::Waiting)
            .filter(|i| {
                self.encryption_state(&i.account, &i.peer)
                    .and_then(|e| e.file_encryption())
                    .is_some()
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            return None;
        }
        let tasks: Vec<_> = ready.into_iter().map(|i| self.start_transfer(i)).collect();
        Some(Task::batch(tasks))
    }
}
