//! The tray icon: a StatusNotifierItem (KDE, GNOME with the AppIndicator extension,
//! most other Linux desktops) with the unread count, Show/Hide, presence and Quit.
//! Elsewhere, and when no tray host runs, there is no icon and closing the window quits.

use crate::ui::i18n::Lang;

#[cfg(target_os = "linux")]
pub use linux::{set_unread, start};

#[cfg(not(target_os = "linux"))]
pub async fn start(_lang: Lang) -> bool {
    false
}

#[cfg(not(target_os = "linux"))]
pub async fn set_unread(_unread: u32) {}

#[cfg(target_os = "linux")]
mod linux {
    use crate::model::Show;
    use crate::ui::desktop::tray::Lang;
    use crate::ui::desktop::{Event, post};
    use crate::ui::i18n::{T, tr, trf};
    use crate::ui::screen::sidebar::show_text;
    use ksni::menu::{StandardItem, SubMenu};
    use ksni::{MenuItem, TrayMethods};
    use std::sync::OnceLock;

    /// The icon as 32x32 ARGB, for hosts that cannot find the installed theme icon.
    const ICON_ARGB: &[u8] = include_bytes!("../../../packaging/icons/loquat-32.argb");

    static HANDLE: OnceLock<ksni::Handle<LoquatTray>> = OnceLock::new();

    struct LoquatTray {
        lang: Lang,
        unread: u32,
    }

    impl ksni::Tray for LoquatTray {
        fn id(&self) -> String {
            "im.loquat.Loquat".into()
        }

        fn title(&self) -> String {
            if self.unread > 0 {
                format!("({}) Loquat", self.unread)
            } else {
                "Loquat".into()
            }
        }

        fn status(&self) -> ksni::Status {
            if self.unread > 0 {
                ksni::Status::NeedsAttention
            } else {
                ksni::Status::Active
            }
        }

        fn icon_name(&self) -> String {
            "im.loquat.Loquat".into()
        }

        fn icon_pixmap(&self) -> Vec<ksni::Icon> {
            vec![ksni::Icon {
                width: 32,
                height: 32,
                data: ICON_ARGB.to_vec(),
            }]
        }

        fn attention_icon_pixmap(&self) -> Vec<ksni::Icon> {
            self.icon_pixmap()
        }

        fn tool_tip(&self) -> ksni::ToolTip {
            let description = if self.unread > 0 {
                trf(
                    self.lang,
                    T::TrayUnread,
                    &[("count", &self.unread.to_string())],
                )
            } else {
                String::new()
            };
            ksni::ToolTip {
                title: "Loquat".into(),
                description,
                ..Default::default()
            }
        }

        fn activate(&mut self, _x: i32, _y: i32) {
            post(Event::ToggleWindow);
        }

        fn menu(&self) -> Vec<MenuItem<Self>> {
            let lang = self.lang;
            let presence = [Show::Online, Show::Away, Show::DoNotDisturb, Show::Offline]
                .into_iter()
                .map(|show| {
                    StandardItem {
                        label: tr(lang, show_text(show)).into(),
                        activate: Box::new(move |_: &mut Self| post(Event::Presence(show))),
                        ..Default::default()
                    }
                    .into()
                })
                .collect();
            vec![
                StandardItem {
                    label: tr(lang, T::TrayShowHide).into(),
                    activate: Box::new(|_: &mut Self| post(Event::ToggleWindow)),
                    ..Default::default()
                }
                .into(),
                MenuItem::Separator,
                SubMenu {
                    label: tr(lang, T::TrayPresence).into(),
                    submenu: presence,
                    ..Default::default()
                }
                .into(),
                MenuItem::Separator,
                StandardItem {
                    label: tr(lang, T::TrayQuit).into(),
                    icon_name: "application-exit".into(),
                    activate: Box::new(|_: &mut Self| post(Event::Quit)),
                    ..Default::default()
                }
                .into(),
            ]
        }

        fn watcher_offline(&self, reason: ksni::OfflineReason) -> bool {
            log::info!("the tray host went away: {reason:?}");
            post(Event::TrayStarted(false));
            true
        }

        fn watcher_online(&self) {
            post(Event::TrayStarted(true));
        }
    }

    /// Starts the tray icon; `false` when there is no session bus or no tray host.
    pub async fn start(lang: Lang) -> bool {
        if HANDLE.get().is_some() {
            return true;
        }
        match (LoquatTray { lang, unread: 0 }).spawn().await {
            Ok(handle) => {
                let _ = HANDLE.set(handle);
                true
            }
            Err(e) => {
                log::info!("no tray icon: {e}");
                false
            }
        }
    }

    /// Shows `unread` on the icon.
    pub async fn set_unread(unread: u32) {
        if let Some(handle) = HANDLE.get() {
            handle.update(|tray| tray.unread = unread).await;
        }
    }
}
