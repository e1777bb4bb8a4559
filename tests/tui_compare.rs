//! The console's compare view: marking and comparing two digests, the toggles for added,
//! removed, changed and unchanged rows, `/` search, the files of changed layers on ⏎, and
//! comparing a candidate with what an environment holds — all over the demo landscape.

mod common;

use common::tui::*;
use provost::tui::action::{Action, Command};

fn shows(h: &Harness, text: &str) -> bool {
    h.screen(140, 60).contains(text)
}

/// Moves the cursor to the first row of `section` (its header when it has none).
async fn cursor_to_section(h: &mut Harness, section: &str) {
    let at = {
        let v = h.app.compare.as_ref().expect("compare open");
        let d = v.diff.ready().expect("diff ready");
        provost::tui::compare::lines(d, v)
            .iter()
            .position(|i| matches!(i, provost::tui::compare::Item::Section(s) if s.name == section))
            .expect("section shown")
    };
    h.cmd(Command::Top).await;
    h.down(at + 1).await;
}

#[tokio::test]
async fn mark_one_digest_open_another_and_compare_them() {
    let mut h = Harness::new(&[]).await;
    // acme/billing 3.1.0 (the official pipeline), marked.
    open_tag(&mut h, 1, 0).await;
    h.cmd(Command::Mark).await;
    let toast = h.app.toast.clone().map(|t| t.text).unwrap_or_default();
    assert!(
        toast.starts_with("marked acme/billing@facadb784de9"),
        "{toast}"
    );
    // 3.2.0 (Jenkins, ci.yml), compared.
    h.cmd(Command::Back).await;
    h.down(3).await;
    h.cmd(Command::Open).await;
    h.cmd(Command::Compare).await;
    let screen = h.screen(100, 30);
    assert!(screen.contains("provenance — "), "{screen}");
    assert!(
        screen.contains("~ builder: https://github.com/actions/runner/github-hosted →"),
        "{screen}"
    );
    insta::assert_snapshot!("compare_80x24", h.screen(80, 24));
    // Scrolled to the verdicts: prod passes for A and blocks for B.
    cursor_to_section(&mut h, "verdicts").await;
    let screen = h.screen(100, 30);
    assert!(screen.contains("~ prod: ✓ pass → ✗ block"), "{screen}");
    // d closes it; the artifact is back.
    h.cmd(Command::Compare).await;
    assert!(h.app.compare.is_none());
}

#[tokio::test]
async fn toggles_search_and_the_files_of_a_changed_layer() {
    let mut h = Harness::new(&[]).await;
    // billing 3.1.0 against its rebuild that differs only in timestamps.
    open_tag(&mut h, 1, 0).await;
    h.cmd(Command::Mark).await;
    h.cmd(Command::Back).await;
    h.down(1).await;
    h.cmd(Command::Open).await;
    h.cmd(Command::Compare).await;
    assert!(shows(&h, "~ run: "), "{}", h.screen(140, 60));
    assert!(shows(&h, "equivalent ignoring timestamps"));
    // Unchanged rows are hidden until `=`; `~` hides the changed ones.
    assert!(!shows(&h, "= builder: "));
    h.cmd(Command::ToggleUnchanged).await;
    assert!(shows(
        &h,
        "= builder: https://github.com/actions/runner/github-hosted"
    ));
    h.cmd(Command::ToggleChanged).await;
    assert!(!shows(&h, "~ run: "));
    assert!(shows(&h, "showing +-="), "{}", h.screen(140, 60));
    h.cmd(Command::ToggleChanged).await;
    h.cmd(Command::ToggleUnchanged).await;
    // `/` searches keys and values: only the rows that match stay.
    h.cmd(Command::Filter).await;
    for c in "actions/runs".chars() {
        h.act(Action::FilterInput(c)).await;
    }
    h.act(Action::FilterCommit).await;
    assert!(shows(&h, "~ run: "));
    assert!(!shows(&h, "~ created: "), "{}", h.screen(140, 60));
    assert!(shows(&h, "/actions/runs"));
    h.cmd(Command::Filter).await;
    h.act(Action::FilterCancel).await;
    assert!(shows(&h, "~ created: "));
    // ⏎ on the layers section reads the files of the changed layers: the timestamps differ.
    cursor_to_section(&mut h, "layers").await;
    h.cmd(Command::Open).await;
    let screen = h.screen(140, 60);
    assert!(screen.contains("files — 3 change(s)"), "{screen}");
    assert!(
        screen.contains("~ layer 2: app/billing: … mtime 0 → … mtime 1795683600"),
        "{screen}"
    );
    // The same view at 80×24 keeps its title and cuts long rows instead of wrapping them.
    let small = h.screen(80, 24);
    assert!(small.contains("Compare · showing +-~"), "{small}");
}

#[tokio::test]
async fn compare_with_what_an_environment_holds() {
    let mut h = Harness::new(&[]).await;
    // acme/api 1.4.2 (staging holds it): D compares it with the next environment, prod, whose
    // digest (1.4.1) is A — the diff reads as the change the promotion would make.
    open_tag(&mut h, 0, 4).await;
    assert_eq!(
        h.app
            .detail
            .ready()
            .map(|a| a.tags.contains(&"1.4.2".to_string())),
        Some(true)
    );
    h.cmd(Command::Mark).await;
    h.cmd(Command::CompareEnvironment).await;
    let screen = h.screen(140, 60);
    assert!(screen.contains("(what prod holds)"), "{screen}");
    assert!(screen.contains("A acme/api@db45f1d82580"), "{screen}");
    assert!(
        screen.contains(
            "~ golang/golang.org/x/crypto: 0.21.0 (BSD-3-Clause) → 0.31.0 (BSD-3-Clause)  (version up)"
        ),
        "{screen}"
    );
    h.cmd(Command::Back).await;
    // Browsing an environment, D compares the marked candidate with what it holds.
    for _ in 0..3 {
        h.cmd(Command::Back).await;
    }
    h.down(2).await; // staging
    h.cmd(Command::Open).await;
    h.cmd(Command::Open).await; // acme/api in staging
    h.cmd(Command::CompareEnvironment).await;
    let screen = h.screen(140, 60);
    assert!(screen.contains("(what staging holds)"), "{screen}");
    assert!(screen.contains("identity — 0 change(s)"), "{screen}");
    assert!(!screen.contains("~ digest"), "{screen}");
}
