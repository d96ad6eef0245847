//! Rewriting a database into a new one beside it, once, after the upgrade to schema 5.
//!
//! sled never gives back a page id: the upgrade in place drops the `dedupe` and `refs`
//! trees, but the page table keeps their ids, and the log keeps their segments until
//! they are cleaned. At 1,000,000 messages an upgraded database started in 1.1 s with
//! 389 MiB resident where a new one starts in a fraction of that (issue #21). So a
//! database upgraded from schema 1-4 is copied, tree by tree, into a new folder, which
//! then takes the old one's place.
//!
//! The steps, each safe to interrupt (`finish_interrupted` runs before every open):
//! 1. copy into `<db>.rebuilding` (a leftover one is an unfinished copy: removed);
//! 2. rename it to `<db>.rebuilt` (complete);
//! 3. once the old database is closed, rename `<db>` to `<db>.old`;
//! 4. rename `<db>.rebuilt` to `<db>`;
//! 5. remove `<db>.old`.
//!
//! A rewrite that fails (a full disk) leaves the database upgraded in place, which
//! works: the store opens with it (see `after_failure`). The database notes that it
//! still waits for its rewrite (`schema::rewrite_pending`), and a later start tries
//! again once the disk has room for a copy (`worth_trying`).

use super::{StoreError, io_error};
use std::path::{Path, PathBuf};

/// Entries written per batch while copying.
const BATCH: usize = 10_000;

fn beside(path: &Path, what: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "db".to_owned());
    path.with_file_name(format!("{name}.{what}"))
}

fn fs_error(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    if super::is_full(&e) {
        return StoreError::Full;
    }
    StoreError::Io(format!("cannot {what} {}: {e}", path.display()))
}

/// Completes or undoes a rebuild that was interrupted, before `path` is opened.
pub(super) fn finish_interrupted(path: &Path) -> Result<(), StoreError> {
    let building = beside(path, "rebuilding");
    let rebuilt = beside(path, "rebuilt");
    let old = beside(path, "old");
    if building.exists() {
        log::info!("store: removing an unfinished copy of the database");
        std::fs::remove_dir_all(&building).map_err(|e| fs_error("remove", &building, e))?;
    }
    if rebuilt.exists() {
        // The copy is complete: finish putting it in place.
        if path.exists() {
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(|e| fs_error("remove", &old, e))?;
            }
            std::fs::rename(path, &old).map_err(|e| fs_error("move", path, e))?;
        }
        std::fs::rename(&rebuilt, path).map_err(|e| fs_error("move", &rebuilt, e))?;
        log::info!("store: finished putting the rewritten database in place");
    }
    if old.exists() && path.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| fs_error("remove", &old, e))?;
    }
    Ok(())
}

/// After a rewrite that failed: an unfinished copy goes; a complete one waits for the
/// next start (the old database may still be closing) unless the old one already
/// moved aside, when it takes its place now.
pub(super) fn after_failure(path: &Path) -> Result<(), StoreError> {
    let building = beside(path, "rebuilding");
    if building.exists() {
        std::fs::remove_dir_all(&building).map_err(|e| fs_error("remove", &building, e))?;
    }
    if path.exists() {
        Ok(())
    } else {
        finish_interrupted(path)
    }
}

/// Whether to rewrite the database in `path` now: always right after its upgrade;
/// later (after a rewrite that failed) only when the disk has room for a copy as big
/// as the database, so that a full disk does not cost a failed copy at every start.
pub(super) fn worth_trying(path: &Path, just_upgraded: bool) -> bool {
    if just_upgraded {
        return true;
    }
    let size: u64 = std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    let free = fs2::available_space(path).unwrap_or(0);
    if free < size {
        log::warn!(
            "store: the upgraded database waits for its rewrite: it needs about {} MB free \
             beside it, {} MB are",
            size / 1_000_000,
            free / 1_000_000
        );
        return false;
    }
    true
}

/// Waits until no process holds sled's lock on the database in `path`: the last
/// handle lets go a moment after it is dropped, and may still write a snapshot there.
fn wait_closed(path: &Path) -> Result<(), StoreError> {
    let file = path.join("db");
    let Ok(handle) = std::fs::File::open(&file) else {
        return Ok(());
    };
    for _ in 0..super::LOCK_RETRIES * 4 {
        match fs2::FileExt::try_lock_exclusive(&handle) {
            Ok(()) => {
                let _ = fs2::FileExt::unlock(&handle);
                return Ok(());
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    Err(StoreError::Io(format!(
        "the database in {} is still in use",
        path.display()
    )))
}

/// Copies every tree of `db` (at `path`) into a new database and puts it in `path`'s
/// place. `db` is closed on the way; the caller opens `path` again.
pub(super) fn rebuild(db: sled::Db, path: &Path) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    let building = beside(path, "rebuilding");
    let rebuilt = beside(path, "rebuilt");
    let old = beside(path, "old");
    crate::paths::ensure_private_dir(&building).map_err(|e| fs_error("create", &building, e))?;
    let mut entries = 0usize;
    {
        let new = sled::Config::new()
            .path(&building)
            .cache_capacity(super::cache_bytes())
            .open()
            .map_err(io_error)?;
        // Counting the entries takes a while too: the rewrite has begun.
        super::progress::report(super::progress::Step::Rewrite, 0, 1);
        let names = db.tree_names();
        let mut total = 0u64;
        for name in &names {
            total += super::schema::count(&db.open_tree(name).map_err(io_error)?);
        }
        for name in names {
            let from = db.open_tree(&name).map_err(io_error)?;
            let to = new.open_tree(&name).map_err(io_error)?;
            let mut batch = sled::Batch::default();
            let mut n = 0usize;
            for item in from.iter() {
                let (key, value) = item.map_err(io_error)?;
                batch.insert(key, value);
                n += 1;
                if n.is_multiple_of(BATCH) {
                    to.apply_batch(std::mem::take(&mut batch))
                        .map_err(io_error)?;
                    let done = (entries + n) as u64;
                    super::progress::report(super::progress::Step::Rewrite, done, total);
                }
            }
            to.apply_batch(batch).map_err(io_error)?;
            entries += n;
            super::progress::report(super::progress::Step::Rewrite, entries as u64, total);
        }
        // History keys end in a sequence number from sled's id counter, and their
        // order rests on it: it goes on from where it was.
        let next = db.generate_id().map_err(io_error)?;
        while new.generate_id().map_err(io_error)? < next {}
        new.flush().map_err(io_error)?;
    }
    let keep = super::recover::keep_path(path);
    if keep.exists() {
        let to = super::recover::keep_path(&building);
        std::fs::copy(&keep, &to).map_err(|e| fs_error("copy", &keep, e))?;
    }
    wait_closed(&building)?;
    std::fs::rename(&building, &rebuilt).map_err(|e| fs_error("move", &building, e))?;
    drop(db);
    wait_closed(path)?;
    std::fs::rename(path, &old).map_err(|e| fs_error("move", path, e))?;
    std::fs::rename(&rebuilt, path).map_err(|e| fs_error("move", &rebuilt, e))?;
    if let Err(e) = std::fs::remove_dir_all(&old) {
        log::warn!("store: could not remove {}: {e}", old.display());
    }
    log::info!(
        "store: rewrote the database ({entries} entries) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
mod tests {
    use super::*;

    fn marked(dir: &Path, what: &str) -> PathBuf {
        let p = dir.join(what);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("mark"), what).unwrap();
        p
    }

    fn mark(path: &Path) -> String {
        std::fs::read_to_string(path.join("mark")).unwrap()
    }

    /// A failed rewrite drops an unfinished copy and keeps the database; a complete
    /// copy waits while the database may still be closing, and takes its place only
    /// when the database already moved aside.
    #[test]
    fn a_failed_rewrite_leaves_a_database_to_open() {
        let dir = tempfile::tempdir().unwrap();
        let db = marked(dir.path(), "db");
        marked(dir.path(), "db.rebuilding");
        after_failure(&db).unwrap();
        assert_eq!(mark(&db), "db");
        assert!(!dir.path().join("db.rebuilding").exists());

        marked(dir.path(), "db.rebuilt");
        after_failure(&db).unwrap();
        assert_eq!(mark(&db), "db", "not while the old one may be closing");
        assert!(dir.path().join("db.rebuilt").exists());

        std::fs::rename(&db, dir.path().join("db.old")).unwrap();
        after_failure(&db).unwrap();
        assert_eq!(mark(&db), "db.rebuilt");
        assert!(!dir.path().join("db.old").exists());
    }
}
