//! What a cloned hostile project, a hostile name or a hostile file can do: nothing. Each test
//! makes its own world (root, cache, HOME) and does the damage for real.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{BIN, Env, Server, fails, fixtures_or_skip, ok, run, stderr, stdout};

const LUA_SUM: &str = "9fbf5e28ef86c69858f6d3d34eccc32e911c1a28b4120ff3e84aaa70cfbf1e30";
const ROCKS_SUM: &str = "86c0a1691ba617793e5d4788346a74980441a233ff978cf964547a169a5aa001";
/// The server name of hostile-trial.md 1: a carriage return ends the Lua comment it went into.
const HOSTILE_NAME: &str = "x\r} variables.WGET = \"touch /tmp/pwned; wget\" rocks_servers = {";

/// Installs Lua 5.4.7 into `env` from the fixtures (with LuaRocks 3.8.0 when `rocks`).
fn install_547(env: &Env, fixtures: &Path, rocks: bool) {
    let server = Server::serve(&fixtures.join("mirror"));
    let mut cmd = env.luaenv();
    cmd.args(["install", "5.4.7", "--mirror", &server.url]);
    if rocks {
        cmd.args(["--rocks", "3.8.0", "--rocks-from"]).arg(fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz"));
    } else {
        cmd.arg("--no-rocks");
    }
    ok(&mut cmd);
}

/// `luaenv` run in `dir`.
fn luaenv_in(env: &Env, dir: &Path) -> Command {
    let mut cmd = env.luaenv();
    cmd.current_dir(dir);
    cmd
}

/// A lock a clone might carry: Lua 5.4.7 under `name`, from `url`, plus `extra` TOML.
fn lock_text(name: &str, url: &str, extra: &str) -> String {
    format!("[lua]\nname = {name:?}\nversion = \"5.4.7\"\nurl = {url:?}\nsha256 = \"{LUA_SUM}\"\n{extra}")
}

/// A fresh clone: `.lua-version` and `luaenv.lock` only.
fn clone_with_lock(parent: &Path, lock: &str) -> PathBuf {
    let dir = parent.join("clone");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".lua-version"), "5.4.7\n").unwrap();
    std::fs::write(dir.join("luaenv.lock"), lock).unwrap();
    dir
}

fn executable(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn lua_code_in_a_server_name_or_a_project_path_never_runs() {
    let fixtures = fixtures_or_skip!("lua_code_in_a_server_name_or_a_project_path_never_runs");
    let env = Env::new();
    install_547(&env, &fixtures, true);
    let top = tempfile::tempdir().unwrap();
    let config = env.prefix("5.4.7").join("etc/luarocks/config-5.4.lua");
    let before = std::fs::read(&config).unwrap();
    let with_version = |cmd: &mut Command| {
        cmd.env("LUAENV_VERSION", "5.4.7").current_dir(top.path());
    };

    // add-server --name: refused, the config untouched.
    let mut add = env.luaenv();
    with_version(&mut add);
    fails(add.args(["rocks", "add-server", "http://127.0.0.1:9/", "--name", HOSTILE_NAME]), 2, "is not a rocks-server name");
    assert_eq!(std::fs::read(&config).unwrap(), before);

    // The same name in a cloned project's lock: sync refuses before writing anything.
    let lock = lock_text("5.4.7", "https://www.lua.org/ftp/lua-5.4.7.tar.gz", &format!("\n[[rocks_servers]]\nname = {HOSTILE_NAME:?}\nurl = \"http://127.0.0.1:9\"\n"));
    let clone = clone_with_lock(top.path(), &lock);
    fails(luaenv_in(&env, &clone).arg("sync"), 2, "is not a rocks-server name");
    assert!(!clone.join(".luaenv").exists() && !clone.join("lua_modules").exists());

    // A name that got into the version's config by hand is never written back raw.
    let text = String::from_utf8(before.clone()).unwrap();
    let edited = text.replace("check_certificates = true\n", &format!("check_certificates = true\nrocks_servers = {{\n   \"http://127.0.0.1:9\"; -- luaenv:name={HOSTILE_NAME}\n}}\n"));
    std::fs::write(&config, edited).unwrap();
    let mut add = env.luaenv();
    with_version(&mut add);
    ok(add.args(["rocks", "add-server", "http://127.0.0.1:8/", "--name", "corp"]));
    assert!(!std::fs::read_to_string(&config).unwrap().contains('\r'));

    // A project folder whose name holds quotes, `]]` and Lua: its path goes into the
    // project's LuaRocks config, which the real LuaRocks then loads. (One with a newline or a
    // carriage return is refused: `a_project_path_that_lua_paths_cannot_name_is_refused`.)
    let project = top.path().join("p\"}io.open('pwned','w')--]]x");
    ok(luaenv_in(&env, top.path()).arg("init").arg(&project).args(["--lua", "5.4.7"]));
    let out = run(env.shim("luarocks").args(["config", "rocks_trees"]).current_dir(&project));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("lua_modules"), "{}", stdout(&out));
    // The version's config, rewritten above, loads too.
    let out = run(env.shim("luarocks").args(["config", "rocks_servers"]).current_dir(top.path()).env("LUAENV_VERSION", "5.4.7"));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    // A clone that commits its own `.luaenv/luarocks-config.lua` with code in it: sync writes
    // that generated file whole, so LuaRocks never runs the clone's lines.
    let shipped = top.path().join("shipped");
    std::fs::create_dir_all(shipped.join(".luaenv")).unwrap();
    std::fs::write(shipped.join(".lua-version"), "5.4.7\n").unwrap();
    std::fs::write(shipped.join("luaenv.lock"), lock_text("5.4.7", "https://www.lua.org/ftp/lua-5.4.7.tar.gz", "")).unwrap();
    // (It names the clone's own tree, as the config luaenv writes there would.)
    let hostile = format!("-- \"{}/lua_modules\"\nvariables.WGET = \"touch pwned; wget\"\n", shipped.display());
    std::fs::write(shipped.join(".luaenv/luarocks-config.lua"), &hostile).unwrap();
    // Before any sync, the luarocks shim refuses to hand LuaRocks a config luaenv did not
    // write, and doctor says so; `luaenv exec luarocks` writes it anew first.
    fails(env.shim("luarocks").current_dir(&shipped).args(["search", "anything"]), 2, "luarocks-config.lua was not written by luaenv on this machine");
    let doctor = stdout(&run(luaenv_in(&env, &shipped).arg("doctor")));
    assert!(doctor.contains("was not written by luaenv on this machine"), "{doctor}");
    let out = run(luaenv_in(&env, &shipped).args(["exec", "luarocks", "config", "variables.WGET"]));
    assert!(stderr(&out).contains("regenerated its sandbox") && !stdout(&out).contains("pwned"), "{}{}", stdout(&out), stderr(&out));
    assert!(!shipped.join("pwned").exists(), "the clone's LuaRocks config ran before sync");
    std::fs::write(shipped.join(".luaenv/luarocks-config.lua"), &hostile).unwrap();
    ok(luaenv_in(&env, &shipped).arg("sync"));
    let out = run(env.shim("luarocks").args(["config", "variables.WGET"]).current_dir(&shipped));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(!stdout(&out).contains("pwned"), "the clone's downloader is in use: {}", stdout(&out));
    // A clone that commits `lua_modules/bin/lua` and `luarocks`: `lua` and `luarocks` are the
    // version's own, through the shims and `luaenv exec`.
    for command in ["lua", "luarocks"] {
        executable(&shipped.join("lua_modules/bin").join(command), "#!/bin/sh\ntouch pwned\necho pwned\n");
    }
    let (mut shim, mut exec) = (env.shim("lua"), luaenv_in(&env, &shipped));
    for cmd in [shim.current_dir(&shipped), exec.args(["exec", "lua"])] {
        assert_eq!(ok(cmd.args(["-e", "print(_VERSION)"])).trim(), "Lua 5.4");
    }
    assert!(ok(env.shim("luarocks").arg("--version").current_dir(&shipped)).contains("LuaRocks"));
    for dir in [top.path(), project.as_path(), shipped.as_path()] {
        assert!(!dir.join("pwned").exists(), "a clone's code ran in {}", dir.display());
    }
}

#[test]
fn a_linked_generated_folder_in_a_clone_is_refused_and_nothing_is_touched() {
    let top = tempfile::tempdir().unwrap();
    let env = Env::new();
    // The user's own files, which a `.luaenv -> ~/.local` link would make sync overwrite.
    let local = env.home().join(".local");
    std::fs::create_dir_all(local.join("bin")).unwrap();
    std::fs::write(local.join("bin/mytool"), "mine\n").unwrap();
    let lock = lock_text("5.4.7", "https://www.lua.org/ftp/lua-5.4.7.tar.gz", "");
    let clone = clone_with_lock(top.path(), &lock);
    let snapshot = || -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<_> = walk(&local).into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap_or_default())).collect();
        files.sort();
        files
    };
    let before = snapshot();
    let links = [
        (".luaenv", local.clone()),
        ("lua_modules", local.clone()),
        (".luaenv/bin", local.join("bin")),
        // Deep in the tree, where LuaRocks writes a rock's files and the tree's manifest.
        ("lua_modules/lib/luarocks/rocks-5.4", local.join("bin")),
        ("lua_modules/share/lua/5.4", local.join("bin")),
        ("lua_modules/lib/lua/5.4/socket", local.join("bin")),
    ];
    for (link, target) in links {
        for generated in [".luaenv", "lua_modules"] {
            let _ = std::fs::remove_file(clone.join(generated));
            let _ = std::fs::remove_dir_all(clone.join(generated));
        }
        std::fs::create_dir_all(clone.join(link).parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&target, clone.join(link)).unwrap();
        fails(luaenv_in(&env, &clone).arg("sync"), 2, "is a symbolic link");
        fails(luaenv_in(&env, top.path()).arg("init").arg(&clone).args(["--lua", "5.4.7"]), 2, "is a symbolic link");
        // doctor names the link, not a `luaenv sync` that would refuse it.
        let doctor = crate::support::stdout(&run(luaenv_in(&env, &clone).arg("doctor")));
        assert!(doctor.contains("is a symbolic link") && !doctor.contains("not generated"), "{doctor}");
        assert_eq!(snapshot(), before, "{link}: the user's files changed");
        assert!(!env.root().join("versions/5.4.7").exists(), "{link}: sync installed before refusing");
    }
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().unwrap().is_dir() {
            found.extend(walk(&entry.path()));
        } else {
            found.push(entry.path());
        }
    }
    found
}

#[test]
fn a_clones_rock_commands_never_shadow_system_commands() {
    let fixtures = fixtures_or_skip!("a_clones_rock_commands_never_shadow_system_commands");
    let env = Env::new();
    install_547(&env, &fixtures, false);
    let top = tempfile::tempdir().unwrap();
    let clone = clone_with_lock(top.path(), &lock_text("5.4.7", "https://www.lua.org/ftp/lua-5.4.7.tar.gz", ""));
    let marker = top.path().join("planted-ran");
    let planted = format!("#!/bin/sh\ntouch '{}'\necho planted\n", marker.display());
    let system_path = std::env::var("PATH").unwrap();
    // A rocks tree the clone commits is not one luaenv made here: sync refuses it, naming the fix.
    executable(&clone.join("lua_modules/bin/git"), &planted);
    fails(luaenv_in(&env, &clone).arg("sync").env("PATH", &system_path), 2, "was not made by luaenv with this root");
    std::fs::rename(clone.join("lua_modules"), top.path().join("lua_modules.old")).unwrap();
    ok(luaenv_in(&env, &clone).arg("sync").env("PATH", &system_path));
    // Commands in the tree luaenv made (as a rock would install them): one named like a system
    // command never gets a global shim.
    executable(&clone.join("lua_modules/bin/git"), &planted);
    executable(&clone.join("lua_modules/bin/projtool"), "#!/bin/sh\necho project\n");
    ok(luaenv_in(&env, &clone).arg("rehash").env("PATH", &system_path));
    let shims = env.root().join("shims");
    assert!(!shims.join("git").exists(), "a global git shim");
    assert!(shims.join("projtool").exists(), "the project's own command has its shim");

    // With the shims first on PATH, `git` is the real git, inside the clone and out.
    let path = format!("{}:{system_path}", shims.display());
    for dir in [&clone, &top.path().to_path_buf()] {
        let mut git = Command::new("git");
        env.apply(&mut git);
        let said = ok(git.arg("--version").current_dir(dir).env("PATH", &path));
        assert!(said.starts_with("git version"), "{said}");
    }
    assert!(!marker.exists(), "the clone's git ran");

    // The project's command runs inside its project; outside, the next one of that name on PATH.
    assert_eq!(ok(env.shim("projtool").current_dir(&clone).env("PATH", &path)).trim(), "project");
    let elsewhere = top.path().join("system-bin");
    executable(&elsewhere.join("projtool"), "#!/bin/sh\necho system\n");
    std::fs::write(top.path().join(".lua-version"), "5.4.7\n").unwrap();
    let with_system = format!("{}:{}:{system_path}", shims.display(), elsewhere.display());
    let outside = top.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    assert_eq!(ok(env.shim("projtool").current_dir(&outside).env("PATH", &with_system)).trim(), "system");
}

#[test]
fn install_names_from_files_never_leave_the_versions_folder() {
    let top = tempfile::tempdir().unwrap();
    let env = Env::new();
    std::fs::create_dir_all(env.root().join("versions")).unwrap();
    // The repository's own "Lua", which a traversing name would make the shims run.
    let marker = top.path().join("planted-ran");
    executable(&top.path().join("repo/fake/bin/lua"), &format!("#!/bin/sh\ntouch '{}'\n", marker.display()));
    let lock = lock_text("../../repo/fake", "https://www.lua.org/ftp/lua-5.4.7.tar.gz", "");
    let clone = clone_with_lock(top.path(), &lock);
    std::fs::write(clone.join(".lua-version"), "../../repo/fake\n").unwrap();
    fails(luaenv_in(&env, &clone).arg("sync"), 2, "is not a version name");
    let out = run(luaenv_in(&env, &clone).arg("doctor"));
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("[lua] name '../../repo/fake' is not a version name"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("as locked"), "{}", stdout(&out));

    // A shim (the luaenv binary called `lua`) in that clone: refused, the planted program not run.
    let bin = top.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("lua")).unwrap();
    let mut lua = Command::new(bin.join("lua"));
    env.apply(&mut lua);
    let out = run(lua.arg("-v").current_dir(&clone));
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("not a Lua version name"), "{}", stderr(&out));
    assert!(!marker.exists(), "the shim ran the repository's program");

    // `..`, `.` and hidden names count as not installed, with the code of any missing name.
    std::fs::create_dir_all(env.root().join("versions/.staging-5.4.7-x/bin")).unwrap();
    for name in ["..", ".", ".staging-5.4.7-x"] {
        fails(env.luaenv().arg("current").env("LUAENV_VERSION", name).current_dir(top.path()), 2, "not a Lua version name");
        fails(env.luaenv().args(["uninstall", name]).current_dir(top.path()), 2, "not a version name");
    }
    assert!(env.root().join("versions/.staging-5.4.7-x").is_dir());
    // "Not installed" is exit 2 whether the name came from an argument, the environment or a file.
    fails(env.luaenv().args(["prefix", "5.9.9"]).current_dir(top.path()), 2, "not installed");
    fails(env.luaenv().arg("current").env("LUAENV_VERSION", "5.9.9").current_dir(top.path()), 2, "not installed");
    let pinned = top.path().join("pinned");
    std::fs::create_dir_all(&pinned).unwrap();
    std::fs::write(pinned.join(".lua-version"), "5.9.9\n").unwrap();
    fails(env.luaenv().arg("current").current_dir(&pinned), 2, "not installed");
}

#[test]
fn version_files_that_are_devices_fifos_or_not_text_are_refused_at_once() {
    let top = tempfile::tempdir().unwrap();
    let env = Env::new();
    std::fs::create_dir_all(env.root().join("versions")).unwrap();
    let dir = top.path().join("p");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(".lua-version");
    let mut bin = PathBuf::from(top.path());
    bin.push("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("lua")).unwrap();
    let lua = || {
        let mut c = Command::new(bin.join("lua"));
        env.apply(&mut c);
        c.arg("-v").current_dir(&dir);
        c
    };
    // A link to /dev/zero (git can commit one): refused before anything is read.
    std::os::unix::fs::symlink("/dev/zero", &file).unwrap();
    fails(env.luaenv().arg("current").current_dir(&dir), 2, "not a regular file");
    let out = run(&mut lua());
    assert!(stderr(&out).contains(".lua-version") && stderr(&out).contains("not a regular file"), "{}", stderr(&out));
    // A FIFO nobody writes to: refused, not waited on (this test would hang otherwise).
    std::fs::remove_file(&file).unwrap();
    ok(Command::new("mkfifo").arg(&file));
    fails(env.luaenv().arg("current").current_dir(&dir), 2, "not a regular file");
    assert!(stderr(&run(&mut lua())).contains("not a regular file"));
    // Bad UTF-8 is an error naming the file, not a silent fall-through to the global version.
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, b"5.4.7\xff\n").unwrap();
    std::fs::write(env.root().join("version"), "5.4.7\n").unwrap();
    let line = fails(env.luaenv().arg("current").current_dir(&dir), 2, "is not UTF-8");
    assert!(line.contains(&file.display().to_string()), "{line}");
    // A link to a file of the user's outside the folder: not read, so its first line (a
    // token) never reaches a message; a link to a file beside it is followed.
    std::fs::remove_file(&file).unwrap();
    let secret = env.home().join(".git-credentials");
    std::fs::create_dir_all(env.home()).unwrap();
    for (name, line) in [(".lua-version", "https://me:s3cr3t-token@example.org"), (".tool-versions", "lua s3cr3t-token")] {
        std::fs::write(&secret, format!("{line}\n")).unwrap();
        let link = dir.join(name);
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        let said = fails(env.luaenv().arg("current").current_dir(&dir), 2, "is a link to a file outside its folder");
        let shim = stderr(&run(&mut lua()));
        assert!(!said.contains("s3cr3t") && !shim.contains("s3cr3t") && shim.contains("outside its folder"), "{said}{shim}");
        std::fs::remove_file(&link).unwrap();
    }
    std::fs::write(dir.join("pinned.txt"), "5.9.9\n").unwrap();
    std::os::unix::fs::symlink("pinned.txt", &file).unwrap();
    fails(env.luaenv().arg("current").current_dir(&dir), 2, "selects Lua '5.9.9'");
    // A name of thousands of characters is shown short: the message stays one line.
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, format!("{}\n", "x/".repeat(3000))).unwrap();
    let said = fails(env.luaenv().arg("current").current_dir(&dir), 2, "which is not a Lua version name");
    assert!(said.len() < 400, "{said}");
    // The root's own files as FIFOs: the global version, the projects list and the mirror.
    std::fs::remove_file(&file).unwrap();
    std::fs::remove_file(env.root().join("version")).unwrap();
    for name in ["version", "projects", "mirror"] {
        ok(Command::new("mkfifo").arg(env.root().join(name)));
    }
    fails(env.luaenv().arg("current").current_dir(&dir), 2, "not a regular file");
    ok(env.luaenv().arg("rehash"));
    let out = run(env.luaenv().args(["mirror", "show"]));
    assert!(out.status.success() && stderr(&out).contains("not a regular file"), "{}", stderr(&out));
}

/// A one-shot HTTP server on 127.0.0.2 that records the headers of the first request.
fn header_recorder() -> (String, std::thread::JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Never blocks the test forever: no request within a minute is recorded as none.
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let mut waited = 0;
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(_) if waited < 600 => {
                    waited += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(_) => return "no request".to_string(),
            }
        };
        stream.set_nonblocking(false).unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        String::from_utf8_lossy(&request).into_owned()
    });
    (url, handle)
}

fn add_server_with_password(env: &Env, url: &str, user: &str, password: &str) -> std::process::Output {
    let mut cmd = env.luaenv();
    cmd.args(["rocks", "add-server", url, "--user", user, "--password-stdin"]).env("LUAENV_VERSION", "5.4.7");
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn credentials_go_only_to_the_server_they_were_given_for() {
    let fixtures = fixtures_or_skip!("credentials_go_only_to_the_server_they_were_given_for");
    let env = Env::new();
    install_547(&env, &fixtures, true);
    let served = tempfile::tempdir().unwrap();
    std::fs::write(served.path().join("manifest"), "return {}\n").unwrap();
    // Two servers on one host, two ports, two users: the second does not replace the first.
    let alice = Server::serve_with_auth(served.path(), Some("alice:Alice-Pw1"));
    let bob = Server::serve_with_auth(served.path(), Some("bob:Bob-Pw2"));
    for (server, user, password) in [(&alice, "alice", "Alice-Pw1"), (&bob, "bob", "Bob-Pw2")] {
        let out = add_server_with_password(&env, &server.url, user, password);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let listed = ok(env.luaenv().args(["rocks", "servers"]).env("LUAENV_VERSION", "5.4.7"));
    assert!(listed.contains(&alice.url.replace("http://", "http://alice:***@")) && listed.contains(&bob.url.replace("http://", "http://bob:***@")), "{listed}");
    let wrappers = env.root().join("credentials");
    for server in [&alice, &bob] {
        let manifest = format!("{}/manifest", server.url);
        ok(Command::new(wrappers.join("wget")).args(["--quiet", "-O", "/dev/null", &manifest]));
        ok(Command::new(wrappers.join("curl")).args(["-fsS", "-o", "/dev/null", &manifest]));
    }
    // A third server on the same host gets no credentials from either wrapper.
    for (wrapper, quiet) in [("wget", ["-q", "-O", "/dev/null"]), ("curl", ["-s", "-o", "/dev/null"])] {
        let (url, seen) = header_recorder();
        let _ = run(Command::new(wrappers.join(wrapper)).args(quiet).arg(format!("{url}/manifest")));
        let request = seen.join().unwrap();
        assert!(request.starts_with("GET /manifest"), "{wrapper}: {request}");
        assert!(!request.to_ascii_lowercase().contains("authorization"), "{wrapper} sent credentials to another port: {request}");
    }

    // A URL that does not parse: the port is blamed and the password never shown.
    let mut bad = env.luaenv();
    let line = fails(bad.args(["rocks", "add-server", "http://alice:S3cret@127.0.0.1:99999/"]).env("LUAENV_VERSION", "5.4.7"), 2, "port");
    let out = run(env.luaenv().args(["rocks", "add-server", "http://alice:S3cret@127.0.0.1:99999/"]).env("LUAENV_VERSION", "5.4.7"));
    assert!(!line.contains("S3cret") && !stderr(&out).contains("S3cret") && !stdout(&out).contains("S3cret"), "{line}");

    // A Latin-1 byte in the credentials file: refused, the file kept byte for byte.
    let netrc = wrappers.join(".netrc");
    let mut bytes = std::fs::read(&netrc).unwrap();
    bytes.extend_from_slice(b"# caf\xe9\n");
    std::fs::write(&netrc, &bytes).unwrap();
    // (An unreachable server: the password check is only a warning then.)
    let out = add_server_with_password(&env, "http://127.0.0.3:9/other", "carol", "Carol-Pw3");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("luaenv: ") && stderr(&out).contains("not UTF-8"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&netrc).unwrap(), bytes);
    // And in the version's config: kept as it is through an edit.
    let config = env.prefix("5.4.7").join("etc/luarocks/config-5.4.lua");
    let mut text = b"-- caf\xe9 mine\n".to_vec();
    text.extend(std::fs::read(&config).unwrap());
    std::fs::write(&config, &text).unwrap();
    ok(env.luaenv().args(["rocks", "remove-server", "luarocks.org"]).env("LUAENV_VERSION", "5.4.7"));
    assert!(std::fs::read(&config).unwrap().starts_with(b"-- caf\xe9 mine\n"));
}

#[test]
fn user_config_lines_and_concurrent_project_edits_are_never_lost() {
    let fixtures = fixtures_or_skip!("user_config_lines_and_concurrent_project_edits_are_never_lost");
    let env = Env::new();
    install_547(&env, &fixtures, true);
    let top = tempfile::tempdir().unwrap();
    let luaenv = |dir: &Path| {
        let mut c = luaenv_in(&env, dir);
        c.env("LUAENV_VERSION", "5.4.7");
        c
    };
    // The version's config: END deleted and a user line after it: refused, nothing lost.
    let config = env.prefix("5.4.7").join("etc/luarocks/config-5.4.lua");
    let damaged = format!("{}deps_mode = \"one\"\n", std::fs::read_to_string(&config).unwrap().replace("-- END luaenv\n", ""));
    std::fs::write(&config, &damaged).unwrap();
    fails(luaenv(top.path()).args(["rocks", "add-server", "http://127.0.0.1:9/a", "--name", "a"]), 1, "luaenv's block is damaged");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), damaged);
    // Restored, with the user's own list below the block: `servers` says LuaRocks uses that one.
    let restored = damaged.replace("deps_mode = \"one\"\n", "-- END luaenv\nrocks_servers = { \"http://127.0.0.1:9/mine\" }\n");
    std::fs::write(&config, &restored).unwrap();
    let out = run(luaenv(top.path()).args(["rocks", "servers"]));
    assert!(out.status.success() && stderr(&out).contains("sets rocks_servers again below luaenv's block"), "{}", stderr(&out));

    // A lock never holds a local path: the --rocks-from tarball is pinned by file name and sum.
    let project = top.path().join("proj");
    ok(luaenv_in(&env, top.path()).arg("init").arg(&project).args(["--lua", "5.4.7"]));
    let lock: toml::Value = toml::from_str(&std::fs::read_to_string(project.join("luaenv.lock")).unwrap()).unwrap();
    assert_eq!(lock["luarocks"]["url"].as_str(), Some("luarocks-3.8.0-dfsg.tar.gz"));
    assert_eq!(lock["luarocks"]["sha256"].as_str(), Some(ROCKS_SUM));
    // And a clone whose lock names a local path or folder is refused.
    for url in ["vendor/lua", "/tmp/lua-5.4.7.tar.gz", "file:///tmp/lua-5.4.7.tar.gz", "../lua-5.4.7.tar.gz"] {
        let clone = top.path().join("clone-path");
        let _ = std::fs::remove_dir_all(&clone);
        std::fs::create_dir_all(&clone).unwrap();
        std::fs::write(clone.join("luaenv.lock"), lock_text("5.4.7", url, "")).unwrap();
        fails(luaenv_in(&env, &clone).arg("sync"), 2, "is a local path");
    }

    // add-server --project racing remove-server --project, 30 rounds: no edit lost.
    let rounds = 30;
    for i in 0..rounds {
        ok(luaenv(&project).args(["rocks", "add-server", &format!("http://127.0.0.1:9/old{i}"), "--name", &format!("old{i}"), "--project"]));
    }
    for i in 0..rounds {
        let mut add = luaenv(&project);
        let add = add.args(["rocks", "add-server", &format!("http://127.0.0.1:9/new{i}"), "--name", &format!("new{i}"), "--project"]).stderr(Stdio::piped()).spawn().unwrap();
        let mut remove = luaenv(&project);
        let remove = remove.args(["rocks", "remove-server", &format!("old{i}"), "--project"]).stderr(Stdio::piped()).spawn().unwrap();
        for child in [add, remove] {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {i}: {}", stderr(&out));
        }
    }
    let lock: toml::Value = toml::from_str(&std::fs::read_to_string(project.join("luaenv.lock")).unwrap()).unwrap();
    let names: Vec<&str> = lock["rocks_servers"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    for i in 0..rounds {
        assert!(names.contains(&format!("new{i}").as_str()) && !names.contains(&format!("old{i}").as_str()), "round {i} lost an edit: {names:?}");
    }

    // init racing sync in one project: both always succeed.
    for round in 0..10 {
        let init = luaenv(&project).arg("init").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let sync = luaenv(&project).arg("sync").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        for child in [init, sync] {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: {}", stderr(&out));
        }
    }
}

#[test]
fn current_in_a_deleted_folder_says_what_happened() {
    let top = tempfile::tempdir().unwrap();
    let env = Env::new();
    let gone = top.path().join("gone");
    std::fs::create_dir_all(&gone).unwrap();
    let mut sh = Command::new("sh");
    env.apply(&mut sh);
    sh.args(["-c", "cd \"$1\" && rmdir \"$1\" && exec \"$2\" current", "sh"]).arg(&gone).arg(BIN);
    fails(&mut sh, 1, "the current folder no longer exists");
}

/// A server that demands `alice`'s password, then redirects: `/x-1.0-1.src.rock` to `other` (another
/// port of the same host), `/old` to `/new` on itself (relative); `/new` answers "same".
fn redirecting_server(other: String) -> (String, std::thread::JoinHandle<()>, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let halt = stop.clone();
    let expected = format!("Basic {}", crate::support::base64(b"alice:Alice-Pw1"));
    let handle = std::thread::spawn(move || {
        while !halt.load(std::sync::atomic::Ordering::Relaxed) {
            let Ok(Some(request)) = server.recv_timeout(std::time::Duration::from_millis(50)) else { continue };
            let authorized = request.headers().iter().any(|h| h.field.equiv("Authorization") && h.value.as_str() == expected);
            let header = |k: &str, v: &str| tiny_http::Header::from_bytes(k, v).unwrap();
            let response = match (authorized, request.url()) {
                (false, _) => tiny_http::Response::from_string("").with_status_code(401).with_header(header("WWW-Authenticate", "Basic realm=\"rocks\"")),
                (true, "/x-1.0-1.src.rock") => tiny_http::Response::from_string("").with_status_code(302).with_header(header("Location", &format!("{other}/x-1.0-1.src.rock"))),
                (true, "/old") => tiny_http::Response::from_string("").with_status_code(302).with_header(header("Location", "/new")),
                (true, _) => tiny_http::Response::from_string("same"),
            };
            let _ = request.respond(response);
        }
    });
    (url, handle, stop)
}

/// A server that asks every request for a password (401, Basic) and returns what it was sent:
/// each request's path, and `authorization` for a request that carried credentials.
fn challenging_recorder() -> (String, std::thread::JoinHandle<Vec<String>>, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let halt = stop.clone();
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        while !halt.load(std::sync::atomic::Ordering::Relaxed) {
            let Ok(Some(request)) = server.recv_timeout(std::time::Duration::from_millis(50)) else { continue };
            let carried = request.headers().iter().any(|h| h.field.equiv("Authorization"));
            seen.push(format!("{}{}", request.url(), if carried { " authorization" } else { "" }));
            let challenge = tiny_http::Header::from_bytes("WWW-Authenticate", "Basic realm=\"other\"").unwrap();
            let _ = request.respond(tiny_http::Response::from_string("").with_status_code(401).with_header(challenge));
        }
        seen
    });
    (url, handle, stop)
}

/// How LuaRocks calls a downloader: its arguments for a URL and an output file.
type DownloaderArgs = fn(&str, &Path) -> Vec<String>;

#[test]
fn a_redirect_to_another_port_of_the_host_never_gets_the_credentials() {
    let fixtures = fixtures_or_skip!("a_redirect_to_another_port_of_the_host_never_gets_the_credentials");
    let env = Env::new();
    install_547(&env, &fixtures, true);
    let wrappers = env.root().join("credentials");
    // Each wrapper, called as LuaRocks calls it (curl's --output after the URL).
    let calls: [(&str, DownloaderArgs); 2] = [
        ("wget", |url, file| ["--no-cache", "--user-agent=luarocks", "--quiet", "--output-document", &file.to_string_lossy(), url].map(String::from).to_vec()),
        ("curl", |url, file| ["-f", "-L", "--user-agent", "luarocks", url, "--output", &file.to_string_lossy()].map(String::from).to_vec()),
    ];
    for (wrapper, args) in calls {
        let (other, seen, other_stop) = challenging_recorder();
        let (url, handle, stop) = redirecting_server(other);
        let out = add_server_with_password(&env, &url, "alice", "Alice-Pw1");
        assert!(out.status.success(), "{}", stderr(&out));
        let file = env.home().join(format!("{wrapper}.out"));
        // The redirect is followed, without the password.
        let _ = run(Command::new(wrappers.join(wrapper)).args(args(&format!("{url}/x-1.0-1.src.rock"), &file)));
        other_stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let requests = seen.join().unwrap();
        assert!(requests.iter().any(|r| r.starts_with("/x-1.0-1.src.rock")), "{wrapper} did not follow the redirect: {requests:?}");
        assert!(!requests.iter().any(|r| r.contains("authorization")), "{wrapper} sent alice's password to another port: {requests:?}");
        // A redirect within the server keeps them.
        ok(Command::new(wrappers.join(wrapper)).args(args(&format!("{url}/old"), &file)));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "same", "{wrapper}");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        handle.join().unwrap();
    }
}

/// The credential wrappers copy a server's entry into a private temporary folder for each
/// download, and none is left in TMPDIR afterwards: not for a server with an entry, and not
/// for one without (that download execs curl or wget at once, which skips the shell's EXIT trap).
#[test]
fn the_credential_wrappers_leave_no_temporary_folder_behind() {
    let fixtures = fixtures_or_skip!("the_credential_wrappers_leave_no_temporary_folder_behind");
    let env = Env::new();
    install_547(&env, &fixtures, true);
    let guarded = Server::serve_with_auth(&fixtures.join("mirror"), Some("alice:Alice-Pw1"));
    let out = add_server_with_password(&env, &guarded.url, "alice", "Alice-Pw1");
    assert!(out.status.success(), "{}", stderr(&out));
    let open = Server::serve(&fixtures.join("mirror"));
    let tmp = env.dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    for wrapper in ["curl", "wget"] {
        for server in [&guarded, &open] {
            let file = env.home().join(format!("{wrapper}.tar.gz"));
            let url = format!("{}/lua-5.4.7.tar.gz", server.url);
            let args: Vec<String> = match wrapper {
                "curl" => ["-f", "-L", "--user-agent", "luarocks", &url, "--output", &file.to_string_lossy()].map(String::from).to_vec(),
                _ => ["--no-cache", "--quiet", "--output-document", &file.to_string_lossy(), &url].map(String::from).to_vec(),
            };
            ok(Command::new(env.root().join("credentials").join(wrapper)).args(&args).env("TMPDIR", &tmp));
            assert_eq!(std::fs::read(&file).unwrap(), std::fs::read(fixtures.join("mirror/lua-5.4.7.tar.gz")).unwrap(), "{wrapper} {url}");
            let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().map(|e| e.path()).collect();
            assert!(left.is_empty(), "{wrapper} from {url} left {left:?}");
        }
    }
}

/// A folder whose path holds `;` or `?` (LUA_PATH's separator and module-name mark) would find
/// none of its own modules, and one that is not UTF-8 cannot be named in LuaRocks' config:
/// init and sync refuse them before installing or writing anything.
#[test]
fn a_project_path_that_lua_paths_cannot_name_is_refused() {
    use std::os::unix::ffi::OsStrExt as _;
    let top = tempfile::tempdir().unwrap();
    let env = Env::new();
    for folder in ["a;b", "what?"] {
        let dir = top.path().join(folder);
        fails(luaenv_in(&env, top.path()).arg("init").arg(&dir).args(["--lua", "5.4.7"]), 2, "which Lua's module paths (LUA_PATH) use");
        assert_eq!(std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0), 0, "init wrote into {folder}");
        let clone = clone_with_lock(&dir, &lock_text("5.4.7", "https://www.lua.org/ftp/lua-5.4.7.tar.gz", ""));
        fails(luaenv_in(&env, &clone).arg("sync"), 2, "cannot be a luaenv project");
    }
    for odd in ["two\nlines", "carriage\rreturn"] {
        fails(luaenv_in(&env, top.path()).arg("init").arg(top.path().join(odd)).args(["--lua", "5.4.7"]), 2, "holds a control character");
    }
    let latin1 = top.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    fails(luaenv_in(&env, top.path()).arg("init").arg(&latin1).args(["--lua", "5.4.7"]), 2, "its path is not UTF-8");
    assert!(!env.root().join("versions/5.4.7").exists());
}

/// A clone that commits its own `lua_modules/` (a `bin/busted` that is anything, links deep
/// inside): its commands never run through the shims or `exec`, LuaRocks never writes there,
/// and sync refuses it until it is moved away; a tree luaenv made here is used as ever.
#[test]
fn a_clones_committed_rocks_tree_is_never_run_nor_written_into() {
    let fixtures = fixtures_or_skip!("a_clones_committed_rocks_tree_is_never_run_nor_written_into");
    let env = Env::new();
    install_547(&env, &fixtures, true);
    let top = tempfile::tempdir().unwrap();
    // A project made here first, so a shim named `busted` exists (rehash makes it for it).
    let mine = top.path().join("mine");
    ok(luaenv_in(&env, top.path()).arg("init").arg(&mine).args(["--lua", "5.4.7"]));
    executable(&mine.join("lua_modules/bin/busted"), "#!/bin/sh\necho mine\n");
    ok(env.luaenv().arg("rehash"));
    assert_eq!(ok(env.shim("busted").current_dir(&mine)).trim(), "mine");

    let clone = clone_with_lock(top.path(), &lock_text("5.4.7", "https://www.lua.org/ftp/lua-5.4.7.tar.gz", ""));
    let marker = top.path().join("clone-ran");
    executable(&clone.join("lua_modules/bin/busted"), &format!("#!/bin/sh\ntouch '{}'\n", marker.display()));
    std::fs::write(clone.join("lua_modules/.luaenv-tree"), "0123456789abcdef0123456789abcdef\n").unwrap();
    let said = fails(env.shim("busted").current_dir(&clone), 2, "was not made by luaenv with this root");
    assert!(said.contains("mv '"), "{said}");
    fails(luaenv_in(&env, &clone).args(["exec", "busted"]), 2, "was not made by luaenv with this root");
    fails(luaenv_in(&env, &clone).arg("sync"), 2, "was not made by luaenv with this root");
    fails(luaenv_in(&env, top.path()).arg("init").arg(&clone).args(["--lua", "5.4.7"]), 2, "was not made by luaenv with this root");
    let doctor = crate::support::stdout(&run(luaenv_in(&env, &clone).arg("doctor")));
    assert!(doctor.contains("was not made by luaenv with this root"), "{doctor}");
    assert!(!marker.exists(), "the clone's busted ran");

    // The token, linked from a project made here, vouches for nothing; nor does a tree that
    // is itself a link to one; `exec` never puts an untrusted tree's bin/ on PATH.
    std::fs::remove_file(clone.join("lua_modules/.luaenv-tree")).unwrap();
    std::os::unix::fs::symlink(mine.join("lua_modules/.luaenv-tree"), clone.join("lua_modules/.luaenv-tree")).unwrap();
    fails(env.shim("busted").current_dir(&clone), 2, "was not made by luaenv with this root");
    let said = ok(luaenv_in(&env, &clone).args(["exec", "sh", "-c", "command -v busted || echo none"]));
    assert_eq!(said.trim(), "none", "an untrusted lua_modules/bin is on exec's PATH");
    let linked = top.path().join("linked");
    std::fs::create_dir_all(&linked).unwrap();
    for file in [".lua-version", "luaenv.lock"] {
        std::fs::copy(clone.join(file), linked.join(file)).unwrap();
    }
    std::os::unix::fs::symlink(mine.join("lua_modules"), linked.join("lua_modules")).unwrap();
    std::fs::create_dir_all(linked.join(".luaenv")).unwrap();
    std::fs::copy(mine.join(".luaenv/luarocks-config.lua"), linked.join(".luaenv/luarocks-config.lua")).unwrap();
    fails(env.shim("luarocks").arg("list").current_dir(&linked), 2, "was not made by luaenv with this root");
    fails(env.shim("busted").current_dir(&linked), 2, "was not made by luaenv with this root");
    assert!(!marker.exists(), "the clone's busted ran");

    // A clone that lands where a project of this root was gets no trust from that.
    std::fs::remove_dir_all(&mine).unwrap();
    std::fs::create_dir_all(&mine).unwrap();
    for file in [".lua-version", "luaenv.lock"] {
        std::fs::copy(clone.join(file), mine.join(file)).unwrap();
    }
    executable(&mine.join("lua_modules/bin/busted"), &format!("#!/bin/sh\ntouch '{}'\n", marker.display()));
    fails(luaenv_in(&env, &mine).arg("sync"), 2, "was not made by luaenv with this root");
    fails(env.shim("busted").current_dir(&mine), 2, "was not made by luaenv with this root");
    // `.luaenv` committed as a file: one line saying so, with the fix.
    std::fs::remove_dir_all(mine.join("lua_modules")).unwrap();
    std::fs::write(mine.join(".luaenv"), "data\n").unwrap();
    fails(luaenv_in(&env, &mine).arg("sync"), 2, ".luaenv is a file, not the folder luaenv makes there");
    assert!(!marker.exists(), "the clone's busted ran");

    // Moved away, as the message says: sync makes a tree of its own, and LuaRocks works in it,
    // never loading the clone's own `lfs.lua` (LuaRocks `require`s lfs) from its root or src/.
    std::fs::rename(clone.join("lua_modules"), top.path().join("lua_modules.old")).unwrap();
    let loaded = top.path().join("lfs-loaded");
    let lfs = format!("io.open('{}', 'a'):write('ran') error('no')\n", loaded.display());
    std::fs::create_dir_all(clone.join("src")).unwrap();
    std::fs::write(clone.join("lfs.lua"), &lfs).unwrap();
    std::fs::write(clone.join("src/lfs.lua"), &lfs).unwrap();
    ok(luaenv_in(&env, &clone).arg("sync"));
    assert!(ok(env.shim("luarocks").args(["list", "--porcelain"]).current_dir(&clone)).is_empty());
    ok(luaenv_in(&env, &clone).args(["exec", "luarocks", "list"]));
    run(luaenv_in(&env, &clone).arg("doctor"));
    assert!(!loaded.exists(), "LuaRocks loaded the clone's lfs.lua");
    // A `.luarocks/` beside lua_modules would make LuaRocks load its config: refused.
    let pwned = top.path().join("config-ran");
    std::fs::create_dir_all(clone.join(".luarocks")).unwrap();
    std::fs::write(clone.join(".luarocks/config-5.4.lua"), format!("variables = {{ WGET = \"touch '{}'; wget\" }}\n", pwned.display())).unwrap();
    fails(env.shim("luarocks").args(["config", "variables.WGET"]).current_dir(&clone), 2, "for its own project");
    ok(luaenv_in(&env, &clone).arg("sync"));
    assert!(!pwned.exists());
    std::fs::remove_dir_all(clone.join(".luarocks")).unwrap();
    // A link that appears later inside that tree (a `git pull`) stops the luarocks shim.
    std::os::unix::fs::symlink(env.home(), clone.join("lua_modules/elsewhere")).unwrap();
    fails(env.shim("luarocks").args(["list"]).current_dir(&clone), 2, "is a symbolic link");
    // So does the sandbox's own luarocks, which `. .luaenv/activate` puts first on PATH.
    let wrapper = run(Command::new(clone.join(".luaenv/bin/luarocks")).arg("list").current_dir(&clone));
    assert_eq!(wrapper.status.code(), Some(2), "{}", stderr(&wrapper));
    assert!(stderr(&wrapper).starts_with("luarocks: ") && stderr(&wrapper).contains("is a symbolic link"), "{}", stderr(&wrapper));
    std::fs::remove_file(clone.join("lua_modules/elsewhere")).unwrap();
    assert!(run(Command::new(clone.join(".luaenv/bin/luarocks")).arg("list").current_dir(&clone)).status.success());
    // ... and a tree that is not the one luaenv made.
    std::fs::rename(clone.join("lua_modules"), top.path().join("lua_modules.made")).unwrap();
    std::fs::create_dir_all(clone.join("lua_modules/bin")).unwrap();
    let wrapper = run(Command::new(clone.join(".luaenv/bin/luarocks")).arg("list").current_dir(&clone));
    assert!(wrapper.status.code() == Some(2) && stderr(&wrapper).contains("was not made by luaenv with this root"), "{}", stderr(&wrapper));
    assert!(!marker.exists());
}
