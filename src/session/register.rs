//! Account actions on the server (XEP-0077) as plain async calls: a new account before
//! any login ([`open`], then [`Registrar::submit`]), and for a signed-in session a
//! password change ([`change_password`]) and removing the account ([`remove_account`]).
//! The protocol is `xmpp::register`; the transport is ours (`connect`), with the same
//! trust decisions as a login. No UI types: the UI runs these as tasks, tests call
//! them directly.

use super::connect::{self, Unauthenticated};
use super::roomtools::{self, QueryError};
use super::{Handle, SessionError};
use crate::model::{ServerOverride, Trust};
use crate::xmpp::muc::AttrExt;
use crate::xmpp::register::{self as proto, RegForm, RegisterError};
use futures::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;

/// How long to wait for any one answer.
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// How long a registration stream waits for the form to be filled in before it closes
/// (servers close silent unauthenticated streams after a few minutes anyway).
pub const IDLE: Duration = Duration::from_secs(600);

fn from_query(e: QueryError) -> RegisterError {
    match e {
        QueryError::NotConnected => RegisterError::NotConnected,
        QueryError::NoAnswer => RegisterError::NoAnswer,
        QueryError::Malformed | QueryError::NoService => RegisterError::Malformed,
        QueryError::Refused { condition, text } => {
            use roomtools::Condition as C;
            match condition {
                C::Conflict => RegisterError::Conflict,
                C::NotAcceptable | C::BadRequest => RegisterError::NotAcceptable(text),
                C::NotAllowed | C::Forbidden => RegisterError::NotAllowed(text),
                C::NotAuthorized => RegisterError::NotAuthorized,
                C::ServiceUnavailable | C::FeatureNotImplemented => RegisterError::Unsupported,
                C::ItemNotFound => RegisterError::Other {
                    condition: "ItemNotFound".to_owned(),
                    text,
                },
                C::Other(condition) => match condition.as_str() {
                    "ResourceConstraint" | "PolicyViolation" => RegisterError::Limited(text),
                    _ => RegisterError::Other { condition, text },
                },
            }
        }
    }
}

fn server_of(own: &BareJid) -> Result<Jid, RegisterError> {
    Jid::new(own.domain().as_str()).map_err(|_| RegisterError::Malformed)
}

/// Changes the signed-in account's password on its server. `Ok` only once the server
/// said it did: only then may the keyring learn the new password.
pub async fn change_password(
    handle: &Handle,
    own: &BareJid,
    password: &str,
) -> Result<(), RegisterError> {
    let node = own.node().ok_or(RegisterError::Malformed)?;
    roomtools::query(
        handle,
        server_of(own)?,
        false,
        proto::change_password(node.as_str(), password),
    )
    .await
    .map(|_| ())
    .map_err(from_query)
}

/// Removes the signed-in account from its server (its roster, archive and everything
/// else the server keeps for it). The server closes the session after answering.
pub async fn remove_account(handle: &Handle, own: &BareJid) -> Result<(), RegisterError> {
    roomtools::query(handle, server_of(own)?, false, proto::remove())
        .await
        .map(|_| ())
        .map_err(from_query)
}

fn connection(e: SessionError) -> RegisterError {
    match e {
        SessionError::Certificate {
            reason,
            fingerprint_sha256,
            names,
        } => RegisterError::Certificate {
            reason,
            fingerprint_sha256,
            names,
        },
        e => RegisterError::Connection(e.to_string()),
    }
}

/// Sends one IQ on a stream before login and reads its answer (other elements are
/// skipped; a stream error or the end of the stream fails).
async fn ask(
    stream: &mut Unauthenticated,
    id: &str,
    kind: &str,
    payload: Element,
) -> Result<Option<RegForm>, RegisterError> {
    let iq = Element::builder("iq", ns::JABBER_CLIENT)
        .a("type", kind)
        .a("id", id)
        .append(payload)
        .build();
    stream
        .send(&iq)
        .await
        .map_err(|e| RegisterError::Connection(e.to_string()))?;
    let answer = async {
        loop {
            match stream.next().await {
                Some(Ok(el)) => {
                    if el.is("iq", ns::JABBER_CLIENT) && el.attr("id") == Some(id) {
                        return proto::answer(&el);
                    }
                    if el.name() == "error" && el.ns() == ns::STREAM {
                        return Err(RegisterError::Connection(
                            "the server ended the connection".to_owned(),
                        ));
                    }
                }
                Some(Err(tokio_xmpp::xmlstream::ReadError::SoftTimeout)) => {}
                Some(Err(e)) => return Err(RegisterError::Connection(e.to_string())),
                None => {
                    return Err(RegisterError::Connection(
                        "the server ended the connection".to_owned(),
                    ));
                }
            }
        }
    };
    tokio::time::timeout(TIMEOUT, answer)
        .await
        .map_err(|_| RegisterError::NoAnswer)?
}

type Submission = (RegForm, oneshot::Sender<Result<(), RegisterError>>);

/// Sends a filled-in registration form on the stream it came on (a CAPTCHA belongs to
/// its stream). Clonable; the stream closes when the last copy is dropped, after a
/// registration went through, or after [`IDLE`].
#[derive(Debug, Clone)]
pub struct Registrar {
    tx: mpsc::UnboundedSender<Submission>,
}

impl Registrar {
    /// A registrar with no stream behind it: every submission fails as not connected.
    /// For driving the registration screen without a server (its UI tests).
    pub fn unconnected() -> Registrar {
        let (tx, _) = mpsc::unbounded_channel();
        Registrar { tx }
    }

    /// Submits the form. A refusal (a taken name, a wrong CAPTCHA answer) leaves the
    /// stream open for another try.
    pub async fn submit(&self, form: RegForm) -> Result<(), RegisterError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send((form, tx))
            .map_err(|_| RegisterError::NotConnected)?;
        rx.await.unwrap_or(Err(RegisterError::NotConnected))
    }
}

/// Connects to `domain`'s server without logging in and asks for its registration
/// form. `Unsupported` when the server does not offer in-band registration.
pub async fn open(
    domain: &str,
    server: &ServerOverride,
    trust: &Trust,
) -> Result<(RegForm, Registrar), RegisterError> {
    let (features, mut stream) = connect::open_unauthenticated(domain, server, trust)
        .await
        .map_err(connection)?;
    if !features.in_band_registration {
        return Err(RegisterError::Unsupported);
    }
    let form = ask(&mut stream, "reg1", "get", proto::form_request())
        .await?
        .ok_or(RegisterError::Malformed)?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Submission>();
    tokio::spawn(async move {
        let mut n = 1u32;
        loop {
            let Ok(Some((form, reply))) = tokio::time::timeout(IDLE, rx.recv()).await else {
                break;
            };
            n += 1;
            let result = ask(&mut stream, &format!("reg{n}"), "set", form.submit())
                .await
                .map(|_| ());
            let done = result.is_ok()
                || matches!(
                    result,
                    Err(RegisterError::Connection(_) | RegisterError::NoAnswer)
                );
            let _ = reply.send(result);
            if done {
                break;
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), stream.shutdown()).await;
    });
    Ok((form, Registrar { tx }))
}

/// What a password change on the server came to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// The server did not change it: the old password still works (and stays saved).
    #[error("the server did not change the password: {0}")]
    Refused(RegisterError),
    /// The server changed it, but the keyring could not save the new one (it holds the
    /// old one, which no longer works).
    #[error("changed on the server, but not saved: {0}")]
    NotSaved(String),
}

/// Changes the password on the server, then (only once the server said it did) saves
/// it in `secrets` for `account`. Blocking keyring work runs off the async threads.
pub async fn change_password_and_save(
    handle: &Handle,
    own: &BareJid,
    password: &str,
    secrets: Option<std::sync::Arc<dyn crate::secrets::SecretStore>>,
    account: &crate::ids::AccountId,
) -> Result<(), ChangeError> {
    change_password(handle, own, password)
        .await
        .map_err(ChangeError::Refused)?;
    let Some(secrets) = secrets else {
        return Ok(());
    };
    let (id, new) = (
        account.clone(),
        zeroize::Zeroizing::new(password.to_owned()),
    );
    tokio::task::spawn_blocking(move || secrets.set(&id, &new))
        .await
        .map_err(|e| ChangeError::NotSaved(e.to_string()))?
        .map_err(|e| ChangeError::NotSaved(e.to_string()))
}

/// What removing the account from its server came to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoveError {
    /// The server did not remove it; nothing was removed here either.
    #[error("the server did not remove the account: {0}")]
    Refused(RegisterError),
    /// Gone from the server, but its password or records here could not be removed.
    #[error("removed from the server, but not from this computer: {0}")]
    NotRemovedHere(String),
}

/// Removes the account from its server, then (only once the server said it did) from
/// here: its keyring entry, its records and its history (`accounts::remove_account`).
/// The caller stops the account's session afterwards.
pub async fn remove_everywhere(
    handle: &Handle,
    own: &BareJid,
    store: Option<crate::store::Store>,
    secrets: Option<std::sync::Arc<dyn crate::secrets::SecretStore>>,
    account: &crate::ids::AccountId,
) -> Result<(), RemoveError> {
    remove_account(handle, own)
        .await
        .map_err(RemoveError::Refused)?;
    let id = account.clone();
    tokio::task::spawn_blocking(move || match &store {
        Some(store) => crate::accounts::remove_account(store, secrets.as_deref(), &id, true)
            .map_err(|e| e.to_string()),
        None => match &secrets {
            Some(secrets) => secrets.delete(&id).map_err(|e| e.to_string()),
            None => Ok(()),
        },
    })
    .await
    .map_err(|e| RemoveError::NotRemovedHere(e.to_string()))?
    .map_err(RemoveError::NotRemovedHere)
}

/// A CAPTCHA picture decoded for showing: RGBA pixels.
#[derive(Clone, PartialEq, Eq)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl std::fmt::Debug for Pixels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pixels({}x{})", self.width, self.height)
    }
}

/// Widest or tallest CAPTCHA picture decoded (real ones are a few hundred pixels).
pub const MAX_CAPTCHA_SIDE: u32 = 2048;

/// Decodes a CAPTCHA picture under `image::Limits` (a picture bomb from a server we do
/// not know yet is `None`, never an out-of-memory). Blocking: run it off the async
/// threads.
pub fn captcha_pixels(image: &crate::xmpp::register::CaptchaImage) -> Option<Pixels> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(&image.bytes))
        .with_guessed_format()
        .ok()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_CAPTCHA_SIDE);
    limits.max_image_height = Some(MAX_CAPTCHA_SIDE);
    limits.max_alloc = Some(64 * 1024 * 1024);
    reader.limits(limits);
    let decoded = reader.decode().ok()?.to_rgba8();
    Some(Pixels {
        width: decoded.width(),
        height: decoded.height(),
        rgba: decoded.into_raw(),
    })
}

/// [`open`], with the CAPTCHA picture (if any) decoded off the async threads.
pub async fn open_with_picture(
    domain: &str,
    server: &ServerOverride,
    trust: &Trust,
) -> Result<(RegForm, Registrar, Option<Pixels>), RegisterError> {
    let (form, registrar) = open(domain, server, trust).await?;
    let picture = match form.captcha.as_ref().and_then(|c| c.image.clone()) {
        Some(image) => tokio::task::spawn_blocking(move || captcha_pixels(&image))
            .await
            .ok()
            .flatten(),
        None => None,
    };
    Ok((form, registrar, picture))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::register::CaptchaImage;

    #[test]
    fn captcha_pictures_decode_under_limits() {
        let mut png = Vec::new();
        image::RgbaImage::new(4, 3)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let p = captcha_pixels(&CaptchaImage {
            mime: "image/png".into(),
            bytes: png,
        })
        .unwrap();
        assert_eq!((p.width, p.height, p.rgba.len()), (4, 3, 48));
        // A picture bomb: a PNG header that claims 100,000 x 100,000 pixels.
        let mut bomb = Vec::new();
        image::GrayImage::new(1, 1)
            .write_to(
                &mut std::io::Cursor::new(&mut bomb),
                image::ImageFormat::Png,
            )
            .unwrap();
        // IHDR width and height sit at bytes 16..24.
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert_eq!(
            captcha_pixels(&CaptchaImage {
                mime: "image/png".into(),
                bytes: bomb,
            }),
            None
        );
        assert_eq!(
            captcha_pixels(&CaptchaImage {
                mime: "image/png".into(),
                bytes: b"not a picture".to_vec(),
            }),
            None
        );
    }
}
