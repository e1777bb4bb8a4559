//! provost: a terminal release console for container supply chains.
//!
//! Arrows point down: `cli`/`tui` (edges) → `setup` (composition root) → `gate` → `policy` →
//! `ledger` → `verify` → `evidence` → `oci`, with `config` (file formats) and `text` beside them. Only the
//! edges touch the terminal.

pub mod cli;
pub mod config;
pub mod demo;
pub mod evidence;
#[doc(hidden)]
pub mod failpoint;
#[doc(hidden)]
pub mod fuzzing;
pub mod gate;
pub mod index;
pub mod ledger;
pub mod lineage;
pub mod oci;
pub mod policy;
pub mod release;
pub mod setup;
pub mod text;
pub mod triage;
pub mod tui;
pub mod verify;
