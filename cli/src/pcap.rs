//! `tlsrec decode --keylog K capture.pcap`: TCP connections out of a pcap
//! or pcapng file, each direction reassembled into one byte stream, with
//! the segments (frame number, timestamp, stream range) each byte came in.
//!
//! Reassembly: a direction's stream starts after its SYN (else at the first
//! segment seen); a segment is placed by its sequence number, so segments
//! out of order are put back in order and retransmitted bytes (whole or
//! overlapping) are taken once, from the first copy. Bytes that never
//! arrive leave a gap: the stream ends before it and the gap is reported.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;

/// A TCP segment's share of a direction's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The packet's number in the file, from 1 (as Wireshark counts).
    pub frame: u64,
    /// The packet's timestamp.
    pub time: Duration,
    /// When its bytes could be read in order: the latest timestamp of this
    /// segment and all before it in the stream (later than `time` when an
    /// earlier segment came late).
    pub ready: Duration,
    /// The stream bytes it delivered first: `start..end`.
    pub start: u64,
    /// End (exclusive).
    pub end: u64,
}

/// One direction of a connection.
#[derive(Debug, Default, Clone)]
pub struct Stream {
    /// The bytes, in order.
    pub bytes: Vec<u8>,
    /// The segments that delivered them, in stream order.
    pub segments: Vec<Segment>,
    /// Segments whose bytes had all been delivered already.
    pub retransmitted: u64,
    /// Segments that arrived before a gap was filled.
    pub out_of_order: u64,
    /// Bytes after a gap that never closed (not in `bytes`).
    pub after_gap: u64,
    isn: Option<u32>,
    pending: BTreeMap<u64, (Vec<u8>, u64, Duration)>,
}

impl Stream {
    /// The segments that hold any of `start..end`.
    #[must_use]
    pub fn segments_of(&self, start: u64, end: u64) -> Vec<&Segment> {
        self.segments
            .iter()
            .filter(|s| s.start < end && s.end > start)
            .collect()
    }

    /// The time the byte at `offset` could be read: it and every byte
    /// before it had arrived.
    #[must_use]
    pub fn time_of(&self, offset: u64) -> Option<Duration> {
        self.segments
            .iter()
            .find(|s| s.start <= offset && offset < s.end)
            .map(|s| s.ready)
    }

    fn add(&mut self, seq: u32, syn: bool, payload: &[u8], frame: u64, time: Duration) {
        if syn {
            self.isn.get_or_insert(seq.wrapping_add(1));
        }
        if payload.is_empty() {
            return;
        }
        let isn = *self.isn.get_or_insert(seq);
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        // Offsets within 2 GiB either side of the start.
        let rel = i64::from(data_seq.wrapping_sub(isn) as i32);
        if rel < 0 {
            let skip = rel.unsigned_abs();
            if skip >= payload.len() as u64 {
                self.retransmitted += 1;
                return;
            }
            return self.insert(0, &payload[skip as usize..], frame, time);
        }
        self.insert(rel as u64, payload, frame, time);
    }

    fn insert(&mut self, at: u64, data: &[u8], frame: u64, time: Duration) {
        let have = self.bytes.len() as u64;
        if at + data.len() as u64 <= have
            || self
                .pending
                .get(&at)
                .is_some_and(|(d, _, _)| d.len() >= data.len())
        {
            self.retransmitted += 1;
            return;
        }
        if at > have {
            self.out_of_order += 1;
        }
        self.pending.insert(at, (data.to_vec(), frame, time));
        while let Some(entry) = self.pending.first_entry() {
            let at = *entry.key();
            let have = self.bytes.len() as u64;
            if at > have {
                break;
            }
            let (data, frame, time) = entry.remove();
            let skip = (have - at) as usize;
            if skip >= data.len() {
                // A copy of bytes that came meanwhile in other segments.
                self.retransmitted += 1;
                continue;
            }
            self.bytes.extend_from_slice(&data[skip..]);
            let ready = self.segments.last().map_or(time, |s| s.ready.max(time));
            self.segments.push(Segment {
                frame,
                time,
                ready,
                start: have,
                end: self.bytes.len() as u64,
            });
        }
    }

    fn finish(&mut self) {
        let have = self.bytes.len() as u64;
        self.after_gap = self
            .pending
            .iter()
            .map(|(&at, (d, _, _))| (at + d.len() as u64).saturating_sub(have))
            .max()
            .unwrap_or(0);
    }
}

/// One TCP connection: the client (who sent the SYN, else the first
/// payload) and both directions.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The client's address.
    pub client: SocketAddr,
    /// The server's address.
    pub server: SocketAddr,
    /// `[c2s, s2c]`.
    pub streams: [Stream; 2],
    first_frame: u64,
}

struct Packet {
    frame: u64,
    time: Duration,
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    syn: bool,
    ack: bool,
    payload: Vec<u8>,
}

fn parse(link: DataLink, data: &[u8], frame: u64, time: Duration) -> Option<Packet> {
    let sliced = match link {
        DataLink::ETHERNET => SlicedPacket::from_ethernet(data),
        DataLink::LINUX_SLL => SlicedPacket::from_linux_sll(data),
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => SlicedPacket::from_ip(data),
        // BSD loopback: a 4-byte address family, then the IP packet.
        DataLink::NULL | DataLink::LOOP => SlicedPacket::from_ip(data.get(4..)?),
        _ => return None,
    }
    .ok()?;
    let (src, dst): (IpAddr, IpAddr) = match sliced.net? {
        NetSlice::Ipv4(ip) => (
            ip.header().source_addr().into(),
            ip.header().destination_addr().into(),
        ),
        NetSlice::Ipv6(ip) => (
            ip.header().source_addr().into(),
            ip.header().destination_addr().into(),
        ),
    };
    let TransportSlice::Tcp(tcp) = sliced.transport? else {
        return None;
    };
    Some(Packet {
        frame,
        time,
        src: SocketAddr::new(src, tcp.source_port()),
        dst: SocketAddr::new(dst, tcp.destination_port()),
        seq: tcp.sequence_number(),
        syn: tcp.syn(),
        ack: tcp.ack(),
        payload: tcp.payload().to_vec(),
    })
}

/// Reads the TCP packets of a pcap or pcapng file (told apart by its magic
/// number), in file order.
fn packets(file: &[u8]) -> Result<Vec<Packet>, String> {
    let mut out = Vec::new();
    let ng = file.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]);
    if ng {
        let mut r = PcapNgReader::new(file).map_err(|e| format!("not a pcapng file: {e}"))?;
        let mut links: Vec<DataLink> = Vec::new();
        let mut frame = 0;
        while let Some(block) = r.next_block() {
            match block.map_err(|e| format!("pcapng: {e}"))? {
                Block::InterfaceDescription(idb) => links.push(idb.linktype),
                Block::EnhancedPacket(p) => {
                    frame += 1;
                    let link = *links
                        .get(p.interface_id as usize)
                        .ok_or("pcapng: a packet of an undeclared interface")?;
                    out.extend(parse(link, &p.data, frame, p.timestamp));
                }
                Block::SimplePacket(p) => {
                    frame += 1;
                    let link = *links.first().ok_or("pcapng: no interface")?;
                    out.extend(parse(link, &p.data, frame, Duration::ZERO));
                }
                _ => {}
            }
        }
    } else {
        let mut r = PcapReader::new(file).map_err(|e| format!("not a pcap or pcapng file: {e}"))?;
        let link = r.header().datalink;
        let mut frame = 0;
        while let Some(p) = r.next_packet() {
            let p = p.map_err(|e| format!("pcap: {e}"))?;
            frame += 1;
            out.extend(parse(link, &p.data, frame, p.timestamp));
        }
    }
    Ok(out)
}

/// The TCP connections of a capture, in the order they began, each
/// direction reassembled.
///
/// # Errors
/// The file is not a pcap or pcapng file, or is damaged.
pub fn connections(file: &[u8]) -> Result<Vec<Connection>, String> {
    let mut conns: Vec<Connection> = Vec::new();
    // A connection per address pair; a new SYN (without ACK) after data
    // starts a new one on the same pair.
    let mut open: BTreeMap<(SocketAddr, SocketAddr), usize> = BTreeMap::new();
    for p in packets(file)? {
        let key = if p.src <= p.dst {
            (p.src, p.dst)
        } else {
            (p.dst, p.src)
        };
        let fresh_syn = p.syn && !p.ack;
        let idx = match open.get(&key) {
            Some(&i) if !(fresh_syn && conns[i].streams.iter().any(|s| !s.bytes.is_empty())) => i,
            _ => {
                if p.payload.is_empty() && !p.syn {
                    continue;
                }
                // The SYN's sender is the client; without a SYN, the
                // sender of the first data (a ClientHello, if whole).
                let (client, server) = if p.syn && p.ack {
                    (p.dst, p.src)
                } else {
                    (p.src, p.dst)
                };
                conns.push(Connection {
                    client,
                    server,
                    streams: Default::default(),
                    first_frame: p.frame,
                });
                open.insert(key, conns.len() - 1);
                conns.len() - 1
            }
        };
        let c = &mut conns[idx];
        let d = usize::from(p.src != c.client);
        c.streams[d].add(p.seq, p.syn, &p.payload, p.frame, p.time);
    }
    for c in &mut conns {
        c.streams.iter_mut().for_each(Stream::finish);
    }
    conns.retain(|c| c.streams.iter().any(|s| !s.bytes.is_empty()));
    conns.sort_by_key(|c| c.first_frame);
    Ok(conns)
}
