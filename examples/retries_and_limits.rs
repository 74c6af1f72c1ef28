//! Riding through trouble: retries ([`RetryConfig`]), pacing under the
//! rate limits ([`RateLimits`]) and timeouts, against faults injected into
//! the mock.
//!
//! 1. Pacing: the same burst of submissions with pacing off (the mock
//!    answers 429 with `Retry-After`; the client waits and retries) and on
//!    (no 429 at all).
//! 2. Faults: 503s on a GET (retried), a 429 on a POST (retried: the server
//!    cannot have processed it), a 502 on a POST (not retried: it may have
//!    been processed, and a resubmission can cost credits), a GET slower than
//!    the request timeout (retried), and more 503s than attempts allowed.
//! 3. The mock's counters: requests, 429s from its limiter, faults served.
//!
//! ```sh
//! cargo run --example retries_and_limits --features mock
//! ```
//!
//! With `IDENTIFAI_API_KEY` set it only builds the configured client and
//! classifies one image: faults can only be injected into the mock, and
//! bursting the real service into 429s would be rude.

mod common;

use std::error::Error;
use std::time::{Duration, Instant};

use identifai::api::forms::ImageOptions;
use identifai::mock::{Fault, Route};
use identifai::{config::RetryConfig, Client, Identifier, Source};

/// Images per burst.
const BURST: u32 = 4;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let target = common::Target::from_env()?;

    // Every knob. The short request timeout suits the mock (and part 2).
    let retry = RetryConfig::default()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(2))
        .with_max_elapsed(Duration::from_secs(30));
    let request_timeout = if target.is_mock() {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(30)
    };
    let client = target
        .builder()
        .retry(retry.clone())
        .rate_limits(Some(target.rate_limits()))
        .connect_timeout(Duration::from_secs(5))
        .request_timeout(request_timeout)
        .upload_timeout(Duration::from_secs(600))
        .build()?;
    println!("client: {client:?}\n");

    let Some(server) = target.server() else {
        let result = client
            .classify_image(Source::path(common::media("sample.png")))
            .wait()
            .await?;
        let verdict = result.verdict.as_ref();
        println!(
            "classified: {} ({:.3})",
            verdict.map_or("no verdict", |v| v.classification.as_str()),
            verdict.map_or(0.0, |v| v.confidence)
        );
        println!("(fault injection and bursts need the mock: run without IDENTIFAI_API_KEY)");
        return Ok(());
    };

    println!("== 1. a burst of {BURST} submissions ==");
    let unpaced = target
        .builder()
        .retry(retry.clone())
        .rate_limits(None)
        .build()?;
    for (name, c) in [("pacing off", &unpaced), ("pacing on ", &client)] {
        server.reset_stats();
        server.reset_rate_limits();
        let started = Instant::now();
        for seed in 0..BURST {
            let png = common::generated_png(seed, 32, 32)?;
            c.classify_image(Source::bytes("burst.png", png))
                .options(ImageOptions::new().no_cache(true))
                .send()
                .await?;
        }
        let stats = server.stats();
        println!(
            "{name}: {BURST} accepted in {:>7.2?}; the mock answered {} POSTs, {} of them 429",
            started.elapsed(),
            stats.posts,
            stats.rate_limited,
        );
    }

    println!("\n== 2. injected faults ==");
    server.reset_stats();
    let id = client
        .classify_image(Source::path(common::media("sample.png")))
        .send()
        .await?;

    server.inject_times(
        Route::GetImageClassification,
        Fault::service_unavailable(Some(1)),
        2,
    );
    report(
        "GET answered 503 (Retry-After: 1) twice",
        client.result(&id),
    )
    .await;

    server.inject(Route::ClassifyImage, Fault::too_many_attempts(Some(1)));
    report(
        "POST answered 429 (Retry-After: 1) once",
        client
            .classify_image(Source::path(common::media("sample.jpg")))
            .send(),
    )
    .await;

    server.inject(Route::ClassifyImage, Fault::bad_gateway_html());
    report(
        "POST answered 502 (not retried)",
        client
            .classify_image(Source::path(common::media("sample.jpg")))
            .send(),
    )
    .await;

    server.inject(
        Route::GetImageClassification,
        Fault::server_error().with_delay(Duration::from_secs(2)),
    );
    report(
        "GET slower than the 500 ms request timeout",
        client.result(&id),
    )
    .await;

    server.inject_times(
        Route::GetImageClassification,
        Fault::service_unavailable(None),
        6,
    );
    report(
        "GET answered 503 six times (4 attempts allowed)",
        client.result(&id),
    )
    .await;
    println!("  faults left in the queue: {}", server.pending_faults());
    server.clear_faults();

    println!("\n== 3. what the mock saw in part 2 ==");
    let stats = server.stats();
    println!(
        "  {} requests ({} POST, {} GET); {} faults served",
        stats.requests, stats.posts, stats.gets, stats.faults_served
    );
    for (status, count) in &stats.by_status {
        println!("  HTTP {status}: {count}");
    }
    println!(
        "  429s from the limiter: {} (the injected one is counted under HTTP 429 only)",
        stats.rate_limited
    );
    wait_done(&client, &id).await?;
    Ok(())
}

/// Runs `call`, printing its outcome and how long it took (retries included).
async fn report<T: std::fmt::Debug>(
    what: &str,
    call: impl std::future::IntoFuture<Output = identifai::Result<T>>,
) {
    let started = Instant::now();
    let outcome = call.await;
    let took = started.elapsed();
    match outcome {
        Ok(_) => println!("  {what}: ok after {took:.2?}"),
        Err(e) => println!("  {what}: Err after {took:.2?}: {e}"),
    }
}

/// The first submission still finishes normally after all that.
async fn wait_done(client: &Client, id: &Identifier) -> identifai::Result<()> {
    let result = client.wait_image(id).await?;
    println!(
        "\n{:.12}… finished: {}",
        id.as_str(),
        result
            .verdict
            .as_ref()
            .map_or("no verdict".into(), |v| v.classification.to_string())
    );
    Ok(())
}
