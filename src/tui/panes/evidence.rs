//! The evidence, provenance and SBOM tabs of the artifact pane, and the raw JSON view.
//! Every string drawn here came from a registry or a document: all of it is sanitized.

use super::{spinner, truncate};
use crate::evidence::{self, Binding, EvidenceItem, Kind};
use crate::text::sanitize;
use crate::tui::app::{App, Slot};
use crate::tui::layout::Pane;
use crate::tui::theme::Theme;
use ratatui::text::{Line, Span};

fn s(x: &str) -> String {
    sanitize(x).to_string()
}

/// Lines shown while evidence is loading or failed; None when it is ready.
pub fn pending<'a>(app: &App, theme: &Theme) -> Option<Vec<Line<'a>>> {
    match &app.evidence {
        Slot::Ready(_) => None,
        Slot::Idle => Some(vec![Line::styled(
            "⏎ on a tag shows its evidence",
            theme.muted,
        )]),
        Slot::Loading => Some(vec![Line::styled(
            format!("{} discovering evidence…", spinner(app)),
            theme.muted,
        )]),
        Slot::Failed(e) => Some(vec![Line::styled(format!("✗ {}", s(e)), theme.block)]),
    }
}

/// The signer cell: verified (✓) and failed (✗) signers carry their own mark; an unsigned item
/// gets "·" and a signed one not yet verified "?".
fn signer_cell(i: &EvidenceItem) -> String {
    s(&i.signer.cell())
}

/// The evidence list: kind, predicate type, where found, signer.
pub fn list<'a>(app: &App, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    if let Some(p) = pending(app, theme) {
        return p;
    }
    let Slot::Ready(d) = &app.evidence else {
        return vec![];
    };
    let tw = width.saturating_sub(2 + 12 + 14 + 12).clamp(12, 44);
    let mut out = vec![Line::styled(
        format!(
            "  {:<11} {:<tw$} {:<13} {}",
            "KIND", "TYPE", "FOUND IN", "SIGNER"
        ),
        theme.muted,
    )];
    if d.items.is_empty() {
        out.push(Line::styled(
            "  no evidence found for this digest",
            theme.warn,
        ));
    }
    for (n, i) in d.items.iter().enumerate() {
        let selected = n == app.evidence_view.selected && app.focus == Pane::Detail;
        let what = i.predicate_type.as_deref().unwrap_or(&i.media_type);
        let what = what.trim_start_matches("https://");
        let text = format!(
            "{} {:<11} {:<tw$} {:<13} {}",
            if selected { "▶" } else { " " },
            i.kind.describe(),
            truncate(&s(what), tw),
            i.found.describe(),
            signer_cell(i)
        );
        let style = if selected {
            theme.selection
        } else if i.problem.is_some() || matches!(i.binding, Binding::DescribesOther(_)) {
            theme.block
        } else {
            theme.text
        };
        out.push(Line::styled(truncate(&text, width), style));
        if let Binding::DescribesOther(subjects) = &i.binding {
            let who = subjects
                .first()
                .map(|d| crate::oci::digest::short(d))
                .unwrap_or_else(|| "nothing".into());
            out.push(Line::styled(
                format!("    ⚠ describes another artifact ({who}), not this digest"),
                theme.block,
            ));
        }
        if let Some(p) = &i.problem {
            out.push(Line::styled(
                format!("    ✗ {}", truncate(&s(p), width.saturating_sub(6))),
                theme.block,
            ));
        }
    }
    for e in &d.errors {
        out.push(Line::styled(
            format!("  ! {}", truncate(&s(e), width.saturating_sub(4))),
            theme.warn,
        ));
    }
    out.push(Line::raw(""));
    out.push(Line::styled(
        truncate("  ⏎ or v shows the selected item's JSON", width),
        theme.muted,
    ));
    out
}

fn field<'a>(theme: &Theme, k: &str, v: &str, width: usize) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("  {k:<11} "), theme.muted),
        Span::styled(truncate(&s(v), width.saturating_sub(15)), theme.text),
    ])
}

/// A digest with the tags of this repository that point at it, when any do.
fn with_tags(app: &App, digest: &str) -> String {
    let tags: Vec<String> = match &app.tags {
        Slot::Ready(rows) => rows
            .iter()
            .filter(|r| r.summary.ready().is_some_and(|s| s.digest == digest))
            .map(|r| s(&r.tag))
            .collect(),
        _ => vec![],
    };
    if tags.is_empty() {
        digest.to_string()
    } else {
        format!("{digest} (tagged {})", tags.join(", "))
    }
}

/// Word-wraps a sentence into lines of `width`.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = vec![];
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + word.chars().count() + 1 > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// Provenance in plain words, then its facts and materials. Provenance that describes another
/// artifact is shown only as a warning, never as this digest's.
pub fn provenance<'a>(app: &App, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    if let Some(p) = pending(app, theme) {
        return p;
    }
    let Slot::Ready(d) = &app.evidence else {
        return vec![];
    };
    let mut out = vec![];
    let others: Vec<&EvidenceItem> = d
        .items
        .iter()
        .filter(|i| i.kind == Kind::Provenance && matches!(i.binding, Binding::DescribesOther(_)))
        .collect();
    for o in &others {
        if let Binding::DescribesOther(subjects) = &o.binding {
            let named: Vec<String> = subjects.iter().map(|d| with_tags(app, d)).collect();
            let text = format!(
                "⚠ Provenance found via {} describes another artifact: {}",
                o.found.describe(),
                named.join(", ")
            );
            for l in wrap(&text, width.max(20)) {
                out.push(Line::styled(l, theme.block));
            }
        }
    }
    if !others.is_empty() {
        out.push(Line::styled(
            "  It is not this digest's provenance and is not shown as such.",
            theme.block,
        ));
        out.push(Line::raw(""));
    }
    let provs = evidence::provenance_of(&d.items);
    if provs.is_empty() {
        out.push(Line::styled(
            "No provenance describes this digest.",
            theme.warn,
        ));
        return out;
    }
    // Identical statements attached both ways are shown once.
    let mut seen: Vec<&evidence::Provenance> = vec![];
    for item in provs {
        let Some(p) = &item.provenance else { continue };
        if seen.contains(&p) {
            continue;
        }
        seen.push(p);
        for l in wrap(&s(&p.sentence()), width.max(20)) {
            out.push(Line::styled(l, theme.pass));
        }
        out.push(field(theme, "Builder", &p.builder_id, width));
        out.push(field(theme, "Build type", &p.build_type, width));
        for (k, v) in [
            ("Source", &p.source_repo),
            ("Commit", &p.commit),
            ("Ref", &p.git_ref),
            ("Workflow", &p.workflow_path),
            ("Trigger", &p.trigger),
            ("Run", &p.run_url),
            ("Started", &p.started),
            ("Finished", &p.finished),
        ] {
            if let Some(v) = v {
                out.push(field(theme, k, v, width));
            }
        }
        out.push(field(theme, "SLSA", &p.slsa_version, width));
        out.push(field(
            theme,
            "Found",
            &format!("{} · {}", item.found.describe(), signer_cell(item)),
            width,
        ));
        if !p.materials.is_empty() {
            out.push(Line::styled(
                format!("Materials ({})", p.materials.len()),
                theme.accent,
            ));
            for m in p.materials.iter().take(100) {
                let d = m
                    .digest
                    .as_deref()
                    .map(|d| format!(" {}", truncate(d, 14)))
                    .unwrap_or_default();
                out.push(Line::styled(
                    format!("  {}{d}", truncate(&s(&m.uri), width.saturating_sub(18))),
                    theme.text,
                ));
            }
        }
        out.push(Line::raw(""));
    }
    out
}

/// SBOM summaries, then the packages of the first SBOM (the pane filter searches them).
pub fn sbom<'a>(app: &App, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    if let Some(p) = pending(app, theme) {
        return p;
    }
    let Slot::Ready(d) = &app.evidence else {
        return vec![];
    };
    let sboms = evidence::sboms_of(&d.items);
    let mut out = vec![];
    let sbom_like = |i: &&EvidenceItem| {
        i.media_type.contains("spdx")
            || i.media_type.contains("cyclonedx")
            || i.predicate_type
                .as_deref()
                .is_some_and(evidence::sbom::is_sbom_predicate)
    };
    for i in d
        .items
        .iter()
        .filter(|i| matches!(i.kind, Kind::Unsupported | Kind::Invalid))
        .filter(sbom_like)
    {
        out.push(Line::styled(
            format!("✗ {}", s(i.problem.as_deref().unwrap_or("unreadable SBOM"))),
            theme.block,
        ));
    }
    if sboms.is_empty() {
        out.push(Line::styled(
            "No SBOM is attached to this digest.",
            theme.warn,
        ));
        return out;
    }
    for item in &sboms {
        let Some(sb) = &item.sbom else { continue };
        let eco = sb
            .ecosystems
            .iter()
            .take(4)
            .map(|(k, n)| format!("{} {n}", s(k)))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(Line::styled(
            truncate(
                &format!(
                    "{} {}: {} packages · {} · via {}",
                    sb.format,
                    sb.version,
                    sb.package_count,
                    if eco.is_empty() {
                        "no purls".into()
                    } else {
                        eco
                    },
                    item.found.describe()
                ),
                width,
            ),
            theme.pass,
        ));
    }
    let Some(first) = sboms.first().and_then(|i| i.sbom.as_ref()) else {
        return out;
    };
    let lic = first
        .licenses
        .iter()
        .take(5)
        .map(|(k, n)| format!("{} {n}", s(k)))
        .collect::<Vec<_>>()
        .join(", ");
    out.push(field(
        theme,
        "Licenses",
        if lic.is_empty() {
            "none declared"
        } else {
            &lic
        },
        width,
    ));
    out.push(field(
        theme,
        "No license",
        &first.unlicensed.to_string(),
        width,
    ));
    if !first.generator.is_empty() {
        out.push(field(
            theme,
            "Generator",
            &first.generator.join(", "),
            width,
        ));
    }
    out.push(Line::styled(
        format!("Packages ({}) — / searches", first.package_count),
        theme.accent,
    ));
    for p in first.packages.iter().take(5000) {
        let text = format!(
            "  {:<34} {:<12} {}",
            truncate(&s(&p.name), 34),
            truncate(&s(p.version.as_deref().unwrap_or("")), 12),
            s(p.license.as_deref().unwrap_or("—"))
        );
        out.push(Line::styled(truncate(&text, width), theme.text));
    }
    out
}

/// The selected item's document, pretty-printed.
pub fn raw<'a>(app: &App, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    if let Some(p) = pending(app, theme) {
        return p;
    }
    let Slot::Ready(d) = &app.evidence else {
        return vec![];
    };
    let Some(item) = d.items.get(app.evidence_view.selected) else {
        return vec![Line::styled("nothing selected", theme.muted)];
    };
    let mut out = vec![Line::styled(
        format!(
            "{} · {} · v or esc closes",
            item.kind.describe(),
            s(&item.location)
        ),
        theme.accent,
    )];
    let doc = item
        .raw
        .clone()
        .unwrap_or_else(|| serde_json::to_value(item).unwrap_or_default());
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    for l in text.lines().take(20_000) {
        out.push(Line::styled(truncate(&s(l), width), theme.text));
    }
    out
}
