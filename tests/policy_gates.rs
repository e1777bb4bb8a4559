//! Tiered verdicts: the demo landscape × tiers, third-party provenance × tiers, fail-closed
//! paths, and the gate CLI's exit codes against a real registry.

mod common;

use common::*;
use provost::config::Tier;
use provost::evidence::Discovery;
use provost::policy::{evaluate, Decision, Facts, Policy, PolicyFile};

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
        .expect("time")
        .with_timezone(&chrono::Utc)
}

#[test]
fn the_demo_landscape_gives_its_stated_verdicts_per_tier() {
    use Decision::*;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_layout(tmp.path());
    let rt = runtime();
    let settings = rt
        .block_on(provost::setup::Settings::load(&provost::setup::Overrides {
            config: Some(tmp.path().join("none.toml")).filter(|p| std::fs::write(p, "").is_ok()),
            store: Some(dir),
            data_dir: Some(demo_data(tmp.path())),
            ..Default::default()
        }))
        .expect("settings");
    let source = settings.sources[0].clone();
    let mut gate = settings.gate(&source, None).expect("gate");
    gate.clock = Some(now());
    assert_eq!(gate.policy.origin, Policy::demo().origin);
    let envs = [
        env("dev", Tier::Warn),
        env("staging", Tier::Conditional),
        env("prod", Tier::Required),
    ];
    // (reference, [dev, staging, prod], why)
    let table: &[(&str, &str, [Decision; 3])] = &[
        ("acme/api", "prod", [Pass, Pass, Pass]), // passes; two release managers approved it for prod
        ("acme/billing", "3.2.0", [Pass, Warn, Block]), // unofficial pipeline: fine for dev, blocked in prod
        ("acme/worker", "1.0.0", [Warn, Block, Block]), // provenance describes another digest
        ("acme/api", "1.5.0-rc.1", [Warn, Warn, Block]), // unsigned
        ("acme/api", "1.4.2", [Warn, Block, Block]),    // quarantined
        ("acme/web", "2.0.0", [Warn, Block, Block]),    // signed by an untrusted key
        ("acme/web", "2.1.0", [Warn, Block, Block]),    // denied package (left-pad), critical
    ];
    for (repo, tag, expected) in table {
        let digest = rt
            .block_on(provost::oci::Store::resolve(
                source.store.as_ref(),
                repo,
                tag,
            ))
            .expect("resolve");
        let j = rt.block_on(gate.judge(source.store.as_ref(), repo, &digest, &envs));
        for ((e, want), v) in envs.iter().zip(expected.iter()).zip(&j.verdicts) {
            assert_eq!(
                v.decision, *want,
                "{repo}:{tag} in {}: {:#?}",
                e.name, v.findings
            );
        }
    }
}

struct Vector {
    file: &'static str,
    builder: &'static str,
    source: &'static str,
    git_ref: &'static str,
}

const VECTORS: &[Vector] = &[
    Vector { file: "gha_generic-v1.10.0-push-v14.intoto.jsonl", builder: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.10.0", source: "github.com/slsa-framework/example-package", git_ref: "refs/tags/v14" },
    Vector { file: "gha_go-v1.10.0-workflow_dispatch.intoto.jsonl", builder: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/tags/v1.10.0", source: "github.com/slsa-framework/example-package", git_ref: "refs/heads/main" },
    Vector { file: "bcr-MODULE.bazel.sigstore.json", builder: "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1", source: "github.com/aspect-build/rules_lint", git_ref: "refs/heads/publish-to-bcr" },
    Vector { file: "gcb/v0.2/gcloud-container-github.json", builder: "https://cloudbuild.googleapis.com/GoogleHostedWorker@v0.2", source: "github.com/laurentsimon/gcb-tests", git_ref: "" },
];

fn rules(builder: &str, source: &str, git_ref: &str, critical: bool) -> PolicyFile {
    let mut text = format!(
        "[[rule]]\nname = \"builder\"\nkind = \"builder\"\nallow = [{builder:?}]\ncritical = {critical}\n\
         [[rule]]\nname = \"source\"\nkind = \"source\"\nallow = [{source:?}]\ncritical = {critical}\n"
    );
    // Cloud Build provenance names no git ref: no ref rule for it.
    if !git_ref.is_empty() {
        text.push_str(&format!("[[rule]]\nname = \"ref\"\nkind = \"ref\"\nallow = [{git_ref:?}]\ncritical = {critical}\n"));
    }
    PolicyFile::parse(&text, "table").expect("policy")
}

#[test]
fn third_party_provenance_against_the_rules_slsa_verifier_applies() {
    use Decision::*;
    for v in VECTORS {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/slsa-provenance")
            .join(v.file);
        let items = provost::evidence::decode_file(&std::fs::read(&p).expect("fixture"), v.file);
        let d = Discovery {
            digest: "sha256:x".into(),
            items,
            errors: vec![],
        };
        let ok = rules(v.builder, v.source, v.git_ref, true);
        // Read from a file, the provenance is unverified: it can satisfy no rule, whatever it
        // claims (the rules are missing their evidence: warn, warn, block).
        let unverified = Facts::new("sha256:x", &d);
        let got = evaluate(&ok.rule, &env("e", Tier::Required), &unverified, now());
        assert!(
            got.findings
                .iter()
                .filter(|f| ["builder", "source", "ref"].contains(&f.rule.as_str()))
                .all(|f| f.outcome == provost::policy::Outcome::Missing
                    && f.message.contains("no verified provenance")),
            "{}: unverified provenance must never pass a rule: {:#?}",
            v.file,
            got.findings
        );
        assert_eq!(got.decision, Block);
        // The same document once a trusted signer vouches for it (as verification marks it).
        let mut d = d.clone();
        for i in &mut d.items {
            i.binding = provost::evidence::Binding::Matches;
            i.signer = provost::evidence::Verification::from_checks(vec![
                provost::evidence::trust::SignatureCheck::verified(
                    provost::evidence::Signer::Key {
                        fingerprint: "00".repeat(32),
                        name: Some("test".into()),
                    },
                    provost::evidence::trust::TimeProof::Unproven,
                ),
            ]);
        }
        let facts = Facts::new("sha256:x", &d);
        // The expected builder, source and ref: rules pass; only the unsigned image remains
        // (warn, warn, block).
        let got: Vec<Decision> = [Tier::Warn, Tier::Conditional, Tier::Required]
            .iter()
            .map(|t| evaluate(&ok.rule, &env("e", *t), &facts, now()).decision)
            .collect();
        assert_eq!(got, vec![Warn, Warn, Block], "{}", v.file);
        let rule_findings = evaluate(&ok.rule, &env("e", Tier::Required), &facts, now());
        assert!(
            rule_findings
                .findings
                .iter()
                .filter(|f| ["builder", "source", "ref"].contains(&f.rule.as_str()))
                .all(|f| f.outcome == provost::policy::Outcome::Pass),
            "{}: {:#?}",
            v.file,
            rule_findings.findings
        );
        // Another builder, as slsa-verifier's "untrusted reusable workflow": a critical failure
        // blocks the conditional tier.
        let wrong = rules("https://github.com/evil/*", v.source, v.git_ref, true);
        let got = evaluate(&wrong.rule, &env("e", Tier::Conditional), &facts, now());
        assert_eq!(got.decision, Block, "{}", v.file);
        let f = got
            .findings
            .iter()
            .find(|f| f.rule == "builder")
            .expect("builder finding");
        assert!(f.message.contains(v.builder) && f.hint.is_some(), "{f:?}");
    }
}

#[test]
fn gate_exit_codes_and_fail_closed_against_a_real_registry() {
    let mut reg = Registry::start();
    let rt = runtime();
    let s = store(&reg);
    rt.block_on(provost::demo::seed(&s, demo_keys()))
        .expect("seed");
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    // The registry is not a demo layout: trust the demo key and use the demo policy explicitly.
    let key = provost::verify::keys::public_pem(&demo_keys().release).expect("pem");
    std::fs::write(h.join("demo.pub"), key).expect("pub");
    // The seeded approvals are signed by the demo's people: trusted by name, as the groups say.
    let mut people = String::new();
    for (n, k) in &demo_keys().people {
        let pem = provost::verify::keys::public_pem(k).expect("pem");
        std::fs::write(h.join(format!("{n}.pub")), pem).expect("pub");
        people.push_str(&format!(
            "[[trust.key]]\nname = \"{n}\"\npath = \"{n}.pub\"\n"
        ));
    }
    std::fs::write(h.join("policy.toml"), provost::policy::DEMO_POLICY).expect("policy");
    std::fs::write(
        h.join("provost.toml"),
        format!(
            "demo = false\n[[registry]]\nname = \"reg\"\nhost = \"{}\"\ninsecure = true\n[[environment]]\nname = \"dev\"\ntier = \"warn\"\nsource = \"reg\"\n[[environment]]\nname = \"staging\"\ntier = \"conditional\"\nsource = \"reg\"\n[[environment]]\nname = \"prod\"\ntier = \"required\"\nsource = \"reg\"\n[[trust.key]]\nname = \"acme\"\npath = \"demo.pub\"\n{people}",
            reg.host
        ),
    )
    .expect("config");
    let host = reg.host.clone();
    let gate_with = |r: &str, e: &str, extra: &[&str]| {
        let target = format!("{host}/{r}");
        let (config, policy) = (h.join("provost.toml"), h.join("policy.toml"));
        let mut args = vec![
            "--config",
            config.to_str().expect("utf8"),
            "gate",
            &target,
            "--env",
            e,
            "--policy",
            policy.to_str().expect("utf8"),
        ];
        args.extend_from_slice(extra);
        run_provost(h, &args)
    };
    let gate = |r: &str, e: &str| gate_with(r, e, &[]);
    let pass = gate("acme/api:prod", "prod");
    assert_eq!(pass.status.code(), Some(0), "{}", stdout(&pass));
    let warn = gate("acme/billing:3.2.0", "staging");
    assert_eq!(warn.status.code(), Some(0), "a warning passes the gate");
    assert!(
        stdout(&warn).contains("⚠ warn") && stdout(&warn).contains("release-workflow"),
        "{}",
        stdout(&warn)
    );
    let block = gate("acme/billing:3.2.0", "prod");
    assert_eq!(block.status.code(), Some(3));
    assert!(stdout(&block).contains("✗ block"));
    // --all with a Markdown summary.
    let out = run_provost(
        h,
        &[
            "--config",
            h.join("provost.toml").to_str().expect("utf8"),
            "gate",
            &format!("{}/acme/api", reg.host),
            "--all",
            "--env",
            "prod",
            "--policy",
            h.join("policy.toml").to_str().expect("utf8"),
            "--summary",
            h.join("s.md").to_str().expect("utf8"),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "1.5.0-rc.1 and 1.4.2 block");
    let md = std::fs::read_to_string(h.join("s.md")).expect("summary");
    assert!(
        md.contains("| acme/api\\:1\\.4\\.1,prod | prod (required) | ✓ pass |"),
        "{md}"
    );

    // A corrupted attestation: required blocks, warn only warns.
    let digest = rt
        .block_on(provost::oci::Store::resolve(&s, "acme/api", "prod"))
        .expect("d");
    let att = rt
        .block_on(provost::oci::Store::get_manifest(
            &s,
            "acme/api",
            &format!("sha256-{}.att", digest.trim_start_matches("sha256:")),
        ))
        .expect("att");
    let m: serde_json::Value = serde_json::from_slice(&att.bytes).expect("json");
    let p = reg.blob_path(m["layers"][1]["digest"].as_str().expect("layer"));
    let mut b = std::fs::read(&p).expect("blob");
    b[3] ^= 1;
    std::fs::write(&p, b).expect("corrupt");
    // Without the on-disk cache: the earlier runs cached the intact blob by its digest, and a
    // cached copy whose digest checks out is the same evidence (tests/gate_cache.rs).
    assert_eq!(
        gate_with("acme/api:prod", "prod", &["--no-cache"])
            .status
            .code(),
        Some(3),
        "required must block on corrupt evidence"
    );
    let dev = gate_with("acme/api:prod", "dev", &["--no-cache"]);
    assert_eq!(dev.status.code(), Some(0));
    assert!(
        stdout(&dev).contains("⚠ warn") && stdout(&dev).contains("evidence-integrity"),
        "{}",
        stdout(&dev)
    );

    // The registry stops: an evaluation error, reported as a block in the required tier — with
    // the on-disk cache on (the default), which must not answer for a registry that is down.
    reg.stop();
    let down = gate("acme/api:prod", "prod");
    assert_eq!(down.status.code(), Some(1));
    assert!(
        stdout(&down).contains("✗ block") && stdout(&down).contains("evaluation"),
        "{}",
        stdout(&down)
    );
    let down_dev = gate("acme/api:prod", "dev");
    assert_eq!(down_dev.status.code(), Some(1));
    assert!(
        stdout(&down_dev).contains("⚠ warn"),
        "{}",
        stdout(&down_dev)
    );
}

#[test]
fn policy_check_and_explain() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        tmp.path().join("bad.toml"),
        "[[rule]]\nname = \"w\"\nkind = \"workflow\"\n",
    )
    .expect("write");
    let out = run_provost(
        tmp.path(),
        &[
            "policy",
            "check",
            tmp.path().join("bad.toml").to_str().expect("utf8"),
        ],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("line 2") && stderr(&out).contains("allow"),
        "{}",
        stderr(&out)
    );
    std::fs::write(tmp.path().join("good.toml"), provost::policy::DEMO_POLICY).expect("write");
    let out = run_provost(
        tmp.path(),
        &[
            "policy",
            "check",
            tmp.path().join("good.toml").to_str().expect("utf8"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let store = demo_layout(tmp.path());
    let out = run_provost(
        tmp.path(),
        &[
            "--store",
            store.to_str().expect("utf8"),
            "policy",
            "explain",
            "--env",
            "prod",
        ],
    );
    assert!(
        stdout(&out).contains("prod is a required environment")
            && stdout(&out).contains("release-workflow"),
        "{}",
        stdout(&out)
    );
}

/// Provenance naming the digest, from `builder`, signed by `key`.
fn provenance_from(builder: &str, key: Option<&str>) -> provost::evidence::EvidenceItem {
    use provost::evidence::trust::{SignatureCheck, TimeProof};
    use provost::evidence::{Binding, Signer, Verification};
    let mut i = provost::evidence::EvidenceItem::problem(
        provost::evidence::Kind::Provenance,
        "application/vnd.in-toto+json",
        &provost::oci::digest::sha256(builder.as_bytes()),
        provost::evidence::Found::ReferrersTag,
        "test",
        String::new(),
    );
    i.problem = None;
    i.binding = Binding::Matches;
    i.signer = match key {
        Some(k) => Verification::from_checks(vec![SignatureCheck::verified(
            Signer::Key {
                fingerprint: provost::oci::digest::sha256(k.as_bytes()),
                name: Some(k.into()),
            },
            TimeProof::Unproven,
        )]),
        None => Verification::unsigned(),
    };
    i.provenance = Some(provost::evidence::Provenance {
        builder_id: builder.into(),
        build_type: "https://example.com/build/v1".into(),
        commit: Some("1".repeat(40)),
        ..Default::default()
    });
    i
}

#[test]
fn reproduced_counts_independent_builders_with_their_own_signers_and_never_unverified_ones() {
    let p = PolicyFile::parse(
        "[[rule]]\nname = \"rebuilt\"\nkind = \"reproduced\"\ncount = 2\n",
        "p.toml",
    )
    .expect("policy");
    let judge = |items: Vec<provost::evidence::EvidenceItem>| {
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
        let f = v
            .findings
            .iter()
            .find(|f| f.rule == "rebuilt")
            .cloned()
            .expect("finding");
        (f.outcome, f.message)
    };
    use provost::policy::Outcome;
    let gh = || provenance_from("https://github.com/actions/runner", Some("gh-key"));
    // One builder: 1 of 2, and the required tier cannot pass on it.
    let (o, m) = judge(vec![gh()]);
    assert_eq!(o, Outcome::Missing, "{m}");
    assert!(m.starts_with("1 of 2 independent builders"), "{m}");
    // The same builder twice is one builder.
    assert_eq!(judge(vec![gh(), gh()]).0, Outcome::Missing);
    // A second builder vouched for by the same key is not independent.
    let same_key = provenance_from("https://ci.example/other", Some("gh-key"));
    assert_eq!(judge(vec![gh(), same_key]).0, Outcome::Missing);
    // A second builder whose provenance nobody verified cannot count, and is named.
    let (o, m) = judge(vec![
        gh(),
        provenance_from("https://ci.example/other", None),
    ]);
    assert_eq!(o, Outcome::Missing);
    assert!(m.contains("1 unverified provenance document"), "{m}");
    // Two builders, two signers: reproduced.
    let (o, m) = judge(vec![
        gh(),
        provenance_from("https://ci.example/other", Some("other-key")),
    ]);
    assert_eq!(o, Outcome::Pass, "{m}");
    // The rule needs its count.
    assert!(
        PolicyFile::parse("[[rule]]\nname = \"r\"\nkind = \"reproduced\"\n", "p.toml").is_err()
    );
}
