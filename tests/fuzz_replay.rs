//! Replays what fuzzing found through the same entry points the fuzz targets call
//! (`provost::fuzzing`): every committed input under `fuzz/regressions/<target>/` (crashes
//! found and fixed) and `fuzz/seeds/<target>/`, plus the third-party fixtures as inputs to every
//! target. Each must return without panicking.

use std::path::Path;

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn committed_fuzz_inputs_and_fixtures_replay_without_panics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures: Vec<Vec<u8>> = files(&root.join("tests/fixtures"))
        .iter()
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() < 1 << 20))
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    assert!(fixtures.len() > 50, "the fixtures are there");
    let mut replayed = 0;
    for (name, target) in provost::fuzzing::TARGETS {
        for dir in ["fuzz/regressions", "fuzz/seeds"] {
            for p in files(&root.join(dir).join(name)) {
                let data = std::fs::read(&p).expect("input");
                target(&data);
                replayed += 1;
            }
        }
        for data in &fixtures {
            target(data);
            replayed += 1;
        }
    }
    assert!(replayed > provost::fuzzing::TARGETS.len() * 50);
}
