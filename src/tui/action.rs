//! Everything that can change the app: user commands (from the keymap) and job results.

use crate::oci::artifact::{Artifact, TagSummary};
use serde::Deserialize;

/// A command a key can be bound to; the keymap names these in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    Quit,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Open,
    Back,
    NextPane,
    PrevPane,
    Filter,
    Refresh,
    Copy,
    Help,
    ShowArtifact,
    ShowEvidence,
    ShowProvenance,
    ShowSbom,
    ShowVerdicts,
    ShowHistory,
    Matrix,
    Raw,
    Approve,
    Reject,
    Quarantine,
    Lift,
    Audit,
    Promote,
    Rollback,
    Mark,
    Compare,
    CompareEnvironment,
    ToggleAdded,
    ToggleRemoved,
    ToggleChanged,
    ToggleUnchanged,
    /// `:` — the command line (`:find`, `:digest`, `:env`).
    CommandLine,
}

/// One input to `update`.
#[derive(Debug, Clone)]
pub enum Action {
    Command(Command),
    /// A character typed while a filter is being edited.
    FilterInput(char),
    FilterBackspace,
    /// Typing on the `:` command line.
    CommandInput(char),
    CommandBackspace,
    /// Up (true) or down through the command history.
    CommandHistory(bool),
    CommandSubmit,
    CommandCancel,
    /// The rows a command line's request found.
    ResultsLoaded(Result<Vec<super::command::ResultRow>, String>),
    /// How far the index fill of a `:find` has got.
    ResultsProgress(crate::index::fill::Progress),
    FilterCommit,
    FilterCancel,
    Tick,
    Resize(u16, u16),
    ScrollAt {
        column: u16,
        row: u16,
        down: bool,
    },
    ClickAt {
        column: u16,
        row: u16,
    },
    ReposLoaded {
        generation: u64,
        result: Result<Vec<String>, String>,
    },
    TagsLoaded {
        generation: u64,
        result: Result<Vec<String>, String>,
    },
    TagSummaryLoaded {
        generation: u64,
        tag: String,
        result: Result<TagSummary, String>,
    },
    TagVerdictsLoaded {
        generation: u64,
        tag: String,
        result: Vec<(String, crate::policy::Decision)>,
    },
    /// The gate's judgement of the shown digest: its evidence and a verdict per environment.
    EvidenceLoaded {
        generation: u64,
        result: Result<Box<crate::gate::Judgement>, String>,
    },
    DetailLoaded {
        generation: u64,
        result: Result<Box<Artifact>, String>,
    },
    /// A key typed while a dialog is open.
    ModalKey(super::modal::ModalKey),
    /// The plan of a record: what will be signed, by whom, or why it cannot be.
    Planned {
        request: super::modal::Request,
        result: Result<super::modal::Plan, String>,
    },
    /// A record was written (or not).
    Written {
        request: super::modal::Request,
        result: Result<String, String>,
    },
    /// How far the running write (a promotion) has got.
    WriteProgress {
        text: String,
        cancellable: bool,
    },
    /// Environment tags that drifted from their chains: (environment, repository).
    DriftLoaded(Vec<(String, String)>),
    /// The comparison of two digests.
    Compared(Result<super::compare::Compared, String>),
    /// The audit chain of an environment, verified.
    AuditLoaded {
        chain: String,
        result: Result<Box<super::modal::AuditView>, String>,
    },
}
