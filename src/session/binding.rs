//! Which SASL mechanism to log in with, and with which SCRAM channel binding (issue
//! #20). Sans-io: what the server offers and what our TLS connection can give in, the
//! choice out.
//!
//! Channel binding (`SCRAM-*-PLUS`, RFC 5802) ties the login to this TLS connection:
//! a man in the middle who holds a certificate we trust (pinned by hand, or from a
//! compromised authority) has its own TLS connection to the real server, so the
//! binding the real server computes differs from ours and the login fails there.
//!
//! - We can give `tls-exporter` (RFC 9266) on TLS 1.3 only: rustls exports keying
//!   material, and RFC 9266 forbids the exporter on TLS 1.2 without extended master
//!   secret, which rustls does not let us check. `tls-unique` (what Prosody 0.12 and
//!   ejabberd 23.01 use) needs the TLS Finished message, which rustls does not expose;
//!   `tls-server-end-point` is not in the `sasl` crate's `ChannelBinding`.
//! - `-PLUS` is used when the server offers it and says (XEP-0440) that it takes
//!   `tls-exporter`. A server that offers `-PLUS` without XEP-0440 is not sent
//!   `tls-exporter` blindly: ejabberd 23.01 does that and accepts only `tls-unique`,
//!   so the login would fail for good. Then, and whenever `-PLUS` is offered but we
//!   cannot bind, the login is plain SCRAM with the `n` flag, and the reason is
//!   logged (never silently).
//! - When we could bind but the server offers no `-PLUS` at all, the flag is `y`
//!   (RFC 5802 section 6): a server that does support channel binding then knows the
//!   `-PLUS` names were stripped on the way, and refuses.

use crate::session::SessionError;
use sasl::common::ChannelBinding;
use std::collections::BTreeSet;
use xmpp_parsers::sasl_cb::Type as CbType;

/// The label of the RFC 9266 exporter.
pub const EXPORTER_LABEL: &[u8] = b"EXPORTER-Channel-Binding";
/// How many bytes of keying material RFC 9266 exports.
pub const EXPORTER_LEN: usize = 32;

/// SCRAM mechanisms in order of preference: channel binding first, then the
/// stronger hash.
const SCRAM: [(&str, &str); 2] = [
    ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"),
    ("SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"),
];

/// How we log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub mechanism: &'static str,
    pub binding: ChannelBinding,
    /// Why a `-PLUS` mechanism the server offered was not used (for the log).
    pub unbound: Option<String>,
}

/// Chooses the login from the mechanisms the server offers, the channel-binding
/// types it announces (XEP-0440; `None` when it says nothing), and the `tls-exporter`
/// binding of our connection (`None` below TLS 1.3). PLAIN only when the server
/// offers no SCRAM and the account allows it (`allow_plain`).
pub fn choose(
    offered: &BTreeSet<String>,
    server_types: Option<&[CbType]>,
    exporter: Option<Vec<u8>>,
    allow_plain: bool,
) -> Result<Login, SessionError> {
    let plus_offered: Vec<&str> = SCRAM
        .iter()
        .map(|(plus, _)| *plus)
        .filter(|m| offered.contains(*m))
        .collect();
    let server_takes_exporter =
        server_types.is_some_and(|types| types.contains(&CbType::TlsExporter));
    if let (Some(plus), Some(data), true) = (
        plus_offered.first(),
        exporter.as_ref(),
        server_takes_exporter,
    ) {
        return Ok(Login {
            mechanism: plus,
            binding: ChannelBinding::TlsExporter(data.clone()),
            unbound: None,
        });
    }
    let unbound = plus_offered.first().map(|plus| {
        if exporter.is_none() {
            format!(
                "the server offers {plus}, but this connection is not TLS 1.3, so Loquat has \
                 no channel binding to give (tls-exporter needs TLS 1.3)"
            )
        } else if server_types.is_none() {
            format!(
                "the server offers {plus} without saying which channel binding it takes \
                 (XEP-0440); Loquat can give only tls-exporter and does not guess"
            )
        } else {
            format!(
                "the server offers {plus} with channel bindings Loquat cannot give ({})",
                server_types
                    .unwrap_or_default()
                    .iter()
                    .map(type_name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    });
    let flag = if exporter.is_some() && plus_offered.is_empty() {
        // We could bind, the server seems not to: say so, so a server that can
        // notices its -PLUS names were removed on the way.
        ChannelBinding::Unsupported
    } else {
        ChannelBinding::None
    };
    if let Some((_, plain_scram)) = SCRAM.iter().find(|(_, m)| offered.contains(*m)) {
        return Ok(Login {
            mechanism: plain_scram,
            binding: flag,
            unbound,
        });
    }
    if offered.contains("PLAIN") {
        return if allow_plain {
            Ok(Login {
                mechanism: "PLAIN",
                binding: ChannelBinding::None,
                unbound,
            })
        } else {
            Err(super::insecure::Insecure::PlainOnly.error())
        };
    }
    Err(if offered.is_empty() {
        super::insecure::Insecure::NoMechanism.error()
    } else {
        super::insecure::Insecure::OnlyOffers(
            offered.iter().cloned().collect::<Vec<_>>().join(", "),
        )
        .error()
    })
}

fn type_name(t: &CbType) -> &'static str {
    match t {
        CbType::TlsUnique => "tls-unique",
        CbType::TlsServerEndPoint => "tls-server-end-point",
        CbType::TlsUniqueForTelnet => "tls-unique-for-telnet",
        CbType::TlsExporter => "tls-exporter",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    const EXPORTER: &[CbType] = &[CbType::TlsServerEndPoint, CbType::TlsExporter];

    fn key() -> Option<Vec<u8>> {
        Some(vec![7; EXPORTER_LEN])
    }

    #[test]
    fn plus_with_tls_exporter_when_the_server_takes_it() {
        let all = set(&[
            "PLAIN",
            "SCRAM-SHA-1",
            "SCRAM-SHA-1-PLUS",
            "SCRAM-SHA-256",
            "SCRAM-SHA-256-PLUS",
        ]);
        let login = choose(&all, Some(EXPORTER), key(), false).unwrap();
        assert_eq!(login.mechanism, "SCRAM-SHA-256-PLUS");
        assert_eq!(login.binding, ChannelBinding::TlsExporter(vec![7; 32]));
        assert_eq!(login.binding.header(), b"p=tls-exporter,,");
        assert_eq!(login.unbound, None);
        // Binding beats the stronger hash.
        let login = choose(
            &set(&["SCRAM-SHA-1-PLUS", "SCRAM-SHA-256"]),
            Some(EXPORTER),
            key(),
            false,
        )
        .unwrap();
        assert_eq!(login.mechanism, "SCRAM-SHA-1-PLUS");
    }

    #[test]
    fn y_when_we_could_bind_and_no_plus_is_offered() {
        let login = choose(&set(&["SCRAM-SHA-1", "SCRAM-SHA-256"]), None, key(), false).unwrap();
        assert_eq!(login.mechanism, "SCRAM-SHA-256");
        assert_eq!(login.binding.header(), b"y,,");
        assert_eq!(login.unbound, None);
    }

    #[test]
    fn n_when_we_cannot_bind() {
        // TLS 1.2: nothing to bind with, whatever the server offers.
        for offered in [
            set(&["SCRAM-SHA-1"]),
            set(&["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"]),
        ] {
            let login = choose(&offered, Some(EXPORTER), None, false).unwrap();
            assert_eq!(login.mechanism, "SCRAM-SHA-1");
            assert_eq!(login.binding.header(), b"n,,");
            assert_eq!(
                login.unbound.is_some(),
                offered.contains("SCRAM-SHA-1-PLUS")
            );
        }
    }

    #[test]
    fn plus_offered_without_a_binding_we_share_is_skipped_and_said() {
        let offered = set(&[
            "SCRAM-SHA-1",
            "SCRAM-SHA-1-PLUS",
            "SCRAM-SHA-256",
            "SCRAM-SHA-256-PLUS",
        ]);
        // ejabberd 23.01: -PLUS with tls-unique only, and no XEP-0440.
        let login = choose(&offered, None, key(), false).unwrap();
        assert_eq!(login.mechanism, "SCRAM-SHA-256");
        assert_eq!(login.binding.header(), b"n,,");
        assert!(login.unbound.as_deref().unwrap().contains("XEP-0440"));
        // XEP-0440 naming only what we cannot give.
        let login = choose(&offered, Some(&[CbType::TlsUnique]), key(), false).unwrap();
        assert_eq!(login.binding.header(), b"n,,");
        assert!(login.unbound.as_deref().unwrap().contains("tls-unique"));
    }

    #[test]
    fn plain_only_when_allowed_and_never_anonymous() {
        assert!(matches!(
            choose(&set(&["PLAIN"]), None, key(), false),
            Err(SessionError::InsecureLogin { detail }) if detail.contains("PLAIN")
        ));
        assert_eq!(
            choose(&set(&["PLAIN"]), None, key(), true)
                .unwrap()
                .mechanism,
            "PLAIN"
        );
        for allow in [false, true] {
            assert!(choose(&set(&["ANONYMOUS"]), None, key(), allow).is_err());
            assert!(choose(&set(&[]), None, key(), allow).is_err());
            // SCRAM always beats PLAIN.
            assert_eq!(
                choose(&set(&["PLAIN", "SCRAM-SHA-1"]), None, None, allow)
                    .unwrap()
                    .mechanism,
                "SCRAM-SHA-1"
            );
        }
    }
}
