//! Release records on a real registry: approvals, rejections and quarantines made with the CLI
//! change the verdicts the gate gives; records nobody trusted, or nobody in the right group,
//! signed count for nothing; and every tampering of the audit chain is detected.

mod common;

use common::records::*;
use common::*;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use provost::oci::Store;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A registry seeded with the demo landscape (and its records), and a home whose provost.toml
/// trusts the demo's keys by name, with `mallory` trusted but in no group.
struct World {
    reg: Registry,
    home: tempfile::TempDir,
    mallory: p256::ecdsa::SigningKey,
}

const POLICY_EXTRA: &str = r#"
[[rule]]
name = "staging-approval"
kind = "approvals"
count = 1
environments = ["staging"]
"#;

fn write_key(dir: &Path, name: &str, key: &p256::ecdsa::SigningKey) -> PathBuf {
    let p = dir.join(format!("{name}.key"));
    let pem = key.to_pkcs8_pem(LineEnding::LF).expect("pem");
    std::fs::write(&p, pem.as_bytes()).expect("key");
    std::fs::write(
        dir.join(format!("{name}.pub")),
        provost::verify::keys::public_pem(key).expect("pub"),
    )
    .expect("pub");
    p
}

fn world() -> World {
    let reg = Registry::start();
    let rt = runtime();
    rt.block_on(provost::demo::seed(&store(&reg), demo_keys()))
        .expect("seed");
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    let keys = demo_keys();
    let mallory = provost::verify::keys::generate();
    write_key(h, "release", &keys.release);
    for (n, k) in &keys.people {
        write_key(h, n, k);
    }
    write_key(h, "mallory", &mallory);
    // The demo policy, with the release key also a release manager (it signs the images, so
    // separation of duties must keep it from approving them) and one approval for staging.
    let policy = provost::policy::DEMO_POLICY.replace(
        "[[group.member]]\nkey = \"bob\"",
        "[[group.member]]\nkey = \"bob\"\n[[group.member]]\nkey = \"acme-release\"",
    ) + POLICY_EXTRA;
    std::fs::write(h.join("policy.toml"), policy).expect("policy");
    let mut cfg = format!(
        "policy = \"policy.toml\"\ndemo = false\n[[registry]]\nname = \"reg\"\nhost = \"{}\"\ninsecure = true\n",
        reg.host
    );
    for (env, tier) in [
        ("dev", "warn"),
        ("staging", "conditional"),
        ("prod", "required"),
    ] {
        cfg.push_str(&format!(
            "[[environment]]\nname = \"{env}\"\ntier = \"{tier}\"\nsource = \"reg\"\ntag = \"{env}\"\n"
        ));
    }
    for n in ["acme-release", "alice", "bob", "carol", "mallory"] {
        let file = if n == "acme-release" { "release" } else { n };
        cfg.push_str(&format!(
            "[[trust.key]]\nname = \"{n}\"\npath = \"{file}.pub\"\n"
        ));
    }
    std::fs::write(h.join("provost.toml"), cfg).expect("config");
    World { reg, home, mallory }
}

impl World {
    fn run(&self, args: &[&str]) -> Output {
        self.run_at(args, None)
    }

    /// Runs with `PROVOST_FAILPOINT` set: the process dies at that step.
    fn run_at(&self, args: &[&str], failpoint: Option<&str>) -> Output {
        let h = self.home.path();
        let mut cmd = provost();
        if let Some(f) = failpoint {
            cmd.env("PROVOST_FAILPOINT", f);
        } else {
            cmd.env_remove("PROVOST_FAILPOINT");
        }
        cmd.arg("--config")
            .arg(h.join("provost.toml"))
            .args(args)
            .env("HOME", h)
            .env("NO_COLOR", "1")
            .current_dir(h)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run provost")
    }

    fn image(&self, repo_tag: &str) -> String {
        format!("reg/{repo_tag}")
    }

    /// The message of finding `rule` in the gate's verdict for `env`.
    fn finding(&self, image: &str, env: &str, rule: &str) -> (String, String, String) {
        let out = self.run(&["gate", &self.image(image), "--env", env, "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
        let v = v["verdicts"][0].clone();
        let f = v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["rule"] == rule)
            .cloned()
            .unwrap_or_default();
        (
            v["decision"].as_str().unwrap_or_default().to_string(),
            f["outcome"].as_str().unwrap_or_default().to_string(),
            f["message"].as_str().unwrap_or_default().to_string(),
        )
    }

    fn chain_len(&self, chain: &str) -> usize {
        let out = self.run(&["audit", "log", chain, "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v["entries"].as_array().map(Vec::len).unwrap_or(0)
    }
}

#[test]
fn approvals_rejections_and_quarantines_change_the_verdicts() {
    let w = world();
    // The demo's records, read from the registry.
    let (d, o, m) = w.finding("acme/web:2.2.0", "prod", "two-approvals");
    assert_eq!(
        (o.as_str(), m.as_str()),
        ("missing", "1 of 2 approvals from release-managers (alice)"),
        "{d}"
    );
    let (_, o, m) = w.finding("acme/billing:3.2.0", "prod", "two-approvals");
    assert_eq!(o, "fail");
    assert!(m.contains("bob rejected: invoice totals"), "{m}");
    let (_, o, m) = w.finding("acme/worker:1.0.0", "prod", "two-approvals");
    assert_eq!(o, "missing");
    assert!(m.contains("bob's approval expired on 2026-11-30"), "{m}");
    let (d, o, _) = w.finding("acme/api:1.4.1", "prod", "two-approvals");
    assert_eq!((d.as_str(), o.as_str()), ("pass", "pass"));

    // Without --yes and without a terminal nothing is written.
    let before = w.chain_len("prod");
    let out = w.run(&[
        "approve",
        &w.image("acme/web:2.2.0"),
        "--env",
        "prod",
        "--key",
        "bob.key",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("dry run: nothing was written"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("\"predicateType\": \"https://provost.dev/records/approval/v1\""));
    assert_eq!(w.chain_len("prod"), before);

    // bob approves: 2 of 2.
    let out = w.run(&[
        "approve",
        &w.image("acme/web:2.2.0"),
        "--env",
        "prod",
        "--key",
        "bob.key",
        "--reason",
        "arm64 canary clean",
        "--yes",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("2 of 2 approvals from release-managers (alice, bob)"),
        "{}",
        stdout(&out)
    );
    let (_, o, m) = w.finding("acme/web:2.2.0", "prod", "two-approvals");
    assert_eq!(
        (o.as_str(), m.as_str()),
        (
            "pass",
            "2 of 2 approvals from release-managers (alice, bob)"
        )
    );
    assert_eq!(w.chain_len("prod"), before + 1);

    // Then rejects: his latest decision stands, and it blocks even a conditional tier.
    let out = w.run(&[
        "approve",
        &w.image("acme/web:2.2.0"),
        "--env",
        "prod",
        "--key",
        "bob.key",
        "--reject",
        "--reason",
        "found a <b>crash</b>\u{1b}[31m",
        "--yes",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (d, o, m) = w.finding("acme/web:2.2.0", "prod", "two-approvals");
    assert_eq!((d.as_str(), o.as_str()), ("block", "fail"));
    assert!(
        m.contains("1 of 2 approvals from release-managers (alice); bob rejected: found a"),
        "{m}"
    );
    let text = stdout(&w.run(&["gate", &w.image("acme/web:2.2.0"), "--env", "prod"]));
    assert!(
        !text.contains('\u{1b}'),
        "an escape reached the terminal: {text:?}"
    );

    // Someone trusted but in no group cannot write a record that would count.
    let out = w.run(&[
        "approve",
        &w.image("acme/web:2.2.0"),
        "--env",
        "prod",
        "--key",
        "mallory.key",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not in release-managers"),
        "{}",
        stderr(&out)
    );
    // Nor can an expiry in the past, or any write in read-only mode.
    let out = w.run(&[
        "approve",
        &w.image("acme/web:2.2.0"),
        "--env",
        "prod",
        "--key",
        "alice.key",
        "--expires",
        "2020-01-01T00:00:00Z",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = w.run(&[
        "--read-only",
        "approve",
        &w.image("acme/web:2.2.0"),
        "--env",
        "prod",
        "--key",
        "alice.key",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("read-only"), "{}", stderr(&out));

    // A record mallory writes with the library (as anyone with push access could) is named
    // and does not count; nor does the image signer's own approval (separation of duties).
    let rt = runtime();
    let st = store(&w.reg);
    let digest = rt
        .block_on(st.resolve("acme/api", "1.4.2"))
        .expect("digest");
    let draft = approval_draft(&st, "acme/api", &digest, "prod", "mallory says yes");
    rt.block_on(provost::release::record::write(
        &st,
        "provost-audit",
        &draft,
        &provost::release::record::Signing::Key {
            key: &w.mallory,
            timestamp_url: None,
            rekor_url: None,
        },
    ))
    .expect("write");
    let out = w.run(&[
        "approve",
        &w.image("acme/api:1.4.2"),
        "--env",
        "prod",
        "--key",
        "release.key",
        "--yes",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, o, m) = w.finding("acme/api:1.4.2", "prod", "two-approvals");
    assert_eq!(o, "missing");
    assert!(m.starts_with("0 of 2 approvals"), "{m}");
    assert!(
        m.contains("mallory is not in release-managers (approval does not count)"),
        "{m}"
    );
    assert!(
        m.contains(
            "acme-release signed the image or its provenance, so their approval does not count"
        ),
        "{m}"
    );

    // One approval for staging from the group: the staging rule passes.
    let (_, o, _) = w.finding("acme/api:1.4.1", "staging", "staging-approval");
    assert_eq!(o, "missing");
    let out = w.run(&[
        "approve",
        &w.image("acme/api:1.4.1"),
        "--env",
        "staging",
        "--key",
        "alice.key",
        "--yes",
        "--expires",
        "7d",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, o, m) = w.finding("acme/api:1.4.1", "staging", "staging-approval");
    assert_eq!(
        (o.as_str(), m.as_str()),
        ("pass", "1 of 1 approvals from release-managers (alice)")
    );

    // Quarantine: only the security group; it blocks staging and prod, warns in dev, covers an
    // index's platform manifests, and lifting it restores the verdict.
    let out = w.run(&[
        "quarantine",
        &w.image("acme/api:1.4.1"),
        "--reason",
        "INC-7",
        "--key",
        "alice.key",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = w.run(&[
        "quarantine",
        &w.image("acme/api:1.4.1"),
        "--reason",
        "INC-7: leaked token",
        "--key",
        "carol.key",
        "--yes",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (d, o, m) = w.finding("acme/api:1.4.1", "prod", "quarantine-record");
    assert_eq!((d.as_str(), o.as_str()), ("block", "fail"));
    assert!(
        m.starts_with("quarantined by carol on ") && m.ends_with(": INC-7: leaked token"),
        "{m}"
    );
    assert_eq!(
        w.finding("acme/api:1.4.1", "staging", "quarantine-record")
            .1,
        "fail"
    );
    assert_eq!(
        w.finding("acme/api:1.4.1", "staging", "quarantine-record")
            .0,
        "block"
    );
    assert_eq!(
        w.finding("acme/api:1.4.1", "dev", "quarantine-record").0,
        "warn"
    );
    let out = w.run(&[
        "unquarantine",
        &w.image("acme/api:1.4.1"),
        "--reason",
        "token rotated",
        "--key",
        "carol.key",
        "--yes",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (d, o, m) = w.finding("acme/api:1.4.1", "prod", "quarantine-record");
    assert_eq!((d.as_str(), o.as_str()), ("pass", "pass"), "{m}");
    assert!(m.contains("lifted by carol"), "{m}");

    let index = rt.block_on(st.resolve("acme/web", "2.2.0")).expect("index");
    let m = rt
        .block_on(st.get_manifest("acme/web", &index))
        .expect("manifest");
    let idx: serde_json::Value = serde_json::from_slice(&m.bytes).expect("json");
    let child = idx["manifests"][1]["digest"]
        .as_str()
        .expect("child")
        .to_string();
    let out = w.run(&[
        "quarantine",
        &w.image("acme/web:2.2.0"),
        "--reason",
        "arm64 backdoor",
        "--key",
        "carol.key",
        "--yes",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (d, o, _) = w.finding(&format!("acme/web@{child}"), "staging", "quarantine-record");
    assert_eq!((d.as_str(), o.as_str()), ("block", "fail"));

    // The chains verify, except for mallory's record in prod, which verification names.
    let out = w.run(&["audit", "verify", "prod"]);
    assert_eq!(out.status.code(), Some(7));
    let problems: Vec<String> = stdout(&out)
        .lines()
        .filter(|l| l.starts_with("  - "))
        .map(str::to_string)
        .collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("was signed by key mallory")
            && problems[0].contains("who is not in release-managers"),
        "{problems:?}"
    );
    for chain in ["staging", "quarantine"] {
        let out = w.run(&["audit", "verify", chain]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{chain}: {}{}",
            stdout(&out),
            stderr(&out)
        );
    }
    let log = stdout(&w.run(&["audit", "log", "quarantine"]));
    assert!(
        log.contains("✓ carol") && log.contains("quarantined (with 2 platform manifest(s))"),
        "{log}"
    );
}

#[test]
fn a_writer_killed_at_each_step_leaves_a_chain_that_verifies() {
    let w = world();
    let approve = [
        "approve",
        "reg/acme/web:2.2.0",
        "--env",
        "prod",
        "--key",
        "bob.key",
        "--yes",
    ];
    let mut len = w.chain_len("prod");
    for (failpoint, linked) in [
        ("record-pushed", false),
        ("head-moved", true),
        ("record-linked", true),
    ] {
        let out = w.run_at(&approve, Some(failpoint));
        assert_eq!(
            out.status.code(),
            Some(137),
            "{failpoint}: {}",
            stderr(&out)
        );
        // The chain verifies; the approval counts exactly when it is linked into the chain
        // (the ledger decides, whether or not the copy carries it as a referrer yet).
        let v = w.run(&["audit", "verify", "prod"]);
        assert_eq!(v.status.code(), Some(0), "{failpoint}: {}", stdout(&v));
        let (_, o, m) = w.finding("acme/web:2.2.0", "prod", "two-approvals");
        if linked {
            assert_eq!(
                (o.as_str(), m.as_str()),
                (
                    "pass",
                    "2 of 2 approvals from release-managers (alice, bob)"
                ),
                "{failpoint}"
            );
        } else {
            assert_eq!(
                (o.as_str(), m.as_str()),
                ("missing", "1 of 2 approvals from release-managers (alice)"),
                "{failpoint}"
            );
        }
        if linked {
            len += 1;
        }
        assert_eq!(w.chain_len("prod"), len, "{failpoint}");
    }
    // Running it again completes it.
    let out = w.run(&approve);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, o, _) = w.finding("acme/web:2.2.0", "prod", "two-approvals");
    assert_eq!(o, "pass");
    assert_eq!(w.run(&["audit", "verify", "prod"]).status.code(), Some(0));
}
