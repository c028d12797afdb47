//! Smoke test: a new interpreter must run before it is moved into place.

use std::path::Path;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Result, bail};

use crate::install::build::Toolchain;

const CHECK: &str = "print(_VERSION) assert((loadstring or load)('return 42')() == 42)";

/// Runs `bin/<interpreter> -e CHECK` in the staged prefix and returns what it printed.
/// A cross build runs where this machine can run it (natively for the same CPU and OS, under
/// qemu-user for another CPU, under wine for Windows) and is skipped, with a note, when not.
pub fn smoke_test(staged: &Path, interpreter: &str, tc: &Toolchain) -> Result<()> {
    let program = staged.join("bin").join(target_program(interpreter, &tc.target));
    check_built_for(&program, &tc.target, &tc.compiler)?;
    let wine = runner(&tc.target, &tc.host) == Runner::Wine;
    if let Some(problem) = wineprefix_problem().filter(|_| wine) {
        bail!("cannot smoke-test the {} build: {problem}; nothing was installed", tc.target);
    }
    let Some(mut cmd) = command_for(&program, &tc.target, &tc.host) else {
        eprintln!("note: the {} build was not smoke-tested: {} is not installed", tc.target, runner_tool(&tc.target));
        return Ok(());
    };
    without_lua_environment(cmd.arg("-e").arg(CHECK));
    let bare = is_bare(&cmd);
    if bare {
        verbose_note("smoke test under a bare wine (no wineboot, no services)");
    }
    let mut output = output_of(&mut cmd);
    // Should the bare wine not do on some machine, the whole of it decides, in a prefix wine
    // makes itself.
    // (Not when it was stopped for running too long: that is the program's own doing.)
    if bare && output.as_ref().is_ok_and(|o| !o.status.success()) {
        verbose_note("the bare wine could not run it; smoke test under the whole of wine");
        whole_wine(&mut cmd);
        output = output_of(&mut cmd);
    }
    // The staged prefix is gone when the message is read: the program is named within it.
    let shown = Path::new("bin").join(program.file_name().unwrap_or_default());
    let output = output.map_err(|e| anyhow::anyhow!("smoke test failed: cannot run the new {}: {e}; nothing was installed", shown.display()))?;
    let printed = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || !printed.starts_with("Lua") {
        bail!(
            "smoke test failed: the new {} did not run ({}): {}; nothing was installed",
            shown.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// Takes out what would make Lua run code or look for modules before the check: `LUA_INIT`,
/// `LUA_PATH`, `LUA_CPATH` and their versioned forms (`LUA_INIT_5_4`…).
pub fn without_lua_environment(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if ["LUA_INIT", "LUA_PATH", "LUA_CPATH"].iter().any(|name| key_text == *name || key_text.starts_with(&format!("{name}_"))) {
            cmd.env_remove(&key);
        }
    }
    cmd
}

/// What is wrong with the user's `$WINEPREFIX`, if anything wine would trip on.
pub fn wineprefix_problem() -> Option<String> {
    let prefix = user_wineprefix()?;
    let path = Path::new(&prefix);
    (path.exists() && !path.is_dir()).then(|| format!("WINEPREFIX ({}) is not a folder; unset it (luaenv then uses a wine prefix of its own) or point it at a wine prefix", path.display()))
}

/// `$WINEPREFIX`, when set to something (empty is unset, as for most tools).
fn user_wineprefix() -> Option<std::ffi::OsString> {
    std::env::var_os("WINEPREFIX").filter(|p| !p.is_empty())
}

fn verbose_note(line: &str) {
    if crate::install::progress::verbose() {
        crate::install::progress::note(&format!("  {line}"));
    }
}

/// The program must be built for the target's CPU: a compiler named with CC for another CPU
/// (or one that ignores the flags it is given) would otherwise install this machine's program
/// under the target's name.
fn check_built_for(program: &Path, target: &str, compiler: &str) -> Result<()> {
    use crate::shim::BuiltFor;
    let expected = if crate::install::build::is_windows(target) {
        BuiltFor::Windows
    } else {
        BuiltFor::Elf(match arch_of(target) {
            "x86_64" => 62,
            "aarch64" => 183,
            "i386" | "i486" | "i586" | "i686" => 3,
            a if a.starts_with("arm") || a.starts_with("thumb") => 40,
            a if a.starts_with("riscv64") => 243,
            "powerpc64" | "powerpc64le" => 21,
            "s390x" => 22,
            _ => return Ok(()),
        })
    };
    // A missing program (or a script) fails the smoke test itself, with its own message.
    let built = match crate::shim::built_for(program) {
        None => return Ok(()),
        Some(built) if built == expected => return Ok(()),
        Some(BuiltFor::Windows) => "a Windows program".to_string(),
        Some(BuiltFor::Elf(machine)) => format!("an ELF program for machine {machine}"),
    };
    bail!(
        "build failed: the C compiler ({compiler}) made `{}` {built}, not one for {target}; set CC_{} to a compiler for {target}; nothing was installed",
        program.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        target.replace('-', "_")
    )
}

/// What the program printed, read from files rather than pipes once it exited: a wineserver
/// that the program started inherits its stdout and stderr and keeps them open for a while
/// after the program ended, and reading pipes to their end would wait for it.
/// One wine program at a time: bare wines started together on a cold wineserver can wait on
/// each other for minutes. And none runs for more than `RUN_DEADLINE`.
pub fn output_of(cmd: &mut Command) -> std::io::Result<std::process::Output> {
    let _one_wine = is_wine(cmd).then(lock_wine);
    let (stdout, stderr) = (tempfile::tempfile()?, tempfile::tempfile()?);
    let mut child = cmd.stdin(Stdio::null()).stdout(stdout.try_clone()?).stderr(stderr.try_clone()?).spawn()?;
    let status = wait_at_most(&mut child, RUN_DEADLINE)?;
    let read = |mut file: std::fs::File| -> std::io::Result<Vec<u8>> {
        use std::io::{Read, Seek};
        let mut bytes = Vec::new();
        file.rewind()?;
        file.take(crate::limits::MAX_TEXT).read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    Ok(std::process::Output { status, stdout: read(stdout)?, stderr: read(stderr)? })
}

/// Long enough for wine to make a whole prefix on a slow machine.
const RUN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);

/// Waits for the child, killing it once `deadline` has passed.
fn wait_at_most(child: &mut std::process::Child, deadline: std::time::Duration) -> std::io::Result<std::process::ExitStatus> {
    let (ended, watch) = std::sync::mpsc::channel::<()>();
    let pid = child.id() as libc::pid_t;
    let watchdog = std::thread::spawn(move || match watch.recv_timeout(deadline) {
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            // SAFETY: kill(2) on our own child. It is still unreaped unless `wait` returned in the
            // instant before `ended` was dropped, 120 s in; a pid is not reused that fast.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            true
        }
        _ => false,
    });
    let status = child.wait();
    drop(ended);
    if watchdog.join().unwrap_or(false) {
        return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, format!("it was still running after {} s and was stopped", deadline.as_secs())));
    }
    status
}

/// How this machine runs a program built for a target.
#[derive(Debug, PartialEq)]
enum Runner {
    Native,
    Qemu,
    Wine,
}

fn arch_of(target: &str) -> &str {
    target.split('-').next().unwrap_or_default()
}

fn runner(target: &str, host: &str) -> Runner {
    if crate::install::build::is_windows(target) {
        Runner::Wine
    } else if arch_of(target) == arch_of(host) && target.contains("-linux") == host.contains("-linux") {
        // Another C library for the same CPU and kernel (`x86_64-unknown-linux-musl`) runs here.
        Runner::Native
    } else {
        Runner::Qemu
    }
}

/// The tool a program built for `target` needs to run on this machine when it does not run
/// here as it is: `wine`, or `qemu-<arch>`.
pub fn runner_tool(target: &str) -> String {
    if crate::install::build::is_windows(target) { "wine".to_string() } else { format!("qemu-{}", arch_of(target)) }
}

/// Whether a program built for `target` runs on this machine as it is (no qemu, no wine).
pub fn runs_natively(target: &str, host: &str) -> bool {
    runner(target, host) == Runner::Native
}

/// `lua` → `lua.exe` for Windows targets.
pub fn target_program(name: &str, target: &str) -> String {
    if crate::install::build::is_windows(target) { format!("{name}.exe") } else { name.to_string() }
}

/// A command that runs `program`, built for `target`, on this machine: directly, under
/// `qemu-<arch>` (with Debian's cross sysroot) or under `wine` (with luaenv's own wine prefix);
/// `None` when the tool it needs is not installed.
pub fn command_for(program: &Path, target: &str, host: &str) -> Option<Command> {
    match runner(target, host) {
        Runner::Native => Some(Command::new(program)),
        Runner::Qemu => {
            let qemu = format!("qemu-{}", arch_of(target));
            crate::rehash::find_on_path(&qemu)?;
            let mut cmd = Command::new(qemu);
            let sysroot = Path::new("/usr").join(gnu_dir(target));
            if sysroot.is_dir() {
                cmd.arg("-L").arg(sysroot);
            }
            cmd.arg(program);
            Some(cmd)
        }
        Runner::Wine => {
            let wine = crate::rehash::find_on_path("wine").or_else(|| crate::rehash::find_on_path("wine64"))?;
            let mut cmd = Command::new(wine);
            cmd.arg(program);
            wine_environment(&mut cmd);
            Some(cmd)
        }
    }
}

/// wine's prefix and settings: the user's `$WINEPREFIX` as it is, else luaenv's own (see
/// `make_own_prefix`), where wine runs bare (`BARE_WINE`). Its debug chatter is off, and no
/// Mono or Gecko installer is offered for a console program.
fn wine_environment(cmd: &mut Command) {
    cmd.env("WINEDEBUG", "-all").env("WINEDLLOVERRIDES", "mscoree,mshtml=");
    match user_wineprefix() {
        Some(prefix) if Path::new(&prefix).join("system.reg").is_file() => {
            cmd.env("WINEDLLOVERRIDES", BARE_WINE);
        }
        Some(_) => {}
        None => {
            let own = crate::context::cache_dir().join("wine");
            let dlls = wine_dlls(Path::new(cmd.get_program()));
            if dlls.is_none() {
                verbose_note("wine's DLLs are not beside the wine on PATH; wine makes a whole prefix (once: seconds, and 0.7 GB)");
            }
            match dlls.is_some_and(|dlls| own_prefix_is_current(&own, &dlls) || make_own_prefix(&own, &dlls)) {
                true => cmd.env("WINEPREFIX", own).env("WINEDLLOVERRIDES", BARE_WINE),
                false => cmd.env("WINEPREFIX", whole_prefix()),
            };
        }
    }
}

/// The whole of wine, in the user's prefix or in one wine makes in luaenv's cache on first
/// use (several seconds, and 0.7 GB).
fn whole_wine(cmd: &mut Command) {
    cmd.env("WINEDLLOVERRIDES", "mscoree,mshtml=");
    if user_wineprefix().is_none() {
        cmd.env("WINEPREFIX", whole_prefix());
    }
}

fn whole_prefix() -> PathBuf {
    let prefix = crate::context::cache_dir().join("wine-whole");
    let _ = std::fs::create_dir_all(&prefix);
    prefix
}

fn is_wine(cmd: &Command) -> bool {
    Path::new(cmd.get_program()).file_name().is_some_and(|name| name == "wine" || name == "wine64")
}

fn is_bare(cmd: &Command) -> bool {
    cmd.get_envs().any(|(key, value)| key == "WINEDLLOVERRIDES" && value == Some(std::ffi::OsStr::new(BARE_WINE)))
}

/// Held while a wine program runs; luaenvs sharing a cache take turns.
fn lock_wine() -> Option<crate::lock::Lock> {
    let cache = crate::context::cache_dir();
    std::fs::create_dir_all(&cache).ok()?;
    crate::lock::acquire_file(&cache.join("wine.lock"), "running a program under wine").ok()
}

/// The DLLs that Lua and LuaJIT load under a bare wine: wine's core, either C runtime, and
/// what LuaJIT seeds its random numbers with (advapi32, and sechost, which it imports).
const CONSOLE_DLLS: &[&str] =
    &["ntdll.dll", "kernel32.dll", "kernelbase.dll", "apisetschema.dll", "msvcrt.dll", "ucrtbase.dll", "advapi32.dll", "sechost.dll"];

/// luaenv's own prefix is made, and its DLLs are this wine's (same size and time; another
/// wine's would not start with this one's loader): copies of its own, and wineboot will not
/// update it.
fn own_prefix_is_current(prefix: &Path, dlls: &Path) -> bool {
    let system32 = prefix.join("drive_c/windows/system32");
    let same = |dll: &str| match (dlls.join(dll).metadata(), system32.join(dll).symlink_metadata()) {
        (Ok(wine), Ok(copy)) => copy.is_file() && copy.len() == wine.len() && copy.modified().ok() == wine.modified().ok(),
        (Err(_), _) => true,
        (Ok(_), Err(_)) => false,
    };
    let files = [".update-timestamp", "system.reg"].iter().all(|f| prefix.join(f).symlink_metadata().is_ok_and(|m| m.is_file()));
    prefix.symlink_metadata().is_ok_and(|m| m.is_dir()) && files && CONSOLE_DLLS.iter().all(|dll| same(dll))
}

/// luaenv's wine prefix, made in an instant instead of the several seconds (and 0.7 GB) that
/// wine's first start takes to copy its 700 DLLs into `system32`: copies of the few Lua loads
/// (25 MB; links would let a program that writes in `system32` write into wine itself), the
/// environment Windows programs expect (`LEAN_REGISTRY`), and no update by wineboot
/// (`.update-timestamp` says `disable`). Whatever is in its place (half made, another wine's,
/// or not a folder) is luaenv's cache and goes. False when it cannot be made: wine then makes
/// a whole prefix.
fn make_own_prefix(prefix: &Path, dlls: &Path) -> bool {
    let Some(parent) = prefix.parent() else { return false };
    let _one_wine = lock_wine();
    if own_prefix_is_current(prefix, dlls) {
        return true;
    }
    let made = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(parent)?;
        let staged = tempfile::Builder::new().prefix(".wine-").tempdir_in(parent)?;
        let system32 = staged.path().join("drive_c/windows/system32");
        std::fs::create_dir_all(&system32)?;
        for dll in CONSOLE_DLLS {
            let Ok(wine) = dlls.join(dll).metadata() else { continue };
            std::fs::copy(dlls.join(dll), system32.join(dll))?;
            std::fs::File::options().write(true).open(system32.join(dll))?.set_modified(wine.modified()?)?;
        }
        std::fs::create_dir_all(staged.path().join("drive_c/windows/temp"))?;
        std::fs::write(staged.path().join("system.reg"), LEAN_REGISTRY)?;
        std::fs::write(staged.path().join(".update-timestamp"), "disable\n")?;
        match prefix.symlink_metadata() {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(prefix)?,
            Ok(_) => std::fs::remove_file(prefix)?,
            Err(_) => {}
        }
        std::fs::rename(staged.path(), prefix)
    })();
    if let Err(e) = &made {
        verbose_note(&format!("cannot make luaenv's wine prefix {} ({e}); wine makes a whole one", prefix.display()));
    }
    made.is_ok()
}

/// The part of the registry wineboot writes that console programs read: the system
/// environment (`PATH`, `TEMP`, `ComSpec`…). wine adds what it needs as it runs.
const LEAN_REGISTRY: &str = r#"WINE REGISTRY Version 2
;; All keys relative to \\Machine

#arch=win64

[System\\CurrentControlSet\\Control\\Session Manager\\Environment]
"ComSpec"=str(2):"%SystemRoot%\\system32\\cmd.exe"
"OS"="Windows_NT"
"PATH"=str(2):"%SystemRoot%\\system32;%SystemRoot%"
"PATHEXT"=".com;.exe;.bat;.cmd"
"PROCESSOR_ARCHITECTURE"="AMD64"
"TEMP"=str(2):"%SystemRoot%\\temp"
"TMP"=str(2):"%SystemRoot%\\temp"
"windir"=str(2):"%SystemRoot%"
"winsysdir"="C:\\windows\\system32"
"#;

/// Wine's 64-bit Windows DLLs, beside the `wine` program the command runs:
/// `lib/<multiarch>/wine/x86_64-windows` (Debian), `lib64/wine/…` (Fedora, WineHQ's packages)
/// or `lib/wine/…` (Arch).
fn wine_dlls(wine: &Path) -> Option<PathBuf> {
    let root = std::fs::canonicalize(wine).ok()?.parent()?.parent()?.to_path_buf();
    ["lib/x86_64-linux-gnu/wine", "lib64/wine", "lib/wine"]
        .iter()
        .map(|lib| root.join(lib).join("x86_64-windows"))
        .find(|dir| dir.join("kernel32.dll").is_file() && dir.join("ntdll.dll").is_file())
}

/// A bare wine: without what a wine session starts first (wineboot, then the services: device
/// drivers, plug and play, RPC, the desktop), which a console `lua.exe` never asks for.
/// Started cold in luaenv's prefix, it runs `lua.exe -e` in about 0.01 s instead of 0.4 s and
/// 0.5 s of CPU.
const BARE_WINE: &str = "mscoree,mshtml=;wineboot.exe,winemenubuilder.exe,explorer.exe,plugplay.exe,svchost.exe,rpcss.exe,winedevice.exe,services.exe=d";

/// `aarch64-unknown-linux-gnu` → `aarch64-linux-gnu`, Debian's name for the cross sysroot.
fn gnu_dir(target: &str) -> String {
    target.replace("-unknown-", "-")
}

/// Runs the staged `bin/luarocks --version`: LuaRocks must start on this Lua and be the
/// version the receipt will name.
pub fn luarocks(staged: &Path, version: &crate::version::Version) -> Result<()> {
    let program = staged.join("bin/luarocks");
    // From the prefix: Lua's default path holds `./?.lua`, and LuaRocks `require`s `lfs`, so
    // an `lfs.lua` where doctor runs would be loaded.
    let output = without_lua_environment(&mut Command::new(&program))
        .arg("--version")
        .current_dir(staged)
        .env_remove("LUAROCKS_CONFIG")
        .output()
        .map_err(|e| anyhow::anyhow!("smoke test failed: cannot run {}: {e}; nothing was changed", program.display()))?;
    let printed = String::from_utf8_lossy(&output.stdout);
    let first = printed.lines().next().unwrap_or("");
    if !output.status.success() || !first.ends_with(&format!(" {version}")) {
        let said = String::from_utf8_lossy(&output.stderr);
        let said = said.lines().find(|l| !l.trim().is_empty()).unwrap_or(first);
        bail!("smoke test failed: LuaRocks {version} does not run on this Lua (`luarocks --version`: {said}); nothing was changed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_target_runs_where_this_machine_can_run_it() {
        let host = "x86_64-unknown-linux-gnu";
        assert_eq!(runner("x86_64-unknown-linux-musl", host), Runner::Native);
        assert_eq!(runner("aarch64-unknown-linux-gnu", host), Runner::Qemu);
        assert_eq!(runner("x86_64-pc-windows-gnu", host), Runner::Wine);
        assert_eq!(target_program("lua", "x86_64-pc-windows-gnu"), "lua.exe");
        assert_eq!(target_program("luajit", host), "luajit");
    }

    #[test]
    fn a_program_that_runs_past_its_deadline_is_stopped() {
        let started = std::time::Instant::now();
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        let err = wait_at_most(&mut child, std::time::Duration::from_millis(200)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
        let mut quick = Command::new("true").spawn().unwrap();
        assert!(wait_at_most(&mut quick, std::time::Duration::from_secs(5)).unwrap().success());
    }
}
