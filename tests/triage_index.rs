//! The triage index on real registries: filled incrementally (only new digests, or digests
//! whose evidence tags changed), kept by `gate --all`, and rebuilt — never trusted — when its
//! rows, packages or file are edited, damaged or foreign.

mod common;

use common::promotion::*;
use common::*;
use std::path::PathBuf;

#[test]
fn index_is_incremental_and_kept_by_gate_all_and_rebuilt_when_damaged() {
    let src = source();
    let w = world(&src);
    let cold = json(&w.run(&["index", "src", "--json"]));
    let n = cold["indexed"]["indexed"].as_u64().expect("indexed");
    assert!(n >= 10, "{cold}");
    let warm = json(&w.run(&["index", "src", "--json"]));
    assert_eq!(warm["indexed"]["indexed"], 0, "nothing new: {warm}");
    assert_eq!(warm["indexed"]["known"].as_u64(), Some(n), "{warm}");
    let path = PathBuf::from(cold["index"].as_str().expect("path"));

    // An edited row (someone adds a fact to the file) does not authenticate: rebuilt.
    let db = rusqlite::Connection::open(&path).expect("open");
    db.execute_batch("UPDATE digests SET facts = replace(facts, 'github-hosted', 'jenkins-evil')")
        .expect("edit");
    drop(db);
    let f = w.run(&[
        "find",
        "--builder",
        "*jenkins-evil*",
        "--no-refresh",
        "--json",
    ]);
    let v = json(&f);
    assert!(v["hits"].as_array().expect("hits").is_empty(), "{v}");
    assert!(v["rebuilt"].as_str().unwrap_or("").contains("MAC"), "{v}");
    assert!(
        stderr(&f).contains("the index was rebuilt"),
        "{}",
        stderr(&f)
    );

    // A foreign file (not a provost index) and garbage are replaced, never read.
    std::fs::write(&path, b"not a database at all").expect("garbage");
    let _ = std::fs::remove_file(path.with_extension("sqlite-wal"));
    let g = w.run(&["index", "src", "--json"]);
    assert!(stderr(&g).contains("rebuilt"), "{}", stderr(&g));
    assert_eq!(json(&g)["indexed"]["indexed"].as_u64(), Some(n));

    // SBOM packages are kept apart from the row; edited there (an old crypto claimed as
    // fixed), their hash no longer matches the row's MAC: rebuilt, the edit never answers.
    let db = rusqlite::Connection::open(&path).expect("open");
    let edited = db
        .execute(
            "UPDATE packages SET json = replace(json, 'golang.org/x/crypto', 'evil.example/pkg')",
            [],
        )
        .expect("edit");
    assert!(edited > 0);
    drop(db);
    let f = json(&w.run(&[
        "find",
        "--package",
        "evil.example/pkg",
        "--no-refresh",
        "--json",
    ]));
    assert!(f["hits"].as_array().expect("hits").is_empty(), "{f}");
    assert!(f["rebuilt"].as_str().unwrap_or("").contains("MAC"), "{f}");
    // A rebuilt index is refilled from the registry whatever --no-refresh asked.
    assert_eq!(f["indexed"]["indexed"].as_u64(), Some(n), "{f}");
    let other = rusqlite::Connection::open_in_memory().expect("mem");
    drop(other);
    std::fs::remove_file(&path).expect("rm");
    let foreign = rusqlite::Connection::open(&path).expect("foreign");
    foreign
        .execute_batch("CREATE TABLE digests(x); PRAGMA user_version = 1;")
        .expect("foreign");
    drop(foreign);
    let g = w.run(&["index", "src", "--json"]);
    assert!(stderr(&g).contains("not a provost index"), "{}", stderr(&g));

    // gate --all keeps the index: after removing it, one gate --all run fills that repository.
    std::fs::remove_file(&path).expect("rm");
    let _ = w.run(&["gate", "src/acme/worker", "--all", "--env", "dev"]);
    let q = json(&w.run(&["find", "--builder", "*", "--no-refresh", "--json"]));
    let repos: std::collections::BTreeSet<&str> = q["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|x| x["repository"].as_str())
        .collect();
    assert_eq!(repos, ["acme/worker"].into_iter().collect(), "{q}");
}

/// Evidence added to a digest after it was indexed (its first attestation: a new evidence
/// tag) makes the next fill judge it again: the index never keeps a digest out of an answer
/// because it was indexed before its provenance arrived.
#[test]
fn evidence_added_after_indexing_is_read_by_the_next_fill() {
    let src = source();
    let w = world(&src);
    // A copy of an image alone (no evidence) in a repository of its own.
    let host = &src.reg.host;
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &format!("docker://{host}/acme/worker:0.9.0"),
        &format!("docker://{host}/late/app:1.0.0"),
    ]);
    let first = json(&w.run(&["index", "src", "--json"]));
    let n = first["indexed"]["indexed"].as_u64().expect("indexed");
    assert!(n >= 10, "{first}");
    let builder = "https://ci.example/late-runner";
    let q = |w: &World| {
        json(&w.run(&["find", "--builder", builder, "--no-refresh", "--json"]))["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .map(|h| {
                (
                    h["repository"].as_str().unwrap_or("").to_string(),
                    h["matched"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert!(q(&w).is_empty());
    // Now its provenance, signed by the trusted release key.
    let h = w.home.path();
    std::fs::write(
        h.join("late.json"),
        serde_json::json!({
            "buildDefinition": {"buildType": "https://ci.example/build/v1", "externalParameters": {}},
            "runDetails": {"builder": {"id": builder}}
        })
        .to_string(),
    )
    .expect("predicate");
    attest_provenance(
        &w,
        "src/late/app:1.0.0",
        &h.join("late.json"),
        &h.join("acme-release.key"),
    );
    // The next fill sees the new evidence tag and judges that digest again, and only it.
    let again = json(&w.run(&["index", "src", "--json"]));
    assert_eq!(again["indexed"]["evidence_changed"], 1, "{again}");
    assert_eq!(again["indexed"]["indexed"], 1, "{again}");
    assert_eq!(
        q(&w),
        [("late/app".to_string(), serde_json::json!("verified"))]
    );
    // And a warm fill after that judges nothing.
    let warm = json(&w.run(&["index", "src", "--json"]));
    assert_eq!(warm["indexed"]["indexed"], 0, "{warm}");
    assert_eq!(warm["indexed"]["evidence_changed"], 0, "{warm}");
}

#[test]
fn find_says_where_it_could_not_tell_rather_than_nowhere() {
    let mut src = source();
    let w = world(&src);
    let hits = |w: &World| {
        let out = w.run(&["find", "--builder", "*", "--no-refresh", "--json"]);
        json(&out)["hits"].as_array().expect("hits").clone()
    };
    json(&w.run(&["index", "src", "--json"]));
    // Some digest is in dev now (the registry's dev tag names it).
    let before = hits(&w);
    let in_dev = before
        .iter()
        .find(|h| {
            h["holds_now"]
                .as_array()
                .is_some_and(|a| a.iter().any(|e| e == "dev"))
        })
        .unwrap_or_else(|| panic!("a hit in dev: {before:#?}"))["digest"]
        .clone();
    // The source registry goes away: the index still answers, but where each digest is now
    // cannot be read. That is "could not tell", never "not there".
    src.reg.stop();
    let after = hits(&w);
    let h = after
        .iter()
        .find(|h| h["digest"] == in_dev)
        .expect("the same hit from the index");
    assert_eq!(h["holds_now"], serde_json::json!([]), "{h:#}");
    let unknown: Vec<&str> = h["unknown_places"]
        .as_array()
        .expect("unknown_places")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        unknown.iter().any(|u| u.starts_with("dev ("))
            && unknown.iter().any(|u| u.starts_with("staging (")),
        "{unknown:?}"
    );
    // Its evidence cannot be read either: today's verdicts are judged, and none passes.
    let verdicts = h["verdicts"].as_array().expect("verdicts");
    assert!(!verdicts.is_empty(), "{h:#}");
    assert!(
        verdicts
            .iter()
            .all(|v| v["decision"].is_string() && v["decision"] != "pass"),
        "nothing unreadable passes: {verdicts:#?}"
    );
    // And in words.
    let out = w.run(&["find", "--builder", "*", "--no-refresh"]);
    assert!(
        stdout(&out).contains("could not tell: dev ("),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_row_deleted_from_the_index_file_is_noticed_and_the_index_rebuilt() {
    let src = source();
    let w = world(&src);
    let cold = json(&w.run(&["index", "src", "--json"]));
    let path = PathBuf::from(cold["index"].as_str().expect("path"));
    let before = json(&w.run(&["find", "--builder", "*", "--no-refresh", "--json"]));
    let n = before["hits"].as_array().expect("hits").len();
    assert!(n >= 2, "{before}");
    let victim = before["hits"][0]["digest"]
        .as_str()
        .expect("digest")
        .to_string();
    // A row and its search terms removed together: every remaining row still carries its MAC.
    let db = rusqlite::Connection::open(&path).expect("open");
    db.execute_batch("PRAGMA foreign_keys = ON;").expect("fk");
    let removed = db
        .execute("DELETE FROM digests WHERE digest = ?1", [&victim])
        .expect("delete");
    assert!(removed >= 1, "the row was there");
    drop(db);
    let after = w.run(&["find", "--builder", "*", "--no-refresh", "--json"]);
    let v = json(&after);
    assert!(
        v["rebuilt"].as_str().unwrap_or("").contains("rows"),
        "the missing row is noticed: {v}"
    );
    let hits = v["hits"].as_array().expect("hits");
    assert!(
        hits.iter().any(|h| h["digest"] == victim.as_str()),
        "and the digest is found again: {v}"
    );
}
