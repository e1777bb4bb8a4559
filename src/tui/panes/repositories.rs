//! The repositories pane of the active source or environment.

use super::{pane_block, placeholder, truncate};
use crate::text::sanitize;
use crate::tui::app::{App, Slot};
use crate::tui::layout::{inner_rows, window_offset, Pane};
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn render(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let count = match &app.repos {
        Slot::Ready(r) => format!("{} ({})", Pane::Repositories.title(), r.len()),
        _ => Pane::Repositories.title().to_string(),
    };
    let block = pane_block(
        app,
        theme,
        Pane::Repositories,
        count,
        &app.repos_view.filter,
    );
    if placeholder(
        app,
        theme,
        frame,
        area,
        block.clone(),
        &app.repos,
        "⏎ on a source lists its repositories",
    ) {
        return;
    }
    let Slot::Ready(repos) = &app.repos else {
        return;
    };
    let vis = app.visible_repos();
    let height = inner_rows(area, false);
    let offset = window_offset(app.repos_view.selected, height);
    let width = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = vis
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(row, &i)| {
            let name = &repos[i];
            let selected = row == app.repos_view.selected;
            let active = app.active_repo.as_deref() == Some(name.as_str());
            let style = if selected && app.focus == Pane::Repositories {
                theme.selection
            } else if active {
                theme.accent
            } else {
                theme.text
            };
            let text = truncate(&sanitize(name), width);
            let pad = width.saturating_sub(text.chars().count());
            Line::styled(format!("{text}{}", " ".repeat(pad)), style)
        })
        .collect();
    if vis.is_empty() {
        lines.push(Line::styled(
            if repos.is_empty() {
                "no repositories"
            } else {
                "no repository matches the filter"
            },
            theme.muted,
        ));
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
