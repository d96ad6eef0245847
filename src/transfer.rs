//! File transfers over HTTPS: streaming uploads to an HTTP File Upload slot, capped and
//! timed downloads, safe file names, and image thumbnails decoded under limits.
//!
//! No iced here. Uploads and downloads are [`TransferStream`]s of [`TransferEvent`]s that
//! run while the stream is alive: dropping the stream cancels the transfer (the UI wraps
//! them in abortable tasks). Every failure says why in plain words ([`TransferError`]).

use crate::model::Trust;
use crate::xmpp::upload::{SlotError, human_size};
use futures::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub mod aesgcm;
pub mod auto;
pub mod cache;
mod download;
pub mod names;
pub mod public;
mod send;
pub mod thumb;
mod upload;

pub use download::{DownloadLimits, default_download_dir, download, is_private_host};
pub use public::http_client_public;
pub use send::{
    PreparedUpload, Recipient, find_service, prepare_upload, send_file, send_file_encrypted,
    send_file_message, send_file_to, share,
};
pub use upload::upload;

/// Why a transfer failed, in plain words. `Clone` so it can travel in UI messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    #[error("{0}")]
    Slot(#[from] SlotError),
    #[error("the file is {} but the limit is {}", human_size(*.size), human_size(*.limit))]
    TooLarge { size: u64, limit: u64 },
    #[error("the web server answered {status}{}", reason_suffix(.reason))]
    Http { status: u16, reason: String },
    #[error("the secure connection failed: {0}")]
    Tls(String),
    #[error("network error: {0}")]
    Network(String),
    #[error("no data arrived for {0} seconds")]
    IdleTimeout(u64),
    #[error("the transfer took longer than {0} seconds")]
    TotalTimeout(u64),
    #[error("only https addresses are fetched: {0}")]
    InsecureUrl(String),
    #[error("{0} points at this computer or a private network; not fetched automatically")]
    PrivateHost(String),
    #[error("file error: {0}")]
    Io(String),
    #[error("not connected to the server")]
    NotConnected,
    #[error("the server did not answer in time")]
    Timeout,
    #[error("cancelled")]
    Cancelled,
    #[error(
        "no download folder is known (the system names no home folder): choose one in Settings"
    )]
    NoDownloadFolder,
    #[error("the image is too large to show ({0})")]
    ImageTooLarge(String),
    #[error("the image could not be read: {0}")]
    Image(String),
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason})")
    }
}

impl TransferError {
    /// Plain words for an HTTP client error (TLS, connection, timeout).
    pub(crate) fn from_http(e: &reqwest::Error) -> TransferError {
        use std::error::Error as _;
        let mut chain = String::new();
        let mut source: Option<&dyn std::error::Error> = e.source();
        while let Some(s) = source {
            if let Some(p) = s.downcast_ref::<public::PrivateAddress>() {
                return TransferError::PrivateHost(p.0.clone());
            }
            chain.push_str(&s.to_string());
            chain.push_str("; ");
            source = s.source();
        }
        let lower = chain.to_ascii_lowercase();
        if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
            TransferError::Tls(chain.trim_end_matches("; ").to_owned())
        } else if e.is_timeout() {
            TransferError::Timeout
        } else {
            let detail = if chain.is_empty() {
                e.to_string()
            } else {
                chain.trim_end_matches("; ").to_owned()
            };
            TransferError::Network(detail)
        }
    }

    pub(crate) fn io(e: std::io::Error) -> TransferError {
        TransferError::Io(e.to_string())
    }
}

/// How far a transfer has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: Option<u64>,
    /// Time since the transfer started, in milliseconds.
    pub elapsed_ms: u64,
}

impl Progress {
    /// Average speed so far, in bytes per second.
    pub fn bytes_per_sec(&self) -> u64 {
        self.done
            .saturating_mul(1000)
            .checked_div(self.elapsed_ms)
            .unwrap_or(0)
    }
}

/// What a transfer reports: progress, then exactly one `Finished`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferEvent {
    Progress(Progress),
    /// Finished; for downloads, the path the file was saved under.
    Finished(Result<Option<std::path::PathBuf>, TransferError>),
}

type Work = Pin<
    Box<dyn std::future::Future<Output = Result<Option<std::path::PathBuf>, TransferError>> + Send>,
>;

/// A transfer. It starts when first polled, on whichever tokio runtime polls it, and
/// dropping it cancels the transfer.
pub struct TransferStream {
    start: Option<(Work, mpsc::UnboundedSender<TransferEvent>)>,
    rx: mpsc::UnboundedReceiver<TransferEvent>,
    task: Option<JoinHandle<()>>,
}

impl TransferStream {
    /// Wraps `work`, which reports progress through the sender it is given.
    pub(crate) fn spawn<F, Fut>(work: F) -> TransferStream
    where
        F: FnOnce(mpsc::UnboundedSender<TransferEvent>) -> Fut,
        Fut: std::future::Future<Output = Result<Option<std::path::PathBuf>, TransferError>>
            + Send
            + 'static,
    {
        let (tx, rx) = mpsc::unbounded_channel();
        let work: Work = Box::pin(work(tx.clone()));
        TransferStream {
            start: Some((work, tx)),
            rx,
            task: None,
        }
    }

    /// Waits for the end, ignoring progress.
    pub async fn finish(mut self) -> Result<Option<std::path::PathBuf>, TransferError> {
        use futures::StreamExt;
        while let Some(ev) = self.next().await {
            if let TransferEvent::Finished(r) = ev {
                return r;
            }
        }
        Err(TransferError::Cancelled)
    }
}

impl Stream for TransferStream {
    type Item = TransferEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<TransferEvent>> {
        if let Some((work, tx)) = self.start.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    self.task = Some(rt.spawn(async move {
                        let result = work.await;
                        let _ = tx.send(TransferEvent::Finished(result));
                    }))
                }
                Err(_) => {
                    let _ = tx.send(TransferEvent::Finished(Err(TransferError::Io(
                        "no async runtime to run the transfer".to_owned(),
                    ))));
                }
            }
        }
        self.rx.poll_recv(cx)
    }
}

impl Drop for TransferStream {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// An HTTPS client trusting the system roots plus the account's extra roots.
pub fn http_client(trust: &Trust) -> Result<reqwest::Client, TransferError> {
    let builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(20))
        .https_only(true)
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent(concat!("Loquat/", env!("CARGO_PKG_VERSION")));
    build_client(builder, trust)
}

/// Adds the account's extra roots to `builder` and builds the client.
pub(crate) fn build_client(
    mut builder: reqwest::ClientBuilder,
    trust: &Trust,
) -> Result<reqwest::Client, TransferError> {
    if let Some(pem) = &trust.extra_roots_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| TransferError::Tls(format!("the account's extra roots: {e}")))?;
        builder = builder.tls_certs_merge(certs);
    }
    builder
        .build()
        .map_err(|e| TransferError::Tls(format!("could not set up HTTPS: {e}")))
}

/// A client for a download the user asked for over plain http.
pub fn http_client_allowing_http(trust: &Trust) -> Result<reqwest::Client, TransferError> {
    let builder = reqwest::Client::builder().connect_timeout(Duration::from_secs(20));
    build_client(builder, trust)
}

#[allow(dead_code)]
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
