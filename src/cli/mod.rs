//! Headless commands for scripts and CI: the same core the TUI uses, printed as text or JSON.

pub mod evidence;
pub mod exit;
pub mod gate;
mod inspect;
mod ls;
pub mod sign;
pub mod verify;

pub use exit::exit_code;
pub use inspect::inspect;
pub use ls::ls;

use crate::config::Settings;
use crate::oci::ArtifactRef;
use color_eyre::eyre::{Result, WrapErr};

/// Parses a reference, treating a first component that names a configured source as a source.
pub fn parse_ref(settings: &Settings, input: &str) -> Result<ArtifactRef> {
    ArtifactRef::parse(input, |first| settings.source(first).is_some())
        .wrap_err_with(|| format!("reading the reference {:?}", crate::text::sanitize(input)))
}

/// Prints JSON to stdout.
pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let s = serde_json::to_string_pretty(value).wrap_err("encoding JSON output")?;
    println!("{s}");
    Ok(())
}
