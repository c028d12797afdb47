//! Project sandboxes: `luaenv init`, rocks in the project's own tree, the shims and the
//! activate scripts applying the sandbox, `--project` servers, and `luaenv sync` in a fresh clone.

use std::path::Path;
use std::process::Command;

use crate::rocks::{write_rock, write_rock_with};
use crate::support::{Env, Server, fails, fixtures_or_skip, ok, run, stderr, stdout, world_or_skip};

/// `lua -e <code>` through the global shim, run in `dir`; (success, stdout).
fn lua_in(env: &Env, dir: &Path, code: &str) -> (bool, String) {
    let mut cmd = Command::new(env.root().join("shims/lua"));
    env.apply(&mut cmd);
    let out = run(cmd.args(["-e", code]).current_dir(dir));
    (out.status.success(), String::from_utf8_lossy(&out.stdout).trim().to_string())
}

const FOUND: &str = "local function has(m) return (pcall(require, m)) end print(has('projrock'), has('elsewhere'), has('util'))";

#[test]
fn a_project_sees_its_own_rocks_and_modules_and_nothing_installed_elsewhere() {
    // Rocks go into this version's own tree too, so the test installs its own 5.4.7.
    let fixtures = fixtures_or_skip!("a_project_sees_its_own_rocks_and_modules_and_nothing_installed_elsewhere");
    let env = &crate::support::env_with(&fixtures, &["5.4.7"]);
    let top = tempfile::tempdir().unwrap();
    // A space in the path: every generated script must quote it. (Not a quote: LuaRocks
    // 3.8's own command wrappers break on one.)
    let project = top.path().join("my proj");
    let luaenv_in = |dir: &Path| {
        let mut c = env.luaenv();
        c.current_dir(dir);
        c
    };
    let printed = ok(luaenv_in(top.path()).args(["init"]).arg(&project).args(["--lua", "5.4.7"]));
    assert_eq!(printed.trim(), project.display().to_string());
    assert_eq!(std::fs::read_to_string(project.join(".lua-version")).unwrap(), "5.4.7\n");
    for generated in ["lua_modules", ".luaenv/bin/lua", ".luaenv/bin/luac", ".luaenv/bin/luarocks", ".luaenv/luarocks-config.lua", ".luaenv/activate", ".luaenv/activate.fish", ".luaenv/activate.ps1"] {
        assert!(project.join(generated).exists(), "{generated}");
    }
    assert_eq!(std::fs::read_to_string(project.join(".luaenv/.gitignore")).unwrap().lines().last(), Some("*"));
    let lock: toml::Value = toml::from_str(&std::fs::read_to_string(project.join("luaenv.lock")).unwrap()).unwrap();
    assert_eq!(lock["lua"]["name"].as_str(), Some("5.4.7"));
    assert_eq!(lock["lua"]["url"].as_str(), Some("https://www.lua.org/ftp/lua-5.4.7.tar.gz"));
    assert_eq!(lock["lua"]["sha256"].as_str(), Some("9fbf5e28ef86c69858f6d3d34eccc32e911c1a28b4120ff3e84aaa70cfbf1e30"));
    assert_eq!(lock["luarocks"]["version"].as_str(), Some("3.8.0"));

    // A rocks server for the project alone.
    let served = tempfile::tempdir().unwrap();
    let server = Server::serve(served.path());
    write_rock_with(served.path(), &server.url, "projrock", "projrock.lua", "return 'project'\n", true);
    write_rock(served.path(), &server.url, "elsewhere", "elsewhere.lua", "return 'elsewhere'\n");
    let mut admin = Command::new(env.prefix("5.4.7").join("bin/luarocks-admin"));
    env.apply(&mut admin);
    ok(admin.arg("make-manifest").arg(served.path()));
    ok(luaenv_in(&project).args(["rocks", "add-server", &server.url, "--name", "team", "--project"]));
    // Nothing leaves loopback: the project drops luarocks.org.
    ok(luaenv_in(&project).args(["rocks", "remove-server", "luarocks.org", "--project"]));
    assert_eq!(ok(luaenv_in(&project).args(["rocks", "servers"])), format!("team\t{}\n", server.url));
    let lock: toml::Value = toml::from_str(&std::fs::read_to_string(project.join("luaenv.lock")).unwrap()).unwrap();
    assert_eq!(lock["rocks_servers"][0]["url"].as_str(), Some(server.url.as_str()));
    assert!(!std::fs::read_to_string(env.prefix("5.4.7").join("etc/luarocks/config-5.4.lua")).unwrap().contains(&server.url), "the version's config is untouched");

    // `luarocks` through the global shim, inside the project: the rock lands in lua_modules.
    let mut install = Command::new(env.root().join("shims/luarocks"));
    env.apply(&mut install);
    let out = run(install.args(["install", "projrock"]).current_dir(&project));
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(project.join("lua_modules/share/lua/5.4/projrock.lua").is_file());
    assert!(!env.prefix("5.4.7").join("share/lua/5.4/projrock.lua").exists());
    // The same version outside the project installs into its own tree.
    let outside = top.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join(".lua-version"), "5.4.7\n").unwrap();
    let mut elsewhere = Command::new(env.root().join("shims/luarocks"));
    env.apply(&mut elsewhere);
    let out = run(elsewhere.args(["install", "--only-server", &server.url, "elsewhere"]).current_dir(&outside));
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    std::fs::write(project.join("util.lua"), "return 'util'\n").unwrap();
    std::fs::create_dir_all(project.join("sub")).unwrap();

    // The project's own modules and tree, from any of its folders; not the rock installed elsewhere.
    assert_eq!(lua_in(env, &project, FOUND), (true, "true\tfalse\ttrue".into()));
    assert_eq!(lua_in(env, &project.join("sub"), FOUND), (true, "true\tfalse\ttrue".into()));
    assert_eq!(lua_in(env, &outside, FOUND), (true, "false\ttrue\tfalse".into()));
    // The generated wrappers, `luaenv exec` and the activate scripts give the same sandbox.
    let wrapper = ok(Command::new(project.join(".luaenv/bin/lua")).args(["-e", FOUND]).current_dir(&outside).env_remove("LUA_PATH"));
    assert_eq!(wrapper.trim(), "true\tfalse\ttrue");
    assert_eq!(ok(luaenv_in(&project.join("sub")).args(["exec", "lua", "-e", FOUND])).trim(), "true\tfalse\ttrue");
    let script = format!(
        ". ./.luaenv/activate && lua -e \"{FOUND}\" && command -v luarocks && deactivate && echo \"after:${{LUA_PATH-unset}}\" && declare -F deactivate || echo left"
    );
    let mut bash = Command::new("bash");
    env.apply(&mut bash);
    let said = ok(bash.args(["--norc", "-c", &script]).current_dir(&project).env("PATH", std::env::var("PATH").unwrap()));
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines, vec!["true\tfalse\ttrue", &project.join(".luaenv/bin/luarocks").display().to_string(), "after:unset", "left"]);
    // The rock's command, from lua_modules/bin: a shim made when luarocks installed it, which
    // runs it inside the project only; `luaenv exec`; and on PATH once activated.
    assert!(project.join("lua_modules/bin/projrock-say").is_file());
    let say = || {
        let mut c = Command::new(env.root().join("shims/projrock-say"));
        env.apply(&mut c);
        c
    };
    assert_eq!(ok(say().current_dir(project.join("sub"))).trim(), "project");
    let out = run(say().current_dir(&outside));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("luaenv: projrock-say: no installed version has this command"), "{}", stderr(&out));
    assert_eq!(ok(luaenv_in(&project.join("sub")).args(["exec", "projrock-say"])).trim(), "project");
    let mut zsh = Command::new("zsh");
    env.apply(&mut zsh);
    let said = ok(zsh.args(["-f", "-c", &format!(". ./.luaenv/activate && projrock-say && lua -e \"{FOUND}\" && deactivate && echo \"after:${{LUA_PATH-unset}}\"")]).current_dir(&project));
    assert_eq!(said, "project\ntrue\tfalse\ttrue\nafter:unset\n");
    let mut fish = Command::new("fish");
    env.apply(&mut fish);
    let said = ok(fish.args(["--no-config", "-c", &format!("source .luaenv/activate.fish; and lua -e \"{FOUND}\"; and deactivate; and set -q LUA_PATH; or echo unset")]).current_dir(&project));
    assert_eq!(said, "true\tfalse\ttrue\nunset\n");

    // Re-running init keeps the project's servers; bad input.
    ok(luaenv_in(&project).args(["init"]));
    assert!(std::fs::read_to_string(project.join("luaenv.lock")).unwrap().contains(&server.url));
    fails(luaenv_in(&project).args(["init", "--lua", "5.4.99"]), 2, "unknown Lua version '5.4.99'");
    fails(luaenv_in(top.path()).args(["rocks", "add-server", &server.url, "--project"]).env("LUAENV_VERSION", "5.4.7"), 2, "not inside a luaenv project");
    let mut nothing = env.luaenv();
    nothing.args(["init"]).arg(top.path().join("fresh")).current_dir(top.path());
    fails(&mut nothing, 2, "no Lua version to pin");
}

#[test]
fn sync_rebuilds_a_fresh_clone_from_the_lock() {
    let fixtures = fixtures_or_skip!("sync_rebuilds_a_fresh_clone_from_the_lock");
    let world = world_or_skip!("sync_rebuilds_a_fresh_clone_from_the_lock");
    // init registers the project in the root: a root of its own over the World's versions.
    let view = world.view();
    ok(view.luaenv().arg("rehash"));
    let top = tempfile::tempdir().unwrap();
    let project = top.path().join("app");
    let mut init = view.luaenv();
    ok(init.args(["init"]).arg(&project).args(["--lua", "5.1.5"]));
    std::fs::write(project.join("main.lua"), "print(_VERSION, require('helper'))\n").unwrap();
    std::fs::write(project.join("helper.lua"), "return 'helped'\n").unwrap();
    let lock = std::fs::read_to_string(project.join("luaenv.lock")).unwrap();

    // A fresh clone on a fresh machine: only the committed files, a new root, a mirror.
    let clone = top.path().join("clone");
    std::fs::create_dir_all(&clone).unwrap();
    for file in [".lua-version", "luaenv.lock", "main.lua", "helper.lua"] {
        std::fs::copy(project.join(file), clone.join(file)).unwrap();
    }
    // Before sync, luarocks refuses rather than fall back to the version's own tree.
    let mut unsynced = Command::new(view.root().join("shims/luarocks"));
    view.apply(&mut unsynced);
    let out = run(unsynced.arg("list").current_dir(&clone));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("luaenv: luarocks: this project's sandbox is not set up"), "{}", stderr(&out));

    let env = Env::new();
    // The lock pins the --rocks-from tarball by file name, never its path: the mirror holds it.
    assert!(lock.contains("url = \"luarocks-3.8.0-dfsg.tar.gz\""), "{lock}");
    let mirror = crate::support::mirror_with_local_files(&fixtures);
    let server = Server::serve(mirror.path());
    let sync = |dir: &Path| {
        let mut c = env.luaenv();
        c.arg("sync").current_dir(dir).env("LUAENV_MIRROR", &server.url);
        c
    };
    fails(&mut sync(top.path()), 2, "not inside a luaenv project");
    // A lock whose LuaRocks sum is wrong installs nothing.
    let tampered = lock.replace("86c0a1691ba617793e5d4788346a74980441a233ff978cf964547a169a5aa001", &"0".repeat(64));
    assert_ne!(tampered, lock);
    std::fs::write(clone.join("luaenv.lock"), &tampered).unwrap();
    fails(&mut sync(&clone), 1, "checksum");
    assert!(env.versions_entries().is_empty(), "{:?}", env.versions_entries());
    std::fs::write(clone.join("luaenv.lock"), "[lua\nname = 5").unwrap();
    fails(&mut sync(&clone), 2, "not a valid luaenv lock file");

    std::fs::write(clone.join("luaenv.lock"), &lock).unwrap();
    ok(&mut sync(&clone));
    assert_eq!(std::fs::read_to_string(clone.join("luaenv.lock")).unwrap(), lock, "sync leaves the lock as it was");
    let receipt: serde_json::Value = serde_json::from_slice(&std::fs::read(env.prefix("5.1.5").join("luaenv-receipt.json")).unwrap()).unwrap();
    assert_eq!(receipt["luarocks"]["sha256"], "86c0a1691ba617793e5d4788346a74980441a233ff978cf964547a169a5aa001");
    let said = ok(Command::new(clone.join(".luaenv/bin/lua")).arg("main.lua").current_dir(&clone));
    assert_eq!(said.trim(), "Lua 5.1\thelped");
    let mut via_shim = Command::new(env.root().join("shims/lua"));
    env.apply(&mut via_shim);
    assert_eq!(ok(via_shim.arg("main.lua").current_dir(&clone)).trim(), "Lua 5.1\thelped");
    // A second sync has nothing to fetch.
    let before = server.requests();
    ok(&mut sync(&clone));
    assert_eq!(server.requests(), before);
}

/// A tool run with the view's variables in `dir`.
fn tool_in(env: &Env, program: &Path, dir: &Path) -> Command {
    let mut c = Command::new(program);
    env.apply(&mut c);
    c.current_dir(dir);
    c
}

const OWN: &str = "print(require('fromsrc'), require('srcpkg'), require('rootmod'), (pcall(require, 'movable')))";

#[test]
fn src_and_root_modules_load_and_a_moved_or_copied_project_uses_its_own_tree() {
    let fixtures = fixtures_or_skip!("src_and_root_modules_load_and_a_moved_or_copied_project_uses_its_own_tree");
    let world = world_or_skip!("src_and_root_modules_load_and_a_moved_or_copied_project_uses_its_own_tree");
    let _ = fixtures;
    // Rocks go into the project's tree only: the World's 5.4.7 is read, never written.
    let env = &world.view();
    ok(env.luaenv().arg("rehash"));
    let top = tempfile::tempdir().unwrap();
    let project = top.path().join("proj");
    ok(env.luaenv().args(["init"]).arg(&project).args(["--lua", "5.4.7"]).current_dir(top.path()));
    std::fs::create_dir_all(project.join("src/srcpkg")).unwrap();
    std::fs::write(project.join("src/fromsrc.lua"), "return 'src'\n").unwrap();
    std::fs::write(project.join("src/srcpkg/init.lua"), "return 'srcpkg'\n").unwrap();
    std::fs::write(project.join("rootmod.lua"), "return 'root'\n").unwrap();

    let served = tempfile::tempdir().unwrap();
    let server = Server::serve(served.path());
    write_rock_with(served.path(), &server.url, "movable", "movable.lua", "return 'movable'\n", true);
    ok(tool_in(env, &env.prefix("5.4.7").join("bin/luarocks-admin"), top.path()).arg("make-manifest").arg(served.path()));
    ok(env.luaenv().args(["rocks", "add-server", &server.url, "--name", "team", "--project"]).current_dir(&project));
    ok(env.luaenv().args(["rocks", "remove-server", "luarocks.org", "--project"]).current_dir(&project));
    ok(tool_in(env, &env.root().join("shims/luarocks"), &project).args(["install", "movable"]));
    let wrapper = std::fs::read_to_string(project.join("lua_modules/bin/movable-say")).unwrap();
    assert!(wrapper.contains("LUAENV_TREE") && !wrapper.contains(&project.display().to_string()), "{wrapper}");

    // src/ (a module, a package's init.lua) and the root's modules, through the shim, the
    // generated wrapper and `luaenv exec`, from a subfolder too.
    let expected = "src\tsrcpkg\troot\ttrue";
    std::fs::create_dir_all(project.join("sub")).unwrap();
    assert_eq!(lua_in(env, &project.join("sub"), OWN), (true, expected.into()));
    assert_eq!(ok(Command::new(project.join(".luaenv/bin/lua")).args(["-e", OWN]).current_dir(top.path()).env_remove("LUA_PATH")).trim(), expected);
    assert_eq!(ok(env.luaenv().args(["exec", "lua", "-e", OWN]).current_dir(&project)).trim(), expected);

    // A copy: `luarocks remove` there acts on the copy's tree; the original keeps its rock.
    let copy = top.path().join("copy");
    ok(Command::new("cp").arg("-a").arg(&project).arg(&copy));
    ok(tool_in(env, &env.root().join("shims/luarocks"), &copy).args(["remove", "movable"]));
    assert!(!copy.join("lua_modules/share/lua/5.4/movable.lua").exists());
    assert!(project.join("lua_modules/share/lua/5.4/movable.lua").is_file(), "the original is untouched");
    assert_eq!(lua_in(env, &copy, OWN), (true, "src\tsrcpkg\troot\tfalse".into()));

    // A move: the old folder is gone, everything works from the new one.
    let moved = top.path().join("moved here");
    std::fs::rename(&project, &moved).unwrap();
    assert_eq!(lua_in(env, &moved, OWN), (true, expected.into()));
    assert_eq!(ok(Command::new(moved.join(".luaenv/bin/lua")).args(["-e", OWN]).current_dir(top.path())).trim(), expected);
    assert_eq!(ok(&mut tool_in(env, &env.root().join("shims/movable-say"), &moved)).trim(), "movable");
    assert_eq!(ok(&mut Command::new(moved.join("lua_modules/bin/movable-say"))).trim(), "movable", "the rock's own command, run directly");
    ok(tool_in(env, &env.root().join("shims/luarocks"), &moved).args(["remove", "movable"]));
    assert!(!moved.join("lua_modules/share/lua/5.4/movable.lua").exists());
    ok(tool_in(env, &moved.join(".luaenv/bin/luarocks"), top.path()).args(["install", "movable"]));
    assert!(moved.join("lua_modules/share/lua/5.4/movable.lua").is_file(), "installs go to the moved project's own tree");
    // `luaenv exec` notices the move and regenerates the sandbox: the activate script too.
    let activate = std::fs::read_to_string(moved.join(".luaenv/activate")).unwrap();
    assert!(!activate.contains(&moved.display().to_string()), "made for the old folder");
    let out = run(env.luaenv().args(["exec", "lua", "-e", OWN]).current_dir(&moved));
    assert_eq!((String::from_utf8_lossy(&out.stdout).trim(), out.status.success()), (expected, true));
    assert!(stderr(&out).contains("regenerated its sandbox"), "{}", stderr(&out));
    let mut bash = Command::new("bash");
    env.apply(&mut bash);
    let said = ok(bash.args(["--norc", "-c", &format!(". ./.luaenv/activate && lua -e \"{OWN}\"")]).current_dir(&moved).env("PATH", std::env::var("PATH").unwrap()));
    assert_eq!(said.trim(), expected);
    let doctor = run(env.luaenv().arg("doctor").current_dir(&moved));
    assert!(doctor.status.success() && stdout(&doctor).contains("sandbox in place"), "{}", stdout(&doctor));
    assert!(!project.exists(), "nothing recreated the old folder");
    assert!(!copy.join("lua_modules/share/lua/5.4/movable.lua").exists());
}
