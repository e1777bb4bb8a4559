//! `provost demo [--store DIR] [--reset]`: create (or rebuild) the demo layout.

use color_eyre::eyre::{eyre, Result, WrapErr};
use std::path::Path;

/// Creates the demo store at `store` (default: the user's demo store), or with `reset`
/// rebuilds it; an existing layout is left alone without `reset`.
pub async fn demo_cmd(store: Option<&Path>, reset: bool) -> Result<()> {
    let dir = match store {
        Some(d) => d.to_path_buf(),
        None => crate::config::paths::demo_store()
            .ok_or_else(|| eyre!("no user data directory; pass --store DIR"))?,
    };
    let data = crate::config::paths::data_dir()
        .ok_or_else(|| eyre!("no user data directory to record the demo key in"))?;
    let n = if reset {
        crate::demo::reset(&dir, &data).await
    } else if dir.join("oci-layout").is_file() {
        crate::say!(
            "{} already holds a layout; use --reset to rebuild it",
            dir.display()
        );
        return Ok(());
    } else {
        crate::demo::ensure(&dir, &data).await.map(|_| 0)
    }
    .wrap_err_with(|| format!("seeding the demo store at {}", dir.display()))?;
    if n > 0 {
        crate::say!("demo store rebuilt at {} ({n} digests)", dir.display());
    } else {
        crate::say!("demo store created at {}", dir.display());
    }
    Ok(())
}
