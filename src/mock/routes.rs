//! The axum application: the gate (faults, authentication, rate limits,
//! recording) and one handler per operation.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use serde_json::{json, Value};

use super::documented::{self, DocumentedAnswer};
use super::faults::Route;
use super::fixtures::{classification_body, heatmap_png_for, Style};
use super::limits::{retry_after_secs, Decision, MethodClass};
use super::state::{Phase, Shared};
use super::upload::{read_submission, rejection_response, Source, Spec};
use super::wire::{form_decode, json_response};
use super::RecordedRequest;
use crate::api::Operation;
use crate::Kind;

type AppState = Arc<Shared>;

/// Most identifiers accepted by the list endpoint.
const MAX_LIST_IDENTIFIERS: usize = 100;

/// Builds the application: every operation of a kind (`x-identifai`:
/// submit, submit by URL, result, list, override, heatmap) routed by its
/// kind and role from the generated operation list, so a kind the spec adds
/// is served like the others; `health`; every other operation answers as
/// documented (the fallback).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut paths: std::collections::BTreeMap<&'static str, MethodRouter<AppState>> =
        std::collections::BTreeMap::new();
    for op in crate::api::OPERATIONS {
        let filter = match op.method {
            "GET" => MethodFilter::GET,
            "POST" => MethodFilter::POST,
            "PUT" => MethodFilter::PUT,
            "PATCH" => MethodFilter::PATCH,
            "DELETE" => MethodFilter::DELETE,
            _ => continue,
        };
        let Some(handler) = kind_handler(op, filter) else {
            continue;
        };
        let entry = paths.remove(op.path).unwrap_or_default();
        paths.insert(op.path, entry.merge(handler));
    }
    let mut router = Router::new();
    for (path, methods) in paths {
        router = router.route(path, methods);
    }
    router
        // Every other operation of the spec: its documented answer.
        .fallback(documented_or_not_found)
        .method_not_allowed_fallback(documented_or_not_allowed)
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), gate))
        // Uploads are streamed and limited by the handlers themselves.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(shared)
}

/// The handler of `op` by its kind and role (`health` by name); `None`
/// for the operations answered as documented.
fn kind_handler(op: &'static Operation, filter: MethodFilter) -> Option<MethodRouter<AppState>> {
    type IdPath = Result<Path<String>, axum::extract::rejection::PathRejection>;
    if op.name == "health" {
        return Some(on(filter, health));
    }
    // An `<op>_alias` path is served as `<op>` (as `Route::of` counts it).
    let op = op
        .name
        .strip_suffix("_alias")
        .and_then(Operation::named)
        .unwrap_or(op);
    let kind: Kind = op.kind?.parse().ok()?;
    Some(match op.role? {
        "submit" => on(
            filter,
            move |State(shared): State<AppState>, request: Request| {
                let spec = Spec {
                    kind,
                    source: Source::File(kind.file_part()),
                };
                submit(shared, spec, request)
            },
        ),
        "submit_url" => on(
            filter,
            move |State(shared): State<AppState>, request: Request| {
                let spec = Spec {
                    kind,
                    source: Source::Url,
                };
                submit(shared, spec, request)
            },
        ),
        "result" => on(
            filter,
            move |State(shared): State<AppState>, id: IdPath| async move {
                match id {
                    Ok(Path(id)) => classification(&shared, &id, kind),
                    Err(_) => not_found_response(),
                }
            },
        ),
        "list" => on(
            filter,
            move |State(shared): State<AppState>, request: Request| async move {
                list_kind(&shared, kind, request)
            },
        ),
        "override" => on(
            filter,
            move |State(shared): State<AppState>, Path(hash): Path<String>, request: Request| async move {
                override_kind(&shared, kind, &hash, request).await
            },
        ),
        "heatmap" => on(
            filter,
            move |State(shared): State<AppState>, id: IdPath| async move {
                match id {
                    Ok(Path(id)) => heatmap(&shared, &id, kind),
                    Err(_) => not_found_response(),
                }
            },
        ),
        _ => return None,
    })
}

/// Laravel's answer to input that fails validation (the spec's 422
/// `ValidationErrorBody`), for one field and message.
pub(crate) fn laravel_422(field: &str, message: &str) -> Response {
    json_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({ "message": message, "errors": { field: [message] } }),
    )
}

fn error_response(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({ "error": message }))
}

fn not_found_response() -> Response {
    error_response(StatusCode::NOT_FOUND, "Not Found")
}

/// An operation of the spec the router has no handler for gets its
/// documented answer (`documented`); any other path is 404.
async fn documented_or_not_found(request: Request) -> Response {
    match Operation::recognize(request.method().as_str(), request.uri().path()) {
        Some(op) => documented::answer(op, request).await,
        None => not_found_response(),
    }
}

/// As [`documented_or_not_found`], for a path the router knows with
/// another method (405 when the spec has no such operation either).
async fn documented_or_not_allowed(request: Request) -> Response {
    match Operation::recognize(request.method().as_str(), request.uri().path()) {
        Some(op) => documented::answer(op, request).await,
        None => error_response(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
    }
}

/// Headers as recorded, with the API key redacted.
fn recorded_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = if name.as_str().eq_ignore_ascii_case("x-api-key") {
                "<redacted>".to_string()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_string(), value)
        })
        .collect()
}

/// How the gate answered, for the counters.
#[derive(Default)]
struct GateOutcome {
    fault: bool,
    rate_limited: bool,
}

/// Runs before every handler: counts and records the request, serves
/// injected faults, then checks the key and the rate limit.
async fn gate(State(shared): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().map(str::to_string);
    let headers = recorded_headers(request.headers());
    let route = Route::recognize(&method, &path);
    shared.count_request(&method, route);

    let mut outcome = GateOutcome::default();
    let response = admit(&shared, route, request, next, &mut outcome).await;

    let status = response.status().as_u16();
    tracing::debug!(
        method = %method,
        path = %path,
        route = ?route,
        status,
        fault = outcome.fault,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "identifai mock request"
    );
    shared.record_answer(
        RecordedRequest {
            method,
            path,
            query,
            headers,
            route,
            status,
        },
        outcome.fault,
        outcome.rate_limited,
    );
    response
}

/// Reads a request's body to its end, keeping none of it.
async fn drain(request: Request) {
    use futures::StreamExt;
    let mut body = request.into_body().into_data_stream();
    while let Some(Ok(_)) = body.next().await {}
}

async fn admit(
    shared: &Shared,
    route: Option<Route>,
    request: Request,
    next: Next,
    outcome: &mut GateOutcome,
) -> Response {
    // Unknown paths go straight to the router's 404/405 answers.
    let Some(route) = route else {
        return next.run(request).await;
    };
    if let Some(fault) = shared.take_fault(route) {
        outcome.fault = true;
        if fault.drains() {
            drain(request).await;
        }
        let scale = shared.config.time_scale;
        if let Some(delay) = fault.delay(scale) {
            tokio::time::sleep(delay).await;
        }
        return fault.to_response(scale);
    }
    // The spec says which operations need no key (`health`).
    if !route.needs_key() {
        return next.run(request).await;
    }

    let key = request
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let key = key.as_str();
    let config = &shared.config;
    // Refused before any work, but (as PHP does) after the whole request
    // was read: an answer sent mid-upload may reach the client as a reset.
    if !key.is_empty() && config.forbidden_keys.iter().any(|k| k == key) {
        drain(request).await;
        return error_response(StatusCode::FORBIDDEN, "Forbidden");
    }
    if key.is_empty() || !config.api_keys.iter().any(|k| k == key) {
        drain(request).await;
        return error_response(StatusCode::UNAUTHORIZED, "Unauthorized");
    }

    let class = if route.is_post() {
        MethodClass::Post
    } else {
        MethodClass::Get
    };
    let limit_headers = match shared.rate_check(key, class) {
        Decision::Limited { wait, limit } => {
            outcome.rate_limited = true;
            // As PHP does: the whole request is read before any answer.
            drain(request).await;
            let mut response = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                &json!({ "message": "Too Many Attempts." }),
            );
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
            headers.insert("x-ratelimit-remaining", HeaderValue::from(0u32));
            if config.retry_after {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after_secs(wait)),
                );
            }
            return response;
        }
        Decision::Allowed { limit, remaining } => Some((limit, remaining)),
        Decision::Unlimited => None,
    };

    let mut response = next.run(request).await;
    if let Some((limit, remaining)) = limit_headers {
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    }
    response
}

async fn health() -> Response {
    let mut body = json!({ "status": "ok" });
    if let Some(doc) = DocumentedAnswer::of("health") {
        documented::fill_from(&mut body, doc);
    }
    json_response(StatusCode::OK, &body)
}

/// Whether the client asked for a JSON identifier.
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .any(|v| String::from_utf8_lossy(v.as_bytes()).contains("application/json"))
}

async fn submit(shared: AppState, spec: Spec, request: Request) -> Response {
    let json = wants_json(request.headers());
    let accepted = match read_submission(&shared, spec, request).await {
        Ok(accepted) => accepted,
        Err(rejection) => return rejection_response(&rejection),
    };
    let id = shared.submit(
        spec.kind,
        &accepted.source,
        accepted.hash,
        accepted.name,
        accepted.options,
    );
    if json {
        let mut body = json!({ "identifier": id });
        let role = match spec.source {
            Source::File(_) => "submit",
            Source::Url => "submit_url",
        };
        documented::fill_from_role(&mut body, spec.kind.as_str(), role);
        json_response(StatusCode::OK, &body)
    } else {
        let mut response = Response::new(Body::from(id));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=UTF-8"),
        );
        response
    }
}

fn style(shared: &Shared, listed: bool) -> Style {
    Style {
        quirks: shared.config.quirks,
        listed,
    }
}

fn classification(shared: &Shared, id: &str, kind: Kind) -> Response {
    match shared.poll(id, kind) {
        Some((submission, phase)) => json_response(
            StatusCode::OK,
            &classification_body(&submission, phase, &shared.base_url, style(shared, false)),
        ),
        None => not_found_response(),
    }
}

/// `POST /api/classification{,_video,_audio}/{hash}/override`: JSON body
/// `{"classification": "human"|"artificial"}`; later answers for the file
/// carry it as `force_classification`. Answered with
/// [`super::MockConfig::override_status`] (200, 201 or 204 without a body);
/// an invalid body gets Laravel's 422 (`message` and `errors` by field), 404
/// a hash no submission of the kind has.
async fn override_kind(shared: &Shared, kind: Kind, hash: &str, request: Request) -> Response {
    let body = match axum::body::to_bytes(request.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return error_response(StatusCode::BAD_REQUEST, "The request body is too large."),
    };
    let classification = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
        v.get("classification")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let classification = match classification.as_deref() {
        Some(c @ ("human" | "artificial")) => c.to_string(),
        Some(_) => return laravel_422("classification", "The selected classification is invalid."),
        None => return laravel_422("classification", "The classification field is required."),
    };
    if !shared.set_override(kind, hash, &classification) {
        return not_found_response();
    }
    let status = match shared.config.override_status() {
        201 => StatusCode::CREATED,
        204 => return StatusCode::NO_CONTENT.into_response(),
        _ => StatusCode::OK,
    };
    let mut body = json!({
        "classification": classification,
        "type": kind.as_str(),
        "hash": hash.to_ascii_lowercase(),
    });
    documented::fill_from_role(&mut body, kind.as_str(), "override");
    json_response(status, &body)
}

/// The AI heatmap PNG of a finished classification that asked for one;
/// 204 otherwise.
fn heatmap(shared: &Shared, id: &str, kind: Kind) -> Response {
    match shared.peek(id, kind) {
        None => not_found_response(),
        Some((submission, Phase::Done)) if submission.options.with_heatmap => {
            let mut response = Response::new(Body::from(heatmap_png_for(&submission.hash)));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            response
        }
        Some(_) => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
    }
}

/// The identifiers of a list query, PHP style: `identifiers[]=A` (also
/// percent-encoded as `identifiers%5B%5D`) or `identifiers[0]=A`. `Err` if
/// `identifiers` was sent as a plain value rather than an array.
fn list_identifiers(query: &str) -> Result<Vec<String>, ()> {
    let mut ids = Vec::new();
    let mut scalar = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = form_decode(name);
        let Some(rest) = name.strip_prefix("identifiers") else {
            continue;
        };
        if rest.is_empty() {
            scalar = true;
        } else if rest.starts_with('[') && rest.ends_with(']') {
            let value = form_decode(value);
            if !value.is_empty() {
                ids.push(value);
            }
        }
    }
    if scalar && ids.is_empty() {
        Err(())
    } else {
        Ok(ids)
    }
}

fn list_kind(shared: &Shared, kind: Kind, request: Request) -> Response {
    let query = request.uri().query().unwrap_or("");
    let ids = match list_identifiers(query) {
        Ok(ids) => ids,
        Err(()) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({ "identifiers": ["The identifiers field must be an array."] }),
            );
        }
    };
    if ids.is_empty() || ids.len() > MAX_LIST_IDENTIFIERS {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({
                "identifiers": ["The identifiers field must have between 1 and 100 items."]
            }),
        );
    }
    let items: Vec<Value> = ids
        .iter()
        .filter_map(|id| shared.poll(id, kind))
        .map(|(submission, phase)| {
            classification_body(&submission, phase, &shared.base_url, style(shared, true))
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("identifiers%5B%5D"), "identifiers[]");
        assert_eq!(form_decode("a+b%20c"), "a b c");
        assert_eq!(form_decode("bad%zz%"), "bad%zz%");
        assert_eq!(form_decode("%4"), "%4");
    }

    #[test]
    fn list_query_forms() {
        assert_eq!(
            list_identifiers("identifiers%5B%5D=a&identifiers[]=b&identifiers[2]=c&x=1"),
            Ok(vec!["a".to_string(), "b".to_string(), "c".to_string()])
        );
        assert_eq!(list_identifiers("identifiers=a"), Err(()));
        assert_eq!(list_identifiers(""), Ok(vec![]));
    }
}
