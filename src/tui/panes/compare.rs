//! The comparison view over the detail pane: each section's changes, + added, - removed,
//! ~ changed, coloured and marked, and what stayed the same counted.

use crate::lineage::Change;
use crate::text::sanitize;
use crate::tui::app::{App, Slot};
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

pub fn render(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let Some(slot) = &app.compare else { return };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focus)
        .title(Span::styled(
            " Compare · j/k scroll · d or esc close ",
            theme.focus,
        ));
    let lines: Vec<Line> = match slot {
        Slot::Idle | Slot::Loading => vec![Line::styled(
            format!(
                "{} reading, verifying and judging both digests…",
                super::spinner(app)
            ),
            theme.muted,
        )],
        Slot::Failed(e) => vec![Line::styled(sanitize(e).to_string(), theme.block)],
        Slot::Ready(d) => {
            let mut out = vec![
                Line::styled(
                    format!("A {}", crate::oci::digest::short(&d.a)),
                    theme.muted,
                ),
                Line::styled(
                    format!("B {}", crate::oci::digest::short(&d.b)),
                    theme.muted,
                ),
            ];
            for s in &d.sections {
                out.push(Line::styled(
                    format!(
                        "{} — {} change(s), {} the same",
                        s.name,
                        s.rows.len(),
                        s.unchanged
                    ),
                    theme.accent,
                ));
                if let Some(n) = &s.note {
                    out.push(Line::styled(format!("  ⚠ {}", sanitize(n)), theme.warn));
                }
                for r in &s.rows {
                    let style = match r.change {
                        Change::Added => theme.pass,
                        Change::Removed => theme.block,
                        Change::Changed => theme.warn,
                    };
                    // Digests shortened here (the JSON and `provost diff` keep them whole).
                    let show = |v: &Option<String>| {
                        v.as_deref()
                            .map(|s| {
                                if crate::oci::digest::is_valid(s) {
                                    crate::oci::digest::short(s).to_string()
                                } else {
                                    sanitize(s).to_string()
                                }
                            })
                            .unwrap_or_else(|| "—".into())
                    };
                    let body = match r.change {
                        Change::Added => show(&r.b),
                        Change::Removed => show(&r.a),
                        Change::Changed => format!("{} → {}", show(&r.a), show(&r.b)),
                    };
                    out.push(Line::from(vec![
                        Span::styled(format!("  {} ", r.change.mark()), style),
                        Span::styled(format!("{}: ", sanitize(&r.key)), theme.text),
                        Span::styled(body, style),
                    ]));
                }
            }
            out
        }
    };
    let visible: Vec<Line> = lines.into_iter().skip(app.compare_scroll).collect();
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(visible)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
