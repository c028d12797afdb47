//! Laying out a build as a prefix: what upstream's `make install` puts where (programs,
//! headers, libraries, man pages, `.pc` files), into a staging folder.

use std::path::Path;

use anyhow::Result;

use crate::install::build::Built;
use crate::version::Version;

/// What a prefix holds, in the build cache's key: bumped when a layout changes, so a build
/// cached by an earlier luaenv (e.g. LuaJIT without `share/luajit`, a cross prefix without
/// its host `lua` for LuaRocks, a LuaJIT cross prefix without its host `luajit`, a Windows
/// LuaJIT without `liblua.dll.a`) is not copied.
pub const LAYOUT: u32 = 5;

/// Copies the built Lua into a staging folder laid out as the spec's prefix.
/// `prefix` is where it will finally live (for `lua.pc`).
pub fn lay_out_lua(staging: &Path, prefix: &Path, tree: &Path, built: &Built, version: &Version) -> Result<()> {
    let series = version.series();
    let src = tree.join("src");
    for dir in ["bin", "include", "lib/pkgconfig", "share/man/man1"] {
        std::fs::create_dir_all(staging.join(dir))?;
    }
    std::fs::create_dir_all(staging.join("share/lua").join(&series))?;
    std::fs::create_dir_all(staging.join("lib/lua").join(&series))?;
    for program in &built.programs {
        crate::fs::copy(program, &staging.join("bin").join(program.file_name().unwrap()))?;
    }
    for header in ["lua.h", "luaconf.h", "lualib.h", "lauxlib.h"] {
        crate::fs::copy(&src.join(header), &staging.join("include").join(header))?;
    }
    // lua.hpp sits in etc/ in 5.1 and in src/ later.
    let hpp = [src.join("lua.hpp"), tree.join("etc/lua.hpp")].into_iter().find(|p| p.is_file());
    if let Some(hpp) = hpp {
        crate::fs::copy(&hpp, &staging.join("include/lua.hpp"))?;
    }
    crate::fs::copy(&built.liblua, &staging.join("lib/liblua.a"))?;
    for page in ["lua.1", "luac.1"] {
        let from = tree.join("doc").join(page);
        if from.is_file() {
            crate::fs::copy(&from, &staging.join("share/man/man1").join(page))?;
        }
    }
    std::fs::write(staging.join("lib/pkgconfig/lua.pc"), pkg_config(prefix, version))?;
    if let Some(import_lib) = &built.import_lib {
        lay_out_windows_import_lib(staging, prefix, version, import_lib)?;
    }
    Ok(())
}

/// A Windows prefix: C modules link against the DLL through its import library in `lib/`
/// (`-llua54`), and Windows has no separate libm or libdl.
fn lay_out_windows_import_lib(staging: &Path, prefix: &Path, version: &Version, import_lib: &Path) -> Result<()> {
    crate::fs::copy(import_lib, &staging.join("lib").join(import_lib.file_name().unwrap()))?;
    // `-llua` (LuaRocks' `link_lua_explicitly`) finds `liblua.dll.a` before `liblua.a`.
    crate::fs::copy(import_lib, &staging.join("lib/liblua.dll.a"))?;
    let dll = crate::install::build::windows_dll_name(version);
    let libs = format!("Libs: -L${{libdir}} -l{}", dll.trim_end_matches(".dll"));
    let pc = pkg_config(prefix, version).replace("Libs: -L${libdir} -llua -lm -ldl", &libs);
    std::fs::write(staging.join("lib/pkgconfig/lua.pc"), pc)?;
    Ok(())
}

/// Lays out a LuaJIT build as its own `make install` does: `bin/luajit` (plus `lua`, so the
/// `lua` shim works with any version), headers in `include/luajit-<major.minor>` (and
/// `include/`), `lib/libluajit-5.1.a` (and `liblua.a`), `lib/libluajit-5.1.so.<version>` with
/// its two links, the `jit.*` modules in the folder the tree's `luaconf.h` names (and
/// `share/luajit`, a link to it), `luajit.pc`.
///
/// No `lua.pc`: LuaJIT's own install ships none, and one would tell build systems that ask
/// for `lua` (`pkg-config --modversion lua`) that this is PUC Lua of some 5.1.x release with
/// `-llua`, which it is not; `luajit.pc` says what it is.
pub fn lay_out_luajit(staging: &Path, prefix: &Path, tree: &Path, built: &crate::install::luajit::BuiltJit) -> Result<()> {
    if let Some((dll, import_lib)) = &built.windows_dll {
        return lay_out_luajit_windows(staging, prefix, tree, built, dll, import_lib);
    }
    let src = &built.src;
    let versions = &built.versions;
    let inc = staging.join(format!("include/luajit-{}", versions.major_minor));
    let jit_dir = staging.join("share").join(&built.module_dir).join("jit");
    for dir in ["bin", "lib/pkgconfig", "share/man/man1", "share/lua/5.1", "lib/lua/5.1"] {
        std::fs::create_dir_all(staging.join(dir))?;
    }
    std::fs::create_dir_all(&jit_dir)?;
    // `share/luajit` names that folder whatever the tree calls it, so the sandbox's LUA_PATH
    // (built on every shim run, which reads no file) can point at it without reading the receipt.
    std::os::unix::fs::symlink(&built.module_dir, staging.join("share/luajit"))?;
    std::fs::create_dir_all(&inc)?;
    crate::fs::copy(&built.luajit, &staging.join("bin/luajit"))?;
    std::os::unix::fs::symlink("luajit", staging.join("bin/lua"))?;
    for header in ["lua.h", "lualib.h", "lauxlib.h", "luaconf.h", "lua.hpp", "luajit.h"] {
        crate::fs::copy(&src.join(header), &inc.join(header))?;
        crate::fs::copy(&src.join(header), &staging.join("include").join(header))?;
    }
    crate::fs::copy(&built.library, &staging.join("lib/libluajit-5.1.a"))?;
    std::os::unix::fs::symlink("libluajit-5.1.a", staging.join("lib/liblua.a"))?;
    if let Some(shared) = &built.shared {
        lay_out_shared_library(staging, shared, versions)?;
    }
    for entry in std::fs::read_dir(src.join("jit"))?.flatten() {
        if entry.path().extension().is_some_and(|e| e == "lua") {
            crate::fs::copy(&entry.path(), &jit_dir.join(entry.file_name()))?;
        }
    }
    if tree.join("etc/luajit.1").is_file() {
        crate::fs::copy(&tree.join("etc/luajit.1"), &staging.join("share/man/man1/luajit.1"))?;
    }
    let pc = luajit_pc(prefix, versions, built.shared.is_some());
    std::fs::write(staging.join("lib/pkgconfig/luajit.pc"), pc)?;
    Ok(())
}

/// A Windows LuaJIT as its install notes lay it out: `luajit.exe` with `lua51.dll` beside it
/// and the `jit.*` modules in `lua\jit` there (where the interpreter looks, `!\lua\`); the
/// headers, the import library `libluajit-5.1.dll.a` (which `-lluajit-5.1` finds first; also
/// as `liblua.dll.a`, for LuaRocks) and the static library in `lib/`, and a `luajit.pc`
/// without the ELF-only flags.
fn lay_out_luajit_windows(staging: &Path, prefix: &Path, tree: &Path, built: &crate::install::luajit::BuiltJit, dll: &Path, import_lib: &Path) -> Result<()> {
    let src = &built.src;
    let versions = &built.versions;
    let inc = staging.join(format!("include/luajit-{}", versions.major_minor));
    let jit_dir = staging.join("bin/lua/jit");
    for dir in [&inc, &jit_dir, &staging.join("lib/pkgconfig"), &staging.join("share/man/man1"), &staging.join("share/lua/5.1"), &staging.join("lib/lua/5.1")] {
        std::fs::create_dir_all(dir)?;
    }
    crate::fs::copy(&built.luajit, &staging.join("bin/luajit.exe"))?;
    crate::fs::copy(dll, &staging.join("bin").join(dll.file_name().unwrap()))?;
    for header in ["lua.h", "lualib.h", "lauxlib.h", "luaconf.h", "lua.hpp", "luajit.h"] {
        crate::fs::copy(&src.join(header), &inc.join(header))?;
        crate::fs::copy(&src.join(header), &staging.join("include").join(header))?;
    }
    crate::fs::copy(&built.library, &staging.join("lib/libluajit-5.1.a"))?;
    crate::fs::copy(import_lib, &staging.join("lib").join(import_lib.file_name().unwrap()))?;
    // LuaRocks' `link_lua_explicitly` links C rocks with `-llua`, as for PUC Lua's DLL.
    crate::fs::copy(import_lib, &staging.join("lib/liblua.dll.a"))?;
    for entry in std::fs::read_dir(src.join("jit"))?.flatten() {
        if entry.path().extension().is_some_and(|e| e == "lua") {
            crate::fs::copy(&entry.path(), &jit_dir.join(entry.file_name()))?;
        }
    }
    if tree.join("etc/luajit.1").is_file() {
        crate::fs::copy(&tree.join("etc/luajit.1"), &staging.join("share/man/man1/luajit.1"))?;
    }
    let pc = luajit_pc(prefix, versions, true)
        .replace("Libs: -L${libdir} -Wl,-rpath,${libdir} -l${libname}", "Libs: -L${libdir} -l${libname}")
        .replace("Libs.private: -Wl,-E -lm -ldl", "Libs.private: -lm");
    std::fs::write(staging.join("lib/pkgconfig/luajit.pc"), pc)?;
    Ok(())
}

/// `libluajit-5.1.so.2.1.<relver>`, `libluajit-5.1.so.2` → it (the SONAME, what programs
/// load) and `libluajit-5.1.so` → it (what `-lluajit-5.1` finds), as `make install` links them.
fn lay_out_shared_library(staging: &Path, shared: &Path, versions: &crate::install::luajit::JitVersions) -> Result<()> {
    let short = format!("libluajit-{}.so", versions.abi);
    let file = format!("{short}.{}", versions.full);
    crate::fs::copy(shared, &staging.join("lib").join(&file))?;
    std::os::unix::fs::symlink(&file, staging.join("lib").join(versions.soname()))?;
    std::os::unix::fs::symlink(&file, staging.join("lib").join(short))?;
    Ok(())
}

/// LuaJIT's `etc/luajit.pc` with the tree's versions and this prefix. `Libs` carries an rpath
/// to `lib/`: distributions leave it out because their libraries sit in the loader's default
/// folders, but a luaenv prefix never does, so without it a program linked with
/// `pkg-config --libs luajit` alone would not start (it would need LD_LIBRARY_PATH). Without a
/// shared library (targets luaenv builds static only) `-lluajit-5.1` is the archive, which needs
/// the private libraries too.
fn luajit_pc(prefix: &Path, versions: &crate::install::luajit::JitVersions, shared: bool) -> String {
    let libs = if shared { "-L${libdir} -Wl,-rpath,${libdir} -l${libname}" } else { "-L${libdir} -l${libname} -lm -ldl" };
    format!(
        "version={version}
abiver={abi}

prefix={prefix}
multilib=lib
exec_prefix=${{prefix}}
libdir=${{exec_prefix}}/${{multilib}}
libname=luajit-${{abiver}}
includedir=${{prefix}}/include/luajit-{mm}

INSTALL_LMOD=${{prefix}}/share/lua/${{abiver}}
INSTALL_CMOD=${{prefix}}/${{multilib}}/lua/${{abiver}}

Name: LuaJIT
Description: Just-in-time compiler for Lua
URL: https://luajit.org
Version: ${{version}}
Requires:
Libs: {libs}
Libs.private: -Wl,-E -lm -ldl
Cflags: -I${{includedir}}
",
        version = versions.full,
        abi = versions.abi,
        mm = versions.major_minor,
        prefix = pc_value(prefix),
    )
}

fn pkg_config(prefix: &Path, version: &Version) -> String {
    format!(
        "V={series}\nR={version}\nprefix={prefix}\nINSTALL_BIN=${{prefix}}/bin\nINSTALL_INC=${{prefix}}/include\n\
INSTALL_LIB=${{prefix}}/lib\nINSTALL_MAN=${{prefix}}/share/man/man1\nINSTALL_LMOD=${{prefix}}/share/lua/${{V}}\n\
INSTALL_CMOD=${{prefix}}/lib/lua/${{V}}\nexec_prefix=${{prefix}}\nlibdir=${{exec_prefix}}/lib\nincludedir=${{prefix}}/include\n\n\
Name: Lua\nDescription: An Extensible Extension Language\nVersion: ${{R}}\nRequires:\n\
Libs: -L${{libdir}} -llua -lm -ldl\nCflags: -I${{includedir}}\n",
        series = version.series(),
        prefix = pc_value(prefix)
    )
}

/// A path as a `.pc` value: pkg-config splits `Cflags` and `Libs` at blanks, so a prefix with
/// a space (`/home/Jane Doe/.luaenv`) needs its blanks, quotes and backslashes escaped; its
/// output keeps the escapes, which make and `eval` read back as the one path. (Relocation
/// writes a `.pc` file's new prefix the same way.)
fn pc_value(path: &Path) -> String {
    String::from_utf8_lossy(&pc_escape(crate::install::relocate::bytes(path))).into_owned()
}

pub fn pc_escape(path: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(path.len());
    for &b in path {
        if matches!(b, b' ' | b'\t' | b'\'' | b'"' | b'\\') {
            value.push(b'\\');
        }
        value.push(b);
    }
    value
}
