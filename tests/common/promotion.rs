//! The promotion tests' world: a source registry seeded with the demo landscape, a
//! destination behind htpasswd, and a home whose provost.toml routes dev → staging (source),
//! staging → prod (destination, `prod/{name}`) and dev → qa (source, `qa/{name}`).

use super::{demo_keys, provost, runtime, skopeo, stderr, stdout, store, Registry};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use provost::oci::Store;
use std::path::Path;
use std::process::Output;

pub const USER: &str = "promoter";
pub const PASS: &str = "s3cret-pass";

/// The source registry, seeded once with the demo landscape.
pub struct Source {
    pub reg: Registry,
}

pub fn source() -> Source {
    let reg = Registry::start();
    runtime()
        .block_on(provost::demo::seed(&store(&reg), demo_keys()))
        .expect("seed");
    Source { reg }
}

/// A destination registry with auth, and a home whose provost.toml routes prod there.
pub struct World {
    pub dst: Registry,
    pub home: tempfile::TempDir,
}

pub fn world(src: &Source) -> World {
    let dst = Registry::start_with("", Some((USER, PASS)));
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    let keys = demo_keys();
    let write = |name: &str, key: &p256::ecdsa::SigningKey| {
        let pem = key.to_pkcs8_pem(LineEnding::LF).expect("pem");
        std::fs::write(h.join(format!("{name}.key")), pem.as_bytes()).expect("key");
        std::fs::write(
            h.join(format!("{name}.pub")),
            provost::verify::keys::public_pem(key).expect("pub"),
        )
        .expect("pub");
    };
    write("acme-release", &keys.release);
    for (n, k) in &keys.people {
        write(n, k);
    }
    // The demo policy, and release managers may promote into qa.
    let policy = format!(
        "{}\n[[access]]\nenvironment = \"qa\"\npromote = \"release-managers\"\n",
        provost::policy::DEMO_POLICY
    );
    std::fs::write(h.join("policy.toml"), policy).expect("policy");
    let mut cfg = format!(
        "demo = false\npolicy = \"policy.toml\"\n\
         [[registry]]\nname = \"src\"\nhost = \"{}\"\ninsecure = true\n\
         [[registry]]\nname = \"dst\"\nhost = \"{}\"\ninsecure = true\n\
         [[environment]]\nname = \"dev\"\ntier = \"warn\"\nsource = \"src\"\ntag = \"dev\"\n\
         [[environment]]\nname = \"staging\"\ntier = \"conditional\"\nsource = \"src\"\ntag = \"staging\"\npromotes_from = \"dev\"\n\
         [[environment]]\nname = \"prod\"\ntier = \"required\"\nsource = \"dst\"\nrepository = \"prod/{{name}}\"\ntag = \"prod\"\npromotes_from = \"staging\"\n\
         [[environment]]\nname = \"qa\"\ntier = \"warn\"\nsource = \"src\"\nrepository = \"qa/{{name}}\"\ntag = \"qa\"\npromotes_from = \"dev\"\n",
        src.reg.host, dst.host
    );
    for n in ["acme-release", "alice", "bob", "carol"] {
        cfg.push_str(&format!(
            "[[trust.key]]\nname = \"{n}\"\npath = \"{n}.pub\"\n"
        ));
    }
    std::fs::write(h.join("provost.toml"), cfg).expect("config");
    let auth = base64_basic(USER, PASS);
    std::fs::create_dir_all(h.join(".docker")).expect("docker dir");
    std::fs::write(
        h.join(".docker/config.json"),
        serde_json::json!({"auths": {dst.host.clone(): {"auth": auth}}}).to_string(),
    )
    .expect("docker config");
    World { dst, home }
}

fn base64_basic(user: &str, pass: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
}

impl World {
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, None)
    }

    pub fn run_env(&self, args: &[&str], failpoint: Option<&str>) -> Output {
        let h = self.home.path();
        let mut all = vec!["--config", h.join("provost.toml").to_str().expect("utf8")]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        all.extend(args.iter().map(|s| s.to_string()));
        let mut c = provost();
        super::hermetic(c.args(&all).current_dir(h), h);
        match failpoint {
            Some(f) => c.env("PROVOST_FAILPOINT", f),
            None => c.env_remove("PROVOST_FAILPOINT"),
        };
        c.output().expect("run provost")
    }

    pub fn dst_store(&self) -> provost::oci::remote::RemoteStore {
        provost::oci::remote::RemoteStore::with_credential(
            &self.dst.host,
            true,
            std::time::Duration::from_secs(10),
            Ok(provost::oci::auth::Credential::Basic {
                username: USER.into(),
                password: zeroize::Zeroizing::new(PASS.into()),
            }),
        )
        .expect("store")
    }

    pub fn prod_tag(&self) -> Option<String> {
        runtime()
            .block_on(self.dst_store().resolve("prod/acme/api", "prod"))
            .ok()
    }

    /// The promotion records on the ledger's prod chain, as `audit log --json` lists them.
    pub fn promotions(&self) -> Vec<serde_json::Value> {
        let out = self.run(&["audit", "log", "prod", "--json"]);
        if !out.status.success() {
            return vec![];
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v["entries"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["record"]["kind"] == "promotion")
            .collect()
    }
}

pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

/// The JSON a command printed (a panic with its output when it is not JSON).
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", stdout(o), stderr(o)))
}

/// `provost attest REF` with a SLSA v1 provenance predicate file, signed by `key`; it must
/// succeed.
pub fn attest_provenance(w: &World, reference: &str, predicate: &Path, key: &Path) {
    ok(&w.run(&[
        "attest",
        reference,
        "--predicate",
        predicate.to_str().expect("utf8"),
        "--type",
        "https://slsa.dev/provenance/v1",
        "--key",
        key.to_str().expect("utf8"),
    ]));
}

pub fn skopeo_digest(reference: &str, creds: Option<&str>) -> String {
    let mut args = vec!["inspect", "--tls-verify=false", "--raw"];
    if let Some(c) = creds {
        args.push("--creds");
        args.push(c);
    }
    args.push(reference);
    let out = skopeo(&args);
    assert!(out.status.success(), "skopeo: {}", stderr(&out));
    provost::oci::digest::sha256(&out.stdout)
}

/// Puts `digest` of acme/api into staging by a push (skopeo, as a build pipeline would), so it
/// is on the path to prod.
pub fn stage(src: &Source, digest: &str) {
    let out = skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &format!("docker://{}/acme/api@{digest}", src.reg.host),
        &format!("docker://{}/acme/api:staging", src.reg.host),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The digest acme/api's prod tag names in the source, pushed into staging first (`stage`):
/// what `promote_args` promotes.
pub fn staged_prod_digest(src: &Source) -> String {
    let d = runtime()
        .block_on(store(&src.reg).resolve("acme/api", "prod"))
        .expect("digest");
    stage(src, &d);
    d
}

pub fn promote_args(key: &str) -> Vec<String> {
    [
        "promote",
        "src/acme/api:prod",
        "--to",
        "prod",
        "--key",
        key,
        "--reason",
        "release 1.4.1",
        "--yes",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}
