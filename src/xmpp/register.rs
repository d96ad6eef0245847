//! Account actions on the server (XEP-0077 In-Band Registration): the registration
//! form (legacy fields or a XEP-0004 data form), a CAPTCHA in it (XEP-0158, with its
//! image as bits of binary XEP-0231 or a `data:` URI), a new account, a password
//! change, and removing the account from the server.
//!
//! Everything here comes from a server we may never have talked to (registration
//! happens before we log in): at most [`MAX_FIELDS`] fields are kept, texts are cut
//! like any network text (`short_text`), an image larger than [`MAX_IMAGE_BYTES`] or of
//! a type we do not draw is not kept, and a form we cannot fill in (a required field
//! of a kind we do not show, a CAPTCHA without an image we can show) says so through
//! [`RegForm::fillable`] so the UI can send people to the server's website.

use super::muc::AttrExt;
use super::muc::form::{DataForm, FieldKind};
use base64::Engine;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};

#[cfg(test)]
mod tests;

/// Fields of a registration form kept; real forms have two to a dozen.
pub const MAX_FIELDS: usize = 32;
/// Largest CAPTCHA image kept (decoded). Real ones are a few kilobytes.
pub const MAX_IMAGE_BYTES: usize = 256 * 1024;
/// The `FORM_TYPE` of a CAPTCHA form (XEP-0158).
pub const CAPTCHA_FORM: &str = "urn:xmpp:captcha";
/// The `FORM_TYPE` of a registration data form.
pub const REGISTER_FORM: &str = "jabber:iq:register";

/// The fields of the legacy (non data form) registration query we show and send.
const LEGACY_FIELDS: &[&str] = &[
    "username", "password", "nick", "name", "first", "last", "email", "address", "city", "state",
    "zip", "phone", "url", "date", "misc", "text", "key",
];

/// Image types a CAPTCHA may have for us to show it.
const IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// One field to fill in (or to send back unchanged when hidden).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegField {
    pub var: String,
    pub label: Option<String>,
    pub kind: FieldKind,
    pub required: bool,
    /// What the server proposed, then what the user typed.
    pub value: String,
}

impl RegField {
    /// What to show: the label, else the variable name.
    pub fn title(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.var)
    }

    /// Shown in the form (hidden fields and the CAPTCHA bookkeeping are not).
    pub fn visible(&self) -> bool {
        !matches!(self.kind, FieldKind::Hidden)
    }
}

/// The image of a CAPTCHA, when the server sent one we can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptchaImage {
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// A CAPTCHA in the registration form (XEP-0158).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captcha {
    /// The field that takes the answer (`ocr` when we can show its image).
    pub var: Option<String>,
    /// Its image, when it came with the form (`cid:` bits of binary or a `data:` URI).
    pub image: Option<CaptchaImage>,
}

/// Can the form be filled in here?
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fillable {
    Yes,
    /// A CAPTCHA we cannot show (no image, or an audio or video one).
    CaptchaElsewhere,
    /// A required field of a kind we do not show (a list, several lines...).
    FieldsElsewhere(Vec<String>),
    /// The server takes no registrations here; maybe on its website.
    Closed,
}

/// A registration form as the server sent it, with the user's values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegForm {
    pub instructions: Option<String>,
    /// The account is registered already (the answer to a signed-in session's get).
    pub registered: bool,
    /// A XEP-0004 form (else the legacy fields).
    pub data_form: bool,
    pub fields: Vec<RegField>,
    pub captcha: Option<Captcha>,
    /// Where the server says to register instead (`jabber:x:oob`), when it says.
    pub website: Option<String>,
}

/// Why the server did not do what we asked, in a form the UI puts in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// The user name is taken (`conflict`).
    #[error("that user name is taken")]
    Conflict,
    /// Something in what we sent was not accepted (`not-acceptable`, `bad-request`):
    /// a missing field, a user name that is not allowed, a wrong CAPTCHA answer.
    #[error("not accepted: {}", .0.as_deref().unwrap_or_default())]
    NotAcceptable(Option<String>),
    /// The server does not allow it (`not-allowed`, `forbidden`).
    #[error("not allowed: {}", .0.as_deref().unwrap_or_default())]
    NotAllowed(Option<String>),
    /// We are not signed in as the account (`not-authorized`, `registration-required`).
    #[error("not authorised")]
    NotAuthorized,
    /// The server does not do in-band registration (`service-unavailable`,
    /// `feature-not-implemented`) or did not say it does.
    #[error("the server does not offer this")]
    Unsupported,
    /// Too many attempts (`resource-constraint`, `policy-violation`).
    #[error("too many attempts: {}", .0.as_deref().unwrap_or_default())]
    Limited(Option<String>),
    /// Another condition, by name, with the server's text.
    #[error("refused ({condition}): {}", text.as_deref().unwrap_or_default())]
    Other {
        condition: String,
        text: Option<String>,
    },
    /// The answer was not a registration form.
    #[error("the answer could not be read")]
    Malformed,
    #[error("no answer in time")]
    NoAnswer,
    #[error("not connected")]
    NotConnected,
    /// The connection could not be made or broke (in words).
    #[error("connection: {0}")]
    Connection(String),
    /// The server's certificate is not trusted: what the person may pin to go on (as
    /// at sign-in).
    #[error("certificate not trusted: {reason}")]
    Certificate {
        reason: String,
        /// SHA-256 of the leaf certificate, lower-case hex.
        fingerprint_sha256: String,
        /// DNS names the certificate was issued for.
        names: Vec<String>,
    },
}

/// The text of a stanza error, cut like any network text; `None` when empty.
fn error_text(e: &StanzaError) -> Option<String> {
    e.texts
        .values()
        .next()
        .map(|t| super::short_text(t.trim()))
        .filter(|t| !t.is_empty())
}

impl RegisterError {
    pub fn from_stanza_error(e: &StanzaError) -> RegisterError {
        use DefinedCondition as C;
        let text = error_text(e);
        match &e.defined_condition {
            C::Conflict => RegisterError::Conflict,
            C::NotAcceptable | C::BadRequest | C::JidMalformed => {
                RegisterError::NotAcceptable(text)
            }
            C::NotAllowed | C::Forbidden => RegisterError::NotAllowed(text),
            C::NotAuthorized | C::RegistrationRequired => RegisterError::NotAuthorized,
            C::ServiceUnavailable | C::FeatureNotImplemented => RegisterError::Unsupported,
            C::ResourceConstraint | C::PolicyViolation => RegisterError::Limited(text),
            C::RemoteServerTimeout => RegisterError::NoAnswer,
            other => RegisterError::Other {
                condition: format!("{other:?}"),
                text,
            },
        }
    }
}

/// `<query xmlns='jabber:iq:register'/>`: ask for the registration form (an IQ get).
pub fn form_request() -> Element {
    Element::builder("query", ns::REGISTER).build()
}

/// A password change of the signed-in account (an IQ set to its server, §3.3).
/// `username` is the account's local part.
pub fn change_password(username: &str, password: &str) -> Element {
    Element::builder("query", ns::REGISTER)
        .append(Element::builder("username", ns::REGISTER).append(username))
        .append(Element::builder("password", ns::REGISTER).append(password))
        .build()
}

/// Removing the signed-in account from its server (an IQ set, §3.2).
pub fn remove() -> Element {
    Element::builder("query", ns::REGISTER)
        .append(Element::builder("remove", ns::REGISTER))
        .build()
}

/// The answer to a request sent before sign-in, read from the whole `<iq/>`
/// (a CAPTCHA's image may sit beside the query, XEP-0158 §4): the form of a result,
/// the error of an error. `Ok(None)`: a result without payload (a done registration).
pub fn answer(iq: &Element) -> Result<Option<RegForm>, RegisterError> {
    if !iq.is("iq", ns::JABBER_CLIENT) {
        return Err(RegisterError::Malformed);
    }
    match iq.attr("type") {
        Some("result") => {
            let Some(query) = iq.get_child("query", ns::REGISTER) else {
                return Ok(None);
            };
            let bob: Vec<&Element> = iq.children().filter(|c| c.is("data", ns::BOB)).collect();
            RegForm::parse(query, &bob).map(Some)
        }
        Some("error") => {
            let error = iq
                .get_child("error", ns::JABBER_CLIENT)
                .and_then(|e| StanzaError::try_from(e.clone()).ok());
            Err(match error {
                Some(e) => RegisterError::from_stanza_error(&e),
                None => RegisterError::Malformed,
            })
        }
        _ => Err(RegisterError::Malformed),
    }
}

/// An image from a `data:` URI, `None` unless it is base64 of a type we draw and fits.
fn data_uri(uri: &str) -> Option<CaptchaImage> {
    let rest = uri.strip_prefix("data:")?;
    let (head, data) = rest.split_once(',')?;
    let mime = head.strip_suffix(";base64")?.to_ascii_lowercase();
    image(&mime, data)
}

fn image(mime: &str, base64: &str) -> Option<CaptchaImage> {
    let mime = mime.trim().to_ascii_lowercase();
    if !IMAGE_TYPES.contains(&mime.as_str()) {
        return None;
    }
    // Base64 is 4/3 of the bytes: refuse before decoding anything too large.
    if base64.len() / 4 * 3 > MAX_IMAGE_BYTES + 3 {
        return None;
    }
    let clean: String = base64.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(clean)
        .ok()?;
    (!bytes.is_empty() && bytes.len() <= MAX_IMAGE_BYTES).then_some(CaptchaImage { mime, bytes })
}

/// The image of a CAPTCHA field's media element (XEP-0221): its first `uri` that is a
/// `data:` image or a `cid:` found among the bits of binary we got.
fn captcha_image(field: &Element, bob: &[&Element]) -> Option<CaptchaImage> {
    let media = field.get_child("media", ns::MEDIA_ELEMENT)?;
    media
        .children()
        .filter(|u| u.is("uri", ns::MEDIA_ELEMENT))
        .take(8)
        .find_map(|u| {
            let uri = u.text();
            let uri = uri.trim();
            if let Some(cid) = uri.strip_prefix("cid:") {
                let data = bob.iter().find(|d| d.attr("cid") == Some(cid))?;
                let mime = data.attr("type").or(u.attr("type")).unwrap_or_default();
                image(mime, &data.text())
            } else {
                data_uri(uri)
            }
        })
}

impl RegForm {
    /// Parses a `<query xmlns='jabber:iq:register'/>`; `outside` are the `<data/>`
    /// elements (XEP-0231) found beside it.
    pub fn parse(query: &Element, outside: &[&Element]) -> Result<RegForm, RegisterError> {
        if !query.is("query", ns::REGISTER) {
            return Err(RegisterError::Malformed);
        }
        let mut bob: Vec<&Element> = query.children().filter(|c| c.is("data", ns::BOB)).collect();
        bob.extend(outside.iter().copied());
        let text_of = |name: &str| {
            query
                .get_child(name, ns::REGISTER)
                .map(|c| super::short_text(c.text().trim()))
                .filter(|t| !t.is_empty())
        };
        let mut form = RegForm {
            instructions: text_of("instructions"),
            registered: query.get_child("registered", ns::REGISTER).is_some(),
            website: query
                .get_child("x", ns::OOB)
                .and_then(|x| x.get_child("url", ns::OOB))
                .map(|u| super::short_text(u.text().trim()))
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
            ..RegForm::default()
        };
        if let Some(x) = query.get_child("x", ns::DATA_FORMS) {
            form.data_form = true;
            form.read_data_form(x, &bob);
        } else {
            for name in LEGACY_FIELDS {
                let Some(c) = query.get_child(name, ns::REGISTER) else {
                    continue;
                };
                form.fields.push(RegField {
                    var: (*name).to_owned(),
                    label: None,
                    kind: match *name {
                        "password" => FieldKind::TextPrivate,
                        "key" => FieldKind::Hidden,
                        _ => FieldKind::TextSingle,
                    },
                    // The legacy query has no "required": every field asked for is.
                    required: *name != "key",
                    value: super::short_text(&c.text()),
                });
            }
        }
        Ok(form)
    }

    fn read_data_form(&mut self, x: &Element, bob: &[&Element]) {
        let Some(parsed) = DataForm::parse(x) else {
            return;
        };
        if self.instructions.is_none() {
            self.instructions = parsed
                .instructions
                .first()
                .map(|i| super::short_text(i.trim()));
        }
        let captcha = parsed.form_type() == Some(CAPTCHA_FORM);
        let mut answer = None;
        for field in parsed.fields.into_iter().take(MAX_FIELDS) {
            if captcha && field.var == "ocr" && answer.is_none() {
                let raw = x
                    .children()
                    .find(|c| c.is("field", ns::DATA_FORMS) && c.attr("var") == Some("ocr"));
                answer = Some(raw.and_then(|r| captcha_image(r, bob)));
            }
            self.fields.push(RegField {
                label: field.label.as_deref().map(super::short_text),
                kind: field.kind,
                required: field.required,
                value: super::short_text(field.first()),
                var: super::short_text(&field.var),
            });
        }
        if captcha {
            self.captcha = Some(match answer {
                Some(image) => Captcha {
                    var: Some("ocr".to_owned()),
                    image,
                },
                None => Captcha {
                    var: None,
                    image: None,
                },
            });
        }
    }

    pub fn field(&self, var: &str) -> Option<&RegField> {
        self.fields.iter().find(|f| f.var == var)
    }

    /// Sets a field's value (nothing when the form has no such field).
    pub fn set(&mut self, var: &str, value: &str) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.var == var) {
            f.value = value.to_owned();
        }
    }

    /// The form asks for a user name and a password (what we fill in ourselves).
    pub fn has_credentials(&self) -> bool {
        self.field("username").is_some() && self.field("password").is_some()
    }

    /// The fields the user fills in beside the user name, the password and the
    /// CAPTCHA answer: visible text fields.
    pub fn extra_fields(&self) -> impl Iterator<Item = &RegField> {
        let answer = self.captcha.as_ref().and_then(|c| c.var.clone());
        self.fields.iter().filter(move |f| {
            f.visible()
                && !matches!(f.var.as_str(), "username" | "password")
                && Some(&f.var) != answer.as_ref()
                && f.kind != FieldKind::Fixed
        })
    }

    /// Whether we can show everything this form needs.
    pub fn fillable(&self) -> Fillable {
        if self.registered || !self.has_credentials() {
            return Fillable::Closed;
        }
        if let Some(c) = &self.captcha
            && (c.var.is_none() || c.image.is_none())
        {
            return Fillable::CaptchaElsewhere;
        }
        let answer = self.captcha.as_ref().and_then(|c| c.var.as_deref());
        let elsewhere: Vec<String> = self
            .fields
            .iter()
            .filter(|f| f.required && f.visible() && Some(f.var.as_str()) != answer)
            .filter(|f| !matches!(f.kind, FieldKind::TextSingle | FieldKind::TextPrivate))
            .map(|f| f.title().to_owned())
            .collect();
        if elsewhere.is_empty() {
            Fillable::Yes
        } else {
            Fillable::FieldsElsewhere(elsewhere)
        }
    }

    /// Required fields left empty, by title.
    pub fn missing(&self) -> Vec<String> {
        self.fields
            .iter()
            .filter(|f| f.required && f.visible() && f.kind != FieldKind::Fixed)
            .filter(|f| f.value.trim().is_empty())
            .map(|f| f.title().to_owned())
            .collect()
    }

    /// The filled-in form, to send as an IQ set: a submitted data form with every field
    /// but the fixed ones (hidden ones as they came), or the legacy fields.
    pub fn submit(&self) -> Element {
        let mut query = Element::builder("query", ns::REGISTER);
        if self.data_form {
            let mut x = Element::builder("x", ns::DATA_FORMS).a("type", "submit");
            for f in &self.fields {
                if f.kind == FieldKind::Fixed || f.var.is_empty() {
                    continue;
                }
                x = x.append(
                    Element::builder("field", ns::DATA_FORMS)
                        .a("var", &f.var)
                        .append(Element::builder("value", ns::DATA_FORMS).append(f.value.as_str())),
                );
            }
            query = query.append(x);
        } else {
            for f in &self.fields {
                query = query.append(
                    Element::builder(f.var.as_str(), ns::REGISTER).append(f.value.as_str()),
                );
            }
        }
        query.build()
    }
}
