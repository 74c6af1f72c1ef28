//! Tests against the real inputs of this repository: the committed
//! `openapi/overlay.yaml` and `openapi/upstream/*.yaml`, and the seed pages.

use serde_json::Value;
use xtask::{evidence, repo_root, spec, vendor};

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
    let list = root.join("openapi/pages.txt");
    let pages = vendor::read_list(&list).unwrap();
    // Every page of the seeds is listed (an unlisted one is an error).
    let outcome = vendor::run(
        &pages,
        &vendor::Source::Dir(seeds),
        &root.join("openapi/upstream"),
        true,
        &list,
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

/// CONFORMANCE.md's table of the elements below `published` is the one the
/// committed spec gives (`cargo xtask spec` writes it): an element added,
/// dropped or re-levelled without the table following fails here.
#[test]
fn the_conformance_evidence_table_is_the_specs() {
    let root = repo_root();
    let doc = spec::read_yaml(&root.join("openapi/identifai.yaml")).unwrap();
    let rows = evidence::rows(&doc);
    assert!(
        rows.len() >= 12,
        "about a dozen elements have no published evidence: {rows:#?}"
    );
    let markdown = std::fs::read_to_string(root.join("CONFORMANCE.md")).unwrap();
    let table = evidence::table(&doc);
    assert!(
        markdown.contains(&table),
        "CONFORMANCE.md's evidence table differs from the spec's: run `cargo xtask spec`\n{table}"
    );
}

/// Every action of the committed overlay declares a valid `x-evidence`,
/// and every element it marks below `published` comes from an action of
/// that level (the spec holds no level the overlay did not declare).
#[test]
fn every_overlay_action_declares_its_evidence() {
    let root = repo_root();
    let overlay = spec::read_yaml(&root.join("openapi/overlay.yaml")).unwrap();
    let mut levels = std::collections::BTreeMap::new();
    for (i, action) in overlay["actions"].as_array().unwrap().iter().enumerate() {
        let ev = evidence::Evidence::of_action(action.as_object().unwrap())
            .unwrap_or_else(|e| panic!("action #{}: {e:#}", i + 1));
        *levels.entry(ev.level).or_insert(0) += 1;
    }
    assert!(levels.contains_key(&evidence::Level::Analogy), "{levels:?}");
    assert!(levels.contains_key(&evidence::Level::None), "{levels:?}");
}
