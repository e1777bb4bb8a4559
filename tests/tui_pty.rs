//! End to end: the real binary in a pseudo-terminal (tmux), driven by keys, read off the screen.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    session: String,
}

impl Tmux {
    fn start(cmd: &str, home: &std::path::Path) -> Tmux {
        let session = format!("provost-e2e-{}", std::process::id());
        let status = Command::new("tmux")
            .args([
                "-L",
                &session,
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                "100",
                "-y",
                "30",
            ])
            .arg(format!("env HOME={} NO_COLOR=1 {cmd}", home.display()))
            .status()
            .expect("tmux is installed (scripts/test.sh installs it)");
        assert!(status.success());
        Tmux { session }
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let ok = Command::new("tmux")
                .args(["-L", &self.session, "send-keys", "-t", &self.session, k])
                .status()
                .expect("send-keys");
            assert!(ok.success());
            std::thread::sleep(Duration::from_millis(120));
        }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args([
                "-L",
                &self.session,
                "capture-pane",
                "-p",
                "-t",
                &self.session,
            ])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "{text:?} never appeared; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["-L", &self.session, "has-session", "-t", &self.session])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.session, "kill-server"])
            .status();
    }
}

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
