//! The console's command line over the demo landscape: `:find` asks the triage index and
//! opens a hit, `:env` lists what an environment holds with verdicts, `:digest` finds a digest
//! anywhere, history on ↑, a bad command is a sentence, and `/` matches digests in tag lists.

mod common;

use common::tui::*;
use provost::tui::action::{Action, Command};

async fn run(h: &mut Harness, line: &str) {
    h.cmd(Command::CommandLine).await;
    for c in line.chars() {
        h.act(Action::CommandInput(c)).await;
    }
    h.act(Action::CommandSubmit).await;
}

const BILLING_320: &str = "78f8addfeedd";

#[tokio::test]
async fn find_a_builder_and_open_what_it_built() {
    let mut h = Harness::new(&[]).await;
    h.cmd(Command::CommandLine).await;
    for c in "find builder=https://jenkins.acme.internal/*".chars() {
        h.act(Action::CommandInput(c)).await;
    }
    let typing = h.screen(100, 30);
    assert!(
        typing.contains(":find builder=https://jenkins.acme.internal/*▏"),
        "{typing}"
    );
    h.act(Action::CommandSubmit).await;
    let screen = h.screen(100, 30);
    assert!(
        screen.contains("1 verified · 0 only on unverified claims"),
        "{screen}"
    );
    assert!(
        screen.contains(&format!(
            "● store/acme/billing@{BILLING_320}  3.2.0, dev, staging"
        )),
        "{screen}"
    );
    assert!(screen.contains("now in dev, staging"), "{screen}");
    insta::assert_snapshot!("tui_find_80x24", h.screen(80, 24));
    // ⏎ opens the artifact in its source and repository.
    h.cmd(Command::Open).await;
    assert!(h.app.results.is_none());
    let art = h.app.detail.ready().expect("artifact");
    assert!(art.digest.contains(BILLING_320), "{}", art.digest);
    assert_eq!(h.app.active_repo.as_deref(), Some("acme/billing"));
    // ↑ recalls the last command.
    h.cmd(Command::CommandLine).await;
    h.act(Action::CommandHistory(true)).await;
    assert_eq!(
        h.app.command.text,
        "find builder=https://jenkins.acme.internal/*"
    );
    h.act(Action::CommandCancel).await;
    assert!(!h.app.command.open);
}

#[tokio::test]
async fn env_digest_and_bad_commands() {
    let mut h = Harness::new(&[]).await;
    run(&mut h, "env prod").await;
    let rows = h
        .app
        .results
        .as_ref()
        .and_then(|v| v.rows.ready().cloned())
        .expect("rows");
    let repos: Vec<&str> = rows.iter().map(|r| r.repository.as_str()).collect();
    assert_eq!(
        repos,
        ["acme/api", "acme/billing", "acme/web", "acme/worker"]
    );
    assert!(rows
        .iter()
        .all(|r| r.verdicts.len() == 1 && r.verdicts[0].0 == "prod"));
    let screen = h.screen(100, 30);
    assert!(
        screen.contains("prod ✗ block"),
        "web is blocked in prod: {screen}"
    );
    assert!(screen.contains("no runtime configured"), "{screen}");
    h.cmd(Command::Back).await;
    assert!(h.app.results.is_none());
    run(&mut h, &format!("digest {BILLING_320}")).await;
    let rows = h
        .app
        .results
        .as_ref()
        .and_then(|v| v.rows.ready().cloned())
        .expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].repository, "acme/billing");
    assert!(h.screen(100, 30).contains("1 found"));
    h.cmd(Command::Back).await;
    // A bad command: a sentence in the status line, nothing opened.
    run(&mut h, "frobnicate").await;
    assert!(h.app.results.is_none());
    let toast = h.app.toast.clone().map(|t| t.text).unwrap_or_default();
    assert!(toast.contains("unknown command"), "{toast}");
    run(&mut h, "find colour=blue").await;
    let toast = h.app.toast.clone().map(|t| t.text).unwrap_or_default();
    assert!(toast.contains("unknown criterion"), "{toast}");
}

#[tokio::test]
async fn slash_matches_digests_in_tag_lists() {
    let mut h = Harness::new(&[]).await;
    // acme/billing's tags, filtered by a digest prefix: 3.2.0, dev and staging name it.
    h.cmd(Command::Open).await;
    h.down(1).await;
    h.cmd(Command::Open).await;
    h.cmd(Command::Filter).await;
    for c in BILLING_320.chars().take(8) {
        h.act(Action::FilterInput(c)).await;
    }
    let shown: Vec<String> = h
        .app
        .visible_tags()
        .iter()
        .filter_map(|&i| h.app.tags.ready().map(|t| t[i].tag.clone()))
        .collect();
    assert_eq!(shown, ["3.2.0", "dev", "staging"]);
}

#[tokio::test]
async fn select_results_and_quarantine_them_in_one_step() {
    use provost::policy::Decision;
    use provost::tui::modal::{Modal, ModalKey};
    let mut h = Harness::new(&[]).await;
    // The acme/api builds carrying golang.org/x/crypto below 0.31.0.
    run(&mut h, "find package=golang.org/x/crypto@<0.31.0").await;
    let rows = |h: &Harness| {
        h.app
            .results
            .as_ref()
            .and_then(|v| v.rows.ready().cloned())
            .expect("rows")
    };
    let before = rows(&h);
    assert_eq!(before.len(), 4, "{before:?}");
    assert!(before.iter().all(|r| r.verified));
    // Select the second and the fourth (what prod holds); `*` again unselects.
    h.down(1).await;
    h.cmd(Command::Mark).await;
    h.down(2).await;
    h.cmd(Command::Mark).await;
    h.cmd(Command::Mark).await;
    h.cmd(Command::Mark).await;
    let screen = h.screen(100, 30);
    assert!(screen.contains("· 2 selected"), "{screen}");
    assert_eq!(screen.matches('■').count(), 2, "{screen}");
    let picked = [before[1].digest.clone(), before[3].digest.clone()];
    // Q: one dialog for both, signed by carol (the demo's security reviewer).
    h.cmd(Command::Quarantine).await;
    let Some(Modal::Compose { request, .. }) = &h.app.modal else {
        panic!("compose: {:?}", h.app.modal)
    };
    assert_eq!(request.key, "demo:carol");
    assert_eq!(request.digest, picked[0]);
    assert_eq!(request.also.len(), 1);
    assert_eq!(request.also[0].digest, picked[1]);
    assert!(h.screen(100, 30).contains("and 1 more (one record each)"));
    // Enter without a reason is refused; with one, the plan lists every digest.
    key(&mut h, ModalKey::Enter).await;
    assert!(matches!(h.app.modal, Some(Modal::Compose { .. })));
    for c in "crypto CVE-2024-45337".chars() {
        key(&mut h, ModalKey::Char(c)).await;
    }
    key(&mut h, ModalKey::Enter).await;
    let screen = h.screen(100, 40);
    let Some(Modal::Confirm { plan, .. }) = &h.app.modal else {
        panic!("confirm: {:?}\n{screen}", h.app.modal)
    };
    assert_eq!(plan.statement[0], "2 digest(s), one signed record each:");
    for d in &picked {
        let short = &d["sha256:".len()..][..12];
        assert!(plan.statement.iter().any(|l| l.contains(short)), "{plan:?}");
    }
    assert!(plan.signer.starts_with("key carol"), "{plan:?}");
    key(&mut h, ModalKey::Enter).await;
    assert!(h.app.modal.is_none());
    let toast = h.app.toast.clone().map(|t| t.text).unwrap_or_default();
    assert!(
        toast.starts_with("✓ quarantine: 2 record(s) written"),
        "{toast}"
    );
    // The results are asked again: the two are blocked where the tier blocks a quarantine,
    // the others keep their verdicts.
    let after = rows(&h);
    assert_eq!(after.len(), 4);
    let verdict = |r: &provost::tui::command::ResultRow, env: &str| {
        r.verdicts
            .iter()
            .find(|(e, _)| e == env)
            .map(|(_, d)| *d)
            .expect("verdict")
    };
    for r in &after {
        let was = before
            .iter()
            .find(|b| b.digest == r.digest)
            .expect("same rows");
        if picked.contains(&r.digest) {
            assert_eq!(verdict(r, "staging"), Decision::Block, "{r:?}");
            assert_eq!(verdict(r, "prod"), Decision::Block, "{r:?}");
        } else {
            assert_eq!(r.verdicts, was.verdicts, "{r:?}");
        }
    }
    // What prod holds passed there before the quarantine, and is blocked there now.
    assert!(
        before[3].tags.iter().any(|t| t == "prod"),
        "{:?}",
        before[3]
    );
    assert_eq!(verdict(&before[3], "prod"), Decision::Pass);
}
