//! A command line's results over the tags and detail panes: one row per digest with its
//! tags, today's verdicts, and where it is or runs; unverified matches marked as such.

use crate::text::sanitize;
use crate::tui::app::{App, Slot};
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

pub fn render(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let Some(view) = &app.results else { return };
    let width = area.width.saturating_sub(2) as usize;
    let title = format!(
        " {} · ⏎ open · * select · Q quarantine · esc close ",
        sanitize(&view.title)
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focus)
        .title(Span::styled(clip(&title, width), theme.focus));
    let height = area.height.saturating_sub(2) as usize;
    let mut out: Vec<Line> = vec![];
    match &view.rows {
        Slot::Idle | Slot::Loading => out.push(Line::styled(
            format!(
                "{} {}…",
                super::spinner(app),
                view.progress
                    .as_deref()
                    .map(sanitize)
                    .unwrap_or_else(|| "indexing new digests and asking".into())
            ),
            theme.muted,
        )),
        Slot::Failed(e) => out.push(Line::styled(format!("✗ {}", sanitize(e)), theme.block)),
        Slot::Ready(rows) if rows.is_empty() => {
            out.push(Line::styled("nothing matches", theme.muted))
        }
        Slot::Ready(rows) => {
            let verified = rows.iter().filter(|r| r.verified).count();
            let mut count = if !view.find {
                format!("{} found", rows.len())
            } else {
                format!(
                    "{verified} verified · {} only on unverified claims (never ✓)",
                    rows.len() - verified
                )
            };
            if !view.selected.is_empty() {
                count.push_str(&format!(" · {} selected", view.selected.len()));
            }
            out.push(Line::styled(count, theme.muted));
            // Three lines per row; the cursor's row kept in view.
            let per = 3;
            let fit = (height.saturating_sub(1) / per).max(1);
            let first = view.cursor.saturating_sub(fit - 1);
            for (i, r) in rows.iter().enumerate().skip(first).take(fit) {
                let selected = i == view.cursor;
                let mark = match (view.find, r.verified) {
                    (false, _) => "·",
                    (true, true) => "●",
                    (true, false) => "◌ unverified",
                };
                let head = format!(
                    "{}{} {mark} {}/{}@{}  {}",
                    if selected { "▶" } else { " " },
                    if view.selected.contains(&i) {
                        "■"
                    } else {
                        " "
                    },
                    sanitize(&r.source),
                    sanitize(&r.repository),
                    crate::oci::digest::short(&r.digest),
                    sanitize(&r.tags.join(", "))
                );
                let style = if selected {
                    theme.selection
                } else {
                    theme.text
                };
                out.push(Line::styled(clip(&head, width), style));
                let mut spans = vec![Span::raw("    ")];
                for (env, d) in &r.verdicts {
                    let st = match d {
                        crate::policy::Decision::Pass => theme.pass,
                        crate::policy::Decision::Warn => theme.warn,
                        crate::policy::Decision::Block => theme.block,
                    };
                    spans.push(Span::styled(format!("{env} {}  ", d.label()), st));
                }
                out.push(Line::from(spans));
                out.push(Line::styled(
                    clip(&format!("    {}", sanitize(&r.note)), width),
                    theme.muted,
                ));
            }
        }
    }
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(out).block(block), area);
}
