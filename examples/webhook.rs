//! Webhook bodies: turning what identifAI POSTs to your `webhook_url` into
//! the typed result with [`identifai::webhook::parse_image_result`], and
//! why it is only a hint.
//!
//! No HTTP server is needed to show it: the body is read from a file given
//! as the argument, or is the sample below. Whatever web framework receives
//! the POST hands its body bytes to the same function.
//!
//! ```sh
//! cargo run --example webhook --features mock
//! cargo run --example webhook --features mock -- body.json
//! ```
//!
//! Then, against the mock (or the service), it submits an image with a
//! `webhook_url`, polls for the result anyway, and checks a delivery by
//! fetching the result again by its identifier before trusting it.

mod common;

use std::error::Error;

use identifai::api::forms::ImageOptions;
use identifai::api::types::ImageResponse;
use identifai::{Client, Identifier, Source};

/// A body as the service posts it (the same object polling returns), with
/// a field this client version does not know: it is ignored.
const SAMPLE: &str = r#"{
  "identifier": "8d64370a87b820cc4e1f",
  "name": "photo.jpg",
  "ref_id": "order-1234",
  "status": "done",
  "api_version": "1.1.0",
  "has_heatmap": false,
  "verdict": {"heuristic": "Majority", "confidence": 0.9731, "classification": "artificial",
              "models": ["model-a", "model-b"]},
  "verdicts": [
    {"heuristic": "Majority", "confidence": 0.9731, "classification": "artificial"},
    {"heuristic": "TopRelevant", "confidence": 0.9912, "classification": "artificial"}
  ],
  "results": [
    {"model": "model-a", "unknown": false, "elapsed_time": 0.21,
     "classification": [{"label": "human", "score": 0.0269}, {"label": "artificial", "score": 0.9731}]}
  ],
  "a_field_added_next_year": {"whatever": true}
}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let body = match std::env::args_os().nth(1) {
        Some(path) => std::fs::read(path)?,
        None => SAMPLE.as_bytes().to_vec(),
    };

    let result = identifai::webhook::parse_image_result(&body)?;
    println!("parsed a webhook body:");
    print_result(&result);

    // A body that is not a result is a typed `Error::Decode`, with a snippet.
    match identifai::webhook::parse_image_result(b"<html>hello</html>") {
        Ok(_) => println!("unexpectedly parsed HTML"),
        Err(e) => println!("\na malformed body: {e}"),
    }

    println!(
        "\nNOTE: identifAI publishes no webhook signature scheme: nothing proves a body\n\
         came from identifAI. Treat it as a hint, and fetch the result again by its\n\
         identifier before acting on it. Polling stays the fallback: a repeated\n\
         submission (same file, same options) is answered from cache and never calls\n\
         the webhook, and webhooks are only enabled on request, per account."
    );

    let target = common::Target::from_env()?;
    let client = target.client()?;

    // Ask for a webhook, but rely on polling: it may never be called.
    let id = client
        .classify_image(Source::path(common::media("sample.jpg")))
        .options(ImageOptions::new().webhook_url("https://example.com/hooks/identifai"))
        .send()
        .await?;
    let polled = client.wait_image(&id).await?.into_inner();
    println!("\npolled {id} (webhook requested, not waited for):");
    print_result(&polled);

    // Deliveries, simulated: one genuine (the result as polled), one forged.
    let genuine = serde_json::to_vec(&polled)?;
    let mut forged = polled.clone();
    if let Some(v) = forged.verdict.as_mut() {
        v.classification = match v.classification.as_str() {
            "human" => "artificial".into(),
            _ => "human".into(),
        };
    }
    let forged = serde_json::to_vec(&forged)?;
    for (name, delivery) in [("genuine", genuine), ("forged", forged)] {
        match verified(&client, &delivery).await {
            Ok(r) => println!(
                "{name} delivery: verified, verdict {}",
                r.verdict
                    .map_or("none".to_string(), |v| v.classification.to_string())
            ),
            Err(e) => println!("{name} delivery: rejected: {e}"),
        }
    }
    Ok(())
}

/// The result a webhook body announces, fetched again from the API and
/// compared, so that only what the API says is acted on.
async fn verified(client: &Client, body: &[u8]) -> Result<ImageResponse, Box<dyn Error>> {
    let claimed = identifai::webhook::parse_image_result(body)?;
    let id: Identifier = claimed
        .identifier
        .as_deref()
        .ok_or("the body has no identifier")?
        .parse()?;
    let actual = client.image_result(&id).await?.into_inner();
    let verdict = |r: &ImageResponse| {
        r.verdict
            .as_ref()
            .map_or("no verdict".to_string(), |v| v.classification.to_string())
    };
    if verdict(&claimed) != verdict(&actual) {
        return Err(format!(
            "the body says {}, the API says {}",
            verdict(&claimed),
            verdict(&actual)
        )
        .into());
    }
    Ok(actual)
}

fn print_result(r: &ImageResponse) {
    println!(
        "  identifier {}  status {}  ref_id {}",
        r.identifier.as_deref().unwrap_or("-"),
        r.status.as_ref().map_or("-", |s| s.as_str()),
        r.ref_id.as_deref().unwrap_or("-"),
    );
    if let Some(v) = &r.verdict {
        println!(
            "  verdict {} ({:.1}%, {})",
            v.classification,
            v.confidence * 100.0,
            v.heuristic
        );
    }
    println!(
        "  {} heuristics, {} model results",
        r.verdicts.len(),
        r.results.len()
    );
}
