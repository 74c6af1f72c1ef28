//! A closed pipe on stdout or on stderr (`identifai ... | head -c 1`) ends
//! every subcommand quietly: killed by SIGPIPE (141 in a shell) or exit 0,
//! never a panic (exit 101), never a hang. Each subcommand runs with each
//! stream closed two ways: the reader gone before the program starts (its
//! first write there must end it by SIGPIPE), and the reader gone after 1
//! byte, as `head -c 1` does. And a socket is not a pipe: a server
//! resetting an upload is still an error, reported, not a SIGPIPE.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use identifai::mock::{MockConfig, MockServer};

/// How long any run may take before it counts as a hang.
const BOUND: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug)]
enum Stream {
    Stdout,
    Stderr,
}

#[derive(Clone, Copy, Debug)]
enum Reader {
    /// Closed before the program starts.
    Gone,
    /// Reads one byte, then closes (`head -c 1`).
    OneByte,
}

fn bare() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_identifai"));
    cmd.env_remove("IDENTIFAI_API_KEY")
        .env_remove("IDENTIFAI_BASE_URL")
        .env("IDENTIFAI_RATE_SCALE", "0.01")
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    cmd
}

fn server() -> MockServer {
    MockServer::start_with(
        MockConfig::default()
            .with_time_scale(0.01)
            .with_polls_until_done(0),
    )
}

/// The binary pointed at `server`, with `-v`: every request it sends is
/// also a line on stderr.
fn cli(server: &MockServer) -> Command {
    let mut cmd = bare();
    cmd.args([
        "-v",
        "--base-url",
        &server.base_url(),
        "--api-key",
        server.api_key(),
    ]);
    cmd
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/media")
        .join(name)
}

/// An image classified with a heatmap on `server`: its identifier.
fn classified(server: &MockServer) -> String {
    let out = cli(server)
        .args(["classify", "--no-wait", "--heatmap"])
        .arg(sample("sunset.png"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Waits at most [`BOUND`] for `child`; kills it and fails after that.
fn wait(child: &mut Child, what: &str) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads `r` to its end on a thread.
fn drain(mut r: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = r.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// A process whose `stream` is a pipe closed as `reader` says; the other
/// stream is read whole.
struct Closed {
    child: Child,
    one_byte: Option<JoinHandle<()>>,
    other: JoinHandle<String>,
}

fn spawn_closed(mut cmd: Command, stream: Stream, reader: Reader) -> Closed {
    let (read_end, write_end) = std::io::pipe().unwrap();
    match stream {
        Stream::Stdout => cmd.stdout(write_end).stderr(Stdio::piped()),
        Stream::Stderr => cmd.stderr(write_end).stdout(Stdio::piped()),
    };
    let read_end = match reader {
        Reader::Gone => {
            drop(read_end);
            None
        }
        Reader::OneByte => Some(read_end),
    };
    let mut child = cmd.spawn().unwrap();
    // The command holds this process's copy of the write end: dropped, the
    // reader sees the end of the stream when the child ends.
    drop(cmd);
    let one_byte = read_end.map(|mut r| {
        std::thread::spawn(move || {
            let _ = r.read(&mut [0u8; 1]);
        })
    });
    let other = match stream {
        Stream::Stdout => drain(child.stderr.take().unwrap()),
        Stream::Stderr => drain(child.stdout.take().unwrap()),
    };
    Closed {
        child,
        one_byte,
        other,
    }
}

/// Runs `cmd` with `stream` closed as `reader` says, to its end.
fn run(cmd: Command, stream: Stream, reader: Reader, what: &str) -> (ExitStatus, String) {
    let mut p = spawn_closed(cmd, stream, reader);
    let status = wait(&mut p.child, what);
    if let Some(t) = p.one_byte {
        t.join().unwrap();
    }
    (status, p.other.join().unwrap())
}

/// The last lines of `text` (JSON records are long).
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let last = lines[lines.len().saturating_sub(8)..].join("\n");
    match last.char_indices().rev().nth(2000) {
        Some((i, _)) => format!("…{}", &last[i..]),
        None => last,
    }
}

fn by_sigpipe(status: ExitStatus) -> bool {
    status.signal() == Some(libc::SIGPIPE)
}

/// Runs `make(scratch)` with `stream` closed both ways: it must end by
/// SIGPIPE (when it `writes` on that stream; else with 0) if the reader was
/// gone from the start, with 0 or by SIGPIPE after 1 byte, never panicking.
/// Returns what went wrong.
fn ends_quietly(
    what: &str,
    stream: Stream,
    writes: bool,
    make: impl Fn(&Path) -> Command,
) -> Vec<String> {
    let mut wrong = Vec::new();
    for reader in [Reader::Gone, Reader::OneByte] {
        let scratch = tempfile::tempdir().unwrap();
        let case = format!("{what} with {stream:?} closed ({reader:?})");
        let (status, other) = run(make(scratch.path()), stream, reader, &case);
        eprintln!("{case}: {status}");
        let ok = match reader {
            Reader::Gone if writes => by_sigpipe(status),
            Reader::Gone => status.code() == Some(0),
            Reader::OneByte => status.code() == Some(0) || by_sigpipe(status),
        };
        if !ok || other.contains("panicked") {
            let expected = match reader {
                Reader::Gone if writes => "killed by SIGPIPE",
                Reader::Gone => "exit 0",
                Reader::OneByte => "exit 0 or killed by SIGPIPE",
            };
            wrong.push(format!(
                "{case}: {status}, expected {expected} and no panic; the other stream ends:\n{}",
                tail(&other)
            ));
        }
    }
    wrong
}

/// [`ends_quietly`] for stdout (every subcommand writes there), then
/// stderr; fails with every case that went wrong.
fn both_streams(what: &str, writes_stderr: bool, make: impl Fn(&Path) -> Command) {
    let mut wrong = ends_quietly(what, Stream::Stdout, true, &make);
    wrong.extend(ends_quietly(what, Stream::Stderr, writes_stderr, &make));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ------------------------------------------------------------------ commands

#[test]
fn health_ends_quietly_on_a_closed_pipe() {
    let server = server();
    both_streams("health", true, |_| {
        let mut cmd = cli(&server);
        cmd.arg("health");
        cmd
    });
}

#[test]
fn classify_ends_quietly_on_a_closed_pipe() {
    let server = server();
    both_streams("classify", true, |dir| {
        let mut cmd = cli(&server);
        cmd.args(["classify", "--heatmap", "--heatmap-out"])
            .arg(dir.join("heat.png"))
            .arg(sample("sunset.png"));
        cmd
    });
}

#[test]
fn result_ends_quietly_on_a_closed_pipe() {
    let server = server();
    let id = classified(&server);
    both_streams("result", true, |_| {
        let mut cmd = cli(&server);
        cmd.args(["result", "--wait", &id]);
        cmd
    });
}

#[test]
fn api_ends_quietly_on_a_closed_pipe() {
    let server = server();
    let id = classified(&server);
    // `-v` writes a line per request on stderr; `--list` sends none.
    both_streams("api", true, |_| {
        let mut cmd = cli(&server);
        cmd.args(["api", "get_image_classification", "--identifier", &id]);
        cmd
    });
    both_streams("api --list", false, |_| {
        let mut cmd = cli(&server);
        cmd.args(["api", "--list"]);
        cmd
    });
}

#[test]
fn heatmap_ends_quietly_on_a_closed_pipe() {
    let server = server();
    let id = classified(&server);
    both_streams("heatmap", true, |dir| {
        let mut cmd = cli(&server);
        cmd.args(["heatmap", &id, "-o"]).arg(dir.join("heat.png"));
        cmd
    });
}

#[test]
fn override_ends_quietly_on_a_closed_pipe() {
    let server = server();
    let id = classified(&server);
    both_streams("override", true, |_| {
        let mut cmd = cli(&server);
        cmd.args(["override", &id, "human"]);
        cmd
    });
}

#[test]
fn batch_ends_quietly_on_a_closed_pipe() {
    let server = server();
    let inputs = tempfile::tempdir().unwrap();
    for name in ["sunset.png", "sample.png", "sample.jpg"] {
        std::fs::copy(sample(name), inputs.path().join(name)).unwrap();
    }
    // `--json`: the records on stdout, the summary on stderr.
    both_streams("batch --json", true, |dir| {
        let mut cmd = cli(&server);
        cmd.args(["--json", "batch", "-o"])
            .arg(dir.join("out.jsonl"))
            .arg(inputs.path());
        cmd
    });
    both_streams("batch", true, |dir| {
        let mut cmd = cli(&server);
        cmd.args(["batch", "-o"])
            .arg(dir.join("out.jsonl"))
            .arg(inputs.path());
        cmd
    });
}

#[test]
fn contract_ends_quietly_on_a_closed_pipe() {
    both_streams("contract --mock", true, |_| {
        let mut cmd = bare();
        cmd.args(["-v", "contract", "--mock"]);
        cmd
    });
}

#[test]
fn completions_and_help_end_quietly_on_a_closed_pipe() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        // Nothing on stderr: exit 0 however it is closed.
        both_streams(&format!("completions {shell}"), false, |_| {
            let mut cmd = bare();
            cmd.args(["completions", shell]);
            cmd
        });
    }
    both_streams("--help", false, |_| {
        let mut cmd = bare();
        cmd.arg("--help");
        cmd
    });
}

// ------------------------------------------------------------------ mock

fn mock() -> Command {
    let mut cmd = bare();
    cmd.args(["-vv", "mock", "--time-scale", "0.01"]);
    cmd
}

/// A request to the mock at `addr` (`127.0.0.1:port`): its status line,
/// or none when the connection failed.
fn health(addr: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(b"GET /api/health HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).ok()?;
    Some(line).filter(|l| !l.is_empty())
}

#[test]
fn mock_ends_by_sigpipe_when_a_stream_is_gone_from_the_start() {
    // Its first write (the base URL; on stderr, that it serves) ends it.
    for stream in [Stream::Stdout, Stream::Stderr] {
        let case = format!("mock with {stream:?} closed (Gone)");
        let (status, other) = run(mock(), stream, Reader::Gone, &case);
        assert!(by_sigpipe(status), "{case}: {status}\n{other}");
        assert!(!other.contains("panicked"), "{case}:\n{other}");
    }
}

/// A free port on loopback (for the mock, whose stdout may be gone
/// before its base URL could be read).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn mock_ends_at_its_next_log_line_once_stderr_is_gone() {
    // `-vv` logs every request on stderr: the first after the reader left
    // ends it, with no signal sent by the test.
    let case = "mock -vv with stderr closed after 1 byte";
    let port = free_port();
    let mut cmd = mock();
    cmd.args(["--port", &port.to_string()]);
    let mut p = spawn_closed(cmd, Stream::Stderr, Reader::OneByte);
    // Its first byte on stderr comes once it listens.
    p.one_byte.take().unwrap().join().unwrap();
    let _ = health(&format!("127.0.0.1:{port}"));
    let status = wait(&mut p.child, case);
    let stdout = p.other.join().unwrap();
    assert!(by_sigpipe(status), "{case}: {status}\n{stdout}");
    assert!(!stdout.contains("panicked"), "{case}:\n{stdout}");
}

/// Sends SIGTERM to `child` and waits for its end.
fn terminate(child: &mut Child, what: &str) -> ExitStatus {
    // SAFETY: kill(2) on the child this test started (not reaped yet, so
    // its pid is still its own).
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    wait(child, what)
}

#[test]
fn mock_keeps_serving_once_its_two_lines_are_read_and_stdout_closed() {
    // Its stdout is done after the base URL and key: a harness may read
    // them and close the pipe; the server stays up until signalled, then
    // stops with 0.
    let case = "mock with stdout closed after its two lines";
    let mut child = mock()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = drain(child.stderr.take().unwrap());
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines.next().unwrap().unwrap();
    let _key = lines.next().unwrap().unwrap();
    drop(lines);
    let addr = base
        .strip_prefix("IDENTIFAI_BASE_URL=http://")
        .unwrap_or_else(|| panic!("{base}"));
    let answered = health(addr);
    assert!(
        answered.as_deref().is_some_and(|l| l.contains(" 200 ")),
        "{case}: {answered:?}"
    );
    assert!(child.try_wait().unwrap().is_none(), "{case}: it ended");
    let status = terminate(&mut child, case);
    let stderr = stderr.join().unwrap();
    assert_eq!(status.code(), Some(0), "{case}: {status}\n{stderr}");
    assert!(stderr.contains("stopped after 1 requests"), "{stderr}");
}

#[test]
fn mock_piped_into_head_c_1_ends_quietly() {
    // `identifai mock | head -c 1`: its second line may find the pipe
    // closed (SIGPIPE), or it serves on until signalled (exit 0).
    let case = "mock with stdout closed after 1 byte";
    let port = free_port();
    let mut cmd = mock();
    cmd.args(["--port", &port.to_string()]);
    let mut p = spawn_closed(cmd, Stream::Stdout, Reader::OneByte);
    p.one_byte.take().unwrap().join().unwrap();
    let _ = health(&format!("127.0.0.1:{port}"));
    let status = terminate(&mut p.child, case);
    let stderr = p.other.join().unwrap();
    assert!(
        status.code() == Some(0) || by_sigpipe(status),
        "{case}: {status}\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{case}:\n{stderr}");
}

// ------------------------------------------------------------------ sockets

#[test]
fn a_server_resetting_an_upload_is_an_error_not_a_sigpipe() {
    // Only stdout and stderr end the program: SIGPIPE stays ignored, so a
    // socket write to a peer that went away (hyper writes with writev, no
    // MSG_NOSIGNAL) is an error, retried, then reported with exit 7.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            // The request's head, then the connection dropped, the upload
            // unread.
            let mut r = BufReader::new(conn);
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let _ = r.get_ref().shutdown(std::net::Shutdown::Both);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.png");
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.resize(32 << 20, 7);
    std::fs::write(&big, bytes).unwrap();
    let mut cmd = bare();
    cmd.args(["--base-url", &format!("http://{addr}"), "--api-key", "sk-x"])
        .arg("classify")
        .arg(&big)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let (stdout, stderr) = (
        drain(child.stdout.take().unwrap()),
        drain(child.stderr.take().unwrap()),
    );
    let status = wait(&mut child, "classify against a resetting server");
    let (_, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    // A service failure (network): 7.
    assert_eq!(status.code(), Some(7), "{status}\n{stderr}");
    assert!(stderr.contains("upload interrupted"), "{stderr}");
}
