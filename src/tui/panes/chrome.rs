//! The title bar (breadcrumb) and the status line (toast or key hints).

use crate::text::sanitize;
use crate::tui::app::App;
use crate::tui::layout::Pane;
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn title(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let mut spans = vec![Span::styled(" provost ", theme.selection), Span::raw(" ")];
    if app.read_only {
        spans.push(Span::styled("READ-ONLY", theme.warn));
        spans.push(Span::raw(" "));
    }
    let mut crumbs: Vec<String> = vec![];
    if let Some(item) = app.active_item.and_then(|i| app.items.get(i)) {
        crumbs.push(item.label());
    }
    if let Some(r) = &app.active_repo {
        crumbs.push(r.clone());
    }
    if let Some(a) = app.detail.ready() {
        if !a.tags.is_empty() {
            crumbs.push(a.tags.join(","));
        }
        crumbs.push(crate::oci::digest::short(&a.digest));
    }
    let crumbs = sanitize(&crumbs.join(" › ")).to_string();
    let used = 10 + crumbs.chars().count() + if app.read_only { 10 } else { 0 };
    spans.push(Span::styled(crumbs, theme.accent));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    // The policy in force, named on the right (its file name when it is a file).
    let policy = std::path::Path::new(&app.policy)
        .file_name()
        .filter(|_| app.policy.contains('/'))
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_else(|| app.policy.clone());
    let full = format!(" policy: {} · ? help ", sanitize(&policy));
    // Named when it fits beside the breadcrumb; `? help` always shows.
    let right = if used + full.chars().count() < area.width as usize {
        full
    } else {
        " ? help ".to_string()
    };
    let w = (right.chars().count() as u16).min(area.width);
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(right, theme.muted))),
        Rect::new(area.x + area.width - w, area.y, w, 1),
    );
}

pub fn status(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let line = if app.command.open {
        Line::from(vec![
            Span::styled(format!(":{}▏", sanitize(&app.command.text)), theme.accent),
            Span::styled(
                "  ⏎ run · esc cancel · ↑↓ history · find key=value… · digest sha256:… · env NAME",
                theme.muted,
            ),
        ])
    } else if let Some(w) = &app.writing {
        Line::from(Span::styled(
            format!(" {} {}", super::spinner(app), sanitize(w)),
            theme.accent,
        ))
    } else if let Some(t) = &app.toast {
        let style = if t.error { theme.block } else { theme.pass };
        Line::from(Span::styled(format!(" {}", sanitize(&t.text)), style))
    } else if app.results.is_some() {
        Line::from(Span::styled(
            " ↑↓ move · ⏎ open · * select · Q quarantine · esc close · : command · ? help",
            theme.muted,
        ))
    } else if app.editing_filter {
        Line::from(Span::styled(
            " type to filter · ⏎ keep · esc clear",
            theme.muted,
        ))
    } else {
        // Shorter hints on a narrow terminal, so the status line is never cut mid-word.
        let wide = area.width >= 100;
        let hint = match (app.focus, wide) {
            (Pane::Detail, true) => " ↑↓ move · ⏎ open · 1-6 tabs · v raw · esc back · y copy · r refresh · ? help · q quit",
            (Pane::Detail, false) => " ↑↓ · ⏎ open · 1-6 tabs · v raw · esc back · y copy · ? help · q quit",
            (_, true) => " ↑↓ move · ⏎ open · esc back · tab pane · / filter · r refresh · y copy · ? help · q quit",
            (_, false) => " ↑↓ · ⏎ open · esc back · tab pane · / filter · y copy · ? help · q quit",
        };
        Line::from(Span::styled(hint, theme.muted))
    };
    frame.render_widget(Paragraph::new(line), area);
}
