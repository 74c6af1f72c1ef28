//! Every way to hand media to the client: an image from a path, from bytes
//! in memory, from an async reader and by URL; a video from a path with
//! [`VideoOptions`] (frame count, key frames) and a progress callback.
//!
//! ```sh
//! cargo run --example submit_sources --features mock
//! IDENTIFAI_API_KEY=... cargo run --example submit_sources --features mock -- https://example.com/photo.jpg
//! ```
//!
//! The optional argument is the image URL the service fetches itself (the
//! mock does not fetch it). The video is a tiny fake MP4 (just an `ftyp`
//! header) written to a temporary directory: the real service will most
//! likely end its classification `errored`, which is printed, not fatal.

mod common;

use std::error::Error;
use std::time::Duration;

use identifai::api::forms::{Frames, ImageOptions, KeyFramesMethod, VideoOptions};
use identifai::api::types::ResponseFormat;
use identifai::{Identifier, Source};

const DEFAULT_IMAGE_URL: &str =
    "https://upload.wikimedia.org/wikipedia/commons/4/47/PNG_transparency_demonstration_1.png";

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let target = common::Target::from_env()?;
    let client = target.client()?;
    let mut images: Vec<(&str, Identifier)> = Vec::new();

    // 1. A path: type and size are checked first, then the file is streamed.
    let id = client
        .classify_image(Source::path(common::media("sample.png")))
        .send()
        .await?;
    println!("image from a path    -> {id}");
    images.push(("path", id));

    // 2. Bytes already in memory; the name is the file name sent with them.
    //    This one asks for a bare-text answer: the identifier is the same type.
    let bytes = tokio::fs::read(common::media("sample.jpg")).await?;
    let id = client
        .classify_image(Source::bytes("sample.jpg", bytes))
        .response_format(ResponseFormat::TextPlain)
        .send()
        .await?;
    println!("image from bytes     -> {id}  (asked for text/plain)");
    images.push(("bytes", id));

    // 3. Any `AsyncRead`: streamed while sent. A reader can be read once,
    //    so this submission is never retried. `with_len` is optional; it lets
    //    the size limit be checked before sending.
    let file = tokio::fs::File::open(common::media("sample.png")).await?;
    let len = file.metadata().await?.len();
    let id = client
        .classify_image(Source::reader("from-reader.png", file).with_len(len))
        .options(ImageOptions::new().ref_id("from-a-reader"))
        .send()
        .await?;
    println!("image from a reader  -> {id}");
    images.push(("reader", id));

    // 4. A URL: the service downloads the image itself.
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DEFAULT_IMAGE_URL.to_string());
    let id = client.classify_image(Source::url(&url)).send().await?;
    println!("image from a URL     -> {id}");
    images.push(("url", id));

    // 5. A video from a path, with video options and progress reports.
    let dir = tempfile::tempdir()?;
    let video = dir.path().join("clip.mp4");
    let mut content = common::MP4_HEADER.to_vec();
    content.resize(256 * 1024, 0);
    tokio::fs::write(&video, &content).await?;
    let video_id = client
        .classify_video(Source::path(&video))
        .options(
            VideoOptions::new()
                .frames(Frames::V10)
                .key_frames(true)
                .key_frames_method(KeyFramesMethod::Iframes),
        )
        .on_progress(|p| {
            if p.total == Some(p.sent) {
                println!("  uploaded all {} bytes of the video", p.sent);
            }
        })
        .send()
        .await?;
    println!("video from a path    -> {video_id}");

    // All four images in one wait: polled together through the list endpoint.
    println!("\nresults:");
    let ids = images.iter().map(|(_, id)| id.clone());
    for ((how, _), (id, outcome)) in images.iter().zip(client.wait_all(ids).await) {
        match outcome {
            Ok(r) => {
                let v = r.verdict();
                println!(
                    "  {how:<7} {:.16}…  {} {}",
                    id.as_str(),
                    v.as_ref().map_or("-", |v| v.classification.as_str()),
                    v.as_ref()
                        .map_or(String::new(), |v| format!("{:.3}", v.confidence)),
                );
            }
            Err(e) => println!("  {how:<7} {:.16}…  error: {e}", id.as_str()),
        }
    }
    match client
        .wait_video(&video_id)
        .deadline(Duration::from_secs(120))
        .await
    {
        Ok(r) => {
            let v = r.verdict.as_ref();
            println!(
                "  video   {:.16}…  {} {} over {} frames",
                video_id.as_str(),
                v.map_or("-", |v| v.classification.as_str()),
                v.map_or(String::new(), |v| format!("{:.3}", v.confidence)),
                v.and_then(|v| v.count).unwrap_or(0),
            );
        }
        Err(e) => println!("  video   {:.16}…  error: {e}", video_id.as_str()),
    }
    Ok(())
}
