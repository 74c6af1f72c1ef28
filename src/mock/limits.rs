//! Per-key rate limiting with a sliding-window log.
//!
//! Each (key, method class) has one log of timestamps per window. A request
//! is allowed only if every window holds fewer than its limit of requests in
//! the trailing window; allowed requests are appended to every log, rejected
//! ones are not (as Laravel's throttle does).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::config::RateLimits;

/// Which published limit a request counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum MethodClass {
    /// Submissions.
    Post,
    /// Results, list and heatmap.
    Get,
}

/// The timestamps of the requests allowed in one trailing window.
#[derive(Debug)]
struct WindowLog {
    window: Duration,
    limit: u32,
    log: VecDeque<Instant>,
}

impl WindowLog {
    fn new(window: Duration, limit: u32) -> Self {
        Self {
            window,
            limit,
            log: VecDeque::new(),
        }
    }

    /// Drops the timestamps that left the window.
    fn prune(&mut self, now: Instant) {
        while let Some(&oldest) = self.log.front() {
            if now.saturating_duration_since(oldest) >= self.window {
                self.log.pop_front();
            } else {
                break;
            }
        }
    }

    /// `None` if one more request fits, else how long until one does.
    fn wait(&self, now: Instant) -> Option<Duration> {
        if self.limit == 0 || (self.log.len() as u64) < u64::from(self.limit) {
            return None;
        }
        // The request that must leave the window for one more to fit.
        let excess = self.log.len() - self.limit as usize;
        let pivot = self.log.get(excess).copied().unwrap_or(now);
        Some((pivot + self.window).saturating_duration_since(now))
    }

    fn remaining(&self) -> u32 {
        let used = u32::try_from(self.log.len()).unwrap_or(u32::MAX);
        self.limit.saturating_sub(used)
    }
}

/// The outcome of a rate-limit check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Allowed; `limit` and `remaining` describe the longest window.
    Allowed { limit: u32, remaining: u32 },
    /// Rejected; retry after `wait`. `limit` is the window that was full.
    Limited { wait: Duration, limit: u32 },
    /// Rate limiting is off.
    Unlimited,
}

/// Sliding-window logs for every key.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limits: Option<RateLimits>,
    scale: f64,
    logs: HashMap<(String, MethodClass), [WindowLog; 2]>,
}

impl RateLimiter {
    pub(crate) fn new(limits: Option<RateLimits>, scale: f64) -> Self {
        Self {
            limits,
            scale,
            logs: HashMap::new(),
        }
    }

    fn scaled(&self, secs: f64) -> Duration {
        Duration::try_from_secs_f64(secs * self.scale).unwrap_or(Duration::from_secs(1))
    }

    /// Checks a request by `key` in `class` at `now`, and records it if it
    /// is allowed.
    pub(crate) fn check(&mut self, key: &str, class: MethodClass, now: Instant) -> Decision {
        let Some(limits) = self.limits else {
            return Decision::Unlimited;
        };
        let (per_second, per_minute) = match class {
            MethodClass::Post => (limits.posts_per_second(), limits.posts_per_minute()),
            MethodClass::Get => (limits.gets_per_second(), limits.gets_per_minute()),
        };
        let second = self.scaled(1.0);
        let minute = self.scaled(60.0);
        let windows = self
            .logs
            .entry((key.to_string(), class))
            .or_insert_with(|| {
                [
                    WindowLog::new(second, per_second),
                    WindowLog::new(minute, per_minute),
                ]
            });
        for w in windows.iter_mut() {
            w.prune(now);
        }
        let mut worst: Option<(Duration, u32)> = None;
        for w in windows.iter() {
            if let Some(wait) = w.wait(now) {
                if worst.is_none_or(|(longest, _)| wait > longest) {
                    worst = Some((wait, w.limit));
                }
            }
        }
        if let Some((wait, limit)) = worst {
            return Decision::Limited { wait, limit };
        }
        for w in windows.iter_mut() {
            if w.limit > 0 {
                w.log.push_back(now);
            }
        }
        let report = if windows[1].limit > 0 {
            &windows[1]
        } else {
            &windows[0]
        };
        Decision::Allowed {
            limit: report.limit,
            remaining: report.remaining(),
        }
    }

    /// Forgets every logged request.
    pub(crate) fn reset(&mut self) {
        self.logs.clear();
    }
}

/// `Retry-After` in whole seconds for a wait: rounded up, at least 1.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window_allows_then_limits_then_recovers() {
        let mut limiter = RateLimiter::new(Some(RateLimits::PUBLISHED), 1.0);
        let t0 = Instant::now();
        assert!(matches!(
            limiter.check("k", MethodClass::Post, t0),
            Decision::Allowed { .. }
        ));
        match limiter.check("k", MethodClass::Post, t0 + Duration::from_millis(300)) {
            Decision::Limited { wait, limit } => {
                assert_eq!(limit, 1);
                assert_eq!(wait, Duration::from_millis(700));
                assert_eq!(retry_after_secs(wait), 1);
            }
            other => panic!("expected a limit, got {other:?}"),
        }
        // Other keys and the GET class are independent.
        assert!(matches!(
            limiter.check("other", MethodClass::Post, t0),
            Decision::Allowed { .. }
        ));
        assert!(matches!(
            limiter.check("k", MethodClass::Get, t0),
            Decision::Allowed { .. }
        ));
        assert!(matches!(
            limiter.check("k", MethodClass::Post, t0 + Duration::from_millis(1000)),
            Decision::Allowed { .. }
        ));
    }

    #[test]
    fn minute_window_counts_all_allowed_requests() {
        let limits = RateLimits::PUBLISHED
            .with_posts_per_second(0)
            .with_posts_per_minute(3);
        let mut limiter = RateLimiter::new(Some(limits), 1.0);
        let t0 = Instant::now();
        for i in 0..3 {
            let d = limiter.check("k", MethodClass::Post, t0 + Duration::from_secs(i));
            assert!(matches!(d, Decision::Allowed { .. }), "{i}: {d:?}");
        }
        match limiter.check("k", MethodClass::Post, t0 + Duration::from_secs(10)) {
            Decision::Limited { wait, limit: 3 } => assert_eq!(wait, Duration::from_secs(50)),
            other => panic!("expected a limit, got {other:?}"),
        }
        assert!(matches!(
            limiter.check("k", MethodClass::Post, t0 + Duration::from_secs(60)),
            Decision::Allowed { .. }
        ));
    }

    #[test]
    fn time_scale_shortens_windows() {
        let mut limiter = RateLimiter::new(Some(RateLimits::PUBLISHED), 0.01);
        let t0 = Instant::now();
        assert!(matches!(
            limiter.check("k", MethodClass::Post, t0),
            Decision::Allowed { .. }
        ));
        assert!(matches!(
            limiter.check("k", MethodClass::Post, t0 + Duration::from_millis(5)),
            Decision::Limited { .. }
        ));
        assert!(matches!(
            limiter.check("k", MethodClass::Post, t0 + Duration::from_millis(11)),
            Decision::Allowed { .. }
        ));
    }

    #[test]
    fn disabled_limits_allow_everything() {
        let mut limiter = RateLimiter::new(None, 1.0);
        let now = Instant::now();
        for _ in 0..100 {
            assert_eq!(
                limiter.check("k", MethodClass::Post, now),
                Decision::Unlimited
            );
        }
    }

    #[test]
    fn retry_after_rounds_up_with_minimum_one() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(59)), 59);
    }
}
