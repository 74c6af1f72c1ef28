//! A downstream crate: the code a user would test with identifai's mocks.

use identifai::{Client, Identifier, Source};

/// Submits an image by URL and returns its identifier (the user's code
/// under test).
pub async fn submit(client: &Client, url: &str) -> identifai::Result<Identifier> {
    client.classify_image(Source::url(url)).send().await
}
