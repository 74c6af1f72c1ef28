//! The one refusal policy, on every operation: consecutive 429s back off
//! (a meaningless `Retry-After` counts as the minute window), a file is
//! uploaded again a few times at most, every POST that cannot have been
//! processed is sent again, and the client's breaker stops sending while
//! the server refuses everything (an answer closes it). Time runs 100
//! times faster: the mock's faults and the client's retry settings are
//! scaled by [`SCALE`] (2 minutes are 1.2 s); bounds are generous.

use std::time::{Duration, Instant};

use crate::support::*;
use identifai::api::forms::SavePartnerUserForm;
use identifai::api::types::Classification;
use identifai::mock::{Fault, MockConfig, MockServer, Route};
use identifai::{config::RetryConfig, Client, Error, Kind, Source};

/// The default policy on the mock's clock: a 1.2 s budget, 429 steps from
/// 20 ms to 600 ms, a meaningless `Retry-After` worth 600 ms, the breaker
/// after 8 refusals over 1.2 s.
fn policy() -> RetryConfig {
    RetryConfig::default().scaled(SCALE)
}

/// A mock that limits nothing by itself: every 429 is an injected one.
fn server() -> MockServer {
    mock_with(
        MockConfig::default()
            .with_rate_limits(None)
            .with_polls_until_done(0),
    )
}

fn client_with(server: &MockServer, retry: RetryConfig) -> Client {
    builder(server).retry(retry).build().unwrap()
}

/// The (scaled) two minutes of the budget, and a generous margin.
const BOUND: Duration = Duration::from_secs(10);

fn refusals(e: &Error) -> u32 {
    match e {
        Error::RateLimited { refusals, .. } => *refusals,
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[tokio::test]
async fn a_get_refused_forever_ends_rate_limited_after_at_most_8_requests() {
    let server = server();
    let client = client_with(&server, policy());
    let id = client
        .classify_image(Source::bytes("a.png", png(301)))
        .send()
        .await
        .unwrap();
    server.inject_times(
        Route::GetImageClassification,
        Fault::too_many_attempts(None),
        10_000,
    );
    let started = Instant::now();
    let err = client.image_result(&id).await.unwrap_err();
    let sent = server.stats().route(Route::GetImageClassification);
    assert!((2..=8).contains(&sent), "{sent} GETs in the budget");
    assert_eq!(refusals(&err), sent as u32, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("refused {sent} times over")),
        "{err}"
    );
    assert!(err.is_retryable());
    assert!(started.elapsed() < BOUND, "{:?}", started.elapsed());
}

#[tokio::test]
async fn an_upload_refused_forever_is_sent_4_times_then_rate_limited() {
    let server = server();
    let client = client_with(&server, policy());
    server.inject_times(Route::ClassifyImage, Fault::too_many_attempts(None), 10_000);
    let started = Instant::now();
    let err = client
        .classify_image(Source::bytes("a.png", png(302)))
        .send()
        .await
        .unwrap_err();
    // The first upload and 3 more (RetryConfig::max_upload_resends).
    assert_eq!(server.stats().route(Route::ClassifyImage), 4);
    assert_eq!(refusals(&err), 4, "{err}");
    assert!(started.elapsed() < BOUND, "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_meaningless_retry_after_counts_as_the_minute_window() {
    let past = "Thu, 01 Jan 1970 00:00:00 GMT";
    for fault in [
        Fault::too_many_attempts(None).with_header("Retry-After", past),
        Fault::too_many_attempts(Some(0)),
        Fault::too_many_attempts(None).with_header("Retry-After", "soon"),
    ] {
        let server = server();
        let client = client_with(&server, policy());
        let id = client
            .classify_image(Source::bytes("a.png", png(303)))
            .send()
            .await
            .unwrap();
        server.inject_times(Route::GetImageClassification, fault.clone(), 10_000);
        let started = Instant::now();
        let err = client.image_result(&id).await.unwrap_err();
        let took = started.elapsed();
        let sent = server.stats().route(Route::GetImageClassification);
        // 600 ms (the scaled minute) between two: 2 in the 1.2 s budget.
        assert!(sent <= 2, "{fault:?}: {sent} GETs, not 0 s apart");
        // It names no time to wait for: none is shown.
        assert!(
            matches!(
                err,
                Error::RateLimited {
                    retry_after: None,
                    ..
                }
            ),
            "{err:?}"
        );
        if sent == 2 {
            assert!(took >= Duration::from_millis(550), "{fault:?}: {took:?}");
        }
    }
}

#[tokio::test]
async fn an_override_meeting_a_429_succeeds_after_it() {
    let server = server();
    let client = client_with(&server, policy());
    let id = client
        .classify_image(Source::bytes("a.png", png(304)))
        .send()
        .await
        .unwrap();
    let result = client.wait_image(&id).await.unwrap();
    let hash = result.hash.clone().expect("a done result has its hash");
    // Another process's classify took the second: one 429.
    server.inject(
        Route::OverrideClassification,
        Fault::too_many_attempts(None),
    );
    client
        .override_classification(Kind::Image, &hash, Classification::Human)
        .await
        .unwrap();
    assert_eq!(server.stats().route(Route::OverrideClassification), 2);
}

#[tokio::test]
async fn submissions_by_url_and_partner_calls_are_sent_again_after_a_429() {
    let server = server();
    let client = client_with(&server, policy());
    server.inject(Route::ClassifyImageFromUrl, Fault::too_many_attempts(None));
    client
        .classify_image(Source::url("https://example.com/a.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(server.stats().route(Route::ClassifyImageFromUrl), 2);

    // A multipart form that is not a file: read into memory, sent again whole.
    let route = Route::Operation("save_partner_user");
    server.inject(route, Fault::too_many_attempts(None));
    let user = serde_json::json!({
        "data": {"id": 233, "name": "UserName", "email": "UserName@mail.com",
                 "heuristic": "AverageExcludeObsolete", "pricing": {"id": 1, "name": "TestB", "sku": "testB"}}
    });
    server.inject(route, Fault::json(200, &user));
    let form = SavePartnerUserForm::new(
        None,
        "UserName".into(),
        "UserName@mail.com".into(),
        "AverageExcludeObsolete".into(),
        1,
    );
    let saved = client.api().save_partner_user(form).await.unwrap();
    assert_eq!(saved.data.id, 233);
    let sent: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.route == Some(route))
        .collect();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0].header("content-length"),
        sent[1].header("content-length"),
        "the same form twice"
    );
    assert!(sent[1].header("content-length").is_some_and(|l| l != "0"));
}

#[tokio::test]
async fn the_breaker_trips_fails_fast_and_an_answer_closes_it() {
    let server = server();
    // 3 refusals in a row over any time trip it.
    let retry = policy()
        .with_breaker_refusals(3)
        .with_breaker_window(Duration::ZERO);
    let client = client_with(&server, retry);
    let id = client
        .classify_image(Source::bytes("a.png", png(305)))
        .send()
        .await
        .unwrap();
    server.inject_times(
        Route::GetImageClassification,
        Fault::too_many_attempts(None),
        10_000,
    );
    let err = client.image_result(&id).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::RateLimited {
                breaker_open: true,
                refusals: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.stats().route(Route::GetImageClassification), 3);
    // Open: nothing is sent, by this client or its clones; the message
    // says how many 429s over how long.
    let clone = client.clone();
    let err = clone.image_result(&id).await.unwrap_err();
    let Error::RateLimited {
        breaker_open: true,
        retry_after: Some(wait),
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(
        err.to_string().contains("3 requests refused in a row over"),
        "{err}"
    );
    assert_eq!(server.stats().route(Route::GetImageClassification), 3);
    // POSTs are counted apart: an upload still goes.
    client
        .classify_image(Source::bytes("b.png", png(306)))
        .send()
        .await
        .unwrap();
    // Once the wait is over, a probe goes; its answer closes the breaker.
    server.clear_faults();
    tokio::time::sleep(*wait + Duration::from_millis(20)).await;
    client.image_result(&id).await.unwrap();
    assert_eq!(server.stats().route(Route::GetImageClassification), 4);
    // Closed: a 429 is retried again, not failed fast.
    server.inject(
        Route::GetImageClassification,
        Fault::too_many_attempts(None),
    );
    client.image_result(&id).await.unwrap();
    assert_eq!(server.stats().route(Route::GetImageClassification), 6);
}

#[tokio::test]
async fn a_burst_of_concurrent_429s_does_not_trip_the_breaker() {
    let server = server();
    let client = client_with(&server, policy().with_breaker_refusals(3));
    let id = client
        .classify_image(Source::bytes("a.png", png(307)))
        .send()
        .await
        .unwrap();
    // 8 at once, each refused once: refused in a row, but not for long.
    server.inject_times(
        Route::GetImageClassification,
        Fault::too_many_attempts(None),
        8,
    );
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (client, id) = (client.clone(), id.clone());
            tokio::spawn(async move { client.image_result(&id).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn waits_on_a_refusing_key_end_with_the_429_not_a_timeout() {
    let server = server();
    // The breaker trips after 3 refusals: every wait of the client ends at
    // once with it, long before the (30 s) wait deadline.
    let retry = policy()
        .with_breaker_refusals(3)
        .with_breaker_window(Duration::ZERO);
    let client = client_with(&server, retry);
    let mut ids = Vec::new();
    for n in 0..5 {
        let source = Source::bytes(format!("{n}.png"), png(310 + n));
        ids.push(client.classify_image(source).send().await.unwrap());
    }
    server.inject_times(
        Route::ListClassifications,
        Fault::too_many_attempts(None),
        10_000,
    );
    let started = Instant::now();
    let out = client.wait_all(ids).await;
    for (id, outcome) in &out {
        let err = outcome.as_ref().unwrap_err();
        assert!(
            matches!(
                err,
                Error::RateLimited {
                    breaker_open: true,
                    ..
                }
            ),
            "{id}: {err:?}"
        );
    }
    assert!(started.elapsed() < BOUND, "{:?}", started.elapsed());
    // Polled together: a handful of list requests, never one per file.
    let lists = server.stats().route(Route::ListClassifications);
    assert!(lists <= 3, "{lists} list requests");
    assert_eq!(server.stats().route(Route::GetImageClassification), 0);
}

#[tokio::test]
async fn a_wait_whose_polls_are_refused_to_its_deadline_ends_with_the_429() {
    let server = server();
    let client = client_with(&server, policy());
    let id = client
        .classify_image(Source::bytes("a.png", png(320)))
        .send()
        .await
        .unwrap();
    server.inject_times(
        Route::ListClassifications,
        Fault::too_many_attempts(None),
        10_000,
    );
    // Past the (scaled) retry budget, before the breaker's window.
    let err = client
        .wait_image(&id)
        .deadline(Duration::from_secs(3))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
}
