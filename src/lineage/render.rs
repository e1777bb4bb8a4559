//! A diff in words for a terminal, and as Markdown for a pull request or a CI summary.
//! Values came from registries: callers print through `say!` (text) and every cell here is
//! sanitized and stripped of Markdown table syntax.

use super::{Change, Diff, Row};
use crate::text::sanitize;

fn show(v: &Option<String>) -> String {
    v.as_deref()
        .map(|s| sanitize(s).to_string())
        .unwrap_or_else(|| "—".into())
}

fn row_text(r: &Row) -> String {
    let body = match r.change {
        Change::Added => show(&r.b),
        Change::Removed => show(&r.a),
        Change::Changed => format!("{} → {}", show(&r.a), show(&r.b)),
        Change::Unchanged => show(&r.a),
    };
    let note = r
        .note
        .as_deref()
        .map(|n| format!("  ({})", sanitize(n)))
        .unwrap_or_default();
    format!("  {} {}: {body}{note}", r.change.mark(), sanitize(&r.key))
}

/// The diff as lines of text; `changed_only` leaves the unchanged counts out.
pub fn text(d: &Diff) -> Vec<String> {
    let mut out = vec![format!("A {}", d.a), format!("B {}", d.b)];
    if d.identical {
        out.push("identical digests: the same artifact".into());
    }
    for s in &d.sections {
        let head = if s.rows.is_empty() {
            format!("{}: no change ({} the same)", s.name, s.unchanged)
        } else {
            format!(
                "{}: {} added, {} removed, {} changed, {} the same",
                s.name,
                s.rows.iter().filter(|r| r.change == Change::Added).count(),
                s.rows
                    .iter()
                    .filter(|r| r.change == Change::Removed)
                    .count(),
                s.rows
                    .iter()
                    .filter(|r| r.change == Change::Changed)
                    .count(),
                s.unchanged
            )
        };
        out.push(head);
        if let Some(n) = &s.note {
            out.push(format!("  ⚠ {}", sanitize(n)));
        }
        out.extend(s.summary.iter().map(|l| format!("  · {}", sanitize(l))));
        out.extend(s.rows.iter().map(row_text));
    }
    out
}

/// One table cell: no markup from a registry string survives (see `text::markdown`).
fn cell(v: &str) -> String {
    crate::text::markdown(v)
}

/// A digest for a code span: only a well-formed digest is shown as one.
fn code(v: &str) -> String {
    if crate::oci::digest::is_valid(v) {
        format!("`{v}`")
    } else {
        cell(v)
    }
}

/// The diff as Markdown: a table per section that changed.
pub fn markdown(d: &Diff) -> String {
    let mut out = format!(
        "### provost diff\n\n**A** {}  \n**B** {}\n\n",
        code(&d.a),
        code(&d.b)
    );
    for s in &d.sections {
        out.push_str(&format!(
            "#### {} — {} change(s), {} the same\n\n",
            cell(&s.name),
            s.rows.len(),
            s.unchanged
        ));
        if let Some(n) = &s.note {
            out.push_str(&format!("> ⚠ {}\n\n", cell(n)));
        }
        for l in &s.summary {
            out.push_str(&format!("- {}\n", cell(l)));
        }
        if !s.summary.is_empty() {
            out.push('\n');
        }
        if s.rows.is_empty() {
            continue;
        }
        out.push_str("| | key | A | B | note |\n|---|---|---|---|---|\n");
        for r in &s.rows {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                r.change.mark(),
                cell(&r.key),
                cell(&show(&r.a)),
                cell(&show(&r.b)),
                cell(r.note.as_deref().unwrap_or(""))
            ));
        }
        out.push('\n');
    }
    out
}
