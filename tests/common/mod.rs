//! Shared helpers for the layer's tests: a client pointed at a loopback
//! `MockServer`, and media bytes.
#![allow(dead_code)]

use std::time::Duration;

pub mod errors;

use identifai::mock::{MockConfig, MockServer};
use identifai::{Client, RateLimits, RetryConfig, WaitConfig};

/// How much faster than real time the rate-limited tests run (100x: the
/// one-second window is 10 ms). The client paces under exactly these
/// compressed limits: its headroom and its patience for an answer are
/// absolute (`identifai::pacing::HEADROOM`, `PATIENCE`), so no relative
/// slack and no cap on the compression are needed.
pub const SCALE: f64 = 0.01;

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

/// A short 8 kHz mono WAV, unique per `n`.
pub fn wav(n: u32) -> Vec<u8> {
    let samples: Vec<u8> = (0..800u32)
        .flat_map(|i| (((i * (n + 3)) % 2000) as i16 - 1000).to_le_bytes())
        .collect();
    let mut v = b"RIFF".to_vec();
    v.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes()); // PCM
    v.extend_from_slice(&1u16.to_le_bytes()); // mono
    v.extend_from_slice(&8000u32.to_le_bytes());
    v.extend_from_slice(&16000u32.to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&16u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    v.extend_from_slice(&samples);
    v
}

/// Bytes that start like an MP3 (an ID3v2 tag), unique per `n`.
pub fn mp3(n: u32) -> Vec<u8> {
    let mut v = b"ID3\x03\0\0\0\0\0\x0a".to_vec();
    v.extend_from_slice(&[0u8; 10]);
    v.extend_from_slice(&[0xff, 0xfb, 0x90, 0x64]);
    v.extend_from_slice(&n.to_be_bytes());
    v.extend_from_slice(&[0x55u8; 256]);
    v
}
