//! The crypto provider libomemo-c calls back into: randomness (the OS), HMAC-SHA-256,
//! SHA-512 and AES-CBC with PKCS#5 padding, all from RustCrypto crates. libomemo-c does the
//! curve work (X25519, XEdDSA) itself.

use super::ffi;
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};
use std::ffi::{c_int, c_void};

type HmacSha256 = Hmac<Sha256>;

/// The provider table; `user_data` is unused (all state lives in the contexts).
pub fn table() -> ffi::signal_crypto_provider {
    ffi::signal_crypto_provider {
        random_func: Some(random),
        hmac_sha256_init_func: Some(hmac_init),
        hmac_sha256_update_func: Some(hmac_update),
        hmac_sha256_final_func: Some(hmac_final),
        hmac_sha256_cleanup_func: Some(hmac_cleanup),
        sha512_digest_init_func: Some(sha512_init),
        sha512_digest_update_func: Some(sha512_update),
        sha512_digest_final_func: Some(sha512_final),
        sha512_digest_cleanup_func: Some(sha512_cleanup),
        encrypt_func: Some(encrypt),
        decrypt_func: Some(decrypt),
        user_data: std::ptr::null_mut(),
    }
}

/// Borrows `len` bytes at `data` (an empty slice for a null pointer or no bytes).
///
/// # Safety
/// `data` must be null or valid for reads of `len` bytes for the returned lifetime.
pub(super) unsafe fn slice<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if data.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: the caller promises `data` is readable for `len` bytes.
        unsafe { std::slice::from_raw_parts(data, len) }
    }
}

/// A new library-owned buffer holding `bytes`, or null when out of memory.
pub(super) fn buffer(bytes: &[u8]) -> *mut ffi::signal_buffer {
    // SAFETY: `bytes` is a valid slice; the library copies it into a buffer it owns.
    unsafe { ffi::signal_buffer_create(bytes.as_ptr(), bytes.len()) }
}

/// Puts `bytes` into `*output` as a new buffer; SG_ERR_NOMEM if that fails.
///
/// # Safety
/// `output` must be null or valid for a pointer write.
unsafe fn put(output: *mut *mut ffi::signal_buffer, bytes: &[u8]) -> c_int {
    if output.is_null() {
        return ffi::SG_ERR_INVAL;
    }
    let b = buffer(bytes);
    if b.is_null() {
        return ffi::SG_ERR_NOMEM;
    }
    // SAFETY: checked non-null above; the caller promises it is writable.
    unsafe { *output = b };
    ffi::SG_SUCCESS
}

unsafe extern "C" fn random(data: *mut u8, len: usize, _user: *mut c_void) -> c_int {
    if len == 0 {
        return ffi::SG_SUCCESS;
    }
    if data.is_null() {
        return ffi::SG_ERR_INVAL;
    }
    // SAFETY: the library passes a writable buffer of `len` bytes.
    let out = unsafe { std::slice::from_raw_parts_mut(data, len) };
    match getrandom::fill(out) {
        Ok(()) => ffi::SG_SUCCESS,
        Err(_) => ffi::SG_ERR_UNKNOWN,
    }
}

unsafe extern "C" fn hmac_init(
    ctx: *mut *mut c_void,
    key: *const u8,
    key_len: usize,
    _user: *mut c_void,
) -> c_int {
    if ctx.is_null() {
        return ffi::SG_ERR_INVAL;
    }
    // SAFETY: the library passes a key of `key_len` bytes.
    let key = unsafe { slice(key, key_len) };
    let Ok(mac) = HmacSha256::new_from_slice(key) else {
        return ffi::SG_ERR_INVAL;
    };
    // SAFETY: `ctx` is non-null and writable; hmac_cleanup takes the box back.
    unsafe { *ctx = Box::into_raw(Box::new(mac)).cast::<c_void>() };
    ffi::SG_SUCCESS
}

unsafe extern "C" fn hmac_update(
    ctx: *mut c_void,
    data: *const u8,
    len: usize,
    _user: *mut c_void,
) -> c_int {
    if ctx.is_null() {
        return ffi::SG_ERR_INVAL;
    }
    // SAFETY: `ctx` came from hmac_init and is not yet cleaned up; data is `len` bytes.
    let (mac, data) = unsafe { (&mut *ctx.cast::<HmacSha256>(), slice(data, len)) };
    mac.update(data);
    ffi::SG_SUCCESS
}

unsafe extern "C" fn hmac_final(
    ctx: *mut c_void,
    output: *mut *mut ffi::signal_buffer,
    _user: *mut c_void,
) -> c_int {
    if ctx.is_null() {
        return ffi::SG_ERR_INVAL;
    }
    // SAFETY: `ctx` came from hmac_init; finalizing a clone leaves it valid for cleanup.
    let mac = unsafe { &*ctx.cast::<HmacSha256>() }.clone();
    let tag = mac.finalize().into_bytes();
    // SAFETY: the library passes a writable output pointer.
    unsafe { put(output, &tag) }
}

unsafe extern "C" fn hmac_cleanup(ctx: *mut c_void, _user: *mut c_void) {
    if !ctx.is_null() {
        // SAFETY: `ctx` came from Box::into_raw in hmac_init and is cleaned up once.
        drop(unsafe { Box::from_raw(ctx.cast::<HmacSha256>()) });
    }
}

unsafe extern "C" fn sha512_init(ctx: *mut *mut c_void, _user: *mut c_void) -> c_int {
    if ctx.is_null() {
        return ffi::SG_ERR_INVAL;
    }
    // SAFETY: `ctx` is non-null and writable; sha512_cleanup takes the box back.
    unsafe { *ctx = Box::into_raw(Box::new(Sha512::new())).cast::<c_void>() };
    ffi::SG_SUCCESS
}

unsafe extern "C" fn sha512_update(
    ctx: *mut c_void,
    data: *const u8,
    len: usize,
    _user: *mut c_void,
) -> c_int {
    if ctx.is_null() {
        return ffi::SG_ERR_INVAL;
    }
    // SAFETY: `ctx` came from sha512_init; data is `len` bytes.
    let (hash, data) = unsafe { (&mut *ctx.cast::<Sha512>(), slice(data, len)) };
    hash.update(data);
    ffi::SG_SUCCESS
}

unsafe extern "C" fn sha512_final(
    ctx: *mut c_void,
    output: *mut *mut ffi::signal_buffer,
    _user: *mut c_void,
) -> c_int {
    if ctx.is_null() {
        return ffi::SG_ERR_INVAL;
    }
    // SAFETY: `ctx` came from sha512_init; the digest resets it for reuse, as the
    // library expects.
    let hash = unsafe { &mut *ctx.cast::<Sha512>() };
    let digest = hash.finalize_reset();
    // SAFETY: the library passes a writable output pointer.
    unsafe { put(output, &digest) }
}

unsafe extern "C" fn sha512_cleanup(ctx: *mut c_void, _user: *mut c_void) {
    if !ctx.is_null() {
        // SAFETY: `ctx` came from Box::into_raw in sha512_init and is cleaned up once.
        drop(unsafe { Box::from_raw(ctx.cast::<Sha512>()) });
    }
}

/// AES-CBC with PKCS#5 padding, the only cipher the 1:1 Signal session uses.
pub(super) fn cbc(encrypting: bool, key: &[u8], iv: &[u8], input: &[u8]) -> Option<Vec<u8>> {
    macro_rules! run {
        ($aes:ty) => {
            if encrypting {
                cbc::Encryptor::<$aes>::new_from_slices(key, iv)
                    .ok()
                    .map(|c| c.encrypt_padded_vec::<Pkcs7>(input))
            } else {
                cbc::Decryptor::<$aes>::new_from_slices(key, iv)
                    .ok()
                    .and_then(|c| c.decrypt_padded_vec::<Pkcs7>(input).ok())
            }
        };
    }
    match key.len() {
        16 => run!(aes::Aes128),
        24 => run!(aes::Aes192),
        32 => run!(aes::Aes256),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)] // the C signature
unsafe fn cipher(
    encrypting: bool,
    output: *mut *mut ffi::signal_buffer,
    kind: c_int,
    key: *const u8,
    key_len: usize,
    iv: *const u8,
    iv_len: usize,
    input: *const u8,
    input_len: usize,
) -> c_int {
    if kind != ffi::SG_CIPHER_AES_CBC_PKCS5 {
        // AES-CTR is used only by group sender keys, which OMEMO does not use.
        return ffi::SG_ERR_UNKNOWN;
    }
    // SAFETY: the library passes key, IV and input of the given lengths.
    let (key, iv, input) = unsafe {
        (
            slice(key, key_len),
            slice(iv, iv_len),
            slice(input, input_len),
        )
    };
    match cbc(encrypting, key, iv, input) {
        // SAFETY: the library passes a writable output pointer.
        Some(out) => unsafe { put(output, &out) },
        None => ffi::SG_ERR_UNKNOWN,
    }
}

unsafe extern "C" fn encrypt(
    output: *mut *mut ffi::signal_buffer,
    kind: c_int,
    key: *const u8,
    key_len: usize,
    iv: *const u8,
    iv_len: usize,
    input: *const u8,
    input_len: usize,
    _user: *mut c_void,
) -> c_int {
    // SAFETY: arguments passed through from the library unchanged.
    unsafe {
        cipher(
            true, output, kind, key, key_len, iv, iv_len, input, input_len,
        )
    }
}

unsafe extern "C" fn decrypt(
    output: *mut *mut ffi::signal_buffer,
    kind: c_int,
    key: *const u8,
    key_len: usize,
    iv: *const u8,
    iv_len: usize,
    input: *const u8,
    input_len: usize,
    _user: *mut c_void,
) -> c_int {
    // SAFETY: arguments passed through from the library unchanged.
    unsafe {
        cipher(
            false, output, kind, key, key_len, iv, iv_len, input, input_len,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbc_round_trips_and_rejects_bad_padding() {
        let key = [7u8; 32];
        let iv = [9u8; 16];
        let ct = cbc(true, &key, &iv, b"hello").unwrap();
        assert_eq!(ct.len(), 16);
        assert_eq!(cbc(false, &key, &iv, &ct).unwrap(), b"hello");
        let mut bad = ct.clone();
        bad[15] ^= 0xff;
        assert!(cbc(false, &key, &iv, &bad).is_none_or(|p| p != b"hello"));
        assert!(cbc(true, &[0u8; 5], &iv, b"x").is_none());
    }
}
