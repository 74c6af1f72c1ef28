//! One poller per client: every identifier anyone waits for, of every kind,
//! is polled in rounds through its kind's list endpoint, 100 a GET, one
//! round per poll interval ([`WaitConfig::initial_interval`], 1 s by
//! default). A result reaches its waiters within about one interval of being
//! done, however many waits there are, and N waits cost N/100 GETs a round,
//! not N. [`Client::wait`], [`Client::wait_all`] and `Classify::wait` all go
//! through it.
//!
//! The rounds run in a task spawned on the first wait and ending when
//! nobody waits any more. A round whose requests failed transiently (a 5xx,
//! a connection failure, an HTML maintenance page instead of JSON) is
//! followed by a longer pause, growing by [`WaitConfig::multiplier`] up to
//! [`WaitConfig::max_interval`]; each waiter keeps its own deadline.
//!
//! [`WaitConfig::initial_interval`]: crate::WaitConfig::initial_interval
//! [`WaitConfig::multiplier`]: crate::WaitConfig::multiplier
//! [`WaitConfig::max_interval`]: crate::WaitConfig::max_interval
//! [`Client::wait`]: crate::Client::wait
//! [`Client::wait_all`]: crate::Client::wait_all

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::api::types::Status;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::identifier::Identifier;
use crate::kinds::{AnyResult, Kind};
use crate::wait::{State, LIST_BATCH};

/// The client's poller (one per [`Client`] and its clones).
#[derive(Default)]
pub(crate) struct Poller {
    state: Mutex<Pending>,
}

/// Who waits for what.
#[derive(Default)]
struct Pending {
    entries: HashMap<Identifier, Entry>,
    /// Whether a task is running the rounds.
    running: bool,
    /// Rounds run so far (for tracing).
    rounds: u64,
    /// Why the last round failed, when it did: a wait that ends on its
    /// deadline then ends with this cause, not a bare timeout.
    failing: Option<Error>,
}

/// One identifier being waited for.
struct Entry {
    /// Its kind, once known (from the waiter, or an answer).
    kind: Option<Kind>,
    /// Kinds whose list left it out.
    not_in: Vec<Kind>,
    /// The last status seen, for a timeout's message.
    last_status: Option<Status>,
    waiters: Vec<oneshot::Sender<Result<AnyResult>>>,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pending = self.lock().entries.len();
        f.debug_struct("Poller").field("pending", &pending).finish()
    }
}

impl Poller {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A waiter that panicked mid-update leaves plain data: go on with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Joins `id` to the next round; starts the rounds if none run.
    fn join(
        &self,
        client: &Client,
        id: &Identifier,
        kind: Option<Kind>,
    ) -> oneshot::Receiver<Result<AnyResult>> {
        let (tx, rx) = oneshot::channel();
        let mut st = self.lock();
        let entry = st.entries.entry(id.clone()).or_insert_with(|| Entry {
            kind: None,
            not_in: Vec::new(),
            last_status: None,
            waiters: Vec::new(),
        });
        if entry.kind.is_none() {
            entry.kind = kind;
        }
        entry.waiters.push(tx);
        if !st.running {
            st.running = true;
            tokio::spawn(rounds(client.clone()));
        }
        rx
    }

    fn last_status(&self, id: &Identifier) -> Option<Status> {
        self.lock()
            .entries
            .get(id)
            .and_then(|e| e.last_status.clone())
    }

    /// Why the last round failed, if it did.
    fn failing(&self) -> Option<Error> {
        self.lock().failing.clone()
    }

    /// Ends every wait with `e` (the service refuses every request: waiting
    /// on is pointless until it has room again).
    fn finish_all(&self, e: &Error) {
        let entries = std::mem::take(&mut self.lock().entries);
        for (_, entry) in entries {
            for w in entry.waiters {
                let _ = w.send(Err(e.clone()));
            }
        }
    }

    /// Hands a finished answer to everyone waiting for `id`.
    fn finish(&self, id: &Identifier, outcome: Result<AnyResult>) {
        let Some(entry) = self.lock().entries.remove(id) else {
            return;
        };
        for w in entry.waiters {
            let _ = w.send(outcome.clone());
        }
    }

    /// Files one answer for `id`, of kind `kind`: done or errored ends it,
    /// pending keeps the status.
    fn file(&self, id: &Identifier, kind: Kind, result: AnyResult) {
        match result.state() {
            State::Done => self.finish(id, Ok(result)),
            State::Errored(errors) => self.finish(
                id,
                Err(Error::ClassificationErrored {
                    identifier: id.to_string(),
                    errors,
                }),
            ),
            State::Pending(status) => {
                if let Some(e) = self.lock().entries.get_mut(id) {
                    e.kind = Some(kind);
                    e.last_status = status;
                }
            }
        }
    }
}

/// Ends the rounds' bookkeeping however the task ends. A task dropped with
/// waiters left (its runtime shut down) drops their senders, so each waiter
/// sees it and joins a new poller on its own runtime.
struct Running<'a>(&'a Poller);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        if st.running {
            st.running = false;
            st.entries.clear();
        }
    }
}

/// Waits for `id` through the client's poller until `deadline` has passed
/// since the call.
pub(crate) async fn wait_for(
    client: &Client,
    id: &Identifier,
    kind: Option<Kind>,
    deadline: Duration,
) -> Result<AnyResult> {
    let start = Instant::now();
    let poller = client.poller();
    loop {
        let answer = poller.join(client, id, kind);
        match tokio::time::timeout_at(start + deadline, answer).await {
            Ok(Ok(outcome)) => return outcome,
            // The poller's task went away with its runtime: join a new one.
            Ok(Err(_)) => tokio::task::yield_now().await,
            // Past the deadline: the cause, when the polls were failing (a
            // 429, a 503, ...), else a timeout with the last status seen.
            Err(_) => {
                return Err(poller.failing().unwrap_or_else(|| Error::WaitTimeout {
                    identifier: id.to_string(),
                    waited: start.elapsed(),
                    last_status: poller.last_status(id),
                }))
            }
        }
    }
}

/// Whether an error of a poll is worth the next round: what the transport
/// retries, and an answer that is not JSON at all (a proxy's or the
/// backend's HTML maintenance page served with 200).
fn transient(e: &Error) -> bool {
    match e {
        Error::Decode { content_type, .. } => !content_type
            .as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().contains("json")),
        e => e.is_retryable(),
    }
}

/// The rounds, while anybody waits.
async fn rounds(client: Client) {
    let poller = client.poller();
    let _running = Running(poller);
    let config = client.wait_config().clone();
    let interval = config.initial_interval();
    let mut pause = interval;
    // A submission just made is not done yet: the first round is one
    // interval after the first wait.
    let mut next = Instant::now() + interval;
    loop {
        tokio::time::sleep_until(next).await;
        let start = Instant::now();
        {
            let mut st = poller.lock();
            st.entries.retain(|_, e| {
                e.waiters.retain(|w| !w.is_closed());
                !e.waiters.is_empty()
            });
            if st.entries.is_empty() {
                st.running = false;
                tracing::debug!(rounds = st.rounds, "poller idle");
                return;
            }
            st.rounds += 1;
        }
        let mut failed: Option<Error> = None;
        // GETs this round: the next round comes no sooner than the steady
        // rate allows them again, so polling spreads the minute's budget
        // evenly instead of spending it in a burst and stalling.
        let mut requests = 0u32;
        for kind in Kind::ALL {
            // Known to be of this kind, or of no kind known yet and not left
            // out of this kind's list (by an earlier kind's answer of this
            // round too).
            let ids: Vec<Identifier> = poller
                .lock()
                .entries
                .iter()
                .filter(|(_, e)| {
                    e.kind == Some(kind) || (e.kind.is_none() && !e.not_in.contains(&kind))
                })
                .map(|(id, _)| id.clone())
                .collect();
            for chunk in ids.chunks(LIST_BATCH) {
                requests += 1;
                match client.results_as(kind, chunk).await {
                    Ok(results) => {
                        let mut seen = std::collections::HashSet::new();
                        for r in results {
                            let Some(id) = r.identifier().and_then(|i| Identifier::new(i).ok())
                            else {
                                continue;
                            };
                            if chunk.contains(&id) && seen.insert(id.clone()) {
                                poller.file(&id, kind, r);
                            }
                        }
                        let mut st = poller.lock();
                        for id in chunk.iter().filter(|id| !seen.contains(*id)) {
                            if let Some(e) = st.entries.get_mut(id) {
                                e.not_in.push(kind);
                            }
                        }
                    }
                    Err(e) if transient(&e) => {
                        tracing::debug!(error = %e, %kind, "list request failed; next round");
                        failed = Some(e);
                    }
                    Err(e) => {
                        for id in chunk {
                            let unknown_kind = {
                                let mut st = poller.lock();
                                match st.entries.get_mut(id) {
                                    // A server without this kind's list: the
                                    // ones of unknown kind are asked elsewhere.
                                    Some(entry)
                                        if entry.kind.is_none()
                                            && matches!(e, Error::NotFound { .. }) =>
                                    {
                                        entry.not_in.push(kind);
                                        true
                                    }
                                    _ => false,
                                }
                            };
                            if !unknown_kind {
                                poller.finish(id, Err(e.clone()));
                            }
                        }
                    }
                }
            }
        }
        // Left out of every list it could be in: asked alone, for a typed
        // answer (a 404, ...).
        let alone: Vec<(Identifier, Option<Kind>)> = {
            let mut st = poller.lock();
            st.entries
                .iter_mut()
                .filter(|(_, e)| match e.kind {
                    Some(k) => e.not_in.contains(&k),
                    None => Kind::ALL.iter().all(|k| e.not_in.contains(k)),
                })
                .map(|(id, e)| {
                    e.not_in.clear();
                    (id.clone(), e.kind)
                })
                .collect()
        };
        for (id, kind) in alone {
            requests += 1;
            let answer = match kind {
                Some(k) => client.result_as(k, &id).await,
                None => client.result(&id).await,
            };
            match answer {
                Ok(r) => poller.file(&id, r.kind(), r),
                Err(e) if transient(&e) => failed = Some(e),
                Err(e) => poller.finish(&id, Err(e)),
            }
        }
        // The breaker is open: the service refuses every request of the key
        // (a spent quota). Every wait ends with that cause now, rather than
        // on its deadline; the identifiers stay valid for a later wait.
        if let Some(
            e @ Error::RateLimited {
                breaker_open: true, ..
            },
        ) = &failed
        {
            poller.finish_all(e);
        }
        // After a refusal, no round before the server said it has room.
        let floor = match &failed {
            Some(Error::RateLimited {
                retry_after: Some(ra),
                ..
            }) => *ra,
            _ => Duration::ZERO,
        };
        let steady = client.transport().steady_get_spacing() * requests;
        pause = match &failed {
            Some(_) => next_pause(&config, pause).max(floor),
            None => interval,
        }
        .max(steady);
        poller.lock().failing = failed;
        next = start + pause;
    }
}

/// The pause after a round that failed: the last one times the multiplier,
/// up to the longest.
fn next_pause(config: &crate::WaitConfig, pause: Duration) -> Duration {
    let m = config.multiplier();
    let m = if m.is_finite() && m >= 1.0 { m } else { 1.0 };
    pause
        .mul_f64(m)
        .min(config.max_interval().max(config.initial_interval()))
}
