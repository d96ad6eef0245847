//! SASL authentication with our own checks, in place of `tokio_xmpp::client_login`.
//!
//! tokio-xmpp 6's login loop (`client/login.rs`) hands the server's challenge to the
//! `sasl` crate as it comes and returns on `<success/>` without showing its data to
//! the mechanism. So a server (or whoever holds a pinned certificate) could ask for
//! any SCRAM iteration count (`i=4294967295` keeps a worker thread hashing for hours,
//! out of reach of the connect timeout), and it never had to prove that it knows the
//! password: the SCRAM server signature (`v=`) was not checked. Both are fixed here,
//! with the same public pieces tokio-xmpp uses (no fork): the iteration count is read
//! and capped before the mechanism sees the challenge, the key derivation runs on a
//! blocking thread, and `<success/>` (or a last challenge) must carry the right `v=`.

use crate::session::SessionError;
use futures::{SinkExt, StreamExt};
use sasl::client::Mechanism;
use sasl::client::mechanisms::{Plain, Scram};
use sasl::common::scram::{Sha1, Sha256};
use sasl::common::{ChannelBinding, Credentials};
use std::str::FromStr;
use tokio::io::{AsyncBufRead, AsyncWrite};
use tokio_xmpp::parsers::sasl::{Auth, Mechanism as XmppMechanism, Nonza, Response};
use tokio_xmpp::xmlstream::{InitiatingStream, ReadError, XmppStream, XmppStreamElement};

/// Most SCRAM iterations we compute. Servers use 4,096 (ejabberd) to 10,000 (Prosody)
/// or so; a million is far above any real one and still takes about a second.
pub const MAX_SCRAM_ITERATIONS: u32 = 1_000_000;

type BoxedMechanism = Box<dyn Mechanism + Send>;

fn mechanism_for(name: &str, creds: Credentials) -> Result<BoxedMechanism, SessionError> {
    // A -PLUS name with no binding data would send `n` under a -PLUS name (and a
    // binding under a plain name would be refused): the two must agree.
    let bound = matches!(
        creds.channel_binding,
        ChannelBinding::TlsExporter(_) | ChannelBinding::TlsUnique(_)
    );
    if name.ends_with("-PLUS") != bound {
        return Err(SessionError::Protocol {
            detail: format!("{name} does not match the channel binding"),
        });
    }
    let built: Result<BoxedMechanism, _> = match name {
        "SCRAM-SHA-256" | "SCRAM-SHA-256-PLUS" => {
            Scram::<Sha256>::from_credentials(creds).map(|m| Box::new(m) as _)
        }
        "SCRAM-SHA-1" | "SCRAM-SHA-1-PLUS" => {
            Scram::<Sha1>::from_credentials(creds).map(|m| Box::new(m) as _)
        }
        "PLAIN" => Plain::from_credentials(creds).map(|m| Box::new(m) as _),
        other => {
            return Err(super::insecure::Insecure::Unsupported(other.to_owned()).error());
        }
    };
    built.map_err(|e| SessionError::Protocol {
        detail: format!("cannot start the login: {e:?}"),
    })
}

/// The iteration count (`i=`) of a SCRAM server-first message.
pub fn scram_iterations(challenge: &[u8]) -> Option<u64> {
    std::str::from_utf8(challenge)
        .ok()?
        .split(',')
        .find_map(|part| part.strip_prefix("i="))
        .and_then(|i| i.parse().ok())
}

/// Refuses a SCRAM server-first message whose iteration count is absent, zero or
/// above [`MAX_SCRAM_ITERATIONS`].
pub fn check_server_first(challenge: &[u8]) -> Result<(), SessionError> {
    match scram_iterations(challenge) {
        Some(i) if i > 0 && i <= u64::from(MAX_SCRAM_ITERATIONS) => Ok(()),
        Some(i) => Err(super::insecure::Insecure::Iterations(i).error()),
        None => Err(SessionError::Protocol {
            detail: "the server's login challenge is malformed".to_owned(),
        }),
    }
}

fn not_authenticated(detail: &str) -> SessionError {
    super::insecure::Insecure::NotProven(detail.to_owned()).error()
}

enum Step {
    /// Sent the first message; waiting for the server-first challenge.
    First,
    /// Sent the final message; the server must still prove itself (SCRAM).
    Final,
    /// Done on our side (PLAIN, or SCRAM with the server signature verified).
    Verified,
}

/// Authenticates with `mechanism` (one of [`super::connect`]'s choices) and returns
/// the stream, ready for its restart.
pub async fn login<S: AsyncBufRead + AsyncWrite + Unpin>(
    mut stream: XmppStream<S>,
    mechanism: &str,
    creds: Credentials,
) -> Result<InitiatingStream<S>, SessionError> {
    let scram = mechanism.starts_with("SCRAM-");
    let mut mech = mechanism_for(mechanism, creds)?;
    let name = XmppMechanism::from_str(mechanism).map_err(|e| SessionError::Protocol {
        detail: e.to_string(),
    })?;
    let initial = mech.initial();
    send(
        &mut stream,
        Nonza::Auth(Auth {
            mechanism: name,
            data: initial,
        }),
    )
    .await?;
    let mut step = if scram { Step::First } else { Step::Verified };
    loop {
        let nonza = match stream.next().await {
            Some(Ok(el)) => match el.into_read_error() {
                Ok(XmppStreamElement::Sasl(n)) => n,
                Ok(other) => {
                    return Err(SessionError::Protocol {
                        detail: format!("unexpected element during login: {other:?}"),
                    });
                }
                Err(e) => match fatal(e) {
                    Some(err) => return Err(err),
                    None => continue,
                },
            },
            Some(Err(e)) => match fatal(e) {
                Some(err) => return Err(err),
                None => continue,
            },
            None => return Err(closed()),
        };
        match nonza {
            Nonza::Challenge(c) => match step {
                Step::First => {
                    check_server_first(&c.data)?;
                    // PBKDF2 with up to a million rounds: off the async threads, so
                    // the connect timeout and other accounts are not held up.
                    let (m, answer) = tokio::task::spawn_blocking(move || {
                        let answer = mech.response(&c.data);
                        (mech, answer)
                    })
                    .await
                    .map_err(|e| SessionError::Protocol {
                        detail: format!("the login computation stopped: {e}"),
                    })?;
                    mech = m;
                    let data = answer.map_err(|e| SessionError::Protocol {
                        detail: format!("the server's login challenge is malformed: {e:?}"),
                    })?;
                    send(&mut stream, Nonza::Response(Response { data })).await?;
                    step = Step::Final;
                }
                Step::Final => {
                    // The server-final message as a challenge (RFC 6120 6.3.10).
                    mech.success(&c.data)
                        .map_err(|e| not_authenticated(&format!("{e:?}")))?;
                    send(&mut stream, Nonza::Response(Response { data: Vec::new() })).await?;
                    step = Step::Verified;
                }
                Step::Verified => {
                    return Err(SessionError::Protocol {
                        detail: "the server sent an unexpected login challenge".to_owned(),
                    });
                }
            },
            Nonza::Success(s) => {
                match step {
                    Step::Verified => {}
                    Step::Final => mech
                        .success(&s.data)
                        .map_err(|e| not_authenticated(&format!("{e:?}")))?,
                    Step::First => {
                        return Err(not_authenticated("it accepted the login at once"));
                    }
                }
                return Ok(stream.initiate_reset());
            }
            Nonza::Failure(f) => {
                return Err(SessionError::Auth {
                    condition: super::connect::sasl_condition_name(&f.defined_condition),
                });
            }
            _ => {}
        }
    }
}

async fn send<S: AsyncBufRead + AsyncWrite + Unpin>(
    stream: &mut XmppStream<S>,
    nonza: Nonza,
) -> Result<(), SessionError> {
    stream
        .send(&XmppStreamElement::Sasl(nonza))
        .await
        .map_err(|e| SessionError::Unreachable {
            detail: e.to_string(),
        })
}

fn closed() -> SessionError {
    SessionError::Unreachable {
        detail: "the server closed the connection".to_owned(),
    }
}

/// What ends the login: everything but a soft timeout (`None`).
fn fatal(e: ReadError) -> Option<SessionError> {
    match e {
        ReadError::SoftTimeout => None,
        ReadError::HardError(e) => Some(SessionError::Unreachable {
            detail: e.to_string(),
        }),
        ReadError::ParseError(e) => Some(SessionError::Protocol {
            detail: e.to_string(),
        }),
        ReadError::StreamFooterReceived => Some(closed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iteration_count_is_capped() {
        assert!(check_server_first(b"r=abc,s=c2FsdA==,i=4096").is_ok());
        assert!(check_server_first(b"r=abc,s=c2FsdA==,i=1000000").is_ok());
        for bad in [
            &b"r=abc,s=c2FsdA==,i=1000001"[..],
            b"r=abc,s=c2FsdA==,i=4294967295",
            b"r=abc,s=c2FsdA==,i=99999999999999999999999",
            b"r=abc,s=c2FsdA==,i=0",
            b"r=abc,s=c2FsdA==",
            b"\xff\xfe",
        ] {
            assert!(check_server_first(bad).is_err(), "{bad:?}");
        }
    }
}
