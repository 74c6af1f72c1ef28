//! Audio, whole answers and overrides: classify the shipped speech sample,
//! print its per-clip verdicts and the fields of the answer (all of them,
//! also those this client's spec does not name), find a result without
//! knowing its kind, then correct the verdict with an override and see later
//! answers carry it as `force_classification`.
//!
//! ```sh
//! cargo run --example audio_and_override --features mock
//! IDENTIFAI_API_KEY=... cargo run --example audio_and_override --features mock
//! ```
//!
//! Against the real service the override is real: it changes what your
//! account is told about that file (its SHA-256) from then on.

mod common;

use std::error::Error;

use identifai::api::forms::AudioOptions;
use identifai::api::types::Classification;
use identifai::{AnyResult, Kind, Source};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let target = common::Target::from_env()?;
    let client = target.client()?;

    // 1. An audio from a path: checked (type, the spec's 50 MB) before sending.
    let result = client
        .classify_audio(Source::path(common::media("speech.wav")))
        .options(AudioOptions::new().ref_id("audio-example"))
        .wait()
        .await?;
    let id = result.identifier.clone().unwrap_or_default();
    let hash = result.hash.clone().unwrap_or_default();
    if let Some(v) = &result.verdict {
        println!(
            "speech.wav: {} ({:.1}%)",
            v.classification,
            v.confidence * 100.0
        );
    }
    // The pages show per-clip details as `chunk_details` or `details.clips`.
    let clips = if result.chunk_details.is_empty() {
        result
            .details
            .as_ref()
            .map(|d| d.clips.clone())
            .unwrap_or_default()
    } else {
        result.chunk_details.clone()
    };
    for clip in &clips {
        if let Some(v) = &clip.verdict {
            let span = format!("{:.1}s-{:.1}s", clip.start, clip.end);
            println!(
                "  clip #{:<2} {span:<12} {} {:.1}%",
                clip.index,
                v.classification,
                v.confidence * 100.0
            );
        }
    }

    // 2. The whole answer: `raw()` is the server's JSON, every field kept.
    let raw: serde_json::Value = serde_json::from_str(result.raw().get())?;
    let fields: Vec<&String> = raw
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    println!("the answer's fields: {fields:?}");

    // 3. A result of unknown kind: image, then video, then audio, on 404.
    let found = client.result(&id.parse()?).await?;
    println!("{id:.16}… is {} (found by itself)", found.kind());

    // 4. Correct the verdict: overrides take the file's hash, per kind.
    let answer = client
        .override_classification(Kind::Audio, &hash, Classification::Artificial)
        .await?;
    // `None`: the service stored it and answered 204, with no body.
    match answer {
        Some(a) => println!(
            "override: {} {:.16}… is now {}",
            a.type_, a.hash, a.classification
        ),
        None => println!("override: stored (no body)"),
    }
    if let AnyResult::Audio(later) = client.result(&id.parse()?).await? {
        println!(
            "later answers: force_classification = {}",
            later
                .force_classification
                .as_ref()
                .map_or("none".to_string(), |f| f.to_string())
        );
    }
    Ok(())
}
