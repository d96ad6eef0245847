//! Inline image previews (issue #4): received png/jpeg/gif/webp files up to the size set
//! in Settings (default 10 MiB) are fetched on their own (https only, never from this computer or
//! a private network), decoded off the UI thread under `image::Limits` into a cached
//! thumbnail, and shown in the message; a click opens the full image inside the app.

use crate::model::{Attachment, Trust};
use crate::transfer::{self, TransferError, auto};
use crate::ui::i18n::{Lang, T, tr};
use crate::ui::theme;
use iced::widget::image::Handle;
use iced::widget::{button, column, container, image, row, text};
use iced::{Alignment, ContentFit, Element, Length, Task};
use std::collections::HashMap;
use std::path::PathBuf;

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

/// What the previews ask of the app.
#[derive(Debug, Clone)]
pub enum Event {
    /// Open a downloaded file in the system's viewer.
    OpenExternal(PathBuf),
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
    /// Who may make us fetch, how many at once and how often (`transfer::auto`).
    gate: auto::Gate<Job>,
    /// Sizes learnt by downloading files whose message did not say (by URL).
    sizes: HashMap<String, u64>,
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

/// A fetch allowed by the gate, waiting for its turn or starting now.
struct Job {
    url: String,
    name: String,
    client: reqwest::Client,
    max_bytes: u64,
    own_host: Option<String>,
}

impl Job {
    fn run(self) -> Task<Message> {
        let url = self.url.clone();
        Task::perform(
            async move {
                let root = transfer::cache::root()?;
                let c = transfer::cache::fetch_preview(
                    self.client,
                    self.url,
                    self.name,
                    self.max_bytes,
                    root,
                    self.own_host,
                    transfer::cache::DEFAULT_CAP,
                )
                .await?;
                let t = c.thumbnail;
                let handle = tokio::task::spawn_blocking(move || pixels(&t))
                    .await
                    .map_err(|e| TransferError::Image(e.to_string()))??;
                Ok(Picture {
                    handle,
                    file: c.file,
                })
            },
            move |r| Message::Loaded(url.clone(), r),
        )
    }
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

    /// Starts fetching a preview for `attachment` when it is an image we may fetch
    /// on our own from `origin` (see `transfer::auto`); `None` otherwise (or when one
    /// is known already, or it waits for a free place). `max_bytes` is the user's
    /// automatic image download limit (Settings; 0: never); `account_domain` names the
    /// account's server, whose upload host may be on the local network.
    pub fn fetch(
        &mut self,
        attachment: &Attachment,
        origin: &auto::Origin,
        trust: &Trust,
        account_domain: &str,
        max_bytes: u64,
    ) -> Option<Task<Message>> {
        if max_bytes == 0
            || !attachment.is_image()
            || !crate::xmpp::upload::is_https(&crate::transfer::aesgcm::fetch_url(&attachment.url))
            || attachment.size.is_some_and(|s| s > max_bytes)
            || self.map.contains_key(&attachment.url)
        {
            return None;
        }
        let own_host = transfer::cache::own_upload_host(account_domain, &attachment.url);
        let client = transfer::http_client_public(trust, own_host.as_deref()).ok()?;
        let job = Job {
            url: attachment.url.clone(),
            name: attachment.name.clone(),
            client,
            max_bytes,
            own_host,
        };
        let now = chrono::Utc::now().timestamp_millis();
        match self.gate.offer(origin, job, now) {
            auto::Verdict::Start(job) => {
                self.map.insert(attachment.url.clone(), Preview::Loading);
                Some(job.run())
            }
            auto::Verdict::Queued => {
                self.map.insert(attachment.url.clone(), Preview::Loading);
                None
            }
            auto::Verdict::Refused(why) => {
                log::debug!("no automatic fetch of {}: {why}", attachment.url);
                None
            }
        }
    }

    pub fn update(&mut self, message: Message) -> (Task<Message>, Option<Event>) {
        match message {
            Message::Loaded(url, r) => {
                let next = self.gate.done().map(Job::run).unwrap_or_else(Task::none);
                let preview = match r {
                    Ok(p) => Preview::Ready(p),
                    Err(e) => {
                        log::info!("no preview for {url}: {e}");
                        Preview::Failed(e.to_string())
                    }
                };
                self.map.insert(url, preview);
                (next, None)
            }
            Message::ShowFull(url) => {
                let Some(Preview::Ready(p)) = self.map.get(&url) else {
                    return (Task::none(), None);
                };
                let file = p.file.clone();
                self.full = Some((url.clone(), None));
                let task = Task::perform(
                    async move {
                        let cache = transfer::cache::root()?.join("full");
                        // Decoded under the same limits; shown fitted to the window.
                        let t = transfer::thumb::make_full(file.clone(), cache).await?;
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
            Message::OpenExternal(path) => (Task::none(), Some(Event::OpenExternal(path))),
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
