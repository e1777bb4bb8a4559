//! The real binary in a pseudo-terminal: a private tmux server per session, keys sent with
//! send-keys, the screen read with capture-pane.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Tmux {
    session: String,
}

impl Tmux {
    /// Runs `cmd` (with HOME and NO_COLOR set) in a detached 100×30 session.
    pub fn start(cmd: &str, home: &std::path::Path) -> Tmux {
        static N: AtomicUsize = AtomicUsize::new(0);
        let session = format!(
            "provost-e2e-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
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

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            let ok = Command::new("tmux")
                .args(["-L", &self.session, "send-keys", "-t", &self.session, k])
                .status()
                .expect("send-keys");
            assert!(ok.success());
            std::thread::sleep(Duration::from_millis(120));
        }
    }

    pub fn screen(&self) -> String {
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

    pub fn wait_for(&self, text: &str) -> String {
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

    pub fn alive(&self) -> bool {
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
