//! The server's TLS 1.2 full handshake (RFC 5246 7.3), as a driver.

use std::sync::Arc;

use crate::alert::AlertDescription as A;
use crate::cipher::CipherSuite;
use crate::driver::{FlightItem, HandshakeDriver, Progress};
use crate::handshake::{HandshakeMessage, HandshakeType as T};
use crate::keys::{tls12_key_block, RecordKeys, Secret};
use crate::record::Version;

use super::client::{fits, MAX_CERT_LIST};
use super::codec::{self, ext, Rd, Wr, EMPTY_RENEGOTIATION_INFO_SCSV};
use super::crypto::{self, Ephemeral, Transcript};
use super::{
    CertResolution, ClientAuth, ClientCertVerification, ClientHelloInfo, HandshakeSummary,
    NamedGroup, ServerConfig, SignatureScheme, Status,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// A ClientHello (no handshake runs, or one was asked for with a
    /// HelloRequest).
    ClientHello,
    Certificate,
    ClientKeyExchange,
    CertificateVerify,
    Finished,
}

struct Hs {
    transcript: Transcript,
    client_random: [u8; 32],
    server_random: [u8; 32],
    suite: CipherSuite,
    group: NamedGroup,
    scheme: SignatureScheme,
    eph: Option<Ephemeral>,
    /// How the client's certificate is checked, if one was asked for, and
    /// whether it must come.
    client_auth: Option<(ClientCertVerification, bool)>,
    /// The ClientHello's groups (for the client certificate's curve).
    client_groups: Option<Vec<NamedGroup>>,
    client_chain: Vec<Vec<u8>>,
    master: Option<Secret>,
    client_write: Option<RecordKeys>,
    server_write: Option<RecordKeys>,
}

pub(super) struct Server {
    cfg: Arc<ServerConfig>,
    status: Status,
    wait: Wait,
    hs: Option<Hs>,
    previous: Option<([u8; 12], [u8; 12])>,
}

/// What the ClientHello offered (parsed before any state changes, so a
/// paused lookup leaves nothing behind).
struct Hello {
    random: [u8; 32],
    suites: Vec<CipherSuite>,
    groups: Option<Vec<NamedGroup>>,
    schemes: Vec<SignatureScheme>,
    point_formats: bool,
    /// The client's point formats allow uncompressed points (or it sent
    /// none).
    uncompressed: bool,
    server_name: Option<String>,
}

impl Server {
    pub(super) fn new(cfg: Arc<ServerConfig>, status: Status) -> Self {
        Server {
            cfg,
            status,
            wait: Wait::ClientHello,
            hs: None,
            previous: None,
        }
    }

    fn parse_hello(&self, body: &[u8]) -> Result<Hello, A> {
        let mut r = Rd::new(body);
        let version = r.u16()?;
        let random = r.take(32)?;
        let session_id = r.vec8()?;
        let suites = r.vec16()?;
        let compression = r.vec8()?;
        let exts = codec::extensions(&mut r, &codec::Hello::Client)?;
        if session_id.len() > 32 {
            return Err(A::DecodeError);
        }
        let suites = codec::u16_list(suites)?;
        if compression.is_empty() {
            return Err(A::DecodeError);
        }
        if version < 0x0303 {
            // This server speaks TLS 1.2 only (OpenSSL: "unsupported protocol").
            return Err(A::ProtocolVersion);
        }
        if !compression.contains(&0) {
            // OpenSSL: "no compression specified".
            return Err(A::DecodeError);
        }
        let scsv = suites.contains(&EMPTY_RENEGOTIATION_INFO_SCSV);
        let ri = codec::find(&exts, ext::RENEGOTIATION_INFO);
        match &self.previous {
            // RFC 5746 3.6: the SCSV or an empty renegotiation_info. This
            // server requires one (no legacy peers).
            None => match ri {
                Some([0]) => {}
                Some(_) => return Err(A::HandshakeFailure),
                None if scsv => {}
                None => return Err(A::HandshakeFailure),
            },
            // RFC 5746 3.7: the client's last verify_data, and no SCSV.
            Some((c, _)) => {
                let mut want = vec![12u8];
                want.extend_from_slice(c);
                if scsv || ri != Some(want.as_slice()) {
                    return Err(A::HandshakeFailure);
                }
            }
        }
        match codec::find(&exts, ext::EXTENDED_MASTER_SECRET) {
            Some([]) => {}
            Some(_) => return Err(A::DecodeError),
            // Required (RFC 7627 5.3 lets a server abort).
            None => return Err(A::HandshakeFailure),
        }
        let groups = match codec::find(&exts, ext::SUPPORTED_GROUPS) {
            None => None,
            Some(b) => {
                let mut r = Rd::new(b);
                let list = codec::u16_list(r.vec16()?)?;
                r.end()?;
                Some(list.into_iter().filter_map(NamedGroup::from_code).collect())
            }
        };
        let point_formats = codec::find(&exts, ext::EC_POINT_FORMATS).is_some();
        let uncompressed = match codec::find(&exts, ext::EC_POINT_FORMATS) {
            None => true,
            Some(b) => {
                let mut r = Rd::new(b);
                let list = r.vec8()?;
                r.end()?;
                if list.is_empty() {
                    return Err(A::DecodeError);
                }
                // RFC 8422 5.1.2: uncompressed must be there; without it
                // OpenSSL finds no ECDHE suite usable ("no shared
                // cipher", handshake_failure, when the suite is chosen).
                list.contains(&0)
            }
        };
        let schemes = match codec::find(&exts, ext::SIGNATURE_ALGORITHMS) {
            // RFC 5246 7.4.1.4.1: absent means SHA-1, which this crate does
            // not sign with: nothing in common.
            None => Vec::new(),
            Some(b) => {
                let mut r = Rd::new(b);
                let list = codec::u16_list(r.vec16()?)?;
                r.end()?;
                list.into_iter()
                    .filter_map(SignatureScheme::from_code)
                    .collect()
            }
        };
        let server_name = match codec::find(&exts, ext::SERVER_NAME) {
            None => None,
            Some(b) => codec::server_name(b)?,
        };
        let mut rand = [0u8; 32];
        rand.copy_from_slice(random);
        Ok(Hello {
            random: rand,
            suites: suites
                .into_iter()
                .filter_map(CipherSuite::from_code)
                .filter(|s| s.version() == Version::Tls12)
                .collect(),
            groups,
            schemes,
            point_formats,
            uncompressed,
            server_name,
        })
    }

    fn client_hello(&mut self, body: &[u8], out: &mut Vec<FlightItem>) -> Result<Progress, A> {
        let hello = self.parse_hello(body)?;
        let renegotiation = self.previous.is_some();
        self.status.looked_up();
        let info = ClientHelloInfo {
            server_name: hello.server_name.clone(),
            suites: hello.suites.clone(),
            signature_schemes: hello.schemes.clone(),
            renegotiation,
        };
        let id = match self.cfg.cert.resolve(&info) {
            CertResolution::Ready(id) => id,
            CertResolution::Pending => return Ok(Progress::Pending),
            CertResolution::NoCertificate => return Err(A::HandshakeFailure),
        };
        // An ECDSA certificate whose curve the client did not list is no
        // use (OpenSSL's tls1_check_cert_param).
        let ec_cert_usable = match id.chain.first().and_then(|c| crypto::key_kind(c)) {
            Some(crypto::KeyKind::Ec(Some(c))) => {
                hello.groups.as_ref().is_none_or(|g| g.contains(&c))
            }
            _ => true,
        };
        // OpenSSL: "no shared cipher", "no suitable signature algorithm",
        // "no suitable key share": all handshake_failure.
        let suite = self
            .cfg
            .suites
            .iter()
            .copied()
            .find(|s| {
                hello.uncompressed
                    && hello.suites.contains(s)
                    && crypto::suite_is_ecdsa(*s) == id.key.is_ecdsa()
                    && ec_cert_usable
            })
            .ok_or(A::HandshakeFailure)?;
        let scheme = id.key.choose(&hello.schemes).ok_or(A::HandshakeFailure)?;
        let group = self
            .cfg
            .groups
            .iter()
            .copied()
            .find(|g| hello.groups.as_ref().is_none_or(|c| c.contains(g)))
            .ok_or(A::HandshakeFailure)?;

        let server_random = crypto::random32()?;
        let mut transcript = Transcript::default();
        transcript.add(1, body);

        // ServerHello.
        let mut sh = Vec::new();
        sh.u16(0x0303);
        sh.extend_from_slice(&server_random);
        sh.vec8(&[]); // no session id: nothing is resumed
        sh.u16(suite.code());
        sh.u8(0);
        let ri = match &self.previous {
            None => vec![0],
            Some((c, s)) => {
                let mut v = vec![24u8];
                v.extend_from_slice(c);
                v.extend_from_slice(s);
                v
            }
        };
        let mut exts = vec![
            (ext::RENEGOTIATION_INFO, ri),
            (ext::EXTENDED_MASTER_SECRET, Vec::new()),
        ];
        if hello.point_formats {
            exts.push((ext::EC_POINT_FORMATS, vec![1, 0]));
        }
        codec::put_extensions(&mut sh, &exts);
        transcript.add(2, &sh);
        out.push(FlightItem::Message(T::ServerHello, sh));

        // Certificate.
        let chain: Vec<&[u8]> = id.chain.iter().map(|c| c.as_ref()).collect();
        let cert = codec::put_certificate_list(&chain);
        transcript.add(11, &cert);
        out.push(FlightItem::Message(T::Certificate, cert));

        // ServerKeyExchange: ECDHE params signed with the randoms.
        let eph = Ephemeral::new(group)?;
        let mut params = Vec::new();
        params.u8(3);
        params.u16(group.code());
        params.vec8(&eph.public);
        let mut signed = Vec::with_capacity(64 + params.len());
        signed.extend_from_slice(&hello.random);
        signed.extend_from_slice(&server_random);
        signed.extend_from_slice(&params);
        let sig = id.key.sign(scheme, &signed)?;
        let mut ske = params;
        ske.u16(scheme.code());
        ske.vec16(&sig);
        transcript.add(12, &ske);
        out.push(FlightItem::Message(T::ServerKeyExchange, ske));

        // CertificateRequest, if asked for.
        let client_auth = match &self.cfg.client_auth {
            _ if self.cfg.client_auth_renegotiation_only && !renegotiation => None,
            ClientAuth::Off => None,
            ClientAuth::Request(v) => Some((v.clone(), false)),
            ClientAuth::Require(v) => Some((v.clone(), true)),
        };
        if client_auth.is_some() {
            let mut cr = Vec::new();
            cr.vec8(&[1, 64]); // rsa_sign, ecdsa_sign
            let mut algs = Vec::new();
            for s in &self.cfg.signature_schemes {
                algs.u16(s.code());
            }
            cr.vec16(&algs);
            cr.vec16(&[]); // any authority
            transcript.add(13, &cr);
            out.push(FlightItem::Message(T::CertificateRequest, cr));
        }
        transcript.add(14, &[]);
        out.push(FlightItem::Message(T::ServerHelloDone, Vec::new()));

        self.wait = if client_auth.is_some() {
            Wait::Certificate
        } else {
            Wait::ClientKeyExchange
        };
        self.hs = Some(Hs {
            transcript,
            client_random: hello.random,
            server_random,
            suite,
            group,
            scheme,
            eph: Some(eph),
            client_auth,
            client_groups: hello.groups.clone(),
            client_chain: Vec::new(),
            master: None,
            client_write: None,
            server_write: None,
        });
        Ok(Progress::Continue)
    }

    fn certificate(&mut self, body: &[u8]) -> Result<(), A> {
        let hs = self.hs.as_mut().ok_or(A::InternalError)?;
        let chain = codec::certificate_list(body)?;
        let (how, required) = hs.client_auth.clone().ok_or(A::InternalError)?;
        if chain.is_empty() {
            if required {
                // OpenSSL: "peer did not return a certificate".
                return Err(A::HandshakeFailure);
            }
        } else {
            crypto::verify_client_chain(&how, &chain)?;
        }
        hs.client_chain = chain;
        hs.transcript.add(11, body);
        Ok(())
    }

    fn client_key_exchange(&mut self, body: &[u8]) -> Result<Wait, A> {
        let hs = self.hs.as_mut().ok_or(A::InternalError)?;
        if body.is_empty() {
            // tls_process_cke_ecdhe: "missing tmp ecdh key".
            return Err(A::HandshakeFailure);
        }
        let mut r = Rd::new(body);
        let public = r.vec8()?;
        r.end()?;
        // An empty or bad point: "bad key share", illegal_parameter.
        let eph = hs.eph.take().ok_or(A::InternalError)?;
        let pms = eph.agree(public)?;
        hs.transcript.add(16, body);
        let session_hash = hs.transcript.hash(hs.suite.hash());
        let ms = crypto::extended_master_secret(hs.suite, &pms, &session_hash);
        self.status.master_secret(hs.client_random, &ms);
        let (cw, sw) = tls12_key_block(hs.suite, &ms, &hs.client_random, &hs.server_random)
            .map_err(|_| A::InternalError)?;
        hs.master = Some(ms);
        hs.client_write = Some(cw);
        hs.server_write = Some(sw);
        Ok(if hs.client_chain.is_empty() {
            Wait::Finished
        } else {
            Wait::CertificateVerify
        })
    }

    fn certificate_verify(&mut self, body: &[u8]) -> Result<(), A> {
        let hs = self.hs.as_mut().ok_or(A::InternalError)?;
        let mut r = Rd::new(body);
        // tls_process_cert_verify's order: the scheme, checked against the
        // key, then the signature's length.
        let scheme = r.u16()?;
        let kind = crypto::key_kind(&hs.client_chain[0]).ok_or(A::IllegalParameter)?;
        let scheme = crypto::check_peer_scheme(
            scheme,
            kind,
            &self.cfg.groups,
            hs.client_groups.as_deref(),
            &self.cfg.signature_schemes,
        )?;
        let sig = r.vec16()?;
        r.end()?;
        crypto::verify_signature(&hs.client_chain[0], scheme, hs.transcript.bytes(), sig)?;
        hs.transcript.add(15, body);
        Ok(())
    }

    fn finished(&mut self, body: &[u8], out: &mut Vec<FlightItem>) -> Result<(), A> {
        let mut hs = self.hs.take().ok_or(A::InternalError)?;
        if body.len() != 12 {
            return Err(A::DecodeError);
        }
        let ms = hs.master.take().ok_or(A::InternalError)?;
        let want = crypto::verify_data(hs.suite, &ms, b"client finished", &hs.transcript);
        if !crypto::ct_eq(&want, body) {
            return Err(A::DecryptError);
        }
        hs.transcript.add(20, body);
        let ours = crypto::verify_data(hs.suite, &ms, b"server finished", &hs.transcript);
        out.push(FlightItem::WriteKeys(
            hs.server_write.take().ok_or(A::InternalError)?,
        ));
        out.push(FlightItem::Message(T::Finished, ours.to_vec()));
        let renegotiation = self.previous.is_some();
        self.previous = Some((want, ours));
        self.status.completed(HandshakeSummary {
            suite: hs.suite,
            group: hs.group,
            signature_scheme: hs.scheme,
            peer_certificates: hs.client_chain,
            renegotiation,
            client_cert_requested: hs.client_auth.is_some(),
        });
        Ok(())
    }

    fn read_keys(&mut self, out: &mut Vec<FlightItem>) -> Result<(), A> {
        let hs = self.hs.as_mut().ok_or(A::InternalError)?;
        out.push(FlightItem::ReadKeys(
            hs.client_write.take().ok_or(A::InternalError)?,
        ));
        Ok(())
    }
}

impl HandshakeDriver for Server {
    fn start(&mut self, _out: &mut Vec<FlightItem>) -> Progress {
        // A server's renegotiation begins with the record layer's
        // HelloRequest; its driver waits for the ClientHello.
        Progress::Continue
    }

    fn message(&mut self, msg: &HandshakeMessage, out: &mut Vec<FlightItem>) -> Progress {
        let r = match (self.wait, msg.typ) {
            (Wait::ClientHello, T::ClientHello) => {
                match fits(msg, 131_396).and_then(|()| self.client_hello(&msg.body, out)) {
                    Ok(p) => return p,
                    Err(a) => Err(a),
                }
            }
            (Wait::Certificate, T::Certificate) => fits(msg, MAX_CERT_LIST)
                .and_then(|()| self.certificate(&msg.body))
                .map(|()| Wait::ClientKeyExchange),
            (Wait::ClientKeyExchange, T::ClientKeyExchange) => fits(msg, 2048)
                .and_then(|()| self.client_key_exchange(&msg.body))
                .and_then(|w| {
                    if w == Wait::Finished {
                        self.read_keys(out)?;
                    }
                    Ok(w)
                }),
            (Wait::CertificateVerify, T::CertificateVerify) => fits(msg, 16_384)
                .and_then(|()| self.certificate_verify(&msg.body))
                .and_then(|()| self.read_keys(out))
                .map(|()| Wait::Finished),
            (Wait::Finished, T::Finished) => fits(msg, 64)
                .and_then(|()| self.finished(&msg.body, out))
                .map(|()| Wait::ClientHello),
            _ => Err(A::UnexpectedMessage),
        };
        match r {
            Ok(Wait::ClientHello) => {
                self.wait = Wait::ClientHello;
                Progress::Done
            }
            Ok(w) => {
                self.wait = w;
                Progress::Continue
            }
            Err(a) => {
                out.clear();
                self.wait = Wait::ClientHello;
                self.hs = None;
                Progress::Fail(a)
            }
        }
    }
}
