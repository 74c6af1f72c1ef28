//! A stateful fake of the identifAI API that runs on loopback.
//!
//! [`MockServer`] starts an HTTP server bound to `127.0.0.1` on a free port,
//! on a dedicated thread with its own tokio runtime, so it can be used from
//! synchronous tests, async tests, benchmarks and command-line tools alike.
//! It implements the published routes (health, the submissions, the results
//! and list endpoints of every kind, the heatmap and the overrides), the
//! service's authentication rules and error bodies, the published rate
//! limits (as a sliding-window log with a configurable time scale) and fault
//! injection. Every other operation of the spec (the partner operations,
//! and any the spec adds) gets its [`DocumentedAnswer`], generated from the
//! spec: the documented status, content type and example (else a value
//! generated from the schema), once the inputs the spec requires are there
//! and of the right type (else Laravel's 422 naming each field, or a 400
//! where the spec documents no 422). The hand-written answers take from the
//! documented ones every field they do not write by name, so a field the
//! spec adds shows in them too.
//!
//! Outcomes are deterministic and can be steered per submission through
//! `ref_id` directives:
//!
//! | `ref_id` contains | effect |
//! |---|---|
//! | `mock:artificial` | the verdict is `artificial` |
//! | `mock:human` | the verdict is `human` |
//! | `mock:errored` | the classification ends in `status: "errored"` |
//! | `mock:pre-1.1` | the pre-1.1.0 response shape (no `status`, no `api_version`) |
//!
//! Without a directive the verdict is `artificial` when a word of the file
//! name (for a URL, of its last path segment) is `ai` or `fake`,
//! case-insensitive: words are split at anything not a letter or digit and
//! where a lower-case letter meets a capital (`ai-cat.png`, `cat_fake.jpg`,
//! `MidjourneyAI.png`; never `mountain.png`, `email-header.png`,
//! `portrait.png` or `train.png`). Otherwise the media's content decides:
//! the parity of the first byte of its SHA-256 (odd: `artificial`, even:
//! `human`), the same on every run.
//!
//! Identifiers are the SHA-256 of the media (the file's SHA-256, or the URL)
//! and the normalised option set, so resubmitting the same media with the
//! same options returns the cached identifier and its state, as the service
//! does; `no_cache=true` always makes a fresh identifier. Uploads are
//! streamed and hashed chunk by chunk, never held in memory.
//!
//! Every request passes, in order: injected faults ([`MockServer::inject`]),
//! then (except `/api/health`) the `X-Api-Key` check (401/403) and the rate
//! limit (429), all before any of the body is read; then the handler.
//!
//! ```
//! use identifai::mock::{MockConfig, MockServer};
//!
//! let server = MockServer::start_with(MockConfig::default().with_rate_limits(None));
//! assert!(server.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(server.api_key(), "mock-api-key");
//! assert_eq!(server.stats().requests, 0);
//! // The server shuts down when `server` is dropped.
//! ```

mod documented;
mod faults;
mod fixtures;
pub mod httpmock;
mod limits;
mod routes;
mod state;
mod upload;
mod wire;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use documented::{DocumentedAnswer, Input, InputKind, InputLocation};
pub use faults::{Fault, Route};
pub use fixtures::{heatmap_png, heatmap_png_for};

/// How long [`MockServer`]'s `Drop` waits for in-flight requests before it
/// cuts them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Configuration of a [`MockServer`].
///
/// Build one from [`MockConfig::default`] with the `with_*` setters (every
/// config of the crate has this style: private fields, `with_*` setters,
/// getters named after the setting):
///
/// ```
/// use identifai::{mock::MockConfig, config::RateLimits};
///
/// let config = MockConfig::default()
///     .with_polls_until_done(0)
///     .with_time_scale(0.01)
///     .with_rate_limits(Some(RateLimits::PUBLISHED));
/// assert_eq!(config.api_keys(), ["mock-api-key".to_string()]);
/// ```
#[derive(Clone, Debug)]
pub struct MockConfig {
    /// Keys accepted in the `X-Api-Key` header. Any other key gets 401.
    api_keys: Vec<String>,
    /// Keys that are known but forbidden (terms of service not accepted):
    /// they get 403.
    forbidden_keys: Vec<String>,
    /// How many GETs of an identifier answer `status: "new"` before it is
    /// `done` (or `errored`). `0` makes submissions complete at once.
    /// Not used when [`MockConfig::processing_time`] is set.
    polls_until_done: u32,
    /// When set, `(min, max)`: each submission is `new` until a fixed time
    /// in `[min, max]` after it was accepted (derived from its hash, so
    /// the same file always takes as long; scaled by `time_scale`), then
    /// `done` (or `errored`), however often it is polled.
    processing_time: Option<(Duration, Duration)>,
    /// Per-key rate limits (the client's own type: POST and GET routes are
    /// counted separately, `/api/health` is never limited, a limit of `0`
    /// disables that window), or `None` to disable rate limiting. Their
    /// windows are scaled by [`MockConfig::time_scale`]; `RateLimits::time_scale`
    /// is not used by the mock.
    rate_limits: Option<crate::config::RateLimits>,
    /// Multiplies every rate-limit window and processing time, and the
    /// delay and `Retry-After` of injected faults ([`Fault`]): `1.0` is
    /// real time, `0.01` makes the windows 100 times shorter (10 ms and
    /// 600 ms). Values that are not finite and positive are treated as `1.0`.
    time_scale: f64,
    /// Whether 429 answers carry a `Retry-After` header. Its value is the
    /// real (scaled) wait until a request fits again, rounded up to whole
    /// seconds, at least 1. Rate-limited routes also answer
    /// `X-RateLimit-Limit` and `X-RateLimit-Remaining`, as Laravel does.
    retry_after: bool,
    /// Largest accepted image upload, in bytes.
    max_image_bytes: u64,
    /// Largest accepted video upload, in bytes.
    max_video_bytes: u64,
    /// How many requests [`MockServer::requests`] keeps (the oldest are
    /// dropped first).
    max_recorded_requests: usize,
    /// Largest accepted audio upload, in bytes.
    max_audio_bytes: u64,
    /// Answer like the PHP backend at its most surprising: every empty JSON
    /// map is written `[]` (PHP's `json_encode` of an empty array), every
    /// boolean of a result `0` or `1` (a MySQL boolean column without a
    /// Laravel cast), pending results carry `"results": []`, and every
    /// result carries fields the spec does not name, at the top level,
    /// inside verdicts, inside each video frame and audio clip
    /// (`mock_extra`, `mock_node`), so that a client can be shown to decode
    /// them and keep them. See
    /// [`MockConfig::with_quirks`].
    quirks: bool,
    /// The status an override is answered with: 200 (the default) or 201
    /// with the override as JSON, or 204 with no body (the spec documents
    /// all three; no page shows which the service sends).
    override_status: u16,
}

impl MockConfig {
    /// This configuration with [`quirks`](Self::quirks) on or off.
    ///
    /// ```
    /// let config = identifai::mock::MockConfig::default().with_quirks(true);
    /// assert!(config.quirks());
    /// ```
    pub fn with_quirks(mut self, on: bool) -> Self {
        self.quirks = on;
        self
    }
}

/// Reading the settings back.
impl MockConfig {
    /// Keys accepted in the `X-Api-Key` header.
    pub fn api_keys(&self) -> &[String] {
        &self.api_keys
    }
    /// Keys that are known but forbidden (403).
    pub fn forbidden_keys(&self) -> &[String] {
        &self.forbidden_keys
    }
    /// How many GETs of an identifier answer `new` before it is done.
    pub fn polls_until_done(&self) -> u32 {
        self.polls_until_done
    }
    /// The range of processing times, `(min, max)`, if results finish by
    /// time rather than by polls.
    pub fn processing_time(&self) -> Option<(Duration, Duration)> {
        self.processing_time
    }
    /// How long a submission of the file (or URL) with SHA-256 `hash` (hex)
    /// stays `new` after it is accepted, in unscaled time, if
    /// [`MockConfig::processing_time`] is set: `min + (max - min) * f`,
    /// where `f` in `[0, 1)` is the hash's first 8 bytes read as a fraction.
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = identifai::mock::MockConfig::default()
    ///     .with_processing_time(Duration::from_secs(5), Duration::from_secs(40));
    /// let zero = "00".repeat(32);
    /// assert_eq!(config.processing_time_of(&zero), Some(Duration::from_secs(5)));
    /// let half = format!("80{}", "00".repeat(31));
    /// assert_eq!(config.processing_time_of(&half), Some(Duration::from_millis(22_500)));
    /// ```
    pub fn processing_time_of(&self, hash: &str) -> Option<Duration> {
        let (min, max) = self.processing_time?;
        let head = hash.get(..16).unwrap_or("");
        let n = u64::from_str_radix(head, 16).unwrap_or(0);
        // 2^-64: the first 8 bytes as a fraction of 1.
        let fraction = n as f64 / 18_446_744_073_709_551_616.0;
        Some(min + (max - min).mul_f64(fraction))
    }
    /// Per-key rate limits, or `None`.
    pub fn rate_limits(&self) -> Option<crate::config::RateLimits> {
        self.rate_limits
    }
    /// Multiplies every rate-limit window (1.0: real time).
    pub fn time_scale(&self) -> f64 {
        self.time_scale
    }
    /// Whether 429 answers carry `Retry-After`.
    pub fn retry_after(&self) -> bool {
        self.retry_after
    }
    /// Largest accepted image upload, in bytes.
    pub fn max_image_bytes(&self) -> u64 {
        self.max_image_bytes
    }
    /// Largest accepted video upload, in bytes.
    pub fn max_video_bytes(&self) -> u64 {
        self.max_video_bytes
    }
    /// How many requests `MockServer::requests` keeps.
    pub fn max_recorded_requests(&self) -> usize {
        self.max_recorded_requests
    }
    /// Largest accepted audio upload, in bytes.
    pub fn max_audio_bytes(&self) -> u64 {
        self.max_audio_bytes
    }
    /// Whether the mock answers with the PHP backend's quirks.
    pub fn quirks(&self) -> bool {
        self.quirks
    }
    /// The status overrides are answered with (200, 201 or 204).
    pub fn override_status(&self) -> u16 {
        self.override_status
    }
    /// Sets [`MockConfig::override_status`]: 200 or 201 answer the override
    /// as JSON, 204 with no body; any other value is read as 200.
    ///
    /// ```
    /// let config = identifai::mock::MockConfig::default().with_override_status(204);
    /// assert_eq!(config.override_status(), 204);
    /// ```
    pub fn with_override_status(mut self, status: u16) -> Self {
        self.override_status = if matches!(status, 201 | 204) {
            status
        } else {
            200
        };
        self
    }
    /// Sets [`MockConfig::api_keys`]: keys accepted in the `X-Api-Key` header.
    pub fn with_api_keys(mut self, api_keys: Vec<String>) -> Self {
        self.api_keys = api_keys;
        self
    }
    /// Sets [`MockConfig::forbidden_keys`]: keys that are known but forbidden (403).
    pub fn with_forbidden_keys(mut self, forbidden_keys: Vec<String>) -> Self {
        self.forbidden_keys = forbidden_keys;
        self
    }
    /// Sets [`MockConfig::polls_until_done`]: how many GETs of an identifier answer `new` before it is done.
    pub fn with_polls_until_done(mut self, polls_until_done: u32) -> Self {
        self.polls_until_done = polls_until_done;
        self
    }
    /// Sets [`MockConfig::processing_time`]: every submission turns `done`
    /// at a fixed time in `[min, max]` after it was accepted (see
    /// [`MockConfig::processing_time_of`]), scaled by `time_scale`, instead
    /// of after [`MockConfig::polls_until_done`] polls. `max` below `min`
    /// is taken as `min`.
    ///
    /// ```
    /// use std::time::Duration;
    /// // identifAI's usual 5-40 s, 20 times faster (0.25-2 s).
    /// let config = identifai::mock::MockConfig::default()
    ///     .with_processing_time(Duration::from_secs(5), Duration::from_secs(40))
    ///     .with_time_scale(0.05);
    /// assert_eq!(
    ///     config.processing_time(),
    ///     Some((Duration::from_secs(5), Duration::from_secs(40)))
    /// );
    /// ```
    pub fn with_processing_time(mut self, min: Duration, max: Duration) -> Self {
        self.processing_time = Some((min, max.max(min)));
        self
    }
    /// Sets [`MockConfig::rate_limits`]: per-key rate limits, or `None`.
    pub fn with_rate_limits(mut self, rate_limits: Option<crate::config::RateLimits>) -> Self {
        self.rate_limits = rate_limits;
        self
    }
    /// Sets [`MockConfig::time_scale`]: multiplies every rate-limit window (1.0: real time).
    pub fn with_time_scale(mut self, time_scale: f64) -> Self {
        self.time_scale = time_scale;
        self
    }
    /// Sets [`MockConfig::retry_after`]: whether 429 answers carry `Retry-After`.
    pub fn with_retry_after(mut self, retry_after: bool) -> Self {
        self.retry_after = retry_after;
        self
    }
    /// Sets [`MockConfig::max_image_bytes`]: largest accepted image upload, in bytes.
    pub fn with_max_image_bytes(mut self, max_image_bytes: u64) -> Self {
        self.max_image_bytes = max_image_bytes;
        self
    }
    /// Sets [`MockConfig::max_video_bytes`]: largest accepted video upload, in bytes.
    pub fn with_max_video_bytes(mut self, max_video_bytes: u64) -> Self {
        self.max_video_bytes = max_video_bytes;
        self
    }
    /// Sets [`MockConfig::max_recorded_requests`]: how many requests `MockServer::requests` keeps.
    pub fn with_max_recorded_requests(mut self, max_recorded_requests: usize) -> Self {
        self.max_recorded_requests = max_recorded_requests;
        self
    }
    /// Sets [`MockConfig::max_audio_bytes`]: largest accepted audio upload, in bytes.
    pub fn with_max_audio_bytes(mut self, max_audio_bytes: u64) -> Self {
        self.max_audio_bytes = max_audio_bytes;
        self
    }
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            api_keys: vec!["mock-api-key".to_string()],
            forbidden_keys: vec!["mock-forbidden-key".to_string()],
            polls_until_done: 1,
            processing_time: None,
            rate_limits: Some(crate::config::RateLimits::PUBLISHED),
            time_scale: 1.0,
            retry_after: true,
            max_image_bytes: 50 * 1024 * 1024,
            max_video_bytes: 5 * 1024 * 1024 * 1024,
            max_recorded_requests: 10_000,
            max_audio_bytes: 50 * 1024 * 1024,
            quirks: false,
            override_status: 200,
        }
    }
}

/// Counters kept by a [`MockServer`] since it started or since
/// [`MockServer::reset_stats`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MockStats {
    /// Every request received, on any path.
    pub requests: u64,
    /// Requests with method POST.
    pub posts: u64,
    /// Requests with method GET.
    pub gets: u64,
    /// Requests per recognised operation.
    pub by_route: BTreeMap<Route, u64>,
    /// Answers per HTTP status code.
    pub by_status: BTreeMap<u16, u64>,
    /// Requests answered 429 by the rate limiter (injected 429s are not
    /// counted here, but are in `by_status`).
    pub rate_limited: u64,
    /// Requests answered by an injected [`Fault`].
    pub faults_served: u64,
    /// Bytes of uploaded file contents read by the server (the payload of
    /// `image` and `video` parts, whether accepted or not).
    pub bytes_received: u64,
    /// Submissions accepted (answered 200 with an identifier).
    pub submissions: u64,
    /// Submissions taken, per SHA-256 of the file (or per URL): a file
    /// uploaded twice shows 2 (a paid classification paid twice).
    pub taken_by_hash: BTreeMap<String, u64>,
}

impl MockStats {
    /// Requests received for `route` ([`Route::Any`] gives all recognised
    /// operations).
    pub fn route(&self, route: Route) -> u64 {
        match route {
            Route::Any => self.by_route.values().sum(),
            other => self.by_route.get(&other).copied().unwrap_or(0),
        }
    }

    /// Answers sent with HTTP status `code`.
    pub fn status(&self, code: u16) -> u64 {
        self.by_status.get(&code).copied().unwrap_or(0)
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `"POST"`.
    pub method: String,
    /// Path of the request URI, e.g. `"/api/classification"`.
    pub path: String,
    /// Raw query string, without the `?`.
    pub query: Option<String>,
    /// Request headers as `(lower-case name, value)`, with the `X-Api-Key`
    /// value replaced by `"<redacted>"`.
    pub headers: Vec<(String, String)>,
    /// The operation the request was recognised as, if any.
    pub route: Option<Route>,
    /// HTTP status answered.
    pub status: u16,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running fake identifAI server on `127.0.0.1`.
///
/// The server runs on its own thread and tokio runtime; dropping the
/// `MockServer` shuts it down gracefully (in-flight requests get
/// a short grace period) and joins the thread.
///
/// ```
/// use identifai::mock::{Fault, MockConfig, MockServer, Route};
/// use std::io::{Read, Write};
///
/// let server = MockServer::start_with(MockConfig::default().with_rate_limits(None));
/// server.inject(Route::Health, Fault::service_unavailable(Some(3)));
///
/// let addr = server.base_url().trim_start_matches("http://").to_string();
/// let mut stream = std::net::TcpStream::connect(addr).unwrap();
/// stream
///     .write_all(b"GET /api/health HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n")
///     .unwrap();
/// let mut answer = String::new();
/// stream.read_to_string(&mut answer).unwrap();
/// assert!(answer.starts_with("HTTP/1.1 503"));
/// assert_eq!(server.stats().faults_served, 1);
/// ```
pub struct MockServer {
    shared: Arc<state::Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Starts a server with [`MockConfig::default`].
    ///
    /// # Panics
    ///
    /// Panics if no loopback port can be bound or the runtime cannot start;
    /// use [`MockServer::try_start_with`] to get the error instead.
    pub fn start() -> MockServer {
        Self::start_with(MockConfig::default())
    }

    /// Starts a server with `config`. Returns once it accepts connections.
    ///
    /// # Panics
    ///
    /// Panics if no loopback port can be bound or the runtime cannot start;
    /// use [`MockServer::try_start_with`] to get the error instead.
    pub fn start_with(config: MockConfig) -> MockServer {
        match Self::try_start_with(config) {
            Ok(server) => server,
            Err(err) => panic!("identifai mock server failed to start: {err}"),
        }
    }

    /// Starts a server with `config`, returning an error instead of
    /// panicking when it cannot start. Works inside or outside a tokio
    /// runtime.
    ///
    /// # Errors
    ///
    /// Fails if no port on `127.0.0.1` can be bound, or the server thread or
    /// its runtime cannot be started.
    pub fn try_start_with(config: MockConfig) -> std::io::Result<MockServer> {
        Self::try_start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config)
    }

    /// Starts a server with `config` listening on `addr` (port 0: any free
    /// port), as `identifai mock --port N` does. Bind a non-loopback address
    /// only on a network you trust: the mock accepts its well-known keys.
    ///
    /// # Errors
    ///
    /// Fails if `addr` cannot be bound, or the server thread or its runtime
    /// cannot be started.
    pub fn try_start_on(addr: SocketAddr, config: MockConfig) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let shared = Arc::new(state::Shared::new(config, base_url));

        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let app_state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("identifai-mock-{}", addr.port()))
            .spawn(move || serve(listener, app_state, ready_tx, shutdown_rx))?;

        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                let _ = thread.join();
                return Err(err);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(std::io::Error::other("mock server thread exited early"));
            }
        }
        tracing::debug!(%addr, "identifai mock server listening");
        Ok(MockServer {
            shared,
            addr,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }

    /// The server's base URL, `http://127.0.0.1:PORT`, without a trailing
    /// slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A key the server accepts: the first of [`MockConfig::api_keys`]
    /// (`"mock-api-key"` by default), or `""` if none is configured.
    pub fn api_key(&self) -> &str {
        self.shared
            .config
            .api_keys
            .first()
            .map(String::as_str)
            .unwrap_or("")
    }

    /// A [`crate::ClientBuilder`] for this server: its key and base URL,
    /// pacing under its limits on its clock (`time_scale`), and polls as
    /// fast as its clock allows. Add settings and `build()`.
    ///
    /// ```
    /// let server = identifai::mock::MockServer::start();
    /// let client = server.client_builder().build()?;
    /// # Ok::<(), identifai::Error>(())
    /// ```
    pub fn client_builder(&self) -> crate::ClientBuilder {
        let scale = self.config().time_scale;
        // A limit of 0 turns that window off on the server: no pacing for it.
        let off = |n: u32| if n == 0 { u32::MAX } else { n };
        let pacing = self.config().rate_limits.map(|l| {
            l.with_posts_per_second(off(l.posts_per_second()))
                .with_posts_per_minute(off(l.posts_per_minute()))
                .with_gets_per_second(off(l.gets_per_second()))
                .with_gets_per_minute(off(l.gets_per_minute()))
                .with_time_scale(scale)
        });
        let tick = std::time::Duration::from_secs_f64(scale.clamp(0.005, 1.0));
        crate::Client::builder()
            .api_key(self.api_key())
            .base_url(self.base_url())
            .rate_limits(pacing)
            .wait(
                crate::config::WaitConfig::default()
                    .with_initial_interval(tick)
                    .with_max_interval(tick * 5),
            )
    }

    /// The configuration the server runs with (with `time_scale` sanitised).
    pub fn config(&self) -> &MockConfig {
        &self.shared.config
    }

    /// A snapshot of the server's counters.
    pub fn stats(&self) -> MockStats {
        self.shared.stats()
    }

    /// The requests received so far (at most
    /// [`MockConfig::max_recorded_requests`], oldest first).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// Queues `fault` to answer the next request matching `route`
    /// ([`Route::Any`] matches every recognised operation, health included).
    /// Faults are consumed in the order they were queued, one per request,
    /// before authentication, rate limiting and normal handling; the request
    /// body of a faulted request is read to its end (and dropped) before the
    /// answer, unless the fault says [`Fault::without_draining`].
    pub fn inject(&self, route: Route, fault: Fault) {
        self.shared.inject(route, fault);
    }

    /// Queues `fault` `times` times for `route`.
    pub fn inject_times(&self, route: Route, fault: Fault, times: usize) {
        for _ in 0..times {
            self.shared.inject(route, fault.clone());
        }
    }

    /// Faults still queued.
    pub fn pending_faults(&self) -> usize {
        self.shared.pending_faults()
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// Resets the counters of [`MockServer::stats`] and clears the request
    /// log. Submissions, faults and rate-limit windows are kept.
    pub fn reset_stats(&self) {
        self.shared.reset_stats();
    }

    /// Forgets every request in the rate-limit windows, so the next requests
    /// are allowed.
    pub fn reset_rate_limits(&self) {
        self.shared.reset_rate_limits();
    }

    /// Number of distinct identifiers the server knows.
    pub fn submission_count(&self) -> usize {
        self.shared.submission_count()
    }

    /// When the submission `id` was first accepted, if the server knows it.
    pub fn accepted_at(&self, id: &str) -> Option<Instant> {
        self.shared.accepted_at(id)
    }

    /// When the classification `id` finished (turned `done` or `errored`),
    /// if it has: with [`MockConfig::with_processing_time`], its acceptance
    /// plus its (scaled) processing time; else the answer to the poll after
    /// which it is finished (its acceptance when `polls_until_done` is 0).
    /// What a benchmark subtracts from the moment the client handed the
    /// verdict over.
    pub fn done_at(&self, id: &str) -> Option<Instant> {
        self.shared.done_at(id, Instant::now())
    }

    /// When an answer (a result or a list GET) first showed `id` finished:
    /// the earliest a client polling it could know. `done_at` to `told_at`
    /// is the client's wait for its next poll; `told_at` onwards, its own
    /// handling of the answer.
    pub fn told_at(&self, id: &str) -> Option<Instant> {
        self.shared.told_at(id)
    }
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        tracing::debug!(addr = %self.addr, "identifai mock server stopped");
    }
}

/// Body of the server thread: runs the axum app until shutdown.
fn serve(
    listener: TcpListener,
    shared: Arc<state::Shared>,
    ready: std::sync::mpsc::Sender<std::io::Result<()>>,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("identifai-mock-worker")
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            let _ = ready.send(Err(err));
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(err) => {
                let _ = ready.send(Err(err));
                return;
            }
        };
        let app = routes::router(shared);
        let (graceful_tx, graceful_rx) = tokio::sync::oneshot::channel::<()>();
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = graceful_rx.await;
        });
        let mut task = tokio::spawn(std::future::IntoFuture::into_future(server));
        let _ = ready.send(Ok(()));
        // Either `Drop` asked us to stop, or the sender vanished: stop.
        let _ = shutdown.await;
        let _ = graceful_tx.send(());
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
}
