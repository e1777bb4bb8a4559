//! The help overlay, generated from the keymap.

use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn render(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let rows = app.keymap.help_rows();
    let key_w = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(4);
    let desc_w = rows
        .iter()
        .map(|(_, d)| d.chars().count())
        .max()
        .unwrap_or(20);
    // One column when it fits the height, else two side by side.
    let footer = 3;
    let columns = if rows.len() + footer + 2 <= area.height as usize {
        1
    } else {
        2
    };
    let per_column = rows.len().div_ceil(columns);
    let col_w = (key_w + 4 + desc_w)
        .min((area.width.saturating_sub(2) as usize / columns).saturating_sub(1));
    let cell = |i: usize| -> Vec<Span> {
        match rows.get(i) {
            Some((k, d)) => {
                let room = col_w.saturating_sub(key_w + 3);
                let d: String = if d.chars().count() > room {
                    let mut t: String = d.chars().take(room.saturating_sub(1)).collect();
                    t.push('…');
                    t
                } else {
                    format!("{d:<room$}")
                };
                vec![
                    Span::styled(format!(" {k:>key_w$}  "), theme.accent),
                    Span::styled(d, theme.text),
                ]
            }
            None => vec![],
        }
    };
    let mut lines: Vec<Line> = (0..per_column)
        .map(|r| {
            let mut spans = cell(r);
            if columns == 2 {
                spans.push(Span::raw(" "));
                spans.extend(cell(r + per_column));
            }
            Line::from(spans)
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " mouse: wheel scrolls, click selects, click again opens",
        theme.muted,
    ));
    lines.push(Line::styled(" ? or esc closes this help", theme.muted));
    let w = ((col_w + 1) * columns + 2).min(area.width.saturating_sub(2) as usize) as u16;
    let h = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let r = Rect::new(
        area.x + (area.width.saturating_sub(w)) / 2,
        area.y + (area.height.saturating_sub(h)) / 2,
        w,
        h,
    );
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.focus)
                .title(Span::styled(" Keys ", theme.focus)),
        ),
        r,
    );
}
