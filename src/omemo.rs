//! OMEMO 0.3 (`eu.siacs.conversations.axolotl`, XEP-0384 as Conversations, Dino, Gajim and
//! Monal speak it): this device's keys, sessions with other devices, and encrypting and
//! decrypting message bodies. The Signal protocol (X3DH, Double Ratchet, XEdDSA) is
//! libomemo-c's, reached through the hand-written declarations in [`ffi`]; hashing,
//! randomness and AES are RustCrypto's ([`provider`]). See `docs/omemo.md` for why.
//!
//! The interface is [`Omemo`]: open it on an [`OmemoStore`], publish [`Omemo::bundle`],
//! [`Omemo::build_session`] from a peer's bundle, [`Omemo::encrypt`] and
//! [`Omemo::decrypt`]. XML in and out is in [`xml`]. Errors are values; nothing here
//! panics. Not yet wired into the session actor or the UI (issue #17, phase 2).

mod callbacks;
mod ffi;
mod payload;
mod provider;
pub mod sealed;
pub mod store;
mod trust;
pub mod v2;
pub mod xml;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{AesGcm, aes::Aes128};
use callbacks::Shared;
pub use sealed::AtRestKey;
use std::cell::RefCell;
use std::ffi::c_int;
pub use store::{MemoryStore, OmemoStore, OwnIdentity, SledStore, StoreError, Trust, trust};
use xml::{Bundle, Encrypted, KeyEntry};
use xmpp_parsers::minidom::Element;

/// Pre-keys a device keeps published.
pub const PRE_KEYS: u32 = 100;
/// The signed pre-key id of a new device.
const SIGNED_PRE_KEY_ID: u32 = 1;
/// The largest pre-key id libomemo-c hands out before wrapping (its `PRE_KEY_MEDIUM_MAX_VALUE`).
const PRE_KEY_MAX_ID: u32 = 0xFF_FFFE;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OmemoError {
    #[error("{0}")]
    Store(String),
    #[error("the OMEMO library failed to {what} (code {code})")]
    Library { what: &'static str, code: i32 },
    #[error("no session with device {device} of {jid}")]
    NoSession { jid: String, device: u32 },
    #[error("the message is not encrypted for this device")]
    NotForUs,
    /// The key element does not authenticate against our session with the sender
    /// (altered in transit, or from a session we no longer have).
    #[error("bad MAC: the key element was altered or is not for our session")]
    BadMac,
    #[error("the message was altered (its authentication tag does not match)")]
    BadTag,
    #[error("the pre-key it names is unknown (already used or never ours)")]
    UnknownPreKey,
    #[error("a message already decrypted")]
    Duplicate,
    #[error("the device's identity key changed")]
    UntrustedIdentity,
    #[error("bad bundle: {0}")]
    BadBundle(&'static str),
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    /// An OMEMO 2 envelope naming another sender than the one it came from.
    #[error("the encrypted message names another sender")]
    WrongSender,
    #[error("no device to encrypt for")]
    NoRecipients,
    /// A room message whose sender's real address the room did not give.
    #[error("the room did not say who sent it")]
    UnknownSender,
    #[error("{0}")]
    Xml(#[from] xml::XmlError),
}

impl From<StoreError> for OmemoError {
    fn from(e: StoreError) -> Self {
        OmemoError::Store(e.0)
    }
}

/// A decrypted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// None for a key transport message (no payload: it only moved the ratchet).
    pub body: Option<String>,
    /// The sending device.
    pub device: u32,
    /// It was a pre-key message: it started a new session, and used up one of our
    /// pre-keys (see [`Omemo::refill_pre_keys`], then publish the bundle again).
    pub prekey: bool,
}

/// An encrypted message ready to send, and the devices left out with why.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub element: Element,
    pub skipped: Vec<(String, u32, OmemoError)>,
}

/// A library object released with `signal_type_unref` when dropped.
struct Obj<T>(*mut T);

impl<T> Obj<T> {
    fn null() -> Self {
        Obj(std::ptr::null_mut())
    }
}

impl<T> Drop for Obj<T> {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: every Obj holds one reference to a signal_type_base-derived object
            // the library gave us; releasing it once is what the library expects.
            unsafe { ffi::signal_type_unref(self.0.cast::<ffi::signal_type_base>()) };
        }
    }
}

/// A library buffer, wiped and freed when dropped.
struct Buf(*mut ffi::signal_buffer);

impl Buf {
    fn bytes(&self) -> &[u8] {
        if self.0.is_null() {
            return &[];
        }
        // SAFETY: a non-null buffer from the library; data and len describe its bytes,
        // alive as long as self.
        unsafe {
            provider::slice(
                ffi::signal_buffer_data(self.0),
                ffi::signal_buffer_len(self.0),
            )
        }
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: we own this buffer and free it once.
            unsafe { ffi::signal_buffer_bzero_free(self.0) };
        }
    }
}

/// The library's error code as an error value.
fn lib(what: &'static str, code: c_int) -> OmemoError {
    match code {
        ffi::SG_ERR_INVALID_MAC => OmemoError::BadMac,
        ffi::SG_ERR_NO_SESSION => OmemoError::NoSession {
            jid: String::new(),
            device: 0,
        },
        ffi::SG_ERR_INVALID_KEY_ID => OmemoError::UnknownPreKey,
        ffi::SG_ERR_DUPLICATE_MESSAGE => OmemoError::Duplicate,
        ffi::SG_ERR_UNTRUSTED_IDENTITY => OmemoError::UntrustedIdentity,
        ffi::SG_ERR_INVALID_MESSAGE
        | ffi::SG_ERR_INVALID_PROTO_BUF
        | ffi::SG_ERR_INVALID_VERSION
        | ffi::SG_ERR_LEGACY_MESSAGE => OmemoError::Malformed(what),
        ffi::SG_ERR_INVALID_KEY | ffi::SG_ERR_VRF_SIG_VERIF_FAILED => OmemoError::BadBundle(what),
        _ => OmemoError::Library { what, code },
    }
}

fn random<const N: usize>() -> Result<[u8; N], OmemoError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| OmemoError::Library {
        what: "get random bytes",
        code: ffi::SG_ERR_UNKNOWN,
    })?;
    Ok(b)
}

/// A signal address for `jid`'s `device`; `jid` must outlive every use of it.
fn address(jid: &str, device: u32) -> Result<ffi::signal_protocol_address, OmemoError> {
    Ok(ffi::signal_protocol_address {
        name: jid.as_ptr().cast(),
        name_len: jid.len(),
        device_id: i32::try_from(device).map_err(|_| OmemoError::Malformed("device id"))?,
    })
}

/// This device's OMEMO state: the library contexts over a store.
pub struct Omemo {
    ctx: *mut ffi::signal_context,
    store_ctx: *mut ffi::signal_protocol_store_context,
    shared: Box<Shared>,
}

// SAFETY: the library keeps no thread-local or global state; its contexts are used only
// through `&mut self` (never from two threads at once), and the store is `Send`.
unsafe impl Send for Omemo {}

impl Drop for Omemo {
    fn drop(&mut self) {
        // SAFETY: both were created in `open` and are destroyed once, the store context
        // (which refers to the global one) first. Our store tables have no destroy_func.
        unsafe {
            if !self.store_ctx.is_null() {
                ffi::signal_protocol_store_context_destroy(self.store_ctx);
            }
            if !self.ctx.is_null() {
                ffi::signal_context_destroy(self.ctx);
            }
        }
    }
}

/// The global context with our crypto provider, destroyed on drop unless taken.
struct Ctx(*mut ffi::signal_context);

impl Ctx {
    fn new() -> Result<Ctx, OmemoError> {
        let mut ctx = Ctx(std::ptr::null_mut());
        // SAFETY: out pointer to a local; user_data unused.
        let r = unsafe { ffi::signal_context_create(&mut ctx.0, std::ptr::null_mut()) };
        if r < 0 || ctx.0.is_null() {
            return Err(lib("create its context", r));
        }
        let table = provider::table();
        // SAFETY: the library copies the table into the context.
        let r = unsafe { ffi::signal_context_set_crypto_provider(ctx.0, &table) };
        if r < 0 {
            return Err(lib("set the crypto provider", r));
        }
        Ok(ctx)
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: created in Ctx::new, not handed on (take() nulls it).
            unsafe { ffi::signal_context_destroy(self.0) };
        }
    }
}

impl Omemo {
    /// Opens this device's OMEMO state in `store`, creating the identity (identity key
    /// pair, device id, signed pre-key and [`PRE_KEYS`] pre-keys) on first use.
    pub fn open(store: impl OmemoStore + Send + 'static) -> Result<Omemo, OmemoError> {
        let mut store: Box<dyn OmemoStore + Send> = Box::new(store);
        let mut ctx = Ctx::new()?;
        let identity = match store.identity()? {
            Some(id) => id,
            None => {
                let id = Self::generate(ctx.0, store.as_mut())?;
                store.flush()?;
                id
            }
        };
        let shared = Box::new(Shared {
            store: RefCell::new(store),
            error: RefCell::new(None),
            identity,
        });
        let mut store_ctx = std::ptr::null_mut();
        // SAFETY: ctx is live; out pointer to a local.
        let r = unsafe { ffi::signal_protocol_store_context_create(&mut store_ctx, ctx.0) };
        if r < 0 || store_ctx.is_null() {
            return Err(lib("create its store context", r));
        }
        let omemo = Omemo {
            ctx: std::mem::replace(&mut ctx.0, std::ptr::null_mut()),
            store_ctx,
            shared,
        };
        omemo.install_stores()?;
        Ok(omemo)
    }

    fn install_stores(&self) -> Result<(), OmemoError> {
        let user = std::ptr::from_ref::<Shared>(&self.shared).cast_mut().cast();
        let sessions = ffi::signal_protocol_session_store {
            load_session_func: Some(callbacks::load_session),
            get_sub_device_sessions_func: Some(callbacks::sub_device_sessions),
            store_session_func: Some(callbacks::store_session),
            contains_session_func: Some(callbacks::contains_session),
            delete_session_func: Some(callbacks::delete_session),
            delete_all_sessions_func: Some(callbacks::delete_all_sessions),
            destroy_func: None,
            user_data: user,
        };
        let pre_keys = ffi::signal_protocol_pre_key_store {
            load: Some(callbacks::load_pre_key),
            store: Some(callbacks::store_pre_key),
            contains: Some(callbacks::contains_pre_key),
            remove: Some(callbacks::remove_pre_key),
            destroy_func: None,
            user_data: user,
        };
        let signed = ffi::signal_protocol_pre_key_store {
            load: Some(callbacks::load_signed_pre_key),
            store: Some(callbacks::store_signed_pre_key),
            contains: Some(callbacks::contains_signed_pre_key),
            remove: Some(callbacks::remove_signed_pre_key),
            destroy_func: None,
            user_data: user,
        };
        let identity = ffi::signal_protocol_identity_key_store {
            get_identity_key_pair: Some(callbacks::identity_key_pair),
            get_local_registration_id: Some(callbacks::local_registration_id),
            save_identity: Some(callbacks::save_identity),
            is_trusted_identity: Some(callbacks::is_trusted_identity),
            destroy_func: None,
            user_data: user,
        };
        // SAFETY: the store context is live; the library copies each table, and their
        // user_data (the boxed Shared) lives as long as the store context (both in self).
        let codes = unsafe {
            [
                ffi::signal_protocol_store_context_set_session_store(self.store_ctx, &sessions),
                ffi::signal_protocol_store_context_set_pre_key_store(self.store_ctx, &pre_keys),
                ffi::signal_protocol_store_context_set_signed_pre_key_store(
                    self.store_ctx,
                    &signed,
                ),
                ffi::signal_protocol_store_context_set_identity_key_store(
                    self.store_ctx,
                    &identity,
                ),
            ]
        };
        match codes.into_iter().find(|c| *c < 0) {
            Some(c) => Err(lib("set up its stores", c)),
            None => Ok(()),
        }
    }

    /// A new identity, its signed pre-key and pre-keys, written to `store`.
    fn generate(
        ctx: *mut ffi::signal_context,
        store: &mut dyn OmemoStore,
    ) -> Result<OwnIdentity, OmemoError> {
        let mut pair = Obj::<ffi::ratchet_identity_key_pair>::null();
        // SAFETY: ctx is live; out pointer to a local we release.
        let r =
            unsafe { ffi::signal_protocol_key_helper_generate_identity_key_pair(&mut pair.0, ctx) };
        if r < 0 || pair.0.is_null() {
            return Err(lib("generate the identity key", r));
        }
        let (mut public, mut private) = (Buf(std::ptr::null_mut()), Buf(std::ptr::null_mut()));
        // SAFETY: pair is live; the getters borrow its keys, serialised into new buffers.
        let (a, b) = unsafe {
            (
                ffi::ec_public_key_serialize(
                    &mut public.0,
                    ffi::ratchet_identity_key_pair_get_public(pair.0),
                ),
                ffi::ec_private_key_serialize(
                    &mut private.0,
                    ffi::ratchet_identity_key_pair_get_private(pair.0),
                ),
            )
        };
        if a < 0 || b < 0 {
            return Err(lib("serialise the identity key", a.min(b)));
        }
        let mut registration_id = 0u32;
        // SAFETY: ctx is live; out pointer to a local. Extended range: 1..2^31-1.
        let r = unsafe {
            ffi::signal_protocol_key_helper_generate_registration_id(&mut registration_id, 1, ctx)
        };
        if r < 0 || registration_id == 0 {
            return Err(lib("generate the device id", r));
        }
        let identity = OwnIdentity {
            device_id: registration_id,
            registration_id,
            public: public.bytes().to_vec(),
            private: private.bytes().to_vec(),
        };

        let mut signed = Obj::<ffi::session_signed_pre_key>::null();
        let now = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
        // SAFETY: ctx and pair are live; out pointer to a local we release.
        let r = unsafe {
            ffi::signal_protocol_key_helper_generate_signed_pre_key(
                &mut signed.0,
                pair.0,
                SIGNED_PRE_KEY_ID,
                now,
                ctx,
            )
        };
        if r < 0 || signed.0.is_null() {
            return Err(lib("generate the signed pre-key", r));
        }
        let mut record = Buf(std::ptr::null_mut());
        // SAFETY: signed is live; serialised into a new buffer we free.
        let r = unsafe { ffi::session_signed_pre_key_serialize(&mut record.0, signed.0) };
        if r < 0 {
            return Err(lib("serialise the signed pre-key", r));
        }
        store.set_signed_pre_key(SIGNED_PRE_KEY_ID, record.bytes())?;
        Self::generate_pre_keys(ctx, store, 1, PRE_KEYS)?;
        store.set_identity(&identity)?;
        Ok(identity)
    }

    fn generate_pre_keys(
        ctx: *mut ffi::signal_context,
        store: &mut dyn OmemoStore,
        start: u32,
        count: u32,
    ) -> Result<(), OmemoError> {
        struct List(*mut ffi::signal_protocol_key_helper_pre_key_list_node);
        impl Drop for List {
            fn drop(&mut self) {
                if !self.0.is_null() {
                    // SAFETY: the list head from generate_pre_keys, freed once.
                    unsafe { ffi::signal_protocol_key_helper_key_list_free(self.0) };
                }
            }
        }
        let mut head = List(std::ptr::null_mut());
        // SAFETY: ctx is live; out pointer to a local list we free.
        let r = unsafe {
            ffi::signal_protocol_key_helper_generate_pre_keys(&mut head.0, start, count, ctx)
        };
        if r < 0 {
            return Err(lib("generate pre-keys", r));
        }
        let mut node = head.0;
        while !node.is_null() {
            // SAFETY: node is an element of the live list; the element is borrowed.
            let key = unsafe { ffi::signal_protocol_key_helper_key_list_element(node) };
            let mut record = Buf(std::ptr::null_mut());
            // SAFETY: key is live while the list is.
            let (r, id) = unsafe {
                (
                    ffi::session_pre_key_serialize(&mut record.0, key),
                    ffi::session_pre_key_get_id(key),
                )
            };
            if r < 0 {
                return Err(lib("serialise a pre-key", r));
            }
            store.set_pre_key(id, record.bytes())?;
            // SAFETY: node is an element of the live list.
            node = unsafe { ffi::signal_protocol_key_helper_key_list_next(node) };
        }
        Ok(())
    }

    /// This device's id (its `<device id>` and the `sid`/`rid` of messages).
    pub fn device_id(&self) -> u32 {
        self.shared.identity.device_id
    }

    /// The identity key's fingerprint as other clients show it: the 32 key bytes in
    /// lowercase hex, in groups of 8 digits.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.shared.identity.public)
    }

    /// Runs `f` on the store (outside any library call).
    fn store<T>(
        &self,
        f: impl FnOnce(&mut dyn OmemoStore) -> Result<T, StoreError>,
    ) -> Result<T, OmemoError> {
        let mut s = self
            .shared
            .store
            .try_borrow_mut()
            .map_err(|_| OmemoError::Store("store busy".into()))?;
        Ok(f(s.as_mut())?)
    }

    /// Forgets a store error left from an earlier call (one the library got past).
    fn clear_error(&self) {
        if let Ok(mut e) = self.shared.error.try_borrow_mut() {
            *e = None;
        }
    }

    /// A store error a callback met during the last library call, else the library's.
    fn failed(&self, what: &'static str, code: c_int) -> OmemoError {
        match self
            .shared
            .error
            .try_borrow_mut()
            .ok()
            .and_then(|mut e| e.take())
        {
            Some(e) => e.into(),
            None => lib(what, code),
        }
    }

    /// The public half of a key pair the library owns, serialised (33 bytes).
    fn public_of(pair: *const ffi::ec_key_pair) -> Result<Vec<u8>, OmemoError> {
        let mut b = Buf(std::ptr::null_mut());
        // SAFETY: pair is a live key pair; its public key is borrowed.
        let r =
            unsafe { ffi::ec_public_key_serialize(&mut b.0, ffi::ec_key_pair_get_public(pair)) };
        if r < 0 {
            return Err(lib("serialise a public key", r));
        }
        Ok(b.bytes().to_vec())
    }

    /// This device's bundle, to publish at [`xml::bundle_node`] of [`Omemo::device_id`].
    pub fn bundle(&self) -> Result<Bundle, OmemoError> {
        let (spk_id, spk_record, pre_key_records) = self.store(|s| {
            let id = s.signed_pre_key_ids()?.into_iter().max();
            let record = match id {
                Some(id) => s.signed_pre_key(id)?,
                None => None,
            };
            let mut pks = Vec::new();
            for id in s.pre_key_ids()? {
                if let Some(r) = s.pre_key(id)? {
                    pks.push(r);
                }
            }
            Ok((id, record, pks))
        })?;
        let (Some(spk_id), Some(spk_record)) = (spk_id, spk_record) else {
            return Err(OmemoError::Store("no signed pre-key".into()));
        };
        let mut spk = Obj::<ffi::session_signed_pre_key>::null();
        // SAFETY: record bytes are readable; out pointer to a local we release.
        let r = unsafe {
            ffi::session_signed_pre_key_deserialize(
                &mut spk.0,
                spk_record.as_ptr(),
                spk_record.len(),
                self.ctx,
            )
        };
        if r < 0 || spk.0.is_null() {
            return Err(lib("read the signed pre-key", r));
        }
        // SAFETY: spk is live; the signature is borrowed from it while it lives.
        let signature = unsafe {
            provider::slice(
                ffi::session_signed_pre_key_get_signature(spk.0),
                ffi::session_signed_pre_key_get_signature_len(spk.0),
            )
        }
        .to_vec();
        // SAFETY: spk is live.
        let signed_pre_key =
            Self::public_of(unsafe { ffi::session_signed_pre_key_get_key_pair(spk.0) })?;
        let mut pre_keys = Vec::new();
        for record in pre_key_records {
            let mut pk = Obj::<ffi::session_pre_key>::null();
            // SAFETY: record bytes are readable; out pointer to a local we release.
            let r = unsafe {
                ffi::session_pre_key_deserialize(&mut pk.0, record.as_ptr(), record.len(), self.ctx)
            };
            if r < 0 || pk.0.is_null() {
                return Err(lib("read a pre-key", r));
            }
            // SAFETY: pk is live.
            let (id, pair) = unsafe {
                (
                    ffi::session_pre_key_get_id(pk.0),
                    ffi::session_pre_key_get_key_pair(pk.0),
                )
            };
            pre_keys.push((id, Self::public_of(pair)?));
        }
        Ok(Bundle {
            identity_key: self.shared.identity.public.clone(),
            signed_pre_key_id: spk_id,
            signed_pre_key,
            signature,
            pre_keys,
        })
    }

    /// How many pre-keys are left.
    pub fn pre_key_count(&self) -> Result<usize, OmemoError> {
        self.store(|s| Ok(s.pre_key_ids()?.len()))
    }

    /// Tops the pre-keys up to [`PRE_KEYS`] after pre-key messages used some; true when
    /// it made new ones (publish the bundle again then).
    pub fn refill_pre_keys(&mut self) -> Result<bool, OmemoError> {
        let (ids, used) = self.store(|s| {
            let used = s.used_pre_keys()?;
            for id in store::stale_used_pre_keys(used.clone(), store::now_secs()) {
                s.forget_used_pre_key(id)?;
            }
            Ok((s.pre_key_ids()?, used))
        })?;
        let missing = PRE_KEYS.saturating_sub(u32::try_from(ids.len()).unwrap_or(PRE_KEYS));
        if missing == 0 {
            return Ok(false);
        }
        // After every id still offered or kept aside as used.
        let next = ids
            .iter()
            .copied()
            .chain(used.iter().map(|&(id, _)| id))
            .max()
            .map_or(1, |m| m + 1);
        let start = if next + missing > PRE_KEY_MAX_ID {
            1
        } else {
            next
        };
        let ctx = self.ctx;
        self.store(|s| {
            Self::generate_pre_keys(ctx, s, start, missing)
                .map_err(|e| StoreError(e.to_string()))?;
            s.flush()
        })?;
        Ok(true)
    }

    /// Whether we have a session with `jid`'s `device`.
    pub fn has_session(&self, jid: &str, device: u32) -> Result<bool, OmemoError> {
        self.store(|s| Ok(s.session(jid, device)?.is_some()))
    }

    /// Starts a session with `jid`'s `device` from its published bundle (X3DH with one of
    /// its pre-keys, chosen at random). The next message to it is a pre-key message.
    pub fn build_session(
        &mut self,
        jid: &str,
        device: u32,
        bundle: &Bundle,
    ) -> Result<(), OmemoError> {
        self.clear_error();
        // A Curve25519 key is a 0x05 type byte and the u-coordinate, whose top bit is
        // always clear: a key with it set decodes to the same point (the top bit is
        // ignored), so it is another spelling of a key, refused rather than trusted.
        let key_ok = |k: &[u8]| {
            k.len() == xml::PUBLIC_KEY_LEN
                && k.first() == Some(&0x05)
                && k.last().is_some_and(|b| b & 0x80 == 0)
        };
        if !key_ok(&bundle.identity_key) || !key_ok(&bundle.signed_pre_key) {
            return Err(OmemoError::BadBundle("key encoding"));
        }
        if bundle.signature.len() != xml::SIGNATURE_LEN {
            return Err(OmemoError::BadBundle("signature length"));
        }
        let pick = usize::from(u16::from_le_bytes(random::<2>()?)) % bundle.pre_keys.len().max(1);
        let (pre_key_id, pre_key) = bundle
            .pre_keys
            .get(pick)
            .ok_or(OmemoError::BadBundle("no pre-key"))?;
        let decode = |bytes: &[u8],
                      what: &'static str|
         -> Result<Obj<ffi::ec_public_key>, OmemoError> {
            let mut k = Obj::null();
            // SAFETY: bytes are readable; out pointer to a local we release.
            let r =
                unsafe { ffi::curve_decode_point(&mut k.0, bytes.as_ptr(), bytes.len(), self.ctx) };
            if r < 0 || k.0.is_null() {
                return Err(OmemoError::BadBundle(what));
            }
            Ok(k)
        };
        let identity = decode(&bundle.identity_key, "identity key")?;
        let signed = decode(&bundle.signed_pre_key, "signed pre-key")?;
        let pre_key = decode(pre_key, "pre-key")?;
        self.process_bundle(
            jid,
            device,
            *pre_key_id,
            &pre_key,
            bundle.signed_pre_key_id,
            &signed,
            &bundle.signature,
            &identity,
            ffi::CIPHERTEXT_CURRENT_VERSION,
        )
    }

    /// X3DH from a bundle's decoded keys, for the session of `name` (a bare JID, or an
    /// OMEMO 2 session's name) and `device`, in message `version` 3 or 4.
    #[allow(clippy::too_many_arguments)] // the bundle's parts, as the library takes them
    fn process_bundle(
        &mut self,
        name: &str,
        device: u32,
        pre_key_id: u32,
        pre_key: &Obj<ffi::ec_public_key>,
        signed_pre_key_id: u32,
        signed: &Obj<ffi::ec_public_key>,
        signature: &[u8],
        identity: &Obj<ffi::ec_public_key>,
        version: u32,
    ) -> Result<(), OmemoError> {
        let addr = address(name, device)?;
        let mut b = Obj::<ffi::session_pre_key_bundle>::null();
        // SAFETY: the keys are live (the bundle takes its own references); signature
        // bytes are readable; out pointer to a local we release.
        let r = unsafe {
            ffi::session_pre_key_bundle_create(
                &mut b.0,
                0,
                addr.device_id,
                pre_key_id,
                pre_key.0,
                signed_pre_key_id,
                signed.0,
                signature.as_ptr(),
                signature.len(),
                identity.0,
            )
        };
        if r < 0 || b.0.is_null() {
            return Err(lib("read the bundle", r));
        }
        struct Builder(*mut ffi::session_builder);
        impl Drop for Builder {
            fn drop(&mut self) {
                if !self.0.is_null() {
                    // SAFETY: created below, freed once.
                    unsafe { ffi::session_builder_free(self.0) };
                }
            }
        }
        let mut builder = Builder(std::ptr::null_mut());
        // SAFETY: contexts are live; `addr` (and the name it points into) outlives the
        // builder, which is freed at the end of this function.
        let r =
            unsafe { ffi::session_builder_create(&mut builder.0, self.store_ctx, &addr, self.ctx) };
        if r < 0 || builder.0.is_null() {
            return Err(self.failed("create a session builder", r));
        }
        // SAFETY: builder and bundle are live.
        let r = unsafe {
            ffi::session_builder_set_version(builder.0, version);
            ffi::session_builder_process_pre_key_bundle(builder.0, b.0)
        };
        if r < 0 {
            return Err(self.failed("build a session from the bundle", r));
        }
        self.store(|s| s.flush())
    }

    /// Runs `f` with a session cipher for `jid`'s `device`.
    fn with_cipher<T>(
        &self,
        jid: &str,
        device: u32,
        f: impl FnOnce(*mut ffi::session_cipher) -> Result<T, OmemoError>,
    ) -> Result<T, OmemoError> {
        struct Cipher(*mut ffi::session_cipher);
        impl Drop for Cipher {
            fn drop(&mut self) {
                if !self.0.is_null() {
                    // SAFETY: created below, freed once.
                    unsafe { ffi::session_cipher_free(self.0) };
                }
            }
        }
        let addr = address(jid, device)?;
        let mut c = Cipher(std::ptr::null_mut());
        // SAFETY: contexts are live; `addr` and `jid` outlive the cipher (freed when
        // this function returns).
        let r = unsafe { ffi::session_cipher_create(&mut c.0, self.store_ctx, &addr, self.ctx) };
        if r < 0 || c.0.is_null() {
            return Err(self.failed("create a session cipher", r));
        }
        // SAFETY: the cipher is live.
        unsafe { ffi::session_cipher_set_version(c.0, ffi::CIPHERTEXT_CURRENT_VERSION) };
        f(c.0)
    }

    /// Encrypts `body` for `devices` (bare JID, device id), each of which needs a session
    /// (see [`Omemo::build_session`]); devices without one are left out and listed.
    /// The body is AES-128-GCM encrypted; each device gets the key and tag through its
    /// Signal session, as OMEMO 0.3 does.
    pub fn encrypt(&mut self, body: &str, devices: &[(&str, u32)]) -> Result<Outgoing, OmemoError> {
        self.clear_error();
        let key = random::<16>()?;
        let iv = random::<12>()?;
        let gcm = AesGcm::<Aes128, aes_gcm::aead::consts::U12>::new_from_slice(&key)
            .map_err(|_| OmemoError::Malformed("key"))?;
        let sealed = gcm
            .encrypt(&iv.into(), body.as_bytes())
            .map_err(|_| OmemoError::Malformed("body"))?;
        let split = sealed.len().saturating_sub(16);
        let (payload, tag) = sealed.split_at(split);
        let mut material = zeroize::Zeroizing::new([0u8; 32]);
        material[..16].copy_from_slice(&key);
        material[16..].copy_from_slice(tag);
        self.seal_for(&material, &iv, Some(payload.to_vec()), devices)
    }

    /// A key transport message to `jid`'s `device`: an `<encrypted>` without payload whose
    /// key (random, unused) only moves the session on. Sent after a message could not be
    /// decrypted, so the sender's next messages can be (session repair), as other clients do.
    pub fn key_transport(&mut self, jid: &str, device: u32) -> Result<Element, OmemoError> {
        self.clear_error();
        let material = zeroize::Zeroizing::new(random::<32>()?);
        let iv = random::<12>()?;
        Ok(self
            .seal_for(&material, &iv, None, &[(jid, device)])?
            .element)
    }

    /// `material` (key and tag) encrypted for each of `devices` through its session, in
    /// an `<encrypted>` with `payload`.
    fn seal_for(
        &mut self,
        material: &[u8; 32],
        iv: &[u8; 12],
        payload: Option<Vec<u8>>,
        devices: &[(&str, u32)],
    ) -> Result<Outgoing, OmemoError> {
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        for &(jid, device) in devices {
            match self.encrypt_key(jid, device, material, ffi::CIPHERTEXT_CURRENT_VERSION) {
                Ok(Some(k)) => keys.push(k),
                Ok(None) => skipped.push((
                    jid.to_owned(),
                    device,
                    OmemoError::NoSession {
                        jid: jid.to_owned(),
                        device,
                    },
                )),
                Err(e @ OmemoError::Store(_)) => return Err(e),
                Err(e) => skipped.push((jid.to_owned(), device, e)),
            }
        }
        if keys.is_empty() {
            return Err(OmemoError::NoRecipients);
        }
        self.store(|s| s.flush())?;
        let element = xml::encrypted_element(&Encrypted {
            sid: self.device_id(),
            keys,
            iv: iv.to_vec(),
            payload,
        });
        Ok(Outgoing { element, skipped })
    }

    /// `material` encrypted for `name`'s `device` through its session in message
    /// `version` 3 or 4; `None` without a session.
    fn encrypt_key(
        &mut self,
        name: &str,
        device: u32,
        material: &[u8],
        version: u32,
    ) -> Result<Option<KeyEntry>, OmemoError> {
        if !self.has_session(name, device)? {
            return Ok(None);
        }
        let entry = self.with_cipher(name, device, |cipher| {
            let mut msg = Obj::<ffi::ciphertext_message>::null();
            // SAFETY: cipher is live; material is readable; out pointer to a local.
            let r = unsafe {
                ffi::session_cipher_set_version(cipher, version);
                ffi::session_cipher_encrypt(cipher, material.as_ptr(), material.len(), &mut msg.0)
            };
            if r < 0 || msg.0.is_null() {
                return Err(self.failed("encrypt a key", r));
            }
            // SAFETY: msg is live; the serialised buffer is borrowed from it.
            let (kind, data) = unsafe {
                let b = ffi::ciphertext_message_get_serialized(msg.0);
                let data = if b.is_null() {
                    Vec::new()
                } else {
                    provider::slice(ffi::signal_buffer_data(b), ffi::signal_buffer_len(b)).to_vec()
                };
                (ffi::ciphertext_message_get_type(msg.0), data)
            };
            Ok(KeyEntry {
                rid: device,
                prekey: kind == ffi::CIPHERTEXT_PREKEY_TYPE,
                data,
            })
        })?;
        if entry.data.is_empty() {
            return Err(OmemoError::Malformed("empty key"));
        }
        Ok(Some(entry))
    }

    /// Decrypts an `<encrypted>` element `from` (the sender's bare JID) addressed to this
    /// device: a pre-key message starts a session, a normal one continues it.
    pub fn decrypt(&mut self, from: &str, encrypted: &Element) -> Result<Decrypted, OmemoError> {
        self.clear_error();
        let e = xml::parse_encrypted(encrypted)?;
        let ours = self.device_id();
        let key = e
            .keys
            .iter()
            .find(|k| k.rid == ours)
            .ok_or(OmemoError::NotForUs)?;
        let material = self.with_cipher(from, e.sid, |cipher| {
            let mut plain = Buf(std::ptr::null_mut());
            let r = if key.prekey {
                let mut m = Obj::<ffi::pre_key_signal_message>::null();
                // SAFETY: key bytes are readable; out pointer to a local we release.
                let r = unsafe {
                    ffi::pre_key_signal_message_deserialize(
                        &mut m.0,
                        key.data.as_ptr(),
                        key.data.len(),
                        self.ctx,
                    )
                };
                if r < 0 || m.0.is_null() {
                    return Err(lib("read a pre-key message", r));
                }
                // SAFETY: cipher and message are live; out pointer to a local buffer.
                unsafe {
                    ffi::session_cipher_decrypt_pre_key_signal_message(
                        cipher,
                        m.0,
                        std::ptr::null_mut(),
                        &mut plain.0,
                    )
                }
            } else {
                if !self.has_session(from, e.sid)? {
                    return Err(OmemoError::NoSession {
                        jid: from.to_owned(),
                        device: e.sid,
                    });
                }
                let mut m = Obj::<ffi::signal_message>::null();
                // SAFETY: key bytes are readable; out pointer to a local we release.
                let r = unsafe {
                    ffi::signal_message_deserialize(
                        &mut m.0,
                        key.data.as_ptr(),
                        key.data.len(),
                        self.ctx,
                    )
                };
                if r < 0 || m.0.is_null() {
                    return Err(lib("read a message", r));
                }
                // SAFETY: cipher and message are live; out pointer to a local buffer.
                unsafe {
                    ffi::session_cipher_decrypt_signal_message(
                        cipher,
                        m.0,
                        std::ptr::null_mut(),
                        &mut plain.0,
                    )
                }
            };
            if r == ffi::SG_ERR_INVALID_MESSAGE {
                // The library's answer when the message authenticates against no state
                // of the session (its MAC check failed for each).
                return Err(OmemoError::BadMac);
            }
            if r < 0 {
                return Err(self.failed("decrypt the key", r));
            }
            Ok(zeroize::Zeroizing::new(plain.bytes().to_vec()))
        })?;
        self.store(|s| s.flush())?;
        let body = match &e.payload {
            None => None,
            Some(payload) => Some(payload::open(&material, &e.iv, payload)?),
        };
        Ok(Decrypted {
            body,
            device: e.sid,
            prekey: key.prekey,
        })
    }
}

/// The fingerprint of a serialised identity key (type byte dropped), grouped by 8 digits.
pub fn fingerprint(public: &[u8]) -> String {
    let key = public.strip_prefix(&[0x05]).unwrap_or(public);
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    hex.as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;
