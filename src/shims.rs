//! Shims: the luaenv binary under another name (`lua`, `luarocks`, `busted`, …). The hot path
//! checks `argv[0]`, picks the version and `exec`s the real program: no clap, no config, no
//! extra process. `rehash` keeps the set in step with what the prefixes hold.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result};

use crate::context::{self, Context};
use crate::selection::{self, Selected};

/// The name we were called by, when it is not luaenv itself.
pub fn shim_name(argv0: &OsString) -> Option<String> {
    let name = Path::new(argv0).file_name()?.to_str()?;
    (!name.starts_with("luaenv")).then(|| name.to_string())
}

/// Runs a shim: never returns on success (the process becomes the real program), except
/// for `luarocks`, which is waited for so that the commands of rocks it installs get shims.
pub fn run_shim(command: &str, args: Vec<OsString>) -> u8 {
    let root = context::root_dir();
    match real_program(&root, command, &args) {
        Ok((program, sandbox)) if changes_commands(command, &args) => {
            let status = Command::new(&program).args(&args).envs(sandbox).status();
            let _ = rehash(&Context::from_env());
            match status {
                Ok(s) => s.code().or_else(|| std::os::unix::process::ExitStatusExt::signal(&s).map(|n| 128 + n)).unwrap_or(1) as u8,
                Err(err) => {
                    eprintln!("luaenv: cannot run {}: {err}", program.display());
                    1
                }
            }
        }
        Ok((program, sandbox)) => {
            let err = Command::new(&program).args(&args).envs(sandbox).exec();
            eprintln!("luaenv: cannot run {}: {err}", program.display());
            1
        }
        Err(msg) => {
            eprintln!("luaenv: {msg}");
            1
        }
    }
}

/// `luarocks install|remove|make|build|purge`: they add or remove rock commands.
fn changes_commands(command: &str, args: &[OsString]) -> bool {
    command == "luarocks"
        && args.iter().map(|a| a.to_string_lossy()).find(|a| !a.starts_with('-')).is_some_and(|sub| matches!(sub.as_ref(), "install" | "remove" | "make" | "build" | "purge"))
}

/// The real program behind a shim call and, inside a project, its sandbox's variables;
/// or the one-line reason there is none.
fn real_program(root: &Path, command: &str, args: &[OsString]) -> Result<(PathBuf, Vec<(String, String)>), String> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    // `lua script.lua` follows the script's own folder first.
    let script_dir = script_of(command, args).and_then(|s| Path::new(&s).parent().map(|p| cwd.join(p)));
    let mut starts: Vec<&Path> = Vec::with_capacity(2);
    if let Some(dir) = &script_dir {
        starts.push(dir);
    }
    starts.push(&cwd);
    let selected = selection::select(root, &starts).ok_or(selection::HOW_TO_SELECT)?;
    let found = find(root, &selected, command)?;
    let sandbox = sandbox_for(&selected, &found.prefix);
    // Without its generated config, LuaRocks would fall back to the version's own tree.
    if command.starts_with("luarocks") && sandbox.iter().any(|(k, v)| k == "LUAROCKS_CONFIG" && !Path::new(v).is_file()) {
        return Err(format!("{command}: this project's sandbox is not set up (no {}/luarocks-config.lua); run `luaenv sync`", crate::project::GENERATED));
    }
    Ok((found.program, sandbox))
}

/// A project's sandbox applies when its own `.lua-version` made the choice.
pub fn sandbox_for(selected: &Selected, prefix: &Path) -> Vec<(String, String)> {
    let project = project_of(selected);
    let name = prefix.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    match (project, crate::project::series_of(name)) {
        (Some(dir), Some(series)) => crate::project::sandbox_env(dir, prefix, name, &series),
        _ => Vec::new(),
    }
}

fn project_of(selected: &Selected) -> Option<&Path> {
    selected.origin.project_file().and_then(crate::project::of_version_file)
}

/// A command found for a selection: the program, and the prefix of the selected version.
pub struct Found {
    pub program: PathBuf,
    pub prefix: PathBuf,
}

/// The program behind a command for a selection, as a path (for `luaenv which`).
pub fn program_for(root: &Path, selected: &Selected, command: &str) -> Result<PathBuf, String> {
    find(root, selected, command).map(|f| f.program)
}

/// Resolves a command: the project's own rock commands first, then the selected version's;
/// with the errors the user needs.
fn find(root: &Path, selected: &Selected, command: &str) -> Result<Found, String> {
    let versions = root.join("versions");
    let name = selection::installed_name(&versions, &selected.requested).ok_or_else(|| selection::not_installed(selected))?;
    let prefix = versions.join(&name);
    if let Some(dir) = project_of(selected) {
        let own = dir.join(crate::project::TREE).join("bin").join(command);
        if is_executable(&own) {
            return Ok(Found { program: own, prefix });
        }
    }
    let program = prefix.join("bin").join(command);
    if program.is_file() {
        return Ok(Found { program, prefix });
    }
    let others: Vec<String> = context::installed_in(&versions)
        .into_iter()
        .filter(|v| versions.join(v).join("bin").join(command).is_file())
        .collect();
    // A project's command outside its project: the program of that name further on PATH.
    if let Some(program) = others.is_empty().then(|| next_on_path(&root.join("shims"), command)).flatten() {
        return Ok(Found { program, prefix });
    }
    Err(if others.is_empty() {
        format!("{command}: no installed version has this command (selected {name}, {})", selected.origin.describe())
    } else {
        format!(
            "{command}: not in {name} ({}); it is in: {} (pick one with `luaenv local <name>`)",
            selected.origin.describe(),
            others.join(", ")
        )
    })
}

/// The script argument of `lua [options] script [args]`, if there is one.
fn script_of(command: &str, args: &[OsString]) -> Option<OsString> {
    if !command.starts_with("lua") || command.starts_with("luarocks") || command == "luac" {
        return None;
    }
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let s = arg.to_string_lossy();
        match s.as_ref() {
            "-e" | "-l" => {
                iter.next();
            }
            "-" | "--" => return None,
            s if s.starts_with('-') => {}
            _ => return Some(arg.clone()),
        }
    }
    None
}

/// Makes one shim per executable in every prefix's `bin/`, and removes shims nothing provides.
/// Safe when two run at once: each shim is made under a unique name and renamed into place.
pub fn rehash(ctx: &Context) -> Result<()> {
    let dir = ctx.shims_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let _lock = crate::lock::acquire(ctx, "rehash")?;
    let exe = std::env::current_exe().context("cannot find the luaenv binary")?;
    let wanted = provided_commands(ctx);
    for name in &wanted {
        let target = dir.join(name);
        if same_file(&target, &exe) {
            continue;
        }
        let tmp = dir.join(format!(".new-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        if std::fs::hard_link(&exe, &tmp).is_err() {
            std::os::unix::fs::symlink(&exe, &tmp).with_context(|| format!("cannot make shim {}", tmp.display()))?;
        }
        std::fs::rename(&tmp, &target).with_context(|| format!("cannot make shim {}", target.display()))?;
    }
    for entry in std::fs::read_dir(&dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && !wanted.contains(&name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

pub fn provided_commands(ctx: &Context) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for bin in ctx.installed().into_iter().map(|v| ctx.prefix(&v).join("bin")) {
        names.extend(commands_in(&bin));
    }
    // Projects' rock commands too: their shims run them inside the project. A repository
    // decides what its lua_modules/bin holds, so a name the system already has (`git`,
    // `make`) or a version provides never becomes a global shim.
    let shims = ctx.shims_dir();
    let mut own = BTreeSet::new();
    for bin in crate::project::registered(ctx).into_iter().map(|p| p.join(crate::project::TREE).join("bin")) {
        own.extend(commands_in(&bin).into_iter().filter(|n| !names.contains(n) && next_on_path(&shims, n).is_none()));
    }
    names.extend(own);
    names
}

/// The executables of one bin folder that may have shims.
fn commands_in(bin: &Path) -> BTreeSet<String> {
    std::fs::read_dir(bin)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok().filter(|n| !n.starts_with('.') && !n.starts_with("luaenv") && is_executable(&e.path())))
        .collect()
}

/// The program `command` on PATH outside luaenv's shims folder: what runs without luaenv.
pub fn next_on_path(shims: &Path, command: &str) -> Option<PathBuf> {
    let shims = std::fs::canonicalize(shims).unwrap_or_else(|_| shims.to_path_buf());
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .filter(|d| !d.as_os_str().is_empty() && std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()) != shims)
        .map(|d| d.join(command))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Finds a program on PATH, as a shell would.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| is_executable(p)))
}
