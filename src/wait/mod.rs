//! Waiting for results: [`Client::wait_image`] (images), [`Client::wait_video`],
//! [`Client::wait_audio`] (one per kind, generated), [`Client::wait_all`]
//! (many, of any kinds).
//!
//! A classification is pending while its `status` is `new` or one this
//! client does not know (or, from servers before 1.1.0, while it has no
//! `status` and no verdict yet; see [`is_pending`]); it
//! ends `done` (the result) or `errored` (an [`Error::ClassificationErrored`](crate::Error::ClassificationErrored)
//! with the server's text). Every wait of a client joins one poller, which
//! asks for all pending identifiers together through each kind's list
//! endpoint, 100 a request, once per [`WaitConfig::initial_interval`] (1 s by
//! default): a result is handed over about one interval after it is done,
//! and a thousand waits cost ten requests a round, not a thousand. With a
//! pacer in Redis ([`crate::config::Pacer::redis`]) the processes of a fleet poll as
//! one: one polls for all and hands the answers back through Redis. Past its
//! deadline a wait ends with [`Error::WaitTimeout`](crate::Error::WaitTimeout).
//! Dropping the future cancels the wait.
//!
//! ```no_run
//! use std::time::Duration;
//! # async fn demo(client: identifai::Client, id: identifai::Identifier) -> identifai::Result<()> {
//! let result = client.wait_image(&id).deadline(Duration::from_secs(60)).await?;
//! # Ok(()) }
//! ```

mod fleet;
mod poller;

use std::collections::HashMap;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use crate::answer::Classified;
use crate::client::Client;
use crate::error::Result;
use crate::identifier::Identifier;
pub(crate) use crate::media_kind::State;
use crate::media_kind::{AnyResult, Kind, MediaKind};
pub(crate) use fleet::Board;
pub(crate) use poller::Poller;

/// How long and how often to poll.
///
/// The defaults fit the published limits (2 GET/s, 60 GET/min per key): the
/// client's poller runs a round every second (one list request per kind
/// with pending identifiers, 100 identifiers a request); after a round
/// whose requests failed transiently the pause grows 1.5x up to 15 s; a
/// wait gives up after 10 minutes.
///
/// With a pacer in Redis, the clients on one key and base URL poll as one:
/// one of them (holding a lease of three intervals) polls for all, and the
/// others collect their answers from Redis every tenth of an interval.
///
/// ```
/// use std::time::Duration;
/// let patient = identifai::config::WaitConfig::default().with_deadline(Duration::from_secs(3600));
/// assert_eq!(patient.deadline(), Duration::from_secs(3600));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct WaitConfig {
    /// Give up after this long.
    deadline: Duration,
    /// The pause between the poller's rounds.
    initial_interval: Duration,
    /// The longest pause after rounds that failed.
    max_interval: Duration,
    /// After a failed round the pause is this many times the last one (at least 1).
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
    /// Identifiers per list request in [`Client::wait_all`](crate::Client::wait_all)
    /// and the `*_results` calls: 100, the API's maximum.
    pub const LIST_BATCH: usize = 100;

    /// Gives up after `d`.
    pub fn with_deadline(mut self, d: Duration) -> Self {
        self.deadline = d;
        self
    }

    /// The pause between the poller's rounds (set on the client: the
    /// poller is shared by every wait of a client).
    pub fn with_initial_interval(mut self, d: Duration) -> Self {
        self.initial_interval = d;
        self
    }

    /// The longest pause after rounds that failed.
    pub fn with_max_interval(mut self, d: Duration) -> Self {
        self.max_interval = d;
        self
    }

    /// After a failed round the pause is this many times the last one (at least 1).
    pub fn with_multiplier(mut self, m: f64) -> Self {
        self.multiplier = m;
        self
    }
}

/// Reading the settings back.
impl WaitConfig {
    /// Gives up after this long.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }
    /// The pause between the poller's rounds.
    pub fn initial_interval(&self) -> Duration {
        self.initial_interval
    }
    /// The longest pause after rounds that failed.
    pub fn max_interval(&self) -> Duration {
        self.max_interval
    }
    /// After a failed round the pause is this many times the last one (at least 1).
    pub fn multiplier(&self) -> f64 {
        self.multiplier
    }
}

/// A wait for one classification; `.await` it. Built by [`Client::wait_image`]
/// (images), [`Client::wait_video`], [`Client::wait_audio`] (one per kind),
/// or [`Classify::wait`](crate::Classify::wait) right after a submission;
/// for many at once, of any kinds, see [`Client::wait_all`].
///
/// A classification is pending while its `status` is `new` or one this
/// client does not know (or, from servers before 1.1.0, while it has no
/// `status` and no verdict yet; see [`is_pending`](crate::kinds::is_pending)); it ends `done` (the
/// result) or `errored` (an
/// [`Error::ClassificationErrored`](crate::Error::ClassificationErrored)
/// with the server's text). Every wait of a client joins one poller, which
/// asks for all pending identifiers together through each kind's list
/// endpoint, 100 a request, once per [`WaitConfig::initial_interval`] (1 s by
/// default): a result is handed over about one interval after it is done,
/// and a thousand waits cost ten requests a round, not a thousand. Past its
/// deadline ([`WaitConfig::deadline`] unless set here) a wait ends with
/// [`Error::WaitTimeout`](crate::Error::WaitTimeout). Dropping the future
/// cancels the wait.
///
/// ```
/// use std::time::Duration;
/// use identifai::Source;
/// # #[cfg(feature = "mock")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> identifai::Result<()> {
/// # use identifai::mock::{MockConfig, MockServer};
/// # let server = MockServer::start_with(MockConfig::default().with_time_scale(0.01));
/// # let client = server.client_builder().build()?;
/// # let photo = Source::bytes("photo.png", identifai::mock::heatmap_png());
/// // `client` talks to the built-in mock here (feature `mock`).
/// let id = client.classify_image(photo).send().await?;
/// let result = client.wait_image(&id).deadline(Duration::from_secs(60)).await?;
/// assert_eq!(result.identifier.as_deref(), Some(id.as_str()));
/// assert!(result.verdict.is_some());
/// # Ok(()) }
/// # #[cfg(not(feature = "mock"))]
/// # fn main() {}
/// ```
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

    /// Replaces the whole configuration.
    pub fn config(mut self, config: WaitConfig) -> Self {
        self.config = config;
        self
    }

    async fn run(self) -> Result<Classified<K::Output>> {
        let any =
            poller::wait_for(self.client, &self.id, Some(K::KIND), self.config.deadline).await?;
        match K::unwrap(any) {
            Some(result) => Ok(result),
            // Another wait on the same identifier named another kind, and
            // the poller found it there: ask this kind, for its typed answer.
            None => self.client.result_of::<K>(&self.id).await,
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

    /// Replaces the whole configuration.
    pub fn config(mut self, config: WaitConfig) -> Self {
        self.config = config;
        self
    }

    async fn run(self) -> Vec<(Identifier, Result<AnyResult>)> {
        let mut unique = std::collections::HashSet::new();
        let distinct: Vec<Identifier> = self
            .ids
            .iter()
            .filter(|id| unique.insert(*id))
            .cloned()
            .collect();
        let deadline = self.config.deadline;
        let waits = distinct
            .iter()
            .map(|id| poller::wait_for(self.client, id, self.kind, deadline));
        let outcomes = futures::future::join_all(waits).await;
        let outcome: HashMap<Identifier, Result<AnyResult>> =
            distinct.into_iter().zip(outcomes).collect();
        self.ids
            .into_iter()
            .map(|id| {
                let r = outcome[&id].clone();
                (id, r)
            })
            .collect()
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
