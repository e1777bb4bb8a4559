//! `App::update`: actions in, state changes and job requests out. No I/O here.

use super::action::{Action, Command};
use super::app::{App, DetailTab, DetailView, Job, Slot, TagRow};
use super::layout::{inner_rows, window_offset, Pane};
use super::list::ListView;

impl App {
    /// Applies one action; returns the jobs to start.
    pub fn update(&mut self, action: Action) -> Vec<Job> {
        match action {
            Action::Command(c) => return self.command(c),
            Action::FilterInput(ch) => {
                self.filter_mut().push(ch);
                self.reset_selection();
            }
            Action::FilterBackspace => {
                self.filter_mut().pop();
                self.reset_selection();
            }
            Action::FilterCommit => self.editing_filter = false,
            Action::CommandInput(c) => self.command_input(c),
            Action::CommandBackspace => {
                self.command.text.pop();
            }
            Action::CommandHistory(up) => self.command_history(up),
            Action::CommandSubmit => return self.command_submit(),
            Action::CommandCancel => {
                self.command.open = false;
                self.command.text.clear();
            }
            Action::ResultsLoaded(r) => self.results_loaded(r),
            Action::ResultsProgress(p) => self.results_progress(p),
            Action::FilterCancel => {
                self.filter_mut().clear();
                self.editing_filter = false;
                self.reset_selection();
            }
            Action::Tick => {
                self.tick += 1;
                if self
                    .toast
                    .as_ref()
                    .is_some_and(|t| t.until_tick <= self.tick)
                {
                    self.toast = None;
                }
            }
            Action::Resize(w, h) => self.size = (w, h),
            Action::ScrollAt { column, row, down } => {
                if let Some(p) = self.areas().hit(column, row) {
                    self.focus = p;
                    self.move_selection(if down { 3 } else { -3 });
                }
            }
            Action::ClickAt { column, row } => return self.click(column, row),
            Action::ModalKey(k) => return self.modal_key(k),
            Action::Planned { request, result } => self.planned(request, result),
            Action::Written { request, result } => return self.written(request, result),
            Action::AuditLoaded { result, .. } => self.audit_loaded(result),
            Action::DriftLoaded(d) => {
                // Said once, when first seen: a tag behind its chain (moved by hand, or a
                // promotion stopped — a kill or a quit — after its record and before its tag).
                if self.drifted.is_empty() {
                    if let Some((env, repo)) = d.first() {
                        self.toast(
                            true,
                            format!(
                                "{}'s tag in {} is not where its chain says (moved outside provost, or a promotion stopped before its tag): promote again, or see provost drift",
                                crate::text::sanitize(env),
                                crate::text::sanitize(repo)
                            ),
                        );
                    }
                }
                self.drifted = d;
            }
            Action::Compared(result) => self.compared(result),
            Action::WriteProgress { text, cancellable } => {
                if self.writing.is_some() {
                    self.writing = Some(text);
                    self.cancellable = cancellable;
                }
            }
            Action::ReposLoaded { generation, result } => {
                if generation == self.generations[0] {
                    self.repos = result.into();
                    self.repos_view.clamp(self.visible_repos().len());
                }
            }
            Action::TagsLoaded { generation, result } => {
                if generation == self.generations[1] {
                    self.tags = match result {
                        Ok(tags) => Slot::Ready(
                            tags.into_iter()
                                .map(|tag| TagRow {
                                    tag,
                                    summary: Slot::Loading,
                                    verdicts: vec![],
                                })
                                .collect(),
                        ),
                        Err(e) => Slot::Failed(e),
                    };
                    self.tags_view.clamp(self.visible_tags().len());
                }
            }
            Action::TagSummaryLoaded {
                generation,
                tag,
                result,
            } => {
                if let Some(row) = self.tag_row(generation, &tag) {
                    row.summary = result.into();
                }
            }
            Action::DetailLoaded { generation, result } => {
                if generation == self.generations[2] {
                    self.detail = result.into();
                    self.detail_view.scroll = 0;
                    self.detail_view.platform = 0;
                    // Evidence follows the artifact: discovery starts as soon as the digest is known.
                    return self.load_evidence();
                }
            }
            Action::TagVerdictsLoaded {
                generation,
                tag,
                result,
            } => {
                if let Some(row) = self.tag_row(generation, &tag) {
                    row.verdicts = result;
                }
            }
            Action::EvidenceLoaded { generation, result } => {
                if generation == self.generations[3] {
                    match result {
                        Ok(j) => {
                            let j = *j;
                            self.verdicts = j.verdicts;
                            self.trail = j.trail;
                            self.evidence = Slot::Ready(Box::new(j.discovery));
                        }
                        Err(e) => {
                            self.verdicts.clear();
                            self.trail = None;
                            self.evidence = Slot::Failed(e);
                        }
                    }
                    self.evidence_view = Default::default();
                }
            }
        }
        vec![]
    }

    /// The row of `tag` when `generation` is the current tag listing's.
    fn tag_row(&mut self, generation: u64, tag: &str) -> Option<&mut TagRow> {
        if generation != self.generations[1] {
            return None;
        }
        match &mut self.tags {
            Slot::Ready(rows) => rows.iter_mut().find(|r| r.tag == tag),
            _ => None,
        }
    }

    fn filter_mut(&mut self) -> &mut String {
        if let Some(v) = &mut self.compare {
            return &mut v.query;
        }
        match self.focus {
            Pane::Sources => &mut self.sources_view.filter,
            Pane::Repositories => &mut self.repos_view.filter,
            Pane::Tags => &mut self.tags_view.filter,
            Pane::Detail => &mut self.detail_view.filter,
        }
    }

    fn reset_selection(&mut self) {
        if let Some(v) = &mut self.compare {
            v.cursor = 0;
            return;
        }
        match self.focus {
            Pane::Sources => self.sources_view.selected = 0,
            Pane::Repositories => self.repos_view.selected = 0,
            Pane::Tags => self.tags_view.selected = 0,
            Pane::Detail => self.detail_view.scroll = 0,
        }
    }

    fn page(&self) -> isize {
        let a = self.areas();
        inner_rows(a.of(self.focus), self.focus == Pane::Tags).max(1) as isize
    }

    fn move_selection(&mut self, delta: isize) {
        match self.focus {
            Pane::Sources => {
                let n = self.visible_sources().len();
                self.sources_view.step(delta, n)
            }
            Pane::Repositories => {
                let n = self.visible_repos().len();
                self.repos_view.step(delta, n)
            }
            Pane::Tags => {
                let n = self.visible_tags().len();
                self.tags_view.step(delta, n)
            }
            Pane::Detail if self.tab == DetailTab::Evidence && !self.evidence_view.raw => {
                let n = self.evidence.ready().map(|d| d.items.len()).unwrap_or(0);
                let next =
                    (self.evidence_view.selected as isize + delta).clamp(0, n.max(1) as isize - 1);
                self.evidence_view.selected = next as usize;
            }
            Pane::Detail => {
                let platforms = match self.tab {
                    DetailTab::Artifact => {
                        self.detail.ready().map(|a| a.platforms.len()).unwrap_or(0)
                    }
                    _ => 0,
                };
                if platforms > 0 {
                    let next = (self.detail_view.platform as isize + delta)
                        .clamp(0, platforms as isize - 1);
                    self.detail_view.platform = next as usize;
                } else {
                    let next = (self.detail_view.scroll as isize + delta).max(0);
                    self.detail_view.scroll = next as usize;
                }
            }
        }
    }

    fn command(&mut self, c: Command) -> Vec<Job> {
        if self.help {
            match c {
                Command::Quit => self.request_quit(),
                Command::Help | Command::Back => self.help = false,
                _ => {}
            }
            return vec![];
        }
        if self.results.is_some() {
            match c {
                Command::Up => self.results_move(-1),
                Command::Down => self.results_move(1),
                Command::PageUp => self.results_move(-self.page()),
                Command::PageDown => self.results_move(self.page()),
                Command::Top => self.results_move(-(isize::MAX / 2)),
                Command::Bottom => self.results_move(isize::MAX / 2),
                Command::Open => return self.results_open(),
                Command::Mark => self.results_select(),
                Command::Quarantine => return self.results_quarantine(),
                Command::Back => self.results = None,
                Command::CommandLine => self.command_open(),
                Command::Quit => self.request_quit(),
                Command::Help => self.help = true,
                _ => {}
            }
            return vec![];
        }
        if self.compare.is_some() {
            match c {
                Command::Up => return self.scroll_then(-1),
                Command::Down => return self.scroll_then(1),
                Command::PageUp => return self.scroll_then(-self.page()),
                Command::PageDown => return self.scroll_then(self.page()),
                Command::Top => return self.scroll_then(-(isize::MAX / 2)),
                Command::Bottom => return self.scroll_then(isize::MAX / 2),
                Command::Open => return self.compare_open(),
                Command::Filter => {
                    self.editing_filter = true;
                    return vec![];
                }
                Command::Back | Command::Compare | Command::CompareEnvironment => {
                    self.compare = None;
                    return vec![];
                }
                _ => {}
            }
        }
        match c {
            Command::Quit => self.request_quit(),
            Command::Help => self.help = true,
            Command::Up => self.move_selection(-1),
            Command::Down => self.move_selection(1),
            Command::Top => self.move_selection(-(isize::MAX / 2)),
            Command::Bottom => self.move_selection(isize::MAX / 2),
            Command::PageUp => self.move_selection(-self.page()),
            Command::PageDown => self.move_selection(self.page()),
            Command::NextPane | Command::PrevPane => {
                let i = Pane::ALL.iter().position(|p| *p == self.focus).unwrap_or(0);
                let step = if c == Command::NextPane { 1 } else { 3 };
                self.focus = Pane::ALL[(i + step) % 4];
            }
            Command::Filter => self.editing_filter = true,
            Command::CommandLine => self.command_open(),
            Command::Open => return self.open(),
            Command::Back if self.writing.is_some() && self.cancellable => {
                self.cancellable = false;
                self.toast(false, "cancelling: the promotion stops before its record");
                return vec![Job::CancelWrite];
            }
            Command::Back => return self.back(),
            Command::Refresh => return self.refresh(),
            Command::Copy => self.copy(),
            Command::ShowArtifact => self.show(DetailTab::Artifact),
            Command::ShowEvidence => self.show(DetailTab::Evidence),
            Command::ShowProvenance => self.show(DetailTab::Provenance),
            Command::ShowSbom => self.show(DetailTab::Sbom),
            Command::ShowVerdicts => self.show(DetailTab::Verdicts),
            Command::Matrix => {
                self.matrix = !self.matrix;
                self.focus = Pane::Tags;
            }
            Command::ShowHistory => self.show(DetailTab::History),
            Command::Approve => return self.compose(true, false),
            Command::Reject => return self.compose(true, true),
            Command::Quarantine => return self.compose(false, false),
            Command::Lift => return self.compose(false, true),
            Command::Audit => return self.toggle_audit(),
            Command::Mark => self.mark(),
            Command::Compare => return self.toggle_compare(),
            Command::CompareEnvironment => return self.compare_with_environment(),
            Command::ToggleAdded => self.toggle_shown(crate::lineage::Change::Added),
            Command::ToggleRemoved => self.toggle_shown(crate::lineage::Change::Removed),
            Command::ToggleChanged => self.toggle_shown(crate::lineage::Change::Changed),
            Command::ToggleUnchanged => self.toggle_shown(crate::lineage::Change::Unchanged),
            Command::Promote => return self.compose_move(true),
            Command::Rollback => return self.compose_move(false),
            Command::Raw => {
                if self.tab == DetailTab::Artifact {
                    self.tab = DetailTab::Evidence;
                }
                self.focus = Pane::Detail;
                self.evidence_view.raw = !self.evidence_view.raw;
                self.detail_view.scroll = 0;
            }
        }
        vec![]
    }

    fn show(&mut self, tab: DetailTab) {
        self.tab = tab;
        self.focus = Pane::Detail;
        self.evidence_view.raw = false;
        self.detail_view.scroll = 0;
    }

    pub(super) fn load_evidence(&mut self) -> Vec<Job> {
        let (Some(source), Some(repository), Some(a)) = (
            self.active_source(),
            self.active_repo.clone(),
            self.detail.ready(),
        ) else {
            return vec![];
        };
        let digest = a.digest.clone();
        let index = self.detail_view.stack.last().map(|p| p.digest.clone());
        let generation = self.next_generation(3);
        self.evidence = Slot::Loading;
        vec![Job::Evidence {
            generation,
            source,
            repository,
            digest,
            index,
        }]
    }

    fn open(&mut self) -> Vec<Job> {
        match self.focus {
            Pane::Sources => {
                let vis = self.visible_sources();
                let Some(&i) = vis.get(self.sources_view.selected) else {
                    return vec![];
                };
                self.active_item = Some(i);
                self.focus = Pane::Repositories;
                self.repos_view = ListView::default();
                self.tags = Slot::Idle;
                self.detail = Slot::Idle;
                self.active_repo = None;
                self.load_repos()
            }
            Pane::Repositories => {
                let Some(repo) = self.selected_repo() else {
                    return vec![];
                };
                self.active_repo = Some(repo);
                self.focus = Pane::Tags;
                self.tags_view = ListView::default();
                self.detail = Slot::Idle;
                self.load_tags()
            }
            Pane::Tags => {
                let Some(row) = self.selected_tag() else {
                    return vec![];
                };
                let reference = row
                    .summary
                    .ready()
                    .map(|s| s.digest.clone())
                    .unwrap_or_else(|| row.tag.clone());
                self.focus = Pane::Detail;
                self.detail_view = DetailView::default();
                self.load_detail(reference)
            }
            Pane::Detail if self.tab == DetailTab::Evidence => {
                self.evidence_view.raw = !self.evidence_view.raw;
                self.detail_view.scroll = 0;
                vec![]
            }
            Pane::Detail if self.tab != DetailTab::Artifact => vec![],
            Pane::Detail => {
                let Some(art) = self.detail.ready() else {
                    return vec![];
                };
                let Some(p) = art.platforms.get(self.detail_view.platform) else {
                    // A single image: ⏎ on the artifact opens its verdicts, every finding with
                    // what it would take.
                    if !self.verdicts.is_empty() {
                        self.show(DetailTab::Verdicts);
                    }
                    return vec![];
                };
                let child = p.digest.clone();
                let parent = art.clone();
                self.detail_view.stack.push(parent);
                self.load_detail(child)
            }
        }
    }

    fn scroll_then(&mut self, by: isize) -> Vec<Job> {
        self.move_compare(by);
        vec![]
    }

    fn back(&mut self) -> Vec<Job> {
        if self.editing_filter {
            self.editing_filter = false;
            return vec![];
        }
        if self.audit.take().is_some() {
            return vec![];
        }
        if self.focus == Pane::Detail && self.evidence_view.raw {
            self.evidence_view.raw = false;
            return vec![];
        }
        match self.focus {
            Pane::Detail => match self.detail_view.stack.pop() {
                Some(parent) => {
                    // Pop back to the index: a stale child load must not land on it.
                    self.generations[2] += 1;
                    self.detail = Slot::Ready(parent);
                    self.detail_view.scroll = 0;
                    return self.load_evidence();
                }
                None => self.focus = Pane::Tags,
            },
            Pane::Tags => self.focus = Pane::Repositories,
            Pane::Repositories => self.focus = Pane::Sources,
            Pane::Sources => {}
        }
        vec![]
    }

    fn refresh(&mut self) -> Vec<Job> {
        match self.focus {
            Pane::Sources | Pane::Repositories => self.load_repos(),
            Pane::Tags => self.load_tags(),
            Pane::Detail => match self.detail.ready() {
                Some(a) => {
                    let d = a.digest.clone();
                    self.load_detail(d)
                }
                None => match self.selected_tag() {
                    Some(r) => {
                        let t = r.tag.clone();
                        self.load_detail(t)
                    }
                    None => vec![],
                },
            },
        }
    }

    /// The full reference of what is selected: `host/repo@digest` for a registry, or
    /// `store/repo@digest`, which provost's CLI accepts.
    pub fn selected_reference(&self) -> Option<String> {
        let source = self.active_source()?;
        let prefix = self
            .hosts
            .iter()
            .find(|(n, _)| *n == source)
            .and_then(|(_, h)| h.clone())
            .unwrap_or(source);
        match self.focus {
            Pane::Sources => None,
            Pane::Repositories => self.selected_repo().map(|r| format!("{prefix}/{r}")),
            Pane::Tags => {
                let row = self.selected_tag()?;
                let repo = self.active_repo.as_ref()?;
                Some(match row.summary.ready() {
                    Some(s) => format!("{prefix}/{repo}:{}@{}", row.tag, s.digest),
                    None => format!("{prefix}/{repo}:{}", row.tag),
                })
            }
            Pane::Detail => {
                let a = self.detail.ready()?;
                Some(format!("{prefix}/{}@{}", a.repository, a.digest))
            }
        }
    }

    fn copy(&mut self) {
        match self.selected_reference() {
            Some(r) => {
                // What is copied is what is drawn: sanitized, so pasting it into a shell can
                // never run a newline or an escape sequence that a layout's names held.
                let r = crate::text::sanitize(&r).to_string();
                self.toast(false, format!("copied {r}"));
                self.clipboard = Some(r);
            }
            None => self.toast(
                true,
                "nothing to copy here: select a repository, tag or artifact",
            ),
        }
    }

    fn click(&mut self, column: u16, row: u16) -> Vec<Job> {
        let areas = self.areas();
        let Some(pane) = areas.hit(column, row) else {
            return vec![];
        };
        self.focus = pane;
        let r = areas.of(pane);
        let header = pane == Pane::Tags;
        let first = r.y + 1 + header as u16;
        if row < first || pane == Pane::Detail {
            return vec![];
        }
        let height = inner_rows(r, header);
        let (selected, len) = match pane {
            Pane::Sources => (self.sources_view.selected, self.visible_sources().len()),
            Pane::Repositories => (self.repos_view.selected, self.visible_repos().len()),
            Pane::Tags => (self.tags_view.selected, self.visible_tags().len()),
            Pane::Detail => return vec![],
        };
        let index = window_offset(selected, height) + (row - first) as usize;
        if index >= len {
            return vec![];
        }
        let already = index == selected;
        match pane {
            Pane::Sources => self.sources_view.selected = index,
            Pane::Repositories => self.repos_view.selected = index,
            Pane::Tags => self.tags_view.selected = index,
            Pane::Detail => {}
        }
        // A click on the selected row opens it, like a double click.
        if already {
            self.open()
        } else {
            vec![]
        }
    }
}
