//! The on-disk cache behind `provost gate`, against the real registry: a warm run asks the
//! registry almost nothing and gives the same verdicts; evidence added or removed since the
//! last run is seen at once; damaged cache files are never believed; `--no-cache` and
//! `--cache-ttl 0` see a moved tag immediately, and so does every `gate --all`, on every tier.

mod common;

use common::{demo_keys, provost, runtime, store, Registry};
use provost::oci::Store;
use std::path::Path;

struct Gate<'a> {
    home: &'a Path,
    host: String,
}

impl Gate<'_> {
    /// Runs `gate REPO --all --env prod --json` with extra args; returns (exit code, verdicts as
    /// (digest, decision, signature outcome) sorted, registry requests).
    fn all(&self, repo: &str, extra: &[&str]) -> (i32, Vec<(String, String, String)>, usize) {
        let (code, j, requests) = self.run(repo, extra);
        (code, rows_of(&j), requests)
    }

    /// `all`, with the JSON as printed.
    fn run(&self, repo: &str, extra: &[&str]) -> (i32, serde_json::Value, usize) {
        self.run_in("prod", repo, extra)
    }

    /// `run`, gating environment `env`.
    fn run_in(&self, env: &str, repo: &str, extra: &[&str]) -> (i32, serde_json::Value, usize) {
        let h = self.home;
        let out = provost()
            .args([
                "--config",
                h.join("provost.toml").to_str().expect("utf8"),
                "gate",
                &format!("{}/{repo}", self.host),
                "--all",
                "--env",
                env,
                "--policy",
                h.join("policy.toml").to_str().expect("utf8"),
                "--json",
            ])
            .args(extra)
            .env("HOME", h)
            .env("PROVOST_CACHE_DIR", h.join("cache"))
            .env("PROVOST_COUNT_REQUESTS", "1")
            .env("PROVOST_PASSWORD", "")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .output()
            .expect("run provost");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        let requests: usize = err
            .lines()
            .find_map(|l| {
                l.strip_prefix("provost: ")?
                    .strip_suffix(" registry requests")
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no request count in {err}"));
        let j: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
        (out.status.code().expect("exit"), j, requests)
    }
}

/// The verdicts as (digest, decision, signature outcome), sorted.
fn rows_of(j: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut rows: Vec<(String, String, String)> = j["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .map(|v| {
            let sig = v["findings"]
                .as_array()
                .and_then(|f| f.iter().find(|f| f["rule"] == "signature"))
                .map(|f| f["outcome"].as_str().unwrap_or("").to_string())
                .unwrap_or_default();
            (
                v["digest"].as_str().expect("digest").to_string(),
                v["decision"].as_str().expect("decision").to_string(),
                sig,
            )
        })
        .collect();
    rows.sort();
    rows
}

/// The verdict row of the artifact the prod tag names.
fn prod_row(j: &serde_json::Value) -> &serde_json::Value {
    j["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .find(|v| {
            v["artifact"]
                .as_str()
                .is_some_and(|a| a.split([':', ',']).any(|t| t == "prod"))
        })
        .expect("a row for the prod tag")
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_warm_gate_reuses_the_disk_cache_and_still_sees_changed_evidence() {
    let reg = Registry::start();
    let rt = runtime();
    let s = store(&reg);
    rt.block_on(provost::demo::seed(&s, demo_keys()))
        .expect("seed");
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    let demo_key = demo_keys().release.clone();
    let key = provost::verify::keys::public_pem(&demo_key).expect("pem");
    std::fs::write(h.join("demo.pub"), key).expect("pub");
    std::fs::write(h.join("policy.toml"), provost::policy::DEMO_POLICY).expect("policy");
    std::fs::write(
        h.join("provost.toml"),
        format!(
            "demo = false\n[[registry]]\nname = \"reg\"\nhost = \"{}\"\ninsecure = true\n[[environment]]\nname = \"dev\"\ntier = \"warn\"\nsource = \"reg\"\n[[environment]]\nname = \"staging\"\ntier = \"conditional\"\nsource = \"reg\"\n[[environment]]\nname = \"prod\"\ntier = \"required\"\nsource = \"reg\"\n[[trust.key]]\nname = \"acme\"\npath = \"demo.pub\"\n",
            reg.host
        ),
    )
    .expect("config");
    let g = Gate {
        home: h,
        host: reg.host.clone(),
    };

    // Cold, then warm: the same verdicts for far fewer requests.
    let (code, cold, cold_requests) = g.all("acme/api", &[]);
    assert_eq!(code, 3, "1.5.0-rc.1 and 1.4.2 block in prod");
    assert!(cold.len() >= 3, "{cold:?}");
    let (code, warm, warm_requests) = g.all("acme/api", &[]);
    assert_eq!(code, 3);
    assert_eq!(warm, cold, "a warm run judges exactly as a cold one");
    assert!(
        warm_requests * 4 < cold_requests,
        "warm {warm_requests} requests vs cold {cold_requests}"
    );
    let uncached = g.all("acme/api", &["--no-cache"]);
    assert_eq!(uncached.1, cold);
    assert!(
        uncached.2 >= cold_requests,
        "--no-cache asks for everything"
    );

    // Evidence added since the last run (the unsigned release candidate gets signed) is seen at
    // once, inside the time-to-live: the live tag list names the new .sig tag.
    let rc = rt
        .block_on(s.resolve("acme/api", "1.5.0-rc.1"))
        .expect("rc");
    let unsigned = cold.iter().find(|r| r.0 == rc).expect("rc row");
    assert_eq!(unsigned.2, "missing", "{unsigned:?}");
    rt.block_on(provost::release::sign::sign_image(
        &s,
        "acme/api",
        &rc,
        &format!("{}/acme/api", reg.host),
        &demo_key,
    ))
    .expect("sign");
    let (_, after, _) = g.all("acme/api", &[]);
    let signed = after.iter().find(|r| r.0 == rc).expect("rc row");
    assert_eq!(signed.2, "pass", "the new signature is seen: {signed:?}");

    // And removed evidence too: delete the signature manifest of another digest.
    let victim = cold
        .iter()
        .find(|r| r.2 == "pass" && r.0 != rc)
        .expect("a signed digest")
        .0
        .clone();
    let sig = rt
        .block_on(s.get_manifest(
            "acme/api",
            &format!("sha256-{}.sig", victim.trim_start_matches("sha256:")),
        ))
        .expect("sig");
    rt.block_on(s.delete_manifest("acme/api", &sig.digest))
        .expect("delete");
    let (_, after, _) = g.all("acme/api", &[]);
    let gone = after.iter().find(|r| r.0 == victim).expect("row");
    assert_eq!(gone.2, "missing", "a deleted signature is seen: {gone:?}");
    assert_eq!(gone.1, "block");

    // Damaged cache files are never believed: change every quote in the cached JSON manifests
    // and blobs (the pack headers hold none); the next run fetches again and judges the same.
    let cached = files_under(&h.join("cache"));
    let mut damaged = 0;
    for p in cached
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".pack"))
    {
        let b: Vec<u8> = std::fs::read(p)
            .expect("read")
            .into_iter()
            .map(|c| {
                if c == b'"' {
                    damaged += 1;
                    b'\''
                } else {
                    c
                }
            })
            .collect();
        std::fs::write(p, b).expect("write");
    }
    assert!(damaged > 100, "the cache holds content ({damaged} quotes)");
    let (_, repaired, requests) = g.all("acme/api", &[]);
    assert_eq!(repaired, after, "damaged cache content changed a verdict");
    assert!(
        requests > warm_requests,
        "damaged entries were fetched again"
    );

    // A tag moved to other content: `--cache-ttl 0` (like --no-cache) sees it at once.
    let other = rt.block_on(s.resolve("acme/api", "1.4.2")).expect("1.4.2");
    let m = rt.block_on(s.get_manifest("acme/api", &other)).expect("m");
    rt.block_on(s.put_manifest("acme/api", Some("prod"), &m.media_type, &m.bytes))
        .expect("move prod");
    let (_, j, _) = g.run("acme/api", &["--cache-ttl", "0"]);
    let moved = rows_of(&j);
    let prod = prod_row(&j);
    assert_eq!(prod["digest"], other.as_str(), "prod now names 1.4.2");
    assert_eq!(moved.len(), after.len(), "the same digests, one tag moved");

    // An edited pointer file is never believed: point every cached tag at the unsigned
    // release candidate's digest (as someone with write access to the cache could). Its MAC no
    // longer checks out, so the next run asks the registry, and every row names the digest the
    // registry names.
    let (_, before, _) = g.run("acme/api", &[]);
    let mut edited = 0;
    for p in files_under(&h.join("cache"))
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".json"))
    {
        let text = std::fs::read_to_string(p).expect("pointer file");
        let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
        let body = v["body"]
            .as_str()
            .expect("an authenticated body")
            .to_string();
        let mut inner: serde_json::Value = serde_json::from_str(&body).expect("body");
        if let Some(tags) = inner["tags"].as_object_mut() {
            for (_, ptr) in tags.iter_mut() {
                ptr["digest"] = serde_json::Value::String(rc.clone());
                edited += 1;
            }
        }
        v["body"] = serde_json::Value::String(inner.to_string());
        std::fs::write(p, v.to_string()).expect("edit");
    }
    assert!(edited > 0, "pointer files were cached");
    let (_, after_edit, _) = g.run("acme/api", &[]);
    assert_eq!(
        rows_of(&after_edit),
        rows_of(&before),
        "an edited pointer changed a verdict"
    );

    // A tag moved inside the time-to-live is judged at once when a required tier is gated:
    // prod now names the release candidate, and the row for the prod tag judges that digest
    // (with the old pointer reused, prod would pass what it no longer holds).
    let m = rt.block_on(s.get_manifest("acme/api", &rc)).expect("rc");
    rt.block_on(s.put_manifest("acme/api", Some("prod"), &m.media_type, &m.bytes))
        .expect("move prod");
    let (_, j, _) = g.run("acme/api", &[]);
    let prod = prod_row(&j);
    assert_eq!(prod["digest"], rc.as_str(), "prod now names the rc");

    // And on every other tier too, so `gate --all` never judges a digest the console (which
    // resolves tags live) no longer shows: warm both, move the tag inside the time-to-live, and
    // the next run judges the digest the registry names.
    for env in ["dev", "staging"] {
        let (_, before, _) = g.run_in(env, "acme/api", &[]);
        let was = prod_row(&before)["digest"].clone();
        let to = if was == rc.as_str() { &other } else { &rc };
        let m = rt.block_on(s.get_manifest("acme/api", to)).expect("target");
        rt.block_on(s.put_manifest("acme/api", Some("prod"), &m.media_type, &m.bytes))
            .expect("move prod");
        let (_, j, _) = g.run_in(env, "acme/api", &[]);
        assert_eq!(
            prod_row(&j)["digest"],
            to.as_str(),
            "{env}: the moved tag is judged for the digest it names now"
        );
    }
}
