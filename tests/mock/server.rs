//! Tests of `identifai::mock::MockServer` over real HTTP on loopback.
//!
//! Needs the `mock` feature (`[[test]] name = "mock_server"`,
//! `required-features = ["mock"]`).

use std::io::{Read, Write};
use std::time::Duration;

use identifai::config::RateLimits;
use identifai::mock::{Fault, MockConfig, MockServer, Route};
use reqwest::multipart::{Form, Part};
use reqwest::{header, Client, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::PNG_SIGNATURE;

/// A server without rate limits, completing after `polls` polls.
fn server_with_polls(polls: u32) -> MockServer {
    MockServer::start_with(
        MockConfig::default()
            .with_rate_limits(None)
            .with_polls_until_done(polls),
    )
}

fn server() -> MockServer {
    server_with_polls(1)
}

thread_local! {
    // One client per test thread (each tokio test has its own thread and
    // runtime): building a reqwest client loads TLS roots, which is slow
    // enough to spoil the time-compressed rate-limit tests.
    static CLIENT: Client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
}

fn client() -> Client {
    CLIENT.with(Client::clone)
}

fn image_part(bytes: &[u8], name: &str, mime: &str) -> Part {
    Part::bytes(bytes.to_vec())
        .file_name(name.to_string())
        .mime_str(mime)
        .expect("mime")
}

fn form_with(mut form: Form, fields: &[(&str, &str)]) -> Form {
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form
}

async fn post_form(
    server: &MockServer,
    path: &str,
    form: Form,
    accept_json: bool,
) -> reqwest::Response {
    let mut request = client()
        .post(format!("{}{path}", server.base_url()))
        .header("X-Api-Key", server.api_key())
        .multipart(form);
    if accept_json {
        request = request.header(header::ACCEPT, "application/json");
    }
    request.send().await.expect("send")
}

/// Submits an image and returns its identifier.
async fn submit_image(
    server: &MockServer,
    name: &str,
    bytes: &[u8],
    fields: &[(&str, &str)],
) -> String {
    let form = form_with(
        Form::new().part("image", image_part(bytes, name, "image/png")),
        fields,
    );
    let response = post_form(server, "/api/classification", form, true).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    body["identifier"].as_str().expect("identifier").to_string()
}

/// Submits a video and returns its identifier.
async fn submit_video(server: &MockServer, bytes: &[u8], fields: &[(&str, &str)]) -> String {
    let part = image_part(bytes, "clip.mp4", "video/mp4");
    let form = form_with(Form::new().part("video", part), fields);
    let response = post_form(server, "/api/classification_video", form, false).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("text")
}

async fn get(server: &MockServer, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", server.base_url()))
        .header("X-Api-Key", server.api_key())
        .send()
        .await
        .expect("send")
}

async fn get_json(server: &MockServer, path: &str) -> (StatusCode, Value) {
    let response = get(server, path).await;
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        content_type.starts_with("application/json"),
        "{path}: {content_type}"
    );
    (status, response.json().await.expect("json body"))
}

/// Polls until the status is not `new`, returning the final body.
async fn poll_done(server: &MockServer, path: &str) -> Value {
    for _ in 0..10 {
        let (status, body) = get_json(server, path).await;
        assert_eq!(status, StatusCode::OK);
        let finished = body["status"] == "errored" || body.get("verdict").is_some();
        if finished {
            return body;
        }
    }
    panic!("{path} never completed");
}

#[test]
fn starts_and_stops_outside_any_runtime() {
    let server = MockServer::start();
    let addr = server.addr();
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"status":"ok"}"#), "{answer}");
    drop(server);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening after drop"
    );
}

#[tokio::test]
async fn health_needs_no_key_and_is_not_limited() {
    let server = MockServer::start_with(MockConfig::default().with_time_scale(100.0));
    for _ in 0..5 {
        let response = client()
            .get(format!("{}/api/health", server.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, serde_json::json!({ "status": "ok" }));
    }
    assert_eq!(server.stats().route(Route::Health), 5);
    assert_eq!(server.stats().rate_limited, 0);
}

#[tokio::test]
async fn image_upload_json_and_text_modes() {
    let server = server();
    let id = submit_image(&server, "photo.png", b"pixels", &[]).await;
    assert_eq!(id.len(), 64);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));

    let form = Form::new().part("image", image_part(b"pixels", "photo.png", "image/png"));
    let response = post_form(&server, "/api/classification", form, false).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    // Same media and options: the cached identifier.
    assert_eq!(response.text().await.unwrap(), id);

    // Accept lists with application/json somewhere also get JSON.
    let form = Form::new().part("image", image_part(b"pixels", "photo.png", "image/png"));
    let response = client()
        .post(format!("{}/api/classification", server.base_url()))
        .header("X-Api-Key", server.api_key())
        .header(header::ACCEPT, "text/html, application/json;q=0.9")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["identifier"], id.as_str());
    assert_eq!(server.stats().submissions, 3);
    assert_eq!(server.submission_count(), 1);
}

#[tokio::test]
async fn identifiers_depend_on_media_options_and_no_cache() {
    let server = server();
    let a = submit_image(&server, "a.png", b"one", &[]).await;
    let b = submit_image(&server, "b.png", b"two", &[]).await;
    let a_heat = submit_image(&server, "a.png", b"one", &[("with_heatmap", "true")]).await;
    let a_heat_1 = submit_image(&server, "a.png", b"one", &[("with_heatmap", "1")]).await;
    let fresh1 = submit_image(&server, "a.png", b"one", &[("no_cache", "true")]).await;
    let fresh2 = submit_image(&server, "a.png", b"one", &[("no_cache", "true")]).await;
    assert_ne!(a, b);
    assert_ne!(a, a_heat);
    assert_eq!(a_heat, a_heat_1, "booleans are normalised");
    assert_ne!(fresh1, fresh2);
    assert_ne!(fresh1, a);
}

#[tokio::test]
async fn image_from_url_json_and_text_modes() {
    let server = server();
    let form = Form::new().text("file_url", "https://example.com/pictures/cat.jpg");
    let response = post_form(&server, "/api/image_fromurl", form, true).await;
    assert_eq!(response.status(), StatusCode::OK);
    let id = response.json::<Value>().await.unwrap()["identifier"]
        .as_str()
        .unwrap()
        .to_string();

    let form = Form::new().text("file_url", "https://example.com/pictures/cat.jpg");
    let response = post_form(&server, "/api/image_fromurl", form, false).await;
    assert!(response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(response.text().await.unwrap(), id);

    let body = poll_done(&server, &format!("/api/classification/{id}")).await;
    let url_hash = hex::encode(Sha256::digest(b"https://example.com/pictures/cat.jpg"));
    assert_eq!(body["hash"], url_hash.as_str());
    assert_eq!(body["name"], "cat.jpg");
}

#[tokio::test]
async fn both_spellings_of_the_iframes_method_are_one_option() {
    // Older pages spell it `iframe`, newer ones `iframes`: the same method,
    // so the same file with either is the same (cached) classification.
    let server = server();
    let a = submit_video(&server, b"same-video", &[("key_frames_method", "iframes")]).await;
    let b = submit_video(&server, b"same-video", &[("key_frames_method", "iframe")]).await;
    assert_eq!(a, b);
    let c = submit_video(&server, b"same-video", &[("key_frames_method", "flow")]).await;
    assert_ne!(a, c);
}

#[tokio::test]
async fn video_upload_and_from_url() {
    let server = server();
    let id = submit_video(
        &server,
        b"video-bytes",
        &[("frames", "10"), ("key_frames_method", "flow")],
    )
    .await;
    assert_eq!(id.len(), 64);

    let form = Form::new()
        .text("file_url", "http://example.com/v/clip.mov")
        .text("frames", "30");
    let response = post_form(&server, "/api/video_fromurl", form, true).await;
    assert_eq!(response.status(), StatusCode::OK);
    let url_id = response.json::<Value>().await.unwrap()["identifier"]
        .as_str()
        .unwrap()
        .to_string();
    let form = Form::new()
        .text("file_url", "http://example.com/v/clip.mov")
        .text("frames", "30");
    let response = post_form(&server, "/api/video_fromurl", form, false).await;
    assert_eq!(response.text().await.unwrap(), url_id);

    let body = poll_done(&server, &format!("/api/classification_video/{id}")).await;
    assert_eq!(body["status"], "done");
    assert_eq!(body["api_version"], "1.1.0");
    let verdict = &body["verdict"];
    // The published shape: `count` frames counted, `unknown` a boolean.
    assert!(verdict["count"].as_u64().unwrap() <= 10);
    assert!(verdict["unknown"].is_boolean());
    // One full image-like result per analysed frame.
    let images = body["results"]["images"].as_array().expect("images");
    assert_eq!(images.len(), 10);
    for frame in images {
        for field in ["hash", "identifier", "name"] {
            assert!(frame[field].is_string(), "{field} in {frame}");
        }
        assert!(frame["verdict"]["classification"].is_string());
        assert!(!frame["verdicts"].as_array().unwrap().is_empty());
        for result in frame["results"].as_array().unwrap() {
            let labels: Vec<&str> = result["classification"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["label"].as_str().unwrap())
                .collect();
            assert_eq!(labels, ["human", "artificial"]);
        }
    }
    assert_eq!(body["results"]["audios"], serde_json::json!([]));

    // Kinds do not mix.
    let (status, body) = get_json(&server, &format!("/api/classification/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, serde_json::json!({ "error": "Not Found" }));
    let image = submit_image(&server, "x.png", b"x", &[]).await;
    let (status, _) = get_json(&server, &format!("/api/classification_video/{image}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn video_with_audio_reports_an_audio_result() {
    let server = server_with_polls(0);
    let id = submit_video(&server, b"v", &[("with_audio", "true"), ("with_nsfw", "1")]).await;
    let (_, body) = get_json(&server, &format!("/api/classification_video/{id}")).await;
    let audios = body["results"]["audios"].as_array().unwrap();
    assert_eq!(audios.len(), 1, "one audio result per track");
    assert!(audios[0]["verdict"]["classification"].is_string());
    assert!(!audios[0]["results"].as_array().unwrap().is_empty());
    assert_eq!(body["is_nsfw"], false);
    // Default frame count is 5.
    assert_eq!(body["results"]["images"].as_array().unwrap().len(), 5);
}

async fn assert_400(response: reqwest::Response, expected: Value) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(response.json::<Value>().await.unwrap(), expected);
}

#[tokio::test]
async fn validation_errors_use_the_service_shapes() {
    let server = MockServer::start_with(
        MockConfig::default()
            .with_rate_limits(None)
            .with_max_image_bytes(1024)
            .with_max_video_bytes(2 * 1024 * 1024),
    );
    use serde_json::json;

    // Missing files.
    let form = Form::new().text("ref_id", "r");
    assert_400(
        post_form(&server, "/api/classification", form, true).await,
        json!({ "image": ["The image field is required."] }),
    )
    .await;
    let form = Form::new().text("frames", "5");
    assert_400(
        post_form(&server, "/api/classification_video", form, true).await,
        json!({ "video": ["The video field is required."] }),
    )
    .await;
    let form = Form::new().text("ref_id", "r");
    assert_400(
        post_form(&server, "/api/image_fromurl", form, true).await,
        json!({ "error": "The file_url field is required." }),
    )
    .await;
    let form = Form::new().text("file_url", "ftp://example.com/a.mp4");
    assert_400(
        post_form(&server, "/api/video_fromurl", form, true).await,
        json!({ "error": "The file_url field must be a valid URL." }),
    )
    .await;

    // Not multipart at all: no fields.
    let response = client()
        .post(format!("{}/api/classification", server.base_url()))
        .header("X-Api-Key", server.api_key())
        .header(header::CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_400(
        response,
        json!({ "image": ["The image field is required."] }),
    )
    .await;

    // A part without a file name is not a file.
    let form = Form::new().part(
        "image",
        Part::bytes(b"abc".to_vec()).mime_str("image/png").unwrap(),
    );
    assert_400(
        post_form(&server, "/api/classification", form, true).await,
        json!({ "image": ["The image field must be a file."] }),
    )
    .await;

    // Wrong MIME types.
    let form = Form::new().part("image", image_part(b"abc", "a.bmp", "image/bmp"));
    assert_400(
        post_form(&server, "/api/classification", form, true).await,
        json!({ "error": "The uploaded file format is not supported." }),
    )
    .await;
    let form = Form::new().part("video", image_part(b"abc", "a.png", "image/png"));
    assert_400(
        post_form(&server, "/api/classification_video", form, true).await,
        json!({ "error": "The uploaded file format is not supported." }),
    )
    .await;

    // Enumerations and booleans.
    let form = Form::new()
        .part("video", image_part(b"abc", "a.mp4", "video/mp4"))
        .text("frames", "7");
    assert_400(
        post_form(&server, "/api/classification_video", form, true).await,
        json!({ "frames": ["The selected frames is invalid."] }),
    )
    .await;
    let form = Form::new()
        .text("file_url", "https://example.com/a.mp4")
        .text("key_frames_method", "magic")
        .text("with_audio", "maybe");
    assert_400(
        post_form(&server, "/api/video_fromurl", form, true).await,
        json!({
            "key_frames_method": ["The selected key frames method is invalid."],
            "with_audio": ["The with audio field must be true or false."],
        }),
    )
    .await;

    // Too large.
    let form = Form::new().part("image", image_part(&[7u8; 1025], "big.png", "image/png"));
    assert_400(
        post_form(&server, "/api/classification", form, true).await,
        json!({ "error": "The uploaded file exceeds the maximum allowed size of 1Kb." }),
    )
    .await;
    let form = Form::new().part(
        "video",
        image_part(&vec![7u8; 2 * 1024 * 1024 + 1], "big.mp4", "video/mp4"),
    );
    assert_400(
        post_form(&server, "/api/classification_video", form, true).await,
        json!({ "error": "The uploaded file exceeds the maximum allowed size of 2Mb." }),
    )
    .await;
    // Exactly at the limit is fine.
    let form = Form::new().part("image", image_part(&[7u8; 1024], "ok.png", "image/png"));
    assert_eq!(
        post_form(&server, "/api/classification", form, true)
            .await
            .status(),
        StatusCode::OK
    );

    // A broken multipart body.
    let response = client()
        .post(format!("{}/api/classification", server.base_url()))
        .header("X-Api-Key", server.api_key())
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\nabc")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].is_string());

    assert_eq!(server.stats().submissions, 1);
    assert_eq!(server.stats().status(400), 13);
}

#[tokio::test]
async fn default_limits_are_worded_like_the_service() {
    // Only the wording: a 51 MB upload is not worth it here.
    let server = MockServer::start_with(
        MockConfig::default()
            .with_rate_limits(None)
            .with_max_video_bytes(5 * 1024 * 1024 * 1024)
            .with_max_image_bytes(16),
    );
    let form = Form::new().part("image", image_part(&[0u8; 17], "a.png", "image/png"));
    let response = post_form(&server, "/api/classification", form, true).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"],
        "The uploaded file exceeds the maximum allowed size of 16 bytes."
    );
}

#[tokio::test]
async fn image_goes_from_new_to_done_after_n_polls() {
    let server = server_with_polls(2);
    let id = submit_image(
        &server,
        "fake-portrait.jpg",
        b"abc",
        &[
            ("with_heatmap", "true"),
            ("with_nsfw", "true"),
            ("ref_id", "order-17"),
        ],
    )
    .await;
    let path = format!("/api/classification/{id}");
    for _ in 0..2 {
        let (status, body) = get_json(&server, &path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "new");
        assert_eq!(body["identifier"], id.as_str());
        assert!(body["api_version"].is_null());
        assert!(body.get("api_version").is_some());
        assert!(body.get("verdict").is_none());
        assert!(body.get("results").is_none());
        assert_eq!(body["name"], "fake-portrait.jpg");
        assert_eq!(body["hash"], hex::encode(Sha256::digest(b"abc")).as_str());
    }
    let (_, body) = get_json(&server, &path).await;
    assert_eq!(body["status"], "done");
    assert_eq!(body["api_version"], "1.1.0");
    assert_eq!(body["ref_id"], "order-17");
    assert_eq!(body["has_heatmap"], true);
    assert_eq!(body["is_nsfw"], false);
    assert!(body["c2pa"].is_null());
    assert_eq!(body["details"], serde_json::json!([]));
    assert!(body["result_url"].as_str().unwrap().starts_with("http"));
    let verdict = &body["verdict"];
    assert_eq!(verdict["heuristic"], "Majority");
    assert_eq!(verdict["classification"], "artificial");
    let confidence = verdict["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence));
    assert!(body["verdicts"].as_array().unwrap().len() >= 2);
    let results = body["results"].as_array().unwrap();
    assert!((2..=3).contains(&results.len()));
    for result in results {
        assert!(result["model"].is_string());
        assert_eq!(result["unknown"], false);
        assert!(result["elapsed_time"].is_number());
        let classification = result["classification"].as_array().unwrap();
        assert_eq!(classification[0]["label"], "human");
        assert_eq!(classification[1]["label"], "artificial");
        let sum = classification[0]["score"].as_f64().unwrap()
            + classification[1]["score"].as_f64().unwrap();
        assert!((sum - 1.0).abs() < 1e-3);
    }
    // Done stays done, with the same verdict.
    let (_, again) = get_json(&server, &path).await;
    assert_eq!(again["verdict"], body["verdict"]);
}

/// A server without rate limits whose results take 10-20 s at `scale`.
fn server_with_processing(scale: f64) -> MockServer {
    MockServer::start_with(
        MockConfig::default()
            .with_rate_limits(None)
            .with_processing_time(Duration::from_secs(10), Duration::from_secs(20))
            .with_time_scale(scale),
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn processing_time_makes_a_result_new_before_its_time_and_done_after() {
    let scale = 0.02;
    let server = server_with_processing(scale);
    let bytes = b"timed";
    let id = submit_image(&server, "timed.png", bytes, &[("ref_id", "mock:errored")]).await;
    let accepted = server.accepted_at(&id).expect("accepted");
    let took = server
        .config()
        .processing_time_of(&sha256_hex(bytes))
        .expect("a processing time");
    assert!((Duration::from_secs(10)..Duration::from_secs(20)).contains(&took));
    let ready = accepted + took.mul_f64(scale);
    let path = format!("/api/classification/{id}");
    let (mut new, mut finished) = (0, 0);
    loop {
        let sent = std::time::Instant::now();
        let (_, body) = get_json(&server, &path).await;
        let received = std::time::Instant::now();
        // Polls do not hurry it: `new` as long as its time has not come.
        if received < ready {
            assert_eq!(body["status"], "new", "{body}");
            assert_eq!(server.done_at(&id), None);
            new += 1;
        }
        if sent >= ready {
            assert_eq!(body["status"], "errored", "{body}");
            finished += 1;
            if finished == 2 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(new >= 2, "polled {new} times before its time");
    assert_eq!(server.done_at(&id), Some(ready));
    // Told by the first answer sent after its time.
    let told = server.told_at(&id).expect("told");
    assert!(ready <= told && told < std::time::Instant::now());
}

#[tokio::test]
async fn processing_times_are_fixed_by_the_hash() {
    let scale = 0.02;
    let (one, two) = (server_with_processing(scale), server_with_processing(scale));
    // The same bytes, under another name and uncached, on another server.
    let a1 = submit_image(&one, "a.png", b"same", &[]).await;
    let a2 = submit_image(&two, "other-name.png", b"same", &[("no_cache", "true")]).await;
    let b1 = submit_image(&one, "b.png", b"different", &[]).await;
    let scheduled = |bytes: &[u8]| {
        one.config()
            .processing_time_of(&sha256_hex(bytes))
            .unwrap()
            .mul_f64(scale)
    };
    for (server, id, bytes) in [
        (&one, &a1, &b"same"[..]),
        (&two, &a2, b"same"),
        (&one, &b1, b"different"),
    ] {
        let accepted = server.accepted_at(id).unwrap();
        let done = loop {
            if let Some(done) = server.done_at(id) {
                break done;
            }
            assert!(
                accepted.elapsed() < Duration::from_secs(5),
                "{id} never finished"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        assert_eq!(done - accepted, scheduled(bytes), "{id}");
    }
    assert_ne!(scheduled(b"same"), scheduled(b"different"));
    // Other files take other times, spread over the range.
    let times: std::collections::BTreeSet<Duration> = (0..50u32)
        .map(|i| {
            one.config()
                .processing_time_of(&sha256_hex(&i.to_be_bytes()))
                .unwrap()
        })
        .collect();
    assert_eq!(times.len(), 50);
    let range = Duration::from_secs(10)..Duration::from_secs(20);
    assert!(times.iter().all(|t| range.contains(t)));
    assert!(*times.first().unwrap() < Duration::from_secs(12));
    assert!(*times.last().unwrap() > Duration::from_secs(18));
    // Without a processing time there is none.
    assert_eq!(
        MockConfig::default().processing_time_of(&sha256_hex(b"same")),
        None
    );
}

#[tokio::test]
async fn done_at_by_polls_is_the_poll_after_which_it_is_done() {
    let server = server_with_polls(2);
    let id = submit_image(&server, "p.png", b"polled", &[]).await;
    let accepted = server.accepted_at(&id).unwrap();
    let path = format!("/api/classification/{id}");
    let (_, body) = get_json(&server, &path).await;
    assert_eq!(body["status"], "new");
    assert_eq!(server.done_at(&id), None);
    let before = std::time::Instant::now();
    let (_, body) = get_json(&server, &path).await;
    let after = std::time::Instant::now();
    assert_eq!(body["status"], "new");
    let done = server.done_at(&id).expect("done after its last `new`");
    assert!(before <= done && done <= after && accepted < done);
    assert_eq!(server.told_at(&id), None);
    let before = std::time::Instant::now();
    let (_, body) = get_json(&server, &path).await;
    assert_eq!(body["status"], "done");
    assert_eq!(server.done_at(&id), Some(done), "the first time only");
    let told = server.told_at(&id).expect("told");
    assert!(before <= told && told <= std::time::Instant::now());
    let (_, _) = get_json(&server, &path).await;
    assert_eq!(server.told_at(&id), Some(told), "the first time only");

    let at_once = server_with_polls(0);
    let id = submit_image(&at_once, "p.png", b"polled", &[]).await;
    assert_eq!(at_once.done_at(&id), at_once.accepted_at(&id));
    assert_eq!(at_once.accepted_at("unknown"), None);
}

#[tokio::test]
async fn verdicts_follow_the_documented_rules() {
    let server = server_with_polls(0);
    let verdict_of = |id: String| {
        let server = &server;
        async move {
            let (_, body) = get_json(server, &format!("/api/classification/{id}")).await;
            body["verdict"]["classification"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let ai = submit_image(&server, "MidjourneyAI.png", b"1", &[]).await;
    assert_eq!(verdict_of(ai).await, "artificial");
    let forced_human = submit_image(&server, "fake.png", b"2", &[("ref_id", "x mock:human")]).await;
    assert_eq!(verdict_of(forced_human).await, "human");
    let forced_ai =
        submit_image(&server, "photo.png", b"3", &[("ref_id", "mock:artificial")]).await;
    assert_eq!(verdict_of(forced_ai).await, "artificial");
    // Otherwise the parity of the first byte of the file's hash.
    for content in [b"p1".as_slice(), b"p2", b"p3", b"p4"] {
        let expected = if Sha256::digest(content)[0] % 2 == 1 {
            "artificial"
        } else {
            "human"
        };
        let id = submit_image(&server, "photo.png", content, &[]).await;
        assert_eq!(verdict_of(id).await, expected);
    }
}

#[tokio::test]
async fn errored_submissions() {
    let server = server_with_polls(1);
    let id = submit_image(
        &server,
        "x.png",
        b"e",
        &[("ref_id", "mock:errored"), ("with_heatmap", "true")],
    )
    .await;
    let path = format!("/api/classification/{id}");
    let (_, first) = get_json(&server, &path).await;
    assert_eq!(first["status"], "new");
    let (status, body) = get_json(&server, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "errored");
    assert_eq!(body["errors"], "The media could not be processed (mock)");
    assert!(body.get("verdict").is_none());
    let heatmap = get(&server, &format!("/api/classification/heatmap/{id}")).await;
    assert_eq!(heatmap.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn pre_1_1_shape() {
    let server = server_with_polls(1);
    let id = submit_image(&server, "x.png", b"old", &[("ref_id", "mock:pre-1.1")]).await;
    let path = format!("/api/classification/{id}");
    let (_, pending) = get_json(&server, &path).await;
    assert!(pending.get("status").is_none());
    assert!(pending.get("api_version").is_none());
    assert!(pending.get("verdict").is_none());
    assert_eq!(pending["identifier"], id.as_str());
    let (_, done) = get_json(&server, &path).await;
    assert!(done.get("status").is_none());
    assert!(done.get("api_version").is_none());
    assert!(done["verdict"]["classification"].is_string());
    assert!(done["results"].is_array());
}

#[tokio::test]
async fn alias_paths_agree() {
    let server = server_with_polls(0);
    let id = submit_image(&server, "x.png", b"alias", &[("with_heatmap", "true")]).await;
    let (_, a) = get_json(&server, &format!("/api/classification/{id}")).await;
    let (_, b) = get_json(&server, &format!("/api/classification_image/{id}")).await;
    assert_eq!(a, b);
    let ha = get(&server, &format!("/api/classification/heatmap/{id}"))
        .await
        .bytes()
        .await
        .unwrap();
    let hb = get(&server, &format!("/api/classification_image/heatmap/{id}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(ha, hb);
    let ids = format!("identifiers[]={id}");
    let (_, la) = get_json(&server, &format!("/api/classifications?{ids}")).await;
    let (_, lb) = get_json(&server, &format!("/api/classifications_image?{ids}")).await;
    assert_eq!(la, lb);
    assert_eq!(la[0], a);
    let stats = server.stats();
    assert_eq!(stats.route(Route::GetImageClassification), 2);
    assert_eq!(stats.route(Route::GetImageHeatmap), 2);
    assert_eq!(stats.route(Route::ListClassifications), 2);
}

#[tokio::test]
async fn list_endpoint() {
    let server = server_with_polls(1);
    let a = submit_image(&server, "a.png", b"a", &[]).await;
    let b = submit_image(&server, "b.png", b"b", &[]).await;
    let video = submit_video(&server, b"v", &[]).await;

    // Percent-encoded names, as most clients send them.
    let query = format!("identifiers%5B%5D={a}&identifiers%5B%5D=unknown&identifiers%5B%5D={b}&identifiers%5B%5D={video}");
    let (status, list) = get_json(&server, &format!("/api/classifications?{query}")).await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["identifier"], a.as_str());
    assert_eq!(list[1]["identifier"], b.as_str());
    assert_eq!(list[0]["status"], "new");
    // Each listing counted as a poll.
    let (_, list) = get_json(&server, &format!("/api/classifications?identifiers[]={a}")).await;
    assert_eq!(list[0]["status"], "done");

    let too_many: String = (0..101).map(|i| format!("identifiers[]=id{i}&")).collect();
    let (status, body) = get_json(&server, &format!("/api/classifications?{too_many}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        serde_json::json!({ "identifiers": ["The identifiers field must have between 1 and 100 items."] })
    );
    let (status, body) = get_json(&server, "/api/classifications").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["identifiers"].is_array());
    let exactly_100: String = (0..100).map(|i| format!("identifiers[]=id{i}&")).collect();
    let (status, body) = get_json(&server, &format!("/api/classifications?{exactly_100}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::json!([]));
}

#[tokio::test]
async fn heatmap_png_or_no_content() {
    let server = server_with_polls(1);
    let with = submit_image(&server, "h.png", b"heat", &[("with_heatmap", "true")]).await;
    let without = submit_image(&server, "h.png", b"heat", &[]).await;

    // Not done yet.
    assert_eq!(
        get(&server, &format!("/api/classification/heatmap/{with}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let _ = get_json(&server, &format!("/api/classification/{with}")).await;
    let response = get(&server, &format!("/api/classification/heatmap/{with}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "image/png");
    let png = response.bytes().await.unwrap();
    assert_eq!(&png[..8], PNG_SIGNATURE);
    assert_eq!(&png[12..16], b"IHDR");
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 64);
    // The picture of this file: the same for every request of it.
    let hash = hex::encode(Sha256::digest(b"heat"));
    assert_eq!(
        png.as_ref(),
        identifai::mock::heatmap_png_for(&hash).as_slice()
    );

    let _ = get_json(&server, &format!("/api/classification/{without}")).await;
    let response = get(&server, &format!("/api/classification/heatmap/{without}")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());

    let (status, body) = get_json(&server, "/api/classification/heatmap/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, serde_json::json!({ "error": "Not Found" }));
}

#[tokio::test]
async fn authentication() {
    let server = server();
    let url = format!("{}/api/classification/whatever", server.base_url());
    let cases = [
        (
            None,
            StatusCode::UNAUTHORIZED,
            serde_json::json!({ "error": "Unauthorized" }),
        ),
        (
            Some("wrong"),
            StatusCode::UNAUTHORIZED,
            serde_json::json!({ "error": "Unauthorized" }),
        ),
        (
            Some("mock-forbidden-key"),
            StatusCode::FORBIDDEN,
            serde_json::json!({ "error": "Forbidden" }),
        ),
        (
            Some("mock-api-key"),
            StatusCode::NOT_FOUND,
            serde_json::json!({ "error": "Not Found" }),
        ),
    ];
    for (key, status, body) in cases {
        let mut request = client().get(&url);
        if let Some(key) = key {
            request = request.header("X-Api-Key", key);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{key:?}");
        assert_eq!(response.json::<Value>().await.unwrap(), body);
    }
    // Submissions too, without reading the upload.
    let form = Form::new().part("image", image_part(b"x", "x.png", "image/png"));
    let response = client()
        .post(format!("{}/api/classification", server.base_url()))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(server.stats().bytes_received, 0);
    assert_eq!(server.stats().submissions, 0);
}

#[tokio::test]
async fn rate_limits_with_a_compressed_clock() {
    let server = MockServer::start_with(MockConfig::default().with_time_scale(0.01));
    let window = Duration::from_millis(10); // 1 s scaled by 0.01
    let client = client();
    let post = |i: usize| {
        let form = Form::new().part(
            "image",
            image_part(format!("img{i}").as_bytes(), "r.png", "image/png"),
        );
        client
            .post(format!("{}/api/classification", server.base_url()))
            .header("X-Api-Key", server.api_key())
            .header(header::ACCEPT, "application/json")
            .multipart(form)
            .send()
    };
    // The second POST must land inside the 10 ms window; on a loaded
    // machine an attempt may be too slow to prove anything, so retry.
    for attempt in 0..20 {
        server.reset_rate_limits();
        server.reset_stats();
        tokio::time::sleep(window * 2).await;
        let started = std::time::Instant::now();
        let first = post(0).await.unwrap();
        let second = post(1).await.unwrap();
        let fast = started.elapsed() < window;
        let third = post(2).await.unwrap();
        if !fast {
            eprintln!(
                "attempt {attempt} too slow to judge: {:?}",
                started.elapsed()
            );
            continue;
        }
        assert_eq!(first.status(), StatusCode::OK);
        assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
        // The scaled wait is under 10 ms: Retry-After rounds up to 1 s.
        assert_eq!(second.headers()[header::RETRY_AFTER], "1");
        assert_eq!(second.headers()["x-ratelimit-remaining"], "0");
        let body: Value = second.json().await.unwrap();
        assert_eq!(body, serde_json::json!({ "message": "Too Many Attempts." }));
        let third_ok = third.status() == StatusCode::OK;

        // After the (scaled) second has passed, POSTs go through again.
        tokio::time::sleep(window * 3).await;
        let later = post(3).await.unwrap();
        assert_eq!(later.status(), StatusCode::OK);
        let stats = server.stats();
        assert!(stats.rate_limited >= 1);
        assert_eq!(stats.rate_limited, stats.status(429));
        // A rejected upload is not read.
        assert_eq!(stats.bytes_received, 4 + 4 * u64::from(third_ok) + 4);
        return;
    }
    panic!("no attempt was fast enough to test the 10 ms window");
}

#[tokio::test]
async fn get_limits_and_retry_after_switch() {
    let server = MockServer::start_with(
        MockConfig::default()
            .with_retry_after(false)
            .with_rate_limits(Some(
                RateLimits::PUBLISHED
                    .with_gets_per_second(2)
                    .with_gets_per_minute(3),
            ))
            .with_time_scale(0.05),
    );
    let window = Duration::from_millis(50); // 1 s scaled by 0.05
    for attempt in 0..20 {
        server.reset_rate_limits();
        let started = std::time::Instant::now();
        let mut statuses = Vec::new();
        for _ in 0..3 {
            let response = get(&server, "/api/classification/x").await;
            statuses.push(response.status().as_u16());
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                assert!(response.headers().get(header::RETRY_AFTER).is_none());
            }
        }
        if started.elapsed() >= window {
            eprintln!(
                "attempt {attempt} too slow to judge: {:?}",
                started.elapsed()
            );
            continue;
        }
        assert_eq!(statuses, [404, 404, 429]);
        // The per-second window clears; the per-minute one (3 in 3 s) does not.
        tokio::time::sleep(window + Duration::from_millis(20)).await;
        assert_eq!(
            get(&server, "/api/classification/x").await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get(&server, "/api/classification/x").await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        server.reset_rate_limits();
        assert_eq!(
            get(&server, "/api/classification/x").await.status(),
            StatusCode::NOT_FOUND
        );
        return;
    }
    panic!("no attempt was fast enough to test the 50 ms window");
}

#[tokio::test]
async fn fault_injection() {
    let server = server();
    server.inject(Route::ClassifyImage, Fault::server_error());
    server.inject(Route::GetImageClassification, Fault::bad_gateway_html());
    server.inject(Route::Any, Fault::service_unavailable(Some(7)));

    // The Any fault is first in line for the health check.
    let response = client()
        .get(format!("{}/api/health", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[header::RETRY_AFTER], "7");

    let form = Form::new().part("image", image_part(b"f", "f.png", "image/png"));
    let response = post_form(&server, "/api/classification", form, true).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        response.json::<Value>().await.unwrap()["message"],
        "Server Error"
    );
    // Consumed: the next one is handled normally.
    let id = submit_image(&server, "f.png", b"f", &[]).await;

    let response = get(&server, &format!("/api/classification/{id}")).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/html");
    assert!(response.text().await.unwrap().contains("502 Bad Gateway"));

    // Truncated JSON, wrong content type.
    server.inject(Route::GetImageClassification, Fault::truncated_json());
    server.inject(Route::GetImageClassification, Fault::wrong_content_type());
    let response = get(&server, &format!("/api/classification/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.json::<Value>().await.is_err());
    let response = get(&server, &format!("/api/classification/{id}")).await;
    assert!(response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));

    // A redirect.
    let target = format!("{}/api/classification_image/{id}", server.base_url());
    server.inject(
        Route::GetImageClassification,
        Fault::redirect(target.clone()),
    );
    let response = get(&server, &format!("/api/classification/{id}")).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(response.headers()[header::LOCATION], target.as_str());

    // A custom fault with a delay and a header, then a dropped connection.
    server.inject(
        Route::ListClassifications,
        Fault::new(418, "application/json", r#"{"error":"teapot"}"#)
            .with_header("X-Mock", "yes")
            .with_delay(Duration::from_millis(20)),
    );
    let started = std::time::Instant::now();
    let response = get(&server, "/api/classifications?identifiers[]=x").await;
    assert!(started.elapsed() >= Duration::from_millis(20));
    assert_eq!(response.status().as_u16(), 418);
    assert_eq!(response.headers()["x-mock"], "yes");
    server.inject(Route::GetVideoClassification, Fault::disconnect());
    let outcome = client()
        .get(format!("{}/api/classification_video/x", server.base_url()))
        .header("X-Api-Key", server.api_key())
        .send()
        .await;
    match outcome {
        Ok(response) => assert!(
            response.bytes().await.is_err(),
            "a cut-off body is an error"
        ),
        Err(err) => assert!(!err.is_status(), "{err}"),
    }

    assert_eq!(server.pending_faults(), 0);
    server.inject_times(Route::GetImageHeatmap, Fault::too_many_attempts(Some(2)), 2);
    assert_eq!(server.pending_faults(), 2);
    server.clear_faults();
    assert_eq!(server.pending_faults(), 0);
    let stats = server.stats();
    assert_eq!(stats.faults_served, 8);
    assert_eq!(stats.submissions, 1);
    assert_eq!(stats.status(500), 1);
}

/// A fault's `Retry-After` and delay run on the server's clock: at
/// `time_scale` 0.01 a `Retry-After` of 60 s is 0.6 s, which a client whose
/// retry budget is 5 s waits for (at real time it would give up at once),
/// and a 60 s delay is 0.6 s, inside a 5 s request timeout.
#[tokio::test]
async fn injected_faults_run_on_the_servers_clock() {
    let server = MockServer::start_with(
        MockConfig::default()
            .with_rate_limits(None)
            .with_polls_until_done(0)
            .with_time_scale(0.01),
    );
    server.inject(Route::Health, Fault::service_unavailable(Some(7)));
    server.inject(Route::Health, Fault::too_many_attempts(Some(0)));
    server.inject(
        Route::Health,
        Fault::service_unavailable(None).with_header("Retry-After", "3"),
    );
    let url = format!("{}/api/health", server.base_url());
    let retry_after = |r: &reqwest::Response| r.headers()[header::RETRY_AFTER].clone();
    let response = client().get(&url).send().await.unwrap();
    assert_eq!(retry_after(&response), "0.07", "7 s at 0.01");
    let response = client().get(&url).send().await.unwrap();
    assert_eq!(retry_after(&response), "0", "zero stays zero");
    let response = client().get(&url).send().await.unwrap();
    assert_eq!(
        retry_after(&response),
        "3",
        "a header of its own is sent as written"
    );

    let client = server
        .client_builder()
        .request_timeout(Duration::from_secs(5))
        .retry(identifai::config::RetryConfig::default().with_max_elapsed(Duration::from_secs(5)))
        .build()
        .unwrap();
    let id = client
        .classify_image(identifai::Source::bytes(
            "clock.png",
            crate::support::png(90),
        ))
        .send()
        .await
        .unwrap();
    server.inject(
        Route::GetImageClassification,
        Fault::service_unavailable(Some(60)),
    );
    server.inject(
        Route::GetImageClassification,
        Fault::server_error().with_delay(Duration::from_secs(60)),
    );
    let result = client.result(&id).await;
    assert!(
        matches!(&result, Err(identifai::Error::Server { status: 500, .. })),
        "the 503's Retry-After is waited for within the budget, then the delayed 500 \
         arrives within the request timeout: {result:?}"
    );
    client.result(&id).await.unwrap();
    assert_eq!(server.stats().faults_served, 5);
}

#[tokio::test]
async fn stats_and_recorded_requests() {
    let server = server();
    let _ = submit_image(&server, "s.png", b"stats", &[]).await;
    let _ = get(&server, "/api/classification/unknown?x=1").await;
    let _ = client()
        .delete(format!("{}/api/classification", server.base_url()))
        .send()
        .await
        .unwrap();
    let response = get(&server, "/api/nothing/here").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "Not Found"
    );

    let stats = server.stats();
    assert_eq!(stats.requests, 4);
    assert_eq!(stats.posts, 1);
    assert_eq!(stats.gets, 2);
    assert_eq!(stats.route(Route::ClassifyImage), 1);
    assert_eq!(stats.route(Route::GetImageClassification), 1);
    assert_eq!(stats.route(Route::Any), 2);
    assert_eq!(stats.status(405), 1);
    assert_eq!(stats.bytes_received, 5);

    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/api/classification");
    assert_eq!(requests[0].status, 200);
    assert_eq!(requests[0].route, Some(Route::ClassifyImage));
    assert_eq!(requests[0].header("x-api-key"), Some("<redacted>"));
    assert_eq!(requests[1].query.as_deref(), Some("x=1"));
    assert_eq!(requests[1].status, 404);
    assert!(requests
        .iter()
        .all(|r| r.headers.iter().all(|(_, v)| !v.contains(server.api_key()))));

    server.reset_stats();
    assert_eq!(server.stats(), identifai::mock::MockStats::default());
    assert!(server.requests().is_empty());
    assert_eq!(server.submission_count(), 1);
}

#[tokio::test]
async fn streams_a_large_upload_without_buffering_it() {
    const TOTAL: u64 = 100 * 1024 * 1024;
    const CHUNK: usize = 256 * 1024;
    let server = server_with_polls(0);
    let peak_before = peak_rss_kib();

    // Chunk `i` is a fixed pattern stamped with its index, made on demand.
    let base: Vec<u8> = (0..CHUNK).map(|j| (j % 251) as u8).collect();
    let make_chunk = move |i: usize| {
        let mut chunk = base.clone();
        chunk[..8].copy_from_slice(&(i as u64).to_le_bytes());
        bytes::Bytes::from(chunk)
    };
    let chunks = (TOTAL as usize) / CHUNK;
    let generator = make_chunk.clone();
    let stream =
        futures::stream::iter((0..chunks).map(move |i| Ok::<_, std::io::Error>(generator(i))));
    // The expected hash is computed on the other core meanwhile.
    let expected = tokio::task::spawn_blocking(move || {
        let mut expected = Sha256::new();
        for i in 0..chunks {
            expected.update(make_chunk(i));
        }
        hex::encode(expected.finalize())
    });

    let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), TOTAL)
        .file_name("big.mp4")
        .mime_str("video/mp4")
        .unwrap();
    let form = Form::new().part("video", part).text("frames", "5");
    let response = post_form(&server, "/api/classification_video", form, true).await;
    assert_eq!(response.status(), StatusCode::OK);
    let id = response.json::<Value>().await.unwrap()["identifier"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(server.stats().bytes_received, TOTAL);

    let (_, body) = get_json(&server, &format!("/api/classification_video/{id}")).await;
    let expected = expected.await.unwrap();
    assert_eq!(body["hash"], expected.as_str());
    assert_eq!(body["name"], "big.mp4");

    if let (Some(before), Some(after)) = (peak_before, peak_rss_kib()) {
        let grown_mib = (after.saturating_sub(before)) / 1024;
        assert!(grown_mib < 64, "peak RSS grew by {grown_mib} MiB");
    }
}

/// Peak resident set size of this process (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn odd_requests_get_json_errors() {
    let server = server();
    // Invalid UTF-8 in the identifier.
    let (status, body) = get_json(&server, "/api/classification/%FF%FE").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "Not Found");
    // HEAD is authenticated like GET.
    let response = client()
        .head(format!("{}/api/classification/x", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // Wrong method.
    let response = client()
        .put(format!("{}/api/health", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "Method Not Allowed"
    );
    // `identifiers` as a plain value rather than an array.
    let (status, body) = get_json(&server, "/api/classifications?identifiers=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        serde_json::json!({ "identifiers": ["The identifiers field must be an array."] })
    );
    // Multipart without a boundary: no fields.
    let response = client()
        .post(format!("{}/api/classification_video", server.base_url()))
        .header("X-Api-Key", server.api_key())
        .header(header::CONTENT_TYPE, "multipart/form-data")
        .body("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        serde_json::json!({ "video": ["The video field is required."] })
    );
}

#[tokio::test]
async fn concurrent_clients() {
    let server = server_with_polls(0);
    let id = submit_image(&server, "c.png", b"concurrent", &[]).await;
    let shared = Client::new();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let url = format!("{}/api/classification/{id}", server.base_url());
            let key = server.api_key().to_string();
            let client = shared.clone();
            tokio::spawn(async move {
                let response = client
                    .get(url)
                    .header("X-Api-Key", key)
                    .send()
                    .await
                    .unwrap();
                response.status()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(server.stats().route(Route::GetImageClassification), 32);
}

#[tokio::test]
async fn drop_is_prompt_with_idle_keep_alive_connections() {
    let server = server();
    let client = Client::new();
    let response = client
        .get(format!("{}/api/health", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let _ = response.bytes().await.unwrap();
    let started = std::time::Instant::now();
    drop(server);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    drop(client);
}

#[test]
fn server_handle_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<MockServer>();
    assert_send_sync::<Fault>();
    assert_send_sync::<MockConfig>();
}

// ---------------------------------------------------------------- overrides

#[tokio::test]
async fn overrides_change_force_classification_of_later_answers() {
    use identifai::api::types::Classification;
    use identifai::{Kind, Source};
    let server = server_with_polls(0);
    let client = server.client_builder().build().unwrap();
    let wav = {
        let mut v = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data\0\0\0\0".to_vec();
        v.extend_from_slice(&[3u8; 200]);
        v
    };
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01 override".to_vec();
    let mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom override".to_vec();
    let image = client
        .classify_image(Source::bytes("o.png", png))
        .wait()
        .await
        .unwrap();
    let video = client
        .classify_video(Source::bytes("o.mp4", mp4))
        .wait()
        .await
        .unwrap();
    let audio = client
        .classify_audio(Source::bytes("o.wav", wav))
        .wait()
        .await
        .unwrap();
    assert!(image.force_classification.is_none());
    assert!(video.force_classification.is_none());
    assert!(audio.force_classification.is_none());

    for (kind, hash, id, c) in [
        (
            Kind::Image,
            image.hash.clone().unwrap(),
            image.identifier.clone().unwrap(),
            Classification::Artificial,
        ),
        (
            Kind::Video,
            video.hash.clone().unwrap(),
            video.identifier.clone().unwrap(),
            Classification::Human,
        ),
        (
            Kind::Audio,
            audio.hash.clone().unwrap(),
            audio.identifier.clone().unwrap(),
            Classification::Artificial,
        ),
    ] {
        let answer = client
            .override_classification(kind, &hash, c.clone())
            .await
            .unwrap()
            .expect("the mock answers 200 with the override by default");
        assert_eq!(answer.classification, c);
        assert_eq!(answer.hash, hash);
        assert_eq!(answer.type_.as_str(), kind.as_str());
        let later = client.result(&id.parse().unwrap()).await.unwrap();
        assert_eq!(later.kind(), kind);
        assert_eq!(
            later.raw_value()["force_classification"],
            c.as_str(),
            "{kind}: later answers carry the override"
        );
        let typed = match &later {
            identifai::AnyResult::Image(r) => r.force_classification.clone(),
            identifai::AnyResult::Video(r) => r.force_classification.clone(),
            identifai::AnyResult::Audio(r) => r.force_classification.clone(),
            _ => unreachable!(),
        };
        assert_eq!(typed.map(|f| f.to_string()), Some(c.to_string()));
    }
    // Per kind: the video's hash is no image's.
    let err = client
        .override_classification(
            Kind::Image,
            video.hash.as_deref().unwrap(),
            Classification::Human,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, identifai::Error::NotFound { .. }), "{err:?}");
    // Not a hash at all: refused before sending.
    let posts = server.stats().posts;
    let err = client
        .override_classification(Kind::Audio, "../etc/passwd", Classification::Human)
        .await
        .unwrap_err();
    assert!(matches!(err, identifai::Error::InvalidInput(_)), "{err:?}");
    assert_eq!(server.stats().posts, posts);
    assert_eq!(server.stats().route(Route::OverrideClassification), 4);
}

#[tokio::test]
async fn override_route_validates_its_json_body() {
    let server = server_with_polls(0);
    let id = submit_image(&server, "v.png", b"\x89PNG\r\n\x1a\nvalidate", &[]).await;
    let (_, body) = get_json(&server, &format!("/api/classification/{id}")).await;
    let hash = body["hash"].as_str().unwrap().to_string();
    let post = |json: &'static str| {
        client()
            .post(format!(
                "{}/api/classification/{hash}/override",
                server.base_url()
            ))
            .header("x-api-key", server.api_key())
            .header(header::CONTENT_TYPE, "application/json")
            .body(json)
            .send()
    };
    // Laravel's validation answer: 422, a summary and the field's messages.
    let r = post(r#"{"classification":"robot"}"#).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v,
        serde_json::json!({"message": "The selected classification is invalid.",
            "errors": {"classification": ["The selected classification is invalid."]}})
    );
    let r = post("{}").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = post(r#"{"classification":"human"}"#).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v,
        serde_json::json!({"classification":"human","type":"image","hash":hash})
    );
}

// ------------------------------------------------------------------ quirks

#[tokio::test]
async fn quirks_mode_writes_empty_maps_as_arrays_booleans_as_integers_and_adds_unknown_fields() {
    let server = MockServer::start_with(
        MockConfig::default()
            .with_rate_limits(None)
            .with_polls_until_done(1)
            .with_quirks(true),
    );
    let id = submit_video(&server, b"q", &[("frames", "5"), ("with_audio", "true")]).await;
    let (_, pending) = get_json(&server, &format!("/api/classification_video/{id}")).await;
    assert_eq!(pending["status"], "new");
    assert_eq!(pending["results"], serde_json::json!([]), "PHP's empty map");
    let (_, done) = get_json(&server, &format!("/api/classification_video/{id}")).await;
    assert_eq!(done["status"], "done");
    assert!(done["mock_extra"].is_object(), "top level");
    assert_eq!(
        done["verdict"]["mock_extra"]["weight"], 1,
        "inside a verdict"
    );
    let frames = done["results"]["images"].as_array().unwrap();
    assert!(
        frames.iter().all(|f| f["mock_node"].is_string()),
        "inside a frame"
    );
    assert_eq!(done["results"]["audios"][0]["mock_node"], "audios-node-0");
    // No `{}` anywhere: every empty map is `[]`.
    assert!(!done.to_string().contains("{}"), "{done}");
    // No boolean anywhere: every one is PHP's 0 or 1.
    fn booleans(v: &Value) -> usize {
        match v {
            Value::Bool(_) => 1,
            Value::Array(items) => items.iter().map(booleans).sum(),
            Value::Object(map) => map.values().map(booleans).sum(),
            _ => 0,
        }
    }
    assert_eq!(booleans(&done), 0, "{done}");
    let unknown = &done["results"]["images"][0]["results"][0]["unknown"];
    assert!(*unknown == 0 || *unknown == 1, "{unknown}");

    // The client decodes both, and keeps every unknown field.
    let client = server.client_builder().build().unwrap();
    let r = client.video_result(&id.parse().unwrap()).await.unwrap();
    assert_eq!(r.status, Some(identifai::api::types::Status::Done));
    let Some(identifai::api::types::VideoResultsImages::FrameResults(frames)) =
        r.results.as_ref().and_then(|x| x.images.as_ref())
    else {
        panic!("frames: {r:?}")
    };
    assert_eq!(
        frames[0].results[0].unknown,
        Some(*unknown == 1),
        "{unknown}"
    );
    let raw: Value = serde_json::from_str(r.raw().get()).unwrap();
    assert_eq!(raw, done, "the raw JSON is the answer, whole");
}

#[tokio::test]
async fn audio_results_and_lists_have_the_published_shapes() {
    let server = server_with_polls(0);
    let form = Form::new().part(
        "audio",
        Part::bytes(b"RIFF\0\0\0\0WAVEfmt audio-shape".to_vec())
            .file_name("talk.wav")
            .mime_str("audio/wav")
            .unwrap(),
    );
    let response = post_form(&server, "/api/classification_audio", form, true).await;
    assert_eq!(response.status(), StatusCode::OK);
    let id = response.json::<Value>().await.unwrap()["identifier"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, one) = get_json(&server, &format!("/api/classification_audio/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let clips = one["chunk_details"].as_array().unwrap();
    assert!(!clips.is_empty());
    for (i, c) in clips.iter().enumerate() {
        assert_eq!(c["index"], i);
        assert!(c["end"].as_f64().unwrap() > c["start"].as_f64().unwrap());
        assert!(c["verdict"]["classification"].is_string());
    }
    let (status, list) = get_json(
        &server,
        &format!("/api/classifications_audio?identifiers[]={id}&identifiers[]=nope"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "unknown identifiers are left out");
    assert_eq!(
        list[0]["details"]["clips"].as_array().unwrap().len(),
        clips.len()
    );
    // A PNG is no audio; kinds do not mix.
    let form = Form::new().part(
        "audio",
        image_part(b"\x89PNG\r\n\x1a\n", "x.png", "image/png"),
    );
    let response = post_form(&server, "/api/classification_audio", form, true).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, _) = get_json(&server, &format!("/api/classification_video/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, v) = get_json(
        &server,
        &format!("/api/classifications_video?identifiers[]={id}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v, serde_json::json!([]));
}
