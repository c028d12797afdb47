//! `luaenv completions <shell>`: the script that registers luaenv's completion with a shell.
//! Completion is dynamic (clap_complete's engine): on Tab the shell runs
//! `LUAENV_COMPLETE=<shell> luaenv -- <words>`, so installed versions and known releases are
//! offered as they are now. When that prints nothing the shell falls back to its default.

use std::ffi::OsString;

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::Shells;

use crate::context::Context;
use crate::shell::Shell;

/// The variable that asks luaenv to complete instead of running a command.
const VAR: &str = "LUAENV_COMPLETE";

#[derive(clap::Args)]
pub struct Args {
    /// The shell to print the completion script for
    #[arg(value_enum)]
    shell: Shell,
}

impl Args {
    pub fn run(self, _ctx: &Context) -> Result<()> {
        print!("{}", completion_script(self.shell));
        Ok(())
    }
}

/// The registration script for a shell; it calls `luaenv` as found on PATH (where
/// `luaenv activate` puts it), so the checked-in files in `completions/` are the same everywhere.
pub fn completion_script(shell: Shell) -> String {
    let name = match shell {
        Shell::Bash => "bash",
        Shell::Zsh => "zsh",
        Shell::Fish => "fish",
        Shell::Powershell => "powershell",
    };
    let shells = Shells::builtins();
    let completer = shells.completer(name).expect("clap_complete knows every shell luaenv supports");
    let mut out = Vec::new();
    completer.write_registration(VAR, "luaenv", "luaenv", "luaenv", &mut out).expect("writing to memory");
    String::from_utf8_lossy(&out).into_owned()
}

/// Answers a shell's completion request (`LUAENV_COMPLETE` set) and returns `true`; `false`
/// for a normal run. Errors print nothing on stdout, so the shell offers nothing.
pub fn complete_if_asked(args: Vec<OsString>) -> bool {
    if std::env::var_os(VAR).is_none_or(|v| v.is_empty() || v == "0") {
        return false;
    }
    let cwd = std::env::current_dir().ok();
    let _ = clap_complete::CompleteEnv::with_factory(super::Cli::command).var(VAR).try_complete(args, cwd.as_deref());
    true
}

/// The installed versions (for `global`, `local`, `uninstall`, `prefix`).
pub fn installed() -> Vec<CompletionCandidate> {
    Context::from_env().installed().into_iter().map(CompletionCandidate::new).collect()
}

/// The releases `luaenv install` knows, then `latest`.
pub fn releases() -> Vec<CompletionCandidate> {
    super::install::release_names().into_iter().chain(["latest".to_string()]).map(CompletionCandidate::new).collect()
}

/// The commands that have shims (for `which`).
pub fn shimmed_commands() -> Vec<CompletionCandidate> {
    let dir = Context::from_env().shims_dir();
    let mut names: Vec<String> = std::fs::read_dir(dir).into_iter().flatten().flatten().filter_map(|e| e.file_name().into_string().ok()).filter(|n| !n.starts_with('.')).collect();
    names.sort();
    names.into_iter().map(CompletionCandidate::new).collect()
}
