//! The OCS/FusionInventory agent protocol codec: the real agent's captured PROLOG, round trips in all
//! three body encodings, and — where `fusioninventory-agent` is installed — the real agent talking to
//! a minimal HTTP server built on the codec.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use unyo_inventory::protocol::{
    CONTENT_TYPE_GZIP, CONTENT_TYPE_XML, CONTENT_TYPE_ZLIB, ServerReply,
    decode_agent_request_with_encoding, decode_server_reply, encode_inventory_request,
    encode_prolog_request,
};
use unyo_inventory::{
    AgentMessage, BodyEncoding, InventorySnapshot, ParseError, decode_agent_request,
    encode_inventory_reply, encode_prolog_reply, encode_reply, parse_fusion_xml,
};

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/samples")
            .join(name),
    )
    .unwrap()
}

fn inflate(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(b)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn real_agent_prolog_capture_decodes() {
    let body = sample("agent-2.6-prolog.zlib");
    assert_eq!(&body[..2], &[0x78, 0x9c]);
    let (msg, enc) = decode_agent_request_with_encoding(Some(CONTENT_TYPE_ZLIB), &body).unwrap();
    assert_eq!(
        msg,
        AgentMessage::Prolog {
            device_id: "vm-2026-11-27-20-08-22".into()
        }
    );
    assert_eq!(enc, BodyEncoding::Zlib);
    // Our agent-side encoder writes the very same document (compressed bytes may differ between
    // zlib implementations; the XML must not).
    let (ct, ours) = encode_prolog_request("vm-2026-11-27-20-08-22", BodyEncoding::Zlib);
    assert_eq!(ct, "application/x-compress-zlib");
    assert_eq!(
        String::from_utf8(inflate(&ours)).unwrap(),
        String::from_utf8(inflate(&body)).unwrap()
    );
    // The content type is only a hint: a missing or wrong one does not matter.
    assert_eq!(decode_agent_request(None, &body).unwrap(), msg);
    assert_eq!(
        decode_agent_request(Some("text/plain"), &body).unwrap(),
        msg
    );
}

#[test]
fn prolog_round_trip_in_every_encoding() {
    for (enc, want_ct) in [
        (BodyEncoding::Zlib, CONTENT_TYPE_ZLIB),
        (BodyEncoding::Gzip, CONTENT_TYPE_GZIP),
        (BodyEncoding::Plain, CONTENT_TYPE_XML),
    ] {
        let (ct, body) = encode_prolog_request("端末-01 & <x>-2026-01-01-00-00-00", enc);
        assert_eq!(ct, want_ct);
        let (msg, got) = decode_agent_request_with_encoding(Some(ct), &body).unwrap();
        assert_eq!(got, enc);
        assert_eq!(msg.device_id(), Some("端末-01 & <x>-2026-01-01-00-00-00"));
        assert!(matches!(msg, AgentMessage::Prolog { .. }));
        // The server answers in the agent's own encoding; the agent-side reader accepts it.
        let reply = encode_reply(
            &ServerReply::Send {
                prolog_freq_hours: 24,
            },
            enc,
        );
        assert_eq!(
            decode_server_reply(&reply.body).unwrap(),
            ServerReply::Send {
                prolog_freq_hours: 24
            }
        );
    }
}

#[test]
fn replies_are_what_the_agent_expects() {
    let r = encode_prolog_reply();
    assert_eq!(&r.body[..2], &[0x78, 0x9c], "the agent looks for 78 9C");
    assert_eq!(
        String::from_utf8(inflate(&r.body)).unwrap(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<REPLY><RESPONSE>SEND</RESPONSE><PROLOG_FREQ>24</PROLOG_FREQ></REPLY>\n"
    );
    let r = encode_inventory_reply();
    assert_eq!(
        String::from_utf8(inflate(&r.body)).unwrap(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<REPLY><RESPONSE>no_account_update</RESPONSE></REPLY>\n"
    );
    assert_eq!(
        decode_server_reply(&r.body).unwrap(),
        ServerReply::InventoryAccepted
    );
}

#[test]
fn inventory_round_trip_from_a_sample() {
    let xml = String::from_utf8(sample("fusioninventory-12.xml")).unwrap();
    let start = xml.find("<CONTENT>").unwrap() + "<CONTENT>".len();
    let end = xml.find("</CONTENT>").unwrap();
    let from_file: InventorySnapshot = parse_fusion_xml(xml.as_bytes()).unwrap();
    let device = from_file.device_id.clone().unwrap();
    for enc in [BodyEncoding::Zlib, BodyEncoding::Gzip, BodyEncoding::Plain] {
        let (ct, body) = encode_inventory_request(&device, &xml[start..end], enc);
        match decode_agent_request(Some(ct), &body).unwrap() {
            AgentMessage::Inventory(s) => {
                assert_eq!(s, from_file);
                assert_eq!(s.antivirus.len(), 2);
                assert_eq!(s.software.len(), 8);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn hostile_agent_bodies_are_refused() {
    // Compressed claim, plain garbage.
    let e = decode_agent_request(Some("application/x-compress-zlib"), b"hello").unwrap_err();
    assert!(matches!(e, ParseError::Decompress(_)), "{e:?}");
    // A zlib bomb (64 MiB of zeros in ~64 KB) stops at the limit.
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        z.write_all(&zeros).unwrap();
    }
    let bomb = z.finish().unwrap();
    assert!(bomb.len() < 200_000);
    let t = Instant::now();
    assert_eq!(
        decode_agent_request(Some(CONTENT_TYPE_ZLIB), &bomb).unwrap_err(),
        ParseError::TooLarge
    );
    assert!(t.elapsed() < Duration::from_secs(10));
    // DOCTYPE inside a compressed PROLOG.
    let xml = b"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"b\">]><REQUEST><DEVICEID>&a;</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>";
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(xml).unwrap();
    assert_eq!(
        decode_agent_request(None, &z.finish().unwrap()).unwrap_err(),
        ParseError::DocType
    );
    assert_eq!(
        decode_agent_request(None, b"").unwrap_err(),
        ParseError::Empty
    );
}

// ---------------------------------------------------------------------------------------------------
// The real agent against a minimal server built on the codec
// ---------------------------------------------------------------------------------------------------

const USER: &str = "agent-test";
const PASSWORD: &str = "s3cret-パス";

fn basic_credentials() -> String {
    // Base64 of "USER:PASSWORD" without a dependency.
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{USER}:{PASSWORD}").into_bytes();
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

#[derive(Debug)]
enum Seen {
    Challenged,
    Prolog(String, String),
    Inventory(String, Box<InventorySnapshot>),
    Refused(String),
}

fn handle(stream: TcpStream, seen: Arc<Mutex<Vec<Seen>>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let (mut len, mut auth, mut ct) = (0usize, None, None);
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let v = v.trim().to_string();
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => len = v.parse().unwrap_or(0),
                    "authorization" => auth = Some(v),
                    "content-type" => ct = Some(v),
                    _ => {}
                }
            }
        }
        let mut body = vec![0u8; len.min(32 << 20)];
        reader.read_exact(&mut body)?;
        let (status, ctype, out): (&str, &str, Vec<u8>) = if auth.as_deref()
            != Some(&basic_credentials())
        {
            seen.lock().unwrap().push(Seen::Challenged);
            writer.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"unyo\"\r\nContent-Length: 0\r\n\r\n",
            )?;
            continue;
        } else {
            match decode_agent_request(ct.as_deref(), &body) {
                Ok(AgentMessage::Prolog { device_id }) => {
                    seen.lock()
                        .unwrap()
                        .push(Seen::Prolog(device_id, ct.clone().unwrap_or_default()));
                    let r = encode_prolog_reply();
                    ("200 OK", r.content_type, r.body)
                }
                Ok(AgentMessage::Inventory(s)) => {
                    let dev = s.device_id.clone().unwrap_or_default();
                    seen.lock().unwrap().push(Seen::Inventory(dev, Box::new(s)));
                    let r = encode_inventory_reply();
                    ("200 OK", r.content_type, r.body)
                }
                Err(e) => {
                    seen.lock().unwrap().push(Seen::Refused(e.to_string()));
                    (
                        "400 Bad Request",
                        "text/plain; charset=utf-8",
                        e.to_string().into_bytes(),
                    )
                }
            }
        };
        write!(
            writer,
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
            out.len()
        )?;
        writer.write_all(&out)?;
    }
}

fn which(cmd: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| PathBuf::from(d).join(cmd))
        .find(|p| p.is_file())
}

#[test]
fn real_fusioninventory_agent_completes_prolog_and_inventory() {
    let Some(agent) = which("fusioninventory-agent") else {
        eprintln!(
            "SKIPPED: fusioninventory-agent is not installed (apt-get install fusioninventory-agent)"
        );
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let server = {
        let (seen, stop) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut workers = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((s, _)) => {
                        s.set_nonblocking(false).unwrap();
                        let seen = seen.clone();
                        workers.push(std::thread::spawn(move || {
                            let _ = handle(s, seen);
                        }));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        })
    };

    let dir = std::env::temp_dir().join(format!("unyo-agent-test-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("agent.cfg");
    std::fs::write(&conf, "").unwrap();
    let log = dir.join("agent.log");
    let mut child = std::process::Command::new(agent)
        .arg(format!("--conf-file={}", conf.display()))
        .arg(format!("--server=http://127.0.0.1:{port}/ocsinventory"))
        .args(["--tasks=inventory", "--no-httpd", "--timeout=60", "--debug"])
        .arg(format!("--user={USER}"))
        .arg(format!("--password={PASSWORD}"))
        .arg(format!("--logfile={}", log.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(240);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the agent did not finish within 240 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    stop.store(true, Ordering::SeqCst);
    server.join().unwrap();
    let agent_log = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    // The agent keeps a per-server state directory (last_state); drop the one this port created.
    let _ = std::fs::remove_dir_all(format!(
        "/var/lib/fusioninventory-agent/http:__127.0.0.1:{port}_ocsinventory"
    ));
    let seen = seen.lock().unwrap();
    let context = || {
        let tail: Vec<&str> = agent_log
            .lines()
            .filter(|l| !l.contains("Running "))
            .rev()
            .take(30)
            .collect();
        format!(
            "seen: {:?}\nagent log (last lines, reversed):\n{}",
            seen.iter()
                .map(|s| match s {
                    Seen::Inventory(d, _) => format!("Inventory({d})"),
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>(),
            tail.join("\n")
        )
    };
    assert!(status.success(), "agent exit {status:?}\n{}", context());

    // Every POST was first challenged (the agent sends credentials only after a 401).
    let challenged = seen
        .iter()
        .filter(|s| matches!(s, Seen::Challenged))
        .count();
    assert!(challenged >= 2, "{}", context());
    let refused: Vec<&str> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Refused(e) => Some(e.as_str()),
            _ => None,
        })
        .collect();
    assert!(refused.is_empty(), "refused: {refused:?}\n{}", context());
    let prolog = seen.iter().find_map(|s| match s {
        Seen::Prolog(d, ct) => Some((d.clone(), ct.clone())),
        _ => None,
    });
    let (prolog_device, ct) = prolog.unwrap_or_else(|| panic!("no PROLOG\n{}", context()));
    assert_eq!(ct, "application/x-compress-zlib");
    let inv = seen.iter().find_map(|s| match s {
        Seen::Inventory(d, s) => Some((d.clone(), s.clone())),
        _ => None,
    });
    let (inv_device, snap) =
        inv.unwrap_or_else(|| panic!("no INVENTORY after SEND\n{}", context()));
    assert_eq!(inv_device, prolog_device);
    // DEVICEID is "<hostname>-YYYY-MM-DD-hh-mm-ss" (Agent.pm 392-400), hostname as HARDWARE/NAME.
    let host = snap
        .hostname
        .clone()
        .unwrap_or_else(|| panic!("no hostname\n{}", context()));
    assert!(
        inv_device.starts_with(&format!("{host}-")),
        "{inv_device} vs {host}"
    );
    if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        assert_eq!(host, h.trim());
    }
    assert!(
        snap.os.name.is_some() && snap.os.build.is_some(),
        "{:?}",
        snap.os
    );
    assert!(
        !snap.software.is_empty(),
        "the agent lists installed packages"
    );
    assert!(snap.collected_at.is_some());
    let after = agent_log
        .lines()
        .any(|l| l.contains("running task Inventory"));
    assert!(after, "{}", context());
    eprintln!(
        "real agent: DEVICEID {inv_device}, {} challenges, OS {:?} build {:?}, {} software, {} IP addresses",
        challenged,
        snap.os.full_name,
        snap.os.build,
        snap.software.len(),
        snap.ip_addresses.len()
    );
}
