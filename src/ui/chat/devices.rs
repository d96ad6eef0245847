//! The devices part of the lock's panel (issue #17): this device, the contact's devices
//! and our other ones, each with its fingerprint in groups of 8 hex digits and its
//! "Verified" mark, which the person sets after comparing fingerprints.

use super::encryption::Message;
use crate::session::omemo::trust::{Device, Report};
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use iced::widget::{Column, button, column, container, row, text};
use iced::{Alignment, Element, Font, Length};

/// The widget id of a device's verify button (tests click it).
pub fn verify_id(device: u32) -> iced::widget::Id {
    iced::widget::Id::from(format!("omemo-verify-{device}"))
}

/// The widget id of a device's "Accept the new key" button (tests click it).
pub fn accept_id(device: u32) -> iced::widget::Id {
    iced::widget::Id::from(format!("omemo-accept-{device}"))
}

/// A device whose identity key changed: both fingerprints, the warning in plain words
/// and the button that accepts the new key.
fn changed<'a>(lang: Lang, d: &Device, new: &str, whose: bool) -> Element<'a, Message> {
    let labelled = |label: T, fp: Option<&str>| {
        column![
            text(tr(lang, label)).size(12).style(theme::muted),
            fingerprint(lang, fp),
        ]
        .spacing(2)
    };
    container(
        column![
            row![
                text({
                    let device = trf(lang, T::EncDevice, &[("id", &d.id.to_string())]);
                    if whose {
                        format!("{} · {device}", d.jid)
                    } else {
                        device
                    }
                })
                .size(12)
                .style(theme::muted),
                container(
                    text(tr(lang, T::EncKeyChanged))
                        .size(12)
                        .style(theme::warning_text)
                )
                .padding([1, 6])
                .style(theme::tag),
            ]
            .spacing(6)
            .align_y(Alignment::Center),
            labelled(T::EncOldKey, d.fingerprint.as_deref()),
            labelled(T::EncNewKey, Some(new)),
            text(tr(lang, T::EncKeyChangedWarning)).size(12),
            container(
                button(text(tr(lang, T::EncAcceptKey)).size(12))
                    .padding([3, 10])
                    .style(theme::danger_button)
                    .on_press(Message::AcceptKey {
                        jid: d.jid.clone(),
                        device: d.id,
                        fingerprint: new.to_owned(),
                    })
            )
            .id(accept_id(d.id)),
        ]
        .spacing(6),
    )
    .padding(8)
    .width(Length::Fill)
    .style(theme::error_box)
    .into()
}

fn fingerprint<'a>(lang: Lang, fp: Option<&str>) -> Element<'a, Message> {
    match fp {
        Some(fp) => text(fp.to_owned())
            .size(13)
            .font(Font::MONOSPACE)
            .wrapping(text::Wrapping::WordOrGlyph)
            .into(),
        None => text(tr(lang, T::EncNoFingerprint))
            .size(12)
            .style(theme::muted)
            .into(),
    }
}

/// `whose`: in a room, whose device it is (devices of several members are listed).
fn device_row<'a>(lang: Lang, d: &Device, whose: bool) -> Element<'a, Message> {
    if let Some(new) = &d.changed {
        return changed(lang, d, new, whose);
    }
    let mark: Element<'a, Message> = if d.verified {
        row![
            container(
                text(tr(lang, T::EncVerified))
                    .size(12)
                    .style(theme::good_text)
            )
            .padding([1, 6])
            .style(theme::tag),
            button(text(tr(lang, T::EncUnverify)).size(12))
                .style(theme::link_button)
                .on_press(Message::Verify {
                    jid: d.jid.clone(),
                    device: d.id,
                    fingerprint: None,
                }),
        ]
        .spacing(6)
        .align_y(Alignment::Center)
        .into()
    } else {
        let mut b = button(text(tr(lang, T::EncMarkVerified)).size(12))
            .padding([3, 10])
            .style(theme::secondary_button);
        // Only a fingerprint that was shown can be verified.
        if let Some(fp) = &d.fingerprint {
            b = b.on_press(Message::Verify {
                jid: d.jid.clone(),
                device: d.id,
                fingerprint: Some(fp.clone()),
            });
        }
        row![
            text(tr(lang, T::EncNotVerified))
                .size(12)
                .style(theme::warning_text),
            container(b).id(verify_id(d.id)),
        ]
        .spacing(6)
        .align_y(Alignment::Center)
        .into()
    };
    row![
        column![
            text({
                let device = trf(lang, T::EncDevice, &[("id", &d.id.to_string())]);
                if whose {
                    format!("{} · {device}", d.jid)
                } else {
                    device
                }
            })
            .size(12)
            .style(theme::muted),
            fingerprint(lang, d.fingerprint.as_deref()),
        ]
        .spacing(2)
        .width(Length::Fill),
        mark,
    ]
    .spacing(12)
    .align_y(Alignment::Center)
    .into()
}

fn section<'a>(lang: Lang, title: String, devices: &[Device], whose: bool) -> Column<'a, Message> {
    let mut part = column![text(title).size(13).style(theme::heading)].spacing(6);
    if devices.is_empty() {
        part = part.push(
            text(tr(lang, T::EncNoOtherDevices))
                .size(12)
                .style(theme::muted),
        );
    }
    for d in devices {
        part = part.push(device_row(lang, d, whose));
    }
    part
}

/// This device, the contact's devices (when known) and our other devices.
pub fn view<'a>(lang: Lang, name: &str, report: &Report) -> Element<'a, Message> {
    let mut all = column![].spacing(12);
    if let Some(ours) = &report.ours {
        all = all.push(
            column![
                text(tr(lang, T::EncThisDevice))
                    .size(13)
                    .style(theme::heading),
                text(trf(lang, T::EncDevice, &[("id", &ours.id.to_string())]))
                    .size(12)
                    .style(theme::muted),
                fingerprint(lang, ours.fingerprint.as_deref()),
            ]
            .spacing(2),
        );
    }
    if let Some(contact) = report.contact.as_ref().filter(|c| !c.is_empty()) {
        let room = report.room.is_some();
        let title = if room {
            tr(lang, T::EncRoomMembersDevices).to_owned()
        } else {
            trf(lang, T::EncTheirDevices, &[("name", name)])
        };
        all = all.push(section(lang, title, contact, room));
    }
    if report.available {
        all = all.push(section(
            lang,
            tr(lang, T::EncOwnDevices).to_owned(),
            &report.own_others,
            false,
        ));
        all = all.push(
            text(tr(lang, T::EncVerifyHint))
                .size(12)
                .style(theme::muted),
        );
    }
    all.into()
}
