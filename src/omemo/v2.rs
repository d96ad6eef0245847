//! OMEMO 2 (`urn:xmpp:omemo:2`, XEP-0384 0.8) beside OMEMO 0.3, on the same identity and
//! device id (as python-omemo does): libomemo-c's message version 4 for the Signal layer
//! (its OMEMO protobufs, HKDF info strings and truncated MAC), and here what OMEMO 2 adds
//! on top: the payload scheme (a random 32-byte key; HKDF-SHA-256 with 32 zero bytes of
//! salt and the info "OMEMO Payload" gives 80 bytes: the AES-256-CBC key, the
//! HMAC-SHA-256 key and the IV; the Signal layer carries key ‖ the first 16 bytes of the
//! HMAC of the ciphertext), the SCE envelope (XEP-0420) it encrypts, and the bundle in
//! OMEMO 2's form (raw 32-byte keys, the identity key in its Ed25519 form, the signed
//! pre-key's signature over its 32 raw bytes).
//!
//! OMEMO 2 sessions live beside the 0.3 ones in the same store under the address
//! [`SESSION_PREFIX`]` + jid` (a bare JID never contains a space), so a device speaking
//! both has two independent sessions; its identity key is one, checked and recorded
//! under the bare JID (`callbacks::identity_address`).

use super::provider::{cbc, slice};
use super::{Buf, Decrypted, Obj, Omemo, OmemoError, Outgoing, ffi, lib, random};
use crate::omemo::xml::KeyEntry;
use crate::xmpp::omemo2::{self as x2, Bundle2, Encrypted2, Key2};
use hmac::Mac;
use xmpp_parsers::minidom::Element;
use zeroize::Zeroizing;

/// The start of an OMEMO 2 session's address name, before the bare JID.
pub(super) const SESSION_PREFIX: &str = "omemo2 ";
const PAYLOAD_INFO: &[u8] = b"OMEMO Payload";
/// The HMAC of the payload, truncated to this many bytes, travels with its key.
const TAG_LEN: usize = 16;
/// Longest random padding (`rpad`) put in an envelope.
const MAX_RPAD: usize = 200;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn session_name(jid: &str) -> String {
    format!("{SESSION_PREFIX}{jid}")
}

/// HKDF-SHA-256 (RFC 5869): `out.len()` bytes from `ikm` with `salt` and `info`.
fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) -> Result<(), OmemoError> {
    let bad = |_| OmemoError::Malformed("HKDF key");
    let mut extract = HmacSha256::new_from_slice(salt).map_err(bad)?;
    extract.update(ikm);
    let prk = Zeroizing::new(extract.finalize().into_bytes().to_vec());
    let mut previous = Zeroizing::new(Vec::new());
    for (i, chunk) in out.chunks_mut(32).enumerate() {
        let counter = u8::try_from(i + 1).map_err(|_| OmemoError::Malformed("HKDF length"))?;
        let mut expand = HmacSha256::new_from_slice(&prk).map_err(bad)?;
        expand.update(&previous);
        expand.update(info);
        expand.update(&[counter]);
        let t = Zeroizing::new(expand.finalize().into_bytes().to_vec());
        chunk.copy_from_slice(t.get(..chunk.len()).unwrap_or_default());
        *previous = t.to_vec();
    }
    Ok(())
}

/// The AES-256-CBC key, HMAC key and IV derived from a payload key.
fn payload_keys(key: &[u8]) -> Result<Zeroizing<[u8; 80]>, OmemoError> {
    let mut out = Zeroizing::new([0u8; 80]);
    hkdf(&[0u8; 32], key, PAYLOAD_INFO, out.as_mut_slice())?;
    Ok(out)
}

/// Encrypts `plain` under a fresh random key: the ciphertext and the 48 bytes of key
/// material (key ‖ truncated HMAC) for the Signal layer.
pub(crate) fn seal_payload(plain: &[u8]) -> Result<(Vec<u8>, Zeroizing<[u8; 48]>), OmemoError> {
    let key = Zeroizing::new(random::<32>()?);
    let keys = payload_keys(key.as_slice())?;
    let (enc, rest) = keys.split_at(32);
    let (auth, iv) = rest.split_at(32);
    let ciphertext = cbc(true, enc, iv, plain).ok_or(OmemoError::Malformed("payload"))?;
    let mut mac = HmacSha256::new_from_slice(auth).map_err(|_| OmemoError::Malformed("key"))?;
    mac.update(&ciphertext);
    let tag = mac.finalize().into_bytes();
    let mut material = Zeroizing::new([0u8; 48]);
    material[..32].copy_from_slice(key.as_slice());
    material[32..].copy_from_slice(tag.get(..TAG_LEN).unwrap_or_default());
    Ok((ciphertext, material))
}

/// Decrypts a payload with the 48 bytes of key material from the Signal layer; the
/// HMAC is checked (in constant time) before anything is decrypted.
pub(crate) fn open_payload(material: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, OmemoError> {
    if material.len() != 32 + TAG_LEN {
        return Err(OmemoError::Malformed("key material"));
    }
    let (key, tag) = material.split_at(32);
    let keys = payload_keys(key)?;
    let (enc, rest) = keys.split_at(32);
    let (auth, iv) = rest.split_at(32);
    let mut mac = HmacSha256::new_from_slice(auth).map_err(|_| OmemoError::Malformed("key"))?;
    mac.update(ciphertext);
    mac.verify_truncated_left(tag)
        .map_err(|_| OmemoError::BadTag)?;
    cbc(false, enc, iv, ciphertext).ok_or(OmemoError::BadTag)
}

/// Whether two JIDs are the same bare JID once normalised (a `<keys jid>` written in
/// another case is still ours).
fn same_bare_jid(a: &str, b: &str) -> bool {
    match (
        a.parse::<xmpp_parsers::jid::BareJid>(),
        b.parse::<xmpp_parsers::jid::BareJid>(),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Random padding for an envelope: 0 to [`MAX_RPAD`] characters.
fn rpad() -> Result<String, OmemoError> {
    let len = usize::from(random::<1>()?[0]) % MAX_RPAD;
    let bytes = random::<{ MAX_RPAD }>()?;
    Ok(bytes
        .iter()
        .take(len)
        .map(|b| char::from(b'a' + b % 26))
        .collect())
}

impl Omemo {
    /// This device's bundle in OMEMO 2's form, to publish as item [`Omemo::device_id`] of
    /// `urn:xmpp:omemo:2:bundles`: the same keys as the 0.3 bundle.
    pub fn bundle_v2(&self) -> Result<Bundle2, OmemoError> {
        let old = self.bundle()?;
        let raw = |k: &[u8]| k.strip_prefix(&[0x05]).unwrap_or(k).to_vec();
        let record = self.store(|s| s.signed_pre_key(old.signed_pre_key_id))?;
        let record = record.ok_or(OmemoError::Store("no signed pre-key".into()))?;
        let mut spk = Obj::<ffi::session_signed_pre_key>::null();
        // SAFETY: record bytes are readable; out pointer to a local we release.
        let r = unsafe {
            ffi::session_signed_pre_key_deserialize(
                &mut spk.0,
                record.as_ptr(),
                record.len(),
                self.ctx,
            )
        };
        if r < 0 || spk.0.is_null() {
            return Err(lib("read the signed pre-key", r));
        }
        // SAFETY: spk is live; the signature is borrowed from it while it lives.
        let signature = unsafe {
            slice(
                ffi::session_signed_pre_key_get_signature_omemo(spk.0),
                ffi::session_signed_pre_key_get_signature_omemo_len(spk.0),
            )
        }
        .to_vec();
        if signature.len() != crate::omemo::xml::SIGNATURE_LEN {
            return Err(OmemoError::Store(
                "the signed pre-key has no OMEMO 2 signature".into(),
            ));
        }
        let mut ik = Obj::<ffi::ec_public_key>::null();
        let public = &self.shared.identity.public;
        // SAFETY: our key bytes are readable; out pointer to a local we release.
        let r =
            unsafe { ffi::curve_decode_point(&mut ik.0, public.as_ptr(), public.len(), self.ctx) };
        if r < 0 || ik.0.is_null() {
            return Err(lib("read our identity key", r));
        }
        // SAFETY: ik is live; the new buffer is ours (wiped and freed by Buf).
        let ed = Buf(unsafe { ffi::ec_public_key_get_ed(ik.0) });
        if ed.bytes().len() != x2::KEY_LEN {
            return Err(lib("convert our identity key", ffi::SG_ERR_NOMEM));
        }
        Ok(Bundle2 {
            identity_key: ed.bytes().to_vec(),
            signed_pre_key_id: old.signed_pre_key_id,
            signed_pre_key: raw(&old.signed_pre_key),
            signature,
            pre_keys: old.pre_keys.iter().map(|(id, k)| (*id, raw(k))).collect(),
        })
    }

    /// Whether we have an OMEMO 2 session with `jid`'s `device`.
    pub fn has_session_v2(&self, jid: &str, device: u32) -> Result<bool, OmemoError> {
        self.has_session(&session_name(jid), device)
    }

    /// Starts an OMEMO 2 session with `jid`'s `device` from its OMEMO 2 bundle (X3DH with
    /// one of its pre-keys at random; the signature over the signed pre-key is checked,
    /// and the identity key must be the one this device showed before, in either version).
    pub fn build_session_v2(
        &mut self,
        jid: &str,
        device: u32,
        bundle: &Bundle2,
    ) -> Result<(), OmemoError> {
        self.clear_error();
        let ok = |k: &[u8]| k.len() == x2::KEY_LEN;
        if !ok(&bundle.identity_key) || !ok(&bundle.signed_pre_key) {
            return Err(OmemoError::BadBundle("key length"));
        }
        if bundle.signature.len() != crate::omemo::xml::SIGNATURE_LEN {
            return Err(OmemoError::BadBundle("signature length"));
        }
        let pick = usize::from(u16::from_le_bytes(random::<2>()?)) % bundle.pre_keys.len().max(1);
        let (pre_key_id, pre_key) = bundle
            .pre_keys
            .get(pick)
            .ok_or(OmemoError::BadBundle("no pre-key"))?;
        let decode = |bytes: &[u8], ed: bool, what: &'static str| {
            let mut k = Obj::<ffi::ec_public_key>::null();
            // SAFETY: bytes are readable; out pointer to a local we release.
            let r = unsafe {
                if ed {
                    ffi::curve_decode_point_ed(&mut k.0, bytes.as_ptr(), bytes.len(), self.ctx)
                } else {
                    ffi::curve_decode_point_mont(&mut k.0, bytes.as_ptr(), bytes.len(), self.ctx)
                }
            };
            if r < 0 || k.0.is_null() {
                return Err(OmemoError::BadBundle(what));
            }
            Ok(k)
        };
        let identity = decode(&bundle.identity_key, true, "identity key")?;
        let signed = decode(&bundle.signed_pre_key, false, "signed pre-key")?;
        let pre_key = decode(pre_key, false, "pre-key")?;
        let name = session_name(jid);
        self.process_bundle(
            &name,
            device,
            *pre_key_id,
            &pre_key,
            bundle.signed_pre_key_id,
            &signed,
            &bundle.signature,
            &identity,
            ffi::CIPHERTEXT_OMEMO_VERSION,
        )
    }

    /// Encrypts `body` (from `own`, our bare JID) for `devices` in OMEMO 2: an SCE
    /// envelope, sealed as OMEMO 2 does; devices without a session are left out and
    /// listed.
    pub fn encrypt_v2(
        &mut self,
        own: &str,
        body: &str,
        devices: &[(&str, u32)],
    ) -> Result<Outgoing, OmemoError> {
        self.clear_error();
        let stamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let envelope = String::from(&x2::envelope(body, own, &rpad()?, &stamp));
        let (ciphertext, material) = seal_payload(envelope.as_bytes())?;
        self.seal_for_v2(material.as_slice(), Some(ciphertext), devices)
    }

    /// An empty OMEMO 2 message (no payload) to `jid`'s `device`: sent after its key
    /// exchange, so it knows the session is up and stops sending key exchanges (as the
    /// XEP asks); its key material is random and unused.
    pub fn empty_v2(&mut self, jid: &str, device: u32) -> Result<Element, OmemoError> {
        self.clear_error();
        let material = Zeroizing::new(random::<48>()?);
        Ok(self
            .seal_for_v2(material.as_slice(), None, &[(jid, device)])?
            .element)
    }

    /// `material` encrypted for each of `devices` through its OMEMO 2 session, in an
    /// `<encrypted xmlns='urn:xmpp:omemo:2'>` with `payload`.
    fn seal_for_v2(
        &mut self,
        material: &[u8],
        payload: Option<Vec<u8>>,
        devices: &[(&str, u32)],
    ) -> Result<Outgoing, OmemoError> {
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        for &(jid, device) in devices {
            let name = session_name(jid);
            match self.encrypt_key(&name, device, material, ffi::CIPHERTEXT_OMEMO_VERSION) {
                Ok(Some(entry)) => keys.push(Key2 {
                    jid: jid.to_owned(),
                    entry,
                }),
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
        let element = x2::encrypted_element(&Encrypted2 {
            sid: self.device_id(),
            keys,
            payload,
        });
        Ok(Outgoing { element, skipped })
    }

    /// Decrypts an OMEMO 2 `<encrypted>` from `from` (the sender's bare JID) addressed to
    /// this device of `own` (our bare JID): a `kex` key starts a session, another
    /// continues one; the payload's HMAC is checked, then the SCE envelope must name
    /// `from` as its sender.
    pub fn decrypt_v2(
        &mut self,
        from: &str,
        own: &str,
        encrypted: &Element,
    ) -> Result<Decrypted, OmemoError> {
        self.clear_error();
        let e = x2::parse_encrypted(encrypted)?;
        let ours = self.device_id();
        let key = e
            .keys
            .iter()
            .find(|k| k.entry.rid == ours && same_bare_jid(&k.jid, own))
            .map(|k| &k.entry)
            .ok_or(OmemoError::NotForUs)?;
        let name = session_name(from);
        let material = self.decrypt_key(&name, e.sid, key)?;
        let body = match &e.payload {
            None => None,
            Some(payload) => {
                let envelope = Zeroizing::new(open_payload(&material, payload)?);
                x2::parse_envelope(&envelope, from).map_err(|e| match e {
                    x2::EnvelopeError::WrongSender => OmemoError::WrongSender,
                    x2::EnvelopeError::Malformed(what) => OmemoError::Malformed(what),
                })?
            }
        };
        Ok(Decrypted {
            body,
            device: e.sid,
            prekey: key.prekey,
        })
    }

    /// Runs the Signal layer (version 4) on `key` from `name`'s `device`.
    fn decrypt_key(
        &mut self,
        name: &str,
        device: u32,
        key: &KeyEntry,
    ) -> Result<Zeroizing<Vec<u8>>, OmemoError> {
        if !key.prekey && !self.has_session(name, device)? {
            return Err(OmemoError::NoSession {
                jid: name.trim_start_matches(SESSION_PREFIX).to_owned(),
                device,
            });
        }
        let material = self.with_cipher(name, device, |cipher| {
            // SAFETY: the cipher is live.
            unsafe { ffi::session_cipher_set_version(cipher, ffi::CIPHERTEXT_OMEMO_VERSION) };
            let mut plain = Buf(std::ptr::null_mut());
            let r = if key.prekey {
                let mut m = Obj::<ffi::pre_key_signal_message>::null();
                // SAFETY: key bytes are readable; out pointer to a local we release.
                let r = unsafe {
                    ffi::pre_key_signal_message_deserialize_omemo(
                        &mut m.0,
                        key.data.as_ptr(),
                        key.data.len(),
                        device,
                        self.ctx,
                    )
                };
                if r < 0 || m.0.is_null() {
                    return Err(lib("read a key exchange", r));
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
                let mut m = Obj::<ffi::signal_message>::null();
                // SAFETY: key bytes are readable; out pointer to a local we release.
                let r = unsafe {
                    ffi::signal_message_deserialize_omemo(
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
                return Err(OmemoError::BadMac);
            }
            if r < 0 {
                return Err(self.failed("decrypt the key", r));
            }
            Ok(Zeroizing::new(plain.bytes().to_vec()))
        })?;
        self.store(|s| s.flush())?;
        Ok(material)
    }
}

#[cfg(test)]
#[path = "v2_tests.rs"]
mod tests;
