//! `provost diff A B` and `provost diff REF --env ENV`: what changed between two digests.

use super::exit::Usage;
use crate::lineage::{self, Side};
use crate::oci::Store;
use crate::setup::Settings;
use crate::text::sanitize;
use color_eyre::eyre::{eyre, Result, WrapErr};

/// `provost diff`.
#[derive(clap::Args, Clone, Debug)]
pub struct DiffArgs {
    /// The first artifact (with --env: the candidate)
    pub a: String,
    /// The second artifact
    pub b: Option<String>,
    /// Compare A with what this environment's tag holds now (in A's repository)
    #[arg(long = "env", value_name = "ENV", conflicts_with = "b")]
    pub environment: Option<String>,
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Markdown tables (for a pull request or a CI job summary)
    #[arg(long)]
    pub markdown: bool,
    /// Policy file (default: the configured one)
    #[arg(long)]
    pub policy: Option<String>,
    /// Also the files of each changed layer (against the layer at the same position)
    #[arg(long)]
    pub files: bool,
    /// Compare the flattened filesystems, ignoring timestamps and layer boundaries
    #[arg(long)]
    pub semantic: bool,
    /// Show environment variable values (they may hold secrets; by default only names)
    #[arg(long)]
    pub show_values: bool,
}

async fn side(
    settings: &Settings,
    reference: &str,
    policy: Option<&str>,
) -> Result<(Side, crate::setup::NamedSource, String)> {
    let (r, source, digest) = super::resolve_ref(settings, reference).await?;
    let pinned = crate::oci::ArtifactRef {
        digest: Some(digest.clone()),
        ..r.clone()
    };
    let artifact = crate::oci::artifact::describe(source.store.as_ref(), &pinned, None)
        .await
        .wrap_err_with(|| format!("reading {}", sanitize(reference)))?;
    let gate = super::gate::gate_for(settings, &source, policy)?;
    let envs: Vec<crate::config::Environment> = settings
        .environments
        .iter()
        .filter(|e| e.source == source.name)
        .cloned()
        .collect();
    let judgement = gate
        .judge(source.store.as_ref(), &r.repository, &digest, &envs)
        .await;
    Ok((
        Side {
            artifact,
            judgement,
        },
        source,
        r.repository,
    ))
}

/// `provost diff`.
pub async fn diff_cmd(settings: &Settings, a: &DiffArgs) -> Result<()> {
    let b_ref = match (&a.b, &a.environment) {
        (Some(b), _) => b.clone(),
        (None, Some(env)) => {
            let e = super::gate::environment(settings, env)?;
            let tag = e
                .moving_tag()
                .ok_or_else(|| eyre!(Usage(format!("{} has no single tag ({})", e.name, e.tag))))?;
            let (r, source, _) = super::resolve_ref(settings, &a.a).await?;
            let name = settings
                .environments
                .iter()
                .find(|x| x.source == source.name && x.tracks_repository(&r.repository))
                .and_then(|x| x.name_in(&r.repository))
                .unwrap_or_else(|| r.repository.clone());
            let repo = e.repository_for(&name);
            let store = &settings
                .source(&e.source)
                .ok_or_else(|| eyre!(Usage(format!("no source {}", e.source))))?
                .store;
            store
                .resolve(&repo, tag)
                .await
                .wrap_err_with(|| format!("{} holds nothing at {repo}:{tag}", e.name))?;
            format!("{}/{repo}:{tag}", e.source)
        }
        (None, None) => {
            return Err(eyre!(Usage(
                "give two references, or one and --env ENV".into()
            )))
        }
    };
    let policy = a.policy.as_deref();
    let (x, y) = futures::join!(side(settings, &a.a, policy), side(settings, &b_ref, policy));
    let ((x, xs, xr), (y, ys, yr)) = (x?, y?);
    let mut d = lineage::diff(&x, &y, a.show_values);
    let (ea, eb) = (
        (xs.store.as_ref(), xr.as_str(), &x.artifact),
        (ys.store.as_ref(), yr.as_str(), &y.artifact),
    );
    if a.files || a.semantic {
        d.sections
            .push(lineage::files_section(ea, eb, a.semantic).await);
    }
    if let Some(r) = lineage::reproducibility(
        (xs.store.as_ref(), xr.as_str(), &x),
        (ys.store.as_ref(), yr.as_str(), &y),
    )
    .await
    {
        d.sections.push(r);
    }
    if a.json {
        return super::print_json(&d);
    }
    if a.markdown {
        crate::say_part!("{}", lineage::render::markdown(&d));
        return Ok(());
    }
    for l in lineage::render::text(&d) {
        crate::say!("{l}");
    }
    Ok(())
}
