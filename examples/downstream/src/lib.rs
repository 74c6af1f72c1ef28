//! A downstream crate: the code a user would test with identifai's mocks.

use identifai::api::forms::ImageOptions;
use identifai::{Client, Identifier, Source};

/// Submits an image by URL and returns its identifier (the user's code
/// under test).
pub async fn submit(client: &Client, url: &str) -> identifai::Result<Identifier> {
    client.classify_image(Source::url(url)).send().await
}

/// Uploads a photo with a heatmap asked for, tagged with the user's own
/// reference, and returns its identifier.
pub async fn upload(
    client: &Client,
    name: &str,
    bytes: Vec<u8>,
    reference: &str,
) -> identifai::Result<Identifier> {
    client
        .classify_image(Source::bytes(name.to_string(), bytes))
        .options(ImageOptions::new().with_heatmap(true).ref_id(reference))
        .send()
        .await
}
