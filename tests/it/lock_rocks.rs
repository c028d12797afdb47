//! A project's rocks come from its rockspec, are locked with their sums, and a fresh copy of
//! the project gets exactly the locked bytes: real rocks packed by the real LuaRocks, served on
//! loopback, installed by LuaRocks from the files luaenv verified.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Env, Server, World, fails, ok, run, stderr, world_or_skip};

/// Packs a real `.src.rock` (and serves its rockspec beside it) of a rock holding one module.
fn pack_rock(luarocks: &Command, served: &Path, url: &str, rock: &Rock) {
    let (name, version) = (rock.name, rock.version);
    let upstream = version.split('-').next().unwrap();
    let work = served.join("work").join(format!("{name}-{upstream}"));
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join(rock.module_file), rock.source).unwrap();
    let tarball = format!("{name}-{upstream}.tar.gz");
    ok(Command::new("tar").arg("czf").arg(served.join(&tarball)).arg("-C").arg(served.join("work")).arg(format!("{name}-{upstream}")));
    let deps: String = rock.deps.iter().map(|d| format!(", \"{d}\"")).collect();
    let rockspec = format!(
        "package = \"{name}\"\nversion = \"{version}\"\nsource = {{ url = \"{url}/{tarball}\", dir = \"{name}-{upstream}\" }}\n\
description = {{ summary = \"a test rock\" }}\ndependencies = {{ \"lua >= 5.1\"{deps} }}\n\
build = {{ type = \"builtin\", modules = {{ {name} = \"{}\" }} }}\n",
        rock.module_file
    );
    let spec = served.join(format!("{name}-{version}.rockspec"));
    std::fs::write(&spec, rockspec).unwrap();
    let mut pack = clone(luarocks);
    let out = run(pack.arg("pack").arg(&spec).current_dir(served));
    assert!(out.status.success(), "luarocks pack {name}: {}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(served.join(format!("{name}-{version}.src.rock")).is_file());
}

struct Rock {
    name: &'static str,
    version: &'static str,
    module_file: &'static str,
    source: &'static str,
    deps: &'static [&'static str],
}

const PURE_1_0: Rock = Rock { name: "purehello", version: "1.0-1", module_file: "purehello.lua", source: "return { version = '1.0' }\n", deps: &[] };
const PURE_1_1: Rock = Rock { name: "purehello", version: "1.1-1", module_file: "purehello.lua", source: "return { version = '1.1' }\n", deps: &[] };
const C_ROCK: Rock = Rock {
    name: "chello",
    version: "1.0-1",
    module_file: "chello.c",
    source: "#include \"lua.h\"\n#include \"lauxlib.h\"\nstatic int twice(lua_State *L) { lua_pushnumber(L, 2 * luaL_checknumber(L, 1)); return 1; }\n\
int luaopen_chello(lua_State *L) { lua_newtable(L); lua_pushcfunction(L, twice); lua_setfield(L, -2, \"twice\"); return 1; }\n",
    deps: &["purehello >= 1.0"],
};

fn clone(cmd: &Command) -> Command {
    let mut c = Command::new(cmd.get_program());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c
}

/// The World's 5.4.7 `luarocks` or `luarocks-admin`, run with `env`'s HOME (its own caches).
fn tool(env: &Env, program: &str) -> Command {
    let mut cmd = Command::new(env.prefix("5.4.7").join("bin").join(program));
    env.apply(&mut cmd);
    cmd
}

fn make_manifest(env: &Env, served: &Path) {
    let work = served.join("work");
    std::fs::remove_dir_all(&work).ok();
    ok(tool(env, "luarocks-admin").arg("make-manifest").arg(served));
}

fn luaenv_in(env: &Env, dir: &Path) -> Command {
    let mut c = env.luaenv();
    c.current_dir(dir);
    c
}

/// Runs Lua code with the project's own `lua` wrapper.
fn lua(dir: &Path, code: &str) -> String {
    ok(Command::new(dir.join(".luaenv/bin/lua")).args(["-e", code]).env_remove("LUA_PATH").env_remove("LUA_CPATH").env_remove("LUA_INIT")).trim().to_string()
}

fn sha256(path: &Path) -> String {
    ok(Command::new("sha256sum").arg(path)).split_whitespace().next().unwrap().to_string()
}

fn lock_of(dir: &Path) -> toml::Value {
    toml::from_str(&std::fs::read_to_string(dir.join("luaenv.lock")).unwrap()).unwrap()
}

/// (name, version) of each `[[rocks]]` entry.
fn locked(dir: &Path) -> Vec<(String, String)> {
    let lock = lock_of(dir);
    let rocks = lock.get("rocks").and_then(|r| r.as_array()).cloned().unwrap_or_default();
    rocks.iter().map(|r| (r["name"].as_str().unwrap().to_string(), r["version"].as_str().unwrap().to_string())).collect()
}

/// The rocks in the project's tree, as `name version` (what LuaRocks' own manifest lists).
fn installed(dir: &Path) -> Vec<String> {
    let tree = dir.join("lua_modules/lib/luarocks/rocks-5.4");
    let mut found = Vec::new();
    for rock in std::fs::read_dir(&tree).into_iter().flatten().flatten().filter(|e| e.path().is_dir()) {
        for version in std::fs::read_dir(rock.path()).unwrap().flatten() {
            if version.path().join("rock_manifest").is_file() {
                found.push(format!("{} {}", rock.file_name().to_string_lossy(), version.file_name().to_string_lossy()));
            }
        }
    }
    found.sort();
    found
}

/// The project's tracked files (`git add -A`, then `git ls-files`) copied into `to`: what a
/// fresh clone holds.
fn copy_tracked(from: &Path, to: &Path) {
    let git = |args: &[&str]| ok(Command::new("git").args(args).current_dir(from).env("GIT_CONFIG_GLOBAL", "/dev/null"));
    if !from.join(".git").is_dir() {
        git(&["init", "-q"]);
        // What the project never commits (init's .gitignore says so too once it writes one).
        std::fs::write(from.join(".git/info/exclude"), "lua_modules/\n.luaenv/\n").unwrap();
    }
    git(&["add", "-A"]);
    for file in git(&["ls-files"]).lines() {
        let target = to.join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(file), target).unwrap();
    }
}

/// A project on Lua 5.4.7 whose rocks servers are `server` alone (nothing leaves loopback).
fn project(env: &Env, top: &Path, folder: &str, server: &str) -> PathBuf {
    let dir = top.join(folder);
    ok(luaenv_in(env, top).arg("init").arg(&dir).args(["--lua", "5.4.7"]));
    ok(luaenv_in(env, &dir).args(["rocks", "add-server", server, "--name", "team", "--project"]));
    ok(luaenv_in(env, &dir).args(["rocks", "remove-server", "luarocks.org", "--project"]));
    dir
}

fn served_rocks(world: &World, rocks: &[&Rock]) -> (tempfile::TempDir, Server) {
    served_rocks_with_auth(world, rocks, None)
}

fn served_rocks_with_auth(world: &World, rocks: &[&Rock], auth: Option<&str>) -> (tempfile::TempDir, Server) {
    let served = tempfile::tempdir().unwrap();
    // Packed from a server without credentials (LuaRocks' `pack` fetches the source), then
    // served behind them.
    let server = Server::serve(served.path());
    let packer = world.view();
    for rock in rocks {
        pack_rock(&tool(&packer, "luarocks"), served.path(), &server.url, rock);
    }
    make_manifest(&packer, served.path());
    match auth {
        None => (served, server),
        Some(auth) => {
            drop(server);
            let server = Server::serve_with_auth(served.path(), Some(auth));
            (served, server)
        }
    }
}

#[test]
fn rocks_are_locked_with_their_sums_and_a_fresh_copy_gets_exactly_the_locked_bytes() {
    let world = world_or_skip!("rocks_are_locked_with_their_sums_and_a_fresh_copy_gets_exactly_the_locked_bytes");
    let (served, server) = served_rocks(world, &[&PURE_1_0, &C_ROCK]);
    let env = world.view();
    let top = tempfile::tempdir().unwrap();
    let dir = project(&env, top.path(), "App Dir", &server.url);

    // init wrote the project's rockspec, with which `luarocks make` works (and a sync leaves
    // alone the project's own rock it installs, as any rock installed by hand).
    let spec_path = dir.join("app-dir-dev-1.rockspec");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    assert!(spec.contains("package = \"app-dir\"") && spec.contains("\"lua >= 5.4\""), "{spec}");
    ok(Command::new(dir.join(".luaenv/bin/luarocks")).arg("make").arg(&spec_path).current_dir(&dir));
    assert_eq!(installed(&dir), ["app-dir dev-1"]);
    // The user's own comments in the dependencies table.
    std::fs::write(&spec_path, spec.replace("   \"lua >= 5.4\",\n", "   \"lua >= 5.4\", -- the interpreter\n   -- rocks below\n")).unwrap();

    // add: edits the rockspec (comments kept), resolves, locks with sums, installs.
    ok(luaenv_in(&env, &dir).args(["add", "purehello", ">= 1.0"]));
    ok(luaenv_in(&env, &dir).args(["add", "chello"]));
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    assert!(spec.contains("   \"lua >= 5.4\", -- the interpreter\n   -- rocks below\n   \"purehello >= 1.0\",\n   \"chello\",\n}"), "{spec}");
    assert_eq!(locked(&dir), [("chello".into(), "1.0-1".into()), ("purehello".into(), "1.0-1".into())]);
    let lock = lock_of(&dir);
    for rock in lock["rocks"].as_array().unwrap() {
        let file = rock["file"].as_str().unwrap();
        assert_eq!(rock["url"].as_str().unwrap(), format!("{}/{file}", server.url));
        assert_eq!(rock["sha256"].as_str().unwrap(), sha256(&served.path().join(file)), "{file}");
    }
    assert_eq!(lock["rocks"][0]["dependencies"][0].as_str(), Some("purehello >= 1.0"));
    assert_eq!(installed(&dir), ["app-dir dev-1", "chello 1.0-1", "purehello 1.0-1"]);
    assert_eq!(lua(&dir, "print(require('purehello').version, require('chello').twice(21))"), "1.0\t42.0");

    // A second init keeps the locked rocks and the rockspec.
    ok(luaenv_in(&env, &dir).args(["init", "--lua", "5.4.7"]));
    assert_eq!(locked(&dir), [("chello".into(), "1.0-1".into()), ("purehello".into(), "1.0-1".into())]);
    assert_eq!(std::fs::read_to_string(&spec_path).unwrap(), spec);

    // A warm sync with nothing to do asks the server nothing and changes nothing.
    let before = (server.requests(), std::fs::read(dir.join("luaenv.lock")).unwrap());
    let out = run(luaenv_in(&env, &dir).arg("sync"));
    assert!(out.status.success() && !stderr(&out).contains("installed rock"), "{}", stderr(&out));
    assert_eq!((server.requests(), std::fs::read(dir.join("luaenv.lock")).unwrap()), before);

    // The server gains a newer purehello; a fresh copy still gets exactly the locked set.
    pack_rock(&tool(&env, "luarocks"), served.path(), &server.url, &PURE_1_1);
    make_manifest(&env, served.path());
    let fresh = world.view();
    let copy = top.path().join("copy");
    copy_tracked(&dir, &copy);
    assert!(!copy.join("lua_modules").exists() && copy.join("app-dir-dev-1.rockspec").is_file());
    ok(luaenv_in(&fresh, &copy).arg("sync"));
    assert_eq!(installed(&copy), ["chello 1.0-1", "purehello 1.0-1"]);
    assert_eq!(std::fs::read(copy.join("luaenv.lock")).unwrap(), before.1, "the lock is not rewritten");
    assert_eq!(lua(&copy, "print(require('purehello').version, require('chello').twice(2))"), "1.0\t4.0");

    // The server's bytes of a locked rock change: a sync with an empty cache refuses them,
    // naming the rock and both sums, and installs nothing.
    let locked_sum = sha256(&served.path().join("purehello-1.0-1.src.rock"));
    let mirror = top.path().join("mirror");
    std::fs::create_dir_all(&mirror).unwrap();
    std::fs::rename(served.path().join("purehello-1.0-1.src.rock"), mirror.join("purehello-1.0-1.src.rock")).unwrap();
    let evil = Rock { source: "os.exit(3)\n", ..PURE_1_0 };
    pack_rock(&tool(&env, "luarocks"), served.path(), &server.url, &evil);
    make_manifest(&env, served.path());
    let evil_sum = sha256(&served.path().join("purehello-1.0-1.src.rock"));
    assert_ne!(evil_sum, locked_sum);
    let third = world.view();
    let copy2 = top.path().join("copy2");
    copy_tracked(&dir, &copy2);
    let line = fails(luaenv_in(&third, &copy2).arg("sync"), 1, "purehello 1.0-1");
    assert!(line.contains(&locked_sum) && line.contains(&evil_sum), "{line}");
    assert!(installed(&copy2).is_empty(), "nothing installed: {:?}", installed(&copy2));
    assert_eq!(std::fs::read(copy2.join("luaenv.lock")).unwrap(), before.1);
    // A mirror holding the locked bytes is asked first, by file name; the rest comes from the server.
    ok(luaenv_in(&third, &copy2).arg("sync").arg("--mirror").arg(&mirror));
    assert_eq!(installed(&copy2), ["chello 1.0-1", "purehello 1.0-1"]);
    assert_eq!(lua(&copy2, "print(require('purehello').version)"), "1.0");

    // --locked: a rockspec the lock does not meet fails, changing nothing.
    let edited = spec.replace("\"purehello >= 1.0\"", "\"purehello >= 1.1\"");
    std::fs::write(&spec_path, &edited).unwrap();
    fails(luaenv_in(&env, &dir).args(["sync", "--locked"]), 2, "purehello >= 1.1");
    assert_eq!(std::fs::read(dir.join("luaenv.lock")).unwrap(), before.1);
    std::fs::write(&spec_path, &spec).unwrap();
    ok(luaenv_in(&env, &dir).args(["sync", "--locked"]));

    // --upgrade takes the new release.
    ok(luaenv_in(&env, &dir).args(["sync", "--upgrade", "purehello"]));
    assert_eq!(locked(&dir), [("chello".into(), "1.0-1".into()), ("purehello".into(), "1.1-1".into())]);
    assert_eq!(installed(&dir), ["app-dir dev-1", "chello 1.0-1", "purehello 1.1-1"]);
    assert_eq!(lua(&dir, "print(require('purehello').version)"), "1.1");

    // remove: out of the rockspec (comments kept), the lock and the tree.
    ok(luaenv_in(&env, &dir).args(["remove", "chello"]));
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    assert!(spec.contains("   -- rocks below\n   \"purehello >= 1.0\",\n}") && !spec.contains("chello"), "{spec}");
    assert_eq!(locked(&dir), [("purehello".into(), "1.1-1".into())]);
    assert_eq!(installed(&dir), ["app-dir dev-1", "purehello 1.1-1"]);
}

#[test]
fn bad_rockspecs_unknown_rocks_and_hand_edited_locks_are_refused_changing_nothing() {
    let world = world_or_skip!("bad_rockspecs_unknown_rocks_and_hand_edited_locks_are_refused_changing_nothing");
    let (_served, server) = served_rocks(world, &[&PURE_1_0]);
    let env = world.view();
    let top = tempfile::tempdir().unwrap();
    let dir = project(&env, top.path(), "bad", &server.url);
    let spec_path = dir.join("bad-dev-1.rockspec");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    let lock = std::fs::read(dir.join("luaenv.lock")).unwrap();

    // A dependency no server has: the rockspec keeps its bytes.
    fails(luaenv_in(&env, &dir).args(["add", "nosuchrock"]), 2, "no rocks server of the project has a release of nosuchrock");
    fails(luaenv_in(&env, &dir).args(["add", "purehello", ">= 9"]), 2, "purehello that fits 'purehello >= 9'");
    assert_eq!(std::fs::read_to_string(&spec_path).unwrap(), spec);
    assert_eq!(std::fs::read(dir.join("luaenv.lock")).unwrap(), lock);
    fails(luaenv_in(&env, &dir).args(["add", "purehello", "banana"]), 2, "not a version constraint");
    fails(luaenv_in(&env, &dir).args(["remove", "purehello"]), 2, "does not depend on 'purehello'");

    // A rockspec or a lock that is binary, or too big to be one: bad input (exit 2), naming the file.
    let lock_path = dir.join("luaenv.lock");
    std::fs::write(&spec_path, b"\xff\xfe\x00rock").unwrap();
    fails(luaenv_in(&env, &dir).arg("sync"), 2, "bad-dev-1.rockspec cannot be read as a rockspec (it is not UTF-8 text)");
    std::fs::write(&spec_path, "-- x\n".repeat(1 << 20)).unwrap();
    fails(luaenv_in(&env, &dir).arg("sync"), 2, "bad-dev-1.rockspec cannot be read as a rockspec (larger than");
    std::fs::write(&spec_path, &spec).unwrap();
    std::fs::write(&lock_path, b"\xff\xfe\x00lock").unwrap();
    let said = fails(luaenv_in(&env, &dir).arg("sync"), 2, "luaenv.lock is not a valid luaenv lock file (it is not UTF-8 text); restore it from version control or run `luaenv init`");
    assert!(!said.contains("echo"), "{said}");
    std::fs::write(&lock_path, "# x\n".repeat(1 << 19)).unwrap();
    fails(luaenv_in(&env, &dir).arg("sync"), 2, "luaenv.lock is not a valid luaenv lock file (larger than");
    std::fs::write(&lock_path, &lock).unwrap();
    assert!(installed(&dir).is_empty());

    // A rockspec that does not parse: one line naming it, nothing installed or written.
    std::fs::write(&spec_path, "package = \"bad\"\ndependencies = {\n   \"purehello\",\n").unwrap();
    fails(luaenv_in(&env, &dir).arg("sync"), 2, "bad-dev-1.rockspec cannot be read as a rockspec");
    fails(luaenv_in(&env, &dir).args(["add", "purehello"]), 2, "never closed");
    assert!(installed(&dir).is_empty());
    assert_eq!(std::fs::read(dir.join("luaenv.lock")).unwrap(), lock);

    // A lock entry edited by hand to name a local path: refused before anything happens.
    std::fs::write(&spec_path, &spec).unwrap();
    ok(luaenv_in(&env, &dir).args(["add", "purehello"]));
    let good = std::fs::read_to_string(dir.join("luaenv.lock")).unwrap();
    let url = format!("{}/purehello-1.0-1.src.rock", server.url);
    assert!(good.contains(&url), "{good}");
    std::fs::write(dir.join("luaenv.lock"), good.replace(&url, "/etc/passwd")).unwrap();
    std::fs::remove_dir_all(dir.join("lua_modules")).unwrap();
    fails(luaenv_in(&env, &dir).arg("sync"), 2, "not a valid luaenv lock file");
    assert!(installed(&dir).is_empty());
    // ... and one whose sum was edited: the server's bytes no longer match, exit 1.
    let sum = lock_of(&dir)["rocks"][0]["sha256"].as_str().unwrap().to_string();
    std::fs::write(dir.join("luaenv.lock"), good.replace(&sum, &"0".repeat(64))).unwrap();
    fails(luaenv_in(&env, &dir).arg("sync"), 1, "rock purehello 1.0-1");
    assert!(installed(&dir).is_empty());

    // A folder with two rockspecs: init refuses before writing anything.
    let two = top.path().join("two");
    std::fs::create_dir_all(&two).unwrap();
    for name in ["a-scm-1.rockspec", "b-scm-1.rockspec"] {
        std::fs::write(two.join(name), "package = 'x'\n").unwrap();
    }
    fails(luaenv_in(&env, top.path()).arg("init").arg(&two).args(["--lua", "5.4.7"]), 2, "rockspecs");
    let mut left: Vec<_> = std::fs::read_dir(&two).unwrap().map(|e| e.unwrap().file_name()).collect();
    left.sort();
    assert_eq!(left, ["a-scm-1.rockspec", "b-scm-1.rockspec"], "init wrote files before refusing");

    // init never overwrites a project's own rockspec, nor adds a second one.
    let mine = top.path().join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    let own = "-- mine\npackage = 'mine'\nversion = '1.0-1'\n";
    std::fs::write(mine.join("mine-1.0-1.rockspec"), own).unwrap();
    ok(luaenv_in(&env, top.path()).arg("init").arg(&mine).args(["--lua", "5.4.7"]));
    assert_eq!(std::fs::read_to_string(mine.join("mine-1.0-1.rockspec")).unwrap(), own);
    assert!(!mine.join("mine-dev-1.rockspec").exists());
}

#[test]
fn rocks_from_a_server_that_demands_credentials_are_locked_without_them() {
    let world = world_or_skip!("rocks_from_a_server_that_demands_credentials_are_locked_without_them");
    const SECRET: &str = "l0ck-Pw_77";
    let (_served, server) = served_rocks_with_auth(world, &[&PURE_1_0], Some(&format!("bob:{SECRET}")));
    let env = world.view();
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("auth");
    ok(luaenv_in(&env, top.path()).arg("init").arg(&dir).args(["--lua", "5.4.7"]));
    let mut add_server = luaenv_in(&env, &dir);
    add_server.args(["rocks", "add-server", &server.url, "--name", "corp", "--project", "--user", "bob", "--password-stdin"]).stdin(std::process::Stdio::piped());
    let mut child = add_server.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), format!("{SECRET}\n").as_bytes()).unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    ok(luaenv_in(&env, &dir).args(["rocks", "remove-server", "luarocks.org", "--project"]));

    // LuaRocks lists the server through the credential wrappers; luaenv downloads with them.
    let out = run(luaenv_in(&env, &dir).args(["add", "purehello"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains(SECRET) && !String::from_utf8_lossy(&out.stdout).contains(SECRET));
    let lock = std::fs::read_to_string(dir.join("luaenv.lock")).unwrap();
    assert!(lock.contains(&format!("url = \"{}/purehello-1.0-1.src.rock\"", server.url)) && !lock.contains(SECRET) && !lock.contains("bob@"), "{lock}");
    assert_eq!(lua(&dir, "print(require('purehello').version)"), "1.0");
    assert!(server.paths.lock().unwrap().iter().any(|p| p == "/purehello-1.0-1.src.rock"));
}

/// A sync interrupted while LuaRocks installs a rock says so, and the next sync finishes: it
/// clears the lock LuaRocks left (`lockfile.lfs`) and a rock folder without its
/// `rock_manifest`, which would otherwise fail every later sync.
#[test]
fn a_sync_interrupted_while_luarocks_installs_is_finished_by_the_next_sync() {
    let world = world_or_skip!("a_sync_interrupted_while_luarocks_installs_is_finished_by_the_next_sync");
    let (_served, server) = served_rocks(world, &[&PURE_1_0]);
    let env = world.view();
    let top = tempfile::tempdir().unwrap();
    let dir = project(&env, top.path(), "stopped", &server.url);
    ok(luaenv_in(&env, &dir).args(["add", "purehello"]));
    let fresh = top.path().join("fresh");
    copy_tracked(&dir, &fresh);

    // A real interruption: Ctrl-C (SIGINT to the process group) while LuaRocks holds its lock.
    use std::os::unix::process::CommandExt as _;
    let mut sync = luaenv_in(&env, &fresh);
    sync.arg("sync").process_group(0).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
    let mut child = sync.spawn().unwrap();
    let lfs_lock = fresh.join("lua_modules/lockfile.lfs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while lfs_lock.symlink_metadata().is_err() && std::time::Instant::now() < deadline && child.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    let caught = lfs_lock.symlink_metadata().is_ok();
    // To its own process group only, and only while it runs (a reaped pid can be reused).
    if child.try_wait().unwrap().is_none() {
        // SAFETY: kill(2) with a negative pid signals that process group and touches no memory.
        unsafe { libc::kill(-(child.id() as i32), libc::SIGINT) };
    }
    let out = child.wait_with_output().unwrap();
    if caught {
        assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
        assert!(stderr(&out).contains("luaenv: interrupted; run `luaenv sync` to finish"), "{}", stderr(&out));
    }
    // What an interrupted LuaRocks leaves, for certain (the kill above may land a little later).
    std::fs::remove_file(&lfs_lock).ok();
    std::os::unix::fs::symlink("lock", &lfs_lock).unwrap();
    let half = fresh.join("lua_modules/lib/luarocks/rocks-5.4/purehello/1.0-1");
    std::fs::create_dir_all(&half).unwrap();
    std::fs::remove_file(half.join("rock_manifest")).ok();

    let out = run(luaenv_in(&env, &fresh).arg("sync"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("which an interrupted LuaRocks left"), "{}", stderr(&out));
    assert_eq!(installed(&fresh), ["purehello 1.0-1"]);
    assert_eq!(lua(&fresh, "print(require('purehello').version)").trim(), "1.0");
    assert!(lfs_lock.symlink_metadata().is_err(), "LuaRocks' lock is still there");
}
