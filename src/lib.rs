//! provost: a terminal release console for container supply chains.
//!
//! The core (`oci`, `config`, `demo`, `text`) never touches the terminal; `cli` and `tui` are the
//! edges that do.

pub mod cli;
pub mod config;
pub mod demo;
pub mod evidence;
pub mod gate;
pub mod oci;
pub mod policy;
pub mod release;
pub mod text;
pub mod tui;
pub mod verify;
