//! Typed errors: one [`identifai::Error`] for everything, matched by
//! variant, each with a `Display` fit for a log line.
//!
//! - Bad inputs, refused before anything is sent (`Error::InvalidInput`):
//!   a missing file, a directory, a file of the wrong type, an empty or
//!   oversized one, a bad URL, a bad identifier, a bad option value, a
//!   missing key, an `http://` URL to a remote host.
//! - Answers from the server: 401 (wrong key), 403 (forbidden key, mock
//!   only), 404 (unknown identifier), a classification that ends `errored`
//!   (`ref_id` `mock:errored`, mock only), a wait past its deadline, an
//!   answer that does not decode (injected, mock only) and a connection
//!   that cannot be opened.
//!
//! ```sh
//! cargo run --example errors --features mock
//! IDENTIFAI_API_KEY=... cargo run --example errors --features mock   # skips the mock-only cases
//! ```

mod common;

use std::error::Error as _;
use std::time::Duration;

use identifai::api::forms::{Frames, ImageOptions};
use identifai::mock::{Fault, Route};
use identifai::{
    config::RetryConfig, config::UploadLimits, Client, Error, Identifier, InputError, Source,
};

/// What an application would do with each kind of error.
fn advice(e: &Error) -> &'static str {
    match e {
        Error::InvalidInput(InputError::FileNotFound { .. } | InputError::NotAFile { .. }) => {
            "check the path"
        }
        Error::InvalidInput(InputError::UnsupportedType { .. }) => {
            "send an image (png, jpeg, gif, webp, tiff) or a video"
        }
        Error::InvalidInput(InputError::Empty { .. }) => "the media has no content",
        Error::InvalidInput(InputError::TooLarge { .. }) => "shrink the media",
        Error::InvalidInput(InputError::MissingApiKey | InputError::InvalidApiKey) => {
            "set IDENTIFAI_API_KEY"
        }
        Error::InvalidInput(_) => "fix the call: nothing was sent",
        Error::Unauthorized { .. } => "check the API key",
        Error::Forbidden { .. } => "accept the terms of service in the dashboard",
        Error::NotFound { .. } => "check the identifier (and that it is yours)",
        Error::ClassificationErrored { .. } => "the service could not analyse this media",
        Error::WaitTimeout { .. } => "wait longer, or poll again later with the identifier",
        Error::Decode { .. } => "the server answered off-spec: report it",
        e if e.is_retryable() => "transient: try again later",
        _ => "see the message",
    }
}

/// The variant's name, for the demo's output.
fn variant(e: &Error) -> String {
    let name = match e {
        Error::Unauthorized { .. } => "Unauthorized",
        Error::Forbidden { .. } => "Forbidden",
        Error::RateLimited { .. } => "RateLimited",
        Error::Validation { .. } => "Validation",
        Error::NotFound { .. } => "NotFound",
        Error::Server { .. } => "Server",
        Error::ClassificationErrored { .. } => "ClassificationErrored",
        Error::WaitTimeout { .. } => "WaitTimeout",
        Error::Transport(_) => "Transport",
        Error::Decode { .. } => "Decode",
        Error::Io { .. } => "Io",
        Error::InvalidInput(input) => {
            let inner = match input {
                InputError::MissingApiKey => "MissingApiKey",
                InputError::InsecureBaseUrl { .. } => "InsecureBaseUrl",
                InputError::InvalidIdentifier { .. } => "InvalidIdentifier",
                InputError::InvalidUrl { .. } => "InvalidUrl",
                InputError::FileNotFound { .. } => "FileNotFound",
                InputError::NotAFile { .. } => "NotAFile",
                InputError::Empty { .. } => "Empty",
                InputError::TooLarge { .. } => "TooLarge",
                InputError::UnsupportedType { .. } => "UnsupportedType",
                InputError::Form(_) => "Form",
                _ => "other",
            };
            return format!("InvalidInput({inner})");
        }
        _ => "other",
    };
    name.to_string()
}

/// Prints how `outcome` went.
fn show<T>(what: &str, outcome: identifai::Result<T>) {
    match outcome {
        Ok(_) => println!("{what}\n    ok (no error)"),
        Err(e) => {
            let status = e.status().map_or(String::new(), |s| format!(", HTTP {s}"));
            println!(
                "{what}\n    {}{status}, retryable: {} -> {}\n    {e}",
                variant(&e),
                e.is_retryable(),
                advice(&e)
            );
            // The causes (a transport error's, above all) that the message
            // does not already say.
            let mut said = e.to_string();
            let mut cause = e.source();
            while let Some(c) = cause {
                let text = c.to_string();
                if !said.contains(&text) {
                    println!("    caused by: {text}");
                    said.push_str(&text);
                }
                cause = c.source();
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::Target::from_env()?;
    let client = target.client()?;
    let png = common::media("sample.png");

    println!("== refused before anything is sent ==");
    show(
        "a file that does not exist",
        client
            .classify_image(Source::path("no/such/photo.jpg"))
            .send()
            .await,
    );
    show(
        "a directory",
        client
            .classify_image(Source::path(env!("CARGO_MANIFEST_DIR")))
            .send()
            .await,
    );
    show(
        "text sent as an image",
        client
            .classify_image(Source::bytes("notes.txt", "not an image"))
            .send()
            .await,
    );
    show(
        "an image sent as a video",
        client.classify_video(Source::path(&png)).send().await,
    );
    show(
        "an empty file",
        client
            .classify_image(Source::bytes("empty.png", Vec::new()))
            .send()
            .await,
    );
    let small = target
        .builder()
        .upload_limits(UploadLimits::default().with_max_image_bytes(1024))
        .build()?;
    show(
        "an image over a 1 KiB limit",
        small.classify_image(Source::path(&png)).send().await,
    );
    show(
        "an ftp URL",
        client
            .classify_image(Source::url("ftp://example.com/photo.jpg"))
            .send()
            .await,
    );
    show(
        "an identifier that would change the path",
        "../../etc/passwd".parse::<Identifier>(),
    );
    show(
        "7 frames (allowed: 5, 10, 30)",
        Frames::try_from(7).map_err(Error::from),
    );
    show("no API key", Client::builder().build());
    show(
        "the key over clear-text http to a remote host",
        Client::builder()
            .api_key("secret")
            .base_url("http://identifai.example.com")
            .build(),
    );

    println!("\n== answered by the server ==");
    let wrong_key = target.builder().api_key("not-a-valid-key").build()?;
    show(
        "a wrong API key",
        wrong_key.classify_image(Source::path(&png)).send().await,
    );
    if target.is_mock() {
        let forbidden = target.builder().api_key("mock-forbidden-key").build()?;
        show(
            "a key whose account has not accepted the terms",
            forbidden.result(&Identifier::new("abc")?).await,
        );
    }
    show(
        "an identifier nobody submitted",
        client.result(&Identifier::new("0".repeat(64))?).await,
    );

    if target.is_mock() {
        show(
            "a classification that ends `errored` (ref_id mock:errored)",
            client
                .classify_image(Source::path(&png))
                .options(ImageOptions::new().ref_id("mock:errored"))
                .wait()
                .await,
        );
    }

    // A fresh image (not cached by the service), waited for with no time at all.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .subsec_nanos();
    let fresh = common::generated_png(seed, 32, 32)?;
    let id = client
        .classify_image(Source::bytes("fresh.png", fresh))
        .send()
        .await?;
    show(
        "a wait past its deadline",
        client.wait_image(&id).deadline(Duration::ZERO).await,
    );

    if let Some(server) = target.server() {
        server.inject(Route::GetImageClassification, Fault::truncated_json());
        show(
            "an answer cut off mid-JSON (injected)",
            client.result(&id).await,
        );
    }

    // Port 9 (discard) on loopback: nothing listens there.
    let nowhere = Client::builder()
        .api_key("any")
        .base_url("http://127.0.0.1:9")
        .retry(RetryConfig::disabled())
        .build()?;
    show("a server that cannot be reached", nowhere.result(&id).await);
    Ok(())
}
