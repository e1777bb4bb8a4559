//! TUI state and rendering: actions fed to a real `App` over a demo layout, jobs run for real,
//! frames drawn into ratatui's TestBackend and compared with reviewed insta snapshots.

mod common;

use common::tui::*;

use provost::tui::action::{Action, Command};
use provost::tui::app::Slot;
use provost::tui::layout::Pane;

#[tokio::test]
async fn sources_pane_at_start() {
    let h = Harness::new(&[]).await;
    insta::assert_snapshot!("sources", h.screen(100, 30));
}

#[tokio::test]
async fn repositories_then_tags_then_image_detail() {
    let mut h = Harness::new(&[]).await;
    h.cmd(Command::Open).await;
    assert_eq!(h.app.focus, Pane::Repositories);
    assert_eq!(h.app.repos.ready().map(|r| r.len()), Some(4));
    insta::assert_snapshot!("repositories", h.screen(100, 30));

    h.cmd(Command::Open).await; // acme/api
    assert_eq!(h.app.focus, Pane::Tags);
    insta::assert_snapshot!("tags", h.screen(100, 30));

    h.down(3).await; // 1.4.1
    h.cmd(Command::Open).await;
    let art = h.app.detail.ready().expect("detail loaded");
    assert_eq!(art.tags, vec!["1.4.1", "prod"]);
    assert_eq!(art.layers.len(), 2);
    insta::assert_snapshot!("detail_image", h.screen(100, 30));

    // Scrolling reaches the layers and annotations.
    h.down(12).await;
    let screen = h.screen(100, 30).to_string();
    assert!(screen.contains("Layers (2)"), "{screen}");
    insta::assert_snapshot!("detail_scrolled", h.screen(100, 30));
}

#[tokio::test]
async fn index_platforms_drill_down_and_back() {
    let mut h = Harness::new(&[]).await;
    h.cmd(Command::Open).await;
    h.down(2).await; // acme/web
    h.cmd(Command::Open).await;
    h.down(2).await; // 2.2.0
    h.cmd(Command::Open).await;
    let index = h.app.detail.ready().expect("index").clone();
    assert_eq!(index.platforms.len(), 2);
    insta::assert_snapshot!("detail_index", h.screen(100, 30));

    h.cmd(Command::Down).await;
    h.cmd(Command::Open).await;
    let child = h.app.detail.ready().expect("child");
    assert_eq!(child.platform.as_deref(), Some("linux/arm64/v8"));
    assert_eq!(child.digest, index.platforms[1].digest);
    insta::assert_snapshot!("detail_platform", h.screen(100, 30));

    h.cmd(Command::Back).await;
    assert_eq!(
        h.app.detail.ready().map(|a| a.digest.clone()),
        Some(index.digest.clone())
    );
    h.cmd(Command::Back).await;
    assert_eq!(h.app.focus, Pane::Tags);
}

#[tokio::test]
async fn help_overlay_lists_the_keymap() {
    let mut h = Harness::new(&[]).await;
    h.cmd(Command::Help).await;
    let screen = h.screen(100, 30).to_string();
    for text in ["Keys", "quit", "filter the list", "copy reference"] {
        assert!(screen.contains(text), "{text} missing from {screen}");
    }
    insta::assert_snapshot!("help", h.screen(100, 30));
    // At 80×24 every key and every description still shows whole, and so does how to close it.
    let small = h.screen(80, 24).to_string();
    assert!(!small.contains('…'), "a description was cut:\n{small}");
    for text in [
        "ctrl-c q  quit",
        "command line: :find, :digest, :env",
        "tags × environments verdict matrix",
        "? or esc closes this help",
    ] {
        assert!(small.contains(text), "{text} missing at 80×24:\n{small}");
    }
    h.cmd(Command::Back).await;
    assert!(!h.app.help);
}

#[tokio::test]
async fn small_terminal_80x24() {
    let mut h = Harness::new(&[]).await;
    h.cmd(Command::Open).await;
    h.cmd(Command::Open).await;
    h.cmd(Command::Open).await;
    insta::assert_snapshot!("small_80x24", h.screen(80, 24));
}

#[tokio::test]
async fn filter_narrows_a_list() {
    let mut h = Harness::new(&[]).await;
    h.cmd(Command::Open).await;
    h.cmd(Command::Filter).await;
    for c in "wor".chars() {
        h.act(Action::FilterInput(c)).await;
    }
    h.act(Action::FilterCommit).await;
    assert_eq!(h.app.visible_repos().len(), 1);
    insta::assert_snapshot!("filtered", h.screen(100, 30));
    h.cmd(Command::Open).await;
    assert_eq!(h.app.active_repo.as_deref(), Some("acme/worker"));
}

#[tokio::test]
async fn environment_shows_only_its_tags() {
    let mut h = Harness::new(&[]).await;
    h.down(3).await; // prod (required)
    h.cmd(Command::Open).await;
    h.cmd(Command::Open).await;
    let tags: Vec<String> = h
        .app
        .tags
        .ready()
        .expect("tags")
        .iter()
        .map(|r| r.tag.clone())
        .collect();
    assert_eq!(tags, vec!["prod"]);
    insta::assert_snapshot!("environment_prod", h.screen(100, 30));
}

#[tokio::test]
async fn unreachable_registry_shows_the_error_with_its_retry_key() {
    let mut h = Harness::new(&["127.0.0.1:9"]).await;
    h.down(1).await;
    h.cmd(Command::Open).await;
    let Slot::Failed(e) = &h.app.repos else {
        panic!("expected a failure, got {:?}", h.app.repos)
    };
    assert!(
        e.contains("cannot reach 127.0.0.1:9") && e.contains("press r to retry"),
        "{e}"
    );
    insta::assert_snapshot!("unreachable", h.screen(100, 30));
    // r retries: the pane goes back to loading and fails again, still without ending the app.
    h.cmd(Command::Refresh).await;
    assert!(matches!(h.app.repos, Slot::Failed(_)));
    assert!(!h.app.quit);
}

#[tokio::test]
async fn stale_answers_are_dropped_and_copy_gives_the_full_reference() {
    let mut h = Harness::new(&[]).await;
    h.cmd(Command::Open).await;
    let before = h.app.repos.clone();
    h.act(Action::ReposLoaded {
        generation: 0,
        result: Ok(vec!["stale/repo".into()]),
    })
    .await;
    assert_eq!(
        h.app.repos, before,
        "an answer for an older request must not land"
    );

    h.cmd(Command::Open).await;
    h.down(7).await; // prod
    h.cmd(Command::Copy).await;
    let copied = h.app.clipboard.clone().expect("copied");
    assert!(
        copied.starts_with("store/acme/api:prod@sha256:"),
        "{copied}"
    );
    assert_eq!(copied.len(), "store/acme/api:prod@sha256:".len() + 64);

    // A repository name with a newline and an escape sequence (a hostile layout): what `y`
    // copies is sanitized like what is drawn, so a paste cannot run the second line.
    h.app.repos = Slot::Ready(vec!["acme/evil\nrm -rf ~\u{1b}]52;c;eA==\u{7}".to_string()]);
    h.app.repos_view = Default::default();
    h.app.focus = Pane::Repositories;
    h.cmd(Command::Copy).await;
    let copied = h.app.clipboard.clone().expect("copied");
    assert!(
        !copied.contains('\n') && !copied.contains('\u{1b}') && !copied.contains('\u{7}'),
        "{copied:?}"
    );
}

#[tokio::test]
async fn mouse_click_selects_and_second_click_opens() {
    let mut h = Harness::new(&[]).await;
    h.cmd(Command::Open).await;
    let repos = h.app.areas().repositories;
    let row = repos.y + 1 + 2; // third repository
    h.act(Action::ClickAt {
        column: repos.x + 2,
        row,
    })
    .await;
    assert_eq!(h.app.focus, Pane::Repositories);
    assert_eq!(h.app.repos_view.selected, 2);
    h.act(Action::ClickAt {
        column: repos.x + 2,
        row,
    })
    .await;
    assert_eq!(h.app.active_repo.as_deref(), Some("acme/web"));
    let tags = h.app.areas().tags;
    h.act(Action::ScrollAt {
        column: tags.x + 3,
        row: tags.y + 3,
        down: true,
    })
    .await;
    assert_eq!(h.app.focus, Pane::Tags);
    assert_eq!(h.app.tags_view.selected, 3);
}

#[tokio::test]
async fn a_hung_registry_times_out_with_a_retry_hint_and_recovers() {
    let reg = common::Registry::start();
    let mut h = Harness::new(&[reg.host.as_str()]).await;
    reg.freeze(true);
    h.down(1).await;
    let started = std::time::Instant::now();
    h.cmd(Command::Open).await;
    let Slot::Failed(e) = &h.app.repos else {
        panic!("expected a timeout, got {:?}", h.app.repos)
    };
    assert!(
        e.contains("timed out after 2 s") && e.contains("press r to retry"),
        "{e}"
    );
    // The spinner showed while it waited: the slot was Loading until the timeout.
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
    reg.freeze(false);
    h.cmd(Command::Refresh).await;
    assert_eq!(
        h.app.repos,
        Slot::Ready(vec![]),
        "an empty registry after the retry"
    );
}

#[tokio::test]
async fn evidence_provenance_and_sbom_tabs() {
    let mut h = Harness::new(&[]).await;
    open_tag(&mut h, 0, 7).await; // acme/api:prod
    let Slot::Ready(d) = &h.app.evidence else {
        panic!("evidence: {:?}", h.app.evidence)
    };
    // Seven pieces of evidence and two approval records.
    assert_eq!(d.items.len(), 9, "{:?}", d.items);
    insta::assert_snapshot!("artifact_with_evidence", h.screen(100, 30));
    h.cmd(Command::ShowEvidence).await;
    insta::assert_snapshot!("evidence", h.screen(100, 30));
    h.cmd(Command::ShowProvenance).await;
    let screen = h.screen(100, 30).to_string();
    assert!(
        screen.contains("Built by GitHub Actions (github-hosted) from github.com/acme/api"),
        "{screen}"
    );
    insta::assert_snapshot!("provenance", h.screen(100, 30));
    h.cmd(Command::ShowSbom).await;
    insta::assert_snapshot!("sbom", h.screen(100, 30));
    // The package list is searchable.
    h.cmd(Command::Filter).await;
    for c in "grpc".chars() {
        h.act(Action::FilterInput(c)).await;
    }
    let screen = h.screen(100, 30).to_string();
    assert!(
        screen.contains("google.golang.org/grpc") && !screen.contains("go-chi"),
        "{screen}"
    );
    h.act(Action::FilterCancel).await;
    // v shows the selected item's JSON; esc closes it.
    h.cmd(Command::ShowEvidence).await;
    h.cmd(Command::Raw).await;
    let screen = h.screen(100, 30).to_string();
    assert!(
        screen.contains("\"_type\": \"https://in-toto.io/Statement/v1\""),
        "{screen}"
    );
    insta::assert_snapshot!("raw", h.screen(100, 30));
    h.cmd(Command::Back).await;
    assert!(!h.app.evidence_view.raw);
}

#[tokio::test]
async fn provenance_for_another_digest_is_flagged_not_shown() {
    let mut h = Harness::new(&[]).await;
    open_tag(&mut h, 3, 5).await; // acme/worker:staging
    h.cmd(Command::ShowProvenance).await;
    let screen = h.screen(100, 30).to_string();
    assert!(screen.contains("describes another artifact"), "{screen}");
    assert!(
        screen.contains("No provenance describes this digest"),
        "{screen}"
    );
    assert!(!screen.contains("Built by"), "{screen}");
    insta::assert_snapshot!("provenance_misbound", h.screen(100, 30));
}

#[tokio::test]
async fn verdict_strip_and_findings_per_environment() {
    let mut h = Harness::new(&[]).await;
    open_tag(&mut h, 1, 3).await; // acme/billing:3.2.0, built by an unofficial pipeline
    let labels: Vec<String> = h
        .app
        .verdicts
        .iter()
        .map(|v| format!("{} {}", v.environment, v.decision.label()))
        .collect();
    assert_eq!(labels, vec!["dev ✓ pass", "staging ⚠ warn", "prod ✗ block"]);
    let screen = h.screen(100, 30).to_string();
    assert!(
        screen.contains("dev ✓ pass · staging ⚠ warn · prod ✗ block"),
        "{screen}"
    );
    // ⏎ on the artifact opens the verdicts (the strip's findings).
    h.cmd(Command::Open).await;
    assert_eq!(h.app.tab, provost::tui::app::DetailTab::Verdicts);
    let screen = h.screen(100, 30).to_string();
    assert!(screen.contains("prod (required): ✗ block"), "{screen}");
    // Reasons wrap rather than being cut: on a taller screen every hint is there in full.
    let tall = h.screen(100, 60).to_string();
    assert!(
        tall.contains("→ rebuild with .github/workflows/release.yml"),
        "{tall}"
    );
    assert!(
        tall.contains("https://jenkins.acme.internal/job/billing-ci"),
        "{tall}"
    );
    insta::assert_snapshot!("verdicts", h.screen(100, 30));
}

#[tokio::test]
async fn tags_show_their_environment_verdict_and_the_matrix_shows_all() {
    let mut h = Harness::new(&[]).await;
    h.cmd(Command::Open).await;
    h.down(3).await; // acme/worker
    h.cmd(Command::Open).await;
    let rows = h.app.tags.ready().expect("tags").clone();
    let staging = rows
        .iter()
        .find(|r| r.tag == "staging")
        .expect("staging tag");
    assert!(
        staging
            .verdicts
            .iter()
            .any(|(e, d)| e == "staging" && *d == provost::policy::Decision::Block),
        "{:?}",
        staging.verdicts
    );
    let screen = h.screen(100, 30).to_string();
    assert!(screen.contains("GATE"), "{screen}");
    insta::assert_snapshot!("tags_with_gates", h.screen(100, 30));
    h.cmd(Command::Matrix).await;
    insta::assert_snapshot!("matrix", h.screen(100, 30));
}

#[tokio::test]
async fn quitting_while_a_write_runs_asks_first() {
    let mut h = Harness::new(&[]).await;
    // A write in flight (the harness would wait for it: the keys go straight to the app).
    h.app.writing = Some("promoting acme/api@sha256:… into prod".into());
    let _ = h.app.update(Action::Command(Command::Quit));
    assert!(!h.app.quit, "the first q asks");
    let toast = format!("{:?}", h.app.toast);
    assert!(toast.contains("press q again to quit anyway"), "{toast}");
    let _ = h.app.update(Action::Command(Command::Quit));
    assert!(h.app.quit, "the second q quits");
    // Without a write, q quits at once.
    let mut h = Harness::new(&[]).await;
    h.cmd(Command::Quit).await;
    assert!(h.app.quit);
}
