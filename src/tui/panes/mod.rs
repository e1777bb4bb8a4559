//! Drawing: `render` reads the `App` and draws every pane. No I/O, no mutation.

mod chrome;
mod compare;
mod detail;
mod evidence;
mod help;
mod records;
mod repositories;
mod results;
mod sources;
mod tags;
mod verdicts;

use super::app::{App, Slot};
use super::layout::Pane;
use super::theme::Theme;
use crate::text::sanitize;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

const SPINNER: [&str; 8] = ["⣾", "⣽", "⣻", "⢿", "⡿", "⣟", "⣯", "⣷"];

/// Draws the whole screen.
pub fn render(app: &App, theme: &Theme, frame: &mut Frame<'_>) {
    let areas = super::layout::Areas::new(frame.area(), app.items.len());
    chrome::title(app, theme, frame, areas.title);
    sources::render(app, theme, frame, areas.sources);
    repositories::render(app, theme, frame, areas.repositories);
    tags::render(app, theme, frame, areas.tags);
    detail::render(app, theme, frame, areas.detail);
    if app.results.is_some() {
        results::render(app, theme, frame, areas.tags.union(areas.detail));
    } else if app.compare.is_some() {
        // The tags and the detail pane together: a comparison needs the room.
        compare::render(app, theme, frame, areas.tags.union(areas.detail));
    } else if app.audit.is_some() {
        records::audit(app, theme, frame, areas.detail);
    }
    chrome::status(app, theme, frame, areas.status);
    if app.help {
        help::render(app, theme, frame, frame.area());
    }
    records::modal(app, theme, frame);
}

/// A pane's border, highlighted when focused, with its filter shown in the title.
pub(crate) fn pane_block<'a>(
    app: &App,
    theme: &Theme,
    pane: Pane,
    title: String,
    filter: &str,
) -> Block<'a> {
    let focused = app.focus == pane;
    let mut spans = vec![Span::styled(
        format!(" {title} "),
        if focused { theme.focus } else { theme.text },
    )];
    if !filter.is_empty() || (focused && app.editing_filter) {
        let cursor = if focused && app.editing_filter {
            "▏"
        } else {
            ""
        };
        spans.push(Span::styled(
            format!("/{}{cursor} ", sanitize(filter)),
            theme.accent,
        ));
    }
    Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { theme.focus } else { theme.border })
        .title(Line::from(spans))
}

/// The spinner frame for this tick.
pub(crate) fn spinner(app: &App) -> &'static str {
    SPINNER[(app.tick as usize) % SPINNER.len()]
}

/// Draws a slot that holds no data yet: idle hint, spinner, or the error with its retry key.
pub(crate) fn placeholder<T>(
    app: &App,
    theme: &Theme,
    frame: &mut Frame<'_>,
    area: Rect,
    block: Block<'_>,
    slot: &Slot<T>,
    idle: &str,
) -> bool {
    let (text, style): (String, Style) = match slot {
        Slot::Ready(_) => return false,
        Slot::Idle => (idle.to_string(), theme.muted),
        Slot::Loading => (format!("{} loading…", spinner(app)), theme.muted),
        Slot::Failed(e) => (format!("✗ {}", sanitize(e)), theme.block),
    };
    frame.render_widget(
        Paragraph::new(Line::styled(text, style))
            .block(block)
            .wrap(Wrap { trim: true }),
        area,
    );
    true
}

/// Cuts a string to `width` characters with an ellipsis.
/// `prefix` then `body` wrapped at word boundaries to `width` columns; continuation lines are
/// indented to the prefix's width, and a word longer than a line is split. Nothing is cut off.
pub(crate) fn wrap(prefix: &str, body: &str, width: usize) -> Vec<String> {
    let indent = prefix.chars().count();
    let avail = width.saturating_sub(indent).max(8);
    let mut lines: Vec<String> = vec![];
    let mut cur: Vec<char> = vec![];
    for word in body.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while !word.is_empty() {
            let sep = usize::from(!cur.is_empty());
            if cur.len() + sep + word.len() <= avail {
                if sep == 1 {
                    cur.push(' ');
                }
                cur.append(&mut word);
            } else if !cur.is_empty() {
                lines.push(cur.drain(..).collect());
            } else {
                // A word longer than a line: split it.
                lines.push(word.drain(..avail).collect());
            }
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur.into_iter().collect());
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{prefix}{l}")
            } else {
                format!("{}{l}", " ".repeat(indent))
            }
        })
        .collect()
}

pub(crate) fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else if width == 0 {
        String::new()
    } else {
        let mut out: String = s.chars().take(width - 1).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrapping_keeps_every_word_and_each_line_fits() {
        let prefix = "  ? sbom               ";
        let body = "2 SBOM(s) attached, but no trusted signer vouches for any of them at all";
        let lines = wrap(prefix, body, 40);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.chars().count() <= 40), "{lines:?}");
        assert!(lines[0].starts_with(prefix));
        assert!(lines[1].starts_with(&" ".repeat(prefix.len())));
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(words(&lines.join(" ")), words(&format!("{prefix}{body}")));
        // A word longer than a line is split, not dropped.
        let long = format!("x {}", "y".repeat(100));
        let lines = wrap("    ", &long, 30);
        assert_eq!(lines.concat().matches('y').count(), 100);
        assert!(lines.iter().all(|l| l.chars().count() <= 30), "{lines:?}");
    }
}
