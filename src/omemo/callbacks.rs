//! The store callbacks libomemo-c calls: each reads or writes the [`OmemoStore`] behind
//! `user_data` (a [`Shared`]). A store failure is kept in `Shared::error` and the library
//! gets a negative code; nothing unwinds across the C boundary.

use super::ffi;
use super::provider::{buffer, slice};
use super::store::{OmemoStore, OwnIdentity, StoreError};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void};

/// What the callbacks reach through `user_data`. Only shared references to it exist
/// while the library runs; the RefCells are borrowed for the length of one callback.
pub struct Shared {
    pub store: RefCell<Box<dyn OmemoStore + Send>>,
    pub error: RefCell<Option<StoreError>>,
    pub identity: OwnIdentity,
}

impl Shared {
    fn fail(&self, e: StoreError) -> c_int {
        if let Ok(mut slot) = self.error.try_borrow_mut() {
            *slot = Some(e);
        }
        ffi::SG_ERR_UNKNOWN
    }

    /// Runs `f` on the store, turning a store error (or a re-entrant borrow, which the
    /// library never does) into a negative code.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut dyn OmemoStore) -> Result<T, StoreError>,
    ) -> Result<T, c_int> {
        let Ok(mut store) = self.store.try_borrow_mut() else {
            return Err(ffi::SG_ERR_UNKNOWN);
        };
        f(store.as_mut()).map_err(|e| self.fail(e))
    }
}

/// # Safety
/// `user_data` must be the `Shared` pointer given to the store tables, alive for the call.
unsafe fn shared<'a>(user_data: *mut c_void) -> Option<&'a Shared> {
    // SAFETY: the caller promises user_data is null or our live Shared.
    unsafe { user_data.cast::<Shared>().as_ref() }
}

/// The address's bare JID and device id.
///
/// # Safety
/// `address` must be null or a valid address whose name is `name_len` readable bytes.
unsafe fn address(address: *const ffi::signal_protocol_address) -> Option<(String, u32)> {
    // SAFETY: the caller promises validity.
    let a = unsafe { address.as_ref() }?;
    // SAFETY: as promised, the name is name_len readable bytes.
    let name = unsafe { slice(a.name.cast::<u8>(), a.name_len) };
    let jid = std::str::from_utf8(name).ok()?.to_owned();
    Some((jid, u32::try_from(a.device_id).ok()?))
}

/// The address's bare JID and device id for the identity store: an OMEMO 2 session's
/// address carries [`super::v2::SESSION_PREFIX`] (its sessions are kept apart from 0.3
/// ones), but a device has one identity key whichever version it speaks.
///
/// # Safety
/// As for [`address`].
unsafe fn identity_address(addr: *const ffi::signal_protocol_address) -> Option<(String, u32)> {
    // SAFETY: the caller promises validity.
    let (jid, dev) = unsafe { address(addr) }?;
    match jid.strip_prefix(super::v2::SESSION_PREFIX) {
        Some(bare) => Some((bare.to_owned(), dev)),
        None => Some((jid, dev)),
    }
}

/// # Safety
/// `name` must be null or `len` readable bytes.
unsafe fn name(name: *const c_char, len: usize) -> Option<String> {
    // SAFETY: the caller promises validity.
    let bytes = unsafe { slice(name.cast::<u8>(), len) };
    std::str::from_utf8(bytes).ok().map(str::to_owned)
}

/// Writes a new buffer with `bytes` to `*out`.
///
/// # Safety
/// `out` must be null or writable.
unsafe fn give(out: *mut *mut ffi::signal_buffer, bytes: &[u8]) -> c_int {
    if out.is_null() {
        return ffi::SG_ERR_INVAL;
    }
    let b = buffer(bytes);
    if b.is_null() {
        return ffi::SG_ERR_NOMEM;
    }
    // SAFETY: non-null and writable as promised.
    unsafe { *out = b };
    ffi::SG_SUCCESS
}

fn code<T>(r: Result<T, c_int>, ok: impl FnOnce(T) -> c_int) -> c_int {
    match r {
        Ok(v) => ok(v),
        Err(c) => c,
    }
}

// Sessions.

pub unsafe extern "C" fn load_session(
    record: *mut *mut ffi::signal_buffer,
    user_record: *mut *mut ffi::signal_buffer,
    addr: *const ffi::signal_protocol_address,
    user_data: *mut c_void,
) -> c_int {
    // SAFETY: pointers as passed by the library to this callback.
    let (Some(s), Some((jid, dev))) = (unsafe { shared(user_data) }, unsafe { address(addr) })
    else {
        return ffi::SG_ERR_INVAL;
    };
    if !user_record.is_null() {
        // SAFETY: non-null out pointer from the library; we keep no user record.
        unsafe { *user_record = std::ptr::null_mut() };
    }
    code(s.with(|st| st.session(&jid, dev)), |r| match r {
        // SAFETY: `record` is the library's out pointer.
        Some(bytes) => match unsafe { give(record, &bytes) } {
            ffi::SG_SUCCESS => 1,
            e => e,
        },
        None => 0,
    })
}

pub unsafe extern "C" fn sub_device_sessions(
    sessions: *mut *mut ffi::signal_int_list,
    name_ptr: *const c_char,
    name_len: usize,
    user_data: *mut c_void,
) -> c_int {
    // SAFETY: pointers as passed by the library to this callback.
    let (Some(s), Some(jid)) = (unsafe { shared(user_data) }, unsafe {
        name(name_ptr, name_len)
    }) else {
        return ffi::SG_ERR_INVAL;
    };
    if sessions.is_null() {
        return ffi::SG_ERR_INVAL;
    }
    code(s.with(|st| st.session_devices(&jid)), |devices| {
        // SAFETY: plain allocation; the library owns and frees the list.
        let list = unsafe { ffi::signal_int_list_alloc() };
        if list.is_null() {
            return ffi::SG_ERR_NOMEM;
        }
        let mut n: c_int = 0;
        for d in devices {
            let Ok(d) = c_int::try_from(d) else { continue };
            // SAFETY: `list` is the list allocated above.
            if unsafe { ffi::signal_int_list_push_back(list, d) } < 0 {
                break;
            }
            n += 1;
        }
        // SAFETY: non-null out pointer checked above.
        unsafe { *sessions = list };
        n
    })
}

pub unsafe extern "C" fn store_session(
    addr: *const ffi::signal_protocol_address,
    record: *mut u8,
    record_len: usize,
    _user_record: *mut u8,
    _user_record_len: usize,
    user_data: *mut c_void,
) -> c_int {
    // SAFETY: pointers as passed by the library to this callback.
    let (Some(s), Some((jid, dev))) = (unsafe { shared(user_data) }, unsafe { address(addr) })
    else {
        return ffi::SG_ERR_INVAL;
    };
    // SAFETY: the record is record_len readable bytes.
    let record = unsafe { slice(record, record_len) };
    code(s.with(|st| st.set_session(&jid, dev, record)), |()| {
        ffi::SG_SUCCESS
    })
}

pub unsafe extern "C" fn contains_session(
    addr: *const ffi::signal_protocol_address,
    user_data: *mut c_void,
) -> c_int {
    // SAFETY: pointers as passed by the library to this callback.
    let (Some(s), Some((jid, dev))) = (unsafe { shared(user_data) }, unsafe { address(addr) })
    else {
        return 0;
    };
    code(s.with(|st| st.session(&jid, dev)), |r| {
        c_int::from(r.is_some())
    })
}

pub unsafe extern "C" fn delete_session(
    addr: *const ffi::signal_protocol_address,
    user_data: *mut c_void,
) -> c_int {
    // SAFETY: pointers as passed by the library to this callback.
    let (Some(s), Some((jid, dev))) = (unsafe { shared(user_data) }, unsafe { address(addr) })
    else {
        return ffi::SG_ERR_INVAL;
    };
    code(s.with(|st| st.remove_session(&jid, dev)), c_int::from)
}

pub unsafe extern "C" fn delete_all_sessions(
    name_ptr: *const c_char,
    name_len: usize,
    user_data: *mut c_void,
) -> c_int {
    // SAFETY: pointers as passed by the library to this callback.
    let (Some(s), Some(jid)) = (unsafe { shared(user_data) }, unsafe {
        name(name_ptr, name_len)
    }) else {
        return ffi::SG_ERR_INVAL;
    };
    let r = s.with(|st| {
        let mut n = 0;
        for d in st.session_devices(&jid)? {
            n += c_int::from(st.remove_session(&jid, d)?);
        }
        Ok(n)
    });
    code(r, |n| n)
}

// Pre-keys and signed pre-keys.

macro_rules! key_store {
    ($load:ident, $store:ident, $contains:ident, $remove:ident, $get:ident, $set:ident, $del:ident) => {
        pub unsafe extern "C" fn $load(
            record: *mut *mut ffi::signal_buffer,
            id: u32,
            user_data: *mut c_void,
        ) -> c_int {
            // SAFETY: user_data as given to the store table.
            let Some(s) = (unsafe { shared(user_data) }) else {
                return ffi::SG_ERR_INVAL;
            };
            code(s.with(|st| st.$get(id)), |r| match r {
                // SAFETY: `record` is the library's out pointer.
                Some(bytes) => unsafe { give(record, &bytes) },
                None => ffi::SG_ERR_INVALID_KEY_ID,
            })
        }

        pub unsafe extern "C" fn $store(
            id: u32,
            record: *mut u8,
            record_len: usize,
            user_data: *mut c_void,
        ) -> c_int {
            // SAFETY: user_data as given to the store table.
            let Some(s) = (unsafe { shared(user_data) }) else {
                return ffi::SG_ERR_INVAL;
            };
            // SAFETY: the record is record_len readable bytes.
            let record = unsafe { slice(record, record_len) };
            code(s.with(|st| st.$set(id, record)), |()| ffi::SG_SUCCESS)
        }

        pub unsafe extern "C" fn $contains(id: u32, user_data: *mut c_void) -> c_int {
            // SAFETY: user_data as given to the store table.
            let Some(s) = (unsafe { shared(user_data) }) else {
                return 0;
            };
            code(s.with(|st| st.$get(id)), |r| c_int::from(r.is_some()))
        }

        pub unsafe extern "C" fn $remove(id: u32, user_data: *mut c_void) -> c_int {
            // SAFETY: user_data as given to the store table.
            let Some(s) = (unsafe { shared(user_data) }) else {
                return ffi::SG_ERR_INVAL;
            };
            code(s.with(|st| st.$del(id)), |()| ffi::SG_SUCCESS)
        }
    };
}

key_store!(
    load_pre_key,
    store_pre_key,
    contains_pre_key,
    remove_pre_key,
    pre_key,
    set_pre_key,
    remove_pre_key
);
key_store!(
    load_signed_pre_key,
    store_signed_pre_key,
    contains_signed_pre_key,
    remove_signed_pre_key,
    signed_pre_key,
    set_signed_pre_key,
    remove_signed_pre_key
);

// Identities.

pub unsafe extern "C" fn identity_key_pair(
    public: *mut *mut ffi::signal_buffer,
    private: *mut *mut ffi::signal_buffer,
    user_data: *mut c_void,
) -> c_int {
    // SAFETY: user_data as given to the store table.
    let Some(s) = (unsafe { shared(user_data) }) else {
        return ffi::SG_ERR_INVAL;
    };
    // SAFETY: out pointers from the library.
    let r = unsafe { give(public, &s.identity.public) };
    if r != ffi::SG_SUCCESS {
        return r;
    }
    // SAFETY: out pointers from the library.
    unsafe { give(private, &s.identity.private) }
}

pub unsafe extern "C" fn local_registration_id(user_data: *mut c_void, id: *mut u32) -> c_int {
    // SAFETY: user_data as given to the store table; `id` is the library's out pointer.
    match (unsafe { shared(user_data) }, unsafe { id.as_mut() }) {
        (Some(s), Some(out)) => {
            *out = s.identity.registration_id;
            ffi::SG_SUCCESS
        }
        _ => ffi::SG_ERR_INVAL,
    }
}

pub unsafe extern "C" fn save_identity(
    addr: *const ffi::signal_protocol_address,
    key: *mut u8,
    key_len: usize,
    user_data: *mut c_void,
) -> c_int {
    // SAFETY: pointers as passed by the library to this callback.
    let (Some(s), Some((jid, dev))) = (unsafe { shared(user_data) }, unsafe {
        identity_address(addr)
    }) else {
        return ffi::SG_ERR_INVAL;
    };
    if key.is_null() {
        // "Forget this identity": phase 1 keeps what it saw (trust is not decided here).
        return ffi::SG_SUCCESS;
    }
    // SAFETY: the key is key_len readable bytes.
    let key = unsafe { slice(key, key_len) };
    code(s.with(|st| st.set_remote_identity(&jid, dev, key)), |()| {
        ffi::SG_SUCCESS
    })
}

/// Blind trust before verification, as Conversations does: a device is trusted with the
/// first identity key it shows; a different key later for the same device is not, and is
/// recorded as its changed key for the person to accept (`Omemo::accept_changed_identity`).
pub unsafe extern "C" fn is_trusted_identity(
    addr: *const ffi::signal_protocol_address,
    key: *mut u8,
    key_len: usize,
    user_data: *mut c_void,
) -> c_int {
    // SAFETY: pointers as passed by the library to this callback.
    let (Some(s), Some((jid, dev))) = (unsafe { shared(user_data) }, unsafe {
        identity_address(addr)
    }) else {
        return ffi::SG_ERR_INVAL;
    };
    // SAFETY: the key is key_len readable bytes.
    let key = unsafe { slice(key, key_len) };
    code(
        s.with(|st| {
            let known = st.remote_identity(&jid, dev)?;
            let decision = super::store::trust(known.as_deref(), key);
            if decision == super::store::Trust::Changed {
                st.set_changed_identity(&jid, dev, Some(key))?;
            }
            Ok(decision)
        }),
        |decision| c_int::from(decision != super::store::Trust::Changed),
    )
}
