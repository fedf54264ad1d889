//! A handshake run by a [`HandshakeDriver`]: messages to it, its answers
//! carried out in order (messages sealed, key changes between them).

use super::*;

impl Session {
    /// A session whose handshakes `driver` runs, continuing an established
    /// connection in `role`: TLS 1.2 renegotiation started by either side
    /// ([`renegotiate`](Self::renegotiate); a client's only if
    /// [`Config::allow_client_renegotiation`]), interleaved with application
    /// data by OpenSSL 3.0's rules, and TLS 1.3 KeyUpdate. The record layer
    /// is the one every session has.
    ///
    /// # Errors
    /// [`Error::BadInput`] if the keys do not belong to `suite`.
    pub fn driven(
        role: Role,
        est: Established,
        driver: Box<dyn HandshakeDriver + Send>,
        cfg: Config,
    ) -> Result<Self, Error> {
        let mut s = Session::from_established(est, cfg, role)?;
        s.mode = Mode::Driven(driver);
        Ok(s)
    }

    /// A session whose FIRST handshake, and every later one, `driver` runs,
    /// starting from plaintext in `role`: a client's driver is asked to
    /// [`start`](HandshakeDriver::start) (its ClientHello) at the first
    /// call that enters the handshake (`do_handshake`, `read`, `write`); a
    /// server's driver sees the client's ClientHello. Until the driver says
    /// [`Progress::Done`], application data is refused as OpenSSL refuses it
    /// in a first handshake (`unexpected_message`); then the session is the
    /// same as one made with [`driven`](Self::driven), renegotiations and
    /// all.
    ///
    /// The record layer learns the version (TLS 1.2) from the ServerHello
    /// (the one it reads as a client, or the one its driver sends as a
    /// server); a driver for TLS 1.3 is not supported here yet.
    #[must_use]
    pub fn handshaking(role: Role, driver: Box<dyn HandshakeDriver + Send>, cfg: Config) -> Self {
        let mut s = Session::passive_client(KeyLog::default(), cfg);
        s.role = role;
        s.mode = Mode::Driven(driver);
        s.handshake_state = HandshakeState::Handshaking {
            stage: Stage::Hello,
            first: true,
            ours: role == Role::Client,
        };
        // A client writes its ClientHello at the first entry to the
        // handshake; a server waits for one.
        s.start_due = role == Role::Client;
        s
    }

    /// The first handshake of a [`handshaking`](Self::handshaking) session
    /// meets its ServerHello (read or sent): from now on records carry the
    /// version it chose, and the record layer knows the suite.
    fn learn_from_server_hello(&mut self, body: &[u8]) {
        if self.tracker.version().is_some() {
            return;
        }
        let Ok(sh) = crate::handshake::parse_server_hello(body) else {
            return;
        };
        let (Some(suite), Some(v)) = (sh.suite, sh.version) else {
            return;
        };
        if suite.version() != v {
            return;
        }
        self.tracker.set_established(suite, [None, None]);
        let mut p = *self.deframer.policy();
        p.version = Some(v);
        p.first_record = false;
        self.deframer.set_policy(p);
    }

    /// From now on, this session's handshakes are run by `driver`: a session
    /// that followed its first handshake from a key log (or was taken over)
    /// runs its renegotiations itself and seals its own KeyUpdates, on the
    /// same record layer and with its state as it is.
    ///
    /// # Errors
    /// Refused (not fatal) until the first handshake is complete or while
    /// a handshake runs (`no handshake to run`).
    pub fn drive_with(&mut self, driver: Box<dyn HandshakeDriver + Send>) -> Result<(), SslError> {
        self.leave_fast_paths();
        if !self.is_established() || self.in_init() {
            return Err(SslError::Ssl(Error::Misuse {
                reason: Reason::NoHandshake,
                alert: None,
            }));
        }
        self.mode = Mode::Driven(driver);
        Ok(())
    }

    /// A message of a running handshake, for the driver.
    pub(super) fn drive_message(&mut self, msg: HandshakeMessage) -> Result<(), Interrupt> {
        use HandshakeType as T;
        let tls13 = self.tracker.version() == Some(Version::Tls13);
        let waiting = matches!(
            self.handshake_state,
            HandshakeState::Handshaking {
                stage: Stage::Request,
                ..
            }
        );
        if waiting && msg.typ == T::HelloRequest && msg.body.is_empty() {
            // Waiting at TLS_ST_OK: a HelloRequest makes this client send
            // its ClientHello (tls_process_hello_req).
            self.hello_request_received();
            return Ok(());
        }
        if msg.typ == T::HelloRequest && self.role == Role::Server {
            // Only servers send it.
            return Err(self.unexpected());
        }
        if !tls13 && msg.typ == T::HelloRequest && self.role == Role::Client {
            // C8: a HelloRequest during a handshake is ignored. Only one of
            // length 0 is (tls_get_message_header); another is a message:
            // waiting at TLS_ST_OK, one over its bound of 0 (illegal_parameter,
            // "excessive message size"); in a running handshake, one its
            // read transition refuses (unexpected_message).
            if !msg.body.is_empty() {
                if waiting {
                    return Err(self
                        .fatal(fatal_err(
                            Reason::ExcessiveMessageSize,
                            AlertDescription::IllegalParameter,
                        ))
                        .into());
                }
                return Err(self.unexpected());
            }
            return Ok(());
        }
        if let HandshakeState::Handshaking {
            stage: Stage::Hello | Stage::Request,
            first,
            ours,
        } = self.handshake_state
        {
            let peer_hello = match self.role {
                Role::Client => T::ServerHello,
                Role::Server => T::ClientHello,
            };
            if msg.typ == peer_hello {
                if msg.typ == T::ServerHello {
                    self.learn_from_server_hello(&msg.body);
                }
                // D1: from here on application data is refused.
                self.handshake_state = HandshakeState::Handshaking {
                    stage: Stage::Driven,
                    first,
                    ours,
                };
            }
        }
        if msg.typ == T::Finished && !tls13 && self.ccs_expected {
            // TLS 1.2: the driver prepared read keys, so the peer's
            // Finished must come after its ChangeCipherSpec (OpenSSL:
            // unexpected_message, "unexpected message").
            return Err(self.unexpected());
        }
        let mut items = Vec::new();
        let Mode::Driven(driver) = &mut self.mode else {
            unreachable!("drive_message is for driven sessions")
        };
        let progress = driver.message(&msg, &mut items);
        if progress == Progress::Pending {
            self.stalled = Some(msg);
            return Err(SslError::WantCallback.into());
        }
        // After a ChangeCipherSpec the next message is the Finished.
        self.ccs_seen = false;
        self.carry_out(progress, items)
    }

    /// A driven handshake this side starts: a client's hello from the
    /// driver, a server's HelloRequest.
    pub(super) fn start_driven(&mut self) -> Result<(), Interrupt> {
        if self.role == Role::Server {
            self.start_due = false;
            self.seal_flight(ContentType::Handshake, &[0, 0, 0, 0])?;
            self.hello_request_out();
            return Ok(());
        }
        let mut items = Vec::new();
        let Mode::Driven(driver) = &mut self.mode else {
            unreachable!("only driven sessions start handshakes")
        };
        let progress = driver.start(&mut items);
        if progress == Progress::Pending {
            return Err(SslError::WantCallback.into());
        }
        self.start_due = false;
        self.carry_out(progress, items)
    }

    /// A server's HelloRequest, once the transport has taken it, ends that
    /// handshake: OpenSSL goes from TLS_ST_SW_HELLO_REQ back to TLS_ST_OK
    /// (`ossl_statem_server_write_transition`, after `statem_flush` in the
    /// post-work), so the server is out of init: it writes and reads
    /// application data as before, and the ClientHello, when it comes,
    /// starts a new handshake from the read side. `renegotiate_requested`
    /// (OpenSSL's `s->renegotiate`) stays set until a handshake finishes,
    /// so that ClientHello is taken even without
    /// `allow_client_renegotiation`.
    pub(super) fn hello_request_out(&mut self) {
        let sent = matches!(
            self.handshake_state,
            HandshakeState::Handshaking {
                stage: Stage::Hello,
                first: false,
                ours: true,
            }
        );
        if self.role == Role::Server && sent && !self.start_due && !self.flight_blocked() {
            self.handshake_state = HandshakeState::Established;
        }
    }

    /// Carries out a driver's answer: messages sealed in order, key changes
    /// between them, then the handshake's end.
    pub(super) fn carry_out(
        &mut self,
        progress: Progress,
        items: Vec<FlightItem>,
    ) -> Result<(), Interrupt> {
        if let Progress::Fail(alert) = progress {
            return Err(self
                .fatal(fatal_err(Reason::HandshakeFailure, alert))
                .into());
        }
        for item in items {
            // Known from the first ServerHello on (handshaking sessions).
            let tls12 = self.tracker.version() == Some(Version::Tls12);
            match item {
                FlightItem::Message(typ, body) => {
                    if typ == HandshakeType::ServerHello {
                        self.learn_from_server_hello(&body);
                    }
                    // A handshake message length is 24 bits.
                    let len = match u32::try_from(body.len()) {
                        Ok(len) if len < 1 << 24 => len,
                        _ => return Err(self.misuse(Reason::ExcessiveMessageSize).into()),
                    };
                    let mut m = Vec::with_capacity(HANDSHAKE_HEADER_LEN + body.len());
                    m.push(u8::from(typ));
                    m.extend_from_slice(&len.to_be_bytes()[1..]);
                    m.extend_from_slice(&body);
                    self.seal_flight(ContentType::Handshake, &m)?;
                }
                FlightItem::WriteKeys(keys) => {
                    if tls12 {
                        self.seal_flight(ContentType::ChangeCipherSpec, &[1])?;
                    }
                    self.sealer.set_keys(keys);
                }
                FlightItem::ReadKeys(keys) => {
                    if tls12 {
                        self.opener.prepare(keys);
                        self.ccs_expected = true;
                    } else {
                        self.opener.set_keys(keys);
                    }
                }
            }
        }
        if progress == Progress::Done {
            self.handshake_state = HandshakeState::Established;
            self.ccs_seen = false;
            self.ccs_expected = false;
            // A request made during this handshake is lost, as in OpenSSL,
            // unless kept on purpose.
            if !(self.renegotiate && self.cfg.deferred_renegotiation_sends_hello) {
                self.renegotiate_requested = false;
            }
            self.handshakes += 1;
        }
        Ok(())
    }
}
