//! Taking over a connection whose handshake another library did: the keys
//! and sequence numbers of both directions, as an [`Established`] to start a
//! [`Session`](crate::Session) from: [`Session::client_from_established`]
//! or [`Session::server_from_established`] for the side this endpoint is.
//!
//! [`Session::client_from_established`]: crate::Session::client_from_established
//! [`Session::server_from_established`]: crate::Session::server_from_established
//!
//! Two sources:
//!
//! - an SSLKEYLOGFILE plus the two randoms ([`from_keylog`]), for any
//!   library that writes one (OpenSSL, rustls, Go, NSS, BoringSSL);
//! - rustls 0.23 after a handshake with `enable_secret_extraction`
//!   (`from_rustls`, feature `rustls`), which hands over keys and
//!   sequence numbers exactly. Prefer the `takeover` module (feature
//!   `rustls`): it runs the handshake so that no byte is lost, collects the
//!   traffic secrets itself and calls this.
//!
//! For TLS 1.3, following a KeyUpdate needs the traffic secrets, which rustls
//! does not export: pass the `CLIENT_TRAFFIC_SECRET_0` /
//! `SERVER_TRAFFIC_SECRET_0` lines its `KeyLog` saw (still valid if no
//! KeyUpdate happened before the handover). Without them, a KeyUpdate fails
//! with [`Reason::NoTrafficSecret`](crate::Reason::NoTrafficSecret).
//!
//! Pairs are `(read, write)` from this endpoint's point of view everywhere,
//! as in [`Established`]; [`Role`] says which end this endpoint is.

use crate::cipher::CipherSuite;
use crate::error::Error;
use crate::keylog::{KeyLog, KeyLogLabel};
use crate::keys::{tls12_key_block, RecordKeys, Secret};
use crate::record::Version;
pub use crate::role::Role;
use crate::session::Established;

/// The former name of [`Role`].
#[deprecated(note = "use tlsrec::Role")]
pub type Side = Role;

/// The state after a handshake found in a key log: TLS 1.3 from the
/// `*_TRAFFIC_SECRET_0` lines, TLS 1.2 from `CLIENT_RANDOM` (the key block
/// from the master secret and both randoms). `read_seq` / `write_seq` are
/// the records already exchanged under these keys (TLS 1.2: the Finished
/// each side sent counts one).
///
/// # Errors
/// [`Error::BadInput`] if the key log lacks the lines for `client_random`.
pub fn from_keylog(
    keylog: &KeyLog,
    suite: CipherSuite,
    role: Role,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    read_seq: u64,
    write_seq: u64,
) -> Result<Established, Error> {
    let (client, server, secrets) = match suite.version() {
        Version::Tls13 => {
            let get = |l| {
                keylog
                    .find(&l, client_random)
                    .cloned()
                    .ok_or(Error::BadInput("no traffic secret for this client random"))
            };
            let c = get(KeyLogLabel::ClientTrafficSecret0)?;
            let s = get(KeyLogLabel::ServerTrafficSecret0)?;
            (
                RecordKeys::from_traffic_secret(suite, &c)?,
                RecordKeys::from_traffic_secret(suite, &s)?,
                Some((c, s)),
            )
        }
        Version::Tls12 => {
            let ms = keylog.master_secret(client_random).ok_or(Error::BadInput(
                "no CLIENT_RANDOM line for this client random",
            ))?;
            let (c, s) = tls12_key_block(suite, ms, client_random, server_random)?;
            (c, s, None)
        }
    };
    Ok(arrange(
        suite, role, client, server, secrets, read_seq, write_seq,
    ))
}

fn arrange(
    suite: CipherSuite,
    role: Role,
    client: RecordKeys,
    server: RecordKeys,
    secrets: Option<(Secret, Secret)>,
    read_seq: u64,
    write_seq: u64,
) -> Established {
    let (read, write, secrets) = match role {
        Role::Client => (server, client, secrets.map(|(c, s)| (s, c))),
        Role::Server => (client, server, secrets),
    };
    Established {
        suite,
        read,
        read_seq,
        write,
        write_seq,
        secrets,
    }
}

/// The state rustls hands over after `dangerous_extract_secrets()`
/// (rustls's `tx` / `rx` are this endpoint's write / read already, so no
/// role is needed). `traffic_secrets` are the TLS 1.3 application traffic
/// secrets `(read, write)` of this endpoint (for the client: the server's
/// `SERVER_TRAFFIC_SECRET_0` first), for KeyUpdate; with `None` a KeyUpdate
/// fails with [`Reason::NoTrafficSecret`](crate::Reason::NoTrafficSecret).
/// Ignored for TLS 1.2.
///
/// # Errors
/// [`Error::BadInput`] for a suite this crate does not implement, or
/// traffic secrets that do not give the extracted keys (swapped, or from
/// before a KeyUpdate rustls already followed).
#[cfg(feature = "rustls")]
pub fn from_rustls(
    suite: rustls::SupportedCipherSuite,
    secrets: rustls::ExtractedSecrets,
    traffic_secrets: Option<(Secret, Secret)>,
) -> Result<Established, Error> {
    use rustls::ConnectionTrafficSecrets as T;
    let code = u16::from(suite.suite());
    let ours = CipherSuite::from_code(code).ok_or(Error::BadInput("cipher suite not supported"))?;
    let keys = |s: &T| -> Result<RecordKeys, Error> {
        let (key, iv) = match s {
            T::Aes128Gcm { key, iv }
            | T::Aes256Gcm { key, iv }
            | T::Chacha20Poly1305 { key, iv } => (key.as_ref(), iv.as_ref()),
            _ => return Err(Error::BadInput("cipher suite not supported")),
        };
        // TLS 1.2 AES-GCM: rustls gives salt (4 bytes) || explicit part; the
        // explicit nonce travels in each record.
        let iv_len = ours.aead().fixed_iv_len(ours.version());
        RecordKeys::new(ours, key, &iv[..iv_len])
    };
    let (tx_seq, tx) = &secrets.tx;
    let (rx_seq, rx) = &secrets.rx;
    let (write, read) = (keys(tx)?, keys(rx)?);
    let secrets = match traffic_secrets {
        Some((r, w)) if ours.version() == Version::Tls13 => {
            let gives = |s: &Secret, k: &RecordKeys| {
                RecordKeys::from_traffic_secret(ours, s).is_ok_and(|d| d == *k)
            };
            if !gives(&r, &read) || !gives(&w, &write) {
                return Err(Error::BadInput(
                    "traffic secrets do not give the extracted keys",
                ));
            }
            Some((r, w))
        }
        _ => None,
    };
    Ok(Established {
        suite: ours,
        read,
        read_seq: *rx_seq,
        write,
        write_seq: *tx_seq,
        secrets,
    })
}
