//! Streaming HTTP PUT of a file to an upload slot. The file is read in chunks as the
//! connection takes them: memory use does not grow with the file.

use super::{Progress, TransferError, TransferEvent, TransferStream};
use crate::xmpp::upload::{Slot, is_https};
use bytes::BytesMut;
use futures::StreamExt;
use std::path::PathBuf;
use std::time::Instant;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

/// Bytes read from disk per chunk.
const CHUNK: usize = 256 * 1024;

/// Uploads `size` bytes of `path` to `slot` with `content_type`. Progress is reported as
/// bytes are handed to the connection; the stream ends with `Finished(Ok(None))` once the
/// server confirmed the PUT. Dropping the stream stops the PUT.
pub fn upload(
    client: reqwest::Client,
    slot: Slot,
    path: PathBuf,
    size: u64,
    content_type: String,
) -> TransferStream {
    TransferStream::spawn(move |tx| async move {
        put(client, slot, path, size, content_type, tx).await?;
        Ok(None)
    })
}

pub(super) async fn put(
    client: reqwest::Client,
    slot: Slot,
    path: PathBuf,
    size: u64,
    content_type: String,
    tx: mpsc::UnboundedSender<TransferEvent>,
) -> Result<(), TransferError> {
    if !is_https(&slot.put_url) {
        return Err(TransferError::InsecureUrl(slot.put_url));
    }
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(TransferError::io)?;
    let started = Instant::now();
    let _ = tx.send(TransferEvent::Progress(Progress {
        done: 0,
        total: Some(size),
        elapsed_ms: 0,
    }));
    // (file, bytes sent so far)
    let body = futures::stream::unfold((file, 0u64), move |(mut file, done)| {
        let tx = tx.clone();
        async move {
            if done >= size {
                return None;
            }
            let want = (size - done).min(CHUNK as u64) as usize;
            let mut buf = BytesMut::with_capacity(want);
            while buf.len() < want {
                match (&mut file)
                    .take((want - buf.len()) as u64)
                    .read_buf(&mut buf)
                    .await
                {
                    Ok(0) => {
                        return Some((
                            Err(std::io::Error::new(
                                std::io::ErrorKind::UnexpectedEof,
                                "the file became shorter while it was sent",
                            )),
                            (file, size),
                        ));
                    }
                    Ok(_) => {}
                    Err(e) => return Some((Err(e), (file, size))),
                }
            }
            let done = done + buf.len() as u64;
            let _ = tx.send(TransferEvent::Progress(Progress {
                done,
                total: Some(size),
                elapsed_ms: started.elapsed().as_millis() as u64,
            }));
            Some((Ok::<_, std::io::Error>(buf.freeze()), (file, done)))
        }
    })
    .boxed();
    let mut request = client
        .put(&slot.put_url)
        .header(reqwest::header::CONTENT_LENGTH, size)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(reqwest::Body::wrap_stream(body));
    for (name, value) in &slot.put_headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request
        .send()
        .await
        .map_err(|e| TransferError::from_http(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(http_error(status, response).await);
    }
    Ok(())
}

/// An HTTP error with the server's short explanation, when it gave one.
pub(super) async fn http_error(
    status: reqwest::StatusCode,
    response: reqwest::Response,
) -> TransferError {
    let text = tokio::time::timeout(std::time::Duration::from_secs(5), response.text())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let reason = plain_reason(status, &text);
    TransferError::Http {
        status: status.as_u16(),
        reason,
    }
}

fn plain_reason(status: reqwest::StatusCode, text: &str) -> String {
    let known = match status.as_u16() {
        401 | 403 => "the upload was not allowed; the slot may have expired",
        404 => "the file is not there (deleted or expired)",
        410 => "the file is gone (deleted, expired, or never completely uploaded)",
        409 => "a file with that address already exists",
        413 => "the file is too large for the web server",
        507 => "the server is out of space",
        _ => status.canonical_reason().unwrap_or(""),
    };
    let lower = text.to_ascii_lowercase();
    let html = lower.contains("<html") || lower.contains("<!doctype");
    let first_line: String = text
        .lines()
        .filter(|_| !html)
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('<'))
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    if first_line.trim().is_empty() || known.contains(first_line.trim()) {
        known.to_owned()
    } else if known.is_empty() {
        first_line.trim().to_owned()
    } else {
        format!("{known}: {}", first_line.trim())
    }
}
