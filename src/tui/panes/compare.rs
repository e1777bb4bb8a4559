//! The comparison view over the tags and detail panes: each section's changes (added,
//! removed, changed, and unchanged on request), coloured and marked, what stayed the same
//! counted, a cursor on one line, and the toggles and search in the title.

use crate::lineage::Change;
use crate::text::sanitize;
use crate::tui::app::{App, Slot};
use crate::tui::compare::{lines, Item};
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

/// A value for one cell: digests shortened here (the JSON and `provost diff` keep them whole).
fn show(v: &Option<String>) -> String {
    v.as_deref()
        .map(|s| {
            if crate::oci::digest::is_valid(s) {
                crate::oci::digest::short(s).to_string()
            } else {
                sanitize(s).to_string()
            }
        })
        .unwrap_or_else(|| "—".into())
}

/// Two values with the words they start with in common (but the last) replaced by "…", so
/// what changed is what a narrow pane shows (`… mtime 0 → … mtime 1795683600`).
fn differing(a: &str, b: &str) -> (String, String) {
    let (wa, wb): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    let same = wa.iter().zip(&wb).take_while(|(x, y)| x == y).count();
    if same < 2 || same == wa.len() || same == wb.len() {
        return (a.to_string(), b.to_string());
    }
    // One shared word stays, for context ("mtime").
    let from = same - 1;
    (
        format!("… {}", wa[from..].join(" ")),
        format!("… {}", wb[from..].join(" ")),
    )
}

fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

pub fn render(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let Some(view) = &app.compare else { return };
    let search = if app.editing_filter {
        format!(" · /{}▏", sanitize(&view.query))
    } else if !view.query.is_empty() {
        format!(" · /{}", sanitize(&view.query))
    } else {
        String::new()
    };
    let title = format!(
        " Compare · showing {}{search} · +-~= toggle · / search · ⏎ files · esc close ",
        view.shown.marks()
    );
    let width = area.width.saturating_sub(2) as usize;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focus)
        .title(Span::styled(clip(&title, width), theme.focus));
    let height = area.height.saturating_sub(2) as usize;
    let mut out: Vec<Line> = match &view.diff {
        Slot::Idle | Slot::Loading => vec![Line::styled(
            format!(
                "{} reading, verifying and judging both digests{}…",
                super::spinner(app),
                if view.files {
                    " and the files of their changed layers"
                } else {
                    ""
                }
            ),
            theme.muted,
        )],
        Slot::Failed(e) => vec![Line::styled(sanitize(e).to_string(), theme.block)],
        Slot::Ready(d) => {
            let items = lines(d, view);
            let side = |t: Option<&crate::tui::compare::Target>, digest: &str| match t {
                Some((_, repo, _)) => {
                    format!("{}@{}", sanitize(repo), crate::oci::digest::short(digest))
                }
                None => crate::oci::digest::short(digest).to_string(),
            };
            let a = side(view.sides.as_ref().map(|s| &s.0), &d.a);
            let b = side(view.sides.as_ref().map(|s| &s.1), &d.b);
            let head = vec![
                Line::styled(
                    match &view.environment {
                        Some(e) => format!("A {a}  (what {} holds)", sanitize(e)),
                        None => format!("A {a}"),
                    },
                    theme.muted,
                ),
                Line::styled(format!("B {b}"), theme.muted),
            ];
            let rows = height.saturating_sub(head.len()).max(1);
            let offset = crate::tui::layout::window_offset(view.cursor, rows);
            let body = items
                .iter()
                .enumerate()
                .skip(offset)
                .take(rows)
                .map(|(i, item)| {
                    let selected = i == view.cursor;
                    let line = item_line(item, theme, width);
                    if selected {
                        line.style(theme.selection)
                    } else {
                        line
                    }
                });
            head.into_iter().chain(body).collect()
        }
    };
    out.truncate(height.max(1));
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(out).block(block), area);
}

fn item_line<'a>(item: &Item<'_>, theme: &Theme, width: usize) -> Line<'a> {
    match item {
        Item::Section(s) => Line::styled(
            clip(
                &format!(
                    "{} — {} change(s), {} the same",
                    sanitize(&s.name),
                    s.rows.len(),
                    s.unchanged
                ),
                width,
            ),
            theme.accent,
        ),
        Item::Note(n) => Line::styled(clip(&format!("  ⚠ {}", sanitize(n)), width), theme.warn),
        Item::Summary(l) => Line::styled(clip(&format!("  · {}", sanitize(l)), width), theme.muted),
        Item::Row(_, r) => {
            let style = match r.change {
                Change::Added => theme.pass,
                Change::Removed => theme.block,
                Change::Changed => theme.warn,
                Change::Unchanged => theme.muted,
            };
            let mut body = match r.change {
                Change::Added => show(&r.b),
                Change::Removed | Change::Unchanged => show(&r.a),
                Change::Changed => {
                    let (a, b) = differing(&show(&r.a), &show(&r.b));
                    format!("{a} → {b}")
                }
            };
            if let Some(n) = &r.note {
                body.push_str(&format!("  ({})", sanitize(n)));
            }
            let key = format!("  {} {}: ", r.change.mark(), sanitize(&r.key));
            let room = width.saturating_sub(key.chars().count());
            Line::from(vec![
                Span::styled(clip(&key, width), style),
                Span::styled(clip(&body, room), style),
            ])
        }
    }
}
