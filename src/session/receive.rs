//! The receive path: records from the received bytes (exactly a header,
//! then exactly a body), opened, checked (empty records, warning alerts,
//! the per-key limit), then handed to the read cursor (`read`, `peek`,
//! `pending`, `read_record`), the alert policy, ChangeCipherSpec or the
//! handshake message joiner. Rules A-C, F and G of `docs/behaviour.md`.

use super::*;
use crate::record::{MAX_RECORD_LEN, TAG_LEN};

/// Records with a shorter body are opened in place and copied out even
/// where they could be opened into the caller's buffer: copying a few
/// dozen bytes costs less than what opening into the buffer adds (the
/// buffer's tail kept and put back, the checks; callgrind, `bulk-64` with
/// aws-lc-rs: 3,447 instructions per record with every record opened into
/// the buffer, 3,390 opened in place and copied out, BENCHMARKS.md). Where
/// between 64 bytes and 16 KiB the two cross was not measured; 1 KiB is a
/// choice.
const OPEN_INTO_MIN: usize = 1024;

impl Session {
    /// `SSL_read`: at most one record's bytes; `Ok(0)` only for an empty
    /// `buf` with a record available (OpenSSL returns 0 there too).
    ///
    /// Where `buf` holds a whole record's plaintext (TLS 1.3: with its
    /// content type, 16385 bytes for a full record) a record of 1 KiB or
    /// more may be opened straight into `buf`, saving a copy
    /// (docs/behaviour.md I3):
    /// `buf` past the count returned is then left as it was, but may hold
    /// zeros where a record was written that is not returned as data.
    ///
    /// # Errors
    /// As `SSL_get_error` would report.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, SslError> {
        // The body inlined here: called, `read_internal` returned its result
        // through memory and this copied it with a wider load than the
        // stores that wrote it, a store-forwarding stall on every record
        // (`perf annotate` on bulk-64).
        let r = self.read_body(buf, false);
        self.note_blocked(r)
    }

    /// Remembers what a call was left waiting for (OpenSSL's `rwstate`,
    /// which `SSL_get_error` reports on a later call), and passes `r` on.
    #[inline]
    pub(super) fn note_blocked<T>(&mut self, r: Result<T, SslError>) -> Result<T, SslError> {
        self.last_blocked = match &r {
            Err(SslError::WantRead) => Some(SslError::WantRead),
            Err(SslError::WantWrite) => Some(SslError::WantWrite),
            _ => None,
        };
        r
    }

    /// Like [`read`](Self::read), but hands out what is left of the current
    /// application-data record whole, as `Bytes` split off the receive
    /// buffer: the plaintext is not copied (the AEAD decrypted it in place).
    /// Same results and errors as `read` with a buffer of unlimited size.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn read_record(&mut self) -> Result<Bytes, SslError> {
        self.take_whole = true;
        // The 1-byte buffer only passes `read`'s checks; nothing is copied.
        // `read_body` inlined here too, as in `read`.
        let r = self.read_body(&mut [0u8; 1], false);
        self.take_whole = false;
        r?;
        Ok(self.taken.take().unwrap_or_default())
    }

    /// TLS 1.3 NewSessionTicket messages received since the last call
    /// (their bodies, RFC 8446 4.6.1), for a caller that keeps tickets.
    pub fn take_tickets(&mut self) -> Vec<Bytes> {
        self.leave_fast_paths();
        std::mem::take(&mut self.tickets)
    }

    /// `SSL_peek`: like `read` but the bytes stay.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn peek(&mut self, buf: &mut [u8]) -> Result<usize, SslError> {
        let r = self.read_internal(buf, true);
        self.note_blocked(r)
    }

    /// `SSL_pending`: bytes left in the current application-data record.
    #[must_use]
    pub fn pending(&self) -> usize {
        if self.deframer.pending_header().is_some() {
            return 0;
        }
        match &self.current_record {
            Some((ContentType::ApplicationData, b)) => b.len(),
            _ => 0,
        }
    }

    /// `SSL_has_pending`: a record not fully read, or unprocessed bytes in
    /// the record layer (not counting what the transport still holds).
    #[must_use]
    pub fn has_pending(&self) -> bool {
        // A header alone counts for nothing (OpenSSL moved it out of its
        // read buffer), as in `read_pending`.
        self.current_record.is_some() || self.read_pending() || self.joiner.unpulled() > 0
    }

    pub(super) fn later_read_error(&self) -> SslError {
        if self.received_shutdown && self.warn_alert == u8::from(AlertDescription::CloseNotify) {
            SslError::ZeroReturn
        } else {
            SslError::Syscall
        }
    }

    /// A write on a failed connection: OpenSSL's state machine refuses
    /// without an error of its own, so `SSL_get_error` says ZERO_RETURN
    /// once a fatal alert arrived with no warning alert but close_notify
    /// before it (`warn_alert` starts at 0, close_notify), else SYSCALL.
    pub(super) fn dead_error_write(&self) -> Option<SslError> {
        if self.failure.is_some() && self.cfg.profile.failure_sticks() {
            return Some(failed_earlier());
        }
        self.failure.map(|_| self.later_read_error())
    }

    /// `read_body` for the other callers (one copy of it besides those
    /// inlined into `read` and `read_record`).
    #[inline(never)]
    pub(super) fn read_internal(&mut self, buf: &mut [u8], peek: bool) -> Result<usize, SslError> {
        self.read_body(buf, peek)
    }

    #[inline(always)]
    fn read_body(&mut self, buf: &mut [u8], peek: bool) -> Result<usize, SslError> {
        if !peek && !buf.is_empty() && self.steady_read_state_cached() {
            match self.read_app_data_fast(buf) {
                Ok(Some(n)) => {
                    // Read: the state checked is as it was.
                    self.steady.read = true;
                    return Ok(n);
                }
                Ok(None) => {}
                Err(e) => {
                    self.leave_fast_paths();
                    return Err(e);
                }
            }
        }
        // What follows may change anything (`peek` too comes here).
        self.leave_fast_paths();
        // 4.0: a failed connection (our fatal error or the peer's fatal
        // alert) answers SSL before anything else (`ssl_reset_error_state`).
        if self.failure.is_some() && self.cfg.profile.failure_sticks() {
            return Err(failed_earlier());
        }
        // A6: after close_notify (or a fatal alert) reads return 0 at once.
        // SSL_read resets `rwstate` first; SSL_peek (`ssl_peek_internal`)
        // does not, so SSL_get_error repeats what the last call was left
        // waiting for (a write in a renegotiation that answered WANT_READ).
        if self.received_shutdown {
            if peek {
                // OpenSSL's `ssl_peek_internal` returns 0 there without
                // resetting `rwstate` (`ssl_read_internal` resets it):
                // SSL_get_error repeats what the last call was left
                // waiting for (a write whose renegotiation reads), else
                // ZERO_RETURN or SYSCALL.
                if let Some(e) = self.last_blocked.clone() {
                    return Err(e);
                }
            }
            return Err(self.later_read_error());
        }
        if self.failure.is_some() {
            // OpenSSL's state machine refuses before `ssl3_read_bytes`
            // resets `rwstate`: SSL_get_error repeats what the last call
            // was left waiting for, else SYSCALL.
            return Err(self.last_blocked.clone().unwrap_or(SslError::Syscall));
        }
        if self.renegotiate {
            self.renegotiate_check(false);
        }
        self.in_read_app_data = true;
        let r = match self.read_bytes(buf, peek) {
            Err(Interrupt::AppData) => {
                // OpenSSL (`ssl3_read_internal`) leaves `in_read_app_data`
                // at 2 after this path, so a later SSL_write whose
                // handshake meets application data stops with SYSCALL.
                self.handshake_running = true;
                let r = self.read_bytes(buf, peek);
                self.handshake_running = false;
                r
            }
            r => {
                self.in_read_app_data = false;
                r
            }
        };
        match r {
            Ok(n) => Ok(n),
            Err(Interrupt::Err(e)) => Err(e),
            Err(Interrupt::AppData) => Err(SslError::WantRead),
        }
    }

    /// Established, nothing unusual under way: no handshake, renegotiation
    /// request, shutdown, failure or partial handshake message. Then a read
    /// of application data takes [`read_app_data_fast`](Self::read_app_data_fast),
    /// which leaves the state `read_bytes` would.
    pub(super) fn steady_read_state(&self) -> bool {
        !self.received_shutdown
            && !self.unreleased_record
            && self.failure.is_none()
            && !self.renegotiate
            && !self.handshake_running
            && !self.ccs_seen
            && !self.key_update_asked
            && matches!(self.handshake_state, HandshakeState::Established)
            && self.joiner.buffered() == 0
    }

    /// [`steady_read_state`](Self::steady_read_state), from the
    /// [cache](SteadyCache) when the last call left it known.
    #[inline(always)]
    fn steady_read_state_cached(&self) -> bool {
        if self.steady.read {
            debug_assert!(self.steady_read_state(), "stale steady.read");
            return true;
        }
        self.steady_read_state()
    }

    /// The common case of `SSL_read` on a [steady](Self::steady_read_state)
    /// session: copies out of the current application-data record, opening
    /// the next record first if none is current (for `read_record`: hands
    /// the record out whole in `taken`). `Ok(None)` when the record is of
    /// another type (it is kept in `current_record` for `read_bytes`).
    #[inline]
    pub(super) fn read_app_data_fast(&mut self, buf: &mut [u8]) -> Result<Option<usize>, SslError> {
        // `read_internal` leaves it so whenever `read_bytes` ends without
        // meeting application data a handshake allowed.
        self.in_read_app_data = false;
        if self.current_record.is_none() {
            if let Some(n) = self.read_in_place(buf)? {
                return Ok(Some(n));
            }
        }
        if self.current_record.is_none() {
            debug_assert_eq!(
                self.input_consumed, 0,
                "read_in_place drops used-up bytes unless it reads"
            );
            if self.input.is_empty() && self.deframer.waiting() && !self.eof {
                // What `get_record` would find: nothing to read yet.
                return Err(SslError::WantRead);
            }
            let rec = self.get_record()?;
            self.current_record = Some((rec.typ, rec.payload));
        }
        let Some((ContentType::ApplicationData, data)) = self.current_record.as_mut() else {
            return Ok(None);
        };
        if data.is_empty() {
            // An empty record kept by a handshake: `read_bytes` uses it up.
            return Ok(None);
        }
        // As `read_bytes`: a non-empty record that is not an alert ends a
        // run of warning alerts.
        self.alert_count = 0;
        if self.take_whole {
            let n = data.len();
            self.taken = self.current_record.take().map(|(_, d)| d);
            self.release_read_buffer();
            return Ok(Some(n));
        }
        let n = buf.len().min(data.len());
        crate::copy::copy_in_pieces(&mut buf[..n], &data[..n]);
        data.advance(n);
        if data.is_empty() {
            self.current_record = None;
            self.release_read_buffer();
        }
        Ok(Some(n))
    }

    /// OpenSSL's `RECORD_LAYER_read_pending`: bytes of a record read from
    /// the transport in part (its `rbuf.left`, which a whole header moves
    /// into the packet: a header alone leaves nothing pending).
    pub(super) fn read_pending(&self) -> bool {
        let held = self.deframer.buffered();
        if self.deframer.pending_header().is_some() {
            held > HEADER_LEN
        } else {
            held > 0
        }
    }

    /// OpenSSL `ssl3_read_bytes(SSL3_RT_APPLICATION_DATA)`.
    pub(super) fn read_bytes(&mut self, buf: &mut [u8], peek: bool) -> Result<usize, Interrupt> {
        if !self.handshake_running && (self.in_init() || self.key_update_asked) {
            self.handshake_func()?;
        }
        loop {
            if self.current_record.is_none()
                && !self.in_init()
                && self.joiner.buffered() >= HANDSHAKE_HEADER_LEN
            {
                // A message whose header an earlier entry read and left
                // (OpenSSL's `handshake_fragment`): into the handshake again.
                self.handshake_func()?;
                if !self.cfg.auto_retry {
                    return Err(SslError::WantRead.into());
                }
                continue;
            }
            let (typ, len) = match &self.current_record {
                Some((t, b)) => (*t, b.len()),
                None => {
                    // Handshake bytes left after the last message taken
                    // (under 4 here) go into OpenSSL's handshake fragment
                    // before it reads the next record.
                    self.joiner.pull_all();
                    // `shutdown` meets an empty application data record
                    // too (OpenSSL hands empty records up; a read skips
                    // them, the shutdown's read fails on them).
                    let rec = self.get_record_keeping(self.shutdown_reading)?;
                    let t = rec.typ;
                    let l = rec.payload.len();
                    self.current_record = Some((rec.typ, rec.payload));
                    (t, l)
                }
            };
            if self.tracker.version() == Some(Version::Tls13)
                && self.joiner.is_mid_message()
                && typ != ContentType::Handshake
            {
                return Err(self
                    .refuse(Reason::MixedHandshakeAndNonHandshakeData)
                    .into());
            }
            if typ != ContentType::Alert && len != 0 {
                self.alert_count = 0;
            }
            if self.ccs_seen && typ != ContentType::Handshake {
                return Err(self.refuse(Reason::DataBetweenCcsAndFinished).into());
            }
            if self.received_shutdown {
                self.current_record = None;
                self.unreleased_record = self.cfg.profile.leaves_discarded_record_unreleased();
                return Err(self.later_read_error().into());
            }
            match typ {
                ContentType::ApplicationData if self.shutdown_reading => {
                    return Err(self.data_after_close_notify().into());
                }
                ContentType::ApplicationData => {
                    if self.in_init() && !self.opener.is_protected() {
                        return Err(self.refuse(Reason::UnexpectedRecord).into());
                    }
                    if buf.is_empty() {
                        // A4: the record was read and stays buffered.
                        return Err(SslError::Syscall.into());
                    }
                    if self.take_whole && !peek {
                        if let Some((_, data)) = self.current_record.take() {
                            if data.is_empty() {
                                continue;
                            }
                            let n = data.len();
                            self.taken = Some(data);
                            self.release_read_buffer();
                            return Ok(n);
                        }
                    }
                    let Some((_, data)) = self.current_record.as_mut() else {
                        unreachable!("set above")
                    };
                    let n = buf.len().min(data.len());
                    crate::copy::copy_in_pieces(&mut buf[..n], &data[..n]);
                    if !peek {
                        data.advance(n);
                    }
                    // An empty record (kept by a handshake that stopped at
                    // it) is used up even by a peek.
                    if data.is_empty() {
                        self.current_record = None;
                        self.release_read_buffer();
                    }
                    if n == 0 {
                        continue;
                    }
                    return Ok(n);
                }
                ContentType::Handshake if self.handshake_running => {
                    // Reading application data that a handshake allowed
                    // (`in_read_app_data == 2`): OpenSSL 3.0 cannot take a
                    // handshake record here ("we already handled all of
                    // these") and fails with ERR_R_INTERNAL_ERROR, once
                    // the record went into its handshake fragment (read).
                    self.current_record = None;
                    return Err(self.refuse(Reason::InternalError).into());
                }
                ContentType::Handshake => {
                    // After our close_notify a TLS 1.2 handshake record is
                    // dropped before any of it reaches the handshake
                    // fragment (with or without auto_retry); TLS 1.3 ones
                    // (KeyUpdate, tickets) are still processed, as OpenSSL
                    // 3.0 does.
                    if self.sent_shutdown && self.tracker.version() != Some(Version::Tls13) {
                        self.current_record = None;
                        if self.cfg.auto_retry {
                            continue;
                        }
                        return Err(SslError::WantRead.into());
                    }
                    // Whole record into the message joiner (OpenSSL copies 4
                    // bytes into handshake_fragment and the statem the rest).
                    if let Some((_, data)) = self.current_record.take() {
                        self.joiner.push(&data);
                    }
                    if self.joiner.buffered() < HANDSHAKE_HEADER_LEN {
                        // Into OpenSSL's 4-byte handshake fragment: the
                        // record is read.
                        self.joiner.pull_all();
                        continue;
                    }
                    // Handshake data outside a handshake: back into init.
                    self.handshake_func()?;
                    if !self.cfg.auto_retry {
                        return Err(SslError::WantRead.into());
                    }
                }
                ContentType::Alert => {
                    let data = self
                        .current_record
                        .take()
                        .map(|(_, d)| d)
                        .unwrap_or_default();
                    self.alert_record(data)?;
                }
                ContentType::ChangeCipherSpec
                | ContentType::Heartbeat
                | ContentType::Unknown(_)
                    if self.sent_shutdown =>
                {
                    return Err(self.data_after_close_notify().into());
                }
                // These refusals leave the record unread in OpenSSL
                // (SSL_has_pending stays true on the failed connection).
                ContentType::ChangeCipherSpec => {
                    return Err(self.refuse(Reason::CcsReceivedEarly).into());
                }
                _ => {
                    return Err(self.refuse(Reason::UnexpectedRecord).into());
                }
            }
        }
    }

    /// OpenSSL `ssl3_read_bytes` after our close_notify: a record that is
    /// neither an alert nor handshake, and not what the caller asked for
    /// (any such record when `shutdown` reads), fails the connection
    /// without an alert.
    pub(super) fn data_after_close_notify(&mut self) -> SslError {
        self.current_record = None;
        self.fatal(Error::InvalidRecord {
            reason: Reason::ApplicationDataAfterCloseNotify,
            alert: None,
        })
    }

    /// `ssl3_read_bytes` after the peer's close_notify (or fatal alert):
    /// the record just read is thrown away. 1.1.1 and 3.0 empty it but do
    /// not mark it read (it stays: SSL_has_pending, and a later read meets
    /// it again); 3.5 and 4.0 step past it without releasing it, so the
    /// next record read fails ([`Profile::leaves_discarded_record_unreleased`]).
    pub(super) fn discard_after_shutdown(&mut self, typ: ContentType) {
        if self.cfg.profile.leaves_discarded_record_unreleased() {
            self.current_record = None;
            self.unreleased_record = true;
        } else {
            self.current_record = Some((typ, Bytes::new()));
        }
    }

    /// An alert record read by `read_bytes` or by the handshake (both are
    /// OpenSSL's `ssl3_read_bytes`): [`handle_alert`](Self::handle_alert),
    /// and an alert OpenSSL cannot parse (length, level) is refused before
    /// it marks the record read: it stays (`SSL_has_pending`).
    pub(super) fn alert_record(&mut self, data: Bytes) -> Result<(), SslError> {
        let r = self.handle_alert(&data);
        let tls13_close_notify = self.received_shutdown
            && self.tracker.version() == Some(Version::Tls13)
            && data.get(1) == Some(&u8::from(AlertDescription::CloseNotify));
        // Only the warning branch of `ssl3_read_bytes` marks an alert
        // record read before the close_notify return: in 3.0, a TLS 1.3
        // close_notify at another level (fatal, or any other byte) returns
        // with its record unread, so SSL_has_pending stays true. 3.5 and
        // 4.0 leave every TLS 1.3 close_notify's record unread.
        let warning = data.first() == Some(&1);
        if tls13_close_notify && (!warning || self.cfg.profile.keeps_tls13_close_notify_record()) {
            self.current_record = Some((ContentType::Alert, data.clone()));
        }
        if let Err(SslError::Ssl(err)) = &r {
            if matches!(
                err.reason(),
                Some(Reason::InvalidAlert | Reason::UnknownAlertType)
            ) {
                self.current_record = Some((ContentType::Alert, data));
            }
        }
        r
    }

    /// C1-C4: an alert record. Returns Ok to go on reading.
    pub(super) fn handle_alert(&mut self, data: &[u8]) -> Result<(), SslError> {
        let tls13 = self.tracker.version() == Some(Version::Tls13);
        if data.len() != 2 {
            return Err(self.refuse(Reason::InvalidAlert));
        }
        let level = AlertLevel::from(data[0]);
        let desc = AlertDescription::from(data[1]);
        if level == AlertLevel::Warning || (tls13 && desc == AlertDescription::UserCanceled) {
            if !tls13 || self.cfg.profile.tls13_alert_is_remembered(desc) {
                self.warn_alert = data[1];
            }
            self.alert_count += 1;
            if self.alert_count == MAX_WARN_ALERT_COUNT {
                return Err(self.refuse(Reason::TooManyWarnAlerts));
            }
        }
        if tls13 && desc == AlertDescription::UserCanceled {
            return Ok(());
        }
        if desc == AlertDescription::CloseNotify && (tls13 || level == AlertLevel::Warning) {
            self.received_shutdown = true;
            // SSL_read returns 0 and SSL_get_error judges by the last
            // warning alert: ZERO_RETURN, unless (3.5, 4.0) a TLS 1.3
            // user_canceled came last.
            return Err(self.later_read_error());
        }
        if level == AlertLevel::Fatal || tls13 {
            self.received_shutdown = true;
            self.failure = Some(Failure::Remote);
            return Err(SslError::Ssl(Error::AlertReceived(desc)));
        }
        if desc == AlertDescription::NoRenegotiation {
            return Err(self.fatal(fatal_err(
                Reason::NoRenegotiation,
                AlertDescription::HandshakeFailure,
            )));
        }
        if level == AlertLevel::Warning {
            return Ok(());
        }
        Err(self.fatal(fatal_err(
            Reason::UnknownAlertType,
            AlertDescription::IllegalParameter,
        )))
    }

    /// A record was used up: with `release_buffers` the deframer's buffer
    /// is freed if empty; a receive buffer with nothing left in it goes to
    /// the thread's spares (freed with `release_buffers`).
    #[inline(always)]
    pub(super) fn release_read_buffer(&mut self) {
        if self.cfg.release_buffers {
            self.deframer.release();
        }
        if self.input.len() == self.input_consumed {
            self.drop_consumed_input();
            self.input_drained();
        }
    }

    /// OpenSSL `ssl3_get_record` without read-ahead: exactly a header, then
    /// exactly a body, from the received bytes; empty records skipped.
    pub(super) fn get_record(&mut self) -> Result<PlainRecord, SslError> {
        self.get_record_keeping(false)
    }

    /// Like `get_record`; with `keep_empty_app` an empty application data
    /// record is returned (counted as empty): OpenSSL's handshake reader
    /// meets it as application data, which may interrupt a handshake.
    pub(super) fn get_record_keeping(
        &mut self,
        keep_empty_app: bool,
    ) -> Result<PlainRecord, SslError> {
        debug_assert_eq!(
            self.input_consumed, 0,
            "used-up bytes are dropped before this"
        );
        if self.unreleased_record {
            // OpenSSL 3.5 `tls_read_record`: a record handed up earlier
            // was never released (`num_released != num_recs`), checked
            // before any bytes are looked at.
            return Err(self.fatal(Error::record(
                Reason::RecordsNotReleased,
                AlertDescription::InternalError,
            )));
        }
        loop {
            // A whole record waiting in the received bytes is split off them
            // without a copy; otherwise the bytes go through the deframer.
            let rec = if let Some(r) = self.deframer.pop_from(&mut self.input) {
                r
            } else {
                self.pop_record_slow()?
            };
            let tls13 = self.tracker.version() == Some(Version::Tls13);
            if tls13 && rec.header().typ == ContentType::ChangeCipherSpec {
                // RFC 8446 5: "An implementation may receive an unencrypted
                // record of type change_cipher_spec consisting of the single
                // byte value 0x01 at any time after the first ClientHello
                // message has been sent or received and before the peer's
                // Finished message has been received and MUST simply drop it
                // without further processing." OpenSSL counts it as empty.
                if rec.wire_bytes()[5..] != [1] {
                    let alert = self.cfg.profile.bad_tls13_ccs_alert();
                    return Err(self.fatal(fatal_err(Reason::InvalidCcsMessage, alert)));
                }
                self.count_empty()?;
                continue;
            }
            let plain = match self.opener.open(rec) {
                Ok(p) => p,
                Err(e) => return Err(self.fatal(e)),
            };
            if self.accept_opened(plain.typ, plain.payload.len(), keep_empty_app)? {
                return Ok(plain);
            }
        }
    }

    /// The checks on a record just opened: `Ok(true)` to hand it out,
    /// `Ok(false)` to skip it (empty), or the fatal error.
    #[inline]
    pub(super) fn accept_opened(
        &mut self,
        typ: ContentType,
        len: usize,
        keep_empty_app: bool,
    ) -> Result<bool, SslError> {
        // RFC 8446 5.5: "Implementations SHOULD NOT allow the use of a
        // key for more records than the limit": the peer should have
        // updated its key (beyond OpenSSL, which does not count).
        let opened = self.opener.sequence().unwrap_or(0);
        if opened > self.record_limit(self.opener.suite()) {
            return Err(self.fatal(Error::PeerMisbehaved {
                reason: Reason::KeyUsageLimit,
                alert: AlertDescription::InternalError,
            }));
        }
        if len == 0 {
            // B3: TLS 1.3 handshake and alert records may not be empty.
            if self.tracker.version() == Some(Version::Tls13)
                && matches!(typ, ContentType::Handshake | ContentType::Alert)
            {
                return Err(self.refuse(Reason::BadLength));
            }
            self.count_empty()?;
            // OpenSSL 3.0 hands an empty record up like any other: reading
            // skips empty application data and handshake records, while
            // an empty TLS 1.2 alert is an invalid alert and an empty
            // record of any other type an unexpected one.
            let other = !matches!(typ, ContentType::ApplicationData | ContentType::Handshake);
            return Ok((keep_empty_app && typ == ContentType::ApplicationData) || other);
        }
        self.empty_count = 0;
        Ok(true)
    }

    /// The common case of reading on a [steady](Self::steady_read_state)
    /// session with no current record: the next record is whole in the
    /// received bytes. It is opened where it lies; application data that
    /// fits `buf` is copied out and the record's bytes dropped (no split,
    /// no reference count); for `read_record` it is split off and handed
    /// out whole in `taken` (no copy). Anything else (another type, more than `buf`
    /// holds) becomes the current record without a copy; an empty record is
    /// skipped. `Ok(None)` then, and when no whole record is there.
    ///
    /// The record starts after the bytes earlier fast reads used up
    /// ([`input_consumed`](Session::input_consumed)); application data
    /// copied out adds its record to them, and any other outcome drops
    /// them first, so that the code after it sees `input` as before.
    pub(super) fn read_in_place(&mut self, buf: &mut [u8]) -> Result<Option<usize>, SslError> {
        let at = self.input_consumed;
        let Some(header) = self.deframer.whole_record(&self.input[at..]) else {
            self.drop_consumed_input();
            return Ok(None);
        };
        if header.typ == ContentType::ChangeCipherSpec {
            // TLS 1.3 drops it, TLS 1.2 refuses it: `get_record` decides.
            self.drop_consumed_input();
            return Ok(None);
        }
        let total = HEADER_LEN + usize::from(header.len);
        if usize::from(header.len) >= OPEN_INTO_MIN
            && !self.take_whole
            && header.typ == ContentType::ApplicationData
        {
            if let Some(len) = self.opener.out_of_place_len(&header) {
                if len <= buf.len() {
                    self.drop_consumed_input();
                    self.deframer.taken();
                    return self.read_into(&header, total, &mut buf[..len]);
                }
            }
        }
        self.deframer.taken();
        let opened = self
            .opener
            .open_in_place(&header, &mut self.input[at..at + total]);
        let (typ, plain) = match opened {
            Ok(o) => o,
            Err(e) => {
                self.drop_consumed_input();
                self.input.advance(total);
                return Err(self.fatal(e));
            }
        };
        match self.accept_opened(typ, plain.len(), false) {
            Ok(true) => {}
            Ok(false) => {
                self.drop_consumed_input();
                self.input.advance(total);
                return Ok(None);
            }
            Err(e) => {
                self.drop_consumed_input();
                self.input.advance(total);
                return Err(e);
            }
        }
        let n = plain.len();
        let app_data = typ == ContentType::ApplicationData;
        if app_data && !self.take_whole && n <= buf.len() {
            crate::copy::copy_in_pieces(
                &mut buf[..n],
                &self.input[at + plain.start..at + plain.end],
            );
            self.input_consumed = at + total;
            self.alert_count = 0;
            self.release_read_buffer();
            return Ok(Some(n));
        }
        self.drop_consumed_input();
        // Split off, not taken: the receive buffer keeps its handle on the
        // memory, which it reuses once the records handed out are dropped.
        let mut rec = self.input.split_to(total);
        rec.advance(plain.start);
        rec.truncate(n);
        if app_data && self.take_whole {
            self.taken = Some(rec.freeze());
            self.alert_count = 0;
            self.release_read_buffer();
            return Ok(Some(n));
        }
        self.current_record = Some((typ, rec.freeze()));
        Ok(None)
    }

    /// [`read_in_place`](Self::read_in_place) for a record whose body is
    /// at least [`OPEN_INTO_MIN`] bytes where the caller's buffer holds its
    /// whole plaintext (`out`, TLS 1.3: with its content
    /// type and padding) and the provider opens out of place: the AEAD
    /// reads the ciphertext in the received bytes and writes the plaintext
    /// straight into `out`, so application data is not copied again. The
    /// same results, errors and state as opening in place and copying out.
    /// `out` past the data returned is left as it was (the TLS 1.3 content
    /// type written there is put back; zeros where 16 or more bytes of
    /// padding were); a record that is not returned as data (failed to
    /// open, refused, empty, or a handshake or alert record, which is
    /// copied back into the received bytes to be handled as today) leaves
    /// zeros where it was written.
    fn read_into(
        &mut self,
        header: &crate::record::Header,
        total: usize,
        out: &mut [u8],
    ) -> Result<Option<usize>, SslError> {
        let len = out.len();
        let mut saved = [0u8; 16];
        let kept = len.min(saved.len());
        saved[..kept].copy_from_slice(&out[len - kept..]);
        let (typ, n) = match self.opener.open_into(header, &self.input[..total], out) {
            Ok(o) => o,
            Err(e) => {
                // `open_into` zeroed what it wrote.
                self.input.advance(total);
                return Err(self.fatal(e));
            }
        };
        let accepted = self.accept_opened(typ, n, false);
        if !matches!(accepted, Ok(true)) || typ != ContentType::ApplicationData {
            // Where opening in place leaves the plaintext.
            let start = total - TAG_LEN - len;
            if matches!(accepted, Ok(true)) {
                crate::copy::copy_in_pieces(&mut self.input[start..start + n], &out[..n]);
            }
            out.fill(0);
            return match accepted {
                Ok(true) => {
                    let mut rec = self.input.split_to(total);
                    rec.advance(start);
                    rec.truncate(n);
                    self.current_record = Some((typ, rec.freeze()));
                    Ok(None)
                }
                Ok(false) => {
                    self.input.advance(total);
                    Ok(None)
                }
                Err(e) => {
                    self.input.advance(total);
                    Err(e)
                }
            };
        }
        let past = &mut out[n..];
        if past.len() <= kept {
            past.copy_from_slice(&saved[kept - past.len()..kept]);
        } else {
            past.fill(0);
        }
        self.input.advance(total);
        self.alert_count = 0;
        self.release_read_buffer();
        Ok(Some(n))
    }

    /// The received bytes through the deframer: exactly a header, then
    /// exactly a body (no read-ahead), until a record is whole.
    pub(super) fn pop_record_slow(&mut self) -> Result<OpaqueRecord, SslError> {
        loop {
            let want = self.deframer.wanted();
            let n = want.min(self.input.len());
            if n > 0 {
                if self.deframer.buffered() == 0 && self.deframer.capacity() == 0 {
                    // A record starts arriving in parts: room for it from
                    // the thread's spares.
                    let _ = self.deframer.swap_buffer(pool::take(MAX_RECORD_LEN));
                }
                let taken = self.deframer.push(&self.input[..n]);
                self.input.advance(taken);
            }
            match self.deframer.pop() {
                Ok(Some(r)) => {
                    if self.deframer.buffered() == 0 && !self.cfg.release_buffers {
                        // Assembled: the buffer goes to the spares (the
                        // record keeps its memory until used up).
                        pool::give(self.deframer.swap_buffer(BytesMut::new()));
                    }
                    return Ok(r);
                }
                Ok(None) => {
                    if !self.input.is_empty() {
                        continue;
                    }
                    return Err(self.at_eof_or_wait());
                }
                Err(e) => {
                    // OpenSSL refuses a header before it reads the body:
                    // nothing of the record stays in its read buffer
                    // (SSL_has_pending is false).
                    self.deframer = Deframer::new();
                    return Err(self.fatal(e));
                }
            }
        }
    }

    pub(super) fn count_empty(&mut self) -> Result<(), SslError> {
        self.empty_count += 1;
        if self.empty_count > MAX_EMPTY_RECORDS {
            return Err(self.refuse(Reason::RecordTooSmall));
        }
        Ok(())
    }

    /// No more bytes: wait, or handle the end of the stream (G1, G2).
    pub(super) fn at_eof_or_wait(&mut self) -> SslError {
        if !self.eof {
            return SslError::WantRead;
        }
        if self.cfg.ignore_unexpected_eof {
            // OpenSSL: SSL_set_shutdown(s, SSL_RECEIVED_SHUTDOWN), which
            // replaces the flags: a close_notify we sent is forgotten (a
            // later SSL_shutdown sends another, SSL_write works again). The
            // bytes of a record cut short stay in the read buffer
            // (SSL_has_pending says so).
            self.received_shutdown = true;
            self.sent_shutdown = false;
            self.warn_alert = u8::from(AlertDescription::CloseNotify);
            return SslError::ZeroReturn;
        }
        if self.cfg.profile.eof_is_syscall() {
            // OpenSSL 1.1.1: the read returns 0 with an empty error queue
            // and sends nothing; SSL_get_error says SYSCALL (errno 0), or
            // ZERO_RETURN once a close_notify was the last alert (a
            // renegotiation's read after it). Nothing fails: writes and
            // SSL_shutdown go on working (seen live, oracle --ends).
            return self.later_read_error();
        }
        // OpenSSL 3.0 sends decode_error and reports SSL_ERROR_SSL with
        // "unexpected eof while reading" (libssl 3.0.19 over a memory BIO,
        // which reports the end of stream as a socket BIO does).
        self.fatal(Error::record(
            Reason::UnexpectedEofWhileReading,
            AlertDescription::DecodeError,
        ))
    }

    /// Bytes held inside the record layer: a record being assembled plus
    /// complete ones not yet read, and a handshake message being joined
    /// (not counting [`unread_input`](Self::unread_input)).
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.deframer.buffered()
            + self.current_record.as_ref().map_or(0, |(_, b)| b.len())
            + self.joiner.buffered()
    }
}

/// OpenSSL 4.0's answer to a call on a connection that failed earlier: its
/// error state sticks, so SSL_get_error says SSL.
fn failed_earlier() -> SslError {
    SslError::Ssl(Error::Misuse {
        reason: Reason::FailedEarlier,
        alert: None,
    })
}
