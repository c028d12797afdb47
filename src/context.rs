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

    /// The build caches installs pull from (`luaenv cache add`), one a line.
    pub fn build_caches_file(&self) -> PathBuf {
        self.root.join("build-caches")
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

/// Whether `name` may be joined to `versions/`: a plain name such as `5.4.7`,
/// `luajit-2.1.0-beta3` or `5.4.7-aarch64-unknown-linux-gnu`. Never `.`, `..`, a hidden
/// name (`.staging-*`, `.old-*`), a path or a control character: names come from files a
/// cloned repository controls.
pub fn is_install_name(name: &str) -> bool {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+');
    name.len() <= 128 && name.starts_with(|c: char| c.is_ascii_alphanumeric()) && name.chars().all(plain)
}

/// The usage error (exit 2) for a name that fails `is_install_name`, naming where it came from.
pub fn check_install_name(name: &str, from: &str) -> anyhow::Result<()> {
    if is_install_name(name) {
        return Ok(());
    }
    Err(crate::error::usage(format!(
        "{from} names Lua '{}', which is not a version name (expected something like 5.4.7: letters, digits, '.', '-', '_', '+'); fix {from}",
        name.escape_debug()
    )))
}

pub fn installed_in(versions: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(versions)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_install_name(n))
        .collect();
    names.sort_by(|a, b| crate::version::compare_names(b, a));
    names
}

/// Set once this process runs as a shim (either binary): it then never installs itself as
/// the shim binary (rehash), and never reads `std::env::args`, which the musl-linked
/// `luaenv-shim` cannot give (see build.rs).
static RUNNING_AS_SHIM: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn mark_running_as_shim() {
    RUNNING_AS_SHIM.store(true, std::sync::atomic::Ordering::Relaxed);
}

pub fn running_as_shim() -> bool {
    RUNNING_AS_SHIM.load(std::sync::atomic::Ordering::Relaxed)
}

/// The name we were called by, when it is not luaenv itself.
pub fn shim_name(argv0: &std::ffi::OsString) -> Option<String> {
    let name = Path::new(argv0).file_name()?.to_str()?;
    (!name.starts_with("luaenv")).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn install_names_never_leave_versions() {
        for good in ["5.4.7", "5.4", "latest", "luajit-2.1.0-beta3", "openresty-2.1-20251030", "5.4.7-aarch64-unknown-linux-gnu"] {
            assert!(super::is_install_name(good), "{good}");
        }
        for bad in ["", ".", "..", "../../repo/fake", ".staging-5.4.7-x", ".old-5.4.7-1", "a/b", "5.4\0", "5.4\r", "-5.4", "5 4"] {
            assert!(!super::is_install_name(bad), "{bad}");
        }
        assert_eq!(crate::error::exit_code(&super::check_install_name("..", "luaenv.lock").unwrap_err()), 2);
    }
}
