//! LuaRocks in the prefix: real luarocks installing real rocks from a loopback rocks server.

use std::path::Path;
use std::process::Command;

use crate::support::{Server, fails, ok, run, stderr, world_or_skip};

/// A source tarball and rockspec for one rock, written into the server's folder.
fn write_rock(dir: &Path, url: &str, name: &str, module_file: &str, source: &str) {
    let src = dir.join("src").join(format!("{name}-1.0"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join(module_file), source).unwrap();
    ok(Command::new("tar").arg("czf").arg(dir.join(format!("{name}-1.0.tar.gz"))).arg("-C").arg(dir.join("src")).arg(format!("{name}-1.0")));
    let rockspec = format!(
        "package = \"{name}\"\nversion = \"1.0-1\"\nsource = {{ url = \"{url}/{name}-1.0.tar.gz\", dir = \"{name}-1.0\" }}\n\
description = {{ summary = \"a test rock\" }}\ndependencies = {{ \"lua >= 5.1\" }}\n\
build = {{ type = \"builtin\", modules = {{ {name} = \"{module_file}\" }} }}\n"
    );
    std::fs::write(dir.join(format!("{name}-1.0-1.rockspec")), rockspec).unwrap();
}

#[test]
fn luarocks_installs_lua_and_c_rocks_from_a_server_added_first() {
    let world = world_or_skip!("luarocks_installs_lua_and_c_rocks_from_a_server_added_first");
    let env = &world.env;
    let prefix = env.prefix("5.3.6");
    let lua = |cmd: &mut Command| {
        env.apply(cmd);
        cmd.env("LUAENV_VERSION", "5.3.6");
    };
    let served = tempfile::tempdir().unwrap();
    let server = Server::serve(served.path());
    write_rock(served.path(), &server.url, "purehello", "purehello.lua", "return { greet = function(n) return 'hello ' .. n end }\n");
    write_rock(
        served.path(),
        &server.url,
        "chello",
        "chello.c",
        "#include \"lua.h\"\n#include \"lauxlib.h\"\nstatic int twice(lua_State *L) { lua_pushnumber(L, 2 * luaL_checknumber(L, 1)); return 1; }\n\
int luaopen_chello(lua_State *L) { lua_newtable(L); lua_pushcfunction(L, twice); lua_setfield(L, -2, \"twice\"); return 1; }\n",
    );
    // The manifest comes from the real luarocks-admin.
    let mut admin = Command::new(prefix.join("bin/luarocks-admin"));
    lua(&mut admin);
    ok(admin.arg("make-manifest").arg(served.path()));
    assert!(served.path().join("manifest").is_file());

    let luaenv = || {
        let mut c = env.luaenv();
        c.env("LUAENV_VERSION", "5.3.6");
        c
    };
    let config = prefix.join("etc/luarocks/config-5.3.lua");
    // The user's own lines around luaenv's block survive every edit, byte for byte.
    let original = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("-- my own comment\nlocal_by_default = false\n{original}deps_mode = \"one\" -- mine too\n")).unwrap();
    ok(luaenv().args(["rocks", "add-server", &server.url, "--name", "test", "--first"]));
    ok(luaenv().args(["rocks", "add-server", &server.url, "--name", "again", "--first"]));
    // A mirror-only setup: luarocks.org dropped, so nothing is asked of the internet.
    ok(luaenv().args(["rocks", "remove-server", "luarocks.org"]));
    let listed = ok(luaenv().args(["rocks", "servers"]));
    assert_eq!(listed, format!("test\t{}\n", server.url));
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with("-- my own comment\nlocal_by_default = false\n") && text.ends_with("deps_mode = \"one\" -- mine too\n"), "{text}");

    for rock in ["purehello", "chello"] {
        let mut install = Command::new(env.root().join("shims/luarocks"));
        lua(&mut install);
        let out = run(install.args(["install", rock]));
        assert!(out.status.success(), "luarocks install {rock}: {}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    }
    let mut check = Command::new(env.root().join("shims/lua"));
    lua(&mut check);
    let said = ok(check.args(["-e", "print(require('purehello').greet('rocks'), require('chello').twice(21))"]));
    assert_eq!(said.trim(), "hello rocks\t42.0");
    assert!(server.paths.lock().unwrap().iter().any(|p| p.ends_with("chello-1.0.tar.gz")));

    // Remove by URL, then the list falls back to LuaRocks' default.
    ok(luaenv().args(["rocks", "add-server", "https://rocks.example.invalid/mirror", "--name", "corp"]));
    let json: serde_json::Value = serde_json::from_str(&ok(luaenv().args(["rocks", "servers", "--json"]))).unwrap();
    assert_eq!(json[0]["name"], "test");
    assert_eq!(json[1]["name"], "corp");
    ok(luaenv().args(["rocks", "remove-server", &server.url]));
    ok(luaenv().args(["rocks", "remove-server", "corp"]));
    assert_eq!(ok(luaenv().args(["rocks", "servers"])), "luarocks.org\thttps://luarocks.org\n");

    fails(luaenv().args(["rocks", "add-server", "not a url"]), 2, "not a rocks server URL");
    fails(luaenv().args(["rocks", "remove-server", "nope"]), 2, "no rocks server 'nope'");
    let mut no_rocks = env.luaenv();
    no_rocks.env("LUAENV_VERSION", "5.5.1");
    fails(no_rocks.args(["rocks", "servers"]), 2, "5.5.1 has no LuaRocks");
    let mut old = env.luaenv();
    old.env("LUAENV_VERSION", "5.5.1");
    fails(old.args(["rocks", "install", "3.8.0"]), 2, "LuaRocks 3.8.0 does not support Lua 5.5");
    fails(env.luaenv().args(["install", "5.5.1", "--rocks", "3.8.0"]), 2, "does not support Lua 5.5");
}
