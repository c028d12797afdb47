//! Targets beyond this machine's own: Windows (mingw-w64, run under wine), fully static musl,
//! the errors of a target that cannot be built, and a cross prefix's LuaRocks config.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::conformance::{run_suite_with, unpack_suite};
use crate::support::{Env, Server, fails, fixtures_or_skip, ok, run, stderr, stdout};

const WINDOWS: &str = "x86_64-pc-windows-gnu";
const MUSL: &str = "x86_64-unknown-linux-musl";

/// Whether every `(command, Debian package)` is installed; without them a test skips with one
/// line, except in CI (`LUAENV_REQUIRE_FIXTURES=1`), where `.ci/run` installs them.
fn tools_or_skip(test: &str, tools: &[(&str, &str)]) -> bool {
    let missing: Vec<&(&str, &str)> = tools.iter().filter(|(t, _)| !run(Command::new("sh").args(["-c", &format!("command -v {t}")])).status.success()).collect();
    if missing.is_empty() {
        return true;
    }
    let packages: Vec<&str> = missing.iter().map(|(_, p)| *p).collect();
    assert!(std::env::var("LUAENV_REQUIRE_FIXTURES").as_deref() != Ok("1"), "{test}: {packages:?} missing; .ci/run installs them");
    println!("skipped {test}: apt-get install {}", packages.join(" "));
    false
}

/// `wine <program>` in this test's own wine prefix: the one luaenv's smoke test made in its
/// cache, so wine starts up once per test and no two tests share one.
fn wine(env: &Env, program: &Path) -> Command {
    let mut cmd = Command::new("wine");
    cmd.arg(program).env("WINEPREFIX", env.cache().join("wine")).env("WINEDEBUG", "-all").env("WINEDLLOVERRIDES", "mscoree,mshtml=");
    cmd
}

/// Installs 5.4.7 for Windows from a loopback mirror and returns its prefix.
fn install_windows(env: &Env, fixtures: &Path) -> PathBuf {
    let server = Server::serve(&fixtures.join("mirror"));
    let out = run(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--target", WINDOWS, "--mirror", &server.url]));
    assert!(out.status.success(), "{}", stderr(&out));
    // The smoke test ran under wine: no note that it could not.
    assert!(!stderr(&out).contains("not smoke-tested"), "{}", stderr(&out));
    env.prefix(&format!("5.4.7-{WINDOWS}"))
}

/// Lines of `files.lua` that test the C library's stdio, not Lua, and that wine's msvcrt (wine
/// 8) answers differently from Microsoft's: reading a write-only file fails with no error set
/// (so `f:read()` gives no message), a failed write stays buffered (so `close` fails), and a
/// line-buffered append stream's seek leaves the reader seeing nothing. Each is neutralised by
/// a one-line change, checked to hit exactly the line it means.
const WINE_STDIO_LINES: &[(usize, &str, &str)] = &[
    (364, "do", "if false then  -- luaenv: wine's msvcrt sets no error on a read of a write-only file"),
    (691, "  assert(fr:read(\"all\") == \"xa\\n\")  -- now we have a whole line", "  -- luaenv: wine's msvcrt does not flush a line-buffered stream on seek"),
];

fn neutralise_wine_stdio(testes: &Path) {
    let path = testes.join("files.lua");
    let text = std::fs::read(&path).unwrap();
    let mut lines: Vec<Vec<u8>> = text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    for (number, was, now) in WINE_STDIO_LINES {
        let line = &mut lines[number - 1];
        assert_eq!(String::from_utf8_lossy(line), *was, "files.lua:{number} is not the line wine needs neutralised");
        *line = now.as_bytes().to_vec();
    }
    std::fs::write(&path, lines.join(&b'\n')).unwrap();
}

/// `make mingw`'s layout: lua.exe linked against lua54.dll, luac.exe static, the import library
/// for C modules, the headers; the official portable suite passes under wine.
#[test]
fn official_5_4_suite_passes_on_the_windows_build_under_wine() {
    let test = "official_5_4_suite_passes_on_the_windows_build_under_wine";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"), ("x86_64-w64-mingw32-objdump", "binutils-mingw-w64-x86-64"), ("wine", "wine64")]) {
        return;
    }
    let env = Env::new();
    let prefix = install_windows(&env, &fixtures);
    for file in ["bin/lua.exe", "bin/luac.exe", "bin/lua54.dll", "lib/liblua54.dll.a", "lib/liblua.a", "include/lua.h", "include/luaconf.h", "luaenv-receipt.json"] {
        assert!(prefix.join(file).is_file(), "{file} missing from the Windows prefix");
    }
    let imports = |file: &str| ok(Command::new("x86_64-w64-mingw32-objdump").arg("-p").arg(prefix.join(file)));
    assert!(imports("bin/lua.exe").contains("DLL Name: lua54.dll"), "lua.exe does not link against lua54.dll");
    assert!(!imports("bin/luac.exe").contains("DLL Name: lua54.dll"), "luac.exe should be static, as make mingw links it");
    let receipt: serde_json::Value = serde_json::from_slice(&std::fs::read(prefix.join("luaenv-receipt.json")).unwrap()).unwrap();
    assert_eq!(receipt["target"], WINDOWS);

    let (_dir, testes) = unpack_suite(&fixtures, "5.4.7");
    neutralise_wine_stdio(&testes);
    run_suite_with(wine(&env, &prefix.join("bin/lua.exe")), true, &testes);
}

/// A C module built against the prefix's headers and import library (found through its own
/// `lua.pc`) links against lua54.dll and loads in lua.exe from `lib/lua/5.4`.
#[test]
fn a_c_module_built_against_the_windows_prefix_loads_under_wine() {
    let test = "a_c_module_built_against_the_windows_prefix_loads_under_wine";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"), ("x86_64-w64-mingw32-objdump", "binutils-mingw-w64-x86-64"), ("wine", "wine64"), ("pkg-config", "pkg-config")]) {
        return;
    }
    let env = Env::new();
    let prefix = install_windows(&env, &fixtures);
    let flags = ok(Command::new("pkg-config").args(["--cflags", "--libs", "lua"]).env("PKG_CONFIG_LIBDIR", prefix.join("lib/pkgconfig")));
    assert!(flags.contains("-llua54"), "lua.pc: {flags}");
    let work = env.dir.path().join("module");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        work.join("twice.c"),
        "#include \"lua.h\"\n#include \"lauxlib.h\"\n\
         static int twice(lua_State *L) { lua_pushinteger(L, 2 * luaL_checkinteger(L, 1)); return 1; }\n\
         __declspec(dllexport) int luaopen_twice(lua_State *L) { lua_newtable(L); lua_pushcfunction(L, twice); lua_setfield(L, -2, \"twice\"); return 1; }\n",
    )
    .unwrap();
    let dll = prefix.join("lib/lua/5.4/twice.dll");
    ok(Command::new("x86_64-w64-mingw32-gcc").args(["-O2", "-shared", "-o"]).arg(&dll).arg(work.join("twice.c")).args(flags.split_whitespace()));
    let imports = ok(Command::new("x86_64-w64-mingw32-objdump").arg("-p").arg(&dll));
    assert!(imports.contains("DLL Name: lua54.dll"), "the module does not link against lua54.dll:\n{imports}");
    let said = ok(wine(&env, &prefix.join("bin/lua.exe")).args(["-e", "io.write(require('twice').twice(21))"]).current_dir(&work));
    assert_eq!(said.trim(), "42");
}

/// `--static` with musl: a static executable with no interpreter and no dynamic section (not a
/// static PIE), which the receipt and `versions` call static. musl's `setlocale` accepts any
/// name without changing anything, so the suite's locale checks (which test the C library's
/// locales, not Lua) are neutralised there, and only there, by one `-e` line: only "C" exists.
#[test]
fn official_5_4_suite_passes_on_a_fully_static_musl_build() {
    let test = "official_5_4_suite_passes_on_a_fully_static_musl_build";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("musl-gcc", "musl-tools"), ("readelf", "binutils")]) {
        return;
    }
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    ok(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--static", "--target", MUSL, "--mirror", &server.url]));
    let name = format!("5.4.7-{MUSL}");
    let lua = env.prefix(&name).join("bin/lua");
    let elf = ok(Command::new("readelf").args(["-l", "-d"]).arg(&lua));
    assert!(!elf.contains("INTERP") && !elf.contains("NEEDED") && !elf.contains("DYNAMIC"), "not fully static:\n{elf}");
    assert!(elf.contains("There is no dynamic section") && elf.contains("Elf file type is EXEC"), "{elf}");
    let receipt: serde_json::Value = serde_json::from_slice(&std::fs::read(env.prefix(&name).join("luaenv-receipt.json")).unwrap()).unwrap();
    assert_eq!((receipt["flags"]["static"].as_bool(), receipt["target"].as_str()), (Some(true), Some(MUSL)));
    let versions = ok(env.luaenv().arg("versions"));
    assert!(versions.lines().any(|l| l.contains(&name) && l.contains("static")), "versions does not say static: {versions}");
    let listed: serde_json::Value = serde_json::from_str(&ok(env.luaenv().args(["versions", "--json"]))).unwrap();
    assert_eq!((&listed[0]["static"], listed[0]["target"].as_str()), (&serde_json::Value::Bool(true), Some(MUSL)), "{listed}");

    let (_dir, testes) = unpack_suite(&fixtures, "5.4.7");
    let mut cmd = Command::new(&lua);
    cmd.arg("-e").arg("local set = os.setlocale; os.setlocale = function(l, c) if l == nil or l == 'C' then return set(l, c) end end");
    run_suite_with(cmd, true, &testes);
}

/// A Windows build is lua.exe with its DLL, as upstream builds it: `--static` there is refused
/// before anything is fetched, with nothing left behind.
#[test]
fn static_is_refused_for_a_target_that_cannot_be_fully_static() {
    let test = "static_is_refused_for_a_target_that_cannot_be_fully_static";
    if !tools_or_skip(test, &[("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")]) {
        return;
    }
    let env = Env::new();
    fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--static", "--target", WINDOWS, "--mirror", "http://127.0.0.1:9/"]), 2, "cannot be fully static");
    assert!(env.versions_entries().is_empty(), "{:?}", env.versions_entries());
}

/// A target whose C compiler is not on PATH names the Debian package that provides it; for the
/// compilers installed here, the named package is the one that is really installed.
#[test]
fn a_missing_cross_compiler_names_its_debian_package() {
    let env = Env::new();
    let empty = env.dir.path().join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    for (target, package) in [
        ("aarch64-unknown-linux-gnu", "gcc-aarch64-linux-gnu"),
        (WINDOWS, "gcc-mingw-w64-x86-64"),
        (MUSL, "musl-tools"),
        ("riscv64gc-unknown-linux-gnu", "gcc-riscv64-linux-gnu"),
    ] {
        let mut cmd = env.luaenv();
        cmd.env("PATH", &empty).args(["install", "5.4.7", "--no-rocks", "--target", target, "--mirror", "http://127.0.0.1:9/"]);
        fails(&mut cmd, 1, &format!("apt-get install {package}`"));
        if package != "gcc-riscv64-linux-gnu" && std::env::var("LUAENV_REQUIRE_FIXTURES").as_deref() == Ok("1") {
            let status = run(Command::new("dpkg-query").args(["-W", "-f=${Status}", package]));
            assert!(String::from_utf8_lossy(&status.stdout).contains("install ok installed"), "{package} is not the installed package");
        }
        // A package that is not installed is checked against apt's lists, where there are some.
        let policy = Command::new("apt-cache").args(["policy", package]).output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
        if policy.contains("Candidate:") {
            assert!(!policy.contains("Candidate: (none)"), "Debian has no package {package}:\n{policy}");
        }
    }
    assert!(env.versions_entries().is_empty());
}

/// This machine's gcc would build for this machine under a target's name (`cc` falls back to
/// it for triples it has no cross compiler for, and for i686 relies on a `-m32` luaenv does
/// not pass), so a target whose own gcc is missing is refused naming it and its Debian
/// package; a system luaenv does not build for is refused as a request (exit 2). Nothing is
/// installed either way.
#[test]
fn a_target_this_machines_own_compiler_would_only_pretend_to_build_is_refused() {
    let env = Env::new();
    let host_only = env.dir.path().join("host-compiler-only");
    std::fs::create_dir_all(&host_only).unwrap();
    for tool in ["cc", "gcc", "x86_64-linux-gnu-gcc", "ar"] {
        let found = ok(Command::new("sh").args(["-c", &format!("command -v {tool} || true")]));
        if !found.trim().is_empty() {
            std::os::unix::fs::symlink(found.trim(), host_only.join(tool)).unwrap();
        }
    }
    for (target, compiler, package) in [
        ("riscv64-unknown-linux-gnu", "riscv64-linux-gnu-gcc", "gcc-riscv64-linux-gnu"),
        ("i686-unknown-linux-gnu", "i686-linux-gnu-gcc", "gcc-i686-linux-gnu"),
    ] {
        let mut cmd = env.luaenv();
        cmd.env("PATH", &host_only).args(["install", "5.4.7", "--no-rocks", "--target", target, "--mirror", "http://127.0.0.1:9/"]);
        let first = fails(&mut cmd, 1, &format!("`{compiler}` is not on PATH"));
        assert!(first.contains(&format!("apt-get install {package}`")), "{first}");
    }
    // A blank CC_<target> names no compiler: `cc` would take this machine's.
    let mut blank = env.luaenv();
    blank.env("PATH", &host_only).env("CC_i686_unknown_linux_gnu", " \t").args(["install", "5.4.7", "--no-rocks", "--target", "i686-unknown-linux-gnu", "--mirror", "http://127.0.0.1:9/"]);
    fails(&mut blank, 1, "`i686-linux-gnu-gcc` is not on PATH");
    for target in ["x86_64-unknown-freebsd", "aarch64-apple-darwin", "x86_64-pc-windows-msvc"] {
        fails(env.luaenv().env("PATH", &host_only).args(["install", "5.4.7", "--no-rocks", "--target", target]), 2, "cannot build Lua for that system");
    }
    assert!(env.versions_entries().is_empty(), "{:?}", env.versions_entries());
}

/// `luarocks config <key>` as the prefix's own LuaRocks answers it.
fn rocks_config(luarocks: &Path, key: &str) -> String {
    ok(Command::new(luarocks).args(["config", key]).env_remove("LUAROCKS_CONFIG")).trim().to_string()
}

/// Writes a small C rock, `twice` (builtin build), and builds it with `luarocks make`: it must
/// build, with no command of LuaRocks' missing on the way (`sh: …: not found`).
fn make_twice_rock(env: &Env, luarocks: &Path) {
    let rock = env.dir.path().join("twice");
    std::fs::create_dir_all(&rock).unwrap();
    std::fs::write(
        rock.join("twice.c"),
        "#include \"lua.h\"\n#include \"lauxlib.h\"\n\
         static int twice(lua_State *L) { lua_pushinteger(L, 2 * luaL_checkinteger(L, 1)); return 1; }\n\
         int luaopen_twice(lua_State *L) { lua_newtable(L); lua_pushcfunction(L, twice); lua_setfield(L, -2, \"twice\"); return 1; }\n",
    )
    .unwrap();
    std::fs::write(rock.join("twice-1.0-1.rockspec"), "package = \"twice\"\nversion = \"1.0-1\"\nsource = { url = \"file://.\" }\nbuild = { type = \"builtin\", modules = { twice = \"twice.c\" } }\n").unwrap();
    let made = run(Command::new(luarocks).args(["make", "twice-1.0-1.rockspec"]).current_dir(&rock).env_remove("LUAROCKS_CONFIG"));
    assert!(made.status.success() && !stderr(&made).contains("not found"), "{}\n{}", stdout(&made), stderr(&made));
}

/// The `twice` rock built for Windows: a DLL linked against the Lua DLL, which the Windows
/// interpreter loads under wine.
fn twice_dll_loads_under_wine(env: &Env, dll: &Path, lua_dll: &str, interpreter: &Path) {
    let imports = ok(Command::new("x86_64-w64-mingw32-objdump").arg("-p").arg(dll));
    assert!(imports.contains(&format!("DLL Name: {lua_dll}")), "the rock does not link against {lua_dll}:\n{imports}");
    let said = ok(wine(env, interpreter).args(["-e", "io.write(require('twice').twice(21))"]));
    assert_eq!(said.trim(), "42");
}

/// A Windows prefix's LuaRocks runs here on a host lua of the same release built beside it,
/// and its config gives the target's compiler and flags: LuaRocks itself (`luarocks config`)
/// reads them back, and `luarocks make` cross-builds a C rock into a DLL linked against
/// lua54.dll that lua.exe loads under wine.
#[test]
fn luarocks_in_a_windows_prefix_builds_c_rocks_for_windows() {
    let test = "luarocks_in_a_windows_prefix_builds_c_rocks_for_windows";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"), ("x86_64-w64-mingw32-objdump", "binutils-mingw-w64-x86-64"), ("wine", "wine64")]) {
        return;
    }
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let rocks = fixtures.join("local/luarocks-3.13.0-git.tar.gz");
    ok(env.luaenv().args(["install", "5.4.7", "--target", WINDOWS, "--mirror", &server.url, "--rocks-from"]).arg(&rocks));
    let prefix = env.prefix(&format!("5.4.7-{WINDOWS}"));
    let luarocks = prefix.join("bin/luarocks");
    assert_eq!(rocks_config(&luarocks, "variables.CC"), "x86_64-w64-mingw32-gcc");
    assert_eq!(rocks_config(&luarocks, "variables.LD"), "x86_64-w64-mingw32-gcc");
    assert_eq!(rocks_config(&luarocks, "variables.LIB_EXTENSION"), "dll");
    assert_eq!(rocks_config(&luarocks, "lib_extension"), "dll");
    assert_eq!(rocks_config(&luarocks, "link_lua_explicitly"), "true");
    assert_eq!(rocks_config(&luarocks, "variables.LUA_INCDIR"), prefix.join("include").display().to_string());
    assert_eq!(rocks_config(&luarocks, "variables.LUA_LIBDIR"), prefix.join("lib").display().to_string());

    make_twice_rock(&env, &luarocks);
    twice_dll_loads_under_wine(&env, &prefix.join("lib/lua/5.4/twice.dll"), "lua54.dll", &prefix.join("bin/lua.exe"));
}

/// An aarch64 prefix's LuaRocks config names the aarch64 cross compiler and Debian's sysroot
/// for C dependencies, as LuaRocks itself reads them.
#[test]
fn luarocks_in_an_aarch64_prefix_uses_the_cross_compiler() {
    let test = "luarocks_in_an_aarch64_prefix_uses_the_cross_compiler";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu")]) {
        return;
    }
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let target = "aarch64-unknown-linux-gnu";
    ok(env.luaenv().args(["install", "5.4.7", "--target", target, "--mirror", &server.url, "--rocks-from"]).arg(fixtures.join("local/luarocks-3.13.0-git.tar.gz")));
    let prefix = env.prefix(&format!("5.4.7-{target}"));
    let luarocks = prefix.join("bin/luarocks");
    assert_eq!(rocks_config(&luarocks, "variables.CC"), "aarch64-linux-gnu-gcc");
    assert_eq!(rocks_config(&luarocks, "variables.LIB_EXTENSION"), "so");
    assert_eq!(rocks_config(&luarocks, "arch"), "linux-aarch64");
    // Only the sysroot: LuaRocks' own `/usr` and `/` would give the cross compiler this
    // machine's headers.
    let dirs = rocks_config(&luarocks, "external_deps_dirs");
    let entries: Vec<&str> = dirs.lines().map(|l| l.trim().trim_end_matches(',')).filter(|l| l.starts_with('"')).collect();
    assert!(!entries.is_empty() && entries.iter().all(|e| *e == "\"/usr/aarch64-linux-gnu\""), "{dirs}");
    assert_eq!(rocks_config(&luarocks, "variables.LUA_INCDIR"), prefix.join("include").display().to_string());
}

/// A LuaJIT prefix for aarch64 gets a host `luajit` of the same tree for its LuaRocks (in
/// `libexec/luaenv/lua`), as a PUC prefix gets a host `lua`: `luarocks make` then builds a C
/// rock with the cross compiler, and the aarch64 `luajit` loads it under qemu.
#[test]
fn luarocks_in_an_aarch64_luajit_prefix_runs_on_a_host_luajit_and_builds_for_aarch64() {
    let test = "luarocks_in_an_aarch64_luajit_prefix_runs_on_a_host_luajit_and_builds_for_aarch64";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"), ("qemu-aarch64", "qemu-user")]) {
        return;
    }
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let target = "aarch64-unknown-linux-gnu";
    let out = run(env.luaenv().args(["install", "luajit-2.1", "--target", target, "--mirror", &server.url, "--rocks-from"]).arg(fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz")));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("cannot run"), "{}", stderr(&out));
    let prefix = env.prefix(&format!("luajit-2.1-{target}"));
    let host = ok(Command::new(prefix.join("libexec/luaenv/lua")).args(["-e", "io.write(jit.arch, ' ', _VERSION)"]));
    assert_eq!(host, format!("{} Lua 5.1", if cfg!(target_arch = "x86_64") { "x64" } else { std::env::consts::ARCH }));
    let luarocks = prefix.join("bin/luarocks");
    assert_eq!(rocks_config(&luarocks, "variables.CC"), "aarch64-linux-gnu-gcc");
    assert_eq!(rocks_config(&luarocks, "lua_version"), "5.1");

    make_twice_rock(&env, &luarocks);
    let module = prefix.join("lib/lua/5.1/twice.so");
    let header = std::fs::read(&module).unwrap();
    assert_eq!(u16::from_le_bytes([header[18], header[19]]), 183, "twice.so is not an aarch64 ELF object (e_machine 183)");
    let said = ok(Command::new("qemu-aarch64").args(["-L", "/usr/aarch64-linux-gnu"]).arg(prefix.join("bin/luajit")).args(["-e", "io.write(require('twice').twice(21))"]));
    assert_eq!(said, "42");
}

/// A Windows LuaJIT prefix's LuaRocks runs here on a host `luajit` and builds C rocks as DLLs
/// linked against `lua51.dll`, put beside `luajit.exe`, where it loads them under wine with
/// no LUA_CPATH.
#[test]
fn luarocks_in_a_windows_luajit_prefix_builds_c_rocks_that_luajit_exe_loads() {
    let test = "luarocks_in_a_windows_luajit_prefix_builds_c_rocks_that_luajit_exe_loads";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"), ("x86_64-w64-mingw32-objdump", "binutils-mingw-w64-x86-64"), ("wine", "wine64")]) {
        return;
    }
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    ok(env.luaenv().args(["install", "luajit-2.1", "--target", WINDOWS, "--mirror", &server.url, "--rocks-from"]).arg(fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz")));
    let prefix = env.prefix(&format!("luajit-2.1-{WINDOWS}"));
    let luarocks = prefix.join("bin/luarocks");
    assert_eq!(rocks_config(&luarocks, "variables.CC"), "x86_64-w64-mingw32-gcc");
    assert_eq!(rocks_config(&luarocks, "lib_extension"), "dll");
    make_twice_rock(&env, &luarocks);
    // LuaJIT for Windows looks for C modules beside luajit.exe (`!\?.dll`): the rock is there.
    twice_dll_loads_under_wine(&env, &prefix.join("bin/twice.dll"), "lua51.dll", &prefix.join("bin/luajit.exe"));
}

/// LuaJIT for Windows from Linux, as `make TARGET_SYS=Windows` builds it (host tools for this
/// machine told the target is Windows, the VM as a PE object): `luajit.exe` with `lua51.dll`
/// and the `jit.*` modules in `bin/lua/jit`, so `luajit -jv` traces under wine.
#[test]
fn luajit_for_windows_traces_with_jv_under_wine() {
    let test = "luajit_for_windows_traces_with_jv_under_wine";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"), ("x86_64-w64-mingw32-objdump", "binutils-mingw-w64-x86-64"), ("wine", "wine64")]) {
        return;
    }
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let out = run(env.luaenv().args(["install", "luajit-2.1", "--no-rocks", "--target", WINDOWS, "--mirror", &server.url]));
    assert!(out.status.success() && !stderr(&out).contains("not smoke-tested"), "{}", stderr(&out));
    let prefix = env.prefix(&format!("luajit-2.1-{WINDOWS}"));
    for file in ["bin/luajit.exe", "bin/lua51.dll", "bin/lua/jit/v.lua", "lib/libluajit-5.1.dll.a", "include/luajit-2.1/luajit.h", "lib/pkgconfig/luajit.pc"] {
        assert!(prefix.join(file).is_file(), "{file} missing from the Windows LuaJIT prefix");
    }
    let imports = ok(Command::new("x86_64-w64-mingw32-objdump").arg("-p").arg(prefix.join("bin/luajit.exe")));
    assert!(imports.contains("DLL Name: lua51.dll"), "luajit.exe does not load lua51.dll");
    crate::conformance::prints_traces(&mut wine(&env, &prefix.join("bin/luajit.exe")));
}

/// Without wine the Windows build is installed all the same, and the install says it could not
/// smoke-test it (PATH holds the mingw tools and nothing else).
#[test]
fn the_windows_smoke_test_says_when_wine_is_missing() {
    let test = "the_windows_smoke_test_says_when_wine_is_missing";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")]) {
        return;
    }
    let env = Env::new();
    let path = mingw_only_path(&env);
    let server = Server::serve(&fixtures.join("mirror"));
    let out = run(env.luaenv().env("PATH", &path).args(["install", "5.4.7", "--no-rocks", "--target", WINDOWS, "--mirror", &server.url]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("the {WINDOWS} build was not smoke-tested: wine is not installed")), "{}", stderr(&out));
    assert!(env.prefix(&format!("5.4.7-{WINDOWS}")).join("bin/lua.exe").is_file());
}

/// A `$WINEPREFIX` that is a file, not a prefix, is named as the cause (wine alone would have
/// the smoke test blame the build), and nothing is installed.
#[test]
fn a_wineprefix_that_is_not_a_folder_is_named() {
    let test = "a_wineprefix_that_is_not_a_folder_is_named";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"), ("wine", "wine64")]) {
        return;
    }
    let env = Env::new();
    let file = env.dir.path().join("not-a-prefix");
    std::fs::write(&file, "x").unwrap();
    let server = Server::serve(&fixtures.join("mirror"));
    let line = fails(env.luaenv().env("WINEPREFIX", &file).args(["install", "5.4.7", "--no-rocks", "--target", WINDOWS, "--mirror", &server.url]), 1, "is not a folder");
    assert!(line.contains("WINEPREFIX") && line.contains("not-a-prefix"), "{line}");
    assert!(env.versions_entries().is_empty(), "{:?}", env.versions_entries());
}

/// A PATH that holds the mingw tools and nothing else (no wine).
fn mingw_only_path(env: &Env) -> PathBuf {
    let path = env.dir.path().join("mingw-only");
    std::fs::create_dir_all(&path).unwrap();
    for tool in ["x86_64-w64-mingw32-gcc", "x86_64-w64-mingw32-ar", "x86_64-w64-mingw32-ranlib", "x86_64-w64-mingw32-gcc-ar"] {
        let found = ok(Command::new("sh").args(["-c", &format!("command -v {tool} || true")]));
        if !found.trim().is_empty() {
            std::os::unix::fs::symlink(found.trim(), path.join(tool)).unwrap();
        }
    }
    path
}

/// The Windows build skips what its files do not use of `<windows.h>`: the intrinsics headers
/// everywhere, and `<windows.h>` itself in `lua.c`. Every file of every series that includes it
/// gives the same object to the byte either way, and a file that does use the Windows API
/// (`loadlib.c`) fails the attempt that skips it, so it is compiled as it is.
#[test]
fn the_windows_objects_are_the_same_without_what_they_skip_of_windows_h() {
    let test = "the_windows_objects_are_the_same_without_what_they_skip_of_windows_h";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")]) {
        return;
    }
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let out = run(env.luaenv().env("PATH", mingw_only_path(&env)).args(["install", "5.4.7", "--no-rocks", "-v", "--target", WINDOWS, "--mirror", &server.url]));
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    // The flags each file was compiled with, from `-v`: `loadlib.c` skips the intrinsics, `lua.c` all of <windows.h>.
    let flags_of = |file: &str| -> Vec<String> {
        let line = err.lines().find(|l| l.trim_start().starts_with("x86_64-w64-mingw32-gcc") && l.contains(&format!("/{file} "))).unwrap_or_else(|| panic!("no compile of {file} in:\n{err}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        words[1..words.iter().position(|w| *w == "-c").unwrap()].iter().map(|w| w.to_string()).collect()
    };
    let (loadlib, lua) = (flags_of("loadlib.c"), flags_of("lua.c"));
    assert!(loadlib.contains(&"-D_X86INTRIN_H_INCLUDED".into()) && !loadlib.contains(&"-D_WINDOWS_".into()), "loadlib.c: {loadlib:?}");
    assert!(lua.contains(&"-D_WINDOWS_".into()) && lua.contains(&"-Werror=implicit-function-declaration".into()) && !lua.contains(&"-w".into()), "lua.c: {lua:?}");
    assert_eq!(err.matches("/lua.c ").count(), 1, "lua.c was compiled twice: its attempt without <windows.h> failed:\n{err}");
    let skips = ["-D_X86INTRIN_H_INCLUDED", "-D_WINDOWS_", "-Werror=implicit-function-declaration"];
    let plain: Vec<String> = loadlib.iter().filter(|f| !skips.contains(&f.as_str())).cloned().collect();

    let work = tempfile::tempdir().unwrap();
    let mut checked = Vec::new();
    for release in ["5.1.5", "5.3.6", "5.4.7", "5.5.1"] {
        let tarball = std::fs::File::open(fixtures.join(format!("mirror/lua-{release}.tar.gz"))).unwrap();
        tar::Archive::new(flate2::read::GzDecoder::new(tarball)).unpack(work.path()).unwrap();
        let src = work.path().join(format!("lua-{release}/src"));
        let mut files: Vec<PathBuf> = std::fs::read_dir(&src).unwrap().flatten().map(|e| e.path()).collect();
        files.sort();
        files.retain(|f| f.extension().is_some_and(|x| x == "c") && std::fs::read_to_string(f).unwrap().contains("<windows.h>"));
        assert!(!files.is_empty(), "no file of {release} includes <windows.h>");
        for file in files {
            let compile = |flags: &[String], name: &str| -> (bool, Vec<u8>) {
                let out = src.join(name);
                let status = Command::new("x86_64-w64-mingw32-gcc").args(flags).arg("-c").arg(&file).arg("-o").arg(&out).output().unwrap().status;
                (status.success(), std::fs::read(out).unwrap_or_default())
            };
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let (_, expected) = compile(&plain, "plain.o");
            assert!(!expected.is_empty(), "{release} {name} does not compile as it is");
            let skipping = if name == "lua.c" { &lua } else { &loadlib };
            let (compiled, object) = compile(skipping, "skipped.o");
            assert!(compiled && object == expected, "{release} {name}: the object differs when it skips {skipping:?}");
            if name == "loadlib.c" {
                let (compiled, _) = compile(&lua, "without-windows-h.o");
                assert!(!compiled, "{release} loadlib.c, which calls the Windows API, compiled without <windows.h>");
            }
            checked.push(format!("{release}/{name}"));
        }
    }
    assert!(checked.len() >= 7, "{checked:?}");
    assert!(checked.iter().filter(|f| f.ends_with("/lua.c")).count() == 3, "{checked:?}");
}

/// On a fresh cache the Windows smoke test makes luaenv's own wine prefix in an instant (copies
/// of the few DLLs a console program loads, instead of the 0.7 GB wine's first start makes) and
/// runs `lua.exe` there under a bare wine (without wineboot and the services a session starts).
/// What was in the prefix's place, here a link to a folder elsewhere, is replaced, not followed.
#[test]
fn the_windows_smoke_test_runs_under_a_bare_wine_in_a_prefix_of_its_own() {
    let test = "the_windows_smoke_test_runs_under_a_bare_wine_in_a_prefix_of_its_own";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"), ("wine", "wine64"), ("wineserver", "wine64")]) {
        return;
    }
    let env = Env::new();
    let elsewhere = env.dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(env.cache()).unwrap();
    std::os::unix::fs::symlink(&elsewhere, env.cache().join("wine")).unwrap();
    let server = Server::serve(&fixtures.join("mirror"));
    let out = run(env.luaenv().args(["install", "5.4.7", "--no-rocks", "-v", "--target", WINDOWS, "--mirror", &server.url]));
    let err = stderr(&out);
    assert!(out.status.success() && !err.contains("not smoke-tested"), "{err}");
    assert!(err.contains("smoke test under a bare wine") && !err.contains("the bare wine could not run it"), "{err}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0, "nothing was written through the link");
    let prefix = env.cache().join("wine");
    assert!(prefix.symlink_metadata().unwrap().is_dir());
    let system32: Vec<std::fs::DirEntry> = std::fs::read_dir(prefix.join("drive_c/windows/system32")).unwrap().map(Result::unwrap).collect();
    assert!(system32.iter().all(|e| e.file_type().unwrap().is_file()), "copies, no links into wine itself");
    assert!(system32.len() < 10 && system32.iter().any(|e| e.file_name() == "kernel32.dll"), "{system32:?}");
    assert!(!env.cache().join("wine-whole").exists(), "no whole prefix was made");
    // wine with its session (wineboot, services) runs it in the same prefix.
    let said = ok(wine(&env, &env.prefix(&format!("5.4.7-{WINDOWS}")).join("bin/lua.exe")).args(["-e", "io.write(_VERSION, ' ', os.getenv('PATH'))"]));
    assert_eq!(said, r"Lua 5.4 C:\windows\system32;C:\windows");
    // DLLs that are not this wine's (wine was upgraded) are copied again before wine runs.
    let kernel32 = prefix.join("drive_c/windows/system32/kernel32.dll");
    let wines = std::fs::metadata(&kernel32).unwrap().modified().unwrap();
    std::fs::File::options().write(true).open(&kernel32).unwrap().set_modified(std::time::UNIX_EPOCH).unwrap();
    let doctor = ok(env.luaenv().arg("doctor"));
    assert!(doctor.contains(&format!("5.4.7-{WINDOWS}: runs")), "{doctor}");
    assert_eq!(std::fs::metadata(&kernel32).unwrap().modified().unwrap(), wines);
}

/// Bare wines started together on a cold wineserver wait on each other for minutes: the
/// programs luaenv runs under wine (here three `doctor` checks at once) take turns.
#[test]
fn windows_programs_luaenv_runs_under_wine_take_turns() {
    let test = "windows_programs_luaenv_runs_under_wine_take_turns";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"), ("wine", "wine64"), ("wineserver", "wine64")]) {
        return;
    }
    let env = Env::new();
    install_windows(&env, &fixtures);
    ok(Command::new("wineserver").arg("-k").env("WINEPREFIX", env.cache().join("wine")));
    let doctors: Vec<std::process::Child> = (0..3).map(|_| env.luaenv().arg("doctor").stdout(std::process::Stdio::piped()).spawn().unwrap()).collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    for mut doctor in doctors {
        while doctor.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        if doctor.try_wait().unwrap().is_none() {
            let _ = doctor.kill();
            panic!("a doctor still ran after 60 s: its wine waited on another");
        }
        let said = String::from_utf8(doctor.wait_with_output().unwrap().stdout).unwrap();
        assert!(said.contains(&format!("5.4.7-{WINDOWS}: runs")), "{said}");
    }
}

/// A version built for another system, selected here: its shims and `luaenv exec` say what it
/// is built for and how to run it (qemu-user, wine), exit 2, instead of an exec error, a
/// "no such command" for a Windows `lua.exe`, or glibc handing an aarch64 ELF to /bin/sh.
#[test]
fn a_selected_version_built_for_another_system_says_how_to_run_it() {
    let test = "a_selected_version_built_for_another_system_says_how_to_run_it";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"), ("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")]) {
        return;
    }
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let (arm, windows) = ("5.4.7-aarch64-unknown-linux-gnu".to_string(), format!("5.4.7-{WINDOWS}"));
    for target in ["aarch64-unknown-linux-gnu", WINDOWS] {
        ok(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--target", target, "--mirror", &server.url]));
    }
    let arm_lua = env.prefix(&arm).join("bin/lua").display().to_string();
    for mut cmd in [env.shim("lua"), { let mut c = env.luaenv(); c.args(["exec", "lua"]); c }] {
        let first = fails(cmd.env("LUAENV_VERSION", &arm).arg("-v"), 2, "is built for another CPU (aarch64)");
        assert!(first.contains("qemu-aarch64") && first.contains(&arm_lua), "{first}");
    }
    let windows_lua = env.prefix(&windows).join("bin/lua.exe").display().to_string();
    for mut cmd in [env.shim("lua"), { let mut c = env.luaenv(); c.args(["exec", "lua.exe"]); c }, { let mut c = env.luaenv(); c.args(["exec", "lua"]); c }] {
        let first = fails(cmd.env("LUAENV_VERSION", &windows).arg("-v"), 2, "is built for Windows");
        assert!(first.contains(&format!("`wine {windows_lua}`")), "{first}");
    }
    // `which` names the program either way, as for the aarch64 build.
    assert_eq!(ok(env.luaenv().args(["which", "lua"]).env("LUAENV_VERSION", &windows)).trim(), windows_lua);
    assert_eq!(ok(env.luaenv().args(["which", "lua"]).env("LUAENV_VERSION", &arm)).trim(), arm_lua);
}

/// `doctor` runs a cross build where this machine can (a Windows build under wine, checked by
/// what it prints: wine reports success for a program whose DLL is missing), says when it
/// cannot, and its fix for a broken one is a command that works (`--target`, not the name).
#[test]
fn doctor_runs_a_windows_build_under_wine_and_finds_its_missing_dll() {
    let test = "doctor_runs_a_windows_build_under_wine_and_finds_its_missing_dll";
    let fixtures = fixtures_or_skip!(test);
    if !tools_or_skip(test, &[("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"), ("wine", "wine64")]) {
        return;
    }
    let env = Env::new();
    let prefix = install_windows(&env, &fixtures);
    let name = format!("5.4.7-{WINDOWS}");
    let said = stdout(&run(env.luaenv().arg("doctor")));
    assert!(said.lines().any(|l| l.starts_with("ok") && l.contains(&format!("{name}: runs"))), "{said}");

    let without_wine = stdout(&run(env.luaenv().env("PATH", mingw_only_path(&env)).arg("doctor")));
    assert!(without_wine.contains(&format!("{name}: built for {WINDOWS}, not run here: wine is not installed")), "{without_wine}");

    let dll = prefix.join("bin/lua54.dll");
    std::fs::remove_file(&dll).unwrap();
    let out = run(env.luaenv().arg("doctor"));
    let said = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains(&format!("{name}: {} does not run", prefix.join("bin/lua.exe").display())), "{said}");
    assert!(said.contains(&format!("`luaenv install 5.4.7 --force --target {WINDOWS} --no-rocks`")), "{said}");
}

/// A compiler named for a target (CC_<target>) that builds for this machine's CPU instead
/// (here plain gcc for i686, without the `-m32` it would need) makes a build that is refused
/// before it is installed or cached: the program's own header says which CPU it is for.
#[test]
fn a_compiler_named_for_a_target_that_builds_for_another_cpu_installs_nothing() {
    let fixtures = fixtures_or_skip!("a_compiler_named_for_a_target_that_builds_for_another_cpu_installs_nothing");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let mut cmd = env.luaenv();
    cmd.env("CC_i686_unknown_linux_gnu", "gcc").args(["install", "5.4.7", "--no-rocks", "--target", "i686-unknown-linux-gnu", "--mirror", &server.url]);
    let first = fails(&mut cmd, 1, "made `lua` an ELF program for machine 62, not one for i686-unknown-linux-gnu");
    assert!(first.contains("set CC_i686_unknown_linux_gnu"), "{first}");
    assert!(env.versions_entries().is_empty(), "{:?}", env.versions_entries());
    let cached = std::fs::read_dir(env.cache().join("builds")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(cached, 0, "the wrong build was cached");
}
