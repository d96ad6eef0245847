//! File transfers on screen (issue #4): the uploads and downloads of the open
//! conversation with a progress bar (bytes and speed) and Cancel, or the reason of a
//! failure with Retry, and file cards for files received in messages.
//!
//! Transfers are abortable iced tasks over [`crate::transfer`] streams: dropping the
//! task handle (Cancel) stops them. Their state is stored (see `store::transfers`), so a
//! transfer cut off by quitting shows as interrupted, with Retry, on the next start.

use crate::ids::AccountId;
use crate::model::Attachment;
use crate::model::transfer::{TransferDirection, TransferId, TransferRecord, TransferState};
use crate::transfer::{Progress, TransferError, TransferEvent, TransferStream};
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use crate::xmpp::upload::human_size;
use futures::future::BoxFuture;
use iced::widget::{button, column, container, progress_bar, row, text};
use iced::{Alignment, Element, Length, Task};
use std::collections::HashMap;
use std::path::PathBuf;
use xmpp_parsers::jid::BareJid;

/// Chooses files to send. The app uses the system dialog; tests use a stub, so no test
/// ever opens a dialog.
pub trait FilePicker: Send + Sync {
    fn pick(&self) -> BoxFuture<'static, Vec<PathBuf>>;
    /// Where to save a received file called `name`; `None` when cancelled.
    fn save_as(&self, name: String) -> BoxFuture<'static, Option<PathBuf>>;
    /// What is missing for a dialog to open at all (`None`: it can open). Without
    /// this, a missing dialog looks like one cancelled at once: nothing happens.
    fn missing(&self) -> Option<ChooserMissing> {
        None
    }
}

/// Why no file dialog can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChooserMissing {
    /// Neither a portal with a file chooser nor zenity is installed.
    NoChooser,
    /// No D-Bus session to reach a portal on, and no zenity.
    NoSessionBus,
}

/// The system file dialog (xdg-desktop-portal on Linux). With no portal running it
/// returns nothing at once, like a cancelled dialog.
pub struct SystemPicker;

impl FilePicker for SystemPicker {
    fn pick(&self) -> BoxFuture<'static, Vec<PathBuf>> {
        Box::pin(async {
            rfd::AsyncFileDialog::new()
                .pick_files()
                .await
                .map(|files| files.into_iter().map(|f| f.path().to_path_buf()).collect())
                .unwrap_or_default()
        })
    }

    fn missing(&self) -> Option<ChooserMissing> {
        file_chooser_missing(
            &data_dirs(),
            std::env::var_os("PATH").as_deref(),
            session_bus(),
        )
    }

    fn save_as(&self, name: String) -> BoxFuture<'static, Option<PathBuf>> {
        Box::pin(async move {
            rfd::AsyncFileDialog::new()
                .set_file_name(name)
                .save_file()
                .await
                .map(|f| f.path().to_path_buf())
        })
    }
}

/// Where desktop files live (`$XDG_DATA_DIRS`, or the default).
fn data_dirs() -> Vec<PathBuf> {
    let dirs = std::env::var_os("XDG_DATA_DIRS")
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/usr/local/share:/usr/share".into());
    std::env::split_paths(&dirs).collect()
}

/// Is there a D-Bus session for the portal to be reached on?
fn session_bus() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty())
        || std::env::var_os("XDG_RUNTIME_DIR")
            .is_some_and(|dir| std::path::Path::new(&dir).join("bus").exists())
}

/// rfd asks the desktop portal's file chooser and falls back to zenity: one of them
/// must be there. Says which packages would help, in words, when neither is.
fn file_chooser_missing(
    data_dirs: &[PathBuf],
    path: Option<&std::ffi::OsStr>,
    bus: bool,
) -> Option<ChooserMissing> {
    let portal = bus
        && data_dirs.iter().any(|dir| {
            std::fs::read_dir(dir.join("xdg-desktop-portal/portals"))
                .into_iter()
                .flatten()
                .flatten()
                .any(|entry| {
                    std::fs::read_to_string(entry.path())
                        .is_ok_and(|text| text.contains("org.freedesktop.impl.portal.FileChooser"))
                })
        });
    let zenity = path.is_some_and(|p| std::env::split_paths(p).any(|d| d.join("zenity").is_file()));
    if portal || zenity {
        return None;
    }
    Some(if bus {
        ChooserMissing::NoChooser
    } else {
        ChooserMissing::NoSessionBus
    })
}

/// Where one transfer stands on screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// An upload waiting to know whether its conversation is encrypted (the lock still
    /// checking): it starts, encrypted or not, once that is known; Cancel drops it.
    Waiting,
    /// Running; `None` until the first progress report (slot being requested).
    Running(Option<Progress>),
    Failed(String),
    Interrupted,
    /// Finished; downloads keep the path they were saved under.
    Done(Option<PathBuf>),
}

/// One upload or download.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: TransferId,
    pub account: AccountId,
    pub peer: BareJid,
    pub direction: TransferDirection,
    pub name: String,
    /// The file sent, or the download folder.
    pub path: PathBuf,
    /// Download URL (downloads).
    pub url: Option<String>,
    pub size: Option<u64>,
    pub status: Status,
}

impl Item {
    /// A new upload of `path` to `peer`.
    pub fn upload(account: AccountId, peer: BareJid, path: PathBuf) -> Item {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".to_owned());
        let size = std::fs::metadata(&path).ok().map(|m| m.len());
        Item {
            id: TransferId::generate(),
            account,
            peer,
            direction: TransferDirection::Upload,
            name,
            path,
            url: None,
            size,
            status: Status::Running(None),
        }
    }

    /// A new download of `attachment` into `dir`.
    pub fn download(
        account: AccountId,
        peer: BareJid,
        attachment: &Attachment,
        dir: PathBuf,
    ) -> Item {
        Item {
            id: TransferId::generate(),
            account,
            peer,
            direction: TransferDirection::Download,
            name: attachment.name.clone(),
            path: dir,
            url: Some(attachment.url.clone()),
            size: attachment.size,
            status: Status::Running(None),
        }
    }

    /// The stored form.
    pub fn record(&self) -> TransferRecord {
        TransferRecord {
            id: self.id.clone(),
            account: self.account.clone(),
            peer: self.peer.clone(),
            direction: self.direction,
            path: match &self.status {
                Status::Done(Some(p)) => p.clone(),
                _ => self.path.clone(),
            },
            name: self.name.clone(),
            size: self.size,
            url: self.url.clone(),
            state: match &self.status {
                Status::Running(_) | Status::Waiting => TransferState::Active,
                Status::Failed(r) => TransferState::Failed(r.clone()),
                Status::Interrupted => TransferState::Interrupted,
                Status::Done(_) => TransferState::Done,
            },
            updated_ms: chrono::Utc::now().timestamp_millis(),
        }
    }

    /// An item for a stored record (after a restart).
    pub fn from_record(r: TransferRecord) -> Item {
        Item {
            id: r.id,
            account: r.account,
            peer: r.peer,
            direction: r.direction,
            name: r.name,
            path: r.path.clone(),
            url: r.url,
            size: r.size,
            status: match r.state {
                TransferState::Active | TransferState::Interrupted => Status::Interrupted,
                TransferState::Failed(reason) => Status::Failed(reason),
                TransferState::Done => Status::Done(Some(r.path)),
                TransferState::Cancelled => Status::Failed(TransferError::Cancelled.to_string()),
            },
        }
    }
}

#[derive(Debug, Clone)]
pub enum Message {
    Progress(TransferId, Progress),
    Finished(TransferId, Result<Option<PathBuf>, TransferError>),
    Cancel(TransferId),
    Retry(TransferId),
    Dismiss(TransferId),
    Open(PathBuf),
    /// Stored transfers found at start-up.
    Restored(Vec<TransferRecord>),
    /// Inline image previews.
    Preview(crate::ui::timeline::previews::Message),
}

/// What the transfers ask of the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Start this (again): the app has the session handle and HTTP client.
    Start(Item),
    /// Store this state.
    Persist(TransferRecord),
    /// Forget this transfer in the store.
    Forget(AccountId, TransferId),
    Open(PathBuf),
}

#[derive(Default)]
pub struct State {
    pub previews: crate::ui::timeline::previews::Previews,
    items: Vec<Item>,
    running: HashMap<TransferId, iced::task::Handle>,
}

impl State {
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Shows `item` and runs `stream` for it. Dropping the returned task's handle (kept
    /// here) cancels the transfer.
    pub fn run(&mut self, item: Item, stream: TransferStream) -> Task<Message> {
        let id = item.id.clone();
        self.items.retain(|i| i.id != id);
        self.items.push(item);
        let tid = id.clone();
        let (task, handle) = Task::run(stream, move |event| match event {
            TransferEvent::Progress(p) => Message::Progress(tid.clone(), p),
            TransferEvent::Finished(r) => Message::Finished(tid.clone(), r),
        })
        .abortable();
        self.running.insert(id, handle.abort_on_drop());
        task
    }

    /// Shows an item without running anything (restored or failed before it started).
    pub fn show(&mut self, item: Item) {
        self.items.retain(|i| i.id != item.id);
        self.items.push(item);
    }

    fn find(&mut self, id: &TransferId) -> Option<&mut Item> {
        self.items.iter_mut().find(|i| &i.id == id)
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Progress(id, p) => {
                if let Some(item) = self.find(&id) {
                    item.status = Status::Running(Some(p));
                }
                None
            }
            Message::Finished(id, result) => {
                self.running.remove(&id);
                let item = self.find(&id)?;
                // A finished download's bytes are the file's size: its card (and the
                // message's) stop saying "size unknown".
                if result.is_ok()
                    && item.direction == TransferDirection::Download
                    && let Status::Running(Some(p)) = &item.status
                {
                    let size = p.total.unwrap_or(p.done);
                    item.size = item.size.or(Some(size));
                    if let Some(url) = item.url.clone() {
                        self.previews.note_size(url, size);
                    }
                }
                let item = self.find(&id)?;
                item.status = match result {
                    Ok(path) => Status::Done(path),
                    Err(TransferError::Cancelled) => return None,
                    Err(e) => Status::Failed(e.to_string()),
                };
                let record = item.record();
                let done_upload = item.direction == TransferDirection::Upload
                    && matches!(item.status, Status::Done(_));
                if done_upload {
                    // The message in the conversation shows the sent file now.
                    let account = item.account.clone();
                    self.items.retain(|i| i.id != id);
                    return Some(Event::Forget(account, id));
                }
                Some(Event::Persist(record))
            }
            Message::Cancel(id) => {
                // Dropping the handle aborts the task and with it the transfer.
                self.running.remove(&id);
                let account = self.find(&id).map(|i| i.account.clone());
                self.items.retain(|i| i.id != id);
                account.map(|a| Event::Forget(a, id))
            }
            Message::Retry(id) => {
                let item = self.find(&id)?;
                item.status = Status::Running(None);
                Some(Event::Start(item.clone()))
            }
            Message::Dismiss(id) => {
                self.running.remove(&id);
                let account = self.find(&id).map(|i| i.account.clone());
                self.items.retain(|i| i.id != id);
                account.map(|a| Event::Forget(a, id))
            }
            Message::Open(path) => Some(Event::Open(path)),
            // Handled by the app with `previews` (it starts tasks).
            Message::Preview(_) => None,
            Message::Restored(records) => {
                for r in records {
                    if !self.items.iter().any(|i| i.id == r.id) {
                        self.items.push(Item::from_record(r));
                    }
                }
                None
            }
        }
    }

    /// The transfers of one conversation, newest last; nothing when there are none.
    pub fn view<'a>(
        &'a self,
        lang: Lang,
        account: &AccountId,
        peer: &BareJid,
    ) -> Option<Element<'a, Message>> {
        let cards: Vec<Element<'a, Message>> = self
            .items
            .iter()
            .filter(|i| &i.account == account && &i.peer == peer)
            .map(|i| card(lang, i))
            .collect();
        if cards.is_empty() {
            return None;
        }
        Some(
            container(column(cards).spacing(6))
                .padding([6, 10])
                .width(Length::Fill)
                .into(),
        )
    }
}

/// "1.2 MiB of 5 MiB · 300 KiB/s"
pub fn progress_line(lang: Lang, p: &Progress) -> String {
    let total = p
        .total
        .map(human_size)
        .unwrap_or_else(|| tr(lang, T::FileSizeUnknown).to_owned());
    trf(
        lang,
        T::TransferProgress,
        &[
            ("done", &human_size(p.done)),
            ("total", &total),
            ("speed", &human_size(p.bytes_per_sec())),
        ],
    )
}

/// A card's text, its buttons and its frame style.
type CardParts<'a> = (
    Element<'a, Message>,
    Vec<Element<'a, Message>>,
    fn(&iced::Theme) -> container::Style,
);

fn card<'a>(lang: Lang, item: &'a Item) -> Element<'a, Message> {
    let upload = item.direction == TransferDirection::Upload;
    let icon = text(if upload { "⬆" } else { "⬇" }).size(18);
    let small = |s: &'static str, m: Message| {
        button(text(s).size(13))
            .padding([4, 10])
            .style(theme::secondary_button)
            .on_press(m)
    };
    let (body, actions, style): CardParts<'a> = match &item.status {
        Status::Running(progress) => {
            let title = trf(
                lang,
                if upload {
                    T::TransferSending
                } else {
                    T::TransferReceiving
                },
                &[("name", &shown_name(&item.name))],
            );
            let (value, total, line) = match progress {
                Some(p) => (
                    p.done as f32,
                    p.total.or(item.size).unwrap_or(0).max(1) as f32,
                    progress_line(lang, p),
                ),
                None => (0.0, 1.0, tr(lang, T::TransferPreparing).to_owned()),
            };
            (
                column![
                    text(title).size(14).wrapping(WRAP),
                    progress_bar(0.0..=total, value).girth(6),
                    text(line).size(12).style(theme::muted),
                ]
                .spacing(4)
                .into(),
                vec![small(tr(lang, T::Cancel), Message::Cancel(item.id.clone())).into()],
                theme::card,
            )
        }
        Status::Waiting => (
            column![
                text(trf(
                    lang,
                    T::TransferSending,
                    &[("name", &shown_name(&item.name))]
                ))
                .size(14)
                .wrapping(WRAP),
                text(tr(lang, T::TransferWaitingEncryption))
                    .size(12)
                    .style(theme::muted)
                    .wrapping(WRAP),
            ]
            .spacing(4)
            .into(),
            vec![small(tr(lang, T::Cancel), Message::Cancel(item.id.clone())).into()],
            theme::card,
        ),
        Status::Failed(reason) => (
            text(trf(
                lang,
                if upload {
                    T::TransferUploadFailed
                } else {
                    T::TransferDownloadFailed
                },
                &[("name", &shown_name(&item.name)), ("reason", reason)],
            ))
            .size(14)
            .wrapping(WRAP)
            .into(),
            vec![
                button(text(tr(lang, T::Retry)).size(13))
                    .padding([4, 10])
                    .style(theme::primary_button)
                    .on_press(Message::Retry(item.id.clone()))
                    .into(),
                small(tr(lang, T::Dismiss), Message::Dismiss(item.id.clone())).into(),
            ],
            theme::card_error,
        ),
        Status::Interrupted => (
            text(trf(
                lang,
                T::TransferInterrupted,
                &[("name", &shown_name(&item.name))],
            ))
            .size(14)
            .wrapping(WRAP)
            .into(),
            vec![
                button(text(tr(lang, T::Retry)).size(13))
                    .padding([4, 10])
                    .style(theme::primary_button)
                    .on_press(Message::Retry(item.id.clone()))
                    .into(),
                small(tr(lang, T::Dismiss), Message::Dismiss(item.id.clone())).into(),
            ],
            theme::card_error,
        ),
        Status::Done(path) => {
            let shown = path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| shown_name(&item.name));
            let mut actions: Vec<Element<'a, Message>> = Vec::new();
            if let Some(p) = path {
                actions.push(small(tr(lang, T::OpenFile), Message::Open(p.clone())).into());
            }
            actions.push(small(tr(lang, T::Dismiss), Message::Dismiss(item.id.clone())).into());
            (
                text(trf(lang, T::TransferSaved, &[("path", &shown)]))
                    .size(14)
                    .wrapping(WRAP)
                    .into(),
                actions,
                theme::card,
            )
        }
    };
    container(
        row![
            icon,
            container(body).width(Length::Fill),
            row(actions).spacing(6)
        ]
        .spacing(10)
        .align_y(Alignment::Center),
    )
    .padding([8, 12])
    .width(Length::Fill)
    .style(style)
    .into()
}

/// Long names and paths break anywhere rather than run under the buttons.
const WRAP: iced::widget::text::Wrapping = iced::widget::text::Wrapping::WordOrGlyph;

/// A file name as shown: without bidirectional controls, so "invoice\u{202E}fdp.exe"
/// cannot pass for "invoiceexe.pdf".
pub fn shown_name(name: &str) -> String {
    name.chars()
        .filter(|c| !crate::notify::is_bidi_control(*c))
        .collect()
}

/// A file received in a message: type icon, name, size when known, and Download.
pub fn file_card<'a, M: Clone + 'a>(
    lang: Lang,
    attachment: &'a Attachment,
    size: Option<u64>,
    download: M,
    save_as: M,
) -> Element<'a, M> {
    // The type as a small label (its extension), readable with any font.
    let kind = attachment
        .name
        .rsplit_once('.')
        .map(|(_, e)| e.to_uppercase())
        .filter(|e| !e.is_empty() && e.len() <= 5)
        .unwrap_or_else(|| "FILE".to_owned());
    let size = size
        .map(human_size)
        .unwrap_or_else(|| tr(lang, T::FileSizeUnknown).to_owned());
    container(
        row![
            container(text(kind).size(11))
                .padding([4, 6])
                .style(theme::tag),
            column![
                text(shown_name(&attachment.name)).size(14).wrapping(WRAP),
                text(size).size(12).style(theme::muted),
            ]
            .spacing(2)
            .width(Length::Fill),
            button(text(tr(lang, T::Download)).size(13))
                .padding([4, 10])
                .style(theme::secondary_button)
                .on_press(download),
            button(text(tr(lang, T::SaveAs)).size(13))
                .padding([4, 10])
                .style(theme::secondary_button)
                .on_press(save_as),
        ]
        .spacing(10)
        .align_y(Alignment::Center),
    )
    .padding([8, 12])
    .max_width(420)
    .style(theme::card)
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_shown_without_bidi_controls() {
        assert_eq!(shown_name("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(shown_name("menu.pdf"), "menu.pdf");
    }

    #[test]
    fn a_missing_file_chooser_is_named_and_either_way_out_is_enough() {
        let data = tempfile::tempdir().expect("dir");
        let bin = tempfile::tempdir().expect("dir");
        let dirs = vec![data.path().to_path_buf()];
        let path = bin.path().as_os_str();
        assert_eq!(
            file_chooser_missing(&dirs, Some(path), true),
            Some(ChooserMissing::NoChooser)
        );
        assert_eq!(
            file_chooser_missing(&dirs, Some(path), false),
            Some(ChooserMissing::NoSessionBus)
        );
        // A portal without a file chooser (the keyring's) does not count.
        let portals = data.path().join("xdg-desktop-portal/portals");
        std::fs::create_dir_all(&portals).expect("dir");
        std::fs::write(
            portals.join("gnome-keyring.portal"),
            "[portal]\nInterfaces=org.freedesktop.impl.portal.Secret\n",
        )
        .expect("write");
        assert!(file_chooser_missing(&dirs, Some(path), true).is_some());
        std::fs::write(
            portals.join("gtk.portal"),
            "[portal]\nInterfaces=org.freedesktop.impl.portal.FileChooser;\n",
        )
        .expect("write");
        assert_eq!(file_chooser_missing(&dirs, Some(path), true), None);
        // zenity alone is enough too (rfd falls back to it).
        let dirs = vec![bin.path().join("nothing")];
        std::fs::write(bin.path().join("zenity"), b"").expect("write");
        assert_eq!(file_chooser_missing(&dirs, Some(path), false), None);
    }
}
