//! Following a handshake from the key log: what this endpoint (a client)
//! sent, as the caller reports it, tells the session its own keys.

use super::*;

impl Session {
    /// Reports bytes this endpoint itself sent (its handshake flights, as a
    /// transcript's `send` steps give them): the session follows them to
    /// learn its ClientHello random and when its own keys change. Only a
    /// session that follows its handshake ([`passive_client`](Self::passive_client),
    /// before any [`drive_with`](Self::drive_with)) listens: one that seals
    /// its own records knows what it sent, and ignores this.
    pub fn observe_sent(&mut self, bytes: &[u8]) {
        self.leave_fast_paths();
        if !matches!(self.mode, Mode::Follow) {
            return;
        }
        let mut rest = bytes;
        while !rest.is_empty() || self.mirror.deframer.buffered() > 0 {
            let n = self.mirror.deframer.push(rest);
            rest = &rest[n..];
            let rec = match self.mirror.deframer.pop() {
                Ok(Some(r)) => r,
                Ok(None) if n == 0 => break,
                Ok(None) => continue,
                Err(_) => {
                    self.mirror.failed = true;
                    break;
                }
            };
            if self.mirror.failed {
                continue;
            }
            let typ = rec.header().typ;
            let tls13 = self.tracker.version() == Some(Version::Tls13);
            if tls13 && typ == ContentType::ChangeCipherSpec {
                continue;
            }
            if tls13 && typ == ContentType::ApplicationData && !self.mirror.opener.is_protected() {
                self.mirror.opener.activate();
                self.sync_sealer();
            }
            let Ok(plain) = self.mirror.opener.open(rec) else {
                self.mirror.failed = true;
                continue;
            };
            match plain.typ {
                ContentType::ChangeCipherSpec if !tls13 => {
                    self.mirror.opener.activate();
                    self.sync_sealer();
                }
                ContentType::Handshake => {
                    self.mirror.joiner.push(&plain.payload);
                    while let Ok(Some(m)) = self.mirror.joiner.pop() {
                        let waiting = matches!(
                            self.handshake_state,
                            HandshakeState::Established
                                | HandshakeState::Handshaking {
                                    stage: Stage::Request,
                                    ..
                                }
                        );
                        if m.typ == HandshakeType::ClientHello && waiting {
                            // Our own renegotiation (SSL_renegotiate, or the
                            // answer to a HelloRequest) has begun.
                            self.renegotiate = false;
                            self.total_renegotiations += 1;
                            self.handshake_state = HandshakeState::Handshaking {
                                stage: Stage::Hello,
                                first: false,
                                ours: true,
                            };
                        }
                        let actions = self.tracker.on_message(Dir::C2s, m.typ, &m.body);
                        let [c2s, s2c] = actions;
                        if let Some(a) = c2s {
                            self.mirror.apply(a);
                            self.sync_sealer();
                        }
                        if let Some(a) = s2c {
                            self.apply_read_action(a);
                        }
                    }
                }
                _ => {}
            }
        }
        if self.sealer.is_protected() {
            self.sync_sealer_sequence();
        }
    }

    /// Our sealer takes over the keys the mirror saw activated.
    pub(super) fn sync_sealer(&mut self) {
        let Some(keys) = self.mirror.opener.keys().cloned() else {
            return;
        };
        if self.sealer.keys() != Some(&keys) {
            self.sealer.set_keys(keys);
        }
        self.sync_sealer_sequence();
    }

    pub(super) fn sync_sealer_sequence(&mut self) {
        if self.sealer.keys() == self.mirror.opener.keys() {
            if let Some(seq) = self.mirror.opener.sequence() {
                if Some(seq) > self.sealer.sequence() {
                    let _ = self.sealer.set_sequence(seq);
                }
            }
        }
    }

    pub(super) fn apply_read_action(&mut self, a: KeyAction) {
        match a {
            KeyAction::Now(k) => self.opener.set_keys(k),
            KeyAction::Prepare(k) => self.opener.prepare(k),
            KeyAction::Missing => {}
        }
    }
}
