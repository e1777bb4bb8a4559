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
    // Registry strings carry no markup into a job summary: punctuation is escaped.
    assert!(md.contains("| ~ | builder | https\\://github\\.com/actions/runner/github\\-hosted | https\\://jenkins\\.acme\\.internal/job/billing\\-ci |"), "{md}");
}

#[test]
fn demo_pairs_show_a_package_update_rebuilds_and_denied_packages() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = demo_layout(tmp.path());
    let s = store.to_str().expect("utf8");
    let run = |args: &[&str]| {
        let mut all = vec!["--store", s];
        all.extend_from_slice(args);
        let out = run_provost(tmp.path(), &all);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    // acme/api 1.4.1 → 1.4.2: a commit and one package, counted per ecosystem.
    let d = run(&["diff", "acme/api:1.4.1", "acme/api:1.4.2", "--json"]);
    let p = section(&d, "provenance");
    assert_eq!(row(p, "commit")["change"], "changed");
    let pk = section(&d, "packages");
    assert_eq!(pk["rows"].as_array().map(|r| r.len()), Some(1), "{pk}");
    let x = row(pk, "golang/golang.org/x/crypto");
    assert_eq!(
        (x["a"].as_str(), x["b"].as_str(), x["note"].as_str()),
        (
            Some("0.21.0 (BSD-3-Clause)"),
            Some("0.31.0 (BSD-3-Clause)"),
            Some("version up")
        )
    );
    let summary: Vec<&str> = pk["summary"]
        .as_array()
        .expect("summary")
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    assert_eq!(summary, ["deb: 1 unchanged", "golang: 1 up, 4 unchanged"]);
    assert!(
        d["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .all(|s| s["name"] != "reproducibility"),
        "two commits: no reproducibility verdict: {d}"
    );
    // Two rebuilds of billing 3.1.0's commit: one differs only in timestamps, one is not
    // reproducible and names the file that differs.
    let note = |d: &serde_json::Value| section(d, "reproducibility")["note"].clone();
    let r1 = run(&[
        "diff",
        "acme/billing:3.1.0",
        "acme/billing:3.1.0-rebuild.1",
        "--json",
    ]);
    assert!(
        note(&r1)
            .as_str()
            .is_some_and(|n| n.starts_with("equivalent ignoring timestamps")),
        "{r1}"
    );
    let r2 = run(&[
        "diff",
        "acme/billing:3.1.0",
        "acme/billing:3.1.0-rebuild.2",
        "--json",
    ]);
    assert!(
        note(&r2)
            .as_str()
            .is_some_and(|n| n.starts_with("not reproducible")),
        "{r2}"
    );
    let rep = section(&r2, "reproducibility");
    assert_eq!(rep["rows"][0]["key"], "app/billing", "{rep}");
    // The files of the changed layer: the timestamps are what differ.
    let f = run(&[
        "diff",
        "acme/billing:3.1.0",
        "acme/billing:3.1.0-rebuild.1",
        "--files",
        "--json",
    ]);
    let files = section(&f, "files");
    assert!(
        files["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|r| r["b"]
                .as_str()
                .is_some_and(|b| b.contains("mtime 1795683600"))),
        "{files}"
    );
    // acme/web carries a denied package (left-pad): flagged on both sides, by rule name.
    let w = run(&["diff", "acme/web:2.1.0", "acme/web:2.2.0", "--json"]);
    let pk = section(&w, "packages");
    let flagged: Vec<&str> = pk["summary"]
        .as_array()
        .expect("summary")
        .iter()
        .filter_map(|l| l.as_str())
        .filter(|l| l.starts_with("denied"))
        .collect();
    assert_eq!(
        flagged,
        [
            "denied by policy in A: npm/left-pad 1.3.0",
            "denied by policy in B: npm/left-pad 1.3.0"
        ],
        "{pk}"
    );
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
    // The candidate against what prod runs: A is prod's digest, B the candidate, so the diff
    // reads as the change the promotion would make.
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
    assert_eq!(d["a"], prod.as_str());
    let p = section(&d, "provenance");
    assert_eq!(row(p, "ref")["b"], "refs/tags/v1.4.2");
    assert_eq!(row(section(&d, "verdicts"), "prod")["b"], "✗ block");
    // One reference and no --env: a usage error.
    let out = run(&["diff", "acme/api:1.4.2"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
