//! Contract checks: what this client relies on, checked against a server.
//!
//! `cargo xtask contract` runs this file. With `IDENTIFAI_API_KEY` set it
//! sets `IDENTIFAI_CONTRACT_LIVE=1` and the checks run against the real
//! service (`IDENTIFAI_BASE_URL`, default production); they spend at most
//! one small image by URL (`IDENTIFAI_CONTRACT_IMAGE_URL`). Without a key
//! they run against the built-in `MockServer`, so the mode itself is
//! tested on every `cargo test`.

use std::time::{Duration, Instant};

use identifai::api::types::HealthStatus;
use identifai::mock::MockServer;
use identifai::{Client, Identifier, Source};

/// A small, stable, public image (Wikimedia Commons, public domain).
const DEFAULT_IMAGE_URL: &str =
    "https://upload.wikimedia.org/wikipedia/commons/thumb/4/47/PNG_transparency_demonstration_1.png/320px-PNG_transparency_demonstration_1.png";

struct Target {
    client: Client,
    live: bool,
    _mock: Option<MockServer>,
}

fn target() -> Target {
    if std::env::var("IDENTIFAI_CONTRACT_LIVE").as_deref() == Ok("1") {
        let client = Client::from_env().expect("IDENTIFAI_API_KEY is set for live contract checks");
        return Target {
            client,
            live: true,
            _mock: None,
        };
    }
    let mock = MockServer::start_with(
        identifai::mock::MockConfig::default()
            .with_time_scale(0.01)
            .with_polls_until_done(2),
    );
    let client = Client::builder()
        .api_key(mock.api_key())
        .base_url(mock.base_url())
        .rate_limits(Some(identifai::RateLimits::PUBLISHED.with_time_scale(0.01)))
        .wait(
            identifai::WaitConfig::default()
                .with_initial_interval(Duration::from_millis(20))
                .with_max_interval(Duration::from_millis(50)),
        )
        .build()
        .unwrap();
    Target {
        client,
        live: false,
        _mock: Some(mock),
    }
}

/// Runs one named check, printing its outcome; panics (fails) on error.
async fn check<T, F>(name: &str, f: F) -> T
where
    F: std::future::Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    match f.await {
        Ok(v) => {
            println!("  ok    {name} ({} ms)", start.elapsed().as_millis());
            v
        }
        Err(e) => {
            println!("  FAIL  {name}: {e}");
            panic!("contract check failed: {name}: {e}");
        }
    }
}

fn raw_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract() {
    let t = target();
    let c = &t.client;
    println!(
        "contract checks against {} ({})",
        c.base_url(),
        if t.live {
            "live"
        } else {
            "built-in MockServer"
        }
    );

    check("health answers ok or degraded", async {
        match c.health().await.map_err(|e| e.to_string())? {
            HealthStatus::Ok | HealthStatus::Degraded => Ok(()),
            other => Err(format!("unknown health status {other}")),
        }
    })
    .await;

    let url =
        std::env::var("IDENTIFAI_CONTRACT_IMAGE_URL").unwrap_or_else(|_| DEFAULT_IMAGE_URL.into());
    let id: Identifier = check(
        "submit one small image by URL (the only credit spent)",
        async {
            c.classify_image(Source::url(url.as_str()))
                .options(
                    identifai::api::forms::ImageOptions::new()
                        .with_heatmap(true)
                        .ref_id("identifai-rust-contract"),
                )
                .send()
                .await
                .map_err(|e| e.to_string())
        },
    )
    .await;

    let result = check("wait until done, with a verdict", async {
        let r = c
            .wait(&id)
            .deadline(Duration::from_secs(300))
            .await
            .map_err(|e| e.to_string())?;
        let v = r.verdict.as_ref().ok_or("done without a verdict")?;
        if !(0.0..=1.0).contains(&v.confidence) {
            return Err(format!("confidence {} out of 0..=1", v.confidence));
        }
        if r.identifier.as_deref() != Some(id.as_str()) {
            return Err(format!("identifier {:?} is not {id}", r.identifier));
        }
        Ok(r)
    })
    .await;

    check("the alias path answers the same result", async {
        let alias = c
            .api()
            .get_image_classification_alias(id.as_str())
            .await
            .map_err(|e| e.to_string())?
            .into_inner();
        let again = c
            .image_result(&id)
            .await
            .map_err(|e| e.to_string())?
            .into_inner();
        (raw_json(&alias) == raw_json(&again))
            .then_some(())
            .ok_or_else(|| "alias and canonical differ".to_string())
    })
    .await;

    check("the list endpoint (and its alias) has the result", async {
        let list = c
            .results(std::slice::from_ref(&id))
            .await
            .map_err(|e| e.to_string())?;
        let alias = c
            .api()
            .list_image_classifications_alias(&vec![id.to_string()])
            .await
            .map_err(|e| e.to_string())?
            .into_inner();
        let found = list
            .iter()
            .find(|r| r.identifier.as_deref() == Some(id.as_str()))
            .ok_or("id missing from the list")?;
        if found.verdict != result.verdict {
            return Err("the list's verdict differs from the single result's".into());
        }
        let typed: Vec<_> = list.iter().map(|r| r.value().clone()).collect();
        (raw_json(&typed) == raw_json(&alias))
            .then_some(())
            .ok_or_else(|| "list alias differs".to_string())
    })
    .await;

    check(
        "heatmap: a PNG when has_heatmap, and the alias agrees",
        async {
            let png = c.heatmap(&id).await.map_err(|e| e.to_string())?;
            match (result.has_heatmap, &png) {
                (Some(true), None) => return Err("has_heatmap but 204".into()),
                (Some(false), Some(_)) => {
                    return Err("a heatmap although has_heatmap is false".into())
                }
                _ => {}
            }
            let alias = c
                .api()
                .get_image_heatmap_alias(id.as_str())
                .await
                .map_err(|e| e.to_string())?;
            if png.is_none() != (alias.status() == 204) {
                return Err("heatmap alias status differs".into());
            }
            Ok(())
        },
    )
    .await;

    check("a wrong key is refused with 401", async {
        let wrong = Client::builder()
            .api_key("identifai-rust-contract-wrong-key")
            .base_url(c.base_url())
            .build()
            .map_err(|e| e.to_string())?;
        match wrong.result(&id).await {
            Err(identifai::Error::Unauthorized { .. }) => Ok(()),
            other => Err(format!("expected 401, got {other:?}")),
        }
    })
    .await;
    println!("all contract checks passed");
}
