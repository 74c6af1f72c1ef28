//! Robustness: whatever a server answers, every operation returns, in
//! time, either an error or a sane value, and never panics.
//!
//! proptest picks an operation from the spec, a status (weighted toward
//! 200, 204, 4xx and 5xx; 1xx go out as an informational answer ahead of
//! the final one), a content type (garbage included), extra headers
//! (`Retry-After` in odd forms, `Location`), a body (arbitrary bytes,
//! truncated JSON, JSON with the spec's field names and random values,
//! huge or deeply nested bodies, PNG-looking bytes) and a framing
//! (`Content-Length`, chunked, read-to-close, a length that lies either
//! way, a connection cut inside the head). A tiny TCP server on loopback
//! writes that answer byte for byte.

use crate::support::{mp4_sample, png_sample, ID, PNG_SIGNATURE};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use identifai::api::forms::{ImageOptions, VideoOptions};
use identifai::{Client, Error, Identifier, RetryConfig, Source};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KEY: &str = "test-key-SECRET";
const CASES: u32 = 128;

/// The operationIds of the generated client (`identifai::api::OPERATIONS`),
/// sorted; they must be the spec's under test (`IDENTIFAI_SPEC`).
fn spec_operations() -> Vec<String> {
    let spec = crate::support::spec::doc();
    let mut in_spec: Vec<String> = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op.get("operationId").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    in_spec.sort();
    let generated: Vec<String> = identifai::api::OPERATIONS
        .iter()
        .map(|op| op.name.to_string())
        .collect();
    assert_eq!(
        generated, in_spec,
        "the generated operation list is not the spec's: regenerate"
    );
    generated
}

// ---------------------------------------------------------------------------
// A raw HTTP/1.1 server
// ---------------------------------------------------------------------------

/// How the body is framed on the wire.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Framing {
    Length,
    Chunked,
    /// No length: the body ends when the connection closes.
    Close,
    /// `Content-Length` larger than the body, then the connection closes.
    LengthTooLong,
    /// `Content-Length` smaller than the body.
    LengthTooShort,
    /// The connection is closed in the middle of the head.
    CutHead,
}

#[derive(Clone, Debug)]
struct Reply {
    informational: Option<u16>,
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    framing: Framing,
    chunk: usize,
}

impl Reply {
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(s) = self.informational {
            out.extend_from_slice(
                format!("HTTP/1.1 {s} Informational\r\nlink: </a>\r\n\r\n").as_bytes(),
            );
        }
        out.extend_from_slice(
            format!("HTTP/1.1 {} Whatever\r\nconnection: close\r\n", self.status).as_bytes(),
        );
        for (k, v) in &self.headers {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        let n = self.body.len();
        match self.framing {
            Framing::Length => out.extend_from_slice(format!("content-length: {n}\r\n").as_bytes()),
            Framing::LengthTooLong => {
                out.extend_from_slice(format!("content-length: {}\r\n", n + 17).as_bytes())
            }
            Framing::LengthTooShort => {
                out.extend_from_slice(format!("content-length: {}\r\n", n / 2).as_bytes())
            }
            Framing::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
            Framing::Close => {}
            Framing::CutHead => {
                out.truncate(out.len() - 3);
                return out;
            }
        }
        out.extend_from_slice(b"\r\n");
        if self.framing == Framing::Chunked {
            for piece in self.body.chunks(self.chunk.max(1)) {
                out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                out.extend_from_slice(piece);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
        } else {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

/// Answers every connection with the bytes set in `reply`, then closes it.
struct RawServer {
    base_url: String,
    reply: Arc<Mutex<Vec<u8>>>,
}

impl RawServer {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let reply = Arc::new(Mutex::new(Vec::new()));
        let shared = reply.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let bytes = shared.lock().unwrap().clone();
                tokio::spawn(answer(stream, bytes));
            }
        });
        Self { base_url, reply }
    }

    fn set(&self, bytes: Vec<u8>) {
        *self.reply.lock().unwrap() = bytes;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one request (head and body), writes `bytes`, closes.
async fn answer(mut stream: TcpStream, bytes: Vec<u8>) {
    let read = async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        let chunked = head.contains("transfer-encoding: chunked");
        loop {
            let body = &buf[head_end..];
            let done = match (length, chunked) {
                (Some(n), _) => body.len() >= n,
                (None, true) => body.ends_with(b"0\r\n\r\n"),
                (None, false) => true,
            };
            if done {
                return;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .is_err()
    {
        return;
    }
    let _ = stream.write_all(&bytes).await;
    let _ = stream.shutdown().await;
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

const FIELDS: &[&str] = &[
    "identifier",
    "status",
    "verdict",
    "verdicts",
    "classification",
    "confidence",
    "heuristic",
    "models",
    "results",
    "images",
    "audios",
    "has_heatmap",
    "errors",
    "error",
    "message",
    "video",
    "image",
    "file_url",
    "api_version",
    "c2pa",
    "manifests",
    "validation_state",
    "details",
    "detections",
    "box",
    "x1",
    "label",
    "score",
    "count",
    "unknown",
    "is_nsfw",
    "ref_id",
    "force_classification",
    "hash",
];

const WORDS: &[&str] = &[
    "done",
    "new",
    "errored",
    "human",
    "artificial",
    "ok",
    "degraded",
    "Valid",
    "Majority",
    "8d64370a87b820cc",
    "Unauthorized",
    "Too Many Attempts.",
    "",
];

fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(WORDS).prop_map(str::to_string),
        2 => "\\PC{0,16}",
        1 => "[\\x00-\\x1f\\x7f a-z]{1,8}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>().prop_filter_map("finite", |f| f.is_finite().then(|| json!(f))),
        (0.0f64..=1.0).prop_map(|f| json!(f)),
        json_string().prop_map(Value::String),
    ];
    let key = prop_oneof![3 => select(FIELDS).prop_map(str::to_string), 1 => "[a-z_]{1,8}"];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Bodies that look like what the spec documents, to cut or to send whole.
fn sample_bodies() -> Vec<Vec<u8>> {
    [
        json!({"identifier": ID}),
        json!({"status": "ok"}),
        json!({"identifier": ID, "status": "done", "verdict": {"heuristic": "Majority", "confidence": 0.9, "classification": "artificial"}, "results": [{"model": "m", "classification": [{"label": "human", "score": 0.1}]}]}),
        json!([{"identifier": ID, "status": "new"}, {"identifier": "x", "status": "done"}]),
        json!({"identifier": ID, "results": {"images": [[{"model": "m"}]], "audios": []}}),
        json!({"video": ["The video field is required."]}),
        json!({"message": "Too Many Attempts."}),
    ]
    .iter()
    .map(|v| serde_json::to_vec(v).unwrap())
    .chain([ID.as_bytes().to_vec()])
    .collect()
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let samples = sample_bodies();
    let cut = samples.clone();
    prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..512),
        3 => (select(cut), any::<prop::sample::Index>())
            .prop_map(|(b, i)| b[..i.index(b.len() + 1)].to_vec()),
        2 => select(samples),
        4 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        2 => prop::collection::vec(json_value(), 0..4)
            .prop_map(|v| serde_json::to_vec(&Value::Array(v)).unwrap()),
        2 => (
            select(&["error", "message", "video", "identifier"][..]),
            json_string(),
            any::<bool>(),
        )
            .prop_map(|(k, v, list)| {
                let v = if list { json!([v]) } else { json!(v) };
                serde_json::to_vec(&json!({ k: v })).unwrap()
            }),
        1 => prop::collection::vec(any::<u8>(), 0..256).prop_map(|tail| {
            let mut v = PNG_SIGNATURE.to_vec();
            v.extend(tail);
            v
        }),
        1 => prop_oneof![
            Just(vec![b'a'; 3 << 20]),
            Just(format!(r#"{{"identifier":"{}"}}"#, "a".repeat(1 << 20)).into_bytes()),
            Just(vec![b'['; 100_000]),
            Just(format!("[{}]", vec!["{}"; 20_000].join(",")).into_bytes()),
            Just({
                let mut v = PNG_SIGNATURE.to_vec();
                v.resize(2 << 20, 0);
                v
            }),
        ],
    ]
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        6 => Just(200u16),
        2 => Just(204u16),
        4 => select(&[400u16, 401, 403, 404, 422, 429][..]),
        3 => select(&[500u16, 502, 503, 504][..]),
        2 => 200u16..=599,
        1 => select(&[301u16, 302, 303, 304, 307, 308][..]),
    ]
}

fn content_type() -> impl Strategy<Value = Option<Vec<u8>>> {
    const KNOWN: &[&[u8]] = &[
        b"application/json",
        b"application/json; charset=utf-8",
        b"application/problem+json",
        b"text/plain",
        b"text/plain; charset=iso-8859-1",
        b"text/html",
        b"image/png",
        b"application/octet-stream",
        b"multipart/form-data",
        b"",
        b";;;==garbage/",
        b"application/json; charset=\xff\xfe",
        "t\u{e9}xt/\u{2603}".as_bytes(),
    ];
    prop_oneof![
        1 => Just(None),
        6 => select(KNOWN).prop_map(|b| Some(b.to_vec())),
        1 => "[ -~]{0,24}".prop_map(|s| Some(s.into_bytes())),
    ]
}

fn extra_headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let retry_after = select(
        &[
            "7",
            "0",
            "-1",
            "1e309",
            "NaN",
            "99999999999999999999",
            "soon",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Fri, 01 Jan 2100 00:00:00 GMT",
            "",
        ][..],
    );
    (
        prop::option::weighted(0.3, retry_after),
        prop::option::weighted(0.1, select(&["/moved", "relative", "", "http://[::1"][..])),
    )
        .prop_map(|(ra, loc)| {
            let mut h = Vec::new();
            if let Some(ra) = ra {
                h.push(("retry-after".to_string(), ra.as_bytes().to_vec()));
            }
            if let Some(loc) = loc {
                h.push(("location".to_string(), loc.as_bytes().to_vec()));
            }
            h
        })
}

fn framing() -> impl Strategy<Value = Framing> {
    prop_oneof![
        10 => Just(Framing::Length),
        3 => Just(Framing::Chunked),
        2 => Just(Framing::Close),
        1 => Just(Framing::LengthTooLong),
        1 => Just(Framing::LengthTooShort),
        1 => Just(Framing::CutHead),
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    (
        prop::option::weighted(0.05, 100u16..=199),
        status(),
        content_type(),
        extra_headers(),
        body(),
        framing(),
        1usize..4096,
    )
        .prop_map(|(info, status, ct, mut headers, body, framing, chunk)| {
            // 101 switches protocols: not an informational answer to skip.
            let informational = info.filter(|s| *s != 101);
            if let Some(ct) = ct {
                headers.insert(0, ("content-type".to_string(), ct));
            }
            Reply {
                informational,
                status,
                headers,
                body,
                framing,
                chunk,
            }
        })
}

// ---------------------------------------------------------------------------
// Calling and judging
// ---------------------------------------------------------------------------

fn client(base_url: &str) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(base_url)
        .retry(RetryConfig::disabled())
        .rate_limits(None)
        .request_timeout(Duration::from_secs(3))
        .upload_timeout(Duration::from_secs(3))
        .connect_timeout(Duration::from_secs(2))
        // One connection per request: the server closes each one.
        .http_client(reqwest::Client::builder().pool_max_idle_per_host(0))
        .build()
        .unwrap()
}

/// What a successful call gave, for the sanity checks.
enum Success {
    Identifier(Identifier),
    Heatmap(Option<bytes::Bytes>),
    /// A decoded value (re-encoded to JSON) and the status it came with.
    Decoded(Value, Option<u16>),
    Health,
}

type Outcome = Result<Success, String>;

fn typed<T>(r: Result<T, Error>, f: impl FnOnce(T) -> Success) -> (Outcome, Option<Error>) {
    match r {
        Ok(v) => (Ok(f(v)), None),
        Err(e) => (Err(e.to_string()), Some(e)),
    }
}

async fn call(client: &Client, op: &str) -> (Outcome, Option<Error>) {
    let id: Identifier = ID.parse().unwrap();
    let ids = vec![id.clone(), "second".parse().unwrap()];
    let raw_ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    match op {
        "health" => typed(client.health().await, |_| Success::Health),
        "classify_image" => typed(
            client
                .classify_image(Source::bytes("a.png", png_sample()))
                .options(ImageOptions::new().with_heatmap(true))
                .send()
                .await,
            Success::Identifier,
        ),
        "classify_image_from_url" => typed(
            client
                .classify_image(Source::url("https://media.example.com/a.jpg"))
                .send()
                .await,
            Success::Identifier,
        ),
        "classify_video" => typed(
            client
                .classify_video(Source::bytes("v.mp4", mp4_sample()))
                .options(VideoOptions::new().with_audio(true))
                .send()
                .await,
            Success::Identifier,
        ),
        "classify_video_from_url" => typed(
            client
                .classify_video(Source::url("https://media.example.com/v.mp4"))
                .send()
                .await,
            Success::Identifier,
        ),
        "get_image_classification" => typed(client.result(&id).await, |v| {
            Success::Decoded(v.json(), None)
        }),
        "get_video_classification" => typed(client.video_result(&id).await, |v| {
            Success::Decoded(v.json(), None)
        }),
        "list_image_classifications" => typed(client.results(&ids).await, |v| {
            Success::Decoded(v.json(), None)
        }),
        "get_image_heatmap" => typed(client.heatmap(&id).await, Success::Heatmap),
        "get_image_classification_alias" => {
            match client.api().get_image_classification_alias(ID).await {
                Ok(v) => (
                    Ok(Success::Decoded(v.json(), Some(v.status().as_u16()))),
                    None,
                ),
                Err(e) => (Err(format!("raw error, status {:?}", e.status())), None),
            }
        }
        "list_image_classifications_alias" => {
            match client
                .api()
                .list_image_classifications_alias(&raw_ids)
                .await
            {
                Ok(v) => (
                    Ok(Success::Decoded(v.json(), Some(v.status().as_u16()))),
                    None,
                ),
                Err(e) => (Err(format!("raw error, status {:?}", e.status())), None),
            }
        }
        "get_image_heatmap_alias" => match client.api().get_image_heatmap_alias(ID).await {
            Ok(v) => {
                use futures::TryStreamExt;
                let status = v.status().as_u16();
                let read = v
                    .into_inner()
                    .into_inner()
                    .try_fold(0usize, |n, b| async move { Ok(n + b.len()) })
                    .await;
                match read {
                    Ok(_) => (Ok(Success::Decoded(Value::Null, Some(status))), None),
                    Err(e) => (Err(format!("raw body error: {e}")), None),
                }
            }
            Err(e) => (Err(format!("raw error, status {:?}", e.status())), None),
        },
        // The rendered pages' operations, through the generated client.
        "get_audio_classification" => raw(client.api().get_audio_classification(ID).await),
        "list_audio_classifications" => {
            raw(client.api().list_audio_classifications(&raw_ids).await)
        }
        "list_video_classifications" => {
            raw(client.api().list_video_classifications(&raw_ids).await)
        }
        "override_image_classification"
        | "override_video_classification"
        | "override_audio_classification" => {
            let body = identifai::api::types::OverrideRequest {
                classification: identifai::api::types::Classification::Artificial,
            };
            let api = client.api();
            raw(match op {
                "override_image_classification" => {
                    api.override_image_classification(ID, &body).await
                }
                "override_video_classification" => {
                    api.override_video_classification(ID, &body).await
                }
                _ => api.override_audio_classification(ID, &body).await,
            })
        }
        "list_partner_users" => raw(client
            .api()
            .list_partner_users(None, None, Some(2), Some(10), None, Some("a"))
            .await),
        "get_partner_pricings" => raw(client.api().get_partner_pricings().await),
        "classify_audio" => {
            let audio = identifai::api::FilePart::bytes("s.wav", b"RIFF\0\0\0\0WAVEfmt ".to_vec())
                .with_content_type("audio/wav");
            raw_stream(
                client
                    .api()
                    .classify_audio(None, identifai::api::forms::ClassifyAudioForm::new(audio))
                    .await,
            )
            .await
        }
        "classify_audio_from_url" => {
            raw_stream(
                client
                    .api()
                    .classify_audio_from_url(
                        None,
                        identifai::api::forms::ClassifyAudioFromUrlForm::new(
                            "https://e.example/s.mp3".into(),
                        ),
                    )
                    .await,
            )
            .await
        }
        "save_partner_user" => raw(client
            .api()
            .save_partner_user(identifai::api::forms::SavePartnerUserForm::new(
                None,
                "U".into(),
                "u@example.com".into(),
                "Average".into(),
                1,
            ))
            .await),
        other => panic!("the spec has operation `{other}` that the robustness test cannot call"),
    }
}

/// A generated client's decoded answer: its JSON and status, or the error's status.
fn raw<T: serde::Serialize>(
    r: Result<
        identifai::api::ResponseValue<T>,
        identifai::api::Error<identifai::api::types::ErrorBody>,
    >,
) -> (Outcome, Option<Error>) {
    match r {
        Ok(v) => (
            Ok(Success::Decoded(v.json(), Some(v.status().as_u16()))),
            None,
        ),
        Err(e) => (Err(format!("raw error, status {:?}", e.status())), None),
    }
}

/// A generated client's streamed answer, read to the end.
async fn raw_stream(
    r: Result<
        identifai::api::ResponseValue<identifai::api::ByteStream>,
        identifai::api::Error<identifai::api::types::ErrorBody>,
    >,
) -> (Outcome, Option<Error>) {
    match r {
        Ok(v) => {
            use futures::TryStreamExt;
            let status = v.status().as_u16();
            let read = v
                .into_inner()
                .into_inner()
                .try_fold(0usize, |n, b| async move { Ok(n + b.len()) })
                .await;
            match read {
                Ok(_) => (Ok(Success::Decoded(Value::Null, Some(status))), None),
                Err(e) => (Err(format!("raw body error: {e}")), None),
            }
        }
        Err(e) => (Err(format!("raw error, status {:?}", e.status())), None),
    }
}

/// The operations whose success body the generated client hands back as a
/// stream (build.rs's multipart submissions, which answer JSON or text).
const STREAMED: &[&str] = &["classify_audio", "classify_audio_from_url"];

/// Serializing a decoded value back to JSON, whatever its type.
mod erased {
    pub trait Ser {
        fn json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).expect("a decoded value re-encodes")
        }
    }
}
use erased::Ser as _;

/// The checks on one outcome; `Err` says what is wrong.
fn judge(op: &str, reply: &Reply, outcome: &Outcome, error: Option<&Error>) -> Result<(), String> {
    let status = reply.status;
    match outcome {
        Err(text) => {
            if text.is_empty() {
                return Err("an error with an empty Display".into());
            }
            if text.contains(KEY) {
                return Err(format!("the key shows in an error: {text}"));
            }
            if text.len() > 2048 {
                return Err(format!(
                    "an error's Display of {} bytes: {}…",
                    text.len(),
                    text.chars().take(300).collect::<String>()
                ));
            }
            if let Some(c) = text.chars().find(|c| c.is_control()) {
                return Err(format!(
                    "control character {c:?} in an error's Display: {text:?}"
                ));
            }
            if let Some(e) = error {
                let said = e.status();
                if said.is_some() && said != Some(status) && reply.framing != Framing::CutHead {
                    return Err(format!(
                        "error claims status {said:?}, the server sent {status}: {text}"
                    ));
                }
            }
            Ok(())
        }
        Ok(value) => {
            if reply.framing == Framing::CutHead {
                return Err("Ok from a connection cut inside the head".into());
            }
            let ok_status = |allowed: &[u16]| {
                if allowed.contains(&status) {
                    Ok(())
                } else {
                    Err(format!("{op}: Ok from status {status}"))
                }
            };
            match value {
                Success::Health => ok_status(&[200]),
                Success::Identifier(id) => {
                    ok_status(&[200])?;
                    Identifier::new(id.as_str()).map_err(|e| e.to_string())?;
                    if find(&reply.body, id.as_str().as_bytes()).is_none() {
                        return Err(format!("identifier {id} is not in the body"));
                    }
                    Ok(())
                }
                Success::Heatmap(None) => ok_status(&[204]),
                Success::Heatmap(Some(png)) => {
                    ok_status(&[200])?;
                    if !png.starts_with(PNG_SIGNATURE) || !reply.body.starts_with(png) {
                        return Err("a heatmap that is not the PNG sent".into());
                    }
                    Ok(())
                }
                Success::Decoded(json, raw_status) => {
                    let is_override = op.starts_with("override_");
                    let shape_ok = if op.starts_with("list_") && op != "list_partner_users" {
                        json.is_array()
                    } else if op.starts_with("get_image_heatmap") || STREAMED.contains(&op) {
                        json.is_null()
                    } else if op == "get_partner_pricings" {
                        // The plans: a list, or an object of plans.
                        json.is_array() || json.is_object()
                    } else if is_override {
                        // An override's 204 has no body: `None`.
                        json.is_object() || (json.is_null() && status == 204)
                    } else {
                        json.is_object()
                    };
                    if !shape_ok {
                        return Err(format!("{op}: decoded into {json}"));
                    }
                    let allowed: &[u16] = if op.starts_with("get_image_heatmap") {
                        &[200, 204]
                    } else if is_override {
                        &[200, 201, 204]
                    } else {
                        &[200]
                    };
                    ok_status(allowed)?;
                    if raw_status.is_some_and(|s| s != status) {
                        return Err(format!("raw status {raw_status:?}, sent {status}"));
                    }
                    Ok(())
                }
            }
        }
    }
}

#[test]
fn any_answer_to_any_operation_is_an_error_or_a_sane_value() {
    let ops = spec_operations();
    assert!(!ops.is_empty());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(RawServer::start());
    let client = {
        let _guard = rt.enter();
        client(&server.base_url)
    };
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(CASES);
    let tally = Mutex::new(std::collections::BTreeMap::<String, usize>::new());
    let config = ProptestConfig {
        cases,
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    };
    proptest!(config, |(op in select(ops.clone()), reply in reply())| {
        server.set(reply.to_bytes());
        let (outcome, error) = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), call(&client, &op))
                .await
                .unwrap_or_else(|_| panic!("{op}: no answer within 10 s (request timeout is 3 s)"))
        });
        let kind = match (&outcome, &error) {
            (Ok(_), _) => "Ok".to_string(),
            (Err(_), Some(e)) => format!("Err({})", format!("{e:?}").split(|c: char| !c.is_alphanumeric()).next().unwrap_or_default()),
            (Err(_), None) => "Err(raw)".to_string(),
        };
        *tally.lock().unwrap().entry(kind).or_default() += 1;
        if let Err(why) = judge(&op, &reply, &outcome, error.as_ref()) {
            let body: String = String::from_utf8_lossy(&reply.body[..reply.body.len().min(200)]).into();
            prop_assert!(false, "{op} / status {} / {:?} / headers {:?} / body {:?}: {why}",
                reply.status, reply.framing, reply.headers, body);
        }
    });
    eprintln!("outcomes: {:?}", tally.lock().unwrap());
}
