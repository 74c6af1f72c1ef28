//! Operations of the API ([`Route`]) and injectable failures ([`Fault`]).

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderName, HeaderValue, Response, StatusCode};

use crate::api::Operation;

/// An operation of the identifAI API, as recognised by the mock server.
///
/// Used to count requests ([`MockStats::by_route`](super::MockStats)) and
/// to target injected faults ([`MockServer::inject`](super::MockServer)).
/// Requests are recognised from the generated operation list
/// ([`crate::api::OPERATIONS`]), so every operation of the spec has a route:
/// the named variants group the published operations (an `*_alias`
/// operation routes as the one it aliases, the three overrides as one), and
/// any other operation, one the spec adds included, is
/// [`Route::Operation`] with its operationId. Non-exhaustive: a later
/// spec may give a new operation a named variant of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Route {
    /// Matches every operation below (only meaningful for fault injection
    /// and [`MockStats::route`](super::MockStats::route)).
    Any,
    /// `GET /api/health`.
    Health,
    /// `POST /api/classification`.
    ClassifyImage,
    /// `POST /api/image_fromurl`.
    ClassifyImageFromUrl,
    /// `POST /api/classification_video`.
    ClassifyVideo,
    /// `POST /api/video_fromurl`.
    ClassifyVideoFromUrl,
    /// `GET /api/classification/{id}` and `GET /api/classification_image/{id}`.
    GetImageClassification,
    /// `GET /api/classification_video/{id}`.
    GetVideoClassification,
    /// `GET /api/classifications` and `GET /api/classifications_image`.
    ListClassifications,
    /// `GET /api/classification/heatmap/{id}` and
    /// `GET /api/classification_image/heatmap/{id}`.
    GetImageHeatmap,
    /// `POST /api/classification_audio`.
    ClassifyAudio,
    /// `POST /api/audio_fromurl`.
    ClassifyAudioFromUrl,
    /// `GET /api/classification_audio/{id}`.
    GetAudioClassification,
    /// `GET /api/classifications_video`.
    ListVideoClassifications,
    /// `GET /api/classifications_audio`.
    ListAudioClassifications,
    /// `POST /api/classification/{hash}/override` (and `_video`, `_audio`).
    OverrideClassification,
    /// Any other operation of the spec, by operationId (the partner
    /// operations, and whatever the spec adds): recognised, counted and a
    /// target for faults; after the key and rate-limit checks the mock
    /// checks the inputs the spec requires and sends its documented answer
    /// ([`DocumentedAnswer`](super::DocumentedAnswer)).
    Operation(&'static str),
}

impl Route {
    /// Whether a fault queued for `self` applies to a request for `route`.
    pub fn matches(self, route: Route) -> bool {
        self == Route::Any || self == route
    }

    /// The spec's operation of this route (for a route grouping several,
    /// the published one); `None` for [`Route::Any`].
    pub fn operation(self) -> Option<&'static Operation> {
        crate::api::OPERATIONS
            .iter()
            .find(|op| Route::of(op) == self)
    }

    /// Whether this operation is a submission (`x-identifai.role` `submit`
    /// or `submit_url`).
    pub fn is_submission(self) -> bool {
        self.operation().is_some_and(Operation::is_submission)
    }

    /// Whether this operation is a POST (submissions and overrides: the
    /// POST rate limit applies).
    pub fn is_post(self) -> bool {
        self.operation().is_some_and(Operation::is_post)
    }

    /// Whether the operation needs the API key (the spec's `security`).
    pub fn needs_key(self) -> bool {
        self.operation().is_none_or(|op| op.api_key)
    }

    /// Recognises the operation of a request from its method and path
    /// (`HEAD` counts as `GET`), matching the generated operation list.
    pub fn recognize(method: &str, path: &str) -> Option<Route> {
        Operation::recognize(method, path).map(Route::of)
    }

    /// The route of a spec operation: an `<op>_alias` routes as `<op>`; the
    /// published operations by their kind and role (`x-identifai`); any
    /// other is [`Route::Operation`].
    pub fn of(op: &'static Operation) -> Route {
        let op = op
            .name
            .strip_suffix("_alias")
            .and_then(Operation::named)
            .unwrap_or(op);
        match (op.kind, op.role) {
            (Some("image"), Some("submit")) => Route::ClassifyImage,
            (Some("image"), Some("submit_url")) => Route::ClassifyImageFromUrl,
            (Some("video"), Some("submit")) => Route::ClassifyVideo,
            (Some("video"), Some("submit_url")) => Route::ClassifyVideoFromUrl,
            (Some("audio"), Some("submit")) => Route::ClassifyAudio,
            (Some("audio"), Some("submit_url")) => Route::ClassifyAudioFromUrl,
            (Some("image"), Some("result")) => Route::GetImageClassification,
            (Some("video"), Some("result")) => Route::GetVideoClassification,
            (Some("audio"), Some("result")) => Route::GetAudioClassification,
            (Some("image"), Some("list")) => Route::ListClassifications,
            (Some("video"), Some("list")) => Route::ListVideoClassifications,
            (Some("audio"), Some("list")) => Route::ListAudioClassifications,
            (Some("image"), Some("heatmap")) => Route::GetImageHeatmap,
            (Some("image" | "video" | "audio"), Some("override")) => Route::OverrideClassification,
            _ if op.name == "health" => Route::Health,
            _ => Route::Operation(op.name),
        }
    }
}

/// `d` on a clock running at `time_scale` (the server's, already sanitised
/// to a finite positive number).
fn scale(d: Duration, time_scale: f64) -> Duration {
    Duration::try_from_secs_f64(d.as_secs_f64() * time_scale).unwrap_or(Duration::MAX)
}

/// A `Retry-After` of `secs` on a clock running at `time_scale`: whole
/// seconds at real time; otherwise the scaled seconds, rounded up to the
/// millisecond so that a wait to come never reads as zero.
fn retry_after_value(secs: u64, time_scale: f64) -> HeaderValue {
    if time_scale == 1.0 || secs == 0 {
        return HeaderValue::from(secs);
    }
    let millis = (secs as f64 * time_scale * 1000.0).ceil().max(1.0);
    let text = format!("{:.3}", millis / 1000.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from(secs))
}

/// A canned answer that replaces normal handling of one request.
///
/// Queue it with [`MockServer::inject`](super::MockServer::inject). The
/// constructors cover the usual failures; the `with_*` methods adjust them.
/// Its durations run on the server's clock, as every duration of the mock
/// does: the delay and the `Retry-After` are multiplied by
/// [`MockConfig::time_scale`](super::MockConfig::time_scale), so at `0.01`
/// `Fault::service_unavailable(Some(1))` costs a client 10 ms, not a second.
///
/// ```
/// use identifai::mock::Fault;
/// use std::time::Duration;
///
/// let fault = Fault::new(500, "application/json", r#"{"message":"Server Error"}"#)
///     .with_retry_after(2)
///     .with_header("X-Request-Id", "abc")
///     .with_delay(Duration::from_millis(5));
/// assert_eq!(fault.status(), 500);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
    retry_after: Option<u64>,
    location: Option<String>,
    headers: Vec<(String, String)>,
    delay: Option<Duration>,
    truncate: bool,
    drain: bool,
}

impl Fault {
    /// A fault answering `status` with `body` of type `content_type`.
    pub fn new(status: u16, content_type: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type: Some(content_type.into()),
            body: body.into(),
            retry_after: None,
            location: None,
            headers: Vec::new(),
            delay: None,
            truncate: false,
            drain: true,
        }
    }

    /// A fault answering `status` with the JSON `body`.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self::new(status, "application/json", body.to_string())
    }

    /// `500` with Laravel's `{"message":"Server Error"}`.
    pub fn server_error() -> Self {
        Self::json(500, &serde_json::json!({ "message": "Server Error" }))
    }

    /// `502` with an HTML page, as a reverse proxy sends it.
    pub fn bad_gateway_html() -> Self {
        Self::new(
            502,
            "text/html",
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
             <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
             </body>\r\n</html>\r\n",
        )
    }

    /// `503` with `{"message":"Service Unavailable"}` and an optional
    /// `Retry-After` in seconds (scaled by the server's `time_scale`).
    pub fn service_unavailable(retry_after: Option<u64>) -> Self {
        let fault = Self::json(
            503,
            &serde_json::json!({ "message": "Service Unavailable" }),
        );
        match retry_after {
            Some(secs) => fault.with_retry_after(secs),
            None => fault,
        }
    }

    /// `429` with `{"message":"Too Many Attempts."}` and an optional
    /// `Retry-After` in seconds (scaled by the server's `time_scale`), as if
    /// the rate limit were hit.
    pub fn too_many_attempts(retry_after: Option<u64>) -> Self {
        let fault = Self::json(429, &serde_json::json!({ "message": "Too Many Attempts." }));
        match retry_after {
            Some(secs) => fault.with_retry_after(secs),
            None => fault,
        }
    }

    /// `200` whose JSON body is cut off mid-document.
    pub fn truncated_json() -> Self {
        Self::new(
            200,
            "application/json",
            r#"{"identifier":"0123456789abcdef","status":"do"#,
        )
    }

    /// `200` with an HTML body where JSON was expected.
    pub fn wrong_content_type() -> Self {
        Self::new(
            200,
            "text/html; charset=UTF-8",
            "<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>",
        )
    }

    /// `307 Temporary Redirect` to `location` (an absolute URL, or a path
    /// on the mock server itself).
    pub fn redirect(location: impl Into<String>) -> Self {
        let mut fault = Self::new(307, "text/plain", "");
        fault.content_type = None;
        fault.location = Some(location.into());
        fault
    }

    /// A response that promises a longer body (`Content-Length`) than it
    /// sends: the server closes the connection before the response is
    /// complete, and the client sees an I/O error (from `send` or while
    /// reading the body, depending on buffering).
    pub fn disconnect() -> Self {
        let mut fault = Self::new(200, "application/json", r#"{"identifier":"#);
        fault.truncate = true;
        fault
    }

    /// Adds a `Retry-After: secs` header, in the server's time: at a
    /// `time_scale` other than 1 it is sent as the scaled number of seconds,
    /// with a fraction when it has one (`0.01`; this crate's client reads
    /// fractions). A `Retry-After` set with [`Fault::with_header`] is sent
    /// as written.
    #[must_use]
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// Adds a header. Names or values that are not valid HTTP are skipped,
    /// and so are `Content-Length` and `Transfer-Encoding` (the server
    /// frames the body itself; see [`Fault::disconnect`]).
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Waits `delay` before answering (to exercise client timeouts),
    /// scaled by the server's `time_scale` like its other durations.
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Answers without reading the request body first (like a proxy that
    /// refuses early). By default a fault's request body is read to the
    /// end, then answered, as the real service (PHP) does: an answer sent
    /// while the client is still uploading may reach it as a reset
    /// connection instead.
    #[must_use]
    pub fn without_draining(mut self) -> Self {
        self.drain = false;
        self
    }

    /// Whether the request body is read before answering.
    pub(crate) fn drains(&self) -> bool {
        self.drain
    }

    /// Replaces the body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Replaces the `Content-Type`.
    #[must_use]
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The HTTP status this fault answers with.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The delay before answering, if any, on a server whose clock runs at
    /// `time_scale`.
    pub(crate) fn delay(&self, time_scale: f64) -> Option<Duration> {
        self.delay.map(|d| scale(d, time_scale))
    }

    /// Builds the HTTP response, its `Retry-After` on a clock running at
    /// `time_scale`. An invalid status becomes 500; invalid headers are
    /// skipped.
    pub(crate) fn to_response(&self, time_scale: f64) -> Response<Body> {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        if let Some(ct) = &self.content_type {
            if let Ok(value) = HeaderValue::from_str(ct) {
                headers.insert(header::CONTENT_TYPE, value);
            }
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, retry_after_value(secs, time_scale));
        }
        if let Some(location) = &self.location {
            if let Ok(value) = HeaderValue::from_str(location) {
                headers.insert(header::LOCATION, value);
            }
        }
        for (name, value) in &self.headers {
            // The framing headers are hyper's to write.
            if name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("transfer-encoding")
            {
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
        if self.truncate {
            let promised = self.body.len() as u64 + 1024;
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(promised));
            // A streamed body has no exact size, so hyper trusts the header
            // and closes the connection when the body ends early.
            let (parts, body) = response.into_parts();
            return Response::from_parts(parts, Body::from_stream(body.into_data_stream()));
        }
        response
    }
}
