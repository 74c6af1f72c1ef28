//! The `identifai` binary, run as a separate process against a
//! `MockServer` owned by the test (`--base-url`/`--api-key`). The server's
//! rate-limit windows are 100 times shorter than the published ones
//! (`time_scale` 0.01) and the binary paces itself under exactly those
//! windows (`IDENTIFAI_RATE_SCALE=0.01`): its headroom is absolute, so no
//! slack is needed for a loaded machine's jitter. Every
//! subcommand, both output modes, every exit code, batches, `--resume`,
//! and the key never appearing in any output.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::{bare, cli};
use assert_cmd::Command;
use identifai::config::RateLimits;
use identifai::mock::{MockConfig, MockServer};
use predicates::prelude::*;
use serde_json::Value;

/// A key that must never be printed.
const SECRET: &str = "sk-live-7f3a9c1e-DO-NOT-PRINT-5b2d";

fn config() -> MockConfig {
    MockConfig::default()
        .with_time_scale(0.01)
        .with_polls_until_done(1)
        .with_rate_limits(Some(RateLimits::PUBLISHED))
}

fn server() -> MockServer {
    MockServer::start_with(config())
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/media")
        .join(name)
}

fn sample_str(name: &str) -> String {
    sample(name).display().to_string()
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// A small distinct PNG for `seed`.
fn png(path: &Path, seed: u32) {
    let img = image::RgbImage::from_fn(8, 8, |x, y| {
        image::Rgb([
            (seed % 251) as u8,
            (seed / 251) as u8 ^ (x * 30) as u8,
            (y * 30) as u8,
        ])
    });
    img.save(path).unwrap();
}

/// A PNG of noise, too large for a server whose image limit is 4 KiB.
fn big_png(path: &Path) {
    let mut state = 0x2545_f491_u32;
    let img = image::RgbImage::from_fn(64, 64, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let b = state.to_le_bytes();
        image::Rgb([b[0], b[1], b[2]])
    });
    img.save(path).unwrap();
    assert!(std::fs::metadata(path).unwrap().len() > 4096);
}

/// Enough of an MP4 for its type to be told from its first bytes.
fn mp4(path: &Path) {
    let mut bytes = vec![0, 0, 0, 0x18];
    bytes.extend_from_slice(b"ftypmp42");
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    bytes.extend_from_slice(b"mp42isom");
    bytes.extend_from_slice(&[0u8; 2048]);
    std::fs::write(path, bytes).unwrap();
}

/// POSTs the server read (those it refused with 429 it did not).
fn posts_processed(stats: &identifai::mock::MockStats) -> u64 {
    stats.posts - stats.rate_limited
}

fn is_identifier(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

// ------------------------------------------------------------------ health

#[test]
fn health_needs_no_key_in_both_output_modes() {
    let server = server();
    let mut cmd = bare();
    cmd.args(["--base-url", &server.base_url(), "health"]);
    cmd.assert()
        .code(0)
        .stdout(predicate::str::contains(": ok"))
        .stdout(predicate::str::contains(server.base_url()));

    let out = bare()
        .args(["--base-url", &server.base_url(), "--json", "health"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_str(stdout_of(&out).trim()).unwrap();
    assert_eq!(v["status"], "ok");
}

#[test]
fn an_unreachable_server_exits_7() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    bare()
        .args(["--base-url", &format!("http://127.0.0.1:{port}"), "health"])
        .assert()
        .code(7)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::starts_with("error: transport error"));
}

// ------------------------------------------------------------------ usage

#[test]
fn no_key_and_no_mock_exits_5_and_says_what_to_do() {
    bare()
        .args(["classify", &sample_str("sunset.png")])
        .assert()
        .code(5)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("IDENTIFAI_API_KEY"))
        .stderr(predicate::str::contains("API Key"))
        .stderr(predicate::str::contains("--mock"));
}

#[test]
fn bad_arguments_exit_2() {
    let server = server();
    cli(&server).args(["classify"]).assert().code(2);
    cli(&server)
        .args(["classify", "--frames", "7", "clip.mp4"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("5, 10, 30"));
    cli(&server)
        .args(["classify", "--key-frames-method", "zigzag", "clip.mp4"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("iframes, flow, color"));
    cli(&server)
        .args(["result", "../etc/passwd"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid identifier"));
    cli(&server)
        .args([
            "heatmap",
            "abc",
            "-o",
            "x.png",
            "--overlay",
            "a.png",
            "--opacity",
            "2",
        ])
        .assert()
        .code(2);
    cli(&server)
        .args(["classify", "--no-wait", "--fail-on", "artificial", "a.png"])
        .assert()
        .code(2);
    cli(&server).args(["frobnicate"]).assert().code(2);
    assert_eq!(server.stats().posts, 0);
}

#[test]
fn help_documents_the_exit_codes() {
    bare()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Exit codes:"))
        .stdout(predicate::str::contains("3  --fail-on matched"));
    bare()
        .args(["classify", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("--heatmap"))
        .stdout(predicate::str::contains("--key-frames"))
        .stdout(predicate::str::contains("Exit codes:"));
}

#[test]
fn completions_for_bash() {
    bare()
        .args(["completions", "bash"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("_identifai()"))
        .stdout(predicate::str::contains("classify"))
        .stdout(predicate::str::contains("complete -F _identifai"));
}

// ------------------------------------------------------------------ classify

#[test]
fn classify_prints_a_readable_summary_and_saves_the_heatmap() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let heat = dir.path().join("heat.png");
    let out = cli(&server)
        .args([
            "classify",
            &sample_str("sunset.png"),
            "--heatmap",
            "--heatmap-out",
        ])
        .arg(&heat)
        .output()
        .unwrap();
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", stderr_of(&out));
    for needle in [
        "sunset.png",
        "ARTIFICIAL",
        "confident",
        "identifier",
        "heuristics",
        "Majority",
        "TopRelevant",
        "models",
        "mock-vit-v3",
        "human ",
        "artificial ",
        "c2pa",
        "no C2PA manifest",
        "saved to",
    ] {
        assert!(
            stdout.contains(needle),
            "{needle:?} missing from:\n{stdout}"
        );
    }
    // A loopback server is not identifAI: no dashboard link.
    assert!(!stdout.contains("dashboard"), "{stdout}");
    let img = image::open(&heat).unwrap();
    assert_eq!((img.width(), img.height()), (64, 64));
    assert_eq!(server.stats().submissions, 1);
}

#[test]
fn classify_json_is_one_object_per_input_and_fail_on_exits_3() {
    let server = server();
    let out = cli(&server)
        .args(["--json", "classify", "--fail-on", "artificial"])
        .arg(sample("sunset.png"))
        .arg(sample("city.jpg"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    let lines = json_lines(&stdout_of(&out));
    assert_eq!(lines.len(), 2);
    // In the order they finished: one line per input, each naming its path.
    let mut paths: Vec<&str> = lines.iter().map(|l| l["path"].as_str().unwrap()).collect();
    paths.sort_by_key(|p| p.ends_with("sunset.png"));
    assert!(
        paths[0].ends_with("city.jpg") && paths[1].ends_with("sunset.png"),
        "{paths:?}"
    );
    for l in &lines {
        assert_eq!(l["status"], "done");
        assert_eq!(l["kind"], "image");
        assert!(is_identifier(l["identifier"].as_str().unwrap()));
        assert!(l["confidence"].as_f64().unwrap() > 0.5);
        assert!(!l["result"]["results"].as_array().unwrap().is_empty());
        assert!(l["error"].is_null());
    }
    let verdict_of = |name: &str| {
        lines
            .iter()
            .find(|l| l["path"].as_str().unwrap().ends_with(name))
            .map(|l| l["verdict"].as_str().unwrap().to_string())
    };
    assert_eq!(verdict_of("sunset.png").as_deref(), Some("artificial"));
    assert_eq!(verdict_of("city.jpg").as_deref(), Some("human"));
    assert!(stderr_of(&out).is_empty(), "{}", stderr_of(&out));

    // The other way round: nothing human-made is refused...
    cli(&server)
        .args([
            "classify",
            "--fail-on",
            "human",
            "--ref-id",
            "mock:artificial",
        ])
        .arg(sample("city.jpg"))
        .assert()
        .code(0);
    // ...and what is, is.
    cli(&server)
        .args(["classify", "--fail-on", "human"])
        .arg(sample("city.jpg"))
        .assert()
        .code(3)
        .stdout(predicate::str::contains("HUMAN"));
}

#[test]
fn no_wait_prints_identifiers_only() {
    let server = server();
    let out = cli(&server)
        .args(["classify", "--no-wait"])
        .arg(sample("sunset.png"))
        .arg(sample("city.jpg"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = stdout_of(&out);
    let ids: Vec<&str> = stdout.lines().collect();
    assert_eq!(ids.len(), 2, "{stdout}");
    assert!(ids.iter().all(|i| is_identifier(i)), "{stdout}");
    assert_eq!(server.stats().submissions, 2);
    // No result was asked for.
    assert_eq!(server.stats().gets, 0);

    let out = cli(&server)
        .args(["--json", "classify", "--no-wait"])
        .arg(sample("sunset.png"))
        .output()
        .unwrap();
    let lines = json_lines(&stdout_of(&out));
    assert_eq!(lines[0]["status"], "submitted");
    // The same file again: the same identifier (printed in the order of
    // acceptance above, so either line).
    let id = lines[0]["identifier"].as_str().unwrap();
    assert!(ids.contains(&id), "{id} not in {ids:?}");
}

#[test]
fn videos_are_told_by_their_content_and_get_video_options() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.bin");
    mp4(&clip);
    let out = cli(&server)
        .args(["classify", "--frames", "10", "--heatmap"])
        .arg(&clip)
        .output()
        .unwrap();
    let (stdout, stderr) = (stdout_of(&out), stderr_of(&out));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains("--heatmap does not apply to videos; ignored"),
        "{stderr}"
    );
    assert!(stdout.contains("(video"), "{stdout}");
    assert!(stdout.contains("mock-frame-vit-v2"), "{stdout}");
    assert!(stdout.contains("mean over 10 frames"), "{stdout}");
    let stats = server.stats();
    assert_eq!(stats.submissions, 1);
    assert!(stats.route(identifai::mock::Route::ClassifyVideo) >= 1);

    // --kind overrides the detection (the mock then rejects the type).
    cli(&server)
        .args(["--json", "classify", "--kind", "image"])
        .arg(&clip)
        .assert()
        .code(6)
        .stdout(predicate::str::contains(r#""status":"error""#))
        .stdout(predicate::str::contains(r#""kind":"image""#));
}

#[test]
fn failures_exit_6_and_json_stays_valid() {
    let server = server();
    // A file that does not exist, and a classification the service gives up on.
    let out = cli(&server)
        .args([
            "--json",
            "classify",
            "missing.png",
            "--ref-id",
            "mock:errored",
        ])
        .arg(sample("city.jpg"))
        .output()
        .unwrap();
    // Both inputs failed, as inputs (not found, errored): 6.
    assert_eq!(out.status.code(), Some(6));
    let lines = json_lines(&stdout_of(&out));
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["status"], "error");
    assert!(lines[0]["error"]
        .as_str()
        .unwrap()
        .contains("file not found"));
    assert_eq!(lines[1]["status"], "errored");
    assert!(lines[1]["error"].as_str().unwrap().contains("(mock)"));
    assert!(is_identifier(lines[1]["identifier"].as_str().unwrap()));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("error: missing.png: invalid input: file not found"),
        "{stderr}"
    );
    assert!(stderr.contains("errored"), "{stderr}");

    // Readable: the errored summary on stdout, the error on stderr.
    cli(&server)
        .args(["classify", "--ref-id", "mock:errored"])
        .arg(sample("city.jpg"))
        .assert()
        .code(6)
        .stdout(predicate::str::contains("ERRORED"))
        .stderr(predicate::str::contains("error: "));
}

#[test]
fn a_wrong_key_exits_5_with_the_services_answer() {
    let server = server();
    bare()
        .args(["--base-url", &server.base_url(), "--api-key", "not-the-key"])
        .arg("classify")
        .arg(sample("city.jpg"))
        .assert()
        .code(5)
        .stderr(predicate::str::contains("unauthorized (401)"));
}

// ------------------------------------------------------------------ result

#[test]
fn result_shows_pending_and_finished_classifications() {
    let server = server();
    let out = cli(&server)
        .args(["classify", "--no-wait"])
        .arg(sample("city.jpg"))
        .output()
        .unwrap();
    let id = stdout_of(&out).trim().to_string();
    assert!(is_identifier(&id));

    // First GET: still new (polls_until_done 1).
    let out = cli(&server)
        .args(["--json", "result", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = &json_lines(&stdout_of(&out))[0];
    assert_eq!(v["status"], "new");
    assert!(v["verdict"].is_null());
    assert!(v.get("path").is_none());

    // Waited for: done, readable.
    cli(&server)
        .args(["result", "--wait", &id])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("HUMAN"))
        .stdout(predicate::str::contains(&id));

    // Unknown: not found, exit 6 (after trying the video endpoint too).
    let unknown = "0".repeat(64);
    cli(&server)
        .args(["result", &unknown])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("not found (404)"));
    assert!(
        server
            .stats()
            .route(identifai::mock::Route::GetVideoClassification)
            >= 1
    );

    // --fail-on applies to results too.
    cli(&server)
        .args(["result", "--fail-on", "human", &id])
        .assert()
        .code(3);
}

#[test]
fn result_finds_videos_by_itself() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    mp4(&clip);
    let out = cli(&server)
        .args(["classify", "--no-wait"])
        .arg(&clip)
        .output()
        .unwrap();
    let id = stdout_of(&out).trim().to_string();
    let out = cli(&server)
        .args(["--json", "result", "--wait", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v = &json_lines(&stdout_of(&out))[0];
    assert_eq!(v["kind"], "video");
    assert_eq!(v["status"], "done");
}

// ------------------------------------------------------------------ heatmap

#[test]
fn heatmap_saves_the_png_or_an_overlay() {
    let server = MockServer::start_with(config().with_polls_until_done(0));
    let dir = tempfile::tempdir().unwrap();
    let out = cli(&server)
        .args(["classify", "--no-wait", "--heatmap"])
        .arg(sample("sunset.png"))
        .output()
        .unwrap();
    let id = stdout_of(&out).trim().to_string();

    let bare_png = dir.path().join("heatmap.png");
    cli(&server)
        .args(["heatmap", &id, "-o"])
        .arg(&bare_png)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("saved the heatmap"));
    let sunset_hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        std::fs::read(sample("sunset.png")).unwrap(),
    ));
    assert_eq!(
        std::fs::read(&bare_png).unwrap(),
        identifai::mock::heatmap_png_for(&sunset_hash)
    );

    let overlay = dir.path().join("overlay.png");
    let out = cli(&server)
        .args(["--json", "heatmap", &id, "--opacity", "0.6", "-o"])
        .arg(&overlay)
        .arg("--overlay")
        .arg(sample("sunset.png"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v: Value = serde_json::from_str(stdout_of(&out).trim()).unwrap();
    assert_eq!(v["width"], 96);
    assert_eq!(v["height"], 96);
    assert_eq!(v["identifier"], id.as_str());
    let original = image::open(sample("sunset.png")).unwrap().to_rgb8();
    let blended = image::open(&overlay).unwrap().to_rgb8();
    assert_eq!(blended.dimensions(), original.dimensions());
    // At the heatmap's hottest spot the picture turned towards its colour.
    let heat = image::load_from_memory(&std::fs::read(&bare_png).unwrap())
        .unwrap()
        .to_rgb8();
    let (hx, hy, h) = heat
        .enumerate_pixels()
        .max_by_key(|(_, _, p)| p[0])
        .map(|(x, y, p)| (x, y, *p))
        .unwrap();
    let (x, y) = (hx * 96 / 64, hy * 96 / 64);
    let (o, b) = (original.get_pixel(x, y), blended.get_pixel(x, y));
    let distance = |p: &image::Rgb<u8>| -> i32 {
        (0..3)
            .map(|c| (i32::from(p[c]) - i32::from(h[c])).abs())
            .sum()
    };
    assert!(distance(b) < distance(o), "{o:?} -> {b:?} (heat {h:?})");

    // An overlay written as JPEG, by its extension.
    let jpeg = dir.path().join("overlay.jpg");
    cli(&server)
        .args(["heatmap", &id, "-o"])
        .arg(&jpeg)
        .arg("--overlay")
        .arg(sample("city.jpg"))
        .assert()
        .code(0);
    assert_eq!(
        image::ImageReader::open(&jpeg)
            .unwrap()
            .with_guessed_format()
            .unwrap()
            .format(),
        Some(image::ImageFormat::Jpeg)
    );

    // Without --heatmap there is none: exit 6.
    let out = cli(&server)
        .args(["classify", "--no-wait"])
        .arg(sample("city.jpg"))
        .output()
        .unwrap();
    let plain = stdout_of(&out).trim().to_string();
    cli(&server)
        .args(["heatmap", &plain, "-o"])
        .arg(dir.path().join("none.png"))
        .assert()
        .code(6)
        .stderr(predicate::str::contains("has no heatmap"));
    assert!(!dir.path().join("none.png").exists());
}

// ------------------------------------------------------------------ batch

/// `dir` with 47 distinct PNGs, 3 bad media files and 2 files that are
/// not media at all.
fn batch_dir(dir: &Path) {
    for i in 0..47 {
        png(&dir.join(format!("img-{i:02}.png")), i);
    }
    std::fs::write(dir.join("empty.png"), b"").unwrap(); // refused here: empty
    std::fs::write(dir.join("notes.jpg"), b"just some text\n").unwrap(); // refused here: not an image
    big_png(&dir.join("zz-big.png")); // refused by the server: over its limit
    std::fs::write(dir.join("readme.txt"), b"not media").unwrap();
    std::fs::write(dir.join(".hidden.png"), b"hidden").unwrap();
}

/// Every record of a batch's out file; every line must be JSON.
fn lines_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The out file as README says to read it: the last record of each input
/// wins (an accepted upload is recorded as `submitted` first, then its
/// result), in the order of those last records.
fn results_of(path: &Path) -> Vec<Value> {
    let lines = lines_of(path);
    let mut last: HashMap<String, usize> = HashMap::new();
    for (i, l) in lines.iter().enumerate() {
        last.insert(l["path"].as_str().unwrap().to_string(), i);
    }
    let mut keep: Vec<usize> = last.into_values().collect();
    keep.sort();
    keep.into_iter().map(|i| lines[i].clone()).collect()
}

#[test]
fn a_batch_of_50_with_3_bad_files_writes_50_lines() {
    let server = MockServer::start_with(config().with_max_image_bytes(4096));
    let work = tempfile::tempdir().unwrap();
    let media = work.path().join("media");
    std::fs::create_dir(&media).unwrap();
    batch_dir(&media);
    let out_file = work.path().join("results.jsonl");

    let started = std::time::Instant::now();
    let out = cli(&server)
        .args(["batch"])
        .arg(&media)
        .arg("--out")
        .arg(&out_file)
        .output()
        .unwrap();
    let (stdout, stderr) = (stdout_of(&out), stderr_of(&out));
    // Some failed, the rest succeeded: 8.
    assert_eq!(out.status.code(), Some(8), "{stdout}{stderr}");
    assert!(started.elapsed().as_secs() < 30);

    let lines = results_of(&out_file);
    assert_eq!(lines.len(), 50);
    // Every accepted upload was on disk before its result.
    let submitted = lines_of(&out_file)
        .iter()
        .filter(|l| l["status"] == "submitted")
        .count();
    assert_eq!(submitted, 47);
    let by_status = |s: &str| lines.iter().filter(|l| l["status"] == s).count();
    assert_eq!(by_status("done"), 47);
    assert_eq!(by_status("error"), 3);
    let paths: BTreeSet<String> = lines
        .iter()
        .map(|l| l["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths.len(), 50);
    assert!(!paths
        .iter()
        .any(|p| p.ends_with(".txt") || p.contains(".hidden")));
    for l in &lines {
        assert_eq!(l["sha256"].as_str().unwrap().len(), 64);
        if l["status"] == "done" {
            assert!(is_identifier(l["identifier"].as_str().unwrap()));
            assert!(l["verdict"] == "human" || l["verdict"] == "artificial");
            assert!(l["result"].is_object());
            assert!(l["error"].is_null());
        } else {
            assert!(l["error"].as_str().is_some_and(|e| !e.is_empty()));
            assert!(l["verdict"].is_null());
        }
    }
    let error_of = |name: &str| {
        lines
            .iter()
            .find(|l| l["path"].as_str().unwrap().ends_with(name))
            .unwrap()["error"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(error_of("empty.png").contains("is empty"));
    assert!(error_of("notes.jpg").contains("not accepted"));
    assert!(error_of("zz-big.png").contains("rejected (400)"));
    // The empty file has the SHA-256 of nothing.
    let empty = lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with("empty.png"))
        .unwrap();
    assert_eq!(
        empty["sha256"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert!(stdout.contains("50 inputs: 47 classified"), "{stdout}");
    assert!(stdout.contains("3 failed"), "{stdout}");
    assert_eq!(stderr.matches("error: ").count(), 3, "{stderr}");
    let stats = server.stats();
    assert_eq!(stats.submissions, 47, "{stats:?}");
    // The big one went out and was refused; nothing else was sent twice.
    // (A 429 is not a submission: the server refused it unread, and the
    // client sent it again. Pacing makes them rare, and only a starved
    // machine's jitter can cause one.)
    assert_eq!(posts_processed(&stats), 48, "{stats:?}");

    // Without --resume an existing output is not overwritten: usage error.
    cli(&server)
        .args(["batch"])
        .arg(&media)
        .arg("--out")
        .arg(&out_file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--resume"));

    // Fixed, the empty file goes through on --resume; the other two errors
    // are tried again; nothing else is sent again.
    png(&media.join("empty.png"), 1000);
    server.reset_stats();
    cli(&server)
        .args(["batch"])
        .arg(&media)
        .arg("--out")
        .arg(&out_file)
        .arg("--resume")
        .assert()
        .code(8)
        .stdout(predicate::str::contains("47 already done (skipped)"));
    let stats = server.stats();
    assert_eq!(stats.submissions, 1, "{stats:?}");
    assert_eq!(posts_processed(&stats), 2, "{stats:?}");
    let all = lines_of(&out_file);
    assert_eq!(all.len(), 97 + 4, "one submitted, three results");
    assert_eq!(
        all[97..].iter().filter(|l| l["status"] == "done").count(),
        1
    );
    assert_eq!(results_of(&out_file).len(), 50);
}

#[test]
fn resume_after_an_interrupted_batch_sends_no_duplicate() {
    let server = server();
    let work = tempfile::tempdir().unwrap();
    let media = work.path().join("media");
    std::fs::create_dir(&media).unwrap();
    for i in 0..10 {
        png(&media.join(format!("p{i}.png")), 500 + i);
    }
    let out_file = work.path().join("out").join("results.jsonl");
    let run = |extra: &[&str]| {
        let mut cmd = cli(&server);
        cmd.args(["batch", "--concurrency", "3"])
            .arg(&media)
            .arg("--out")
            .arg(&out_file)
            .args(extra);
        cmd.output().unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(server.stats().submissions, 10);

    // Interrupted: 4 whole records and half of the 5th made it to disk.
    let text = std::fs::read_to_string(&out_file).unwrap();
    let kept: Vec<&str> = text.lines().take(5).collect();
    let cut = format!(
        "{}\n{}",
        kept[..4].join("\n"),
        &kept[4][..kept[4].len() / 2]
    );
    std::fs::write(&out_file, cut).unwrap();
    // What those 4 records say: accepted (with an identifier), or done.
    let whole: Vec<Value> = kept[..4]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut accepted = std::collections::HashSet::new();
    let mut done = std::collections::HashSet::new();
    for r in &whole {
        let path = r["path"].as_str().unwrap().to_string();
        accepted.insert(path.clone());
        if r["status"] == "done" {
            done.insert(path);
        }
    }

    server.reset_stats();
    let out = run(&["--resume"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let skipped = format!("{} already done (skipped)", done.len());
    assert!(stdout_of(&out).contains(&skipped), "{}", stdout_of(&out));
    assert!(
        stderr_of(&out).contains("cut a torn last line"),
        "{}",
        stderr_of(&out)
    );
    // Only the files no record accepted are sent; the others are waited for.
    let stats = server.stats();
    let missing = 10 - accepted.len() as u64;
    assert_eq!(stats.submissions, missing, "{stats:?}");
    assert_eq!(posts_processed(&stats), missing, "{stats:?}");

    let lines = results_of(&out_file);
    assert_eq!(lines.len(), 10);
    for l in &lines {
        assert_eq!(l["status"], "done", "{l}");
    }

    // Once more: everything is done, nothing is sent.
    server.reset_stats();
    let out = run(&["--resume"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.stats().posts, 0);
    assert!(stdout_of(&out).contains("10 already done (skipped)"));

    // A changed file (same path, new SHA-256) is classified again.
    png(&media.join("p3.png"), 9999);
    server.reset_stats();
    run(&["--resume"]);
    assert_eq!(server.stats().submissions, 1);

    // --overwrite starts over.
    server.reset_stats();
    let out = run(&["--overwrite"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.stats().submissions, 10);
    assert_eq!(lines_of(&out_file).len(), 20);
    assert_eq!(results_of(&out_file).len(), 10);
}

#[test]
fn batch_json_streams_lines_and_takes_list_files() {
    let server = server();
    let work = tempfile::tempdir().unwrap();
    png(&work.path().join("a.png"), 1);
    mp4(&work.path().join("b.mp4"));
    std::fs::write(
        work.path().join("list.txt"),
        "# to check\n\na.png\nb.mp4\n  https://example.com/fake-cat.jpg\nhttps://example.com/clip.mp4\nmissing.png\n",
    )
    .unwrap();
    let out = cli(&server)
        .current_dir(work.path())
        .args([
            "--json",
            "batch",
            "list.txt",
            "--out",
            "r.jsonl",
            "--fail-on",
            "artificial",
        ])
        .output()
        .unwrap();
    // An input failed, others succeeded: 8 wins over the --fail-on match.
    assert_eq!(out.status.code(), Some(8), "{}", stderr_of(&out));
    let stdout = json_lines(&stdout_of(&out));
    let file = results_of(&work.path().join("r.jsonl"));
    assert_eq!(stdout, file, "stdout carries the results of the file");
    assert_eq!(file.len(), 5);
    let get = |p: &str| {
        file.iter()
            .find(|l| l["path"].as_str().unwrap().ends_with(p))
            .unwrap()
            .clone()
    };
    assert_eq!(get("a.png")["kind"], "image");
    assert_eq!(get("b.mp4")["kind"], "video");
    let url = get("https://example.com/fake-cat.jpg");
    assert!(url["sha256"].is_null());
    assert_eq!(url["verdict"], "artificial");
    assert_eq!(get("https://example.com/clip.mp4")["kind"], "video");
    assert_eq!(get("missing.png")["status"], "error");
    let stats = server.stats();
    assert_eq!(stats.submissions, 4, "{stats:?}");
    assert!(stats.route(identifai::mock::Route::ClassifyImageFromUrl) >= 1);
    assert!(stats.route(identifai::mock::Route::ClassifyVideoFromUrl) >= 1);
    // The summary went to stderr.
    assert!(stderr_of(&out).contains("5 inputs: 4 classified"));

    // Without failures, the match decides: 3.
    std::fs::write(
        work.path().join("list2.txt"),
        "https://example.com/ai.png\n",
    )
    .unwrap();
    cli(&server)
        .current_dir(work.path())
        .args([
            "batch",
            "list2.txt",
            "--out",
            "r2.jsonl",
            "--fail-on",
            "artificial",
        ])
        .assert()
        .code(3);
}

// ------------------------------------------------------------------ --mock

#[test]
fn mock_mode_runs_the_readme_command_without_a_key() {
    // A directory of its own: the heatmap and overlay are saved there.
    let here = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(here.path().join("examples/media")).unwrap();
    std::fs::copy(
        sample("sunset.png"),
        here.path().join("examples/media/sunset.png"),
    )
    .unwrap();
    let out = bare()
        .env_remove("IDENTIFAI_RATE_SCALE")
        .current_dir(here.path())
        .args([
            "--mock",
            "classify",
            "examples/media/sunset.png",
            "--heatmap",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = (stdout_of(&out), stderr_of(&out));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.starts_with("using the built-in mock server at http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("(no real classification)"));
    assert!(
        stdout.starts_with("examples/media/sunset.png  ARTIFICIAL"),
        "{stdout}"
    );
    assert!(stdout.contains("saved to sunset.overlay.png"), "{stdout}");

    // --json: stdout is JSON only, even with a real-looking key around.
    let out = bare()
        .env_remove("IDENTIFAI_RATE_SCALE")
        .env("IDENTIFAI_API_KEY", SECRET)
        .args(["--mock", "--json", "classify"])
        .arg(sample("city.jpg"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v: Value = serde_json::from_str(stdout_of(&out).trim()).unwrap();
    assert_eq!(v["status"], "done");
    assert!(!stdout_of(&out).contains(SECRET) && !stderr_of(&out).contains(SECRET));
}

// ------------------------------------------------------------------ the key

#[test]
fn the_key_never_appears_in_any_output() {
    let server = MockServer::start_with(
        config()
            .with_api_keys(vec![SECRET.to_string()])
            .with_polls_until_done(0),
    );
    let work = tempfile::tempdir().unwrap();
    png(&work.path().join("one.png"), 7);
    let run = |args: &[&str], env_key: bool| {
        let mut cmd = bare();
        cmd.arg("--base-url").arg(server.base_url()).arg("-vvv");
        if env_key {
            cmd.env("IDENTIFAI_API_KEY", SECRET);
        } else {
            cmd.args(["--api-key", SECRET]);
        }
        let out = cmd.current_dir(work.path()).args(args).output().unwrap();
        (
            args.join(" "),
            out.status.code(),
            stdout_of(&out) + &stderr_of(&out),
        )
    };
    let sunset = sample_str("sunset.png");
    let mut outputs = vec![
        run(&["health"], true),
        run(&["classify", &sunset, "--heatmap"], false),
        run(&["--json", "classify", &sunset, "--heatmap"], true),
        run(&["classify", "--no-wait", &sunset, "--heatmap"], false),
        run(&["classify", "missing.png"], false),
        run(&["batch", ".", "--out", "r.jsonl"], true),
        run(&["classify", "--frames", "7", "x.mp4"], false),
        run(&["--help"], true),
        run(&["classify", "--help"], true),
    ];
    let id = outputs[3]
        .2
        .lines()
        .find(|l| is_identifier(l))
        .unwrap()
        .to_string();
    outputs.push(run(&["result", &id], false));
    outputs.push(run(&["--json", "result", "--wait", &id], true));
    outputs.push(run(
        &["heatmap", &id, "-o", "h.png", "--overlay", &sunset],
        false,
    ));
    // Refused keys are not echoed either.
    let mut cmd = bare();
    let wrong = format!("{SECRET}-wrong");
    let out = cmd
        .args([
            "--base-url",
            &server.base_url(),
            "-vvv",
            "--api-key",
            &wrong,
            "classify",
            &sunset,
        ])
        .output()
        .unwrap();
    outputs.push((
        "wrong key".into(),
        out.status.code(),
        stdout_of(&out) + &stderr_of(&out),
    ));

    let codes: Vec<Option<i32>> = outputs.iter().map(|o| o.1).collect();
    assert_eq!(
        codes,
        [0, 0, 0, 0, 6, 0, 2, 0, 0, 0, 0, 0, 5].map(Some).to_vec(),
        "{outputs:#?}"
    );
    for (what, _, text) in &outputs {
        assert!(
            !text.contains(SECRET),
            "the key leaked in `{what}`:\n{text}"
        );
        assert!(
            !text.contains("7f3a9c1e"),
            "part of the key leaked in `{what}`"
        );
    }
    // -v really traced something.
    assert!(
        outputs[1].2.contains("identifai.request"),
        "{}",
        outputs[1].2
    );
}

// ------------------------------------------------------------------ progress

/// Runs `args` under a pseudo-terminal (util-linux `script`), or `None`
/// where there is no `script`.
fn on_a_terminal(args: &[&str], dir: &Path) -> Option<String> {
    let line = std::iter::once(env!("CARGO_BIN_EXE_identifai"))
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ");
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(dir)
        .env_remove("IDENTIFAI_API_KEY")
        .env_remove("IDENTIFAI_BASE_URL")
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color")
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status.success().then(|| stdout_of(&out))
}

#[test]
fn progress_bars_only_on_a_terminal_and_never_with_json() {
    let work = tempfile::tempdir().unwrap();
    for i in 0..6 {
        png(&work.path().join(format!("p{i}.png")), 70 + i);
    }
    let Some(tty) = on_a_terminal(&["--mock", "batch", ".", "--out", "a.jsonl"], work.path())
    else {
        eprintln!("no `script` here: the terminal half of this test is skipped");
        return;
    };
    assert!(
        tty.contains("(eta"),
        "no progress bar on a terminal:\n{tty}"
    );
    assert!(tty.contains("/6"), "{tty}");
    // Before the first result there is no rate to estimate from: no eta.
    let before_first: Vec<&str> = tty
        .split(['\r', '\n'])
        .filter(|frame| frame.contains(" 0/6"))
        .collect();
    assert!(
        before_first.iter().all(|frame| !frame.contains("eta")),
        "an eta before the first result: {before_first:?}"
    );

    let tty = on_a_terminal(
        &["--mock", "--json", "batch", ".", "--out", "b.jsonl"],
        work.path(),
    )
    .unwrap();
    assert!(!tty.contains("(eta"), "a progress bar with --json:\n{tty}");
    assert!(!tty.contains('\x1b'), "escape codes with --json:\n{tty}");

    // Piped (as every other test runs it): no bars either.
    let out = bare()
        .current_dir(work.path())
        .args(["--mock", "batch", ".", "--out", "c.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!stderr_of(&out).contains("(eta"));
    assert!(!stdout_of(&out).contains('\x1b'));
}

// ---------------------------------------------------------- whole answers

/// The newest published video result (3 frames, 1 audio track), as the
/// spec's `newest` example of `get_video_classification` holds it.
fn newest_video_example() -> Value {
    let spec = crate::support::spec::doc();
    let v = spec["paths"]["/api/classification_video/{identifier}"]["get"]["responses"]["200"]
        ["content"]["application/json"]["examples"]["newest"]["value"]
        .clone();
    assert_eq!(v["results"]["images"].as_array().unwrap().len(), 3);
    assert_eq!(v["results"]["audios"].as_array().unwrap().len(), 1);
    v
}

/// A loopback server answering `result` for `id` as a video: 404 on the
/// image endpoint, `body` on the video one.
fn video_server(id: &str, body: &Value) -> httpmock::MockServer {
    let server = httpmock::MockServer::start();
    server.mock(|when, then| {
        when.method("GET").path(format!("/api/classification/{id}"));
        then.status(404)
            .header("content-type", "application/json")
            .body(r#"{"error":"Not Found"}"#);
    });
    server.mock(|when, then| {
        when.method("GET")
            .path(format!("/api/classification_video/{id}"));
        then.status(200)
            .header("content-type", "application/json")
            .body(body.to_string());
    });
    server
}

fn cli_to(server: &httpmock::MockServer) -> Command {
    let mut cmd = bare();
    cmd.args(["--base-url", &server.base_url(), "--api-key", SECRET]);
    cmd
}

/// Names of the models of a frame: those of its verdict and of its results.
fn model_names(frame: &Value) -> Vec<String> {
    let mut names: Vec<String> = frame["verdict"]["models"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            frame["results"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| &r["model"]),
        )
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn json_result_keeps_every_frame_of_the_newest_published_video() {
    let body = newest_video_example();
    let id = body["identifier"].as_str().unwrap().to_string();
    let server = video_server(&id, &body);
    let out = cli_to(&server)
        .args(["--json", "result", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v = &json_lines(&stdout_of(&out))[0];
    assert_eq!(v["kind"], "video", "found by itself, after the image 404");
    assert_eq!(v["verdict"], "artificial");
    let sent = body["results"]["images"].as_array().unwrap();
    let printed = v["result"]["results"]["images"].as_array().unwrap();
    assert_eq!(printed.len(), 3);
    for (s, p) in sent.iter().zip(printed) {
        assert_eq!(p["hash"], s["hash"]);
        assert_eq!(p["verdict"], s["verdict"]);
        assert_eq!(p["verdicts"], s["verdicts"]);
        assert!(!model_names(s).is_empty());
        assert_eq!(model_names(p), model_names(s));
    }
    assert_eq!(v["result"]["results"]["audios"], body["results"]["audios"]);
    // Nothing narrowed: the whole answer is what the server sent.
    assert_eq!(v["result"], body);

    // The readable summary shows each frame's verdict.
    let out = cli_to(&server).args(["result", &id]).output().unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let frames_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("frames"))
        .unwrap_or_else(|| panic!("no frames line in:\n{text}"));
    for i in 0..3 {
        assert!(frames_line.contains(&format!("#{i}")), "{frames_line}");
    }
    assert!(
        frames_line.contains("75.7%"),
        "frame 0's confidence: {frames_line}"
    );
}

#[test]
fn json_result_keeps_fields_the_spec_does_not_name_at_three_depths() {
    let mut body = newest_video_example();
    body["verdict"]["unknown"] = Value::Bool(true);
    body["served_from"] = "edge-7".into();
    body["verdict"]["calibration"] = serde_json::json!({ "t": 1.5 });
    body["results"]["images"][1]["frame_time_s"] = 2.5.into();
    body["results"]["images"][1]["c2pa"] = serde_json::json!([]);
    let id = body["identifier"].as_str().unwrap().to_string();
    let server = video_server(&id, &body);
    let out = cli_to(&server)
        .args(["--json", "result", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v = &json_lines(&stdout_of(&out))[0];
    assert_eq!(v["result"]["served_from"], "edge-7");
    assert_eq!(v["result"]["verdict"]["calibration"]["t"], 1.5);
    assert_eq!(v["result"]["verdict"]["unknown"], true);
    assert_eq!(v["result"]["results"]["images"][1]["frame_time_s"], 2.5);
    assert_eq!(v["result"], body, "as sent, `[]` included");
}

#[test]
fn mock_quirks_pending_and_done_answers_decode_and_print_whole() {
    let server = MockServer::start_with(config().with_quirks(true));
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    mp4(&clip);
    let out = cli(&server)
        .args(["classify", "--no-wait", "--frames", "5"])
        .arg(&clip)
        .output()
        .unwrap();
    let id = stdout_of(&out).trim().to_string();
    // Pending: `"results": []` where the spec says object.
    let out = cli(&server)
        .args(["--json", "result", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v = &json_lines(&stdout_of(&out))[0];
    assert_eq!(v["status"], "new");
    assert_eq!(v["result"]["results"], serde_json::json!([]));
    assert!(v["result"]["mock_extra"].is_object());
    // Done: unknown fields at the top, in verdicts, in every frame.
    let out = cli(&server)
        .args(["--json", "result", "--wait", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v = &json_lines(&stdout_of(&out))[0];
    assert_eq!(v["status"], "done");
    assert!(v["result"]["mock_extra"].is_object());
    assert_eq!(v["result"]["verdict"]["mock_extra"]["weight"], 1);
    let frames = v["result"]["results"]["images"].as_array().unwrap();
    assert_eq!(frames.len(), 5);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f["mock_node"], format!("images-node-{i}"));
        assert_eq!(f["verdict"]["mock_extra"]["weight"], 1);
    }
}

// ------------------------------------------------------------ audio, video

#[test]
fn mock_classifies_the_shipped_audio_and_video_samples() {
    for (name, kind) in [("speech.wav", "audio"), ("clip.mp4", "video")] {
        let path = sample(name);
        assert!(
            std::fs::metadata(&path).unwrap().len() < 8 * 1024,
            "{name} stays small"
        );
        let out = bare()
            .args(["--mock", "classify"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr_of(&out));
        let text = stdout_of(&out);
        let head = text.lines().next().unwrap_or("");
        assert!(
            head.contains("HUMAN") || head.contains("ARTIFICIAL"),
            "{name}: a verdict: {text}"
        );
        assert!(text.contains(&format!("done ({kind}")), "{name}: {text}");
        let out = bare()
            .args(["--mock", "--json", "classify"])
            .arg(&path)
            .output()
            .unwrap();
        let v = &json_lines(&stdout_of(&out))[0];
        assert_eq!(v["kind"], kind);
        assert!(
            v["verdict"] == "human" || v["verdict"] == "artificial",
            "{v}"
        );
    }
}

#[test]
fn audio_summary_shows_each_clip_and_urls_go_to_the_audio_endpoint() {
    let server = server();
    let out = cli(&server)
        .args(["classify"])
        .arg(sample("speech.wav"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let clips = text
        .lines()
        .find(|l| l.trim_start().starts_with("clips"))
        .unwrap_or_else(|| panic!("no clips line:\n{text}"));
    assert!(
        clips.contains("#0") && clips.contains("0.0s-4.0s"),
        "{clips}"
    );

    let out = cli(&server)
        .args([
            "--json",
            "classify",
            "--kind",
            "audio",
            "https://media.example.com/talk.mp3",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v = &json_lines(&stdout_of(&out))[0];
    assert_eq!(v["kind"], "audio");
    assert_eq!(v["status"], "done");
    assert_eq!(
        server
            .stats()
            .route(identifai::mock::Route::ClassifyAudioFromUrl),
        1
    );
}

#[test]
fn override_takes_an_identifier_or_a_hash_and_later_answers_carry_it() {
    let server = server();
    let out = cli(&server)
        .args(["--json", "classify"])
        .arg(sample("speech.wav"))
        .output()
        .unwrap();
    let v = &json_lines(&stdout_of(&out))[0];
    let id = v["identifier"].as_str().unwrap().to_string();
    let hash = v["result"]["hash"].as_str().unwrap().to_string();
    assert!(v["result"]["force_classification"].is_null());

    // By identifier: the result GET finds the kind and the hash.
    let out = cli(&server)
        .args(["--json", "override", &id, "artificial"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let o = &json_lines(&stdout_of(&out))[0];
    assert_eq!(o["kind"], "audio");
    assert_eq!(o["hash"], hash.as_str());
    assert_eq!(o["result"]["classification"], "artificial");
    assert_eq!(o["result"]["type"], "audio");
    let out = cli(&server)
        .args(["--json", "result", &id])
        .output()
        .unwrap();
    let v = &json_lines(&stdout_of(&out))[0];
    assert_eq!(v["result"]["force_classification"], "artificial");

    // By hash: each kind's override is tried until one knows it.
    let out = cli(&server)
        .args(["override", &hash, "human"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("overridden audio"),
        "{}",
        stdout_of(&out)
    );
    let out = cli(&server)
        .args(["--json", "result", &id])
        .output()
        .unwrap();
    let v = &json_lines(&stdout_of(&out))[0];
    assert_eq!(v["result"]["force_classification"], "human");

    // Neither: not found (6), nothing printed on stdout.
    let out = cli(&server)
        .args(["override", "feedface", "human"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert!(stdout_of(&out).is_empty());
    assert!(stderr_of(&out).contains("feedface"), "{}", stderr_of(&out));
}

/// After an override, everything a pipeline reads follows it: the summary,
/// `--fail-on`, `--json`'s `verdict` and `batch` records; the server's JSON
/// stays verbatim under `result`.
#[test]
fn an_override_is_the_verdict_pipelines_read() {
    let server = server();
    let out = cli(&server)
        .args(["--json", "classify"])
        .arg(sample("sample.png"))
        .output()
        .unwrap();
    let v = &json_lines(&stdout_of(&out))[0];
    let id = v["identifier"].as_str().unwrap().to_string();
    let served = v["verdict"].as_str().unwrap().to_string();
    assert_eq!(v["effective"]["source"], "server");
    assert_eq!(v["effective"]["server"], served.as_str());
    assert_eq!(v["confidence"], v["result"]["verdict"]["confidence"]);
    let forced = if served == "human" {
        "artificial"
    } else {
        "human"
    };

    let out = cli(&server)
        .args(["override", &id, forced])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));

    // --json: the effective verdict, the server's answer verbatim beside it.
    let out = cli(&server)
        .args(["--json", "result", &id])
        .output()
        .unwrap();
    let v = &json_lines(&stdout_of(&out))[0];
    assert_eq!(v["verdict"], forced);
    assert!(v["confidence"].is_null(), "{v}");
    assert_eq!(v["effective"]["source"], "forced");
    assert_eq!(v["effective"]["server"], served.as_str());
    assert_eq!(v["result"]["verdict"]["classification"], served.as_str());
    assert_eq!(v["result"]["force_classification"], forced);

    // --fail-on matches the forced verdict, not the server's.
    let code = |verdict: &str| {
        cli(&server)
            .args(["result", &id, "--fail-on", verdict])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code(forced), Some(3));
    assert_eq!(code(&served), Some(0));

    // The readable summary leads with the forced verdict and says so.
    let out = cli(&server).args(["result", &id]).output().unwrap();
    let text = stdout_of(&out);
    let head = text.lines().next().unwrap_or_default();
    assert!(
        head.contains(&forced.to_uppercase()) && head.contains("forced by the account"),
        "{text}"
    );
    assert!(
        head.contains(&format!("the service said {served}")),
        "{text}"
    );

    // A batch of the same file: its record carries the override too.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(sample("sample.png"), dir.path().join("again.png")).unwrap();
    let results = dir.path().join("results.jsonl");
    let out = cli(&server)
        .args(["batch"])
        .arg(dir.path())
        .arg("--out")
        .arg(&results)
        .args(["--fail-on", forced])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    let lines = results_of(&results);
    let record = lines
        .iter()
        .find(|r| r["path"].as_str().is_some_and(|p| p.ends_with("again.png")))
        .unwrap_or_else(|| panic!("no record of again.png: {lines:?}"));
    assert_eq!(record["verdict"], forced);
    assert_eq!(record["effective"]["source"], "forced");
    assert_eq!(
        record["result"]["verdict"]["classification"],
        served.as_str()
    );
}

// ------------------------------------------------- exactly the published API

#[test]
fn an_audio_upload_sends_prevent_c2pa_forces_and_an_audio_url_warns_it_is_ignored() {
    use identifai::mock::httpmock::MockServerExt;
    let server = httpmock::MockServer::start();
    let answer = identifai::api::types::IdentifierResponse {
        identifier: crate::support::ID.into(),
    };
    let upload = server.classify_audio(|when, then| {
        when.prevent_c2pa_forces(true)
            .audio_content_type("audio/wav");
        then.ok(&answer);
    });
    let by_url = server.classify_audio_from_url(|when, then| {
        when.file_url("https://media.example.com/s.wav");
        then.ok(&answer);
    });
    let out = cli_to(&server)
        .args(["classify", "--no-wait", "--prevent-c2pa-forces"])
        .arg(sample("speech.wav"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out).trim(), crate::support::ID);
    assert!(!stderr_of(&out).contains("ignored"), "{}", stderr_of(&out));
    upload.assert_calls(1);

    // The URL form has no such field: the flag is left out, with a warning.
    let out = cli_to(&server)
        .args(["classify", "--no-wait", "--prevent-c2pa-forces"])
        .arg("https://media.example.com/s.wav")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("--prevent-c2pa-forces does not apply to audios by URL; ignored"),
        "{stderr}"
    );
    by_url.assert_calls(1);
}

#[test]
fn a_422_shows_every_fields_messages() {
    let server = server();
    let body = serde_json::json!({
        "message": "The ref id field must not be greater than 255 characters.",
        "errors": {"ref_id": ["The ref id field must not be greater than 255 characters."]}
    });
    server.inject(
        identifai::mock::Route::ClassifyImage,
        identifai::mock::Fault::json(422, &body),
    );
    let out = cli(&server)
        .args(["classify", "--no-wait"])
        .arg(sample("sunset.png"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "the input was refused");
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(
            "invalid input (422): The ref id field must not be greater than 255 characters.; \
             ref_id: The ref id field must not be greater than 255 characters."
        ),
        "{stderr}"
    );
}

#[test]
fn an_override_answered_204_is_reported_done_with_the_classification_asked_for() {
    let server = MockServer::start_with(config().with_override_status(204));
    let out = cli(&server)
        .args(["--json", "classify"])
        .arg(sample("sunset.png"))
        .output()
        .unwrap();
    let id = json_lines(&stdout_of(&out))[0]["identifier"]
        .as_str()
        .unwrap()
        .to_string();
    let out = cli(&server)
        .args(["override", &id, "artificial"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("now ARTIFICIAL"),
        "{}",
        stdout_of(&out)
    );
    let out = cli(&server)
        .args(["--json", "override", &id, "human"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let o = &json_lines(&stdout_of(&out))[0];
    assert_eq!(o["status"], "overridden");
    assert!(o["result"].is_null(), "a 204 has no body: {o}");
    let out = cli(&server)
        .args(["--json", "result", &id])
        .output()
        .unwrap();
    let v = &json_lines(&stdout_of(&out))[0];
    assert_eq!(v["result"]["force_classification"], "human");
}
