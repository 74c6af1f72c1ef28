//! Errors of every kind, produced by real requests where a server is
//! involved, for the tests that check no error shows the key.

use std::time::Duration;

use identifai::mock::{Fault, MockConfig, Route};
use identifai::{Client, Error, Identifier, Source};

use super::*;

/// An API key that must never show up anywhere.
pub const KEY: &str = "sk-secret-DO-NOT-LEAK-4242";
const ID: &str = "abc123";

/// Errors of every kind the client produces, from real requests where a
/// server is involved.
pub async fn every_error() -> Vec<Error> {
    let server = mock_with(MockConfig::default().with_polls_until_done(1_000_000));
    let wrong_key = builder(&server).api_key(KEY).build().unwrap();
    let good = client(&server);
    let mut errors = Vec::new();
    errors.push(wrong_key.result(&ID.parse().unwrap()).await.unwrap_err()); // 401
    errors.push(
        wrong_key
            .classify_image(Source::bytes("a.png", png(1)))
            .send()
            .await
            .unwrap_err(),
    );
    let forbidden = builder(&server)
        .api_key("mock-forbidden-key")
        .build()
        .unwrap();
    errors.push(forbidden.result(&ID.parse().unwrap()).await.unwrap_err()); // 403
    errors.push(good.result(&"nope".parse().unwrap()).await.unwrap_err()); // 404
    let quick = mock();
    let errored = client(&quick)
        .classify_image(Source::url("https://e.com/a.jpg"))
        .options(identifai::api::forms::ImageOptions::new().ref_id("mock:errored"))
        .wait()
        .await;
    errors.push(errored.unwrap_err());
    let id = good
        .classify_image(Source::bytes("b.png", png(2)))
        .send()
        .await
        .unwrap();
    errors.push(
        good.wait_image(&id)
            .deadline(std::time::Duration::from_millis(50))
            .await
            .unwrap_err(),
    );
    for fault in [
        Fault::too_many_attempts(Some(1)),
        Fault::bad_gateway_html(),
        Fault::truncated_json(),
        Fault::wrong_content_type(),
        Fault::json(
            400,
            &serde_json::json!({"video": ["The video field is required."]}),
        ),
    ] {
        let strict = builder(&server)
            .retry(identifai::config::RetryConfig::disabled())
            .build()
            .unwrap();
        server.inject(Route::GetImageClassification, fault);
        errors.push(strict.result(&id).await.unwrap_err());
    }
    errors.push(
        good.classify_image(Source::path("/definitely/not/here.png"))
            .send()
            .await
            .unwrap_err(),
    );
    errors.push(Identifier::new("a/b").unwrap_err());
    let closed = Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:9")
        .retry(identifai::config::RetryConfig::disabled())
        .build()
        .unwrap();
    errors.push(closed.health().await.unwrap_err()); // transport
    #[cfg(feature = "redis")]
    {
        // A shared pacer that cannot be reached: neither the API key nor the
        // Redis password shows.
        let pacer =
            identifai::config::Pacer::redis("redis://:hunter2-DO-NOT-LEAK@127.0.0.1:9").unwrap();
        // Asked again until the budget is spent: a short one.
        let unpaced = builder(&server)
            .api_key(KEY)
            .pacer(pacer)
            .retry(
                identifai::config::RetryConfig::default()
                    .with_max_elapsed(Duration::from_millis(300)),
            )
            .build()
            .unwrap();
        let err = unpaced.result(&ID.parse().unwrap()).await.unwrap_err();
        assert!(matches!(err, Error::Pacer { .. }), "{err:?}");
        assert!(!format!("{err}{err:?}").contains("hunter2"), "{err:?}");
        errors.push(err);
    }
    errors.push(
        Client::builder()
            .api_key(KEY)
            .base_url("http://example.com")
            .build()
            .unwrap_err(),
    );
    errors
}
