//! `identifai mock` as a process of its own: the published curl examples
//! work against it as written (apart from the host and the key), and it
//! stops cleanly on SIGTERM and SIGINT.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Mock {
    child: Child,
    base: String,
    key: String,
    /// When the last curl ended (see [`Mock::curl`]).
    last: std::cell::Cell<Option<Instant>>,
}

/// The closest two requests come, at the mock's `--time-scale 0.01`: the
/// published limits (1 POST/s, 2 GET/s) scaled are 10 ms and 5 ms apart,
/// plus headroom. The examples are run as a person runs them, one after
/// the other and within the limits; a fast machine sends the next curl
/// sooner than that.
const CURL_SPACING: Duration = Duration::from_millis(15);

fn start(extra: &[&str]) -> Mock {
    let mut child = Command::new(env!("CARGO_BIN_EXE_identifai"))
        .args(["mock", "--time-scale", "0.01", "--polls-until-done", "0"])
        .args(extra)
        .env_remove("IDENTIFAI_API_KEY")
        .env_remove("IDENTIFAI_BASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut value = |name: &str| {
        let line = lines.next().expect("a line").unwrap();
        line.strip_prefix(&format!("{name}="))
            .unwrap_or_else(|| panic!("{line:?} is not {name}=..."))
            .to_owned()
    };
    let base = value("IDENTIFAI_BASE_URL");
    let key = value("IDENTIFAI_API_KEY");
    Mock {
        child,
        base,
        key,
        last: std::cell::Cell::new(None),
    }
}

impl Mock {
    /// Sends `signal` and waits (at most 10 s) for the exit status.
    fn stop(mut self, signal: libc::c_int) -> std::process::ExitStatus {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on the child this test started.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                panic!("identifai mock did not stop within 10 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs a published curl example: `args` as on the page, with the host
    /// and the key replaced.
    fn curl(&self, args: &[&str]) -> serde_json::Value {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                a.replace("https://backend.identifai.net", &self.base)
                    .replace("<api-key>", &self.key)
            })
            .collect();
        // The server counted the last request by the time its curl ended.
        if let Some(last) = self.last.get() {
            std::thread::sleep(CURL_SPACING.saturating_sub(last.elapsed()));
        }
        let out = Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "30"])
            .args(&args)
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/media"))
            .output()
            .expect("curl runs");
        self.last.set(Some(Instant::now()));
        assert!(
            out.status.success(),
            "curl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        // A submission sent with curl's `Accept: */*` is answered with the
        // bare identifier (the spec: anything but `Accept: application/json`
        // gets text); everything else is JSON.
        if !text.is_empty() && text.chars().all(|c| c.is_ascii_hexdigit()) {
            return serde_json::json!({ "identifier": text });
        }
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("curl {args:?}: {e}: {text}"))
    }
}

#[test]
fn the_published_curl_examples_work_against_it() {
    let mock = start(&[]);
    assert!(mock.base.starts_with("http://127.0.0.1:"), "{}", mock.base);

    // Submit an image for classification (api-reference/classification/
    // submit-an-image-for-classification).
    let upload = mock.curl(&[
        "--request",
        "POST",
        "--url",
        "https://backend.identifai.net/api/classification",
        "--header",
        "Content-Type: multipart/form-data",
        "--header",
        "X-Api-Key: <api-key>",
        "--form",
        "with_morphing=true",
        "--form",
        "with_tampering=true",
        "--form",
        "with_heatmap=true",
        "--form",
        "image=@sample.jpg",
    ]);
    let id = upload["identifier"]
        .as_str()
        .expect("an identifier")
        .to_owned();

    // Submit an image from URL (submit-image-from-url).
    let by_url = mock.curl(&[
        "--request",
        "POST",
        "--url",
        "https://backend.identifai.net/api/image_fromurl",
        "--header",
        "Content-Type: multipart/form-data",
        "--header",
        "X-Api-Key: <api-key>",
        "--form",
        "file_url=https://example.com/photo.jpg",
        "--form",
        "with_morphing=true",
        "--form",
        "with_tampering=true",
        "--form",
        "with_heatmap=true",
    ]);
    assert!(by_url["identifier"].is_string(), "{by_url}");

    // Get single image classification result (get-classification-result).
    let url = format!("https://backend.identifai.net/api/classification/{id}");
    let result = mock.curl(&[
        "--request",
        "GET",
        "--url",
        &url,
        "--header",
        "X-Api-Key: <api-key>",
    ]);
    assert_eq!(result["identifier"], id.as_str(), "{result}");
    assert!(result["verdict"]["classification"].is_string(), "{result}");

    // Get several classifications (get-all-classifications); curl's -g keeps
    // `[]` literal.
    let url = format!("https://backend.identifai.net/api/classifications?identifiers[]={id}");
    let list = mock.curl(&[
        "-g",
        "--request",
        "GET",
        "--url",
        &url,
        "--header",
        "X-Api-Key: <api-key>",
    ]);
    assert_eq!(list[0]["identifier"], id.as_str(), "{list}");

    // Classify a video (submit-a-video-for-classification), with its type.
    let video = mock.curl(&[
        "--request",
        "POST",
        "--url",
        "https://backend.identifai.net/api/classification_video",
        "--header",
        "Content-Type: multipart/form-data",
        "--header",
        "X-Api-Key: <api-key>",
        "--form",
        "frames=5",
        "--form",
        "key_frames=true",
        "--form",
        "with_morphing=true",
        "--form",
        "with_tampering=false",
        "--form",
        "video=@clip.mp4;type=video/mp4",
    ]);
    let vid = video["identifier"]
        .as_str()
        .expect("an identifier")
        .to_owned();
    let url = format!("https://backend.identifai.net/api/classification_video/{vid}");
    let v = mock.curl(&[
        "--request",
        "GET",
        "--url",
        &url,
        "--header",
        "X-Api-Key: <api-key>",
    ]);
    assert_eq!(v["identifier"], vid.as_str(), "{v}");

    let status = mock.stop(libc::SIGTERM);
    assert_eq!(status.code(), Some(0), "stopped cleanly on SIGTERM");
}

#[test]
fn it_stops_cleanly_on_sigint_and_answers_quirks_when_asked() {
    let mock = start(&["--quirks"]);
    let up = mock.curl(&[
        "--request",
        "POST",
        "--url",
        "https://backend.identifai.net/api/classification",
        "--header",
        "X-Api-Key: <api-key>",
        "--form",
        "image=@sample.png",
    ]);
    let url = format!(
        "https://backend.identifai.net/api/classification/{}",
        up["identifier"].as_str().unwrap()
    );
    let r = mock.curl(&["--url", &url, "--header", "X-Api-Key: <api-key>"]);
    assert!(r.get("mock_extra").is_some(), "quirks: {r}");
    let status = mock.stop(libc::SIGINT);
    assert_eq!(status.code(), Some(0), "stopped cleanly on SIGINT");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_identifai"))
        .args(["mock", "--port", &port])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot start the mock"));
}
