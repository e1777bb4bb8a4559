//! `provost diff` over the demo's built images: the sections say what changed (provenance,
//! layers, config, verdicts), in text, JSON and Markdown, against another reference or what an
//! environment holds now.

mod common;

use common::*;

fn section<'a>(d: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    d["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no section {name}: {d}"))
}

fn row<'a>(s: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    s["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key}: {s}"))
}

#[test]
fn two_releases_differ_by_builder_workflow_commit_layer_and_verdict() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = demo_layout(tmp.path());
    let s = store.to_str().expect("utf8");
    let run = |args: &[&str]| {
        let mut all = vec!["--store", s];
        all.extend_from_slice(args);
        run_provost(tmp.path(), &all)
    };
    let out = run(&["diff", "acme/billing:3.1.0", "acme/billing:3.2.0", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(d["identical"], false);
    let p = section(&d, "provenance");
    let b = row(p, "builder");
    assert_eq!(b["change"], "changed");
    assert_eq!(b["a"], "https://github.com/actions/runner/github-hosted");
    assert_eq!(b["b"], "https://jenkins.acme.internal/job/billing-ci");
    assert_eq!(row(p, "workflow")["b"], ".github/workflows/ci.yml");
    let c = row(p, "commit");
    assert!(
        c["note"]
            .as_str()
            .is_some_and(|n| n.starts_with("https://github.com/acme/billing/compare/")),
        "{c}"
    );
    assert!(p["note"].is_null(), "both sides verified: {p}");
    let layers = section(&d, "layers");
    assert_eq!(layers["unchanged"], 1, "the base layer is shared: {layers}");
    assert_eq!(layers["rows"].as_array().map(|r| r.len()), Some(2));
    let v = section(&d, "verdicts");
    let prod = row(v, "prod");
    assert_eq!(
        (prod["a"].as_str(), prod["b"].as_str()),
        (Some("✓ pass"), Some("✗ block"))
    );
    assert_eq!(
        section(&d, "signers")["rows"].as_array().map(|r| r.len()),
        Some(0)
    );
    // Text says the same in words.
    let text = stdout(&run(&["diff", "acme/billing:3.1.0", "acme/billing:3.2.0"]));
    assert!(text.contains("  ~ builder: https://github.com/actions/runner/github-hosted → https://jenkins.acme.internal/job/billing-ci"), "{text}");
    assert!(text.contains("  ~ prod: ✓ pass → ✗ block"), "{text}");
    // Markdown: a table per section.
    let md = stdout(&run(&[
        "diff",
        "acme/billing:3.1.0",
        "acme/billing:3.2.0",
        "--markdown",
    ]));
    assert!(md.contains("#### provenance — "), "{md}");
    assert!(md.contains("| ~ | builder | https://github.com/actions/runner/github-hosted | https://jenkins.acme.internal/job/billing-ci |"), "{md}");
}

#[test]
fn a_digest_against_itself_is_identical_and_env_compares_with_what_it_holds() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = demo_layout(tmp.path());
    let s = store.to_str().expect("utf8");
    let run = |args: &[&str]| {
        let mut all = vec!["--store", s];
        all.extend_from_slice(args);
        run_provost(tmp.path(), &all)
    };
    let out = run(&["diff", "acme/api:prod", "acme/api:1.4.1", "--json"]);
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(d["identical"], true);
    for sec in d["sections"].as_array().expect("sections") {
        if sec["name"] != "identity" {
            assert_eq!(sec["rows"].as_array().map(|r| r.len()), Some(0), "{sec}");
        }
    }
    // The candidate against what prod runs: B is prod's digest.
    let out = run(&["diff", "acme/api:1.4.2", "--env", "prod", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let prod = serde_json::from_slice::<Vec<serde_json::Value>>(
        &run(&["ls", "acme/api", "--json"]).stdout,
    )
    .expect("tags")
    .into_iter()
    .find(|t| t["tag"] == "prod")
    .and_then(|t| t["digest"].as_str().map(str::to_string))
    .expect("prod");
    assert_eq!(d["b"], prod.as_str());
    let p = section(&d, "provenance");
    assert_eq!(row(p, "ref")["a"], "refs/tags/v1.4.2");
    assert_eq!(row(section(&d, "verdicts"), "prod")["a"], "✗ block");
    // One reference and no --env: a usage error.
    let out = run(&["diff", "acme/api:1.4.2"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
