//! The answers the spec documents, generated from it (`identifai-codegen`'s
//! `mock_answers`): the MockServer answers every operation it has no
//! behaviour of its own for (the partner operations, and any operation the
//! spec adds) with its documented status, content type and example (else a
//! value generated from the schema), after checking the inputs the spec
//! requires; and its hand-written answers take from them every field they do
//! not know by name, so a field the spec adds appears by regeneration.

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::api::{Operation, OPERATIONS};

use super::wire::{form_decode, json_response};

/// Where an input of an operation is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputLocation {
    /// A segment of the path (`{name}` in the template).
    Path,
    /// A query parameter.
    Query,
    /// A field of the request body (a form field or a JSON property).
    Body,
}

/// The kind of value an input takes, as the MockServer checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputKind {
    /// Any text.
    Text,
    /// An integer.
    Integer,
    /// A number.
    Number,
    /// `true` or `false` (also `1` and `0`, as Laravel reads them).
    Boolean,
    /// A list (`name[]=...` in a query or form).
    List,
    /// A file part of a form.
    File,
}

/// One input of an operation, as the spec declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Input {
    /// The parameter's or field's name.
    pub name: &'static str,
    /// Where it is sent.
    pub location: InputLocation,
    /// Whether the spec requires it.
    pub required: bool,
    /// Whether `null` (an empty form field) is a value.
    pub nullable: bool,
    /// The kind of value it takes.
    pub kind: InputKind,
    /// The values it is limited to (`enum`), if any.
    pub values: &'static [&'static str],
    /// A value the spec accepts, as text (empty for a required `null`).
    pub sample: &'static str,
    /// A file part's content type (one the spec's `encoding` allows).
    pub content_type: Option<&'static str>,
}

/// What the spec documents of one operation's answer, and of its inputs: the
/// MockServer's answer for an operation it has no behaviour of its own for.
///
/// ```
/// use identifai::mock::DocumentedAnswer;
///
/// let pricings = DocumentedAnswer::of("get_partner_pricings").unwrap();
/// assert_eq!(pricings.status, 200);
/// assert!(pricings.value().unwrap().is_array());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DocumentedAnswer {
    /// The operationId.
    pub operation: &'static str,
    /// The success status: the lowest 2xx the spec documents.
    pub status: u16,
    /// Its content type (JSON when the spec offers it), `None` for no body.
    pub content_type: Option<&'static str>,
    /// The body: the documented example, else a value generated from the
    /// schema (JSON text; a text answer's string; empty for a binary one).
    pub body: &'static str,
    /// A value generated from the schema, every field it declares included
    /// (JSON text; empty when the body is not JSON): the body when the spec
    /// has no example, and where the mock's own answers find the fields an
    /// example does not show.
    pub generated: &'static str,
    /// The component schema of the body (of its items when
    /// [`items`](Self::items)), if the spec names one.
    pub schema: Option<&'static str>,
    /// Whether the body is an array of [`schema`](Self::schema).
    pub items: bool,
    /// The status of a refusal of invalid input: 422 (Laravel's
    /// `{message, errors}`) when the spec documents it, else 400 (a map
    /// from field to messages); `None`: the input is not checked.
    pub validation_status: Option<u16>,
    /// The request body's content type, if it has one.
    pub request_content_type: Option<&'static str>,
    /// The path and query parameters and the body's fields.
    pub inputs: &'static [Input],
    /// A JSON request body the spec accepts (its example, else its required
    /// fields), for a JSON body.
    pub sample_body: Option<&'static str>,
}

include!(concat!(env!("OUT_DIR"), "/identifai_mock_answers.rs"));

impl DocumentedAnswer {
    /// Every operation's documented answer, sorted by operationId (one per
    /// entry of [`crate::api::OPERATIONS`]).
    pub fn all() -> &'static [DocumentedAnswer] {
        ANSWERS
    }

    /// The documented answer of operation `name`.
    pub fn of(name: &str) -> Option<&'static DocumentedAnswer> {
        ANSWERS.iter().find(|a| a.operation == name)
    }

    /// The body as JSON (parsed once), if it is JSON.
    pub fn value(&self) -> Option<&'static Value> {
        static PARSED: OnceLock<Vec<Option<Value>>> = OnceLock::new();
        Self::parsed(&PARSED, self.operation, |a| a.body)
    }

    /// [`generated`](Self::generated) as JSON (parsed once), if the body is
    /// JSON.
    pub fn generated_value(&self) -> Option<&'static Value> {
        static PARSED: OnceLock<Vec<Option<Value>>> = OnceLock::new();
        Self::parsed(&PARSED, self.operation, |a| a.generated)
    }

    /// `text(answer)` of operation `name` as JSON, every answer's parsed once
    /// into `cache`.
    fn parsed(
        cache: &'static OnceLock<Vec<Option<Value>>>,
        name: &str,
        text: fn(&DocumentedAnswer) -> &'static str,
    ) -> Option<&'static Value> {
        let parsed = cache.get_or_init(|| {
            ANSWERS
                .iter()
                .map(|a| {
                    a.content_type
                        .filter(|ct| is_json(ct))
                        .and_then(|_| serde_json::from_str(text(a)).ok())
                })
                .collect()
        });
        let index = ANSWERS.iter().position(|a| a.operation == name)?;
        parsed.get(index)?.as_ref()
    }

    /// The inputs sent at `location`.
    pub fn inputs_at(&self, location: InputLocation) -> impl Iterator<Item = &'static Input> {
        self.inputs.iter().filter(move |i| i.location == location)
    }
}

fn is_json(content_type: &str) -> bool {
    content_type.starts_with("application/json") || content_type.ends_with("+json")
}

/// The documented answer of the operation with `kind` and `role`
/// (`x-identifai`), the published one rather than an alias.
pub(crate) fn of_role(kind: &str, role: &str) -> Option<&'static DocumentedAnswer> {
    OPERATIONS
        .iter()
        .filter(|op| op.kind == Some(kind) && op.role == Some(role))
        .min_by_key(|op| op.name.ends_with("_alias"))
        .and_then(|op| DocumentedAnswer::of(op.name))
}

/// Every field name the hand-written answers (results, frames, tracks,
/// clips, verdicts, model results, overrides, identifiers, health) know:
/// they write these themselves, or leave them out on purpose.
const KNOWN_FIELDS: &[&str] = &[
    "api_version",
    "audios",
    "c2pa",
    "chunk_details",
    "classification",
    "classification_details",
    "clips",
    "confidence",
    "count",
    "details",
    "elapsed_time",
    "end",
    "errors",
    "force_classification",
    "has_heatmap",
    "hash",
    "heuristic",
    "identifier",
    "images",
    "index",
    "is_nsfw",
    "label",
    "model",
    "models",
    "name",
    "ref_id",
    "result_url",
    "results",
    "score",
    "start",
    "status",
    "type",
    "unknown",
    "verdict",
    "verdicts",
];

/// Adds to a hand-written answer every field of the documented one it does
/// not know by name ([`KNOWN_FIELDS`]), at every depth both share (an
/// array's items are matched with the documented first item).
pub(crate) fn fill_unknown(answer: &mut Value, documented: &Value) {
    match (answer, documented) {
        (Value::Object(mine), Value::Object(theirs)) => {
            for (key, value) in theirs {
                match mine.get_mut(key) {
                    Some(own) => fill_unknown(own, value),
                    None if !KNOWN_FIELDS.contains(&key.as_str()) => {
                        mine.insert(key.clone(), value.clone());
                    }
                    None => {}
                }
            }
        }
        (Value::Array(mine), Value::Array(theirs)) => {
            if let Some(first) = theirs.first() {
                for item in mine {
                    fill_unknown(item, first);
                }
            }
        }
        _ => {}
    }
}

/// [`fill_unknown`] from the documented answer of `kind`'s `role`: its
/// example, then the value generated from its schema (for a field the
/// example does not show).
pub(crate) fn fill_from_role(answer: &mut Value, kind: &str, role: &str) {
    if let Some(documented) = of_role(kind, role) {
        fill_from(answer, documented);
    }
}

/// [`fill_unknown`] from `documented`'s example, then its generated value.
pub(crate) fn fill_from(answer: &mut Value, documented: &DocumentedAnswer) {
    for source in [documented.value(), documented.generated_value()]
        .into_iter()
        .flatten()
    {
        fill_unknown(answer, source);
    }
}

/// Largest request body read to check its fields (a larger one is refused
/// as Laravel's 413 would be, with the documented refusal).
const MAX_CHECKED_BODY: usize = 1024 * 1024;

/// The fields of a request as sent: (name, value) pairs, a file part's
/// value being its file name.
type Sent = Vec<(String, Value)>;

/// Answers `request` for `op` as the spec documents it: the inputs the spec
/// requires are checked (a refusal in the published shape names each field
/// that failed), then the documented answer is sent.
pub(crate) async fn answer(op: &'static Operation, request: Request) -> Response {
    let Some(documented) = DocumentedAnswer::of(op.name) else {
        return json_response(StatusCode::NOT_FOUND, &json!({ "error": "Not Found" }));
    };
    let query = request.uri().query().map(query_pairs).unwrap_or_default();
    let body = read_fields(documented, request).await;
    if let Some(status) = documented.validation_status {
        let mut errors: Vec<(&str, String)> = Vec::new();
        for input in documented.inputs_at(InputLocation::Query) {
            errors.extend(check(input, &query).map(|m| (field_name(input), m)));
        }
        match &body {
            Ok(fields) => {
                for input in documented.inputs_at(InputLocation::Body) {
                    errors.extend(check(input, fields).map(|m| (field_name(input), m)));
                }
            }
            Err(message) => errors.push(("body", message.clone())),
        }
        if !errors.is_empty() {
            return refusal(status, &errors);
        }
    }
    respond(documented)
}

/// The documented answer itself.
fn respond(documented: &DocumentedAnswer) -> Response {
    let status = StatusCode::from_u16(documented.status).unwrap_or(StatusCode::OK);
    let Some(content_type) = documented.content_type else {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = status;
        return response;
    };
    // A PNG answer with no example gets the mock's picture.
    let body = if documented.body.is_empty() && content_type == "image/png" {
        Body::from(super::heatmap_png())
    } else {
        Body::from(documented.body)
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// The refusal of invalid input: Laravel's 422 (`message`: the first
/// message and a count of the others; `errors` by field), or a 400 with
/// the messages by field.
fn refusal(status: u16, errors: &[(&str, String)]) -> Response {
    let mut by_field: Map<String, Value> = Map::new();
    for (field, message) in errors {
        let entry = by_field
            .entry((*field).to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.push(Value::String(message.clone()));
        }
    }
    if status == 422 {
        let first = errors.first().map(|(_, m)| m.as_str()).unwrap_or("");
        let message = match errors.len() {
            0 | 1 => first.to_string(),
            2 => format!("{first} (and 1 more error)"),
            n => format!("{first} (and {} more errors)", n - 1),
        };
        json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({ "message": message, "errors": by_field }),
        )
    } else {
        json_response(StatusCode::BAD_REQUEST, &Value::Object(by_field))
    }
}

/// The name Laravel gives an input: a list's without its `[]`.
fn field_name(input: &Input) -> &'static str {
    input.name.trim_end_matches("[]")
}

/// Laravel's name of a field in its messages (`pricing_id`: `pricing id`).
fn attribute(name: &str) -> String {
    name.replace('_', " ")
}

/// What is wrong with `input` as sent in `sent`, as Laravel words it.
fn check(input: &Input, sent: &Sent) -> Option<String> {
    // `name`, or `name[...]` for a list (which the spec may call `name[]`).
    let base = field_name(input);
    let attr = attribute(base);
    let values: Vec<&Value> = sent
        .iter()
        .filter(|(n, _)| {
            n == base
                || n.strip_prefix(base)
                    .is_some_and(|rest| rest.starts_with('['))
        })
        .map(|(_, v)| v)
        .collect();
    let empty = |v: &Value| v.is_null() || v.as_str() == Some("");
    if values.is_empty() || (!input.nullable && values.iter().all(|v| empty(v))) {
        return input
            .required
            .then(|| format!("The {attr} field is required."));
    }
    for value in values.into_iter().filter(|v| !empty(v)) {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let ok = match input.kind {
            InputKind::Integer => value.is_i64() || text.parse::<i64>().is_ok(),
            InputKind::Number => value.is_number() || text.parse::<f64>().is_ok(),
            InputKind::Boolean => {
                value.is_boolean() || matches!(text.as_str(), "true" | "false" | "0" | "1")
            }
            InputKind::List | InputKind::Text | InputKind::File => true,
        };
        if !ok {
            let what = match input.kind {
                InputKind::Integer => "an integer",
                InputKind::Number => "a number",
                _ => "true or false",
            };
            return Some(format!("The {attr} field must be {what}."));
        }
        if !input.values.is_empty() && !input.values.contains(&text.as_str()) {
            return Some(format!("The selected {attr} is invalid."));
        }
    }
    None
}

/// The (name, value) pairs of a query string.
fn query_pairs(query: &str) -> Sent {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(name), Value::String(form_decode(value)))
        })
        .collect()
}

/// The fields of the request body, read as its declared content type says
/// (the whole body is read either way, as PHP does). `Err`: a body that
/// does not parse as that type.
async fn read_fields(documented: &DocumentedAnswer, request: Request) -> Result<Sent, String> {
    let sent_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    match documented.request_content_type {
        Some(ct) if ct.starts_with("multipart/form-data") && sent_type.starts_with(ct) => {
            read_multipart(request).await
        }
        Some(ct) if is_json(ct) => {
            let bytes = read_all(request).await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Vec::new());
            }
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => Ok(map.into_iter().collect()),
                _ => Err("The request body must be a JSON object.".into()),
            }
        }
        Some(ct) if ct.starts_with("application/x-www-form-urlencoded") => {
            let bytes = read_all(request).await?;
            Ok(query_pairs(&String::from_utf8_lossy(&bytes)))
        }
        // No body declared, or one of another type than declared: its
        // fields are not read (Laravel sees none of them).
        _ => {
            let _ = read_all(request).await;
            Ok(Vec::new())
        }
    }
}

async fn read_all(request: Request) -> Result<bytes::Bytes, String> {
    axum::body::to_bytes(request.into_body(), MAX_CHECKED_BODY)
        .await
        .map_err(|_| "The request body is too large.".to_string())
}

/// A multipart form's fields; a file part's value is its file name (its
/// bytes are read and dropped).
async fn read_multipart(request: Request) -> Result<Sent, String> {
    let malformed = || "The request body is not a valid multipart form.".to_string();
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|_| malformed())?;
    let mut fields = Vec::new();
    let mut total = 0usize;
    while let Some(mut field) = form.next_field().await.map_err(|_| malformed())? {
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let mut text = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| malformed())? {
            total += chunk.len();
            if total > MAX_CHECKED_BODY * 64 {
                return Err("The request body is too large.".into());
            }
            if file_name.is_none() && text.len() < MAX_CHECKED_BODY {
                text.extend_from_slice(&chunk);
            }
        }
        let value = match file_name {
            Some(file) => Value::String(if file.is_empty() { "file".into() } else { file }),
            None => Value::String(String::from_utf8_lossy(&text).into_owned()),
        };
        fields.push((name, value));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: InputKind, required: bool, nullable: bool) -> Input {
        Input {
            name: "pricing_id",
            location: InputLocation::Body,
            required,
            nullable,
            kind,
            values: &[],
            sample: "1",
            content_type: None,
        }
    }

    fn sent(pairs: &[(&str, Value)]) -> Sent {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn inputs_are_checked_as_laravel_words_it() {
        let int = input(InputKind::Integer, true, false);
        assert_eq!(
            check(&int, &sent(&[])).as_deref(),
            Some("The pricing id field is required.")
        );
        assert_eq!(
            check(&int, &sent(&[("pricing_id", json!(""))])).as_deref(),
            Some("The pricing id field is required.")
        );
        assert_eq!(
            check(&int, &sent(&[("pricing_id", json!("x"))])).as_deref(),
            Some("The pricing id field must be an integer.")
        );
        assert_eq!(check(&int, &sent(&[("pricing_id", json!("3"))])), None);
        assert_eq!(check(&int, &sent(&[("pricing_id", json!(3))])), None);
        // A required nullable field is there when sent empty.
        let id = input(InputKind::Integer, true, true);
        assert_eq!(check(&id, &sent(&[("pricing_id", json!(""))])), None);
        assert!(check(&id, &sent(&[])).is_some());
        let optional = input(InputKind::Integer, false, false);
        assert_eq!(check(&optional, &sent(&[])), None);
        let choice = Input {
            values: &["asc", "desc"],
            kind: InputKind::Text,
            ..optional
        };
        assert_eq!(
            check(&choice, &sent(&[("pricing_id", json!("up"))])).as_deref(),
            Some("The selected pricing id is invalid.")
        );
        let list = Input {
            kind: InputKind::List,
            ..int
        };
        assert_eq!(check(&list, &sent(&[("pricing_id[]", json!("a"))])), None);
    }

    #[test]
    fn unknown_fields_are_filled_at_every_depth() {
        let mut mine = json!({
            "hash": "h",
            "verdict": { "classification": "human" },
            "results": [{ "model": "m" }, { "model": "n" }],
        });
        let documented = json!({
            "hash": "other",
            "is_nsfw": false,
            "watermark": { "found": true },
            "verdict": { "classification": "artificial", "margin": 0.1 },
            "results": [{ "model": "x", "latency": 3 }],
        });
        fill_unknown(&mut mine, &documented);
        assert_eq!(
            mine,
            json!({
                "hash": "h",
                "watermark": { "found": true },
                "verdict": { "classification": "human", "margin": 0.1 },
                "results": [
                    { "model": "m", "latency": 3 },
                    { "model": "n", "latency": 3 },
                ],
            })
        );
    }

    #[test]
    fn every_operation_has_a_documented_answer() {
        for op in OPERATIONS {
            let documented = DocumentedAnswer::of(op.name).expect(op.name);
            assert!(op.statuses.contains(&documented.status), "{}", op.name);
            if documented.content_type.is_some_and(is_json) {
                assert!(documented.value().is_some(), "{}", op.name);
            }
        }
    }
}
