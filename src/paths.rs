//! Where Loquat keeps its files. `LOQUAT_DATA_DIR` overrides the platform default
//! (used by tests and the end-to-end script).

use std::path::{Path, PathBuf};

/// Directory of the local database and settings (never secrets).
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LOQUAT_DATA_DIR") {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("im", "Loquat", "loquat").map(|d| d.data_dir().to_path_buf())
}

/// Creates `dir` and its missing parents readable by this user only (0700 on Unix),
/// and narrows an existing `dir` to 0700: the data and cache folders hold history,
/// trust pins, the outbox and pictures, which other users of the machine must not
/// read whatever the umask.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o1000 != 0 {
            // A shared folder such as /tmp (sticky bit): never ours to narrow, and no
            // place for private files. (A database opened straight in a temporary
            // folder once made the settings narrow /tmp itself, breaking every other
            // user of it.)
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("{} is a shared folder", dir.display()),
            ));
        }
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Narrows every file under `dir` to 0600 and every folder to 0700 (Unix), e.g. a
/// database an older Loquat wrote under the umask.
pub fn restrict_tree(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let mode = entry.metadata()?.permissions().mode();
            if kind.is_dir() {
                if mode & 0o077 != 0 {
                    std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o700))?;
                }
                restrict_tree(&entry.path())?;
            } else if kind.is_file() && mode & 0o077 != 0 {
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A step of [`replace_private_file`] that makes it survive a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durable {
    /// The new content is on disk, in the temporary file.
    FileSynced,
    /// The temporary file took the place of the old one.
    Renamed,
    /// The folder's entry for it is on disk.
    FolderSynced,
}

/// Replaces `path` with `bytes` so that after a crash or power cut it holds either
/// its old content or the new one, complete, and is readable by this user only
/// (0600 on Unix): a fresh temporary file beside it (`NAME.new`; one left over, whatever
/// its mode, is removed first, since opening it would keep its mode), written and
/// synced, renamed over `path`, then the folder synced.
pub fn replace_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace_private_file_observed(path, bytes, &mut |_| {})
}

/// [`replace_private_file`], telling `seen` each durable step as it is done.
pub fn replace_private_file_observed(
    path: &Path,
    bytes: &[u8],
    seen: &mut dyn FnMut(Durable),
) -> std::io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("no file name"))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".new");
    let tmp = path.with_file_name(tmp_name);
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    {
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    seen(Durable::FileSynced);
    std::fs::rename(&tmp, path)?;
    seen(Durable::Renamed);
    // A directory can be opened and synced on Unix; elsewhere the rename is what the
    // system offers.
    #[cfg(unix)]
    {
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::File::open(folder)?.sync_all()?;
        seen(Durable::FolderSynced);
    }
    Ok(())
}

/// Creates (or truncates) `path` for writing, readable by this user only (0600 on
/// Unix) from its first byte.
pub fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {

    #[cfg(unix)]
    #[test]
    fn a_shared_sticky_folder_is_never_narrowed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(ensure_private_dir(&shared).is_err());
        let mode = std::fs::metadata(&shared).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o1777, "left as it was");
        // An ordinary folder is narrowed as before.
        let mine = dir.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&mine).unwrap();
        let mode = std::fs::metadata(&mine).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    use super::*;

    /// The keep file's way of writing: synced before the rename, the folder after it,
    /// complete, 0600, and the temporary file gone.
    #[test]
    fn a_private_file_is_replaced_durably() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keep.json");
        std::fs::write(&path, b"old").unwrap();
        let mut steps = Vec::new();
        replace_private_file_observed(&path, b"new and longer", &mut |s| steps.push(s)).unwrap();
        let expected: &[Durable] = if cfg!(unix) {
            &[Durable::FileSynced, Durable::Renamed, Durable::FolderSynced]
        } else {
            &[Durable::FileSynced, Durable::Renamed]
        };
        assert_eq!(steps, expected);
        assert_eq!(std::fs::read(&path).unwrap(), b"new and longer");
        assert!(!dir.path().join("keep.json.new").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}
