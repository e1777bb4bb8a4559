//! The console under test: a real `App` over a fresh demo layout, its jobs run for real until
//! nothing is loading, frames drawn into ratatui's TestBackend with the per-store key
//! fingerprints redacted.

use provost::setup::{Overrides, Settings};
use provost::tui::action::{Action, Command};
use provost::tui::app::{App, Slot};
use provost::tui::jobs::Jobs;
use provost::tui::keymap::Keymap;
use provost::tui::panes::render;
use provost::tui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

pub struct Harness {
    /// The demo key's fingerprint: fresh per store, so snapshots show it redacted.
    pub fingerprint: String,
    /// The demo people's fingerprints, redacted likewise.
    pub people: Vec<String>,
    pub app: App,
    pub jobs: Jobs,
    pub rx: UnboundedReceiver<Action>,
    pub settings: Settings,
    pub _tmp: tempfile::TempDir,
}

pub fn busy(app: &App) -> bool {
    matches!(app.modal, Some(provost::tui::modal::Modal::Planning { .. }))
        || app.writing.is_some()
        || matches!(app.audit, Some(Slot::Loading))
        || app.compare.as_ref().is_some_and(|v| matches!(v.diff, Slot::Loading))
        || app.results.as_ref().is_some_and(|v| matches!(v.rows, Slot::Loading))
        || matches!(app.repos, Slot::Loading)
        || matches!(app.detail, Slot::Loading)
        || matches!(app.evidence, Slot::Loading)
        || match &app.tags {
            Slot::Loading => true,
            Slot::Ready(rows) => rows.iter().any(|r| {
                matches!(r.summary, Slot::Loading)
                    // Verdicts per tag arrive in the background for sources with environments.
                    || (matches!(r.summary, Slot::Ready(_)) && r.verdicts.is_empty() && !app.environments.is_empty())
            }),
            _ => false,
        }
}

impl Harness {
    pub async fn new(extra_insecure: &[&str]) -> Harness {
        let tmp = tempfile::tempdir().expect("tmp");
        let store = tmp.path().join("demo");
        let data = tmp.path().join("data");
        provost::demo::reset(&store, &data)
            .await
            .expect("seed demo");
        let fingerprint = provost::demo::keys::trusted_key(&data, &store)
            .and_then(|pem| provost::verify::keys::fingerprint_of_pem(&pem))
            .expect("the demo key is recorded as trusted");
        let people = provost::demo::keys::trusted_people(&data, &store)
            .iter()
            .filter_map(|(_, pem)| provost::verify::keys::fingerprint_of_pem(pem))
            .collect();
        let config = tmp.path().join("provost.toml");
        std::fs::write(&config, "timeout_secs = 2\n").expect("config");
        let settings = Settings::load(&Overrides {
            config: Some(config),
            store: Some(store),
            insecure_registries: extra_insecure.iter().map(|s| s.to_string()).collect(),
            data_dir: Some(data),
            ..Default::default()
        })
        .await
        .expect("settings");
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut jobs = Jobs::new(&settings, tx).expect("gates");
        jobs.clock = Some(
            chrono::DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
                .expect("time")
                .with_timezone(&chrono::Utc),
        );
        let mut app = App::new(&settings, Keymap::default_keymap());
        app.size = (100, 30);
        app.clock = Some(
            chrono::DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
                .expect("time")
                .with_timezone(&chrono::Utc),
        );
        Harness {
            fingerprint,
            people,
            app,
            jobs,
            rx,
            settings,
            _tmp: tmp,
        }
    }

    /// Applies an action and runs the jobs it starts until nothing is loading.
    pub async fn act(&mut self, action: Action) {
        for job in self.app.update(action) {
            self.jobs.start(job);
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while busy(&self.app) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.rx.recv()).await {
                Ok(Some(a)) => {
                    for job in self.app.update(a) {
                        self.jobs.start(job);
                    }
                }
                _ => panic!("jobs did not finish"),
            }
        }
    }

    pub async fn cmd(&mut self, c: Command) {
        self.act(Action::Command(c)).await
    }

    pub async fn down(&mut self, n: usize) {
        for _ in 0..n {
            self.cmd(Command::Down).await;
        }
    }

    /// The demo layout the console browses.
    pub fn app_store(&self) -> std::sync::Arc<provost::oci::Source> {
        self.settings.sources[0].store.clone()
    }

    /// The screen as text, the demo key's fingerprint (and its truncations) redacted.
    pub fn screen(&self, w: u16, h: u16) -> String {
        let mut text = format!("{}", self.draw(w, h).backend());
        for (i, fp) in std::iter::once(&self.fingerprint)
            .chain(&self.people)
            .enumerate()
        {
            let mark = ["F", "A", "B", "C"][i.min(3)];
            for n in (6..=16).rev() {
                let prefix: String = fp.chars().take(n).collect();
                text = text.replace(&prefix, &mark.repeat(n));
            }
        }
        text
    }

    pub fn draw(&self, w: u16, h: u16) -> Terminal<TestBackend> {
        let mut app = self.app.clone();
        app.size = (w, h);
        let theme = Theme::load("default", true).expect("theme");
        let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        t.draw(|f| render(&app, &theme, f)).expect("draw");
        t
    }
}

/// Opens the `repo_down`-th repository and its `tag_down`-th tag.
pub async fn open_tag(h: &mut Harness, repo_down: usize, tag_down: usize) {
    h.cmd(Command::Open).await;
    h.down(repo_down).await;
    h.cmd(Command::Open).await;
    h.down(tag_down).await;
    h.cmd(Command::Open).await;
}

/// One key to the open dialog.
pub fn key(
    h: &mut Harness,
    k: provost::tui::modal::ModalKey,
) -> impl std::future::Future<Output = ()> + '_ {
    h.act(Action::ModalKey(k))
}
