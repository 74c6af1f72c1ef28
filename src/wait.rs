//! Waiting for results: [`Client::wait`], [`Client::wait_video`],
//! [`Client::wait_all`].
//!
//! A classification is pending while its `status` is `new` or one this
//! client does not know (or, from servers before 1.1.0, while it has no
//! `status` and no verdict yet; see [`is_pending`]); it
//! ends `done` (the result) or `errored` (an [`Error::ClassificationErrored`]
//! with the server's text). Polls start at [`WaitConfig::initial_interval`]
//! and back off to [`WaitConfig::max_interval`]; past the deadline the wait
//! ends with [`Error::WaitTimeout`]. Dropping the future cancels the wait.
//!
//! ```no_run
//! use std::time::Duration;
//! # async fn demo(client: identifai::Client, id: identifai::Identifier) -> identifai::Result<()> {
//! let result = client.wait(&id).deadline(Duration::from_secs(60)).await?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::api::types::{ImageResponse, Status, VideoResponse};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::identifier::Identifier;

/// How long and how often to poll.
///
/// The defaults fit the published limits (2 GET/s, 60 GET/min per key):
/// first poll after 1 s, then every 1.5x longer up to 15 s, for at most
/// 10 minutes.
///
/// ```
/// use std::time::Duration;
/// let patient = identifai::WaitConfig::default().deadline(Duration::from_secs(3600));
/// assert_eq!(patient.deadline, Duration::from_secs(3600));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct WaitConfig {
    /// Give up after this long.
    pub deadline: Duration,
    /// The first pause between polls.
    pub initial_interval: Duration,
    /// The longest pause between polls.
    pub max_interval: Duration,
    /// Each pause is this many times the previous one (at least 1).
    pub multiplier: f64,
}

impl Default for WaitConfig {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(600),
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(15),
            multiplier: 1.5,
        }
    }
}

impl WaitConfig {
    /// Gives up after `d`.
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = d;
        self
    }

    /// The first pause between polls.
    pub fn initial_interval(mut self, d: Duration) -> Self {
        self.initial_interval = d;
        self
    }

    /// The longest pause between polls.
    pub fn max_interval(mut self, d: Duration) -> Self {
        self.max_interval = d;
        self
    }

    /// Each pause is this many times the previous one (at least 1).
    pub fn multiplier(mut self, m: f64) -> Self {
        self.multiplier = m;
        self
    }

    fn next(&self, interval: Duration) -> Duration {
        let m = if self.multiplier.is_finite() && self.multiplier >= 1.0 {
            self.multiplier
        } else {
            1.0
        };
        interval.mul_f64(m).min(self.max_interval)
    }
}

/// Where a classification stands (internal).
#[doc(hidden)]
#[derive(Debug)]
pub enum State {
    /// Finished.
    Done,
    /// Finished with `errored`, and the server's text.
    Errored(String),
    /// Not finished; the last status seen.
    Pending(Option<Status>),
}

/// A result that can be waited for.
pub trait Pollable: Sized + Send + 'static {
    #[doc(hidden)]
    fn state(&self) -> State;
    #[doc(hidden)]
    fn fetch<'a>(
        client: &'a Client,
        id: &'a Identifier,
    ) -> impl Future<Output = Result<Self>> + Send + 'a;
}

/// Whether a classification with `status` (and a verdict or not) is still
/// pending: the one definition every wait uses ([`Client::wait`],
/// [`Client::wait_all`], the command line's `classify` and `result --wait`).
/// `new`, and any status this client does not know (`processing`, ...), are
/// pending until the deadline; `done` and `errored` are not; no status at
/// all (servers before 1.1.0) is pending until there is a verdict.
///
/// ```
/// use identifai::{types::Status, wait::is_pending};
/// assert!(is_pending(Some(&Status::New), false));
/// assert!(is_pending(Some(&"processing".parse().unwrap()), true));
/// assert!(!is_pending(Some(&Status::Done), true));
/// assert!(!is_pending(None, true));
/// ```
pub fn is_pending(status: Option<&Status>, has_verdict: bool) -> bool {
    match status {
        Some(Status::Done) | Some(Status::Errored) => false,
        Some(_) => true,
        None => !has_verdict,
    }
}

fn state_of(status: Option<&Status>, errors: Option<&String>, has_verdict: bool) -> State {
    if is_pending(status, has_verdict) {
        return State::Pending(status.cloned());
    }
    match status {
        Some(Status::Errored) => State::Errored(errors.cloned().unwrap_or_default()),
        _ => State::Done,
    }
}

impl Pollable for ImageResponse {
    fn state(&self) -> State {
        state_of(
            self.status.as_ref(),
            self.errors.as_ref(),
            self.verdict.is_some(),
        )
    }
    fn fetch<'a>(
        client: &'a Client,
        id: &'a Identifier,
    ) -> impl Future<Output = Result<Self>> + Send + 'a {
        client.result(id)
    }
}

impl Pollable for VideoResponse {
    fn state(&self) -> State {
        state_of(
            self.status.as_ref(),
            self.errors.as_ref(),
            self.verdict.is_some(),
        )
    }
    fn fetch<'a>(
        client: &'a Client,
        id: &'a Identifier,
    ) -> impl Future<Output = Result<Self>> + Send + 'a {
        client.video_result(id)
    }
}

/// A wait for one classification; `.await` it. Built by [`Client::wait`].
#[must_use = "a wait does nothing until awaited"]
#[derive(Debug)]
pub struct Wait<'c, T> {
    client: &'c Client,
    id: Identifier,
    config: WaitConfig,
    kind: PhantomData<fn() -> T>,
}

impl<'c, T: Pollable> Wait<'c, T> {
    pub(crate) fn new(client: &'c Client, id: &Identifier) -> Self {
        Self {
            client,
            id: id.clone(),
            config: client.wait_config().clone(),
            kind: PhantomData,
        }
    }

    /// Gives up after `deadline`.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.config.deadline = deadline;
        self
    }

    /// The first pause between polls.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.config.initial_interval = interval;
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: WaitConfig) -> Self {
        self.config = config;
        self
    }

    async fn run(self) -> Result<T> {
        let start = Instant::now();
        let mut interval = self.config.initial_interval;
        let mut polls = 0u32;
        loop {
            polls += 1;
            let result = T::fetch(self.client, &self.id).await?;
            let last_status = match result.state() {
                State::Done => {
                    tracing::debug!(polls, "done");
                    return Ok(result);
                }
                State::Errored(errors) => {
                    return Err(Error::ClassificationErrored {
                        identifier: self.id.to_string(),
                        errors,
                    })
                }
                State::Pending(status) => status,
            };
            let waited = start.elapsed();
            if waited + interval > self.config.deadline {
                return Err(Error::WaitTimeout {
                    identifier: self.id.to_string(),
                    waited,
                    last_status,
                });
            }
            tokio::time::sleep(interval).await;
            interval = self.config.next(interval);
        }
    }
}

impl<'c, T: Pollable> IntoFuture for Wait<'c, T> {
    type Output = Result<T>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T>> + Send + 'c>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = tracing::info_span!("identifai.wait", identifier = %self.id);
        Box::pin(tracing::Instrument::instrument(self.run(), span))
    }
}

/// A wait for many image classifications at once; `.await` it. Built by
/// [`Client::wait_all`].
///
/// Each poll round asks for the pending ones through `GET
/// /api/classifications`, 100 identifiers a request, so 250 identifiers
/// cost 3 requests a round, not 250. The answer has one entry per
/// identifier given, in order, duplicates included: none is dropped.
#[must_use = "a wait does nothing until awaited"]
#[derive(Debug)]
pub struct WaitAll<'c> {
    client: &'c Client,
    ids: Vec<Identifier>,
    config: WaitConfig,
}

/// Identifiers per list request (the API's maximum).
pub const LIST_BATCH: usize = 100;

impl<'c> WaitAll<'c> {
    pub(crate) fn new(client: &'c Client, ids: Vec<Identifier>) -> Self {
        Self {
            client,
            ids,
            config: client.wait_config().clone(),
        }
    }

    /// Gives up on the ones not done after `deadline`.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.config.deadline = deadline;
        self
    }

    /// The first pause between polls.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.config.initial_interval = interval;
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: WaitConfig) -> Self {
        self.config = config;
        self
    }

    async fn run(self) -> Vec<(Identifier, Result<ImageResponse>)> {
        let start = Instant::now();
        let mut interval = self.config.initial_interval;
        let mut outcome: HashMap<Identifier, Result<ImageResponse>> = HashMap::new();
        let mut last_status: HashMap<Identifier, Option<Status>> = HashMap::new();
        let mut unique = std::collections::HashSet::new();
        let mut pending: Vec<Identifier> = self
            .ids
            .iter()
            .filter(|id| unique.insert(*id))
            .cloned()
            .collect();
        let mut round = 0u32;
        while !pending.is_empty() {
            round += 1;
            for chunk in pending.chunks(LIST_BATCH) {
                match self.client.results(chunk).await {
                    Ok(results) => {
                        let mut seen = std::collections::HashSet::new();
                        for r in results {
                            let Some(id) = r
                                .identifier
                                .as_deref()
                                .and_then(|i| Identifier::new(i).ok())
                            else {
                                continue;
                            };
                            if !chunk.contains(&id) {
                                continue;
                            }
                            seen.insert(id.clone());
                            record(&mut outcome, &mut last_status, id, r);
                        }
                        // Left out of the list: ask one by one, for a typed answer (404, ...).
                        for id in chunk.iter().filter(|id| !seen.contains(*id)) {
                            match self.client.result(id).await {
                                Ok(r) => record(&mut outcome, &mut last_status, id.clone(), r),
                                Err(e) if e.is_retryable() => {}
                                Err(e) => {
                                    outcome.insert(id.clone(), Err(e));
                                }
                            }
                        }
                    }
                    // Transient (the transport already retried): next round.
                    Err(e) if e.is_retryable() => {
                        tracing::debug!(error = %e, "list request failed; next round")
                    }
                    Err(e) => {
                        for id in chunk {
                            outcome.insert(id.clone(), Err(e.clone()));
                        }
                    }
                }
            }
            pending.retain(|id| !outcome.contains_key(id));
            if pending.is_empty() {
                break;
            }
            let waited = start.elapsed();
            if waited + interval > self.config.deadline {
                for id in pending.drain(..) {
                    let last_status = last_status.get(&id).cloned().flatten();
                    outcome.insert(
                        id.clone(),
                        Err(Error::WaitTimeout {
                            identifier: id.to_string(),
                            waited,
                            last_status,
                        }),
                    );
                }
                break;
            }
            tokio::time::sleep(interval).await;
            interval = self.config.next(interval);
        }
        tracing::debug!(rounds = round, ids = self.ids.len(), "wait_all finished");
        self.ids
            .into_iter()
            .map(|id| {
                let r = outcome.get(&id).cloned().unwrap_or_else(|| {
                    Err(Error::WaitTimeout {
                        identifier: id.to_string(),
                        waited: start.elapsed(),
                        last_status: None,
                    })
                });
                (id, r)
            })
            .collect()
    }
}

/// Files one poll's answer for `id`: done or errored ends it; pending
/// remembers the status for a timeout message.
fn record(
    outcome: &mut HashMap<Identifier, Result<ImageResponse>>,
    last_status: &mut HashMap<Identifier, Option<Status>>,
    id: Identifier,
    r: ImageResponse,
) {
    match r.state() {
        State::Done => {
            outcome.insert(id, Ok(r));
        }
        State::Errored(errors) => {
            let err = Error::ClassificationErrored {
                identifier: id.to_string(),
                errors,
            };
            outcome.insert(id, Err(err));
        }
        State::Pending(s) => {
            last_status.insert(id, s);
        }
    }
}

impl<'c> IntoFuture for WaitAll<'c> {
    type Output = Vec<(Identifier, Result<ImageResponse>)>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'c>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = tracing::info_span!("identifai.wait_all", count = self.ids.len());
        Box::pin(tracing::Instrument::instrument(self.run(), span))
    }
}
