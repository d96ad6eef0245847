//! Why a login was refused as unsafe, as a value (issue #20): the session reports it
//! as [`SessionError::InsecureLogin`] with English words (logs, tests), and the UI
//! turns the same value back out of those words to say it in the user's language.

use super::SessionError;

/// Most SCRAM iterations Loquat computes (the text of [`Insecure::Iterations`]).
pub const MAX_ITERATIONS: u32 = super::sasl_login::MAX_SCRAM_ITERATIONS;

/// Why Loquat would not log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Insecure {
    /// Only PLAIN offered, and the account does not allow it.
    PlainOnly,
    /// No STARTTLS offered.
    NoStarttls,
    /// STARTTLS asked for and refused.
    StarttlsRefused,
    /// No login mechanism offered at all.
    NoMechanism,
    /// Only these mechanisms (none we use), comma-separated.
    OnlyOffers(String),
    /// A mechanism we do not implement was chosen.
    Unsupported(String),
    /// A SCRAM iteration count above our cap.
    Iterations(u64),
    /// The SCRAM server signature was missing or wrong (what was wrong).
    NotProven(String),
    /// The server bound us to another address.
    BoundAs(String),
}

const PLAIN_ONLY: &str = "the server only offers PLAIN login, which sends your password \
                          itself (hidden only by the encrypted connection), so Loquat did not \
                          log in; if you trust this server, turn on \"Allow sending the \
                          password in plain form\" for this account (under Advanced when \
                          signing in, or in Settings > Accounts > Edit)";
const NO_STARTTLS: &str = "the server does not offer an encrypted connection (STARTTLS)";
const STARTTLS_REFUSED: &str = "the server refused to start TLS";
const NO_MECHANISM: &str = "the server offers no way to log in";
const ONLY_OFFERS: &str = "the server only offers ";
const UNSUPPORTED: (&str, &str) = ("the login mechanism ", " is not supported");
const ITERATIONS: (&str, &str) = (
    "the server asked for ",
    " rounds of password hashing; Loquat does at most 1000000, so this is not a server \
     it should trust",
);
const NOT_PROVEN: (&str, &str) = (
    "the server could not prove that it knows your password (",
    "); it may be an impostor",
);
const BOUND_AS: &str = "the server signed us in as ";

impl Insecure {
    /// The English words (what the error carries).
    pub fn detail(&self) -> String {
        match self {
            Insecure::PlainOnly => PLAIN_ONLY.to_owned(),
            Insecure::NoStarttls => NO_STARTTLS.to_owned(),
            Insecure::StarttlsRefused => STARTTLS_REFUSED.to_owned(),
            Insecure::NoMechanism => NO_MECHANISM.to_owned(),
            Insecure::OnlyOffers(list) => format!("{ONLY_OFFERS}{list}"),
            Insecure::Unsupported(m) => format!("{}{m}{}", UNSUPPORTED.0, UNSUPPORTED.1),
            Insecure::Iterations(i) => format!("{}{i}{}", ITERATIONS.0, ITERATIONS.1),
            Insecure::NotProven(why) => format!("{}{why}{}", NOT_PROVEN.0, NOT_PROVEN.1),
            Insecure::BoundAs(jid) => format!("{BOUND_AS}{jid}"),
        }
    }

    /// The error to report.
    pub fn error(&self) -> SessionError {
        SessionError::InsecureLogin {
            detail: self.detail(),
        }
    }

    /// The reason whose [`Insecure::detail`] is `detail`, if it is one.
    pub fn from_detail(detail: &str) -> Option<Insecure> {
        let between = |(pre, post): (&str, &str)| {
            detail
                .strip_prefix(pre)
                .and_then(|rest| rest.strip_suffix(post))
                .map(str::to_owned)
        };
        Some(match detail {
            PLAIN_ONLY => Insecure::PlainOnly,
            NO_STARTTLS => Insecure::NoStarttls,
            STARTTLS_REFUSED => Insecure::StarttlsRefused,
            NO_MECHANISM => Insecure::NoMechanism,
            _ => {
                if let Some(m) = between(UNSUPPORTED) {
                    Insecure::Unsupported(m)
                } else if let Some(i) = between(ITERATIONS).and_then(|i| i.parse().ok()) {
                    Insecure::Iterations(i)
                } else if let Some(why) = between(NOT_PROVEN) {
                    Insecure::NotProven(why)
                } else if let Some(list) = detail.strip_prefix(ONLY_OFFERS) {
                    Insecure::OnlyOffers(list.to_owned())
                } else if let Some(jid) = detail.strip_prefix(BOUND_AS) {
                    Insecure::BoundAs(jid.to_owned())
                } else {
                    return None;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_comes_back_from_its_words() {
        for r in [
            Insecure::PlainOnly,
            Insecure::NoStarttls,
            Insecure::StarttlsRefused,
            Insecure::NoMechanism,
            Insecure::OnlyOffers("ANONYMOUS, X-OAUTH2".into()),
            Insecure::Unsupported("X-FOO".into()),
            Insecure::Iterations(4_294_967_295),
            Insecure::NotProven("wrong server signature".into()),
            Insecure::BoundAs("mallory@evil.example/x".into()),
        ] {
            assert_eq!(Insecure::from_detail(&r.detail()), Some(r.clone()), "{r:?}");
        }
        assert_eq!(Insecure::from_detail("something else"), None);
        assert!(
            ITERATIONS
                .1
                .contains(&super::super::sasl_login::MAX_SCRAM_ITERATIONS.to_string())
        );
    }
}
