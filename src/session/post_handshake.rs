//! Handshake messages after the handshake, by role and version: TLS 1.3
//! KeyUpdate (and sending our own), NewSessionTicket, CertificateRequest;
//! TLS 1.2 HelloRequest at a client, ClientHello at a server.

use super::*;

impl Session {
    /// Messages a client takes after its handshake (OpenSSL's TLS_ST_OK
    /// read transitions); for a server, KeyUpdate and (TLS 1.2) ClientHello.
    pub(super) fn post_handshake_type_allowed(&self, t: HandshakeType) -> bool {
        use HandshakeType as T;
        if self.role == Role::Server {
            return match self.tracker.version() {
                Some(Version::Tls13) => t == T::KeyUpdate,
                _ => t == T::ClientHello,
            };
        }
        match self.tracker.version() {
            Some(Version::Tls13) => matches!(
                t,
                T::NewSessionTicket | T::KeyUpdate | T::CertificateRequest
            ),
            _ => t == T::HelloRequest,
        }
    }

    pub(super) fn post_handshake_message(
        &mut self,
        msg: HandshakeMessage,
    ) -> Result<(), Interrupt> {
        use HandshakeType as T;
        let tls13 = self.tracker.version() == Some(Version::Tls13);
        if !self.post_handshake_type_allowed(msg.typ) {
            return Err(self.unexpected());
        }
        match msg.typ {
            T::NewSessionTicket if tls13 => {
                // Bounded: a peer sending tickets without end cannot make
                // the session grow; the newest are kept.
                if self.tickets.len() == MAX_KEPT_TICKETS {
                    self.tickets.remove(0);
                }
                self.tickets.push(msg.body.clone());
                Ok(())
            }
            T::CertificateRequest if tls13 => Ok(()),
            T::KeyUpdate if tls13 => {
                // RFC 8446 4.6.3: "request_update ... If an implementation
                // receives any other value, it MUST terminate the connection
                // with an "illegal_parameter" alert."
                if msg.body.len() != 1 {
                    return Err(self
                        .fatal(fatal_err(
                            Reason::LengthMismatch,
                            AlertDescription::DecodeError,
                        ))
                        .into());
                }
                if msg.body[0] > 1 {
                    return Err(self
                        .fatal(fatal_err(
                            Reason::BadValue,
                            AlertDescription::IllegalParameter,
                        ))
                        .into());
                }
                // C6 / RFC 8446 5.1: "Handshake messages MUST NOT span key changes."
                if self.joiner.buffered() > 0 {
                    return Err(self.refuse(Reason::NotOnRecordBoundary).into());
                }
                let a = self.tracker.key_update(Dir::S2c);
                if matches!(a, KeyAction::Missing) {
                    // No traffic secret: say so here, not as a bad MAC on
                    // the next record.
                    return Err(self
                        .fatal(Error::Misuse {
                            reason: Reason::NoTrafficSecret,
                            alert: Some(AlertDescription::InternalError),
                        })
                        .into());
                }
                self.apply_read_action(a);
                // New read keys end 3.5's and 4.0's dropping of a
                // ChangeCipherSpec (`drops_ccs_after_handshake`).
                let mut p = *self.deframer.policy();
                p.allow_ccs = false;
                self.deframer.set_policy(p);
                if msg.body[0] == 1 {
                    if self.cfg.profile.answers_key_update_at_once()
                        && !matches!(self.mode, Mode::Follow)
                    {
                        // RFC profile: answered before anything more is read.
                        self.send_key_update(false)?;
                        return Ok(());
                    }
                    // OpenSSL's `tls_process_key_update`: the answer is due
                    // (`s->key_update = SSL_KEY_UPDATE_NOT_REQUESTED`).
                    self.key_update = Some(false);
                }
                Ok(())
            }
            T::ClientHello if !tls13 => {
                if matches!(self.mode, Mode::Driven(_))
                    && (self.cfg.allow_client_renegotiation || self.renegotiate_requested)
                {
                    // D6 with SSL_OP_ALLOW_CLIENT_RENEGOTIATION: the
                    // client's renegotiation runs (not counted as ours);
                    // and D5: the answer to our HelloRequest runs whatever
                    // the option (OpenSSL's `tls_process_client_hello`
                    // checks the options only without `s->renegotiate`).
                    self.handshake_state = HandshakeState::Handshaking {
                        stage: Stage::Hello,
                        first: false,
                        ours: self.renegotiate_requested,
                    };
                    return self.drive_message(msg);
                }
                // A server that does not renegotiate refuses and goes on
                // (OpenSSL `tls_process_client_hello` without
                // SSL_OP_ALLOW_CLIENT_RENEGOTIATION, or with
                // SSL_OP_NO_RENEGOTIATION: the message is read, the alert
                // sent, the handshake over).
                self.send_warning(AlertDescription::NoRenegotiation);
                Ok(())
            }
            T::HelloRequest if !tls13 => {
                if !msg.body.is_empty() {
                    return Err(self
                        .fatal(fatal_err(
                            Reason::LengthMismatch,
                            AlertDescription::DecodeError,
                        ))
                        .into());
                }
                if matches!(self.mode, Mode::TakenOver) {
                    // A client taken over has no handshake to run: as
                    // OpenSSL's client with SSL_OP_NO_RENEGOTIATION
                    // (`tls_process_hello_req`), a warning no_renegotiation
                    // and the connection goes on.
                    self.send_warning(AlertDescription::NoRenegotiation);
                    return Ok(());
                }
                self.hello_request_received();
                Ok(())
            }
            _ => Err(self.unexpected()),
        }
    }

    /// `SSL_key_update` (TLS 1.3): a KeyUpdate goes out at the next call
    /// that enters the handshake (a `write`, `read`, `peek` or
    /// `do_handshake`), asking the peer to update too if `request_peer`;
    /// this side's write keys then move to the next generation (RFC 8446
    /// 4.6.3). A session that follows a handshake expects its KeyUpdate
    /// through [`observe_sent`](Self::observe_sent).
    ///
    /// # Errors
    /// Refused, not fatal: before TLS 1.3 is established (`wrong ssl
    /// version`), while a write is pending (`bad write retry`, as OpenSSL),
    /// without the traffic secrets a key update needs (`no handshake to
    /// run`: give them in [`Established::secrets`]); `Syscall` after a fatal
    /// error.
    pub fn key_update(&mut self, request_peer: bool) -> Result<(), SslError> {
        self.leave_fast_paths();
        let refuse = |reason| {
            Err(SslError::Ssl(Error::Misuse {
                reason,
                alert: None,
            }))
        };
        if self.failure.is_some() {
            return Err(SslError::Syscall);
        }
        if self.tracker.version() != Some(Version::Tls13) || self.in_init() {
            return refuse(Reason::WrongSslVersion);
        }
        if self.retry_pending() {
            return refuse(Reason::BadWriteRetry);
        }
        if !matches!(self.mode, Mode::Follow) && !self.tracker.has_app_keys(Dir::C2s) {
            return refuse(Reason::NoHandshake);
        }
        self.key_update = Some(request_peer);
        self.key_update_asked = true;
        Ok(())
    }

    /// Seals a KeyUpdate and moves this side's write keys on.
    pub(super) fn send_key_update(&mut self, request_peer: bool) -> Result<(), SslError> {
        self.seal_flight(ContentType::Handshake, &key_update_message(request_peer))?;
        match self.tracker.key_update(Dir::C2s) {
            KeyAction::Now(keys) => {
                self.sealer.set_keys(keys);
                Ok(())
            }
            _ => Err(self.misuse(Reason::NoHandshake)),
        }
    }

    /// True when a KeyUpdate with update_requested arrived and our answer is
    /// due with the next write (C6).
    #[must_use]
    pub fn key_update_due(&self) -> bool {
        self.key_update.is_some()
    }
}
