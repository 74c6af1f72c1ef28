//! Every file the binary writes at a path the user named is written whole:
//! on a full disk the old file stays as it was, byte for byte, and nothing
//! is left beside it. The full disk is a file-size limit set in the child
//! (RLIMIT_FSIZE, with SIGXFSZ ignored so the write fails with EFBIG rather
//! than killing it): a write fails part-way as on ENOSPC, with no
//! privileges and no mount (a small tmpfs needs root).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{bare_process as bare, cli_process as cli};
use identifai::mock::{MockConfig, MockServer};

/// The most any file may grow to in a limited child: less than the
/// smallest file written here (an empty drift overlay, 92 bytes).
const LIMIT: u64 = 64;

/// What the file held before: it must still hold exactly this.
const OLD: &[u8] = b"the old file: a run that failed to write must leave these bytes alone\n";

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/media")
        .join(name)
}

/// No file written by `cmd` may grow past `bytes`; a write past it fails.
fn disk_full_at(cmd: &mut Command, bytes: u64) {
    // SAFETY: setrlimit(2) and signal(2) are async-signal-safe; nothing
    // else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs `args` (which write `file` in a fresh directory holding an old
/// `file`) on a full disk; returns what went wrong.
fn keeps_the_old_file(what: &str, file: &str, args: impl Fn(&Path) -> Command) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(file);
    std::fs::write(&target, OLD).unwrap();
    let mut cmd = args(&target);
    disk_full_at(&mut cmd, LIMIT);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut wrong = Vec::new();
    if out.status.code() != Some(1) {
        wrong.push(format!("{what}: {}, expected exit 1", out.status));
    }
    let said = format!("writing {}: File too large", target.display());
    if !stderr.contains(&said) {
        wrong.push(format!("{what}: stderr does not say {said:?}: {stderr}"));
    }
    let now = std::fs::read(&target).unwrap_or_default();
    if now != OLD {
        wrong.push(format!(
            "{what}: the old file was changed: {} bytes now, {} before",
            now.len(),
            OLD.len()
        ));
    }
    let left = names(dir.path());
    if left != [file] {
        wrong.push(format!("{what}: the directory holds {left:?}"));
    }
    wrong
}

#[test]
fn on_a_full_disk_every_file_written_keeps_its_old_content() {
    let server = MockServer::start_with(
        MockConfig::default()
            .with_time_scale(0.01)
            .with_polls_until_done(0),
    );
    let out = cli(&server)
        .args(["classify", "--no-wait", "--heatmap"])
        .arg(sample("sunset.png"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let id = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let mut wrong = Vec::new();
    // The PNG as served.
    wrong.extend(keeps_the_old_file("heatmap -o heat.png", "heat.png", |t| {
        let mut cmd = cli(&server);
        cmd.args(["heatmap", &id, "-o"]).arg(t);
        cmd
    }));
    // Encoded by the tool: another format, an overlay.
    wrong.extend(keeps_the_old_file("heatmap -o heat.jpg", "heat.jpg", |t| {
        let mut cmd = cli(&server);
        cmd.args(["heatmap", &id, "-o"]).arg(t);
        cmd
    }));
    wrong.extend(keeps_the_old_file(
        "heatmap --overlay",
        "overlay.png",
        |t| {
            let mut cmd = cli(&server);
            cmd.args(["heatmap", &id, "-o"])
                .arg(t)
                .arg("--overlay")
                .arg(sample("sunset.png"));
            cmd
        },
    ));
    wrong.extend(keeps_the_old_file(
        "classify --heatmap-out",
        "heat.png",
        |t| {
            let mut cmd = cli(&server);
            cmd.args(["classify", "--heatmap", "--heatmap-out"])
                .arg(t)
                .arg(sample("sunset.png"));
            cmd
        },
    ));
    wrong.extend(keeps_the_old_file("contract --junit", "report.xml", |t| {
        let mut cmd = bare();
        cmd.args(["--mock", "contract", "--junit"]).arg(t);
        cmd
    }));
    wrong.extend(keeps_the_old_file("contract --drift", "drift.yaml", |t| {
        let mut cmd = bare();
        cmd.args(["--mock", "contract", "--drift"]).arg(t);
        cmd
    }));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn with_room_the_file_is_replaced_and_nothing_is_left_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.xml");
    std::fs::write(&report, OLD).unwrap();
    let out = bare()
        .args(["--mock", "contract", "--junit"])
        .arg(&report)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let junit = std::fs::read_to_string(&report).unwrap();
    assert!(junit.starts_with("<?xml"), "{junit}");
    assert_eq!(names(dir.path()), ["report.xml"]);
}
