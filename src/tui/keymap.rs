//! The keymap: keys bound directly to `Command`s, with descriptions for the help overlay.

use super::action::Command;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use std::collections::BTreeMap;

const DEFAULT: &str = include_str!("keymap.toml");

#[derive(Debug, Clone, Deserialize)]
struct Entry {
    action: Command,
    description: String,
}

/// One binding, as the help overlay lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub key: String,
    pub command: Command,
    pub description: String,
}

/// Key → command.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Keymap {
    /// The embedded default keymap.
    pub fn default_keymap() -> Keymap {
        // The embedded file is covered by a unit test, so this parse cannot fail at run time.
        Self::parse(DEFAULT).unwrap_or(Keymap { bindings: vec![] })
    }

    /// Parses keymap TOML; errors name the key at fault.
    pub fn parse(text: &str) -> Result<Keymap, String> {
        let table: BTreeMap<String, Entry> = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut bindings = vec![];
        for (key, entry) in table {
            parse_key(&key).ok_or_else(|| format!("unknown key name {key:?}"))?;
            bindings.push(Binding {
                key,
                command: entry.action,
                description: entry.description,
            });
        }
        Ok(Keymap { bindings })
    }

    /// The command bound to a key event.
    pub fn lookup(&self, ev: &KeyEvent) -> Option<Command> {
        self.bindings
            .iter()
            .find(|b| parse_key(&b.key).is_some_and(|k| key_matches(k, ev)))
            .map(|b| b.command)
    }

    /// Bindings grouped by command, in a stable order: (keys, description).
    pub fn help_rows(&self) -> Vec<(String, String)> {
        let mut rows: Vec<(Command, Vec<String>, String)> = vec![];
        for b in &self.bindings {
            match rows.iter_mut().find(|(c, _, _)| *c == b.command) {
                Some(row) => row.1.push(display_key(&b.key)),
                None => rows.push((b.command, vec![display_key(&b.key)], b.description.clone())),
            }
        }
        let order = |c: &Command| *c as u8;
        rows.sort_by_key(|(c, _, _)| order(c));
        rows.into_iter()
            .map(|(_, keys, d)| (keys.join(" "), d))
            .collect()
    }
}

fn display_key(k: &str) -> String {
    match k {
        "up" => "↑".into(),
        "down" => "↓".into(),
        "left" => "←".into(),
        "right" => "→".into(),
        "enter" => "⏎".into(),
        other => other.to_string(),
    }
}

fn parse_key(s: &str) -> Option<(KeyCode, KeyModifiers)> {
    let (mods, name) = match s.strip_prefix("ctrl-") {
        Some(rest) => (KeyModifiers::CONTROL, rest),
        None => (KeyModifiers::NONE, s),
    };
    let code = match name {
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "pageup" => KeyCode::PageUp,
        "pagedown" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        c if c.chars().count() == 1 => KeyCode::Char(c.chars().next()?),
        _ => return None,
    };
    Some((code, mods))
}

fn key_matches((code, mods): (KeyCode, KeyModifiers), ev: &KeyEvent) -> bool {
    if ev.code != code {
        return false;
    }
    // Shift is part of the character itself ("G", "?"), so only ctrl and alt must match.
    let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT;
    ev.modifiers & relevant == mods & relevant
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_keymap_parses_and_binds() {
        let k = Keymap::parse(DEFAULT).expect("embedded keymap parses");
        let ev = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert_eq!(k.lookup(&ev(KeyCode::Char('q'))), Some(Command::Quit));
        assert_eq!(k.lookup(&ev(KeyCode::Char('j'))), Some(Command::Down));
        assert_eq!(
            k.lookup(&KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Command::Bottom)
        );
        assert_eq!(
            k.lookup(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(k.lookup(&ev(KeyCode::Char('c'))), None);
        assert!(k.help_rows().iter().any(|(_, d)| d.contains("help")));
    }

    #[test]
    fn bad_keymap_names_the_key() {
        let e = Keymap::parse("hyperspace = { action = \"quit\", description = \"x\" }")
            .expect_err("bad");
        assert!(e.contains("hyperspace"));
        assert!(Keymap::parse("q = { action = \"explode\", description = \"x\" }").is_err());
    }
}
