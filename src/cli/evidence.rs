//! `provost evidence REF`, `provost provenance FILE`, `provost sbom FILE`: evidence in words.

use super::print_json;
use crate::evidence::{self, Binding, EvidenceItem, Kind, Provenance, SbomSummary};
use crate::setup::Settings;
use crate::text::sanitize;
use color_eyre::eyre::{eyre, Result, WrapErr};

/// Files larger than this are not read as evidence.
const MAX_FILE: u64 = 64 * 1024 * 1024;

/// The cosign repository override, as cosign reads it.
pub fn cosign_repository() -> Option<String> {
    std::env::var("COSIGN_REPOSITORY")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Resolves a reference and discovers its evidence.
pub async fn discover_ref(
    settings: &Settings,
    reference: &str,
) -> Result<(String, evidence::Discovery)> {
    let (r, source, digest) = super::resolve_ref(settings, reference).await?;
    let gate = super::gate::gate_for(settings, &source, None)?;
    let d = crate::verify::oci::discover_verified(
        source.store.as_ref(),
        &r.repository,
        &digest,
        gate.cosign_repository.as_deref(),
        None,
        &gate.trust,
        settings.root.get().map_err(|e| eyre!(e))?,
    )
    .await;
    Ok((source.name.clone(), d))
}

/// `provost evidence REF`.
pub async fn evidence_cmd(settings: &Settings, reference: &str, json: bool) -> Result<()> {
    let (_, d) = discover_ref(settings, reference).await?;
    if json {
        return print_json(&d);
    }
    crate::say!("Evidence for {}", d.digest);
    if d.items.is_empty() {
        crate::say!("  (none found)");
    }
    for i in &d.items {
        crate::say!("{}", item_line(i));
    }
    for e in &d.errors {
        crate::say!("  ! {}", sanitize(e));
    }
    Ok(())
}

/// One line per item: kind, predicate type, where found, signer, problem.
pub fn item_line(i: &EvidenceItem) -> String {
    let what = i.predicate_type.as_deref().unwrap_or(&i.media_type);
    let mut line = format!(
        "  {:<12} {:<44} {:<14} {:<11} {}",
        i.kind.describe(),
        sanitize(what),
        i.found.describe(),
        sanitize(&i.signer.cell()),
        sanitize(&i.location)
    );
    if let Binding::DescribesOther(subjects) = &i.binding {
        line.push_str(&format!(
            "\n    ⚠ describes another artifact: {}",
            subjects.join(", ")
        ));
    }
    if let Some(p) = &i.problem {
        line.push_str(&format!("\n    ✗ {}", sanitize(p)));
    }
    line
}

/// Plain-text provenance: the sentence, then the facts.
pub fn provenance_text(p: &Provenance) -> String {
    let mut out = format!("{}\n", sanitize(&p.sentence()));
    let mut f = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            out.push_str(&format!("  {k:<12} {}\n", sanitize(v)));
        }
    };
    f("SLSA", Some(&p.slsa_version));
    f("Builder", Some(&p.builder_id));
    f(
        "Build type",
        Some(&p.build_type)
            .filter(|s| !s.is_empty())
            .map(String::as_str),
    );
    f("Source", p.source_repo.as_deref());
    f("Commit", p.commit.as_deref());
    f("Ref", p.git_ref.as_deref());
    f("Workflow", p.workflow_path.as_deref());
    f("Trigger", p.trigger.as_deref());
    f("Run", p.run_url.as_deref().or(p.invocation_id.as_deref()));
    f("Started", p.started.as_deref());
    f("Finished", p.finished.as_deref());
    if !p.materials.is_empty() {
        out.push_str("  Materials\n");
        for m in p.materials.iter().take(50) {
            out.push_str(&format!(
                "    {} {}\n",
                sanitize(&m.uri),
                sanitize(m.digest.as_deref().unwrap_or(""))
            ));
        }
    }
    out
}

/// Plain-text SBOM summary.
pub fn sbom_text(s: &SbomSummary) -> String {
    let mut out = format!("{} {}: {} packages", s.format, s.version, s.package_count);
    if let Some(n) = &s.name {
        out.push_str(&format!(" in {}", sanitize(n)));
    }
    out.push('\n');
    if !s.generator.is_empty() {
        out.push_str(&format!(
            "  Generator   {}\n",
            sanitize(&s.generator.join(", "))
        ));
    }
    if let Some(c) = &s.created {
        out.push_str(&format!("  Created     {}\n", sanitize(c)));
    }
    let top = |v: &[(String, usize)]| {
        v.iter()
            .take(5)
            .map(|(k, n)| format!("{} {n}", sanitize(k)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !s.ecosystems.is_empty() {
        out.push_str(&format!("  Ecosystems  {}\n", top(&s.ecosystems)));
    }
    if !s.licenses.is_empty() {
        out.push_str(&format!("  Licenses    {}\n", top(&s.licenses)));
    }
    out.push_str(&format!("  No license  {}\n", s.unlicensed));
    out
}

fn read_file(path: &str) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).wrap_err_with(|| format!("reading {path}"))?;
    if meta.len() > MAX_FILE {
        return Err(eyre!(
            "{path} is {} bytes, over the {MAX_FILE}-byte limit",
            meta.len()
        ));
    }
    std::fs::read(path).wrap_err_with(|| format!("reading {path}"))
}

/// `provost provenance FILE`: renders every provenance statement in a local file.
pub fn provenance_cmd(path: &str, json: bool) -> Result<()> {
    let items = evidence::decode_file(&read_file(path)?, path);
    let provs: Vec<&EvidenceItem> = items
        .iter()
        .filter(|i| i.kind == Kind::Provenance && i.provenance.is_some())
        .collect();
    if json {
        return print_json(&items);
    }
    if provs.is_empty() {
        for i in &items {
            crate::warn!("{}", item_line(i));
        }
        return Err(eyre!("no SLSA provenance in {path}"));
    }
    for i in provs {
        if let Some(p) = &i.provenance {
            crate::say_part!("{}", provenance_text(p));
        }
        if let Some(raw) = &i.raw {
            let subjects: Vec<String> = raw["subject"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|s| {
                            format!(
                                "{} sha256:{}",
                                s["name"].as_str().unwrap_or(""),
                                s["digest"]["sha256"].as_str().unwrap_or("")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            for s in subjects {
                crate::say!("  Subject      {}", sanitize(&s));
            }
        }
        if let Binding::DescribesOther(s) = &i.binding {
            crate::say!("  ⚠ describes another artifact: {}", s.join(", "));
        }
    }
    Ok(())
}

/// `provost sbom FILE`: summarises a local SPDX or CycloneDX document.
pub fn sbom_cmd(path: &str, json: bool) -> Result<()> {
    let items = evidence::decode_file(&read_file(path)?, path);
    let Some(item) = items
        .iter()
        .find(|i| matches!(i.kind, Kind::Sbom | Kind::Invalid | Kind::Unsupported))
    else {
        return Err(eyre!("no SBOM in {path}"));
    };
    if json {
        return print_json(item);
    }
    match (&item.sbom, &item.problem) {
        (Some(s), _) => {
            crate::say_part!("{}", sbom_text(s));
            Ok(())
        }
        (_, Some(p)) => Err(eyre!("{path}: {p}")),
        _ => Err(eyre!("no SBOM in {path}")),
    }
}
