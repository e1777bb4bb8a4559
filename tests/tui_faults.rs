//! The console over a faulty registry: the real binary in a pseudo-terminal (tmux), the real
//! registry behind the fault proxy. While a request drips or hangs the console keeps answering
//! keys; a load that fails says so with its retry key, and `r` retries it.

mod common;

use common::faults::{faults, proxy};
use common::tmux::Tmux;
use common::*;
use std::time::{Duration, Instant};

/// Starts the console on a config naming only `host` (a proxy), with 2 s request timeouts.
fn console(home: &std::path::Path, host: &str) -> Tmux {
    let dir = home.join(".config/provost");
    std::fs::create_dir_all(&dir).expect("config dir");
    std::fs::write(
        dir.join("provost.toml"),
        format!(
            "demo = false\ntimeout_secs = 2\n[[registry]]\nname = \"faulty\"\nhost = \"{host}\"\ninsecure = true\n"
        ),
    )
    .expect("config");
    let bin = env!("CARGO_BIN_EXE_provost");
    Tmux::start(&format!("{bin}; sleep 30"), home)
}

#[test]
fn a_dripping_registry_leaves_the_console_answering_keys_and_r_retries() {
    let reg = Registry::start();
    runtime()
        .block_on(provost::demo::seed(&store(&reg), demo_keys()))
        .expect("seed");
    let tmp = tempfile::tempdir().expect("tmp");
    // The first tag listing drips one byte a second (a 2 s job timeout ends it); the retry
    // passes through.
    let p = proxy(tmp.path(), &reg.host, "drip", "/tags/list", 1);
    let home = tempfile::tempdir().expect("home");
    let t = console(home.path(), &p.host);
    t.wait_for("faulty");
    t.keys(&["Enter"]);
    t.wait_for("acme/api");
    t.keys(&["Enter"]);
    // While the listing drips, keys are answered at once: help opens and closes.
    let asked = Instant::now();
    t.keys(&["?"]);
    let s = t.wait_for("Keys");
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "help took {:?} while a load hung:\n{s}",
        asked.elapsed()
    );
    t.keys(&["Escape"]);
    let s = t.wait_for("press r to retry");
    assert!(s.contains("timed out after 2 s"), "{s}");
    assert_eq!(faults(&p), 1, "the listing got the fault");
    // r retries; the registry answers this time and the tags appear.
    t.keys(&["r"]);
    let s = t.wait_for("prod");
    assert!(!s.contains("press r to retry"), "{s}");
    assert!(t.alive(), "the console is still running");
}

#[test]
fn a_reset_manifest_read_fails_the_pane_not_the_console() {
    let reg = Registry::start();
    runtime()
        .block_on(provost::demo::seed(&store(&reg), demo_keys()))
        .expect("seed");
    let tmp = tempfile::tempdir().expect("tmp");
    // Every manifest read is cut mid-body: tag summaries and the artifact cannot load.
    let p = proxy(tmp.path(), &reg.host, "reset", "/manifests/", 0);
    let home = tempfile::tempdir().expect("home");
    let t = console(home.path(), &p.host);
    t.wait_for("faulty");
    t.keys(&["Enter"]);
    t.wait_for("acme/api");
    t.keys(&["Enter"]);
    t.wait_for("Tags of acme/api");
    t.keys(&["Enter"]);
    let s = t.wait_for("press r to retry");
    assert!(!s.contains("panicked"), "{s}");
    assert!(s.contains("broke off its answer"), "{s}");
    // Still answering: move back to the repositories and open another.
    t.keys(&["Escape", "Escape", "j", "Enter"]);
    let s = t.wait_for("Tags of acme/billing");
    assert!(t.alive(), "the console is still running:\n{s}");
    assert!(faults(&p) > 0);
}
