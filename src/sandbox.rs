//! What the shim binary needs of projects: the folder names, the registered projects, and the
//! sandbox environment. Std only (the shim is a separate, statically linked binary); the rest
//! of project handling is in `project.rs`, which re-exports these. `sandbox_env` runs on the
//! shim's hot path: no file is read to compute it.

use std::path::{Path, PathBuf};

use crate::context::Context;

pub const LOCK: &str = "luaenv.lock";
pub const GENERATED: &str = ".luaenv";
pub const TREE: &str = "lua_modules";

/// The projects made here that still exist.
pub fn registered(ctx: &Context) -> Vec<PathBuf> {
    // Capped and never a FIFO: a hostile root file cannot hang every shim.
    crate::selection::read_small_text(&ctx.root.join("projects"), crate::selection::PROJECTS_MAX)
        .unwrap_or_else(|problem| {
            eprintln!("warning: {problem}");
            None
        })
        .unwrap_or_default()
        .lines()
        .map(PathBuf::from)
        .filter(|d| d.join(LOCK).is_file())
        .collect()
}

/// The project of a `.lua-version` file, when that folder is a sandbox.
pub fn of_version_file(file: &Path) -> Option<&Path> {
    let dir = file.parent()?;
    dir.join(LOCK).is_file().then_some(dir)
}

/// The series (`5.4`) of an install name, for the path variables.
pub fn series_of(name: &str) -> Option<String> {
    if is_luajit(name) {
        return Some("5.1".into());
    }
    crate::version::Version::parse(name).filter(|v| v.parts.len() >= 2).map(|v| v.series())
}

/// LuaJIT install names (`luajit-2.1`, `openresty-2.1-20251030`), told apart by name so the
/// shim's hot path reads no file.
pub fn is_luajit(name: &str) -> bool {
    name.starts_with("luajit-") || name.starts_with("openresty-")
}

/// The environment of the sandbox: module paths limited to the project and its tree,
/// and LuaRocks pointed at the project's config. Lua 5.2+ reads `LUA_PATH_5_x` before
/// `LUA_PATH`, and LuaRocks `LUAROCKS_CONFIG_5_x` first, so both names are set.
pub fn sandbox_env(project: &Path, prefix: &Path, name: &str, series: &str) -> Vec<(String, String)> {
    let p = project.display();
    let tree = format!("{p}/{TREE}");
    let mut path = format!("{p}/?.lua;{p}/?/init.lua;{tree}/share/lua/{series}/?.lua;{tree}/share/lua/{series}/?/init.lua");
    // LuaJIT's own library (`jit.*`) lives in the prefix, in the folder its luaconf.h names
    // (`luajit-2.0`, `luajit-2.1`, …); the install links `share/luajit` to it, so no file is
    // read here. PUC Lua's is built in.
    if is_luajit(name) {
        path.push_str(&format!(";{}/share/luajit/?.lua", prefix.display()));
    }
    let cpath = format!("{p}/?.so;{tree}/lib/lua/{series}/?.so");
    let config = format!("{p}/{GENERATED}/luarocks-config.lua");
    let suffix = series.replace('.', "_");
    let mut vars = vec![
        ("LUA_PATH".to_string(), path.clone()),
        ("LUA_CPATH".to_string(), cpath.clone()),
        ("LUAROCKS_CONFIG".to_string(), config.clone()),
        (format!("LUAROCKS_CONFIG_{suffix}"), config),
    ];
    if series != "5.1" {
        vars.push((format!("LUA_PATH_{suffix}"), path));
        vars.push((format!("LUA_CPATH_{suffix}"), cpath));
    }
    vars
}
