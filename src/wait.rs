//! Waiting for results: [`Client::wait`] (images), [`Client::wait_video`],
//! [`Client::wait_audio`] (one per kind, generated), [`Client::wait_all`]
//! (many, of any kinds).
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

use crate::answer::Classified;
use crate::api::types::Status;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::identifier::Identifier;
use crate::kinds::{AnyResult, Kind};
use crate::submit::MediaKind;

/// How long and how often to poll.
///
/// The defaults fit the published limits (2 GET/s, 60 GET/min per key):
/// first poll after 1 s, then every 1.5x longer up to 15 s, for at most
/// 10 minutes.
///
/// ```
/// use std::time::Duration;
/// let patient = identifai::WaitConfig::default().with_deadline(Duration::from_secs(3600));
/// assert_eq!(patient.deadline(), Duration::from_secs(3600));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct WaitConfig {
    /// Give up after this long.
    deadline: Duration,
    /// The first pause between polls.
    initial_interval: Duration,
    /// The longest pause between polls.
    max_interval: Duration,
    /// Each pause is this many times the previous one (at least 1).
    multiplier: f64,
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
    pub fn with_deadline(mut self, d: Duration) -> Self {
        self.deadline = d;
        self
    }

    /// The first pause between polls.
    pub fn with_initial_interval(mut self, d: Duration) -> Self {
        self.initial_interval = d;
        self
    }

    /// The longest pause between polls.
    pub fn with_max_interval(mut self, d: Duration) -> Self {
        self.max_interval = d;
        self
    }

    /// Each pause is this many times the previous one (at least 1).
    pub fn with_multiplier(mut self, m: f64) -> Self {
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

/// Reading the settings back.
impl WaitConfig {
    /// Gives up after this long.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }
    /// The first pause between polls.
    pub fn initial_interval(&self) -> Duration {
        self.initial_interval
    }
    /// The longest pause between polls.
    pub fn max_interval(&self) -> Duration {
        self.max_interval
    }
    /// Each pause is this many times the previous one (at least 1).
    pub fn multiplier(&self) -> f64 {
        self.multiplier
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

/// Whether a classification with `status` (and a verdict or not) is still
/// pending: the one definition every wait uses ([`Client::wait`],
/// [`Client::wait_all`], the command line's `classify` and `result --wait`).
/// `new`, and any status this client does not know (`processing`, ...), are
/// pending until the deadline; `done` and `errored` are not; no status at
/// all (servers before 1.1.0) is pending until there is a verdict.
///
/// ```
/// use identifai::{api::types::Status, is_pending};
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

/// Where a result of any kind stands, from its `status`, `errors` and
/// whether it has a verdict (called by the generated per-kind code).
pub(crate) fn state_of(
    status: Option<&Status>,
    errors: Option<&String>,
    has_verdict: bool,
) -> State {
    if is_pending(status, has_verdict) {
        return State::Pending(status.cloned());
    }
    match status {
        Some(Status::Errored) => State::Errored(errors.cloned().unwrap_or_default()),
        _ => State::Done,
    }
}

/// A wait for one classification; `.await` it. Built by [`Client::wait`].
#[must_use = "a wait does nothing until awaited"]
#[derive(Debug)]
pub struct Wait<'c, K> {
    client: &'c Client,
    id: Identifier,
    config: WaitConfig,
    kind: PhantomData<fn() -> K>,
}

impl<'c, K: MediaKind> Wait<'c, K> {
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

    async fn run(self) -> Result<Classified<K::Output>> {
        let start = Instant::now();
        let mut interval = self.config.initial_interval;
        let mut polls = 0u32;
        loop {
            polls += 1;
            let result = self.client.result_of::<K>(&self.id).await?;
            let last_status = match K::state(&result) {
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

impl<'c, K: MediaKind> IntoFuture for Wait<'c, K> {
    type Output = Result<Classified<K::Output>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'c>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = tracing::info_span!("identifai.wait", identifier = %self.id);
        Box::pin(tracing::Instrument::instrument(self.run(), span))
    }
}

/// A wait for many classifications at once, of any kinds; `.await` it.
/// Built by [`Client::wait_all`].
///
/// Each poll round asks for the pending ones through each kind's list
/// endpoint (`GET /api/classifications`, `/api/classifications_video`,
/// ...), 100 identifiers a request, so 250 images cost 3 requests a round,
/// not 250. An identifier of unknown kind is asked of the image list first,
/// then of the next kind's list if the server left it out, and so on (its
/// kind is then known for the next rounds); [`WaitAll::kind`] says it
/// upfront. One left out of every list is asked alone
/// ([`Client::result`]), for a typed answer (a 404, ...). The answer has one
/// entry per identifier given, in order, duplicates included: none is
/// dropped.
#[must_use = "a wait does nothing until awaited"]
#[derive(Debug)]
pub struct WaitAll<'c> {
    client: &'c Client,
    ids: Vec<Identifier>,
    kind: Option<Kind>,
    config: WaitConfig,
}

/// Identifiers per list request (the API's maximum).
pub const LIST_BATCH: usize = 100;

/// One identifier being waited for.
#[derive(Default)]
struct Tracked {
    /// Its kind, once an answer told it.
    kind: Option<Kind>,
    /// Kinds whose list left it out.
    not_in: Vec<Kind>,
    last_status: Option<Status>,
}

impl<'c> WaitAll<'c> {
    pub(crate) fn new(client: &'c Client, ids: Vec<Identifier>) -> Self {
        Self {
            client,
            ids,
            kind: None,
            config: client.wait_config().clone(),
        }
    }

    /// Every identifier is of kind `kind`: only that kind's list is asked.
    pub fn kind(mut self, kind: Kind) -> Self {
        self.kind = Some(kind);
        self
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

    async fn run(self) -> Vec<(Identifier, Result<AnyResult>)> {
        let start = Instant::now();
        let mut interval = self.config.initial_interval;
        let mut outcome: HashMap<Identifier, Result<AnyResult>> = HashMap::new();
        let mut tracked: HashMap<Identifier, Tracked> = HashMap::new();
        let mut unique = std::collections::HashSet::new();
        let mut pending: Vec<Identifier> = self
            .ids
            .iter()
            .filter(|id| unique.insert(*id))
            .cloned()
            .collect();
        for id in &pending {
            tracked.entry(id.clone()).or_default().kind = self.kind;
        }
        let mut round = 0u32;
        while !pending.is_empty() {
            round += 1;
            for kind in Kind::ALL {
                // Known to be of this kind, or of no kind known yet and not
                // left out of this kind's list.
                let ask: Vec<Identifier> = pending
                    .iter()
                    .filter(|id| !outcome.contains_key(*id))
                    .filter(|id| {
                        let t = &tracked[*id];
                        t.kind == Some(kind) || (t.kind.is_none() && !t.not_in.contains(&kind))
                    })
                    .cloned()
                    .collect();
                for chunk in ask.chunks(LIST_BATCH) {
                    match self.client.results_as(kind, chunk).await {
                        Ok(results) => {
                            let mut seen = std::collections::HashSet::new();
                            for r in results {
                                let Some(id) = r.identifier().and_then(|i| Identifier::new(i).ok())
                                else {
                                    continue;
                                };
                                if !chunk.contains(&id) {
                                    continue;
                                }
                                seen.insert(id.clone());
                                let t = tracked.entry(id.clone()).or_default();
                                t.kind = Some(kind);
                                record(&mut outcome, t, id, r);
                            }
                            for id in chunk.iter().filter(|id| !seen.contains(*id)) {
                                tracked.entry(id.clone()).or_default().not_in.push(kind);
                            }
                        }
                        // Transient (the transport already retried): next round.
                        Err(e) if e.is_retryable() => {
                            tracing::debug!(error = %e, %kind, "list request failed; next round")
                        }
                        Err(e) => {
                            for id in chunk {
                                let t = tracked.entry(id.clone()).or_default();
                                match (&e, t.kind) {
                                    // A server without this kind's list: the
                                    // ones of unknown kind are asked elsewhere.
                                    (Error::NotFound { .. }, None) => t.not_in.push(kind),
                                    _ => {
                                        outcome.insert(id.clone(), Err(e.clone()));
                                    }
                                }
                            }
                        }
                    }
                }
            }
            // Left out of every list it could be in: ask one by one, for a
            // typed answer (404, ...).
            let alone: Vec<Identifier> = pending
                .iter()
                .filter(|id| !outcome.contains_key(*id))
                .filter(|id| {
                    let t = &tracked[*id];
                    match t.kind {
                        Some(k) => t.not_in.contains(&k),
                        None => Kind::ALL.iter().all(|k| t.not_in.contains(k)),
                    }
                })
                .cloned()
                .collect();
            for id in alone {
                let t = tracked.entry(id.clone()).or_default();
                t.not_in.clear();
                let answer = match t.kind {
                    Some(k) => self.client.result_as(k, &id).await,
                    None => self.client.result(&id).await,
                };
                match answer {
                    Ok(r) => {
                        t.kind = Some(r.kind());
                        record(&mut outcome, t, id, r);
                    }
                    Err(e) if e.is_retryable() => {}
                    Err(e) => {
                        outcome.insert(id, Err(e));
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
                    let last_status = tracked.get(&id).and_then(|t| t.last_status.clone());
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
    outcome: &mut HashMap<Identifier, Result<AnyResult>>,
    tracked: &mut Tracked,
    id: Identifier,
    r: AnyResult,
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
            tracked.last_status = s;
        }
    }
}

impl<'c> IntoFuture for WaitAll<'c> {
    type Output = Vec<(Identifier, Result<AnyResult>)>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'c>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = tracing::info_span!("identifai.wait_all", count = self.ids.len());
        Box::pin(tracing::Instrument::instrument(self.run(), span))
    }
}
