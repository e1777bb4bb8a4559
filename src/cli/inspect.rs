//! `provost inspect REF`: the detail of one artifact.

use super::{parse_ref, print_json};
use crate::config::Settings;
use crate::oci::artifact::{describe, human_size, Artifact};
use crate::text::sanitize;
use color_eyre::eyre::{Result, WrapErr};

/// Prints the artifact a reference names.
pub async fn inspect(settings: &Settings, reference: &str, json: bool) -> Result<()> {
    let r = parse_ref(settings, reference)?;
    let source = settings.source_for(&r.registry)?;
    let art = describe(source.store.as_ref(), &r, None)
        .await
        .wrap_err_with(|| format!("inspecting {r} in {}", source.name))?;
    if json {
        return print_json(&art);
    }
    print!("{}", render_text(&source.name, &art));
    Ok(())
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
        &if a.tags.is_empty() {
            "(none)".to_string()
        } else {
            a.tags.join(", ")
        },
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
