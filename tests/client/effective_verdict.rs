//! The effective verdict: an account's override (`force_classification`)
//! wins over the server's verdict in every result, frame and audio track,
//! for every kind, typed and as `AnyResult`.

use crate::support::*;
use identifai::api::types::Classification;
use identifai::{AnyResult, Kind, Source, VerdictSource};

#[tokio::test]
async fn an_override_becomes_the_effective_verdict_of_every_kind() {
    let server = mock();
    let client = client(&server);
    let sources = [
        (Kind::Image, Source::bytes("a.png", png(71))),
        (Kind::Video, Source::bytes("v.mp4", mp4(71))),
        (Kind::Audio, Source::bytes("s.wav", wav(71))),
    ];
    for (kind, source) in sources {
        let id = match kind {
            Kind::Image => client.classify_image(source).send().await,
            Kind::Video => client.classify_video(source).send().await,
            _ => client.classify_audio(source).send().await,
        }
        .unwrap();
        let before = client.wait_all([id.clone()]).await.remove(0).1.unwrap();
        let server_says = before.verdict().expect("a done result has a verdict");
        let effective = before.effective_verdict().unwrap();
        assert_eq!(effective.source, VerdictSource::Server, "{kind}");
        assert_eq!(effective.classification, server_says.classification);
        assert_eq!(effective.confidence, Some(server_says.confidence));

        let other = match server_says.classification {
            Classification::Human => Classification::Artificial,
            _ => Classification::Human,
        };
        client
            .override_classification(kind, before.hash().unwrap(), other.clone())
            .await
            .unwrap();
        let after = client.result(&id).await.unwrap();
        assert_eq!(after.kind(), kind);
        let effective = after.effective_verdict().unwrap();
        assert_eq!(effective.classification, other, "{kind}");
        assert_eq!(effective.source, VerdictSource::Forced);
        assert_eq!(effective.confidence, None);
        assert_eq!(effective.server.as_ref(), Some(&server_says.classification));
        assert_eq!(after.forced_classification(), Some(&other));
        // The server's verdict is still there, unchanged, as one type.
        assert_eq!(
            after.verdict().unwrap().classification,
            server_says.classification
        );
    }
}

#[test]
fn frames_and_audio_tracks_read_their_own_override() {
    let json = r#"{
        "identifier": "v1", "hash": "ab", "status": "done",
        "verdict": {"heuristic": "Majority", "confidence": 0.8, "classification": "artificial",
                    "count": 3, "unknown": false},
        "results": {
            "images": [
                {"hash": "f0", "results": [],
                 "verdict": {"heuristic": "Majority", "confidence": 0.7, "classification": "artificial"},
                 "force_classification": "human"},
                {"hash": "f1", "results": [],
                 "verdict": {"heuristic": "Majority", "confidence": 0.6, "classification": "human"}}
            ],
            "audios": [
                {"hash": "t0", "results": [],
                 "verdict": {"heuristic": "Majority", "confidence": 0.9, "classification": "human"},
                 "force_classification": "artificial"}
            ]
        }
    }"#;
    let any = AnyResult::from_json(Kind::Video, json).unwrap();
    // No override on the video itself: the server's video verdict, read as a
    // `Verdict` (count and unknown are the video verdict's own).
    let v = any.verdict().unwrap();
    assert_eq!(
        (v.classification.clone(), v.confidence),
        (Classification::Artificial, 0.8)
    );
    assert_eq!(
        any.effective_verdict().unwrap().source,
        VerdictSource::Server
    );

    let video = any.as_video().unwrap();
    let results = video.results.as_ref().unwrap();
    let Some(identifai::api::types::VideoResultsImages::FrameResults(frames)) = &results.images
    else {
        panic!("frames: {results:?}")
    };
    let f0 = frames.0[0].effective_verdict().unwrap();
    assert_eq!(
        (f0.classification, f0.source),
        (Classification::Human, VerdictSource::Forced)
    );
    let f1 = frames.0[1].effective_verdict().unwrap();
    assert_eq!(
        (f1.classification, f1.source),
        (Classification::Human, VerdictSource::Server)
    );
    let track = results.audios[0].effective_verdict().unwrap();
    assert_eq!(track.classification, Classification::Artificial);
    assert_eq!(track.server, Some(Classification::Human));
}
