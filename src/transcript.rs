//! Conformance transcripts (`tlsrec-transcript/1`, see the project's
//! `FORMAT.md`): one real connection, the segments the modelled endpoint
//! received, the calls made and what OpenSSL returned.

use serde_json::Value;

use crate::keylog::{decode_hex, KeyLog};

/// The format identifier.
pub const FORMAT: &str = "tlsrec-transcript/1";

/// What OpenSSL returned for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// read/peek: the bytes returned.
    Bytes(Vec<u8>),
    /// write: the count returned.
    Count(usize),
    /// An error: `SSL_get_error` code, OpenSSL's reason, the alert sent.
    Err {
        /// `WANT_READ`, `WANT_WRITE`, `ZERO_RETURN`, `SYSCALL` or `SSL`.
        code: String,
        /// OpenSSL's reason string (informational).
        reason: Option<String>,
        /// The fatal alert the endpoint sent (must match).
        alert: Option<String>,
    },
}

/// One step of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A segment from the peer arrives.
    Recv(Vec<u8>),
    /// Bytes the endpoint itself sent (not compared).
    Send(Vec<u8>),
    /// The transport reports end of stream.
    Eof,
    /// `SSL_read(buf, n)`.
    Read {
        /// Buffer size.
        n: usize,
        /// Expected result.
        expect: Outcome,
    },
    /// `SSL_peek(buf, n)`.
    Peek {
        /// Buffer size.
        n: usize,
        /// Expected result.
        expect: Outcome,
    },
    /// `SSL_pending()` returned this.
    Pending(usize),
    /// From here on the outgoing transport holds at most `capacity` bytes.
    Transport {
        /// Pipe capacity.
        capacity: usize,
    },
    /// `SSL_write(buf, n)` from buffer `A` or `B` holding `data`.
    Write {
        /// Length.
        n: usize,
        /// Which caller buffer: 'A' or 'B'.
        buf: char,
        /// The first n bytes of that buffer.
        data: Vec<u8>,
        /// Expected result.
        expect: Outcome,
    },
    /// `SSL_renegotiate()` returned `ok` (1 or 0). An extension of
    /// `tlsrec-transcript/1` written by this project's generator; transcripts
    /// without it show a client's own renegotiation only by the ClientHello
    /// it sends.
    Renegotiate {
        /// What OpenSSL returned.
        ok: u64,
    },
    /// `SSL_shutdown()`: `ok` 0 (close_notify sent, the peer's not yet
    /// received) or 1 (both), or an error. An extension of
    /// `tlsrec-transcript/1` written by this project's generator.
    Shutdown {
        /// Expected result (`Outcome::Count` for 0 and 1).
        expect: Outcome,
    },
    /// `SSL_has_pending()` returned this. An extension of
    /// `tlsrec-transcript/1` written by this project's generator.
    HasPending(bool),
    /// The peer takes `n` bytes out of the outgoing pipe.
    Drain {
        /// How many.
        n: usize,
        /// The bytes taken.
        wire: Vec<u8>,
    },
}

/// A parsed transcript.
#[derive(Debug, Clone)]
pub struct Transcript {
    /// Unique name.
    pub name: String,
    /// `client` (the modelled endpoint).
    pub role: String,
    /// `TLS1.2` or `TLS1.3`.
    pub version: String,
    /// IANA suite name.
    pub cipher_suite: String,
    /// The options object, as given.
    pub options: Value,
    /// The key log.
    pub keylog: KeyLog,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The OpenSSL release that recorded it (`"openssl": "4.0.3"`), when
    /// the transcript says; the system 3.0 otherwise.
    pub openssl: Option<String>,
}

fn hex_field(v: &Value, what: &'static str) -> Result<Vec<u8>, String> {
    let s = v.as_str().ok_or(format!("{what}: expected a hex string"))?;
    decode_hex(s).map_err(|e| format!("{what}: {e}"))
}

/// The largest buffer a read, peek or write step may name: the replayer
/// allocates it, so a hostile transcript must not name terabytes.
pub const MAX_CALL_LEN: usize = 1 << 26;

fn call_len(v: &Value, what: &'static str) -> Result<usize, String> {
    let n = usize_field(v, what)?;
    if n > MAX_CALL_LEN {
        return Err(format!(
            "{what}: {n} bytes is over the {MAX_CALL_LEN}-byte limit"
        ));
    }
    Ok(n)
}

fn usize_field(v: &Value, what: &'static str) -> Result<usize, String> {
    v.as_u64()
        .map(|n| n as usize)
        .ok_or(format!("{what}: expected a non-negative integer"))
}

fn outcome(o: &serde_json::Map<String, Value>, bytes: bool) -> Result<Outcome, String> {
    if let Some(ok) = o.get("ok") {
        return if bytes {
            Ok(Outcome::Bytes(hex_field(ok, "ok")?))
        } else {
            Ok(Outcome::Count(usize_field(ok, "ok")?))
        };
    }
    let code = o
        .get("err")
        .and_then(Value::as_str)
        .ok_or("a call step needs ok or err")?
        .to_string();
    let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(Outcome::Err {
        code,
        reason: s("reason"),
        alert: s("alert"),
    })
}

impl Transcript {
    /// Parses a transcript from JSON text.
    ///
    /// # Errors
    /// A message naming what is malformed (and the step index).
    pub fn parse(text: &str) -> Result<Self, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let fmt = v.get("format").and_then(Value::as_str).unwrap_or("");
        if fmt != FORMAT {
            return Err(format!("format is {fmt:?}, expected {FORMAT:?}"));
        }
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let lines: Vec<&str> = v
            .get("keylog")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let keylog = KeyLog::parse(&lines.join("\n")).map_err(|e| e.to_string())?;
        let mut steps = Vec::new();
        for (i, st) in v
            .get("steps")
            .and_then(Value::as_array)
            .ok_or("no steps")?
            .iter()
            .enumerate()
        {
            let o = st.as_object().ok_or(format!("step {i}: not an object"))?;
            let step = (|| -> Result<Step, String> {
                Ok(if let Some(x) = o.get("recv") {
                    Step::Recv(hex_field(x, "recv")?)
                } else if let Some(x) = o.get("send") {
                    Step::Send(hex_field(x, "send")?)
                } else if o.contains_key("eof") {
                    Step::Eof
                } else if let Some(x) = o.get("read") {
                    Step::Read {
                        n: call_len(x, "read")?,
                        expect: outcome(o, true)?,
                    }
                } else if let Some(x) = o.get("peek") {
                    Step::Peek {
                        n: call_len(x, "peek")?,
                        expect: outcome(o, true)?,
                    }
                } else if let Some(x) = o.get("pending") {
                    Step::Pending(usize_field(x, "pending")?)
                } else if let Some(x) = o.get("transport") {
                    Step::Transport {
                        capacity: usize_field(
                            x.get("capacity").unwrap_or(&Value::Null),
                            "capacity",
                        )?,
                    }
                } else if let Some(x) = o.get("write") {
                    let buf = o
                        .get("buf")
                        .and_then(Value::as_str)
                        .and_then(|b| b.chars().next())
                        .ok_or("write: buf")?;
                    let n = call_len(x, "write")?;
                    let data = hex_field(o.get("data").unwrap_or(&Value::Null), "data")?;
                    if data.len() != n {
                        return Err(format!("write: data holds {} bytes, not {n}", data.len()));
                    }
                    Step::Write {
                        n,
                        buf,
                        data,
                        expect: outcome(o, false)?,
                    }
                } else if o.contains_key("renegotiate") {
                    Step::Renegotiate {
                        ok: o
                            .get("ok")
                            .and_then(Value::as_u64)
                            .ok_or("renegotiate: ok")?,
                    }
                } else if o.contains_key("shutdown") {
                    Step::Shutdown {
                        expect: outcome(o, false)?,
                    }
                } else if let Some(x) = o.get("has_pending") {
                    Step::HasPending(x.as_bool().ok_or("has_pending: expected true or false")?)
                } else if let Some(x) = o.get("drain") {
                    Step::Drain {
                        n: usize_field(x, "drain")?,
                        wire: hex_field(o.get("wire").unwrap_or(&Value::Null), "wire")?,
                    }
                } else {
                    return Err("unknown step".into());
                })
            })()
            .map_err(|e| format!("step {i}: {e}"))?;
            steps.push(step);
        }
        Ok(Transcript {
            name: s("name"),
            role: s("role"),
            version: s("version"),
            cipher_suite: s("cipher_suite"),
            options: v.get("options").cloned().unwrap_or(Value::Null),
            openssl: v.get("openssl").and_then(Value::as_str).map(str::to_string),
            keylog,
            steps,
        })
    }
}
