//! Replays what fuzzing found through the same entry points the fuzz targets call
//! (`provost::fuzzing`): every committed input under `fuzz/regressions/<target>/` (crashes
//! found and fixed) and in `fuzz/seeds/<target>.b64` (the minimized corpus of the last long
//! run, one base64 input per line), plus the third-party fixtures as inputs to every target.
//! Each must return without panicking.

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
        let mut seeds = 0;
        for p in files(&root.join("fuzz/regressions").join(name)) {
            let data = std::fs::read(&p).expect("input");
            target(&data);
            replayed += 1;
        }
        // The committed corpus: one base64 input per line (scripts/fuzz-seeds.sh).
        let packed = root.join("fuzz/seeds").join(format!("{name}.b64"));
        if let Ok(text) = std::fs::read_to_string(&packed) {
            for line in text.lines() {
                use base64::Engine as _;
                let data = base64::engine::general_purpose::STANDARD
                    .decode(line)
                    .unwrap_or_else(|e| panic!("{}: {e}", packed.display()));
                target(&data);
                replayed += 1;
                seeds += 1;
            }
        }
        // Every target has a committed corpus, and it is replayed.
        assert!(seeds >= 20, "{name}: {seeds} committed corpus inputs");
        for data in &fixtures {
            target(data);
            replayed += 1;
        }
    }
    assert!(replayed > provost::fuzzing::TARGETS.len() * 50);
}
