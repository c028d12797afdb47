//! Offline: `--offline` / `LUAENV_OFFLINE=1` contact nothing but the mirror; `luaenv bundle`
//! writes a kit from which `sync --offline --mirror <kit>` rebuilds a fresh copy of a project
//! inside a network namespace with no network at all; generated folders stay out of git.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::rocks::write_rock_with;
use crate::support::{Env, Server, fails, fixtures_or_skip, ok, run, stderr, world_or_skip};

#[test]
fn install_offline_contacts_nothing_but_the_mirror() {
    let env = Env::new();
    let empty = tempfile::tempdir().unwrap();
    let server = Server::serve(empty.path());
    // Every upstream request goes through this proxy, which counts it: a request that left
    // luaenv would show here.
    let through_proxy = |c: &mut Command| {
        c.env("HTTPS_PROXY", &server.url).env("HTTP_PROXY", &server.url).env("https_proxy", &server.url).env("http_proxy", &server.url).env_remove("NO_PROXY").env_remove("no_proxy");
    };
    let mut offline = env.luaenv();
    through_proxy(&mut offline);
    fails(offline.args(["install", "5.4.7", "--offline"]), 2, "luaenv is offline");
    let mut by_variable = env.luaenv();
    through_proxy(&mut by_variable);
    let line = fails(by_variable.args(["install", "5.4.7", "--no-rocks"]).env("LUAENV_OFFLINE", "1"), 2, "luaenv is offline");
    assert!(line.contains("lua-5.4.7.tar.gz") && line.contains("--mirror <kit>"), "{line}");
    // A source URL that is not the mirror is refused too, before any connection.
    let from = format!("{}/lua-5.4.7.tar.gz", server.url);
    fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--offline", "--from", &from]), 2, "luaenv is offline");
    assert_eq!(server.requests(), 0, "offline, nothing was contacted");
    assert!(env.versions_entries().is_empty());

    // The mirror itself may be reached (this one does not have the file).
    let out = run(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--offline", "--mirror", &server.url]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("404"), "{}", stderr(&out));
    let reached = server.requests();
    assert!(reached > 0);
    // And without --offline the same install does go out, through the proxy: the count above
    // is a real witness.
    let mut online = env.luaenv();
    through_proxy(&mut online);
    let out = run(online.args(["install", "5.4.7", "--no-rocks"]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(server.requests() > reached, "{}", stderr(&out));
}

/// Runs `cmd` inside a new network namespace (no interface but a down loopback), or `None`
/// after a skip line when that is not possible here (not root, no `unshare`). Under
/// LUAENV_REQUIRE_FIXTURES=1 as root (CI), it must be possible.
fn without_network(test: &str) -> Option<()> {
    let works = Command::new("unshare").args(["-n", "true"]).status().is_ok_and(|s| s.success());
    if works {
        return Some(());
    }
    let root = run(Command::new("id").arg("-u")).stdout == b"0\n";
    assert!(!(root && std::env::var("LUAENV_REQUIRE_FIXTURES").as_deref() == Ok("1")), "{test}: `unshare -n` fails as root");
    println!("skipped {test}: `unshare -n` is not available here (needs root)");
    None
}

/// `program args…` as a command run by `unshare -n`, with the Env's variables.
fn unshared(env: &Env, program: &Path, dir: &Path) -> Command {
    let mut c = Command::new("unshare");
    env.apply(&mut c);
    c.arg("-n").arg(program).current_dir(dir);
    c
}

fn git(dir: &Path, args: &[&str]) -> String {
    ok(Command::new("git").args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]).args(args).current_dir(dir))
}

/// What `git status --porcelain --ignored` says of the generated folders: they must show as
/// ignored (`!!`), never as untracked.
fn assert_ignored_by_git(dir: &Path) {
    let status = git(dir, &["status", "--porcelain", "--ignored"]);
    for folder in ["lua_modules/", ".luaenv/"] {
        assert!(status.lines().any(|l| l == format!("!! {folder}")), "{folder} is not ignored:\n{status}");
        assert!(!status.lines().any(|l| l.starts_with("??") && l[3..].starts_with(folder)), "{folder} shows as untracked:\n{status}");
    }
}

const MAIN: &str = "print(require('fromsrc'), require('rootmod'), require('kitrock'), require('kitc').twice(21))\n";

const C_MODULE: &str = "#include \"lua.h\"\n#include \"lauxlib.h\"\nstatic int twice(lua_State *L) { lua_pushinteger(L, 2 * luaL_checkinteger(L, 1)); return 1; }\n\
int luaopen_kitc(lua_State *L) { lua_newtable(L); lua_pushcfunction(L, twice); lua_setfield(L, -2, \"twice\"); return 1; }\n";

#[test]
fn a_kit_rebuilds_a_fresh_copy_with_no_network() {
    let fixtures = fixtures_or_skip!("a_kit_rebuilds_a_fresh_copy_with_no_network");
    let world = world_or_skip!("a_kit_rebuilds_a_fresh_copy_with_no_network");
    let Some(()) = without_network("a_kit_rebuilds_a_fresh_copy_with_no_network") else { return };
    let view = world.view();
    ok(view.luaenv().arg("rehash"));
    let top = tempfile::tempdir().unwrap();
    let project = top.path().join("app");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join(".gitignore"), "*.o\n# mine\n").unwrap();
    git(&project, &["init", "-q"]);
    ok(view.luaenv().args(["init", ".", "--lua", "5.4.7"]).current_dir(&project));
    let ignore = std::fs::read_to_string(project.join(".gitignore")).unwrap();
    assert!(ignore.starts_with("*.o\n# mine\n") && ignore.contains("\n/lua_modules/\n") && ignore.contains("\n/.luaenv/\n"), "{ignore}");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(project.join("src/fromsrc.lua"), "return 'src'\n").unwrap();
    std::fs::write(project.join("rootmod.lua"), "return 'root'\n").unwrap();
    std::fs::write(project.join("main.lua"), MAIN).unwrap();

    // Two rocks (pure Lua and C) from a loopback rocks server, locked by `luaenv add`.
    let served = tempfile::tempdir().unwrap();
    let rocks = Server::serve(served.path());
    let luarocks = view.prefix("5.4.7").join("bin/luarocks");
    write_rock_with(served.path(), &rocks.url, "kitrock", "kitrock.lua", "return 'rock'\n", false);
    write_rock_with(served.path(), &rocks.url, "kitc", "kitc.c", C_MODULE, false);
    for rock in ["kitrock", "kitc"] {
        let mut pack = Command::new(&luarocks);
        view.apply(&mut pack);
        ok(pack.args(["pack", &format!("{rock}-1.0-1.rockspec")]).current_dir(served.path()));
    }
    let mut admin = Command::new(view.prefix("5.4.7").join("bin/luarocks-admin"));
    view.apply(&mut admin);
    ok(admin.arg("make-manifest").arg(served.path()));
    ok(view.luaenv().args(["rocks", "add-server", &rocks.url, "--name", "team", "--project"]).current_dir(&project));
    ok(view.luaenv().args(["rocks", "remove-server", "luarocks.org", "--project"]).current_dir(&project));
    ok(view.luaenv().args(["add", "kitrock"]).current_dir(&project));
    ok(view.luaenv().args(["add", "kitc"]).current_dir(&project));
    let lock = std::fs::read_to_string(project.join("luaenv.lock")).unwrap();
    assert!(lock.contains("file = \"kitc-1.0-1.src.rock\"") && lock.contains(&sha256_of(&served.path().join("kitrock-1.0-1.src.rock"))), "{lock}");
    assert_ignored_by_git(&project);

    // The kit: Lua from the mirror, LuaRocks from the tarball the prefix was built from, the
    // rocks from the download cache (their server is gone); a rocks manifest and SHA256SUMS.
    drop(rocks);
    let mirror = Server::serve(&fixtures.join("mirror"));
    let kit = top.path().join("kit");
    let printed = ok(view.luaenv().args(["bundle"]).arg(&kit).args(["--mirror", &mirror.url]).current_dir(&project));
    assert_eq!(printed.trim(), kit.display().to_string());
    let mut names: Vec<String> = std::fs::read_dir(&kit).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["SHA256SUMS", "kitc-1.0-1.src.rock", "kitrock-1.0-1.src.rock", "lua-5.4.7.tar.gz", "luarocks-3.8.0-dfsg.tar.gz", "manifest", "manifest-5.4"]);
    let checked = ok(Command::new("sha256sum").args(["-c", "SHA256SUMS"]).current_dir(&kit));
    assert_eq!(checked.lines().filter(|l| l.ends_with(": OK")).count(), 6, "{checked}");
    // The kit is a rocks server LuaRocks itself can search.
    let mut search = Command::new(&luarocks);
    view.apply(&mut search);
    let found = ok(search.args(["search", "--porcelain", "--only-server"]).arg(&kit).arg("kitrock").current_dir(top.path()));
    assert!(found.contains("kitrock\t1.0-1\tsrc"), "{found}");

    // A fresh copy of the tracked files, a new root, an empty cache, and no network at all.
    git(&project, &["add", "-A"]);
    let tracked = git(&project, &["ls-files"]);
    assert!(!tracked.lines().any(|f| f.starts_with("lua_modules/") || f.starts_with(".luaenv/")), "{tracked}");
    let clone = top.path().join("elsewhere/app");
    for file in tracked.lines() {
        std::fs::create_dir_all(clone.join(file).parent().unwrap()).unwrap();
        std::fs::copy(project.join(file), clone.join(file)).unwrap();
    }
    let fresh = Env::new();
    let luaenv: PathBuf = fresh.luaenv().get_program().into();
    let out = run(unshared(&fresh, &luaenv, &clone).args(["sync", "--offline", "--mirror"]).arg(&kit));
    assert!(out.status.success(), "{}", stderr(&out));
    let said = ok(unshared(&fresh, &fresh.root().join("shims/lua"), &clone).arg("main.lua"));
    assert_eq!(said.trim(), "src\troot\trock\t42");
    let said = ok(unshared(&fresh, &clone.join(".luaenv/bin/lua"), top.path()).arg(clone.join("main.lua")));
    assert_eq!(said.trim(), "src\troot\trock\t42");
    git(&clone, &["init", "-q"]);
    assert_ignored_by_git(&clone);
}

#[test]
fn bundle_refuses_bad_requests_and_bytes_that_differ_from_the_lock() {
    let fixtures = fixtures_or_skip!("bundle_refuses_bad_requests_and_bytes_that_differ_from_the_lock");
    let world = world_or_skip!("bundle_refuses_bad_requests_and_bytes_that_differ_from_the_lock");
    let _ = fixtures;
    let view = world.view();
    let top = tempfile::tempdir().unwrap();
    fails(view.luaenv().args(["bundle", "kit"]).current_dir(top.path()), 2, "not inside a luaenv project");
    let project = top.path().join("app");
    ok(view.luaenv().args(["init"]).arg(&project).args(["--lua", "5.1.5"]).current_dir(top.path()));
    std::fs::write(top.path().join("a-file"), "").unwrap();
    fails(view.luaenv().args(["bundle"]).arg(top.path().join("a-file")).current_dir(&project), 2, "is not a folder");

    // The server's bytes of a locked rock changed: refused naming the rock, no kit written.
    let served = tempfile::tempdir().unwrap();
    let rocks = Server::serve(served.path());
    std::fs::write(served.path().join("gone-1.0-1.src.rock"), "other bytes").unwrap();
    lock_rock(&project, "gone", "1.0-1", "gone-1.0-1.src.rock", &format!("{}/gone-1.0-1.src.rock", rocks.url), &"ab".repeat(32));
    let mirror = Server::serve(&fixtures.join("mirror"));
    let kit = top.path().join("kit");
    let line = fails(view.luaenv().args(["bundle"]).arg(&kit).args(["--mirror", &mirror.url]).current_dir(&project), 1, "the rock gone 1.0-1");
    assert!(line.contains(&"ab".repeat(32)), "{line}");
    assert!(!kit.exists(), "nothing was written");
    // Offline, rocks the lock does not hold are not resolved (that asks the rocks servers);
    // the rockspec is left as it was.
    let rockspec = std::fs::read_dir(&project).unwrap().flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "rockspec")).unwrap();
    let before = std::fs::read(&rockspec).unwrap();
    let line = fails(view.luaenv().args(["add", "newrock"]).current_dir(&project).env("LUAENV_OFFLINE", "1"), 2, "luaenv is offline");
    assert!(line.contains("resolved"), "{line}");
    assert_eq!(std::fs::read(&rockspec).unwrap(), before);
    // Offline with a mirror that lacks the rock: one line naming the file and the way out.
    let line = fails(view.luaenv().args(["bundle"]).arg(&kit).args(["--mirror", &mirror.url]).current_dir(&project).env("LUAENV_OFFLINE", "1"), 2, "luaenv is offline");
    assert!(line.contains("gone-1.0-1.src.rock"), "{line}");
}

/// Appends a `[[rocks]]` entry to the project's lock, as `luaenv sync` writes one.
fn lock_rock(project: &Path, name: &str, version: &str, file: &str, url: &str, sha256: &str) {
    let mut lock = std::fs::read_to_string(project.join("luaenv.lock")).unwrap();
    lock.push_str(&format!("\n[[rocks]]\nname = \"{name}\"\nversion = \"{version}\"\nfile = \"{file}\"\nurl = \"{url}\"\nsha256 = \"{sha256}\"\n"));
    std::fs::write(project.join("luaenv.lock"), lock).unwrap();
}

/// The file's sum, as `sha256sum` prints it.
fn sha256_of(file: &Path) -> String {
    ok(Command::new("sha256sum").arg(file)).split_whitespace().next().unwrap().to_string()
}

/// Offline, an install asks no remote build cache (a registry, an https copy): it builds
/// from the mirror instead. Online, the same cache is asked: the listener is a real witness.
#[test]
fn offline_installs_ask_no_remote_build_cache() {
    let fixtures = fixtures_or_skip!("offline_installs_ask_no_remote_build_cache");
    let env = Env::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (count, stop) = (connections.clone(), std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)));
    let halt = stop.clone();
    let watcher = std::thread::spawn(move || {
        while !halt.load(std::sync::atomic::Ordering::Relaxed) {
            match listener.accept() {
                // Accepted and dropped: the client sees the connection close.
                Ok(_) => drop(count.fetch_add(1, std::sync::atomic::Ordering::Relaxed)),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
    });
    let mirror = fixtures.join("mirror");
    let caches = [format!("oci://127.0.0.1:{port}/luaenv/builds"), format!("https://127.0.0.1:{port}/cache")];
    let install = |extra: &[&str]| {
        let mut cmd = env.luaenv();
        cmd.args(["install", "5.4.7", "--no-rocks", "--mirror"]).arg(&mirror).args(extra);
        for cache in &caches {
            cmd.args(["--build-cache", cache]);
        }
        cmd
    };
    let out = run(&mut install(&["--offline"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("offline: not asking the build caches"), "{}", stderr(&out));
    assert_eq!(connections.load(std::sync::atomic::Ordering::Relaxed), 0, "offline, a remote build cache was contacted");
    // Online, the caches are asked (and, answering nothing, give way to the build cache here).
    let out = run(&mut install(&["--force"]));
    assert!(out.status.success(), "{}", stderr(&out));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    watcher.join().unwrap();
    assert!(connections.load(std::sync::atomic::Ordering::Relaxed) > 0, "online, the caches were not asked: {}", stderr(&out));
}

/// A lock that pins LuaRocks by file name only (it was installed from a local tarball) syncs
/// offline on a fresh root from the download cache, which keeps that tarball by its sum.
#[test]
fn a_file_pinned_by_name_only_comes_from_the_download_cache_offline() {
    let fixtures = fixtures_or_skip!("a_file_pinned_by_name_only_comes_from_the_download_cache_offline");
    let first = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let rocks = fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz");
    ok(first.luaenv().args(["install", "5.4.7", "--mirror", &server.url, "--rocks-from"]).arg(&rocks));
    let top = tempfile::tempdir().unwrap();
    let project = top.path().join("p");
    ok(first.luaenv().arg("init").arg(&project).args(["--lua", "5.4.7"]));
    let lock = std::fs::read_to_string(project.join("luaenv.lock")).unwrap();
    assert!(lock.contains("url = \"luarocks-3.8.0-dfsg.tar.gz\""), "{lock}");
    // Synced once from the team's mirror, which holds that file: the download cache keeps it.
    ok(first.luaenv().args(["uninstall", "5.4.7", "--force"]));
    let team_mirror = crate::support::mirror_with_local_files(&fixtures);
    let team = Server::serve(team_mirror.path());
    ok(first.luaenv().arg("sync").current_dir(&project).env("LUAENV_MIRROR", &team.url));
    drop((server, team));

    // A fresh copy of the project (what git tracks), in another root sharing the download
    // cache: nothing to reach, and no mirror.
    let copy = top.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    for file in [".lua-version", "luaenv.lock", "p-dev-1.rockspec"] {
        std::fs::copy(project.join(file), copy.join(file)).unwrap();
    }
    let fresh = Env::new();
    let mut sync = fresh.luaenv();
    sync.env("LUAENV_CACHE_DIR", first.cache()).current_dir(&copy).args(["sync", "--offline"]);
    let out = run(&mut sync);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(fresh.prefix("5.4.7").join("bin/luarocks").is_file(), "no LuaRocks in the fresh root: {}", stderr(&out));
}
