//! Bearer-token auth against a real registry: `docker-registry` configured for the distribution
//! token protocol, with a token server (`tests/interop/token_server.py`) that signs JWTs the
//! registry checks against its rootcertbundle. skopeo pushes and reads through the same flow.

mod common;

use base64::Engine as _;
use common::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

struct TokenServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl TokenServer {
    fn start(user: &str, pass: &str) -> TokenServer {
        let dir = tempfile::tempdir().expect("dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/token_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path().join("cert.pem"))
            .args([user, pass])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the token server did not start: {line:?}"));
        TokenServer { child, port, dir }
    }

    /// The scopes asked for so far, with whether the credentials were good.
    fn requests(&self) -> Vec<(String, bool)> {
        std::fs::read_to_string(self.dir.path().join("cert.pem.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| {
                (
                    v["scope"][0].as_str().unwrap_or("").to_string(),
                    v["authorized"].as_bool().unwrap_or(false),
                )
            })
            .collect()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn bearer_tokens_from_a_token_server_let_provost_read_push_and_sign() {
    let tokens = TokenServer::start("alice", "t0ken-pass");
    let reg = Registry::start_with(
        &format!(
            "auth: {{token: {{realm: \"http://127.0.0.1:{}/token\", service: provost-test, issuer: provost-test-issuer, rootcertbundle: {}}}}}",
            tokens.port,
            tokens.dir.path().join("cert.pem").display()
        ),
        None,
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = demo_layout(tmp.path());
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        "alice:t0ken-pass",
        &format!("oci:{}:acme/api:prod", layout.display()),
        &format!("docker://{}/acme/api:prod", reg.host),
    ]);

    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    std::fs::create_dir_all(h.join(".docker")).expect("mkdir");
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:t0ken-pass");
    std::fs::write(
        h.join(".docker/config.json"),
        serde_json::json!({"auths": {reg.host.clone(): {"auth": auth}}}).to_string(),
    )
    .expect("docker config");
    let p = |args: &[&str]| {
        let mut all = vec!["--insecure-registry", reg.host.as_str()];
        all.extend_from_slice(args);
        run_provost(h, &all)
    };

    let out = p(&["ls", &reg.host]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("acme/api"), "{}", stdout(&out));
    let out = p(&["inspect", &format!("{}/acme/api:prod", reg.host), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let digest = serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")["digest"]
        .as_str()
        .expect("digest")
        .to_string();
    let asked = tokens.requests();
    assert!(
        asked.iter().any(|(s, ok)| s == "registry:catalog:*" && *ok),
        "{asked:?}"
    );
    assert!(
        asked
            .iter()
            .any(|(s, ok)| s == "repository:acme/api:pull" && *ok),
        "{asked:?}"
    );

    // Push through the token flow: a signature, then read back by skopeo and verified.
    let key = demo_keys().release.clone();
    std::fs::write(
        h.join("k.key"),
        provost::verify::keys::encrypt_cosign(&key, "pw").expect("key"),
    )
    .expect("key");
    std::fs::write(
        h.join("k.pub"),
        provost::verify::keys::public_pem(&key).expect("pub"),
    )
    .expect("pub");
    let out = provost()
        .args(["--insecure-registry", &reg.host, "sign"])
        .arg(format!("{}/acme/api:prod", reg.host))
        .arg("--key")
        .arg(h.join("k.key"))
        .env("HOME", h)
        .env("PROVOST_PASSWORD", "pw")
        .output()
        .expect("sign");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        tokens
            .requests()
            .iter()
            .any(|(s, ok)| s == "repository:acme/api:pull,push" && *ok),
        "{:?}",
        tokens.requests()
    );
    let sig_tag = format!("sha256-{}.sig", digest.trim_start_matches("sha256:"));
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        "alice:t0ken-pass",
        &format!("docker://{}/acme/api:{sig_tag}", reg.host),
    ]);
    assert!(String::from_utf8_lossy(&raw.stdout).contains("dev.cosignproject.cosign/signature"));
    let out = p(&[
        "verify",
        &format!("{}/acme/api:prod", reg.host),
        "--key",
        h.join("k.pub").to_str().expect("utf8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Without credentials the token server refuses, and provost says so (exit 1), never
    // printing a secret.
    let bare = tempfile::tempdir().expect("bare");
    let out = run_provost(
        bare.path(),
        &[
            "--insecure-registry",
            &reg.host,
            "ls",
            &format!("{}/acme/api", reg.host),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("denied access"), "{}", stderr(&out));
    // Wrong credentials: the same, and the password is not echoed.
    let wrong = base64::engine::general_purpose::STANDARD.encode("alice:not-the-pass");
    std::fs::create_dir_all(bare.path().join(".docker")).expect("mkdir");
    std::fs::write(
        bare.path().join(".docker/config.json"),
        serde_json::json!({"auths": {reg.host.clone(): {"auth": wrong}}}).to_string(),
    )
    .expect("config");
    let out = run_provost(
        bare.path(),
        &[
            "--insecure-registry",
            &reg.host,
            "ls",
            &format!("{}/acme/api", reg.host),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        !all.contains("not-the-pass") && !all.contains(&wrong),
        "{all}"
    );
}
