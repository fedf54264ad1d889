//! Entering the handshake (OpenSSL's `handshake_func`): renegotiation
//! requests and their checks, HelloRequest, and the followed client's
//! handshake stages. Rules D1-D6 of `docs/behaviour.md`.

use super::*;

impl Session {
    /// Runs the handshake on what has been received, as `SSL_do_handshake`
    /// would (used before the first application call).
    ///
    /// # Errors
    /// WantRead until the handshake completes, or the error that ended it.
    pub fn do_handshake(&mut self) -> Result<(), SslError> {
        self.leave_fast_paths();
        if let Some(e) = self.dead_error_write() {
            return Err(e);
        }
        // SSL_do_handshake checks for a requested renegotiation first.
        if self.renegotiate {
            self.renegotiate_check(false);
        }
        // It enters the state machine only in a handshake (`SSL_in_init`,
        // which a KeyUpdate to send also sets): otherwise it returns 1.
        self.pump_queued();
        self.hello_request_out();
        if !self.in_init() && self.key_update.is_none() {
            return Ok(());
        }
        let r = match self.handshake_func() {
            Ok(()) => Ok(()),
            Err(Interrupt::Err(e)) => Err(e),
            // The handshake stopped at application data it allows
            // (`in_read_app_data = 2`): as for SSL_write, OpenSSL 3.0 leaves
            // `rwstate` at SSL_NOTHING, so SSL_get_error says SYSCALL;
            // nothing is consumed and the next SSL_read returns the data.
            Err(Interrupt::AppData) => Err(if self.cfg.want_read_when_write_meets_app_data {
                SslError::WantRead
            } else {
                SslError::Syscall
            }),
        };
        // The state machine's reads and writes leave `rwstate` as the last
        // of them did (a failed connection later repeats it: an EOF that
        // failed the handshake leaves SSL_NOTHING, so later calls say
        // SYSCALL, not the WANT_READ of an earlier call).
        self.note_blocked(r)
    }

    /// OpenSSL `ssl3_renegotiate_check`: start a requested renegotiation
    /// once nothing is pending in either direction.
    pub(super) fn renegotiate_check(&mut self, initok: bool) -> bool {
        // A failed connection counts as in init (its state machine is in
        // its error state): the check never fires there.
        if self.renegotiate
            && self.failure.is_none()
            && !self.read_pending()
            && self.pending_write.wire.is_empty()
            && (initok || matches!(self.handshake_state, HandshakeState::Established))
        {
            self.renegotiate = false;
            let server = self.role == Role::Server;
            if !self.renegotiate_requested && !server && self.cfg.deferred_renegotiation_sends_hello
            {
                // No hello would go out: do not start a handshake at all.
                return false;
            }
            self.total_renegotiations += 1;
            // The client writes its ClientHello now (a driver's, or the
            // caller reports the bytes through observe_sent), if a request
            // is still standing. A server writes its HelloRequest either
            // way (OpenSSL's `ossl_statem_set_renegotiate` sets
            // `request_state = TLS_ST_SW_HELLO_REQ`, which its write
            // transition at TLS_ST_OK follows whatever `s->renegotiate`
            // says); without `s->renegotiate` the ClientHello that answers
            // is then taken only with `allow_client_renegotiation`.
            if self.renegotiate_requested || server {
                self.enter_own_hello();
            } else {
                self.handshake_state = HandshakeState::Handshaking {
                    stage: Stage::Request,
                    first: false,
                    ours: true,
                };
            }
            return true;
        }
        false
    }

    /// `SSL_renegotiate`: asks for a new handshake (TLS 1.2). It starts at
    /// the next read or write once nothing is pending in either direction,
    /// as OpenSSL's `ssl3_renegotiate_check` has it. A driven client then
    /// sends its ClientHello (the driver's `start`), a driven server a
    /// HelloRequest; a followed session expects its own ClientHello through
    /// [`observe_sent`](Self::observe_sent).
    ///
    /// # Errors
    /// Refused (not fatal) unless TLS 1.2 was negotiated: TLS 1.3 has no
    /// renegotiation (OpenSSL: `wrong ssl version`); and by a session taken
    /// over after its handshake, which has none to run (`no handshake to
    /// run`).
    pub fn renegotiate(&mut self) -> Result<(), SslError> {
        self.leave_fast_paths();
        if matches!(self.mode, Mode::TakenOver) {
            return Err(SslError::Ssl(Error::Misuse {
                reason: Reason::NoHandshake,
                alert: None,
            }));
        }
        if self.tracker.version() != Some(Version::Tls12) {
            return Err(SslError::Ssl(Error::Misuse {
                reason: Reason::WrongSslVersion,
                alert: None,
            }));
        }
        self.renegotiate = true;
        self.renegotiate_requested = true;
        Ok(())
    }

    /// A HelloRequest read at TLS_ST_OK: OpenSSL calls
    /// SSL_renegotiate_abbreviated, then `ssl3_renegotiate_check(s, 1)`
    /// (statem_clnt.c, TLS_ST_CR_HELLO_REQ). If it fires, the renegotiation
    /// is counted and the ClientHello goes out; if not (a record half read
    /// or a write pending), the handshake ends at TLS_ST_OK, which clears
    /// `s->renegotiate`: the request waits for a later check, and that one
    /// writes no ClientHello.
    pub(super) fn hello_request_received(&mut self) {
        self.renegotiate = true;
        self.renegotiate_requested = true;
        if !self.read_pending() && self.pending_write.wire.is_empty() {
            self.renegotiate = false;
            self.total_renegotiations += 1;
            self.enter_own_hello();
        } else {
            if !self.cfg.deferred_renegotiation_sends_hello {
                self.renegotiate_requested = false;
            }
            self.handshake_state = HandshakeState::Established;
        }
    }

    /// OpenSSL's pre-work for our hello (TLS_ST_CW_CLNT_HELLO, a server's
    /// TLS_ST_SW_HELLO_REQ) sets `s->shutdown = 0`, once the state machine
    /// runs to write it: a close_notify sent or received before is
    /// forgotten, so writes work again, a later `shutdown` sends another
    /// close_notify and reads no longer say ZERO_RETURN.
    fn hello_pre_work(&mut self) {
        if std::mem::take(&mut self.hello_pre_work) {
            self.sent_shutdown = false;
            self.received_shutdown = false;
        }
    }

    pub(super) fn in_init(&self) -> bool {
        matches!(self.handshake_state, HandshakeState::Handshaking { .. })
    }

    /// A handshake this side starts: its hello goes out now (a driven
    /// session's, at the next entry to the handshake; a followed one's is
    /// reported by the caller).
    pub(super) fn enter_own_hello(&mut self) {
        // The hello's pre-work forgets both close_notify once the state
        // machine runs to write it (`hello_pre_work`, D7).
        self.handshake_state = HandshakeState::Handshaking {
            stage: Stage::Hello,
            first: false,
            ours: true,
        };
        self.hello_pre_work = true;
        if matches!(self.mode, Mode::Driven(_)) {
            self.start_due = true;
        }
    }

    /// OpenSSL's `handshake_func` for this client: runs until the handshake
    /// is complete, or processes one post-handshake message.
    pub(super) fn handshake_func(&mut self) -> Result<(), Interrupt> {
        if self.failure.is_some() {
            return Err(SslError::Syscall.into());
        }
        self.hello_pre_work();
        // Handshake records sealed earlier go first: a flight the transport
        // has not taken blocks the handshake (WantWrite), as in OpenSSL.
        self.pump_queued();
        if self.flight_blocked() {
            return Err(SslError::WantWrite.into());
        }
        // A HelloRequest the transport has now taken ends its handshake.
        self.hello_request_out();
        if !self.in_init() {
            if let Some(request_peer) = self.key_update.take() {
                // OpenSSL 3.0 sends a KeyUpdate (asked for by the caller, or
                // the answer to a peer that asked) at the next entry to the
                // state machine, and that entry does nothing else (its write
                // side ends at TLS_ST_OK): a message already read waits for
                // the next entry. A followed session's KeyUpdate reaches it
                // through `observe_sent`; the others seal it here.
                self.key_update_asked = false;
                if !matches!(self.mode, Mode::Follow) {
                    self.send_key_update(request_peer)?;
                    if self.flight_blocked() {
                        return Err(SslError::WantWrite.into());
                    }
                }
                return Ok(());
            }
        }
        if self.handshake_state == HandshakeState::Established
            && self.role == Role::Client
            && self.renegotiate_requested
            && self.tracker.version() == Some(Version::Tls12)
        {
            // OpenSSL's state machine entered (for a handshake message) with
            // `s->renegotiate` set writes a ClientHello before reading
            // anything, and no renegotiation is counted (the check that
            // counts did not fire): application data before the
            // ServerHello is then refused. With
            // `deferred_renegotiation_sends_hello` it is a renegotiation
            // of ours like any other (counted, so D1 lets a read take the
            // server's data before its ServerHello).
            if self.cfg.deferred_renegotiation_sends_hello {
                self.renegotiate = false;
                self.total_renegotiations += 1;
            }
            self.enter_own_hello();
        }
        if let Some(msg) = self.stalled.take() {
            // The message the driver paused on, offered again.
            self.process_message(msg)?;
            if self.flight_blocked() {
                return Err(SslError::WantWrite.into());
            }
            if !self.in_init() {
                return Ok(());
            }
        }
        loop {
            // A hello due since this entry (a HelloRequest answered).
            self.hello_pre_work();
            if self.start_due {
                // A handshake this side starts: its hello (or HelloRequest).
                self.start_driven()?;
                if self.flight_blocked() {
                    return Err(SslError::WantWrite.into());
                }
                if !self.in_init() {
                    // A server's HelloRequest went out: back at TLS_ST_OK.
                    return Ok(());
                }
            }
            let prev = self.handshake_running;
            self.handshake_running = true;
            let m = self.read_handshake_input();
            self.handshake_running = prev;
            let Some(msg) = m? else { continue };
            self.process_message(msg)?;
            if self.flight_blocked() {
                return Err(SslError::WantWrite.into());
            }
            // One post-handshake message, or a whole handshake (a
            // HelloRequest answered at once starts one: keep going).
            if !self.in_init() {
                return Ok(());
            }
        }
    }

    /// A message refused by its type once read whole (`pop` returned it):
    /// unexpected_message, its body and what followed it in the record
    /// left unread as OpenSSL leaves them ([`refused_at_header`](Self::refused_at_header)).
    pub(super) fn unexpected(&mut self) -> Interrupt {
        let unread = self.joiner.popped_after_header();
        self.refused_at_header(
            unread,
            fatal_err(
                Reason::UnexpectedMessage,
                AlertDescription::UnexpectedMessage,
            ),
        )
    }

    /// OpenSSL's judgement of the message being joined once its header is
    /// in, before its body: after the handshake, a type the client does not
    /// take there is an unexpected message, and so is anything but a
    /// ServerHello once our hello is out; a TLS 1.2 client's HelloRequest
    /// declaring a body is over its bound (0 bytes at TLS_ST_OK:
    /// excessive message size) or, during a handshake, not the empty
    /// HelloRequest `tls_get_message_header` skips, so no transition takes
    /// it (unexpected message).
    fn judge_header(&self) -> Option<Error> {
        let t = self.joiner.pending_type()?;
        let len = self.joiner.pending_len()?;
        let unexpected = || {
            fatal_err(
                Reason::UnexpectedMessage,
                AlertDescription::UnexpectedMessage,
            )
        };
        if self.handshake_state == HandshakeState::Established
            && !self.post_handshake_type_allowed(t)
        {
            return Some(unexpected());
        }
        if self.role == Role::Client
            && matches!(
                self.handshake_state,
                HandshakeState::Handshaking {
                    stage: Stage::Hello,
                    ..
                }
            )
            && !matches!(t, HandshakeType::ServerHello | HandshakeType::HelloRequest)
        {
            // Our hello is out: only the ServerHello has a transition (a
            // driver would refuse it too, but after its body).
            return Some(unexpected());
        }
        if t == HandshakeType::HelloRequest
            && len > 0
            && self.role == Role::Client
            && self.tracker.version() == Some(Version::Tls12)
        {
            let at_ok = matches!(
                self.handshake_state,
                HandshakeState::Established
                    | HandshakeState::Handshaking {
                        stage: Stage::Request,
                        ..
                    }
            );
            return Some(if at_ok {
                Error::misbehaved(
                    Reason::ExcessiveMessageSize,
                    AlertDescription::IllegalParameter,
                )
            } else {
                unexpected()
            });
        }
        None
    }

    /// A handshake message refused on its 4-byte header (OpenSSL's
    /// `read_state_machine`: the transition for its type, then its size
    /// bound, both before the body is read). OpenSSL took only the header
    /// out of the record; the `unread` bytes after it stay in the current
    /// record, not marked read, so `SSL_has_pending` stays true on the
    /// failed connection. What the handshake had buffered is dropped (it
    /// counts for nothing there: OpenSSL's init_buf).
    pub(super) fn refused_at_header(&mut self, unread: usize, err: Error) -> Interrupt {
        self.joiner.clear();
        if unread > 0 {
            // Never read again (the connection has failed); only its being
            // there counts.
            self.current_record = Some((ContentType::Handshake, Bytes::from(vec![0u8; unread])));
        }
        self.fatal(err).into()
    }

    pub(super) fn process_message(&mut self, msg: HandshakeMessage) -> Result<(), Interrupt> {
        use HandshakeType as T;
        let tls13 = self.tracker.version() == Some(Version::Tls13);
        match self.handshake_state {
            HandshakeState::Established => self.post_handshake_message(msg),
            HandshakeState::Handshaking { .. } if matches!(self.mode, Mode::Driven(_)) => {
                self.drive_message(msg)
            }
            HandshakeState::Handshaking { stage, first, ours } => {
                let next = |stage| HandshakeState::Handshaking { stage, first, ours };
                match (stage, msg.typ) {
                    // Waiting at TLS_ST_OK: a HelloRequest makes this client
                    // write its ClientHello (tls_process_hello_req).
                    (Stage::Request, T::HelloRequest) if msg.body.is_empty() => {
                        self.hello_request_received();
                    }
                    // C8: a HelloRequest during a handshake is ignored.
                    (_, T::HelloRequest) if !tls13 => {
                        if !msg.body.is_empty() {
                            return Err(self
                                .fatal(fatal_err(
                                    Reason::LengthMismatch,
                                    AlertDescription::DecodeError,
                                ))
                                .into());
                        }
                    }
                    (Stage::Hello, T::ServerHello) => {
                        let actions = self.tracker.on_message(Dir::S2c, T::ServerHello, &msg.body);
                        let v = self.tracker.version();
                        let mut p = *self.deframer.policy();
                        p.version = v;
                        p.first_record = false;
                        self.deframer.set_policy(p);
                        self.mirror.set_version(v);
                        let [c2s, s2c] = actions;
                        if let Some(a) = c2s {
                            self.mirror.apply(a);
                        }
                        if let Some(a) = s2c {
                            self.apply_read_action(a);
                        }
                        if self.tracker.awaiting_server_hello() {
                            // HelloRetryRequest: another ClientHello follows.
                            return Ok(());
                        }
                        if v == Some(Version::Tls13) {
                            let mut p = *self.deframer.policy();
                            p.tls13_protected = true;
                            self.deframer.set_policy(p);
                            self.handshake_state = next(Stage::Finished);
                        } else {
                            self.handshake_state = next(Stage::Done);
                        }
                    }
                    (
                        Stage::Done,
                        T::Certificate
                        | T::ServerKeyExchange
                        | T::CertificateRequest
                        | T::Unknown(22),
                    ) => {}
                    (Stage::Done, T::ServerHelloDone) => {
                        // Our flight (ClientKeyExchange, ChangeCipherSpec,
                        // Finished) goes out now; the caller reports it.
                        self.handshake_state = next(Stage::Ccs);
                    }
                    (Stage::Ccs, T::NewSessionTicket) => {}
                    (
                        Stage::Finished,
                        T::EncryptedExtensions
                        | T::Certificate
                        | T::CertificateRequest
                        | T::CertificateVerify,
                    ) if tls13 => {}
                    (Stage::Finished, T::Finished) => {
                        if tls13 {
                            let [_, s2c] =
                                self.tracker.on_message(Dir::S2c, T::Finished, &msg.body);
                            if let Some(a) = s2c {
                                self.apply_read_action(a);
                            }
                            let mut p = *self.deframer.policy();
                            p.allow_ccs = self.cfg.profile.drops_ccs_after_handshake();
                            self.deframer.set_policy(p);
                        }
                        self.ccs_seen = false;
                        self.renegotiate_requested = false;
                        self.handshake_state = HandshakeState::Established;
                    }
                    _ => return Err(self.unexpected()),
                }
                Ok(())
            }
        }
    }

    // The handshake's input: messages, ChangeCipherSpec, and what else
    // a record met while a handshake reads may be.

    pub(super) fn next_handshake_message(&mut self) -> Result<Option<HandshakeMessage>, Interrupt> {
        // OpenSSL's read_state_machine judges a message by its header
        // (the transition for its type, then its size) before it reads the
        // body: after the handshake, a type not allowed is refused as soon
        // as its header is in, whole message or not.
        let pending = self.joiner.pending_type();
        if let Some(e) = self.judge_header() {
            let unread = self.joiner.after_header();
            return Err(self.refused_at_header(unread, e));
        }
        match self.joiner.pop() {
            Ok(m) => Ok(m),
            Err(e) => {
                // Over its size bound (judged on the header too).
                let e = if pending == Some(HandshakeType::KeyUpdate)
                    && e.reason() == Some(Reason::ExcessiveMessageSize)
                {
                    // A KeyUpdate body over one byte: the profile's alert.
                    self.cfg.profile.long_key_update()
                } else {
                    e
                };
                let unread = self.joiner.after_header();
                Err(self.refused_at_header(unread, e))
            }
        }
    }

    /// Reads records for the handshake until a whole message (or a
    /// ChangeCipherSpec) is available: OpenSSL `ssl3_read_bytes(SSL3_RT_HANDSHAKE)`.
    pub(super) fn read_handshake_input(&mut self) -> Result<Option<HandshakeMessage>, Interrupt> {
        loop {
            if let Some(m) = self.next_handshake_message()? {
                return Ok(Some(m));
            }
            // The state machine reads what is buffered before the next
            // record: none of it is left in OpenSSL's current record.
            self.joiner.pull_all();
            let rec = match self.current_record.take() {
                Some((typ, payload)) => PlainRecord {
                    typ,
                    version: crate::ProtocolVersion::TLS12,
                    payload,
                },
                None => self.get_record_keeping(true)?,
            };
            if self.tracker.version() == Some(Version::Tls13)
                && self.joiner.is_mid_message()
                && rec.typ != ContentType::Handshake
            {
                return Err(self
                    .refuse(Reason::MixedHandshakeAndNonHandshakeData)
                    .into());
            }
            // As in ssl3_read_bytes: only a non-empty record of another
            // type ends a run of warning alerts.
            if rec.typ != ContentType::Alert && !rec.payload.is_empty() {
                self.alert_count = 0;
            }
            if self.ccs_seen && rec.typ != ContentType::Handshake {
                return Err(self.refuse(Reason::DataBetweenCcsAndFinished).into());
            }
            if self.received_shutdown {
                // ssl3_read_bytes: after the peer's close_notify (or fatal
                // alert) a record read is thrown away and the handshake
                // stops; SSL_get_error says ZERO_RETURN or SYSCALL.
                self.discard_after_shutdown(rec.typ);
                return Err(self.later_read_error().into());
            }
            match rec.typ {
                ContentType::Handshake => self.joiner.push(&rec.payload),
                ContentType::ChangeCipherSpec => {
                    if self.joiner.is_mid_message() {
                        return Err(self.refuse(Reason::CcsReceivedEarly).into());
                    }
                    self.on_ccs(&rec.payload)?;
                }
                ContentType::Alert => self.alert_record(rec.payload)?,
                ContentType::ApplicationData | ContentType::Heartbeat | ContentType::Unknown(_)
                    if self.sent_shutdown =>
                {
                    // ssl3_read_bytes for the handshake after our
                    // close_notify: a record of another type (not a
                    // ChangeCipherSpec, which the handshake asks for) is
                    // emptied, marked read, and fails the connection
                    // without an alert, before application data is judged.
                    return Err(self.data_after_close_notify().into());
                }
                ContentType::ApplicationData => {
                    let allowed = self.app_data_allowed();
                    // Refused or not, the record stays OpenSSL's current
                    // record: SSL_pending still counts it after the error.
                    self.current_record = Some((rec.typ, rec.payload));
                    if allowed {
                        return Err(Interrupt::AppData);
                    }
                    if self.cfg.want_read_when_write_meets_app_data
                        && self.app_data_allowed_in_read()
                    {
                        // Beyond OpenSSL: a read may take it; say so.
                        return Err(SslError::WantRead.into());
                    }
                    return Err(self.refuse(Reason::UnexpectedRecord).into());
                }
                _ => {
                    return Err(self.refuse(Reason::UnexpectedRecord).into());
                }
            }
        }
    }

    /// D1: application data in the middle of a handshake is allowed only from
    /// SSL_read, in a handshake this side started, before the peer's hello.
    pub(super) fn app_data_allowed(&self) -> bool {
        self.in_read_app_data && self.app_data_allowed_in_read()
    }

    /// D1 but for the caller: would a read take this application data?
    pub(super) fn app_data_allowed_in_read(&self) -> bool {
        if self.cfg.profile.takes_app_data_in_renegotiation() {
            // RFC 5246 lets application data interleave with a
            // renegotiation's messages; only ChangeCipherSpec to Finished
            // must be handshake (checked before this). That includes the
            // fragments of the hello that starts it: a TLS 1.2 message
            // begun after the handshake (the peer's ClientHello, a
            // HelloRequest cannot have a body) is a renegotiation under way.
            return match self.handshake_state {
                HandshakeState::Handshaking { first, .. } => !first,
                HandshakeState::Established => {
                    self.tracker.version() == Some(Version::Tls12) && self.joiner.is_mid_message()
                }
            };
        }
        self.total_renegotiations > 0
            && matches!(
                self.handshake_state,
                HandshakeState::Handshaking {
                    stage: Stage::Hello,
                    first: false,
                    ours: true
                }
            )
    }

    pub(super) fn on_ccs(&mut self, payload: &[u8]) -> Result<(), Interrupt> {
        let ok_stage = match self.handshake_state {
            HandshakeState::Handshaking {
                stage: Stage::Driven,
                ..
            } => self.ccs_expected,
            HandshakeState::Handshaking {
                stage: Stage::Ccs | Stage::Done,
                ..
            } => true,
            _ => false,
        };
        if !ok_stage || self.tracker.version() != Some(Version::Tls12) {
            return Err(self.refuse(Reason::CcsReceivedEarly).into());
        }
        if payload != [1] {
            // tls_get_message_header (1.1.1 to 4.0): a ChangeCipherSpec
            // "must be a single byte": unexpected_message, as RFC 8446 5
            // says for TLS 1.3 and tlsfuzzer's test-ccs expects.
            return Err(self.refuse(Reason::BadChangeCipherSpec).into());
        }
        self.opener.activate();
        self.ccs_seen = true;
        self.ccs_expected = false;
        if let HandshakeState::Handshaking { first, ours, stage } = self.handshake_state {
            if stage != Stage::Driven {
                self.handshake_state = HandshakeState::Handshaking {
                    stage: Stage::Finished,
                    first,
                    ours,
                };
            }
        }
        Ok(())
    }
}
