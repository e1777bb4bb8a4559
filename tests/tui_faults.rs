//! The console over a faulty registry: the real binary in a pseudo-terminal (tmux), the real
//! registry behind the fault proxy. While a request drips or hangs the console keeps answering
//! keys; a load that fails says so with its retry key, and `r` retries it.

mod common;

use common::faults::{faults, proxy, Proxy};
use common::tmux::Tmux;
use common::*;
use std::time::{Duration, Instant};

/// The demo landscape in a real registry behind the fault proxy (`mode` on requests whose
/// path contains `path`, the first `count` of them or all with 0), and the console over it,
/// opened on acme/api. The registry, proxy and directories live as long as what is returned.
struct Scene {
    t: Tmux,
    p: Proxy,
    _reg: Registry,
    _dirs: [tempfile::TempDir; 2],
}

fn scene(mode: &str, path: &str, count: u32) -> Scene {
    let reg = Registry::start();
    runtime()
        .block_on(provost::demo::seed(&store(&reg), demo_keys()))
        .expect("seed");
    let tmp = tempfile::tempdir().expect("tmp");
    let p = proxy(tmp.path(), &reg.host, mode, path, count);
    let home = tempfile::tempdir().expect("home");
    let dir = home.path().join(".config/provost");
    std::fs::create_dir_all(&dir).expect("config dir");
    std::fs::write(
        dir.join("provost.toml"),
        format!(
            "demo = false\ntimeout_secs = 2\n[[registry]]\nname = \"faulty\"\nhost = \"{}\"\ninsecure = true\n",
            p.host
        ),
    )
    .expect("config");
    let bin = env!("CARGO_BIN_EXE_provost");
    let t = Tmux::start(&format!("{bin}; sleep 30"), home.path());
    t.wait_for("faulty");
    t.keys(&["Enter"]);
    t.wait_for("acme/api");
    t.keys(&["Enter"]);
    Scene {
        t,
        p,
        _reg: reg,
        _dirs: [tmp, home],
    }
}

#[test]
fn a_dripping_registry_leaves_the_console_answering_keys_and_r_retries() {
    // The first tag listing drips one byte a second (a 2 s job timeout ends it); the retry
    // passes through.
    let Scene { t, p, .. } = &scene("drip", "/tags/list", 1);
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
    assert_eq!(faults(p), 1, "the listing got the fault");
    // r retries; the registry answers this time and the tags appear.
    t.keys(&["r"]);
    let s = t.wait_for("prod");
    assert!(!s.contains("press r to retry"), "{s}");
    assert!(t.alive(), "the console is still running");
}

#[test]
fn a_reset_manifest_read_fails_the_pane_not_the_console() {
    // Every manifest read is cut mid-body: tag summaries and the artifact cannot load.
    let Scene { t, p, .. } = &scene("reset", "/manifests/", 0);
    t.wait_for("Tags of acme/api");
    t.keys(&["Enter"]);
    let s = t.wait_for("press r to retry");
    assert!(!s.contains("panicked"), "{s}");
    assert!(s.contains("broke off its answer"), "{s}");
    // Still answering: move back to the repositories and open another.
    t.keys(&["Escape", "Escape", "j", "Enter"]);
    let s = t.wait_for("Tags of acme/billing");
    assert!(t.alive(), "the console is still running:\n{s}");
    assert!(faults(p) > 0);
}
