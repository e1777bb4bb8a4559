//! The tags pane: tag, short digest, size, created and platforms for each tag.

use super::{pane_block, placeholder, spinner, truncate};
use crate::oci::artifact::human_size;
use crate::oci::digest::short;
use crate::text::sanitize;
use crate::tui::app::{App, Slot};
use crate::tui::layout::{inner_rows, window_offset, Pane};
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// `2026-11-20 10:19` from an RFC 3339 timestamp; the raw text when it is not one.
pub fn short_time(ts: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(ts) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => ts.chars().take(16).collect(),
    }
}

fn pad(s: &str, w: usize) -> String {
    let t = truncate(s, w);
    let n = t.chars().count();
    format!("{t}{} ", " ".repeat(w.saturating_sub(n)))
}

pub fn render(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let title = match (&app.active_repo, &app.tags) {
        (Some(r), Slot::Ready(t)) => format!("Tags of {} ({})", sanitize(r), t.len()),
        (Some(r), _) => format!("Tags of {}", sanitize(r)),
        _ => Pane::Tags.title().into(),
    };
    let block = pane_block(app, theme, Pane::Tags, title, &app.tags_view.filter);
    if placeholder(
        app,
        theme,
        frame,
        area,
        block.clone(),
        &app.tags,
        "⏎ on a repository lists its tags",
    ) {
        return;
    }
    let Slot::Ready(rows) = &app.tags else { return };
    let width = area.width.saturating_sub(2) as usize;
    let created_w = if width >= 78 { 16 } else { 10 };
    let (tag_w, digest_w, size_w) = (16usize.min(width / 4).max(8), 12, 9);
    let gate_w = 8;
    let fixed = tag_w + digest_w + gate_w + size_w + created_w + 5;
    let plat_w = width.saturating_sub(fixed).max(1);
    let source = app.active_source();
    let envs: Vec<&crate::config::Environment> = app
        .environments
        .iter()
        .filter(|e| {
            Some(&e.source) == source.as_ref()
                && app
                    .active_repo
                    .as_deref()
                    .is_some_and(|r| e.tracks_repository(r))
        })
        .collect();
    let header = if app.matrix {
        let mut h = format!("{}{}", pad("TAG", tag_w), pad("DIGEST", digest_w));
        for e in &envs {
            h.push_str(&pad(&sanitize(&e.name), 10));
        }
        Line::styled(h, theme.muted)
    } else {
        Line::styled(
            format!(
                "{}{}{}{}{}{}",
                pad("TAG", tag_w),
                pad("DIGEST", digest_w),
                pad("GATE", gate_w),
                pad("SIZE", size_w),
                pad("CREATED", created_w),
                truncate("PLATFORMS", plat_w)
            ),
            theme.muted,
        )
    };
    let decision_style = |d: crate::policy::Decision| match d {
        crate::policy::Decision::Pass => theme.pass,
        crate::policy::Decision::Warn => theme.warn,
        crate::policy::Decision::Block => theme.block,
    };
    let vis = app.visible_tags();
    let height = inner_rows(area, true);
    let offset = window_offset(app.tags_view.selected, height);
    let mut lines = vec![header];
    for (row, &i) in vis.iter().enumerate().skip(offset).take(height) {
        let r = &rows[i];
        let selected = row == app.tags_view.selected && app.focus == Pane::Tags;
        let base = if selected {
            theme.selection
        } else {
            theme.text
        };
        let mut spans = vec![Span::styled(
            pad(&sanitize(&r.tag), tag_w),
            if selected { base } else { theme.accent },
        )];
        match &r.summary {
            Slot::Ready(s) => {
                let created = s
                    .created
                    .as_deref()
                    .map(short_time)
                    .unwrap_or_else(|| "—".into());
                let created: String = created.chars().take(created_w).collect();
                let platforms = if s.platforms.is_empty() {
                    "—".to_string()
                } else {
                    s.platforms.join(",")
                };
                spans.push(Span::styled(pad(&short(&s.digest), digest_w), base));
                if app.matrix {
                    for e in &envs {
                        match r.verdicts.iter().find(|(n, _)| *n == e.name) {
                            Some((_, d)) => spans.push(Span::styled(
                                pad(d.label(), 10),
                                if selected { base } else { decision_style(*d) },
                            )),
                            None => spans.push(Span::styled(
                                pad(spinner(app), 10),
                                if selected { base } else { theme.muted },
                            )),
                        }
                    }
                    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
                    if selected && used < width {
                        spans.push(Span::styled(" ".repeat(width - used), base));
                    }
                    lines.push(Line::from(spans));
                    continue;
                }
                // The verdict for the environment this tag belongs to (dev, staging, prod …).
                let env_of = envs.iter().find(|e| e.tracks_tag(&r.tag) && e.tag != "*");
                let moved = env_of.is_some_and(|e| {
                    app.drifted.iter().any(|(n, repo)| {
                        *n == e.name && Some(repo.as_str()) == app.active_repo.as_deref()
                    })
                });
                let gate = env_of.map(|e| {
                    r.verdicts
                        .iter()
                        .find(|(n, _)| *n == e.name)
                        .map(|(_, d)| *d)
                });
                match gate {
                    Some(Some(d)) => spans.push(Span::styled(
                        pad(d.label(), gate_w),
                        if selected { base } else { decision_style(d) },
                    )),
                    Some(None) => spans.push(Span::styled(
                        pad(spinner(app), gate_w),
                        if selected { base } else { theme.muted },
                    )),
                    None => spans.push(Span::styled(pad("", gate_w), base)),
                }
                if moved {
                    // The tag names another digest than its chain's last promotion: that says
                    // more than its size and age.
                    spans.push(Span::styled(
                        truncate("⚠ moved outside provost", size_w + created_w + plat_w),
                        if selected { base } else { theme.warn },
                    ));
                } else {
                    spans.push(Span::styled(pad(&human_size(s.size), size_w), base));
                    spans.push(Span::styled(pad(&created, created_w), base));
                    spans.push(Span::styled(truncate(&sanitize(&platforms), plat_w), base));
                }
            }
            Slot::Failed(e) => spans.push(Span::styled(
                truncate(
                    &format!("✗ {}", sanitize(e)),
                    width.saturating_sub(tag_w + 1),
                ),
                if selected { base } else { theme.block },
            )),
            _ => spans.push(Span::styled(
                format!("{} loading…", spinner(app)),
                if selected { base } else { theme.muted },
            )),
        }
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        if selected && used < width {
            spans.push(Span::styled(" ".repeat(width - used), base));
        }
        lines.push(Line::from(spans));
    }
    if vis.is_empty() {
        lines.push(Line::styled(
            if rows.is_empty() {
                "no tags"
            } else {
                "no tag matches the filter"
            },
            theme.muted,
        ));
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
