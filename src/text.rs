//! Making untrusted strings safe to draw in a terminal.

use std::borrow::Cow;

/// Replaces every control character (C0, DEL, C1 — so every escape sequence's introducer) and
/// bidi override with U+FFFD, so registry- or document-supplied text cannot move the cursor,
/// recolour the screen or write to the clipboard.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_dangerous) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| if is_dangerous(c) { '\u{FFFD}' } else { c })
            .collect(),
    )
}

fn is_dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn strips_escape_sequences() {
        let s = sanitize("ok\u{1b}[31mred\u{1b}]52;c;Zm9v\u{7}\u{9b}2J");
        assert!(!s.contains('\u{1b}'));
        assert!(!s.contains('\u{7}'));
        assert!(!s.contains('\u{9b}'));
        assert!(s.starts_with("ok"));
        assert_eq!(sanitize("plain"), "plain");
        assert!(!sanitize("a\u{202E}b").contains('\u{202E}'));
    }
}
