//! Every `--json` error `code` and every exit code of the binary, one test
//! each, through the real binary against a test-owned `MockServer` (faults
//! injected where the service would misbehave), and README's table holding
//! every code tested here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::bare_process as bare;
use identifai::mock::{Fault, MockConfig, MockServer, Route};
use serde_json::Value;

fn server_with(config: MockConfig) -> MockServer {
    MockServer::start_with(config.with_time_scale(0.01).with_rate_limits(None))
}

fn server() -> MockServer {
    server_with(MockConfig::default().with_polls_until_done(1))
}

/// `identifai --json --base-url <server> --api-key <key>`.
fn cli(server: &MockServer) -> Command {
    let mut cmd = bare();
    cmd.args(["--json", "--base-url", &server.base_url()])
        .args(["--api-key", server.api_key()]);
    cmd
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/media")
        .join(name)
}

/// A run's exit code and output.
struct Run {
    exit: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let out: Output = cmd.output().expect("the binary runs");
    Run {
        exit: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Run {
    /// The JSON objects printed: the records on stdout, the errors on stderr.
    fn objects(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .chain(self.stderr.lines())
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(Value::is_object)
            .collect()
    }

    /// The `code`s of the errors printed.
    fn codes(&self) -> Vec<String> {
        self.objects()
            .iter()
            .filter_map(|o| o["code"].as_str().map(str::to_string))
            .collect()
    }

    /// Asserts the exit and that `code` (alone) was printed with a message.
    fn expect(&self, exit: i32, code: &str) -> &Self {
        assert_eq!(self.exit, Some(exit), "{code}: {self}");
        assert_eq!(self.codes(), [code], "{self}");
        let with_code = self.objects().into_iter().find(|o| o["code"] == code);
        let message = with_code.as_ref().and_then(|o| o["error"].as_str());
        assert!(
            message.is_some_and(|m| !m.is_empty()),
            "{code}: no message beside the code: {self}"
        );
        self
    }

    /// The message beside the first code.
    fn message(&self) -> String {
        self.objects()
            .iter()
            .find_map(|o| o["code"].is_string().then(|| o["error"].to_string()))
            .unwrap_or_default()
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\nstdout: {}\nstderr: {}",
            self.exit, self.stdout, self.stderr
        )
    }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

// ------------------------------------------------------------------ 0

#[test]
fn success_exits_0_with_a_null_code() {
    let server = server();
    let r = run(cli(&server).arg("classify").arg(sample("sunset.png")));
    assert_eq!(r.exit, Some(0), "{r}");
    let records = r.objects();
    assert_eq!(records.len(), 1, "{r}");
    assert_eq!(records[0]["status"], "done", "{r}");
    assert!(records[0]["code"].is_null(), "{r}");
}

// ------------------------------------------------------------------ 1

#[test]
fn io_exits_1() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    // Under a regular file: no directory can be made there.
    std::fs::write(dir.path().join("file"), b"x").unwrap();
    let out = dir.path().join("file").join("r.jsonl");
    let r = run(cli(&server)
        .arg("batch")
        .arg(sample("sunset.png").parent().unwrap())
        .arg("--out")
        .arg(&out));
    r.expect(1, "io");
}

// ------------------------------------------------------------------ 2

#[test]
fn usage_exits_2_and_is_json_with_json() {
    let r = run(bare().args(["--json", "classify"]));
    r.expect(2, "usage");
    assert!(r.message().contains("<PATH|URL>"), "{r}");
}

#[test]
fn invalid_base_url_exits_2() {
    let r = run(bare()
        .args([
            "--json",
            "--base-url",
            "ftp://example.com",
            "--api-key",
            "k1234",
        ])
        .arg("classify")
        .arg(sample("sunset.png")));
    r.expect(2, "invalid_base_url");
}

// ------------------------------------------------------------------ 3

#[test]
fn fail_on_matched_exits_3() {
    let server = server();
    let r = run(cli(&server)
        .args([
            "classify",
            "--ref-id",
            "mock:artificial",
            "--fail-on",
            "artificial",
        ])
        .arg(sample("sunset.png")));
    assert_eq!(r.exit, Some(3), "{r}");
    assert!(r.codes().is_empty(), "{r}");
}

// ------------------------------------------------------------------ 4

#[test]
fn rate_limited_exits_4() {
    let server = server();
    server.inject_times(
        Route::ClassifyImage,
        Fault::too_many_attempts(Some(1)),
        1000,
    );
    let r = run(cli(&server).arg("classify").arg(sample("sunset.png")));
    r.expect(4, "rate_limited");
}

// ------------------------------------------------------------------ 5

#[test]
fn unauthorized_exits_5() {
    let server = server();
    let r = run(bare()
        .args(["--json", "--base-url", &server.base_url()])
        .args(["--api-key", "not-the-key"])
        .arg("classify")
        .arg(sample("sunset.png")));
    r.expect(5, "unauthorized");
}

#[test]
fn forbidden_exits_5() {
    let server = server();
    let forbidden = MockConfig::default().forbidden_keys()[0].clone();
    let r = run(bare()
        .args(["--json", "--base-url", &server.base_url()])
        .args(["--api-key", &forbidden])
        .arg("classify")
        .arg(sample("sunset.png")));
    r.expect(5, "forbidden");
}

#[test]
fn no_api_key_exits_5() {
    let r = run(bare()
        .args(["--json", "classify"])
        .arg(sample("sunset.png")));
    r.expect(5, "no_api_key");
    assert!(r.message().contains("--mock"), "{r}");
}

#[test]
fn invalid_api_key_exits_5() {
    let r = run(bare()
        .args(["--json", "--api-key", "sk-bad\u{1}key"])
        .arg("classify")
        .arg(sample("sunset.png")));
    r.expect(5, "invalid_api_key");
}

// ------------------------------------------------------------------ 6

#[test]
fn file_not_found_exits_6() {
    let server = server();
    let r = run(cli(&server).args(["classify", "missing.png"]));
    r.expect(6, "file_not_found");
}

#[test]
fn not_a_file_exits_6() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let r = run(cli(&server).arg("classify").arg(dir.path()));
    r.expect(6, "not_a_file");
}

#[test]
fn unreadable_exits_6() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    // A symlink to itself: no one can read it, root included.
    let path = dir.path().join("loop.png");
    std::os::unix::fs::symlink(&path, &path).unwrap();
    let r = run(cli(&server).arg("classify").arg(&path));
    r.expect(6, "unreadable");
}

#[test]
fn empty_exits_6() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.png");
    std::fs::write(&path, b"").unwrap();
    let r = run(cli(&server).arg("classify").arg(&path));
    r.expect(6, "empty");
}

#[test]
fn too_large_exits_6_and_says_mib() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    // Sparse: 51 MiB of nothing on disk, over the spec's 50 MiB image limit.
    let path = dir.path().join("big.png");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(51 << 20)
        .unwrap();
    let r = run(cli(&server).arg("classify").arg(&path));
    r.expect(6, "too_large");
    assert!(
        r.message().contains("is 51 MiB, over the 50 MiB limit"),
        "{r}"
    );
    assert_eq!(server.stats().posts, 0, "refused before sending");
}

#[test]
fn unsupported_type_exits_6() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, b"just some words\n").unwrap();
    let r = run(cli(&server).arg("classify").arg(&path));
    r.expect(6, "unsupported_type");
}

#[test]
fn invalid_url_exits_6_and_names_the_scheme() {
    let server = server();
    let r = run(cli(&server).args(["classify", "htp://x/a.png"]));
    r.expect(6, "invalid_url");
    assert!(r.message().contains("only http and https"), "{r}");
    assert!(!r.message().contains("file not found"), "{r}");
}

#[test]
fn rejected_exits_6() {
    let server = server();
    server.inject(
        Route::ClassifyImage,
        Fault::json(400, &serde_json::json!({ "error": "No credits left" })),
    );
    let r = run(cli(&server).arg("classify").arg(sample("sunset.png")));
    r.expect(6, "rejected");
}

#[test]
fn unprocessable_exits_6() {
    let server = server();
    server.inject(
        Route::ClassifyImage,
        Fault::json(
            422,
            &serde_json::json!({
                "message": "The image field must be an image.",
                "errors": { "image": ["The image field must be an image."] }
            }),
        ),
    );
    let r = run(cli(&server).arg("classify").arg(sample("sunset.png")));
    r.expect(6, "unprocessable");
}

#[test]
fn not_found_exits_6_with_no_kind() {
    let server = server();
    let r = run(cli(&server).args(["result", &"0".repeat(64)]));
    r.expect(6, "not_found");
    let record = &r.objects()[0];
    assert!(record["kind"].is_null(), "no kind knows it: {r}");
}

#[test]
fn errored_exits_6() {
    let server = server();
    let r = run(cli(&server)
        .args(["classify", "--ref-id", "mock:errored"])
        .arg(sample("sunset.png")));
    r.expect(6, "errored");
}

/// A video's identifier, classified without waiting.
fn video_id(server: &MockServer, dir: &Path) -> String {
    let clip = dir.join("clip.mp4");
    let mut bytes = vec![0, 0, 0, 0x18];
    bytes.extend_from_slice(b"ftypmp42");
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    bytes.extend_from_slice(b"mp42isom");
    bytes.extend_from_slice(&[0u8; 2048]);
    std::fs::write(&clip, bytes).unwrap();
    let r = run(cli(server).args(["classify", "--no-wait"]).arg(&clip));
    assert_eq!(r.exit, Some(0), "{r}");
    r.objects()[0]["identifier"].as_str().unwrap().to_string()
}

#[test]
fn a_heatmap_of_a_video_exits_6_not_an_image() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let id = video_id(&server, dir.path());
    let r = run(cli(&server)
        .args(["heatmap", &id, "-o"])
        .arg(dir.path().join("h.png")));
    r.expect(6, "not_an_image");
    assert!(
        r.message().contains("heatmaps exist for images only"),
        "{r}"
    );
}

#[test]
fn no_heatmap_exits_6() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let r = run(cli(&server).args(["classify"]).arg(sample("sunset.png")));
    let id = r.objects()[0]["identifier"].as_str().unwrap().to_string();
    let r = run(cli(&server)
        .args(["heatmap", &id, "-o"])
        .arg(dir.path().join("h.png")));
    r.expect(6, "no_heatmap");
}

// ------------------------------------------------------------------ 7

#[test]
fn server_exits_7() {
    let server = server();
    server.inject_times(Route::ClassifyImage, Fault::server_error(), 1000);
    let r = run(cli(&server).arg("classify").arg(sample("sunset.png")));
    r.expect(7, "server");
}

#[test]
fn timeout_exits_7() {
    let server = server_with(MockConfig::default().with_polls_until_done(u32::MAX));
    let r = run(cli(&server)
        .args(["classify", "--timeout", "1"])
        .arg(sample("sunset.png")));
    r.expect(7, "timeout");
}

#[test]
fn network_exits_7() {
    let r = run(bare()
        .args(["--json", "--api-key", "k1234", "--base-url"])
        .arg(format!("http://127.0.0.1:{}", closed_port()))
        .arg("classify")
        .arg(sample("sunset.png")));
    r.expect(7, "network");
}

#[test]
fn decode_exits_7() {
    let server = server();
    server.inject_times(Route::ClassifyImage, Fault::truncated_json(), 1000);
    let r = run(cli(&server).arg("classify").arg(sample("sunset.png")));
    r.expect(7, "decode");
}

#[test]
fn answer_too_large_exits_7() {
    let server = server();
    // Over the 16 MiB cap of a JSON answer.
    let body = vec![b' '; 17 << 20];
    server.inject(
        Route::ClassifyImage,
        Fault::new(200, "application/json", body),
    );
    let r = run(cli(&server).arg("classify").arg(sample("sunset.png")));
    r.expect(7, "answer_too_large");
    assert!(r.message().contains("16 MiB cap"), "{r}");
}

#[test]
fn pacer_exits_7() {
    let server = server();
    let r = run(cli(&server)
        .arg("--pacer")
        .arg(format!("redis://127.0.0.1:{}", closed_port()))
        .arg("classify")
        .arg(sample("sunset.png")));
    r.expect(7, "pacer");
    assert_eq!(server.stats().posts, 0, "nothing sent without the pacer");
}

// ------------------------------------------------------------------ 8

#[test]
fn some_failed_some_succeeded_exits_8() {
    let server = server();
    let r = run(cli(&server)
        .arg("classify")
        .arg(sample("sunset.png"))
        .arg("missing.png"));
    assert_eq!(r.exit, Some(8), "{r}");
    assert_eq!(r.codes(), ["file_not_found"], "{r}");
    let done = r.objects().into_iter().filter(|o| o["status"] == "done");
    assert_eq!(done.count(), 1, "{r}");
}

// ------------------------------------------------------------------ 130

#[test]
fn sigterm_exits_130() {
    let server = server_with(MockConfig::default().with_polls_until_done(u32::MAX));
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    std::fs::create_dir(&media).unwrap();
    std::fs::copy(sample("sunset.png"), media.join("sunset.png")).unwrap();
    let out = dir.path().join("r.jsonl");
    let mut child = cli(&server)
        .arg("batch")
        .arg(&media)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Accepted and recorded: now waiting for a verdict that never comes.
    while !std::fs::read_to_string(&out).is_ok_and(|t| t.contains("\"submitted\"")) {
        assert!(child.try_wait().unwrap().is_none(), "ended early");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: kill(2) on the child this test started and has not reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status}");
}

// ------------------------------------------------------------------ docs

/// Every code tested above, with its exit.
const TESTED: &[(&str, i32)] = &[
    ("io", 1),
    ("usage", 2),
    ("invalid_base_url", 2),
    ("rate_limited", 4),
    ("unauthorized", 5),
    ("forbidden", 5),
    ("no_api_key", 5),
    ("invalid_api_key", 5),
    ("file_not_found", 6),
    ("not_a_file", 6),
    ("unreadable", 6),
    ("empty", 6),
    ("too_large", 6),
    ("unsupported_type", 6),
    ("invalid_url", 6),
    ("rejected", 6),
    ("unprocessable", 6),
    ("not_found", 6),
    ("errored", 6),
    ("not_an_image", 6),
    ("no_heatmap", 6),
    ("server", 7),
    ("timeout", 7),
    ("network", 7),
    ("decode", 7),
    ("answer_too_large", 7),
    ("pacer", 7),
];

#[test]
fn readme_lists_every_code_on_its_exit_row() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("<!-- exit codes -->")
        .expect("README has the exit-code table");
    let table = &readme[start..];
    let table = &table[..table.find("<!-- /exit codes -->").unwrap()];
    for (code, exit) in TESTED {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("| {exit} |")))
            .unwrap_or_else(|| panic!("no row for exit {exit}"));
        assert!(
            row.contains(&format!("`{code}`")),
            "{code} not on row {row}"
        );
    }
    for exit in [0, 1, 2, 3, 4, 5, 6, 7, 8, 130] {
        assert!(
            table.lines().any(|l| l.starts_with(&format!("| {exit} |"))),
            "no row for exit {exit}"
        );
    }
}
