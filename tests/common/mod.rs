//! Test harness: a real CNCF distribution registry (Debian's `docker-registry`) on 127.0.0.1,
//! a free port and a temporary storage directory, stopped when dropped; plus helpers to run
//! the provost binary and skopeo.

#![allow(dead_code)]

pub mod faults;
pub mod ledger;
pub mod promotion;
pub mod records;
pub mod sigstore;
pub mod tmux;
pub mod tui;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Registry {
    child: Child,
    pub host: String,
    pub dir: tempfile::TempDir,
}

impl Registry {
    /// An anonymous registry.
    pub fn start() -> Registry {
        Self::start_with("", None)
    }

    /// A registry with extra top-level YAML and, optionally, htpasswd basic auth (user, password).
    pub fn start_with(extra_yaml: &str, basic_auth: Option<(&str, &str)>) -> Registry {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut yaml = format!(
            "version: 0.1\nlog: {{level: error}}\nstorage: {{filesystem: {{rootdirectory: {}}}, delete: {{enabled: true}}}}\nhttp: {{addr: {host}}}\n{extra_yaml}\n",
            dir.path().join("data").display()
        );
        if let Some((user, pass)) = basic_auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, pass])
                .output()
                .expect("htpasswd (apache2-utils) is installed");
            assert!(out.status.success(), "htpasswd failed");
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, &out.stdout).expect("write htpasswd");
            yaml.push_str(&format!(
                "auth: {{htpasswd: {{realm: provost-test, path: {}}}}}\n",
                file.display()
            ));
        }
        let cfg = dir.path().join("registry.yml");
        std::fs::write(&cfg, yaml).expect("write config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry is installed (scripts/test.sh installs it)");
        let reg = Registry { child, host, dir };
        reg.wait_ready();
        reg
    }

    /// A registry that implements the OCI 1.1 referrers API: ferro-oci-server (a Rust
    /// implementation installed by scripts/test.sh with `cargo install`), filesystem-backed.
    pub fn start_referrers_api() -> Registry {
        let dir = tempfile::tempdir().expect("tempdir");
        let host = format!("127.0.0.1:{}", free_port());
        let child = Command::new("ferro-oci-server")
            .env("FERRO_OCI_LISTEN", &host)
            .env("FERRO_OCI_STORAGE_DIR", dir.path().join("data"))
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ferro-oci-server is installed (scripts/test.sh installs it)");
        let reg = Registry { child, host, dir };
        reg.wait_ready();
        reg
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(mut s) = std::net::TcpStream::connect(&self.host) {
                use std::io::{Read, Write};
                let _ = s.write_all(
                    format!("GET /v2/ HTTP/1.0\r\nHost: {}\r\n\r\n", self.host).as_bytes(),
                );
                let mut buf = [0u8; 12];
                if s.read_exact(&mut buf).is_ok()
                    && (buf.ends_with(b"200") || buf.ends_with(b"401"))
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("registry on {} did not become ready", self.host);
    }

    /// The registry's storage path of a blob (to corrupt it).
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Freezes (true) or thaws (false) the registry process: a hung server.
    pub fn freeze(&self, frozen: bool) {
        let sig = if frozen { "-STOP" } else { "-CONT" };
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
    }

    /// Stops the registry (SIGKILL), as a crash would.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        self.stop();
    }
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The provost binary built for this test run.
pub fn provost() -> Command {
    Command::new(env!("CARGO_BIN_EXE_provost"))
}

/// Makes `c` hermetic: HOME is `home`, and nothing of the user's environment that provost or
/// its credential lookup reads leaks in (XDG directories, docker and containers auth files,
/// cosign and Sigstore settings, provost's own variables).
pub fn hermetic<'a>(c: &'a mut Command, home: &Path) -> &'a mut Command {
    for v in [
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_CACHE_HOME",
        "DOCKER_CONFIG",
        "REGISTRY_AUTH_FILE",
        "COSIGN_REPOSITORY",
        "COSIGN_PASSWORD",
        "SIGSTORE_ID_TOKEN",
        "PROVOST_CACHE_DIR",
        "PROVOST_FAILPOINT",
    ] {
        c.env_remove(v);
    }
    c.env("HOME", home).env("NO_COLOR", "1")
}

/// Runs provost hermetically (`hermetic`) with HOME pointed at `home`.
pub fn run_provost(home: &Path, args: &[&str]) -> Output {
    hermetic(provost().args(args), home)
        .output()
        .expect("run provost")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Runs skopeo with TLS verification off (the test registry is plain HTTP).
pub fn skopeo(args: &[&str]) -> Output {
    let out = Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo is installed (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "skopeo {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A fresh demo layout at `<tmp>/demo`, built by provost's own seeding code; its key is
/// recorded as trusted in the data directory `<tmp>/data` (see `demo_data`).
pub fn demo_layout(tmp: &Path) -> PathBuf {
    let dir = tmp.join("demo");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(provost::demo::reset(&dir, &demo_data(tmp)))
        .expect("seed demo");
    dir
}

/// The data directory `demo_layout(tmp)` records its trusted key in: the one provost uses
/// with HOME=`tmp` (so `run_provost(tmp, …)` trusts the store too).
pub fn demo_data(tmp: &Path) -> PathBuf {
    tmp.join(".local/share/provost")
}

/// The keys every test in this process seeds registries with (generated once, so a test can
/// trust the public key of what it seeded).
pub fn demo_keys() -> &'static provost::demo::keys::DemoKeys {
    static KEYS: std::sync::OnceLock<provost::demo::keys::DemoKeys> = std::sync::OnceLock::new();
    KEYS.get_or_init(provost::demo::keys::DemoKeys::generate)
}

/// A RemoteStore on the test registry: plain HTTP, anonymous.
pub fn store(reg: &Registry) -> provost::oci::remote::RemoteStore {
    provost::oci::remote::RemoteStore::with_credential(
        &reg.host,
        true,
        Duration::from_secs(20),
        Ok(provost::oci::auth::Credential::Anonymous),
    )
    .expect("store")
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A helper server from tests/interop (a Python script) on a free loopback port, killed when
/// dropped; `log` is the file it records requests in.
pub struct PyServer {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl PyServer {
    /// Starts `script` with `args`, where `{port}` and `{log}` are replaced; waits until the
    /// port accepts connections.
    pub fn start(dir: &Path, script: &str, args: &[&str]) -> PyServer {
        let port = free_port();
        let log = dir.join(format!("{script}-{port}.log"));
        std::fs::write(&log, "").expect("log");
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/interop")
            .join(script);
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                a.replace("{port}", &port.to_string())
                    .replace("{log}", log.to_str().expect("utf8"))
            })
            .collect();
        let child = Command::new("python3")
            .arg(path)
            .args(&args)
            .spawn()
            .expect("python3");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "{script} did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        PyServer { child, port, log }
    }

    /// The JSON lines it logged.
    pub fn logged(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .expect("log")
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An environment of the default store, for policy tests.
pub fn env(name: &str, tier: provost::config::Tier) -> provost::config::Environment {
    provost::config::Environment {
        name: name.into(),
        tier,
        source: "store".into(),
        repository: "*".into(),
        tag: name.into(),
        promotes_from: None,
    }
}

pub fn settings_for(store: &std::path::Path, data: &std::path::Path) -> provost::setup::Settings {
    let rt = runtime();
    let cfg = store.with_extension("toml");
    std::fs::write(&cfg, "").expect("config");
    rt.block_on(provost::setup::Settings::load(&provost::setup::Overrides {
        config: Some(cfg),
        store: Some(store.to_path_buf()),
        data_dir: Some(data.to_path_buf()),
        ..Default::default()
    }))
    .expect("settings")
}

/// A fresh demo store, its settings, source and gate.
pub struct Demo {
    pub tmp: tempfile::TempDir,
    pub dir: std::path::PathBuf,
    pub settings: provost::setup::Settings,
    pub source: provost::setup::NamedSource,
    pub gate: provost::gate::Gate,
}

pub fn demo() -> Demo {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_layout(tmp.path());
    let settings = settings_for(&dir, &demo_data(tmp.path()));
    let source = settings.sources[0].clone();
    let gate = settings.gate(&source, None).expect("gate");
    Demo {
        tmp,
        dir,
        settings,
        source,
        gate,
    }
}

/// The digest `repo:tag` names in `source`.
pub fn resolve(source: &provost::setup::NamedSource, repo: &str, tag: &str) -> String {
    runtime()
        .block_on(provost::oci::Store::resolve(
            source.store.as_ref(),
            repo,
            tag,
        ))
        .expect("resolve")
}

/// The demo release key, written as PKCS#8 PEM into `dir` (for `--key`).
pub fn release_key(dir: &Path) -> std::path::PathBuf {
    use p256::pkcs8::EncodePrivateKey;
    let key = dir.join("key.pem");
    std::fs::write(
        &key,
        demo_keys()
            .release
            .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .expect("pem")
            .as_bytes(),
    )
    .expect("key");
    key
}
