//! Forward compatibility: what a newer (or older) server sends still
//! decodes. The generic tests iterate the spec's components (`IDENTIFAI_SPEC`,
//! else `openapi/identifai.yaml`); the named ones pin the cases the API is
//! known to produce: results from before 1.1.0, both shapes of a video's
//! `results.images`, and `ErrorBody`'s validation map.

use crate::support::conformance::schema_strategy::{Options, Unknown};
use crate::support::conformance::{check_component_cases, spec, FAIL};
#[allow(dead_code)]
use identifai::api::conformance;
use identifai::api::types::{
    C2paValidationState, Classification, ErrorBody, ImageResponse, Status, VideoResponse,
    VideoResultsImages,
};
use serde_json::{json, Value};

fn for_every_component(group: &str, check: impl Fn(&str) -> Result<(), String>) {
    let mut failures = Vec::new();
    for name in spec().components() {
        if let Err(e) = check(&name) {
            println!("{FAIL} {group} {name}: {e}");
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unknown_properties_at_every_open_object_still_decode() {
    // Every object whose schema leaves properties open gets one or two
    // unknown ones, at every depth; the value must still decode and equal
    // the input with them dropped.
    let options = Options {
        unknown: Unknown::Always,
        ..Options::default()
    };
    for_every_component("forward-unknown-properties", |name| {
        check_component_cases(name, &options, 32)
    });
}

#[test]
fn values_missing_every_optional_field_decode() {
    let options = Options {
        minimal: true,
        unknown: Unknown::Never,
        ..Options::default()
    };
    for_every_component("forward-minimal", |name| {
        check_component_cases(name, &options, 8)
    });
}

#[test]
fn unknown_enum_values_decode_into_the_catch_all_and_reencode_unchanged() {
    let mut count = 0;
    for (name, known) in conformance::ENUM_VALUES {
        for new in ["zz-new-value", "Unknown", ""] {
            if known.contains(&new) {
                continue;
            }
            if conformance::CLOSED_ENUMS.contains(name) {
                // `Kind`: a kind this client has no operations for is a
                // decode error, not a value it could act on.
                let out =
                    conformance::roundtrip(name, &json!(new)).expect("a registered component");
                assert!(
                    out.is_err(),
                    "{FAIL} closed-enums {name}: {new:?} must not decode"
                );
                continue;
            }
            count += 1;
            let out = conformance::roundtrip(name, &json!(new)).expect("a registered component");
            assert_eq!(
                out.ok(),
                Some(json!(new)),
                "{FAIL} forward-enums {name}: {new:?} must round-trip"
            );
        }
    }
    assert!(count > 0, "the spec has enums");

    assert_eq!(
        Status::from("cancelled"),
        Status::Unknown("cancelled".into())
    );
    assert_eq!(
        Classification::from("synthetic"),
        Classification::Unknown("synthetic".into())
    );
    assert_eq!(
        C2paValidationState::from("Unknown"),
        C2paValidationState::Unknown
    );
    assert_eq!(
        C2paValidationState::from("Revoked"),
        C2paValidationState::UnknownValue("Revoked".into())
    );

    // Inside a result, next to unknown fields.
    let body = json!({
        "identifier": "abc",
        "status": "queued",
        "verdict": {"heuristic": "Majority", "confidence": 0.9, "classification": "deepfake", "weight": 2},
        "results": [{"model": "m1", "classification": [{"label": "partly-ai", "score": 0.5}]}],
        "c2pa": {"validation_state": "Revoked", "trust": {"anchors": 3}},
        "force_classification": "synthetic",
        "new_top_level": {"nested": [1, 2, 3]}
    });
    let r: ImageResponse = serde_json::from_value(body.clone()).expect("decodes");
    assert_eq!(r.status, Some(Status::Unknown("queued".into())));
    let verdict = r.verdict.as_ref().expect("verdict");
    assert_eq!(
        verdict.classification,
        Classification::Unknown("deepfake".into())
    );
    assert_eq!(
        r.results[0].classification[0].label,
        Some(Classification::Unknown("partly-ai".into()))
    );
    assert_eq!(
        r.c2pa.as_ref().and_then(|c| c.validation_state.clone()),
        Some(C2paValidationState::UnknownValue("Revoked".into()))
    );
    assert_eq!(
        r.force_classification,
        Some(Classification::Unknown("synthetic".into()))
    );
    let out = serde_json::to_value(&r).unwrap();
    assert_eq!(out["status"], "queued");
    assert_eq!(out["verdict"]["classification"], "deepfake");
    assert_eq!(out["results"][0]["classification"][0]["label"], "partly-ai");
    assert_eq!(out["c2pa"]["validation_state"], "Revoked");
    assert_eq!(out["force_classification"], "synthetic");
}

#[test]
fn missing_optional_fields_decode() {
    let r: ImageResponse =
        serde_json::from_value(json!({})).expect("every ImageResponse field is optional");
    assert_eq!(r, ImageResponse::default());
    let v: VideoResponse = serde_json::from_value(json!({"identifier": "v1"})).expect("decodes");
    assert_eq!(v.identifier.as_deref(), Some("v1"));
    assert!(v.results.is_none() && v.verdicts.is_empty() && v.c2pa.is_none());
    // A verdict needs only its required fields.
    let r: ImageResponse = serde_json::from_value(json!({
        "verdict": {"heuristic": "Average", "confidence": 1, "classification": "human"}
    }))
    .expect("decodes");
    assert!(r.verdict.expect("verdict").models.is_empty());
}

#[test]
fn result_from_before_1_1_0_without_status_and_api_version() {
    let spec = spec();
    let image = json!({
        "hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "identifier": "8d64370a87b820cc1cf620338f5c898bab37439c9a405f32d9eaffc50c4f27b0",
        "name": "photo.jpg",
        "result_url": "https://app.identifai.net/result/8d64370a",
        "has_heatmap": false,
        "verdict": {"models": ["m1", "m2"], "heuristic": "Majority", "confidence": 0.93, "classification": "artificial"},
        "verdicts": [{"heuristic": "Average", "confidence": 0.88, "classification": "artificial"}],
        "results": [{
            "model": "m1", "unknown": false, "elapsed_time": 0.42,
            "classification": [{"label": "human", "score": 0.07}, {"label": "artificial", "score": 0.93}],
            "classification_details": {}
        }]
    });
    spec.check_component("ImageResponse", &image)
        .expect("a pre-1.1.0 image result conforms");
    let r: ImageResponse = serde_json::from_value(image).unwrap();
    assert!(r.status.is_none() && r.api_version.is_none() && r.errors.is_none());
    assert_eq!(
        r.verdict.unwrap().classification,
        Classification::Artificial
    );

    let video = json!({
        "identifier": "v-old",
        "verdict": {"heuristic": "Majority", "confidence": 0.7, "classification": "human", "count": 5, "unknown": false},
        "results": {"images": [[{"model": "m1", "classification": [{"label": "human", "score": 0.7}]}]]}
    });
    spec.check_component("VideoResponse", &video)
        .expect("a pre-1.1.0 video result conforms");
    let v: VideoResponse = serde_json::from_value(video).unwrap();
    assert!(v.status.is_none() && v.api_version.is_none());
}

fn video_images(images: Value) -> VideoResultsImages {
    let body = json!({"identifier": "v", "status": "done", "api_version": "1.1.0", "results": {"images": images}});
    spec()
        .check_component("VideoResponse", &body)
        .unwrap_or_else(|e| panic!("{FAIL} forward-video {e}"));
    let v: VideoResponse = serde_json::from_value(body).unwrap();
    v.results.and_then(|r| r.images).expect("images")
}

#[test]
fn video_images_legacy_array_of_arrays() {
    let frame = |score: f64| json!([{"model": "m1", "classification": [{"label": "human", "score": score}]}]);
    match video_images(json!([frame(0.1), frame(0.2), []])) {
        VideoResultsImages::LegacyFrameResults(frames) => {
            assert_eq!(frames.len(), 3);
            assert_eq!(frames[1][0].classification[0].score, Some(0.2));
            assert!(frames[2].is_empty());
        }
        other => panic!("an array of arrays is the legacy shape, got {other:?}"),
    }
}

#[test]
fn video_images_one_result_per_frame() {
    let frame = |hash: &str| json!({"hash": hash, "verdict": {"heuristic": "Majority", "confidence": 0.8, "classification": "human"}, "results": [{"model": "m1", "unknown": false}]});
    match video_images(json!([frame("f1"), frame("f2")])) {
        VideoResultsImages::FrameResults(frames) => {
            assert_eq!(frames.len(), 2);
            assert_eq!(frames[1].hash, "f2");
            assert_eq!(frames[1].results[0].model.as_deref(), Some("m1"));
        }
        other => panic!("an array of frame results is the current shape, got {other:?}"),
    }
    // No frames: valid (LegacyFrameResults has minItems 1), and the current shape.
    match video_images(json!([])) {
        VideoResultsImages::FrameResults(frames) => assert!(frames.is_empty()),
        other => panic!("[] reads as the current shape, got {other:?}"),
    }
}

#[test]
fn error_body_validation_map() {
    let spec = spec();
    let body = json!({"video": ["The video field is required."], "frames": ["The frames must be 5, 10 or 30.", "x"]});
    spec.check_component("ErrorBody", &body)
        .expect("a validation map conforms");
    let e: ErrorBody = serde_json::from_value(body.clone()).unwrap();
    assert!(e.error.is_none() && e.message.is_none());
    assert_eq!(
        e.extra["video"],
        vec!["The video field is required.".to_string()]
    );
    assert_eq!(e.extra["frames"].len(), 2);
    assert_eq!(serde_json::to_value(&e).unwrap(), body);

    let e: ErrorBody = serde_json::from_value(json!({"error": "Unauthorized"})).unwrap();
    assert_eq!(e.error.as_deref(), Some("Unauthorized"));
    assert!(e.extra.is_empty());
    let e: ErrorBody =
        serde_json::from_value(json!({"message": "Too Many Attempts.", "file_url": []})).unwrap();
    assert_eq!(e.message.as_deref(), Some("Too Many Attempts."));
    assert_eq!(e.extra["file_url"], Vec::<String>::new());
}
