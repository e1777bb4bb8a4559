//! The headless CLI over the demo store: listings, inspect, exit codes and config errors.

mod common;

use common::*;

fn home_with_store() -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = demo_layout(tmp.path());
    (tmp, store.display().to_string())
}

#[test]
fn ls_lists_sources_repositories_and_tags() {
    let (tmp, store) = home_with_store();
    let out = run_provost(tmp.path(), &["--store", &store, "ls", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["sources"][0]["name"], "store");
    assert_eq!(v["environments"].as_array().map(|e| e.len()), Some(3));
    assert_eq!(v["environments"][2]["tier"], "required");

    let out = run_provost(tmp.path(), &["--store", &store, "ls", "store"]);
    assert_eq!(
        stdout(&out),
        "acme/api\nacme/billing\nacme/web\nacme/worker\n"
    );

    let out = run_provost(tmp.path(), &["--store", &store, "ls", "acme/api", "--json"]);
    let tags: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    let names: Vec<&str> = tags.iter().filter_map(|t| t["tag"].as_str()).collect();
    assert_eq!(
        names,
        vec![
            "1.2.0",
            "1.3.0",
            "1.4.0",
            "1.4.1",
            "1.4.2",
            "1.5.0-rc.1",
            "dev",
            "prod",
            "staging"
        ]
    );
    let by = |t: &str| {
        tags.iter()
            .find(|x| x["tag"] == t)
            .map(|x| x["digest"].clone())
    };
    assert_eq!(by("prod"), by("1.4.1"));
}

#[test]
fn the_demo_landscape_has_services_digests_an_index_and_environment_tags() {
    let (tmp, store) = home_with_store();
    let out = run_provost(
        tmp.path(),
        &[
            "--store",
            &store,
            "ls",
            "store",
            "--all",
            "--digests",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let repos: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert!(repos.len() >= 3);
    let mut digests = std::collections::BTreeSet::new();
    for r in &repos {
        let tags: Vec<&str> = r["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .filter_map(|t| t["tag"].as_str())
            .collect();
        for env in ["dev", "staging", "prod"] {
            assert!(tags.contains(&env), "{} lacks {env}", r["repository"]);
        }
        for t in r["tags"].as_array().expect("tags") {
            digests.insert(t["digest"].as_str().expect("digest").to_string());
        }
    }
    assert!(digests.len() >= 12, "{} digests", digests.len());
    let out = run_provost(
        tmp.path(),
        &["--store", &store, "inspect", "acme/api:prod", "--json"],
    );
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for key in [
        "org.opencontainers.image.source",
        "org.opencontainers.image.revision",
        "org.opencontainers.image.created",
    ] {
        assert!(a["annotations"][key].is_string(), "{key} missing");
    }
    assert_eq!(a["config"]["entrypoint"][0], "/app/api");
}

#[test]
fn exit_codes_for_missing_and_malformed_references() {
    let (tmp, store) = home_with_store();
    let out = run_provost(
        tmp.path(),
        &["--store", &store, "inspect", "acme/api:9.9.9"],
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("acme/api:9.9.9"));
    let out = run_provost(tmp.path(), &["--store", &store, "inspect", "Acme/API:x"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run_provost(tmp.path(), &["inspect"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_bad_config_is_reported_with_its_file_and_value() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = tmp.path().join("provost.toml");
    std::fs::write(
        &cfg,
        "[[environment]]\nname = \"prod\"\ntier = \"strictest\"\nsource = \"demo\"\n",
    )
    .expect("write");
    let out = run_provost(tmp.path(), &["--config", cfg.to_str().expect("utf8"), "ls"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("provost.toml") && err.contains("strictest") && err.contains("line 3"),
        "{err}"
    );

    std::fs::write(
        &cfg,
        "[[environment]]\nname = \"prod\"\ntier = \"required\"\nsource = \"harbor\"\n",
    )
    .expect("write");
    let out = run_provost(tmp.path(), &["--config", cfg.to_str().expect("utf8"), "ls"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("\"harbor\""), "{}", stderr(&out));

    // The TUI checks the config before the terminal goes raw: the same error, no escape codes.
    let out = run_provost(tmp.path(), &["--config", cfg.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stdout(&out).contains('\u{1b}'));
}

#[test]
fn demo_reset_refuses_a_directory_that_is_not_a_layout() {
    let tmp = tempfile::tempdir().expect("tmp");
    let precious = tmp.path().join("work");
    std::fs::create_dir_all(&precious).expect("mkdir");
    std::fs::write(precious.join("notes.txt"), "keep me").expect("write");
    let out = run_provost(
        tmp.path(),
        &[
            "--store",
            precious.to_str().expect("utf8"),
            "demo",
            "--reset",
        ],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("refusing to reset"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(precious.join("notes.txt")).expect("kept"),
        "keep me"
    );

    let fresh = tmp.path().join("fresh");
    let out = run_provost(
        tmp.path(),
        &["--store", fresh.to_str().expect("utf8"), "demo"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_provost(
        tmp.path(),
        &["--store", fresh.to_str().expect("utf8"), "demo", "--reset"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("digests"));
}

#[test]
fn an_oversized_manifest_in_a_layout_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("big");
    let store = provost::oci::layout::LayoutStore::create("big", &dir).expect("layout");
    // Written behind the store's back, as another tool could.
    let mut body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"x","digest":"sha256:00","size":1},"layers":[],"annotations":{"pad":""#.to_vec();
    body.extend(std::iter::repeat_n(b'a', 5 * 1024 * 1024));
    body.extend_from_slice(b"\"}}");
    let d = provost::oci::digest::sha256(&body);
    std::fs::write(
        dir.join("blobs/sha256")
            .join(d.trim_start_matches("sha256:")),
        &body,
    )
    .expect("blob");
    let index = serde_json::json!({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":d,"size":body.len(),"annotations":{"org.opencontainers.image.ref.name":"big/app:v1"}}]});
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&index).expect("json"),
    )
    .expect("index");
    drop(store);
    let out = run_provost(
        tmp.path(),
        &[
            "--store",
            dir.to_str().expect("utf8"),
            "inspect",
            "big/app:v1",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("limit"), "{}", stderr(&out));
}
