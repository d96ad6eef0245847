//! App settings, window state and drafts, kept in the store's preferences as JSON.
//!
//! Decoding is tolerant: a field that is missing, of the wrong type or out of range
//! falls back to its default on its own, so one damaged value (or a value written by a
//! newer or older Loquat) never resets the other settings. Never holds a secret.

use crate::ids::AccountId;
use crate::store::{Store, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use xmpp_parsers::jid::BareJid;

/// The preference holding [`Settings`].
pub const SETTINGS_KEY: &str = "settings";
/// The preference holding [`WindowState`].
pub const WINDOW_KEY: &str = "window";
/// The preference holding [`Drafts`].
pub const DRAFTS_KEY: &str = "drafts";

/// Automatic image download limit when nothing else is set: 10 MiB.
pub const DEFAULT_IMAGE_MAX: u64 = 10 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("could not encode the settings: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Light, dark, or whatever the system uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThemeChoice {
    #[default]
    System,
    Light,
    Dark,
}

impl ThemeChoice {
    pub const ALL: [ThemeChoice; 3] = [ThemeChoice::System, ThemeChoice::Light, ThemeChoice::Dark];
}

/// The interface language, or the system's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LanguageChoice {
    #[default]
    System,
    English,
    ChineseSimplified,
}

impl LanguageChoice {
    pub const ALL: [LanguageChoice; 3] = [
        LanguageChoice::System,
        LanguageChoice::English,
        LanguageChoice::ChineseSimplified,
    ];
}

/// What the person chose in Settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub theme: ThemeChoice,
    pub language: LanguageChoice,
    /// Desktop notifications for new messages.
    pub notifications: bool,
    /// Conversations that never notify.
    pub muted: BTreeSet<BareJid>,
    /// Where downloads go (`None`: the system's download folder).
    pub download_dir: Option<PathBuf>,
    /// Images up to this size download by themselves (0: never).
    pub auto_image_max: u64,
    /// Closing the window hides it in the tray (when there is a tray).
    pub close_to_tray: bool,
    /// Start with the window minimised.
    pub start_minimised: bool,
    /// Tell the people we write to when we are typing (XEP-0085 chat states). The
    /// session sends none while this is off, whatever the UI asks.
    pub chat_states: bool,
    /// Draw with the graphics card (wgpu) instead of in software (tiny-skia), from the
    /// next start on (see [`renderer_wanted`]).
    pub gpu: bool,
    /// OMEMO encrypts only to devices the person verified (issue #17); off: blind trust
    /// before verification, as Conversations does. The session reads it from the store.
    pub omemo_require_verification: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            theme: ThemeChoice::System,
            language: LanguageChoice::System,
            notifications: true,
            muted: BTreeSet::new(),
            download_dir: None,
            auto_image_max: DEFAULT_IMAGE_MAX,
            close_to_tray: false,
            start_minimised: false,
            chat_states: true,
            gpu: false,
            omemo_require_verification: false,
        }
    }
}

/// One field of a JSON object, or `default` when it is missing or does not decode.
fn field<T: DeserializeOwned>(object: &Map<String, Value>, name: &str, default: T) -> T {
    object
        .get(name)
        .and_then(|value| serde_json::from_value(value.clone()).ok())
        .unwrap_or(default)
}

/// The JSON object in `text`, or an empty one when it is not an object.
fn object(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

fn parse_jids(values: Vec<Value>) -> BTreeSet<BareJid> {
    values
        .into_iter()
        .filter_map(|v| v.as_str().and_then(|s| BareJid::new(s).ok()))
        .collect()
}

/// The file beside the database that says how to draw: read first thing at start, before
/// the window (and long before the database) opens, so it cannot live in the store.
const RENDERER_FILE: &str = "renderer";

/// Writes the renderer choice into the data folder `dir`.
pub fn save_renderer(dir: &std::path::Path, gpu: bool) -> std::io::Result<()> {
    crate::paths::ensure_private_dir(dir)?;
    let text: &[u8] = if gpu { b"gpu\n" } else { b"software\n" };
    crate::paths::replace_private_file(&dir.join(RENDERER_FILE), text)
}

/// Whether the person chose the graphics card in Settings (read from the data folder
/// `dir`); software when nothing or anything else is written there.
pub fn renderer_wanted(dir: &std::path::Path) -> bool {
    std::fs::read_to_string(dir.join(RENDERER_FILE)).is_ok_and(|t| t.trim() == "gpu")
}

impl Settings {
    /// Decodes stored settings; anything unreadable takes its default.
    pub fn decode(text: &str) -> Settings {
        let o = object(text);
        let d = Settings::default();
        let download_dir: Option<String> = field(&o, "download_dir", None);
        Settings {
            theme: field(&o, "theme", d.theme),
            language: field(&o, "language", d.language),
            notifications: field(&o, "notifications", d.notifications),
            muted: parse_jids(field(&o, "muted", Vec::new())),
            download_dir: download_dir
                .filter(|p| !p.trim().is_empty())
                .map(PathBuf::from),
            auto_image_max: field(&o, "auto_image_max", d.auto_image_max),
            close_to_tray: field(&o, "close_to_tray", d.close_to_tray),
            start_minimised: field(&o, "start_minimised", d.start_minimised),
            chat_states: field(&o, "chat_states", d.chat_states),
            gpu: field(&o, "gpu", d.gpu),
            omemo_require_verification: field(
                &o,
                "omemo_require_verification",
                d.omemo_require_verification,
            ),
        }
    }

    pub fn encode(&self) -> Result<String, ConfigError> {
        let value = serde_json::json!({
            "theme": self.theme,
            "language": self.language,
            "notifications": self.notifications,
            "muted": self.muted.iter().map(|j| j.as_str()).collect::<Vec<_>>(),
            "download_dir": self.download_dir.as_ref().map(|p| p.to_string_lossy().into_owned()),
            "auto_image_max": self.auto_image_max,
            "close_to_tray": self.close_to_tray,
            "start_minimised": self.start_minimised,
            "chat_states": self.chat_states,
            "gpu": self.gpu,
            "omemo_require_verification": self.omemo_require_verification,
        });
        Ok(serde_json::to_string(&value)?)
    }

    /// The stored settings (defaults when none were saved).
    pub fn load(store: &Store) -> Result<Settings, ConfigError> {
        Ok(store
            .pref(SETTINGS_KEY)?
            .map(|text| Settings::decode(&text))
            .unwrap_or_default())
    }

    /// Saves the settings (flushed before returning), and the renderer choice where
    /// the next start reads it before anything else (`renderer` beside the database).
    pub fn save(&self, store: &Store) -> Result<(), ConfigError> {
        store.set_pref(SETTINGS_KEY, &self.encode()?)?;
        if let Some(dir) = store.data_folder()
            && let Err(e) = save_renderer(dir, self.gpu)
        {
            log::warn!("could not save the renderer choice: {e}");
        }
        Ok(())
    }

    /// Does this conversation notify?
    pub fn notifies(&self, peer: &BareJid) -> bool {
        self.notifications && !self.muted.contains(peer)
    }

    /// The folder downloads go to: the chosen one, else the system's download folder.
    pub fn download_folder(&self) -> Option<PathBuf> {
        self.download_dir.clone().or_else(|| {
            directories::UserDirs::new().and_then(|d| d.download_dir().map(|p| p.to_path_buf()))
        })
    }
}

/// The conversation that was open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenConversation {
    pub account: AccountId,
    pub peer: BareJid,
}

/// Size, position and open conversation of the main window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowState {
    pub width: f32,
    pub height: f32,
    /// Top-left corner; `None` lets the window manager place the window.
    pub position: Option<(f32, f32)>,
    pub open: Option<OpenConversation>,
}

/// Smallest size restored (the window's own minimum).
const MIN_SIZE: (f32, f32) = (720.0, 480.0);
/// Largest size restored (anything bigger is a damaged value).
const MAX_SIDE: f32 = 16_384.0;

impl Default for WindowState {
    fn default() -> Self {
        WindowState {
            width: 1100.0,
            height: 720.0,
            position: None,
            open: None,
        }
    }
}

impl WindowState {
    pub fn decode(text: &str) -> WindowState {
        let o = object(text);
        let d = WindowState::default();
        let side = |name: &str, default: f32, min: f32| {
            let value: f32 = field(&o, name, default);
            if value.is_finite() && (min..=MAX_SIDE).contains(&value) {
                value
            } else {
                default
            }
        };
        let coordinate = |name: &str| {
            let value: Option<f32> = field(&o, name, None);
            value.filter(|v| v.is_finite() && v.abs() <= MAX_SIDE)
        };
        let position = coordinate("x").zip(coordinate("y"));
        let open = match (
            field::<Option<String>>(&o, "account", None),
            field::<Option<String>>(&o, "peer", None),
        ) {
            (Some(account), Some(peer)) if !account.is_empty() => {
                BareJid::new(&peer).ok().map(|peer| OpenConversation {
                    account: AccountId(account),
                    peer,
                })
            }
            _ => None,
        };
        WindowState {
            width: side("width", d.width, MIN_SIZE.0),
            height: side("height", d.height, MIN_SIZE.1),
            position,
            open,
        }
    }

    pub fn encode(&self) -> Result<String, ConfigError> {
        let value = serde_json::json!({
            "width": self.width,
            "height": self.height,
            "x": self.position.map(|p| p.0),
            "y": self.position.map(|p| p.1),
            "account": self.open.as_ref().map(|o| o.account.0.clone()),
            "peer": self.open.as_ref().map(|o| o.peer.as_str().to_string()),
        });
        Ok(serde_json::to_string(&value)?)
    }

    pub fn load(store: &Store) -> Result<WindowState, ConfigError> {
        Ok(store
            .pref(WINDOW_KEY)?
            .map(|text| WindowState::decode(&text))
            .unwrap_or_default())
    }

    pub fn save(&self, store: &Store) -> Result<(), ConfigError> {
        Ok(store.set_pref(WINDOW_KEY, &self.encode()?)?)
    }
}

/// Unsent text per conversation (account, peer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drafts(pub BTreeMap<(AccountId, BareJid), String>);

impl Drafts {
    pub fn get(&self, account: &AccountId, peer: &BareJid) -> Option<&str> {
        self.0
            .get(&(account.clone(), peer.clone()))
            .map(String::as_str)
    }

    /// Keeps `text` as the draft (an empty or blank text removes it). True when it
    /// changed anything.
    pub fn set(&mut self, account: &AccountId, peer: &BareJid, text: &str) -> bool {
        let key = (account.clone(), peer.clone());
        if text.trim().is_empty() {
            self.0.remove(&key).is_some()
        } else if self.0.get(&key).map(String::as_str) == Some(text) {
            false
        } else {
            self.0.insert(key, text.to_string());
            true
        }
    }

    /// Stored as a list of `{account, peer, text}`; bad entries are skipped.
    pub fn decode(text: &str) -> Drafts {
        let entries: Vec<Value> = serde_json::from_str(text).unwrap_or_default();
        let mut drafts = Drafts::default();
        for entry in entries {
            let Value::Object(o) = entry else { continue };
            let account: String = field(&o, "account", String::new());
            let peer: String = field(&o, "peer", String::new());
            let text: String = field(&o, "text", String::new());
            if let (false, Ok(peer)) = (account.is_empty(), BareJid::new(&peer)) {
                drafts.set(&AccountId(account), &peer, &text);
            }
        }
        drafts
    }

    pub fn encode(&self) -> Result<String, ConfigError> {
        let list: Vec<Value> = self
            .0
            .iter()
            .map(|((account, peer), text)| {
                serde_json::json!({ "account": account.0, "peer": peer.as_str(), "text": text })
            })
            .collect();
        Ok(serde_json::to_string(&list)?)
    }

    pub fn load(store: &Store) -> Result<Drafts, ConfigError> {
        Ok(store
            .pref(DRAFTS_KEY)?
            .map(|text| Drafts::decode(&text))
            .unwrap_or_default())
    }

    pub fn save(&self, store: &Store) -> Result<(), ConfigError> {
        Ok(store.set_pref(DRAFTS_KEY, &self.encode()?)?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    #[test]
    fn defaults_when_nothing_is_stored() {
        let store = Store::open_temporary().unwrap();
        let s = Settings::load(&store).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.auto_image_max, 10 * 1024 * 1024);
        assert!(s.notifications && !s.close_to_tray && !s.start_minimised);
        assert_eq!(s.theme, ThemeChoice::System);
        assert_eq!(s.language, LanguageChoice::System);
    }

    #[test]
    fn settings_round_trip_through_the_store() {
        let store = Store::open_temporary().unwrap();
        let mut s = Settings {
            theme: ThemeChoice::Dark,
            language: LanguageChoice::ChineseSimplified,
            notifications: false,
            download_dir: Some(PathBuf::from("/tmp/下载")),
            auto_image_max: 123,
            close_to_tray: true,
            start_minimised: true,
            ..Settings::default()
        };
        s.muted.insert(jid("bob@example.org"));
        s.save(&store).unwrap();
        assert_eq!(Settings::load(&store).unwrap(), s);
    }

    #[test]
    fn a_bad_field_falls_back_alone() {
        let text = r#"{"theme":"purple","language":"chinese_simplified","notifications":"yes",
            "muted":["bob@example.org","not a jid@@",7],"auto_image_max":-5,
            "close_to_tray":true,"start_minimised":null,"download_dir":""}"#;
        let s = Settings::decode(text);
        assert_eq!(s.theme, ThemeChoice::System, "unknown theme: default");
        assert_eq!(s.language, LanguageChoice::ChineseSimplified, "kept");
        assert!(s.notifications, "wrong type: default");
        assert_eq!(s.muted.len(), 1);
        assert!(s.muted.contains(&jid("bob@example.org")));
        assert_eq!(s.auto_image_max, DEFAULT_IMAGE_MAX, "negative: default");
        assert!(s.close_to_tray, "kept");
        assert!(!s.start_minimised);
        assert_eq!(s.download_dir, None);
        assert!(!s.notifies(&jid("bob@example.org")));
        assert!(s.notifies(&jid("carol@example.org")));
    }

    #[test]
    fn garbage_gives_defaults() {
        for text in ["", "null", "[1,2]", "{", "\"x\"", "{\"theme\": {}}"] {
            assert_eq!(Settings::decode(text), Settings::default(), "{text:?}");
            assert_eq!(
                WindowState::decode(text),
                WindowState::default(),
                "{text:?}"
            );
            assert_eq!(Drafts::decode(text), Drafts::default(), "{text:?}");
        }
    }

    #[test]
    fn window_state_round_trips_and_rejects_silly_sizes() {
        let store = Store::open_temporary().unwrap();
        let w = WindowState {
            width: 900.0,
            height: 600.0,
            position: Some((-20.0, 40.0)),
            open: Some(OpenConversation {
                account: AccountId("a1".into()),
                peer: jid("bob@example.org"),
            }),
        };
        w.save(&store).unwrap();
        assert_eq!(WindowState::load(&store).unwrap(), w);

        let bad = WindowState::decode(
            r#"{"width":10,"height":1e9,"x":5,"y":"up","account":"a","peer":"@@"}"#,
        );
        assert_eq!(bad.width, 1100.0);
        assert_eq!(bad.height, 720.0);
        assert_eq!(bad.position, None, "half a position is no position");
        assert_eq!(bad.open, None);
    }

    #[test]
    fn drafts_round_trip_and_blank_removes() {
        let store = Store::open_temporary().unwrap();
        let (a, bob) = (AccountId("a".into()), jid("bob@example.org"));
        let mut d = Drafts::default();
        assert!(d.set(&a, &bob, "你好，明天见"));
        assert!(!d.set(&a, &bob, "你好，明天见"), "same text: no change");
        assert!(d.set(&AccountId("b".into()), &bob, "other account"));
        d.save(&store).unwrap();
        let loaded = Drafts::load(&store).unwrap();
        assert_eq!(loaded.get(&a, &bob), Some("你好，明天见"));
        assert_eq!(loaded.0.len(), 2);
        assert!(d.set(&a, &bob, "  \n"));
        assert_eq!(d.get(&a, &bob), None);
        let skipped = Drafts::decode(
            r#"[{"account":"a","peer":"bob@example.org","text":"ok"},
               {"account":"","peer":"bob@example.org","text":"x"},
               {"account":"a","peer":"@@","text":"x"}, 3]"#,
        );
        assert_eq!(skipped.0.len(), 1);
    }

    #[test]
    fn the_renderer_choice_is_written_beside_the_database_for_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        assert!(!renderer_wanted(dir.path()), "software unless chosen");
        let gpu = Settings {
            gpu: true,
            ..Settings::default()
        };
        gpu.save(&store).unwrap();
        assert!(renderer_wanted(dir.path()));
        assert!(Settings::load(&store).unwrap().gpu);
        Settings::default().save(&store).unwrap();
        assert!(!renderer_wanted(dir.path()));
        // A store in memory has no folder: nothing is written anywhere.
        let temporary = Store::open_temporary().unwrap();
        assert!(temporary.data_folder().is_none());
        gpu.save(&temporary).unwrap();
    }
}
