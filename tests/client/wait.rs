//! Waiting: pending -> done, errored -> a typed error with the server's
//! text, the deadline -> a timeout error, 429s survived, and `wait_all`
//! polling 100 identifiers per request.

use std::future::IntoFuture;
use std::time::Duration;

use crate::support::*;
use identifai::api::types::Status;
use identifai::mock::{Fault, MockConfig, Route};
use identifai::{Error, Identifier, Source};

#[tokio::test]
async fn pending_then_done() {
    let server = mock_with(MockConfig::default().with_polls_until_done(3));
    let client = client(&server);
    let result = client
        .classify_image(Source::bytes("a.png", png(1)))
        .wait()
        .await
        .unwrap();
    assert_eq!(result.status, Some(Status::Done));
    assert!(result.verdict.is_some());
    // Polled through the image list (the client's poller), never alone.
    assert_eq!(
        server.stats().route(Route::ListClassifications),
        4,
        "3 pending polls, then done"
    );
    assert_eq!(server.stats().route(Route::GetImageClassification), 0);
}

#[tokio::test]
async fn video_pending_then_done() {
    let server = mock_with(MockConfig::default().with_polls_until_done(2));
    let client = client(&server);
    let result = client
        .classify_video(Source::bytes("v.mp4", mp4(1)))
        .wait()
        .await
        .unwrap();
    assert_eq!(result.status, Some(Status::Done));
    assert!(result.results.is_some());
    assert_eq!(server.stats().route(Route::ListVideoClassifications), 3);
    assert_eq!(server.stats().route(Route::GetVideoClassification), 0);
}

#[tokio::test]
async fn errored_is_a_typed_error_with_the_servers_text() {
    let server = mock();
    let client = client(&server);
    let err = client
        .classify_image(Source::bytes("a.png", png(2)))
        .options(identifai::api::forms::ImageOptions::new().ref_id("mock:errored"))
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
    let server = mock_with(MockConfig::default().with_polls_until_done(2));
    let client = client(&server);
    let result = client
        .classify_image(Source::bytes("a.png", png(3)))
        .options(identifai::api::forms::ImageOptions::new().ref_id("mock:pre-1.1"))
        .wait()
        .await
        .unwrap();
    assert_eq!(result.status, None);
    assert!(result.verdict.is_some());
}

#[tokio::test]
async fn the_deadline_ends_the_wait_with_a_timeout() {
    let server = mock_with(MockConfig::default().with_polls_until_done(1_000_000));
    let client = client(&server);
    let id = client
        .classify_image(Source::bytes("a.png", png(4)))
        .send()
        .await
        .unwrap();
    let err = client
        .wait_image(&id)
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
    let server = mock_with(MockConfig::default().with_polls_until_done(1_000_000));
    let client = client(&server);
    let id = client
        .classify_image(Source::bytes("a.png", png(5)))
        .send()
        .await
        .unwrap();
    let out = tokio::time::timeout(
        Duration::from_millis(200),
        client.wait_image(&id).into_future(),
    )
    .await;
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
    let server = mock_with(MockConfig::default().with_polls_until_done(2));
    let client = client(&server);
    let id = client
        .classify_image(Source::bytes("a.png", png(6)))
        .send()
        .await
        .unwrap();
    server.inject(Route::ListClassifications, Fault::too_many_attempts(None));
    server.inject(
        Route::ListClassifications,
        Fault::too_many_attempts(Some(1)),
    );
    server.inject(Route::ListClassifications, Fault::service_unavailable(None));
    let result = client.wait_image(&id).await.unwrap();
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
    let server = mock_with(
        MockConfig::default()
            .with_polls_until_done(1)
            .with_rate_limits(None),
    );
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
    // Round 1: 3 image list requests (everything new); the id the image list
    // left out is asked of the video and audio lists, then alone (image,
    // video, audio: three 404s); round 2: 3 image list requests.
    assert_eq!(
        stats.route(Route::ListClassifications),
        6,
        "3 GETs per poll round, not 250"
    );
    assert_eq!(stats.route(Route::ListVideoClassifications), 1);
    assert_eq!(stats.route(Route::ListAudioClassifications), 1);
    assert_eq!(stats.route(Route::GetImageClassification), 1);
    assert_eq!(stats.route(Route::GetVideoClassification), 1);
    assert_eq!(stats.route(Route::GetAudioClassification), 1);
}

#[tokio::test]
async fn result_finds_the_kind_by_itself() {
    let server = mock_with(
        MockConfig::default()
            .with_polls_until_done(0)
            .with_rate_limits(None),
    );
    let client = builder(&server).rate_limits(None).build().unwrap();
    let image = client
        .classify_image(Source::bytes("a.png", png(1)))
        .send()
        .await
        .unwrap();
    let video = client
        .classify_video(Source::bytes("v.mp4", mp4(1)))
        .send()
        .await
        .unwrap();
    let audio = client
        .classify_audio(Source::bytes("a.wav", wav(1)))
        .send()
        .await
        .unwrap();
    for (id, kind, gets) in [
        (&image, identifai::Kind::Image, [1, 0, 0]),
        (&video, identifai::Kind::Video, [1, 1, 0]),
        (&audio, identifai::Kind::Audio, [1, 1, 1]),
    ] {
        server.reset_stats();
        let r = client.result(id).await.unwrap();
        assert_eq!(r.kind(), kind);
        assert_eq!(r.identifier(), Some(id.as_str()));
        assert_eq!(r.status(), Some(&Status::Done));
        assert!(r.verdict().is_some());
        let stats = server.stats();
        let asked = [
            stats.route(Route::GetImageClassification),
            stats.route(Route::GetVideoClassification),
            stats.route(Route::GetAudioClassification),
        ];
        assert_eq!(asked, gets, "{kind}: image, then video, then audio, on 404");
    }
    // Typed: the variant holds the kind's own type, with the raw JSON.
    let r = client.result(&audio).await.unwrap();
    let a = r.as_audio().expect("an audio result");
    assert!(!a.chunk_details.is_empty());
    assert_eq!(r.raw().get(), a.raw().get());
    // Nobody knows it: the last 404, after asking every kind.
    server.reset_stats();
    let err = client
        .result(&"nobody-knows".parse().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(server.stats().gets, 3);
}

#[tokio::test]
async fn wait_all_polls_each_kind_through_its_own_list() {
    let server = mock_with(
        MockConfig::default()
            .with_polls_until_done(1)
            .with_rate_limits(None),
    );
    let client = builder(&server).rate_limits(None).build().unwrap();
    let mut ids = Vec::new();
    let mut kinds = Vec::new();
    // Interleaved, so that no kind comes as a block.
    for n in 0..250u32 {
        let (kind, id) = match n % 25 {
            0..=11 => (
                identifai::Kind::Image,
                client
                    .classify_image(Source::bytes("i.png", png(n)))
                    .send()
                    .await,
            ),
            12..=22 => (
                identifai::Kind::Video,
                client
                    .classify_video(Source::bytes("v.mp4", mp4(n)))
                    .send()
                    .await,
            ),
            _ => (
                identifai::Kind::Audio,
                client
                    .classify_audio(Source::bytes("a.wav", wav(n)))
                    .send()
                    .await,
            ),
        };
        ids.push(id.unwrap());
        kinds.push(kind);
    }
    let count = |k| kinds.iter().filter(|&&x| x == k).count();
    let (images, videos, audios) = (
        count(identifai::Kind::Image),
        count(identifai::Kind::Video),
        count(identifai::Kind::Audio),
    );
    assert_eq!((images, videos, audios), (120, 110, 20));
    server.reset_stats();
    let out = client.wait_all(ids.clone()).await;
    assert_eq!(out.len(), 250);
    for (((id, result), want), kind) in out.iter().zip(&ids).zip(&kinds) {
        assert_eq!(id, want, "in order");
        let r = result.as_ref().unwrap();
        assert_eq!(r.kind(), *kind);
        assert_eq!(r.status(), Some(&Status::Done));
    }
    let batches = |n: usize| n.div_ceil(100) as u64;
    let stats = server.stats();
    // Round 1 (all new): the image list is asked for all 250, the video list
    // for the 130 it left out, the audio list for the 20 left after that.
    // Round 2 (all done): each kind's list for its own only.
    assert_eq!(
        stats.route(Route::ListClassifications),
        batches(250) + batches(images)
    );
    assert_eq!(
        stats.route(Route::ListVideoClassifications),
        batches(videos + audios) + batches(videos)
    );
    assert_eq!(
        stats.route(Route::ListAudioClassifications),
        batches(audios) + batches(audios)
    );
    assert_eq!(stats.gets, 5 + 4 + 2, "no GET one by one");

    // With the kind given, only that kind's list is asked.
    server.reset_stats();
    let video_ids: Vec<Identifier> = ids
        .iter()
        .zip(&kinds)
        .filter(|(_, k)| **k == identifai::Kind::Video)
        .map(|(id, _)| id.clone())
        .collect();
    let out = client
        .wait_all(video_ids)
        .kind(identifai::Kind::Video)
        .await;
    assert!(out.iter().all(|(_, r)| r.is_ok()));
    assert_eq!(server.stats().gets, 2);
    assert_eq!(server.stats().route(Route::ListVideoClassifications), 2);
}

#[tokio::test]
async fn wait_all_moves_on_when_a_kinds_list_is_missing() {
    let server = mock_with(
        MockConfig::default()
            .with_polls_until_done(0)
            .with_rate_limits(None),
    );
    let client = builder(&server).rate_limits(None).build().unwrap();
    let audio = client
        .classify_audio(Source::bytes("a.wav", wav(77)))
        .send()
        .await
        .unwrap();
    // A server without the video list: its 404 is no answer about the audio.
    server.inject(
        Route::ListVideoClassifications,
        Fault::json(404, &serde_json::json!({ "error": "Not Found" })),
    );
    server.reset_stats();
    let out = client.wait_all([audio.clone()]).await;
    let r = out[0].1.as_ref().unwrap();
    assert_eq!(r.kind(), identifai::Kind::Audio);
    let stats = server.stats();
    assert_eq!(stats.route(Route::ListVideoClassifications), 1);
    assert_eq!(stats.route(Route::ListAudioClassifications), 1);
}

#[tokio::test]
async fn many_waits_on_one_client_share_list_requests() {
    let server = mock_with(
        MockConfig::default()
            .with_polls_until_done(2)
            .with_rate_limits(None),
    );
    let client = builder(&server).rate_limits(None).build().unwrap();
    let mut ids = Vec::new();
    for n in 0..30 {
        let source = Source::bytes(format!("{n}.png"), png(3000 + n));
        ids.push(client.classify_image(source).send().await.unwrap());
    }
    server.reset_stats();
    // Thirty separate waits, as thirty tasks of a pipeline would make them.
    let waits = ids.iter().map(|id| client.wait_image(id).into_future());
    for result in futures::future::join_all(waits).await {
        assert_eq!(result.unwrap().status, Some(Status::Done));
    }
    let stats = server.stats();
    // Every round asks for all thirty in one list request: two rounds
    // pending, the third done. Never one GET per identifier.
    assert_eq!(stats.route(Route::ListClassifications), 3);
    assert_eq!(stats.route(Route::GetImageClassification), 0);
}

#[tokio::test]
async fn a_wait_joined_late_is_served_by_the_next_round() {
    let server = mock_with(
        MockConfig::default()
            .with_polls_until_done(3)
            .with_rate_limits(None),
    );
    // Rounds far apart, so the second wait surely joins between two.
    let client = builder(&server)
        .rate_limits(None)
        .wait(
            identifai::config::WaitConfig::default()
                .with_deadline(Duration::from_secs(30))
                .with_initial_interval(Duration::from_millis(300)),
        )
        .build()
        .unwrap();
    let first = client
        .classify_image(Source::bytes("1.png", png(4001)))
        .send()
        .await
        .unwrap();
    let second = client
        .classify_image(Source::bytes("2.png", png(4002)))
        .send()
        .await
        .unwrap();
    server.reset_stats();
    let early = tokio::spawn({
        let client = client.clone();
        async move { client.wait_image(&first).await }
    });
    while server.stats().route(Route::ListClassifications) < 1 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let late = client.wait_image(&second).await.unwrap();
    assert_eq!(late.status, Some(Status::Done));
    assert_eq!(early.await.unwrap().unwrap().status, Some(Status::Done));
    // The late one joined the rounds already running: 4 rounds for the
    // first (3 pending, then done), one more for the second; apart, it
    // would have been 4 + 4.
    assert_eq!(server.stats().route(Route::ListClassifications), 5);
    assert_eq!(server.stats().route(Route::GetImageClassification), 0);
}

#[tokio::test]
async fn an_html_page_served_with_200_on_a_poll_is_waited_out_like_a_503() {
    let server = mock_with(MockConfig::default().with_polls_until_done(1));
    let client = client(&server);
    let id = client
        .classify_image(Source::bytes("a.png", png(4100)))
        .send()
        .await
        .unwrap();
    // A maintenance window: three polls get the backend's HTML page.
    let page = Fault::new(
        200,
        "text/html; charset=UTF-8",
        "<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>",
    );
    server.inject_times(Route::ListClassifications, page, 3);
    let result = client.wait_image(&id).await.unwrap();
    assert_eq!(result.status, Some(Status::Done));
    assert_eq!(server.stats().faults_served, 3);
}
