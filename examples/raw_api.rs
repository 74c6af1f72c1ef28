//! The generated client, for what the ergonomic layer does not wrap:
//! [`Client::api`] gives the operations generated from the OpenAPI spec,
//! with the same key, pacing, retries and timeouts as the layer.
//!
//! Shown here: the alias routes (`/api/classification_image/{id}`,
//! `/api/classifications_image`, `/api/classification_image/heatmap/{id}`),
//! response headers (the rate-limit counters), the heatmap as a byte
//! stream, and the generated client's own error type.
//!
//! ```sh
//! cargo run --example raw_api --features mock
//! IDENTIFAI_API_KEY=... cargo run --example raw_api --features mock
//! ```
//!
//! [`Client::api`]: identifai::Client::api

mod common;

use std::error::Error;

use futures::TryStreamExt;
use identifai::api::forms::ImageOptions;
use identifai::Source;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let target = common::Target::from_env()?;
    let client = target.client()?;

    // Two classifications to look at, through the layer.
    let first = client
        .classify_image(Source::path(common::media("sample.png")))
        .options(ImageOptions::new().with_heatmap(true))
        .send()
        .await?;
    let second = client
        .classify_image(Source::path(common::media("sample.jpg")))
        .send()
        .await?;
    client.wait_image(&first).await?;

    let api: &identifai::api::Client = client.api();

    // Health: no key, not paced; the answer's status and headers are kept.
    let health = api.health().await?;
    println!(
        "health: HTTP {} -> {}",
        health.status(),
        health.into_inner().status
    );

    // A single result by the alias path, with the answer's headers.
    let answer = api.get_image_classification_alias(first.as_str()).await?;
    let header = |name: &str| {
        answer
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string()
    };
    println!(
        "GET /api/classification_image/{:.12}…: HTTP {}, rate limit {} (remaining {})",
        first.as_str(),
        answer.status(),
        header("x-ratelimit-limit"),
        header("x-ratelimit-remaining"),
    );
    let result = answer.into_inner();
    println!(
        "  status {}, verdict {}",
        result.status.as_ref().map_or("-", |s| s.as_str()),
        result
            .verdict
            .as_ref()
            .map_or("-", |v| v.classification.as_str())
    );

    // Several at once by the alias list path (the spec takes `identifiers[]`).
    let ids = vec![first.to_string(), second.to_string()];
    let list = api
        .list_image_classifications_alias(&ids)
        .await?
        .into_inner();
    println!("GET /api/classifications_image: {} results", list.len());
    for r in &list {
        println!(
            "  {:.12}…  status {}",
            r.identifier.as_deref().unwrap_or("?"),
            r.status.as_ref().map_or("-", |s| s.as_str())
        );
    }

    // The heatmap as a stream of chunks (200 with a PNG, or 204 without one).
    let heatmap = api.get_image_heatmap_alias(first.as_str()).await?;
    let status = heatmap.status();
    let chunks: Vec<bytes::Bytes> = heatmap.into_inner().into_inner().try_collect().await?;
    println!(
        "GET /api/classification_image/heatmap/…: HTTP {status}, {} bytes in {} chunks",
        chunks.iter().map(|c| c.len()).sum::<usize>(),
        chunks.len()
    );

    // The generated client's errors: documented statuses come with the
    // decoded body, others with the raw response.
    match api.get_image_classification_alias(&"0".repeat(64)).await {
        Ok(_) => println!("unknown identifier: found?"),
        Err(identifai::api::Error::ErrorResponse(answer)) => println!(
            "unknown identifier: documented error HTTP {}: {:?}",
            answer.status(),
            answer.into_inner().error
        ),
        Err(identifai::api::Error::UnexpectedResponse(response)) => println!(
            "unknown identifier: undocumented status HTTP {}: {}",
            response.status(),
            response.text().await?
        ),
        Err(e) => println!("unknown identifier: {e}"),
    }
    Ok(())
}
