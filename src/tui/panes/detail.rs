//! The artifact pane: media type, size, platforms (selectable), layers, config, annotations
//! and every tag pointing at the digest.

use super::evidence;
use super::tags::short_time;
use super::{pane_block, placeholder, truncate};
use crate::oci::artifact::{human_size, Artifact};
use crate::oci::media::annotation;
use crate::text::sanitize;
use crate::tui::app::{App, DetailTab, Slot};
use crate::tui::layout::{inner_rows, Pane};
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

fn field<'a>(theme: &Theme, key: &str, value: String) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{key:<11} "), theme.muted),
        Span::styled(value, theme.text),
    ])
}

fn heading<'a>(theme: &Theme, text: &str) -> Line<'a> {
    Line::styled(text.to_string(), theme.accent)
}

/// The pane's lines for an artifact (before scrolling and filtering). Every string that came
/// from a registry is sanitized here.
pub fn lines<'a>(app: &App, theme: &Theme, a: &Artifact, width: usize) -> Vec<Line<'a>> {
    let s = |x: &str| sanitize(x).to_string();
    let mut out = vec![];
    if !app.detail_view.stack.is_empty() {
        out.push(Line::styled(
            "↖ platform of an index — esc returns to the index",
            theme.muted,
        ));
    }
    out.push(field(theme, "Digest", a.digest.clone()));
    out.push(field(theme, "Media type", s(&a.media_type)));
    if let Some(t) = &a.artifact_type {
        out.push(field(theme, "Artifact", s(t)));
    }
    out.push(field(
        theme,
        "Size",
        format!("{} (manifest {} B)", human_size(a.size), a.manifest_size),
    ));
    out.push(field(
        theme,
        "Created",
        a.created
            .as_deref()
            .map(|c| format!("{} UTC", short_time(c)))
            .unwrap_or_else(|| "unknown".into()),
    ));
    if let Some(p) = &a.platform {
        out.push(field(theme, "Platform", s(p)));
    }
    out.push(field(theme, "Tags", {
        let listed = if a.tags.is_empty() {
            "(untagged)".to_string()
        } else {
            s(&a.tags.join(", "))
        };
        if a.tags_unchecked > 0 {
            format!("{listed} (and {} more tags not checked)", a.tags_unchecked)
        } else {
            listed
        }
    }));
    if let Some(strip) = super::verdicts::strip(app, theme, width) {
        out.push(strip);
    }
    if let Slot::Ready(d) = &app.evidence {
        let provs = crate::evidence::provenance_of(&d.items);
        match provs.first().and_then(|i| i.provenance.as_ref()) {
            Some(p) => out.push(Line::from(vec![
                Span::styled(format!("{:<11} ", "Provenance"), theme.muted),
                Span::styled(
                    truncate(&s(&p.sentence()), width.saturating_sub(12)),
                    theme.pass,
                ),
            ])),
            None => out.push(Line::from(vec![
                Span::styled(format!("{:<11} ", "Provenance"), theme.muted),
                Span::styled("none for this digest — press 3 to see why", theme.warn),
            ])),
        }
        // Who signed the image and its evidence; release records have their own tab.
        let signers = crate::evidence::trusted_signers(
            d.items
                .iter()
                .filter(|i| i.kind != crate::evidence::Kind::Record),
        );
        let image_signed = d
            .items
            .iter()
            .any(|i| i.kind == crate::evidence::Kind::Signature && i.signer.is_verified());
        let label = format!("{:<11} ", "Signers");
        if signers.is_empty() {
            out.push(Line::from(vec![
                Span::styled(label, theme.muted),
                Span::styled(
                    "✗ nothing verifies against the trusted keys and identities",
                    theme.block,
                ),
            ]));
        } else {
            for (n, who) in signers.iter().enumerate() {
                out.push(Line::from(vec![
                    Span::styled(
                        if n == 0 {
                            label.clone()
                        } else {
                            " ".repeat(12)
                        },
                        theme.muted,
                    ),
                    Span::styled(
                        truncate(&format!("✓ {}", s(who)), width.saturating_sub(12)),
                        theme.pass,
                    ),
                ]));
            }
            if !image_signed {
                out.push(Line::from(vec![
                    Span::styled(" ".repeat(12), theme.muted),
                    Span::styled(
                        "⚠ the image itself carries no verified signature",
                        theme.warn,
                    ),
                ]));
            }
        }
        if let Some(sb) = crate::evidence::sboms_of(&d.items)
            .first()
            .and_then(|i| i.sbom.as_ref())
        {
            out.push(field(
                theme,
                "SBOM",
                format!(
                    "{} {}, {} packages",
                    sb.format, sb.version, sb.package_count
                ),
            ));
        }
    }
    if let Some(src) = a.annotations.get(annotation::SOURCE) {
        out.push(field(theme, "Source", s(src)));
    }
    if let Some(rev) = a.annotations.get(annotation::REVISION) {
        out.push(field(theme, "Revision", s(rev)));
    }
    if let Some(subject) = &a.subject {
        out.push(field(theme, "Subject", subject.clone()));
    }
    if !a.platforms.is_empty() {
        out.push(heading(
            theme,
            &format!("Platforms ({}) — ⏎ opens one", a.platforms.len()),
        ));
        for (i, p) in a.platforms.iter().enumerate() {
            let selected = i == app.detail_view.platform && app.focus == Pane::Detail;
            let text = format!(
                "{} {:<16} {} {:>9}",
                if selected { "▶" } else { " " },
                truncate(&s(&p.platform), 16),
                crate::oci::digest::short(&p.digest),
                human_size(p.size)
            );
            let style = if selected {
                theme.selection
            } else {
                theme.text
            };
            out.push(Line::styled(text, style));
        }
    }
    if let Some(c) = &a.config {
        out.push(heading(theme, "Config"));
        out.push(field(
            theme,
            "  Digest",
            format!(
                "{} {}",
                crate::oci::digest::short(&c.digest),
                human_size(c.size)
            ),
        ));
        out.push(field(theme, "  Type", s(&c.media_type)));
        if !c.entrypoint.is_empty() {
            out.push(field(theme, "  Entrypoint", s(&c.entrypoint.join(" "))));
        }
        if let Some(u) = &c.user {
            out.push(field(theme, "  User", s(u)));
        }
        for h in &c.history {
            out.push(Line::styled(
                format!("  $ {}", truncate(&s(h), width.saturating_sub(4))),
                theme.muted,
            ));
        }
    }
    if !a.layers.is_empty() {
        out.push(heading(theme, &format!("Layers ({})", a.layers.len())));
        for (i, l) in a.layers.iter().enumerate() {
            let kind = l.media_type.rsplit('.').next().unwrap_or("");
            out.push(Line::styled(
                format!(
                    "  {:>2}  {}  {:>9}  {}",
                    i + 1,
                    crate::oci::digest::short(&l.digest),
                    human_size(l.size),
                    s(kind)
                ),
                theme.text,
            ));
        }
    }
    if !a.annotations.is_empty() {
        out.push(heading(theme, "Annotations"));
        for (k, v) in &a.annotations {
            out.push(Line::from(vec![
                Span::styled(format!("  {} ", s(k)), theme.muted),
                Span::styled(
                    truncate(&s(v), width.saturating_sub(k.len() + 3).max(8)),
                    theme.text,
                ),
            ]));
        }
    }
    out
}

/// The pane title: every tab, the current one marked; short names when the full ones do not
/// fit `width` (the tab bar is never cut off).
fn tabs_title(app: &App, width: usize) -> String {
    let build = |short: bool| {
        DetailTab::ALL
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let count = match (t, &app.evidence) {
                    (DetailTab::Evidence, Slot::Ready(d)) => format!(" ({})", d.items.len()),
                    _ => String::new(),
                };
                let name = if short && *t != app.tab {
                    t.short_title()
                } else {
                    t.title()
                };
                if *t == app.tab {
                    format!("[{} {name}{count}]", i + 1)
                } else {
                    format!("{} {name}{count}", i + 1)
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let full = build(false);
    // Room inside the borders and the title's padding.
    if full.chars().count() + 4 <= width {
        full
    } else {
        build(true)
    }
}

pub fn render(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let block = pane_block(
        app,
        theme,
        Pane::Detail,
        tabs_title(app, area.width as usize),
        &app.detail_view.filter,
    );
    if placeholder(
        app,
        theme,
        frame,
        area,
        block.clone(),
        &app.detail,
        "⏎ on a tag shows its artifact",
    ) {
        return;
    }
    let Slot::Ready(a) = &app.detail else { return };
    let width = area.width.saturating_sub(2) as usize;
    let mut all = match (app.tab, app.evidence_view.raw) {
        (DetailTab::Artifact, _) => lines(app, theme, a, width),
        (DetailTab::Evidence, true) => evidence::raw(app, theme, width),
        (DetailTab::Evidence, false) => evidence::list(app, theme, width),
        (DetailTab::Provenance, _) => evidence::provenance(app, theme, width),
        (DetailTab::Sbom, _) => evidence::sbom(app, theme, width),
        (DetailTab::Verdicts, _) => super::verdicts::tab(app, theme, width),
        (DetailTab::History, _) => super::records::history(app, theme, width),
    };
    let filter = app.detail_view.filter.to_lowercase();
    if !filter.is_empty() {
        all.retain(|l| {
            l.spans
                .iter()
                .any(|s| s.content.to_lowercase().contains(&filter))
        });
    }
    let height = inner_rows(area, false);
    // Keep the selected platform on screen; otherwise honour the scroll position.
    let selected_marker =
        |l: &Line| l.style == theme.selection || l.spans.iter().any(|s| s.style == theme.selection);
    let scroll = if app.tab == DetailTab::Evidence && !app.evidence_view.raw {
        let line = all.iter().position(selected_marker).unwrap_or(0);
        line.saturating_sub(height.saturating_sub(2))
    } else if app.tab != DetailTab::Artifact || a.platforms.is_empty() {
        app.detail_view.scroll.min(all.len().saturating_sub(height))
    } else {
        let selected_line = all
            .iter()
            .position(|l| l.spans.first().is_some_and(|s| s.content.starts_with('▶')))
            .unwrap_or(0);
        selected_line.saturating_sub(height.saturating_sub(1))
    };
    let visible: Vec<Line> = all.into_iter().skip(scroll).take(height).collect();
    frame.render_widget(Paragraph::new(visible).block(block), area);
}
