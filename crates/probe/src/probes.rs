//! The four probes. Each returns an [`Answer`]; none blocks longer than the timeout it is given.

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
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

fn open_icmp(v6: bool) -> Result<(Socket, bool), String> {
    let (domain, proto) = if v6 {
        (Domain::IPV6, Protocol::ICMPV6)
    } else {
        (Domain::IPV4, Protocol::ICMPV4)
    };
    match Socket::new(domain, Type::DGRAM, Some(proto)) {
        Ok(s) => Ok((s, false)),
        Err(_) => match Socket::new(domain, Type::RAW, Some(proto)) {
            Ok(s) => Ok((s, true)),
            Err(_) => Err(ICMP_NOT_PERMITTED.to_string()),
        },
    }
}

async fn icmp(addr: IpAddr, start: Instant) -> Answer {
    let v6 = addr.is_ipv6();
    let (sock, raw) = match open_icmp(v6) {
        Ok(s) => s,
        Err(msg) => {
            return Answer {
                ok: false,
                not_tried: true,
                latency: Duration::ZERO,
                message: msg,
                cert_days_left: None,
            };
        }
    };
    let mut seq_bytes = [0u8; 4];
    let _ = getrandom::fill(&mut seq_bytes);
    let ident = u16::from_be_bytes([seq_bytes[0], seq_bytes[1]]);
    let seq = u16::from_be_bytes([seq_bytes[2], seq_bytes[3]]);
    let mut pkt = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
    pkt.extend_from_slice(&ident.to_be_bytes());
    pkt.extend_from_slice(&seq.to_be_bytes());
    pkt.extend_from_slice(b"unyo-probe");
    if !v6 {
        let c = checksum(&pkt);
        pkt[2..4].copy_from_slice(&c.to_be_bytes());
    }
    let run = async {
        sock.set_nonblocking(true)?;
        sock.connect(&SockAddr::from(SocketAddr::new(addr, 0)))?;
        let std_sock: std::net::UdpSocket = sock.into();
        let udp = UdpSocket::from_std(std_sock)?;
        udp.send(&pkt).await?;
        let mut buf = [0u8; 1500];
        loop {
            let n = udp.recv(&mut buf).await?;
            let mut body = &buf[..n];
            if raw && !v6 {
                let ihl = usize::from(body.first().copied().unwrap_or(0) & 0x0f) * 4;
                if body.len() < ihl {
                    continue;
                }
                body = &body[ihl..];
            }
            let reply_type = if v6 { 129 } else { 0 };
            if body.len() >= 8
                && body[0] == reply_type
                && u16::from_be_bytes([body[6], body[7]]) == seq
                && (!raw || u16::from_be_bytes([body[4], body[5]]) == ident)
            {
                return Ok::<_, std::io::Error>(());
            }
        }
    };
    match run.await {
        Ok(()) => Answer::ok(
            start.elapsed(),
            format!("応答あり（{}）", if raw { "raw" } else { "datagram" }),
        ),
        Err(e) => Answer::fail(start.elapsed(), io_message(&e)),
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

    #[test]
    fn not_after_rejects_garbage() {
        assert_eq!(not_after(&[]), None);
        assert_eq!(not_after(&[0x30, 0x03, 1, 2, 3]), None);
    }
}
