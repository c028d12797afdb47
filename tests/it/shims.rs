//! Shims, version selection and shell integration, with real shells.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{BIN, Env, fails, ok, run, stderr, stdout, world_or_skip};

fn pinned_dir(parent: &Path, name: &str, version: &str) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".lua-version"), format!("{version}\n")).unwrap();
    dir
}

fn lua_version(out: &std::process::Output) -> String {
    format!("{}{}", stdout(out), stderr(out)).trim().to_string()
}

#[test]
fn the_lua_shim_follows_the_nearest_version_file() {
    let world = world_or_skip!("the_lua_shim_follows_the_nearest_version_file");
    let env = &world.env;
    let top = tempfile::tempdir().unwrap();
    let a = pinned_dir(top.path(), "a", "5.4.7");
    let b = pinned_dir(top.path(), "b", "5.3.6");
    let deep = a.join("src/deeper");
    std::fs::create_dir_all(&deep).unwrap();
    assert!(lua_version(&run(env.shim("lua").arg("-v").current_dir(&deep))).starts_with("Lua 5.4.7"));
    assert!(lua_version(&run(env.shim("lua").arg("-v").current_dir(&b))).starts_with("Lua 5.3.6"));
    // `lua script.lua` follows the script's own folder first.
    std::fs::write(b.join("which.lua"), "print(_VERSION)").unwrap();
    assert_eq!(ok(env.shim("lua").arg("../b/which.lua").current_dir(&a)).trim(), "Lua 5.3");
    // LUAENV_VERSION wins over any file.
    assert!(lua_version(&run(env.shim("lua").arg("-v").current_dir(&a).env("LUAENV_VERSION", "5.1.5"))).starts_with("Lua 5.1.5"));
    // A series in .lua-version picks the newest installed release of it; CRLF and comments are fine.
    let c = top.path().join("c");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::write(c.join(".lua-version"), "# pinned for CI\r\n5.4\r\n").unwrap();
    assert!(lua_version(&run(env.shim("lua").arg("-v").current_dir(&c))).starts_with("Lua 5.4.7"));
    // A `lua` line of .tool-versions counts too.
    let d = top.path().join("d");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(".tool-versions"), "nodejs 20.1.0\nlua 5.5.1\n").unwrap();
    assert!(lua_version(&run(env.shim("lua").arg("-v").current_dir(&d))).starts_with("Lua 5.5.1"));
    let current = ok(env.luaenv().arg("current").current_dir(&d));
    assert_eq!(current.trim(), format!("5.5.1 (set by {}/.tool-versions)", d.display()));
    assert_eq!(ok(env.luaenv().args(["which", "luac"]).current_dir(&b)).trim(), env.prefix("5.3.6").join("bin/luac").display().to_string());
    assert!(ok(env.luaenv().args(["exec", "lua", "-e", "print(_VERSION)"]).current_dir(&b)).starts_with("Lua 5.3"));
}

#[test]
fn global_and_local_write_the_files_that_select() {
    let world = world_or_skip!("global_and_local_write_the_files_that_select");
    let env = &world.view();
    ok(env.luaenv().arg("rehash"));
    let dir = tempfile::tempdir().unwrap();
    ok(env.luaenv().args(["global", "5.1.5"]));
    assert_eq!(ok(env.luaenv().arg("global")).trim(), "5.1.5");
    let current = ok(env.luaenv().arg("current").current_dir(dir.path()));
    assert_eq!(current.trim(), format!("5.1.5 (set by {})", env.root().join("version").display()));
    ok(env.luaenv().args(["local", "5.3.6"]).current_dir(dir.path()));
    assert_eq!(std::fs::read_to_string(dir.path().join(".lua-version")).unwrap(), "5.3.6\n");
    assert_eq!(ok(env.luaenv().arg("local").current_dir(dir.path())).trim(), "5.3.6");
    assert!(lua_version(&run(env.shim("lua").arg("-v").current_dir(dir.path()))).starts_with("Lua 5.3.6"));
    fails(env.luaenv().args(["local", "5.2.4"]).current_dir(dir.path()), 2, "not installed");
    fails(env.luaenv().args(["global", "nope/../x"]), 2, "not a version name");
}

#[test]
fn a_shim_passes_arguments_stdin_and_exit_status_through() {
    let world = world_or_skip!("a_shim_passes_arguments_stdin_and_exit_status_through");
    let dir = tempfile::tempdir().unwrap();
    let project = pinned_dir(dir.path(), "p", "5.4.7");
    std::fs::write(project.join("args.lua"), "for i = 1, #arg do io.write('[', arg[i], ']') end io.write(io.read('a')) os.exit(7)").unwrap();
    let mut child = world.env.shim("lua")
        .args(["args.lua", "two words", "it's \"quoted\"", "$HOME", ""])
        .current_dir(&project)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"from stdin\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(stdout(&out), "[two words][it's \"quoted\"][$HOME][]from stdin\n");
}

#[test]
fn a_signal_to_the_shim_reaches_lua_with_no_parent_left() {
    let world = world_or_skip!("a_signal_to_the_shim_reaches_lua_with_no_parent_left");
    let dir = tempfile::tempdir().unwrap();
    let project = pinned_dir(dir.path(), "p", "5.4.7");
    let mut child = world.env.shim("lua").args(["-e", "while true do end"]).current_dir(&project).spawn().unwrap();
    let real = world.env.prefix("5.4.7").join("bin/lua");
    let exe = Path::new("/proc").join(child.id().to_string()).join("exe");
    // The shim's process becomes lua itself (exec): same pid, no parent left behind.
    let mut became_lua = false;
    for _ in 0..100 {
        if std::fs::read_link(&exe).is_ok_and(|p| p == real) {
            became_lua = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    ok(Command::new("kill").args(["-TERM", &child.id().to_string()]));
    let status = child.wait().unwrap();
    assert!(became_lua, "the shim's pid did not become {}", real.display());
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(15), "{status:?}");
}

#[test]
fn shim_errors_say_how_to_fix_them() {
    let world = world_or_skip!("shim_errors_say_how_to_fix_them");
    let env = &world.env;
    let dir = tempfile::tempdir().unwrap();
    let missing = pinned_dir(dir.path(), "m", "5.2.4");
    // Not installed is a wrong request (2), through a shim as through `luaenv`.
    let line = fails(env.shim("lua").arg("-v").current_dir(&missing), 2, "5.2.4");
    assert!(line.contains(&missing.join(".lua-version").display().to_string()) && line.contains("luaenv install 5.2.4"), "{line}");
    // A command only other versions have (the World's 5.5.1 has no LuaRocks): it names them.
    let other = pinned_dir(dir.path(), "o", "5.5.1");
    let line = fails(env.shim("luarocks").arg("--version").current_dir(&other), 2, "not in 5.5.1");
    assert!(line.contains("5.4.7") && line.contains("5.1.5"), "{line}");
    let there = pinned_dir(dir.path(), "t", "5.4.7");
    assert!(ok(env.shim("luarocks").arg("--version").current_dir(&there)).contains("3.8.0"));

    // No version selected at all: a fresh root with no global default.
    let fresh = Env::new();
    let link = fresh.dir.path().join("lua");
    std::os::unix::fs::symlink(BIN, &link).unwrap();
    let mut cmd = Command::new(&link);
    fresh.apply(&mut cmd);
    let line = fails(cmd.current_dir(fresh.dir.path()), 2, "no Lua version selected");
    assert!(line.contains("LUAENV_VERSION") && line.contains("luaenv local") && line.contains("luaenv global"), "{line}");
}

#[test]
fn rehash_is_safe_when_several_run_at_once() {
    let world = world_or_skip!("rehash_is_safe_when_several_run_at_once");
    let view = world.view();
    let children: Vec<_> = (0..4).map(|_| view.luaenv().arg("rehash").stderr(Stdio::piped()).spawn().unwrap()).collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for name in ["lua", "luac"] {
        assert!(view.root().join("shims").join(name).is_file());
    }
    let leftovers: Vec<_> = std::fs::read_dir(view.root().join("shims")).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().starts_with('.')).collect();
    assert!(leftovers.is_empty());
}

#[test]
fn completions_in_the_repository_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in [("bash", "luaenv.bash"), ("zsh", "_luaenv"), ("fish", "luaenv.fish"), ("powershell", "_luaenv.ps1")] {
        let fresh = ok(Command::new(BIN).args(["completions", shell]));
        let checked_in = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        assert!(fresh == checked_in, "completions/{file} is stale: run scripts/update-completions.sh");
    }
}

/// A root path no shell code may trip over.
fn hostile_env() -> Env {
    let env = Env::new();
    let odd = env.dir.path().join("it's a \"$dir\" \\ with spaces");
    std::fs::create_dir_all(&odd).unwrap();
    env
}

#[test]
fn activate_puts_shims_first_once_in_every_real_shell() {
    let env = hostile_env();
    let root = env.dir.path().join("it's a \"$dir\" \\ with spaces");
    let shims = root.join("shims").display().to_string();
    let cases = [
        ("bash", vec!["-c", "eval \"$(\"$LUAENV_BIN\" activate bash)\"; eval \"$(\"$LUAENV_BIN\" activate bash)\"; printf '%s' \"$PATH\""]),
        ("zsh", vec!["-c", "eval \"$(\"$LUAENV_BIN\" activate zsh)\"; eval \"$(\"$LUAENV_BIN\" activate zsh)\"; printf '%s' \"$PATH\""]),
        ("fish", vec!["-c", "$LUAENV_BIN activate fish | source; $LUAENV_BIN activate fish | source; printf '%s' (string join : $PATH)"]),
    ];
    for (shell, args) in cases {
        let mut cmd = Command::new(shell);
        env.apply(&mut cmd);
        let out = ok(cmd.args(&args).env("LUAENV_ROOT", &root).env("LUAENV_BIN", BIN).env("PATH", format!("/usr/bin:{shims}:/bin")));
        let parts: Vec<&str> = out.split(':').collect();
        assert_eq!(parts[0], shims, "{shell}: shims first in {out}");
        assert_eq!(parts.iter().filter(|p| **p == shims).count(), 1, "{shell}: shims once in {out}");
        assert!(parts.contains(&"/usr/bin") && parts.contains(&"/bin"), "{shell}: {out}");
    }
}

#[test]
fn after_install_sh_a_new_shell_runs_the_pinned_lua() {
    let world = world_or_skip!("after_install_sh_a_new_shell_runs_the_pinned_lua");
    let view = world.view();
    let home = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh");
    let install = || {
        let mut cmd = Command::new("bash");
        cmd.arg(&script).args(["--binary", BIN]).env("HOME", home.path()).env("LUAENV_ROOT", view.root()).env("PATH", "/usr/bin:/bin");
        ok(&mut cmd)
    };
    let said = install();
    assert!(said.contains("added luaenv to"), "{said}");
    let rc_files = [".bashrc", ".zshrc", ".config/fish/conf.d/luaenv.fish"];
    let before: Vec<String> = rc_files.iter().map(|f| std::fs::read_to_string(home.path().join(f)).unwrap()).collect();
    let again = install();
    assert!(again.contains("already"), "{again}");
    let after: Vec<String> = rc_files.iter().map(|f| std::fs::read_to_string(home.path().join(f)).unwrap()).collect();
    assert_eq!(before, after, "a second install.sh changes nothing");

    let top = tempfile::tempdir().unwrap();
    pinned_dir(top.path(), "a", "5.4.7");
    pinned_dir(top.path(), "b", "5.3.6");
    let line = "cd a && lua -v && cd ../b && lua -v";
    for (shell, args) in [("bash", vec!["-i", "-c", line]), ("zsh", vec!["-i", "-c", line]), ("fish", vec!["-c", "cd a; and lua -v; and cd ../b; and lua -v"])] {
        let mut cmd = Command::new(shell);
        cmd.args(&args)
            .current_dir(top.path())
            .env_clear()
            .env("HOME", home.path())
            .env("LUAENV_ROOT", view.root())
            .env("PATH", "/usr/bin:/bin")
            .env("TERM", "dumb")
            .stdin(Stdio::null());
        let out = ok(&mut cmd);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() == 2 && lines[0].starts_with("Lua 5.4.7") && lines[1].starts_with("Lua 5.3.6"), "{shell}: {out}");
    }
}

#[test]
fn doctor_passes_a_healthy_setup_and_names_each_problem_with_its_fix() {
    let world = world_or_skip!("doctor_passes_a_healthy_setup_and_names_each_problem_with_its_fix");
    let here = tempfile::tempdir().unwrap();
    let mut healthy = world.env.luaenv();
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", world.env.root().join("shims").display());
    let out = run(healthy.arg("doctor").current_dir(here.path()).env("PATH", &path));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(!stdout(&out).contains("problem"), "{}", stdout(&out));
    assert!(stdout(&out).contains("ok      shims first on PATH") && stdout(&out).contains("5.4.7: runs, LuaRocks configured"), "{}", stdout(&out));

    // A broken one: a prefix without receipt and without shims, a staging leftover, a
    // readable credentials file, a project whose locked Lua is missing, shims not on PATH.
    let env = Env::new();
    let versions = env.root().join("versions");
    std::fs::create_dir_all(versions.join("5.3.6/bin")).unwrap();
    std::fs::write(versions.join("5.3.6/bin/lua"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(versions.join("5.3.6/bin/lua"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(versions.join(".staging-5.4.7-x1")).unwrap();
    std::fs::create_dir_all(env.root().join("credentials")).unwrap();
    std::fs::write(env.root().join("credentials/.netrc"), "machine h login u password p\n").unwrap();
    std::fs::set_permissions(env.root().join("credentials/.netrc"), std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let project = here.path().join("proj");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("luaenv.lock"),
        "[lua]\nname = \"5.1.5\"\nversion = \"5.1.5\"\nurl = \"https://www.lua.org/ftp/lua-5.1.5.tar.gz\"\nsha256 = \"2640fc56a795f29d28ef15e13c34a47e223960b0240e8cb0a82d9b0738695333\"\n",
    )
    .unwrap();
    std::fs::write(project.join(".lua-version"), "5.3.6\n").unwrap();
    let mut broken = env.luaenv();
    let out = run(broken.arg("doctor").current_dir(&project).env("PATH", "/usr/local/bin:/usr/bin:/bin"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("luaenv: doctor found 4 problem(s) and 3 warning(s)"), "{}", stderr(&out));
    let report = stdout(&out);
    for (finding, fix) in [
        ("is not on PATH", "luaenv activate bash"),
        ("no shim for: lua", "run `luaenv rehash`"),
        ("leftover of an interrupted install", "rm -rf"),
        ("5.3.6: no luaenv receipt", "luaenv install 5.3.6 --force"),
        ("has mode 644", "chmod 600"),
        ("Lua 5.1.5 from luaenv.lock is not installed", "run `luaenv sync`"),
        (".lua-version says 5.3.6 but luaenv.lock pins 5.1.5", "luaenv init --lua 5.3.6"),
    ] {
        let at = report.find(finding).unwrap_or_else(|| panic!("{finding} not in:\n{report}"));
        assert!(report[at..].lines().nth(1).is_some_and(|l| l.contains("fix:") && l.contains(fix)), "{finding}: no fix {fix:?} in:\n{report}");
    }
}
