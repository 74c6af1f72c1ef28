//! One poller per client: every identifier anyone waits for, of every kind,
//! is polled in rounds through its kind's list endpoint, 100 a GET, one
//! round per poll interval ([`WaitConfig::initial_interval`], 1 s by
//! default). A result reaches its waiters within about one interval of being
//! done, however many waits there are, and N waits cost N/100 GETs a round,
//! not N. [`Client::wait_image`], [`Client::wait_all`] and `Classify::wait` all go
//! through it.
//!
//! The rounds run in a task spawned on the first wait and ending when
//! nobody waits any more. A round whose requests failed transiently (a 5xx,
//! a connection failure, an HTML maintenance page instead of JSON) is
//! followed by a longer pause, growing by [`WaitConfig::multiplier`] up to
//! [`WaitConfig::max_interval`]; each waiter keeps its own deadline.
//!
//! With a pacer in Redis ([`crate::config::Pacer::redis`]) the processes of a fleet
//! poll as one: see `fleet.rs`. The leader's rounds are these rounds, over
//! its own identifiers and the fleet's; the others collect their answers.
//!
//! [`WaitConfig::initial_interval`]: crate::config::WaitConfig::initial_interval
//! [`WaitConfig::multiplier`]: crate::config::WaitConfig::multiplier
//! [`WaitConfig::max_interval`]: crate::config::WaitConfig::max_interval
//! [`Client::wait_image`]: crate::Client::wait_image
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
use crate::media_kind::{AnyResult, Kind};
use crate::wait::fleet::{Delivery, Failing, Timing};
use crate::wait::{Board, State, WaitConfig};

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
    /// Identifiers joined since the fleet was last told.
    fresh: bool,
    /// Answers for the fleet, handed over at the end of the round.
    outbox: Vec<(Identifier, Delivery, Vec<String>)>,
    /// While a leader's round runs, this process's own answers wait here:
    /// handed over only once the fleet has its answers and, if nothing of
    /// this process is left to wait for, the lease is given up (a process
    /// that exits on its last answer must not leave the fleet leaderless
    /// until the lease lapses).
    held: Option<Vec<(Vec<Waiter>, Result<AnyResult>)>>,
}

/// Where one waiter's answer goes.
type Waiter = oneshot::Sender<Result<AnyResult>>;

/// One identifier being waited for.
struct Entry {
    /// Its kind, once known (from the waiter, or an answer).
    kind: Option<Kind>,
    /// Kinds whose list left it out.
    not_in: Vec<Kind>,
    /// The last status seen, for a timeout's message.
    last_status: Option<Status>,
    waiters: Vec<Waiter>,
    /// The fleet's members (`<kind>|<id>`) waiting for it, when this
    /// process leads the fleet's polling.
    fleet: Vec<String>,
}

impl Entry {
    fn new(kind: Option<Kind>) -> Self {
        Entry {
            kind,
            not_in: Vec::new(),
            last_status: None,
            waiters: Vec::new(),
            fleet: Vec::new(),
        }
    }

    /// Its member in the fleet's pending set.
    fn member(&self, id: &Identifier) -> String {
        let kind = self.kind.map_or("any", |k| k.as_str());
        format!("{kind}|{id}")
    }
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
        let entry = st
            .entries
            .entry(id.clone())
            .or_insert_with(|| Entry::new(None));
        if entry.kind.is_none() {
            entry.kind = kind;
        }
        entry.waiters.push(tx);
        st.fresh = true;
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

    /// The breaker is open (`failed`): the service refuses every request of
    /// the key (a spent quota). Every wait ends with that cause now, rather
    /// than on its deadline; the identifiers stay valid for a later wait.
    fn finish_all_if_refused(&self, failed: Option<&Error>) {
        if let Some(
            e @ Error::RateLimited {
                breaker_open: true, ..
            },
        ) = failed
        {
            self.finish_all(e);
        }
    }

    /// Hands a finished answer to everyone waiting for `id` (in the fleet
    /// too: an error that is not a result, for its waiters to ask again).
    fn finish(&self, id: &Identifier, outcome: Result<AnyResult>) {
        let mut st = self.lock();
        let Some(entry) = st.entries.remove(id) else {
            return;
        };
        if !entry.fleet.is_empty() {
            let delivery = match &outcome {
                Ok(r) => Delivery::Answer(r.kind(), r.raw().get().to_string()),
                Err(_) => Delivery::Ask,
            };
            st.outbox.push((id.clone(), delivery, entry.fleet));
        }
        if let Some(held) = st.held.as_mut() {
            held.push((entry.waiters, outcome));
            return;
        }
        drop(st);
        for w in entry.waiters {
            let _ = w.send(outcome.clone());
        }
    }

    /// Files one answer for `id`, of kind `kind`: done or errored ends it,
    /// pending keeps the status.
    fn file(&self, id: &Identifier, kind: Kind, result: AnyResult) {
        match result.state() {
            State::Done => self.finish(id, Ok(result)),
            State::Errored(errors) => {
                // The fleet gets the result itself, to make its own error.
                {
                    let mut st = self.lock();
                    let fleet = st
                        .entries
                        .get_mut(id)
                        .map(|e| std::mem::take(&mut e.fleet))
                        .unwrap_or_default();
                    if !fleet.is_empty() {
                        let raw = result.raw().get().to_string();
                        st.outbox
                            .push((id.clone(), Delivery::Answer(kind, raw), fleet));
                    }
                }
                self.finish(
                    id,
                    Err(Error::ClassificationErrored {
                        identifier: id.to_string(),
                        errors,
                    }),
                )
            }
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

/// The rounds, while anybody waits. In a fleet, each wake first tells the
/// fleet what this process waits for and bids for the lead: a follower
/// then only collects its answers (every tenth of an interval); the
/// leader runs the rounds over the fleet's identifiers too, waking at
/// least once an interval to keep its lease.
async fn rounds(client: Client) {
    let poller = client.poller();
    let _running = Running(poller);
    let config = client.wait_config().clone();
    let interval = config.initial_interval();
    let mut pause = interval;
    let board = client.board();
    let timing = Timing::of(interval);
    let token = token();
    let mut leading = false;
    let mut renewed: Option<Instant> = None;
    // A submission just made is not done yet: the first round is one
    // interval after the first wait.
    let mut due = Instant::now() + interval;
    let mut wake = if board.is_some() { Instant::now() } else { due };
    loop {
        tokio::time::sleep_until(wake).await;
        if !prune(poller) {
            if let (true, Some(board)) = (leading, board) {
                let _ = board.lead(&token, timing.lease, true).await;
            }
            return;
        }
        if let Some(board) = board {
            let turn = fleet_turn(&client, board, &token, timing, &mut renewed, &mut due).await;
            leading = turn == Turn::Lead;
            if turn == Turn::Follow {
                wake = Instant::now() + timing.tick;
                continue;
            }
            if Instant::now() < due {
                wake = due.min(Instant::now() + timing.renew);
                continue;
            }
            if leading {
                merge_fleet(poller, board).await;
            }
        }
        let start = Instant::now();
        {
            let mut st = poller.lock();
            st.rounds += 1;
            if leading {
                st.held = Some(Vec::new());
            }
        }
        let (failed, requests) = round(&client, poller).await;
        poller.finish_all_if_refused(failed.as_ref());
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
        if let (true, Some(board)) = (leading, board) {
            deliver(poller, board, failed.as_ref()).await;
            let (held, done) = {
                let mut st = poller.lock();
                let done = st.entries.values().all(|e| e.waiters.is_empty());
                (st.held.take().unwrap_or_default(), done)
            };
            if done {
                // The last of this process's answers: the lead goes first.
                let _ = board.lead(&token, timing.lease, true).await;
                leading = false;
            }
            for (waiters, outcome) in held {
                for w in waiters {
                    let _ = w.send(outcome.clone());
                }
            }
        }
        poller.lock().failing = failed;
        due = start + pause;
        wake = match board {
            Some(_) => due.min(Instant::now() + timing.renew),
            None => due,
        };
    }
}

/// A fresh token for a rounds task's bids for the fleet's lead.
fn token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    format!(
        "{:x}-{:x}-{:x}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Drops the waiters gone and the entries nobody waits for: false (and
/// the rounds stop) when no waiter of this process is left.
fn prune(poller: &Poller) -> bool {
    let mut st = poller.lock();
    st.entries.retain(|_, e| {
        e.waiters.retain(|w| !w.is_closed());
        !e.waiters.is_empty() || !e.fleet.is_empty()
    });
    if st.entries.values().all(|e| e.waiters.is_empty()) {
        st.entries.clear();
        st.outbox.clear();
        st.running = false;
        tracing::debug!(rounds = st.rounds, "poller idle");
        return false;
    }
    true
}

/// What this process does in the fleet this wake.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// It polls for the fleet.
    Lead,
    /// Another process polls: it collected its answers.
    Follow,
    /// Redis cannot be reached: it polls for itself.
    Alone,
}

/// Tells the fleet what this process waits for (when that changed, or
/// every interval) and bids for the lead; a follower collects. A process
/// that takes the lead over keeps the last leader's pace: its first round
/// comes one interval after the last leader's last (`due`).
async fn fleet_turn(
    client: &Client,
    board: &Board,
    token: &str,
    timing: Timing,
    renewed: &mut Option<Instant>,
    due: &mut Instant,
) -> Turn {
    let poller = client.poller();
    let (members, fresh) = {
        let mut st = poller.lock();
        let members: Vec<String> = st
            .entries
            .iter()
            .filter(|(_, e)| !e.waiters.is_empty())
            .map(|(id, e)| e.member(id))
            .collect();
        (members, std::mem::take(&mut st.fresh))
    };
    let turn = 'turn: {
        if fresh || renewed.is_none_or(|t| t.elapsed() >= timing.renew) {
            match board.register(&members, timing.lapse).await {
                Ok(()) => *renewed = Some(Instant::now()),
                Err(e) => {
                    tracing::debug!(error = %e, "cannot tell the fleet what this process waits for; polling alone");
                    poller.lock().fresh = true;
                    break 'turn Turn::Alone;
                }
            }
        }
        match board.lead(token, timing.lease, false).await {
            Ok((true, since)) => {
                if let Some(since) = since {
                    let interval = client.wait_config().initial_interval();
                    *due = Instant::now() + interval.saturating_sub(since);
                }
                // Answers the last leader delivered for this process.
                follow(client, board).await;
                Turn::Lead
            }
            Ok((false, _)) => {
                follow(client, board).await;
                Turn::Follow
            }
            Err(e) => {
                tracing::debug!(error = %e, "cannot reach the fleet; polling alone");
                Turn::Alone
            }
        }
    };
    if turn != Turn::Lead {
        // Only a leader polls for others.
        let mut st = poller.lock();
        st.outbox.clear();
        st.entries.retain(|_, e| {
            e.fleet.clear();
            !e.waiters.is_empty()
        });
    }
    turn
}

/// A follower's tick: files the answers the leader delivered for this
/// process's identifiers, and the leader's cause of failure; asks alone
/// for those the leader could not answer with a result.
async fn follow(client: &Client, board: &Board) {
    let poller = client.poller();
    let ids: Vec<(Identifier, Option<Kind>)> = poller
        .lock()
        .entries
        .iter()
        .filter(|(_, e)| !e.waiters.is_empty())
        .map(|(id, e)| (id.clone(), e.kind))
        .collect();
    let names: Vec<String> = ids.iter().map(|(id, _)| id.to_string()).collect();
    let (answers, failing) = match board.collect(&names).await {
        Ok(got) => got,
        Err(e) => {
            tracing::debug!(error = %e, "cannot collect the fleet's answers");
            return;
        }
    };
    let failing = failing.map(Failing::error);
    poller.finish_all_if_refused(failing.as_ref());
    poller.lock().failing = failing;
    for ((id, kind), answer) in ids.into_iter().zip(answers) {
        let result = match answer {
            None => continue,
            Some(Delivery::Answer(kind, json)) => AnyResult::from_json(kind, &json).ok(),
            Some(Delivery::Ask) => None,
        };
        match result {
            Some(r) => poller.file(&id, r.kind(), r),
            None => ask_alone(client, &id, kind).await.ok().unwrap_or(()),
        }
    }
}

/// Asks for `id` alone (a typed answer: a 404, ...): `Err` with the cause
/// when it failed transiently (the identifier stays pending).
async fn ask_alone(client: &Client, id: &Identifier, kind: Option<Kind>) -> Result<()> {
    let poller = client.poller();
    let answer = match kind {
        Some(k) => client.result_as(k, id).await,
        None => client.result(id).await,
    };
    match answer {
        Ok(r) => poller.file(id, r.kind(), r),
        Err(e) if transient(&e) => return Err(e),
        Err(e) => poller.finish(id, Err(e)),
    }
    Ok(())
}

/// The leader takes in what the fleet waits for.
async fn merge_fleet(poller: &Poller, board: &Board) {
    let members = match board.pending().await {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!(error = %e, "cannot read what the fleet waits for");
            return;
        }
    };
    let mut st = poller.lock();
    for e in st.entries.values_mut() {
        e.fleet.clear();
    }
    for m in members {
        let Some((kind, id)) = m.split_once('|') else {
            continue;
        };
        let Ok(id) = Identifier::new(id) else {
            continue;
        };
        let kind = kind.parse::<Kind>().ok();
        let entry = st.entries.entry(id).or_insert_with(|| Entry::new(kind));
        if entry.kind.is_none() {
            entry.kind = kind;
        }
        entry.fleet.push(m);
    }
    st.entries
        .retain(|_, e| !e.waiters.is_empty() || !e.fleet.is_empty());
}

/// The leader hands the round's answers to the fleet, with the round's
/// cause of failure. Answers that fail to get there are polled and
/// delivered again next round (their members stay in the fleet's set).
async fn deliver(poller: &Poller, board: &Board, failed: Option<&Error>) {
    let outbox = std::mem::take(&mut poller.lock().outbox);
    let mut answers = Vec::with_capacity(outbox.len());
    let mut members = Vec::new();
    for (id, d, m) in outbox {
        answers.push((id.to_string(), d));
        members.extend(m);
    }
    let failing = failed.and_then(Failing::of);
    if let Err(e) = board.deliver(&answers, &members, failing.as_ref()).await {
        tracing::debug!(error = %e, "cannot hand the fleet its answers");
    }
}

/// One round over every pending identifier: the cause when its requests
/// failed transiently, and how many requests it made.
async fn round(client: &Client, poller: &Poller) -> (Option<Error>, u32) {
    let mut failed: Option<Error> = None;
    // GETs this round: the next round comes no sooner than the steady
    // rate allows them again, so polling spreads the minute's budget
    // evenly instead of spending it in a burst and stalling.
    let mut requests = 0u32;
    for kind in Kind::ALL {
        if !kind.lists() {
            // No list in the spec: the identifiers known to be of this kind
            // are asked one by one; the others never count on it.
            let ids: Vec<Identifier> = {
                let mut st = poller.lock();
                let mut mine = Vec::new();
                for (id, e) in st.entries.iter_mut() {
                    if e.kind == Some(kind) {
                        mine.push(id.clone());
                    } else if e.kind.is_none() && !e.not_in.contains(&kind) {
                        e.not_in.push(kind);
                    }
                }
                mine
            };
            for id in ids {
                requests += 1;
                if let Err(e) = ask_alone(client, &id, Some(kind)).await {
                    failed = Some(e);
                }
            }
            continue;
        }
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
        for chunk in ids.chunks(WaitConfig::LIST_BATCH) {
            requests += 1;
            match client.results_as(kind, chunk).await {
                Ok(results) => {
                    let mut seen = std::collections::HashSet::new();
                    for r in results {
                        let Some(id) = r.identifier().and_then(|i| Identifier::new(i).ok()) else {
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
        if let Err(e) = ask_alone(client, &id, kind).await {
            failed = Some(e);
        }
    }
    (failed, requests)
}

/// The pause after a round that failed: the last one times the multiplier,
/// up to the longest.
fn next_pause(config: &WaitConfig, pause: Duration) -> Duration {
    let m = config.multiplier();
    let m = if m.is_finite() && m >= 1.0 { m } else { 1.0 };
    pause
        .mul_f64(m)
        .min(config.max_interval().max(config.initial_interval()))
}
