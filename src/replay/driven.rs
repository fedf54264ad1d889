//! The driven replay: the messages the OpenSSL client sent, a driver that
//! sends them again, and the comparison of what the session sent with what
//! OpenSSL sent.

use std::collections::VecDeque;

use super::{short, Step, Transcript};
use crate::driver::{FlightItem, HandshakeDriver, Progress};
use crate::follow::{Dir, Follower, KeyAction, KeyTracker, RecordEvent};
use crate::handshake::{HandshakeJoiner, HandshakeMessage, HandshakeType};

/// The messages the OpenSSL client sent after its first handshake, for the
/// driver, and where that handshake's last flight went out.
pub(super) struct ClientScript {
    /// Step after which the client's first Finished had been sent.
    pub(super) switch_after: Option<usize>,
    /// The key schedule as it stood then.
    pub(super) tracker: Option<KeyTracker>,
    /// Later handshake messages (KeyUpdate excepted: the record layer
    /// seals those).
    pub(super) messages: VecDeque<(HandshakeType, Vec<u8>)>,
    /// `send` steps with a ClientHello of the client's own accord that no
    /// call step came before: the recording program called
    /// `SSL_renegotiate` and `SSL_do_handshake` there, which transcripts
    /// without `renegotiate` steps do not show.
    pub(super) implicit_starts: Vec<usize>,
}

/// Pulls every record `dir` has ready out of `f`, feeding `held` to it.
pub(super) fn drain(f: &mut Follower, held: &mut Vec<u8>, dir: Dir, out: &mut Vec<RecordEvent>) {
    loop {
        let n = f.push(dir, held);
        held.drain(..n);
        match f.next(dir) {
            Some(ev) => out.push(ev),
            None if n == 0 => return,
            None => {}
        }
    }
}

pub(super) fn client_script(t: &Transcript) -> ClientScript {
    let mut f = Follower::new(t.keylog.clone());
    let mut held: [Vec<u8>; 2] = Default::default();
    let mut joiner = HandshakeJoiner::new();
    let mut script = ClientScript {
        switch_after: None,
        tracker: None,
        messages: VecDeque::new(),
        implicit_starts: Vec::new(),
    };
    let explicit = t
        .steps
        .iter()
        .any(|s| matches!(s, Step::Renegotiate { .. }));
    let mut hello_request = false;
    for (i, step) in t.steps.iter().enumerate() {
        let (dir, bytes) = match step {
            Step::Recv(b) => (Dir::S2c, b),
            Step::Send(b) | Step::Drain { wire: b, .. } => (Dir::C2s, b),
            _ => continue,
        };
        held[dir.idx()].extend_from_slice(bytes);
        let mut evs = Vec::new();
        // The server's records first: a client record may need its hello.
        let mut server = Vec::new();
        drain(&mut f, &mut held[1], Dir::S2c, &mut server);
        drain(&mut f, &mut held[0], Dir::C2s, &mut evs);
        drain(&mut f, &mut held[1], Dir::S2c, &mut server);
        if server
            .iter()
            .any(|e| e.messages.contains(&HandshakeType::HelloRequest))
        {
            hello_request = true;
        }
        for ev in evs {
            let Some(p) = ev.plain.filter(|p| p.typ == crate::ContentType::Handshake) else {
                continue;
            };
            joiner.push(&p.payload);
            while let Ok(Some(m)) = joiner.pop() {
                if script.switch_after.is_none() {
                    if m.typ == HandshakeType::Finished {
                        script.switch_after = Some(i);
                        script.tracker = Some(f.tracker().clone());
                    }
                } else if m.typ != HandshakeType::KeyUpdate {
                    if m.typ == HandshakeType::ClientHello {
                        let after_call = i > 0
                            && matches!(
                                t.steps[i - 1],
                                Step::Read { .. }
                                    | Step::Peek { .. }
                                    | Step::Write { .. }
                                    | Step::Renegotiate { .. }
                            );
                        if !explicit && !after_call && !hello_request {
                            script.implicit_starts.push(i);
                        }
                        hello_request = false;
                    }
                    script.messages.push_back((m.typ, m.body.to_vec()));
                }
            }
        }
    }
    script
}

/// Sends, handshake by handshake, the messages the OpenSSL client sent,
/// with keys from the key log, and refuses a server message a TLS 1.2
/// client does not expect where it comes (as OpenSSL's state machine does).
pub(super) struct ReplayDriver {
    pub(super) tracker: KeyTracker,
    pub(super) script: VecDeque<(HandshakeType, Vec<u8>)>,
    pub(super) write_keys: Option<crate::keys::RecordKeys>,
    pub(super) finished_sent: bool,
    /// The server messages that may come next.
    pub(super) expect: Vec<HandshakeType>,
}

impl ReplayDriver {
    pub(super) fn send(&mut self, typ: HandshakeType, body: Vec<u8>, out: &mut Vec<FlightItem>) {
        let [c2s, _] = self.tracker.on_message(Dir::C2s, typ, &body);
        if let Some(KeyAction::Prepare(k)) = c2s {
            self.write_keys = Some(k);
        }
        out.push(FlightItem::Message(typ, body));
    }

    /// This side's flight up to and including its Finished, the write keys
    /// switched just before it.
    pub(super) fn flight(&mut self, out: &mut Vec<FlightItem>) {
        while let Some((typ, body)) = self.script.pop_front() {
            if typ == HandshakeType::Finished {
                if let Some(k) = self.write_keys.take() {
                    out.push(FlightItem::WriteKeys(k));
                }
                self.send(typ, body, out);
                self.finished_sent = true;
                return;
            }
            self.send(typ, body, out);
        }
    }
}

impl HandshakeDriver for ReplayDriver {
    fn start(&mut self, out: &mut Vec<FlightItem>) -> Progress {
        match self.script.pop_front() {
            Some((HandshakeType::ClientHello, body)) => {
                self.finished_sent = false;
                self.expect = vec![HandshakeType::ServerHello];
                self.send(HandshakeType::ClientHello, body, out);
                Progress::Continue
            }
            // OpenSSL sent no ClientHello here.
            _ => Progress::Fail(crate::AlertDescription::InternalError),
        }
    }

    fn message(&mut self, msg: &HandshakeMessage, out: &mut Vec<FlightItem>) -> Progress {
        use HandshakeType as T;
        if !self.expect.contains(&msg.typ) {
            return Progress::Fail(crate::AlertDescription::UnexpectedMessage);
        }
        // OpenSSL's TLS 1.2 client: after the ServerHello, either the full
        // handshake's messages or (resuming) the server's Finished; after
        // ServerHelloDone, a ticket or the Finished.
        self.expect = match msg.typ {
            T::ServerHello => vec![
                T::Certificate,
                T::ServerKeyExchange,
                T::CertificateRequest,
                T::ServerHelloDone,
                T::Unknown(22),
                T::NewSessionTicket,
                T::Finished,
            ],
            T::Certificate | T::ServerKeyExchange | T::CertificateRequest | T::Unknown(22) => vec![
                T::Certificate,
                T::ServerKeyExchange,
                T::CertificateRequest,
                T::ServerHelloDone,
                T::Unknown(22),
            ],
            T::ServerHelloDone | T::NewSessionTicket => vec![T::NewSessionTicket, T::Finished],
            _ => Vec::new(),
        };
        let [c2s, s2c] = self.tracker.on_message(Dir::S2c, msg.typ, &msg.body);
        if let Some(KeyAction::Prepare(k)) = s2c {
            out.push(FlightItem::ReadKeys(k));
        }
        if let Some(KeyAction::Prepare(k)) = c2s {
            self.write_keys = Some(k);
        }
        match msg.typ {
            HandshakeType::ServerHelloDone => {
                self.flight(out);
                Progress::Continue
            }
            HandshakeType::Finished => {
                if !self.finished_sent {
                    // An abbreviated handshake: ours comes last.
                    self.flight(out);
                }
                Progress::Done
            }
            _ => Progress::Continue,
        }
    }
}

/// What the client sent, OpenSSL's and ours, each followed with the key log
/// next to the server's records, compared record by record.
pub(super) struct SentCompare {
    followers: [Follower; 2],
    held: [[Vec<u8>; 2]; 2],
    /// Client records not yet matched with the other side's: OpenSSL's, ours.
    queued: [VecDeque<RecordEvent>; 2],
}

impl SentCompare {
    pub(super) fn new(t: &Transcript) -> Self {
        SentCompare {
            followers: [
                Follower::new(t.keylog.clone()),
                Follower::new(t.keylog.clone()),
            ],
            held: Default::default(),
            queued: Default::default(),
        }
    }

    pub(super) fn pump(&mut self) {
        for k in 0..2 {
            let f = &mut self.followers[k];
            let [c2s, s2c] = &mut self.held[k];
            let mut evs = Vec::new();
            drain(f, s2c, Dir::S2c, &mut Vec::new());
            drain(f, c2s, Dir::C2s, &mut evs);
            drain(f, s2c, Dir::S2c, &mut Vec::new());
            self.queued[k].extend(evs);
        }
    }

    pub(super) fn server(&mut self, b: &[u8]) {
        for k in 0..2 {
            self.held[k][1].extend_from_slice(b);
        }
        self.pump();
    }

    /// Both clients' bytes of one step; every record either has must match.
    pub(super) fn client(&mut self, theirs: &[u8], ours: &[u8]) -> Result<(), String> {
        self.held[0][0].extend_from_slice(theirs);
        self.held[1][0].extend_from_slice(ours);
        self.pump();
        let [a, b] = &mut self.queued;
        while let (Some(x), Some(y)) = (a.front(), b.front()) {
            let same = x.header.typ == y.header.typ
                && x.header.len == y.header.len
                && x.epoch == y.epoch
                && x.error.is_none()
                && y.error.is_none()
                && x.plain.as_ref().map(|p| (p.typ, &p.payload))
                    == y.plain.as_ref().map(|p| (p.typ, &p.payload));
            if !same {
                return Err(format!(
                    "sent {} where OpenSSL sent {}",
                    sent_record(y),
                    sent_record(x)
                ));
            }
            a.pop_front();
            b.pop_front();
        }
        if a.len() != b.len() {
            return Err(format!(
                "{} records sent where OpenSSL sent {}",
                b.len(),
                a.len()
            ));
        }
        Ok(())
    }
}

pub(super) fn sent_record(ev: &RecordEvent) -> String {
    match (&ev.plain, &ev.error) {
        (_, Some(e)) => format!("a record that does not open ({e})"),
        (Some(p), None) => format!("{:?} {}", p.typ, short(&p.payload)),
        (None, None) => format!("{:?} of {} bytes", ev.header.typ, ev.header.len),
    }
}
