//! Wire conformance, driven by the spec: for every operation of
//! `openapi/identifai.yaml`, every status it documents (each example of
//! each content type, each named 400 example) and a fixed list of answers a
//! real server or proxy sends without documenting them, an httpmock server
//! on loopback gives that answer to one call through [`identifai::Client`].
//!
//! Each operation gets two snapshots: the outcome of every answer (the
//! value, summarised, or the error's variant and `Display`) and the request
//! the client sent (method, path, query, headers with the key redacted,
//! multipart parts). A few outcomes are also asserted outright, so a wrong
//! snapshot cannot be accepted by mistake.

use crate::calls::{self, Failed, Returned};
use crate::support::PNG_SIGNATURE;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use httpmock::prelude::*;
use httpmock::HttpMockRequest;
use identifai::api::{self, types};
use identifai::{config::RetryConfig, AnyResult, Client, Error};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const KEY: &str = "test-key-SECRET";

// ---------------------------------------------------------------------------
// The spec
// ---------------------------------------------------------------------------

fn spec() -> Value {
    crate::support::spec::doc().clone()
}

/// Follows a local `$ref` (`#/components/...`), repeatedly.
fn resolve<'a>(spec: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r.strip_prefix('#').expect("a local $ref");
                v = spec
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("dangling $ref {r}"));
            }
            None => return v,
        }
    }
    panic!("$ref chain too long")
}

/// (operationId, the operation object), in spec order of paths.
fn operations(spec: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for (_, item) in spec["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
            if let Some(op) = item.get(method) {
                let id = op["operationId"]
                    .as_str()
                    .expect("every operation has an id");
                out.push((id.to_string(), op));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A value of `schema`, for documented answers that give no example: every
/// property filled, the first of each enum and `oneOf`, one item per array.
fn synthesize(spec: &Value, schema: &Value, name: &str, depth: usize) -> Value {
    assert!(depth < 24, "schema too deep at {name}");
    let schema = resolve(spec, schema);
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = serde_json::Map::new();
        for part in all {
            match synthesize(spec, part, name, depth + 1) {
                Value::Object(m) => merged.extend(m),
                other => return other,
            }
        }
        return Value::Object(merged);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema.get(key).and_then(|v| v.get(0)) {
            return synthesize(spec, first, name, depth + 1);
        }
    }
    if let Some(first) = schema.get("enum").and_then(|v| v.get(0)) {
        return first.clone();
    }
    let ty = schema.get("type").and_then(Value::as_str);
    match ty {
        Some("array") => Value::Array(vec![synthesize(spec, &schema["items"], name, depth + 1)]),
        Some("object") | None if schema.get("properties").is_some() => {
            let mut m = serde_json::Map::new();
            for (k, v) in schema["properties"].as_object().unwrap() {
                m.insert(k.clone(), synthesize(spec, v, k, depth + 1));
            }
            Value::Object(m)
        }
        Some("object") | None => json!({}),
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("uri") => json!("https://app.identifai.net/result/1"),
            Some("date-time") => json!("2024-01-02T03:04:05Z"),
            _ => json!(format!("sample {name}")),
        },
        Some("integer") => json!(3),
        Some("number") => json!(0.75),
        Some("boolean") => json!(true),
        Some(other) => panic!("schema type {other} at {name}"),
    }
}

/// What one answer is, for the expectations below.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Documented,
    NotFound,
    ServerError,
    ProxyHtml502,
    Unavailable503,
    RateLimitedRetryAfter,
    RateLimitedHtml,
    UnauthorizedEmpty,
    Truncated,
    WrongContentType,
    LyingContentType,
    EmptyBody,
    NoContent,
    MultiLineMessage,
    /// A 200 object that carries none of the documented object's fields:
    /// `{}` (or Laravel's `[]`) with an unknown field only.
    NoneOfTheFields,
}

#[derive(Clone, Debug)]
struct Answer {
    label: String,
    kind: Kind,
    status: u16,
    content_type: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn new(
        label: impl Into<String>,
        kind: Kind,
        status: u16,
        ct: Option<&str>,
        body: &[u8],
    ) -> Self {
        Self {
            label: label.into(),
            kind,
            status,
            content_type: ct.map(str::to_string),
            headers: Vec::new(),
            body: body.to_vec(),
        }
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// What was served, as one line.
    fn served(&self) -> String {
        let mut s = format!("{}", self.status);
        if let Some(ct) = &self.content_type {
            s += &format!(" {ct}");
        }
        for (k, v) in &self.headers {
            s += &format!(" [{k}: {v}]");
        }
        if self.body.is_empty() {
            s += " (no body)";
        } else if self.body.starts_with(PNG_SIGNATURE) {
            s += &format!(" (PNG, {} bytes)", self.body.len());
        } else {
            let text = String::from_utf8_lossy(&self.body).replace(['\r', '\n'], "");
            if text.chars().count() > 100 {
                let cut: String = text.chars().take(100).collect();
                s += &format!(" {cut}… ({} bytes)", self.body.len());
            } else {
                s += &format!(" {text}");
            }
        }
        s
    }
}

/// A small PNG-looking body for `image/png` answers.
fn png_body() -> Vec<u8> {
    let mut v = PNG_SIGNATURE.to_vec();
    v.extend_from_slice(b"\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0");
    v
}

fn encode(spec_value: &Value, content_type: &str, binary: bool) -> Vec<u8> {
    if binary || content_type == "image/png" {
        return png_body();
    }
    match (content_type.contains("json"), spec_value) {
        (false, Value::String(s)) => s.clone().into_bytes(),
        _ => serde_json::to_vec(spec_value).unwrap(),
    }
}

/// Every answer the spec documents for `op`: per status, per content type,
/// each named example, or the one example, or one made from the schema.
fn documented(spec: &Value, op: &Value) -> Vec<Answer> {
    let mut out = Vec::new();
    for (status, response) in op["responses"].as_object().expect("responses") {
        let code: u16 = status.parse().expect("numeric statuses only");
        let response = resolve(spec, response);
        let content = response.get("content").and_then(Value::as_object);
        let Some(content) = content.filter(|c| !c.is_empty()) else {
            out.push(Answer::new(
                format!("{code} documented, no body"),
                Kind::Documented,
                code,
                None,
                b"",
            ));
            continue;
        };
        for (ct, media) in content {
            let schema = media.get("schema").map(|s| resolve(spec, s));
            let binary =
                schema.and_then(|s| s.get("format")).and_then(Value::as_str) == Some("binary");
            let mut add = |what: String, value: &Value| {
                out.push(Answer::new(
                    format!("{code} {ct} {what}"),
                    Kind::Documented,
                    code,
                    Some(ct),
                    &encode(value, ct, binary),
                ));
            };
            if let Some(examples) = media.get("examples").and_then(Value::as_object) {
                for (name, example) in examples {
                    add(
                        format!("example `{name}`"),
                        &resolve(spec, example)["value"],
                    );
                }
            } else if let Some(example) = media.get("example") {
                add("example".into(), example);
            } else if let Some(example) = schema.and_then(|s| s.get("example")) {
                add("schema example".into(), example);
            } else {
                let schema = schema.expect("a documented body has a schema");
                add(
                    "made from the schema".into(),
                    &synthesize(spec, schema, "body", 0),
                );
            }
        }
    }
    out
}

const PROXY_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// Whether `op`'s 200 JSON body is an object with named properties (not a
/// list, not an open map): an answer with none of them is a wrong shape.
fn object_200(spec: &Value, op: &Value) -> bool {
    let Some(response) = op["responses"].get("200").map(|r| resolve(spec, r)) else {
        return false;
    };
    let Some(schema) = response
        .pointer("/content/application~1json/schema")
        .map(|s| resolve(spec, s))
    else {
        return false;
    };
    schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("object")
        == "object"
        && schema
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty())
}

/// What a real server or proxy answers without the spec saying so; where
/// the 200 is a documented object (`object_200`), also objects carrying
/// none of its fields.
fn undocumented(documented: &[Answer], object_200: bool) -> Vec<Answer> {
    // A 200 JSON body of this operation, cut in half; a generic one where
    // the operation answers no JSON.
    let json_200 = documented
        .iter()
        .find(|a| a.status == 200 && a.content_type.as_deref() == Some("application/json"));
    let truncated = match json_200 {
        Some(a) => a.body[..a.body.len() / 2].to_vec(),
        None => br#"{"identifier":"0123456789abcdef","status":"do"#.to_vec(),
    };
    let any_200 = documented.iter().find(|a| a.status == 200);
    let mut out = vec![
        Answer::new(
            "404 not found",
            Kind::NotFound,
            404,
            Some("application/json"),
            br#"{"error":"Classification not found."}"#,
        ),
        Answer::new(
            "500 Laravel server error",
            Kind::ServerError,
            500,
            Some("application/json"),
            br#"{"message":"Server Error"}"#,
        ),
        Answer::new(
            "502 HTML page from a proxy",
            Kind::ProxyHtml502,
            502,
            Some("text/html"),
            PROXY_502.as_bytes(),
        ),
        Answer::new(
            "503 with Retry-After",
            Kind::Unavailable503,
            503,
            Some("application/json"),
            br#"{"message":"Service Unavailable"}"#,
        )
        .header("retry-after", "30"),
        Answer::new(
            "429 with Retry-After",
            Kind::RateLimitedRetryAfter,
            429,
            Some("application/json"),
            br#"{"message":"Too Many Attempts."}"#,
        )
        .header("retry-after", "7"),
        Answer::new(
            "429 HTML page from a proxy",
            Kind::RateLimitedHtml,
            429,
            Some("text/html"),
            b"<html><body><h1>429 Too Many Requests</h1></body></html>",
        )
        .header("retry-after", "12"),
        Answer::new(
            "401 with an empty body",
            Kind::UnauthorizedEmpty,
            401,
            None,
            b"",
        ),
        Answer::new(
            "400 with a multi-line message and an escape sequence",
            Kind::MultiLineMessage,
            400,
            Some("application/json"),
            br#"{"error":"line one\nline two\u001b[31m red","ref_id":["bad\r\nvalue"]}"#,
        ),
        Answer::new(
            "200 truncated JSON",
            Kind::Truncated,
            200,
            Some("application/json"),
            &truncated,
        ),
        Answer::new(
            "200 HTML maintenance page (wrong content type)",
            Kind::WrongContentType,
            200,
            Some("text/html; charset=UTF-8"),
            b"<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>",
        ),
        Answer::new(
            "200 empty JSON body",
            Kind::EmptyBody,
            200,
            Some("application/json"),
            b"",
        ),
    ];
    if let Some(a) = any_200 {
        out.push(Answer {
            label: "200 documented body with a lying content type".into(),
            kind: Kind::LyingContentType,
            content_type: Some("application/octet-stream".into()),
            ..a.clone()
        });
    }
    if object_200 {
        for (label, body) in [
            ("200 `{}`", &b"{}"[..]),
            ("200 `[]` (Laravel's empty map)", b"[]"),
            (
                "200 an object of an unknown field only",
                br#"{"surprise":1}"#,
            ),
        ] {
            out.push(Answer::new(
                label,
                Kind::NoneOfTheFields,
                200,
                Some("application/json"),
                body,
            ));
        }
    }
    if !documented.iter().any(|a| a.status == 204) {
        out.push(Answer::new(
            "204 where none is documented",
            Kind::NoContent,
            204,
            None,
            b"",
        ));
    }
    out
}

// ---------------------------------------------------------------------------
// Calling an operation, and its outcome
// ---------------------------------------------------------------------------

/// The outcome of one call: a summary for the snapshot, and the typed error
/// when the call went through the ergonomic layer.
struct Outcome {
    summary: String,
    ok: bool,
    error: Option<Error>,
    /// The answer was handed over as bytes (a stream), not decoded.
    stream: bool,
}

/// The outcome of a call of `op`: what the one dispatcher
/// ([`calls::call`]) gave back, summarised. The layer's answers read
/// `Ok: ...` or `Err(Variant): Display`; the generated client's (an
/// operation of no kind) `Ok (raw, status): ...` or `raw ...`.
async fn outcome_of(op: &str, answer: calls::Answer) -> Outcome {
    let (summary, ok, error, stream) = match answer {
        Ok(returned) => {
            let stream = matches!(
                &returned,
                Returned::Raw(api::conformance::Called {
                    body: api::conformance::CalledBody::Bytes(_),
                    ..
                })
            );
            (returned_summary(op, &returned), true, None, stream)
        }
        Err(Failed::Layer(e)) => (format!("Err({}): {e}", variant(&e)), false, Some(e), false),
        Err(Failed::Raw(e)) => (raw_error(*e).await, false, None, false),
    };
    Outcome {
        summary,
        ok,
        error,
        stream,
    }
}

fn returned_summary(op: &str, returned: &Returned) -> String {
    match returned {
        Returned::Health(h) => format!("Ok: health {h}"),
        Returned::Identifier(i) => format!("Ok: identifier {i}"),
        Returned::Result(r) => format!("Ok: {}", result_summary(r)),
        Returned::Results(v) => {
            let items: Vec<String> = v.iter().map(result_summary).collect();
            format!("Ok: {}", items_summary(&items))
        }
        Returned::Override(o) => format!("Ok: {}", override_summary(o)),
        Returned::Heatmap(h) => format!("Ok: {}", heatmap_summary(h)),
        Returned::Raw(called) => {
            let what = match &called.body {
                api::conformance::CalledBody::Json(v) => raw_json_summary(op, called.status, v),
                api::conformance::CalledBody::Bytes(b) => format!(
                    "{} bytes{}",
                    b.len(),
                    if b.starts_with(PNG_SIGNATURE) {
                        ", a PNG"
                    } else {
                        ""
                    }
                ),
            };
            format!("Ok (raw, {}): {what}", called.status)
        }
    }
}

fn variant(e: &Error) -> String {
    let debug = format!("{e:?}");
    debug
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// A result of any kind: the known kinds' own summaries, else what every
/// result has.
fn result_summary(r: &AnyResult) -> String {
    if let Some(r) = r.as_image() {
        return image_summary(r.value());
    }
    if let Some(r) = r.as_video() {
        return video_summary(r.value());
    }
    if let Some(r) = r.as_audio() {
        return audio_summary(r.value());
    }
    let verdict = r
        .verdict()
        .map(|v| format!("{} {}", v.classification, v.confidence))
        .unwrap_or_else(|| "none".into());
    format!(
        "{} result identifier={} status={} verdict={verdict}",
        r.kind(),
        r.identifier().unwrap_or("none"),
        r.status()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "none".into()),
    )
}

fn items_summary(items: &[String]) -> String {
    format!("{} result(s): [{}]", items.len(), items.join("; "))
}

fn image_summary(r: &types::ImageResponse) -> String {
    let verdict = r
        .verdict
        .as_ref()
        .map(|v| format!("{} {}", v.classification, v.confidence))
        .unwrap_or_else(|| "none".into());
    format!(
        "image result identifier={} status={} verdict={verdict} verdicts={} results={} has_heatmap={:?}",
        r.identifier.as_deref().unwrap_or("none"),
        r.status.as_ref().map(|s| s.to_string()).unwrap_or_else(|| "none".into()),
        r.verdicts.len(),
        r.results.len(),
        r.has_heatmap,
    )
}

fn video_summary(r: &types::VideoResponse) -> String {
    let verdict = r
        .verdict
        .as_ref()
        .map(|v| format!("{} {}", v.classification, v.confidence))
        .unwrap_or_else(|| "none".into());
    let frames = match r.results.as_ref().and_then(|r| r.images.as_ref()) {
        Some(types::VideoResultsImages::FrameResults(f)) => format!("{} frame results", f.len()),
        Some(types::VideoResultsImages::LegacyFrameResults(f)) => {
            format!("{} legacy frames", f.len())
        }
        None => "no frame results".into(),
    };
    format!(
        "video result identifier={} status={} verdict={verdict} verdicts={} {frames}",
        r.identifier.as_deref().unwrap_or("none"),
        r.status
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "none".into()),
        r.verdicts.len(),
    )
}

fn audio_summary(r: &types::AudioResponse) -> String {
    let verdict = r
        .verdict
        .as_ref()
        .map(|v| format!("{} {}", v.classification, v.confidence))
        .unwrap_or_else(|| "none".into());
    let clips = r.chunk_details.len() + r.details.as_ref().map_or(0, |d| d.clips.len());
    format!(
        "audio result identifier={} status={} verdict={verdict} verdicts={} results={} clips={clips}",
        r.identifier.as_deref().unwrap_or("none"),
        r.status
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "none".into()),
        r.verdicts.len(),
        r.results.len(),
    )
}

fn override_summary(r: &Option<types::OverrideResponse>) -> String {
    match r {
        Some(r) => format!("override {} of {} {}", r.classification, r.type_, r.hash),
        None => "override stored (no body)".into(),
    }
}

fn heatmap_summary(h: &Option<bytes::Bytes>) -> String {
    match h {
        None => "None (no heatmap)".into(),
        Some(png) => format!("PNG heatmap, {} bytes", png.len()),
    }
}

/// A body snippet for raw error summaries.
fn snippet(body: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(body)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

/// An error of the generated client, summarised without anything volatile
/// (its `Display` shows the whole `reqwest::Response`, port included); an
/// error body the shared `ErrorBody` decodes is shown by its fields.
async fn raw_error(e: api::Error<Value>) -> String {
    match e {
        api::Error::ErrorResponse(rv) => {
            let status = rv.status().as_u16();
            let body = rv.into_inner();
            match serde_json::from_value::<types::ErrorBody>(body.clone()) {
                Ok(body) => {
                    let extra: BTreeMap<_, _> = body.extra.into_iter().collect();
                    format!(
                        "raw ErrorResponse ({status}): error={:?} message={:?} fields={:?}",
                        body.error, body.message, extra
                    )
                }
                Err(_) => format!(
                    "raw ErrorResponse ({status}): {}",
                    snippet(body.to_string().as_bytes())
                ),
            }
        }
        api::Error::UnexpectedResponse(resp) => {
            let status = resp.status().as_u16();
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none")
                .to_string();
            let body = resp.bytes().await.unwrap_or_default();
            format!(
                "raw UnexpectedResponse ({status}, {ct}): {:?}",
                snippet(&body)
            )
        }
        api::Error::InvalidResponsePayload(bytes, e) => {
            format!(
                "raw InvalidResponsePayload: {e}; body starts {:?}",
                snippet(&bytes)
            )
        }
        api::Error::CommunicationError(e) => format!("raw CommunicationError: {}", e.without_url()),
        api::Error::ResponseBodyError(e) => format!("raw ResponseBodyError: {}", e.without_url()),
        api::Error::InvalidRequest(s) => format!("raw InvalidRequest: {s}"),
        api::Error::InvalidUpgrade(e) => format!("raw InvalidUpgrade: {}", e.without_url()),
        api::Error::Custom(s) => format!("raw Custom: {s}"),
    }
}

/// The schema `op` documents for a JSON answer with `status`: its
/// component's name, `[Name]` for a list of them.
fn answer_schema(op: &str, status: u16) -> Option<String> {
    let spec = crate::support::spec::doc();
    let def = operations(spec).into_iter().find(|(n, _)| n == op)?.1;
    let response = resolve(spec, def["responses"].get(status.to_string())?);
    let schema = response.pointer("/content/application~1json/schema")?;
    let name = |s: &Value| {
        s.get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.rsplit('/').next())
            .map(str::to_string)
    };
    match name(schema) {
        Some(n) => Some(n),
        None => Some(format!("[{}]", name(schema.get("items")?)?)),
    }
}

/// A JSON answer of the generated client, summarised by the type the spec
/// gives it (a type with no summary here, or a value that is not of it:
/// the JSON, cut).
fn raw_json_summary(op: &str, status: u16, v: &Value) -> String {
    fn typed<T: serde::de::DeserializeOwned>(
        v: &Value,
        f: impl Fn(&T) -> String,
    ) -> Option<String> {
        serde_json::from_value::<T>(v.clone()).ok().map(|t| f(&t))
    }
    fn list<T: serde::de::DeserializeOwned>(v: &Value, f: impl Fn(&T) -> String) -> Option<String> {
        typed(v, |items: &Vec<T>| {
            items_summary(&items.iter().map(&f).collect::<Vec<_>>())
        })
    }
    let summary = match answer_schema(op, status).as_deref() {
        Some("ImageResponse") => typed(v, image_summary),
        Some("VideoResponse") => typed(v, video_summary),
        Some("AudioResponse") => typed(v, audio_summary),
        Some("[ImageResponse]") => list(v, image_summary),
        Some("[VideoResponse]") => list(v, video_summary),
        Some("[AudioResponse]") => list(v, audio_summary),
        Some("OverrideResponse") => typed(v, |r: &types::OverrideResponse| {
            override_summary(&Some(r.clone()))
        }),
        Some("PartnerUserResponse") => typed(v, |u: &types::PartnerUserResponse| {
            format!("user {} {:?}", u.data.id, u.data.name)
        }),
        Some("PartnerUserPage") => typed(v, |p: &types::PartnerUserPage| {
            format!(
                "page {} of {}: {} user(s), total {}",
                p.current_page,
                p.last_page.unwrap_or(0),
                p.data.len(),
                p.total
            )
        }),
        Some("PartnerPricings") => typed(v, |p: &types::PartnerPricings| {
            let ids: Vec<String> = p.plans().iter().map(|p| p.id.to_string()).collect();
            format!("pricings: {} plan(s) [{}]", ids.len(), ids.join(", "))
        }),
        _ => None,
    };
    summary.unwrap_or_else(|| snippet(v.to_string().as_bytes()))
}

// ---------------------------------------------------------------------------
// Requests as seen by the server
// ---------------------------------------------------------------------------

#[derive(Serialize, Clone, PartialEq, Debug)]
struct SeenPart {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    filename: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
}

#[derive(Serialize, Clone, PartialEq, Debug)]
struct SeenRequest {
    method: String,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<String>,
    headers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    multipart: Option<Vec<SeenPart>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    json: Option<Value>,
}

fn sha_prefix(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

async fn normalize(req: &HttpMockRequest) -> SeenRequest {
    let mut headers = Vec::new();
    let mut multipart_ct = None;
    for (name, value) in req.headers_vec() {
        let name = name.to_ascii_lowercase();
        let value = match name.as_str() {
            "host" | "content-length" => continue,
            "x-api-key" => {
                assert_eq!(value, KEY, "the key is sent as given");
                "[redacted]".to_string()
            }
            "user-agent" => {
                let expected = format!("identifai-rust/{}", env!("CARGO_PKG_VERSION"));
                assert_eq!(value, &expected);
                "identifai-rust/[version]".to_string()
            }
            "content-type" if value.starts_with("multipart/form-data") => {
                multipart_ct = Some(value.clone());
                "multipart/form-data; boundary=[boundary]".to_string()
            }
            _ => value.clone(),
        };
        headers.push(format!("{name}: {value}"));
    }
    headers.sort();
    let multipart = match multipart_ct {
        Some(ct) => Some(parts(&ct, req.body_vec()).await),
        None => None,
    };
    let json = headers
        .iter()
        .any(|h| h == "content-type: application/json")
        .then(|| serde_json::from_slice(&req.body_vec()).expect("a JSON request body"));
    SeenRequest {
        method: req.method_str().to_string(),
        path: req.uri().path().to_string(),
        query: req.uri().query().map(str::to_string),
        headers,
        multipart,
        json,
    }
}

async fn parts(content_type: &str, body: Vec<u8>) -> Vec<SeenPart> {
    let boundary = multer::parse_boundary(content_type).expect("a boundary");
    let stream =
        futures::stream::once(async move { Ok::<_, std::io::Error>(bytes::Bytes::from(body)) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut out = Vec::new();
    while let Some(field) = mp.next_field().await.expect("a well-formed multipart body") {
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(|m| m.to_string());
        let data = field.bytes().await.unwrap();
        let (value, file) = if filename.is_some() {
            (
                None,
                Some(format!(
                    "{} bytes, sha256 {}…",
                    data.len(),
                    sha_prefix(&data)
                )),
            )
        } else {
            (Some(String::from_utf8_lossy(&data).into_owned()), None)
        };
        out.push(SeenPart {
            name,
            filename,
            content_type,
            value,
            file,
        });
    }
    out
}

// ---------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------

#[derive(Serialize)]
struct Row {
    answer: String,
    served: String,
    outcome: String,
}

struct Case {
    op: String,
    answer: Answer,
    outcome: Outcome,
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(server.base_url())
        .retry(RetryConfig::disabled())
        .rate_limits(None)
        .request_timeout(Duration::from_secs(10))
        .upload_timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// Serves `answer` once and calls `op`; returns the outcome and the one
/// request sent.
async fn run(
    server: &MockServer,
    client: &Client,
    op: &str,
    answer: &Answer,
) -> (Outcome, SeenRequest) {
    server.reset_async().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let a = answer.clone();
    server
        .mock_async(move |when, then| {
            when.is_true(move |req: &HttpMockRequest| {
                sink.lock().unwrap().push(req.clone());
                true
            });
            let mut then = then.status(a.status);
            if let Some(ct) = &a.content_type {
                then = then.header("content-type", ct);
            }
            for (k, v) in &a.headers {
                then = then.header(k, v);
            }
            then.body(a.body.clone());
        })
        .await;
    let call = async { outcome_of(op, calls::call(client, op).await).await };
    let outcome = tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .unwrap_or_else(|_| panic!("{op} / {}: no outcome within 20 s", answer.label));
    let requests = seen.lock().unwrap().clone();
    assert_eq!(
        requests.len(),
        1,
        "{op} / {}: exactly one request (retries are off)",
        answer.label
    );
    (outcome, normalize(&requests[0]).await)
}

/// What some answers must give, whatever the snapshots say.
fn expectations(case: &Case) -> Result<(), String> {
    let Case {
        op,
        answer,
        outcome,
    } = case;
    let heatmap = op.starts_with("get_image_heatmap");
    let fail = |why: &str| {
        Err(format!(
            "{op} / {}: {why}; got {}",
            answer.label, outcome.summary
        ))
    };
    if outcome.summary.contains(KEY) {
        return fail("the key shows in the outcome");
    }
    // The raw (alias) outcomes carry no typed error: check the summary only.
    let Some(err) = &outcome.error else {
        if !outcome.ok && answer.status == 200 && answer.kind == Kind::Documented {
            return fail("a documented 200 must decode");
        }
        if outcome.ok && !outcome.stream && answer.kind == Kind::NoneOfTheFields {
            return fail(
                "an object with none of the documented fields is an error, not an empty value",
            );
        }
        return Ok(());
    };
    let display = err.to_string();
    match (answer.kind, answer.status) {
        (Kind::Documented, 200) => fail("a documented 200 must decode"),
        (Kind::Documented, 204) if heatmap => fail("a 204 heatmap is Ok(None)"),
        (Kind::Documented, 400) => match err {
            Error::Validation { message, fields } if message.is_some() || !fields.is_empty() => {
                Ok(())
            }
            _ => fail("a documented 400 is a Validation error with its reason"),
        },
        (Kind::Documented, 401) => match err {
            Error::Unauthorized { message: Some(m) } if m == "Unauthorized" => Ok(()),
            _ => fail("401 is Unauthorized with the server's message"),
        },
        (Kind::Documented, 403) => match err {
            Error::Forbidden { message: Some(m) } if m == "Forbidden" => Ok(()),
            _ => fail("403 is Forbidden with the server's message"),
        },
        (Kind::Documented, 429) => match err {
            Error::RateLimited { message: Some(m), .. } if m == "Too Many Attempts." => Ok(()),
            _ => fail("429 is RateLimited with the server's message"),
        },
        (Kind::NotFound, _) => match err {
            Error::NotFound { message: Some(_) } => Ok(()),
            _ => fail("404 is NotFound"),
        },
        (Kind::ServerError, _) => match err {
            Error::Server { status: 500, snippet: Some(s) } if s == "Server Error" => Ok(()),
            _ => fail("500 is Server with the message"),
        },
        (Kind::ProxyHtml502, _) => match err {
            Error::Server { status: 502, snippet: Some(s) } if s.contains("502 Bad Gateway") => {
                Ok(())
            }
            _ => fail("a proxy's 502 is Server { status: 502 } with a snippet of the page"),
        },
        (Kind::Unavailable503, _) => match err {
            Error::Server { status: 503, .. } if err.is_retryable() => Ok(()),
            _ => fail("503 is a retryable Server error"),
        },
        (Kind::RateLimitedRetryAfter, _) => match err {
            Error::RateLimited { retry_after: Some(d), .. }
                if *d == Duration::from_secs(7) && display.contains("retry after 7s") =>
            {
                Ok(())
            }
            _ => fail("429 with Retry-After: 7 is RateLimited and shows it"),
        },
        (Kind::RateLimitedHtml, _) => match err {
            Error::RateLimited {
                retry_after: Some(d),
                ..
            } if *d == Duration::from_secs(12) => Ok(()),
            _ => fail("any 429 is RateLimited with its Retry-After, whatever its body"),
        },
        (Kind::UnauthorizedEmpty, _) => match err {
            Error::Unauthorized { .. } => Ok(()),
            _ => fail("any 401 is Unauthorized, whatever its body"),
        },
        (Kind::Truncated, _) if !heatmap => match err {
            Error::Decode {
                status: Some(200),
                content_type: Some(ct),
                ..
            } if ct == "application/json" => Ok(()),
            _ => fail("truncated JSON is a Decode error naming status 200 and the content type"),
        },
        (Kind::WrongContentType | Kind::EmptyBody, _) => match err {
            Error::Decode {
                status: Some(200),
                content_type: Some(_),
                ..
            } => Ok(()),
            _ => fail("a 200 that is not the documented body is a Decode error with status and content type"),
        },
        (Kind::MultiLineMessage, _) => match err {
            Error::Validation { fields, .. }
                if fields.contains_key("ref_id") && !display.chars().any(char::is_control) =>
            {
                Ok(())
            }
            _ => fail("a server's message shows on one line, without control characters"),
        },
        (Kind::NoneOfTheFields, _) => match err {
            Error::Decode {
                status: Some(200),
                ..
            } => Ok(()),
            _ => fail("an object with none of the documented fields is a Decode error"),
        },
        (Kind::LyingContentType, _) => fail("a documented body decodes whatever its content type"),
        _ => Ok(()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_against_every_answer() {
    let spec = spec();
    let ops = operations(&spec);
    // The client's operations (generated, `api::OPERATIONS`) are the spec's
    // under test: a spec the client was not generated from fails here.
    let names: Vec<&str> = ops.iter().map(|(n, _)| n.as_str()).collect();
    let generated: Vec<&str> = api::OPERATIONS.iter().map(|op| op.name).collect();
    assert_eq!(
        names, generated,
        "the spec's operations are not the generated client's: regenerate"
    );

    let mut cases = Vec::new();
    let mut requests: BTreeMap<String, Vec<SeenRequest>> = BTreeMap::new();
    for (op, def) in &ops {
        let server = MockServer::start_async().await;
        let client = client(&server);
        let documented = documented(&spec, def);
        assert!(
            documented.iter().any(|a| a.status == 200),
            "{op} documents a 200"
        );
        let answers: Vec<Answer> = documented
            .iter()
            .cloned()
            .chain(undocumented(&documented, object_200(&spec, def)))
            .collect();
        let mut rows = Vec::new();
        for answer in answers {
            let (outcome, request) = run(&server, &client, op, &answer).await;
            let seen = requests.entry(op.clone()).or_default();
            if !seen.contains(&request) {
                seen.push(request);
            }
            rows.push(Row {
                answer: answer.label.clone(),
                served: answer.served(),
                outcome: outcome.summary.clone(),
            });
            cases.push(Case {
                op: op.clone(),
                answer,
                outcome,
            });
        }
        // One line per operation (`cargo xtask mutate` looks for an added
        // operation's with `--nocapture`).
        println!("WIRE-MATRIX {op}: {} answers", rows.len());
        insta::assert_yaml_snapshot!(format!("outcomes__{op}"), rows);
        insta::assert_yaml_snapshot!(format!("request__{op}"), requests[op]);
    }

    for (op, seen) in &requests {
        assert_eq!(
            seen.len(),
            1,
            "{op}: the same request whatever the answer: {seen:#?}"
        );
    }
    // The result operations, typed and raw (an alias), are among those that
    // got the answers carrying none of their fields.
    for op in [
        "get_image_classification",
        "get_image_classification_alias",
        "get_video_classification",
    ] {
        assert!(
            cases
                .iter()
                .any(|c| c.op == op && c.answer.kind == Kind::NoneOfTheFields),
            "{op} was not served an object with none of its fields"
        );
    }
    let failures: Vec<String> = cases.iter().filter_map(|c| expectations(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} expectation(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_matrix_covers_every_documented_status_and_named_example() {
    let spec = spec();
    let ops = operations(&spec);
    let mut total = 0;
    for (op, def) in &ops {
        let answers = documented(&spec, def);
        let statuses: Vec<u16> = def["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(|s| s.parse().unwrap())
            .collect();
        for s in &statuses {
            assert!(
                answers.iter().any(|a| a.status == *s),
                "{op}: documented status {s} has no answer"
            );
        }
        total += answers.len();
    }
    // Every named example of every answer (the spec's `examples` maps, read
    // here on their own) is an answer of the matrix, by its name.
    let mut named = 0;
    for (op, def) in &ops {
        let answers = documented(&spec, def);
        for (status, response) in def["responses"].as_object().unwrap() {
            let response = resolve(&spec, response);
            for (ct, media) in response["content"].as_object().into_iter().flatten() {
                for name in media["examples"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(n, _)| n)
                {
                    named += 1;
                    let label = format!("{status} {ct} example `{name}`");
                    assert!(
                        answers.iter().any(|a| a.label == label),
                        "{op}: the named example {label} is not in the matrix"
                    );
                }
            }
        }
    }
    assert!(named > 0, "the spec names no example: is this the spec?");
    assert!(
        total >= ops.len(),
        "{total} documented answers for {} operations",
        ops.len()
    );
}
