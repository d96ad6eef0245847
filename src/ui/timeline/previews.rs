//! Inline image previews (issue #4): received png/jpeg/gif/webp files up to the size set
//! in Settings (default 10 MiB) are fetched on their own (https only, never from this computer or
//! a private network), decoded off the UI thread under `image::Limits` into a cached
//! thumbnail, and shown in the message; a click opens the full image inside the app.

use crate::model::{Attachment, Trust};
use crate::transfer::{self, DownloadLimits, TransferError, thumb};
use crate::ui::i18n::{Lang, T, tr};
use crate::ui::theme;
use iced::widget::image::Handle;
use iced::widget::{button, column, container, image, row, text};
use iced::{Alignment, ContentFit, Element, Length, Task};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// A decoded picture ready for the screen.
#[derive(Debug, Clone)]
pub struct Picture {
    pub handle: Handle,
    /// The downloaded file (for the full view and the system viewer).
    pub file: PathBuf,
}

#[derive(Debug, Clone)]
pub enum Preview {
    Loading,
    Ready(Picture),
    /// Not shown (too large to decode, broken, unreachable): the card stays.
    Failed(String),
}

#[derive(Debug, Clone)]
pub enum Message {
    Loaded(String, Result<Picture, TransferError>),
    ShowFull(String),
    FullLoaded(String, Result<Picture, TransferError>),
    CloseFull,
    OpenExternal(PathBuf),
}

#[derive(Default)]
pub struct Previews {
    map: HashMap<String, Preview>,
    full: Option<(String, Option<Picture>)>,
    /// Sizes learnt by downloading files whose message did not say (by URL).
    sizes: HashMap<String, u64>,
}

fn cache_root() -> PathBuf {
    thumb::cache_dir().unwrap_or_else(|| std::env::temp_dir().join("loquat-cache"))
}

/// Decodes a PNG thumbnail we wrote ourselves into pixels for iced.
fn pixels(path: &std::path::Path) -> Result<Handle, TransferError> {
    let img = ::image::open(path).map_err(|e| TransferError::Image(e.to_string()))?;
    let rgba = img.to_rgba8();
    Ok(Handle::from_rgba(
        rgba.width(),
        rgba.height(),
        rgba.into_raw(),
    ))
}

/// A thumbnail and its file cached by an earlier fetch of the same URL.
fn cached(root: &std::path::Path, key: &str) -> Option<Picture> {
    let thumb = root
        .join("thumbnails")
        .join(format!("thumb-{key}-{}.png", thumb::THUMB_SIDE));
    let file = std::fs::read_dir(root.join("files").join(key))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_file())?;
    let handle = pixels(&thumb).ok()?;
    Some(Picture { handle, file })
}

impl Previews {
    pub fn get(&self, url: &str) -> Option<&Preview> {
        self.map.get(url)
    }

    /// The size of the file at `url`, once a download has told.
    pub fn known_size(&self, url: &str) -> Option<u64> {
        self.sizes.get(url).copied()
    }

    pub fn note_size(&mut self, url: String, size: u64) {
        self.sizes.insert(url, size);
    }

    pub fn is_full_open(&self) -> bool {
        self.full.is_some()
    }

    /// Starts fetching a preview for `attachment` when it is an image we may fetch
    /// on our own; `None` otherwise (or when one is known already).
    /// `max_bytes` is the user's automatic image download limit (Settings; 0: never).
    pub fn fetch(
        &mut self,
        attachment: &Attachment,
        trust: &Trust,
        max_bytes: u64,
    ) -> Option<Task<Message>> {
        if max_bytes == 0
            || !attachment.is_image()
            || !crate::xmpp::upload::is_https(&attachment.url)
            || attachment.size.is_some_and(|s| s > max_bytes)
            || self.map.contains_key(&attachment.url)
        {
            return None;
        }
        let client = transfer::http_client(trust).ok()?;
        let url = attachment.url.clone();
        let name = attachment.name.clone();
        self.map.insert(url.clone(), Preview::Loading);
        let key = thumb::cache_key(&url);
        let u = url.clone();
        Some(Task::perform(
            async move {
                if transfer::is_private_host(&u).await {
                    return Err(TransferError::PrivateHost(u));
                }
                let root = cache_root();
                // Cached from an earlier run: the thumbnail and the file next to it.
                let (r, k) = (root.clone(), key.clone());
                if let Ok(Some(hit)) = tokio::task::spawn_blocking(move || cached(&r, &k)).await {
                    return Ok(hit);
                }
                let limits = DownloadLimits {
                    max_bytes,
                    idle: Duration::from_secs(30),
                    total: Duration::from_secs(120),
                };
                let file =
                    transfer::download(client, u, root.join("files").join(&key), name, limits)
                        .finish()
                        .await?
                        .ok_or_else(|| TransferError::Io("no file".into()))?;
                let t = thumb::make_thumbnail(file.clone(), root.join("thumbnails"), key).await?;
                let handle = tokio::task::spawn_blocking(move || pixels(&t.path))
                    .await
                    .map_err(|e| TransferError::Image(e.to_string()))??;
                Ok(Picture { handle, file })
            },
            move |r| Message::Loaded(url.clone(), r),
        ))
    }

    pub fn update(&mut self, message: Message) -> (Task<Message>, Option<PathBuf>) {
        match message {
            Message::Loaded(url, r) => {
                let preview = match r {
                    Ok(p) => Preview::Ready(p),
                    Err(e) => {
                        log::info!("no preview for {url}: {e}");
                        Preview::Failed(e.to_string())
                    }
                };
                self.map.insert(url, preview);
                (Task::none(), None)
            }
            Message::ShowFull(url) => {
                let Some(Preview::Ready(p)) = self.map.get(&url) else {
                    return (Task::none(), None);
                };
                let file = p.file.clone();
                self.full = Some((url.clone(), None));
                let task = Task::perform(
                    async move {
                        let cache = cache_root().join("full");
                        // Decoded under the same limits; shown fitted to the window.
                        let t = thumb::make_full(file.clone(), cache).await?;
                        let handle = tokio::task::spawn_blocking(move || pixels(&t))
                            .await
                            .map_err(|e| TransferError::Image(e.to_string()))??;
                        Ok(Picture { handle, file })
                    },
                    move |r| Message::FullLoaded(url.clone(), r),
                );
                (task, None)
            }
            Message::FullLoaded(url, r) => {
                if let Some((open, slot)) = &mut self.full
                    && *open == url
                {
                    match r {
                        Ok(p) => *slot = Some(p),
                        Err(e) => {
                            self.map.insert(url, Preview::Failed(e.to_string()));
                            self.full = None;
                        }
                    }
                }
                (Task::none(), None)
            }
            Message::CloseFull => {
                self.full = None;
                (Task::none(), None)
            }
            Message::OpenExternal(path) => (Task::none(), Some(path)),
        }
    }

    /// The thumbnail of a message's image, clickable; `None` when there is none (yet).
    pub fn thumbnail<'a, M: Clone + 'a>(
        &'a self,
        url: &str,
        wrap: impl Fn(Message) -> M,
    ) -> Option<Element<'a, M>> {
        let Some(Preview::Ready(p)) = self.map.get(url) else {
            return None;
        };
        Some(
            button(image(p.handle.clone()).content_fit(ContentFit::ScaleDown))
                .padding(0)
                .style(theme::link_button)
                .on_press(wrap(Message::ShowFull(url.to_owned())))
                .into(),
        )
    }

    /// The full-size view, when one is open.
    pub fn full_view<'a>(&'a self, lang: Lang) -> Option<Element<'a, Message>> {
        let (_, picture) = self.full.as_ref()?;
        let mut bar = row![].spacing(8).align_y(Alignment::Center);
        if let Some(p) = picture {
            bar = bar.push(
                button(text(tr(lang, T::OpenInViewer)).size(13))
                    .style(theme::secondary_button)
                    .on_press(Message::OpenExternal(p.file.clone())),
            );
        }
        bar = bar.push(
            button(text(tr(lang, T::CloseImage)).size(13))
                .style(theme::primary_button)
                .on_press(Message::CloseFull),
        );
        let body: Element<'a, Message> = match picture {
            Some(p) => image(p.handle.clone())
                .content_fit(ContentFit::Contain)
                .width(Length::Fill)
                .height(Length::Fill)
                .into(),
            None => text(tr(lang, T::ImageLoading)).style(theme::muted).into(),
        };
        Some(
            container(column![bar, container(body).center(Length::Fill)].spacing(8))
                .padding(12)
                .width(Length::Fill)
                .height(Length::Fill)
                .into(),
        )
    }
}
