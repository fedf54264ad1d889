//! Reading and writing TLS 1.2 handshake bodies (RFC 5246 4, 7.4; RFC 8422
//! 5; RFC 5746; RFC 7627). A body that is short, long, or whose vectors do
//! not add up is decode_error, as in OpenSSL.

use crate::alert::AlertDescription as A;

/// Extension code points used here.
pub(super) mod ext {
    pub(crate) const SERVER_NAME: u16 = 0;
    pub(crate) const SUPPORTED_GROUPS: u16 = 10;
    pub(crate) const EC_POINT_FORMATS: u16 = 11;
    pub(crate) const SIGNATURE_ALGORITHMS: u16 = 13;
    pub(crate) const EXTENDED_MASTER_SECRET: u16 = 23;
    pub(crate) const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 3.3).
pub(super) const EMPTY_RENEGOTIATION_INFO_SCSV: u16 = 0x00ff;

/// A cursor over a body; every read that runs out is decode_error.
pub(super) struct Rd<'a> {
    b: &'a [u8],
}

impl<'a> Rd<'a> {
    pub(super) fn new(b: &'a [u8]) -> Self {
        Rd { b }
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], A> {
        if self.b.len() < n {
            return Err(A::DecodeError);
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }

    pub(super) fn u8(&mut self) -> Result<u8, A> {
        Ok(self.take(1)?[0])
    }

    pub(super) fn u16(&mut self) -> Result<u16, A> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(super) fn u24(&mut self) -> Result<usize, A> {
        let b = self.take(3)?;
        Ok(usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }

    pub(super) fn vec8(&mut self) -> Result<&'a [u8], A> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }

    pub(super) fn vec16(&mut self) -> Result<&'a [u8], A> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    pub(super) fn vec24(&mut self) -> Result<&'a [u8], A> {
        let n = self.u24()?;
        self.take(n)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.b.is_empty()
    }

    pub(super) fn remaining(&self) -> usize {
        self.b.len()
    }

    /// The body must be used up.
    pub(super) fn end(&self) -> Result<(), A> {
        if self.b.is_empty() {
            Ok(())
        } else {
            Err(A::DecodeError)
        }
    }
}

/// Big-endian writers with length prefixes.
pub(super) trait Wr {
    fn u8(&mut self, v: u8);
    fn u16(&mut self, v: u16);
    fn vec8(&mut self, b: &[u8]);
    fn vec16(&mut self, b: &[u8]);
    fn vec24(&mut self, b: &[u8]);
}

impl Wr for Vec<u8> {
    fn u8(&mut self, v: u8) {
        self.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn vec8(&mut self, b: &[u8]) {
        self.push(b.len() as u8);
        self.extend_from_slice(b);
    }
    fn vec16(&mut self, b: &[u8]) {
        self.u16(b.len() as u16);
        self.extend_from_slice(b);
    }
    fn vec24(&mut self, b: &[u8]) {
        let n = b.len() as u32;
        self.extend_from_slice(&n.to_be_bytes()[1..]);
        self.extend_from_slice(b);
    }
}

/// The extension types OpenSSL 3.0 implements (its `ext_defs` table,
/// extensions.c): only a repeat of one of these is an error; unknown types
/// may repeat and are ignored.
const KNOWN: &[u16] = &[
    0xff01, 0, 1, 12, 11, 10, 35, 5, 13172, 16, 14, 22, 18, 23, 50, 49, 13, 43, 45, 51, 44, 0xfde8,
    42, 47, 21, 41,
];

/// Of [`KNOWN`], those a TLS 1.2 or 1.3 ServerHello may carry (the
/// contexts of `ext_defs`); the others are illegal there. use_srtp (14) is
/// DTLS only, illegal in any TLS hello.
const IN_SERVER_HELLO: &[u16] = &[
    0xff01, 0, 1, 11, 10, 35, 5, 13172, 16, 22, 18, 23, 43, 51, 0xfde8, 41,
];

/// Which hello an extensions block belongs to.
pub(super) enum Hello<'a> {
    /// A ClientHello.
    Client,
    /// A ServerHello answering a ClientHello that sent these types.
    Server(&'a [u16]),
}

/// The extensions block of a hello: `(type, body)` in order, checked as
/// OpenSSL's `tls_collect_extensions` checks them, in order: a malformed
/// block is decode_error; a known type not allowed in this hello, or seen
/// twice, is illegal_parameter ("bad extension"); in a ServerHello a known
/// type the client did not send is unsupported_extension ("unsolicited
/// extension"; renegotiation_info and signed_certificate_timestamp are
/// checked by their parsers, the latter as unsolicited too).
pub(super) fn extensions(r: &mut Rd<'_>, hello: &Hello<'_>) -> Result<Vec<(u16, Vec<u8>)>, A> {
    if r.is_empty() {
        // RFC 5246 7.4.1.2: the extensions block may be absent.
        return Ok(Vec::new());
    }
    let block = r.vec16()?;
    r.end()?;
    let mut r = Rd::new(block);
    let mut out: Vec<(u16, Vec<u8>)> = Vec::new();
    while !r.is_empty() {
        let t = r.u16()?;
        let body = r.vec16()?;
        let known = KNOWN.contains(&t);
        let allowed = match hello {
            Hello::Client => t != 14,
            Hello::Server(_) => IN_SERVER_HELLO.contains(&t),
        };
        let psk_not_last = matches!(hello, Hello::Client) && t == 41 && !r.is_empty();
        if known && (!allowed || out.iter().any(|(x, _)| *x == t) || psk_not_last) {
            return Err(A::IllegalParameter);
        }
        if let Hello::Server(sent) = hello {
            if known && t != 0xff01 && !sent.contains(&t) {
                return Err(A::UnsupportedExtension);
            }
        }
        out.push((t, body.to_vec()));
    }
    Ok(out)
}

pub(super) fn find(exts: &[(u16, Vec<u8>)], t: u16) -> Option<&[u8]> {
    exts.iter()
        .find(|(x, _)| *x == t)
        .map(|(_, b)| b.as_slice())
}

/// Writes `(type, body)` extensions as a block.
pub(super) fn put_extensions(out: &mut Vec<u8>, exts: &[(u16, Vec<u8>)]) {
    let mut block = Vec::new();
    for (t, b) in exts {
        block.u16(*t);
        block.vec16(b);
    }
    out.vec16(&block);
}

/// A list of u16 in a vector with a `len_bytes` length (1 or 2); an odd or
/// empty list is decode_error.
pub(super) fn u16_list(body: &[u8]) -> Result<Vec<u16>, A> {
    if body.is_empty() || body.len() % 2 != 0 {
        return Err(A::DecodeError);
    }
    Ok(body
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect())
}

/// A Certificate body: the chain (RFC 5246 7.4.2).
pub(super) fn certificate_list(body: &[u8]) -> Result<Vec<Vec<u8>>, A> {
    let mut r = Rd::new(body);
    let list = r.vec24()?;
    r.end()?;
    let mut r = Rd::new(list);
    let mut out = Vec::new();
    while !r.is_empty() {
        let c = r.vec24()?;
        if c.is_empty() {
            return Err(A::DecodeError);
        }
        out.push(c.to_vec());
    }
    Ok(out)
}

pub(super) fn put_certificate_list(chain: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in chain {
        list.vec24(c);
    }
    let mut out = Vec::new();
    out.vec24(&list);
    out
}

/// The host name of a server_name extension (RFC 6066 3), if any.
pub(super) fn server_name(body: &[u8]) -> Result<Option<String>, A> {
    let mut r = Rd::new(body);
    let list = r.vec16()?;
    r.end()?;
    let mut r = Rd::new(list);
    let mut name = None;
    while !r.is_empty() {
        let t = r.u8()?;
        let n = r.vec16()?;
        if t == 0 && name.is_none() {
            name = Some(String::from_utf8_lossy(n).into_owned());
        }
    }
    Ok(name)
}

pub(super) fn put_server_name(name: &str) -> Vec<u8> {
    let mut entry = Vec::new();
    entry.u8(0);
    entry.vec16(name.as_bytes());
    let mut out = Vec::new();
    out.vec16(&entry);
    out
}
