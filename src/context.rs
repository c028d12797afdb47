//! Where luaenv keeps things: the root (versions, shims, global version) and the cache.

use std::path::{Path, PathBuf};

pub struct Context {
    pub root: PathBuf,
    pub cache: PathBuf,
}

impl Context {
    pub fn from_env() -> Context {
        Context { root: root_dir(), cache: cache_dir() }
    }

    pub fn versions_dir(&self) -> PathBuf {
        self.root.join("versions")
    }

    pub fn prefix(&self, install_name: &str) -> PathBuf {
        self.versions_dir().join(install_name)
    }

    pub fn shims_dir(&self) -> PathBuf {
        self.root.join("shims")
    }

    pub fn global_version_file(&self) -> PathBuf {
        self.root.join("version")
    }

    pub fn locks_dir(&self) -> PathBuf {
        self.root.join("locks")
    }

    pub fn downloads_dir(&self) -> PathBuf {
        self.cache.join("downloads")
    }

    pub fn builds_dir(&self) -> PathBuf {
        self.cache.join("builds")
    }

    pub fn scratch_dir(&self) -> PathBuf {
        self.cache.join("tmp")
    }

    /// The file holding the persistent source mirror (`luaenv mirror set`).
    pub fn mirror_file(&self) -> PathBuf {
        self.root.join("mirror")
    }

    /// Installed version names, sorted newest first.
    pub fn installed(&self) -> Vec<String> {
        installed_in(&self.versions_dir())
    }
}

/// `$LUAENV_ROOT`, else `<data dir>/luaenv`. Cheap: the shim calls this.
pub fn root_dir() -> PathBuf {
    match std::env::var_os("LUAENV_ROOT") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("luaenv"),
    }
}

pub fn cache_dir() -> PathBuf {
    match std::env::var_os("LUAENV_CACHE_DIR") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => dirs::cache_dir().unwrap_or_else(|| PathBuf::from(".")).join("luaenv"),
    }
}

pub fn installed_in(versions: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(versions)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort_by(|a, b| crate::version::compare_names(b, a));
    names
}
