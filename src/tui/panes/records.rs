//! Release records in the console: the History tab (every record about the digest, ✓ when its
//! signature verified), the audit view of an environment's chain (each link ✓/✗, and every
//! problem verification found), and the write dialogs.

use crate::text::sanitize;
use crate::tui::app::{App, Slot};
use crate::tui::modal::Modal;
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

/// Wrapped lines in one style.
fn wrap<'a>(prefix: &str, body: &str, width: usize, style: ratatui::style::Style) -> Vec<Line<'a>> {
    super::wrap(prefix, body, width)
        .into_iter()
        .map(|l| Line::styled(l, style))
        .collect()
}

/// The History tab.
pub fn history<'a>(app: &App, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    if let Some(p) = super::evidence::pending(app, theme) {
        return p;
    }
    let Some(d) = app.evidence.ready() else {
        return vec![];
    };
    let mut records = crate::policy::records::as_shown(app.trail.as_ref(), &d.items);
    let unread: Vec<String> = app
        .trail
        .iter()
        .flat_map(|t| &t.chains)
        .filter_map(|c| {
            c.entries
                .as_ref()
                .err()
                .map(|e| format!("{}: {e}", c.chain))
        })
        .collect();
    if records.is_empty() && unread.is_empty() {
        return vec![
            Line::styled("No release record is attached to this digest.", theme.muted),
            Line::styled(
                "A approve · X reject · Q quarantine · U lift a quarantine (each asks first)",
                theme.muted,
            ),
        ];
    }
    records.sort_by_key(|(r, _)| std::cmp::Reverse(r.record.time()));
    let mut out = vec![Line::styled(
        format!("{} record(s), newest first", records.len()),
        theme.muted,
    )];
    for u in &unread {
        out.extend(wrap(
            "? ",
            &format!(
                "could not tell (the chain could not be read): {}",
                sanitize(u)
            ),
            width,
            theme.warn,
        ));
    }
    for (r, linked) in records {
        let when = r
            .record
            .time()
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let (mark, who, style) = match r.signer {
            Some(s) if linked => ("✓", crate::policy::records::signer_name(s), theme.pass),
            Some(s) => ("✗", crate::policy::records::signer_name(s), theme.block),
            None => ("✗", "unverified".to_string(), theme.block),
        };
        let head = format!(
            "{mark} {when}  {:<10} {}",
            sanitize(&who),
            r.record.action_words()
        );
        out.push(Line::styled(head, style));
        let reason = &r.record.link().reason;
        if !reason.is_empty() {
            out.extend(wrap(
                "    ",
                &format!("“{}”", sanitize(reason)),
                width,
                theme.text,
            ));
        }
        if !linked {
            out.extend(wrap(
                "    ",
                "not in the audit trail: it counts for nothing",
                width,
                theme.muted,
            ));
        }
        if r.signer.is_none() {
            out.extend(wrap(
                "    ",
                &sanitize(&r.why_unproven()),
                width,
                theme.muted,
            ));
        }
    }
    out
}

/// The audit view, drawn in place of the detail pane's content.
pub fn audit(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let Some(slot) = &app.audit else { return };
    let title = match slot {
        Slot::Ready(v) => format!(" Audit trail — {} · a close ", sanitize(&v.chain)),
        _ => " Audit trail · a close ".to_string(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focus)
        .title(Span::styled(title, theme.focus));
    let width = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = match slot {
        Slot::Idle | Slot::Loading => vec![Line::styled(
            format!("{} reading and verifying the chain…", super::spinner(app)),
            theme.muted,
        )],
        Slot::Failed(e) => wrap("", &sanitize(e), width, theme.block),
        Slot::Ready(v) => {
            let mut out = vec![];
            if v.problems.is_empty() {
                out.extend(wrap(
                    "✓ ",
                    &format!(
                        "{} record(s): every signature verifies, every signer was in the right group, the links are unbroken, no fork",
                        v.rows.len()
                    ),
                    width,
                    theme.pass,
                ));
            } else {
                for p in &v.problems {
                    out.extend(wrap("✗ ", &sanitize(p), width, theme.block));
                }
            }
            out.push(Line::styled(
                "newest first; times as signed (⏱ proven by a timestamp)",
                theme.muted,
            ));
            for r in &v.rows {
                let style = if r.verified { theme.pass } else { theme.block };
                let mark = if r.verified { "✓" } else { "✗" };
                out.push(Line::styled(
                    format!(
                        "{mark} {}{} {:<8} {}",
                        sanitize(&r.when),
                        if r.proven_time { "⏱" } else { " " },
                        sanitize(&r.who),
                        sanitize(&r.what),
                    ),
                    style,
                ));
                let mut detail = sanitize(&r.digest).to_string();
                if !r.reason.is_empty() {
                    detail.push_str(&format!(" — {}", sanitize(&r.reason)));
                }
                out.extend(wrap("    ", &detail, width, theme.muted));
            }
            out
        }
    };
    let height = area.height.saturating_sub(2) as usize;
    let scroll = app
        .detail_view
        .scroll
        .min(lines.len().saturating_sub(height));
    let visible: Vec<Line> = lines.into_iter().skip(scroll).take(height).collect();
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(visible).block(block), area);
}

/// `text` cut into rows of at most `width` characters (the statement is JSON: no word to keep).
fn hard_wrap(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars
        .chunks(width.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width.saturating_sub(2)).max(10);
    let h = height.min(area.height.saturating_sub(2)).max(5);
    Rect::new(
        area.x + (area.width.saturating_sub(w)) / 2,
        area.y + (area.height.saturating_sub(h)) / 2,
        w,
        h,
    )
}

/// The open dialog, on top of everything.
pub fn modal(app: &App, theme: &Theme, frame: &mut Frame<'_>) {
    let Some(m) = &app.modal else { return };
    let area = frame.area();
    let request = match m {
        Modal::Compose { request, .. }
        | Modal::Planning { request }
        | Modal::Confirm { request, .. }
        | Modal::Passphrase { request, .. } => request,
    };
    let title = format!(" {} ", request.kind.words());
    let mut target = format!(
        "{}@{}",
        sanitize(&request.repository),
        crate::oci::digest::short(&request.digest)
    );
    if !request.also.is_empty() {
        target.push_str(&format!(
            " and {} more (one record each)",
            request.also.len()
        ));
    }
    let mut lines: Vec<Line> = vec![Line::from(vec![
        Span::styled("artifact  ", theme.muted),
        Span::styled(target, theme.accent),
    ])];
    let rect = match m {
        Modal::Compose { request, .. } => {
            if let crate::release::act::Kind::Promote { to } = &request.kind {
                lines.push(Line::from(vec![
                    Span::styled("into      ", theme.muted),
                    Span::styled(sanitize(to).to_string(), theme.text),
                    Span::styled("   (tab: another environment)", theme.muted),
                ]));
            }
            if let crate::release::act::Kind::Approve { environment, .. } = &request.kind {
                lines.push(Line::from(vec![
                    Span::styled("for       ", theme.muted),
                    Span::styled(sanitize(environment).to_string(), theme.text),
                    Span::styled("   (tab: another environment)", theme.muted),
                ]));
            }
            lines.push(Line::from(vec![
                Span::styled("sign with ", theme.muted),
                Span::styled(sanitize(&request.key_label).to_string(), theme.text),
                Span::styled("   (shift-tab: another key)", theme.muted),
            ]));
            lines.push(Line::from(vec![
                Span::styled("reason    ", theme.muted),
                Span::styled(format!("{}▏", sanitize(&request.reason)), theme.text),
            ]));
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                "⏎ review exactly what will be signed · esc cancel",
                theme.muted,
            ));
            centered(area, 76, 9)
        }
        Modal::Planning { .. } => {
            lines.push(Line::styled(
                format!(
                    "{} checking who may sign it and building the statement…",
                    super::spinner(app)
                ),
                theme.muted,
            ));
            centered(area, 76, 5)
        }
        Modal::Confirm { plan, scroll, .. } => {
            // Every row is wrapped here, so the dialog's height is known and its last line (what
            // the keys do) is never cut off, however narrow the terminal.
            let width = 90.min(area.width.saturating_sub(2)).max(10) as usize - 2;
            let mut head: Vec<(String, Style)> = vec![];
            for (text, style) in [
                (format!("signed by {}", sanitize(&plan.signer)), theme.text),
                (sanitize(&plan.destination).to_string(), theme.muted),
                (plan.title.clone(), theme.muted),
            ] {
                head.extend(hard_wrap(&text, width).into_iter().map(|l| (l, style)));
            }
            let body: Vec<String> = plan
                .statement
                .iter()
                .flat_map(|l| hard_wrap(&sanitize(l), width))
                .collect();
            let hint = if plan.needs_passphrase {
                "⏎/y sign (asks the key's passphrase) · j/k scroll · n/esc cancel"
            } else {
                "⏎/y sign and write · j/k scroll · n/esc cancel"
            };
            let hint = hard_wrap(hint, width);
            // Borders, the artifact line, the header and the hint; the statement gets the rest.
            let fixed = 2 + 1 + head.len() + hint.len();
            let room = (area.height.saturating_sub(2) as usize)
                .saturating_sub(fixed)
                .max(1);
            let start = (*scroll).min(body.len().saturating_sub(room));
            for (l, style) in head {
                lines.push(Line::styled(l, style));
            }
            for l in body.iter().skip(start).take(room) {
                lines.push(Line::styled(l.clone(), theme.text));
            }
            for l in hint {
                lines.push(Line::styled(l, theme.accent));
            }
            centered(area, 90, (lines.len() + 2) as u16)
        }
        Modal::Passphrase { input, request } => {
            lines.push(Line::from(vec![
                Span::styled("passphrase for ", theme.muted),
                Span::styled(sanitize(&request.key_label).to_string(), theme.text),
            ]));
            lines.push(Line::styled(
                format!("{}▏", "•".repeat(input.0.chars().count().min(64))),
                theme.text,
            ));
            lines.push(Line::styled("⏎ sign and write · esc cancel", theme.muted));
            centered(area, 76, 7)
        }
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focus)
        .title(Span::styled(title, theme.focus));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}
