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
        if std::fs::metadata(dir)?.permissions().mode() & 0o077 != 0 {
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
