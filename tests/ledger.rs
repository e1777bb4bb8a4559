//! One decision per digest, wherever its copies are: a build registry (dev, staging, and the
//! ledger) and a prod registry (`prod/{name}`, behind htpasswd), both real docker-registry
//! processes. A quarantine written in the build registry blocks the prod copy; with the ledger
//! down the prod gate never passes; `audit log prod` shows approvals and promotions in one
//! trail; a deleted record is found; a rollback is an act of its own; the promotion path is
//! enforced; records outside the chain never count; a record reads the same in every view.
#![allow(clippy::disallowed_macros)] // a test prints its own fixed reports

mod common;

use common::promotion::*;
use common::*;
use provost::oci::Store;

/// The digest a tag of acme/api names in the source registry.
fn api(src: &Source, tag: &str) -> String {
    runtime()
        .block_on(store(&src.reg).resolve("acme/api", tag))
        .expect(tag)
}

/// Moves prod's tag by hand (outside provost).
fn move_prod_by_hand(src: &Source, w: &World, digest: &str) {
    let creds = format!("{USER}:{PASS}");
    let out = skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--dest-creds",
        &creds,
        &format!("docker://{}/acme/api@{digest}", src.reg.host),
        &format!("docker://{}/prod/acme/api:prod", w.dst.host),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn key(w: &World, who: &str) -> String {
    w.home
        .path()
        .join(format!("{who}.key"))
        .to_str()
        .expect("utf8")
        .to_string()
}

/// Staging → prod for `digest` of acme/api, signed by bob.
fn promote_to_prod(src: &Source, w: &World, digest: &str, reason: &str) -> String {
    stage(src, digest);
    ok(&w.run(&[
        "promote",
        &format!("src/acme/api@{digest}"),
        "--to",
        "prod",
        "--key",
        &key(w, "bob"),
        "--reason",
        reason,
        "--yes",
    ]))
}

/// Two approvals for prod (alice and bob) for a digest of acme/api.
fn approve_for_prod(w: &World, digest: &str) {
    for who in ["alice", "bob"] {
        ok(&w.run(&[
            "approve",
            &format!("src/acme/api@{digest}"),
            "--env",
            "prod",
            "--key",
            &key(w, who),
            "--reason",
            "checked",
            "--yes",
        ]));
    }
}

fn entries(w: &World, chain: &str) -> Vec<serde_json::Value> {
    let v = json(&w.run(&["audit", "log", chain, "--json"]));
    v["entries"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_quarantine_written_in_the_build_registry_blocks_the_prod_copy_everywhere() {
    let src = source();
    let w = world(&src);
    let x = api(&src, "1.4.1");
    promote_to_prod(&src, &w, &x, "release 1.4.1");
    let prod_ref = format!("dst/prod/acme/api@{x}");
    ok(&w.run(&["gate", &prod_ref, "--env", "prod"]));
    // Quarantined through the build registry's reference.
    let q = ok(&w.run(&[
        "quarantine",
        &format!("src/acme/api@{x}"),
        "--key",
        &key(&w, "carol"),
        "--reason",
        "INC-9 leaked signing token",
        "--yes",
    ]));
    assert!(q.contains("prod (✗ block)"), "{q}");
    // The prod registry's copy is blocked: gate, gate --all, runtime.
    let g = w.run(&["gate", &prod_ref, "--env", "prod"]);
    assert_eq!(g.status.code(), Some(3), "{}{}", stdout(&g), stderr(&g));
    assert!(stdout(&g).contains("INC-9"), "{}", stdout(&g));
    let all = w.run(&["gate", "dst/prod/acme/api", "--all", "--env", "prod"]);
    assert_eq!(
        all.status.code(),
        Some(3),
        "{}{}",
        stdout(&all),
        stderr(&all)
    );
    let pods = serde_json::json!({
        "apiVersion": "v1", "kind": "List",
        "items": [{"metadata": {"name": "api-1", "namespace": "shop"},
            "status": {"containerStatuses": [{"name": "api",
                "image": format!("{}/prod/acme/api:prod", w.dst.host),
                "imageID": format!("{}/prod/acme/api@{x}", w.dst.host),
                "state": {"running": {}}}]}}]
    });
    let file = w.home.path().join("pods.json");
    std::fs::write(&file, pods.to_string()).expect("pods");
    let rt = w.run(&[
        "runtime",
        "prod",
        "--from-file",
        file.to_str().expect("utf8"),
        "--json",
    ]);
    let v = json(&rt);
    assert_eq!(rt.status.code(), Some(3), "{v}");
    assert_eq!(v["workloads"][0]["verdict"]["decision"], "block", "{v}");
    // Rollback cannot put it back: prod moved by hand to 1.4.0, then a rollback to x is
    // refused by today's gate, and the tag stays.
    let other = api(&src, "1.4.0");
    move_prod_by_hand(&src, &w, &other);
    let rb = w.run(&[
        "rollback",
        "prod",
        "--repository",
        "prod/acme/api",
        "--to",
        &x,
        "--key",
        &key(&w, "bob"),
        "--reason",
        "put it back",
        "--yes",
    ]);
    assert_eq!(rb.status.code(), Some(3), "{}{}", stdout(&rb), stderr(&rb));
    assert!(stdout(&rb).contains("INC-9"), "{}", stdout(&rb));
    assert_eq!(w.prod_tag().as_deref(), Some(other.as_str()));
}

#[test]
fn with_the_ledger_down_the_prod_gate_never_passes() {
    let mut src = source();
    let w = world(&src);
    let x = api(&src, "1.4.1");
    promote_to_prod(&src, &w, &x, "release 1.4.1");
    ok(&w.run(&["gate", "dst/prod/acme/api:prod", "--env", "prod"]));
    src.reg.stop();
    let g = w.run(&["gate", "dst/prod/acme/api:prod", "--env", "prod"]);
    assert_ne!(g.status.code(), Some(0), "{}{}", stdout(&g), stderr(&g));
    assert!(
        stdout(&g).contains("cannot tell whether this digest was quarantined"),
        "{}",
        stdout(&g)
    );
}

#[test]
fn one_trail_per_environment_and_a_deleted_record_is_found() {
    let src = source();
    let w = world(&src);
    let x = api(&src, "1.4.1");
    promote_to_prod(&src, &w, &x, "release 1.4.1");
    // The prod trail holds the approvals (from the seed) and the promotion, in one chain.
    let e = entries(&w, "prod");
    let kinds: Vec<&str> = e
        .iter()
        .filter_map(|x| x["record"]["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"approval"), "{kinds:?}");
    assert_eq!(kinds[0], "promotion", "newest first: {kinds:?}");
    let text = ok(&w.run(&["audit", "log", "prod"]));
    assert!(text.contains("promoted from staging to prod"), "{text}");
    assert!(text.contains("approved for prod"), "{text}");
    assert!(
        text.contains("dst prod/acme/api"),
        "where the promoted copy lives: {text}"
    );
    // Verify, then delete a record in the middle: a verifier that verified before sees it.
    ok(&w.run(&["audit", "verify", "prod"]));
    let middle = e[e.len() / 2]["digest"]
        .as_str()
        .expect("digest")
        .to_string();
    runtime()
        .block_on(store(&src.reg).delete_manifest("provost-audit", &middle))
        .expect("delete");
    let v = w.run(&["audit", "verify", "prod"]);
    assert_eq!(v.status.code(), Some(7), "{}{}", stdout(&v), stderr(&v));
    let short = provost::oci::digest::short(&middle).to_string();
    assert!(
        stdout(&v).contains(&short),
        "names the link: {}",
        stdout(&v)
    );
    // --no-cache reads every record from the registry and says the same.
    let v = w.run(&["audit", "verify", "prod", "--no-cache"]);
    assert_eq!(v.status.code(), Some(7), "{}", stdout(&v));
}

#[test]
fn two_layouts_from_one_data_directory_raise_no_false_alarm() {
    let home = tempfile::tempdir().expect("home");
    let h = home.path();
    let (a, b) = (h.join("a"), h.join("b"));
    for d in [&a, &b] {
        let out = run_provost(h, &["demo", "--store", d.to_str().expect("utf8")]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for d in [&a, &b, &a, &b] {
        let out = run_provost(
            h,
            &[
                "--store",
                d.to_str().expect("utf8"),
                "audit",
                "verify",
                "quarantine",
            ],
        );
        assert!(
            out.status.success(),
            "{}: {}{}",
            d.display(),
            stdout(&out),
            stderr(&out)
        );
    }
    let heads = std::fs::read_to_string(demo_data(h).join("audit-heads.json")).expect("heads");
    assert!(
        heads.contains(a.canonicalize().expect("a").to_str().expect("utf8")),
        "{heads}"
    );
}

#[test]
fn a_rollback_after_an_outside_move_is_recorded_with_its_reason_and_find_sees_every_place() {
    let src = source();
    let w = world(&src);
    let (old, x) = (api(&src, "1.4.0"), api(&src, "1.4.1"));
    approve_for_prod(&w, &old);
    promote_to_prod(&src, &w, &old, "release 1.4.0");
    promote_to_prod(&src, &w, &x, "release 1.4.1");
    // Moved back to 1.4.0 by hand, then rolled "back" to x: a new act with its own record.
    move_prod_by_hand(&src, &w, &old);
    let d = w.run(&["drift", "prod"]);
    assert_eq!(d.status.code(), Some(8), "{}", stdout(&d));
    let rb = ok(&w.run(&[
        "rollback",
        "prod",
        "--repository",
        "prod/acme/api",
        "--to",
        &x,
        "--key",
        &key(&w, "bob"),
        "--reason",
        "undo the hand move",
        "--yes",
    ]));
    assert!(!rb.contains("reused"), "{rb}");
    assert_eq!(w.prod_tag().as_deref(), Some(x.as_str()));
    let newest = &entries(&w, "prod")[0];
    assert_eq!(newest["record"]["kind"], "promotion", "{newest}");
    assert_eq!(newest["record"]["action"], "rollback", "{newest}");
    assert_eq!(newest["record"]["reason"], "undo the hand move", "{newest}");
    // Roll back one step, to 1.4.0: x is then untagged in the prod registry.
    ok(&w.run(&[
        "rollback",
        "prod",
        "--repository",
        "prod/acme/api",
        "--key",
        &key(&w, "bob"),
        "--reason",
        "x misbehaves",
        "--yes",
    ]));
    assert_eq!(w.prod_tag().as_deref(), Some(old.as_str()));
    // find: one hit for x, with both copies and prod in "held before".
    let f = json(&w.run(&["find", "--signer", "acme-release", "--json"]));
    let hits: Vec<&serde_json::Value> = f["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter(|h| h["digest"] == x.as_str())
        .collect();
    assert_eq!(hits.len(), 1, "one hit per digest: {f}");
    let places = hits[0]["places"].to_string();
    assert!(places.contains("prod/acme/api"), "{places}");
    assert!(places.contains("\"acme/api\""), "{places}");
    let before: Vec<&str> = hits[0]["held_before"]
        .as_array()
        .expect("held_before")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(before.contains(&"prod"), "{}", hits[0]);
}

#[test]
fn the_promotion_path_is_enforced() {
    let src = source();
    let w = world(&src);
    // 1.4.1 was never in staging (staging holds 1.4.2, and its chain shows no promotion).
    let x = api(&src, "1.4.1");
    let out = w.run(&[
        "promote",
        &format!("src/acme/api@{x}"),
        "--to",
        "prod",
        "--key",
        &key(&w, "bob"),
        "--yes",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(said.contains("never in staging"), "{said}");
    assert!(said.contains("dev → staging → prod"), "{said}");
    assert_eq!(w.prod_tag(), None);
    // Break-glass, where the policy allows it (prod does): recorded as skipping staging.
    ok(&w.run(&[
        "promote",
        &format!("src/acme/api@{x}"),
        "--to",
        "prod",
        "--key",
        &key(&w, "bob"),
        "--override",
        "INC-12 hotfix straight from the build",
        "--yes",
    ]));
    let newest = &entries(&w, "prod")[0];
    assert_eq!(newest["record"]["skipped"], "staging", "{newest}");
    let text = ok(&w.run(&["audit", "log", "prod"]));
    assert!(text.contains("skipped staging"), "{text}");
    // A non-member promoter is told so (exit 2) before the gate is asked: acme/web's staging
    // digest is blocked in prod (1 of 2 approvals), yet carol hears about her group first.
    let carol = w.run(&[
        "promote",
        "src/acme/web:staging",
        "--to",
        "prod",
        "--key",
        &key(&w, "carol"),
        "--yes",
    ]);
    assert_eq!(carol.status.code(), Some(2), "{}", stdout(&carol));
    assert!(
        stderr(&carol).contains("not in release-managers"),
        "{}",
        stderr(&carol)
    );
}

#[test]
fn records_outside_the_chain_never_count_and_every_view_reads_a_record_alike() {
    let src = source();
    let w = world(&src);
    let st = store(&src.reg);
    let keys = demo_keys();
    let bob = keys.person("bob").expect("bob");
    let alice = keys.person("alice").expect("alice");
    // acme/web 2.2.0 has alice's approval for prod: bob's, attached but never linked, does
    // not make it 2 of 2.
    let web = runtime()
        .block_on(st.resolve("acme/web", "2.2.0"))
        .expect("web");
    let draft = records::approval_draft(&st, "acme/web", &web, "prod", "lgtm");
    let b = ledger::bundle(&draft, &[bob]);
    ledger::attach(&st, &draft, &b);
    let g = json(&w.run(&[
        "gate",
        &format!("src/acme/web@{web}"),
        "--env",
        "prod",
        "--json",
    ]));
    let approvals = g["verdicts"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "two-approvals")
        .expect("approvals finding")
        .clone();
    let m = approvals["message"].as_str().expect("message");
    assert!(m.starts_with("1 of 2 approvals"), "{m}");
    assert!(m.contains("not in the audit trail"), "{m}");
    // A record with two valid signatures, linked into the chain: one judgement everywhere.
    let api_old = api(&src, "1.4.0");
    let mut two = records::approval_draft(&st, "acme/api", &api_old, "prod", "double-signed");
    let rec = ledger::link(&st, "provost-audit", &mut two, &[bob, alice]);
    let e = entries(&w, "prod");
    let entry = e
        .iter()
        .find(|x| x["digest"] == rec.as_str())
        .expect("on the chain");
    assert!(
        entry["problem"]
            .as_str()
            .unwrap_or("")
            .contains("2 signatures"),
        "{entry}"
    );
    let text = ok(&w.run(&["audit", "log", "prod"]));
    let line = text
        .lines()
        .find(|l| l.contains("double-signed"))
        .expect("log line");
    assert!(!line.contains('✓'), "{line}");
    let g = json(&w.run(&[
        "gate",
        &format!("src/acme/api@{api_old}"),
        "--env",
        "prod",
        "--json",
    ]));
    let m = g["verdicts"][0]["findings"].to_string();
    assert!(m.contains("0 of 2 approvals"), "{m}");
    assert!(m.contains("more than one signature"), "{m}");
    let v = w.run(&["audit", "verify", "prod"]);
    assert_eq!(v.status.code(), Some(7), "{}", stdout(&v));
    assert!(stdout(&v).contains("2 signatures"), "{}", stdout(&v));
}

#[test]
fn a_policy_files_trusted_root_is_honoured() {
    let src = source();
    let w = world(&src);
    let h = w.home.path();
    let policy = format!(
        "{}\n[trust]\ntrusted_root = \"missing-root.json\"\n",
        provost::policy::DEMO_POLICY
    );
    std::fs::write(h.join("rooted.toml"), policy).expect("policy");
    let g = w.run(&[
        "gate",
        "src/acme/api:staging",
        "--env",
        "prod",
        "--policy",
        "rooted.toml",
    ]);
    assert_eq!(g.status.code(), Some(2), "{}{}", stdout(&g), stderr(&g));
    assert!(stderr(&g).contains("trusted_root"), "{}", stderr(&g));
    // A root that is there but is not a trusted root: keyless checks fail on it, so the
    // verdict is not what the configured root would give.
    std::fs::write(h.join("not-a-root.json"), "{}").expect("root");
    let policy = format!(
        "{}\n[trust]\ntrusted_root = \"not-a-root.json\"\n",
        provost::policy::DEMO_POLICY
    );
    std::fs::write(h.join("rooted.toml"), policy).expect("policy");
    let g = w.run(&[
        "gate",
        "src/acme/api:staging",
        "--env",
        "prod",
        "--policy",
        "rooted.toml",
    ]);
    assert!(
        stdout(&g).contains("trusted root"),
        "{}{}",
        stdout(&g),
        stderr(&g)
    );
}
