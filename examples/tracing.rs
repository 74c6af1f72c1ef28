//! Tracing: the client's spans and events through `tracing-subscriber`,
//! and proof that the API key never reaches the logs.
//!
//! Every request runs in an `identifai.request` span (operation, method,
//! path, attempts, status), inside `identifai.submit` / `identifai.wait` /
//! `identifai.wait_all` spans; retries and pacing log `debug` events. Spans
//! are printed when they close, with their timing.
//!
//! The log goes to stderr and to a buffer; at the end the buffer is
//! searched for the key (the real one, or the mock's deliberately
//! distinctive one), and for a wrong key that was tried too.
//!
//! ```sh
//! cargo run --example tracing --features mock
//! RUST_LOG=trace cargo run --example tracing --features mock    # everything, reqwest and hyper included
//! ```

mod common;

use std::error::Error;
use std::io::Write;
use std::sync::{Arc, Mutex};

use identifai::api::forms::ImageOptions;
use identifai::Source;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

/// The mock's key: easy to find in a log if it ever got there.
const MOCK_KEY: &str = "sk-mock-DO-NOT-LOG-7f3a9c41";
/// A wrong key that is tried once (and must not be logged either).
const WRONG_KEY: &str = "sk-wrong-DO-NOT-LOG-0b77e2d5";

/// A writer that copies everything to stderr and keeps it in memory.
#[derive(Clone, Default)]
struct Tee(Arc<Mutex<Vec<u8>>>);

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(buf);
        std::io::stderr().write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl Tee {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let log = Tee::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,identifai=debug")),
        )
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let target = common::Target::from_env_or(
        common::mock_config().with_api_keys(vec![MOCK_KEY.to_string()]),
    )?;
    let key = match target.server() {
        Some(server) => server.api_key().to_string(),
        None => std::env::var(identifai::ClientBuilder::ENV_API_KEY)?
            .trim()
            .to_string(),
    };
    let client = target.client()?;
    // The client's Debug is safe to log: the key shows as [REDACTED].
    tracing::info!(?client, "client built");

    let id = client
        .classify_image(Source::path(common::media("sample.png")))
        .options(ImageOptions::new().with_heatmap(true))
        .send()
        .await?;
    let result = client.wait_image(&id).await?;
    tracing::info!(identifier = %id, verdict = ?result.verdict.as_ref().map(|v| &v.classification), "classified");
    let heatmap = client.heatmap(&id).await?;
    tracing::info!(bytes = heatmap.map_or(0, |h| h.len()), "heatmap fetched");
    let all = client.wait_all([id.clone(), id.clone()]).await;
    tracing::info!(results = all.len(), "wait_all finished");

    let wrong = target.builder().api_key(WRONG_KEY).build()?;
    if let Err(e) = wrong.result(&id).await {
        tracing::warn!(error = %e, "expected failure with a wrong key");
    }

    let text = log.text();
    for span in ["identifai.submit", "identifai.wait", "identifai.request"] {
        assert!(text.contains(span), "the log has no {span} span");
    }
    assert!(!text.contains(&key), "the API key appeared in the log");
    assert!(
        !text.contains(WRONG_KEY),
        "the wrong key appeared in the log"
    );
    println!(
        "checked {} lines ({} bytes) of log output: the spans are there, and neither \
         the API key nor the wrong key appears in them",
        text.lines().count(),
        text.len()
    );
    Ok(())
}
