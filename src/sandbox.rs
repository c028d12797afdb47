//! What the shim binary needs of projects: the folder names, the registered projects, and the
//! sandbox environment. Std only (the shim is a separate, statically linked binary); the rest
//! of project handling is in `project.rs`, which re-exports these. `sandbox_env` runs on the
//! shim's hot path: no file is read to compute it.

use std::path::{Path, PathBuf};

use crate::context::Context;

pub const LOCK: &str = "luaenv.lock";
pub const GENERATED: &str = ".luaenv";
pub const TREE: &str = "lua_modules";
/// The variable that tells the project's LuaRocks config where the tree is now.
pub const TREE_VAR: &str = "LUAENV_TREE";

/// The commands of the Lua version itself: always the prefix's, never a file of that name in
/// a project's `lua_modules/bin`, which a repository can commit (no rock provides them).
pub fn is_own_command(command: &str) -> bool {
    matches!(command, "lua" | "luac" | "luajit" | "luarocks" | "luarocks-admin")
}

/// Where luaenv keeps a mark for every project LuaRocks config it wrote: a file named by the
/// config's SHA-256. A repository can commit a `.luaenv/luarocks-config.lua` of its own (with
/// a downloader that runs its code); LuaRocks is only ever pointed at one luaenv wrote.
pub const VOUCHED: &str = "sandboxes";

/// The name of the mark for a config's bytes.
pub fn vouch_name(config: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(config).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether luaenv wrote `config` (byte for byte) on this machine: the project's config is
/// generated whole, so anything else came from elsewhere.
pub fn config_is_vouched(root: &Path, config: &Path) -> bool {
    // Capped and never a FIFO: a generated config is a few hundred bytes.
    let Ok(bytes) = crate::fs::read_small_file(config, 1024 * 1024) else { return false };
    root.join(VOUCHED).join(vouch_name(&bytes)).is_file()
}

/// A project's `lua_modules/` is trusted (its commands run, LuaRocks writes there) only if luaenv
/// made it on this machine: it then holds a random token (`TREE_TOKEN`) that has a mark in the
/// root (`TREES/<token>`). A repository can commit a `lua_modules/` of its own, with a
/// `bin/busted` that is anything; it cannot know a token of this machine.
pub const TREE_TOKEN: &str = ".luaenv-tree";
pub const TREES: &str = "trees";

/// The token in a project's `lua_modules/`, when it has one of the right shape. Neither the
/// folder nor the token file may be a link (to another project's, say).
pub fn tree_token(project: &Path) -> Option<String> {
    let tree = project.join(TREE);
    let file = tree.join(TREE_TOKEN);
    let plain = |p: &Path| p.symlink_metadata().is_ok_and(|m| !m.file_type().is_symlink());
    if !plain(&tree) || !plain(&file) {
        return None;
    }
    let bytes = crate::fs::read_small_file(&file, 64).ok()?;
    let token = String::from_utf8(bytes).ok()?.trim().to_string();
    (token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())).then_some(token)
}

/// Whether the project's `lua_modules/` is one luaenv made here.
pub fn tree_is_trusted(root: &Path, project: &Path) -> bool {
    tree_token(project).is_some_and(|token| root.join(TREES).join(token).is_file())
}

/// What to say of a `lua_modules/` luaenv did not make here.
pub fn untrusted_tree(root: &Path, project: &Path) -> String {
    let tree = project.join(TREE);
    format!(
        "{} was not made by luaenv with this root ({}): it may have come with the repository, and luaenv never runs or installs into what a repository brings; move it away (`mv '{}' '{}.old'`) and run `luaenv sync`, which makes a new one",
        tree.display(),
        root.display(),
        tree.display(),
        tree.display()
    )
}

/// The symbolic links under `tree`, at any depth (never followed), but LuaRocks' own lock
/// (`lockfile.lfs`, a link to nowhere it makes while it works): LuaRocks writes anywhere in the
/// tree, and a link would take its writes out of the project.
pub fn links_in(tree: &Path) -> Vec<PathBuf> {
    let (mut links, mut folders) = (Vec::new(), vec![tree.to_path_buf()]);
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            match entry.file_type() {
                Ok(kind) if kind.is_symlink() && !(folder == tree && entry.file_name() == "lockfile.lfs") => links.push(entry.path()),
                Ok(kind) if kind.is_dir() => folders.push(entry.path()),
                _ => {}
            }
        }
    }
    links
}

/// The sandbox's variables for LuaRocks: module paths of the tree only. LuaRocks `require`s
/// optional modules (`lfs`, …), and with the project's own folders (`src/`, its root) on the
/// path it would load a repository's file of that name.
pub fn for_luarocks(vars: &mut [(String, String)]) {
    let Some(tree) = vars.iter().find(|(k, _)| k == TREE_VAR).map(|(_, v)| v.clone()) else { return };
    let project = tree.strip_suffix(&format!("/{TREE}")).unwrap_or(&tree).to_string();
    for (_, value) in vars.iter_mut().filter(|(k, _)| k.starts_with("LUA_PATH") || k.starts_with("LUA_CPATH")) {
        let kept: Vec<&str> = value.split(';').filter(|entry| entry.starts_with(&format!("{tree}/")) || !entry.starts_with(&format!("{project}/"))).collect();
        *value = kept.join(";");
    }
}

/// The folder LuaRocks would take as its own project from `cwd` (it walks up to ten folders
/// for one holding both `.luarocks/` and `lua_modules/`, and loads its
/// `.luarocks/config-*.lua`), unless a `.luarocks-no-project` stops it first.
pub fn luarocks_project_from(cwd: &Path) -> Option<PathBuf> {
    let mut dir = Some(cwd);
    for _ in 0..10 {
        let d = dir?;
        if d.join(".luarocks").exists() && d.join(TREE).exists() {
            return Some(d.to_path_buf());
        }
        if d.join(".luarocks-no-project").exists() {
            return None;
        }
        dir = d.parent();
    }
    None
}

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

/// The environment of the sandbox: module paths limited to the project (its `src/` first,
/// then its root: its own modules, and C modules its build puts there), its tree, and LuaRocks
/// pointed at the project's config. Lua 5.2+ reads `LUA_PATH_5_x` before `LUA_PATH`, and
/// LuaRocks `LUAROCKS_CONFIG_5_x` first, so both names are set. `LUAENV_TREE` is where the
/// project is now: the generated LuaRocks config takes its tree from it, so a moved or copied
/// project installs into its own `lua_modules/`.
pub fn sandbox_env(project: &Path, prefix: &Path, name: &str, series: &str) -> Vec<(String, String)> {
    let p = project.display();
    let tree = format!("{p}/{TREE}");
    let mut path = format!("{p}/src/?.lua;{p}/src/?/init.lua;{p}/?.lua;{p}/?/init.lua;{tree}/share/lua/{series}/?.lua;{tree}/share/lua/{series}/?/init.lua");
    // LuaJIT's own library (`jit.*`) lives in the prefix, in the folder its luaconf.h names
    // (`luajit-2.0`, `luajit-2.1`, …); the install links `share/luajit` to it, so no file is
    // read here. PUC Lua's is built in.
    if is_luajit(name) {
        path.push_str(&format!(";{}/share/luajit/?.lua", prefix.display()));
    }
    let cpath = format!("{p}/src/?.so;{p}/?.so;{tree}/lib/lua/{series}/?.so");
    let config = format!("{p}/{GENERATED}/luarocks-config.lua");
    let suffix = series.replace('.', "_");
    let mut vars = vec![
        ("LUA_PATH".to_string(), path.clone()),
        ("LUA_CPATH".to_string(), cpath.clone()),
        ("LUAROCKS_CONFIG".to_string(), config.clone()),
        (format!("LUAROCKS_CONFIG_{suffix}"), config),
        (TREE_VAR.to_string(), tree),
    ];
    if series != "5.1" {
        vars.push((format!("LUA_PATH_{suffix}"), path));
        vars.push((format!("LUA_CPATH_{suffix}"), cpath));
    }
    vars
}

/// The first lines of a rock command wrapper luaenv made relocatable.
const RELOCATABLE: &str = "#!/bin/sh\n# luaenv: this wrapper finds its rocks tree (lua_modules) relative to itself, so the project can move\n\
here=$0; if [ -L \"$here\" ]; then here=$(readlink -f -- \"$here\"); fi\n\
case $here in /*) ;; *) here=$PWD/$here ;; esac\n\
LUAENV_TREE=${here%/*/*}; export LUAENV_TREE\n";

/// Rewrites the command wrappers LuaRocks wrote into `<tree>/bin` (they name the tree by
/// absolute path) so that each finds the tree relative to itself: a moved or copied project's
/// commands then run its own rocks, never the old folder's. Wrappers already rewritten, and
/// files that are not LuaRocks wrappers, are left as they are; so is everything when the
/// tree's path holds a character that would need quoting inside the wrapper.
pub fn make_rock_wrappers_relocatable(tree: &Path) {
    let Some(tree_text) = tree.to_str().filter(|t| !t.is_empty() && !t.contains(['\'', '"', '\\', '$', '`', '\n', '\r'])) else { return };
    let Ok(entries) = std::fs::read_dir(tree.join("bin")) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        // Small regular files only: a wrapper is one line; a link is never written through.
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if !meta.is_file() || meta.len() > 64 * 1024 {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        if let Some(relocatable) = relocatable_wrapper(&text, tree_text) {
            // Written in place (same inode, same mode): a wrapper is rewritten whole in one write.
            let _ = std::fs::write(&path, relocatable);
        }
    }
}

/// A LuaRocks wrapper (`#!/bin/sh`, `exec '<lua>' -e '<Lua>' '<script>' "$@"`) with the tree
/// path replaced: inside the `-e` Lua code by `os.getenv("LUAENV_TREE")`, in shell words by
/// `"$LUAENV_TREE"`. `None` when it is not such a wrapper or does not name the tree.
fn relocatable_wrapper(text: &str, tree: &str) -> Option<String> {
    let body = text.strip_prefix("#!/bin/sh\n")?;
    if !body.contains(tree) || !body.contains("exec ") || text.starts_with(RELOCATABLE) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + RELOCATABLE.len() + 64);
    out.push_str(RELOCATABLE);
    // Single quotes alternate outside/inside (`'\''` splits into an outside `\` between two
    // quoted pieces, so the parity holds).
    for (i, piece) in body.split('\'').enumerate() {
        if i > 0 {
            out.push('\'');
        }
        if i % 2 == 0 {
            if piece.contains(tree) {
                return None;
            }
            out.push_str(piece);
        } else if piece.starts_with("package.path=") {
            out.push_str(&piece.replace(tree, &format!("\"..os.getenv(\"{TREE_VAR}\")..\"")));
        } else {
            out.push_str(&piece.replace(tree, &format!("'\"${TREE_VAR}\"'")));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luarocks_wrappers_become_relative_to_themselves() {
        let tree = "/w/my proj/lua_modules";
        let wrapper = "#!/bin/sh\n\nLUAROCKS_SYSCONFDIR='/r/versions/5.4.7/etc/luarocks' exec '/r/versions/5.4.7/bin/lua' -e 'package.path=\"/w/my proj/lua_modules/share/lua/5.4/?.lua;/w/my proj/lua_modules/share/lua/5.4/?/init.lua;\"..package.path;package.cpath=\"/w/my proj/lua_modules/lib/lua/5.4/?.so;\"..package.cpath;local k,l,_=pcall(require,\"luarocks.loader\") _=k and l.add_context(\"say\",\"1.0-1\")' '/w/my proj/lua_modules/lib/luarocks/rocks-5.4/say/1.0-1/bin/say.lua' \"$@\"\n";
        let made = relocatable_wrapper(wrapper, tree).unwrap();
        assert!(!made.contains(tree), "{made}");
        assert!(made.contains("-e 'package.path=\"\"..os.getenv(\"LUAENV_TREE\")..\"/share/lua/5.4/?.lua;\"..os.getenv(\"LUAENV_TREE\")..\"/share/lua/5.4/?/init.lua;\"..package.path;"), "{made}");
        assert!(made.ends_with(" ''\"$LUAENV_TREE\"'/lib/luarocks/rocks-5.4/say/1.0-1/bin/say.lua' \"$@\"\n"), "{made}");
        assert_eq!(relocatable_wrapper(&made, tree), None, "once is enough");
        assert_eq!(relocatable_wrapper("#!/usr/bin/env lua\nprint(1)\n", tree), None);
        // A real sh runs it from wherever the tree now is.
        let dir = tempfile::tempdir().unwrap();
        let moved = dir.path().join("moved/lua_modules");
        std::fs::create_dir_all(moved.join("bin")).unwrap();
        let fake = made.replace("'/r/versions/5.4.7/bin/lua' -e", "printf '%s|%s|%s' \"$LUAENV_TREE\"").replace(" \"$@\"\n", "\n");
        std::fs::write(moved.join("bin/say"), fake).unwrap();
        let out = std::process::Command::new("sh").arg(moved.join("bin/say")).output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        let real = &moved;
        assert!(said.starts_with(&format!("{}|package.path=\"\"..os.getenv", real.display())), "{said}");
        assert!(said.ends_with(&format!("|{}/lib/luarocks/rocks-5.4/say/1.0-1/bin/say.lua", real.display())), "{said}");
    }
}
