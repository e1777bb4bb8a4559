//! The help overlay, generated from the keymap.

use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn render(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let rows = app.keymap.help_rows();
    // One column when it fits the height, else two side by side.
    let footer = 3;
    let columns = if rows.len() + footer + 2 <= area.height as usize {
        1
    } else {
        2
    };
    let per_column = rows.len().div_ceil(columns).max(1);
    let chunks: Vec<&[(String, String)]> = rows.chunks(per_column).collect();
    // Each column as wide as its own keys and descriptions; when the two do not fit side by
    // side, the longer descriptions give way first.
    let widest = |f: &dyn Fn(&(String, String)) -> usize, c: &[(String, String)]| {
        c.iter().map(f).max().unwrap_or(0)
    };
    let key_w: Vec<usize> = chunks
        .iter()
        .map(|c| widest(&|(k, _)| k.chars().count(), c))
        .collect();
    let mut desc_w: Vec<usize> = chunks
        .iter()
        .map(|c| widest(&|(_, d)| d.chars().count(), c))
        .collect();
    let room = (area.width.saturating_sub(4) as usize).saturating_sub(chunks.len() - 1);
    let width =
        |desc_w: &[usize]| -> usize { key_w.iter().zip(desc_w).map(|(k, d)| 1 + k + 2 + d).sum() };
    while width(&desc_w) > room {
        let Some(i) = (0..desc_w.len()).max_by_key(|&i| desc_w[i]) else {
            break;
        };
        if desc_w[i] <= 4 {
            break;
        }
        desc_w[i] -= 1;
    }
    let cell = |c: usize, i: usize| -> Vec<Span> {
        let (kw, dw) = (key_w[c], desc_w[c]);
        match chunks[c].get(i) {
            Some((k, d)) => {
                let d: String = if d.chars().count() > dw {
                    let mut t: String = d.chars().take(dw.saturating_sub(1)).collect();
                    t.push('…');
                    t
                } else {
                    format!("{d:<dw$}")
                };
                vec![
                    Span::styled(format!(" {k:>kw$}  "), theme.accent),
                    Span::styled(d, theme.text),
                ]
            }
            None => vec![Span::raw(" ".repeat(1 + kw + 2 + dw))],
        }
    };
    let mut lines: Vec<Line> = (0..per_column)
        .map(|r| {
            let mut spans = vec![];
            for c in 0..chunks.len() {
                if c > 0 {
                    spans.push(Span::raw(" "));
                }
                spans.extend(cell(c, r));
            }
            Line::from(spans)
        })
        .collect();
    // The closing hint always shows; the mouse hint and a blank line when there is room.
    let spare = (area.height as usize).saturating_sub(4 + per_column);
    if spare >= 3 {
        lines.push(Line::raw(""));
    }
    if spare >= 2 {
        lines.push(Line::styled(
            " mouse: wheel scrolls, click selects, click again opens",
            theme.muted,
        ));
    }
    lines.push(Line::styled(" ? or esc closes this help", theme.muted));
    let w = (width(&desc_w) + chunks.len() - 1 + 2)
        .max(58)
        .min(area.width.saturating_sub(2) as usize) as u16;
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
