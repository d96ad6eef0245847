//! Capped, timed downloads into the download folder. A partial file is removed on any
//! failure or cancellation; an existing file is never overwritten.

use super::names::{create_unique, safe_file_name};
use super::upload::http_error;
use super::{Progress, TransferError, TransferEvent, TransferStream};
use futures::StreamExt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// Bounds of one download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadLimits {
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Longest wait for the next bytes.
    pub idle: Duration,
    /// Longest time for the whole download.
    pub total: Duration,
}

impl Default for DownloadLimits {
    fn default() -> Self {
        DownloadLimits {
            max_bytes: 2 * 1024 * 1024 * 1024,
            idle: Duration::from_secs(30),
            total: Duration::from_secs(3600),
        }
    }
}

/// Downloads `url` into `dir` under a safe version of `name`, within `limits`. The stream
/// ends with `Finished(Ok(Some(path)))`. Dropping the stream cancels and removes the
/// partial file. An `aesgcm://` link (XEP-0454) is fetched over https and decrypted, its
/// tag checked, before the file is handed on; one that does not decrypt is removed.
pub fn download(
    client: reqwest::Client,
    url: String,
    dir: PathBuf,
    name: String,
    limits: DownloadLimits,
) -> TransferStream {
    TransferStream::spawn(move |tx| async move {
        let name = safe_file_name(&name);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(TransferError::io)?;
        let (file, path) = create_unique(&dir, &name)
            .await
            .map_err(TransferError::io)?;
        // Removes the partial file unless disarmed (also when the task is aborted).
        let mut guard = RemoveOnDrop(Some(path.clone()));
        match super::aesgcm::parse(&url) {
            Some(link) => {
                let limits = DownloadLimits {
                    max_bytes: limits
                        .max_bytes
                        .min(super::aesgcm::MAX_BYTES + super::aesgcm::TAG as u64),
                    ..limits
                };
                fetch(client, &link.https, file, limits, tx).await?;
                let p = path.clone();
                tokio::task::spawn_blocking(move || super::aesgcm::decrypt_file(&p, &link))
                    .await
                    .map_err(|e| TransferError::Io(e.to_string()))??;
            }
            None => fetch(client, &url, file, limits, tx).await?,
        }
        guard.0 = None;
        Ok(Some(path))
    })
}

pub(super) struct RemoveOnDrop(pub(super) Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

async fn fetch(
    client: reqwest::Client,
    url: &str,
    mut file: tokio::fs::File,
    limits: DownloadLimits,
    tx: mpsc::UnboundedSender<TransferEvent>,
) -> Result<(), TransferError> {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + limits.total;
    let total_secs = limits.total.as_secs();
    let response = tokio::time::timeout_at(deadline, client.get(url).send())
        .await
        .map_err(|_| TransferError::TotalTimeout(total_secs))?
        .map_err(|e| TransferError::from_http(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(http_error(status, response).await);
    }
    let total = response.content_length();
    if let Some(len) = total
        && len > limits.max_bytes
    {
        return Err(TransferError::TooLarge {
            size: len,
            limit: limits.max_bytes,
        });
    }
    let mut body = response.bytes_stream();
    let mut done = 0u64;
    let mut last_report = Instant::now();
    loop {
        let next = tokio::time::timeout(limits.idle, body.next());
        let chunk = match tokio::time::timeout_at(deadline, next).await {
            Err(_) => return Err(TransferError::TotalTimeout(total_secs)),
            Ok(Err(_)) => return Err(TransferError::IdleTimeout(limits.idle.as_secs())),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(Err(e)))) => return Err(TransferError::from_http(&e)),
            Ok(Ok(Some(Ok(c)))) => c,
        };
        done += chunk.len() as u64;
        if done > limits.max_bytes {
            return Err(TransferError::TooLarge {
                size: done,
                limit: limits.max_bytes,
            });
        }
        file.write_all(&chunk).await.map_err(TransferError::io)?;
        if last_report.elapsed() >= Duration::from_millis(100) {
            last_report = Instant::now();
            let _ = tx.send(TransferEvent::Progress(Progress {
                done,
                total,
                elapsed_ms: started.elapsed().as_millis() as u64,
            }));
        }
    }
    if let Some(len) = total
        && done != len
    {
        return Err(TransferError::Network(format!(
            "the connection ended after {done} of {len} bytes"
        )));
    }
    file.flush().await.map_err(TransferError::io)?;
    file.sync_all().await.map_err(TransferError::io)?;
    let _ = tx.send(TransferEvent::Progress(Progress {
        done,
        total,
        elapsed_ms: started.elapsed().as_millis() as u64,
    }));
    Ok(())
}

/// Does the URL's host resolve to this computer or a private network (or not at all)?
/// Such files are never fetched automatically.
pub async fn is_private_host(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(&super::aesgcm::fetch_url(url)) else {
        return true;
    };
    let Some(host) = parsed.host_str() else {
        return true;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return super::public::is_private(ip);
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    match tokio::net::lookup_host((host, port)).await {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            addrs.is_empty() || addrs.iter().any(|a| super::public::is_private(a.ip()))
        }
        Err(_) => true,
    }
}

/// Where received files go by default.
pub fn default_download_dir() -> Option<PathBuf> {
    directories::UserDirs::new()
        .and_then(|d| d.download_dir().map(Path::to_path_buf))
        .or_else(|| directories::UserDirs::new().map(|d| d.home_dir().join("Downloads")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loopback_and_private_hosts_are_not_auto_fetched() {
        for url in [
            "https://localhost/a.png",
            "https://127.0.0.1/a.png",
            "https://10.1.2.3/a.png",
            "https://192.168.0.2/a.png",
            "https://[::1]/a.png",
            "https://[fd00::1]/a.png",
            "https://169.254.1.1/a.png",
        ] {
            assert!(is_private_host(url).await, "{url}");
        }
        assert!(!is_private_host("https://93.184.215.14/a.png").await);
    }
}
