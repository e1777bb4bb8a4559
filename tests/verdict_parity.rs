//! The console and the gate give the same answer: the TUI's jobs and `provost gate --json`
//! compared for every demo tag and environment, on the demo store and with a user policy over
//! a real registry; and a platform manifest opened from a signed index is covered by it.

mod common;

use common::*;
use provost::config::Tier;
use provost::policy::Outcome;
use provost::setup::{Overrides, Settings};

/// Judges every `(repo, tag)` with the console's jobs and with `provost gate --json ARGS`, and
/// asserts the decisions and findings are the same for every environment.
fn assert_parity(
    settings: &Settings,
    home: &std::path::Path,
    cli: &[&str],
    prefix: &str,
    refs: &[(&str, &str)],
) {
    let rt = runtime();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut jobs = provost::tui::jobs::Jobs::new(settings, tx).expect("jobs");
    let source = settings
        .sources
        .iter()
        .find(|s| settings.environments.iter().any(|e| e.source == s.name))
        .expect("a source with environments")
        .clone();
    for (n, (repo, tag)) in refs.iter().enumerate() {
        let digest = rt
            .block_on(provost::oci::Store::resolve(
                source.store.as_ref(),
                repo,
                tag,
            ))
            .expect("resolve");
        let _guard = rt.enter();
        jobs.start(provost::tui::app::Job::Evidence {
            generation: n as u64,
            source: source.name.clone(),
            repository: repo.to_string(),
            digest: digest.clone(),
            index: None,
        });
        let tui = match rt.block_on(rx.recv()) {
            Some(provost::tui::action::Action::EvidenceLoaded { result, .. }) => {
                result.expect("judged").verdicts
            }
            _ => panic!("no judgement"),
        };
        assert_eq!(tui.len(), settings.environments.len());
        for v in &tui {
            let target = format!("{prefix}{repo}:{tag}");
            let mut args: Vec<&str> = cli.to_vec();
            args.extend(["gate", &target, "--env", &v.environment, "--json"]);
            let out = run_provost(home, &args);
            let j: serde_json::Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
            let cli = &j["verdicts"][0];
            assert_eq!(
                cli["decision"],
                serde_json::to_value(v.decision).expect("decision"),
                "{repo}:{tag} in {}",
                v.environment
            );
            let rules = |f: &serde_json::Value| {
                f.as_array()
                    .expect("findings")
                    .iter()
                    .map(|f| (f["rule"].to_string(), f["outcome"].to_string()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                rules(&cli["findings"]),
                rules(&serde_json::to_value(&v.findings).expect("findings")),
                "{repo}:{tag} in {}",
                v.environment
            );
        }
    }
}

const DEMO_REFS: &[(&str, &str)] = &[
    ("acme/api", "prod"),
    ("acme/api", "1.4.2"),
    ("acme/api", "1.5.0-rc.1"),
    ("acme/billing", "3.2.0"),
    ("acme/worker", "1.0.0"),
    ("acme/web", "2.0.0"),
    ("acme/web", "2.1.0"),
    ("acme/web", "2.2.0"),
];

#[test]
fn the_console_and_the_gate_give_the_same_verdicts() {
    // The TUI's jobs and `gate --json` over the demo tags × environments.
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_layout(tmp.path());
    let settings = settings_for(&dir, &demo_data(tmp.path()));
    let store = dir.to_str().expect("utf8").to_string();
    assert_parity(&settings, tmp.path(), &["--store", &store], "", DEMO_REFS);
}

#[test]
fn the_console_and_the_gate_agree_on_a_user_policy_over_a_real_registry() {
    let reg = Registry::start();
    let rt = runtime();
    rt.block_on(provost::demo::seed(&store(&reg), demo_keys()))
        .expect("seed");
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    std::fs::write(
        h.join("team.pub"),
        provost::verify::keys::public_pem(&demo_keys().release).expect("pem"),
    )
    .expect("pub");
    // A user policy (set in provost.toml, as the console reads it): stricter than the demo's.
    std::fs::write(
        h.join("policy.toml"),
        "[[rule]]\nname = \"builder\"\nkind = \"builder\"\nallow = [\"https://github.com/actions/*\"]\ncritical = true\n\
         [[rule]]\nname = \"provenance-type\"\nkind = \"predicates\"\nrequire = [\"slsaprovenance1\"]\nenvironments = [\"prod\"]\n\
         [[rule]]\nname = \"no-left-pad\"\nkind = \"denied-packages\"\ndeny = [\"left-pad vers:npm/<2.0.0\"]\n",
    )
    .expect("policy");
    let config = h.join("provost.toml");
    std::fs::write(
        &config,
        format!(
            "demo = false\npolicy = \"policy.toml\"\n[[registry]]\nname = \"reg\"\nhost = \"{}\"\ninsecure = true\n\
             [[environment]]\nname = \"dev\"\ntier = \"warn\"\nsource = \"reg\"\n\
             [[environment]]\nname = \"staging\"\ntier = \"conditional\"\nsource = \"reg\"\n\
             [[environment]]\nname = \"prod\"\ntier = \"required\"\nsource = \"reg\"\n\
             [[trust.key]]\nname = \"team\"\npath = \"team.pub\"\n",
            reg.host
        ),
    )
    .expect("config");
    let settings = rt
        .block_on(Settings::load(&Overrides {
            config: Some(config.clone()),
            data_dir: Some(h.join("data")),
            ..Default::default()
        }))
        .expect("settings");
    let gate = settings.gate(&settings.sources[0], None).expect("gate");
    assert!(
        gate.policy.origin.ends_with("policy.toml"),
        "{}",
        gate.policy.origin
    );
    let prefix = format!("{}/", reg.host);
    let config = config.to_str().expect("utf8").to_string();
    assert_parity(&settings, h, &["--config", &config], &prefix, DEMO_REFS);
}

#[test]
fn a_platform_manifest_of_a_signed_index_is_covered_by_the_index_signature() {
    let Demo {
        tmp: _tmp,
        source,
        gate,
        ..
    } = demo();
    let rt = runtime();
    let store = source.store.as_ref();
    let index = rt
        .block_on(provost::oci::Store::resolve(store, "acme/web", "2.2.0"))
        .expect("index");
    let m = rt
        .block_on(provost::oci::Store::get_manifest(store, "acme/web", &index))
        .expect("manifest");
    let v: serde_json::Value = serde_json::from_slice(&m.bytes).expect("json");
    let child = v["manifests"][0]["digest"]
        .as_str()
        .expect("child")
        .to_string();
    let envs = [env("dev", Tier::Warn)];
    let sig = |j: &provost::gate::Judgement| {
        j.verdicts[0]
            .findings
            .iter()
            .find(|f| f.rule == "signature")
            .cloned()
            .expect("signature")
    };
    // On its own the platform manifest carries no signature...
    let alone = rt.block_on(gate.judge(store, "acme/web", &child, &envs));
    assert_eq!(sig(&alone).outcome, Outcome::Missing);
    // ...opened from its signed index, the index signature covers it.
    let within = rt.block_on(gate.judge_platform(store, "acme/web", &child, &index, &envs));
    let f = sig(&within);
    assert_eq!(f.outcome, Outcome::Pass, "{}", f.message);
    assert!(
        f.message.contains("covered by the signature on index"),
        "{}",
        f.message
    );
    // An index that does not list the digest covers nothing.
    let other = rt
        .block_on(provost::oci::Store::resolve(store, "acme/api", "prod"))
        .expect("other");
    let j = rt.block_on(gate.judge_platform(store, "acme/api", &other, &index, &envs));
    assert!(
        !sig(&j).message.contains("covered by"),
        "an unrelated index must not cover a digest"
    );
}
