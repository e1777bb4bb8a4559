//! Where provost keeps its files, following the platform's conventions (XDG on Linux).

use std::path::PathBuf;

fn dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("dev", "provost", "provost")
}

/// The user's `provost.toml`.
pub fn config_file() -> Option<PathBuf> {
    dirs().map(|d| d.config_dir().join("provost.toml"))
}

/// The user's data directory: demo stores and the keys trusted for them.
pub fn data_dir() -> Option<PathBuf> {
    dirs().map(|d| d.data_dir().to_path_buf())
}

/// The embedded demo store: an OCI image layout in the user data directory.
pub fn demo_store() -> Option<PathBuf> {
    dirs().map(|d| d.data_dir().join("demo"))
}

/// Theme files the user adds: `<config dir>/themes/NAME.toml`.
pub fn user_themes() -> Option<PathBuf> {
    dirs().map(|d| d.config_dir().join("themes"))
}

/// The on-disk cache of registry content (`PROVOST_CACHE_DIR` overrides it).
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PROVOST_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    dirs().map(|d| d.cache_dir().join("oci"))
}
