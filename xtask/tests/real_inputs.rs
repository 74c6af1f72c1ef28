//! Tests against the real inputs of this repository: the committed
//! `openapi/overlay.yaml` and `openapi/upstream/*.yaml`, and the seed pages.

use serde_json::Value;
use xtask::{repo_root, spec, vendor};

/// Every overlay action must have an effect: dropping any single action must
/// either make the overlay fail to apply or change the generated spec. So
/// editing (or deleting) any action makes `cargo xtask spec --check` fail.
#[test]
fn every_overlay_action_has_an_effect() {
    let root = repo_root();
    let overlay_path = root.join("openapi/overlay.yaml");
    if !overlay_path.exists() {
        eprintln!("skipping: {} does not exist", overlay_path.display());
        return;
    }
    let upstream = spec::load_upstream(&root.join("openapi/upstream")).unwrap();
    let overlay = spec::read_yaml(&overlay_path).unwrap();
    let baseline = match spec::build_with(&upstream, &overlay) {
        Ok(built) => built.text,
        Err(e) => panic!("the real overlay does not apply: {e:#}"),
    };
    let actions = overlay["actions"].as_array().expect("overlay has actions");
    assert!(!actions.is_empty(), "overlay has no actions");

    let mut without_effect = Vec::new();
    for (i, action) in actions.iter().enumerate() {
        let mut mutated = overlay.clone();
        if let Some(Value::Array(list)) = mutated.get_mut("actions") {
            list.remove(i);
        }
        match spec::build_with(&upstream, &mutated) {
            Err(_) => {}
            Ok(built) if built.text != baseline => {}
            Ok(_) => without_effect.push(format!(
                "#{} ({})",
                i + 1,
                action["description"].as_str().unwrap_or("?")
            )),
        }
    }
    assert!(
        without_effect.is_empty(),
        "dropping these overlay actions changes nothing, so they are dead: {without_effect:#?}"
    );
}

/// `cargo xtask vendor` reproduces the committed `openapi/upstream/` exactly.
#[test]
fn vendored_files_match_the_seed_pages() {
    let root = repo_root();
    let seeds = root.join("../shared/seeds");
    if !seeds.is_dir() {
        eprintln!(
            "skipping: seeds directory {} does not exist",
            seeds.display()
        );
        return;
    }
    let pages = vendor::read_list(&root.join("openapi/pages.txt")).unwrap();
    let outcome = vendor::run(
        &pages,
        &vendor::Source::Dir(seeds),
        &root.join("openapi/upstream"),
        true,
    )
    .unwrap();
    assert!(
        outcome.up_to_date(),
        "openapi/upstream is stale: {outcome:#?}"
    );
    assert_eq!(outcome.unchanged.len(), pages.len());
}

/// The upstream fragments merge without conflicts.
#[test]
fn upstream_fragments_merge() {
    let upstream = spec::load_upstream(&repo_root().join("openapi/upstream")).unwrap();
    let merged = xtask::merge::merge(&upstream).unwrap();
    assert!(merged["paths"].as_object().is_some_and(|p| !p.is_empty()));
}
