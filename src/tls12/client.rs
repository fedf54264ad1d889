//! The client's TLS 1.2 full handshake (RFC 5246 7.3), as a driver.

use std::sync::Arc;

use crate::alert::AlertDescription as A;
use crate::cipher::CipherSuite;
use crate::driver::{FlightItem, HandshakeDriver, Progress};
use crate::handshake::{HandshakeMessage, HandshakeType as T};
use crate::keys::{tls12_key_block, Secret};
use crate::record::Version;

use super::codec::{self, ext, Rd, Wr};
use super::crypto::{self, Ephemeral, Transcript};
use super::{ClientConfig, HandshakeSummary, NamedGroup, SignatureScheme, Status};

/// Which server message comes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// No handshake runs.
    Idle,
    ServerHello,
    Certificate,
    ServerKeyExchange,
    /// CertificateRequest or ServerHelloDone.
    RequestOrDone,
    ServerHelloDone,
    Finished,
}

/// The handshake that runs.
struct Hs {
    transcript: Transcript,
    client_random: [u8; 32],
    server_random: [u8; 32],
    suite: Option<CipherSuite>,
    chain: Vec<Vec<u8>>,
    group: Option<NamedGroup>,
    scheme: Option<SignatureScheme>,
    /// CertificateRequest's signature schemes, if one came.
    requested: Option<Vec<SignatureScheme>>,
    master: Option<Secret>,
    client_verify: [u8; 12],
    /// The extension types our ClientHello sent.
    sent: Vec<u16>,
    /// Our ECDHE public value and the premaster secret, from the
    /// ServerKeyExchange (OpenSSL checks the server's point there).
    client_public: Vec<u8>,
    agreement: Option<Agreement>,
}

/// The premaster secret, or what makes it at our ClientKeyExchange.
enum Agreement {
    Done(Secret),
    Due(Ephemeral, Vec<u8>),
}

pub(super) struct Client {
    cfg: Arc<ClientConfig>,
    status: Status,
    wait: Wait,
    hs: Option<Hs>,
    /// The last completed handshake's verify_data, (client, server): RFC
    /// 5746's renegotiation_info.
    previous: Option<([u8; 12], [u8; 12])>,
}

impl Client {
    pub(super) fn new(cfg: Arc<ClientConfig>, status: Status) -> Self {
        Client {
            cfg,
            status,
            wait: Wait::Idle,
            hs: None,
            previous: None,
        }
    }

    fn client_hello(&mut self) -> Result<Vec<u8>, A> {
        let random = crypto::random32()?;
        let mut b = Vec::new();
        b.u16(0x0303);
        b.extend_from_slice(&random);
        b.vec8(&[]); // no session to resume
        let mut suites = Vec::new();
        for s in &self.cfg.suites {
            if s.version() == Version::Tls12 {
                suites.u16(s.code());
            }
        }
        if suites.is_empty() {
            return Err(A::InternalError);
        }
        b.vec16(&suites);
        b.vec8(&[0]); // null compression
        let mut exts: Vec<(u16, Vec<u8>)> = Vec::new();
        if !self.cfg.server_name.is_empty()
            && self.cfg.server_name.parse::<std::net::IpAddr>().is_err()
        {
            exts.push((
                ext::SERVER_NAME,
                codec::put_server_name(&self.cfg.server_name),
            ));
        }
        // RFC 5746 3.4 / 3.5: an empty renegotiation_info in the first
        // handshake, the client's last verify_data in a renegotiation.
        let ri = match &self.previous {
            None => vec![0],
            Some((c, _)) => {
                let mut v = Vec::new();
                v.vec8(c);
                v
            }
        };
        exts.push((ext::RENEGOTIATION_INFO, ri));
        let mut groups = Vec::new();
        for g in &self.cfg.groups {
            groups.u16(g.code());
        }
        let mut v = Vec::new();
        v.vec16(&groups);
        exts.push((ext::SUPPORTED_GROUPS, v));
        exts.push((ext::EC_POINT_FORMATS, vec![1, 0]));
        let mut algs = Vec::new();
        for s in &self.cfg.signature_schemes {
            algs.u16(s.code());
        }
        let mut v = Vec::new();
        v.vec16(&algs);
        exts.push((ext::SIGNATURE_ALGORITHMS, v));
        exts.push((ext::EXTENDED_MASTER_SECRET, Vec::new()));
        codec::put_extensions(&mut b, &exts);
        let sent = exts.iter().map(|(t, _)| *t).collect();
        let mut hs = Hs {
            transcript: Transcript::default(),
            client_random: random,
            server_random: [0; 32],
            suite: None,
            chain: Vec::new(),
            group: None,
            scheme: None,
            requested: None,
            master: None,
            client_verify: [0; 12],
            sent,
            client_public: Vec::new(),
            agreement: None,
        };
        hs.transcript.add(1, &b);
        self.hs = Some(hs);
        Ok(b)
    }

    fn server_hello(&mut self, body: &[u8]) -> Result<(), A> {
        let hs = self.hs.as_mut().ok_or(A::InternalError)?;
        // In OpenSSL's order (tls_process_server_hello): the fields, the
        // extensions collected, then the version, suite, compression and
        // the extensions' own checks.
        let mut r = Rd::new(body);
        let version = r.u16()?;
        let random = r.take(32)?;
        let session_id_len = r.u8()?;
        if session_id_len > 32 {
            // "ssl3 session id too long"
            return Err(A::IllegalParameter);
        }
        r.take(usize::from(session_id_len))?;
        let suite = r.u16()?;
        let compression = r.u8()?;
        let exts = codec::extensions(&mut r, &codec::Hello::Server(&hs.sent))?;
        if version != 0x0303 {
            // OpenSSL: "unsupported protocol" / wrong version.
            return Err(A::ProtocolVersion);
        }
        let suite = CipherSuite::from_code(suite)
            .filter(|s| self.cfg.suites.contains(s) && s.version() == Version::Tls12)
            .ok_or(A::IllegalParameter)?;
        if compression != 0 {
            return Err(A::IllegalParameter);
        }
        // RFC 5746 3.4 / 3.5: OpenSSL's tls_parse_stoc_renegotiate, then
        // final_renegotiate when it is absent (secure renegotiation
        // required).
        let want: Vec<u8> = match &self.previous {
            None => Vec::new(),
            Some((c, s)) => [&c[..], &s[..]].concat(),
        };
        match codec::find(&exts, ext::RENEGOTIATION_INFO) {
            Some(ri) => {
                let mut r = Rd::new(ri);
                // "renegotiation encoding err"
                let got = r.vec8()?;
                r.end()?;
                if got != want.as_slice() {
                    // "renegotiation mismatch"
                    return Err(A::IllegalParameter);
                }
            }
            // OpenSSL: "unsafe legacy renegotiation disabled".
            None => return Err(A::HandshakeFailure),
        }
        if let Some(sni) = codec::find(&exts, ext::SERVER_NAME) {
            if !sni.is_empty() {
                // tls_parse_stoc_server_name: "bad extension"
                return Err(A::DecodeError);
            }
        }
        if let Some(pf) = codec::find(&exts, ext::EC_POINT_FORMATS) {
            let mut r = Rd::new(pf);
            if r.vec8()?.is_empty() {
                return Err(A::DecodeError);
            }
        }
        // tls_parse_stoc_ems reads no body. Required here (RFC 7627 5.2
        // lets a client abort; OpenSSL 3.0 goes on without it).
        if codec::find(&exts, ext::EXTENDED_MASTER_SECRET).is_none() {
            return Err(A::HandshakeFailure);
        }
        hs.server_random.copy_from_slice(random);
        hs.suite = Some(suite);
        hs.transcript.add(2, body);
        Ok(())
    }

    fn certificate(&mut self, body: &[u8]) -> Result<(), A> {
        let hs = self.hs.as_mut().ok_or(A::InternalError)?;
        let chain = codec::certificate_list(body)?;
        if chain.is_empty() {
            // OpenSSL's client: a server must send one.
            return Err(A::DecodeError);
        }
        crypto::verify_server_chain(&self.cfg.verification, &chain, &self.cfg.server_name)?;
        // tls_process_server_certificate: a key of no known type is
        // "unknown certificate type", one the suite cannot use "wrong
        // certificate type", both illegal_parameter.
        let suite = hs.suite.ok_or(A::InternalError)?;
        let kind = crypto::key_kind(&chain[0]).ok_or(A::IllegalParameter)?;
        if kind.is_ec() != crypto::suite_is_ecdsa(suite) {
            return Err(A::IllegalParameter);
        }
        hs.chain = chain;
        hs.transcript.add(11, body);
        Ok(())
    }

    fn server_key_exchange(&mut self, body: &[u8]) -> Result<(), A> {
        let hs = self.hs.as_mut().ok_or(A::InternalError)?;
        // In OpenSSL's order (tls_process_key_exchange, tls_process_ske_ecdhe).
        let mut r = Rd::new(body);
        let curve_type = r.u8()?;
        let group = r.u16()?;
        // Only named curves we offered (RFC 8422 5.4): "wrong curve".
        let group = NamedGroup::from_code(group)
            .filter(|g| curve_type == 3 && self.cfg.groups.contains(g))
            .ok_or(A::IllegalParameter)?;
        let public = r.vec8()?;
        // The server's point is checked now ("bad ecpoint"): a P-256 /
        // P-384 point must be on the curve, so our share and the premaster
        // secret are made here; an X25519 value only needs its 32 bytes
        // (OpenSSL's derive, at our ClientKeyExchange, refuses a value
        // with an all-zero result: "bad key share", illegal_parameter).
        let eph = Ephemeral::new(group)?;
        let client_public = eph.public.clone();
        let agreement = if group == NamedGroup::X25519 {
            if public.len() != 32 {
                return Err(A::IllegalParameter);
            }
            Agreement::Due(eph, public.to_vec())
        } else {
            Agreement::Done(eph.agree(public)?)
        };
        let params_len = body.len() - r.remaining();
        let scheme = r.u16()?;
        let kind = crypto::key_kind(&hs.chain[0]).ok_or(A::IllegalParameter)?;
        let scheme = crypto::check_peer_scheme(
            scheme,
            kind,
            &self.cfg.groups,
            None,
            &self.cfg.signature_schemes,
        )?;
        let sig = r.vec16()?;
        r.end()?;
        let mut signed = Vec::with_capacity(64 + params_len);
        signed.extend_from_slice(&hs.client_random);
        signed.extend_from_slice(&hs.server_random);
        signed.extend_from_slice(&body[..params_len]);
        crypto::verify_signature(&hs.chain[0], scheme, &signed, sig)?;
        hs.group = Some(group);
        hs.scheme = Some(scheme);
        hs.client_public = client_public;
        hs.agreement = Some(agreement);
        hs.transcript.add(12, body);
        Ok(())
    }

    fn certificate_request(&mut self, body: &[u8]) -> Result<(), A> {
        let hs = self.hs.as_mut().ok_or(A::InternalError)?;
        let mut r = Rd::new(body);
        let types = r.vec8()?;
        let algs = r.vec16()?;
        let _authorities = r.vec16()?;
        r.end()?;
        if types.is_empty() {
            return Err(A::DecodeError);
        }
        let algs = codec::u16_list(algs)?;
        hs.requested = Some(
            algs.into_iter()
                .filter_map(SignatureScheme::from_code)
                .collect(),
        );
        hs.transcript.add(13, body);
        Ok(())
    }

    /// ServerHelloDone: our flight.
    fn flight(&mut self, body: &[u8], out: &mut Vec<FlightItem>) -> Result<(), A> {
        if !body.is_empty() {
            return Err(A::DecodeError);
        }
        let identity = self.cfg.identity.clone();
        let hs = self.hs.as_mut().ok_or(A::InternalError)?;
        let suite = hs.suite.ok_or(A::InternalError)?;
        hs.transcript.add(14, body);
        // Certificate, if asked: ours if its key can sign one of the
        // schemes asked for, else an empty one.
        let mut signer = None;
        if let Some(asked) = &hs.requested {
            let chosen = identity
                .as_ref()
                .and_then(|id| id.key.choose(asked).map(|s| (id.clone(), s)));
            let chain: Vec<&[u8]> = match &chosen {
                Some((id, _)) => id.chain.iter().map(|c| c.as_ref()).collect(),
                None => Vec::new(),
            };
            let m = codec::put_certificate_list(&chain);
            hs.transcript.add(11, &m);
            out.push(FlightItem::Message(T::Certificate, m));
            signer = chosen;
        }
        let mut cke = Vec::new();
        cke.vec8(&hs.client_public);
        let pms = match hs.agreement.take().ok_or(A::InternalError)? {
            Agreement::Done(pms) => pms,
            Agreement::Due(eph, server_public) => eph.agree(&server_public)?,
        };
        hs.transcript.add(16, &cke);
        out.push(FlightItem::Message(T::ClientKeyExchange, cke));
        let session_hash = hs.transcript.hash(suite.hash());
        let ms = crypto::extended_master_secret(suite, &pms, &session_hash);
        self.status.master_secret(hs.client_random, &ms);
        if let Some((id, scheme)) = signer {
            let sig = id.key.sign(scheme, hs.transcript.bytes())?;
            let mut cv = Vec::new();
            cv.u16(scheme.code());
            cv.vec16(&sig);
            hs.transcript.add(15, &cv);
            out.push(FlightItem::Message(T::CertificateVerify, cv));
        }
        let (cw, sw) = tls12_key_block(suite, &ms, &hs.client_random, &hs.server_random)
            .map_err(|_| A::InternalError)?;
        let vd = crypto::verify_data(suite, &ms, b"client finished", &hs.transcript);
        hs.transcript.add(20, &vd);
        hs.client_verify = vd;
        hs.master = Some(ms);
        out.push(FlightItem::WriteKeys(cw));
        out.push(FlightItem::Message(T::Finished, vd.to_vec()));
        out.push(FlightItem::ReadKeys(sw));
        Ok(())
    }

    fn finished(&mut self, body: &[u8]) -> Result<(), A> {
        let hs = self.hs.take().ok_or(A::InternalError)?;
        let suite = hs.suite.ok_or(A::InternalError)?;
        if body.len() != 12 {
            return Err(A::DecodeError);
        }
        let ms = hs.master.as_ref().ok_or(A::InternalError)?;
        let want = crypto::verify_data(suite, ms, b"server finished", &hs.transcript);
        if !crypto::ct_eq(&want, body) {
            // OpenSSL: "digest check failed".
            return Err(A::DecryptError);
        }
        let mut server_vd = [0u8; 12];
        server_vd.copy_from_slice(body);
        let renegotiation = self.previous.is_some();
        self.previous = Some((hs.client_verify, server_vd));
        self.status.completed(HandshakeSummary {
            suite,
            group: hs.group.ok_or(A::InternalError)?,
            signature_scheme: hs.scheme.ok_or(A::InternalError)?,
            peer_certificates: hs.chain,
            renegotiation,
            client_cert_requested: hs.requested.is_some(),
        });
        Ok(())
    }
}

/// OpenSSL's `max_cert_list` default (`SSL_MAX_CERT_LIST_DEFAULT`).
pub(super) const MAX_CERT_LIST: usize = 100 * 1024;

/// OpenSSL's read_state_machine: a message longer than its state allows
/// (`ossl_statem_{client,server}_max_message_size`) is illegal_parameter
/// ("excessive message size"), checked after the transition and before the
/// body is parsed.
pub(super) fn fits(msg: &HandshakeMessage, max: usize) -> Result<(), A> {
    if msg.body.len() > max {
        Err(A::IllegalParameter)
    } else {
        Ok(())
    }
}

impl HandshakeDriver for Client {
    fn start(&mut self, out: &mut Vec<FlightItem>) -> Progress {
        match self.client_hello() {
            Ok(body) => {
                out.push(FlightItem::Message(T::ClientHello, body));
                self.wait = Wait::ServerHello;
                Progress::Continue
            }
            Err(a) => Progress::Fail(a),
        }
    }

    fn message(&mut self, msg: &HandshakeMessage, out: &mut Vec<FlightItem>) -> Progress {
        let r = match (self.wait, msg.typ) {
            (Wait::ServerHello, T::ServerHello) => fits(msg, 65_607)
                .and_then(|()| self.server_hello(&msg.body))
                .map(|()| Wait::Certificate),
            (Wait::Certificate, T::Certificate) => fits(msg, MAX_CERT_LIST)
                .and_then(|()| self.certificate(&msg.body))
                .map(|()| Wait::ServerKeyExchange),
            (Wait::ServerKeyExchange, T::ServerKeyExchange) => fits(msg, 102_400)
                .and_then(|()| self.server_key_exchange(&msg.body))
                .map(|()| Wait::RequestOrDone),
            (Wait::RequestOrDone, T::CertificateRequest) => fits(msg, MAX_CERT_LIST)
                .and_then(|()| self.certificate_request(&msg.body))
                .map(|()| Wait::ServerHelloDone),
            (Wait::RequestOrDone | Wait::ServerHelloDone, T::ServerHelloDone) => fits(msg, 0)
                .and_then(|()| self.flight(&msg.body, out))
                .map(|()| Wait::Finished),
            (Wait::Finished, T::Finished) => fits(msg, 64)
                .and_then(|()| self.finished(&msg.body))
                .map(|()| Wait::Idle),
            // Anything else, anywhere: OpenSSL's read_state_machine
            // "unexpected message".
            _ => Err(A::UnexpectedMessage),
        };
        match r {
            Ok(Wait::Idle) => {
                self.wait = Wait::Idle;
                Progress::Done
            }
            Ok(w) => {
                self.wait = w;
                Progress::Continue
            }
            Err(a) => {
                out.clear();
                self.wait = Wait::Idle;
                self.hs = None;
                Progress::Fail(a)
            }
        }
    }
}
