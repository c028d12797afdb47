//! Smoke test: a new interpreter must run before it is moved into place.

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

use crate::install::build::Toolchain;

const CHECK: &str = "print(_VERSION) assert((loadstring or load)('return 42')() == 42)";

/// Runs `bin/<interpreter> -e CHECK` in the staged prefix and returns what it printed.
/// A cross build runs under qemu-user when it is there, and is skipped (with a note) when not.
pub fn smoke_test(staged: &Path, interpreter: &str, tc: &Toolchain) -> Result<()> {
    let program = staged.join("bin").join(interpreter);
    let mut cmd = if tc.is_cross() {
        let arch = tc.target.split('-').next().unwrap_or_default();
        let qemu = format!("qemu-{arch}");
        if crate::rehash::find_on_path(&qemu).is_none() {
            eprintln!("note: the {} build was not smoke-tested: {qemu} is not installed", tc.target);
            return Ok(());
        }
        let mut cmd = Command::new(qemu);
        let sysroot = Path::new("/usr").join(gnu_dir(&tc.target));
        if sysroot.is_dir() {
            cmd.arg("-L").arg(sysroot);
        }
        cmd.arg(&program);
        cmd
    } else {
        Command::new(&program)
    };
    cmd.arg("-e").arg(CHECK).env_remove("LUA_INIT").env_remove("LUA_PATH").env_remove("LUA_CPATH");
    let output = cmd.output().map_err(|e| anyhow::anyhow!("smoke test failed: cannot run {}: {e}; nothing was installed", program.display()))?;
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

/// `aarch64-unknown-linux-gnu` → `aarch64-linux-gnu`, Debian's name for the cross sysroot.
fn gnu_dir(target: &str) -> String {
    target.replace("-unknown-", "-")
}

/// Runs the staged `bin/luarocks --version`: LuaRocks must start on this Lua and be the
/// version the receipt will name.
pub fn luarocks(staged: &Path, version: &crate::version::Version) -> Result<()> {
    let program = staged.join("bin/luarocks");
    let output = Command::new(&program)
        .arg("--version")
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
