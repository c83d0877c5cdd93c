//! The CLI's file imports stop reading at their size limit: a file larger than the limit, or one that
//! never ends (a device, a pipe), is refused after reading at most the limit, not loaded whole first.

mod support;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};
use support::unyo_command;

/// Runs `unyo ARGS --data-dir DIR`, killing it after `limit`: a read that never ends fails the test
/// instead of filling the machine's memory.
fn unyo_within(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = unyo_command()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run unyo");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            child.kill().ok();
            let out = child.wait_with_output().expect("output");
            panic!(
                "unyo {args:?} still running after {limit:?} (reading without a limit?)\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

fn refused_as_too_large(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "accepted: {stderr}");
    assert!(stderr.contains("ファイルが大きすぎます"), "{stderr}");
}

#[test]
fn imports_stop_reading_at_their_limit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A 300 MB file that takes no disk space (sparse).
    let big = dir.path().join("big.csv");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(300 * 1024 * 1024)
        .unwrap();
    let big = big.to_str().unwrap();
    let minute = Duration::from_secs(60);

    refused_as_too_large(&unyo_within(&data, &["inventory", "import", big], minute));
    refused_as_too_large(&unyo_within(&data, &["import", "sites", big], minute));

    // An endless file: loading it whole would never finish.
    refused_as_too_large(&unyo_within(
        &data,
        &["inventory", "import", "/dev/zero"],
        minute,
    ));
    refused_as_too_large(&unyo_within(
        &data,
        &["import", "terminals", "/dev/zero"],
        minute,
    ));

    // A file within the limit is still read.
    let sites = dir.path().join("sites.csv");
    std::fs::write(&sites, "code,name,kind\nKENCHO,県庁,honcho\n").unwrap();
    let out = unyo_within(&data, &["import", "sites", sites.to_str().unwrap()], minute);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
