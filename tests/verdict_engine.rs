//! The verdict engine's rules that are never bent, each as a test written against a bug the
//! read path had: approvals that "skip" in a required tier, unverified provenance and SBOMs
//! that satisfied rules, two signatures collapsing into one result, a demo key anyone could
//! derive or plant, misspelt environments, missing tags that "passed", corrupt configs that
//! were never read.

mod common;

use common::*;
use provost::config::Tier;
use provost::evidence::trust::{SignatureCheck, TimeProof};
use provost::evidence::{Binding, Discovery, Signer, State, Verification};
use provost::policy::{evaluate, Decision, Facts, Outcome, PolicyFile};

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

#[test]
fn approvals_not_recorded_block_a_required_tier_and_warn_elsewhere() {
    let p = PolicyFile::parse(
        "[[rule]]\nname = \"two\"\nkind = \"approvals\"\ncount = 2\ngroup = \"rm\"\n\
         [[group]]\nname = \"rm\"\n[[group.member]]\nkey = \"alice\"\n",
        "p.toml",
    )
    .expect("policy");
    let d = Discovery::default();
    let facts = Facts::new("sha256:x", &d);
    let prod = evaluate(&p.rule, &env("prod", Tier::Required), &facts, now());
    let f = prod
        .findings
        .iter()
        .find(|f| f.rule == "two")
        .expect("finding");
    assert_eq!(
        f.outcome,
        Outcome::Missing,
        "never 'skipped' where it applies"
    );
    assert!(f.message.contains("0 of 2"), "{}", f.message);
    assert_eq!(prod.decision, Decision::Block);
    // Scoped elsewhere, it is skipped, and a skipped rule never counts.
    let p = PolicyFile::parse(
        "[[rule]]\nname = \"two\"\nkind = \"approvals\"\ncount = 2\ngroup = \"rm\"\n\
         environments = [\"staging\"]\n[[group]]\nname = \"rm\"\n[[group.member]]\nkey = \"alice\"\n",
        "p.toml",
    )
    .expect("policy");
    let prod = evaluate(&p.rule, &env("prod", Tier::Required), &facts, now());
    let f = prod
        .findings
        .iter()
        .find(|f| f.rule == "two")
        .expect("finding");
    assert_eq!(f.outcome, Outcome::Skipped);
}

fn verified() -> Verification {
    Verification::from_checks(vec![SignatureCheck::verified(
        Signer::Key {
            fingerprint: "ab".repeat(32),
            name: Some("trusted".into()),
        },
        TimeProof::Unproven,
    )])
}

fn sbom_item(packages: &[(&str, &str)], signer: Verification) -> provost::evidence::EvidenceItem {
    let mut i = provost::evidence::EvidenceItem::problem(
        provost::evidence::Kind::Sbom,
        "application/vnd.in-toto+json",
        &format!("sha256:{}", "cd".repeat(32)),
        provost::evidence::Found::CosignTag,
        "test",
        String::new(),
    );
    i.problem = None;
    i.binding = Binding::Matches;
    i.signer = signer;
    i.sbom = Some(provost::evidence::SbomSummary {
        format: "CycloneDX".into(),
        version: "1.5".into(),
        name: None,
        generator: vec![],
        created: None,
        package_count: packages.len(),
        ecosystems: vec![],
        licenses: vec![],
        unlicensed: 0,
        packages: packages
            .iter()
            .map(|(n, v)| provost::evidence::sbom::Package {
                name: n.to_string(),
                version: Some(v.to_string()),
                purl: Some(format!("pkg:npm/{n}@{v}")),
                license: None,
            })
            .collect(),
    });
    i
}

#[test]
fn an_unsigned_sbom_can_fail_the_denied_packages_rule_but_never_pass_it() {
    let p = PolicyFile::parse(
        "[[rule]]\nname = \"deny\"\nkind = \"denied-packages\"\ndeny = [\"pkg:npm/left-pad\"]\n[[rule]]\nname = \"sbom\"\nkind = \"sbom\"\n",
        "p.toml",
    )
    .expect("policy");
    let judge = |items| {
        let d = Discovery {
            digest: "sha256:x".into(),
            items,
            errors: vec![],
        };
        let v = evaluate(
            &p.rule,
            &env("prod", Tier::Required),
            &Facts::new("sha256:x", &d),
            now(),
        );
        let of = |r: &str| {
            v.findings
                .iter()
                .find(|f| f.rule == r)
                .map(|f| f.outcome)
                .expect("finding")
        };
        (of("deny"), of("sbom"))
    };
    // Unsigned and clean: shows nothing, so neither rule holds.
    let clean = sbom_item(&[("lodash", "4.17.21")], Verification::unsigned());
    assert_eq!(
        judge(vec![clean.clone()]),
        (Outcome::Missing, Outcome::Missing)
    );
    // Unsigned and listing a denied package: the rule fails all the same.
    let bad = sbom_item(&[("left-pad", "1.3.0")], Verification::unsigned());
    assert_eq!(judge(vec![bad.clone()]).0, Outcome::Fail);
    // A verified clean SBOM passes both; a denied package in another, unsigned one still fails.
    let mut good = clean;
    good.signer = verified();
    assert_eq!(judge(vec![good.clone()]), (Outcome::Pass, Outcome::Pass));
    assert_eq!(judge(vec![good, bad]).0, Outcome::Fail);
}

#[test]
fn an_attestation_nobody_trusted_never_earns_a_pass_for_builder_workflow_or_source() {
    // acme/web:2.0.0 carries provenance claiming the official builder, signed by a key the demo
    // does not trust: every provenance rule is missing its evidence, and no finding passes on it.
    let Demo {
        tmp: _tmp,
        source,
        gate,
        ..
    } = demo();
    let rt = runtime();
    let digest = resolve(&source, "acme/web", "2.0.0");
    let envs = [
        env("staging", Tier::Conditional),
        env("prod", Tier::Required),
    ];
    let j = rt.block_on(gate.judge(source.store.as_ref(), "acme/web", &digest, &envs));
    let prov: Vec<_> = provost::evidence::provenance_of(&j.discovery.items);
    assert!(
        !prov.is_empty(),
        "the demo attaches provenance to web 2.0.0"
    );
    assert!(prov.iter().all(|i| i.signer.state == State::Untrusted));
    for v in &j.verdicts {
        for rule in ["trusted-builder", "release-workflow", "acme-sources"] {
            let f = v.findings.iter().find(|f| f.rule == rule).expect("rule");
            assert_ne!(
                f.outcome,
                Outcome::Pass,
                "{rule} passed on unverified provenance"
            );
        }
        assert_eq!(v.decision, Decision::Block, "{}", v.environment);
    }
}

#[test]
fn two_signatures_over_one_payload_are_two_results() {
    // Key rotation: the trusted key and a second key sign the same digest (the same
    // simple-signing payload, so the same layer digest). Each is judged on its own: verify,
    // evidence and the gate agree that the trusted one verifies, and the other is never shown
    // as signed by the trusted key.
    let Demo {
        tmp,
        dir,
        settings,
        source,
        ..
    } = demo();
    let rt = runtime();
    let digest = resolve(&source, "acme/api", "1.5.0-rc.1");
    let other = provost::verify::keys::generate();
    let trusted = provost::demo::keys::release_key(&demo_data(tmp.path()), &dir).expect("key");
    for key in [&other, &trusted] {
        rt.block_on(provost::release::sign::sign_image(
            source.store.as_ref(),
            "acme/api",
            &digest,
            "registry.acme.example/acme/api",
            key,
        ))
        .expect("sign");
    }
    let gate = settings.gate(&source, None).expect("gate");
    let j = rt.block_on(gate.judge(
        source.store.as_ref(),
        "acme/api",
        &digest,
        &[env("prod", Tier::Required)],
    ));
    let sigs: Vec<_> = j
        .discovery
        .items
        .iter()
        .filter(|i| i.kind == provost::evidence::Kind::Signature)
        .collect();
    assert_eq!(sigs.len(), 2, "{sigs:#?}");
    let states: Vec<State> = sigs.iter().map(|i| i.signer.state).collect();
    assert!(states.contains(&State::Verified) && states.contains(&State::Untrusted));
    let untrusted = sigs
        .iter()
        .find(|i| i.signer.state == State::Untrusted)
        .expect("untrusted");
    assert!(
        untrusted.signer.verified_signers().is_empty() && !untrusted.signer.cell().contains('✓'),
        "the untrusted signature shown as the trusted key's: {}",
        untrusted.signer.cell()
    );
    let sig = j.verdicts[0]
        .findings
        .iter()
        .find(|f| f.rule == "signature")
        .expect("signature");
    assert_eq!(sig.outcome, Outcome::Pass, "{}", sig.message);
    // `verify` agrees (exit 0), and its JSON lists both results.
    let out = run_provost(
        tmp.path(),
        &[
            "--store",
            dir.to_str().expect("utf8"),
            "verify",
            "acme/api:1.5.0-rc.1",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let results: Vec<bool> = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| c["outcome"]["verified"].as_bool().expect("bool"))
        .collect();
    assert_eq!(results.len(), 2, "{v}");
    assert!(results.contains(&true) && results.contains(&false));
    // `gate --json` carries the same typed results with the evidence it judged.
    let out = run_provost(
        tmp.path(),
        &[
            "--store",
            dir.to_str().expect("utf8"),
            "gate",
            "acme/api:1.5.0-rc.1",
            "--env",
            "dev",
            "--json",
        ],
    );
    let g: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let states: Vec<String> = g["verdicts"][0]["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter(|e| e["kind"] == "signature")
        .map(|e| e["signer"]["state"].as_str().expect("state").to_string())
        .collect();
    assert!(
        states.contains(&"verified".to_string()) && states.contains(&"untrusted".to_string()),
        "{g}"
    );
}

#[test]
fn the_demo_key_is_trusted_only_where_this_user_made_the_store() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_layout(tmp.path());
    // Its maker trusts it.
    let mine = settings_for(&dir, &demo_data(tmp.path()));
    assert!(mine.is_demo(&mine.sources[0]));
    // The release key and the demo's three people, each by name.
    let names: Vec<String> = mine
        .trust_for(&mine.sources[0])
        .iter()
        .filter_map(|t| match t {
            provost::verify::Trust::Key { name, .. } => name.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    for n in provost::demo::keys::PEOPLE {
        assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
    }
    // Another home does not, even with a marker file planted in the layout.
    std::fs::write(dir.join(".provost-demo"), "seeded by provost demo").expect("marker");
    let other = tempfile::tempdir().expect("other");
    let theirs = settings_for(&dir, other.path());
    assert!(!theirs.is_demo(&theirs.sources[0]));
    assert!(theirs.trust_for(&theirs.sources[0]).is_empty());
    // A copy of the store at another path is not the store that was recorded.
    let copy = tmp.path().join("copy");
    std::fs::create_dir_all(&copy).expect("copy");
    let cp = std::process::Command::new("cp")
        .args([
            "-a",
            &format!("{}/.", dir.display()),
            copy.to_str().expect("utf8"),
        ])
        .status()
        .expect("cp");
    assert!(cp.success());
    let copied = settings_for(&copy, &demo_data(tmp.path()));
    assert!(copied.trust_for(&copied.sources[0]).is_empty());
    // And with no trusted key, the demo's signed images do not verify.
    let out = run_provost(
        other.path(),
        &[
            "--store",
            dir.to_str().expect("utf8"),
            "verify",
            "acme/api:prod",
        ],
    );
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    // Two stores made by `provost demo` get different keys.
    let second = tmp.path().join("second");
    runtime()
        .block_on(provost::demo::reset(&second, &demo_data(tmp.path())))
        .expect("seed");
    assert_ne!(
        provost::demo::keys::trusted_key(&demo_data(tmp.path()), &dir),
        provost::demo::keys::trusted_key(&demo_data(tmp.path()), &second)
    );
}

#[test]
fn policy_files_are_checked_against_the_environments() {
    let tmp = tempfile::tempdir().expect("tmp");
    let h = tmp.path();
    let bad = [
        (
            "[[rule]]\nname = \"x\"\nkind = \"sbom\"\nenvironments = [\"prdo\"]\n",
            "prdo",
        ),
        (
            "[[rule]]\nname = \"x\"\nkind = \"builder\"\nallow = [\"[a-\"]\n",
            "allow",
        ),
        (
            "[[rule]]\nname = \"x\"\nkind = \"builder\"\nallow = [\"\"]\n",
            "empty",
        ),
        (
            "[[rule]]\nname = \"x\"\nkind = \"sbom\"\ncolour = 1\n",
            "colour",
        ),
        (
            "[[rule]]\nname = \"x\"\nkind = \"sbom\"\n[[rule]]\nname = \"x\"\nkind = \"sbom\"\n",
            "twice",
        ),
        (
            "[[rule]]\nname = \"x\"\nkind = \"builder\"\nallow = []\n",
            "allow",
        ),
    ];
    for (text, needle) in bad {
        let p = h.join("p.toml");
        std::fs::write(&p, text).expect("policy");
        let out = run_provost(h, &["policy", "check", p.to_str().expect("utf8")]);
        assert_eq!(out.status.code(), Some(2), "{text}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(needle) && stderr(&out).contains("p.toml"),
            "{text}: {}",
            stderr(&out)
        );
    }
    // The line of the offending rule is named.
    std::fs::write(
        h.join("p.toml"),
        "[[rule]]\nname = \"ok\"\nkind = \"sbom\"\n\n[[rule]]\nname = \"typo\"\nkind = \"sbom\"\nenvironments = [\"prdo\"]\n",
    )
    .expect("policy");
    let out = run_provost(
        h,
        &["policy", "check", h.join("p.toml").to_str().expect("utf8")],
    );
    assert!(stderr(&out).contains("line 6"), "{}", stderr(&out));
    // Configured environments replace the defaults.
    std::fs::write(
        h.join("c.toml"),
        "demo = false\n[[store]]\nname = \"s\"\npath = \"s\"\n[[environment]]\nname = \"qa\"\ntier = \"warn\"\nsource = \"s\"\n",
    )
    .expect("config");
    std::fs::write(
        h.join("p.toml"),
        "[[rule]]\nname = \"x\"\nkind = \"predicates\"\nrequire = [\"slsaprovenance1\"]\nenvironments = [\"qa\"]\n",
    )
    .expect("policy");
    let out = run_provost(
        h,
        &[
            "--config",
            h.join("c.toml").to_str().expect("utf8"),
            "policy",
            "check",
            h.join("p.toml").to_str().expect("utf8"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // cosign's shorthands name the predicate types cosign maps them to.
    assert_eq!(
        provost::policy::file::predicate_type("slsaprovenance1"),
        "https://slsa.dev/provenance/v1"
    );
    assert_eq!(
        provost::policy::file::predicate_type("spdxjson"),
        "https://spdx.dev/Document"
    );
}

#[test]
fn exit_codes_for_what_does_not_exist_and_for_bad_input() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_layout(tmp.path());
    let s = dir.to_str().expect("utf8");
    let run = |args: &[&str]| {
        let mut a = vec!["--store", s];
        a.extend_from_slice(args);
        run_provost(tmp.path(), &a)
    };
    // A missing tag: 5, and no verdict for something that does not exist.
    let out = run(&["gate", "acme/api:nope", "--env", "prod"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    // A missing repository with --all: 5, not an empty pass.
    let out = run(&["gate", "acme/nothing", "--all", "--env", "prod"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    // An unknown environment, a missing policy file, a bad theme: 2.
    let out = run(&["gate", "acme/api:prod", "--env", "prdo"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run(&[
        "gate",
        "acme/api:prod",
        "--env",
        "prod",
        "--policy",
        "/nonexistent.toml",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run(&["policy", "explain", "--env", "prdo"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // Pass, block.
    assert_eq!(
        run(&["gate", "acme/api:prod", "--env", "prod"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(&["gate", "acme/api:dev", "--env", "prod"])
            .status
            .code(),
        Some(3)
    );
}

#[test]
fn a_corrupt_config_blob_blocks_the_gate_as_inspect_refuses_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_layout(tmp.path());
    let s = dir.to_str().expect("utf8");
    let out = run_provost(
        tmp.path(),
        &["--store", s, "inspect", "acme/api:prod", "--json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let digest = v["digest"].as_str().expect("digest").to_string();
    // Find the config of that manifest and flip a byte of it on disk.
    let hex = digest.trim_start_matches("sha256:");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("blobs/sha256").join(hex)).expect("m"))
            .expect("manifest");
    let cfg = manifest["config"]["digest"].as_str().expect("config");
    let p = dir
        .join("blobs/sha256")
        .join(cfg.trim_start_matches("sha256:"));
    let mut b = std::fs::read(&p).expect("config blob");
    b[2] ^= 1;
    std::fs::write(&p, b).expect("corrupt");
    let inspect = run_provost(tmp.path(), &["--store", s, "inspect", "acme/api:prod"]);
    assert_eq!(inspect.status.code(), Some(4), "{}", stderr(&inspect));
    for (e, code) in [("prod", 3), ("staging", 3)] {
        let out = run_provost(
            tmp.path(),
            &["--store", s, "gate", "acme/api:prod", "--env", e],
        );
        assert_eq!(out.status.code(), Some(code), "{e}: {}", stdout(&out));
        assert!(
            stdout(&out).contains("artifact-integrity"),
            "{}",
            stdout(&out)
        );
    }
}
