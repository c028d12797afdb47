//! Embedding LuaJIT: a C program links against a luaenv LuaJIT prefix with
//! `pkg-config --cflags --libs luajit` alone, starts without LD_LIBRARY_PATH, and runs
//! JIT-compiled Lua; the prefix holds `libluajit-5.1.so` as LuaJIT's `make install` lays it out.

use std::io::Read as _;
use std::path::Path;
use std::process::Command;

use crate::support::{Env, Server, cc_with_pkg_config, fixtures_or_skip, ok};

/// Runs a loop long enough to be traced and says whether the JIT recorded a trace for it.
const PROGRAM: &str = r#"#include <stdio.h>
#include "lua.h"
#include "lualib.h"
#include "lauxlib.h"
#include "luajit.h"

static const char *code =
  "local traces = 0\n"
  "local function count(what) if what == 'stop' then traces = traces + 1 end end\n"
  "jit.attach(count, 'trace')\n"
  "local sum = 0\n"
  "for i = 1, 1000000 do sum = sum + i % 7 end\n"
  "jit.attach(count)\n"
  "return sum, traces > 0\n";

int main(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  if (luaL_dostring(L, code)) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    return 1;
  }
  printf("%s|%.0f|%s\n", LUAJIT_VERSION, lua_tonumber(L, -2), lua_toboolean(L, -1) ? "traced" : "interpreted");
  lua_close(L);
  return 0;
}
"#;

/// `MAJVER.MINVER` and `MAJVER.MINVER.<.relver>` as the tarball's own Makefile and `.relver` say.
fn tree_versions(tarball: &Path) -> (String, String) {
    let file = std::fs::File::open(tarball).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let (mut makefile, mut relver) = (String::new(), String::new());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().into_owned();
        let parts: Vec<_> = path.components().collect();
        if parts.len() != 2 {
            continue;
        }
        match parts[1].as_os_str().to_str() {
            Some("Makefile") => entry.read_to_string(&mut makefile).unwrap(),
            Some(".relver") => entry.read_to_string(&mut relver).unwrap(),
            _ => 0,
        };
    }
    let var = |name: &str| makefile.lines().find_map(|l| l.strip_prefix(name)?.trim_start().strip_prefix('=')).unwrap().trim().to_string();
    let mm = format!("{}.{}", var("MAJVER"), var("MINVER"));
    let full = format!("{mm}.{}", relver.trim());
    (mm, full)
}

/// `readelf -d`'s lines for one dynamic tag (`SONAME`, `NEEDED`, `RPATH`/`RUNPATH`).
fn dynamic(file: &Path, tag: &str) -> Vec<String> {
    let out = ok(Command::new("readelf").arg("-d").arg(file));
    out.lines().filter(|l| l.contains(&format!("({tag})"))).map(|l| l.trim().to_string()).collect()
}

fn pkg_config(prefix: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new("pkg-config");
    cmd.args(args).arg("luajit").env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig")).env_remove("PKG_CONFIG_LIBDIR");
    ok(&mut cmd).trim().to_string()
}

/// Everything this module promises, for one installed LuaJIT prefix built from `tarball`.
fn embeds(prefix: &Path, tarball: &Path) {
    let (mm, full) = tree_versions(tarball);
    // The tree's version names the headers' folder and the `.pc`'s Version, never an assumed 2.1.
    assert!(prefix.join(format!("include/luajit-{mm}/luajit.h")).is_file(), "include/luajit-{mm}");
    let other = if mm == "2.1" { "2.0" } else { "2.1" };
    assert!(!prefix.join(format!("include/luajit-{other}")).exists(), "include/luajit-{other} in a {mm} prefix");
    assert_eq!(pkg_config(prefix, &["--modversion"]), full);
    assert!(!prefix.join("lib/pkgconfig/lua.pc").exists(), "a lua.pc would claim PUC Lua");

    // make install's files: the library named by the full version, and its two links.
    let lib = prefix.join("lib");
    let real = format!("libluajit-5.1.so.{full}");
    assert!(lib.join(&real).is_file() && !lib.join(&real).is_symlink(), "{real}");
    for link in ["libluajit-5.1.so.2", "libluajit-5.1.so"] {
        assert_eq!(std::fs::read_link(lib.join(link)).unwrap(), Path::new(&real), "{link}");
    }
    let soname = dynamic(&lib.join(&real), "SONAME");
    assert_eq!(soname.len(), 1, "{soname:?}");
    assert!(soname[0].ends_with("[libluajit-5.1.so.2]"), "{soname:?}");

    // A program that embeds LuaJIT links with pkg-config alone and runs without LD_LIBRARY_PATH.
    let work = tempfile::tempdir().unwrap();
    let (source, program) = (work.path().join("prog.c"), work.path().join("prog"));
    std::fs::write(&source, PROGRAM).unwrap();
    let flags = pkg_config(prefix, &["--cflags", "--libs"]);
    ok(Command::new("cc").arg(&source).arg("-o").arg(&program).args(flags.split_whitespace()));
    let needed = dynamic(&program, "NEEDED");
    assert!(needed.iter().any(|l| l.ends_with("[libluajit-5.1.so.2]")), "linked statically? {needed:?}");
    let said = ok(Command::new(&program).env_remove("LD_LIBRARY_PATH"));
    let sum: u64 = (1..=1_000_000u64).map(|i| i % 7).sum();
    assert_eq!(said, format!("LuaJIT {full}|{sum}|traced\n"));
}

/// The rolling 2.1 branch as OpenResty ships it, from a loopback mirror whose SHA256SUMS vouches for it.
#[test]
fn a_c_program_embeds_openresty_luajit_through_pkg_config() {
    let fixtures = fixtures_or_skip!("a_c_program_embeds_openresty_luajit_through_pkg_config");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let name = "openresty-2.1-20251030";
    ok(env.luaenv().args(["install", name, "--no-rocks", "--mirror", &server.url]));
    embeds(&env.prefix(name), &fixtures.join("mirror/luajit2-2.1-20251030.tar.gz"));
}

/// The 2.0 branch: `include/luajit-2.0` and `Version: 2.0.<relver>`, read from its tree.
#[test]
fn a_c_program_embeds_luajit_2_0_through_pkg_config() {
    let fixtures = fixtures_or_skip!("a_c_program_embeds_luajit_2_0_through_pkg_config");
    let env = Env::new();
    let tarball = fixtures.join("local/LuaJIT-2.0-git.tar.gz");
    let sum = ok(Command::new("sha256sum").arg(&tarball)).split_whitespace().next().unwrap().to_string();
    ok(env.luaenv().args(["install", "luajit-2.0", "--no-rocks", "--sha256", &sum, "--from"]).arg(&tarball));
    embeds(&env.prefix("luajit-2.0"), &tarball);
}

/// PUC Lua embedded from a root whose path has blanks and quotes (`/home/Jane Doe/…`):
/// `lua.pc` holds the prefix escaped, so the flags pkg-config prints, read back as make and
/// `eval` read them, name the prefix, the program links against `liblua.a`, and the module
/// path compiled into it is the real prefix (relocated from the build's placeholder).
#[test]
fn a_c_program_embeds_lua_through_pkg_config_from_a_root_with_blanks_and_quotes() {
    let fixtures = fixtures_or_skip!("a_c_program_embeds_lua_through_pkg_config_from_a_root_with_blanks_and_quotes");
    let env = Env::new();
    let root = env.dir.path().join("Jane's \"lua\" root");
    let server = Server::serve(&fixtures.join("mirror"));
    ok(env.luaenv().env("LUAENV_ROOT", &root).args(["install", "5.4.7", "--no-rocks", "--mirror", &server.url]));
    let prefix = root.join("versions/5.4.7");
    let work = tempfile::tempdir().unwrap();
    let (source, program) = (work.path().join("prog.c"), work.path().join("prog"));
    std::fs::write(
        &source,
        "#include <stdio.h>\n#include \"lua.h\"\n#include \"lualib.h\"\n#include \"lauxlib.h\"\n\
         int main(void) {\n  lua_State *L = luaL_newstate();\n  luaL_openlibs(L);\n\
         if (luaL_dostring(L, \"return _VERSION .. '|' .. package.path:match('[^;]*')\")) return 1;\n\
         printf(\"%s\\n\", lua_tostring(L, -1));\n  lua_close(L);\n  return 0;\n}\n",
    )
    .unwrap();
    cc_with_pkg_config(&prefix.join("lib/pkgconfig"), "--cflags --libs lua", &[source.as_os_str(), "-o".as_ref(), program.as_os_str()]);
    assert_eq!(ok(&mut Command::new(&program)), format!("Lua 5.4|{}/share/lua/5.4/?.lua\n", prefix.display()));
}
