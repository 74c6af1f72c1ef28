//! Pacing: batch work under the published rate limits meets no 429. The
//! mock enforces the limits (sliding windows), 100 times faster than real
//! time; the client paces under the same compressed limits.

mod support;

use std::time::Duration;

use identifai::mock::{MockConfig, MockServer};
use identifai::{config::RateLimits, config::RetryConfig, Error, Source};
use support::*;

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
    let server = mock_with(MockConfig::default().with_polls_until_done(3));
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
            tokio::spawn(async move { client.wait_image(&id).await })
        })
        .collect();
    for w in waits {
        w.await.unwrap().unwrap();
    }
    assert_eq!(server.stats().rate_limited, 0);
}

/// The idle timeout guards a silent server, not the client's own queue: a
/// request that waits in the pacer longer than it is sent whole, never cut
/// (nor sent again: retries are off).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_queued_in_the_pacer_past_the_idle_timeout_is_not_cut() {
    // The minute window is 3 s: the 31st and 32nd uploads wait about that
    // long in the pacer, three times the idle timeout.
    let scale = 0.05;
    let server = MockServer::start_with(MockConfig::default().with_time_scale(scale));
    let client = builder(&server)
        .rate_limits(Some(RateLimits::PUBLISHED.with_time_scale(scale)))
        .idle_timeout(Some(Duration::from_secs(1)))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .classify_image(Source::bytes(format!("{n}.png"), png(500 + n)))
                    .send()
                    .await
            })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap();
        assert!(r.is_ok(), "a request cut while queued: {r:?}");
    }
    let stats = server.stats();
    assert_eq!(stats.submissions, 32);
    assert_eq!(stats.posts, 32, "nothing sent twice");
    assert_eq!(stats.rate_limited, 0);
}

// ------------------------------------------------------------------ fleet

/// The fleet tests' mock: 20x faster than real time, not the 100x of the
/// other tests, for the control's sake: 4 lone pacers (each waiting for
/// its last POST's answer) overrun the key only if the mock, a debug build
/// on a loaded machine, answers a POST well within a window (at 50x they
/// did not, three runs in three). The Redis pacer needs no slack of its
/// own: it waits for a request's answer before counting past it, as the
/// in-process one does.
#[cfg(feature = "redis")]
fn fleet_mock() -> identifai::mock::MockServer {
    identifai::mock::MockServer::start_with(MockConfig::default().with_time_scale(0.05))
}

/// `workers` separate clients (as separate processes would be: nothing
/// shared but the pacer given) submitting `each` images at once on one key.
#[cfg(feature = "redis")]
async fn fleet(
    server: &identifai::mock::MockServer,
    pacer: impl Fn() -> identifai::config::Pacer,
    retry: RetryConfig,
    workers: u32,
    each: u32,
) -> Vec<identifai::Result<identifai::Identifier>> {
    let mut tasks = Vec::new();
    for w in 0..workers {
        let scale = server.config().time_scale();
        let client = builder(server)
            .rate_limits(Some(
                identifai::config::RateLimits::PUBLISHED.with_time_scale(scale),
            ))
            .pacer(pacer())
            .retry(retry.clone())
            .build()
            .unwrap();
        for n in 0..each {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                client
                    .classify_image(Source::bytes("f.png", png(1000 * w + n)))
                    .send()
                    .await
            }));
        }
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_sharing_a_redis_pacer_meets_no_429() {
    let Some(redis) = RedisServer::start("a_fleet_sharing_a_redis_pacer_meets_no_429") else {
        return;
    };
    let server = fleet_mock();
    let url = redis.url();
    let results = fleet(
        &server,
        || identifai::config::Pacer::redis(&url).unwrap(),
        RetryConfig::disabled(),
        4,
        10,
    )
    .await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    let stats = server.stats();
    assert_eq!(stats.rate_limited, 0, "one pacer for the whole fleet");
    assert_eq!(stats.submissions, 40);
    // The windows are keyed by a hash of the key (and base URL), never the key.
    let keys = redis.keys();
    assert!(keys.contains("identifai:pacer:"), "{keys}");
    assert!(!keys.contains(server.api_key()), "{keys}");
}

/// The send times are keyed by the API key *and* the base URL: two
/// services on one key (here two mock servers, as staging and production
/// would be) have their own limits, so their clients never throttle each
/// other; clients of one service share one set of windows.
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_key_pace_apart_through_one_redis() {
    let Some(redis) = RedisServer::start("two_servers_on_one_key_pace_apart_through_one_redis")
    else {
        return;
    };
    let (a, b) = (fleet_mock(), fleet_mock());
    assert_eq!(a.api_key(), b.api_key(), "one key for both");
    let url = redis.url();
    let send = |server: &identifai::mock::MockServer, n: u32| {
        let client = builder(server)
            .pacer(identifai::config::Pacer::redis(&url).unwrap())
            .build()
            .unwrap();
        async move {
            client
                .classify_image(Source::bytes("f.png", png(n)))
                .send()
                .await
                .unwrap();
        }
    };
    send(&a, 1).await;
    send(&a, 2).await;
    let post_sets = |keys: &str| -> std::collections::BTreeSet<String> {
        keys.lines()
            .filter(|k| k.starts_with("identifai:pacer:") && k.ends_with(":post"))
            .map(str::to_string)
            .collect()
    };
    let one = post_sets(&redis.keys());
    assert_eq!(one.len(), 1, "two clients of one server share: {one:?}");
    send(&b, 3).await;
    let two = post_sets(&redis.keys());
    assert_eq!(two.len(), 2, "the other server has its own: {two:?}");
    assert!(two.is_superset(&one));
    let set_b = two.difference(&one).next().unwrap();
    assert_eq!(redis.cli(&["ZCARD", set_b]).trim(), "1", "b's one send");
}

/// One poller for the fleet: three clients (separate processes, as far
/// as they can tell) on one key and one Redis, each waiting for its own
/// uploads, are served by one leader: some list request asks for the
/// identifiers of all three, and nobody meets a 429.
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_through_redis_polls_as_one() {
    let Some(redis) = RedisServer::start("a_fleet_through_redis_polls_as_one") else {
        return;
    };
    let server = MockServer::start_with(
        MockConfig::default()
            .with_time_scale(0.05)
            .with_processing_time(Duration::from_secs(5), Duration::from_secs(40)),
    );
    let url = redis.url();
    let mut workers = Vec::new();
    for w in 0..3u32 {
        let client = builder(&server)
            .rate_limits(Some(RateLimits::PUBLISHED.with_time_scale(0.05)))
            .pacer(identifai::config::Pacer::redis(&url).unwrap())
            .wait(
                identifai::config::WaitConfig::default()
                    .with_initial_interval(Duration::from_millis(50)),
            )
            .build()
            .unwrap();
        let mut ids = Vec::new();
        for n in 0..4 {
            ids.push(
                client
                    .classify_image(Source::bytes("f.png", png(100 * w + n)))
                    .send()
                    .await
                    .unwrap(),
            );
        }
        workers.push((client, ids));
    }
    let waits: Vec<_> = workers
        .iter()
        .map(|(client, ids)| {
            let (client, ids) = (client.clone(), ids.clone());
            tokio::spawn(async move { client.wait_all(ids).await })
        })
        .collect();
    for w in waits {
        for (id, r) in w.await.unwrap() {
            let r = r.unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(r.identifier(), Some(id.as_str()));
        }
    }
    assert_eq!(server.stats().rate_limited, 0);
    let lists: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .filter_map(|r| r.query)
        .filter(|q| q.contains("identifiers"))
        .collect();
    let for_all = |q: &String| {
        workers
            .iter()
            .all(|(_, ids)| ids.iter().any(|id| q.contains(id.as_str())))
    };
    assert!(
        lists.iter().any(for_all),
        "no list request asked for every worker's identifiers: {lists:#?}"
    );
    let keys = redis.keys();
    assert!(keys.contains("identifai:poll:"), "{keys}");
    assert!(!keys.contains(server.api_key()), "{keys}");
}

/// A leader that dies (its runtime gone, as a process killed: no goodbye)
/// leaves its followers waiting no longer than its lease: one of them
/// takes the lead and polls for itself.
#[cfg(feature = "redis")]
#[test]
fn a_leader_that_dies_hands_the_polling_over_after_its_lease() {
    let Some(redis) =
        RedisServer::start("a_leader_that_dies_hands_the_polling_over_after_its_lease")
    else {
        return;
    };
    let server = MockServer::start_with(
        MockConfig::default()
            .with_time_scale(0.05)
            .with_processing_time(Duration::from_secs(20), Duration::from_secs(40)),
    );
    let url = redis.url();
    let make = || {
        builder(&server)
            .rate_limits(Some(RateLimits::PUBLISHED.with_time_scale(0.05)))
            .pacer(identifai::config::Pacer::redis(&url).unwrap())
            .wait(
                identifai::config::WaitConfig::default()
                    .with_initial_interval(Duration::from_millis(50)),
            )
            .build()
            .unwrap()
    };
    let leader_token = || {
        let key = redis.cli(&["--raw", "KEYS", "identifai:poll:*:leader"]);
        redis.cli(&["--raw", "GET", key.trim()]).trim().to_string()
    };
    let first = tokio::runtime::Runtime::new().unwrap();
    let a = make();
    let id_a = first
        .block_on(a.classify_image(Source::bytes("a.png", png(1))).send())
        .unwrap();
    first.spawn(async move { a.wait_image(&id_a).await });
    let mut token = String::new();
    for _ in 0..100 {
        token = leader_token();
        if !token.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!token.is_empty(), "the first waiter leads");
    let second = tokio::runtime::Runtime::new().unwrap();
    let b = make();
    let id_b = second
        .block_on(b.classify_image(Source::bytes("b.png", png(2))).send())
        .unwrap();
    let wait = second.spawn({
        let (b, id_b) = (b.clone(), id_b.clone());
        async move { b.wait_image(&id_b).deadline(Duration::from_secs(10)).await }
    });
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(leader_token(), token, "the second follows");
    // Its result is done 1-2 s from now (x0.05): only a new leader can
    // fetch it.
    first.shutdown_background();
    let r = second.block_on(wait).unwrap().unwrap();
    assert_eq!(r.identifier.as_deref(), Some(id_b.as_str()));
}

/// The control: the same fleet, each worker pacing alone, meets 429s (and,
/// with retries, still ends with every submission accepted once).
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_fleet_pacing_alone_meets_429s_and_still_loses_nothing() {
    let server = fleet_mock();
    let results = fleet(
        &server,
        identifai::config::Pacer::local,
        RetryConfig::disabled(),
        4,
        10,
    )
    .await;
    let limited = results
        .iter()
        .filter(|r| matches!(r, Err(Error::RateLimited { .. })))
        .count();
    assert!(limited > 0, "4 lone pacers overrun the key");

    let server = fleet_mock();
    let retry = RetryConfig::default().with_initial_backoff(std::time::Duration::from_millis(10));
    let results = fleet(&server, identifai::config::Pacer::local, retry, 4, 10).await;
    for r in &results {
        assert!(r.is_ok(), "a 429 never ends a submission early: {r:?}");
    }
    let stats = server.stats();
    assert!(stats.rate_limited > 0);
    assert_eq!(stats.submissions, 40, "each accepted exactly once");
}

/// A Redis that cannot be reached is asked again until the retry budget
/// is spent; the request then fails, unsent, with an error naming Redis.
#[cfg(feature = "redis")]
#[tokio::test]
async fn an_unreachable_redis_is_a_typed_error_once_the_budget_is_spent() {
    let server = mock();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let budget = Duration::from_secs(1);
    let client = builder(&server)
        .pacer(identifai::config::Pacer::redis(&format!("redis://127.0.0.1:{port}")).unwrap())
        .retry(RetryConfig::default().with_max_elapsed(budget))
        .build()
        .expect("the URL is only parsed at build time");
    let started = std::time::Instant::now();
    let err = client
        .classify_image(Source::bytes("a.png", png(1)))
        .send()
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::Pacer { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("Redis at redis://127.0.0.1:{port}")),
        "{text}"
    );
    assert!(text.contains("retry budget"), "{text}");
    // Asked again until the budget was spent, not given up at once.
    assert!(took >= budget / 2, "{took:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert_eq!(server.stats().requests, 0, "nothing sent unpaced");
    assert!(identifai::config::Pacer::redis("http://127.0.0.1:6379").is_err());
}

#[cfg(feature = "redis")]
#[path = "pacing/redis_faults.rs"]
mod redis_faults;
