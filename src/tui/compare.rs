//! The console compares: `*` marks the digest shown, `d` on another opens the lineage diff of
//! the two over the detail pane (the same `lineage::diff` as `provost diff`), j/k scroll it,
//! esc or `d` closes it.

use super::action::Action;
use super::app::{App, Job, Slot};
use super::writes::Writer;
use crate::lineage::{self, Side};

/// One side: source, repository, digest.
pub type Target = (String, String, String);

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
        let (Some(source), Some(repo), Some(art)) = (
            self.active_source(),
            self.active_repo.clone(),
            self.detail.ready(),
        ) else {
            self.toast(true, "open the artifact to compare with (⏎ on a tag)");
            return vec![];
        };
        let b = (source, repo, art.digest.clone());
        self.compare = Some(Slot::Loading);
        self.compare_scroll = 0;
        vec![Job::Compare { a, b }]
    }

    /// The comparison arrived.
    pub(super) fn compared(&mut self, result: Result<Box<lineage::Diff>, String>) {
        if self.compare.is_some() {
            self.compare = Some(result.into());
        }
    }

    /// j/k in the comparison.
    pub(super) fn scroll_compare(&mut self, by: isize) {
        self.compare_scroll = self.compare_scroll.saturating_add_signed(by);
    }
}

impl Writer {
    async fn side(&self, (source, repo, digest): &Target) -> Result<Side, String> {
        let (src, gate) = self.parts(source)?;
        let r = crate::oci::ArtifactRef {
            registry: String::new(),
            repository: repo.clone(),
            tag: None,
            digest: Some(digest.clone()),
        };
        let artifact = crate::oci::artifact::describe(src.store.as_ref(), &r, None)
            .await
            .map_err(|e| e.to_string())?;
        let envs: Vec<crate::config::Environment> = self
            .settings
            .environments
            .iter()
            .filter(|e| e.source == *source)
            .cloned()
            .collect();
        let judgement = gate.judge(src.store.as_ref(), repo, digest, &envs).await;
        Ok(Side {
            artifact,
            judgement,
        })
    }

    /// Computes the diff of `a` and `b` in the background.
    pub fn compare(&self, a: Target, b: Target) {
        let w = self.clone();
        tokio::spawn(async move {
            let (x, y) = futures::join!(w.side(&a), w.side(&b));
            let result = match (x, y) {
                (Ok(x), Ok(y)) => Ok(Box::new(lineage::diff(&x, &y, false))),
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
            let _ = w.tx.send(Action::Compared(result));
        });
    }
}
