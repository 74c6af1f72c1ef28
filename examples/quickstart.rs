//! Quickstart: classify one image, wait for the result, print the verdict,
//! every heuristic's verdict and each model's scores, and save the AI
//! heatmap.
//!
//! ```sh
//! # against a mock identifAI on loopback (no key needed)
//! cargo run --example quickstart --features mock
//! # against the real service, with your own image
//! IDENTIFAI_API_KEY=... cargo run --example quickstart --features mock -- photo.jpg
//! ```
//!
//! Without an argument it classifies `examples/media/sample.jpg`.

mod common;

use std::error::Error;
use std::path::PathBuf;

use identifai::api::forms::ImageOptions;
use identifai::api::types::Classification;
use identifai::Source;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let target = common::Target::from_env()?;
    let client = target.client()?;

    let path = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| common::media("sample.jpg"));

    // Checked (exists, is an image, under 50 MB) and streamed from disk.
    let id = client
        .classify_image(Source::path(&path))
        .options(ImageOptions::new().with_heatmap(true))
        .send()
        .await?;
    println!("submitted {} -> {id}", path.display());

    // Polls with backoff until `done` (an `errored` classification is an Err).
    let result = client.wait_image(&id).await?;

    match &result.verdict {
        Some(v) => println!(
            "verdict: {} ({:.1}% confident, heuristic {})",
            v.classification,
            v.confidence * 100.0,
            v.heuristic
        ),
        None => println!("verdict: none"),
    }
    if !result.verdicts.is_empty() {
        println!("heuristics:");
        for v in &result.verdicts {
            println!(
                "  {:<24} {:<11} {:.4}",
                v.heuristic,
                v.classification.as_str(),
                v.confidence
            );
        }
    }
    if !result.results.is_empty() {
        println!("models:");
        for r in &result.results {
            let score = |label: Classification| {
                r.classification
                    .iter()
                    .find(|s| s.label.as_ref() == Some(&label))
                    .and_then(|s| s.score)
                    .map_or_else(|| "-".to_string(), |s| format!("{s:.4}"))
            };
            println!(
                "  {:<24} human {}  artificial {}{}",
                r.model.as_deref().unwrap_or("(unnamed)"),
                score(Classification::Human),
                score(Classification::Artificial),
                if r.unknown == Some(true) {
                    "  (uncertain)"
                } else {
                    ""
                }
            );
        }
    }
    if let Some(url) = &result.result_url {
        println!("dashboard: {url}");
    }

    let heatmap = std::env::temp_dir().join(format!("identifai-heatmap-{id}.png"));
    if client.save_heatmap(&id, &heatmap).await? {
        println!("heatmap saved to {}", heatmap.display());
    } else {
        println!("no heatmap for {id}");
    }
    Ok(())
}
