//! Themes: semantic roles mapped to styles. Pane code names roles, never raw colours.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::path::Path;
use std::str::FromStr;

const DEFAULT: &str = include_str!("../../themes/default.toml");
const LIGHT: &str = include_str!("../../themes/light.toml");
const HIGH_CONTRAST: &str = include_str!("../../themes/high-contrast.toml");

/// The names of the built-in themes.
pub const BUILT_IN: &[&str] = &["default", "light", "high-contrast"];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleSpec {
    fg: Option<String>,
    bg: Option<String>,
    bold: Option<bool>,
    dim: Option<bool>,
    reversed: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    pass: Option<RoleSpec>,
    warn: Option<RoleSpec>,
    block: Option<RoleSpec>,
    unknown: Option<RoleSpec>,
    muted: Option<RoleSpec>,
    accent: Option<RoleSpec>,
    selection: Option<RoleSpec>,
    text: Option<RoleSpec>,
    border: Option<RoleSpec>,
    focus: Option<RoleSpec>,
}

/// Styles by role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub pass: Style,
    pub warn: Style,
    pub block: Style,
    pub unknown: Style,
    pub muted: Style,
    pub accent: Style,
    pub selection: Style,
    pub text: Style,
    pub border: Style,
    pub focus: Style,
}

impl Theme {
    /// Loads a built-in theme by name or a theme file by path, layered over the default.
    /// With `no_color` (the `NO_COLOR` convention) every colour is dropped and roles keep only
    /// their emphasis, with selection shown reversed.
    pub fn load(name_or_path: &str, no_color: bool) -> Result<Theme, String> {
        let mut theme =
            Self::from_text(DEFAULT, None).map_err(|e| format!("built-in theme: {e}"))?;
        let overlay = match name_or_path {
            "default" | "dark" => None,
            "light" => Some((LIGHT.to_string(), "light".to_string())),
            "high-contrast" => Some((HIGH_CONTRAST.to_string(), "high-contrast".to_string())),
            other => {
                let direct = Path::new(other);
                let path = if direct.is_file() {
                    direct.to_path_buf()
                } else {
                    match crate::config::paths::user_themes()
                        .map(|d| d.join(format!("{other}.toml")))
                    {
                        Some(p) if p.is_file() => p,
                        _ => {
                            return Err(format!(
                                "unknown theme {other:?}: not a built-in theme ({}) and not a file",
                                BUILT_IN.join(", ")
                            ))
                        }
                    }
                };
                let text = crate::oci::files::read_text_file(&path)
                    .map_err(|e| format!("cannot read theme {}: {e}", path.display()))?;
                Some((text, path.display().to_string()))
            }
        };
        if let Some((text, label)) = overlay {
            theme =
                Self::from_text(&text, Some(&theme)).map_err(|e| format!("theme {label}: {e}"))?;
        }
        if no_color {
            theme = theme.monochrome();
        }
        Ok(theme)
    }

    fn from_text(text: &str, base: Option<&Theme>) -> Result<Theme, String> {
        let f: ThemeFile =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
        let fallback = base.cloned().unwrap_or_else(Theme::plain);
        let role = |spec: &Option<RoleSpec>, name: &str, base: Style| -> Result<Style, String> {
            match spec {
                None => Ok(base),
                Some(s) => apply(s, base).map_err(|e| format!("[{name}] {e}")),
            }
        };
        Ok(Theme {
            pass: role(&f.pass, "pass", fallback.pass)?,
            warn: role(&f.warn, "warn", fallback.warn)?,
            block: role(&f.block, "block", fallback.block)?,
            unknown: role(&f.unknown, "unknown", fallback.unknown)?,
            muted: role(&f.muted, "muted", fallback.muted)?,
            accent: role(&f.accent, "accent", fallback.accent)?,
            selection: role(&f.selection, "selection", fallback.selection)?,
            text: role(&f.text, "text", fallback.text)?,
            border: role(&f.border, "border", fallback.border)?,
            focus: role(&f.focus, "focus", fallback.focus)?,
        })
    }

    /// No colours at all: emphasis only.
    pub fn plain() -> Theme {
        let s = Style::default();
        Theme {
            pass: s,
            warn: s.add_modifier(Modifier::BOLD),
            block: s.add_modifier(Modifier::BOLD),
            unknown: s,
            muted: s.add_modifier(Modifier::DIM),
            accent: s.add_modifier(Modifier::BOLD),
            selection: s.add_modifier(Modifier::REVERSED),
            text: s,
            border: s,
            focus: s.add_modifier(Modifier::BOLD),
        }
    }

    fn monochrome(&self) -> Theme {
        let strip = |s: Style| Style {
            fg: None,
            bg: None,
            underline_color: None,
            ..s
        };
        Theme {
            pass: strip(self.pass),
            warn: strip(self.warn),
            block: strip(self.block),
            unknown: strip(self.unknown),
            muted: strip(self.muted).add_modifier(Modifier::DIM),
            accent: strip(self.accent),
            selection: Style::default().add_modifier(Modifier::REVERSED),
            text: Style::default(),
            border: Style::default(),
            focus: Style::default().add_modifier(Modifier::BOLD),
        }
    }
}

fn apply(spec: &RoleSpec, base: Style) -> Result<Style, String> {
    let colour = |v: &str| {
        Color::from_str(v).map_err(|_| {
            format!("{v:?} is not a colour (use a name like \"green\" or \"#rrggbb\")")
        })
    };
    let mut s = base;
    if let Some(fg) = &spec.fg {
        s = s.fg(colour(fg)?);
    }
    if let Some(bg) = &spec.bg {
        s = s.bg(colour(bg)?);
    }
    for (flag, m) in [
        (spec.bold, Modifier::BOLD),
        (spec.dim, Modifier::DIM),
        (spec.reversed, Modifier::REVERSED),
    ] {
        match flag {
            Some(true) => s = s.add_modifier(m),
            Some(false) => s = s.remove_modifier(m),
            None => {}
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_load_and_differ() {
        let d = Theme::load("default", false).expect("default");
        let l = Theme::load("light", false).expect("light");
        let h = Theme::load("high-contrast", false).expect("hc");
        assert_ne!(d, l);
        assert_ne!(d, h);
        assert_eq!(d.pass.fg, Some(Color::Green));
    }

    #[test]
    fn no_color_strips_colours() {
        let t = Theme::load("default", true).expect("theme");
        for s in [t.pass, t.warn, t.block, t.accent, t.selection, t.muted] {
            assert_eq!(s.fg, None);
            assert_eq!(s.bg, None);
        }
        assert!(t.selection.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn user_file_overrides_only_what_it_sets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("mine.toml");
        std::fs::write(&p, "[pass]\nfg = \"#00ff00\"\n").expect("write");
        let t = Theme::load(&p.display().to_string(), false).expect("theme");
        assert_eq!(t.pass.fg, Some(Color::Rgb(0, 255, 0)));
        assert_eq!(t.block, Theme::load("default", false).expect("d").block);
        std::fs::write(&p, "[pass]\nfg = \"greenish\"\n").expect("write");
        let e = Theme::load(&p.display().to_string(), false).expect_err("bad colour");
        assert!(e.contains("greenish") && e.contains("[pass]"), "{e}");
        assert!(Theme::load("no-such-theme", false).is_err());
    }
}
