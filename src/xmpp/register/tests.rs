//! XEP-0077 / XEP-0158 on literal XML, including what a hostile server might send.

use super::*;
use xmpp_parsers::minidom::Element;

fn el(xml: &str) -> Element {
    match xml.parse() {
        Ok(e) => e,
        Err(e) => unreachable!("test XML does not parse: {e} ({} bytes)", xml.len()),
    }
}

fn form(xml: &str) -> RegForm {
    match answer(&el(xml)) {
        Ok(Some(f)) => f,
        other => unreachable!("{other:?}"),
    }
}

const PNG_B64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

#[test]
fn legacy_form_of_prosody() {
    let f = form(
        "<iq xmlns='jabber:client' type='result' id='r1'>\
         <query xmlns='jabber:iq:register'>\
         <instructions>Choose a username and password for use with this service.</instructions>\
         <username/><password/>\
         </query></iq>",
    );
    assert!(!f.data_form);
    assert_eq!(
        f.instructions.as_deref(),
        Some("Choose a username and password for use with this service.")
    );
    assert!(f.has_credentials());
    assert_eq!(f.fillable(), Fillable::Yes);
    assert_eq!(
        f.field("password").map(|p| p.kind),
        Some(FieldKind::TextPrivate)
    );
    let mut f = f;
    f.set("username", "juliet");
    f.set("password", "R0m30");
    let xml = String::from(&f.submit());
    assert!(xml.contains("<username>juliet</username>"), "{xml}");
    assert!(xml.contains("<password>R0m30</password>"), "{xml}");
    assert!(!xml.contains("jabber:x:data"), "{xml}");
}

#[test]
fn data_form_is_filled_and_sent_back_with_its_hidden_fields() {
    let mut f = form(
        "<iq xmlns='jabber:client' type='result' id='r1'>\
         <query xmlns='jabber:iq:register'><username/><password/>\
         <x xmlns='jabber:x:data' type='form'>\
         <title>Creating a new account</title><instructions>Pick a name</instructions>\
         <field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>\
         <field type='text-single' var='username' label='Username'><required/></field>\
         <field type='text-private' var='password' label='Password'><required/></field>\
         <field type='text-single' var='email' label='Email'/>\
         <field type='fixed'><value>Be nice</value></field>\
         </x></query></iq>",
    );
    assert!(f.data_form);
    assert_eq!(f.instructions.as_deref(), Some("Pick a name"));
    assert_eq!(f.fillable(), Fillable::Yes);
    let extra: Vec<&str> = f.extra_fields().map(|f| f.var.as_str()).collect();
    assert_eq!(extra, vec!["email"]);
    assert_eq!(f.missing(), vec!["Username", "Password"]);
    f.set("username", "romeo");
    f.set("password", "pw");
    assert!(f.missing().is_empty());
    let xml = String::from(&f.submit());
    assert!(
        xml.contains("type='submit'") || xml.contains("type=\"submit\""),
        "{xml}"
    );
    assert!(xml.contains("<value>jabber:iq:register</value>"), "{xml}");
    assert!(xml.contains("<value>romeo</value>"), "{xml}");
    assert!(!xml.contains("Be nice"), "fixed fields are not sent: {xml}");
}

#[test]
fn captcha_with_a_bits_of_binary_image_can_be_filled() {
    let xml = format!(
        "<iq xmlns='jabber:client' type='result' id='r1'>\
         <query xmlns='jabber:iq:register'>\
         <x xmlns='jabber:x:data' type='form'>\
         <field type='hidden' var='FORM_TYPE'><value>urn:xmpp:captcha</value></field>\
         <field type='hidden' var='challenge'><value>F3A6292C</value></field>\
         <field var='username' type='text-single'><required/></field>\
         <field var='password' type='text-private'><required/></field>\
         <field var='ocr' label='Enter the text you see'>\
         <media xmlns='urn:xmpp:media-element' height='80' width='290'>\
         <uri type='image/png'>cid:sha1+f24030b8d91d233bac14777be5ab531ca3b9f102@bob.xmpp.org</uri>\
         </media><required/></field>\
         </x></query>\
         <data xmlns='urn:xmpp:bob' cid='sha1+f24030b8d91d233bac14777be5ab531ca3b9f102@bob.xmpp.org' type='image/png' max-age='0'>{PNG_B64}</data>\
         </iq>"
    );
    let mut f = form(&xml);
    let captcha = f.captcha.clone().unwrap();
    assert_eq!(captcha.var.as_deref(), Some("ocr"));
    let image = captcha.image.unwrap();
    assert_eq!(image.mime, "image/png");
    assert!(image.bytes.starts_with(b"\x89PNG"));
    assert_eq!(f.fillable(), Fillable::Yes);
    // The answer is not one of the extra fields: the CAPTCHA box takes it.
    assert_eq!(f.extra_fields().count(), 0);
    f.set("ocr", "7nHL3");
    let xml = String::from(&f.submit());
    assert!(xml.contains("<value>F3A6292C</value>"), "{xml}");
    assert!(xml.contains("<value>7nHL3</value>"), "{xml}");
}

#[test]
fn captcha_inside_the_query_and_as_a_data_uri() {
    let inside = format!(
        "<iq xmlns='jabber:client' type='result' id='r1'><query xmlns='jabber:iq:register'>\
         <x xmlns='jabber:x:data' type='form'>\
         <field type='hidden' var='FORM_TYPE'><value>urn:xmpp:captcha</value></field>\
         <field var='username'/><field var='password' type='text-private'/>\
         <field var='ocr'><media xmlns='urn:xmpp:media-element'><uri type='image/png'>cid:a@bob.xmpp.org</uri></media></field>\
         </x><data xmlns='urn:xmpp:bob' cid='a@bob.xmpp.org' type='image/png'>{PNG_B64}</data></query></iq>"
    );
    assert!(form(&inside).captcha.unwrap().image.is_some());
    let data = format!(
        "<iq xmlns='jabber:client' type='result' id='r1'><query xmlns='jabber:iq:register'>\
         <x xmlns='jabber:x:data' type='form'>\
         <field type='hidden' var='FORM_TYPE'><value>urn:xmpp:captcha</value></field>\
         <field var='username'/><field var='password' type='text-private'/>\
         <field var='ocr'><media xmlns='urn:xmpp:media-element'><uri type='image/png'>data:image/png;base64,{PNG_B64}</uri></media></field>\
         </x></query></iq>"
    );
    assert!(form(&data).captcha.unwrap().image.is_some());
}

#[test]
fn captcha_we_cannot_show_sends_people_to_the_website() {
    for media in [
        // An image on the web: not fetched from a server we are not signed in to.
        "<uri type='image/png'>https://captcha.example/x.png</uri>",
        // Audio.
        "<uri type='audio/x-wav'>cid:b@bob.xmpp.org</uri>",
        // A cid that was never sent.
        "<uri type='image/png'>cid:missing@bob.xmpp.org</uri>",
        // An SVG (not drawn) as a data URI.
        "<uri type='image/svg+xml'>data:image/svg+xml;base64,PHN2Zy8+</uri>",
    ] {
        let xml = format!(
            "<iq xmlns='jabber:client' type='result' id='r1'><query xmlns='jabber:iq:register'>\
             <x xmlns='jabber:x:data' type='form'>\
             <field type='hidden' var='FORM_TYPE'><value>urn:xmpp:captcha</value></field>\
             <field var='username'/><field var='password' type='text-private'/>\
             <field var='ocr'><media xmlns='urn:xmpp:media-element'>{media}</media></field>\
             </x><x xmlns='jabber:x:oob'><url>https://example.org/register</url></x></query>\
             <data xmlns='urn:xmpp:bob' cid='b@bob.xmpp.org' type='audio/x-wav'>AAAA</data></iq>"
        );
        let f = form(&xml);
        assert_eq!(f.fillable(), Fillable::CaptchaElsewhere, "{media}");
        assert_eq!(f.website.as_deref(), Some("https://example.org/register"));
    }
    // A question CAPTCHA without an ocr field at all.
    let f = form(
        "<iq xmlns='jabber:client' type='result' id='r1'><query xmlns='jabber:iq:register'>\
         <x xmlns='jabber:x:data' type='form'>\
         <field type='hidden' var='FORM_TYPE'><value>urn:xmpp:captcha</value></field>\
         <field var='username'/><field var='password' type='text-private'/>\
         <field var='qa' label='What is 2+2?'><required/></field></x></query></iq>",
    );
    assert_eq!(f.fillable(), Fillable::CaptchaElsewhere);
}

#[test]
fn required_fields_we_do_not_show_and_closed_servers() {
    let f = form(
        "<iq xmlns='jabber:client' type='result' id='r1'><query xmlns='jabber:iq:register'>\
         <x xmlns='jabber:x:data' type='form'>\
         <field var='username'/><field var='password' type='text-private'/>\
         <field var='country' type='list-single' label='Country'><required/><option><value>x</value></option></field>\
         </x></query></iq>",
    );
    assert_eq!(
        f.fillable(),
        Fillable::FieldsElsewhere(vec!["Country".into()])
    );
    // No user name asked for: not a registration we can do.
    let f = form(
        "<iq xmlns='jabber:client' type='result' id='r1'><query xmlns='jabber:iq:register'>\
         <instructions>Register at https://example.org</instructions></query></iq>",
    );
    assert_eq!(f.fillable(), Fillable::Closed);
    // Already registered (the signed-in answer of Prosody).
    let f = form(
        "<iq xmlns='jabber:client' type='result' id='r1'><query xmlns='jabber:iq:register'>\
         <registered/><username>juliet</username><password/></query></iq>",
    );
    assert!(f.registered);
    assert_eq!(f.fillable(), Fillable::Closed);
    assert_eq!(
        f.field("username").map(|u| u.value.as_str()),
        Some("juliet")
    );
}

#[test]
fn errors_are_named() {
    let case = |condition: &str, text: &str| {
        let xml = format!(
            "<iq xmlns='jabber:client' type='error' id='r1'>\
             <error type='cancel'><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>{text}</error></iq>"
        );
        answer(&el(&xml)).unwrap_err()
    };
    assert_eq!(case("conflict", ""), RegisterError::Conflict);
    assert_eq!(
        case(
            "not-acceptable",
            "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Username: Required value missing</text>"
        ),
        RegisterError::NotAcceptable(Some("Username: Required value missing".into()))
    );
    assert_eq!(case("not-allowed", ""), RegisterError::NotAllowed(None));
    assert_eq!(case("service-unavailable", ""), RegisterError::Unsupported);
    assert_eq!(
        case("resource-constraint", ""),
        RegisterError::Limited(None)
    );
    assert!(matches!(
        case("internal-server-error", ""),
        RegisterError::Other { condition, .. } if condition == "InternalServerError"
    ));
    // An error without an error element, or an answer of the wrong kind.
    assert_eq!(
        answer(&el("<iq xmlns='jabber:client' type='error' id='r1'/>")).unwrap_err(),
        RegisterError::Malformed
    );
    assert_eq!(
        answer(&el("<message xmlns='jabber:client'/>")).unwrap_err(),
        RegisterError::Malformed
    );
    // A result without a query: a registration or change done.
    assert_eq!(
        answer(&el("<iq xmlns='jabber:client' type='result' id='r1'/>")),
        Ok(None)
    );
}

#[test]
fn password_change_and_removal_serialise() {
    let xml = String::from(&change_password("juliet", "n<ew"));
    assert!(xml.contains("jabber:iq:register"), "{xml}");
    assert!(xml.contains("<username>juliet</username>"), "{xml}");
    assert!(xml.contains("<password>n&lt;ew</password>"), "{xml}");
    let xml = String::from(&remove());
    assert!(xml.contains("<remove/>"), "{xml}");
    assert!(String::from(&form_request()).contains("jabber:iq:register"));
}

#[test]
fn hostile_forms_are_capped() {
    // Thousands of fields, a long label, bidi controls in the instructions.
    let mut xml = String::from(
        "<iq xmlns='jabber:client' type='result' id='r1'><query xmlns='jabber:iq:register'>\
         <instructions>\u{202E}gnp.exe</instructions><x xmlns='jabber:x:data' type='form'>\
         <field var='username'/><field var='password' type='text-private'/>",
    );
    let huge = "L".repeat(5_000);
    xml.push_str(&format!("<field var='big' label='{huge}'/>"));
    for i in 0..5_000 {
        xml.push_str(&format!("<field var='f{i}'/>"));
    }
    xml.push_str("</x></query></iq>");
    let f = form(&xml);
    assert_eq!(f.fields.len(), MAX_FIELDS);
    let big = f.field("big").unwrap();
    assert!(big.title().chars().count() <= crate::xmpp::MAX_SHORT_TEXT);
    assert!(!f.instructions.unwrap().contains('\u{202E}'));
}

#[test]
fn hostile_captcha_images_are_refused() {
    // Larger than the cap (as base64), base64 that is not, an empty image.
    let big = "A".repeat((MAX_IMAGE_BYTES + 1024) / 3 * 4);
    for data in [big.as_str(), "!!!not base64!!!", ""] {
        let xml = format!(
            "<iq xmlns='jabber:client' type='result' id='r1'><query xmlns='jabber:iq:register'>\
             <x xmlns='jabber:x:data' type='form'>\
             <field type='hidden' var='FORM_TYPE'><value>urn:xmpp:captcha</value></field>\
             <field var='username'/><field var='password' type='text-private'/>\
             <field var='ocr'><media xmlns='urn:xmpp:media-element'><uri type='image/png'>cid:c@bob.xmpp.org</uri></media></field>\
             </x></query><data xmlns='urn:xmpp:bob' cid='c@bob.xmpp.org' type='image/png'>{data}</data></iq>"
        );
        let f = form(&xml);
        assert_eq!(f.captcha.as_ref().and_then(|c| c.image.as_ref()), None);
        assert_eq!(f.fillable(), Fillable::CaptchaElsewhere);
    }
    // A data: URI that claims PNG but is not base64-marked.
    assert_eq!(data_uri("data:image/png,rawbytes"), None);
    // A website that is not http(s) is not offered.
    let f = form(
        "<iq xmlns='jabber:client' type='result' id='r1'><query xmlns='jabber:iq:register'>\
         <x xmlns='jabber:x:oob'><url>javascript:alert(1)</url></x></query></iq>",
    );
    assert_eq!(f.website, None);
}
