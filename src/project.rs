//! Project sandboxes: `.lua-version` (the pin), `lua_modules/` (the project's rocks tree),
//! the generated and git-ignored `.luaenv/` (bin wrappers, a LuaRocks config whose tree is
//! `lua_modules`, activate scripts) and `luaenv.lock` (what `luaenv sync` rebuilds).
//! `sandbox_env` runs on the shim's hot path, so it lives in `sandbox.rs`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::fs::write_atomic;
use crate::prefix::{Receipt, Source};
use crate::rocks::{self, config::Server};
use crate::shell::{Shell, quote};

// The parts the shim binary needs too live in `sandbox.rs` (std only).
pub use crate::sandbox::{GENERATED, LOCK, TREE, of_version_file, registered, sandbox_env, series_of};

/// `luaenv.lock`: enough to rebuild the same environment in a fresh clone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lock {
    pub lua: Pinned,
    pub luarocks: Option<Pinned>,
    /// The project's own rocks servers; absent means the version's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rocks_servers: Option<Vec<Server>>,
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

/// A lock file holds a few pins and servers: anything bigger is not one.

impl Lock {
    /// Reads and checks a lock a cloned repository may have written: every name it gives is
    /// a plain name, every location a URL or a bare file name, never a local path.
    pub fn read(project: &Path) -> Result<Lock> {
        let path = project.join(LOCK);
        let text = crate::selection::read_small_text(&path, crate::selection::PROJECTS_MAX).map_err(anyhow::Error::msg)?.ok_or_else(|| anyhow::anyhow!("cannot read {}: it does not exist", path.display()))?;
        let invalid = |why: String| crate::error::usage(format!("{} is not a valid luaenv lock file ({why}); restore it from version control or run `luaenv init`", path.display()));
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
        Ok(Lock { lua: pin(&receipt.source, &receipt.version, Some(receipt.name.clone()))?, luarocks, rocks_servers: None })
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

/// Paths in a project that luaenv creates or writes into. A repository can commit any of them
/// as a symbolic link (to `~/.local`, say): luaenv then refuses rather than write through it.
pub fn check_no_links(project: &Path) -> Result<()> {
    let generated = project.join(GENERATED);
    let mut paths = vec![generated.clone(), project.join(TREE)];
    // LuaRocks writes there too, following the config luaenv gives it.
    paths.extend(["bin", "share", "lib", "share/lua", "lib/lua", "lib/luarocks"].map(|d| project.join(TREE).join(d)));
    paths.extend([".lua-version", LOCK].map(|f| project.join(f)));
    if generated.symlink_metadata().is_ok_and(|m| m.is_dir()) {
        paths.push(generated.join("bin"));
        paths.extend(std::fs::read_dir(&generated).into_iter().flatten().flatten().map(|e| e.path()));
        paths.extend(std::fs::read_dir(generated.join("bin")).into_iter().flatten().flatten().map(|e| e.path()));
    }
    match paths.iter().find(|p| p.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink())) {
        Some(link) => Err(crate::error::usage(format!(
            "{} is a symbolic link, and luaenv never writes through a link a repository controls; remove it (`rm '{}'`) and run the command again: luaenv makes a real one",
            link.display(),
            link.display()
        ))),
        None => Ok(()),
    }
}

/// Held while a command reads or rewrites a project's files (`luaenv.lock`, `.luaenv/`), so
/// `init`, `sync` and `rocks add-server --project` in one project never interleave.
pub fn lock(ctx: &Context, project: &Path) -> Result<crate::lock::Lock> {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(project.as_os_str().as_encoded_bytes());
    crate::lock::acquire(ctx, &format!("project-{}", &crate::install::verify::hex(&digest)[..16]))
}

/// Remembers a project, so `rehash` makes shims for the commands of its rocks.
pub fn register(ctx: &Context, dir: &Path) -> Result<()> {
    let _lock = crate::lock::acquire(ctx, "projects")?;
    let mut known = registered(ctx);
    if !known.iter().any(|d| d == dir) {
        known.push(dir.to_path_buf());
    }
    let text: String = known.iter().map(|d| format!("{}\n", d.display())).collect();
    write_atomic(&ctx.root.join("projects"), text.as_bytes())
}

/// The nearest folder holding `luaenv.lock`, from `start` up.
pub fn find(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|d| d.join(LOCK).is_file()).map(Path::to_path_buf)
}

/// Writes `.luaenv/` for the pinned prefix: wrappers, LuaRocks config, activate scripts.
pub fn generate(ctx: &Context, project: &Path, name: &str, lock: &Lock) -> Result<()> {
    check_no_links(project)?;
    crate::context::check_install_name(name, "luaenv.lock")?;
    let prefix = ctx.prefix(name);
    let series = series_of(name).or_else(|| series_of(&lock.lua.version)).unwrap_or_default();
    let out = project.join(GENERATED);
    let bin = out.join("bin");
    std::fs::create_dir_all(&bin).with_context(|| format!("cannot create {}", bin.display()))?;
    std::fs::create_dir_all(project.join(TREE))?;
    write_atomic(&out.join(".gitignore"), b"# Generated by luaenv; rebuilt by `luaenv sync`.\n*\n")?;
    let env = sandbox_env(project, &prefix, name, &series);
    let sh = |s: &str| quote(Shell::Bash, s);
    let exports: String = env.iter().map(|(k, v)| format!("{k}={}; export {k}\n", sh(v))).collect();
    let programs: Vec<&str> = ["lua", "luac", "luajit", "luarocks"].into_iter().filter(|p| prefix.join("bin").join(p).exists()).collect();
    for entry in std::fs::read_dir(&bin)?.flatten() {
        std::fs::remove_file(entry.path()).ok();
    }
    for program in programs {
        let script = format!(
            "#!/bin/sh\n# Generated by luaenv: {program} of Lua {name} in this project's sandbox.\n{exports}exec {} \"$@\"\n",
            sh(&prefix.join("bin").join(program).to_string_lossy())
        );
        let path = bin.join(program);
        write_atomic(&path, script.as_bytes())?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    let config = out.join("luarocks-config.lua");
    let servers = lock.rocks_servers.clone();
    rocks::config::write_project_config(ctx, &config, &project.join(TREE), servers.as_deref())?;
    let paths = [bin.clone(), project.join(TREE).join("bin")];
    for shell in [Shell::Bash, Shell::Fish, Shell::Powershell] {
        let file = match shell {
            Shell::Fish => "activate.fish",
            Shell::Powershell => "activate.ps1",
            _ => "activate",
        };
        write_atomic(&out.join(file), activate_script(shell, project, &paths, &env).as_bytes())?;
    }
    Ok(())
}

/// Shell code that enters the sandbox: its bin folders first on PATH, its variables set,
/// and `deactivate` to leave it.
fn activate_script(shell: Shell, project: &Path, paths: &[PathBuf; 2], env: &[(String, String)]) -> String {
    let q = |s: &str| quote(shell, s);
    let dirs: Vec<String> = paths.iter().map(|p| q(&p.to_string_lossy())).collect();
    match shell {
        Shell::Fish => {
            let mut s = String::from("# luaenv project sandbox: `source` this file; `deactivate` leaves it.\n");
            s.push_str("set -q _LUAENV_OLD_PATH; and deactivate\n");
            s.push_str("set -gx _LUAENV_OLD_PATH $PATH\n");
            for (k, _) in env {
                s.push_str(&format!("set -q {k}; and set -gx _LUAENV_OLD_{k} ${k}\n"));
            }
            s.push_str(&format!("set -gx PATH {} $PATH\n", dirs.join(" ")));
            for (k, v) in env {
                s.push_str(&format!("set -gx {k} {}\n", q(v)));
            }
            s.push_str(&format!("set -gx LUAENV_PROJECT {}\n", q(&project.to_string_lossy())));
            s.push_str("function deactivate\n    set -gx PATH $_LUAENV_OLD_PATH; set -e _LUAENV_OLD_PATH; set -e LUAENV_PROJECT\n");
            for (k, _) in env {
                s.push_str(&format!("    if set -q _LUAENV_OLD_{k}; set -gx {k} $_LUAENV_OLD_{k}; set -e _LUAENV_OLD_{k}; else; set -e {k}; end\n"));
            }
            s.push_str("    functions -e deactivate\nend\n");
            s
        }
        Shell::Powershell => {
            let mut s = String::from("# luaenv project sandbox: dot-source this file; `deactivate` leaves it.\n");
            s.push_str("$global:_LUAENV_OLD = @{ PATH = $env:PATH }\n");
            for (k, _) in env {
                s.push_str(&format!("$global:_LUAENV_OLD['{k}'] = $env:{k}\n"));
            }
            let sep = "[IO.Path]::PathSeparator";
            s.push_str(&format!("$env:PATH = {} + {sep} + {} + {sep} + $env:PATH\n", dirs[0], dirs[1]));
            for (k, v) in env {
                s.push_str(&format!("$env:{k} = {}\n", q(v)));
            }
            s.push_str("function global:deactivate {\n    foreach ($k in $global:_LUAENV_OLD.Keys) { Set-Item -Path \"env:$k\" -Value $global:_LUAENV_OLD[$k] }\n    Remove-Variable -Scope global _LUAENV_OLD; Remove-Item function:deactivate\n}\n");
            s
        }
        Shell::Bash | Shell::Zsh => {
            let mut s = String::from("# luaenv project sandbox: `. .luaenv/activate` (bash, zsh, sh); `deactivate` leaves it.\n");
            // Entering twice (or another project) leaves the first sandbox before.
            s.push_str("if [ -n \"${_LUAENV_OLD_PATH+x}\" ]; then deactivate; fi\n");
            s.push_str("_LUAENV_OLD_PATH=\"$PATH\"\n");
            for (k, _) in env {
                s.push_str(&format!("if [ -n \"${{{k}+x}}\" ]; then _LUAENV_OLD_{k}=\"${k}\"; fi\n"));
            }
            s.push_str(&format!("PATH={}:{}:\"$PATH\"; export PATH\n", dirs[0], dirs[1]));
            for (k, v) in env {
                s.push_str(&format!("{k}={}; export {k}\n", q(v)));
            }
            s.push_str(&format!("LUAENV_PROJECT={}; export LUAENV_PROJECT\n", q(&project.to_string_lossy())));
            s.push_str("deactivate() {\n    PATH=\"$_LUAENV_OLD_PATH\"; export PATH; unset _LUAENV_OLD_PATH LUAENV_PROJECT\n");
            for (k, _) in env {
                s.push_str(&format!("    if [ -n \"${{_LUAENV_OLD_{k}+x}}\" ]; then {k}=\"$_LUAENV_OLD_{k}\"; export {k}; unset _LUAENV_OLD_{k}; else unset {k}; fi\n"));
            }
            s.push_str("    unset -f deactivate\n    hash -r 2>/dev/null || true\n}\nhash -r 2>/dev/null || true\n");
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activate_scripts_quote_a_hostile_project_path() {
        let project = Path::new("/w/it's a \"proj\" $HOME\\x");
        let prefix = Path::new("/r/versions/5.4.7");
        let env = sandbox_env(project, prefix, "5.4.7", "5.4");
        let paths = [project.join(GENERATED).join("bin"), project.join(TREE).join("bin")];
        for (shell, name) in [(Shell::Bash, "project_activate_sh"), (Shell::Fish, "project_activate_fish"), (Shell::Powershell, "project_activate_ps1")] {
            insta::assert_snapshot!(name, activate_script(shell, project, &paths, &env));
        }
        // And a real POSIX sh reads the path back intact, and deactivate restores the variables.
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), activate_script(Shell::Bash, project, &paths, &env)).unwrap();
        let out = std::process::Command::new("sh")
            .args(["-c", ". \"$1\" && printf '%s|' \"$LUAENV_PROJECT\" && deactivate && printf '%s' \"${LUA_PATH-unset}\"", "sh"])
            .arg(file.path())
            .env("LUA_PATH", "mine")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{}|mine", project.display()));
    }

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
    fn luajit_sandboxes_keep_the_jit_modules() {
        let env = sandbox_env(Path::new("/p"), Path::new("/r/versions/openresty-2.1-20251030"), "openresty-2.1-20251030", "5.1");
        let path = &env.iter().find(|(k, _)| k == "LUA_PATH").unwrap().1;
        assert!(path.ends_with(";/r/versions/openresty-2.1-20251030/share/luajit-2.1/?.lua"), "{path}");
        assert!(!env.iter().any(|(k, _)| k == "LUA_PATH_5_1"), "5.1 reads LUA_PATH only");
    }
}
