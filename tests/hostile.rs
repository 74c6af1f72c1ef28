//! Hostile servers and inputs. Each case runs a raw loopback TCP server
//! that writes its bytes by hand (huge bodies streamed lazily, stalls,
//! early answers, the key echoed back, escape bytes, redirect loops), or a
//! local file that is not one (FIFOs, devices), against the library and
//! the `identifai` binary. Time bounds are generous (a 1 s idle timeout
//! must fail within 10 s); memory is measured in a child process.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use identifai::{
    config::BodyLimits, config::RateLimits, config::RetryConfig, Client, Error, Identifier,
    InputError,
};

/// A key that must never come out anywhere.
const KEY: &str = "sk-hostile-5e1f-NEVER-SHOW-9c7a";

/// One request as the raw server read it.
#[allow(dead_code)]
struct Head {
    method: String,
    path: String,
    content_length: u64,
}

/// A loopback server answering every connection with `handler` on its
/// own thread; counts the requests it read.
struct Raw {
    addr: std::net::SocketAddr,
    requests: Arc<AtomicUsize>,
}

impl Raw {
    fn start(
        handler: impl Fn(usize, &Head, &mut BufReader<TcpStream>) + Send + Sync + 'static,
    ) -> Raw {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        let handler = Arc::new(handler);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (count, handler) = (count.clone(), handler.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn);
                    // Keep-alive: several requests per connection.
                    while let Some(head) = read_head(&mut reader) {
                        let n = count.fetch_add(1, Ordering::SeqCst);
                        handler(n, &head, &mut reader);
                    }
                });
            }
        });
        Raw { addr, requests }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn read_head(r: &mut BufReader<TcpStream>) -> Option<Head> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut content_length = 0;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        if h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                content_length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    Some(Head {
        method,
        path,
        content_length,
    })
}

/// Reads and drops the request body.
fn drain(head: &Head, r: &mut BufReader<TcpStream>) {
    let _ = std::io::copy(
        &mut r.by_ref().take(head.content_length),
        &mut std::io::sink(),
    );
}

fn respond(r: &mut BufReader<TcpStream>, status: &str, headers: &str, body: &str) {
    let text = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    let _ = r.get_mut().write_all(text.as_bytes());
}

/// Writes `total` bytes of a JSON answer lazily: `[` then spaces, never
/// holding more than 64 KiB.
fn stream_huge(r: &mut BufReader<TcpStream>, status: &str, total: u64) {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {total}\r\n\r\n["
    );
    if r.get_mut().write_all(head.as_bytes()).is_err() {
        return;
    }
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 1u64;
    while sent < total {
        let n = chunk.len().min((total - sent) as usize);
        if r.get_mut().write_all(&chunk[..n]).is_err() {
            return;
        }
        sent += n as u64;
    }
}

fn client(url: &str) -> identifai::ClientBuilder {
    Client::builder()
        .api_key(KEY)
        .base_url(url)
        .rate_limits(None)
        .retry(RetryConfig::disabled())
}

fn id() -> Identifier {
    Identifier::new("abc-123").unwrap()
}

fn done_json(extra: &str) -> String {
    format!(
        r#"{{"identifier":"abc-123","status":"done","verdict":{{"heuristic":"Majority","classification":"human","confidence":0.9}}{extra}}}"#
    )
}

/// A PNG-looking file of `len` bytes.
fn png_file(dir: &std::path::Path, name: &str, len: usize) -> std::path::PathBuf {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.resize(len, 7);
    let p = dir.join(name);
    std::fs::write(&p, v).unwrap();
    p
}

// ------------------------------------------------------------------ caps

#[tokio::test]
async fn a_huge_json_answer_stops_at_the_cap() {
    let raw = Raw::start(|_, _, r| stream_huge(r, "200 OK", 2 << 30));
    let c = client(&raw.url())
        .body_limits(BodyLimits::default().with_max_json_bytes(1 << 20))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.image_result(&id()).await.unwrap_err();
    assert!(
        matches!(err, Error::AnswerTooLarge { cap, what: "answer", status: Some(200) } if cap == 1 << 20),
        "{err:?}"
    );
    assert!(err.to_string().contains("over the 1 MiB cap"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(raw.requests(), 1);
}

#[tokio::test]
async fn a_huge_error_body_stops_at_the_error_cap() {
    let raw = Raw::start(|_, _, r| stream_huge(r, "401 Unauthorized", 2 << 30));
    let c = client(&raw.url()).build().unwrap();
    let err = c.image_result(&id()).await.unwrap_err();
    assert!(
        matches!(err, Error::AnswerTooLarge { what: "error body", status: Some(401), cap } if cap == BodyLimits::default().max_error_bytes()),
        "{err:?}"
    );
    // Undocumented statuses are read through the same reader.
    let raw = Raw::start(|_, _, r| stream_huge(r, "418 I'm a teapot", 2 << 30));
    let c = client(&raw.url()).build().unwrap();
    let err = c.image_result(&id()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::AnswerTooLarge {
                what: "error body",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_huge_heatmap_stops_at_the_heatmap_cap() {
    let raw = Raw::start(|_, _, r| {
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ntransfer-encoding: chunked\r\n\r\n";
        let _ = r.get_mut().write_all(head.as_bytes());
        let chunk = format!("{:x}\r\n{}\r\n", 65536, "\u{1}".repeat(65536));
        for _ in 0..(1 << 14) {
            if r.get_mut().write_all(chunk.as_bytes()).is_err() {
                return;
            }
        }
    });
    let c = client(&raw.url())
        .body_limits(BodyLimits::default().with_max_heatmap_bytes(2 << 20))
        .build()
        .unwrap();
    let err = c.heatmap(&id()).await.unwrap_err();
    assert!(
        matches!(err, Error::AnswerTooLarge { what: "heatmap", cap, .. } if cap == 2 << 20),
        "{err:?}"
    );
}

/// This test binary's `VmHWM` (peak resident set since its exec), in KiB.
fn own_peak_kib() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Runs [`child_measure`] in a fresh process of this test binary, with
/// `mode` and `args`; returns the peak RSS it reports, in KiB, and the exit
/// code of what it ran.
///
/// Why a fresh process: a child spawned straight from this (large,
/// multi-threaded) test process starts as a `vfork` sharing its memory, and
/// Linux counts that sharing in the child's `ru_maxrss`. The fresh process
/// is small: in `lib` mode it reads its own `VmHWM` after the work; in
/// `cli` mode it runs the binary and reads `RUSAGE_CHILDREN` (which then
/// includes at most its own few MB).
fn measure(mode: &str, url: &str, args: &[&str]) -> (i64, i32) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_measure",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("HOSTILE_MODE", mode)
        .env("HOSTILE_URL", url)
        .env("HOSTILE_ARGS", args.join("\u{1f}"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| -> Option<i64> {
        stdout
            .lines()
            .find_map(|l| l.split(name).nth(1))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
    };
    match (field("PEAK_KIB="), field("EXIT=")) {
        (Some(peak), Some(code)) => (peak, code as i32),
        _ => panic!(
            "the measuring child failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Run by [`measure`] in a child process (does nothing otherwise).
#[test]
#[ignore = "run in a child process by measure()"]
fn child_measure() {
    let (Ok(mode), Ok(url)) = (std::env::var("HOSTILE_MODE"), std::env::var("HOSTILE_URL")) else {
        return;
    };
    let args: Vec<String> = std::env::var("HOSTILE_ARGS")
        .unwrap_or_default()
        .split('\u{1f}')
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect();
    if mode == "lib" {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let ok = rt.block_on(async {
            let c = client(&url).build().unwrap();
            let a = c.image_result(&id()).await.unwrap_err();
            let b = c.health().await.unwrap_err();
            matches!(a, Error::AnswerTooLarge { .. }) && matches!(b, Error::AnswerTooLarge { .. })
        });
        println!("EXIT={}", if ok { 0 } else { 1 });
        println!("PEAK_KIB={}", own_peak_kib());
    } else {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_identifai"))
            .args(["--base-url", &url, "--api-key", KEY])
            .args(&args)
            .env("IDENTIFAI_RATE_SCALE", "0.02")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        assert_eq!(
            unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
            0
        );
        println!("EXIT={}", status.code().unwrap_or(-1));
        println!("PEAK_KIB={}", usage.ru_maxrss);
    }
}

#[test]
fn a_2_gb_answer_costs_under_64_mb() {
    let raw = Raw::start(|_, _, r| stream_huge(r, "200 OK", 2 << 30));
    // The library, default caps (16 MiB JSON).
    let (peak, code) = measure("lib", &raw.url(), &[]);
    eprintln!("library: peak RSS {peak} KiB for a 2 GB answer");
    assert_eq!(code, 0, "the child did not get AnswerTooLarge twice");
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
    // The binary: `result` against the same server, and a 2 GB 401.
    let (peak, code) = measure("cli", &raw.url(), &["--json", "result", "abc-123"]);
    eprintln!("cli: peak RSS {peak} KiB for a 2 GB answer (exit {code})");
    // Exit 7: an answer over the cap is the service's fault.
    assert_eq!(code, 7);
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
    let raw = Raw::start(|_, _, r| stream_huge(r, "401 Unauthorized", 2 << 30));
    let (peak, code) = measure("cli", &raw.url(), &["--json", "result", "abc-123"]);
    eprintln!("cli: peak RSS {peak} KiB for a 2 GB 401 (exit {code})");
    // Exit 7: the answer is over the cap before it says more.
    assert_eq!(code, 7);
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
}

// ------------------------------------------------------------------ time

#[tokio::test]
async fn a_server_that_never_answers_hits_the_idle_timeout() {
    let raw = Raw::start(|_, _, _r| std::thread::sleep(Duration::from_secs(60)));
    let c = client(&raw.url())
        .idle_timeout(Some(Duration::from_secs(1)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.image_result(&id()).await.unwrap_err();
    assert!(matches!(err, Error::IdleTimeout { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_body_that_stalls_midway_hits_the_idle_timeout() {
    let raw = Raw::start(|_, _, r| {
        let _ = r
            .get_mut()
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"identifier\":");
        std::thread::sleep(Duration::from_secs(60));
    });
    let c = client(&raw.url())
        .idle_timeout(Some(Duration::from_secs(1)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.image_result(&id()).await.unwrap_err();
    assert!(matches!(err, Error::IdleTimeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_server_that_reads_the_upload_then_stalls_hits_the_idle_timeout() {
    let raw = Raw::start(|_, head, r| {
        drain(head, r);
        std::thread::sleep(Duration::from_secs(60));
    });
    let dir = tempfile::tempdir().unwrap();
    let file = png_file(dir.path(), "a.png", 1 << 20);
    let c = client(&raw.url())
        .idle_timeout(Some(Duration::from_secs(1)))
        .retry(RetryConfig::default())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.classify_image(file.as_path()).send().await.unwrap_err();
    assert!(matches!(err, Error::IdleTimeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // The server had the whole upload: it is never sent twice.
    assert_eq!(raw.requests(), 1);
}

#[tokio::test]
async fn a_server_that_stops_reading_the_upload_hits_the_idle_timeout() {
    let raw = Raw::start(|_, _, _r| std::thread::sleep(Duration::from_secs(60)));
    let dir = tempfile::tempdir().unwrap();
    let file = png_file(dir.path(), "big.png", 32 << 20);
    let c = client(&raw.url())
        .idle_timeout(Some(Duration::from_secs(1)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.classify_image(file.as_path()).send().await.unwrap_err();
    assert!(matches!(err, Error::UploadInterrupted { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn the_retry_budget_bounds_attempts_too() {
    // Idle off: only the per-attempt timeout and the budget bound it.
    let raw = Raw::start(|_, _, _r| std::thread::sleep(Duration::from_secs(60)));
    let c = client(&raw.url())
        .idle_timeout(None)
        .request_timeout(Duration::from_secs(2))
        .retry(
            RetryConfig::default()
                .with_max_attempts(50)
                .with_initial_backoff(Duration::from_millis(10))
                .with_max_elapsed(Duration::from_secs(3)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.image_result(&id()).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(raw.requests() <= 3, "{} attempts", raw.requests());
}

#[tokio::test]
async fn the_retry_budget_is_a_hard_deadline_pacer_waits_included() {
    // A 503, then room for the retry only a minute later (1 GET a minute):
    // the retry's wait for the pacer is cut at the 2 s budget, and the 503
    // (the cause) ends the request.
    let raw = Raw::start(|n, _, r| match n {
        0 => respond(
            r,
            "503 Service Unavailable",
            "",
            r#"{"message":"Service Unavailable"}"#,
        ),
        _ => respond(r, "200 OK", "", &done_json("")),
    });
    let c = client(&raw.url())
        .rate_limits(Some(RateLimits::PUBLISHED.with_gets_per_minute(1)))
        .retry(
            RetryConfig::default()
                .with_initial_backoff(Duration::from_millis(10))
                .with_max_elapsed(Duration::from_secs(2)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.image_result(&id()).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::Server { status: 503, .. }), "{err:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(raw.requests(), 1);
}

#[tokio::test]
async fn a_429_then_a_silent_server_ends_with_the_429() {
    // The retry after a 429 meets a server that never answers: the error
    // is the 429 (the cause), not the retry's timeout.
    let raw = Raw::start(|n, head, r| {
        drain(head, r);
        if n == 0 {
            respond(
                r,
                "429 Too Many Requests",
                "retry-after: 0\r\n",
                r#"{"message":"Too Many Attempts."}"#,
            );
        } else {
            std::thread::sleep(Duration::from_secs(60));
        }
    });
    let c = client(&raw.url())
        .idle_timeout(None)
        .request_timeout(Duration::from_secs(30))
        .retry(quick_429s().with_max_elapsed(Duration::from_secs(2)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.image_result(&id()).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert!(err.to_string().contains("Too Many Attempts"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(raw.requests(), 2);
}

#[tokio::test]
async fn an_undecodable_answer_keeps_its_status_on_any_thread() {
    // A proxy's HTML 429 to the generated client: its status and headers
    // travel in the error, so mapping it on another thread still sees them.
    let raw = Raw::start(|_, head, r| {
        drain(head, r);
        respond(
            r,
            "429 Too Many Requests",
            "content-type: text/html\r\nretry-after: 7\r\n",
            "<html><body><h1>429 Too Many Requests</h1></body></html>",
        );
    });
    let c = client(&raw.url()).build().unwrap();
    let e = c
        .api()
        .get_image_classification("abc-123")
        .await
        .unwrap_err();
    assert!(
        matches!(e, identifai::api::Error::InvalidResponsePayload(..)),
        "{e:?}"
    );
    let err = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(Error::from_api(e))
    })
    .join()
    .unwrap();
    let Error::RateLimited { retry_after, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*retry_after, Some(Duration::from_secs(7)));
    assert_eq!(err.status(), Some(429));
}

#[tokio::test]
async fn an_upload_refused_then_stalled_ends_with_the_429() {
    // The upload sent again after a 429 meets a server that stops reading
    // it (idle timeout): the error is the 429, not "upload interrupted".
    let raw = Raw::start(|n, head, r| {
        if n == 0 {
            drain(head, r);
            respond(
                r,
                "429 Too Many Requests",
                "retry-after: 0\r\n",
                r#"{"message":"Too Many Attempts."}"#,
            );
        } else {
            std::thread::sleep(Duration::from_secs(60));
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = png_file(dir.path(), "big.png", 32 << 20);
    let c = client(&raw.url())
        .idle_timeout(Some(Duration::from_secs(1)))
        .retry(quick_429s())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.classify_image(file.as_path()).send().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// A server that reads the upload, then trickles its answer a byte every
/// 200 ms: the status line and headers (`in_head`), or the body.
fn trickling_server(in_head: bool) -> Raw {
    Raw::start(move |_, head, r| {
        drain(head, r);
        let body = r#"{"identifier":"accepted-1"}"#;
        let text = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}{}",
            body.len() + 1000,
            body,
            " ".repeat(1000)
        );
        let at_once = if in_head { 0 } else { text.len() - 1000 };
        if r.get_mut().write_all(&text.as_bytes()[..at_once]).is_err() {
            return;
        }
        for b in &text.as_bytes()[at_once..] {
            std::thread::sleep(Duration::from_millis(200));
            if r.get_mut().write_all(&[*b]).is_err() {
                return;
            }
        }
    })
}

#[tokio::test]
async fn an_upload_whose_answer_trickles_ends_within_the_request_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let file = png_file(dir.path(), "a.png", 1 << 20);
    for in_head in [true, false] {
        let raw = trickling_server(in_head);
        // A byte every 200 ms never trips the idle timeout (5 s: a loaded
        // machine may delay a byte a while); the upload timeout is for
        // sending the file, not for a trickled answer.
        let c = client(&raw.url())
            .idle_timeout(Some(Duration::from_secs(5)))
            .request_timeout(Duration::from_secs(1))
            .upload_timeout(Duration::from_secs(60))
            .retry(RetryConfig::default())
            .build()
            .unwrap();
        let started = Instant::now();
        let err = c.classify_image(file.as_path()).send().await.unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(&err, Error::Transport(e) if e.is_timeout()),
            "in head: {in_head}: {err:?}"
        );
        assert!(err.to_string().contains("request timeout"), "{err}");
        assert!(
            took < Duration::from_secs(8),
            "in head: {in_head}: {took:?}"
        );
        // The server had the upload: never sent twice.
        assert_eq!(raw.requests(), 1);
    }
}

// ------------------------------------------------------------------ the key

#[tokio::test]
async fn a_server_echoing_the_key_never_gets_it_into_an_error_or_result() {
    let raw = Raw::start(|n, head, r| {
        let echo = format!(r#"{{"message":"bad key {KEY}","error":"{KEY}"}}"#);
        match n {
            0 => respond(r, "401 Unauthorized", &format!("x-echo: {KEY}\r\n"), &echo),
            1 => respond(
                r,
                "500 Internal Server Error",
                "",
                &format!("boom {KEY} boom"),
            ),
            2 => respond(
                r,
                "400 Bad Request",
                "",
                &format!(r#"{{"errors":{{"image":["{KEY}"]}}}}"#),
            ),
            3 => respond(
                r,
                "200 OK",
                "",
                &done_json(&format!(r#","result_url":"https://x.test/{KEY}""#)),
            ),
            4 => respond(
                r,
                "200 OK",
                "content-type: text/html\r\n",
                &format!("<html>{KEY}"),
            ),
            _ => {
                let one =
                    format!(r#"{{"identifier":"abc-123","status":"errored","errors":"no {KEY}"}}"#);
                // A wait polls through the list endpoint.
                let body = if head.path.starts_with("/api/classifications?") {
                    format!("[{one}]")
                } else {
                    one
                };
                respond(r, "200 OK", "", &body)
            }
        }
    });
    let c = client(&raw.url()).build().unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let e = c.image_result(&id()).await.unwrap_err();
        seen.push(format!("{e} {e:?}"));
    }
    let ok = c.image_result(&id()).await.unwrap();
    assert_eq!(ok.result_url.as_deref(), Some("https://x.test/[REDACTED]"));
    seen.push(format!("{ok:?}"));
    let e = c.image_result(&id()).await.unwrap_err();
    seen.push(format!("{e} {e:?}"));
    let e = c.wait_image(&id()).await.unwrap_err();
    assert!(matches!(e, Error::ClassificationErrored { .. }), "{e:?}");
    seen.push(format!("{e} {e:?}"));
    for text in &seen {
        assert!(!text.contains(KEY), "{text}");
    }
    assert!(seen[0].contains("[REDACTED]"), "{}", seen[0]);
}

// ------------------------------------------------------------------ pending

#[tokio::test]
async fn unknown_statuses_are_pending_for_every_wait() {
    // `processing`, even with a verdict already there, until the deadline.
    let raw = Raw::start(|_, head, r| {
        let one = r#"{"identifier":"abc-123","status":"processing","verdict":{"heuristic":"Majority","classification":"human","confidence":0.9}}"#;
        let body = if head.path.starts_with("/api/classifications") {
            format!("[{one}]")
        } else {
            one.to_string()
        };
        respond(r, "200 OK", "", &body);
    });
    let c = client(&raw.url())
        .wait(
            identifai::config::WaitConfig::default()
                .with_deadline(Duration::from_millis(600))
                .with_initial_interval(Duration::from_millis(50))
                .with_max_interval(Duration::from_millis(100))
                .with_multiplier(1.5),
        )
        .build()
        .unwrap();
    let e = c.wait_image(&id()).await.unwrap_err();
    assert!(matches!(e, Error::WaitTimeout { .. }), "{e:?}");
    let all = c.wait_all([id()]).await;
    assert!(
        matches!(all[0].1, Err(Error::WaitTimeout { .. })),
        "{:?}",
        all[0].1
    );
    assert!(raw.requests() >= 4, "{} polls", raw.requests());
}

// ------------------------------------------------------------------ early answers

/// Retries whose 429 waits are a few milliseconds: `Retry-After: 0` counts
/// as the minute window (scaled down here), the backoff steps too.
fn quick_429s() -> RetryConfig {
    RetryConfig::default()
        .with_initial_backoff(Duration::from_millis(5))
        .with_rate_limit_backoff(Duration::from_millis(5))
        .with_retry_after_fallback(Duration::from_millis(5))
}

/// A server that answers every other submission with a 429 as soon as it
/// has read the headers, before reading the upload, as proxies do: then it
/// closes its side and reads what still comes, dropping it (nginx's
/// "lingering close"). The next submission is read and accepted.
fn early_429_server() -> Raw {
    Raw::start(|n, head, r| {
        if n % 2 == 0 {
            respond(
                r,
                "429 Too Many Requests",
                "retry-after: 0\r\nconnection: close\r\n",
                r#"{"message":"Too Many Attempts."}"#,
            );
            let _ = r.get_mut().shutdown(std::net::Shutdown::Write);
            let _ = std::io::copy(r, &mut std::io::sink());
        } else {
            drain(head, r);
            respond(r, "200 OK", "", r#"{"identifier":"accepted-1"}"#);
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_uploads_meeting_an_early_429_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let file = png_file(dir.path(), "one-mb.png", 1 << 20);
    let mut ok = 0;
    let mut failures = Vec::new();
    for _ in 0..50 {
        let raw = early_429_server();
        let c = client(&raw.url()).retry(quick_429s()).build().unwrap();
        match c.classify_image(file.as_path()).send().await {
            Ok(id) if id.as_str() == "accepted-1" && raw.requests() == 2 => ok += 1,
            other => failures.push(format!("{other:?} after {} requests", raw.requests())),
        }
    }
    assert_eq!(ok, 50, "{failures:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_reset_midway_is_sent_again() {
    // The first connection is reset after the headers, nothing answered and
    // the upload unread (a proxy dropping it): a 32 MB upload cannot have
    // been sent in full, so it is sent again, and accepted. (Once a body was
    // handed over in full, a reset is not retried: the server may have it.)
    let raw = Raw::start(|n, head, r| {
        if n == 0 {
            let _ = r.get_mut().shutdown(std::net::Shutdown::Both);
        } else {
            drain(head, r);
            respond(r, "200 OK", "", r#"{"identifier":"accepted-1"}"#);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = png_file(dir.path(), "big.png", 32 << 20);
    let c = client(&raw.url())
        .retry(RetryConfig::default().with_initial_backoff(Duration::from_millis(5)))
        .build()
        .unwrap();
    let id = c.classify_image(file.as_path()).send().await.unwrap();
    assert_eq!(id.as_str(), "accepted-1");
    assert_eq!(raw.requests(), 2);
    // Without retries, the typed error says why.
    let raw = Raw::start(|_, _, r| {
        let _ = r.get_mut().shutdown(std::net::Shutdown::Both);
    });
    let c = client(&raw.url()).build().unwrap();
    let e = c.classify_image(file.as_path()).send().await.unwrap_err();
    assert!(matches!(e, Error::UploadInterrupted { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_uploads_meeting_the_mocks_injected_429_all_succeed() {
    use identifai::mock::{Fault, MockConfig, MockServer, Route};
    let dir = tempfile::tempdir().unwrap();
    let file = png_file(dir.path(), "one-mb.png", 1 << 20);
    let server = MockServer::start_with(MockConfig::default().with_rate_limits(None));
    let c = Client::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .rate_limits(None)
        .retry(quick_429s())
        .build()
        .unwrap();
    let mut ok = 0;
    for _ in 0..50 {
        server.inject(Route::ClassifyImage, Fault::too_many_attempts(Some(0)));
        if c.classify_image(file.as_path()).send().await.is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 50);
    assert_eq!(server.stats().faults_served, 50);
}

#[tokio::test]
async fn an_early_400_is_returned_not_a_broken_pipe() {
    // The server answers 400 at once and keeps the connection open without
    // reading: the client gets the answer.
    let raw = Raw::start(|_, _, r| {
        respond(
            r,
            "400 Bad Request",
            "",
            r#"{"message":"The image field must be an image."}"#,
        );
        std::thread::sleep(Duration::from_secs(5));
    });
    let dir = tempfile::tempdir().unwrap();
    let file = png_file(dir.path(), "big.png", 8 << 20);
    let c = client(&raw.url()).build().unwrap();
    let err = c.classify_image(file.as_path()).send().await.unwrap_err();
    assert!(matches!(err, Error::Validation { .. }), "{err:?}");
    assert_eq!(raw.requests(), 1);
}

// ------------------------------------------------------------------ redirects

#[tokio::test]
async fn a_redirect_loop_is_paced_and_limited() {
    let raw = Raw::start(|_, _, r| {
        respond(
            r,
            "302 Found",
            "location: /api/classification/abc-123\r\n",
            "",
        )
    });
    let c = client(&raw.url())
        // 2 GET/s published; 100x faster: two GETs per 10 ms.
        .rate_limits(Some(RateLimits::PUBLISHED.with_time_scale(0.01)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.image_result(&id()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Decode {
                status: Some(302),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(raw.requests(), 11, "the first request and 10 hops");
    // 11 paced requests, two per window, cannot take less than 5 windows.
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "{:?}",
        started.elapsed()
    );
}

// ------------------------------------------------------------------ inputs

fn fifo(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    p
}

#[tokio::test]
async fn fifos_and_devices_are_typed_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = fifo(dir.path(), "photo.png");
    let c = client("http://127.0.0.1:9").build().unwrap();
    for path in [f.as_path(), std::path::Path::new("/dev/zero"), dir.path()] {
        let started = Instant::now();
        let err = c.classify_image(path).send().await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput(InputError::NotAFile { .. })),
            "{path:?}: {err:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

// ------------------------------------------------------------------ the binary

/// A small identifAI on the raw server: submissions get `id-<n>`, results
/// are `result(id)` and heatmaps `heatmap`.
fn fake_api(
    result: impl Fn(&str) -> (String, String) + Send + Sync + 'static,
    heatmap: Vec<u8>,
) -> Raw {
    Raw::start(move |n, head, r| {
        if head.method == "POST" {
            drain(head, r);
            respond(r, "200 OK", "", &format!(r#"{{"identifier":"id-{n}"}}"#));
        } else if head.path.contains("/heatmap/") {
            let text = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: {}\r\n\r\n",
                heatmap.len()
            );
            let _ = r.get_mut().write_all(text.as_bytes());
            let _ = r.get_mut().write_all(&heatmap);
        } else if let Some(query) = head.path.strip_prefix("/api/classifications?") {
            // The image list (waits poll through it): the ones answered 200.
            let items: Vec<String> = query
                .split('&')
                .filter_map(|kv| kv.split_once('=').map(|(_, id)| id))
                .map(&result)
                .filter(|(status, _)| status.starts_with("200"))
                .map(|(_, body)| body)
                .collect();
            respond(r, "200 OK", "", &format!("[{}]", items.join(",")));
        } else {
            let id = head.path.rsplit('/').next().unwrap_or("").to_string();
            let (status, body) = result(&id);
            respond(r, &status, "", &body);
        }
    })
}

fn done_for(id: &str, extra: &str) -> String {
    format!(
        r#"{{"identifier":"{id}","status":"done","has_heatmap":true,"verdict":{{"heuristic":"Majority","classification":"human","confidence":0.9}}{extra}}}"#
    )
}

fn bin(raw: &Raw) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_identifai"));
    cmd.env_remove("IDENTIFAI_API_KEY")
        .env_remove("IDENTIFAI_BASE_URL")
        .env("IDENTIFAI_RATE_SCALE", "0.02")
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(60))
        .args(["--base-url", &raw.url(), "--api-key", KEY]);
    cmd
}

fn sample(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/media")
        .join(name)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn cli_refuses_fifos_and_devices_without_opening_them() {
    let raw = fake_api(|id| ("200 OK".into(), done_for(id, "")), Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let f = fifo(dir.path(), "photo.png");
    // classify: exit 6 (input), nothing sent.
    let out = bin(&raw).args(["classify"]).arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("not a regular file"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(raw.requests(), 0);

    // batch: a list with a FIFO, /dev/zero and a real image.
    let list = dir.path().join("list.txt");
    let real = sample("sunset.png");
    std::fs::write(
        &list,
        format!("{}\n/dev/zero\n{}\n", f.display(), real.display()),
    )
    .unwrap();
    let jsonl = dir.path().join("out.jsonl");
    let out = bin(&raw)
        .args(["batch"])
        .arg(&list)
        .arg("-o")
        .arg(&jsonl)
        .output()
        .unwrap();
    // Exit 8: some inputs failed, one was classified.
    assert_eq!(out.status.code(), Some(8), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Three inputs; the real image's acceptance is recorded before its
    // result, and the last record of an input wins.
    assert_eq!(lines.len(), 4, "{lines:?}");
    let status = |p: &str| {
        lines
            .iter()
            .rfind(|l| l["path"].as_str() == Some(p))
            .map(|l| l["status"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(status(&f.display().to_string()).as_deref(), Some("error"));
    assert_eq!(status("/dev/zero").as_deref(), Some("error"));
    assert_eq!(status(&real.display().to_string()).as_deref(), Some("done"));

    // A list file that is a FIFO: a usage error, at once.
    let list_fifo = fifo(dir.path(), "list-fifo.txt");
    let out = bin(&raw)
        .args(["batch"])
        .arg(&list_fifo)
        .arg("-o")
        .arg(dir.path().join("o2.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn cli_never_prints_or_writes_a_key_the_server_echoes() {
    let raw = Raw::start(|_, head, r| {
        if head.method == "POST" {
            drain(head, r);
            let body =
                format!(r#"{{"message":"invalid {KEY}","errors":{{"image":["key {KEY}"]}}}}"#);
            respond(r, "400 Bad Request", &format!("x-echo: {KEY}\r\n"), &body);
        } else {
            let body = format!(
                r#"{{"identifier":"abc-123","status":"errored","errors":"bad key {KEY}","result_url":"https://x.test/{KEY}"}}"#
            );
            respond(r, "200 OK", "", &body);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let png = sample("sunset.png");
    let mut channels = Vec::new();
    for args in [
        vec!["--json", "classify"],
        vec!["-vv", "classify"],
        vec!["classify"],
    ] {
        let out = bin(&raw).args(&args).arg(&png).output().unwrap();
        // Exit 6: the service refused the input (400).
        assert_eq!(out.status.code(), Some(6));
        channels.push(text(&out.stdout));
        channels.push(text(&out.stderr));
    }
    for args in [
        vec!["--json", "result", "abc-123"],
        vec!["-vv", "result", "abc-123"],
        vec!["result", "abc-123"],
    ] {
        let out = bin(&raw).args(&args).output().unwrap();
        // Exit 6: the classification errored.
        assert_eq!(out.status.code(), Some(6));
        channels.push(text(&out.stdout));
        channels.push(text(&out.stderr));
    }
    let list = dir.path().join("list.txt");
    std::fs::write(&list, format!("{}\n", png.display())).unwrap();
    let jsonl = dir.path().join("out.jsonl");
    let out = bin(&raw)
        .args(["-vv", "--json", "batch"])
        .arg(&list)
        .arg("-o")
        .arg(&jsonl)
        .output()
        .unwrap();
    // Exit 6: the one input was refused (400).
    assert_eq!(out.status.code(), Some(6));
    channels.push(text(&out.stdout));
    channels.push(text(&out.stderr));
    channels.push(std::fs::read_to_string(&jsonl).unwrap());
    for c in &channels {
        assert!(!c.contains(KEY), "the key leaked: {c}");
    }
    assert!(channels.iter().any(|c| c.contains("[REDACTED]")));
}

#[test]
fn cli_escapes_control_characters_of_server_strings() {
    let raw = fake_api(
        |id| {
            let extra = r#","verdicts":[{"heuristic":"\u001b[2J\u001b]0;pwned\u0007","classification":"human","confidence":0.9}],"results":[{"model":"m\u001b[31m","classification":[{"label":"human","score":0.9}]}],"result_url":"https://x.test/\u001b[5m""#;
            ("200 OK".into(), done_for(id, extra))
        },
        Vec::new(),
    );
    let out = bin(&raw).args(["result", "abc-123"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !out.stdout.contains(&0x1b) && !out.stdout.contains(&0x07),
        "{:?}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("\\u{1b}[2J"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn cli_result_wait_keeps_waiting_on_an_unknown_status() {
    let raw = fake_api(
        |id| {
            (
                "200 OK".into(),
                format!(r#"{{"identifier":"{id}","status":"processing"}}"#),
            )
        },
        Vec::new(),
    );
    let started = Instant::now();
    let out = bin(&raw)
        .args(["--json", "result", "--wait", "--timeout", "2", "abc-123"])
        .output()
        .unwrap();
    // Not returned as finished: it waited to the deadline and failed
    // (exit 7: a timeout).
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stdout));
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(raw.requests() >= 2, "{} polls", raw.requests());
    assert!(
        text(&out.stderr).contains("not done"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn cli_heatmaps_of_same_named_inputs_do_not_overwrite_each_other() {
    let heat = std::fs::read(sample("sunset.png")).unwrap();
    let raw = fake_api(|id| ("200 OK".into(), done_for(id, "")), heat.clone());
    let dir = tempfile::tempdir().unwrap();
    for sub in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        std::fs::copy(sample("sunset.png"), dir.path().join(sub).join("photo.png")).unwrap();
    }
    let outdir = dir.path().join("heat");
    let out = bin(&raw)
        .args(["classify", "--heatmap", "--heatmap-out"])
        .arg(&outdir)
        .arg(dir.path().join("a/photo.png"))
        .arg(dir.path().join("b/photo.png"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&outdir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["photo-2.heatmap.png", "photo.heatmap.png"]);
}

/// A PNG whose header says `w`×`h` (the pixel data is not there).
fn png_header_only(path: &std::path::Path, w: u32, h: u32) -> Vec<u8> {
    let mut buf = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut buf, w, h);
        enc.set_color(png::ColorType::Rgba);
        let mut writer = enc.write_header().unwrap();
        // A first IDAT chunk, so a decoder's header read ends there.
        writer.write_chunk(png::chunk::IDAT, &[0u8; 16]).unwrap();
        std::mem::forget(writer);
    }
    std::fs::write(path, &buf).unwrap();
    buf
}

#[test]
fn cli_heatmap_sizes_come_from_the_header_and_overlays_have_a_pixel_cap() {
    let dir = tempfile::tempdir().unwrap();
    // 20000×20000 RGBA would be 1.6 GB decoded.
    let huge = png_header_only(&dir.path().join("huge.png"), 20000, 20000);
    let raw = fake_api(|id| ("200 OK".into(), done_for(id, "")), huge);
    let out_png = dir.path().join("out.png");
    let out_arg = out_png.display().to_string();
    let (peak, code) = measure("cli", &raw.url(), &["heatmap", "abc-123", "-o", &out_arg]);
    eprintln!("cli: peak RSS {peak} KiB for a 20000x20000 heatmap's size");
    assert_eq!(code, 0);
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB only to print a size");

    let out = bin(&raw)
        .args(["heatmap", "abc-123", "-o"])
        .arg(dir.path().join("o.png"))
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("20000×20000"),
        "{}",
        text(&out.stdout)
    );

    // An original over the cap is refused before decoding.
    let big_original = dir.path().join("big-original.png");
    png_header_only(&big_original, 30000, 30000);
    let out = bin(&raw)
        .args(["heatmap", "abc-123", "-o"])
        .arg(dir.path().join("blend.png"))
        .arg("--overlay")
        .arg(&big_original)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("pixel cap"),
        "{}",
        text(&out.stderr)
    );
}
