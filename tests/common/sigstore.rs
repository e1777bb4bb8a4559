//! The loopback Sigstore instance the interop tests sign and verify against
//! (`tests/interop/sigstore/server.js`: Fulcio, CT log, Rekor v1 and a timestamp authority from
//! npm `@sigstore/mock`, served over HTTP on 127.0.0.1 with the trusted root it generates), an
//! identity token for it, and a way to run the independent tools.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const ISSUER: &str = "https://token.actions.githubusercontent.com";
pub const IDENTITY: &str =
    "https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1.4.2";

pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/sigstore")
}

/// The loopback Sigstore instance; killed on drop.
pub struct Sigstore {
    child: Child,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl Sigstore {
    pub fn start() -> Sigstore {
        let modules = interop_dir().join("node_modules/@sigstore/mock");
        assert!(
            modules.exists(),
            "{} is missing: run scripts/test.sh (it runs npm ci in tests/interop/sigstore)",
            modules.display()
        );
        let dir = tempfile::tempdir().expect("dir");
        let mut child = Command::new("node")
            .arg(interop_dir().join("server.js"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node is installed");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        let url = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("the mock did not start: {line:?}"))
            .to_string();
        Sigstore { child, url, dir }
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Sigstore {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An OIDC identity token for the mock (it reads the claims; it does not check the signature).
pub fn identity_token(sub: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import jwt, sys, time; n = int(time.time()); print(jwt.encode({'iss': sys.argv[2], \
             'sub': sys.argv[1], 'aud': 'sigstore', 'iat': n, 'nbf': n, 'exp': n + 600}, \
             'unchecked-by-the-mock', algorithm='HS256'))",
            sub,
            ISSUER,
        ])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}
