//! Waiting: pending -> done, errored -> a typed error with the server's
//! text, the deadline -> a timeout error, 429s survived, and `wait_all`
//! polling 100 identifiers per request.

mod common;

use std::future::IntoFuture;
use std::time::Duration;

use common::*;
use identifai::mock::{Fault, MockConfig, Route};
use identifai::types::Status;
use identifai::{Error, Identifier, Source};

#[tokio::test]
async fn pending_then_done() {
    let server = mock_with(MockConfig {
        polls_until_done: 3,
        ..MockConfig::default()
    });
    let client = client(&server);
    let result = client
        .classify_image(Source::bytes("a.png", png(1)))
        .wait()
        .await
        .unwrap();
    assert_eq!(result.status, Some(Status::Done));
    assert!(result.verdict.is_some());
    assert_eq!(
        server.stats().route(Route::GetImageClassification),
        4,
        "3 pending polls, then done"
    );
}

#[tokio::test]
async fn video_pending_then_done() {
    let server = mock_with(MockConfig {
        polls_until_done: 2,
        ..MockConfig::default()
    });
    let client = client(&server);
    let result = client
        .classify_video(Source::bytes("v.mp4", mp4(1)))
        .wait()
        .await
        .unwrap();
    assert_eq!(result.status, Some(Status::Done));
    assert!(result.results.is_some());
    assert_eq!(server.stats().route(Route::GetVideoClassification), 3);
}

#[tokio::test]
async fn errored_is_a_typed_error_with_the_servers_text() {
    let server = mock();
    let client = client(&server);
    let err = client
        .classify_image(Source::bytes("a.png", png(2)))
        .options(identifai::forms::ImageOptions::new().ref_id("mock:errored"))
        .wait()
        .await
        .unwrap_err();
    let Error::ClassificationErrored { identifier, errors } = &err else {
        panic!("{err:?}")
    };
    assert!(!identifier.is_empty());
    assert_eq!(errors, "The media could not be processed (mock)");
    assert!(err.to_string().contains("could not be processed"), "{err}");
}

#[tokio::test]
async fn pre_1_1_results_without_status_wait_for_the_verdict() {
    let server = mock_with(MockConfig {
        polls_until_done: 2,
        ..MockConfig::default()
    });
    let client = client(&server);
    let result = client
        .classify_image(Source::bytes("a.png", png(3)))
        .options(identifai::forms::ImageOptions::new().ref_id("mock:pre-1.1"))
        .wait()
        .await
        .unwrap();
    assert_eq!(result.status, None);
    assert!(result.verdict.is_some());
}

#[tokio::test]
async fn the_deadline_ends_the_wait_with_a_timeout() {
    let server = mock_with(MockConfig {
        polls_until_done: 1_000_000,
        ..MockConfig::default()
    });
    let client = client(&server);
    let id = client
        .classify_image(Source::bytes("a.png", png(4)))
        .send()
        .await
        .unwrap();
    let err = client
        .wait(&id)
        .deadline(Duration::from_millis(300))
        .await
        .unwrap_err();
    let Error::WaitTimeout {
        identifier,
        last_status,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(identifier, id.as_str());
    assert_eq!(last_status, &Some(Status::New));
}

#[tokio::test]
async fn dropping_the_wait_cancels_it() {
    let server = mock_with(MockConfig {
        polls_until_done: 1_000_000,
        ..MockConfig::default()
    });
    let client = client(&server);
    let id = client
        .classify_image(Source::bytes("a.png", png(5)))
        .send()
        .await
        .unwrap();
    let out =
        tokio::time::timeout(Duration::from_millis(200), client.wait(&id).into_future()).await;
    assert!(out.is_err(), "still waiting when dropped");
    let polls = server.stats().route(Route::GetImageClassification);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        server.stats().route(Route::GetImageClassification),
        polls,
        "no poll after the drop"
    );
}

#[tokio::test]
async fn rate_limited_polls_are_survived_with_and_without_retry_after() {
    let server = mock_with(MockConfig {
        polls_until_done: 2,
        ..MockConfig::default()
    });
    let client = client(&server);
    let id = client
        .classify_image(Source::bytes("a.png", png(6)))
        .send()
        .await
        .unwrap();
    server.inject(
        Route::GetImageClassification,
        Fault::too_many_attempts(None),
    );
    server.inject(
        Route::GetImageClassification,
        Fault::too_many_attempts(Some(1)),
    );
    server.inject(
        Route::GetImageClassification,
        Fault::service_unavailable(None),
    );
    let result = client.wait(&id).await.unwrap();
    assert_eq!(result.status, Some(Status::Done));
    assert_eq!(server.stats().faults_served, 3);
}

#[tokio::test]
async fn a_rate_limited_submission_is_sent_again_and_only_once_accepted() {
    let server = mock();
    let client = client(&server);
    server.inject(Route::ClassifyImage, Fault::too_many_attempts(None));
    client
        .classify_image(Source::bytes("a.png", png(7)))
        .send()
        .await
        .unwrap();
    let stats = server.stats();
    assert_eq!(
        stats.route(Route::ClassifyImage),
        2,
        "429, then the rebuilt request"
    );
    assert_eq!(stats.submissions, 1);
}

#[tokio::test]
async fn a_submission_that_may_have_been_processed_is_not_sent_twice() {
    let server = mock();
    let client = client(&server);
    server.inject(Route::ClassifyImage, Fault::service_unavailable(None));
    server.inject(Route::ClassifyImage, Fault::server_error());
    let err = client
        .classify_image(Source::bytes("a.png", png(8)))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { status: 503, .. }), "{err:?}");
    assert_eq!(
        server.stats().route(Route::ClassifyImage),
        1,
        "a 503 POST is not retried"
    );
}

#[tokio::test]
async fn wait_all_polls_100_per_request_and_drops_none() {
    let server = mock_with(MockConfig {
        polls_until_done: 1,
        rate_limits: None,
        ..MockConfig::default()
    });
    let client = builder(&server).rate_limits(None).build().unwrap();
    let mut ids = Vec::new();
    for n in 0..250 {
        ids.push(
            client
                .classify_image(Source::bytes(format!("{n}.png"), png(1000 + n)))
                .send()
                .await
                .unwrap(),
        );
    }
    // One unknown identifier and one duplicate: each still gets its answer.
    ids.push("unknown-id".parse::<Identifier>().unwrap());
    ids.push(ids[0].clone());
    server.reset_stats();
    let out = client.wait_all(ids.clone()).await;
    assert_eq!(out.len(), 252, "one answer per identifier given");
    for ((id, result), want) in out.iter().zip(&ids) {
        assert_eq!(id, want, "in order");
        if id.as_str() == "unknown-id" {
            assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}");
        } else {
            assert_eq!(result.as_ref().unwrap().status(), Some(&Status::Done));
        }
    }
    let stats = server.stats();
    // Round 1: 3 list requests (everything new) + 1 single GET for the id the
    // list left out; round 2: 3 list requests.
    assert_eq!(
        stats.route(Route::ListClassifications),
        6,
        "3 GETs per poll round, not 250"
    );
    assert_eq!(stats.route(Route::GetImageClassification), 1);
}
