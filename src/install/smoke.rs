//! Smoke test: a new interpreter must run before it is moved into place.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use anyhow::{Result, bail};

use crate::install::build::Toolchain;

const CHECK: &str = "print(_VERSION) assert((loadstring or load)('return 42')() == 42)";

/// Runs `bin/<interpreter> -e CHECK` in the staged prefix and returns what it printed.
/// A cross build runs where this machine can run it (natively for the same CPU and OS, under
/// qemu-user for another CPU, under wine for Windows) and is skipped, with a note, when not.
pub fn smoke_test(staged: &Path, interpreter: &str, tc: &Toolchain) -> Result<()> {
    let program = staged.join("bin").join(target_program(interpreter, &tc.target));
    check_built_for(&program, &tc.target, &tc.compiler)?;
    let Some(mut cmd) = command_for(&program, &tc.target, &tc.host) else {
        eprintln!("note: the {} build was not smoke-tested: {} is not installed", tc.target, runner_tool(&tc.target));
        return Ok(());
    };
    cmd.arg("-e").arg(CHECK).env_remove("LUA_INIT").env_remove("LUA_PATH").env_remove("LUA_CPATH");
    // Bare only in a prefix made before this install: while this install's own session is still
    // making it (prewarm), wineboot may not have finished, and the whole of wine waits for it.
    let making = WARM_WINE.lock().unwrap_or_else(|e| e.into_inner()).is_some();
    let bare = runner(&tc.target, &tc.host) == Runner::Wine && wine_prefix_is_made() && !making;
    if bare {
        cmd.env("WINEDLLOVERRIDES", BARE_WINE);
        verbose_note("smoke test under a bare wine (no wineboot, no services)");
    }
    let mut output = output_of(&mut cmd);
    // Should the bare wine not do on some machine, the whole of it decides.
    if bare && !output.as_ref().is_ok_and(|o| o.status.success()) {
        verbose_note("the bare wine could not run it; smoke test under the whole of wine");
        wine_environment(&mut cmd);
        output = output_of(&mut cmd);
    }
    release_wine();
    let output = output.map_err(|e| anyhow::anyhow!("smoke test failed: cannot run {}: {e}; nothing was installed", program.display()))?;
    let printed = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || !printed.starts_with("Lua") {
        bail!(
            "smoke test failed: {} did not run ({}): {}; nothing was installed",
            program.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
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
pub fn output_of(cmd: &mut Command) -> std::io::Result<std::process::Output> {
    let (stdout, stderr) = (tempfile::tempfile()?, tempfile::tempfile()?);
    let status = cmd.stdin(Stdio::null()).stdout(stdout.try_clone()?).stderr(stderr.try_clone()?).status()?;
    let read = |mut file: std::fs::File| -> std::io::Result<Vec<u8>> {
        use std::io::{Read, Seek};
        let mut bytes = Vec::new();
        file.rewind()?;
        file.take(crate::limits::MAX_TEXT).read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    Ok(std::process::Output { status, stdout: read(stdout)?, stderr: read(stderr)? })
}

/// A wine session started while a Windows build compiles, when luaenv's wine prefix does not
/// exist yet: wine makes one on its first start, which takes several seconds, so that happens
/// beside the compiler rather than after it. `cmd /c pause` holds the session until the smoke
/// test closes its stdin (or luaenv exits, which closes it too).
static WARM_WINE: Mutex<Option<Child>> = Mutex::new(None);

pub fn prewarm(tc: &Toolchain) {
    if runner(&tc.target, &tc.host) != Runner::Wine || wine_prefix_is_made() {
        return;
    }
    let Some(mut cmd) = command_for(Path::new("cmd.exe"), &tc.target, &tc.host) else { return };
    cmd.args(["/c", "pause"]).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
    if let Ok(child) = cmd.spawn() {
        *WARM_WINE.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
    }
}

/// Lets the held wine session end (after the smoke test ran in it).
fn release_wine() {
    if let Some(mut child) = WARM_WINE.lock().unwrap_or_else(|e| e.into_inner()).take() {
        drop(child.stdin.take());
        // `pause` ends at the end of its input; should some wine not, it is stopped.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while matches!(child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
        }
        let _ = child.wait();
    }
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

/// wine needs a writable prefix: the user's `$WINEPREFIX`, else one in luaenv's cache (made
/// on first use, which takes wine several seconds; deleting the cache loses nothing). Its
/// debug chatter is off, and no Mono or Gecko installer is offered for a console program.
pub fn wine_environment(cmd: &mut Command) {
    if std::env::var_os("WINEPREFIX").is_none() {
        let prefix = wine_prefix();
        let _ = std::fs::create_dir_all(&prefix);
        cmd.env("WINEPREFIX", prefix);
    }
    cmd.env("WINEDEBUG", "-all").env("WINEDLLOVERRIDES", "mscoree,mshtml=");
}

fn wine_prefix() -> std::path::PathBuf {
    std::env::var_os("WINEPREFIX").map(Into::into).unwrap_or_else(|| crate::context::cache_dir().join("wine"))
}

/// Whether wine has made its prefix (its registry is written when it is).
fn wine_prefix_is_made() -> bool {
    wine_prefix().join("system.reg").is_file()
}

/// The smoke test's wine, in a prefix that is made: without what a wine session starts first
/// (wineboot, then the services: device drivers, plug and play, RPC, the desktop), which a
/// console `lua.exe` never asks for. Started cold, it runs `lua.exe -e` in about 0.035 s
/// instead of 0.4 s and 0.5 s of CPU; the official test suites still run under the whole of wine.
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
    let output = Command::new(&program)
        .arg("--version")
        .current_dir(staged)
        .env_remove("LUA_INIT")
        .env_remove("LUA_PATH")
        .env_remove("LUA_CPATH")
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
}
