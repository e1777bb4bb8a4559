//! End to end: the real binary in a pseudo-terminal (tmux), driven by keys, read off the screen.

mod common;

use common::tmux::Tmux;
use std::time::{Duration, Instant};

#[test]
fn navigates_from_sources_to_one_digests_layers_by_keys() {
    let home = tempfile::tempdir().expect("home");
    let bin = env!("CARGO_BIN_EXE_provost");
    // No arguments and no config: the embedded demo store is created on first run.
    let t = Tmux::start(&format!("{bin}; sleep 5"), home.path());
    let s = t.wait_for("acme/worker");
    assert!(s.contains("Repositories (4)"), "{s}");
    // Down to acme/web, open it, pick the multi-platform 2.2.0, open its arm64 image.
    t.keys(&["j", "j", "Enter"]);
    t.wait_for("Tags of acme/web");
    t.wait_for("13.4 KiB");
    t.keys(&["j", "j", "Enter"]);
    t.wait_for("Platforms (2)");
    t.keys(&["j", "Enter"]);
    let s = t.wait_for("linux/arm64/v8");
    assert!(s.contains("platform of an index"), "{s}");
    t.keys(&["j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j"]);
    let s = t.wait_for("Layers (2)");
    assert!(s.contains("tar+gzip"), "{s}");
    // Help opens over everything and closes again; q quits and restores the terminal.
    t.keys(&["?"]);
    t.wait_for("Keys");
    t.keys(&["Escape", "q"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = t.screen();
        if !s.contains("Sources") || !t.alive() {
            break;
        }
        assert!(Instant::now() < deadline, "provost did not quit: {s}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(home
        .path()
        .join(".local/share/provost/demo/oci-layout")
        .is_file());
}
