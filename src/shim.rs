//! The shim hot path: `lua`, `luarocks`, `busted`, … are links to a small static binary
//! (`src/bin/luaenv-shim.rs`, or the luaenv binary itself as a fallback) that checks
//! `argv[0]`, picks the version and `exec`s the real program: no clap, no config, no extra
//! process. Std only, so it builds into that binary; `rehash.rs` makes the links.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::context::{self, Context};
use crate::error::Error;
use crate::selection::{self, Selected};

/// Runs a shim: never returns on success (the process becomes the real program), except
/// for `luarocks`, which is waited for so that the commands of rocks it installs get shims.
pub fn run(command: &str, args: Vec<OsString>) -> u8 {
    context::mark_running_as_shim();
    let root = context::root_dir();
    match real_program(&root, command, &args) {
        Ok((program, sandbox)) if changes_commands(command, &args) => {
            let status = Command::new(&program).args(&args).envs(sandbox.iter().map(|(k, v)| (k, v))).status();
            // A project's new rock commands find their tree relative to themselves.
            if let Some((_, tree)) = sandbox.iter().find(|(k, _)| k == crate::sandbox::TREE_VAR) {
                crate::sandbox::make_rock_wrappers_relocatable(Path::new(tree));
            }
            // Shims for the commands the rocks brought (or took away).
            if let Err(err) = crate::rehash::rehash(&Context::from_env()) {
                eprintln!("luaenv: {err:#}");
            }
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
            match foreign_program(&program) {
                Some(runner) => {
                    eprintln!("luaenv: {}", runs_elsewhere(command, &program, runner));
                    2
                }
                None => {
                    eprintln!("luaenv: cannot run {}: {err}", program.display());
                    1
                }
            }
        }
        Err(err) => {
            eprintln!("luaenv: {err}");
            err.exit_code()
        }
    }
}

/// What a program file is built for, read from its header.
#[derive(Debug, PartialEq)]
pub enum BuiltFor {
    Windows,
    /// An ELF program for this `e_machine` (62 x86_64, 183 aarch64, …).
    Elf(u16),
}

/// `None` for a script, or a file that cannot be read.
pub fn built_for(program: &Path) -> Option<BuiltFor> {
    let mut header = [0u8; 20];
    std::io::Read::read_exact(&mut std::fs::File::open(program).ok()?, &mut header).ok()?;
    if header.starts_with(b"MZ") {
        Some(BuiltFor::Windows)
    } else {
        header.starts_with(b"\x7fELF").then(|| BuiltFor::Elf(u16::from_le_bytes([header[18], header[19]])))
    }
}

/// What runs `program` on this machine when it is built for another one: `wine` for a Windows
/// program, `qemu-<arch>` for a Linux program of another CPU; `None` for one that runs here
/// (or is a script, or cannot be read). Read from the file's own header, against this
/// program's.
pub fn foreign_program(program: &Path) -> Option<&'static str> {
    let theirs = match built_for(program)? {
        BuiltFor::Windows => return Some("wine"),
        BuiltFor::Elf(machine) => machine,
    };
    if built_for(Path::new("/proc/self/exe"))? == BuiltFor::Elf(theirs) {
        return None;
    }
    Some(match theirs {
        3 => "qemu-i386",
        40 => "qemu-arm",
        62 => "qemu-x86_64",
        183 => "qemu-aarch64",
        243 => "qemu-riscv64",
        _ => "qemu-user",
    })
}

/// The one line for a program built for another system.
pub fn runs_elsewhere(command: &str, program: &Path, runner: &str) -> String {
    let system = if runner == "wine" { "Windows".to_string() } else { format!("another CPU ({})", runner.trim_start_matches("qemu-")) };
    // Debian's cross C libraries, for a dynamically linked program under qemu.
    let sysroot = Path::new("/usr").join(format!("{}-linux-gnu", runner.trim_start_matches("qemu-")));
    let runner = match runner.starts_with("qemu-") && sysroot.is_dir() {
        true => format!("{runner} -L {}", sysroot.display()),
        false => runner.to_string(),
    };
    format!(
        "{command}: {} is built for {system} and does not run here directly; run it with `{runner} {}`, or select a version built for this machine (`luaenv local`, `luaenv global` or LUAENV_VERSION)",
        program.parent().and_then(Path::parent).and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        program.display()
    )
}

/// `luarocks install|remove|make|build|purge`: they add or remove rock commands.
fn changes_commands(command: &str, args: &[OsString]) -> bool {
    command == "luarocks"
        && args.iter().map(|a| a.to_string_lossy()).find(|a| !a.starts_with('-')).is_some_and(|sub| matches!(sub.as_ref(), "install" | "remove" | "make" | "build" | "purge"))
}

/// The real program behind a shim call and, inside a project, its sandbox's variables;
/// or the one-line reason there is none.
fn real_program(root: &Path, command: &str, args: &[OsString]) -> Result<(PathBuf, Vec<(String, String)>), Error> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    // `lua script.lua` follows the script's own folder first.
    let script_dir = script_of(command, args).and_then(|s| Path::new(&s).parent().map(|p| cwd.join(p)));
    let mut starts: Vec<&Path> = Vec::with_capacity(2);
    if let Some(dir) = &script_dir {
        starts.push(dir);
    }
    starts.push(&cwd);
    let selected = selection::select(root, &starts).ok_or_else(|| Error::Usage(selection::HOW_TO_SELECT.into()))?;
    let found = find(root, &selected, command)?;
    let sandbox = sandbox_for(&selected, &found.prefix, command);
    // Without its generated config, LuaRocks would fall back to the version's own tree.
    if command.starts_with("luarocks")
        && let Some(dir) = project_of(&selected).filter(|_| !sandbox.is_empty())
        && let Some(problem) = unready_for_luarocks(root, command, dir, &cwd)
    {
        return Err(problem);
    }
    Ok((found.program, sandbox))
}

/// Why LuaRocks must not run in a project: its config is missing or not one luaenv wrote (a
/// repository can commit its own, with a downloader that runs its code), or its tree is not
/// one luaenv made here, or holds a link that would take LuaRocks' writes elsewhere.
pub fn unready_for_luarocks(root: &Path, command: &str, project: &Path, cwd: &Path) -> Option<Error> {
    let generated = crate::sandbox::GENERATED;
    let config = project.join(generated).join("luarocks-config.lua");
    let tree = project.join(crate::sandbox::TREE);
    if !config.is_file() {
        Some(Error::NotReady(format!("{command}: this project's sandbox is not set up (no {generated}/luarocks-config.lua); run `luaenv sync`")))
    } else if !crate::sandbox::config_is_vouched(root, &config) {
        Some(Error::Usage(format!(
            "{command}: {} was not written by luaenv on this machine (it may have come with the repository), and LuaRocks would run what it says; run `luaenv sync`, which writes it anew",
            config.display()
        )))
    } else if tree.symlink_metadata().is_ok() && !crate::sandbox::tree_is_trusted(root, project) {
        Some(Error::Usage(format!("{command}: {}", crate::sandbox::untrusted_tree(root, project))))
    } else if let Some(other) = crate::sandbox::luarocks_project_from(cwd) {
        Some(Error::Usage(format!(
            "{command}: LuaRocks would take {} for its own project (it holds .luarocks/ and lua_modules/) and load its .luarocks/config-*.lua, not this sandbox's; move that .luarocks away (`mv '{}/.luarocks' '{}/.luarocks.old'`): luaenv's sandbox needs none",
            other.display(),
            other.display(),
            other.display()
        )))
    } else {
        crate::sandbox::links_in(&tree).first().map(|link| {
            Error::Usage(format!(
                "{command}: {} is a symbolic link, and LuaRocks would write through it; remove it (`rm '{}'`) and run `luaenv sync`",
                link.display(),
                link.display()
            ))
        })
    }
}

/// A project's sandbox applies when its own `.lua-version` made the choice; LuaRocks gets the
/// tree's module paths only (`sandbox::for_luarocks`).
pub fn sandbox_for(selected: &Selected, prefix: &Path, command: &str) -> Vec<(String, String)> {
    let project = project_of(selected);
    let name = prefix.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let mut vars = match (project, crate::sandbox::series_of(name)) {
        (Some(dir), Some(series)) => crate::sandbox::sandbox_env(dir, prefix, name, &series),
        _ => Vec::new(),
    };
    if command.starts_with("luarocks") {
        crate::sandbox::for_luarocks(&mut vars);
    }
    vars
}

fn project_of(selected: &Selected) -> Option<&Path> {
    selected.origin.project_file().and_then(crate::sandbox::of_version_file)
}

/// A command found for a selection: the program, and the prefix of the selected version.
pub struct Found {
    pub program: PathBuf,
    pub prefix: PathBuf,
}

/// The program behind a command for a selection, as a path (for `luaenv which`).
pub fn program_for(root: &Path, selected: &Selected, command: &str) -> Result<PathBuf, Error> {
    find(root, selected, command).map(|f| f.program)
}

/// Resolves a command: the project's own rock commands first, then the selected version's;
/// with the errors the user needs.
fn find(root: &Path, selected: &Selected, command: &str) -> Result<Found, Error> {
    let versions = root.join("versions");
    let name = selection::installed_name(&versions, &selected.requested).ok_or_else(|| Error::NotInstalled(selection::not_installed(selected)))?;
    let prefix = versions.join(&name);
    if let Some(dir) = project_of(selected).filter(|_| !crate::sandbox::is_own_command(command)) {
        let own = dir.join(crate::sandbox::TREE).join("bin").join(command);
        if crate::rehash::is_executable(&own) {
            if !crate::sandbox::tree_is_trusted(root, dir) {
                return Err(Error::Usage(format!("{command}: {}", crate::sandbox::untrusted_tree(root, dir))));
            }
            return Ok(Found { program: own, prefix });
        }
    }
    let program = prefix.join("bin").join(command);
    if program.is_file() {
        return Ok(Found { program, prefix });
    }
    // A Windows build's `lua` is `lua.exe` (`which` shows it; run, it says to use wine).
    let exe = prefix.join("bin").join(format!("{command}.exe"));
    if foreign_program(&exe).is_some() {
        return Ok(Found { program: exe, prefix });
    }
    let others: Vec<String> = context::installed_in(&versions)
        .into_iter()
        .filter(|v| versions.join(v).join("bin").join(command).is_file())
        .collect();
    // A project's command outside its project: the program of that name further on PATH.
    if let Some(program) = others.is_empty().then(|| crate::rehash::next_on_path(&root.join("shims"), command)).flatten() {
        return Ok(Found { program, prefix });
    }
    Err(Error::Usage(if others.is_empty() {
        format!("{command}: no installed version has this command (selected {name}, {})", selected.origin.describe())
    } else {
        format!(
            "{command}: not in {name} ({}); it is in: {} (pick one with `luaenv local <name>`)",
            selected.origin.describe(),
            others.join(", ")
        )
    }))
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

