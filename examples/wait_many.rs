//! Many classifications at once: submit 20 generated images, a few at a
//! time (the client paces itself under the rate limits, so none meets a
//! 429), then wait for all of them with one [`Client::wait_all`], which
//! polls up to 100 identifiers per request.
//!
//! `wait_all` answers one outcome per identifier given, in order: failures
//! stand next to successes and nothing is dropped. To show that, the batch
//! also holds an image submitted with `ref_id` `mock:errored` (the mock ends
//! it `errored`; the real service ignores the directive), an identifier
//! nobody submitted (404), and a duplicate.
//!
//! ```sh
//! cargo run --example wait_many --features mock
//! IDENTIFAI_API_KEY=... cargo run --example wait_many --features mock   # uses 21 submissions
//! ```
//!
//! [`Client::wait_all`]: identifai::Client::wait_all

mod common;

use std::error::Error;
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use identifai::api::forms::ImageOptions;
use identifai::{Identifier, Source};

/// Generated images to submit.
const COUNT: u32 = 20;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let target = common::Target::from_env()?;
    let client = target.client()?;

    let mut jobs = Vec::new();
    for seed in 0..COUNT {
        let name = format!("variant-{seed:02}.png");
        jobs.push((
            name,
            common::generated_png(seed, 64, 48)?,
            ImageOptions::new(),
        ));
    }
    jobs.push((
        "errored.png".to_string(),
        common::generated_png(COUNT, 64, 48)?,
        ImageOptions::new().ref_id("mock:errored"),
    ));

    // Four submissions in flight at a time; the shared pacer spaces them.
    let started = Instant::now();
    let submitted: Vec<(String, Identifier)> = futures::stream::iter(jobs)
        .map(|(name, png, options)| {
            let client = &client;
            async move {
                let id = client
                    .classify_image(Source::bytes(name.clone(), png))
                    .options(options)
                    .send()
                    .await?;
                Ok::<_, identifai::Error>((name, id))
            }
        })
        .buffered(4)
        .try_collect()
        .await?;
    println!(
        "submitted {} images in {:.2?}",
        submitted.len(),
        started.elapsed()
    );

    let mut rows: Vec<(String, Identifier)> = submitted;
    let never_submitted = Identifier::new("0".repeat(64))?;
    rows.push(("(never submitted)".into(), never_submitted));
    rows.push(("(duplicate of #1)".into(), rows[0].1.clone()));

    let started = Instant::now();
    let outcomes = client.wait_all(rows.iter().map(|(_, id)| id.clone())).await;
    println!(
        "waited for {} identifiers in {:.2?}\n",
        outcomes.len(),
        started.elapsed()
    );

    println!("{:>3}  {:<18} {:<14} outcome", "#", "media", "identifier");
    let (mut done, mut failed) = (0, 0);
    for (i, ((name, _), (id, outcome))) in rows.iter().zip(&outcomes).enumerate() {
        let text = match outcome {
            Ok(result) => {
                done += 1;
                // The verdict to act on: an account's override wins.
                match result.effective_verdict() {
                    Some(e) => match e.confidence {
                        Some(c) => format!("{:<10} {:.1}%", e.classification.as_str(), c * 100.0),
                        None => format!("{:<10} (forced)", e.classification.as_str()),
                    },
                    None => "done, no verdict".to_string(),
                }
            }
            Err(e) => {
                failed += 1;
                format!("ERROR {e}")
            }
        };
        println!("{:>3}  {name:<18} {:<14.12} {text}", i + 1, id.as_str());
    }
    println!("\n{done} done, {failed} failed, {} in all", outcomes.len());

    if let Some(server) = target.server() {
        let stats = server.stats();
        println!(
            "mock saw {} submissions, {} list requests, {} single GETs, {} answered 429",
            stats.route(identifai::mock::Route::ClassifyImage),
            stats.route(identifai::mock::Route::ListClassifications),
            stats.route(identifai::mock::Route::GetImageClassification),
            stats.status(429),
        );
    }
    Ok(())
}
