//! Headless commands for scripts and CI: the same core the TUI uses, printed as text or JSON.

pub mod audit;
pub mod demo;
pub mod diff;
pub mod evidence;
pub mod exit;
pub mod find;
pub mod gate;
mod inspect;
mod ls;
pub mod process;
pub mod promote;
pub mod records;
pub mod runtime;
pub mod sign;
mod signer;
pub mod verify;

pub use exit::exit_code;
pub use inspect::inspect;
pub use ls::ls;

use crate::oci::ArtifactRef;
use crate::setup::Settings;
use color_eyre::eyre::{Result, WrapErr};

/// Parses a reference, treating a first component that names a configured source as a source.
pub fn parse_ref(settings: &Settings, input: &str) -> Result<ArtifactRef> {
    ArtifactRef::parse(input, |first| settings.source(first).is_some())
        .wrap_err_with(|| format!("reading the reference {:?}", crate::text::sanitize(input)))
}

/// Parses a reference, finds its source and resolves it to a digest (a digest reference is
/// taken as it is).
pub async fn resolve_ref(
    settings: &Settings,
    input: &str,
) -> Result<(ArtifactRef, crate::setup::NamedSource, String)> {
    use crate::oci::Store;
    let r = parse_ref(settings, input)?;
    let source = settings.source_for(&r.registry)?;
    let digest = match &r.digest {
        Some(d) => d.clone(),
        None => source
            .store
            .resolve(&r.repository, r.reference())
            .await
            .wrap_err_with(|| format!("resolving {r}"))?,
    };
    Ok((r, source, digest))
}

/// Prints JSON to stdout.
pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let s = serde_json::to_string_pretty(value).wrap_err("encoding JSON output")?;
    // serde escapes C0 controls; DEL, C1 and bidi controls are escaped too, so a terminal or
    // log showing the JSON never acts on them (the same values for a parser).
    let s = crate::text::json_controls(&s);
    #[allow(clippy::disallowed_macros)]
    {
        println!("{s}");
    }
    Ok(())
}
