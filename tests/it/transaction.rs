//! The install as a plan then a transaction: every source fetched before the first compile,
//! LuaRocks checked against the Lua everywhere, one staging folder swapped in or removed,
//! Ctrl-C and kill -9 cleaned up, and lock waits said once.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Env, Server, fails, fixtures_or_skip, ok, run, stderr};

/// Every file and link under `dir` with its mode and bytes: "byte for byte as it was".
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u32, Vec<u8>)> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let bytes = if meta.is_symlink() {
                std::fs::read_link(&path).unwrap().into_os_string().into_encoded_bytes()
            } else if meta.is_dir() {
                stack.push(path.clone());
                Vec::new()
            } else {
                std::fs::read(&path).unwrap()
            };
            found.insert(path.strip_prefix(dir).unwrap().to_path_buf(), (meta.permissions().mode(), bytes));
        }
    }
    found
}

/// Names in `dir` starting with `prefix`.
fn entries(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

fn spawn(cmd: &mut Command) -> Child {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Waits (bounded) until `ready` holds, or panics saying what never happened.
fn wait_until(what: &str, child: &mut Child, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while !ready() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the install ended ({status}) before {what}");
        }
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The compile of an install in `env` has started: its staging folder and build folder exist.
fn compiling(env: &Env) -> bool {
    !entries(&env.root().join("versions"), ".staging-").is_empty() && !entries(&env.cache().join("tmp"), "build-").is_empty()
}

fn signal(child: &Child, name: &str) {
    ok(Command::new("kill").arg(format!("-{name}")).arg(child.id().to_string()));
}

/// Waits (bounded) until no process still runs with a path of `dir` in its command line: the
/// compilers a killed luaenv leaves behind finish on their own.
fn wait_for_orphans(dir: &Path) {
    let needle = dir.to_string_lossy().into_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let busy = std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            std::fs::read(e.path().join("cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle) && !String::from_utf8_lossy(&c).contains("kill"))
        });
        if !busy || Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn receipt(env: &Env, name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(env.prefix(name).join("luaenv-receipt.json")).unwrap()).unwrap()
}

#[test]
fn a_mirror_without_luarocks_fails_before_compiling_naming_the_way_out() {
    let fixtures = fixtures_or_skip!("a_mirror_without_luarocks_fails_before_compiling_naming_the_way_out");
    let env = Env::new();
    let mirror = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures.join("mirror/lua-5.4.7.tar.gz"), mirror.path().join("lua-5.4.7.tar.gz")).unwrap();
    let server = Server::serve(mirror.path());
    let first = fails(env.luaenv().args(["install", "5.4.7", "--mirror", &server.url]), 1, "--no-rocks");
    assert!(first.contains("luarocks-3.13.0.tar.gz") && first.contains("--rocks <version>") && first.contains("--rocks-from <tarball>"), "{first}");
    // Both sources were asked for before any build; nothing was built, installed or left.
    assert_eq!(*server.paths.lock().unwrap(), vec!["/lua-5.4.7.tar.gz".to_string(), "/luarocks-3.13.0.tar.gz".to_string()]);
    assert!(env.versions_entries().is_empty(), "{:?}", env.versions_entries());
    assert!(entries(&env.cache().join("tmp"), "").is_empty(), "no build folder");
    assert!(entries(&env.cache().join("builds"), "").is_empty(), "no build");
}

#[test]
fn luarocks_3_13_runs_on_lua_5_5_and_3_8_is_refused_leaving_the_prefix_as_it_was() {
    let fixtures = fixtures_or_skip!("luarocks_3_13_runs_on_lua_5_5_and_3_8_is_refused_leaving_the_prefix_as_it_was");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let (new_rocks, old_rocks) = (fixtures.join("local/luarocks-3.13.0-git.tar.gz"), fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz"));
    // --rocks-from alone: the version is read from the tarball.
    let out = run(env.luaenv().args(["install", "5.5.1", "--mirror", &server.url, "--rocks-from"]).arg(&new_rocks));
    assert!(out.status.success() && stderr(&out).contains("with LuaRocks 3.13.0"), "{}", stderr(&out));
    assert_eq!(receipt(&env, "5.5.1")["luarocks"]["version"], "3.13.0");
    let prefix = env.prefix("5.5.1");
    let version = ok(Command::new(prefix.join("bin/luarocks")).arg("--version"));
    assert!(version.lines().next().unwrap().ends_with(" 3.13.0"), "{version}");

    // LuaRocks 3.8.0 cannot run on 5.5: refused by `rocks install`, asked for or read from the tarball.
    let before = snapshot(&prefix);
    let luaenv = || {
        let mut cmd = env.luaenv();
        cmd.env("LUAENV_VERSION", "5.5.1");
        cmd
    };
    fails(luaenv().args(["rocks", "install", "3.8.0", "--from"]).arg(&old_rocks), 2, "needs LuaRocks 3.13.0 or newer");
    fails(luaenv().args(["rocks", "install", "--from"]).arg(&old_rocks), 2, "holds LuaRocks 3.8.0");
    fails(luaenv().args(["rocks", "install", "3.12.2"]), 2, "does not support Lua 5.5");
    fails(env.luaenv().args(["install", "5.5.1", "--force", "--mirror", &server.url, "--rocks-from"]).arg(&old_rocks), 2, "holds LuaRocks 3.8.0");
    // A LuaRocks that fails its smoke test (`luarocks --version`) is never swapped in.
    let broken = tempfile::tempdir().unwrap();
    ok(Command::new("tar").arg("xzf").arg(&new_rocks).arg("-C").arg(broken.path()));
    let cmd = broken.path().join("luarocks-3.13.0/src/luarocks/cmd.lua");
    std::fs::write(&cmd, format!("error('broken on purpose')\n{}", std::fs::read_to_string(&cmd).unwrap())).unwrap();
    let broken_tarball = broken.path().join("luarocks-broken.tar.gz");
    ok(Command::new("tar").arg("czf").arg(&broken_tarball).arg("-C").arg(broken.path()).arg("luarocks-3.13.0"));
    let first = fails(luaenv().args(["rocks", "install", "--from"]).arg(&broken_tarball), 1, "smoke test failed");
    assert!(first.contains("broken on purpose") && first.contains("nothing was changed"), "{first}");
    assert_eq!(snapshot(&prefix), before, "the prefix changed");
    assert_eq!(env.versions_entries(), vec!["5.5.1".to_string()]);

    // A real rock from a loopback server whose manifest the prefix's own luarocks-admin made.
    let served = tempfile::tempdir().unwrap();
    let rocks_server = Server::serve(served.path());
    crate::rocks::write_rock(served.path(), &rocks_server.url, "fivefive", "fivefive.lua", "return 'on ' .. _VERSION\n");
    ok(Command::new(prefix.join("bin/luarocks-admin")).arg("make-manifest").arg(served.path()));
    assert!(served.path().join("manifest-5.5").is_file());
    let luarocks = |args: &[&str]| {
        let mut cmd = Command::new(prefix.join("bin/luarocks"));
        env.apply(&mut cmd);
        cmd.args(args);
        cmd
    };
    ok(&mut luarocks(&["install", "fivefive", "--only-server", &rocks_server.url]));
    let lua = || {
        let mut cmd = Command::new(prefix.join("bin/lua"));
        env.apply(&mut cmd);
        cmd.args(["-e", "print((require('fivefive')))"]);
        cmd
    };
    assert_eq!(ok(&mut lua()).trim(), "on Lua 5.5");

    // `rocks install` again: a transaction on a copy that keeps the rocks and drops the old
    // LuaRocks' modules (a planted stale one goes), then the smoke test and the swap.
    let stale = prefix.join("share/lua/5.5/luarocks/stale_module.lua");
    std::fs::write(&stale, "return 1\n").unwrap();
    let out = run(luaenv().args(["rocks", "install", "--from"]).arg(&new_rocks));
    assert!(out.status.success() && stderr(&out).contains("installed LuaRocks 3.13.0 into 5.5.1"), "{}", stderr(&out));
    assert!(!stale.exists());
    assert_eq!(ok(&mut lua()).trim(), "on Lua 5.5");
    ok(&mut luarocks(&["--version"]));
    assert_eq!(env.versions_entries(), vec!["5.5.1".to_string()]);

    // `install --force`: the user's LuaRocks config lines are kept; the rock goes, said once.
    let config = prefix.join("etc/luarocks/config-5.5.lua");
    let mine = "-- my own line\nlocal_by_default = false\n";
    std::fs::write(&config, format!("{mine}{}", std::fs::read_to_string(&config).unwrap())).unwrap();
    let out = run(env.luaenv().args(["install", "5.5.1", "--force", "--mirror", &server.url, "--rocks-from"]).arg(&new_rocks));
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: --force")).collect();
    assert!(warnings.len() == 1 && warnings[0].contains("share/lua/5.5/fivefive.lua") && warnings[0].contains("lib/luarocks/rocks-5.5/fivefive"), "{err}");
    assert!(std::fs::read_to_string(&config).unwrap().starts_with(mine));
    assert!(!prefix.join("share/lua/5.5/fivefive.lua").exists());
    ok(&mut luarocks(&["--version"]));
}

#[test]
fn ctrl_c_mid_compile_removes_staging_and_temporary_files() {
    let fixtures = fixtures_or_skip!("ctrl_c_mid_compile_removes_staging_and_temporary_files");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    for (sig, code, said) in [("INT", 130, "luaenv: interrupted"), ("TERM", 143, "luaenv: terminated")] {
        let mut child = spawn(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--jobs", "1", "--mirror", &server.url]));
        wait_until("the compile started", &mut child, || compiling(&env));
        signal(&child, sig);
        let out: Output = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert_eq!(err.lines().filter(|l| l.starts_with("luaenv: ")).count(), 1, "{err}");
        assert!(err.lines().any(|l| l.starts_with(said)), "{err}");
        assert!(env.versions_entries().is_empty(), "{:?}", env.versions_entries());
        assert!(entries(&env.cache().join("tmp"), "build-").is_empty());
        assert!(entries(&env.cache().join("downloads"), ".partial-").is_empty());
    }
}

#[test]
fn kill_9_leftovers_are_reported_by_doctor_and_swept_by_the_next_install() {
    let fixtures = fixtures_or_skip!("kill_9_leftovers_are_reported_by_doctor_and_swept_by_the_next_install");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let install = || {
        let mut cmd = env.luaenv();
        cmd.args(["install", "5.4.7", "--no-rocks", "--jobs", "1", "--mirror", &server.url]);
        cmd
    };
    let mut child = spawn(&mut install());
    wait_until("the compile started", &mut child, || compiling(&env));
    signal(&child, "KILL");
    child.wait().unwrap();
    wait_for_orphans(env.dir.path());
    let staging = entries(&env.root().join("versions"), ".staging-");
    let builds = entries(&env.cache().join("tmp"), "build-");
    assert!(staging.len() == 1 && builds.len() == 1, "{staging:?} {builds:?}");

    let doctor = stdout_of(&run(env.luaenv().arg("doctor")));
    for left in [env.root().join("versions").join(&staging[0]), env.cache().join("tmp").join(&builds[0])] {
        assert!(doctor.contains(&format!("leftover of an interrupted install: {}", left.display())), "{doctor}");
    }
    assert!(doctor.contains("the next install of that version sweeps it"), "{doctor}");

    ok(&mut install());
    assert_eq!(env.versions_entries(), vec!["5.4.7".to_string()]);
    assert!(entries(&env.cache().join("tmp"), "build-").is_empty());
    assert!(!stdout_of(&run(env.luaenv().arg("doctor"))).contains("leftover"));

    // `install --force` over a prefix the user added to: one warning line names what goes.
    let prefix = env.prefix("5.4.7");
    std::fs::write(prefix.join("share/lua/5.4/mymod.lua"), "return 1\n").unwrap();
    let out = run(install().arg("--force"));
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: --force")).collect();
    assert!(warnings.len() == 1 && warnings[0].contains("share/lua/5.4/mymod.lua"), "{err}");
    assert!(!prefix.join("share/lua/5.4/mymod.lua").exists());
    assert_eq!(env.versions_entries(), vec!["5.4.7".to_string()]);
}

#[test]
fn a_second_install_waits_for_the_lock_saying_so_once() {
    let fixtures = fixtures_or_skip!("a_second_install_waits_for_the_lock_saying_so_once");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let install = || spawn(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror", &server.url]));
    let mut first = install();
    wait_until("the first install started compiling", &mut first, || compiling(&env));
    let second = install();
    let (first, second) = (first.wait_with_output().unwrap(), second.wait_with_output().unwrap());
    assert!(first.status.success() && second.status.success(), "{}\n{}", stderr(&first), stderr(&second));
    let waiting = "luaenv: waiting for another luaenv to finish installing 5.4.7…";
    assert_eq!(stderr(&second).lines().filter(|l| *l == waiting).count(), 1, "{}", stderr(&second));
    assert!(!stderr(&first).contains("waiting"), "{}", stderr(&first));
    assert!(stderr(&second).contains("already installed"), "{}", stderr(&second));
    assert_eq!(env.versions_entries(), vec!["5.4.7".to_string()]);
    let downloads = server.paths.lock().unwrap().iter().filter(|p| p.ends_with("lua-5.4.7.tar.gz")).count();
    assert_eq!(downloads, 1);
}

fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn jobs_caps_the_compilers_running_at_once_luajit_host_tools_included() {
    let fixtures = fixtures_or_skip!("jobs_caps_the_compilers_running_at_once_luajit_host_tools_included");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    // A compiler wrapper that counts how many of it run at once, then runs the real one.
    let counts = tempfile::tempdir().unwrap();
    let real = ["cc", "gcc"].iter().find_map(|c| which(c)).expect("a C compiler");
    let wrapper = counts.path().join("count-cc");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nd='{d}'\nmkdir \"$d/run.$$\"\nls -d \"$d\"/run.* | wc -l >> \"$d/counts\"\nsleep 0.05\n'{real}' \"$@\"\nrc=$?\nrmdir \"$d/run.$$\"\nexit $rc\n",
            d = counts.path().display(),
            real = real.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run(env.luaenv().args(["install", "luajit-2.1", "--no-rocks", "--jobs", "2", "--mirror", &server.url]).env("CC", &wrapper));
    assert!(out.status.success(), "{}", stderr(&out));
    let counts: Vec<usize> = std::fs::read_to_string(counts.path().join("counts")).unwrap().lines().map(|l| l.trim().parse().unwrap()).collect();
    assert!(counts.len() > 50, "every compile went through the wrapper: {}", counts.len());
    assert!(counts.iter().all(|n| *n <= 2), "more than 2 compilers at once: max {:?}", counts.iter().max());
    assert!(counts.contains(&2), "the two jobs did run side by side");
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(program)).find(|p| p.is_file())
}

#[test]
fn a_prefix_left_aside_by_a_killed_force_install_is_put_back() {
    let fixtures = fixtures_or_skip!("a_prefix_left_aside_by_a_killed_force_install_is_put_back");
    let env = Env::new();
    // What the portable two-rename swap leaves when killed between its renames: the only
    // copy of the prefix, aside, by a process that is gone.
    let aside = env.root().join("versions/.old-5.4.7-2147483646");
    std::fs::create_dir_all(aside.join("bin")).unwrap();
    std::fs::write(aside.join("luaenv-receipt.json"), "{}").unwrap();
    let doctor = stdout_of(&run(env.luaenv().arg("doctor")));
    assert!(doctor.contains(&format!("leftover of an interrupted install: {}", aside.display())), "{doctor}");
    let out = run(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror"]).arg(fixtures.join("mirror")));
    let err = stderr(&out);
    assert!(out.status.success() && err.contains("restored 5.4.7") && err.contains("already installed"), "{err}");
    assert_eq!(env.versions_entries(), vec!["5.4.7".to_string()]);
    assert!(env.prefix("5.4.7").join("luaenv-receipt.json").is_file());
}

#[test]
fn a_root_that_is_not_utf8_installs_without_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let fixtures = fixtures_or_skip!("a_root_that_is_not_utf8_installs_without_a_panic");
    let env = Env::new();
    let root = env.dir.path().join(std::ffi::OsStr::from_bytes(b"root-\xff"));
    let out = run(env.luaenv().args(["install", "5.1.5", "--no-rocks", "--mirror"]).arg(fixtures.join("mirror")).env("LUAENV_ROOT", &root));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ok(Command::new(root.join("versions/5.1.5/bin/lua")).args(["-e", "print(_VERSION)"])).trim(), "Lua 5.1");
}
