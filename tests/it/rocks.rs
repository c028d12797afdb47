//! LuaRocks in the prefix: real luarocks installing real rocks from a loopback rocks server.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{Server, fails, fixtures_or_skip, ok, run, stderr, world_or_skip};

/// A source tarball and rockspec for one rock, written into the server's folder.
/// With `command`, the rock also installs a `<name>-say` command printing what the module returns.
pub fn write_rock(dir: &Path, url: &str, name: &str, module_file: &str, source: &str) {
    write_rock_with(dir, url, name, module_file, source, false);
}

pub fn write_rock_with(dir: &Path, url: &str, name: &str, module_file: &str, source: &str, command: bool) {
    let src = dir.join("src").join(format!("{name}-1.0"));
    std::fs::create_dir_all(src.join("bin")).unwrap();
    std::fs::write(src.join(module_file), source).unwrap();
    std::fs::write(src.join("bin/say.lua"), format!("print((require('{name}')))\n")).unwrap();
    ok(Command::new("tar").arg("czf").arg(dir.join(format!("{name}-1.0.tar.gz"))).arg("-C").arg(dir.join("src")).arg(format!("{name}-1.0")));
    let install = if command { format!(", install = {{ bin = {{ [\"{name}-say\"] = \"bin/say.lua\" }} }}") } else { String::new() };
    let rockspec = format!(
        "package = \"{name}\"\nversion = \"1.0-1\"\nsource = {{ url = \"{url}/{name}-1.0.tar.gz\", dir = \"{name}-1.0\" }}\n\
description = {{ summary = \"a test rock\" }}\ndependencies = {{ \"lua >= 5.1\" }}\n\
build = {{ type = \"builtin\", modules = {{ {name} = \"{module_file}\" }}{install} }}\n"
    );
    std::fs::write(dir.join(format!("{name}-1.0-1.rockspec")), rockspec).unwrap();
}

const PASSWORD: &str = "s3cr3t-Pw_42";
const WRONG: &str = "wr0ng-Pw_17";
const ROTATED: &str = "r0tated-Pw_99";
const VERSIONS: [&str; 3] = ["5.1.5", "5.3.6", "5.4.7"];

/// Runs a command with `input` on stdin and records its output for the secret scan.
fn feed(cmd: &mut Command, input: &str, seen: &mut String) -> Output {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    seen.push_str(&format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out)));
    out
}

fn record(seen: &mut String, out: Output) -> Output {
    seen.push_str(&format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out)));
    out
}

/// Every file under `dir` that holds one of `secrets`, except the credentials file.
fn files_holding(dir: &Path, secrets: &[&str], allowed: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() && path != allowed {
                let bytes = std::fs::read(&path).unwrap_or_default();
                if secrets.iter().any(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes())) {
                    found.push(path);
                }
            }
        }
    }
    found
}

#[test]
fn luarocks_installs_lua_and_c_rocks_from_a_server_that_demands_basic_auth() {
    // Rocks and server edits change the prefixes, so this test installs its own.
    let fixtures = fixtures_or_skip!("luarocks_installs_lua_and_c_rocks_from_a_server_that_demands_basic_auth");
    let env = &crate::support::env_with(&fixtures, &["5.1.5", "5.3.6", "5.4.7"]);
    let with_version = |mut cmd: Command, v: &str| {
        env.apply(&mut cmd);
        cmd.env("LUAENV_VERSION", v);
        cmd
    };
    let luaenv = |v: &str| with_version(Command::new(crate::support::BIN), v);
    let shim = |name: &str, v: &str| with_version(Command::new(env.root().join("shims").join(name)), v);
    let mut seen = String::new();

    let served = tempfile::tempdir().unwrap();
    let server = Server::serve_with_auth(served.path(), Some(&format!("alice:{PASSWORD}")));
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
    let mut admin = shim("luarocks-admin", "5.3.6");
    ok(admin.arg("make-manifest").arg(served.path()));
    assert!(served.path().join("manifest").is_file());

    let config = env.prefix("5.3.6").join("etc/luarocks/config-5.3.lua");
    // The user's own lines around luaenv's block survive every edit, byte for byte.
    let original = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("-- my own comment\nlocal_by_default = false\n{original}deps_mode = \"one\" -- mine too\n")).unwrap();
    let before = std::fs::read_to_string(&config).unwrap();
    let netrc = env.root().join("credentials/.netrc");

    // A wrong password is caught before anything is stored.
    let out = feed(luaenv("5.3.6").args(["rocks", "add-server", &server.url, "--name", "test", "--first", "--user", "alice", "--password-stdin"]), &format!("{WRONG}\n"), &mut seen);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let first = stderr(&out).lines().next().unwrap_or("").to_string();
    assert!(first.starts_with("luaenv: ") && first.contains("refused user 'alice'") && first.contains("401"), "{first}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
    assert!(!netrc.exists());

    // The right one: stored in the 0600 file, and the config names only the wrappers.
    let out = feed(luaenv("5.3.6").args(["rocks", "add-server", &server.url, "--name", "test", "--first", "--user", "alice", "--password-stdin"]), &format!("{PASSWORD}\n"), &mut seen);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::metadata(&netrc).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(netrc.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
    // The same server again changes nothing.
    let added = std::fs::read_to_string(&config).unwrap();
    record(&mut seen, run(luaenv("5.3.6").args(["rocks", "add-server", &server.url, "--name", "again", "--first"])));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), added);
    // The other versions use the stored credentials for that host without being told again.
    for v in ["5.1.5", "5.4.7"] {
        record(&mut seen, run(luaenv(v).args(["rocks", "add-server", &server.url, "--name", "test", "--first"])));
    }
    for v in VERSIONS {
        // A mirror-only setup: luarocks.org dropped, so nothing is asked of the internet.
        ok(luaenv(v).args(["rocks", "remove-server", "luarocks.org"]));
        let listed = ok(luaenv(v).args(["rocks", "servers"]));
        assert_eq!(listed, format!("test\t{}\n", server.url.replace("http://", "http://alice:***@")));
        seen.push_str(&listed);
    }
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with("-- my own comment\nlocal_by_default = false\n") && text.ends_with("deps_mode = \"one\" -- mine too\n"), "{text}");

    for v in VERSIONS {
        for rock in ["purehello", "chello"] {
            let out = record(&mut seen, run(shim("luarocks", v).args(["install", rock])));
            assert!(out.status.success(), "{v}: luarocks install {rock}: {}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        }
        let said = ok(shim("lua", v).args(["-e", "print(require('purehello').greet('rocks'), require('chello').twice(21) == 42)"]));
        assert_eq!(said.trim(), "hello rocks\ttrue", "{v}");
    }
    assert!(server.paths.lock().unwrap().iter().any(|p| p.ends_with("chello-1.0.tar.gz")));
    // Both downloaders LuaRocks may pick (wget first, then curl) send the credentials; plain curl does not.
    let manifest = format!("{}/manifest", server.url);
    ok(Command::new(env.root().join("credentials/wget")).args(["--quiet", "--output-document", "/dev/null", &manifest]));
    ok(Command::new(env.root().join("credentials/curl")).args(["-fsS", "-o", "/dev/null", &manifest]));
    assert!(!run(Command::new("curl").args(["-fsS", "-o", "/dev/null", &manifest])).status.success());

    // A password rotated on the server: LuaRocks fails, naming what failed, never the secret.
    server.demand(&format!("alice:{ROTATED}"));
    ok(shim("luarocks", "5.3.6").args(["remove", "purehello"]));
    let out = record(&mut seen, run(shim("luarocks", "5.3.6").args(["install", "purehello"])));
    assert!(!out.status.success());
    assert!(stderr(&out).contains(&format!("Failed downloading {}", server.url)), "{}", stderr(&out));
    let out = feed(luaenv("5.3.6").args(["rocks", "add-server", &server.url, "--user", "alice", "--password-stdin"]), ROTATED, &mut seen);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = record(&mut seen, run(shim("luarocks", "5.3.6").args(["install", "purehello"])));
    assert!(out.status.success(), "{}", stderr(&out));

    // Remove by URL and by name; the credentials go with the last version that used the host.
    ok(luaenv("5.3.6").args(["rocks", "add-server", "https://rocks.example.invalid/mirror", "--name", "corp"]));
    let json: serde_json::Value = serde_json::from_str(&ok(luaenv("5.3.6").args(["rocks", "servers", "--json"]))).unwrap();
    assert_eq!(json[0]["name"], "test");
    assert_eq!(json[0]["user"], "alice");
    assert_eq!(json[1]["name"], "corp");
    ok(luaenv("5.3.6").args(["rocks", "remove-server", &server.url]));
    ok(luaenv("5.3.6").args(["rocks", "remove-server", "corp"]));
    // None left is none at all, not LuaRocks' default.
    assert_eq!(ok(luaenv("5.3.6").args(["rocks", "servers"])), "");
    assert!(std::fs::read_to_string(&config).unwrap().contains("rocks_servers = {\n}\n"));
    assert!(std::fs::read_to_string(&netrc).unwrap().contains("alice"), "5.1.5 and 5.4.7 still use the host");
    for v in ["5.1.5", "5.4.7"] {
        record(&mut seen, run(luaenv(v).args(["rocks", "remove-server", "test"])));
    }
    assert!(!std::fs::read_to_string(&netrc).unwrap().contains("alice"));

    // No secret in any output, nor in any file but the credentials file.
    for secret in [PASSWORD, WRONG, ROTATED] {
        assert!(!seen.contains(secret), "a secret was printed:\n{seen}");
    }
    let leaked = files_holding(env.dir.path(), &[PASSWORD, WRONG, ROTATED], &netrc);
    assert!(leaked.is_empty(), "secrets written to {leaked:?}");
    assert!(files_holding(served.path(), &[PASSWORD, WRONG, ROTATED], &netrc).is_empty());
}

#[test]
fn rocks_servers_refuse_bad_input() {
    let world = world_or_skip!("rocks_servers_refuse_bad_input");
    let env = &world.env;
    let luaenv = |v: &str| {
        let mut c = env.luaenv();
        c.env("LUAENV_VERSION", v);
        c
    };
    fails(luaenv("5.4.7").args(["rocks", "add-server", "not a url"]), 2, "not a rocks server URL");
    fails(luaenv("5.4.7").args(["rocks", "remove-server", "nope"]), 2, "no rocks server 'nope'");
    fails(luaenv("5.4.7").args(["rocks", "add-server", "http://h.invalid", "--user", "bob"]), 2, "--password-stdin");
    let mut empty = luaenv("5.4.7");
    empty.args(["rocks", "add-server", "http://h.invalid", "--user", "bob", "--password-stdin"]).stdin(Stdio::null());
    fails(&mut empty, 2, "no password on standard input");
    fails(luaenv("5.5.1").args(["rocks", "servers"]), 2, "5.5.1 has no LuaRocks");
    fails(luaenv("5.5.1").args(["rocks", "install", "3.8.0"]), 2, "LuaRocks 3.8.0 does not support Lua 5.5");
    fails(env.luaenv().args(["install", "5.5.1", "--rocks", "3.8.0"]), 2, "does not support Lua 5.5");
}
