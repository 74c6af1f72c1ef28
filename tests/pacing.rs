//! Pacing: batch work under the published rate limits meets no 429. The
//! mock enforces the limits (sliding windows), 100 times faster than real
//! time; the client paces under the same compressed limits.

mod common;

use common::*;
use identifai::mock::MockConfig;
use identifai::{Error, RetryConfig, Source};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_concurrent_submissions_get_no_429() {
    let server = mock();
    let client = client(&server);
    let tasks: Vec<_> = (0..40)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .classify_image(Source::bytes(format!("{n}.png"), png(n)))
                    .send()
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let stats = server.stats();
    assert_eq!(stats.submissions, 40);
    assert_eq!(
        stats.rate_limited, 0,
        "the client paced itself under the limits"
    );
    assert_eq!(stats.posts, 40, "no request was sent twice");
}

/// The control: the same burst without pacing (and without retries) is
/// refused by the mock, so the test above can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_pacing_the_same_burst_meets_429s() {
    let server = mock_with(MockConfig::default());
    let client = builder(&server)
        .rate_limits(None)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..40)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .classify_image(Source::bytes(format!("{n}.png"), png(n)))
                    .send()
                    .await
            })
        })
        .collect();
    let mut limited = 0;
    for t in tasks {
        if let Err(Error::RateLimited { .. }) = t.await.unwrap() {
            limited += 1;
        }
    }
    assert!(limited > 0);
    assert_eq!(server.stats().rate_limited, limited as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_many_waits_at_once_stays_under_the_get_limits() {
    let server = mock_with(MockConfig {
        polls_until_done: 3,
        ..MockConfig::default()
    });
    let client = client(&server);
    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(
            client
                .classify_image(Source::bytes(format!("{n}.png"), png(100 + n)))
                .send()
                .await
                .unwrap(),
        );
    }
    let waits: Vec<_> = ids
        .into_iter()
        .map(|id| {
            let client = client.clone();
            tokio::spawn(async move { client.wait(&id).await })
        })
        .collect();
    for w in waits {
        w.await.unwrap().unwrap();
    }
    assert_eq!(server.stats().rate_limited, 0);
}
