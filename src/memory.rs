//! Giving freed memory back to the system.
//!
//! A first sign-in's archive catch-up decodes, stores and shows thousands of messages
//! in a few seconds. glibc keeps what was freed afterwards in its heaps for reuse, so
//! the process stays as big as that burst made it. [`give_back_freed`] asks it to
//! return those pages; it is called once a catch-up has ended, on a blocking thread.

/// Returns freed heap memory to the system where the allocator can (glibc on Linux);
/// does nothing elsewhere, or with `LOQUAT_KEEP_FREED` set (the memory bench's
/// reference).
pub fn give_back_freed() {
    if std::env::var_os("LOQUAT_KEEP_FREED").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions; it takes the allocator's own locks.
    unsafe {
        libc::malloc_trim(0);
    }
}
