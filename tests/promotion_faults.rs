//! A promotion killed at every step leaves the tag on the old digest or the new one with a
//! chain that verifies, and running it again completes it with one record; a cancelled one
//! leaves nothing anyone reads by tag or chain.

mod common;

use common::promotion::*;
use common::*;
use provost::oci::Store;

#[test]
fn a_promotion_killed_at_every_step_leaves_a_consistent_tag_and_chain_and_completes_on_rerun() {
    for point in [
        "promote-copied",
        "promote-verified",
        "record-pushed",
        "head-moved",
        "record-linked",
        "promote-recorded",
        "promote-tagged",
    ] {
        // A fresh build registry (and ledger) each time: one promotion record per run.
        let src = source();
        let digest = staged_prod_digest(&src);
        let w = world(&src);
        let key = w.home.path().join("bob.key");
        let args = promote_args(key.to_str().expect("utf8"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let killed = w.run_env(&args, Some(point));
        assert_eq!(
            killed.status.code(),
            Some(137),
            "{point}: {}",
            stderr(&killed)
        );
        let tag = w.prod_tag();
        assert!(
            tag.is_none() || tag.as_deref() == Some(digest.as_str()),
            "{point}: the tag names {tag:?}"
        );
        // Whatever is on the chain verifies.
        let v = w.run(&["audit", "verify", "prod"]);
        assert!(
            v.status.success()
                || stdout(&v).contains("no record")
                || stderr(&v).contains("no record"),
            "{point}: {}{}",
            stdout(&v),
            stderr(&v)
        );
        let done = ok(&w.run(&args));
        assert_eq!(
            w.prod_tag().as_deref(),
            Some(digest.as_str()),
            "{point}: {done}"
        );
        let p = w.promotions();
        assert_eq!(p.len(), 1, "{point}: one promotion record, not two: {p:?}");
        ok(&w.run(&["audit", "verify", "prod"]));
        let d = ok(&w.run(&["drift", "prod"]));
        assert!(d.contains("✓ in sync"), "{point}: {d}");
    }
}

#[test]
fn a_cancelled_promotion_leaves_nothing_anyone_reads_by_tag_or_chain() {
    use provost::release::promote::{self, Step};
    let src = source();
    let w = world(&src);
    let h = w.home.path();
    let rt = runtime();
    let settings = rt
        .block_on(provost::setup::Settings::load(&provost::setup::Overrides {
            config: Some(h.join("provost.toml")),
            data_dir: Some(h.join("data")),
            ..Default::default()
        }))
        .expect("settings");
    let st = store(&src.reg);
    let dev = rt.block_on(st.resolve("acme/api", "dev")).expect("dev");
    let bob = demo_keys().person("bob").expect("bob");
    let signing = provost::release::record::Signing::Key {
        key: bob,
        timestamp_url: None,
        rekor_url: None,
    };
    for stop_at in ["copying", "verifying", "recording"] {
        let route = promote::route(&settings, "src", "acme/api", "qa").expect("route");
        let plan = rt
            .block_on(promote::plan(
                &settings,
                route,
                &dev,
                "cancel me",
                None,
                None,
            ))
            .expect("plan");
        let progress = |s: Step| match (stop_at, s) {
            ("copying", Step::Copying(p)) => p.blobs_done == 0,
            ("verifying", Step::Verifying) | ("recording", Step::Recording) => false,
            _ => true,
        };
        let err = rt
            .block_on(promote::run(&settings, &plan, &signing, None, &progress))
            .expect_err("cancelled");
        assert_eq!(err, promote::CANCELLED, "{stop_at}");
        assert!(
            rt.block_on(st.resolve("qa/acme/api", "qa")).is_err(),
            "{stop_at}: the tag was not made"
        );
        let log = w.run(&["audit", "log", "qa", "--source", "src", "--json"]);
        let entries = serde_json::from_slice::<serde_json::Value>(&log.stdout)
            .ok()
            .and_then(|v| v["entries"].as_array().map(|e| e.len()))
            .unwrap_or(0);
        assert_eq!(entries, 0, "{stop_at}: nothing on the chain");
        let d = ok(&w.run(&["drift", "qa"]));
        assert!(!d.contains("✗"), "{stop_at}: {d}");
    }
    // Not cancelled, the same plan completes.
    let route = promote::route(&settings, "src", "acme/api", "qa").expect("route");
    let plan = rt
        .block_on(promote::plan(&settings, route, &dev, "now", None, None))
        .expect("plan");
    rt.block_on(promote::run(&settings, &plan, &signing, None, &|_| true))
        .expect("promoted");
    assert_eq!(rt.block_on(st.resolve("qa/acme/api", "qa")).ok(), Some(dev));
}
