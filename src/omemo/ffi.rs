//! Hand-written declarations for the few libomemo-c functions Loquat calls (headers of
//! libomemo-c 0.5, `/usr/include/omemo`). No bindgen, so no libclang at build time. Every
//! type the library owns is opaque here; only the structs we fill in (callback tables, an
//! address) are laid out, field for field as in `signal_protocol.h` and
//! `signal_protocol_types.h`.

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void};

macro_rules! opaque {
    ($($name:ident),* $(,)?) => {
        $(#[repr(C)] pub struct $name { _private: [u8; 0] })*
    };
}

opaque!(
    signal_context,
    signal_protocol_store_context,
    signal_buffer,
    signal_int_list,
    signal_type_base,
    ratchet_identity_key_pair,
    ec_public_key,
    ec_private_key,
    ec_key_pair,
    session_pre_key,
    session_signed_pre_key,
    session_pre_key_bundle,
    session_builder,
    session_cipher,
    ciphertext_message,
    signal_message,
    pre_key_signal_message,
    signal_protocol_key_helper_pre_key_list_node,
);

pub const SG_SUCCESS: c_int = 0;
pub const SG_ERR_NOMEM: c_int = -12;
pub const SG_ERR_INVAL: c_int = -22;
pub const SG_ERR_UNKNOWN: c_int = -1000;
pub const SG_ERR_DUPLICATE_MESSAGE: c_int = -1001;
pub const SG_ERR_INVALID_KEY: c_int = -1002;
pub const SG_ERR_INVALID_KEY_ID: c_int = -1003;
pub const SG_ERR_INVALID_MAC: c_int = -1004;
pub const SG_ERR_INVALID_MESSAGE: c_int = -1005;
pub const SG_ERR_INVALID_VERSION: c_int = -1006;
pub const SG_ERR_LEGACY_MESSAGE: c_int = -1007;
pub const SG_ERR_NO_SESSION: c_int = -1008;
pub const SG_ERR_UNTRUSTED_IDENTITY: c_int = -1010;
pub const SG_ERR_VRF_SIG_VERIF_FAILED: c_int = -1011;
pub const SG_ERR_INVALID_PROTO_BUF: c_int = -1100;

pub const SG_CIPHER_AES_CBC_PKCS5: c_int = 2;

/// Message format version 3: the Signal protocol as OMEMO 0.3 uses it (4 is OMEMO 2).
pub const CIPHERTEXT_CURRENT_VERSION: u32 = 3;
/// Message format version 4: OMEMO 2's (its protobufs, HKDF info strings and 16-byte MAC).
pub const CIPHERTEXT_OMEMO_VERSION: u32 = 4;
pub const CIPHERTEXT_PREKEY_TYPE: c_int = 3;

#[repr(C)]
pub struct signal_protocol_address {
    pub name: *const c_char,
    pub name_len: usize,
    pub device_id: i32,
}

#[repr(C)]
pub struct signal_crypto_provider {
    pub random_func: Option<unsafe extern "C" fn(*mut u8, usize, *mut c_void) -> c_int>,
    pub hmac_sha256_init_func:
        Option<unsafe extern "C" fn(*mut *mut c_void, *const u8, usize, *mut c_void) -> c_int>,
    pub hmac_sha256_update_func:
        Option<unsafe extern "C" fn(*mut c_void, *const u8, usize, *mut c_void) -> c_int>,
    pub hmac_sha256_final_func:
        Option<unsafe extern "C" fn(*mut c_void, *mut *mut signal_buffer, *mut c_void) -> c_int>,
    pub hmac_sha256_cleanup_func: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    pub sha512_digest_init_func:
        Option<unsafe extern "C" fn(*mut *mut c_void, *mut c_void) -> c_int>,
    pub sha512_digest_update_func:
        Option<unsafe extern "C" fn(*mut c_void, *const u8, usize, *mut c_void) -> c_int>,
    pub sha512_digest_final_func:
        Option<unsafe extern "C" fn(*mut c_void, *mut *mut signal_buffer, *mut c_void) -> c_int>,
    pub sha512_digest_cleanup_func: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    pub encrypt_func: Option<CipherFn>,
    pub decrypt_func: Option<CipherFn>,
    pub user_data: *mut c_void,
}

pub type CipherFn = unsafe extern "C" fn(
    *mut *mut signal_buffer,
    c_int,
    *const u8,
    usize,
    *const u8,
    usize,
    *const u8,
    usize,
    *mut c_void,
) -> c_int;

#[repr(C)]
pub struct signal_protocol_session_store {
    pub load_session_func: Option<
        unsafe extern "C" fn(
            *mut *mut signal_buffer,
            *mut *mut signal_buffer,
            *const signal_protocol_address,
            *mut c_void,
        ) -> c_int,
    >,
    pub get_sub_device_sessions_func: Option<
        unsafe extern "C" fn(*mut *mut signal_int_list, *const c_char, usize, *mut c_void) -> c_int,
    >,
    pub store_session_func: Option<
        unsafe extern "C" fn(
            *const signal_protocol_address,
            *mut u8,
            usize,
            *mut u8,
            usize,
            *mut c_void,
        ) -> c_int,
    >,
    pub contains_session_func:
        Option<unsafe extern "C" fn(*const signal_protocol_address, *mut c_void) -> c_int>,
    pub delete_session_func:
        Option<unsafe extern "C" fn(*const signal_protocol_address, *mut c_void) -> c_int>,
    pub delete_all_sessions_func:
        Option<unsafe extern "C" fn(*const c_char, usize, *mut c_void) -> c_int>,
    pub destroy_func: Option<unsafe extern "C" fn(*mut c_void)>,
    pub user_data: *mut c_void,
}

/// The pre-key and the signed pre-key stores have the same shape.
#[repr(C)]
pub struct signal_protocol_pre_key_store {
    pub load: Option<unsafe extern "C" fn(*mut *mut signal_buffer, u32, *mut c_void) -> c_int>,
    pub store: Option<unsafe extern "C" fn(u32, *mut u8, usize, *mut c_void) -> c_int>,
    pub contains: Option<unsafe extern "C" fn(u32, *mut c_void) -> c_int>,
    pub remove: Option<unsafe extern "C" fn(u32, *mut c_void) -> c_int>,
    pub destroy_func: Option<unsafe extern "C" fn(*mut c_void)>,
    pub user_data: *mut c_void,
}

#[repr(C)]
pub struct signal_protocol_identity_key_store {
    pub get_identity_key_pair: Option<
        unsafe extern "C" fn(
            *mut *mut signal_buffer,
            *mut *mut signal_buffer,
            *mut c_void,
        ) -> c_int,
    >,
    pub get_local_registration_id: Option<unsafe extern "C" fn(*mut c_void, *mut u32) -> c_int>,
    pub save_identity: Option<
        unsafe extern "C" fn(*const signal_protocol_address, *mut u8, usize, *mut c_void) -> c_int,
    >,
    pub is_trusted_identity: Option<
        unsafe extern "C" fn(*const signal_protocol_address, *mut u8, usize, *mut c_void) -> c_int,
    >,
    pub destroy_func: Option<unsafe extern "C" fn(*mut c_void)>,
    pub user_data: *mut c_void,
}

unsafe extern "C" {
    pub fn signal_type_unref(instance: *mut signal_type_base);

    pub fn signal_buffer_create(data: *const u8, len: usize) -> *mut signal_buffer;
    pub fn signal_buffer_data(buffer: *mut signal_buffer) -> *mut u8;
    pub fn signal_buffer_len(buffer: *const signal_buffer) -> usize;
    pub fn signal_buffer_bzero_free(buffer: *mut signal_buffer);

    pub fn signal_int_list_alloc() -> *mut signal_int_list;
    pub fn signal_int_list_push_back(list: *mut signal_int_list, value: c_int) -> c_int;

    pub fn signal_context_create(
        context: *mut *mut signal_context,
        user_data: *mut c_void,
    ) -> c_int;
    pub fn signal_context_set_crypto_provider(
        context: *mut signal_context,
        crypto_provider: *const signal_crypto_provider,
    ) -> c_int;
    pub fn signal_context_destroy(context: *mut signal_context);

    pub fn signal_protocol_store_context_create(
        context: *mut *mut signal_protocol_store_context,
        global_context: *mut signal_context,
    ) -> c_int;
    pub fn signal_protocol_store_context_set_session_store(
        context: *mut signal_protocol_store_context,
        store: *const signal_protocol_session_store,
    ) -> c_int;
    pub fn signal_protocol_store_context_set_pre_key_store(
        context: *mut signal_protocol_store_context,
        store: *const signal_protocol_pre_key_store,
    ) -> c_int;
    pub fn signal_protocol_store_context_set_signed_pre_key_store(
        context: *mut signal_protocol_store_context,
        store: *const signal_protocol_pre_key_store,
    ) -> c_int;
    pub fn signal_protocol_store_context_set_identity_key_store(
        context: *mut signal_protocol_store_context,
        store: *const signal_protocol_identity_key_store,
    ) -> c_int;
    pub fn signal_protocol_store_context_destroy(context: *mut signal_protocol_store_context);

    pub fn signal_protocol_key_helper_generate_identity_key_pair(
        key_pair: *mut *mut ratchet_identity_key_pair,
        global_context: *mut signal_context,
    ) -> c_int;
    pub fn signal_protocol_key_helper_generate_registration_id(
        registration_id: *mut u32,
        extended_range: c_int,
        global_context: *mut signal_context,
    ) -> c_int;
    pub fn signal_protocol_key_helper_generate_pre_keys(
        head: *mut *mut signal_protocol_key_helper_pre_key_list_node,
        start: u32,
        count: u32,
        global_context: *mut signal_context,
    ) -> c_int;
    pub fn signal_protocol_key_helper_key_list_element(
        node: *const signal_protocol_key_helper_pre_key_list_node,
    ) -> *mut session_pre_key;
    pub fn signal_protocol_key_helper_key_list_next(
        node: *const signal_protocol_key_helper_pre_key_list_node,
    ) -> *mut signal_protocol_key_helper_pre_key_list_node;
    pub fn signal_protocol_key_helper_key_list_free(
        head: *mut signal_protocol_key_helper_pre_key_list_node,
    );
    pub fn signal_protocol_key_helper_generate_signed_pre_key(
        signed_pre_key: *mut *mut session_signed_pre_key,
        identity_key_pair: *const ratchet_identity_key_pair,
        signed_pre_key_id: u32,
        timestamp: u64,
        global_context: *mut signal_context,
    ) -> c_int;

    pub fn ratchet_identity_key_pair_get_public(
        key_pair: *const ratchet_identity_key_pair,
    ) -> *mut ec_public_key;
    pub fn ratchet_identity_key_pair_get_private(
        key_pair: *const ratchet_identity_key_pair,
    ) -> *mut ec_private_key;

    pub fn curve_decode_point(
        public_key: *mut *mut ec_public_key,
        key_data: *const u8,
        key_len: usize,
        global_context: *mut signal_context,
    ) -> c_int;
    pub fn ec_public_key_serialize(
        buffer: *mut *mut signal_buffer,
        key: *const ec_public_key,
    ) -> c_int;
    pub fn ec_private_key_serialize(
        buffer: *mut *mut signal_buffer,
        key: *const ec_private_key,
    ) -> c_int;
    pub fn ec_key_pair_get_public(key_pair: *const ec_key_pair) -> *mut ec_public_key;
    /// A new buffer (freed by the caller) with the key's Ed25519 form, 32 bytes.
    pub fn ec_public_key_get_ed(key: *const ec_public_key) -> *mut signal_buffer;
    pub fn curve_decode_point_mont(
        public_key: *mut *mut ec_public_key,
        key_data: *const u8,
        key_len: usize,
        global_context: *mut signal_context,
    ) -> c_int;
    pub fn curve_decode_point_ed(
        public_key: *mut *mut ec_public_key,
        key_data: *const u8,
        key_len: usize,
        global_context: *mut signal_context,
    ) -> c_int;
    pub fn session_signed_pre_key_get_signature_omemo(
        pre_key: *const session_signed_pre_key,
    ) -> *const u8;
    pub fn session_signed_pre_key_get_signature_omemo_len(
        pre_key: *const session_signed_pre_key,
    ) -> usize;
    pub fn signal_message_deserialize_omemo(
        message: *mut *mut signal_message,
        data: *const u8,
        len: usize,
        global_context: *mut signal_context,
    ) -> c_int;
    pub fn pre_key_signal_message_deserialize_omemo(
        message: *mut *mut pre_key_signal_message,
        data: *const u8,
        len: usize,
        registration_id: u32,
        global_context: *mut signal_context,
    ) -> c_int;

    pub fn session_pre_key_serialize(
        buffer: *mut *mut signal_buffer,
        pre_key: *const session_pre_key,
    ) -> c_int;
    pub fn session_pre_key_deserialize(
        pre_key: *mut *mut session_pre_key,
        data: *const u8,
        len: usize,
        global_context: *mut signal_context,
    ) -> c_int;
    pub fn session_pre_key_get_id(pre_key: *const session_pre_key) -> u32;
    pub fn session_pre_key_get_key_pair(pre_key: *const session_pre_key) -> *mut ec_key_pair;

    pub fn session_signed_pre_key_serialize(
        buffer: *mut *mut signal_buffer,
        pre_key: *const session_signed_pre_key,
    ) -> c_int;
    pub fn session_signed_pre_key_deserialize(
        pre_key: *mut *mut session_signed_pre_key,
        data: *const u8,
        len: usize,
        global_context: *mut signal_context,
    ) -> c_int;
    pub fn session_signed_pre_key_get_key_pair(
        pre_key: *const session_signed_pre_key,
    ) -> *mut ec_key_pair;
    pub fn session_signed_pre_key_get_signature(
        pre_key: *const session_signed_pre_key,
    ) -> *const u8;
    pub fn session_signed_pre_key_get_signature_len(
        pre_key: *const session_signed_pre_key,
    ) -> usize;

    pub fn session_pre_key_bundle_create(
        bundle: *mut *mut session_pre_key_bundle,
        registration_id: u32,
        device_id: c_int,
        pre_key_id: u32,
        pre_key_public: *mut ec_public_key,
        signed_pre_key_id: u32,
        signed_pre_key_public: *mut ec_public_key,
        signed_pre_key_signature_data: *const u8,
        signed_pre_key_signature_len: usize,
        identity_key: *mut ec_public_key,
    ) -> c_int;

    pub fn session_builder_create(
        builder: *mut *mut session_builder,
        store: *mut signal_protocol_store_context,
        remote_address: *const signal_protocol_address,
        global_context: *mut signal_context,
    ) -> c_int;
    pub fn session_builder_set_version(builder: *mut session_builder, version: u32);
    pub fn session_builder_process_pre_key_bundle(
        builder: *mut session_builder,
        bundle: *mut session_pre_key_bundle,
    ) -> c_int;
    pub fn session_builder_free(builder: *mut session_builder);

    pub fn session_cipher_create(
        cipher: *mut *mut session_cipher,
        store: *mut signal_protocol_store_context,
        remote_address: *const signal_protocol_address,
        global_context: *mut signal_context,
    ) -> c_int;
    pub fn session_cipher_set_version(cipher: *mut session_cipher, version: u32);
    pub fn session_cipher_encrypt(
        cipher: *mut session_cipher,
        padded_message: *const u8,
        padded_message_len: usize,
        encrypted_message: *mut *mut ciphertext_message,
    ) -> c_int;
    pub fn session_cipher_decrypt_pre_key_signal_message(
        cipher: *mut session_cipher,
        ciphertext: *mut pre_key_signal_message,
        decrypt_context: *mut c_void,
        plaintext: *mut *mut signal_buffer,
    ) -> c_int;
    pub fn session_cipher_decrypt_signal_message(
        cipher: *mut session_cipher,
        ciphertext: *mut signal_message,
        decrypt_context: *mut c_void,
        plaintext: *mut *mut signal_buffer,
    ) -> c_int;
    pub fn session_cipher_free(cipher: *mut session_cipher);

    pub fn ciphertext_message_get_type(message: *const ciphertext_message) -> c_int;
    pub fn ciphertext_message_get_serialized(
        message: *const ciphertext_message,
    ) -> *mut signal_buffer;

    pub fn signal_message_deserialize(
        message: *mut *mut signal_message,
        data: *const u8,
        len: usize,
        global_context: *mut signal_context,
    ) -> c_int;
    pub fn pre_key_signal_message_deserialize(
        message: *mut *mut pre_key_signal_message,
        data: *const u8,
        len: usize,
        global_context: *mut signal_context,
    ) -> c_int;
}
