//! The four probes. Each returns an [`Answer`]; none blocks longer than the timeout it is given.

use socket2::{Domain, Protocol, SockAddr, SockFilter, Socket, Type};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tokio::sync::oneshot;
use unyo_domain::connectivity::{ICMP_NOT_PERMITTED, ProbeSpec};

/// What one attempt found.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The target answered and met every condition.
    pub ok: bool,
    /// The attempt could not be made at all (e.g. ICMP not permitted): not a fault of the target.
    pub not_tried: bool,
    /// Time to the answer.
    pub latency: Duration,
    /// What happened, in Japanese (e.g. 「接続拒否」, 「HTTP 503」).
    pub message: String,
    /// HTTPS: days until the server certificate expires.
    pub cert_days_left: Option<i64>,
}

impl Answer {
    fn ok(latency: Duration, message: impl Into<String>) -> Answer {
        Answer {
            ok: true,
            not_tried: false,
            latency,
            message: message.into(),
            cert_days_left: None,
        }
    }

    fn fail(latency: Duration, message: impl Into<String>) -> Answer {
        Answer {
            ok: false,
            not_tried: false,
            latency,
            message: message.into(),
            cert_days_left: None,
        }
    }
}

/// Runs one attempt of `spec`, never longer than `timeout` (a hanging target gives 「タイムアウト」).
pub async fn attempt(spec: &ProbeSpec, timeout: Duration) -> Answer {
    let start = Instant::now();
    let fut = async {
        match spec {
            ProbeSpec::Icmp { addr } => icmp(*addr, start).await,
            ProbeSpec::Tcp { addr, port } => tcp(SocketAddr::new(*addr, *port), start).await,
            ProbeSpec::Http { .. } => http(spec, start).await,
            ProbeSpec::Dns {
                addr,
                port,
                name,
                expect,
            } => dns(SocketAddr::new(*addr, *port), name, *expect, start).await,
        }
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(a) => a,
        Err(_) => Answer::fail(
            start.elapsed(),
            format!("タイムアウト（{} ms）", timeout.as_millis()),
        ),
    }
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "接続拒否".into(),
        std::io::ErrorKind::ConnectionReset => "接続リセット".into(),
        std::io::ErrorKind::TimedOut => "タイムアウト".into(),
        _ => format!("通信エラー: {e}"),
    }
}

/// TCP connect; the socket is closed with RST (SO_LINGER 0) so no TIME_WAIT is left behind.
async fn tcp(addr: SocketAddr, start: Instant) -> Answer {
    match connect(addr).await {
        Ok(s) => {
            let latency = start.elapsed();
            let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
            drop(s);
            Answer::ok(latency, format!("接続成功 {addr}"))
        }
        Err(e) => Answer::fail(start.elapsed(), io_message(&e)),
    }
}

async fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let sock = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    sock.connect(addr).await
}

// ---------------------------------------------------------------------------------------------------------
// ICMP
// ---------------------------------------------------------------------------------------------------------

/// How this host may send ICMP echo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpMode {
    /// Unprivileged datagram socket (`net.ipv4.ping_group_range` includes our group).
    Datagram,
    /// Raw socket (CAP_NET_RAW).
    Raw,
    /// Neither.
    None,
}

/// Finds out which ICMP socket the kernel allows (datagram first, then raw).
pub fn icmp_mode() -> IcmpMode {
    if Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::ICMPV4)).is_ok() {
        IcmpMode::Datagram
    } else if Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)).is_ok() {
        IcmpMode::Raw
    } else {
        IcmpMode::None
    }
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        sum = sum.wrapping_add(u32::from(word));
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The ICMP echo path of one address family, decided at its first probe: datagram first, then raw.
enum EchoPath {
    /// One unprivileged datagram socket per attempt: the kernel gives each its own identifier and delivers
    /// only that socket's replies to it.
    Datagram,
    /// One shared raw socket pair for the whole process, replies dispatched by [`RawPinger`].
    Raw(Arc<RawPinger>),
}

static ECHO_V4: OnceLock<EchoPath> = OnceLock::new();
static ECHO_V6: OnceLock<EchoPath> = OnceLock::new();
/// Serialises the first probe's choice, so that only one receive thread is started per family.
static ECHO_INIT: Mutex<()> = Mutex::new(());

/// The echo path for `v6`, or None when neither socket kind is permitted. "Not permitted" is not
/// remembered: it is checked again at the next probe, so a permission granted later is taken up.
fn echo_path(v6: bool) -> Option<&'static EchoPath> {
    let cell = if v6 { &ECHO_V6 } else { &ECHO_V4 };
    if let Some(p) = cell.get() {
        return Some(p);
    }
    let _init = ECHO_INIT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = cell.get() {
        return Some(p);
    }
    let (domain, proto) = if v6 {
        (Domain::IPV6, Protocol::ICMPV6)
    } else {
        (Domain::IPV4, Protocol::ICMPV4)
    };
    let path = if Socket::new(domain, Type::DGRAM, Some(proto)).is_ok() {
        EchoPath::Datagram
    } else {
        EchoPath::Raw(RawPinger::start(v6).ok()?)
    };
    Some(cell.get_or_init(|| path))
}

fn not_permitted() -> Answer {
    Answer {
        ok: false,
        not_tried: true,
        latency: Duration::ZERO,
        message: ICMP_NOT_PERMITTED.to_string(),
        cert_days_left: None,
    }
}

/// Marks our echo requests' payload; the 8-byte token that follows names the waiting attempt.
const PAYLOAD_MAGIC: &[u8; 4] = b"unyo";

/// An echo request: type, code, checksum (IPv4 only: the kernel computes ICMPv6's), identifier,
/// sequence, then the magic and the token.
fn echo_request(v6: bool, ident: u16, seq: u16, token: u64) -> Vec<u8> {
    let mut pkt = Vec::with_capacity(20);
    pkt.extend_from_slice(&[if v6 { 128 } else { 8 }, 0, 0, 0]);
    pkt.extend_from_slice(&ident.to_be_bytes());
    pkt.extend_from_slice(&seq.to_be_bytes());
    pkt.extend_from_slice(PAYLOAD_MAGIC);
    pkt.extend_from_slice(&token.to_be_bytes());
    if !v6 {
        let c = checksum(&pkt);
        pkt[2..4].copy_from_slice(&c.to_be_bytes());
    }
    pkt
}

async fn icmp(addr: IpAddr, start: Instant) -> Answer {
    match echo_path(addr.is_ipv6()) {
        None => not_permitted(),
        Some(EchoPath::Datagram) => icmp_datagram(addr, start).await,
        Some(EchoPath::Raw(pinger)) => pinger.echo(addr, start).await,
    }
}

/// One echo over its own connected datagram socket (the kernel sets the identifier and filters the replies
/// by it, so only the sequence is checked).
async fn icmp_datagram(addr: IpAddr, start: Instant) -> Answer {
    let v6 = addr.is_ipv6();
    let (domain, proto) = if v6 {
        (Domain::IPV6, Protocol::ICMPV6)
    } else {
        (Domain::IPV4, Protocol::ICMPV4)
    };
    let sock = match Socket::new(domain, Type::DGRAM, Some(proto)) {
        Ok(s) => s,
        // Permitted at the first probe: a failure now is this attempt's (e.g. no descriptors left).
        Err(e) => return Answer::fail(start.elapsed(), io_message(&e)),
    };
    let token = next_token();
    let seq = token as u16;
    let pkt = echo_request(v6, 0, seq, token);
    let run = async {
        sock.set_nonblocking(true)?;
        sock.connect(&SockAddr::from(SocketAddr::new(addr, 0)))?;
        let std_sock: std::net::UdpSocket = sock.into();
        let udp = UdpSocket::from_std(std_sock)?;
        udp.send(&pkt).await?;
        let mut buf = [0u8; 1500];
        loop {
            let n = udp.recv(&mut buf).await?;
            let body = &buf[..n];
            if body.len() >= 8
                && body[0] == if v6 { 129 } else { 0 }
                && u16::from_be_bytes([body[6], body[7]]) == seq
            {
                return Ok::<_, std::io::Error>(());
            }
        }
    };
    match run.await {
        Ok(()) => Answer::ok(start.elapsed(), "応答あり（datagram）"),
        Err(e) => Answer::fail(start.elapsed(), io_message(&e)),
    }
}

/// Tokens of echo requests: unique in the process (a 64-bit counter from a random start), so that a late
/// reply can never be taken for another attempt's.
fn next_token() -> u64 {
    static NEXT: OnceLock<AtomicU64> = OnceLock::new();
    NEXT.get_or_init(|| {
        let mut b = [0u8; 8];
        let _ = getrandom::fill(&mut b);
        AtomicU64::new(u64::from_le_bytes(b) >> 1)
    })
    .fetch_add(1, Ordering::Relaxed)
}

/// What the receive thread hands to a waiting attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reply {
    /// The echo reply, with the time it was received.
    Echo(Instant),
    /// A destination-unreachable the kernel treats as fatal for a connected socket (ICMP code).
    Unreachable(u8),
}

/// Attempts waiting for a reply, by token. An attempt removes its entry when it ends (answered, timed out
/// or dropped), so a late reply finds no one and is dropped.
#[derive(Default)]
struct Waiters {
    map: Mutex<HashMap<u64, (IpAddr, oneshot::Sender<Reply>)>>,
}

impl Waiters {
    fn insert(&self, token: u64, addr: IpAddr) -> oneshot::Receiver<Reply> {
        let (tx, rx) = oneshot::channel();
        self.lock().insert(token, (addr, tx));
        rx
    }

    fn remove(&self, token: u64) {
        self.lock().remove(&token);
    }

    /// Gives `reply` to the attempt with `token`, if it is still waiting and pinged `from`.
    fn deliver(&self, token: u64, from: IpAddr, reply: Reply) -> bool {
        let mut map = self.lock();
        if map.get(&token).is_some_and(|(addr, _)| *addr == from)
            && let Some((_, tx)) = map.remove(&token)
        {
            return tx.send(reply).is_ok();
        }
        false
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (IpAddr, oneshot::Sender<Reply>)>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Removes an attempt's entry however the attempt ends (its future may be dropped by the timeout).
struct Waiting<'a> {
    waiters: &'a Waiters,
    token: u64,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.waiters.remove(self.token);
    }
}

/// ICMP echo over raw sockets shared by every attempt of the process. A raw socket receives every ICMP
/// message the host gets, so a socket per attempt made the kernel match each reply against every open raw
/// socket, and cost a socket, a connect, a reactor registration and a close per attempt. Here one
/// non-blocking socket sends (a filter keeps its receive queue empty), and one receives only echo replies
/// and unreachables carrying our identifier (a kernel socket filter); a receive task hands each to the
/// waiting attempt by the token in its payload.
///
/// The sockets live as long as the process, the receive task only as long as its runtime (tests and
/// tools run several): it reads through a duplicate of the receiving socket registered with its runtime,
/// and when that runtime has ended the next attempt starts another one on its own. The kernel's queue
/// belongs to the socket, so no reply is lost in between.
struct RawPinger {
    v6: bool,
    ident: u16,
    send: Socket,
    recv: Socket,
    waiters: Waiters,
    /// Whether a receive task is running (cleared when its runtime drops it).
    receiving: AtomicBool,
}

/// Clears [`RawPinger::receiving`] when the receive task ends or is dropped with its runtime.
struct Receiving(Arc<RawPinger>);

impl Drop for Receiving {
    fn drop(&mut self) {
        self.0.receiving.store(false, Ordering::SeqCst);
    }
}

/// The kernel's socket-filter instructions (classic BPF) used below.
const BPF_LDX_B_MSH: u16 = 0xb1;
const BPF_LD_B_IND: u16 = 0x50;
const BPF_LD_H_IND: u16 = 0x48;
const BPF_JEQ_K: u16 = 0x15;
const BPF_RET_K: u16 = 0x06;

/// Accepts an IPv4 echo reply with identifier `ident`, or a destination unreachable quoting an echo
/// request with it (behind a 20-byte IP header, as ours are sent); drops everything else, including the
/// echo requests the host receives (ours, on loopback).
fn v4_filter(ident: u16) -> [SockFilter; 10] {
    let id = u32::from(ident);
    [
        SockFilter::new(BPF_LDX_B_MSH, 0, 0, 0), // X = IP header length
        SockFilter::new(BPF_LD_B_IND, 0, 0, 0),  // A = ICMP type
        SockFilter::new(BPF_JEQ_K, 0, 2, 0),     // echo reply?
        SockFilter::new(BPF_LD_H_IND, 0, 0, 4),  // A = identifier
        SockFilter::new(BPF_JEQ_K, 3, 4, id),
        SockFilter::new(BPF_JEQ_K, 0, 3, 3), // destination unreachable?
        SockFilter::new(BPF_LD_H_IND, 0, 0, 8 + 20 + 4), // A = the quoted request's identifier
        SockFilter::new(BPF_JEQ_K, 0, 1, id),
        SockFilter::new(BPF_RET_K, 0, 0, 0x0004_0000),
        SockFilter::new(BPF_RET_K, 0, 0, 0),
    ]
}

impl RawPinger {
    fn start(v6: bool) -> std::io::Result<Arc<RawPinger>> {
        let (domain, proto) = if v6 {
            (Domain::IPV6, Protocol::ICMPV6)
        } else {
            (Domain::IPV4, Protocol::ICMPV4)
        };
        let send = Socket::new(domain, Type::RAW, Some(proto))?;
        send.set_nonblocking(true)?;
        // The sending socket would otherwise queue every ICMP message the host receives.
        let _ = send.attach_filter(&[SockFilter::new(BPF_RET_K, 0, 0, 0)]);
        let recv = Socket::new(domain, Type::RAW, Some(proto))?;
        recv.set_nonblocking(true)?;
        let mut b = [0u8; 2];
        let _ = getrandom::fill(&mut b);
        let ident = u16::from_be_bytes(b);
        if !v6 {
            // Without it (e.g. an old kernel) the receive task filters the same way, only later.
            let _ = recv.attach_filter(&v4_filter(ident));
        }
        let _ = recv.set_recv_buffer_size(1 << 20);
        Ok(Arc::new(RawPinger {
            v6,
            ident,
            send,
            recv,
            waiters: Waiters::default(),
            receiving: AtomicBool::new(false),
        }))
    }

    /// Starts a receive task on the current runtime unless one is running.
    fn ensure_receiving(self: &Arc<Self>) {
        if self.receiving.swap(true, Ordering::SeqCst) {
            return;
        }
        let guard = Receiving(self.clone());
        match self
            .recv
            .try_clone()
            .and_then(|s| UdpSocket::from_std(s.into()))
        {
            Ok(sock) => {
                tokio::spawn(receive(guard, sock));
            }
            // Dropping the guard lets the next attempt try again.
            Err(e) => tracing::warn!("ICMP: no receive task: {e}"),
        }
    }

    async fn echo(self: &Arc<Self>, addr: IpAddr, start: Instant) -> Answer {
        self.ensure_receiving();
        let token = next_token();
        let pkt = echo_request(self.v6, self.ident, token as u16, token);
        let mut reply = self.waiters.insert(token, addr);
        let _waiting = Waiting {
            waiters: &self.waiters,
            token,
        };
        let to = SockAddr::from(SocketAddr::new(addr, 0));
        loop {
            match self.send.send_to(&pkt, &to) {
                Ok(_) => break,
                // Send buffer full: wait a little (the attempt's timeout still bounds it).
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err(e) => return Answer::fail(start.elapsed(), io_message(&e)),
            }
        }
        let reply = loop {
            tokio::select! {
                biased;
                r = &mut reply => break r,
                // The runtime that ran the receive task may have ended meanwhile (another test's).
                _ = tokio::time::sleep(Duration::from_millis(200)) => self.ensure_receiving(),
            }
        };
        match reply {
            Ok(Reply::Echo(at)) => {
                Answer::ok(at.saturating_duration_since(start), "応答あり（raw）")
            }
            Ok(Reply::Unreachable(code)) => Answer::fail(
                start.elapsed(),
                format!("通信エラー: 宛先到達不能（ICMP code {code}）"),
            ),
            Err(_) => Answer::fail(start.elapsed(), "通信エラー: 応答の受け渡しが途切れました"),
        }
    }
}

/// The receive task: reads every message the filter lets through and hands it on.
async fn receive(guard: Receiving, sock: UdpSocket) {
    let pinger = &guard.0;
    let mut buf = [0u8; 1500];
    loop {
        match sock.recv_from(&mut buf).await {
            Ok((n, from)) => {
                let at = Instant::now();
                if let Some((token, addr, reply)) =
                    parse_reply(pinger.v6, pinger.ident, &buf[..n], from.ip(), at)
                {
                    pinger.waiters.deliver(token, addr, reply);
                }
            }
            // Nothing to recover: attempts that miss their reply time out on their own.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Reads one message of a raw ICMP socket (IPv4: with its IP header; IPv6: without): an echo reply or a
/// fatal destination unreachable for one of our requests (identifier `ident`, our payload), as (token,
/// the pinged address, reply). Unreachable codes the kernel treats as transient are ignored, as a
/// connected socket ignores them: the attempt waits on for a reply or its timeout.
fn parse_reply(
    v6: bool,
    ident: u16,
    msg: &[u8],
    from: IpAddr,
    at: Instant,
) -> Option<(u64, IpAddr, Reply)> {
    let (icmp, src) = if v6 {
        (msg, from)
    } else {
        let ihl = usize::from(msg.first()? & 0x0f) * 4;
        let src: [u8; 4] = msg.get(12..16)?.try_into().ok()?;
        (msg.get(ihl..)?, IpAddr::from(src))
    };
    // Our request as echoed or quoted: identifier at 4, payload (magic, token) from 8.
    let ours = |req: &[u8]| -> Option<u64> {
        if u16::from_be_bytes([*req.get(4)?, *req.get(5)?]) != ident
            || req.get(8..12)? != PAYLOAD_MAGIC
        {
            return None;
        }
        Some(u64::from_be_bytes(req.get(12..20)?.try_into().ok()?))
    };
    match (v6, *icmp.first()?, *icmp.get(1)?) {
        (false, 0, _) | (true, 129, _) => Some((ours(icmp)?, src, Reply::Echo(at))),
        // IPv4 destination unreachable, codes the kernel reports as hard errors.
        (false, 3, code @ (2 | 3 | 6..=10 | 13..=15)) => {
            let quoted = icmp.get(8..)?;
            let ihl = usize::from(quoted.first()? & 0x0f) * 4;
            let dst: [u8; 4] = quoted.get(16..20)?.try_into().ok()?;
            let token = ours(quoted.get(ihl..)?)?;
            Some((token, IpAddr::from(dst), Reply::Unreachable(code)))
        }
        // IPv6 destination unreachable, likewise (administratively prohibited, port, policy, reject).
        (true, 1, code @ (1 | 4..=6)) => {
            let quoted = icmp.get(8..)?;
            if *quoted.get(6)? != 58 {
                return None; // extension headers: not one of ours
            }
            let dst: [u8; 16] = quoted.get(24..40)?.try_into().ok()?;
            let token = ours(quoted.get(40..)?)?;
            Some((token, IpAddr::from(dst), Reply::Unreachable(code)))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------------------
// HTTP(S): a minimal HTTP/1.1 GET with `Connection: close`, over TLS (rustls with ring) when asked.
// ---------------------------------------------------------------------------------------------------------

/// Accepts any server certificate: a monitoring probe sends nothing secret and must still report the days
/// left of a certificate that is private, self-signed or already expired. Signatures are still checked.
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_connector() -> Result<tokio_rustls::TlsConnector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

async fn http(spec: &ProbeSpec, start: Instant) -> Answer {
    let ProbeSpec::Http {
        addr,
        port,
        tls,
        host,
        path,
        expect_status,
        body_contains,
        cert_warn_days: _,
    } = spec
    else {
        return Answer::fail(Duration::ZERO, "内部エラー");
    };
    let sock = SocketAddr::new(*addr, *port);
    let host = if host.is_empty() {
        addr.to_string()
    } else {
        host.clone()
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: unyo-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    let stream = match connect(sock).await {
        Ok(s) => s,
        Err(e) => return Answer::fail(start.elapsed(), io_message(&e)),
    };
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    let mut cert_days_left = None;
    let response = if *tls {
        let connector = match tls_connector() {
            Ok(c) => c,
            Err(e) => return Answer::fail(start.elapsed(), format!("TLS設定エラー: {e}")),
        };
        let name = match rustls::pki_types::ServerName::try_from(host.clone()) {
            Ok(n) => n,
            Err(_) => rustls::pki_types::ServerName::IpAddress((*addr).into()),
        };
        let mut s = match connector.connect(name, stream).await {
            Ok(s) => s,
            Err(e) => return Answer::fail(start.elapsed(), format!("TLSエラー: {e}")),
        };
        if let Some(cert) = s.get_ref().1.peer_certificates().and_then(|c| c.first()) {
            cert_days_left = not_after(cert.as_ref()).map(|t| {
                let now = chrono::Utc::now().timestamp();
                (t - now).div_euclid(86_400)
            });
        }
        exchange(&mut s, &request).await
    } else {
        let mut s = stream;
        exchange(&mut s, &request).await
    };
    let latency = start.elapsed();
    let (status, body) = match response {
        Ok(r) => r,
        Err(e) => return Answer::fail(latency, io_message(&e)),
    };
    let mut a = if status != *expect_status {
        Answer::fail(latency, format!("HTTP {status}（期待値 {expect_status}）"))
    } else if !body_contains.is_empty() && !contains(&body, body_contains.as_bytes()) {
        Answer::fail(
            latency,
            format!("HTTP {status}: 本文に「{body_contains}」がありません"),
        )
    } else {
        Answer::ok(latency, format!("HTTP {status}"))
    };
    a.cert_days_left = cert_days_left;
    a
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Sends the request and reads the status and up to 256 KiB of the response.
async fn exchange<S>(s: &mut S, request: &str) -> std::io::Result<(u16, Vec<u8>)>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    s.write_all(request.as_bytes()).await?;
    s.flush().await?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    loop {
        let n = match s.read(&mut chunk).await {
            Ok(n) => n,
            // A TLS peer that closes without close_notify still gave us a response.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !buf.is_empty() => 0,
            Err(e) => return Err(e),
        };
        if n == 0 || buf.len() > 256 * 1024 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line_end = buf
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or_else(|| std::io::Error::other("HTTP応答が不正です"))?;
    let line = String::from_utf8_lossy(&buf[..line_end]);
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("HTTP応答が不正です"))?;
    let body_start = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or(buf.len());
    Ok((status, buf[body_start..].to_vec()))
}

/// The notAfter of an X.509 certificate (DER) as Unix seconds: Certificate → tbsCertificate →
/// [version] serial signature issuer validity{notBefore notAfter}.
pub fn not_after(der: &[u8]) -> Option<i64> {
    fn tlv(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let tag = *d.first()?;
        let first = *d.get(1)?;
        let (len, hdr) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return None;
            }
            let mut len = 0usize;
            for i in 0..n {
                len = (len << 8) | usize::from(*d.get(2 + i)?);
            }
            (len, 2 + n)
        };
        let body = d.get(hdr..hdr + len)?;
        Some((tag, body, d.get(hdr + len..)?))
    }
    let (_, cert, _) = tlv(der)?;
    let (_, tbs, _) = tlv(cert)?;
    let mut rest = tbs;
    let (tag, _, r) = tlv(rest)?;
    if tag == 0xa0 {
        rest = r;
    }
    for _ in 0..3 {
        let (_, _, r) = tlv(rest)?; // serial, signature, issuer
        rest = r;
    }
    let (_, validity, _) = tlv(rest)?;
    let (_, _, r) = tlv(validity)?;
    let (tag, t, _) = tlv(r)?;
    let s = std::str::from_utf8(t).ok()?;
    let full = match tag {
        0x17 => {
            let yy: i32 = s.get(0..2)?.parse().ok()?;
            let century = if yy >= 50 { "19" } else { "20" };
            format!("{century}{s}")
        }
        0x18 => s.to_string(),
        _ => return None,
    };
    let dt =
        chrono::NaiveDateTime::parse_from_str(full.trim_end_matches('Z'), "%Y%m%d%H%M%S").ok()?;
    Some(dt.and_utc().timestamp())
}

// ---------------------------------------------------------------------------------------------------------
// DNS: one A/AAAA query over UDP to the target server (RFC 1035), answer checked against the expectation.
// ---------------------------------------------------------------------------------------------------------

async fn dns(server: SocketAddr, name: &str, expect: Option<IpAddr>, start: Instant) -> Answer {
    let qtype: u16 = if matches!(expect, Some(IpAddr::V6(_))) {
        28
    } else {
        1
    };
    let mut idb = [0u8; 2];
    let _ = getrandom::fill(&mut idb);
    let id = u16::from_be_bytes(idb);
    let mut q = Vec::with_capacity(64);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return Answer::fail(Duration::ZERO, "問い合わせ名が不正です");
        }
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    let bind: SocketAddr = if server.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let run = async {
        let sock = UdpSocket::bind(bind).await?;
        sock.connect(server).await?;
        sock.send(&q).await?;
        let mut buf = [0u8; 1500];
        loop {
            let n = sock.recv(&mut buf).await?;
            if n >= 12 && buf[0..2] == id.to_be_bytes() {
                return Ok::<_, std::io::Error>(buf[..n].to_vec());
            }
        }
    };
    let resp = match run.await {
        Ok(r) => r,
        Err(e) => return Answer::fail(start.elapsed(), io_message(&e)),
    };
    let latency = start.elapsed();
    let rcode = resp[3] & 0x0f;
    if rcode != 0 {
        let what = match rcode {
            2 => "SERVFAIL",
            3 => "NXDOMAIN",
            5 => "REFUSED",
            _ => "エラー応答",
        };
        return Answer::fail(latency, format!("DNS {what}"));
    }
    let answers = parse_answers(&resp, qtype);
    match (answers.first(), expect) {
        (None, _) => Answer::fail(latency, "DNS 応答に該当するレコードがありません"),
        (Some(_), Some(e)) if !answers.contains(&e) => Answer::fail(
            latency,
            format!(
                "DNS 応答 {} は期待値 {e} と異なります",
                answers
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        (Some(a), _) => Answer::ok(latency, format!("DNS 解決 {a}")),
    }
}

fn skip_name(buf: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *buf.get(at)?;
        if len & 0xc0 == 0xc0 {
            return Some(at + 2);
        }
        if len == 0 {
            return Some(at + 1);
        }
        at += 1 + usize::from(len);
    }
}

fn parse_answers(buf: &[u8], qtype: u16) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let qd = u16::from_be_bytes([buf[4], buf[5]]);
    let an = u16::from_be_bytes([buf[6], buf[7]]);
    let mut at = 12;
    for _ in 0..qd {
        match skip_name(buf, at) {
            Some(a) => at = a + 4,
            None => return out,
        }
    }
    for _ in 0..an {
        let Some(a) = skip_name(buf, at) else {
            return out;
        };
        let Some(h) = buf.get(a..a + 10) else {
            return out;
        };
        let rtype = u16::from_be_bytes([h[0], h[1]]);
        let rdlen = usize::from(u16::from_be_bytes([h[8], h[9]]));
        let Some(rdata) = buf.get(a + 10..a + 10 + rdlen) else {
            return out;
        };
        if rtype == qtype && qtype == 1 && rdlen == 4 {
            out.push(IpAddr::from([rdata[0], rdata[1], rdata[2], rdata[3]]));
        } else if rtype == qtype && qtype == 28 && rdlen == 16 {
            let mut b = [0u8; 16];
            b.copy_from_slice(rdata);
            out.push(IpAddr::from(b));
        }
        at = a + 10 + rdlen;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icmp_checksum_of_known_packet() {
        // Echo request id=1 seq=1 without payload: checksum 0xf7fd.
        assert_eq!(checksum(&[8, 0, 0, 0, 0, 1, 0, 1]), 0xf7fd);
    }

    /// An IPv4 echo reply as a raw socket reads it: a 20-byte IP header from `src`, then the ICMP message.
    fn v4_reply(src: [u8; 4], ident: u16, token: u64) -> Vec<u8> {
        let mut m = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, 1, 0, 0];
        m.extend_from_slice(&src);
        m.extend_from_slice(&[127, 0, 0, 1]);
        let mut icmp = echo_request(false, ident, token as u16, token);
        icmp[0] = 0;
        m.extend_from_slice(&icmp);
        m
    }

    #[test]
    fn replies_are_read_by_identifier_and_token() {
        let at = Instant::now();
        let lo = IpAddr::from([127, 2, 0, 1]);
        let m = v4_reply([127, 2, 0, 1], 7, 42);
        assert_eq!(
            parse_reply(false, 7, &m, lo, at),
            Some((42, lo, Reply::Echo(at)))
        );
        // Another process's identifier, or an echo request (ours, seen on loopback): not ours.
        assert_eq!(parse_reply(false, 8, &m, lo, at), None);
        let mut req = m.clone();
        req[20] = 8;
        assert_eq!(parse_reply(false, 7, &req, lo, at), None);
        // A hard unreachable quoting our request names the pinged address; a soft one is ignored.
        let mut quoted = v4_reply([127, 0, 0, 1], 7, 43);
        quoted[16..20].copy_from_slice(&[10, 9, 8, 7]);
        quoted[20] = 8;
        let mut unreach = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 127, 0, 0, 1,
        ];
        unreach.extend_from_slice(&[3, 13, 0, 0, 0, 0, 0, 0]);
        unreach.extend_from_slice(&quoted);
        let router = IpAddr::from([10, 0, 0, 1]);
        assert_eq!(
            parse_reply(false, 7, &unreach, router, at),
            Some((43, IpAddr::from([10, 9, 8, 7]), Reply::Unreachable(13)))
        );
        unreach[21] = 1;
        assert_eq!(parse_reply(false, 7, &unreach, router, at), None);
    }

    #[test]
    fn a_late_reply_goes_to_no_other_attempt() {
        let waiters = Waiters::default();
        let (a, b) = (IpAddr::from([127, 2, 0, 1]), IpAddr::from([127, 2, 0, 2]));
        let at = Instant::now();
        // Attempt 1 times out: its entry goes with it.
        {
            let _rx = waiters.insert(1, a);
            let _waiting = Waiting {
                waiters: &waiters,
                token: 1,
            };
        }
        let mut rx2 = waiters.insert(2, a);
        let mut rx3 = waiters.insert(3, b);
        // The late reply to attempt 1 reaches no one, though attempt 2 pings the same address.
        assert!(!waiters.deliver(1, a, Reply::Echo(at)));
        assert!(rx2.try_recv().is_err());
        // A reply with attempt 3's token but from another address is not attempt 3's.
        assert!(!waiters.deliver(3, a, Reply::Echo(at)));
        assert!(waiters.deliver(3, b, Reply::Echo(at)));
        assert_eq!(rx3.try_recv(), Ok(Reply::Echo(at)));
        // Each reply is given once.
        assert!(waiters.deliver(2, a, Reply::Echo(at)));
        assert!(!waiters.deliver(2, a, Reply::Echo(at)));
        assert_eq!(rx2.try_recv(), Ok(Reply::Echo(at)));
    }

    #[test]
    fn not_after_rejects_garbage() {
        assert_eq!(not_after(&[]), None);
        assert_eq!(not_after(&[0x30, 0x03, 1, 2, 3]), None);
    }
}
