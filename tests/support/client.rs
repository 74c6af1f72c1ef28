//! A client pointed at a loopback `MockServer` (feature `mock`), pacing
//! under the mock's compressed limits.

use std::time::Duration;

use identifai::mock::{MockConfig, MockServer};
use identifai::{config::RateLimits, config::RetryConfig, config::WaitConfig, Client};

/// How much faster than real time the rate-limited tests run (100x: the
/// one-second window is 10 ms). The client paces under exactly these
/// compressed limits: its headroom and its patience for an answer are
/// absolute (`identifai::config::RateLimits::HEADROOM`, `PATIENCE`), so no relative
/// slack and no cap on the compression are needed.
pub const SCALE: f64 = 0.01;

/// A mock with the published limits compressed by [`SCALE`].
pub fn mock() -> MockServer {
    mock_with(MockConfig::default())
}

pub fn mock_with(config: MockConfig) -> MockServer {
    MockServer::start_with(config.with_time_scale(SCALE))
}

/// A client for `server`, pacing under the same compressed limits, polling
/// fast.
pub fn client(server: &MockServer) -> Client {
    builder(server).build().expect("client")
}

pub fn builder(server: &MockServer) -> identifai::ClientBuilder {
    Client::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .rate_limits(Some(RateLimits::PUBLISHED.with_time_scale(SCALE)))
        .retry(
            RetryConfig::default()
                .with_initial_backoff(Duration::from_millis(10))
                .with_max_backoff(Duration::from_millis(100))
                // 429s met on the mock's clock (the budget and the breaker
                // stay at their defaults: no test of this setup meets them).
                .with_rate_limit_backoff(Duration::from_secs(2).mul_f64(SCALE))
                .with_max_rate_limit_backoff(Duration::from_secs(60).mul_f64(SCALE))
                .with_retry_after_fallback(Duration::from_secs(60).mul_f64(SCALE)),
        )
        .wait(
            WaitConfig::default()
                .with_deadline(Duration::from_secs(30))
                .with_initial_interval(Duration::from_millis(20))
                .with_max_interval(Duration::from_millis(50))
                .with_multiplier(1.5),
        )
}
