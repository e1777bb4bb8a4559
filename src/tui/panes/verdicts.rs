//! Verdicts: the strip of one cell per environment (mark, word and colour — never colour
//! alone) and the tab listing each environment's findings with what it would take.

use crate::policy::{Decision, Outcome};
use crate::text::sanitize;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

fn style(theme: &Theme, d: Decision) -> Style {
    match d {
        Decision::Pass => theme.pass,
        Decision::Warn => theme.warn,
        Decision::Block => theme.block,
    }
}

/// `Verdicts  dev ✓ pass · staging ⚠ warn · prod ✗ block`, or nothing before evidence arrives.
/// Where that does not fit `width`, the marks alone (`dev ✓ · staging ⚠ · prod ✗`): a mark is
/// never colour alone, and no environment is cut off.
pub fn strip<'a>(app: &App, theme: &Theme, width: usize) -> Option<Line<'a>> {
    if app.verdicts.is_empty() {
        return None;
    }
    let cells = |short: bool| -> Vec<String> {
        app.verdicts
            .iter()
            .map(|v| {
                let label = v.decision.label();
                let label = if short {
                    label.split(' ').next().unwrap_or(label)
                } else {
                    label
                };
                format!("{} {label}", sanitize(&v.environment))
            })
            .collect()
    };
    let full = cells(false);
    let len = 12 + full.iter().map(|c| c.chars().count() + 3).sum::<usize>();
    let chosen = if len <= width { full } else { cells(true) };
    let mut spans = vec![Span::styled(format!("{:<11} ", "Verdicts"), theme.muted)];
    for (i, (v, text)) in app.verdicts.iter().zip(chosen).enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.muted));
        }
        spans.push(Span::styled(text, style(theme, v.decision)));
    }
    Some(Line::from(spans))
}

fn mark(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "✓",
        Outcome::Fail => "✗",
        Outcome::Missing => "?",
        Outcome::Skipped => "·",
        Outcome::Error => "!",
    }
}

/// Every environment's verdict with its findings; failures first, each with its hint.
pub fn tab<'a>(app: &App, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    if let Some(p) = super::evidence::pending(app, theme) {
        return p;
    }
    if app.verdicts.is_empty() {
        return vec![Line::styled(
            "No environment tracks this repository.",
            theme.muted,
        )];
    }
    let mut out: Vec<Line<'a>> = strip(app, theme, width).into_iter().collect();
    out.push(Line::raw(""));
    // Blocked environments first: that is what a release manager came to read.
    let mut order: Vec<&crate::policy::Verdict> = app.verdicts.iter().collect();
    order.sort_by_key(|v| match v.decision {
        Decision::Block => 0,
        Decision::Warn => 1,
        Decision::Pass => 2,
    });
    for v in order {
        out.push(Line::styled(
            format!(
                "{} ({}): {}",
                sanitize(&v.environment),
                v.tier,
                v.decision.label()
            ),
            style(theme, v.decision),
        ));
        let mut findings: Vec<&crate::policy::Finding> = v
            .findings
            .iter()
            .filter(|f| f.outcome != Outcome::Skipped)
            .collect();
        findings.sort_by_key(|f| f.outcome == Outcome::Pass);
        // The rule column fits the longest rule name (up to 20); every reason wraps, never cut
        // short before its cause.
        let rule_w = v
            .findings
            .iter()
            .map(|f| f.rule.chars().count())
            .max()
            .unwrap_or(10)
            .clamp(10, if width < 60 { 14 } else { 20 });
        for f in findings {
            let s = match f.outcome {
                Outcome::Pass => theme.pass,
                Outcome::Fail | Outcome::Error if v.decision == Decision::Block => theme.block,
                _ => theme.warn,
            };
            let rule = super::truncate(&sanitize(&f.rule), rule_w);
            let prefix = format!("  {} {rule:<rule_w$} ", mark(f.outcome));
            for l in super::wrap(&prefix, &sanitize(&f.message), width) {
                out.push(Line::styled(l, s));
            }
            if f.outcome != Outcome::Pass {
                if let Some(h) = &f.hint {
                    for l in super::wrap("      → ", &sanitize(h), width) {
                        out.push(Line::styled(l, theme.muted));
                    }
                }
            }
        }
        let skipped: Vec<String> = v
            .findings
            .iter()
            .filter(|f| f.outcome == Outcome::Skipped)
            .map(|f| sanitize(&f.rule).to_string())
            .collect();
        if !skipped.is_empty() {
            let prefix = format!("  · not scoped to {}: ", sanitize(&v.environment));
            for l in super::wrap(&prefix, &skipped.join(", "), width) {
                out.push(Line::styled(l, theme.muted));
            }
        }
        out.push(Line::raw(""));
    }
    out
}
