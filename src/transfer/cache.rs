//! The preview cache (issue #20, weakness 2): pictures fetched on their own, their
//! thumbnails and full views, in the user's private cache folder, never in a shared
//! temporary one. The cache has a size cap: after each fetch the files used longest
//! ago are removed until it fits (a hit counts as a use).
//!
//! Layout under the root: `files/<key>/<name>` (the fetched file), `thumbnails/` and
//! `full/` (PNGs written by `thumb`), where `key` is [`super::thumb::cache_key`] of
//! the URL.

use super::{DownloadLimits, TransferError, thumb};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Largest size of the preview cache when nothing else is set: 256 MiB.
pub const DEFAULT_CAP: u64 = 256 * 1024 * 1024;

/// The preview cache folder: the user's private cache, or an error that says why
/// there is none (never a shared temporary folder, where other users could read or
/// plant pictures).
pub fn root() -> Result<PathBuf, TransferError> {
    thumb::cache_dir().ok_or_else(|| {
        TransferError::Io(
            "no private cache folder is known (the system names no home folder), so \
             pictures are not fetched on their own"
                .to_owned(),
        )
    })
}

/// A fetched picture in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    /// The thumbnail (PNG).
    pub thumbnail: PathBuf,
    /// The fetched file.
    pub file: PathBuf,
}

fn thumbnail_path(root: &Path, key: &str) -> PathBuf {
    root.join("thumbnails")
        .join(format!("thumb-{key}-{}.png", thumb::THUMB_SIDE))
}

/// Marks `path` as used now (eviction removes what was used longest ago).
fn touch(path: &Path) {
    if let Ok(f) = std::fs::OpenOptions::new().write(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// The thumbnail and file an earlier fetch of the URL with `key` left, marked as used.
pub fn lookup(root: &Path, key: &str) -> Option<Cached> {
    let thumbnail = thumbnail_path(root, key);
    if !thumbnail.is_file() {
        return None;
    }
    let file = std::fs::read_dir(root.join("files").join(key))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_file())?;
    touch(&thumbnail);
    touch(&file);
    Some(Cached { thumbnail, file })
}

/// What [`enforce_cap`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evicted {
    pub files: usize,
    pub bytes: u64,
}

fn walk(dir: &Path, out: &mut Vec<(SystemTime, u64, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&entry.path(), out);
        } else if kind.is_file()
            && let Ok(meta) = entry.metadata()
        {
            let at = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            out.push((at, meta.len(), entry.path()));
        }
    }
}

/// Removes the files used longest ago until the cache under `root` holds at most
/// `cap` bytes (empty folders go too). Blocking.
pub fn enforce_cap(root: &Path, cap: u64) -> Evicted {
    let mut files = Vec::new();
    walk(root, &mut files);
    let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
    let mut evicted = Evicted::default();
    if total <= cap {
        return evicted;
    }
    files.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.2.cmp(&b.2)));
    for (_, len, path) in files {
        if total <= cap {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total = total.saturating_sub(len);
            evicted.files += 1;
            evicted.bytes += len;
            if let Some(parent) = path.parent()
                && parent != root
            {
                // Only succeeds when empty (a file's own `files/<key>` folder).
                let _ = std::fs::remove_dir(parent);
            }
        }
    }
    evicted
}

/// The account's own upload host when `url` is on it: the account's domain or a
/// name under it (`upload.example.org` for `alice@example.org`). Such a server may
/// sit on the local network, so it is the one host exempt from the private-address
/// check.
pub fn own_upload_host(account_domain: &str, url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    let domain = account_domain.trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() {
        return None;
    }
    (host == domain || host.ends_with(&format!(".{domain}"))).then_some(host)
}

/// Fetches the picture at `url` (or finds it in the cache under `root`), writes its
/// thumbnail, and brings the cache back under `cap` bytes. The client should be
/// [`super::http_client_public`] for the same `own_host`; a first URL that points at
/// this computer or a private network is refused unless it is on `own_host`.
pub async fn fetch_preview(
    client: reqwest::Client,
    url: String,
    name: String,
    max_bytes: u64,
    root: PathBuf,
    own_host: Option<String>,
    cap: u64,
) -> Result<Cached, TransferError> {
    let on_own_host = own_host.is_some()
        && url::Url::parse(&url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            == own_host;
    if !on_own_host && super::is_private_host(&url).await {
        return Err(TransferError::PrivateHost(url));
    }
    let key = thumb::cache_key(&url);
    let (r, k) = (root.clone(), key.clone());
    if let Ok(Some(hit)) = tokio::task::spawn_blocking(move || lookup(&r, &k)).await {
        return Ok(hit);
    }
    let r = root.clone();
    tokio::task::spawn_blocking(move || crate::paths::ensure_private_dir(&r.join("files")))
        .await
        .map_err(|e| TransferError::Io(e.to_string()))?
        .map_err(TransferError::io)?;
    let limits = DownloadLimits {
        max_bytes,
        idle: Duration::from_secs(30),
        total: Duration::from_secs(120),
    };
    let file = super::download(client, url, root.join("files").join(&key), name, limits)
        .finish()
        .await?
        .ok_or_else(|| TransferError::Io("no file".into()))?;
    let t = thumb::make_thumbnail(file.clone(), root.join("thumbnails"), key).await?;
    let r = root.clone();
    let _ = tokio::task::spawn_blocking(move || {
        let e = enforce_cap(&r, cap);
        if e.files > 0 {
            log::info!(
                "preview cache: removed {} files ({} bytes)",
                e.files,
                e.bytes
            );
        }
    })
    .await;
    Ok(Cached {
        thumbnail: t.path,
        file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, len: usize, age_secs: u64) {
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).unwrap_or_else(|e| unreachable!("{e}"));
        }
        std::fs::write(path, vec![7u8; len]).unwrap_or_else(|e| unreachable!("{e}"));
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .unwrap_or_else(|e| unreachable!("{e}"));
        f.set_modified(SystemTime::now() - Duration::from_secs(age_secs))
            .unwrap_or_else(|e| unreachable!("{e}"));
    }

    fn size(root: &Path) -> u64 {
        let mut files = Vec::new();
        walk(root, &mut files);
        files.iter().map(|(_, l, _)| l).sum()
    }

    #[test]
    fn the_cache_is_brought_under_its_cap_oldest_first() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let root = dir.path();
        write(&root.join("files/aaa/old.png"), 4000, 3000);
        write(&thumbnail_path(root, "aaa"), 1000, 3000);
        write(&root.join("files/bbb/mid.png"), 4000, 2000);
        write(&thumbnail_path(root, "bbb"), 1000, 2000);
        write(&root.join("files/ccc/new.png"), 4000, 10);
        write(&thumbnail_path(root, "ccc"), 1000, 10);
        write(&root.join("full/thumb-x-2048.png"), 3000, 2500);
        assert_eq!(size(root), 18_000);
        let e = enforce_cap(root, 10_000);
        assert!(size(root) <= 10_000, "{}", size(root));
        assert_eq!(e.bytes, 18_000 - size(root));
        assert!(lookup(root, "ccc").is_some(), "the newest stays");
        assert!(lookup(root, "aaa").is_none(), "the oldest goes");
        assert!(
            !root.join("files/aaa").exists(),
            "its empty folder goes too"
        );
        // Under the cap: nothing to do.
        assert_eq!(enforce_cap(root, 10_000), Evicted::default());
    }

    #[test]
    fn a_hit_counts_as_a_use() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let root = dir.path();
        write(&root.join("files/aaa/a.png"), 4000, 3000);
        write(&thumbnail_path(root, "aaa"), 1000, 3000);
        write(&root.join("files/bbb/b.png"), 4000, 10);
        write(&thumbnail_path(root, "bbb"), 1000, 10);
        assert!(lookup(root, "aaa").is_some());
        enforce_cap(root, 6000);
        assert!(lookup(root, "aaa").is_some(), "used just now");
        assert!(lookup(root, "bbb").is_none());
    }

    #[test]
    fn own_upload_host_is_the_domain_or_under_it() {
        assert_eq!(
            own_upload_host("example.org", "https://upload.example.org/f/a.png").as_deref(),
            Some("upload.example.org")
        );
        assert_eq!(
            own_upload_host("Example.org", "https://EXAMPLE.org:5281/a.png").as_deref(),
            Some("example.org")
        );
        assert_eq!(
            own_upload_host("example.org", "https://notexample.org/a"),
            None
        );
        assert_eq!(
            own_upload_host("example.org", "https://example.org.evil/a"),
            None
        );
        assert_eq!(own_upload_host("", "https://example.org/a"), None);
        assert_eq!(own_upload_host("example.org", "not a url"), None);
    }
}
