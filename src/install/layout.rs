//! Laying out a build as a prefix: what upstream's `make install` puts where (programs,
//! headers, libraries, man pages, `.pc` files), into a staging folder.

use std::path::Path;

use anyhow::Result;

use crate::install::build::Built;
use crate::version::Version;

/// What a prefix holds, in the build cache's key: bumped when a layout changes, so a build
/// cached by an earlier luaenv (e.g. LuaJIT without `share/luajit`) is not copied.
pub const LAYOUT: u32 = 2;

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
    Ok(())
}

/// Lays out a LuaJIT build as its own `make install` does: `bin/luajit` (plus `lua`, so the
/// `lua` shim works with any version), headers in `include/luajit-2.1` (and `include/`),
/// `lib/libluajit-5.1.a` (and `liblua.a`), the `jit.*` modules in the folder the tree's
/// `luaconf.h` names (and `share/luajit`, a link to it), `luajit.pc`.
pub fn lay_out_luajit(staging: &Path, prefix: &Path, tree: &Path, built: &crate::install::luajit::BuiltJit) -> Result<()> {
    let src = &built.src;
    let inc = staging.join("include/luajit-2.1");
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
    for entry in std::fs::read_dir(src.join("jit"))?.flatten() {
        if entry.path().extension().is_some_and(|e| e == "lua") {
            crate::fs::copy(&entry.path(), &jit_dir.join(entry.file_name()))?;
        }
    }
    if tree.join("etc/luajit.1").is_file() {
        crate::fs::copy(&tree.join("etc/luajit.1"), &staging.join("share/man/man1/luajit.1"))?;
    }
    let pc = format!(
        "prefix={prefix}
multilib=lib
exec_prefix=${{prefix}}
libdir=${{exec_prefix}}/${{multilib}}
libname=luajit-5.1
includedir=${{prefix}}/include/luajit-2.1
INSTALL_LMOD=${{prefix}}/share/lua/5.1
INSTALL_CMOD=${{prefix}}/lib/lua/5.1

Name: LuaJIT
Description: Just-in-time compiler for Lua
URL: https://luajit.org
Version: {version}
Requires:
Libs: -L${{libdir}} -l${{libname}}
Libs.private: -Wl,-E -lm -ldl
Cflags: -I${{includedir}}
",
        prefix = prefix.display(),
        version = built.version
    );
    std::fs::write(staging.join("lib/pkgconfig/luajit.pc"), &pc)?;
    Ok(())
}

fn pkg_config(prefix: &Path, version: &Version) -> String {
    format!(
        "V={series}\nR={version}\nprefix={prefix}\nINSTALL_BIN=${{prefix}}/bin\nINSTALL_INC=${{prefix}}/include\n\
INSTALL_LIB=${{prefix}}/lib\nINSTALL_MAN=${{prefix}}/share/man/man1\nINSTALL_LMOD=${{prefix}}/share/lua/${{V}}\n\
INSTALL_CMOD=${{prefix}}/lib/lua/${{V}}\nexec_prefix=${{prefix}}\nlibdir=${{exec_prefix}}/lib\nincludedir=${{prefix}}/include\n\n\
Name: Lua\nDescription: An Extensible Extension Language\nVersion: ${{R}}\nRequires:\n\
Libs: -L${{libdir}} -llua -lm -ldl\nCflags: -I${{includedir}}\n",
        series = version.series(),
        prefix = prefix.display()
    )
}
