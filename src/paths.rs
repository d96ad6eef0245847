//! Where Loquat keeps its files. `LOQUAT_DATA_DIR` overrides the platform default
//! (used by tests and the end-to-end script).

use std::path::PathBuf;

/// Directory of the local database and settings (never secrets).
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LOQUAT_DATA_DIR") {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("im", "Loquat", "loquat").map(|d| d.data_dir().to_path_buf())
}
