//! `luaenv.lock`: what `luaenv sync` rebuilds in a fresh clone, read as hostile input
//! (plain names, URLs or bare file names, never a local path).

use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::fs::write_atomic;
use crate::prefix::{Receipt, Source};
use crate::rocks::{self, config::Server};

use super::LOCK;

/// `luaenv.lock`: enough to rebuild the same environment in a fresh clone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lock {
    pub lua: Pinned,
    pub luarocks: Option<Pinned>,
    /// The project's own rocks servers; absent means the version's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rocks_servers: Option<Vec<Server>>,
    /// Every rock the project uses (its rockspec's dependencies and theirs), pinned by sum.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rocks: Vec<LockedRock>,
}

/// One rock of the project, as `luaenv sync` installs it: from this very file, checked by sum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockedRock {
    pub name: String,
    /// The exact LuaRocks version, revision included (`3.1.3-0`).
    pub version: String,
    /// The file it is installed from: `<name>-<version>.<arch>.rock`, `.src.rock` or `.rockspec`.
    pub file: String,
    /// Where it was downloaded: an http(s) URL (no credentials), or the file name alone.
    pub url: String,
    pub sha256: String,
    /// Its own dependencies as its rockspec states them (`lua` left out): a sync checks the
    /// locked set against the project's rockspec without reading any rock.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pinned {
    /// The install name under `versions/` (Lua only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub version: String,
    pub url: String,
    pub sha256: String,
}

impl Lock {
    /// Reads and checks a lock a cloned repository may have written: every name it gives is
    /// a plain name, every location a URL or a bare file name, never a local path.
    pub fn read(project: &Path) -> Result<Lock> {
        let path = project.join(LOCK);
        let invalid = |why: String| crate::error::usage(format!("{} is not a valid luaenv lock file ({why}); restore it from version control or run `luaenv init`", path.display()));
        // A lock is the project's to get right: one too big or not text is bad input (exit 2).
        let text = match crate::fs::read_small_file(&path, crate::selection::PROJECTS_MAX) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|_| invalid("it is not UTF-8 text".into()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!("cannot read {}: it does not exist", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => return Err(anyhow::Error::new(e).context(format!("cannot read {}", path.display()))),
            Err(e) => return Err(invalid(e.to_string())),
        };
        let lock: Lock = toml::from_str(&text).map_err(|e| invalid(e.message().trim().to_string()))?;
        lock.check().map_err(invalid)?;
        Ok(lock)
    }

    /// The install name the lock pins.
    pub fn install_name(&self) -> String {
        self.lua.name.clone().unwrap_or_else(|| self.lua.version.clone())
    }

    fn check(&self) -> Result<(), String> {
        let name = self.install_name();
        if !crate::context::is_install_name(&name) {
            return Err(format!("[lua] name '{}' is not a version name such as 5.4.7", name.escape_debug()));
        }
        for (what, pin) in std::iter::once(("lua", &self.lua)).chain(self.luarocks.iter().map(|p| ("luarocks", p))) {
            if !is_pinnable_location(&pin.url) {
                return Err(format!("[{what}] url '{}' is a local path; a lock names an http(s) URL or a file name for the mirror", pin.url.escape_debug()));
            }
            if pin.sha256.len() != 64 || !pin.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("[{what}] sha256 is not 64 hex digits"));
            }
        }
        for rock in &self.rocks {
            rock.check()?;
        }
        for server in self.rocks_servers.iter().flatten() {
            rocks::config::check_server_name(&server.name).map_err(|e| format!("rocks_servers: {e}"))?;
            if !matches!(reqwest::Url::parse(&server.url).map(|u| u.scheme().to_string()).as_deref(), Ok("http" | "https")) {
                return Err(format!("rocks server '{}' has url '{}', not an http(s) URL", server.name, server.url.escape_debug()));
            }
        }
        Ok(())
    }

    pub fn write(&self, project: &Path) -> Result<()> {
        let body = toml::to_string_pretty(self)?;
        let text = format!("# Written by luaenv. `luaenv sync` rebuilds this environment from it; commit it.\n\n{body}");
        write_atomic(&project.join(LOCK), text.as_bytes())
    }

    /// The lock for an installed prefix, from its receipt.
    pub fn from_receipt(receipt: &Receipt) -> Result<Lock> {
        let pin = |source: &Source, version: &str, name: Option<String>| -> Result<Pinned> {
            let sha256 = source.sha256.clone().ok_or_else(|| {
                anyhow::anyhow!("{} was built from a source folder ({}), which a lock file cannot pin; install it from a tarball", receipt.name, source.url)
            })?;
            Ok(Pinned { url: upstream_url(&source.url, name.as_deref()), name, version: version.to_string(), sha256 })
        };
        let luarocks = match &receipt.luarocks {
            Some(source) => Some(pin(source, source.version.as_deref().unwrap_or(""), None)?),
            None => None,
        };
        Ok(Lock { lua: pin(&receipt.source, &receipt.version, Some(receipt.name.clone()))?, luarocks, rocks_servers: None, rocks: Vec::new() })
    }
}

impl LockedRock {
    /// A hand-edited or hostile entry names a plain rock, a plain file and an http(s) URL.
    fn check(&self) -> Result<(), String> {
        let plain = |s: &str| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b)) && !s.starts_with('.');
        if !plain(&self.name) || !plain(&self.version) {
            return Err(format!("[[rocks]] entry '{} {}' is not a rock name and version such as inspect 3.1.3-0", self.name.escape_debug(), self.version.escape_debug()));
        }
        if !is_file_name(&self.file) || !is_pinnable_location(&self.url) {
            return Err(format!("[[rocks]] {} names the file '{}' at '{}'; a lock names a plain file name and an http(s) URL or that file name", self.name, self.file.escape_debug(), self.url.escape_debug()));
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("[[rocks]] {} sha256 is not 64 hex digits", self.name));
        }
        // LuaRocks reads the rock's name and version from the file's name.
        let stem = format!("{}-{}.", self.name, self.version);
        if !self.file.starts_with(&stem) || !(self.file.ends_with(".rock") || self.file.ends_with(".rockspec")) {
            return Err(format!("[[rocks]] {} {} names the file '{}', which is not {stem}<arch>.rock or {stem}rockspec", self.name, self.version, self.file.escape_debug()));
        }
        for dep in &self.dependencies {
            super::rockspec::Dependency::parse(dep).map_err(|e| format!("[[rocks]] {} dependencies: {e}", self.name))?;
        }
        Ok(())
    }
}

/// A release's upstream URL, whatever mirror it came through; another http(s) URL as is
/// (without credentials); a local file by its name only: a lock never holds a local path.
fn upstream_url(location: &str, install_name: Option<&str>) -> String {
    let file = location.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    if let Some(r) = install_name.and_then(|n| crate::install::resolve::resolve(n).ok()).filter(|r| r.file_name == file) {
        return r.upstream_url;
    }
    if let Some(r) = crate::catalog::releases().into_iter().find(|r| r.file_name() == file) {
        return r.url;
    }
    match reqwest::Url::parse(location) {
        Ok(mut u) if matches!(u.scheme(), "http" | "https") => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => file.to_string(),
    }
}

/// An http(s) URL, or a bare file name (fetched from the mirror): never a path or `file://`.
pub fn is_pinnable_location(location: &str) -> bool {
    match reqwest::Url::parse(location) {
        Ok(u) => matches!(u.scheme(), "http" | "https") && u.host_str().is_some(),
        Err(_) => is_file_name(location),
    }
}

/// A plain file name (`luarocks-3.8.0-dfsg.tar.gz`): no folder, not hidden, no control character.
pub fn is_file_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && !name.starts_with('.') && !name.contains('/') && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_pins_urls_and_file_names_never_local_paths() {
        for ok in ["https://www.lua.org/ftp/lua-5.4.7.tar.gz", "http://127.0.0.1:8080/x.tar.gz", "luarocks-3.8.0-dfsg.tar.gz"] {
            assert!(is_pinnable_location(ok), "{ok}");
        }
        for bad in ["vendor/lua", "/tmp/lua.tar.gz", "file:///tmp/lua.tar.gz", "../lua.tar.gz", ".hidden", "", "a\nb"] {
            assert!(!is_pinnable_location(bad), "{bad}");
        }
        assert_eq!(upstream_url("/home/me/dl/luarocks-3.8.0-dfsg.tar.gz", None), "luarocks-3.8.0-dfsg.tar.gz");
        assert_eq!(upstream_url("http://u:pw@mirror.example/lua/x-1.tar.gz", None), "http://mirror.example/lua/x-1.tar.gz");
        assert_eq!(upstream_url("/srv/mirror/lua-5.4.7.tar.gz", Some("5.4.7")), "https://www.lua.org/ftp/lua-5.4.7.tar.gz");
    }

    #[test]
    fn a_hand_edited_rock_entry_is_refused() {
        let good = LockedRock { name: "inspect".into(), version: "3.1.3-0".into(), file: "inspect-3.1.3-0.src.rock".into(), url: "https://luarocks.org/inspect-3.1.3-0.src.rock".into(), sha256: "a".repeat(64), dependencies: vec!["lua >= 5.1".into()] };
        assert_eq!(good.check(), Ok(()));
        let bad = [
            LockedRock { name: "../x".into(), ..good.clone() },
            LockedRock { file: "../../etc/passwd".into(), ..good.clone() },
            LockedRock { url: "/home/me/x.rock".into(), ..good.clone() },
            LockedRock { sha256: "xyz".into(), ..good.clone() },
            LockedRock { file: "other-1.0-1.src.rock".into(), ..good.clone() },
            LockedRock { dependencies: vec!["\"; os.exit()".into()], ..good.clone() },
        ];
        for rock in bad {
            assert!(rock.check().is_err(), "{rock:?}");
        }
    }
}
