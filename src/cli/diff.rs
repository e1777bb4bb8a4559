//! `provost diff A B` and `provost diff REF --env ENV`: what changed between two digests.

use super::exit::Usage;
use crate::lineage;
use crate::oci::Store;
use crate::setup::Settings;
use color_eyre::eyre::{eyre, Result, WrapErr};

/// `provost diff`.
#[derive(clap::Args, Clone, Debug)]
pub struct DiffArgs {
    /// The first artifact, A (with --env: the candidate, shown as B)
    pub a: String,
    /// The second artifact, B
    pub b: Option<String>,
    /// Compare the candidate (B) with what this environment's tag holds now (A), in the
    /// candidate's repository: the diff reads as the change a promotion would make
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

/// Where one side is read, and the gate and environments that judge it.
struct Place {
    source: crate::setup::NamedSource,
    repository: String,
    digest: String,
    gate: crate::gate::Gate,
    environments: Vec<crate::config::Environment>,
}

async fn place(settings: &Settings, reference: &str, policy: Option<&str>) -> Result<Place> {
    let (r, source, digest) = super::resolve_ref(settings, reference).await?;
    let gate = super::gate::gate_for(settings, &source, policy)?;
    let environments = settings
        .environments
        .iter()
        .filter(|e| e.source == source.name)
        .cloned()
        .collect();
    Ok(Place {
        source,
        repository: r.repository,
        digest,
        gate,
        environments,
    })
}

impl Place {
    fn input(&self) -> lineage::Input<'_, crate::oci::source::Source> {
        lineage::Input {
            store: self.source.store.as_ref(),
            repository: &self.repository,
            digest: &self.digest,
            gate: &self.gate,
            environments: &self.environments,
        }
    }
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
    // With --env, A is what the environment holds and B the candidate: the diff reads as
    // the change the promotion would make.
    let (a_ref, b_ref) = match &a.environment {
        Some(_) => (b_ref, a.a.clone()),
        None => (a.a.clone(), b_ref),
    };
    let policy = a.policy.as_deref();
    let (x, y) = futures::join!(
        place(settings, &a_ref, policy),
        place(settings, &b_ref, policy)
    );
    let (x, y) = (x?, y?);
    let files = match (a.semantic, a.files) {
        (true, _) => lineage::Files::Semantic,
        (false, true) => lineage::Files::Layers,
        _ => lineage::Files::None,
    };
    let opts = lineage::Options {
        show_values: a.show_values,
        files,
    };
    let d = lineage::compare_digests(x.input(), y.input(), opts)
        .await
        .map_err(|e| eyre!(e))?;
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
