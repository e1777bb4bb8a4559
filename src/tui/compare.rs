//! The console compares: `*` marks the digest shown, `d` on another opens the lineage diff of
//! the two over the tags and detail panes, `D` compares the digest shown with what the open
//! environment's tag holds. Both call `lineage::compare_digests`, the service `provost diff`
//! calls. In the view: j/k move, `+ - ~ =` show or hide added / removed / changed / unchanged
//! rows, `/` searches keys and values, ⏎ on a layer reads the files of the changed layers, esc
//! or `d` closes.

use super::action::Action;
use super::app::{App, Job, Slot};
use super::writes::Writer;
use crate::lineage::{self, Change, Diff, Row};

/// One side: source, repository, digest.
pub type Target = (String, String, String);

/// A finished comparison: the diff, its two sides, and what A is when it is an environment.
#[derive(Debug, Clone)]
pub struct Compared {
    pub diff: Box<Diff>,
    pub a: Target,
    pub b: Target,
    pub environment: Option<String>,
}

/// Which rows the view shows, by change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub added: bool,
    pub removed: bool,
    pub changed: bool,
    pub unchanged: bool,
}

impl Default for Shown {
    fn default() -> Self {
        Shown {
            added: true,
            removed: true,
            changed: true,
            unchanged: false,
        }
    }
}

impl Shown {
    pub fn shows(&self, c: Change) -> bool {
        match c {
            Change::Added => self.added,
            Change::Removed => self.removed,
            Change::Changed => self.changed,
            Change::Unchanged => self.unchanged,
        }
    }

    /// "+ - ~" and so on: the marks shown, for the title.
    pub fn marks(&self) -> String {
        [
            (self.added, '+'),
            (self.removed, '-'),
            (self.changed, '~'),
            (self.unchanged, '='),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, m)| *m)
        .collect()
    }
}

/// The comparison view's state.
#[derive(Debug, Clone, Default)]
pub struct CompareView {
    pub diff: Slot<Box<Diff>>,
    pub sides: Option<(Target, Target)>,
    /// The line the cursor is on (an index into [`lines`]).
    pub cursor: usize,
    pub shown: Shown,
    /// What `/` searches for (keys and values, case-insensitive).
    pub query: String,
    /// Files were asked for (⏎ on a layer): the diff being read includes them.
    pub files: bool,
    /// The environment whose digest is A (`D`).
    pub environment: Option<String>,
}

/// One line of the view.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    Section(&'a lineage::Section),
    Note(&'a str),
    Summary(&'a str),
    Row(&'a lineage::Section, &'a Row),
}

fn matches(r: &Row, q: &str) -> bool {
    if q.is_empty() {
        return true;
    }
    let q = q.to_lowercase();
    [Some(&r.key), r.a.as_ref(), r.b.as_ref(), r.note.as_ref()]
        .into_iter()
        .flatten()
        .any(|v| v.to_lowercase().contains(&q))
}

/// The lines the view shows, in order: each section, its note and summary, and its rows the
/// toggles and the search let through (unchanged rows after the changes).
pub fn lines<'a>(d: &'a Diff, v: &CompareView) -> Vec<Item<'a>> {
    let mut out = vec![];
    for s in &d.sections {
        out.push(Item::Section(s));
        if let Some(n) = &s.note {
            out.push(Item::Note(n));
        }
        out.extend(s.summary.iter().map(|l| Item::Summary(l)));
        out.extend(
            s.rows
                .iter()
                .chain(&s.same)
                .filter(|r| v.shown.shows(r.change) && matches(r, &v.query))
                .map(|r| Item::Row(s, r)),
        );
    }
    out
}

impl App {
    /// Marks the artifact shown as the left side of a comparison.
    pub(super) fn mark(&mut self) {
        let (Some(source), Some(repo), Some(a)) = (
            self.active_source(),
            self.active_repo.clone(),
            self.detail.ready(),
        ) else {
            self.toast(true, "open an artifact first (⏎ on a tag)");
            return;
        };
        let short = crate::oci::digest::short(&a.digest).to_string();
        self.marked = Some((source, repo.clone(), a.digest.clone()));
        self.toast(
            false,
            format!("marked {repo}@{short}: open another digest and press d to compare"),
        );
    }

    fn shown_target(&mut self, what: &str) -> Option<Target> {
        match (
            self.active_source(),
            self.active_repo.clone(),
            self.detail.ready(),
        ) {
            (Some(source), Some(repo), Some(art)) => Some((source, repo, art.digest.clone())),
            _ => {
                self.toast(true, format!("open {what} (⏎ on a tag)"));
                None
            }
        }
    }

    fn open_compare(&mut self, job: Job) -> Vec<Job> {
        self.compare = Some(CompareView {
            diff: Slot::Loading,
            ..CompareView::default()
        });
        vec![job]
    }

    /// Opens (or closes) the comparison of the marked digest with the one shown.
    pub(super) fn toggle_compare(&mut self) -> Vec<Job> {
        if self.compare.take().is_some() {
            return vec![];
        }
        let Some(a) = self.marked.clone() else {
            self.toast(
                true,
                "mark a digest first (* on an artifact), then open another",
            );
            return vec![];
        };
        let Some(b) = self.shown_target("the artifact to compare with") else {
            return vec![];
        };
        self.open_compare(Job::Compare { a, b, files: false })
    }

    /// `D`: a candidate (B) against what an environment's tag holds (A). Browsing an
    /// environment, the candidate is the marked digest; elsewhere it is the digest shown, and
    /// the environment is the one it would be promoted to next.
    pub(super) fn compare_with_environment(&mut self) -> Vec<Job> {
        if let Some(env) = self.active_environment().cloned() {
            if env.moving_tag().is_none() {
                self.toast(
                    true,
                    format!("{} has no single tag to compare with", env.name),
                );
                return vec![];
            }
            let Some(b) = self.marked.clone() else {
                self.toast(
                    true,
                    format!(
                        "mark a candidate first (* on a digest), then D here compares it with what {} holds",
                        env.name
                    ),
                );
                return vec![];
            };
            return self.open_compare(Job::CompareEnvironment {
                environment: Some(env.name),
                b,
            });
        }
        let Some(b) = self.shown_target("the candidate") else {
            return vec![];
        };
        self.open_compare(Job::CompareEnvironment {
            environment: None,
            b,
        })
    }

    /// The comparison arrived.
    pub(super) fn compared(&mut self, result: Result<Compared, String>) {
        let Some(v) = &mut self.compare else { return };
        match result {
            Ok(Compared {
                diff: d,
                a,
                b,
                environment,
            }) => {
                if environment.is_some() {
                    v.environment = environment;
                }
                // Files asked for: jump to the first files section.
                if v.files {
                    v.cursor = 0;
                    v.diff = Slot::Ready(d);
                    if let Slot::Ready(d) = &v.diff {
                        let at = lines(d, v).iter().position(
                            |i| matches!(i, Item::Section(s) if s.name.starts_with("files")),
                        );
                        v.cursor = at.unwrap_or(0);
                    }
                } else {
                    v.diff = Slot::Ready(d);
                }
                v.sides = Some((a, b));
            }
            Err(e) => v.diff = Slot::Failed(e),
        }
    }

    /// j/k and paging in the comparison.
    pub(super) fn move_compare(&mut self, by: isize) {
        let Some(v) = &mut self.compare else { return };
        let n = match &v.diff {
            Slot::Ready(d) => lines(d, v).len(),
            _ => 0,
        };
        v.cursor = v.cursor.saturating_add_signed(by).min(n.saturating_sub(1));
    }

    /// `+ - ~ =`: shows or hides a kind of row.
    pub(super) fn toggle_shown(&mut self, c: Change) {
        let Some(v) = &mut self.compare else {
            self.toast(true, "that key filters the comparison view (d to open one)");
            return;
        };
        let flag = match c {
            Change::Added => &mut v.shown.added,
            Change::Removed => &mut v.shown.removed,
            Change::Changed => &mut v.shown.changed,
            Change::Unchanged => &mut v.shown.unchanged,
        };
        *flag = !*flag;
        v.cursor = 0;
    }

    /// ⏎ in the comparison: on a layers section, read the files of the changed layers.
    pub(super) fn compare_open(&mut self) -> Vec<Job> {
        let Some(v) = &mut self.compare else {
            return vec![];
        };
        let Slot::Ready(d) = &v.diff else {
            return vec![];
        };
        let on_layers = match lines(d, v).get(v.cursor) {
            Some(Item::Section(s)) | Some(Item::Row(s, _)) => s.name.starts_with("layers"),
            _ => false,
        };
        if !on_layers || v.files {
            return vec![];
        }
        let Some((a, b)) = v.sides.clone() else {
            return vec![];
        };
        v.files = true;
        v.diff = Slot::Loading;
        vec![Job::Compare { a, b, files: true }]
    }
}

impl Writer {
    fn input<'a>(
        &self,
        (src, gate): &'a (crate::setup::NamedSource, std::sync::Arc<crate::gate::Gate>),
        (_, repo, digest): &'a Target,
        envs: &'a [crate::config::Environment],
    ) -> lineage::Input<'a, crate::oci::source::Source> {
        lineage::Input {
            store: src.store.as_ref(),
            repository: repo,
            digest,
            gate: gate.as_ref(),
            environments: envs,
        }
    }

    fn environments(&self, source: &str) -> Vec<crate::config::Environment> {
        self.settings
            .environments
            .iter()
            .filter(|e| e.source == source)
            .cloned()
            .collect()
    }

    async fn diff(&self, a: &Target, b: &Target, files: bool) -> Result<Box<Diff>, String> {
        let (pa, pb) = (self.parts(&a.0)?, self.parts(&b.0)?);
        let (ea, eb) = (self.environments(&a.0), self.environments(&b.0));
        let opts = lineage::Options {
            show_values: false,
            files: if files {
                lineage::Files::Layers
            } else {
                lineage::Files::None
            },
        };
        lineage::compare_digests(self.input(&pa, a, &ea), self.input(&pb, b, &eb), opts)
            .await
            .map(Box::new)
    }

    /// Computes the diff of `a` and `b` in the background.
    pub fn compare(&self, a: Target, b: Target, files: bool) {
        let w = self.clone();
        tokio::spawn(async move {
            let result = w.diff(&a, &b, files).await.map(|diff| Compared {
                diff,
                a,
                b,
                environment: None,
            });
            let _ = w.tx.send(Action::Compared(result));
        });
    }

    /// What `e` holds of `b`'s repository: (source, repository, digest).
    async fn held(&self, e: &crate::config::Environment, b: &Target) -> Result<Target, String> {
        let name = self
            .settings
            .environments
            .iter()
            .find(|x| x.source == b.0 && x.tracks_repository(&b.1))
            .and_then(|x| x.name_in(&b.1))
            .unwrap_or_else(|| b.1.clone());
        let repo = e.repository_for(&name);
        let tag = e
            .moving_tag()
            .ok_or_else(|| format!("{} has no single tag", e.name))?;
        let (src, _) = self.parts(&e.source)?;
        use crate::oci::Store;
        let digest = src
            .store
            .resolve(&repo, tag)
            .await
            .map_err(|err| format!("{} holds nothing at {repo}:{tag}: {err}", e.name))?;
        Ok((e.source.clone(), repo, digest))
    }

    /// The environment `b` would be promoted to next, in the order provost.toml lists them:
    /// the one after the last that holds it (the first when none does).
    async fn next_environment(&self, b: &Target) -> Result<crate::config::Environment, String> {
        let path: Vec<&crate::config::Environment> = self
            .settings
            .environments
            .iter()
            .filter(|e| e.moving_tag().is_some())
            .collect();
        let mut next = 0;
        for (i, e) in path.iter().enumerate() {
            if self.held(e, b).await.is_ok_and(|h| h.2 == b.2) {
                next = i + 1;
            }
        }
        path.get(next).map(|e| (*e).clone()).ok_or_else(|| {
            format!(
                "every environment up to {} already holds {}",
                path.last().map(|e| e.name.as_str()).unwrap_or("the last"),
                crate::oci::digest::short(&b.2)
            )
        })
    }

    /// Compares what `environment` (else the next one on the path) holds of `b`'s repository
    /// (A) with `b`.
    pub fn compare_environment(&self, environment: Option<String>, b: Target) {
        let w = self.clone();
        tokio::spawn(async move {
            let result = async {
                let e = match environment {
                    Some(name) => w.settings.environment(&name)?.clone(),
                    None => w.next_environment(&b).await?,
                };
                let a = w.held(&e, &b).await?;
                w.diff(&a, &b, false).await.map(|diff| Compared {
                    diff,
                    a,
                    b,
                    environment: Some(e.name.clone()),
                })
            }
            .await;
            let _ = w.tx.send(Action::Compared(result));
        });
    }
}
