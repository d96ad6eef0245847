//! Trust in OMEMO devices (issue #17, phase 3), the sans-io part: which devices the person
//! marked verified (bound to the fingerprint they checked), the setting that makes Loquat
//! encrypt only to verified devices, which devices of a contact we have seen (to announce
//! a new one), and the report of a conversation's devices the chat's lock panel shows.
//!
//! Everything lives in the store's preferences (fingerprints are public, never secrets):
//! - `omemo.verified.<account>.<jid>.<device>` = the fingerprint verified (hex, no spaces);
//!   a device whose identity key changed is not verified any more;
//! - the setting "require verification" is `Settings::omemo_require_verification` (one
//!   for every account), in the store with the other settings;
//! - `omemo.seen.<account>.<jid>` = the contact's devices we know, comma separated.
//!
//! Blind trust before verification is the default, as Conversations does: a device is
//! trusted with the first identity key it shows (`omemo/callbacks.rs`).

use crate::ids::AccountId;
use crate::store::{Store, StoreError};
use xmpp_parsers::jid::BareJid;

/// One device, as the lock's panel shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub jid: BareJid,
    pub id: u32,
    /// In groups of 8 hex digits; `None` while we have not seen its identity key.
    pub fingerprint: Option<String>,
    pub verified: bool,
    /// The fingerprint (groups of 8) of another identity key this device showed after
    /// `fingerprint`: refused (its messages are undecryptable) until the person accepts it.
    pub changed: Option<String>,
}

/// What OMEMO knows about one conversation: sent by the session after
/// `Command::OmemoStatus` and whenever the contact's devices change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub peer: BareJid,
    /// OMEMO runs on this account (it has a key in the keyring and its state opened).
    pub available: bool,
    /// This account has OMEMO state, but it did not open on this device (a key in the
    /// keyring that does not open it, a damaged record): nothing may go out in plain
    /// text, so messages and files are refused rather than sent unencrypted.
    pub broken: bool,
    /// This device.
    pub ours: Option<Device>,
    /// Our account's other devices.
    pub own_others: Vec<Device>,
    /// The contact's devices; `None` while not known yet. In a room, every member's.
    pub contact: Option<Vec<Device>>,
    /// In a room: whether it can be encrypted at all.
    pub room: Option<RoomStatus>,
}

/// What OMEMO knows about a room (in its [`Report`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomStatus {
    /// Members-only and non-anonymous; `None` until the room said.
    pub private: Option<bool>,
    /// Its members we know (us included).
    pub members: usize,
}

impl Report {
    /// The contact publishes at least one OMEMO device.
    pub fn contact_has_devices(&self) -> bool {
        self.contact.as_ref().is_some_and(|c| !c.is_empty())
    }
}

/// Whether Loquat encrypts only to verified devices (the setting; off by default, and
/// off when the settings do not read).
pub fn require_verification(store: &Store) -> bool {
    crate::config::Settings::load(store).is_ok_and(|s| s.omemo_require_verification)
}

/// Changes the setting (the app saves it with the other settings; tests use this).
pub fn set_require_verification(store: &Store, on: bool) -> Result<(), StoreError> {
    let mut settings = crate::config::Settings::load(store).unwrap_or_default();
    settings.omemo_require_verification = on;
    settings
        .save(store)
        .map_err(|e| StoreError::Io(e.to_string()))
}

fn verified_key(account: &AccountId, jid: &BareJid, device: u32) -> String {
    format!("omemo.verified.{}.{jid}.{device}", account.0)
}

/// A fingerprint without its spaces, lowercase.
pub fn compact(fingerprint: &str) -> String {
    fingerprint
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether the person verified `jid`'s `device` with the fingerprint it shows now.
pub fn is_verified(
    store: &Store,
    account: &AccountId,
    jid: &BareJid,
    device: u32,
    fingerprint: Option<&str>,
) -> bool {
    let Some(fingerprint) = fingerprint else {
        return false;
    };
    store
        .pref(&verified_key(account, jid, device))
        .ok()
        .flatten()
        .is_some_and(|v| v == compact(fingerprint))
}

/// Marks `jid`'s `device` verified with `fingerprint` (`None`: not verified).
pub fn set_verified(
    store: &Store,
    account: &AccountId,
    jid: &BareJid,
    device: u32,
    fingerprint: Option<&str>,
) -> Result<(), StoreError> {
    let key = verified_key(account, jid, device);
    match fingerprint {
        Some(f) => store.set_pref(&key, &compact(f)),
        None => store.remove_pref(&key),
    }
}

fn seen_key(account: &AccountId, jid: &BareJid) -> String {
    format!("omemo.seen.{}.{jid}", account.0)
}

/// Records `list` as `jid`'s devices and returns those not seen before (none the first
/// time we see any: a contact's devices at first sight are not news).
pub fn newly_seen(
    store: &Store,
    account: &AccountId,
    jid: &BareJid,
    list: &[u32],
) -> Result<Vec<u32>, StoreError> {
    let key = seen_key(account, jid);
    let before: Option<Vec<u32>> = store
        .pref(&key)?
        .map(|v| v.split(',').filter_map(|d| d.parse().ok()).collect());
    let mut all = before.clone().unwrap_or_default();
    let fresh: Vec<u32> = list.iter().copied().filter(|d| !all.contains(d)).collect();
    if before.is_some() && fresh.is_empty() {
        return Ok(Vec::new());
    }
    all.extend(&fresh);
    let joined: Vec<String> = all.iter().map(u32::to_string).collect();
    store.set_pref(&key, &joined.join(","))?;
    Ok(if before.is_some() { fresh } else { Vec::new() })
}

/// The stored body of the notice "this contact has a new, unverified device"; followed by
/// `<device>:<fingerprint>` (the fingerprint compact, or empty when unknown).
pub const NEW_DEVICE_MARKER: &str = "\u{1F512}omemo-new-device:";

pub fn new_device_body(device: u32, fingerprint: Option<&str>) -> String {
    format!(
        "{NEW_DEVICE_MARKER}{device}:{}",
        fingerprint.map(compact).unwrap_or_default()
    )
}

/// The notice of a room member's new device, posted in the room: as
/// [`new_device_body`], followed by `:<the member's address>`.
pub fn member_new_device_body(jid: &BareJid, device: u32, fingerprint: Option<&str>) -> String {
    format!("{}:{jid}", new_device_body(device, fingerprint))
}

/// The member a new-device notice posted in a room is about (`None` in a chat's).
pub fn new_device_member(body: &str) -> Option<BareJid> {
    let rest = body.strip_prefix(NEW_DEVICE_MARKER)?;
    BareJid::new(rest.splitn(3, ':').nth(2)?).ok()
}

/// The device and its fingerprint (in groups of 8) of a new-device notice's body.
pub fn new_device(body: &str) -> Option<(u32, Option<String>)> {
    let rest = body.strip_prefix(NEW_DEVICE_MARKER)?;
    let mut parts = rest.splitn(3, ':');
    let device = parts.next()?.parse().ok()?;
    let fp = parts.next()?;
    let fp = (!fp.is_empty() && fp.len() <= 128 && fp.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| group(fp));
    Some((device, fp))
}

fn key_notice_key(account: &AccountId, jid: &BareJid, device: u32) -> String {
    format!("omemo.keynotice.{}.{jid}.{device}", account.0)
}

/// Records that the person was told `jid`'s `device` changed its key to `fingerprint`;
/// `true` the first time for that key (then the notice is posted), `false` after.
pub fn first_key_notice(
    store: &Store,
    account: &AccountId,
    jid: &BareJid,
    device: u32,
    fingerprint: &str,
) -> Result<bool, StoreError> {
    let key = key_notice_key(account, jid, device);
    let fingerprint = compact(fingerprint);
    if store.pref(&key)?.as_deref() == Some(fingerprint.as_str()) {
        return Ok(false);
    }
    store.set_pref(&key, &fingerprint)?;
    Ok(true)
}

/// The stored body of the notice "a device of {jid} changed its key and gets nothing
/// until the new key is accepted", posted in the conversation when the person sends;
/// followed by `<device>:<new fingerprint, compact>:<jid>`.
pub const KEY_CHANGED_MARKER: &str = "\u{1F512}omemo-key-changed:";

pub fn key_changed_body(jid: &BareJid, device: u32, fingerprint: &str) -> String {
    format!(
        "{KEY_CHANGED_MARKER}{device}:{}:{jid}",
        compact(fingerprint)
    )
}

/// The device, its new fingerprint (in groups of 8) and its account of a changed-key
/// notice's body.
pub fn key_changed(body: &str) -> Option<(u32, String, BareJid)> {
    let rest = body.strip_prefix(KEY_CHANGED_MARKER)?;
    let mut parts = rest.splitn(3, ':');
    let device = parts.next()?.parse().ok()?;
    let fp = parts.next()?;
    let ok = !fp.is_empty() && fp.len() <= 128 && fp.chars().all(|c| c.is_ascii_hexdigit());
    let jid = BareJid::new(parts.next()?).ok()?;
    ok.then(|| (device, group(fp), jid))
}

/// Why a message went nowhere: every device it was for changed its key (`changed`).
pub fn changed_keys_reason(to: &BareJid, changed: &[Address]) -> String {
    let list: Vec<String> = changed.iter().map(|(j, d)| format!("{j}/{d}")).collect();
    format!(
        "the identity key of {} changed and is not accepted yet: nothing is sent to {to} \
         until the new key is accepted in the devices panel (the lock in the header)",
        list.join(", ")
    )
}

/// Hex digits in groups of 8.
pub fn group(hex: &str) -> String {
    hex.as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One device of one account.
pub type Address = (BareJid, u32);

/// Of `devices` (the recipients of a message), those that may be encrypted to when
/// verification is required (`verified` says), and those left out.
pub fn only_verified(
    devices: Vec<Address>,
    verified: impl Fn(&BareJid, u32) -> bool,
) -> (Vec<Address>, Vec<Address>) {
    devices.into_iter().partition(|(j, d)| verified(j, *d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        // In a folder of its own, as the app's: saving settings writes beside it.
        let store = Store::open(&dir.path().join("db")).unwrap();
        (dir, store)
    }

    #[test]
    fn verification_is_bound_to_the_fingerprint_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let a = AccountId("acc".into());
        let bob = BareJid::new("bob@example.org").unwrap();
        let fp = "0123abcd 4567ef01";
        {
            let s = Store::open(dir.path()).unwrap();
            assert!(!is_verified(&s, &a, &bob, 7, Some(fp)));
            set_verified(&s, &a, &bob, 7, Some(fp)).unwrap();
            assert!(is_verified(&s, &a, &bob, 7, Some(fp)));
            assert!(!is_verified(&s, &a, &bob, 8, Some(fp)), "another device");
            assert!(!is_verified(&s, &a, &bob, 7, Some("0123abcd 00000000")));
            assert!(!is_verified(&s, &a, &bob, 7, None));
        }
        let s = Store::open(dir.path()).unwrap();
        assert!(is_verified(&s, &a, &bob, 7, Some("0123ABCD4567EF01")));
        set_verified(&s, &a, &bob, 7, None).unwrap();
        assert!(!is_verified(&s, &a, &bob, 7, Some(fp)));
    }

    #[test]
    fn the_setting_is_off_until_set() {
        let (_d, s) = store();
        assert!(!require_verification(&s));
        set_require_verification(&s, true).unwrap();
        assert!(require_verification(&s));
        set_require_verification(&s, false).unwrap();
        assert!(!require_verification(&s));
    }

    #[test]
    fn devices_at_first_sight_are_not_new_later_ones_are() {
        let (_d, s) = store();
        let a = AccountId("acc".into());
        let bob = BareJid::new("bob@example.org").unwrap();
        assert!(newly_seen(&s, &a, &bob, &[1, 2]).unwrap().is_empty());
        assert!(newly_seen(&s, &a, &bob, &[2, 1]).unwrap().is_empty());
        assert_eq!(newly_seen(&s, &a, &bob, &[1, 2, 3]).unwrap(), [3]);
        assert!(newly_seen(&s, &a, &bob, &[3]).unwrap().is_empty(), "known");
        // An empty list at first sight is a first sight too.
        let eve = BareJid::new("eve@example.org").unwrap();
        assert!(newly_seen(&s, &a, &eve, &[]).unwrap().is_empty());
        assert_eq!(newly_seen(&s, &a, &eve, &[9]).unwrap(), [9]);
    }

    #[test]
    fn a_new_device_notice_round_trips_and_rejects_junk() {
        let body = new_device_body(42, Some("0123abcd 4567ef01"));
        assert_eq!(
            new_device(&body),
            Some((42, Some("0123abcd 4567ef01".to_owned())))
        );
        assert_eq!(new_device(&new_device_body(5, None)), Some((5, None)));
        assert_eq!(new_device_member(&body), None);
        let carol = BareJid::new("carol@example.org").unwrap();
        let in_room = member_new_device_body(&carol, 42, Some("0123abcd"));
        assert_eq!(
            new_device(&in_room),
            Some((42, Some("0123abcd".to_owned())))
        );
        assert_eq!(new_device_member(&in_room), Some(carol));
        assert_eq!(new_device("hello"), None);
        assert_eq!(new_device(&format!("{NEW_DEVICE_MARKER}x:00")), None);
        assert_eq!(
            new_device(&format!("{NEW_DEVICE_MARKER}3:<b>")),
            Some((3, None))
        );
    }

    #[test]
    fn a_changed_key_notice_round_trips_and_is_posted_once_per_key() {
        let bob = BareJid::new("bob@example.org").unwrap();
        let body = key_changed_body(&bob, 42, "0123abcd 4567ef01");
        assert_eq!(
            key_changed(&body),
            Some((42, "0123abcd 4567ef01".to_owned(), bob.clone()))
        );
        assert!(crate::session::omemo::is_marker(&body));
        assert_eq!(
            key_changed(&format!("{KEY_CHANGED_MARKER}4:zz:{bob}")),
            None
        );
        assert_eq!(key_changed(&format!("{KEY_CHANGED_MARKER}4:00")), None);
        assert_eq!(key_changed("hello"), None);
        let (_d, s) = store();
        let a = AccountId("acc".into());
        assert!(first_key_notice(&s, &a, &bob, 4, "00aa").unwrap());
        assert!(!first_key_notice(&s, &a, &bob, 4, "00AA").unwrap(), "once");
        assert!(
            first_key_notice(&s, &a, &bob, 5, "00aa").unwrap(),
            "another device"
        );
        assert!(
            first_key_notice(&s, &a, &bob, 4, "11bb").unwrap(),
            "another key"
        );
    }

    #[test]
    fn only_verified_devices_remain_when_required() {
        let bob = BareJid::new("bob@example.org").unwrap();
        let devices = vec![(bob.clone(), 1), (bob.clone(), 2)];
        let (keep, out) = only_verified(devices, |_, d| d == 2);
        assert_eq!(keep, [(bob.clone(), 2)]);
        assert_eq!(out, [(bob, 1)]);
    }
}
