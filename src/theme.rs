//! Colour themes: TOML files (`themes/*.toml` built in; user themes in the config dir override or
//! extend them). A partial theme fills from `default`; `NO_COLOR` gives a colourless theme in
//! which the status symbols still carry the meaning.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The built-in themes, in cycling order.
pub(crate) const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../themes/default.toml")),
    ("dark", include_str!("../themes/dark.toml")),
    ("light", include_str!("../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../themes/high-contrast.toml"),
    ),
];

/// A resolved theme.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub(crate) name: String,
    pub(crate) fg: Color,
    pub(crate) bg: Color,
    pub(crate) accent: Color,
    pub(crate) dim: Color,
    pub(crate) error: Color,
    pub(crate) warn: Color,
    pub(crate) ok: Color,
    pub(crate) selected_fg: Color,
    pub(crate) selected_bg: Color,
    pub(crate) marked: Color,
    pub(crate) border: Color,
    pub(crate) title: Color,
    /// Colour per phase text (`queued`, `failed`, `submit_unknown`, ...; `unknown` for the rest).
    pub(crate) status: BTreeMap<String, Color>,
    /// True for the colourless theme: selection is shown reversed instead.
    pub(crate) monochrome: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    #[serde(default)]
    colors: BTreeMap<String, String>,
    #[serde(default)]
    status: BTreeMap<String, String>,
}

/// Why a theme could not be loaded.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ThemeError {
    #[error("theme `{name}`: {message}")]
    Invalid { name: String, message: String },
    #[error(
        "no theme named `{0}` (built in: default, dark, light, high-contrast; or a .toml file in the themes folder)"
    )]
    Unknown(String),
}

impl ThemeError {
    /// The theme the error is about.
    pub(crate) fn theme(&self) -> &str {
        match self {
            ThemeError::Invalid { name, .. } | ThemeError::Unknown(name) => name,
        }
    }
}

/// Parse a colour: a name (`red`, `lightblue`, `darkgray`, `reset`), `#rrggbb`, or `0`..`255`.
pub fn parse_color(s: &str) -> Result<Color, String> {
    let t = s.trim().to_ascii_lowercase();
    if let Some(hex) = t.strip_prefix('#') {
        if hex.len() == 6
            && let Ok(v) = u32::from_str_radix(hex, 16)
        {
            return Ok(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
        }
        return Err(format!("`{s}` is not a #rrggbb colour"));
    }
    if let Ok(i) = t.parse::<u8>() {
        return Ok(Color::Indexed(i));
    }
    let c = match t.replace(['-', '_', ' '], "").as_str() {
        "reset" | "default" | "none" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "darkgray" | "darkgrey" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => {
            return Err(format!(
                "`{s}` is not a colour (use a name like red or lightblue, #rrggbb, or 0-255)"
            ));
        }
    };
    Ok(c)
}

const COLOR_KEYS: &[&str] = &[
    "fg",
    "bg",
    "accent",
    "dim",
    "error",
    "warn",
    "ok",
    "selected_fg",
    "selected_bg",
    "marked",
    "border",
    "title",
];

impl Default for Theme {
    fn default() -> Self {
        // The built-in default always parses; fall back to a safe palette if it ever did not.
        parse_theme("default", BUILTIN[0].1, None).unwrap_or_else(|_| Theme::monochrome())
    }
}

impl Theme {
    /// The colourless theme (`NO_COLOR`).
    pub(crate) fn monochrome() -> Theme {
        Theme {
            name: "no-color".into(),
            fg: Color::Reset,
            bg: Color::Reset,
            accent: Color::Reset,
            dim: Color::Reset,
            error: Color::Reset,
            warn: Color::Reset,
            ok: Color::Reset,
            selected_fg: Color::Reset,
            selected_bg: Color::Reset,
            marked: Color::Reset,
            border: Color::Reset,
            title: Color::Reset,
            status: BTreeMap::new(),
            monochrome: true,
        }
    }

    /// The colour of a phase (`Phase::as_str`).
    pub(crate) fn status_color(&self, phase: &str) -> Color {
        self.status
            .get(phase)
            .or_else(|| self.status.get("unknown"))
            .copied()
            .unwrap_or(Color::Reset)
    }

    pub(crate) fn base(&self) -> Style {
        Style::default().fg(self.fg).bg(self.bg)
    }

    pub(crate) fn dim(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default().fg(self.dim)
        }
    }

    pub(crate) fn selected(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().fg(self.selected_fg).bg(self.selected_bg)
        }
    }

    pub(crate) fn error(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(self.error)
        }
    }

    pub(crate) fn warn(&self) -> Style {
        Style::default().fg(self.warn)
    }

    pub(crate) fn accent(&self) -> Style {
        Style::default().fg(self.accent)
    }

    pub(crate) fn title(&self) -> Style {
        Style::default().fg(self.title).add_modifier(Modifier::BOLD)
    }

    pub(crate) fn border(&self) -> Style {
        Style::default().fg(self.border)
    }
}

fn apply_file(theme: &mut Theme, file: &ThemeFile, name: &str) -> Result<(), ThemeError> {
    let bad = |message: String| ThemeError::Invalid {
        name: name.to_string(),
        message,
    };
    for (k, v) in &file.colors {
        let c = parse_color(v).map_err(|e| bad(format!("[colors] {k}: {e}")))?;
        let slot = match k.as_str() {
            "fg" => &mut theme.fg,
            "bg" => &mut theme.bg,
            "accent" => &mut theme.accent,
            "dim" => &mut theme.dim,
            "error" => &mut theme.error,
            "warn" => &mut theme.warn,
            "ok" => &mut theme.ok,
            "selected_fg" => &mut theme.selected_fg,
            "selected_bg" => &mut theme.selected_bg,
            "marked" => &mut theme.marked,
            "border" => &mut theme.border,
            "title" => &mut theme.title,
            other => {
                return Err(bad(format!(
                    "[colors] `{other}` is not a colour key (known: {})",
                    COLOR_KEYS.join(", ")
                )));
            }
        };
        *slot = c;
    }
    for (k, v) in &file.status {
        let c = parse_color(v).map_err(|e| bad(format!("[status] {k}: {e}")))?;
        theme.status.insert(k.clone(), c);
    }
    Ok(())
}

/// The largest theme file read (a theme is a few dozen lines).
const MAX_THEME_BYTES: u64 = 64 << 10;

/// The most of a parse error's text shown (the TOML parser quotes the offending line, which
/// may be megabytes long).
const MAX_ERROR_CHARS: usize = 300;

/// A user theme file's text: a regular file (a named pipe would never end), at most
/// [`MAX_THEME_BYTES`].
fn read_theme_file(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_THEME_BYTES {
        return Err(format!(
            "{} bytes, larger than a theme can be ({} KiB)",
            meta.len(),
            MAX_THEME_BYTES >> 10
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_THEME_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_THEME_BYTES {
        return Err(format!(
            "larger than a theme can be ({} KiB)",
            MAX_THEME_BYTES >> 10
        ));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
}

/// `text` cut to [`MAX_ERROR_CHARS`] characters, marked when cut.
fn shortened(text: &str) -> String {
    let mut out: String = text.chars().take(MAX_ERROR_CHARS).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Parse theme TOML on top of `base` (the default theme when `None`).
pub fn parse_theme(name: &str, text: &str, base: Option<&Theme>) -> Result<Theme, ThemeError> {
    let file: ThemeFile = toml::from_str(text).map_err(|e| ThemeError::Invalid {
        name: name.to_string(),
        message: shortened(&e.to_string()),
    })?;
    let mut theme = match base {
        Some(b) => b.clone(),
        None => Theme {
            monochrome: false,
            ..Theme::monochrome()
        },
    };
    apply_file(&mut theme, &file, name)?;
    theme.name = file.name.unwrap_or_else(|| name.to_string());
    theme.monochrome = false;
    Ok(theme)
}

/// Every theme available: the built-ins, then user themes from `user_dir` (a user file named like
/// a built-in replaces it). Invalid user files are reported, not fatal.
pub fn load_all(user_dir: Option<&Path>) -> (Vec<Theme>, Vec<ThemeError>) {
    let default = Theme::default();
    let mut themes: Vec<Theme> = Vec::new();
    let mut errors = Vec::new();
    for (name, text) in BUILTIN {
        match parse_theme(name, text, Some(&default)) {
            Ok(t) => themes.push(t),
            Err(e) => errors.push(e),
        }
    }
    let Some(dir) = user_dir else {
        return (themes, errors);
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (themes, errors);
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for path in files {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = match read_theme_file(&path) {
            Ok(t) => t,
            Err(message) => {
                errors.push(ThemeError::Invalid { name, message });
                continue;
            }
        };
        match parse_theme(&name, &text, Some(&default)) {
            Ok(t) => match themes.iter_mut().find(|x| x.name == t.name) {
                Some(slot) => *slot = t,
                None => themes.push(t),
            },
            Err(e) => errors.push(e),
        }
    }
    (themes, errors)
}

/// The themes to cycle through, starting with `wanted` (or the first), or only the colourless
/// one when `no_color`.
pub(crate) fn choose(
    mut themes: Vec<Theme>,
    wanted: Option<&str>,
    no_color: bool,
) -> Result<(Vec<Theme>, usize), ThemeError> {
    if no_color {
        return Ok((vec![Theme::monochrome()], 0));
    }
    if themes.is_empty() {
        themes.push(Theme::default());
    }
    let index = match wanted {
        None => 0,
        Some(w) => themes
            .iter()
            .position(|t| t.name == w)
            .ok_or_else(|| ThemeError::Unknown(w.to_string()))?,
    };
    Ok((themes, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_and_partial_themes_fill_from_default() {
        let (themes, errors) = load_all(None);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(themes.len(), 4);
        let partial = parse_theme(
            "mine",
            "[status]\nfailed = \"#ff0000\"\n",
            Some(&Theme::default()),
        )
        .expect("partial parses");
        assert_eq!(partial.status_color("failed"), Color::Rgb(255, 0, 0));
        assert_eq!(
            partial.status_color("running"),
            Color::Yellow,
            "from default"
        );
        assert_eq!(partial.name, "mine");
    }

    #[test]
    fn bad_themes_say_what_is_wrong() {
        let e = parse_theme("x", "[colors]\nfg = \"blurple\"\n", None).expect_err("bad colour");
        assert!(e.to_string().contains("blurple"), "{e}");
        let e = parse_theme("x", "[colors]\nsparkle = \"red\"\n", None).expect_err("bad key");
        assert!(e.to_string().contains("sparkle"), "{e}");
        assert!(parse_theme("x", "not toml [", None).is_err());
    }

    #[test]
    fn user_dir_overrides_and_extends() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("dark.toml"), "[colors]\naccent = \"red\"\n")
            .expect("write");
        std::fs::write(
            dir.path().join("ocean.toml"),
            "[colors]\naccent = \"blue\"\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("broken.toml"), "[colors]\nfg = 3\n").expect("write");
        let (themes, errors) = load_all(Some(dir.path()));
        assert_eq!(errors.len(), 1, "the broken file is reported");
        let dark = themes.iter().find(|t| t.name == "dark").expect("dark");
        assert_eq!(dark.accent, Color::Red);
        assert!(themes.iter().any(|t| t.name == "ocean"));
        let (list, i) = choose(themes, Some("ocean"), false).expect("found");
        assert_eq!(list[i].name, "ocean");
        let (list, _) = choose(list, None, true).expect("no color");
        assert!(list[0].monochrome);
    }

    #[test]
    fn colour_forms() {
        assert_eq!(parse_color("#0a0b0c"), Ok(Color::Rgb(10, 11, 12)));
        assert_eq!(parse_color("208"), Ok(Color::Indexed(208)));
        assert_eq!(parse_color("Light-Blue"), Ok(Color::LightBlue));
        assert!(parse_color("#12").is_err());
    }
}
