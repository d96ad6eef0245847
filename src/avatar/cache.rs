//! The avatar cache of one account on disk: `<data>/avatars/<account>/<sha1>.png`, the
//! thumbnails by the hash of the picture they were made from (so an announced hash we
//! already have costs no fetch), and `index`, who shows which hash (one `jid hash` line
//! each). At most [`CAP_BYTES`] of thumbnails: past it the least recently written or
//! used (oldest modification time) go first. Losing the cache loses nothing: a missing
//! thumbnail is fetched again when its owner next announces it. Blocking calls: run them
//! off the async threads.

use crate::ids::AccountId;
use crate::xmpp::avatar::AvatarHash;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use xmpp_parsers::jid::BareJid;

/// Thumbnails kept per account, in bytes (a 96 px thumbnail is 5 to 25 KB: the cap holds
/// a few thousand).
pub const CAP_BYTES: u64 = 48 * 1024 * 1024;
/// Most index lines read (a roster is capped far below this).
const MAX_INDEX: usize = 100_000;

#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    cap: u64,
}

/// The cache folder of `account` under the data folder.
pub fn account_dir(data: &Path, account: &AccountId) -> PathBuf {
    let safe: String = account
        .0
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    data.join("avatars").join(safe)
}

impl Cache {
    /// Opens (creating, private to this user) the cache in `dir`.
    pub fn open(dir: PathBuf) -> std::io::Result<Cache> {
        Cache::with_cap(dir, CAP_BYTES)
    }

    pub fn with_cap(dir: PathBuf, cap: u64) -> std::io::Result<Cache> {
        crate::paths::ensure_private_dir(&dir)?;
        Ok(Cache { dir, cap })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The thumbnail file of `hash` (whether or not it exists).
    pub fn path(&self, hash: &AvatarHash) -> PathBuf {
        self.dir.join(format!("{hash}.png"))
    }

    pub fn has(&self, hash: &AvatarHash) -> bool {
        self.path(hash).is_file()
    }

    /// Marks a thumbnail as used now (it is the last to be evicted).
    pub fn touch(&self, hash: &AvatarHash) {
        if let Ok(f) = std::fs::File::options().append(true).open(self.path(hash)) {
            let _ = f.set_modified(SystemTime::now());
        }
    }

    /// Writes the thumbnail of `hash` (a temporary file renamed into place: a reader
    /// never sees half of it; not synced, it is only a cache), then evicts past the cap.
    pub fn put(&self, hash: &AvatarHash, png: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.path(hash);
        let tmp = self.dir.join(format!("{hash}.tmp"));
        let _ = std::fs::remove_file(&tmp);
        let mut f = crate::paths::create_private_file(&tmp)?;
        f.write_all(png)?;
        drop(f);
        std::fs::rename(&tmp, &path)?;
        self.evict(hash)?;
        Ok(path)
    }

    /// Bytes of thumbnails on disk.
    pub fn disk_bytes(&self) -> u64 {
        self.thumbnails().iter().map(|t| t.1).sum()
    }

    fn thumbnails(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                Some((
                    e.path(),
                    m.len(),
                    m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                ))
            })
            .collect()
    }

    /// Past the cap, removes the oldest thumbnails (never `keep`) down to the low water.
    fn evict(&self, keep: &AvatarHash) -> std::io::Result<()> {
        let mut all = self.thumbnails();
        let mut total: u64 = all.iter().map(|t| t.1).sum();
        if total <= self.cap {
            return Ok(());
        }
        // A tenth below the cap, so eviction does not run again at the next thumbnail.
        let low = self.cap / 10 * 9;
        all.sort_by_key(|t| t.2);
        let keep = self.path(keep);
        for (path, len, _) in all {
            if total <= low {
                break;
            }
            if path == keep {
                continue;
            }
            if std::fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(len);
            }
        }
        Ok(())
    }

    /// Who shows which picture, as last saved (lines that do not read are skipped).
    pub fn load_index(&self) -> HashMap<BareJid, AvatarHash> {
        let Ok(text) = std::fs::read_to_string(self.dir.join("index")) else {
            return HashMap::new();
        };
        text.lines()
            .take(MAX_INDEX)
            .filter_map(|line| {
                let (jid, hash) = line.split_once(' ')?;
                Some((BareJid::new(jid).ok()?, AvatarHash::parse(hash)?))
            })
            .collect()
    }

    pub fn save_index(&self, index: &HashMap<BareJid, AvatarHash>) -> std::io::Result<()> {
        let mut lines: Vec<String> = index.iter().map(|(j, h)| format!("{j} {h}")).collect();
        lines.sort();
        let mut text = lines.join("\n");
        text.push('\n');
        crate::paths::replace_private_file(&self.dir.join("index"), text.as_bytes())
    }
}
