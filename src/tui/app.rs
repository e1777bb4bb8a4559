//! The one `App` state and `update`, which turns actions into state changes and job requests.
//! `update` never does I/O: it returns the `Job`s the loop should start.

use super::keymap::Keymap;
use super::layout::{Areas, Pane};
use super::list::ListView;
use crate::config::Environment;
use crate::oci::artifact::{Artifact, TagSummary};
use crate::setup::Settings;
use ratatui::layout::Rect;

/// Data that arrives from a background job.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Slot<T> {
    #[default]
    Idle,
    Loading,
    Ready(T),
    Failed(String),
}

impl<T> From<Result<T, String>> for Slot<T> {
    fn from(r: Result<T, String>) -> Self {
        match r {
            Ok(t) => Slot::Ready(t),
            Err(e) => Slot::Failed(e),
        }
    }
}

impl<T> Slot<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Slot::Ready(t) => Some(t),
            _ => None,
        }
    }
}

/// An entry of the sources pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceItem {
    Source {
        name: String,
        kind: String,
        location: String,
    },
    Environment(Environment),
}

impl SourceItem {
    /// The text the filter matches and the list shows.
    pub fn label(&self) -> String {
        match self {
            SourceItem::Source { name, .. } => name.clone(),
            SourceItem::Environment(e) => format!("{} ({})", e.name, e.tier),
        }
    }
    fn source_name(&self) -> &str {
        match self {
            SourceItem::Source { name, .. } => name,
            SourceItem::Environment(e) => &e.source,
        }
    }
}

/// One row of the tags pane: the tag now, its summary when it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRow {
    pub tag: String,
    pub summary: Slot<TagSummary>,
    /// The tag's verdict per environment, once computed in the background.
    pub verdicts: Vec<(String, crate::policy::Decision)>,
}

/// Detail pane state: scroll, the selected platform of an index, and the drill-down stack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetailView {
    pub scroll: usize,
    pub platform: usize,
    pub stack: Vec<Box<Artifact>>,
    pub filter: String,
}

/// A transient message in the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub error: bool,
    pub text: String,
    pub until_tick: u64,
}

/// Work for the background: each carries the generation it answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    Repos {
        generation: u64,
        source: String,
        repository_glob: Option<String>,
    },
    Tags {
        generation: u64,
        source: String,
        repository: String,
        tag_glob: Option<String>,
    },
    Detail {
        generation: u64,
        source: String,
        repository: String,
        reference: String,
        known_tags: Vec<(String, String)>,
    },
    Evidence {
        generation: u64,
        source: String,
        repository: String,
        digest: String,
        /// The index this digest was opened from (its signature covers the platform).
        index: Option<String>,
    },
    /// Plan a record: check who may write it and build the statement.
    Plan { request: super::modal::Request },
    /// Sign and write a record (queued: navigation never aborts it).
    Write { request: super::modal::Request },
    /// Read and verify an environment's audit chain.
    Audit { source: String, chain: String },
    /// Cancel the running promotion (it stops before its record; after, it completes).
    CancelWrite,
    /// Compare every environment tag with its chain's latest promotion.
    Drift,
    /// Diff two digests.
    Compare {
        a: super::compare::Target,
        b: super::compare::Target,
        /// Also the files of the changed layers.
        files: bool,
    },
    /// Compare what an environment (None: the next one on the path) holds of `b`'s
    /// repository (A) with `b`.
    CompareEnvironment {
        environment: Option<String>,
        b: super::compare::Target,
    },
    /// A command line's request (`:find`, `:digest`, `:env`).
    Command(super::command::Request),
}

/// What the artifact pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DetailTab {
    #[default]
    Artifact,
    Evidence,
    Provenance,
    Sbom,
    Verdicts,
    History,
}

impl DetailTab {
    pub const ALL: [DetailTab; 6] = [
        DetailTab::Artifact,
        DetailTab::Evidence,
        DetailTab::Provenance,
        DetailTab::Sbom,
        DetailTab::Verdicts,
        DetailTab::History,
    ];

    pub fn title(self) -> &'static str {
        match self {
            DetailTab::Artifact => "Artifact",
            DetailTab::Evidence => "Evidence",
            DetailTab::Provenance => "Provenance",
            DetailTab::Sbom => "SBOM",
            DetailTab::Verdicts => "Verdicts",
            DetailTab::History => "History",
        }
    }

    /// The short title for a narrow pane.
    pub fn short_title(self) -> &'static str {
        match self {
            DetailTab::Artifact => "Art",
            DetailTab::Evidence => "Evid",
            DetailTab::Provenance => "Prov",
            DetailTab::Sbom => "SBOM",
            DetailTab::Verdicts => "Verd",
            DetailTab::History => "Hist",
        }
    }
}

/// Evidence tab state: the selected item and whether its raw JSON is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvidenceView {
    pub selected: usize,
    pub raw: bool,
}

/// Ticks per second of the loop's timer (spinner and toasts).
pub const TICKS_PER_SECOND: u64 = 10;

/// The whole UI state.
#[derive(Debug, Clone)]
pub struct App {
    pub items: Vec<SourceItem>,
    pub sources_view: ListView,
    pub active_item: Option<usize>,
    pub repos: Slot<Vec<String>>,
    pub repos_view: ListView,
    pub active_repo: Option<String>,
    pub tags: Slot<Vec<TagRow>>,
    pub tags_view: ListView,
    pub detail: Slot<Box<Artifact>>,
    pub detail_view: DetailView,
    pub tab: DetailTab,
    pub evidence: Slot<Box<crate::evidence::Discovery>>,
    pub evidence_view: EvidenceView,
    pub focus: Pane,
    pub editing_filter: bool,
    pub help: bool,
    pub toast: Option<Toast>,
    pub tick: u64,
    pub quit: bool,
    /// `q` was pressed once while a write was running: a second `q` quits anyway.
    pub quit_armed: bool,
    /// Text the loop should put on the clipboard (OSC 52), then clear.
    pub clipboard: Option<String>,
    pub size: (u16, u16),
    pub keymap: Keymap,
    /// The configured environments.
    pub environments: Vec<crate::config::Environment>,
    /// The policy in force, named in the header.
    pub policy: String,
    /// Verdicts for the artifact shown, one per environment of its source (from the gate).
    pub verdicts: Vec<crate::policy::Verdict>,
    /// The artifact's audit trail as the gate read it (the History tab shows it).
    pub trail: Option<crate::evidence::trail::Trail>,
    /// A fixed clock for tests; None means now.
    pub clock: Option<chrono::DateTime<chrono::Utc>>,
    /// The tags pane shows the repository × environments verdict matrix.
    pub matrix: bool,
    /// Source name → registry host (remote) or None (layout), for copied references.
    pub hosts: Vec<(String, Option<String>)>,
    /// The dialog on top, when one is open.
    pub modal: Option<super::modal::Modal>,
    /// Every write is refused (`--read-only`, `read_only = true`).
    pub read_only: bool,
    /// The write in progress, in words (the status line shows it with a spinner).
    pub writing: Option<String>,
    /// Environment tags moved outside provost: (environment, repository).
    pub drifted: Vec<(String, String)>,
    /// The running write can still be cancelled (a promotion before its record).
    pub cancellable: bool,
    /// Per source: the keys records can be signed with (label, key spec).
    pub signers: Vec<(String, Vec<(String, String)>)>,
    /// The audit view of an environment's chain, shown over the detail pane.
    pub audit: Option<Slot<Box<super::modal::AuditView>>>,
    /// The digest marked for a comparison (source, repository, digest).
    pub marked: Option<super::compare::Target>,
    /// The comparison shown over the tags and detail panes.
    pub compare: Option<super::compare::CompareView>,
    /// The `:` command line and its history.
    pub command: super::command::CommandLine,
    /// A command's results, over the tags and detail panes.
    pub results: Option<super::command::ResultsView>,
    pub(super) generations: [u64; 4],
}

impl App {
    /// A fresh app over the configured sources and environments.
    pub fn new(settings: &Settings, keymap: Keymap) -> App {
        let mut items: Vec<SourceItem> = settings
            .sources
            .iter()
            .map(|s| SourceItem::Source {
                name: s.name.clone(),
                kind: s.store.kind().to_string(),
                location: s.store.location(),
            })
            .collect();
        items.extend(
            settings
                .environments
                .iter()
                .cloned()
                .map(SourceItem::Environment),
        );
        let hosts = settings
            .sources
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    (s.store.kind() == "registry").then(|| s.store.location()),
                )
            })
            .collect();
        App {
            items,
            sources_view: ListView::default(),
            active_item: None,
            repos: Slot::Idle,
            repos_view: ListView::default(),
            active_repo: None,
            tags: Slot::Idle,
            tags_view: ListView::default(),
            detail: Slot::Idle,
            detail_view: DetailView::default(),
            tab: DetailTab::Artifact,
            evidence: Slot::Idle,
            evidence_view: EvidenceView::default(),
            focus: Pane::Sources,
            editing_filter: false,
            help: false,
            toast: None,
            tick: 0,
            quit: false,
            quit_armed: false,
            clipboard: None,
            size: (100, 30),
            keymap,
            environments: settings.environments.clone(),
            policy: match &settings.policy {
                Some(p) => p.display().to_string(),
                None if settings.sources.iter().any(|s| settings.is_demo(s)) => {
                    "built-in demo policy".into()
                }
                None => "built-in checks only".into(),
            },
            verdicts: vec![],
            trail: None,
            clock: None,
            matrix: false,
            hosts,
            modal: None,
            read_only: settings.read_only,
            writing: None,
            drifted: vec![],
            cancellable: false,
            signers: settings
                .sources
                .iter()
                .map(|s| (s.name.clone(), settings.signer_choices(s)))
                .collect(),
            audit: None,
            marked: None,
            compare: None,
            command: Default::default(),
            results: None,
            generations: [0; 4],
        }
    }

    /// The screen layout for the current size.
    pub fn areas(&self) -> Areas {
        Areas::new(Rect::new(0, 0, self.size.0, self.size.1), self.items.len())
    }

    /// Indices of visible sources.
    pub fn visible_sources(&self) -> Vec<usize> {
        let labels: Vec<String> = self.items.iter().map(SourceItem::label).collect();
        self.sources_view.visible(labels.iter().map(String::as_str))
    }

    /// Indices of visible repositories.
    pub fn visible_repos(&self) -> Vec<usize> {
        match &self.repos {
            Slot::Ready(r) => self.repos_view.visible(r.iter().map(String::as_str)),
            _ => vec![],
        }
    }

    /// Indices of visible tags.
    pub fn visible_tags(&self) -> Vec<usize> {
        match &self.tags {
            // `/` matches a tag by its name or its digest.
            Slot::Ready(t) => {
                let labels: Vec<String> = t
                    .iter()
                    .map(|r| match r.summary.ready() {
                        Some(s) => format!("{} {}", r.tag, s.digest),
                        None => r.tag.clone(),
                    })
                    .collect();
                self.tags_view.visible(labels.iter().map(String::as_str))
            }
            _ => vec![],
        }
    }

    /// The environment the active source item is, if it is one.
    pub fn active_environment(&self) -> Option<&Environment> {
        match self.active_item.and_then(|i| self.items.get(i)) {
            Some(SourceItem::Environment(e)) => Some(e),
            _ => None,
        }
    }

    pub(super) fn active_source(&self) -> Option<String> {
        self.active_item
            .and_then(|i| self.items.get(i))
            .map(|s| s.source_name().to_string())
    }

    pub(super) fn selected_repo(&self) -> Option<String> {
        let vis = self.visible_repos();
        let i = *vis.get(self.repos_view.selected)?;
        self.repos.ready().and_then(|r| r.get(i)).cloned()
    }

    pub(super) fn selected_tag(&self) -> Option<&TagRow> {
        let vis = self.visible_tags();
        let i = *vis.get(self.tags_view.selected)?;
        self.tags.ready().and_then(|t| t.get(i))
    }

    pub(super) fn next_generation(&mut self, slot: usize) -> u64 {
        self.generations[slot] += 1;
        self.generations[slot]
    }

    /// Quits, unless a write is running: then it asks first (a second `q` quits anyway,
    /// leaving what a kill at that step leaves; `provost drift` shows it).
    pub(super) fn request_quit(&mut self) {
        match self.writing.clone() {
            Some(w) if !self.quit_armed => {
                self.quit_armed = true;
                self.toast(
                    true,
                    format!(
                        "{w} is running — wait for it, or press q again to quit anyway (a promotion stopped after its record leaves the tag unmoved until it is run again)"
                    ),
                );
            }
            _ => self.quit = true,
        }
    }

    pub(super) fn toast(&mut self, error: bool, text: impl Into<String>) {
        self.toast = Some(Toast {
            error,
            text: text.into(),
            until_tick: self.tick + 4 * TICKS_PER_SECOND,
        });
    }
}
