//! The shared pacer when Redis fails under it (a real `redis-server`,
//! stopped, restarted and cut by these tests): no fault of Redis costs a
//! file while it lasts less than the retry budget, and none lets a request
//! out early (no 429).

use std::time::{Duration, Instant};

use identifai::mock::{MockConfig, MockServer};
use identifai::{config::Pacer, config::RateLimits, config::RetryConfig, Client, Source};

use super::{builder, png, RedisServer};

/// A client of `server` pacing through the Redis at `url`, under the
/// server's limits.
fn redis_client(server: &MockServer, url: &str, retry: RetryConfig) -> Client {
    builder(server)
        .rate_limits(Some(
            RateLimits::PUBLISHED.with_time_scale(server.config().time_scale()),
        ))
        .pacer(Pacer::redis(url).unwrap())
        .retry(retry)
        .build()
        .unwrap()
}

/// The key of the POST send times in Redis.
fn post_log(redis: &RedisServer) -> String {
    redis
        .keys()
        .lines()
        .find(|k| k.starts_with("identifai:pacer:") && k.ends_with(":post"))
        .unwrap_or_else(|| panic!("no POST log in {}", redis.keys()))
        .to_string()
}

/// Redis's clock, in microseconds.
fn redis_time(redis: &RedisServer) -> i64 {
    let out = redis.cli(&["TIME"]);
    let mut parts = out.split_whitespace().map(|p| p.parse::<i64>().unwrap());
    let (s, us) = (parts.next().unwrap(), parts.next().unwrap());
    s * 1_000_000 + us
}

/// Every client connection cut between two requests (a proxy, a
/// failover, Redis's idle `timeout`): the next requests go out as if
/// nothing happened, retries off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blip_between_requests_costs_no_request() {
    let Some(redis) = RedisServer::start("a_blip_between_requests_costs_no_request") else {
        return;
    };
    let server = MockServer::start_with(MockConfig::default().with_time_scale(0.05));
    let client = redis_client(&server, &redis.url(), RetryConfig::disabled());
    for n in 0..3 {
        client
            .classify_image(Source::bytes(format!("{n}.png"), png(7000 + n)))
            .send()
            .await
            .unwrap();
    }
    let killed = redis.cli(&["CLIENT", "KILL", "TYPE", "normal"]);
    assert_ne!(killed.trim(), "0", "the client's connection was cut");
    for n in 3..6 {
        let r = client
            .classify_image(Source::bytes(format!("{n}.png"), png(7000 + n)))
            .send()
            .await;
        assert!(r.is_ok(), "after the blip: {r:?}");
    }
    let stats = server.stats();
    assert_eq!(stats.submissions, 6);
    assert_eq!(stats.rate_limited, 0);
}

/// Redis stopped for 2 s, then started again empty (no persistence), in the
/// middle of 4 workers uploading 9 files each, one after the other as a
/// batch does: every file is accepted once, and none meets a 429 (the send
/// times Redis lost are restored from the workers' own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_second_redis_restart_mid_batch_loses_no_file_and_meets_no_429() {
    let Some(mut redis) =
        RedisServer::start("a_two_second_redis_restart_mid_batch_loses_no_file_and_meets_no_429")
    else {
        return;
    };
    // A minute is 6 s here: 20 files go out before the restart, 2 s before
    // it is over; a pacer that forgot them would let 10 more through at once.
    let server = MockServer::start_with(MockConfig::default().with_time_scale(0.1));
    let retry = RetryConfig::default().with_initial_backoff(Duration::from_millis(10));
    let (workers, each) = (4u32, 9u32);
    let mut tasks = Vec::new();
    for w in 0..workers {
        let client = redis_client(&server, &redis.url(), retry.clone());
        tasks.push(tokio::spawn(async move {
            let mut results = Vec::new();
            for n in 0..each {
                let file = Source::bytes(format!("{w}-{n}.png"), png(8000 + 100 * w + n));
                results.push(client.classify_image(file).send().await);
            }
            results
        }));
    }
    let started = Instant::now();
    while server.stats().submissions < 20 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "20 uploads did not go out"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    redis.stop();
    let before = server.stats().submissions;
    tokio::time::sleep(Duration::from_secs(2)).await;
    redis.start_again();
    assert!(
        before < u64::from(workers * each),
        "the restart was mid-batch"
    );
    for t in tasks {
        for r in t.await.unwrap() {
            assert!(r.is_ok(), "a file lost to the restart: {r:?}");
        }
    }
    let stats = server.stats();
    assert_eq!(stats.submissions, u64::from(workers * each));
    assert_eq!(stats.posts, u64::from(workers * each), "each sent once");
    assert_eq!(stats.rate_limited, 0, "no 429 after the restart");
}

/// Redis down when the first request asks, up again a second later, well
/// within the retry budget: the request waits for it and goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_back_within_the_budget_costs_no_request() {
    let Some(mut redis) = RedisServer::start("a_redis_back_within_the_budget_costs_no_request")
    else {
        return;
    };
    redis.stop();
    let server = MockServer::start_with(MockConfig::default().with_time_scale(0.05));
    let retry = RetryConfig::default().with_max_elapsed(Duration::from_secs(30));
    let client = redis_client(&server, &redis.url(), retry);
    let upload = tokio::spawn(async move {
        client
            .classify_image(Source::bytes("a.png", png(9000)))
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!upload.is_finished(), "given up while Redis was down");
    redis.start_again();
    let r = upload.await.unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(server.stats().submissions, 1);
}

/// Redis's clock stepped back 10 minutes after a minute's worth of send
/// times was written (and a 429 hold set): they are 10 minutes in its
/// future now. They count as sent now, the hold as set now: the next
/// upload waits one window (3 s here), not 10 minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_clock_stepped_back_stalls_no_longer_than_one_window() {
    let Some(redis) =
        RedisServer::start("a_redis_clock_stepped_back_stalls_no_longer_than_one_window")
    else {
        return;
    };
    let server = MockServer::start_with(MockConfig::default().with_time_scale(0.05));
    let client = redis_client(&server, &redis.url(), RetryConfig::disabled());
    client
        .classify_image(Source::bytes("0.png", png(9100)))
        .send()
        .await
        .unwrap();
    let log = post_log(&redis);
    let ahead = redis_time(&redis) + 600_000_000;
    for i in 0..30 {
        let at = (ahead + i).to_string();
        redis.cli(&["ZADD", &log, &at, &format!("stepped-{i}")]);
    }
    // A hold of 100 ms, set (by Redis's clock then) 10 minutes from now.
    redis.cli(&[
        "SET",
        &format!("{log}:hold"),
        &(ahead + 100_000).to_string(),
    ]);
    redis.cli(&["SET", &format!("{log}:hold:set"), &ahead.to_string()]);
    let started = Instant::now();
    let sent = tokio::time::timeout(Duration::from_secs(30), async {
        for n in 1..3 {
            client
                .classify_image(Source::bytes(format!("{n}.png"), png(9100 + n)))
                .send()
                .await
                .unwrap();
        }
    })
    .await;
    assert!(
        sent.is_ok(),
        "stalled past 30 s by send times in Redis's future (a window is 3 s)"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(server.stats().rate_limited, 0);
}
