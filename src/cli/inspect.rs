//! `provost inspect REF`: the detail of one artifact.

use super::{parse_ref, print_json};
use crate::oci::artifact::{describe_fetched, human_size, Artifact};
use crate::oci::Store;
use crate::setup::Settings;
use crate::text::sanitize;
use color_eyre::eyre::{Result, WrapErr};

/// Prints the artifact a reference names. The reference itself is always read from its
/// registry; with `cache_ttl`, the other tags' pointers and content-addressed evidence come from
/// the gate's on-disk cache (digest-checked on every read), as `gate` does.
pub async fn inspect(
    settings: &Settings,
    reference: &str,
    json: bool,
    cache_ttl: Option<std::time::Duration>,
) -> Result<()> {
    let r = parse_ref(settings, reference)?;
    let source = settings.source_for(&r.registry)?;
    let fetched = source
        .store
        .get_manifest(&r.repository, r.reference())
        .await
        .wrap_err_with(|| format!("inspecting {r} in {}", source.name))?;
    match (source.store.as_ref(), cache_ttl, settings.cache_dir()) {
        (crate::oci::Source::Remote(_), Some(ttl), Some(dir)) => {
            let cache = crate::oci::disk::DiskCache::keyed(
                source.store.as_ref(),
                &dir,
                ttl,
                settings.cache_key(),
            );
            let res = show(settings, &source, &cache, &r, fetched, json).await;
            cache.flush();
            res
        }
        _ => show(settings, &source, source.store.as_ref(), &r, fetched, json).await,
    }
}

async fn show(
    settings: &Settings,
    source: &crate::setup::NamedSource,
    store: &impl Store,
    r: &crate::oci::ArtifactRef,
    fetched: crate::oci::FetchedManifest,
    json: bool,
) -> Result<()> {
    // One single-flight read cache under describing and discovering: the config, the tag list
    // and evidence blobs attached twice are each read once.
    let store = &crate::oci::cache::ReadCache::new(store);
    let digest = fetched.digest.clone();
    // The gate's trust (configuration, demo key where it applies, the policy's [trust]).
    let gate = super::gate::gate_for(settings, source, None)?;
    let cosign_repo = gate.cosign_repository.clone();
    let trust = gate.trust.clone();
    let root = settings
        .root
        .get()
        .map_err(|e| color_eyre::eyre::eyre!(e))?;
    let (art, found) = futures::join!(
        describe_fetched(store, r, fetched.clone(), None),
        crate::verify::oci::discover_verified(
            store,
            &r.repository,
            &digest,
            cosign_repo.as_deref(),
            Some(&fetched),
            &trust,
            root
        )
    );
    let mut art = art.wrap_err_with(|| format!("inspecting {r} in {}", source.name))?;
    if let Some(t) = &r.tag {
        art.reference = format!("{}:{t}@{digest}", r.repository);
    }
    let provenance: Vec<&crate::evidence::Provenance> = dedup(
        crate::evidence::provenance_of(&found.items)
            .into_iter()
            .filter_map(|i| i.provenance.as_ref()),
    );
    let sbom: Vec<&crate::evidence::SbomSummary> = dedup(
        crate::evidence::sboms_of(&found.items)
            .into_iter()
            .filter_map(|i| i.sbom.as_ref()),
    );
    if json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            artifact: &'a Artifact,
            evidence: &'a [crate::evidence::EvidenceItem],
            evidence_errors: &'a [String],
            provenance: Vec<&'a crate::evidence::Provenance>,
            sbom: Vec<&'a crate::evidence::SbomSummary>,
        }
        return print_json(&Out {
            artifact: &art,
            evidence: &found.items,
            evidence_errors: &found.errors,
            provenance,
            sbom,
        });
    }
    crate::say_part!("{}", render_text(&source.name, &art));
    let misbound: Vec<&crate::evidence::EvidenceItem> = found
        .items
        .iter()
        .filter(|i| {
            i.kind == crate::evidence::Kind::Provenance
                && matches!(i.binding, crate::evidence::Binding::DescribesOther(_))
        })
        .collect();
    if provenance.is_empty() {
        crate::say!("Provenance   none for this digest");
    }
    if let Some(crate::evidence::Binding::DescribesOther(subjects)) =
        misbound.first().map(|i| &i.binding)
    {
        crate::say!(
            "  ⚠ attached provenance describes another artifact ({}), not this digest",
            subjects.join(", ")
        );
    }
    if !provenance.is_empty() {
        crate::say!("Provenance");
        for p in &provenance {
            for l in super::evidence::provenance_text(p).lines() {
                crate::say!("  {l}");
            }
        }
    }
    if !sbom.is_empty() {
        crate::say!("SBOM");
        for s in &sbom {
            for l in super::evidence::sbom_text(s).lines() {
                crate::say!("  {l}");
            }
        }
    }
    crate::say!("Evidence");
    if found.items.is_empty() {
        crate::say!("  (none found)");
    }
    for i in &found.items {
        crate::say!("{}", super::evidence::item_line(i));
    }
    Ok(())
}

/// Keeps the first of equal items (the same statement attached both ways).
fn dedup<'a, T: PartialEq>(items: impl Iterator<Item = &'a T>) -> Vec<&'a T> {
    let mut out: Vec<&T> = vec![];
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// The plain-text form of an artifact (sanitized: every string may come from a registry).
pub fn render_text(source: &str, a: &Artifact) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: &str| out.push_str(&format!("{k:<12} {}\n", sanitize(v)));
    line("Source", source);
    line("Repository", &a.repository);
    line("Digest", &a.digest);
    line("Media type", &a.media_type);
    if let Some(t) = &a.artifact_type {
        line("Artifact", t);
    }
    line(
        "Size",
        &format!("{} (manifest {} B)", human_size(a.size), a.manifest_size),
    );
    line("Created", a.created.as_deref().unwrap_or("unknown"));
    if let Some(p) = &a.platform {
        line("Platform", p);
    }
    line(
        "Tags",
        &format!(
            "{}{}",
            if a.tags.is_empty() {
                "(none)".to_string()
            } else {
                a.tags.join(", ")
            },
            if a.tags_unchecked > 0 {
                format!(" (and {} more tags not checked)", a.tags_unchecked)
            } else {
                String::new()
            }
        ),
    );
    if let Some(s) = &a.subject {
        line("Subject", s);
    }
    if let Some(c) = &a.config {
        line(
            "Config",
            &format!("{} {} {}", c.digest, human_size(c.size), c.media_type),
        );
        if !c.entrypoint.is_empty() {
            line("Entrypoint", &c.entrypoint.join(" "));
        }
        if let Some(u) = &c.user {
            line("User", u);
        }
    }
    if !a.platforms.is_empty() {
        out.push_str("Platforms\n");
        for p in &a.platforms {
            out.push_str(&format!(
                "  {:<16} {} {}\n",
                sanitize(&p.platform),
                p.digest,
                human_size(p.size)
            ));
        }
    }
    if !a.layers.is_empty() {
        out.push_str("Layers\n");
        for l in &a.layers {
            out.push_str(&format!(
                "  {} {:>10} {}\n",
                l.digest,
                human_size(l.size),
                sanitize(&l.media_type)
            ));
        }
    }
    if !a.annotations.is_empty() {
        out.push_str("Annotations\n");
        for (k, v) in &a.annotations {
            out.push_str(&format!("  {} = {}\n", sanitize(k), sanitize(v)));
        }
    }
    out
}
