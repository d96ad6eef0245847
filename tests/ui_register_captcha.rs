//! Headless UI test of "Create a new account" when the server's registration form is a
//! CAPTCHA (XEP-0158 in a XEP-0004 data form, the picture as XEP-0231 bits of binary):
//! the picture is drawn (decoded by `captcha_pixels` under `image::Limits`, as the app
//! does off the UI thread) with the answer field; a picture that does not decode, or one
//! only at a web address, is said in words instead. In English and Chinese. The form is
//! literal XML as a server sends it; the stream it came on is not needed to show it.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_register_captcha`
//! Screenshots: `LOQUAT_UI_SHOTS=/tmp/shots ICED_TEST_BACKEND=tiny-skia cargo test --test
//! ui_register_captcha -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![cfg(feature = "gui")]

mod support;
use support::app::{click, shows, sim};
use support::view::run_tasks as run;

use base64::Engine;
use loquat::session::register::{Registrar, captcha_pixels};
use loquat::ui::app::startup::Startup;
use loquat::ui::i18n::Lang;
use loquat::ui::screen::onboarding::{self, register as reg};
use loquat::ui::{App, Message};
use loquat::xmpp::register::{RegForm, answer};
use xmpp_parsers::minidom::Element;

/// The picture's colour: loud enough to find in a screenshot.
const INK: [u8; 3] = [230, 20, 200];

fn captcha_png() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(160, 40, |x, y| {
        if (x / 10 + y / 10) % 2 == 0 {
            image::Rgba([INK[0], INK[1], INK[2], 255])
        } else {
            image::Rgba([250, 250, 250, 255])
        }
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A registration form with a CAPTCHA as XEP-0158 §4 shows it; `uri` is where the
/// picture is, `data` the bits of binary beside the query.
fn form(uri: &str, data: &[u8]) -> RegForm {
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    let xml = format!(
        "<iq xmlns='jabber:client' type='result' id='reg1'>\
         <query xmlns='jabber:iq:register'>\
         <instructions>Choose a user name and password, and prove you are human.</instructions>\
         <x xmlns='jabber:x:data' type='form'>\
         <field type='hidden' var='FORM_TYPE'><value>urn:xmpp:captcha</value></field>\
         <field type='hidden' var='from'><value>example.org</value></field>\
         <field type='hidden' var='challenge'><value>F3A6292C</value></field>\
         <field type='hidden' var='sid'><value>reg1</value></field>\
         <field type='text-single' var='username' label='User'><required/></field>\
         <field type='text-private' var='password' label='Password'><required/></field>\
         <field var='ocr' label='Enter the text you see'>\
         <media xmlns='urn:xmpp:media-element' height='40' width='160'>\
         <uri type='image/png'>{uri}</uri></media><required/></field>\
         </x></query>\
         <data xmlns='urn:xmpp:bob' cid='sha1+8f35fef110ffc5df08d579a50083ff9308fb6242@bob.xmpp.org' \
         type='image/png' max-age='0'>{b64}</data></iq>"
    );
    let iq: Element = xml.parse().unwrap();
    answer(&iq).unwrap().expect("a form")
}

const CID: &str = "cid:sha1+8f35fef110ffc5df08d579a50083ff9308fb6242@bob.xmpp.org";

struct Words {
    link: &'static str,
    submit: &'static str,
    asking: &'static str,
    label: &'static str,
    cannot: &'static str,
}

const EN: Words = Words {
    link: "Create a new account on a server…",
    submit: "Create account",
    asking: "Asking the server…",
    label: "Type the characters in the picture",
    cannot: "This server asks for a test (CAPTCHA) Loquat cannot show; register on its website.",
};

const ZH: Words = Words {
    link: "在服务器上注册新帐号…",
    submit: "注册帐号",
    asking: "正在询问服务器…",
    label: "输入图片中的字符",
    cannot: "此服务器要求完成 Loquat 无法显示的验证（验证码），请在其网站上注册。",
};

/// The sign-in screen in "create" mode, "Create account" pressed: waiting for the
/// server's form (the task that would fetch it is dropped; the test hands the form in).
fn asking(rt: &tokio::runtime::Runtime, lang: Lang, w: &Words) -> App {
    let mut app = App::from_startup(lang, Startup::default());
    let task = app.update(Message::Started(Startup::default()));
    run(rt, &mut app, task);
    for task in click(&mut app, w.link) {
        run(rt, &mut app, task);
    }
    let on = |m: onboarding::Message| Message::Onboarding(m);
    for m in [
        on(onboarding::Message::AddressChanged(
            "newbie@example.org".into(),
        )),
        on(onboarding::Message::PasswordChanged("pw-one".into())),
        on(onboarding::Message::Register(reg::Message::RepeatChanged(
            "pw-one".into(),
        ))),
    ] {
        let _ = app.update(m);
    }
    drop(click(&mut app, w.submit));
    assert!(shows(&app, w.asking), "{lang:?}");
    app
}

fn opened(app: &mut App, form: RegForm) {
    let pixels = form
        .captcha
        .as_ref()
        .and_then(|c| c.image.as_ref())
        .and_then(captcha_pixels);
    let _ = app.update(Message::Onboarding(onboarding::Message::Register(
        reg::Message::Opened(Ok((form, Registrar::unconnected(), pixels))),
    )));
}

/// The screen as tiny-skia draws it, written to `path` and read back.
fn screenshot(app: &App, theme: &iced::Theme, path: &std::path::Path) -> image::RgbaImage {
    let file = path.with_file_name(format!(
        "{}-tiny-skia.png",
        path.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&file);
    let mut ui = sim(app);
    let snapshot = ui.snapshot(theme).expect("snapshot");
    assert!(snapshot.matches_image(path).expect("png"));
    image::open(&file).expect("screenshot").to_rgba8()
}

fn inked(shot: &image::RgbaImage) -> usize {
    shot.pixels()
        .filter(|p| p.0[..3].iter().zip(INK).all(|(a, b)| a.abs_diff(b) < 12))
        .count()
}

#[test]
fn a_captcha_form_shows_its_picture_and_the_answer_field() {
    // Reading the drawn pixels back needs the software renderer (as CI runs it).
    let look = std::env::var("ICED_TEST_BACKEND").as_deref() == Ok("tiny-skia");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (lang, w) in [(Lang::En, EN), (Lang::ZhCn, ZH)] {
        let mut app = asking(&rt, lang, &w);
        opened(&mut app, form(CID, &captcha_png()));
        assert!(shows(&app, w.label), "{lang:?}: no answer field");
        assert!(shows(&app, "prove you are human"), "{lang:?}");
        assert!(!shows(&app, w.cannot), "{lang:?}");
        let mut ui = sim(&app);
        ui.find(iced::widget::Id::new(reg::CAPTCHA_ID))
            .expect("the answer field");
        drop(ui);
        if !look {
            eprintln!("the picture not looked at: set ICED_TEST_BACKEND=tiny-skia");
            continue;
        }
        let shot = screenshot(&app, &iced::Theme::Light, &dir.path().join("c"));
        // The 160x40 checkerboard is half ink, drawn 80 pixels high at least.
        assert!(
            inked(&shot) > 160 * 40 / 2,
            "{lang:?}: the picture is not drawn ({} pixels)",
            inked(&shot)
        );
    }
}

#[test]
fn a_captcha_we_cannot_show_is_said_in_words() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, w) in [(Lang::En, EN), (Lang::ZhCn, ZH)] {
        // The picture came but is no picture (or a bomb `image::Limits` refuses).
        let mut app = asking(&rt, lang, &w);
        let broken = form(CID, b"\x89PNG\r\n\x1a\n not really");
        assert!(broken.captcha.as_ref().unwrap().image.is_some());
        opened(&mut app, broken);
        assert!(shows(&app, w.cannot), "{lang:?}: broken picture");
        assert!(!shows(&app, w.label), "{lang:?}");
        // The picture is only at a web address: not fetched before sign-in.
        let mut app = asking(&rt, lang, &w);
        opened(
            &mut app,
            form("https://example.org/captcha.png", &captcha_png()),
        );
        assert!(shows(&app, w.cannot), "{lang:?}: picture on the web");
        assert!(!shows(&app, w.label), "{lang:?}");
    }
}

/// The CAPTCHA form and the untrusted-certificate prompt, for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_captcha_form_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, w, theme, name) in [
        (Lang::En, EN, iced::Theme::Light, "register-captcha"),
        (Lang::ZhCn, ZH, iced::Theme::Dark, "register-captcha-zh"),
    ] {
        let mut app = asking(&rt, lang, &w);
        opened(&mut app, form(CID, &captcha_png()));
        let _ = screenshot(&app, &theme, &dir.join(name));
        // And a server certificate nobody vouches for (tested against Prosody in
        // ui_account_server).
        let mut app = asking(&rt, lang, &w);
        let _ = app.update(Message::Onboarding(onboarding::Message::Register(
            reg::Message::Opened(Err(loquat::xmpp::register::RegisterError::Certificate {
                reason: "unknown issuer".into(),
                fingerprint_sha256: "ab12".repeat(16),
                names: vec!["example.org".into()],
            })),
        )));
        let _ = screenshot(&app, &theme, &dir.join(format!("{name}-untrusted")));
    }
}
