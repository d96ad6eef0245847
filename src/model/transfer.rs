//! File transfer vocabulary: the file a message points at, and the state of one upload
//! or download as stored. Plain data, no I/O.

use crate::ids::AccountId;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use xmpp_parsers::jid::BareJid;

/// A file a chat message carries (XEP-0066 OOB URL, or a body that is just a URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Where to fetch it (https, or another scheme shown as text only).
    pub url: String,
    /// File name to show and to save under (taken from the URL, not yet sanitised).
    pub name: String,
    /// Size in bytes when the sender told us.
    #[serde(default)]
    pub size: Option<u64>,
    /// MIME type when known or guessed from the name.
    #[serde(default)]
    pub mime: Option<String>,
}

impl Attachment {
    /// Is this an image type we may preview inline (png, jpeg, gif, webp)?
    pub fn is_image(&self) -> bool {
        let mime = self
            .mime
            .clone()
            .unwrap_or_else(|| crate::model::transfer::guess_mime(&self.name).to_owned());
        matches!(
            mime.as_str(),
            "image/png" | "image/jpeg" | "image/gif" | "image/webp"
        )
    }
}

/// A MIME type from a file name's extension (`application/octet-stream` when unknown).
pub fn guess_mime(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "zip" => "application/zip",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" => "audio/ogg",
        "m4a" => "audio/mp4",
        _ => "application/octet-stream",
    }
}

/// Our own id for one transfer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TransferId(pub String);

impl TransferId {
    pub fn generate() -> Self {
        TransferId(uuid::Uuid::new_v4().simple().to_string())
    }
}

impl std::fmt::Display for TransferId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransferDirection {
    Upload,
    Download,
}

/// Where a transfer stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransferState {
    /// Running in this process (stored as such; found after a restart it means
    /// "interrupted").
    Active,
    Done,
    /// Stopped by the user.
    Cancelled,
    /// Failed; the text says why in plain words.
    Failed(String),
    /// The app stopped while it ran.
    Interrupted,
}

/// One upload or download as stored, so it survives a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRecord {
    pub id: TransferId,
    pub account: AccountId,
    pub peer: BareJid,
    pub direction: TransferDirection,
    /// The local file: the one sent, or where a download is saved.
    pub path: PathBuf,
    /// The file name shown to the user.
    pub name: String,
    pub size: Option<u64>,
    /// Download URL (known for downloads, and for uploads once the slot is granted).
    #[serde(default)]
    pub url: Option<String>,
    pub state: TransferState,
    /// Unix time in milliseconds of the last change.
    pub updated_ms: i64,
}
