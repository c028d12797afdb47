//! LuaRocks in a cross prefix (`5.4.7-x86_64-pc-windows-gnu`): LuaRocks itself runs on this
//! machine, with a host `lua` of the same release that the install builds into
//! `libexec/luaenv/lua`, and builds C rocks with the target's compiler and flags, which a block
//! of its own in the config gives (after luaenv's main block, whose `variables` it extends).

use std::path::Path;

use anyhow::{Result, bail};

use super::config::{config_path, lua_path, lua_string, read_config};
use crate::install::build::{Toolchain, is_windows};
use crate::shell::{Shell, quote};

/// Where a cross prefix keeps the host `lua` that runs its LuaRocks.
pub const HOST_LUA: &str = "libexec/luaenv/lua";

const BEGIN: &str = "-- BEGIN luaenv target: this block is rewritten by luaenv; C rocks are built for the prefix's target";
const END: &str = "-- END luaenv target";

/// Points the staged prefix's LuaRocks (that will live at `prefix`) at the host `lua`, when the
/// install built one, and writes the target's block into its config.
pub fn configure(staging: &Path, prefix: &Path, series: &str, tc: &Toolchain) -> Result<()> {
    if staging.join(HOST_LUA).is_file() {
        for program in ["luarocks", "luarocks-admin"] {
            run_with_host_lua(&staging.join("bin").join(program), prefix)?;
        }
    } else if !crate::install::smoke::runs_natively(&tc.target, &tc.host) {
        eprintln!(
            "note: LuaRocks in {} runs with the prefix's own lua, which this machine cannot run; install the version with LuaRocks (`luaenv install … --force`) to get a host lua for it",
            prefix.display()
        );
    }
    let config = config_path(staging, series);
    let existing = read_config(&config)?;
    let mut block = target_block(prefix, tc)?;
    if is_windows(&tc.target) && staging.join("bin/luajit.exe").is_file() {
        // LuaJIT for Windows looks for modules beside luajit.exe (`!\?.dll`, `!\lua\?.lua`),
        // not in lib/lua and share/lua as PUC Lua's `!\..\lib\lua\5.x` does: the rocks go there.
        let (bin, lua) = (lua_path(&prefix.join("bin")), lua_path(&prefix.join("bin/lua")));
        block = block.replace(
            END,
            // No `ipairs`: LuaRocks reads its config with no standard library.
            &format!("for i = 1, #(rocks_trees or {{}}) do\n   if rocks_trees[i].name == \"system\" then rocks_trees[i].lib_dir = {bin}; rocks_trees[i].lua_dir = {lua} end\nend\n{END}"),
        );
    }
    if staging.join(HOST_LUA).is_file() {
        // LuaRocks looks for its Lua in LUA_DIR; found there, it keeps the LUA_INCDIR and
        // LUA_LIBDIR given here (the target's), where otherwise it would guess them from the
        // interpreter's folder. There the interpreter is `lua`, whatever the target's is called
        // (`luajit`, `lua.exe`).
        let dir = lua_path(prefix.join(HOST_LUA).parent().unwrap());
        block = block.replace(END, &format!("variables.LUA_DIR = {dir}\nvariables.LUA_BINDIR = {dir}\nlua_interpreter = \"lua\"\n{END}"));
    }
    crate::fs::write_atomic(&config, &replace_block(&existing, &block))
}

/// The launcher's `exec <prefix>/bin/lua` becomes `exec <prefix>/libexec/luaenv/lua`.
fn run_with_host_lua(launcher: &Path, prefix: &Path) -> Result<()> {
    let text = std::fs::read_to_string(launcher)?;
    let target_lua = format!("exec {}", quote(Shell::Bash, &prefix.join("bin/lua").to_string_lossy()));
    if !text.contains(&target_lua) {
        bail!("{}: not the launcher luaenv writes (no `{target_lua}`); nothing was installed", launcher.display());
    }
    let host_lua = format!("exec {}", quote(Shell::Bash, &prefix.join(HOST_LUA).to_string_lossy()));
    crate::fs::write_atomic(launcher, text.replacen(&target_lua, &host_lua, 1).as_bytes())?;
    std::fs::set_permissions(launcher, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    Ok(())
}

/// The target's compiler, archiver and flags for LuaRocks' builtin (unix) build backend. A
/// Windows target gets `.dll` modules linked against the Lua DLL: `link_lua_explicitly` adds
/// `-llua`, which mingw's linker resolves to the import library `liblua.dll.a` before
/// `liblua.a`, so a module never carries a second copy of Lua.
fn target_block(prefix: &Path, tc: &Toolchain) -> Result<String> {
    let cc = tc.base.try_get_compiler()?.path().to_string_lossy().into_owned();
    let ar = tc.base.try_get_archiver()?.get_program().to_string_lossy().into_owned();
    let ranlib = tc.base.try_get_ranlib()?.get_program().to_string_lossy().into_owned();
    let windows = is_windows(&tc.target);
    let cpu = tc.target.split('-').next().unwrap_or_default();
    let (ext, cflags, arch) = if windows { ("dll", "-O2", format!("win32-{cpu}")) } else { ("so", "-O2 -fPIC", format!("linux-{cpu}")) };
    let s = |v: &str| lua_string(v);
    let mut block = format!(
        "{BEGIN}\n\
-- {target}: `luarocks` runs here and builds C rocks with this compiler.\n\
arch = {arch}\n\
lib_extension = {ext}\n\
external_lib_extension = {ext}\n\
obj_extension = \"o\"\n\
variables.CC = {cc}\n\
variables.LD = {cc}\n\
variables.AR = {ar}\n\
variables.RANLIB = {ranlib}\n\
variables.CFLAGS = {cflags}\n\
variables.LIBFLAG = \"-shared\"\n\
variables.LIB_EXTENSION = {ext}\n\
variables.OBJ_EXTENSION = \"o\"\n\
variables.LUA_INCDIR = {inc}\n\
variables.LUA_LIBDIR = {lib}\n",
        target = tc.target,
        arch = s(&arch),
        ext = s(ext),
        cc = s(&cc),
        ar = s(&ar),
        ranlib = s(&ranlib),
        cflags = s(cflags),
        inc = lua_path(&prefix.join("include")),
        lib = lua_path(&prefix.join("lib")),
    );
    // Headers and libraries of C dependencies come from the target's Debian sysroot, and
    // only from there. LuaRocks merges this list into its own (`/usr/local`, `/usr`, `/`)
    // entry by entry, so the sysroot fills all three: a shorter list would leave this
    // machine's `/usr` in it, whose headers the cross compiler must never see.
    let sysroot = Path::new("/usr").join(tc.target.replace("-unknown-", "-").replace("-pc-windows-gnu", "-w64-mingw32"));
    if sysroot.is_dir() && (windows || cpu != tc.host.split('-').next().unwrap_or_default()) {
        let dir = lua_path(&sysroot);
        block.push_str(&format!("external_deps_dirs = {{ {dir}, {dir}, {dir} }}\n"));
    }
    if windows {
        block.push_str("lua_interpreter = \"lua.exe\"\nlink_lua_explicitly = true\ngcc_rpath = false\n");
    }
    block.push_str(END);
    block.push('\n');
    Ok(block)
}

/// The config with the target block replaced, or appended after everything else (so it comes
/// after luaenv's main block, which sets `variables` whole). Bytes, not text: a user's
/// Latin-1 comment stays as it is.
fn replace_block(existing: &[u8], block: &str) -> Vec<u8> {
    let find = |needle: &[u8]| existing.windows(needle.len()).position(|w| w == needle);
    let start = find(format!("{BEGIN}\n").as_bytes());
    let end = find(format!("{END}\n").as_bytes()).map(|e| e + END.len() + 1);
    let mut out = match (start, end) {
        (Some(s), Some(e)) if e > s => [&existing[..s], &existing[e..]].concat(),
        _ => existing.to_vec(),
    };
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.extend_from_slice(block.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_block_is_replaced_not_repeated() {
        let first = replace_block(b"-- mine\n", &format!("{BEGIN}\nx = 1\n{END}\n"));
        let second = replace_block(&first, &format!("{BEGIN}\nx = 2\n{END}\n"));
        assert_eq!(String::from_utf8(second).unwrap(), format!("-- mine\n{BEGIN}\nx = 2\n{END}\n"));
    }
}
