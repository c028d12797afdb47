//! Project sandboxes: `.lua-version` (the pin), `lua_modules/` (the project's rocks tree),
//! the generated and git-ignored `.luaenv/` (bin wrappers, a LuaRocks config whose tree is
//! `lua_modules`, activate scripts) and `luaenv.lock` (what `luaenv sync` rebuilds).
//! `sandbox_env` runs on the shim's hot path, so it lives in `sandbox.rs`.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::context::Context;
use crate::fs::write_atomic;

mod generate;
mod lockfile;
pub mod rocks;
pub mod rockspec;

pub use generate::{generate, ignore_generated, regenerate_if_moved};
pub use lockfile::{Lock, LockedRock, Pinned};

// The parts the shim binary needs too live in `sandbox.rs` (std only).
pub use crate::sandbox::{GENERATED, LOCK, TREE, of_version_file, registered, sandbox_env, series_of};

/// A project's folder goes into Lua's module paths (`LUA_PATH`), where `;` separates entries
/// and `?` stands for the module name: a path holding either would find none of its modules.
pub fn check_path(project: &Path) -> Result<()> {
    // The registry of projects, the lock's and LuaRocks' files name it as text.
    let Some(text) = project.to_str() else {
        return Err(crate::error::usage(format!(
            "{} cannot be a luaenv project: its path is not UTF-8, which LuaRocks' config and luaenv's list of projects cannot name; move the project to a folder whose name is UTF-8",
            project.display()
        )));
    };
    // A newline would split its line in the list of projects.
    if text.chars().any(char::is_control) {
        return Err(crate::error::usage(format!(
            "{} cannot be a luaenv project: its path holds a control character (a newline?), which luaenv's list of projects cannot hold; move the project to a folder whose path has none",
            project.to_string_lossy().escape_debug()
        )));
    }
    match text.chars().find(|c| matches!(c, ';' | '?')) {
        Some(c) => Err(crate::error::usage(format!(
            "{} cannot be a luaenv project: its path holds '{c}', which Lua's module paths (LUA_PATH) use as {}; move the project to a folder whose path has no ';' or '?'",
            project.display(),
            if c == ';' { "the separator" } else { "the module name" }
        ))),
        None => Ok(()),
    }
}

/// Paths in a project that luaenv creates or writes into. A repository can commit any of them
/// as a symbolic link (to `~/.local`, say): luaenv then refuses rather than write through it.
pub fn check_no_links(project: &Path) -> Result<()> {
    let generated = project.join(GENERATED);
    let mut paths = vec![generated.clone(), project.join(TREE)];
    // LuaRocks writes there too, following the config luaenv gives it.
    paths.extend(["bin", "share", "lib", "share/lua", "lib/lua", "lib/luarocks"].map(|d| project.join(TREE).join(d)));
    paths.extend([".lua-version", LOCK, ".gitignore"].map(|f| project.join(f)));
    if generated.symlink_metadata().is_ok_and(|m| m.is_dir()) {
        paths.push(generated.join("bin"));
        paths.extend(std::fs::read_dir(&generated).into_iter().flatten().flatten().map(|e| e.path()));
        paths.extend(std::fs::read_dir(generated.join("bin")).into_iter().flatten().flatten().map(|e| e.path()));
    }
    // LuaRocks writes anywhere in the tree (`lib/luarocks/rocks-5.4/<rock>/`, `share/lua/5.4/`):
    // a link at any depth would take its writes out of the project.
    paths.extend(crate::sandbox::links_in(&project.join(TREE)));
    // The folders luaenv makes, committed as files: nothing would say why sync fails.
    for dir in [&generated, &project.join(TREE)] {
        if dir.symlink_metadata().is_ok_and(|m| m.is_file()) {
            return Err(crate::error::usage(format!(
                "{} is a file, not the folder luaenv makes there; move it away (`mv '{}' '{}.old'`) and run the command again",
                dir.display(),
                dir.display(),
                dir.display()
            )));
        }
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

/// A `lua_modules/` luaenv did not make here is refused before anything is installed. (Even at
/// the path of a project this root made: a clone can land where one was.)
pub fn check_tree(ctx: &Context, project: &Path) -> Result<()> {
    let tree = project.join(TREE);
    if !tree.exists() || crate::sandbox::tree_is_trusted(&ctx.root, project) || tree.read_dir().is_ok_and(|mut d| d.next().is_none()) {
        return Ok(());
    }
    Err(crate::error::usage(crate::sandbox::untrusted_tree(&ctx.root, project)))
}

/// Makes the project's `lua_modules/` (an empty one may be there already) and marks it as
/// made here.
pub fn make_tree(ctx: &Context, project: &Path) -> Result<()> {
    use anyhow::Context as _;
    check_tree(ctx, project)?;
    if crate::sandbox::tree_is_trusted(&ctx.root, project) {
        return Ok(());
    }
    let tree = project.join(TREE);
    std::fs::create_dir_all(&tree).with_context(|| format!("cannot create {}", tree.display()))?;
    let mut random = [0u8; 16];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut random).context("cannot read /dev/urandom")?;
    let token = crate::install::verify::hex(&random);
    let marks = ctx.root.join(crate::sandbox::TREES);
    std::fs::create_dir_all(&marks).with_context(|| format!("cannot create {}", marks.display()))?;
    write_atomic(&marks.join(&token), b"")?;
    write_atomic(&tree.join(crate::sandbox::TREE_TOKEN), format!("{token}\n").as_bytes())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luajit_sandboxes_keep_the_jit_modules() {
        let env = sandbox_env(Path::new("/p"), Path::new("/r/versions/openresty-2.1-20251030"), "openresty-2.1-20251030", "5.1");
        let path = &env.iter().find(|(k, _)| k == "LUA_PATH").unwrap().1;
        assert!(path.ends_with(";/r/versions/openresty-2.1-20251030/share/luajit/?.lua"), "{path}");
        assert!(!env.iter().any(|(k, _)| k == "LUA_PATH_5_1"), "5.1 reads LUA_PATH only");
    }
}
