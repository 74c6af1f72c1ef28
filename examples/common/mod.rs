//! What every example shares: where to send requests.
//!
//! With `IDENTIFAI_API_KEY` set (and optionally `IDENTIFAI_BASE_URL`), the
//! examples talk to the real identifAI service. Without it they start
//! [`MockServer`], a fake identifAI on loopback, and talk to that, so that
//! `cargo run --example NAME --features mock` works on any machine.
//!
//! The mock runs its rate-limit windows 20 times faster than the real ones
//! ([`MOCK_TIME_SCALE`]) and the client paces itself to match, so the
//! examples finish in seconds while still obeying (scaled) published limits.
//! (At 0.01 the pacing headroom, 2% of a 600 ms window, is about the
//! latency of a fresh connection, and an occasional 429 slips through.)

// Each example uses only part of this module.
#![allow(dead_code)]

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Duration;

use identifai::mock::{MockConfig, MockServer};
use identifai::{config::RateLimits, config::WaitConfig, Client, ClientBuilder};

/// How much faster than real time the mock's rate-limit windows run.
pub const MOCK_TIME_SCALE: f64 = 0.05;

/// Where the examples send their requests.
pub enum Target {
    /// The real service (`IDENTIFAI_API_KEY` is set).
    Service,
    /// A fake identifAI on loopback.
    Mock(MockServer),
}

impl Target {
    /// The real service when `IDENTIFAI_API_KEY` is set, else a mock with
    /// [`mock_config`].
    pub fn from_env() -> Result<Self, Box<dyn Error>> {
        Self::from_env_or(mock_config())
    }

    /// The real service when `IDENTIFAI_API_KEY` is set, else a mock
    /// started with `config`.
    pub fn from_env_or(config: MockConfig) -> Result<Self, Box<dyn Error>> {
        let has_key = std::env::var(identifai::ClientBuilder::ENV_API_KEY)
            .is_ok_and(|key| !key.trim().is_empty());
        if has_key {
            let base = std::env::var(identifai::ClientBuilder::ENV_BASE_URL)
                .unwrap_or_else(|_| identifai::ClientBuilder::DEFAULT_BASE_URL.to_string());
            eprintln!("[example] IDENTIFAI_API_KEY is set: using the identifAI service at {base}");
            Ok(Target::Service)
        } else {
            start_mock(config, "IDENTIFAI_API_KEY is not set")
        }
    }

    /// Always a mock started with `config`, whatever the environment says.
    pub fn mock(config: MockConfig) -> Result<Self, Box<dyn Error>> {
        start_mock(config, "this example always runs against the mock")
    }

    /// The mock server, when that is the target.
    pub fn server(&self) -> Option<&MockServer> {
        match self {
            Target::Mock(server) => Some(server),
            Target::Service => None,
        }
    }

    /// Whether the target is the mock.
    pub fn is_mock(&self) -> bool {
        self.server().is_some()
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> String {
        match self {
            Target::Mock(server) => server.base_url(),
            Target::Service => std::env::var(identifai::ClientBuilder::ENV_BASE_URL)
                .unwrap_or_else(|_| identifai::ClientBuilder::DEFAULT_BASE_URL.to_string()),
        }
    }

    /// The published rate limits, on the target's clock.
    pub fn rate_limits(&self) -> RateLimits {
        match self {
            Target::Mock(server) => {
                RateLimits::PUBLISHED.with_time_scale(server.config().time_scale())
            }
            Target::Service => RateLimits::PUBLISHED,
        }
    }

    /// A client builder for the target, to tune further before `build()`.
    ///
    /// For the mock: its key and URL, pacing on the mock's clock, and
    /// polling every 50 ms instead of every second.
    pub fn builder(&self) -> ClientBuilder {
        match self {
            Target::Service => Client::builder().from_env(),
            Target::Mock(server) => Client::builder()
                .api_key(server.api_key())
                .base_url(server.base_url())
                .rate_limits(Some(self.rate_limits()))
                .wait(
                    WaitConfig::default()
                        .with_deadline(Duration::from_secs(30))
                        .with_initial_interval(Duration::from_millis(50))
                        .with_max_interval(Duration::from_millis(500))
                        .with_multiplier(1.5),
                ),
        }
    }

    /// A client for the target with the example defaults.
    pub fn client(&self) -> identifai::Result<Client> {
        self.builder().build()
    }
}

fn start_mock(config: MockConfig, why: &str) -> Result<Target, Box<dyn Error>> {
    let server = MockServer::try_start_with(config)?;
    eprintln!(
        "[example] {why}: using a mock identifAI at {}",
        server.base_url()
    );
    Ok(Target::Mock(server))
}

/// The mock configuration the examples use by default: the published rate
/// limits on a clock [`MOCK_TIME_SCALE`] times as fast, and one `new`
/// answer before a classification is `done`.
pub fn mock_config() -> MockConfig {
    MockConfig::default().with_time_scale(MOCK_TIME_SCALE)
}

/// A file under `examples/media/`, shipped with the crate.
pub fn media(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join("media")
        .join(name)
}

/// The first bytes of an MP4 file: an `ftyp` box (24 bytes), enough for the
/// client (and the mock) to tell it is a video.
pub const MP4_HEADER: [u8; 24] = *b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41";

/// A small PNG, `width` x `height`, whose pixels depend on `seed`: distinct
/// seeds give distinct files (and so distinct identifiers).
pub fn generated_png(seed: u32, width: u32, height: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    let mut pixels = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for x in 0..width {
            pixels.push((x * 255 / width.max(1)) as u8 ^ seed as u8);
            pixels.push((y * 255 / height.max(1)) as u8);
            pixels.push((seed.wrapping_mul(37) + x * y) as u8);
        }
    }
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(out)
}
