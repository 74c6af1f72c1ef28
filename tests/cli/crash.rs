//! Nothing sent twice, nothing lost: the real binary's `batch` killed
//! (SIGKILL, SIGTERM) before, during and after its uploads, then resumed;
//! two processes on one out file; a torn last line; the same file named
//! twice. The MockServer counts the submissions it took per file hash, so a
//! file paid for twice shows.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use identifai::config::RateLimits;
use identifai::mock::{MockConfig, MockServer};
use serde_json::Value;

/// Time runs 20 times faster than the published limits, on both sides.
const SCALE: &str = "0.05";

fn server() -> MockServer {
    MockServer::start_with(
        MockConfig::default()
            .with_time_scale(0.05)
            .with_polls_until_done(2)
            .with_rate_limits(Some(RateLimits::PUBLISHED)),
    )
}

fn batch(server: &MockServer, media: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_identifai"));
    cmd.env_remove("IDENTIFAI_API_KEY")
        .env_remove("IDENTIFAI_BASE_URL")
        .env("IDENTIFAI_RATE_SCALE", SCALE)
        .env("NO_COLOR", "1")
        .args([
            "--base-url",
            &server.base_url(),
            "--api-key",
            server.api_key(),
        ])
        .arg("batch")
        .arg(media)
        .arg("--out")
        .arg(out)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// `n` distinct small PNGs in a fresh directory.
fn media(n: u32) -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("media");
    std::fs::create_dir(&dir).unwrap();
    for i in 0..n {
        std::fs::write(
            dir.join(format!("p{i:02}.png")),
            crate::support::png(7000 + i),
        )
        .unwrap();
    }
    (work, dir)
}

/// Every line of the out file, each of which must be JSON.
fn lines_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The last record of each input.
fn results_of(path: &Path) -> BTreeMap<String, Value> {
    lines_of(path)
        .into_iter()
        .map(|l| (l["path"].as_str().unwrap().to_string(), l))
        .collect()
}

/// How many `submitted` records the out file has (whole lines only).
fn submitted(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(r#""status":"submitted""#))
        .count()
}

/// Waits until `f` holds (bounded).
fn until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(60), "never: {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn finish(child: Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file of `media` taken exactly once, and one final `done` record
/// for each.
fn assert_each_paid_once(server: &MockServer, out: &Path, n: usize) {
    let taken = server.stats().taken_by_hash;
    assert_eq!(taken.len(), n, "{taken:?}");
    let twice: Vec<_> = taken.iter().filter(|(_, &c)| c > 1).collect();
    assert!(
        twice.is_empty(),
        "uploaded again after being accepted: {twice:?}"
    );
    let results = results_of(out);
    assert_eq!(results.len(), n, "{results:?}");
    for (path, r) in &results {
        assert_eq!(r["status"], "done", "{path}: {r}");
    }
}

#[derive(Clone, Copy, Debug)]
enum When {
    /// Right after it started: nothing accepted yet, or very little.
    Start,
    /// Once some uploads were accepted and recorded.
    During,
    /// Once every upload was accepted (results not all in).
    AfterUploads,
}

fn kill_then_resume(when: When, signal: i32) {
    const N: u32 = 12;
    let server = server();
    let (work, dir) = media(N);
    let out = work.path().join("results.jsonl");
    let mut child = batch(&server, &dir, &out, &[]).spawn().unwrap();
    match when {
        When::Start => {}
        When::During => until("4 uploads recorded", || submitted(&out) >= 4),
        When::AfterUploads => until("every upload recorded", || submitted(&out) >= N as usize),
    }
    // SAFETY: kill(2) on the child this test started and has not reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    let _ = child.wait();

    let (code, stderr) = finish(batch(&server, &dir, &out, &["--resume"]).spawn().unwrap());
    assert_eq!(code, Some(0), "{when:?}: {stderr}");
    assert_each_paid_once(&server, &out, N as usize);
    assert_eq!(
        server.stats().rate_limited,
        0,
        "{when:?}: no 429 after a kill"
    );
}

#[test]
fn kill_9_at_the_start_then_resume_pays_for_each_file_once() {
    kill_then_resume(When::Start, libc::SIGKILL);
}

#[test]
fn kill_9_during_the_uploads_then_resume_pays_for_each_file_once() {
    kill_then_resume(When::During, libc::SIGKILL);
}

#[test]
fn kill_9_after_the_uploads_then_resume_sends_nothing_again() {
    kill_then_resume(When::AfterUploads, libc::SIGKILL);
}

#[test]
fn sigterm_during_the_uploads_exits_130_and_resume_pays_once() {
    const N: u32 = 8;
    let server = server();
    let (work, dir) = media(N);
    let out = work.path().join("results.jsonl");
    let child = batch(&server, &dir, &out, &[]).spawn().unwrap();
    until("2 uploads recorded", || submitted(&out) >= 2);
    // SAFETY: as above.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    let (code, stderr) = finish(batch(&server, &dir, &out, &["--resume"]).spawn().unwrap());
    assert_eq!(code, Some(0), "{stderr}");
    assert_each_paid_once(&server, &out, N as usize);
}

#[test]
fn a_second_process_on_the_same_out_file_refuses_and_sends_nothing() {
    const N: u32 = 10;
    let server = server();
    let (work, dir) = media(N);
    let out = work.path().join("results.jsonl");
    let first = batch(&server, &dir, &out, &[]).spawn().unwrap();
    until("the first run has started", || submitted(&out) >= 1);
    let (code, stderr) = finish(batch(&server, &dir, &out, &["--resume"]).spawn().unwrap());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("locked"), "{stderr}");
    let (code, stderr) = finish(first);
    assert_eq!(code, Some(0), "{stderr}");
    assert_each_paid_once(&server, &out, N as usize);
    assert_eq!(
        server.stats().posts,
        N as u64,
        "the second run sent nothing"
    );
}

#[test]
fn a_torn_last_line_is_cut_on_resume_and_the_file_stays_json_lines() {
    const N: u32 = 5;
    let server = server();
    let (work, dir) = media(N);
    let out = work.path().join("results.jsonl");
    let (code, stderr) = finish(batch(&server, &dir, &out, &[]).spawn().unwrap());
    assert_eq!(code, Some(0), "{stderr}");
    // A crash in the middle of a record's write.
    let mut text = std::fs::read_to_string(&out).unwrap();
    text.push_str(r#"{"path":"/somewhere/p99.png","status":"subm"#);
    std::fs::write(&out, text).unwrap();
    let (code, stderr) = finish(batch(&server, &dir, &out, &["--resume"]).spawn().unwrap());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("cut a torn last line"), "{stderr}");
    // lines_of panics on a line that is not JSON: jq would read it all.
    assert_each_paid_once(&server, &out, N as usize);
    assert!(std::fs::read_to_string(&out).unwrap().ends_with('\n'));
}

#[test]
fn a_file_named_twice_or_relative_then_absolute_is_sent_once() {
    let server = server();
    let (work, dir) = media(2);
    let out = work.path().join("results.jsonl");
    let list = work.path().join("list.txt");
    let a = dir.join("p00.png");
    std::fs::write(
        &list,
        format!(
            "media/p00.png\n./media/p00.png\n{}\nmedia/p01.png\nmedia/../media/p00.png\n",
            a.display()
        ),
    )
    .unwrap();
    let mut cmd = batch(&server, &list, &out, &[]);
    cmd.current_dir(work.path());
    let (code, stderr) = finish(cmd.spawn().unwrap());
    assert_eq!(code, Some(0), "{stderr}");
    assert_each_paid_once(&server, &out, 2);

    // Resumed from another directory, naming the files by absolute path:
    // the same inputs, nothing sent.
    let posts = server.stats().posts;
    std::fs::write(
        &list,
        format!("{}\n{}\n", a.display(), dir.join("p01.png").display()),
    )
    .unwrap();
    let (code, stderr) = finish(batch(&server, &list, &out, &["--resume"]).spawn().unwrap());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(server.stats().posts, posts, "{stderr}");
    let finals: HashMap<String, Value> = results_of(&out).into_iter().collect();
    assert_eq!(finals.len(), 2, "{finals:?}");
}

#[test]
fn kill_9_near_the_minute_limit_then_resume_meets_no_429() {
    // 28 uploads of the minute's 30 went out before the kill: the server
    // still counts them, and the resumed run must too (its journal says
    // when they were sent), or its next uploads are refused.
    const N: u32 = 40;
    let server = server();
    let (work, dir) = media(N);
    let out = work.path().join("results.jsonl");
    let mut child = batch(&server, &dir, &out, &[]).spawn().unwrap();
    until("28 uploads recorded", || submitted(&out) >= 28);
    child.kill().unwrap();
    let _ = child.wait();
    let (code, stderr) = finish(batch(&server, &dir, &out, &["--resume"]).spawn().unwrap());
    assert_eq!(code, Some(0), "{stderr}");
    assert_each_paid_once(&server, &out, N as usize);
    // Unseeded, the resumed run meets one 429 here (then the pacer holds);
    // seeded with the journal's send times, none.
    let refused = server.stats().rate_limited;
    assert_eq!(refused, 0, "429s after the resume");
}

#[test]
fn a_batch_on_a_refusing_key_stops_early_and_resumes_whole() {
    // A spent quota: every upload is refused (429) until the faults are
    // cleared. The run stops within the (scaled) two minutes of its
    // breaker, with exit 4, having sent a handful of uploads, not 50 x
    // the retries; a later --resume classifies everything, each file once.
    const N: u32 = 50;
    let server = server();
    server.inject_times(
        identifai::mock::Route::ClassifyImage,
        identifai::mock::Fault::too_many_attempts(None),
        100_000,
    );
    let (work, dir) = media(N);
    let out = work.path().join("results.jsonl");
    let started = Instant::now();
    let mut cmd = batch(&server, &dir, &out, &[]);
    cmd.stdout(Stdio::piped());
    let out_of_run = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out_of_run.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out_of_run.stderr).into_owned();
    assert_eq!(out_of_run.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(stdout.contains("stopped early"), "{stdout}");
    // Two scaled minutes are 6 s.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let posts = server.stats().posts;
    eprintln!(
        "refusing key: {posts} uploads, stopped after {:?}",
        started.elapsed()
    );
    assert!(posts <= 20, "{posts} uploads on a refusing key");
    assert!(server.stats().taken_by_hash.is_empty());

    server.clear_faults();
    let (code, stderr) = finish(batch(&server, &dir, &out, &["--resume"]).spawn().unwrap());
    assert_eq!(code, Some(0), "{stderr}");
    assert_each_paid_once(&server, &out, N as usize);
}

#[test]
fn ctrl_c_during_classify_no_wait_leaves_every_accepted_identifier_printed() {
    use std::io::{BufRead, BufReader};
    let server = server();
    let (_work, dir) = media(10);
    let mut child = Command::new(env!("CARGO_BIN_EXE_identifai"))
        .env_remove("IDENTIFAI_API_KEY")
        .env("IDENTIFAI_RATE_SCALE", SCALE)
        .args([
            "--base-url",
            &server.base_url(),
            "--api-key",
            server.api_key(),
        ])
        .args(["classify", "--no-wait"])
        .args((0..10).map(|i| dir.join(format!("p{i:02}.png"))))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    while printed.len() < 3 {
        printed.push(lines.next().unwrap().unwrap());
    }
    // SAFETY: kill(2) on the child this test started and has not reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    printed.extend(lines.map_while(Result::ok));
    let _ = child.wait();
    assert!(printed.iter().all(|l| l.len() == 64), "{printed:?}");
    // Printed as each was accepted: all of them, but for one whose answer
    // may have been on its way when the signal came.
    let accepted = server.stats().submissions as usize;
    assert!(
        printed.len() >= 3 && accepted - printed.len() <= 1,
        "{accepted} accepted, {printed:?}"
    );
}

#[test]
fn records_that_failed_after_acceptance_are_waited_for_on_resume_not_sent_again() {
    // An outage while the results were awaited: every file ends as an
    // error, but each with its identifier; the resume polls them.
    const N: u32 = 4;
    let server = server();
    let (work, dir) = media(N);
    let out = work.path().join("results.jsonl");
    server.inject_times(
        identifai::mock::Route::ListClassifications,
        identifai::mock::Fault::service_unavailable(None),
        100_000,
    );
    let (code, stderr) = finish(
        batch(&server, &dir, &out, &["--timeout", "1"])
            .spawn()
            .unwrap(),
    );
    // Every input failed with a 503: a service failure, 7.
    assert_eq!(code, Some(7), "{stderr}");
    let results = results_of(&out);
    assert_eq!(results.len(), N as usize);
    for r in results.values() {
        assert_eq!(r["status"], "error", "{r}");
        assert_eq!(r["identifier"].as_str().map(str::len), Some(64), "{r}");
    }
    server.clear_faults();
    let posts = server.stats().posts;
    let (code, stderr) = finish(batch(&server, &dir, &out, &["--resume"]).spawn().unwrap());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(server.stats().posts, posts, "nothing sent again");
    assert_each_paid_once(&server, &out, N as usize);
}
