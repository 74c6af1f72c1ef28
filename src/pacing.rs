//! Client-side pacing under the published rate limits.
//!
//! identifAI allows, per API key, 1 POST/s and 30 POST/min, 2 GET/s and 60
//! GET/min, and answers 429 past that. A client that merely retries 429s
//! wastes a request each time; this one spaces its requests so that batch
//! work never meets a 429: each kind of request gets a [`governor`] rate
//! limiter whose period is the tighter of the two windows (one POST every
//! 2 s, one GET every 1 s, plus 2% headroom), with burst 1, which keeps
//! every sliding window of either length under its limit. `health` is not rate limited and is
//! not paced. Clones of a [`crate::Client`] share the pacer.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// The rate limits the client paces itself under.
///
/// ```
/// use identifai::RateLimits;
/// let published = RateLimits::PUBLISHED;
/// assert_eq!(published.post_interval().as_millis(), 2040); // 2 s + 2% headroom
/// // A test server 100 times faster:
/// assert_eq!(published.time_scale(0.01).post_interval().as_micros(), 20_400);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimits {
    /// POSTs per second.
    pub posts_per_second: u32,
    /// POSTs per minute.
    pub posts_per_minute: u32,
    /// GETs per second.
    pub gets_per_second: u32,
    /// GETs per minute.
    pub gets_per_minute: u32,
    /// Multiplies every window (1.0 = real time; 0.01 for a mock server
    /// whose windows are 100 times shorter).
    pub scale: f64,
}

impl RateLimits {
    /// The limits identifAI publishes.
    pub const PUBLISHED: RateLimits = RateLimits {
        posts_per_second: 1,
        posts_per_minute: 30,
        gets_per_second: 2,
        gets_per_minute: 60,
        scale: 1.0,
    };

    /// The same limits over windows `scale` times as long.
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.scale = scale;
        self
    }

    /// The spacing between two POSTs.
    pub fn post_interval(&self) -> Duration {
        interval(self.posts_per_second, self.posts_per_minute, self.scale)
    }

    /// The spacing between two GETs.
    pub fn get_interval(&self) -> Duration {
        interval(self.gets_per_second, self.gets_per_minute, self.scale)
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::PUBLISHED
    }
}

/// Headroom over the exact spacing, so that clock and network jitter never
/// push two requests into one window.
const MARGIN: f64 = 0.02;

fn interval(per_second: u32, per_minute: u32, scale: f64) -> Duration {
    let a = 1.0 / f64::from(per_second.max(1));
    let b = 60.0 / f64::from(per_minute.max(1));
    let scale = if scale.is_finite() && scale > 0.0 {
        scale
    } else {
        1.0
    };
    Duration::from_secs_f64(a.max(b) * scale * (1.0 + MARGIN))
}

/// One limiter per kind of request.
pub(crate) struct Pacer {
    post: DefaultDirectRateLimiter,
    get: DefaultDirectRateLimiter,
}

impl Pacer {
    pub(crate) fn new(limits: &RateLimits) -> Option<Self> {
        let quota = |d: Duration| {
            Quota::with_period(d.max(Duration::from_nanos(1)))
                .map(|q| q.allow_burst(NonZeroU32::MIN))
        };
        Some(Self {
            post: RateLimiter::direct(quota(limits.post_interval())?),
            get: RateLimiter::direct(quota(limits.get_interval())?),
        })
    }

    /// Waits until a request of this method may go out.
    pub(crate) async fn ready(&self, method: &reqwest::Method) {
        if method == reqwest::Method::GET || method == reqwest::Method::HEAD {
            self.get.until_ready().await;
        } else {
            self.post.until_ready().await;
        }
    }
}
