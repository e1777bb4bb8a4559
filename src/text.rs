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

/// JSON text with DEL, C1 controls, line/paragraph separators and bidi controls written as
/// `\uXXXX` escapes. They occur only inside strings (JSON's structure is ASCII), so the text
/// stays valid JSON with the same values.
pub fn json_controls(json: &str) -> Cow<'_, str> {
    let hostile = |c: char| {
        matches!(c as u32,
            0x7f..=0x9f | 0x200e | 0x200f | 0x2028 | 0x2029 | 0x202a..=0x202e | 0x2066..=0x2069)
    };
    if !json.chars().any(hostile) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if hostile(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `sanitize` line by line: newlines (and tabs) stay, everything else dangerous goes. For
/// headless output, where a value may span lines but never control the terminal.
pub fn sanitize_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| is_dangerous(c) && c != '\n' && c != '\t') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if is_dangerous(c) && c != '\n' && c != '\t' {
                    '\u{FFFD}'
                } else {
                    c
                }
            })
            .collect(),
    )
}

/// `println!` for headless commands: every line sanitized on its way to stdout, so no value
/// from outside can reach the terminal raw, whichever field it came from.
#[macro_export]
macro_rules! say {
    () => { $crate::text::out("") };
    ($($t:tt)*) => { $crate::text::out(&format!($($t)*)) };
}

/// `print!` for headless commands, sanitized as `say!`.
#[macro_export]
macro_rules! say_part {
    ($($t:tt)*) => { $crate::text::out_part(&format!($($t)*)) };
}

/// `eprintln!` for headless commands, sanitized as `say!`.
#[macro_export]
macro_rules! warn {
    ($($t:tt)*) => { $crate::text::err(&format!($($t)*)) };
}

/// A line on stdout, sanitized (what `say!` writes). A failed write (a closed pipe) ends the
/// process as `println!` would.
pub fn out(line: &str) {
    #[allow(clippy::disallowed_macros)]
    {
        println!("{}", sanitize_lines(line));
    }
}

/// Text on stdout without a newline, sanitized (`say_part!`).
pub fn out_part(text: &str) {
    use std::io::Write;
    #[allow(clippy::disallowed_macros)]
    {
        print!("{}", sanitize_lines(text));
    }
    let _ = std::io::stdout().flush();
}

/// Text on stderr without a newline (a question), sanitized.
pub fn err_part(text: &str) {
    use std::io::Write;
    #[allow(clippy::disallowed_macros)]
    {
        eprint!("{}", sanitize_lines(text));
    }
    let _ = std::io::stderr().flush();
}

/// A line on stderr, sanitized (`warn!`).
pub fn err(line: &str) {
    #[allow(clippy::disallowed_macros)]
    {
        eprintln!("{}", sanitize_lines(line));
    }
}

fn is_dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text from outside made safe for one cell of a Markdown table (a CI job summary): sanitized
/// as for a terminal, newlines folded, HTML and every Markdown metacharacter escaped, so a
/// registry string can add no link, image, emphasis, code span, HTML or table cell.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in sanitize(s).chars() {
        match c {
            '\u{FFFD}' => out.push('\u{FFFD}'),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '~' | '"' | '\'' | ':' | '=' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{markdown, sanitize};

    #[test]
    fn lines_keep_their_breaks_and_lose_their_escapes() {
        let s = super::sanitize_lines("a\u{1b}[2J\nb\r\tc\u{202e}");
        assert_eq!(s, "a\u{FFFD}[2J\nb\u{FFFD}\tc\u{FFFD}");
    }

    #[test]
    fn markdown_cells_carry_no_markup() {
        let hostile =
            "x|y <img src=x onerror=alert(1)> [link](https://evil) ![i](u) `code` **b** _e_ \n# h";
        let m = markdown(hostile);
        for bad in ["<img", "\n"] {
            assert!(!m.contains(bad), "{bad:?} survived in {m}");
        }
        // Every Markdown metacharacter left is escaped by the backslash before it.
        let chars: Vec<char> = m.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if "|[]()!`*_#".contains(*c) {
                assert!(i > 0 && chars[i - 1] == '\\', "unescaped {c:?} in {m}");
            }
        }
        assert!(m.contains("&lt;img"));
        assert_eq!(markdown("plain words"), "plain words");
        assert!(!markdown("a\u{1b}[31mb").contains('\u{1b}'));
    }

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
