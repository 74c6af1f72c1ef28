//! Shared state of a running mock server: submissions, counters, the
//! request log, queued faults and rate-limit windows.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::faults::{Fault, Route};
use super::limits::{Decision, MethodClass, RateLimiter};
use super::{MockConfig, MockStats, RecordedRequest};

use crate::Kind;

/// What the caller asked for, validated and normalised.
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    /// Every recognised option as `name -> normalised value`.
    pub canonical: BTreeMap<String, String>,
    pub ref_id: Option<String>,
    pub with_heatmap: bool,
    pub with_nsfw: bool,
    pub with_audio: bool,
    pub no_cache: bool,
    /// Frames requested (video only).
    pub frames: u32,
}

/// One media submission as the server stored it.
#[derive(Clone, Debug)]
pub(crate) struct Submission {
    pub id: String,
    pub kind: Kind,
    /// SHA-256 hex of the file, or of the URL string.
    pub hash: String,
    pub name: String,
    pub options: Options,
    /// GETs answered so far.
    pub polls: u32,
    /// The final verdict is `artificial`.
    pub artificial: bool,
    /// The classification ends in `errored`.
    pub errored: bool,
    /// Answer with the pre-1.1.0 shape.
    pub pre_1_1: bool,
    /// The account's override of the verdict (`human` / `artificial`), set
    /// through the override endpoint for this file's hash.
    pub forced: Option<String>,
    /// When it was first accepted.
    pub accepted_at: Instant,
    /// With a processing time: when it finishes, whatever the polls.
    pub ready_at: Option<Instant>,
    /// Without one: when it finished (the poll after which it is done).
    pub finished_at: Option<Instant>,
    /// When an answer first showed it finished.
    pub told_at: Option<Instant>,
}

/// What a GET shows for a submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    New,
    Done,
    Errored,
}

impl Submission {
    /// The phase at `now` once `polls` GETs have been answered: with a
    /// processing time, `new` until `ready_at`; else `polls_until_done` of
    /// them answer `new`.
    pub(crate) fn phase_after(&self, polls: u32, polls_until_done: u32, now: Instant) -> Phase {
        let pending = match self.ready_at {
            Some(ready) => now < ready,
            None => polls <= polls_until_done,
        };
        if pending {
            Phase::New
        } else if self.errored {
            Phase::Errored
        } else {
            Phase::Done
        }
    }

    /// The phase the submission is in at `now`, without counting a poll:
    /// done once `polls_until_done` GETs have been answered `new` (or its
    /// processing time has passed).
    pub(crate) fn current_phase(&self, polls_until_done: u32, now: Instant) -> Phase {
        self.phase_after(self.polls + 1, polls_until_done, now)
    }

    /// When it finished, if it has by `now`.
    pub(crate) fn done_at(&self, now: Instant) -> Option<Instant> {
        match self.ready_at {
            Some(ready) => (now >= ready).then_some(ready),
            None => self.finished_at,
        }
    }
}

/// Mutable state behind one lock.
#[derive(Debug)]
struct Inner {
    submissions: HashMap<String, Submission>,
    stats: MockStats,
    requests: VecDeque<RecordedRequest>,
    faults: VecDeque<(Route, Fault)>,
    limiter: RateLimiter,
    /// Mixed into identifiers of `no_cache` submissions.
    nonce: u64,
    /// Overrides by (kind, file hash).
    overrides: HashMap<(Kind, String), String>,
}

/// State shared between the [`MockServer`](super::MockServer) handle and
/// the request handlers.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: MockConfig,
    pub base_url: String,
    inner: Mutex<Inner>,
    /// Upload bytes, updated per chunk without taking the lock.
    bytes_received: AtomicU64,
}

impl Shared {
    pub(crate) fn new(mut config: MockConfig, base_url: String) -> Self {
        if !(config.time_scale.is_finite() && config.time_scale > 0.0) {
            config.time_scale = 1.0;
        }
        let limiter = RateLimiter::new(config.rate_limits, config.time_scale);
        Self {
            base_url,
            inner: Mutex::new(Inner {
                submissions: HashMap::new(),
                stats: MockStats::default(),
                requests: VecDeque::new(),
                faults: VecDeque::new(),
                limiter,
                nonce: 0,
                overrides: HashMap::new(),
            }),
            bytes_received: AtomicU64::new(0),
            config,
        }
    }

    /// Locks the state; a poisoned lock is recovered rather than panicking.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn stats(&self) -> MockStats {
        let mut stats = self.lock().stats.clone();
        stats.bytes_received = self.bytes_received.load(Ordering::Relaxed);
        stats
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.iter().cloned().collect()
    }

    pub(crate) fn reset_stats(&self) {
        let mut inner = self.lock();
        inner.stats = MockStats::default();
        inner.requests.clear();
        self.bytes_received.store(0, Ordering::Relaxed);
    }

    pub(crate) fn reset_rate_limits(&self) {
        self.lock().limiter.reset();
    }

    pub(crate) fn inject(&self, route: Route, fault: Fault) {
        self.lock().faults.push_back((route, fault));
    }

    pub(crate) fn pending_faults(&self) -> usize {
        self.lock().faults.len()
    }

    pub(crate) fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    pub(crate) fn submission_count(&self) -> usize {
        self.lock().submissions.len()
    }

    /// Takes the first queued fault that applies to `route`.
    pub(crate) fn take_fault(&self, route: Route) -> Option<Fault> {
        let mut inner = self.lock();
        let index = inner.faults.iter().position(|(r, _)| r.matches(route))?;
        inner.faults.remove(index).map(|(_, fault)| fault)
    }

    /// Counts a request when it arrives.
    pub(crate) fn count_request(&self, method: &str, route: Option<Route>) {
        let mut inner = self.lock();
        let stats = &mut inner.stats;
        stats.requests += 1;
        match method {
            "POST" => stats.posts += 1,
            "GET" => stats.gets += 1,
            _ => {}
        }
        if let Some(route) = route {
            *stats.by_route.entry(route).or_insert(0) += 1;
        }
    }

    /// Records the answer to a request.
    pub(crate) fn record_answer(&self, request: RecordedRequest, fault: bool, rate_limited: bool) {
        let mut inner = self.lock();
        let stats = &mut inner.stats;
        *stats.by_status.entry(request.status).or_insert(0) += 1;
        if fault {
            stats.faults_served += 1;
        }
        if rate_limited {
            stats.rate_limited += 1;
        }
        if request.route.is_some_and(Route::is_submission) && request.status == 200 && !fault {
            stats.submissions += 1;
        }
        let cap = self.config.max_recorded_requests;
        if cap > 0 {
            while inner.requests.len() >= cap {
                inner.requests.pop_front();
            }
            inner.requests.push_back(request);
        }
    }

    pub(crate) fn add_bytes(&self, n: u64) {
        self.bytes_received.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn rate_check(&self, key: &str, class: MethodClass) -> Decision {
        self.lock().limiter.check(key, class, Instant::now())
    }

    /// Stores a submission (or finds the cached one) and returns its
    /// identifier.
    pub(crate) fn submit(
        &self,
        kind: Kind,
        source: &str,
        hash: String,
        name: String,
        options: Options,
    ) -> String {
        let mut inner = self.lock();
        let mut hasher = Sha256::new();
        hasher.update(kind.as_str().as_bytes());
        hasher.update(b"\n");
        hasher.update(source.as_bytes());
        hasher.update(b"\n");
        for (k, v) in &options.canonical {
            hasher.update(k.as_bytes());
            hasher.update(b"=");
            hasher.update(v.as_bytes());
            hasher.update(b"\n");
        }
        if options.no_cache {
            inner.nonce += 1;
            hasher.update(format!("nonce={}", inner.nonce).as_bytes());
        }
        let id = hex::encode(hasher.finalize());
        *inner.stats.taken_by_hash.entry(hash.clone()).or_insert(0) += 1;
        if inner.submissions.contains_key(&id) {
            return id;
        }
        let ref_id = options.ref_id.clone().unwrap_or_default();
        let artificial = decide_artificial(&ref_id, &name, &hash);
        let now = Instant::now();
        let ready_at = self
            .config
            .processing_time_of(&hash)
            .map(|d| now + d.mul_f64(self.config.time_scale));
        let finished_at = (ready_at.is_none() && self.config.polls_until_done == 0).then_some(now);
        let submission = Submission {
            id: id.clone(),
            kind,
            hash,
            name,
            errored: ref_id.contains("mock:errored"),
            pre_1_1: ref_id.contains("mock:pre-1.1"),
            artificial,
            options,
            polls: 0,
            forced: None,
            accepted_at: now,
            ready_at,
            finished_at,
            told_at: None,
        };
        inner.submissions.insert(id.clone(), submission);
        id
    }

    /// Counts one poll of `id` (if it is a `kind` submission) and returns a
    /// snapshot of it with the phase to show.
    pub(crate) fn poll(&self, id: &str, kind: Kind) -> Option<(Submission, Phase)> {
        let polls_until_done = self.config.polls_until_done;
        let mut inner = self.lock();
        let submission = inner.submissions.get_mut(id)?;
        if submission.kind != kind {
            return None;
        }
        submission.polls = submission.polls.saturating_add(1);
        let now = Instant::now();
        let phase = submission.phase_after(submission.polls, polls_until_done, now);
        if phase != Phase::New && submission.told_at.is_none() {
            submission.told_at = Some(now);
        }
        // By polls: finished once this answer is out, if the next one is not `new`.
        if submission.ready_at.is_none()
            && submission.finished_at.is_none()
            && submission.current_phase(polls_until_done, now) != Phase::New
        {
            submission.finished_at = Some(now);
        }
        let mut snapshot = submission.clone();
        snapshot.forced = inner.overrides.get(&(kind, snapshot.hash.clone())).cloned();
        Some((snapshot, phase))
    }

    /// When `id` was first accepted.
    pub(crate) fn accepted_at(&self, id: &str) -> Option<Instant> {
        self.lock().submissions.get(id).map(|s| s.accepted_at)
    }

    /// When `id` finished, if it has by `now`.
    pub(crate) fn done_at(&self, id: &str, now: Instant) -> Option<Instant> {
        self.lock().submissions.get(id).and_then(|s| s.done_at(now))
    }

    /// When an answer first showed `id` finished.
    pub(crate) fn told_at(&self, id: &str) -> Option<Instant> {
        self.lock().submissions.get(id).and_then(|s| s.told_at)
    }

    /// Records an override of the verdict of every `kind` submission of the
    /// file `hash`; `false` when no such submission exists.
    pub(crate) fn set_override(&self, kind: Kind, hash: &str, classification: &str) -> bool {
        let mut inner = self.lock();
        let known = inner
            .submissions
            .values()
            .any(|s| s.kind == kind && s.hash.eq_ignore_ascii_case(hash));
        if known {
            inner.overrides.insert(
                (kind, hash.to_ascii_lowercase()),
                classification.to_string(),
            );
        }
        known
    }

    /// A snapshot of `id` (if it is a `kind` submission) without counting a
    /// poll.
    pub(crate) fn peek(&self, id: &str, kind: Kind) -> Option<(Submission, Phase)> {
        let inner = self.lock();
        let submission = inner.submissions.get(id)?;
        if submission.kind != kind {
            return None;
        }
        let phase = submission.current_phase(self.config.polls_until_done, Instant::now());
        let mut snapshot = submission.clone();
        snapshot.forced = inner.overrides.get(&(kind, snapshot.hash.clone())).cloned();
        Some((snapshot, phase))
    }
}

/// The verdict rule: `ref_id` directives first, then a word of the name,
/// then the parity of the hash's first byte.
fn decide_artificial(ref_id: &str, name: &str, hash: &str) -> bool {
    if ref_id.contains("mock:artificial") {
        return true;
    }
    if ref_id.contains("mock:human") {
        return false;
    }
    if names_ai(name) {
        return true;
    }
    let first = hash
        .get(..2)
        .and_then(|b| u8::from_str_radix(b, 16).ok())
        .unwrap_or(0);
    first % 2 == 1
}

/// Whether a word of `name` (a file name, or a URL's last path segment) is
/// `ai` or `fake`, case-insensitive. Words are split at anything not a
/// letter or digit and where a lower-case letter meets a capital, so
/// `ai-cat.png`, `fake_portrait.jpg` and `MidjourneyAI.png` name AI, and
/// `mountain.png`, `email-header.png`, `portrait.png` or `train.png` do not.
pub(crate) fn names_ai(name: &str) -> bool {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            words.push(std::mem::take(&mut word));
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            words.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_lowercase();
        word.extend(c.to_lowercase());
    }
    words.push(word);
    words.iter().any(|w| w == "ai" || w == "fake")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_rule_precedence() {
        let even = "00ff";
        let odd = "01ff";
        assert!(!decide_artificial("", "photo.png", even));
        assert!(decide_artificial("", "photo.png", odd));
        assert!(decide_artificial("", "my-AI-pic.png", even));
        assert!(decide_artificial("", "FAKE.png", even));
        assert!(decide_artificial("", "fake.png", even));
        assert!(decide_artificial("x mock:artificial", "photo.png", even));
        assert!(!decide_artificial("mock:human", "ai.png", odd));
    }

    #[test]
    fn only_the_words_ai_and_fake_name_ai() {
        for name in [
            "mountain.png",
            "email-header.png",
            "portrait.png",
            "train.png",
        ] {
            assert!(!names_ai(name), "{name}");
            assert!(!decide_artificial("", name, "00"), "{name}");
        }
        for name in [
            "ai-cat.png",
            "cat-ai.png",
            "cat_AI.jpg",
            "ai.png",
            "MidjourneyAI.png",
            "fake-portrait.jpg",
            "photo.ai.webp",
        ] {
            assert!(names_ai(name), "{name}");
        }
        for name in ["AIRPORT.png", "fakes.png", "aid.png", "Maine.png", ""] {
            assert!(!names_ai(name), "{name}");
        }
    }
}
