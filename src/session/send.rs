//! The send path: the pending write and OpenSSL's retry rules (E1-E9 of
//! `docs/behaviour.md`), fragmenting, handshake records queued in sealing
//! order, alerts, KeyUpdate at the usage limit, and shutdown.

use super::*;

impl Session {
    /// Marks the connection failed, sends the alert if there is one, and
    /// returns the error to report.
    /// A fatal unexpected_message for `reason`: most of OpenSSL's refusals.
    pub(super) fn refuse(&mut self, reason: Reason) -> SslError {
        self.fatal(fatal_err(reason, AlertDescription::UnexpectedMessage))
    }

    pub(super) fn fatal(&mut self, err: Error) -> SslError {
        if self.failure.is_none() {
            self.failure = Some(Failure::Local);
            // Once our close_notify is on its way OpenSSL 3.0 sends no
            // further alert (seen in the driven replays, which compare
            // what is sent: an EOF after `shutdown` fails without the
            // decode_error a read sends otherwise).
            if let (Some(a), false) = (err.alert(), self.sent_shutdown) {
                self.queued_alert = Some((AlertLevel::Fatal, a));
                self.dispatch_alert();
            }
        }
        SslError::Ssl(err)
    }

    /// Sends a queued alert unless a write is pending (OpenSSL keeps it
    /// queued behind the pending record).
    pub(super) fn dispatch_alert(&mut self) {
        if !self.pending_write.wire.is_empty() {
            return;
        }
        let Some((level, a)) = self.queued_alert.take() else {
            return;
        };
        let mut rec = BytesMut::new();
        if self
            .sealer
            .seal(ContentType::Alert, &[level.into(), a.into()], &mut rec)
            .is_err()
        {
            return;
        }
        if !self.behind.is_empty() {
            // Behind handshake records still queued, in sealing order.
            self.behind.push_back(rec);
            self.pump_queued();
            return;
        }
        let n = self.write_to_transport(&rec).unwrap_or(0);
        if n < rec.len() {
            rec.advance(n);
            self.pending_write.wire = rec;
            if level == AlertLevel::Warning {
                // OpenSSL's `ssl3_dispatch_alert` leaves the alert as the
                // pending write (`wpend_type` alert, `wpend_tot` 2): an
                // SSL_write now is a bad write retry.
                self.pending_write.tot = 2;
                self.pending_write.buf_addr = 0;
                self.pending_write.typ = Some(ContentType::Alert);
            }
        }
    }

    /// Queues a warning alert and sends it now unless a write is pending
    /// (OpenSSL `ssl3_send_alert` with `SSL3_AL_WARNING`).
    pub(super) fn send_warning(&mut self, a: AlertDescription) {
        self.queued_alert = Some((AlertLevel::Warning, a));
        self.dispatch_alert();
    }

    /// Seals a handshake-layer record (fragmented as application data is)
    /// behind everything sealed before it, and hands what the transport
    /// takes to it.
    pub(super) fn seal_flight(&mut self, typ: ContentType, payload: &[u8]) -> Result<(), SslError> {
        if !self.pending_write.wire.is_empty() && !self.cfg.queue_flights_behind_write {
            // OpenSSL writes each handshake message (and the CCS) with
            // `ssl3_write_bytes`, through the slot that holds the caller's
            // pending record: its length check comes first (a message
            // shorter than `wnum + wpend_tot`, as a ServerHello is:
            // `bad length`), then `ssl3_write_pending`'s (the types differ:
            // `bad write retry`).
            let reason = if payload.len() < self.write_progress + self.pending_write.tot {
                Reason::BadLength
            } else {
                Reason::BadWriteRetry
            };
            return Err(self.misuse(reason));
        }
        let mut rec = BytesMut::new();
        for chunk in payload.chunks(self.max_fragment()) {
            if let Err(e) = self.sealer.seal(typ, chunk, &mut rec) {
                return Err(self.fatal(e));
            }
        }
        self.behind.push_back(rec);
        self.pump_queued();
        Ok(())
    }

    /// Moves queued handshake records into the transport, in order, once
    /// nothing sealed before them waits. With records queued behind the
    /// caller's pending write (only [`Config::queue_flights_behind_write`]
    /// makes that), the pending record's bytes go first, on any call: the
    /// later retry then finds them sent.
    pub(super) fn pump_queued(&mut self) {
        if self.behind.is_empty() {
            return;
        }
        if !self.pending_write.wire.is_empty() {
            let _ = self.flush_wire();
            if !self.pending_write.wire.is_empty() {
                return;
            }
            self.pending_write.sent_ahead = true;
        }
        while let Some(front) = self.behind.front_mut() {
            let wire = std::mem::take(front);
            let n = self.write_to_transport(&wire).unwrap_or(0);
            let front = self.behind.front_mut().expect("still there");
            *front = wire;
            front.advance(n);
            if !front.is_empty() {
                return;
            }
            self.behind.pop_front();
        }
    }

    /// Handshake records wait for the transport with no caller's record
    /// ahead of them: the handshake cannot go on (OpenSSL's WANT_WRITE).
    pub(super) fn flight_blocked(&self) -> bool {
        !self.behind.is_empty() && self.pending_write.wire.is_empty()
    }

    #[inline]
    pub(super) fn max_fragment(&self) -> usize {
        self.cfg
            .max_send_fragment
            .clamp(MIN_SEND_FRAGMENT, MAX_PLAINTEXT_LEN)
    }

    /// `SSL_write`: `Ok(len)` once all of `buf` is sent (with partial writes:
    /// as soon as one record is).
    ///
    /// # Errors
    /// WantWrite while the transport is full (retry with the same buffer and
    /// at least the same length), and OpenSSL's retry errors.
    pub fn write(&mut self, buf: &[u8]) -> Result<usize, SslError> {
        if self.steady_write_state_cached() && self.steady_write_fits(buf.len()) {
            // Sealed, or failed: neither leaves the call waiting.
            self.last_blocked = None;
            let r = self.write_record_fast(buf);
            self.keep_steady_write(r.is_ok());
            return r;
        }
        self.leave_fast_paths();
        let r = self.write_bytes(ContentType::ApplicationData, buf);
        self.note_blocked(r)
    }

    /// [`steady_write_state`](Self::steady_write_state), from the
    /// [cache](SteadyCache) when the last call left it known.
    #[inline(always)]
    fn steady_write_state_cached(&self) -> bool {
        if self.steady.write {
            debug_assert!(self.steady_write_state(), "stale steady.write");
            return true;
        }
        self.steady_write_state()
    }

    /// After a fast write that passed the full check: if it sealed, the
    /// state checked is as it was (the next write need not check it); if
    /// it failed, the connection failed and nothing is known.
    #[inline(always)]
    fn keep_steady_write(&mut self, sealed: bool) {
        if sealed {
            self.steady.write = true;
        } else {
            self.leave_fast_paths();
        }
    }

    /// True while the last `write` returned `WantWrite` with a record of
    /// its data sealed and not yet taken by the transport: the next `write`
    /// must be its retry (same buffer, at least the same length). Sealed
    /// bytes of any kind waiting: [`queued_len`](Self::queued_len).
    #[must_use]
    pub fn write_pending(&self) -> bool {
        self.retry_pending() && self.pending_write.typ == Some(ContentType::ApplicationData)
    }

    /// A record of the last write (or a blocked alert) is pending: OpenSSL's
    /// `wb->left != 0`, or its bytes went out ahead of the retry.
    pub(super) fn retry_pending(&self) -> bool {
        !self.pending_write.wire.is_empty() || self.pending_write.sent_ahead
    }

    pub(super) fn misuse(&mut self, reason: Reason) -> SslError {
        self.fatal(Error::Misuse {
            reason,
            alert: Some(AlertDescription::InternalError),
        })
    }

    pub(super) fn write_bytes(&mut self, typ: ContentType, buf: &[u8]) -> Result<usize, SslError> {
        if typ == ContentType::ApplicationData && self.steady_writing(buf.len()) {
            return self.write_record_fast(buf);
        }
        // E8: after our close_notify, writing is refused (not fatal).
        if self.sent_shutdown {
            return Err(SslError::Ssl(Error::Misuse {
                reason: Reason::ProtocolIsShutdown,
                alert: None,
            }));
        }
        if self.renegotiate {
            self.renegotiate_check(false);
        }
        let len = buf.len();
        let mut tot = self.write_progress;
        // E1
        if len < tot || (self.retry_pending() && len < tot + self.pending_write.tot) {
            return Err(self.misuse(Reason::BadLength));
        }
        self.write_progress = 0;
        if let Some(e) = self.dead_error_write() {
            return Err(e);
        }
        // OpenSSL `ssl3_write_bytes`: a KeyUpdate to send goes out first,
        // unless earlier records are still pending.
        let key_update_now = self.key_update.is_some() && !self.retry_pending();
        if (key_update_now || self.in_init()) && !self.handshake_running {
            let r = self.handshake_func();
            if r.is_err() && self.failure.is_none() && self.retry_pending() {
                // OpenSSL loses `wnum` here (ssl3_write_bytes returns before
                // restoring it), which only matters where it could not have
                // queued the handshake behind the pending record: keep it,
                // so the retry does not send the same bytes twice.
                self.write_progress = tot;
            }
            match r {
                Ok(()) => {}
                Err(Interrupt::Err(e)) => return Err(e),
                // OpenSSL 3.0 leaves `rwstate` at SSL_NOTHING when the
                // handshake stops at application data it allows
                // (`in_read_app_data = 2`), so SSL_get_error says SYSCALL;
                // nothing is consumed and the next SSL_read returns the data.
                Err(Interrupt::AppData) => {
                    return Err(if self.cfg.want_read_when_write_meets_app_data {
                        SslError::WantRead
                    } else {
                        SslError::Syscall
                    });
                }
            }
        }
        if self.retry_pending() {
            // E3
            let addr = buf.as_ptr() as usize + tot;
            let moved = if self.cfg.check_retry_content {
                buf.get(tot..tot + self.pending_write.tot) != Some(&self.pending_write.content[..])
            } else {
                !self.cfg.accept_moving_buffer && self.pending_write.buf_addr != addr
            };
            if moved || self.pending_write.typ != Some(typ) {
                // 1.1.1 and 3.0 restore `wnum` whenever the pending write
                // fails, so a later shorter call still gets `bad length`
                // (3.5 and 4.0 do not: `bad_write_retry_keeps_progress`).
                if self.cfg.profile.bad_write_retry_keeps_progress() {
                    self.write_progress = tot;
                }
                return Err(self.misuse(Reason::BadWriteRetry));
            }
            if let Err(e) = self.flush_pending() {
                self.write_progress = tot;
                return Err(e);
            }
            self.pending_write.sent_ahead = false;
            tot += self.pending_write.tot;
        }
        if tot == len {
            self.release_write_buffer();
            return Ok(tot);
        }
        // Handshake records sealed before this write go out before it.
        self.pump_queued();
        if !self.behind.is_empty() {
            self.write_progress = tot;
            return Err(SslError::WantWrite);
        }
        let mut n = len - tot;
        let frag_max = self.max_fragment();
        loop {
            self.dispatch_alert();
            let frag = n.min(frag_max);
            let chunk = &buf[tot..tot + frag];
            let mut wire = std::mem::take(&mut self.pending_write.wire);
            wire.clear();
            if let Err(e) = self.key_update_if_due(&mut wire) {
                return Err(self.fatal(e));
            }
            if let Err(e) = self.sealer.seal(typ, chunk, &mut wire) {
                return Err(self.fatal(e));
            }
            self.pending_write.wire = wire;
            self.pending_write.tot = frag;
            self.pending_write.buf_addr = chunk.as_ptr() as usize;
            self.pending_write.typ = Some(typ);
            if self.cfg.check_retry_content {
                self.pending_write.content.clear();
                self.pending_write.content.extend_from_slice(chunk);
            }
            if let Err(e) = self.flush_pending() {
                self.write_progress = tot;
                return Err(e);
            }
            if frag == n || (typ == ContentType::ApplicationData && self.cfg.partial_write) {
                if frag == n {
                    self.release_write_buffer();
                }
                return Ok(tot + frag);
            }
            n -= frag;
            tot += frag;
        }
    }

    /// Established, nothing pending, queued or due (no alert, KeyUpdate,
    /// renegotiation, retry), and `len` bytes fit one record that the
    /// transport has room for. Then a write is one record sealed straight
    /// into the transport queue: what `write_bytes` does, less the copy
    /// through the pending-write buffer.
    #[inline]
    pub(super) fn steady_writing(&self, len: usize) -> bool {
        self.steady_write_state() && self.steady_write_fits(len)
    }

    /// The conditions of [`steady_writing`](Self::steady_writing) on the
    /// session's state alone, which a fast write leaves as they were (so
    /// [`SteadyCache`] may keep them).
    #[inline]
    pub(super) fn steady_write_state(&self) -> bool {
        self.write_progress == 0
            && self.pending_write.wire.is_empty()
            && !self.sent_shutdown
            && !self.renegotiate
            && self.key_update.is_none()
            && self.behind.is_empty()
            && self.failure.is_none()
            && self.queued_alert.is_none()
            && !self.cfg.check_retry_content
            && matches!(self.handshake_state, HandshakeState::Established)
    }

    /// The conditions of [`steady_writing`](Self::steady_writing) that
    /// change with every call: `len` bytes fit one record, the transport
    /// has room for it, and it is not the last the key may seal before a
    /// KeyUpdate is due.
    #[inline(always)]
    pub(super) fn steady_write_fits(&self, len: usize) -> bool {
        let frag_max = self.max_fragment();
        let room = match self.out_capacity {
            None => usize::MAX,
            Some(c) => c.saturating_sub(self.out.len()),
        };
        len > 0
            && len <= frag_max
            && room >= self.sealer.overhead() + len
            && self
                .sealer
                .sequence()
                .is_none_or(|seq| seq.saturating_add(2) <= self.record_limit(self.sealer.suite()))
    }

    /// Zero-copy `SSL_write` of `len` bytes: `fill` writes the plaintext
    /// straight into its record's place in the outgoing queue (zeroed
    /// first), and the record is sealed there, with no copy in.
    ///
    /// Where [`write`](Self::write) of `len` bytes would seal one record
    /// straight into the transport (established, nothing pending, queued or
    /// due, the transport has room, `len` fits one record), this is that,
    /// without the copy. Anywhere else `fill` writes into a buffer the
    /// session keeps and that buffer goes through `write`, with its results
    /// and retry rules: after `WantWrite` call `write_with` again with the
    /// same `len` and the same bytes (the buffer stays where it is, so the
    /// retry passes OpenSSL's check).
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn write_with(
        &mut self,
        len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<usize, SslError> {
        if self.steady_write_state_cached() && self.steady_write_fits(len) {
            let start = self.out.len();
            let at = start + self.sealer.prefix_len();
            // Room for the whole record, so sealing does not grow it again.
            self.out_room(self.sealer.overhead() + len);
            self.out.reserve(self.sealer.overhead() + len);
            self.out.resize(at + len, 0);
            fill(&mut self.out[at..]);
            if let Err(e) =
                self.sealer
                    .seal_in_place(ContentType::ApplicationData, &mut self.out, start)
            {
                self.out.truncate(start);
                let e = self.fatal(e);
                self.keep_steady_write(false);
                return Err(e);
            }
            self.pending_write.tot = len;
            self.pending_write.buf_addr = 0;
            self.pending_write.typ = Some(ContentType::ApplicationData);
            self.release_write_buffer();
            self.keep_steady_write(true);
            return Ok(len);
        }
        // `write` below keeps the cache (or not) for what it does; the
        // staged bytes are no part of what it checks.
        self.leave_fast_paths();
        let mut staged = std::mem::take(&mut self.staged);
        staged.clear();
        staged.resize(len, 0);
        fill(&mut staged);
        let r = self.write(&staged);
        if !(self.cfg.release_buffers && r.is_ok()) {
            self.staged = staged;
        }
        r
    }

    /// One application-data record of all of `buf`, on a
    /// [steady](Self::steady_writing) session.
    #[inline(always)]
    pub(super) fn write_record_fast(&mut self, buf: &[u8]) -> Result<usize, SslError> {
        self.out_room(self.sealer.overhead() + buf.len());
        if let Err(e) = self
            .sealer
            .seal(ContentType::ApplicationData, buf, &mut self.out)
        {
            return Err(self.fatal(e));
        }
        self.pending_write.tot = buf.len();
        self.pending_write.buf_addr = buf.as_ptr() as usize;
        self.pending_write.typ = Some(ContentType::ApplicationData);
        self.release_write_buffer();
        Ok(buf.len())
    }

    #[inline]
    pub(super) fn record_limit(&self, suite: Option<crate::cipher::CipherSuite>) -> u64 {
        match (self.cfg.record_limit, suite) {
            (Some(l), _) => l,
            (None, Some(s)) => aead_record_limit(s.aead()),
            (None, None) => u64::MAX,
        }
    }

    /// TLS 1.3: seals a KeyUpdate (update_not_requested) into `wire` and
    /// switches to the next write key when the next record would reach the
    /// per-key limit. Refuses to go past the limit when it cannot update.
    pub(super) fn key_update_if_due(&mut self, wire: &mut BytesMut) -> Result<(), Error> {
        let Some(seq) = self.sealer.sequence() else {
            return Ok(());
        };
        // The KeyUpdate itself takes one record under the old key.
        let limit = self.record_limit(self.sealer.suite());
        if seq.saturating_add(2) <= limit {
            return Ok(());
        }
        let tls13 = self.tracker.version() == Some(Version::Tls13);
        let can_seal = !matches!(self.mode, Mode::Follow);
        if !(tls13 && can_seal && self.is_established() && self.cfg.key_update_before_limit) {
            if seq < limit {
                return Ok(());
            }
            return Err(Error::Misuse {
                reason: Reason::KeyUsageLimit,
                alert: Some(AlertDescription::InternalError),
            });
        }
        match self.tracker.key_update(Dir::C2s) {
            KeyAction::Now(keys) => {
                self.sealer
                    .seal(ContentType::Handshake, &key_update_message(false), wire)?;
                self.sealer.set_keys(keys);
                Ok(())
            }
            _ if seq < limit => Ok(()),
            _ => Err(Error::Misuse {
                reason: Reason::KeyUsageLimit,
                alert: Some(AlertDescription::InternalError),
            }),
        }
    }

    /// OpenSSL `ssl3_write_pending`: hands the pending record to the
    /// transport, then what is queued behind it.
    pub(super) fn flush_pending(&mut self) -> Result<(), SslError> {
        self.flush_wire()?;
        self.pump_queued();
        Ok(())
    }

    /// The pending record's bytes into the transport.
    pub(super) fn flush_wire(&mut self) -> Result<(), SslError> {
        while !self.pending_write.wire.is_empty() {
            let wire = std::mem::take(&mut self.pending_write.wire);
            let r = self.write_to_transport(&wire);
            self.pending_write.wire = wire;
            match r {
                Some(n) => self.pending_write.wire.advance(n),
                None => return Err(SslError::WantWrite),
            }
        }
        Ok(())
    }

    #[inline]
    pub(super) fn release_write_buffer(&mut self) {
        if self.cfg.release_buffers && self.pending_write.wire.is_empty() {
            self.pending_write.wire = BytesMut::new();
        }
    }

    /// `SSL_shutdown`: sends close_notify. `Ok(false)` once sent (the peer's
    /// has not arrived), `Ok(true)` once both directions are closed.
    ///
    /// # Errors
    /// WantWrite if the alert could not be handed to the transport.
    pub fn shutdown(&mut self) -> Result<bool, SslError> {
        self.leave_fast_paths();
        let r = self.shutdown_internal();
        if matches!(r, Err(SslError::Ssl(_))) {
            // SSL_shutdown's refusals and failures leave `rwstate` alone.
            return r;
        }
        self.note_blocked(r)
    }

    /// `ssl3_shutdown` once our close_notify is out (or, 3.5 and 4.0,
    /// dropped): read on for the peer's (`ssl3_read_bytes` asking for no
    /// type); without it the call fails with what the read said.
    /// (`ssl3_read_bytes` resets `rwstate` before it reads.)
    fn shutdown_read(&mut self) -> Result<bool, SslError> {
        self.last_blocked = None;
        self.shutdown_reading = true;
        let r = self.read_bytes(&mut [], false);
        self.shutdown_reading = false;
        if !self.received_shutdown {
            return Err(match r {
                Err(Interrupt::Err(e)) => e,
                _ => SslError::WantRead,
            });
        }
        Ok(self.sent_shutdown)
    }

    pub(super) fn shutdown_internal(&mut self) -> Result<bool, SslError> {
        // OpenSSL 3.0 `SSL_shutdown` refuses, without failing the
        // connection, while in a handshake, and a failed connection counts
        // as in one (its state machine is in its error state).
        if self.failure.is_some() || self.in_init() {
            return Err(SslError::Ssl(Error::Misuse {
                reason: Reason::ShutdownWhileInInit,
                alert: None,
            }));
        }
        if self.sent_shutdown && self.pending_write.wire.is_empty() && !self.received_shutdown {
            return self.shutdown_read();
        }
        if !self.sent_shutdown
            && !self.pending_write.wire.is_empty()
            && self.pending_write.typ == Some(ContentType::ApplicationData)
        {
            // A record of ours waits for the transport: OpenSSL queues
            // close_notify behind it (`alert_dispatch`) and writes nothing;
            // the call fails, and SSL_get_error reports what the last call
            // was left waiting for (else ZERO_RETURN or SYSCALL).
            self.sent_shutdown = true;
            self.queued_alert = Some((AlertLevel::Warning, AlertDescription::CloseNotify));
            return Err(self
                .last_blocked
                .clone()
                .unwrap_or_else(|| self.later_read_error()));
        }
        if self.sent_shutdown
            && !self.pending_write.wire.is_empty()
            && self.pending_write.typ == Some(ContentType::ApplicationData)
        {
            // Sending the queued close_notify meets the pending record of
            // another type: OpenSSL's write retry check fails (fatal).
            if self.cfg.profile.drops_alert_behind_pending_write() {
                // 3.5, 4.0: the alert is dropped, the call fails as the
                // first one did.
                if self.queued_alert.take().is_some() {
                    return Err(self
                        .last_blocked
                        .clone()
                        .unwrap_or_else(|| self.later_read_error()));
                }
                // Dropped before: `ssl3_shutdown` reads for the peer's
                // close_notify, or is done once it came.
                if self.received_shutdown {
                    return Ok(true);
                }
                return self.shutdown_read();
            }
            return Err(self.misuse(Reason::BadWriteRetry));
        }
        if !self.sent_shutdown {
            if !self.pending_write.wire.is_empty() {
                // E9: a pending alert record goes first.
                if self.flush_pending().is_err() {
                    return Err(SslError::WantWrite);
                }
            }
            // So do handshake records sealed before.
            self.pump_queued();
            if !self.behind.is_empty() {
                return Err(SslError::WantWrite);
            }
            self.sent_shutdown = true;
            let mut rec = BytesMut::new();
            if let Err(e) = self.sealer.seal(ContentType::Alert, &[1, 0], &mut rec) {
                return Err(self.fatal(e));
            }
            self.pending_write = PendingWrite {
                wire: rec,
                tot: 0,
                buf_addr: 0,
                content: Vec::new(),
                typ: Some(ContentType::Alert),
                sent_ahead: false,
            };
        }
        if self.flush_pending().is_err() {
            return Err(SslError::WantWrite);
        }
        Ok(self.received_shutdown)
    }
}
