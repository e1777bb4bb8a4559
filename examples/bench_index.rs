//! The triage index at scale: 10,000 digests of synthetic facts (a builder of 20, a commit,
//! a signer of 5, 30 packages of 600 each with versions), then the time `Index::find` takes
//! for each kind of question (median of 21 runs), the time to open a sealed index, and the
//! time to check every row when the seal does not match. Target: every query under 100 ms.
#![allow(clippy::disallowed_macros)] // a test or benchmark prints its own fixed reports

use provost::index::facts::{Claims, DigestFacts, PackageFact, SignerFact};
use provost::index::{Criterion, Index, Query};
use std::time::Instant;

fn facts(i: usize) -> DigestFacts {
    let mut rng = i as u64 * 0x9E37_79B9_7F4A_7C15 + 1;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let packages = (0..30)
        .map(|_| {
            let p = next() % 600;
            let minor = next() % 40;
            PackageFact {
                name: format!("github.com/org{}/pkg{p}", p % 37),
                version: Some(format!("1.{minor}.{}", next() % 10)),
                purl: Some(format!(
                    "pkg:golang/github.com/org{}/pkg{p}@1.{minor}.0",
                    p % 37
                )),
            }
        })
        .collect();
    let verified = Claims {
        builders: vec![format!("https://ci.example/runner-{}", i % 20)],
        sources: vec![format!("github.com/acme/app{}", i % 100)],
        workflows: vec![".github/workflows/release.yml".into()],
        commits: vec![format!(
            "{:016x}{:016x}{:08x}",
            next(),
            next(),
            next() as u32
        )],
        predicates: vec![
            "https://slsa.dev/provenance/v1".into(),
            "https://spdx.dev/Document".into(),
        ],
        signers: vec![SignerFact {
            name: Some(format!("key{}", i % 5)),
            fingerprint: Some(format!("{:016x}{:048x}", i % 5, 0)),
            ..Default::default()
        }],
        packages,
        built: vec![format!(
            "2026-{:02}-{:02}T10:00:00Z",
            1 + i % 12,
            1 + i % 28
        )],
    };
    DigestFacts {
        source: "r".into(),
        repository: format!("bench/app{}", i % 100),
        digest: format!("sha256:{:064x}", i),
        created: None,
        verified,
        unverified: Claims::default(),
    }
}

fn median_ms(mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut times = vec![];
    let mut hits = 0;
    for _ in 0..21 {
        let s = Instant::now();
        hits = f();
        times.push(s.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    (times[10], hits)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("index.sqlite");
    let seal = dir.path().join("index.seal");
    let key = [7u8; 32];
    let mut index = Index::open(&path, &seal, key)?;
    let s = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let f: Vec<DigestFacts> = chunk.iter().map(|&i| facts(i)).collect();
        let tags: Vec<(Vec<String>, String)> = chunk
            .iter()
            .map(|i| (vec![format!("v{i}")], String::new()))
            .collect();
        index.put_many(&f, "bench", &tags)?;
    }
    println!(
        "filled {n} digests in {:.2} s ({} bytes)",
        s.elapsed().as_secs_f64(),
        std::fs::metadata(&path)?.len()
    );
    drop(index);
    if let Ok(to) = std::env::var("BENCH_INDEX_KEEP") {
        std::fs::copy(&path, to)?;
    }
    let s = Instant::now();
    let index = Index::open(&path, &seal, key)?;
    println!(
        "open (sealed): {:.1} ms",
        s.elapsed().as_secs_f64() * 1000.0
    );
    let q = |c: Vec<Criterion>| Query {
        criteria: c,
        sources: vec![],
    };
    let pkg = |s: &str| {
        Criterion::Package(
            s.into(),
            provost::index::query::parse_package(s).expect("range"),
        )
    };
    let commit = facts(4242).verified.commits[0][..10].to_string();
    let cases: Vec<(&str, Query)> = vec![
        (
            "builder (exact)",
            q(vec![Criterion::Builder(
                "https://ci.example/runner-7".into(),
            )]),
        ),
        (
            "builder (glob)",
            q(vec![Criterion::Builder(
                "https://ci.example/runner-1*".into(),
            )]),
        ),
        ("commit prefix", q(vec![Criterion::Commit(commit)])),
        ("signer", q(vec![Criterion::Signer("key3".into())])),
        (
            "package in a range",
            q(vec![pkg("github.com/org5/pkg42@>=1.10.0,<1.20.0")]),
        ),
        (
            "builder + package + built-after",
            q(vec![
                Criterion::Builder("https://ci.example/runner-1*".into()),
                pkg("github.com/org5/pkg42"),
                Criterion::BuiltAfter(provost::index::query::parse_time("2026-06-01")?),
            ]),
        ),
    ];
    let mut worst: f64 = 0.0;
    for (name, query) in &cases {
        let (ms, hits) = median_ms(|| index.find(query).map(|h| h.len()).unwrap_or(0));
        worst = worst.max(ms);
        println!("query {name:<34} {ms:>7.1} ms  {hits:>5} hits");
    }
    println!("slowest query: {worst:.1} ms over {n} digests (target < 100 ms)");
    drop(index);
    // Touch the file (its change time moves): the next open checks every row.
    let db = rusqlite::Connection::open(&path)?;
    db.execute_batch(
        "INSERT INTO meta VALUES ('bench', 'x'); DELETE FROM meta WHERE key = 'bench';",
    )?;
    drop(db);
    let s = Instant::now();
    let index = Index::open(&path, &seal, key)?;
    println!(
        "open after an outside write (every row and term checked): {:.0} ms; rebuilt: {:?}",
        s.elapsed().as_secs_f64() * 1000.0,
        index.rebuilt
    );
    Ok(())
}
