//! `luaenv install` end to end: real tarballs, a real loopback mirror, a real compiler.

use std::path::Path;
use std::process::Command;

use crate::support::{Env, Server, cross_tools, fails, fixtures_or_skip, ok, run, stderr, stdout, world_or_skip};

#[test]
fn every_series_installs_and_runs_its_own_lua_and_luac() {
    let world = world_or_skip!("every_series_installs_and_runs_its_own_lua_and_luac");
    for (version, printed) in &world.install_output {
        let prefix = world.env.prefix(version);
        assert_eq!(printed.trim(), prefix.display().to_string(), "install prints the prefix");
        let out = run(Command::new(prefix.join("bin/lua")).arg("-v"));
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(text.starts_with(&format!("Lua {version}")), "{version}: lua -v said {text}");

        let work = tempfile::tempdir().unwrap();
        let script = work.path().join("hello.lua");
        std::fs::write(&script, "local t = {} for i = 1, 3 do t[#t+1] = i * i end print('squares ' .. table.concat(t, ',') .. ' on ' .. _VERSION)").unwrap();
        let compiled = work.path().join("hello.luac");
        ok(Command::new(prefix.join("bin/luac")).arg("-o").arg(&compiled).arg(&script));
        let series = &version[..3];
        assert_eq!(ok(Command::new(prefix.join("bin/lua")).arg(&compiled)).trim(), format!("squares 1,4,9 on Lua {series}"));

        for f in ["include/lua.h", "include/luaconf.h", "include/lualib.h", "include/lauxlib.h", "include/lua.hpp", "lib/liblua.a", "lib/pkgconfig/lua.pc", "share/man/man1/lua.1"] {
            assert!(prefix.join(f).is_file(), "{version}: {f} missing");
        }
        assert!(prefix.join("share/lua").join(series).is_dir() && prefix.join("lib/lua").join(series).is_dir());
        let receipt: serde_json::Value = serde_json::from_slice(&std::fs::read(prefix.join("luaenv-receipt.json")).unwrap()).unwrap();
        assert_eq!(receipt["version"], *version);
        assert_eq!(receipt["source"]["checksum"], "official");
        assert!(receipt["source"]["url"].as_str().unwrap().starts_with("http://127.0.0.1:"));
        // The interpreter looks for modules in its own prefix first.
        let path = ok(Command::new(prefix.join("bin/lua")).args(["-e", "print(package.path)"]).env_remove("LUA_PATH").env_remove(format!("LUA_PATH_{}", series.replace('.', "_"))));
        assert!(path.contains(&format!("{}/share/lua/{series}/?.lua", prefix.display())), "{path}");
    }
}

#[test]
fn a_c_module_builds_against_the_prefix_and_loads_with_require() {
    let world = world_or_skip!("a_c_module_builds_against_the_prefix_and_loads_with_require");
    let prefix = world.env.prefix("5.4.7");
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("answer.c"),
        r#"#include "lua.h"
#include "lauxlib.h"
static int answer(lua_State *L) { lua_pushinteger(L, 6 * luaL_checkinteger(L, 1)); return 1; }
int luaopen_answer(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, answer);
  lua_setfield(L, -2, "times6");
  return 1;
}
"#,
    )
    .unwrap();
    let pc = prefix.join("lib/pkgconfig");
    let cflags = ok(Command::new("pkg-config").args(["--cflags", "lua"]).env("PKG_CONFIG_PATH", &pc));
    assert!(cflags.contains(&format!("-I{}/include", prefix.display())), "pkg-config accepted lua.pc: {cflags}");
    let version = ok(Command::new("pkg-config").args(["--modversion", "lua"]).env("PKG_CONFIG_PATH", &pc));
    assert_eq!(version.trim(), "5.4.7");
    let mut cc = Command::new("cc");
    cc.args(["-shared", "-fPIC", "-o"]).arg(work.path().join("answer.so")).arg(work.path().join("answer.c"));
    cc.args(cflags.split_whitespace());
    ok(&mut cc);
    let code = format!("package.cpath = '{}/?.so;' .. package.cpath print(require('answer').times6(7))", work.path().display());
    assert_eq!(ok(Command::new(prefix.join("bin/lua")).args(["-e", &code])).trim(), "42");
}

#[test]
fn a_tampered_tarball_is_refused_even_when_the_mirror_vouches_for_it() {
    let fixtures = fixtures_or_skip!("a_tampered_tarball_is_refused_even_when_the_mirror_vouches_for_it");
    let env = Env::new();
    let mirror = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(fixtures.join("mirror/lua-5.4.7.tar.gz")).unwrap();
    bytes.extend_from_slice(b"tampered");
    std::fs::write(mirror.path().join("lua-5.4.7.tar.gz"), &bytes).unwrap();
    let bad_sum = sha256_of(&mirror.path().join("lua-5.4.7.tar.gz"));
    std::fs::write(mirror.path().join("SHA256SUMS"), format!("{bad_sum}  lua-5.4.7.tar.gz\n")).unwrap();
    let server = Server::serve(mirror.path());
    let line = fails(env.luaenv().args(["install", "5.4.7", "--mirror", &server.url]), 1, "checksum mismatch");
    assert!(line.contains("9fbf5e28ef86c69858f6d3d34eccc32e911c1a28b4120ff3e84aaa70cfbf1e30") && line.contains(&bad_sum), "{line}");
    assert!(env.versions_entries().is_empty(), "nothing installed: {:?}", env.versions_entries());
    let cached: Vec<_> = walk(&env.cache().join("downloads"));
    assert!(cached.iter().all(|p| !p.ends_with(".tar.gz")), "the bad file was deleted: {cached:?}");
}

#[test]
fn a_second_install_makes_no_request_and_concurrent_installs_give_one_prefix() {
    let fixtures = fixtures_or_skip!("a_second_install_makes_no_request_and_concurrent_installs_give_one_prefix");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    // Two installs of the same version at once: both succeed, one prefix, one download.
    let spawn = || env.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror", &server.url]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(env.versions_entries(), vec!["5.4.7".to_string()]);
    assert_eq!(server.requests(), 1, "one download: {:?}", server.paths.lock().unwrap());

    // Uninstall and install again: restored from the build cache, no request.
    ok(env.luaenv().args(["uninstall", "5.4.7"]));
    assert!(env.versions_entries().is_empty());
    let out = run(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror", &server.url]));
    assert!(out.status.success() && stderr(&out).contains("restored from the build cache"), "{}", stderr(&out));
    // Without the build cache it compiles again, from the cached tarball: still no request.
    std::fs::remove_dir_all(env.cache().join("builds")).unwrap();
    let out = run(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--force", "--mirror", &server.url]));
    assert!(out.status.success() && stderr(&out).contains("built in"), "{}", stderr(&out));
    assert_eq!(server.requests(), 1, "no new request: {:?}", server.paths.lock().unwrap());
    assert_eq!(ok(Command::new(env.prefix("5.4.7").join("bin/lua")).args(["-e", "print(_VERSION)"])).trim(), "Lua 5.4");
}

#[test]
fn a_saved_mirror_serves_later_installs_until_unset() {
    let fixtures = fixtures_or_skip!("a_saved_mirror_serves_later_installs_until_unset");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    assert_eq!(ok(env.luaenv().args(["mirror", "show"])), "");
    ok(env.luaenv().args(["mirror", "set", &format!("{}/", server.url)]));
    assert_eq!(ok(env.luaenv().args(["mirror", "show"])).trim(), server.url);
    // $LUAENV_MIRROR comes before the saved mirror.
    let mut overridden = env.luaenv();
    overridden.args(["install", "5.1.5", "--no-rocks"]).env("LUAENV_MIRROR", "http://127.0.0.1:9/nothing");
    fails(&mut overridden, 1, "127.0.0.1:9");
    assert_eq!(server.requests(), 0);
    ok(env.luaenv().args(["install", "5.1.5", "--no-rocks"]));
    assert_eq!(*server.paths.lock().unwrap(), vec!["/lua-5.1.5.tar.gz".to_string()]);
    assert_eq!(ok(Command::new(env.prefix("5.1.5").join("bin/lua")).args(["-e", "print(_VERSION)"])).trim(), "Lua 5.1");
    // LuaRocks added afterwards, from a local tarball.
    let rocks = fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz");
    ok(env.luaenv().args(["rocks", "install", "3.8.0", "--from"]).arg(&rocks).env("LUAENV_VERSION", "5.1.5"));
    let mut version = Command::new(env.prefix("5.1.5").join("bin/luarocks"));
    env.apply(&mut version);
    assert!(ok(version.arg("--version")).contains("3.8.0"));
    assert!(env.root().join("shims/luarocks").is_file(), "rehashed");
    // A folder is stored as an absolute path, so it works from anywhere.
    ok(env.luaenv().args(["mirror", "set", "mirror"]).current_dir(&fixtures));
    assert_eq!(ok(env.luaenv().args(["mirror", "show"])).trim(), fixtures.join("mirror").display().to_string());
    ok(env.luaenv().args(["mirror", "unset"]));
    assert_eq!(ok(env.luaenv().args(["mirror", "show"])), "");
    fails(env.luaenv().args(["mirror", "set", "/does/not/exist"]), 2, "neither a URL nor an existing folder");
    fails(env.luaenv().args(["mirror", "set", "ftp://example.invalid/lua"]), 2, "not a mirror URL");
    assert_eq!(ok(env.luaenv().args(["mirror", "show"])), "");
}

#[test]
fn unknown_and_malformed_versions_exit_2_naming_the_nearest() {
    let env = Env::new();
    let line = fails(env.luaenv().args(["install", "5.4.99"]), 2, "unknown Lua version '5.4.99'");
    assert!(line.contains("5.4.9") && line.contains("5.4.8"), "{line}");
    fails(env.luaenv().args(["install", "5.x.1"]), 2, "malformed version spec '5.x.1'");
    fails(env.luaenv().args(["install", "../../etc"]), 2, "malformed version spec");
    fails(env.luaenv().args(["install", "5.4.7", "--sha256", "xyz"]), 2, "not a SHA-256");
    assert!(env.versions_entries().is_empty());
}

#[test]
fn an_unreachable_mirror_and_a_mirror_without_the_file_fail_cleanly() {
    let env = Env::new();
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    fails(env.luaenv().args(["install", "5.4.7", "--mirror", &format!("http://127.0.0.1:{port}/")]), 1, "cannot download");
    let empty = tempfile::tempdir().unwrap();
    let server = Server::serve(empty.path());
    fails(env.luaenv().args(["install", "5.4.7", "--mirror", &server.url]), 1, "404 Not Found");
    fails(env.luaenv().args(["install", "5.4.7", "--mirror", &empty.path().display().to_string()]), 1, "does not exist");
    assert!(env.versions_entries().is_empty(), "{:?}", env.versions_entries());
}

#[test]
fn truncated_and_escaping_tarballs_install_nothing() {
    let fixtures = fixtures_or_skip!("truncated_and_escaping_tarballs_install_nothing");
    let env = Env::new();
    let bytes = std::fs::read(fixtures.join("mirror/lua-5.4.7.tar.gz")).unwrap();
    // Through a mirror the official sum catches the truncation first.
    let mirror = tempfile::tempdir().unwrap();
    std::fs::write(mirror.path().join("lua-5.4.7.tar.gz"), &bytes[..bytes.len() / 2]).unwrap();
    let server = Server::serve(mirror.path());
    fails(env.luaenv().args(["install", "5.4.7", "--mirror", &server.url]), 1, "checksum mismatch");
    // Handed over directly with --from, the unpacker must notice it (without LuaRocks, which
    // would be fetched from upstream before the build).
    let truncated = mirror.path().join("my-lua.tar.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--from"]).arg(&truncated), 1, "truncated or corrupt");
    assert!(truncated.is_file(), "the user's file is never deleted");

    let evil = mirror.path().join("evil.tar.gz");
    write_tarball_with_entry(&evil, b"lua-5.4.7/../../escaped.txt");
    fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--from"]).arg(&evil), 1, "unsafe tarball");
    assert!(!env.dir.path().join("escaped.txt").exists() && !env.cache().join("escaped.txt").exists());
    assert!(env.versions_entries().is_empty(), "{:?}", env.versions_entries());
}

#[test]
fn no_c_compiler_on_path_is_one_clear_line() {
    let fixtures = fixtures_or_skip!("no_c_compiler_on_path_is_one_clear_line");
    let env = Env::new();
    let empty = tempfile::tempdir().unwrap();
    let mut cmd = env.luaenv();
    cmd.args(["install", "5.4.7", "--no-rocks", "--mirror"]).arg(fixtures.join("mirror")).env("PATH", empty.path()).env_remove("CC");
    fails(&mut cmd, 1, "no C compiler found");
    assert!(env.versions_entries().is_empty());
}

#[test]
fn list_versions_prefix_and_uninstall() {
    let env = Env::new();
    let list = ok(env.luaenv().args(["install", "--list"]));
    let names: Vec<&str> = list.lines().collect();
    assert_eq!(names[0], "5.5.1");
    assert!(names.contains(&"5.1") && names.contains(&"5.4.7") && names.contains(&"luajit-2.1.0-beta3"));
    let json: serde_json::Value = serde_json::from_str(&ok(env.luaenv().args(["install", "--list", "--json"]))).unwrap();
    assert_eq!(json[0]["name"], "5.5.1");
    assert_eq!(json[0]["sha256"], "1c4b4068d67061f2a2231ad2b5422e77acea1487ea9890f6320af614f4373dce");
    fails(env.luaenv().args(["uninstall", "5.4.7"]), 2, "not installed");
    fails(env.luaenv().args(["prefix", "5.4.7"]), 2, "not installed");
    fails(env.luaenv().args(["uninstall", "../x"]), 2, "not a version name");
}

#[test]
fn versions_marks_the_selected_one_and_uninstall_respects_a_pin() {
    let world = world_or_skip!("versions_marks_the_selected_one_and_uninstall_respects_a_pin");
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join(".lua-version"), "5.3.6\n").unwrap();
    let text = ok(world.env.luaenv().arg("versions").current_dir(project.path()));
    assert!(text.contains(&format!("* 5.3.6 (set by {}/.lua-version)", project.path().display())), "{text}");
    assert!(text.contains("  5.4.7"));
    let json: serde_json::Value = serde_json::from_str(&ok(world.env.luaenv().args(["versions", "--json"]).current_dir(project.path()))).unwrap();
    let selected: Vec<_> = json.as_array().unwrap().iter().filter(|v| v["selected"] == true).collect();
    assert_eq!(selected.len(), 1);
    assert_eq!(selected[0]["name"], "5.3.6");
    assert_eq!(ok(world.env.luaenv().args(["prefix", "5.3.6"])).trim(), world.env.prefix("5.3.6").display().to_string());
    fails(world.env.luaenv().args(["uninstall", "5.3.6"]).current_dir(project.path()), 2, "pinned by");
    assert!(world.env.prefix("5.3.6").is_dir());
}

fn sha256_of(path: &Path) -> String {
    let out = ok(Command::new("sha256sum").arg(path));
    out.split_whitespace().next().unwrap().to_string()
}

fn walk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            found.extend(walk(&p));
        } else {
            found.push(p.display().to_string());
        }
    }
    found
}

/// A tar.gz with one regular file whose raw name is `name` (the tar crate refuses to write `..` itself).
fn write_tarball_with_entry(path: &Path, name: &[u8]) {
    let mut header = tar::Header::new_old();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_size(6);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let file = std::fs::File::create(path).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(file, flate2::Compression::default()));
    builder.append(&header, &b"pwned\n"[..]).unwrap();
    builder.into_inner().unwrap().finish().unwrap();
}

#[test]
fn openresty_luajit_builds_with_jit_ffi_luarocks_and_a_sandbox() {
    let fixtures = fixtures_or_skip!("openresty_luajit_builds_with_jit_ffi_luarocks_and_a_sandbox");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let name = "openresty-2.1-20251030";
    // Not an official file: without the mirror's SHA256SUMS there is no sum to check against.
    let bare = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures.join("mirror/luajit2-2.1-20251030.tar.gz"), bare.path().join("luajit2-2.1-20251030.tar.gz")).unwrap();
    fails(env.luaenv().args(["install", name, "--no-rocks", "--mirror"]).arg(bare.path()), 1, "no checksum is known for luajit2-2.1-20251030.tar.gz");
    fails(env.luaenv().args(["install", name, "--no-rocks", "--sha256", &"ab".repeat(32), "--mirror"]).arg(bare.path()), 1, "checksum");
    assert!(env.versions_entries().is_empty());

    let rocks = fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz");
    let printed = ok(env.luaenv().args(["install", name, "--mirror", &server.url, "--rocks", "3.8.0", "--rocks-from"]).arg(&rocks));
    let prefix = env.prefix(name);
    assert_eq!(printed.trim(), prefix.display().to_string());
    for file in ["bin/luajit", "bin/lua", "include/luajit-2.1/luajit.h", "include/lua.h", "lib/libluajit-5.1.a", "lib/pkgconfig/luajit.pc", "share/luajit-2.1/jit/v.lua", "share/luajit-2.1/jit/vmdef.lua", "bin/luarocks"] {
        assert!(prefix.join(file).exists(), "{file}");
    }
    let receipt: serde_json::Value = serde_json::from_slice(&std::fs::read(prefix.join("luaenv-receipt.json")).unwrap()).unwrap();
    assert_eq!(receipt["flavor"], "openresty");
    assert_eq!(receipt["source"]["checksum"], "mirror");
    // The JIT is on, the jit.* modules are found from the prefix, the FFI calls C.
    let code = "print(jit.version, jit.status() and 'on' or 'off', require('jit.v') ~= nil) local ffi = require('ffi') ffi.cdef('size_t strlen(const char *);') print(tonumber(ffi.C.strlen('hello')))";
    let said = ok(Command::new(prefix.join("bin/luajit")).args(["-e", code]));
    assert_eq!(said, "LuaJIT 2.1.1761786044\ton\ttrue\n5\n");
    assert_eq!(ok(Command::new(prefix.join("bin/lua")).args(["-e", "print(_VERSION, jit ~= nil)"])), "Lua 5.1\ttrue\n");
    // A C module against luajit.pc loads with require.
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("twice.c"), "#include \"lua.h\"\n#include \"lauxlib.h\"\nstatic int twice(lua_State *L) { lua_pushnumber(L, 2 * luaL_checknumber(L, 1)); return 1; }\nint luaopen_twice(lua_State *L) { lua_pushcfunction(L, twice); return 1; }\n").unwrap();
    let cflags = ok(Command::new("pkg-config").args(["--cflags", "luajit"]).env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig")));
    let mut cc = Command::new("cc");
    ok(cc.args(["-shared", "-fPIC", "-o"]).arg(work.path().join("twice.so")).arg(work.path().join("twice.c")).args(cflags.split_whitespace()));
    let code = format!("package.cpath = '{}/?.so' print(require('twice')(21))", work.path().display());
    assert_eq!(ok(Command::new(prefix.join("bin/luajit")).args(["-e", &code])).trim(), "42");
    // LuaRocks runs on it, and the shims include luajit.
    let mut luarocks = Command::new(env.root().join("shims/luarocks"));
    env.apply(&mut luarocks);
    assert!(ok(luarocks.arg("--version").env("LUAENV_VERSION", name)).contains("3.8.0"));
    let mut shim = Command::new(env.root().join("shims/luajit"));
    env.apply(&mut shim);
    assert!(ok(shim.arg("-v").env("LUAENV_VERSION", name)).starts_with("LuaJIT 2.1"));
    // In a project sandbox the jit.* modules stay reachable; luajit gets a wrapper.
    let project = work.path().join("proj");
    ok(env.luaenv().args(["init"]).arg(&project).args(["--lua", name]));
    assert!(project.join(".luaenv/bin/luajit").is_file());
    let mut in_project = Command::new(env.root().join("shims/lua"));
    env.apply(&mut in_project);
    let said = ok(in_project.args(["-e", "print(require('jit.v') ~= nil, package.path:find('lua_modules') ~= nil)"]).current_dir(&project));
    assert_eq!(said.trim(), "true\ttrue");
    // The lock names the upstream archive, and sync brings the version back through the mirror.
    let lock = std::fs::read_to_string(project.join("luaenv.lock")).unwrap();
    assert!(lock.contains("url = \"https://github.com/openresty/luajit2/archive/refs/tags/v2.1-20251030.tar.gz\""), "{lock}");
    ok(env.luaenv().args(["uninstall", name, "--force"]));
    // The lock pins the --rocks-from tarball by file name: the team's mirror holds it.
    assert!(lock.contains("url = \"luarocks-3.8.0-dfsg.tar.gz\""), "{lock}");
    let team_mirror = crate::support::mirror_with_local_files(&fixtures);
    let team_server = Server::serve(team_mirror.path());
    ok(env.luaenv().arg("sync").current_dir(&project).env("LUAENV_MIRROR", &team_server.url));
    assert!(prefix.join("bin/luajit").is_file());
}

/// The ELF machine (0x3e x86-64, 0xb7 aarch64) and whether it asks for a dynamic loader.
fn elf_facts(path: &Path) -> (u16, bool) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF", "{} is not ELF", path.display());
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]);
    let phoff = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36) as usize, u16_at(0x38) as usize);
    let interp = (0..count).any(|i| u32::from_le_bytes(bytes[phoff + i * size..][..4].try_into().unwrap()) == 3);
    (u16_at(0x12), interp)
}


#[test]
fn cross_builds_for_aarch64_run_under_qemu_and_static_builds_need_no_loader() {
    let fixtures = fixtures_or_skip!("cross_builds_for_aarch64_run_under_qemu_and_static_builds_need_no_loader");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    for bad in ["nonsense", "x-y-z", "x86_64-unknown-linux-gnu.."] {
        fails(env.luaenv().args(["install", "5.4.7", "--target", bad]), 2, "not a target triple");
    }
    let mut no_cross = env.luaenv();
    no_cross.args(["install", "5.4.7", "--no-rocks", "--target", "riscv64gc-unknown-linux-gnu", "--mirror", &server.url]);
    fails(no_cross.env("PATH", "/usr/bin:/bin"), 1, "install a cross compiler");
    assert!(env.versions_entries().is_empty());

    // --static: a binary with no dynamic loader, that still runs.
    ok(env.luaenv().args(["install", "5.1.5", "--no-rocks", "--static", "--mirror", &server.url]));
    let lua = env.prefix("5.1.5").join("bin/lua");
    assert_eq!(elf_facts(&lua), (0x3e, false), "static x86-64");
    assert_eq!(ok(Command::new(&lua).args(["-e", "print(_VERSION)"])).trim(), "Lua 5.1");

    if cross_tools("cross_builds_for_aarch64_run_under_qemu_and_static_builds_need_no_loader").is_none() {
        return;
    }
    let target = "aarch64-unknown-linux-gnu";
    let qemu = |program: &Path, code: &str| ok(Command::new("qemu-aarch64").arg("-L").arg("/usr/aarch64-linux-gnu").arg(program).args(["-e", code]));
    ok(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--target", target, "--mirror", &server.url]));
    let prefix = env.prefix(&format!("5.4.7-{target}"));
    assert_eq!(elf_facts(&prefix.join("bin/lua")).0, 0xb7, "an aarch64 binary");
    assert_eq!(qemu(&prefix.join("bin/lua"), "print(_VERSION, 7 // 2)").trim(), "Lua 5.4\t3");
    let receipt: serde_json::Value = serde_json::from_slice(&std::fs::read(prefix.join("luaenv-receipt.json")).unwrap()).unwrap();
    assert_eq!(receipt["target"], target);
    // LuaJIT too: host tools built for this machine, told about the target; its JIT runs arm64 code.
    ok(env.luaenv().args(["install", "openresty-2.1-20251030", "--no-rocks", "--target", target, "--mirror", &server.url]));
    let luajit = env.prefix(&format!("openresty-2.1-20251030-{target}")).join("bin/luajit");
    assert_eq!(elf_facts(&luajit).0, 0xb7);
    let said = qemu(&luajit, "local s = 0 for i = 1, 1000 do s = s + i end print(jit.arch, jit.status() and 'on' or 'off', s)");
    assert_eq!(said.trim(), "arm64\ton\t500500");
}

#[test]
fn a_rolling_source_is_trusted_on_first_use_then_checked() {
    let fixtures = fixtures_or_skip!("a_rolling_source_is_trusted_on_first_use_then_checked");
    let env = Env::new();
    // The rolling branch's file name, served with a real LuaJIT 2.1 tree in it.
    let served = tempfile::tempdir().unwrap();
    let tarball = served.path().join("LuaJIT-2.1.tar.gz");
    std::fs::copy(fixtures.join("mirror/luajit2-2.1-20251030.tar.gz"), &tarball).unwrap();
    let first = sha256_of(&tarball);
    let server = Server::serve(served.path());
    let out = run(env.luaenv().args(["install", "luajit-2.1", "--no-rocks", "--mirror", &server.url]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("trusting it on first use: sha256 {first}")), "{}", stderr(&out));
    let receipt: serde_json::Value = serde_json::from_slice(&std::fs::read(env.prefix("luajit-2.1").join("luaenv-receipt.json")).unwrap()).unwrap();
    assert_eq!(receipt["source"]["checksum"], "first-use");
    assert_eq!(receipt["source"]["sha256"], first.as_str());
    assert!(ok(Command::new(env.prefix("luajit-2.1").join("bin/luajit")).arg("-v")).starts_with("LuaJIT 2.1"));

    // The branch "moves": same tree, other bytes. From now on the first sum is checked.
    let tree = {
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(std::fs::File::open(&tarball).unwrap()), &mut raw).unwrap();
        raw
    };
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&tarball).unwrap(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tree).unwrap();
    gz.finish().unwrap();
    let moved = sha256_of(&tarball);
    assert_ne!(first, moved);
    ok(env.luaenv().args(["uninstall", "luajit-2.1"]));
    std::fs::remove_dir_all(env.cache()).unwrap();
    let line = fails(env.luaenv().args(["install", "luajit-2.1", "--no-rocks", "--mirror", &server.url]), 1, "checksum mismatch");
    assert!(line.contains(&first) && line.contains(&moved) && line.contains(&format!("--sha256 {moved}")), "{line}");
    assert!(env.versions_entries().is_empty());
}

#[test]
fn compat_readline_and_jobs_flags_shape_the_build() {
    let fixtures = fixtures_or_skip!("compat_readline_and_jobs_flags_shape_the_build");
    let world = world_or_skip!("compat_readline_and_jobs_flags_shape_the_build");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    fails(env.luaenv().args(["install", "5.3.6", "--jobs", "0"]), 2, "--jobs must be at least 1");
    fails(env.luaenv().args(["install", "5.3.6", "--compat", "bogus"]), 2, "invalid value 'bogus'");
    // 5.3's default keeps the 5.2 compatibility functions (math.pow); --compat none drops them.
    ok(env.luaenv().args(["install", "5.3.6", "--no-rocks", "--compat", "none", "--mirror", &server.url]));
    let has_pow = |lua: &Path| ok(Command::new(lua).args(["-e", "print(math.pow ~= nil)"])).trim().to_string();
    assert_eq!(has_pow(&env.prefix("5.3.6").join("bin/lua")), "false");
    assert_eq!(has_pow(&world.env.prefix("5.3.6").join("bin/lua")), "true");
    let receipt: serde_json::Value = serde_json::from_slice(&std::fs::read(env.prefix("5.3.6").join("luaenv-receipt.json")).unwrap()).unwrap();
    assert_eq!(receipt["flags"]["compat"], "none");
    // --readline links the interpreter against libreadline (CI installs libreadline-dev), on one job.
    let out = run(env.luaenv().args(["install", "5.1.5", "--no-rocks", "--readline", "--jobs", "1", "--mirror", &server.url]));
    assert!(out.status.success(), "{}", stderr(&out));
    let needed = ok(Command::new("ldd").arg(env.prefix("5.1.5").join("bin/lua")));
    if stderr(&out).contains("readline headers not found") {
        assert!(std::env::var("LUAENV_REQUIRE_FIXTURES").as_deref() != Ok("1"), "CI installs libreadline-dev");
        assert!(!needed.contains("libreadline"), "{needed}");
    } else {
        assert!(needed.contains("libreadline"), "{needed}");
    }
}

#[test]
fn a_root_with_spaces_quotes_and_dollars_works_end_to_end() {
    let fixtures = fixtures_or_skip!("a_root_with_spaces_quotes_and_dollars_works_end_to_end");
    let env = Env::new();
    let root = env.dir.path().join("it's a \"root\" $HOME ]]");
    let server = Server::serve(&fixtures.join("mirror"));
    let in_root = |cmd: &mut Command| {
        env.apply(cmd);
        cmd.env("LUAENV_ROOT", &root).env("LUAENV_VERSION", "5.1.5");
    };
    let mut install = Command::new(crate::support::BIN);
    in_root(&mut install);
    ok(install.args(["install", "5.1.5", "--mirror", &server.url, "--rocks", "3.8.0", "--rocks-from"]).arg(fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz")));
    let mut lua = Command::new(root.join("shims/lua"));
    in_root(&mut lua);
    assert_eq!(ok(lua.args(["-e", "print(_VERSION)"])).trim(), "Lua 5.1");
    // LuaRocks' launcher, hardcoded.lua and config all hold the hostile prefix.
    let mut luarocks = Command::new(root.join("shims/luarocks"));
    in_root(&mut luarocks);
    assert!(ok(luarocks.arg("--version")).contains("3.8.0"));
    let mut config = Command::new(root.join("shims/luarocks"));
    in_root(&mut config);
    let said = ok(config.args(["config", "variables.LUA_INCDIR"]));
    assert_eq!(said.trim(), root.join("versions/5.1.5/include").display().to_string());
}

/// A user's `LUA_INIT_5_4` or `LUA_PATH_5_4` (which Lua reads before `LUA_INIT`) never reaches
/// the smoke test or doctor's check: they test the build, not the user's start-up code.
#[test]
fn versioned_lua_variables_never_reach_the_smoke_test_or_doctor() {
    let fixtures = fixtures_or_skip!("versioned_lua_variables_never_reach_the_smoke_test_or_doctor");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let users = [("LUA_INIT_5_4", "print('hi') os.exit(3)"), ("LUA_PATH_5_4", "/nowhere/?.lua"), ("LUA_INIT", "os.exit(4)")];
    ok(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror", &server.url]).envs(users));
    let report = ok(env.luaenv().arg("doctor").envs(users));
    assert!(report.contains("5.4.7: runs"), "{report}");
}

#[test]
fn doctor_runs_luarocks_and_reports_one_that_cannot_start() {
    let fixtures = fixtures_or_skip!("doctor_runs_luarocks_and_reports_one_that_cannot_start");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let rocks = fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz");
    ok(env.luaenv().args(["install", "5.1.5", "--mirror", &server.url, "--rocks-from"]).arg(&rocks));
    ok(env.luaenv().args(["global", "5.1.5"]));
    let healthy = stdout(&run(env.luaenv().arg("doctor")));
    assert!(healthy.contains("5.1.5: runs, LuaRocks configured"), "{healthy}");
    // What a LuaRocks that cannot start on its Lua looks like: its core fails to load.
    let cfg = env.prefix("5.1.5").join("share/lua/5.1/luarocks/core/cfg.lua");
    std::fs::write(&cfg, "error('this LuaRocks cannot run here')\n").unwrap();
    let out = run(env.luaenv().arg("doctor"));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = stdout(&out);
    assert!(report.contains("5.1.5: LuaRocks is broken") && report.contains("cannot run here"), "{report}");
    assert!(report.contains("luaenv rocks install"), "the fix is named: {report}");
}

/// A tmpfs of `size` mounted on `dir` for the life of the guard (needs root, as CI runs).
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(dir).unwrap();
        let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(dir).output();
        mounted.is_ok_and(|o| o.status.success()).then(|| SmallDisk(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_is_named_as_the_cause_and_nothing_is_installed() {
    let fixtures = fixtures_or_skip!("a_full_disk_is_named_as_the_cause_and_nothing_is_installed");
    // 1 MiB fills up while unpacking the source, 2 MiB while archiving the objects (`ar`).
    for size in ["1m", "2m"] {
        let env = Env::new();
        let Some(_disk) = SmallDisk::mount(&env.cache(), size) else {
            println!("skipped a_full_disk_is_named_as_the_cause_and_nothing_is_installed: cannot mount a tmpfs (not root)");
            return;
        };
        let mut install = env.luaenv();
        install.args(["install", "5.4.7", "--no-rocks", "--mirror"]).arg(fixtures.join("mirror"));
        let line = fails(&mut install, 1, "the disk is full");
        assert!(!line.contains("truncated or corrupt"), "{line}");
        assert!(env.versions_entries().is_empty(), "{size}: {:?}", env.versions_entries());
    }
}

#[test]
fn lua_5_5_is_built_as_make_linux_builds_it_loading_readline_only_at_run_time() {
    let world = world_or_skip!("lua_5_5_is_built_as_make_linux_builds_it_loading_readline_only_at_run_time");
    let lua = world.env.prefix("5.5.1").join("bin/lua");
    // LUA_USE_LINUX names the library lua.c may dlopen for its REPL; nothing links to it.
    let bytes = std::fs::read(&lua).unwrap();
    assert!(bytes.windows(14).any(|w| w == b"libreadline.so"), "LUA_READLINELIB is not compiled in");
    let needed = ok(Command::new("sh").arg("-c").arg("readelf -d \"$1\" | grep NEEDED || true").arg("sh").arg(&lua));
    assert!(!needed.contains("readline"), "{needed}");
    // The REPL runs with or without the library.
    for rllib in ["libreadline.so", "/nonexistent/libreadline.so"] {
        let mut repl = Command::new(&lua);
        repl.arg("-i").env("LUA_READLINELIB", rllib).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
        let mut child = repl.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"print(40 + 2)\n").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("42"), "{rllib}: {}", String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn compat_means_what_each_series_offers() {
    let fixtures = fixtures_or_skip!("compat_means_what_each_series_offers");
    let world = world_or_skip!("compat_means_what_each_series_offers");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let install = |extra: &[&str]| {
        let mut cmd = env.luaenv();
        cmd.args(["install", "--no-rocks", "--mirror", &server.url]).args(extra);
        cmd
    };
    // 5.1 fixes its compatibility options in its luaconf.h: a level would change nothing.
    fails(&mut install(&["5.1.5", "--compat", "none"]), 2, "Lua 5.1 has no --compat levels");
    assert!(env.versions_entries().is_empty());
    let runs = |lua: &Path, code: &str| run(Command::new(lua).args(["-e", code])).status.success();
    // 5.5 by default: `global` is still a name, the deprecated math functions are gone.
    let default = world.env.prefix("5.5.1").join("bin/lua");
    assert!(runs(&default, "local global = 1") && runs(&default, "assert(math.pow == nil)"));
    // --compat none: `global` is a reserved word.
    ok(&mut install(&["5.5.1", "--compat", "none"]));
    let lua = env.prefix("5.5.1").join("bin/lua");
    assert!(!runs(&lua, "local global = 1"), "global is reserved under --compat none");
    // --compat all: the deprecated math functions are back.
    ok(&mut install(&["5.5.1", "--compat", "all", "--force"]));
    assert!(runs(&lua, "assert(math.pow(2, 10) == 1024)") && runs(&lua, "local global = 1"));
}

/// Asking again for an installed version with other build options or another `--from`
/// tarball is refused (exit 2), not answered with the build that is there; the same options
/// and bytes say it is installed (exit 0), and `--force` rebuilds it with the new ones.
/// `--static` for Windows is refused whatever is installed.
#[test]
fn an_installed_version_asked_for_with_other_build_options_is_refused_until_forced() {
    let fixtures = fixtures_or_skip!("an_installed_version_asked_for_with_other_build_options_is_refused_until_forced");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let install = |extra: &[&str]| {
        let mut cmd = env.luaenv();
        cmd.args(["install", "5.4.7", "--no-rocks", "--mirror", &server.url]).args(extra);
        cmd
    };
    ok(&mut install(&[]));
    let again = run(&mut install(&[]));
    assert!(again.status.success() && stderr(&again).contains("5.4.7 is already installed"), "{}", stderr(&again));
    let first = fails(&mut install(&["--compat", "none"]), 2, "5.4.7 is already installed with other build options");
    assert!(first.contains(r#"compat "none" asked, "default" installed"#) && first.contains("--force"), "{first}");
    fails(&mut install(&["--static", "--target", "x86_64-pc-windows-gnu"]), 2, "cannot be fully static");
    // The source too: the same bytes are the install that is there, others are not.
    let same = fixtures.join("mirror/lua-5.4.7.tar.gz");
    ok(&mut install(&["--from", same.to_str().unwrap()]));
    let other = fixtures.join("mirror/lua-5.3.6.tar.gz");
    fails(&mut install(&["--from", other.to_str().unwrap()]), 2, "5.4.7 is already installed from another source");
    // And LuaRocks: another one asked for is refused, naming the command that puts it in.
    let rocks = fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz");
    let with_rocks = |extra: &[&str]| {
        let mut cmd = env.luaenv();
        cmd.args(["install", "5.4.7", "--mirror", &server.url]).args(extra);
        cmd
    };
    // A malformed sum or a LuaRocks tarball that is not there is bad input even then.
    fails(&mut install(&["--sha256", "xyz"]), 2, "--sha256 'xyz' is not a SHA-256 sum");
    fails(&mut with_rocks(&["--rocks-from", "/nonexistent/luarocks-3.8.0.tar.gz"]), 2, "--rocks-from /nonexistent/luarocks-3.8.0.tar.gz does not exist");
    let said = fails(&mut with_rocks(&["--rocks-from", rocks.to_str().unwrap()]), 2, "5.4.7 is already installed with no LuaRocks, not the LuaRocks of");
    assert!(said.contains(&format!("`LUAENV_VERSION=5.4.7 luaenv rocks install --from '{}'`", rocks.display())), "{said}");
    ok(env.luaenv().args(["rocks", "install", "--from"]).arg(&rocks).env("LUAENV_VERSION", "5.4.7"));
    ok(&mut with_rocks(&["--rocks-from", rocks.to_str().unwrap()]));
    fails(&mut with_rocks(&["--rocks", "3.13.0"]), 2, "5.4.7 is already installed with LuaRocks 3.8.0, not LuaRocks 3.13.0");
    ok(&mut install(&["--compat", "none", "--force"]));
    let receipt = std::fs::read_to_string(env.prefix("5.4.7").join("luaenv-receipt.json")).unwrap();
    assert!(receipt.contains(r#""compat": "none""#), "{receipt}");
}

/// `--force --no-rocks` over a prefix that had LuaRocks says that LuaRocks and its config go
/// (and how to get them back), not that the user added `bin/luarocks` and that the config is kept.
#[test]
fn forcing_a_reinstall_without_luarocks_says_luarocks_and_its_config_go() {
    let fixtures = fixtures_or_skip!("forcing_a_reinstall_without_luarocks_says_luarocks_and_its_config_go");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    ok(env.luaenv().args(["install", "5.4.7", "--mirror", &server.url, "--rocks-from"]).arg(fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz")));
    assert!(env.prefix("5.4.7").join("bin/luarocks").is_file());
    let out = run(env.luaenv().args(["install", "5.4.7", "--force", "--no-rocks", "--mirror", &server.url]));
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let warning = err.lines().find(|l| l.starts_with("warning: --force")).unwrap_or_else(|| panic!("no warning:\n{err}"));
    assert!(warning.contains("without the LuaRocks it had, and without its config") && warning.contains("LUAENV_VERSION=5.4.7 luaenv rocks install"), "{warning}");
    assert!(!warning.contains("bin/luarocks") && !warning.contains("config is kept"), "{warning}");
    assert!(!env.prefix("5.4.7").join("bin/luarocks").exists() && !env.prefix("5.4.7").join("etc/luarocks").exists());
}
