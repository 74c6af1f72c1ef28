//! Shared helpers for the layer's tests: a client pointed at a loopback
//! `MockServer`, and media bytes.
#![allow(dead_code)]

use std::time::Duration;

pub mod errors;

use identifai::mock::{MockConfig, MockServer};
use identifai::{Client, RateLimits, RetryConfig, WaitConfig};

/// How much faster than real time the rate-limited tests run (20x: at
/// 100x the one-second window is 10 ms, close enough to loopback latency
/// jitter that a paced request can land early).
pub const SCALE: f64 = 0.05;

/// A mock with the published limits compressed by [`SCALE`].
pub fn mock() -> MockServer {
    mock_with(MockConfig::default())
}

pub fn mock_with(config: MockConfig) -> MockServer {
    MockServer::start_with(MockConfig {
        time_scale: SCALE,
        ..config
    })
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
        .rate_limits(Some(RateLimits::PUBLISHED.time_scale(SCALE)))
        .retry(
            RetryConfig::default()
                .initial_backoff(Duration::from_millis(10))
                .max_backoff(Duration::from_millis(100)),
        )
        .wait(WaitConfig {
            deadline: Duration::from_secs(30),
            initial_interval: Duration::from_millis(20),
            max_interval: Duration::from_millis(50),
            multiplier: 1.5,
        })
}

/// Bytes that start like a PNG, unique per `n` (so each gets its own id).
pub fn png(n: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.extend_from_slice(&n.to_be_bytes());
    v.extend_from_slice(&[7u8; 64]);
    v
}

/// Bytes that start like an MP4 (`ftyp` box).
pub fn mp4(n: u32) -> Vec<u8> {
    let mut v = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    v.extend_from_slice(&n.to_be_bytes());
    v.extend_from_slice(&[1u8; 128]);
    v
}
