//! [`Client`] and its builder, [`ClientBuilder`].

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use secrecy::SecretString;

use crate::answer::Classified;
use crate::api::types::{Classification, HealthStatus};
use crate::error::{Error, InputError, Result};
use crate::identifier::Identifier;
use crate::media_kind::{AnyResult, Kind, MediaKind, OverrideOutput};
use crate::source::UploadLimits;
use crate::transport::pacing::{Pacer, RateLimits};
use crate::transport::retry::RetryConfig;
use crate::transport::Transport;
use crate::wait::{WaitAll, WaitConfig};

/// The identifAI client. Cheap to clone; clones share the connection pool
/// and the rate-limit pacing. Its `Debug` never shows the API key.
///
/// ```no_run
/// # async fn demo() -> identifai::Result<()> {
/// let client = identifai::Client::from_env()?; // IDENTIFAI_API_KEY, IDENTIFAI_BASE_URL
/// let result = client.classify_image("photo.jpg").wait().await?;
/// if let Some(v) = &result.verdict {
///     println!("{} ({:.0}%)", v.classification, v.confidence * 100.0);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    api: crate::api::Client,
    shared: Arc<Shared>,
}

struct Shared {
    /// The layer the generated client's hooks run (the same value).
    transport: Transport,
    wait: WaitConfig,
    limits: UploadLimits,
    /// Every wait's polling (`crate::wait::Poller`).
    poller: crate::wait::Poller,
    /// Where a fleet shares its polling (with a pacer in Redis).
    board: Option<crate::wait::Board>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.api.baseurl())
            .field("transport", self.transport())
            .field("wait", &self.shared.wait)
            .field("limits", &self.shared.limits)
            .finish()
    }
}

use progenitor_client::ClientInfo;

impl Client {
    /// A client for the production service with `api_key` and default
    /// settings.
    pub fn new(api_key: impl Into<String>) -> Result<Self> {
        Self::builder().api_key(api_key).build()
    }

    /// A client from `IDENTIFAI_API_KEY` (required) and
    /// `IDENTIFAI_BASE_URL` (optional).
    pub fn from_env() -> Result<Self> {
        Self::builder().from_env().build()
    }

    /// A builder with every setting at its default.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The generated client, for anything this layer does not wrap. It
    /// shares this client's key, pacing, retries and timeouts.
    pub fn api(&self) -> &crate::api::Client {
        &self.api
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.api.baseurl()
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.shared.transport
    }

    pub(crate) fn wait_config(&self) -> &WaitConfig {
        &self.shared.wait
    }

    pub(crate) fn poller(&self) -> &crate::wait::Poller {
        &self.shared.poller
    }

    pub(crate) fn board(&self) -> Option<&crate::wait::Board> {
        self.shared.board.as_ref()
    }

    pub(crate) fn upload_limits(&self) -> &UploadLimits {
        &self.shared.limits
    }

    /// Tells the pacer of uploads (POSTs) this key sent at `times`, before
    /// this client existed: a run that was killed a moment ago still counts
    /// in the server's windows, so a resumed run that knows when it sent
    /// (the command line's `batch` journals it) starts paced as the server
    /// sees it, not with an empty minute. Times over a minute old change
    /// nothing. With [`Pacer::redis`](crate::config::Pacer) the shared store knows
    /// them already, and this does nothing.
    pub fn note_posts_sent(&self, times: &[std::time::SystemTime]) {
        let (now, wall) = (std::time::Instant::now(), std::time::SystemTime::now());
        let times: Vec<std::time::Instant> = times
            .iter()
            .filter_map(|t| now.checked_sub(wall.duration_since(*t).unwrap_or_default()))
            .collect();
        self.transport().seed_pacer(&reqwest::Method::POST, &times);
    }

    /// The infrastructure status (no key needed, not rate limited).
    pub async fn health(&self) -> Result<HealthStatus> {
        match self.api.health().await {
            Ok(v) => Ok(v.into_inner().status),
            Err(e) => Err(Error::from_api(e).await),
        }
    }

    /// The current result of `id`, whatever its kind: asks for an image
    /// result, then, on 404, a video result, then an audio one ([`Kind::ALL`]'s
    /// order). The last 404 is returned if no kind knows `id`. Use
    /// [`image_result`](Self::image_result) and its siblings when the kind is
    /// known (one GET).
    pub async fn result(&self, id: &Identifier) -> Result<AnyResult> {
        let mut last = None;
        for kind in Kind::ALL {
            match self.result_as(kind, id).await {
                Err(e @ Error::NotFound { .. }) => last = Some(e),
                other => return other,
            }
        }
        Err(last.unwrap_or(Error::NotFound { message: None }))
    }

    /// Waits for many classifications at once, of any kinds, polling each
    /// kind's list endpoint with 100 identifiers per request. One result
    /// per identifier given, in order.
    pub fn wait_all(&self, ids: impl IntoIterator<Item = Identifier>) -> WaitAll<'_> {
        WaitAll::new(self, ids.into_iter().collect())
    }

    /// One GET of kind `K`'s result operation, typed and whole.
    pub(crate) async fn result_of<K: MediaKind>(
        &self,
        id: &Identifier,
    ) -> Result<Classified<K::Output>> {
        let answer = K::get(&self.api, id.as_str()).await;
        crate::answer::read_answer(answer, crate::answer::decode_one).await
    }

    /// One GET of kind `K`'s list operation (1 to 100 identifiers).
    pub(crate) async fn results_of<K: MediaKind>(
        &self,
        ids: &[Identifier],
    ) -> Result<Vec<Classified<K::Output>>> {
        if ids.is_empty() || ids.len() > WaitConfig::LIST_BATCH {
            return Err(InputError::IdentifierCount { count: ids.len() }.into());
        }
        if !K::LISTS {
            // No list in the spec: one GET each; as a list does, leave out
            // the identifiers the server does not know.
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                match self.result_of::<K>(id).await {
                    Ok(r) => out.push(r),
                    Err(Error::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            return Ok(out);
        }
        let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        let answer = K::list(&self.api, &ids).await;
        crate::answer::read_answer(answer, crate::answer::decode_list).await
    }

    /// One POST of kind `K`'s override operation.
    pub(crate) async fn override_of<K: MediaKind>(
        &self,
        hash: &str,
        classification: Classification,
    ) -> Result<OverrideOutput> {
        let hash = hash.trim();
        if hash.is_empty() || !hash.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(InputError::InvalidSetting {
                setting: "hash",
                reason: format!(
                    "`{hash}` is not a file hash (the `hash` of a result: hex SHA-256)"
                ),
            }
            .into());
        }
        let body = serde_json::json!({ "classification": classification.as_str() });
        K::override_classification(&self.api, hash, body).await
    }

    /// The AI heatmap PNG of an image, or `None` when it has none (204:
    /// submitted without `with_heatmap`, or not done yet).
    pub async fn heatmap(&self, id: &Identifier) -> Result<Option<Bytes>> {
        // Capped at BodyLimits::heatmap_cap by the transport.
        let answer = self.api.get_image_heatmap(id.as_str()).await;
        crate::answer::read_answer(answer, |status, content_type, body| {
            if status == reqwest::StatusCode::NO_CONTENT.as_u16() {
                return Ok(None);
            }
            if !body.starts_with(b"\x89PNG\r\n\x1a\n") {
                return Err(Error::decode(
                    Some(status),
                    content_type,
                    "the heatmap is not a PNG",
                    &body,
                ));
            }
            Ok(Some(body))
        })
        .await
    }

    /// Saves the heatmap PNG to `path`, whole or not at all (a temporary
    /// file beside it, synced, renamed over it: a full disk leaves an older
    /// file as it was); returns `false` (and writes nothing) when the image
    /// has none.
    pub async fn save_heatmap(&self, id: &Identifier, path: impl AsRef<Path>) -> Result<bool> {
        let Some(png) = self.heatmap(id).await? else {
            return Ok(false);
        };
        let path = path.as_ref().to_path_buf();
        let context = format!("writing the heatmap to {}", path.display());
        let written = tokio::task::spawn_blocking(move || write_whole(&path, &png))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        written.map_err(|e| Error::Io {
            context,
            source: Arc::new(e),
        })?;
        Ok(true)
    }
}

/// Writes `bytes` to `path` whole or not at all: a new temporary file beside
/// it (a name no other writer has), synced, then renamed over it; on any
/// error the temporary file is removed and `path` is left as it was.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    for _ in 0..32 {
        let tmp = dir.join(format!(".{name}.{:016x}.tmp", fastrand::u64(..)));
        let mut file = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .and_then(|()| {
                drop(file);
                std::fs::rename(&tmp, path)
            });
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        return written;
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "no free name for a temporary file",
    ))
}

/// Builds a [`Client`]. Every setting has a default; only the key is
/// needed (it may also come from the environment).
///
/// Every setting at once (building contacts nothing; the first request
/// does):
///
/// ```
/// use std::time::Duration;
/// use identifai::{Client, config::Pacer, config::RateLimits, config::RetryConfig, config::UploadLimits, config::WaitConfig};
///
/// let client = Client::builder()
///     .api_key("my-api-key") // or .from_env(): IDENTIFAI_API_KEY, IDENTIFAI_BASE_URL
///     .base_url("https://backend.identifai.net")
///     .connect_timeout(Duration::from_secs(10))
///     .request_timeout(Duration::from_secs(30))
///     .upload_timeout(Duration::from_secs(600))
///     .idle_timeout(Some(Duration::from_secs(30)))
///     .retry(RetryConfig::default().with_max_attempts(6))
///     .rate_limits(Some(RateLimits::PUBLISHED))
///     .pacer(Pacer::local())
///     .wait(WaitConfig::default().with_deadline(Duration::from_secs(300)))
///     .upload_limits(UploadLimits::default())
///     .user_agent("my-app/1.0")
///     .build()?;
/// assert_eq!(client.base_url(), "https://backend.identifai.net");
/// # Ok::<(), identifai::Error>(())
/// ```
///
/// Against the built-in mock (feature `mock`),
/// `identifai::mock::MockServer::client_builder` gives a builder already
/// set for it.
#[derive(Default)]
pub struct ClientBuilder {
    api_key: Option<SecretString>,
    base_url: Option<String>,
    allow_insecure_http: bool,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    upload_timeout: Option<Duration>,
    idle_timeout: Option<Option<Duration>>,
    body_limits: Option<crate::transport::BodyLimits>,
    user_agent: Option<String>,
    retry: Option<RetryConfig>,
    rate_limits: Option<Option<RateLimits>>,
    pacer: Option<Pacer>,
    wait: Option<WaitConfig>,
    limits: Option<UploadLimits>,
    http: Option<reqwest::ClientBuilder>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The production base URL: the default of [`base_url`](Self::base_url).
    pub const DEFAULT_BASE_URL: &'static str = "https://backend.identifai.net";
    /// The environment variable [`Client::from_env`] reads for the API key.
    pub const ENV_API_KEY: &'static str = "IDENTIFAI_API_KEY";
    /// The environment variable [`Client::from_env`] reads for the base URL.
    pub const ENV_BASE_URL: &'static str = "IDENTIFAI_BASE_URL";
    /// The default of [`idle_timeout`](Self::idle_timeout): 30 s without a
    /// byte of an answer ends the request.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

    /// The API key, sent in `X-Api-Key`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Reads `IDENTIFAI_API_KEY` and `IDENTIFAI_BASE_URL`, for what was not
    /// set already.
    pub fn from_env(mut self) -> Self {
        if self.api_key.is_none() {
            if let Ok(key) = std::env::var(Self::ENV_API_KEY) {
                if !key.trim().is_empty() {
                    self.api_key = Some(SecretString::from(key.trim().to_string()));
                }
            }
        }
        if self.base_url.is_none() {
            self.base_url = std::env::var(Self::ENV_BASE_URL)
                .ok()
                .filter(|u| !u.trim().is_empty());
        }
        self
    }

    /// The base URL (default [`DEFAULT_BASE_URL`](Self::DEFAULT_BASE_URL)).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Allows an `http://` base URL for a host other than loopback (the key
    /// then travels in clear text). Off by default.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The time allowed to open a connection (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = Some(d);
        self
    }

    /// The time allowed for one request, answer included (default 30 s):
    /// every GET, override, submission by URL and partner call, and the
    /// answer to an upload once the file is sent.
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = Some(d);
        self
    }

    /// The time allowed for sending one file (default 30 minutes: videos
    /// may be gigabytes); its answer must then come within the
    /// [`request_timeout`](Self::request_timeout).
    pub fn upload_timeout(mut self, d: Duration) -> Self {
        self.upload_timeout = Some(d);
        self
    }

    /// The idle timeout: a request fails with [`Error::IdleTimeout`] when
    /// no byte was received or sent for this long, while uploading, waiting
    /// for the answer or reading it (default 30 s; `None` turns it off).
    pub fn idle_timeout(mut self, d: Option<Duration>) -> Self {
        self.idle_timeout = Some(d);
        self
    }

    /// How much of an answer is read at most (default
    /// [`BodyLimits::default`](crate::config::BodyLimits): 16 MiB of JSON, 64 MiB of
    /// heatmap, 1 MiB of error body). Past it: [`Error::AnswerTooLarge`].
    pub fn body_limits(mut self, limits: crate::transport::BodyLimits) -> Self {
        self.body_limits = Some(limits);
        self
    }

    /// The `User-Agent` (default `identifai-rust/<version>`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// How requests are retried (default [`RetryConfig::default`]).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The limits the client paces itself under; `None` turns pacing off
    /// (default [`RateLimits::PUBLISHED`]).
    pub fn rate_limits(mut self, limits: Option<RateLimits>) -> Self {
        self.rate_limits = Some(limits);
        self
    }

    /// Where the pacer keeps the send times (default [`Pacer::local`]: in
    /// this process, shared by the client's clones). With feature `redis`,
    #[cfg_attr(feature = "redis", doc = "[`Pacer::redis`] shares them")]
    #[cfg_attr(not(feature = "redis"), doc = "`Pacer::redis` shares them")]
    /// with every process on the same key.
    /// Has no effect when pacing is off (`rate_limits(None)`).
    pub fn pacer(mut self, pacer: Pacer) -> Self {
        self.pacer = Some(pacer);
        self
    }

    /// How waits poll (default [`WaitConfig::default`]).
    pub fn wait(mut self, wait: WaitConfig) -> Self {
        self.wait = Some(wait);
        self
    }

    /// Upload size limits (default [`UploadLimits::default`]).
    pub fn upload_limits(mut self, limits: UploadLimits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// A `reqwest::ClientBuilder` to start from (proxies, TLS roots,
    /// pools, ...). The client's own settings are applied on top, and
    /// redirects are always turned off in reqwest: the client follows them
    /// itself so that the key never goes to another origin (reqwest strips
    /// `Authorization` on such redirects, not `X-Api-Key`). That is why this
    /// takes a builder, not a built `reqwest::Client`.
    pub fn http_client(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.http = Some(builder);
        self
    }

    /// Builds the client. With the `rustls` feature (the default) it first
    /// makes rustls's `ring` the process's crypto provider, unless one is
    /// installed already. Fails on a missing or unusable key, a bad base
    /// URL, or an `http://` URL to a non-loopback host.
    pub fn build(self) -> Result<Client> {
        use secrecy::ExposeSecret;
        let key = self.api_key.ok_or(InputError::MissingApiKey)?;
        if key.expose_secret().is_empty()
            || reqwest::header::HeaderValue::from_str(key.expose_secret()).is_err()
        {
            return Err(InputError::InvalidApiKey.into());
        }
        let base = self
            .base_url
            .unwrap_or_else(|| Self::DEFAULT_BASE_URL.to_string());
        let base = check_base_url(&base, self.allow_insecure_http)?;
        #[cfg(all(feature = "rustls", not(feature = "rustls-aws-lc")))]
        install_ring_provider();
        let http = self
            .http
            .unwrap_or_default()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect_timeout.unwrap_or(Duration::from_secs(10)))
            .user_agent(
                self.user_agent
                    .unwrap_or_else(|| format!("identifai-rust/{}", env!("CARGO_PKG_VERSION"))),
            )
            .build()
            .map_err(|e| InputError::InvalidSetting {
                setting: "http client",
                reason: e.to_string(),
            })?;
        let limits = self.rate_limits.unwrap_or(Some(RateLimits::PUBLISHED));
        let pacer_spec = self.pacer.unwrap_or_default();
        // A fleet polls as one only where it paces as one (in Redis).
        #[cfg(feature = "redis")]
        let board = limits
            .and(pacer_spec.shared_spec())
            .and_then(|s| {
                s.as_any()
                    .downcast_ref::<crate::transport::pacing::redis::RedisSpec>()
            })
            .map(|r| crate::wait::Board::new(r.connection(), key.expose_secret(), &base));
        #[cfg(not(feature = "redis"))]
        let board = None;
        let pacer = limits.map(|l| Arc::new(pacer_spec.build(l, key.expose_secret(), &base)));
        let transport = Transport::with_settings(
            Some(key),
            self.retry.unwrap_or_default(),
            pacer,
            Some(self.request_timeout.unwrap_or(Duration::from_secs(30))),
            Some(self.upload_timeout.unwrap_or(Duration::from_secs(1800))),
            crate::transport::Settings {
                bodies: self.body_limits.unwrap_or_default(),
                idle_timeout: self
                    .idle_timeout
                    .unwrap_or(Some(Self::DEFAULT_IDLE_TIMEOUT)),
            },
        );
        Ok(Client {
            api: crate::api::Client::new_with_client(&base, http, transport.clone().into()),
            shared: Arc::new(Shared {
                transport,
                wait: self.wait.unwrap_or_default(),
                limits: self.limits.unwrap_or_default(),
                poller: Default::default(),
                board,
            }),
        })
    }
}

/// reqwest is built without a crypto provider under the `rustls` feature:
/// this installs rustls's `ring` one as the process default where none is.
#[cfg(all(feature = "rustls", not(feature = "rustls-aws-lc")))]
fn install_ring_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another thread's install leaves a provider too.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// An absolute http(s) URL, without a trailing slash; `http` only for
/// loopback unless allowed.
fn check_base_url(raw: &str, allow_insecure_http: bool) -> Result<String> {
    let bad = |reason: &str| InputError::InvalidBaseUrl {
        url: raw.to_string(),
        reason: reason.to_string(),
    };
    let url = url::Url::parse(raw.trim()).map_err(|e| bad(&e.to_string()))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a base URL has no query or fragment").into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("a base URL carries no credentials").into());
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if !loopback && !allow_insecure_http {
                return Err(InputError::InsecureBaseUrl {
                    url: raw.to_string(),
                }
                .into());
            }
        }
        _ => return Err(bad("the scheme must be http or https").into()),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host").into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::write_whole;

    #[test]
    fn a_file_is_written_whole_over_the_old_one_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.png");
        std::fs::write(&path, b"old").unwrap();
        write_whole(&path, b"new bytes").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new bytes");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a directory: the rename fails after the write.
        let path = dir.path().join("taken");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), b"x").unwrap();
        assert!(write_whole(&path, b"bytes").is_err());
        assert!(path.is_dir());
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // A folder that does not exist: an error, nothing written.
        assert!(write_whole(&dir.path().join("no/such/h.png"), b"x").is_err());
    }
}

/// The client's methods per kind (`classify_image`, `wait_video`,
/// `classify_as`, ...) and a `Classify<Kind>` alias per kind, generated by
/// `identifai-codegen` from the spec's `x-identifai` operations.
pub(crate) mod per_kind {
    include!(concat!(env!("OUT_DIR"), "/identifai_kinds_client.rs"));
}
