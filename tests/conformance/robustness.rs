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

use crate::calls::{self, Failed, Returned};
use crate::support::{ID, PNG_SIGNATURE};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use identifai::api::conformance::CalledBody;
use identifai::{config::RetryConfig, Client, Error, Identifier};
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
    /// A decoded result, or list of results (`list`), re-encoded to JSON.
    Decoded {
        json: Value,
        list: bool,
    },
    /// An override's answer: whether it had a body.
    Override {
        body: bool,
    },
    /// What an operation answered through the generated dispatcher.
    Raw(identifai::api::conformance::Called),
    Health,
}

type Outcome = Result<Success, String>;

/// The outcome of a call through the one dispatcher of the conformance
/// tests ([`calls::call`]), and the layer's error if it gave one.
fn outcome_of(answer: calls::Answer) -> (Outcome, Option<Error>) {
    let json = |v: serde_json::Result<Value>| v.expect("a decoded value re-encodes");
    match answer {
        Ok(returned) => (
            Ok(match returned {
                Returned::Health(_) => Success::Health,
                Returned::Identifier(id) => Success::Identifier(id),
                Returned::Result(r) => Success::Decoded {
                    json: json(serde_json::to_value(&r)),
                    list: false,
                },
                Returned::Results(v) => Success::Decoded {
                    json: json(serde_json::to_value(&v)),
                    list: true,
                },
                Returned::Override(o) => Success::Override { body: o.is_some() },
                Returned::Heatmap(h) => Success::Heatmap(h),
                Returned::Raw(called) => Success::Raw(called),
            }),
            None,
        ),
        Err(Failed::Layer(e)) => (Err(e.to_string()), Some(e)),
        Err(Failed::Raw(e)) => (Err(format!("raw error, status {:?}", e.status())), None),
    }
}

/// The JSON kinds (`null`, `array`, `object`, ...) the spec allows for
/// `op`'s answer with `status`, if it says.
fn documented_kinds(op: &str, status: u16) -> Option<Vec<&'static str>> {
    let spec = crate::support::spec::doc();
    let resolve = |mut v: &'static Value| {
        while let Some(r) = v.get("$ref").and_then(Value::as_str) {
            v = spec.pointer(r.strip_prefix('#')?)?;
        }
        Some(v)
    };
    let def = spec["paths"]
        .as_object()?
        .values()
        .flat_map(|item| item.as_object().into_iter().flatten())
        .map(|(_, o)| o)
        .find(|o| o["operationId"] == op)?;
    let response = resolve(def["responses"].get(status.to_string())?)?;
    let content = response.get("content").and_then(Value::as_object);
    let Some(content) = content.filter(|c| !c.is_empty()) else {
        return Some(vec!["null"]);
    };
    let schema = resolve(content.get("application/json")?.get("schema")?)?;
    fn kinds(
        schema: &'static Value,
        resolve: &dyn Fn(&'static Value) -> Option<&'static Value>,
    ) -> Option<Vec<&'static str>> {
        let schema = resolve(schema)?;
        for key in ["oneOf", "anyOf"] {
            if let Some(list) = schema.get(key).and_then(Value::as_array) {
                let mut out = Vec::new();
                for s in list {
                    out.extend(kinds(s, resolve)?);
                }
                return Some(out);
            }
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("integer") => Some(vec!["number"]),
            Some(t) => ["array", "object", "string", "number", "boolean"]
                .into_iter()
                .find(|k| *k == t)
                .map(|k| vec![k]),
            None if schema.get("properties").is_some() => Some(vec!["object"]),
            None => None,
        }
    }
    kinds(schema, &resolve)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

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
                Success::Decoded { json, list } => {
                    let shape_ok = if *list {
                        json.is_array()
                    } else {
                        json.is_object()
                    };
                    if !shape_ok {
                        return Err(format!("{op}: decoded into {json}"));
                    }
                    ok_status(&[200])
                }
                // A body only from a documented success status that has
                // one, none only from a 204.
                Success::Override { body: false } => ok_status(&[204]),
                Success::Override { body: true } => {
                    let documented = identifai::api::Operation::named(op)
                        .is_some_and(|o| o.statuses.contains(&status));
                    if !documented || !(200..300).contains(&status) || status == 204 {
                        return Err(format!("{op}: an override's answer from status {status}"));
                    }
                    Ok(())
                }
                Success::Raw(called) => {
                    // Ok only from a documented success status, as sent.
                    let documented = identifai::api::Operation::named(op)
                        .is_some_and(|o| o.statuses.contains(&status));
                    if !documented || !(200..300).contains(&status) {
                        return Err(format!("{op}: Ok from status {status}"));
                    }
                    if called.status != status {
                        return Err(format!("raw status {}, sent {status}", called.status));
                    }
                    // A decoded value has a shape the spec allows for that status.
                    if let CalledBody::Json(json) = &called.body {
                        if let Some(kinds) = documented_kinds(op, status) {
                            if !kinds.contains(&json_kind(json)) {
                                return Err(format!(
                                    "{op}: decoded into {json}, the spec says {kinds:?}"
                                ));
                            }
                        }
                    }
                    Ok(())
                }
            }
        }
    }
}

/// The answers every operation meets before the random ones.
fn fixed_replies() -> Vec<Reply> {
    let reply = |status: u16, ct: Option<&str>, body: &[u8], framing: Framing| Reply {
        informational: None,
        status,
        headers: ct
            .map(|ct| vec![("content-type".to_string(), ct.as_bytes().to_vec())])
            .unwrap_or_default(),
        body: body.to_vec(),
        framing,
        chunk: 7,
    };
    vec![
        reply(200, Some("application/json"), b"{}", Framing::Length),
        reply(200, Some("application/json"), b"[]", Framing::Chunked),
        reply(
            200,
            Some("application/json"),
            b"{\"identifier\":",
            Framing::Length,
        ),
        reply(
            200,
            Some("text/html"),
            b"<html>maintenance</html>",
            Framing::Close,
        ),
        reply(204, None, b"", Framing::Length),
        reply(
            404,
            Some("application/json"),
            br#"{"error":"Not found."}"#,
            Framing::Length,
        ),
        reply(
            500,
            Some("text/html"),
            b"<h1>500</h1>",
            Framing::LengthTooLong,
        ),
        reply(200, Some("application/json"), b"{}", Framing::CutHead),
    ]
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
    // Every operation first meets a few fixed answers, so each is covered
    // whatever proptest picks (`cargo xtask mutate` looks for an added
    // operation's line).
    for op in &ops {
        let fixed = fixed_replies();
        for reply in &fixed {
            server.set(reply.to_bytes());
            let outcome = rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(10), calls::call(&client, op))
                    .await
                    .unwrap_or_else(|_| panic!("{op}: no answer within 10 s"))
            });
            let (outcome, error) = outcome_of(outcome);
            if let Err(why) = judge(op, reply, &outcome, error.as_ref()) {
                panic!(
                    "{op} / status {} / {:?}: {why}",
                    reply.status, reply.framing
                );
            }
        }
        println!("ROBUSTNESS {op}: {} fixed answers", fixed.len());
    }
    let config = ProptestConfig {
        cases,
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    };
    proptest!(config, |(op in select(ops.clone()), reply in reply())| {
        server.set(reply.to_bytes());
        let outcome = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), calls::call(&client, &op))
                .await
                .unwrap_or_else(|_| panic!("{op}: no answer within 10 s (request timeout is 3 s)"))
        });
        let (outcome, error) = outcome_of(outcome);
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
