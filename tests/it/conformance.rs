//! Conformance: the official Lua test suites (the `testes/` folder of each release) pass on
//! luaenv-built Lua exactly as they do on a Lua built with upstream's own `make`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{Env, Server, cross_tools, fixtures_or_skip, ok, run, stderr, stdout, world_or_skip};

/// The suite's own last words: a run that stops early (a crash, a truncated file list) never prints them.
pub(crate) const SUITE_DONE: &str = "final OK !!!";

/// Unpacks `lua-<release>-tests.tar.gz` into its own temporary folder (the suite writes
/// files beside itself) and returns that folder with the path of its `testes/`.
pub(crate) fn unpack_suite(fixtures: &Path, release: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new().prefix("luaenv-testes-").tempdir().unwrap();
    let tarball = std::fs::File::open(fixtures.join(format!("testes/lua-{release}-tests.tar.gz"))).unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(tarball)).unpack(dir.path()).unwrap();
    let testes = dir.path().join(format!("lua-{release}-tests/testes"));
    assert!(testes.join("all.lua").is_file(), "no all.lua in {}", testes.display());
    (dir, testes)
}

/// Runs `all.lua` from inside `testes/` with `interpreter` (a program and its leading
/// arguments) and checks both the exit status and the suite's own final line.
/// stdin is an empty pipe: files.lua's non-portable part checks that seeking stdin fails,
/// which it does on a pipe or a terminal, as when a person runs the suite.
fn run_suite(interpreter: &[&Path], portable: bool, testes: &Path) {
    let mut cmd = Command::new(interpreter[0]);
    cmd.args(&interpreter[1..]);
    run_suite_with(cmd, portable, testes);
}

/// `run_suite` with a command already holding the interpreter and any leading arguments
/// (a runner such as wine with its environment, or `-e` lines that must come first).
pub(crate) fn run_suite_with(mut cmd: Command, portable: bool, testes: &Path) {
    cmd.current_dir(testes).stdin(Stdio::piped());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("LUA_") {
            cmd.env_remove(name);
        }
    }
    if portable {
        cmd.arg("-e_U=true");
    }
    cmd.arg("all.lua");
    let mut out = run_in_own_group(&mut cmd);
    // main.lua's Ctrl-C check reads a background script's pid and its first line from one
    // pipe, and under load the script can print before the shell echoes `$!` (the suite
    // says so itself: "if test fails now, it may leave a Lua script running"). That race,
    // and only it, gets a second run.
    if !out.status.success() && stdout(&out).contains("testing Ctrl C") && stderr(&out).contains("main.lua:") {
        eprintln!("the suite's Ctrl-C check lost its race with the shell; running the suite again:\n{}", stderr(&out));
        out = run_in_own_group(&mut cmd);
    }
    let said = stdout(&out);
    let tail: Vec<&str> = said.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect();
    assert!(out.status.success(), "{cmd:?} failed: {}\n{}\n{}", out.status, tail.join("\n"), stderr(&out));
    assert!(said.lines().any(|l| l.trim_end() == SUITE_DONE), "{cmd:?} exited 0 without {SUITE_DONE:?}:\n{}", tail.join("\n"));
}

/// Runs a suite in a process group of its own, its output in files rather than pipes: a
/// background script it leaves behind (the Ctrl-C check, when it fails) can neither keep the
/// test waiting for the pipes to close nor spin on after it: the whole group is killed.
fn run_in_own_group(cmd: &mut Command) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let (mut out_file, mut err_file) = (tempfile::tempfile().unwrap(), tempfile::tempfile().unwrap());
    cmd.process_group(0).stdout(out_file.try_clone().unwrap()).stderr(err_file.try_clone().unwrap());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{cmd:?} cannot run: {e}"));
    let status = child.wait().unwrap();
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).stderr(Stdio::null()).status();
    let read = |file: &mut std::fs::File| {
        use std::io::{Read, Seek};
        let mut bytes = Vec::new();
        file.seek(std::io::SeekFrom::Start(0)).unwrap();
        file.read_to_end(&mut bytes).unwrap();
        bytes
    };
    std::process::Output { status, stdout: read(&mut out_file), stderr: read(&mut err_file) }
}

fn portable_suite_passes_on_the_world(test: &str, version: &str, release: &str) {
    let fixtures = fixtures_or_skip!(test);
    let world = world_or_skip!(test);
    let (_dir, testes) = unpack_suite(&fixtures, release);
    run_suite(&[&world.env.prefix(version).join("bin/lua")], true, &testes);
}

#[test]
fn official_5_3_suite_passes_in_portable_mode() {
    portable_suite_passes_on_the_world("official_5_3_suite_passes_in_portable_mode", "5.3.6", "5.3.6");
}

#[test]
fn official_5_4_suite_passes_in_portable_mode() {
    portable_suite_passes_on_the_world("official_5_4_suite_passes_in_portable_mode", "5.4.7", "5.4.7");
}

/// Lua publishes no 5.5.1 tests; 5.5.0's pass on 5.5.1 (fixtures README).
#[test]
fn official_5_5_suite_passes_in_portable_mode() {
    portable_suite_passes_on_the_world("official_5_5_suite_passes_in_portable_mode", "5.5.1", "5.5.0");
}


/// The whole portable suite runs under qemu-user as it is: nothing in it needs neutralising.
#[test]
fn official_5_4_suite_passes_on_the_aarch64_cross_build_under_qemu() {
    let test = "official_5_4_suite_passes_on_the_aarch64_cross_build_under_qemu";
    let fixtures = fixtures_or_skip!(test);
    if cross_tools(test).is_none() {
        return;
    }
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let target = "aarch64-unknown-linux-gnu";
    ok(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--target", target, "--mirror", &server.url]));
    let lua = env.prefix(&format!("5.4.7-{target}")).join("bin/lua");
    let (_dir, testes) = unpack_suite(&fixtures, "5.4.7");
    let qemu = PathBuf::from("qemu-aarch64");
    run_suite(&[&qemu, Path::new("-L"), Path::new("/usr/aarch64-linux-gnu"), &lua], true, &testes);
}

/// Builds `testes/libs/` as its makefile does, against the prefix's headers found through
/// the prefix's own `lua.pc`.
fn build_test_libraries(prefix: &Path, testes: &Path) {
    let libs = testes.join("libs");
    let cflags = ok(Command::new("pkg-config").args(["--cflags", "lua"]).env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig")));
    assert!(cflags.contains(&prefix.join("include").display().to_string()), "lua.pc: {cflags}");
    // The makefile's pairs: lib2-v2.so is built from lib22.c.
    for (lib, source) in [("lib1", "lib1"), ("lib11", "lib11"), ("lib2", "lib2"), ("lib21", "lib21"), ("lib2-v2", "lib22")] {
        let mut cc = Command::new("cc");
        cc.args(["-Wall", "-std=gnu99", "-O2"]).args(cflags.split_whitespace()).args(["-fPIC", "-shared", "-o"]);
        ok(cc.arg(format!("{lib}.so")).arg(format!("{source}.c")).current_dir(&libs));
    }
}

/// The non-portable suite loads C modules (which need the interpreter to export the Lua API,
/// `-Wl,-E`, as `make linux` links it) and drives `lua -i`, whose tests in main.lua expect
/// readline's echo of the input: upstream's own `make linux` build fails them too
/// (main.lua:380), `make linux-readline` passes, so this runs on `--readline`, its equivalent.
#[test]
fn official_5_4_suite_with_its_c_libraries_passes_on_a_native_readline_build() {
    let test = "official_5_4_suite_with_its_c_libraries_passes_on_a_native_readline_build";
    let fixtures = fixtures_or_skip!(test);
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let out = run(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--readline", "--mirror", &server.url]));
    assert!(out.status.success(), "{}", stderr(&out));
    if stderr(&out).contains("readline headers not found") {
        assert!(std::env::var("LUAENV_REQUIRE_FIXTURES").as_deref() != Ok("1"), "{test}: CI installs libreadline-dev");
        println!("skipped {test}: libreadline-dev is not installed");
        return;
    }
    let prefix = env.prefix("5.4.7");
    let (_dir, testes) = unpack_suite(&fixtures, "5.4.7");
    build_test_libraries(&prefix, &testes);
    run_suite(&[&prefix.join("bin/lua")], false, &testes);
}

/// `luajit -jv` loads `jit.v` from the folder the interpreter was built to search.
pub(crate) fn prints_traces(luajit: &mut Command) {
    let out = run(luajit.args(["-jv", "-e", "for i = 1, 200 do end"]));
    // jit.v writes its trace lines to stderr.
    let said = stderr(&out);
    assert!(out.status.success(), "{luajit:?} failed: {said}");
    assert!(said.lines().any(|l| l.starts_with("[TRACE") && l.contains("loop")), "no trace line from -jv: {said}");
}

/// LuaJIT's 2.0 branch names its module folder `share/luajit-2.0/` in its luaconf.h: the jit.*
/// modules go there, and a project sandbox (whose LUA_PATH replaces the default) finds them too.
#[test]
fn luajit_2_0_gets_its_jit_modules_where_its_luaconf_says() {
    let test = "luajit_2_0_gets_its_jit_modules_where_its_luaconf_says";
    let fixtures = fixtures_or_skip!(test);
    let env = Env::new();
    let tarball = fixtures.join("local/LuaJIT-2.0-git.tar.gz");
    let sum = ok(Command::new("sha256sum").arg(&tarball)).split_whitespace().next().unwrap().to_string();
    ok(env.luaenv().args(["install", "luajit-2.0", "--no-rocks", "--sha256", &sum, "--from"]).arg(&tarball));
    let prefix = env.prefix("luajit-2.0");
    assert!(prefix.join("share/luajit-2.0/jit/v.lua").is_file() && !prefix.join("share/luajit-2.1").exists());
    prints_traces(&mut Command::new(prefix.join("bin/luajit")));

    ok(env.luaenv().args(["rocks", "install", "3.8.0", "--from"]).arg(fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz")).env("LUAENV_VERSION", "luajit-2.0"));
    let project = env.dir.path().join("proj");
    ok(env.luaenv().arg("init").arg(&project).args(["--lua", "luajit-2.0"]));
    let in_project = || {
        let mut shim = Command::new(env.root().join("shims/luajit"));
        env.apply(&mut shim);
        shim.current_dir(&project);
        shim
    };
    let path = ok(in_project().args(["-e", "io.write(package.path)"]));
    assert!(path.contains("lua_modules") && !path.contains("luajit-2.1"), "not the sandbox's path: {path}");
    prints_traces(&mut in_project());
}

/// The rolling 2.1 branch, served by a loopback mirror whose SHA256SUMS vouches for it.
#[test]
fn luajit_2_1_branch_from_the_mirror_traces_with_jv() {
    let test = "luajit_2_1_branch_from_the_mirror_traces_with_jv";
    let fixtures = fixtures_or_skip!(test);
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    ok(env.luaenv().args(["install", "luajit-2.1", "--no-rocks", "--mirror", &server.url]));
    let prefix = env.prefix("luajit-2.1");
    let receipt: serde_json::Value = serde_json::from_slice(&std::fs::read(prefix.join("luaenv-receipt.json")).unwrap()).unwrap();
    assert_eq!(receipt["source"]["checksum"], "mirror");
    assert!(prefix.join("share/luajit-2.1/jit/v.lua").is_file());
    prints_traces(&mut Command::new(prefix.join("bin/luajit")));
}
