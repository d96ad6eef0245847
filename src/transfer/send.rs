//! Sending a file to a contact: find the upload service, refuse a file over its limit
//! before asking for anything, get a slot, stream the PUT, and only then share the URL.

use super::aesgcm;
use super::upload::put;
use super::{TransferError, TransferStream};
use crate::ids::LocalMessageId;
use crate::model::Attachment;
use crate::model::transfer::guess_mime;
use crate::session::files::Reply;
use crate::session::{Command, Handle};
use crate::xmpp::upload::{Slot, UploadService, check_size};
use std::path::{Path, PathBuf};
use std::time::Duration;
use xmpp_parsers::jid::{BareJid, Jid};

/// Longest wait for the server to answer an upload question.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything needed for the PUT, once the server granted a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedUpload {
    pub service: UploadService,
    pub slot: Slot,
    /// The name the file is shared under.
    pub name: String,
    pub size: u64,
    pub content_type: String,
}

async fn ask<T>(
    handle: &Handle,
    make: impl FnOnce(Reply<T>) -> Command,
) -> Result<T, TransferError> {
    let (reply, rx) = Reply::channel();
    handle
        .send(make(reply))
        .map_err(|_| TransferError::NotConnected)?;
    match tokio::time::timeout(ANSWER_TIMEOUT, rx).await {
        Err(_) => Err(TransferError::Timeout),
        Ok(Err(_)) => Err(TransferError::NotConnected),
        Ok(Ok(v)) => Ok(v),
    }
}

/// The account's upload service and its limit.
pub async fn find_service(handle: &Handle) -> Result<UploadService, TransferError> {
    Ok(ask(handle, |reply| Command::FindUploadService { reply }).await??)
}

/// Checks the file against the service's limit, then asks for a slot.
pub async fn prepare_upload(handle: &Handle, path: &Path) -> Result<PreparedUpload, TransferError> {
    prepare(handle, path, false).await
}

/// [`prepare_upload`]; `encrypted`: for the file encrypted (its tag more, no type).
async fn prepare(
    handle: &Handle,
    path: &Path,
    encrypted: bool,
) -> Result<PreparedUpload, TransferError> {
    let meta = tokio::fs::metadata(path).await.map_err(TransferError::io)?;
    if !meta.is_file() {
        return Err(TransferError::Io(format!(
            "{} is not a file",
            path.display()
        )));
    }
    let size = meta.len() + if encrypted { aesgcm::TAG as u64 } else { 0 };
    // Encrypted in memory: refused before any slot is asked for.
    if encrypted && meta.len() > aesgcm::MAX_BYTES {
        return Err(TransferError::TooLarge {
            size: meta.len(),
            limit: aesgcm::MAX_BYTES,
        });
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "file".to_owned());
    // The server sees only ciphertext; it need not know the kind of file either.
    let content_type = if encrypted {
        "application/octet-stream".to_owned()
    } else {
        guess_mime(&name).to_owned()
    };
    let service = find_service(handle).await?;
    // Refused here, before any slot request, with the limit in the words.
    check_size(&service, size)?;
    let jid: Jid = service.jid.clone();
    let slot = ask(handle, |reply| Command::RequestSlot {
        service: jid,
        filename: name.clone(),
        size,
        content_type: Some(content_type.clone()),
        reply,
    })
    .await??;
    Ok(PreparedUpload {
        service,
        slot,
        name,
        size,
        content_type,
    })
}

/// Where a file is shared: a contact (a chat message) or a room (a groupchat message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Chat(BareJid),
    Room(BareJid),
}

/// Shares an uploaded file with `to` (URL as body and OOB element).
pub fn send_file_message(
    handle: &Handle,
    to: BareJid,
    prepared: &PreparedUpload,
) -> Result<LocalMessageId, TransferError> {
    share(handle, Recipient::Chat(to), prepared)
}

/// Shares an uploaded file with a contact or in a room (URL as body and OOB element).
pub fn share(
    handle: &Handle,
    to: Recipient,
    prepared: &PreparedUpload,
) -> Result<LocalMessageId, TransferError> {
    let id = LocalMessageId::generate();
    let attachment = Attachment {
        url: prepared.slot.get_url.clone(),
        name: prepared.name.clone(),
        size: Some(prepared.size),
        mime: Some(prepared.content_type.clone()),
    };
    let command = match to {
        Recipient::Chat(to) => Command::SendAttachment {
            to,
            attachment,
            id: id.clone(),
        },
        Recipient::Room(room) => Command::SendRoomAttachment {
            room,
            attachment,
            id: id.clone(),
        },
    };
    handle
        .send(command)
        .map_err(|_| TransferError::NotConnected)?;
    Ok(id)
}

/// The whole send: prepare, PUT with progress, then the message. Dropping the stream
/// before the PUT finished cancels it and no message is sent.
pub fn send_file(
    handle: Handle,
    client: reqwest::Client,
    to: BareJid,
    path: PathBuf,
) -> TransferStream {
    send_file_to(handle, client, Recipient::Chat(to), path)
}

/// [`send_file`] to a contact or a room.
pub fn send_file_to(
    handle: Handle,
    client: reqwest::Client,
    to: Recipient,
    path: PathBuf,
) -> TransferStream {
    TransferStream::spawn(move |tx| async move {
        let prepared = prepare_upload(&handle, &path).await?;
        put(
            client,
            prepared.slot.clone(),
            path,
            prepared.size,
            prepared.content_type.clone(),
            tx.clone(),
        )
        .await?;
        share(&handle, to, &prepared)?;
        Ok(None)
    })
}

/// [`send_file`] in an encrypted chat (XEP-0454): the file is encrypted with a fresh key
/// into a temporary file, that is uploaded, and the `aesgcm://` link (which carries the
/// key) is shared; the session encrypts the message itself with OMEMO. The temporary
/// file is removed in any case.
pub fn send_file_encrypted(
    handle: Handle,
    client: reqwest::Client,
    to: Recipient,
    path: PathBuf,
) -> TransferStream {
    TransferStream::spawn(move |tx| async move {
        let prepared = prepare(&handle, &path, true).await?;
        let tmp = std::env::temp_dir().join(format!(
            "loquat-upload-{}.aesgcm",
            LocalMessageId::generate().0
        ));
        let _remove = super::download::RemoveOnDrop(Some(tmp.clone()));
        let (src, dst) = (path.clone(), tmp.clone());
        let (iv, key) = tokio::task::spawn_blocking(move || aesgcm::encrypt_file(&src, &dst))
            .await
            .map_err(|e| TransferError::Io(e.to_string()))??;
        let written = tokio::fs::metadata(&tmp)
            .await
            .map_err(TransferError::io)?
            .len();
        if written != prepared.size {
            return Err(TransferError::Io(
                "the file changed while it was being sent".to_owned(),
            ));
        }
        put(
            client,
            prepared.slot.clone(),
            tmp.clone(),
            prepared.size,
            prepared.content_type.clone(),
            tx.clone(),
        )
        .await?;
        let url = aesgcm::link(&prepared.slot.get_url, &iv, &key)
            .ok_or_else(|| TransferError::InsecureUrl(prepared.slot.get_url.clone()))?;
        let attachment = Attachment {
            url,
            name: prepared.name.clone(),
            size: Some(prepared.size - aesgcm::TAG as u64),
            mime: Some(guess_mime(&prepared.name).to_owned()),
        };
        let id = LocalMessageId::generate();
        let command = match to {
            Recipient::Chat(to) => Command::SendAttachment { to, attachment, id },
            // An encrypted room (issue #17): the session encrypts to its members.
            Recipient::Room(room) => Command::SendRoomAttachment {
                room,
                attachment,
                id,
            },
        };
        handle
            .send(command)
            .map_err(|_| TransferError::NotConnected)?;
        Ok(None)
    })
}
