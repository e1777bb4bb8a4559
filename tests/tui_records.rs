//! The console's release records: the History tab, the approve dialog from compose to confirm
//! to write, the audit view, and read-only mode refusing every write.

mod common;

use common::tui::*;
use provost::setup::{Overrides, Settings};
use provost::tui::action::{Action, Command};
use provost::tui::app::App;
use provost::tui::keymap::Keymap;

#[tokio::test]
async fn history_tab_approve_in_the_console_and_the_audit_view() {
    use provost::tui::modal::{Modal, ModalKey};
    let mut h = Harness::new(&[]).await;
    // acme/billing:3.2.0 (staging): alice approved it for prod, bob rejected it.
    open_tag(&mut h, 1, 3).await;
    h.cmd(Command::ShowHistory).await;
    let screen = h.screen(100, 30);
    insta::assert_snapshot!("history", screen);
    assert!(
        screen.contains("✓ 2026-11-20 14:10  bob        rejected for prod"),
        "{screen}"
    );
    // Approve 3.2.0 for prod as bob: compose, confirm what will be signed, write.
    h.cmd(Command::Approve).await;
    let Some(Modal::Compose { request, .. }) = &h.app.modal else {
        panic!("compose: {:?}", h.app.modal)
    };
    assert_eq!(request.key, "demo:alice");
    key(&mut h, ModalKey::BackTab).await; // the next key: bob
    for c in "fixed in 3.2.0".chars() {
        key(&mut h, ModalKey::Char(c)).await;
    }
    insta::assert_snapshot!("compose", h.screen(100, 30));
    key(&mut h, ModalKey::Enter).await;
    let screen = h.screen(100, 30);
    let Some(Modal::Confirm { plan, .. }) = &h.app.modal else {
        panic!("confirm: {:?}\n{screen}", h.app.modal)
    };
    assert!(plan.signer.starts_with("key bob"), "{plan:?}");
    assert!(
        screen.contains("\"predicateType\": \"https://provost.dev/records/approval/v1\""),
        "{screen}"
    );
    insta::assert_snapshot!("confirm", screen);
    key(&mut h, ModalKey::Enter).await;
    assert!(h.app.modal.is_none());
    let toast = h.app.toast.clone().map(|t| t.text).unwrap_or_default();
    assert!(toast.starts_with("✓ approve for prod"), "{toast}");
    // The verdict changed in the console: bob's latest decision is now an approval.
    let prod = h
        .app
        .verdicts
        .iter()
        .find(|v| v.environment == "prod")
        .expect("prod");
    let f = prod
        .findings
        .iter()
        .find(|f| f.rule == "two-approvals")
        .expect("finding");
    assert_eq!(
        f.message,
        "2 of 2 approvals from release-managers (alice, bob)"
    );
    // Esc on a dialog writes nothing.
    h.cmd(Command::Reject).await;
    key(&mut h, ModalKey::Esc).await;
    assert!(h.app.modal.is_none());
    // The audit view of prod: every link verified.
    h.cmd(Command::Audit).await;
    let screen = h.screen(100, 30);
    assert!(
        screen.contains("✓ 13 record(s): every signature verifies"),
        "{screen}"
    );
    // (No snapshot: the new record carries today's time.)
    assert!(screen.contains("bob      rejected for prod"), "{screen}");
    assert!(
        screen.contains("acme/billing@78f8addfeedd — invoice totals round the wrong"),
        "{screen}"
    );
    h.cmd(Command::Back).await;
    assert!(h.app.audit.is_none());
}

#[tokio::test]
async fn read_only_refuses_writes_and_says_so() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = tmp.path().join("demo");
    let data = tmp.path().join("data");
    provost::demo::reset(&store, &data).await.expect("seed");
    let config = tmp.path().join("provost.toml");
    std::fs::write(&config, "read_only = true\n").expect("config");
    let settings = Settings::load(&Overrides {
        config: Some(config),
        store: Some(store),
        data_dir: Some(data),
        ..Default::default()
    })
    .await
    .expect("settings");
    let mut app = App::new(&settings, Keymap::default_keymap());
    for c in [Command::Promote, Command::Rollback] {
        assert!(app.update(Action::Command(c)).is_empty());
        assert!(app.modal.is_none());
        assert!(app
            .toast
            .as_ref()
            .is_some_and(|t| t.text.starts_with("read-only")));
    }
    assert!(app.update(Action::Command(Command::Approve)).is_empty());
    assert!(app.modal.is_none());
    assert!(app
        .toast
        .as_ref()
        .is_some_and(|t| t.text.starts_with("read-only")));
}

#[tokio::test]
async fn promote_from_the_console_shows_the_plan_and_moves_the_tag_and_rollback_is_gated() {
    use provost::tui::modal::{Modal, ModalKey};
    let mut h = Harness::new(&[]).await;
    // dev (warn) → acme/api → its dev tag (1.5.0-rc.1).
    h.down(1).await;
    h.cmd(Command::Open).await;
    h.cmd(Command::Open).await;
    h.cmd(Command::Open).await;
    let digest = h.app.detail.ready().expect("artifact").digest.clone();
    h.cmd(Command::Promote).await;
    let Some(Modal::Compose { request, .. }) = &h.app.modal else {
        panic!("compose: {:?}", h.app.modal)
    };
    assert_eq!(
        request.kind,
        provost::release::act::Kind::Promote {
            to: "staging".into()
        }
    );
    for c in "rc to staging".chars() {
        key(&mut h, ModalKey::Char(c)).await;
    }
    key(&mut h, ModalKey::Enter).await;
    let screen = h.screen(100, 30);
    let Some(Modal::Confirm { plan, .. }) = &h.app.modal else {
        panic!("confirm: {:?}\n{screen}", h.app.modal)
    };
    assert_eq!(plan.title, "the plan:");
    assert!(
        screen.contains("to     staging (store acme/api)"),
        "{screen}"
    );
    assert!(
        screen.contains("gate   staging (conditional): ⚠ warn"),
        "{screen}"
    );
    assert!(
        screen.contains("tag    acme/api:staging moves from"),
        "{screen}"
    );
    insta::assert_snapshot!("promote_confirm", screen);
    key(&mut h, ModalKey::Enter).await;
    let toast = h.app.toast.clone().map(|t| t.text).unwrap_or_default();
    assert!(toast.starts_with("✓ promote into staging"), "{toast}");
    let store = h.app_store();
    assert_eq!(
        provost::oci::Store::resolve(store.as_ref(), "acme/api", "staging")
            .await
            .ok(),
        Some(digest.clone())
    );
    // Moved outside provost (the tag set back by hand): the console marks the environment and
    // the tag.
    let old = provost::oci::Store::resolve(store.as_ref(), "acme/api", "1.4.2")
        .await
        .expect("1.4.2");
    let m = provost::oci::Store::get_manifest(store.as_ref(), "acme/api", &old)
        .await
        .expect("manifest");
    provost::oci::Store::put_manifest(
        store.as_ref(),
        "acme/api",
        Some("staging"),
        &m.media_type,
        &m.bytes,
    )
    .await
    .expect("retag");
    h.jobs.start(provost::tui::app::Job::Drift);
    let a = tokio::time::timeout(std::time::Duration::from_secs(10), h.rx.recv())
        .await
        .expect("drift in time")
        .expect("an action");
    h.act(a).await;
    assert_eq!(
        h.app.drifted,
        vec![("staging".to_string(), "acme/api".to_string())]
    );
    // Said once, as the console finds it (a kill or a quit before the tag leaves the same).
    let toast = format!("{:?}", h.app.toast);
    assert!(toast.contains("is not where its chain says"), "{toast}");
    let screen = h.screen(100, 30);
    assert!(screen.contains("staging (conditional) ⚠ moved"), "{screen}");
    // Its tag in staging's tag list says so too.
    for _ in 0..4 {
        h.cmd(Command::Back).await;
    }
    h.down(1).await; // staging
    h.cmd(Command::Open).await;
    h.cmd(Command::Open).await;
    let screen = h.screen(100, 30);
    assert!(screen.contains("⚠ moved outside provost"), "{screen}");
    // Promote the dev digest again: back in sync, the marks go.
    for _ in 0..4 {
        h.cmd(Command::Back).await;
    }
    h.cmd(Command::Up).await; // dev
    h.cmd(Command::Open).await;
    h.cmd(Command::Open).await;
    h.cmd(Command::Open).await;
    assert_eq!(
        h.app.detail.ready().map(|a| a.digest.clone()),
        Some(digest.clone())
    );
    h.cmd(Command::Promote).await;
    key(&mut h, ModalKey::Enter).await;
    key(&mut h, ModalKey::Enter).await;
    let toast = h.app.toast.clone().map(|t| t.text).unwrap_or_default();
    assert!(toast.starts_with("✓ promote into staging"), "{toast}");
    h.jobs.start(provost::tui::app::Job::Drift);
    let a = tokio::time::timeout(std::time::Duration::from_secs(10), h.rx.recv())
        .await
        .expect("drift in time")
        .expect("an action");
    h.act(a).await;
    assert!(h.app.drifted.is_empty(), "{:?}", h.app.drifted);
    // Rolling staging back goes to 1.4.2, quarantined since: the plan is refused, nothing
    // moves, and the toast says why.
    h.cmd(Command::Back).await;
    h.cmd(Command::Back).await;
    h.cmd(Command::Back).await;
    h.cmd(Command::Back).await;
    h.down(1).await; // staging (conditional)
    h.cmd(Command::Open).await;
    h.cmd(Command::Open).await;
    h.cmd(Command::Open).await;
    h.cmd(Command::Rollback).await;
    key(&mut h, ModalKey::Enter).await;
    assert!(h.app.modal.is_none(), "{:?}", h.app.modal);
    let toast = h.app.toast.clone().map(|t| t.text).unwrap_or_default();
    assert!(
        toast.contains("the staging gate blocks it (incident-2026-11"),
        "{toast}"
    );
    assert_eq!(
        provost::oci::Store::resolve(store.as_ref(), "acme/api", "staging")
            .await
            .ok(),
        Some(digest)
    );
}
