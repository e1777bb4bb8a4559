//! The sources pane: configured registries and stores, then environments.

use super::{pane_block, truncate};
use crate::text::sanitize;
use crate::tui::app::{App, SourceItem};
use crate::tui::layout::{inner_rows, window_offset, Pane};
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn render(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let block = pane_block(
        app,
        theme,
        Pane::Sources,
        Pane::Sources.title().into(),
        &app.sources_view.filter,
    );
    let vis = app.visible_sources();
    let height = inner_rows(area, false);
    let offset = window_offset(app.sources_view.selected, height);
    let width = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = vis
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(row, &i)| {
            let item = &app.items[i];
            let (icon, detail) = match item {
                SourceItem::Source { kind, .. } if kind == "registry" => ("◆", "registry".into()),
                SourceItem::Source { .. } => ("▣", "layout".into()),
                // A tag moved outside provost, else where promotions come from.
                SourceItem::Environment(e) if app.drifted.iter().any(|(n, _)| *n == e.name) => {
                    ("◇", "⚠ moved".to_string())
                }
                SourceItem::Environment(e) => (
                    "◇",
                    e.promotes_from
                        .as_deref()
                        .map(|f| format!("← {}", sanitize(f)))
                        .unwrap_or_else(|| "env".into()),
                ),
            };
            let detail: String = detail;
            let dw = detail.chars().count();
            let active = app.active_item == Some(i);
            let text = format!("{icon} {}", sanitize(&item.label()));
            let text = truncate(&text, width.saturating_sub(dw + 1));
            let pad = width.saturating_sub(text.chars().count() + dw);
            let selected = row == app.sources_view.selected;
            let style = if selected && app.focus == Pane::Sources {
                theme.selection
            } else if active {
                theme.accent
            } else {
                theme.text
            };
            Line::from(vec![
                Span::styled(text, style),
                Span::styled(" ".repeat(pad), style),
                Span::styled(
                    detail,
                    if selected && app.focus == Pane::Sources {
                        style
                    } else {
                        theme.muted
                    },
                ),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
