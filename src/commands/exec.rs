use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;

use anyhow::Result;

use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {
    /// The command to run, then its arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<OsString>,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let (name, selected) = crate::commands::selected_name(ctx)?;
        let bin = ctx.prefix(&name).join("bin");
        // Inside a project: its sandbox, and its rock commands (lua_modules/bin) first.
        let command = self.command[0].to_string_lossy().into_owned();
        let sandbox = crate::shim::sandbox_for(&selected, &ctx.prefix(&name), &command);
        let project = selected.origin.project_file().and_then(crate::project::of_version_file).filter(|_| !sandbox.is_empty());
        if let Some(dir) = project {
            match crate::project::regenerate_if_moved(ctx, dir) {
                Ok(true) => eprintln!("{} was moved or copied here: regenerated its sandbox ({}/)", dir.display(), crate::project::GENERATED),
                Ok(false) => {}
                Err(e) => eprintln!("warning: {e:#}"),
            }
        }
        if command.starts_with("luarocks")
            && let Some(dir) = project
            && let Some(problem) = crate::shim::unready_for_luarocks(&ctx.root, &command, dir, &crate::commands::cwd()?)
        {
            return Err(problem.into());
        }
        // The project's rock commands (lua_modules/bin) come first, on PATH too, but only from a
        // tree luaenv made here: what a command starts by name would otherwise be a
        // repository's file. `lua`, `luarocks`, … are always the version's own.
        let tree_bin = project.map(|dir| dir.join(crate::project::TREE).join("bin"));
        let trusted = project.is_some_and(|dir| crate::sandbox::tree_is_trusted(&ctx.root, dir));
        let mut paths: Vec<std::path::PathBuf> = tree_bin.clone().filter(|_| trusted).into_iter().collect();
        // Then the prefix's bin/, so what the command starts runs the same version.
        paths.push(bin.clone());
        paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        let rock_command = tree_bin.filter(|_| !crate::sandbox::is_own_command(&command)).map(|b| b.join(&command)).filter(|p| p.is_file());
        if let (Some(dir), Some(_), false) = (project, &rock_command, trusted) {
            return Err(crate::error::usage(format!("{command}: {}", crate::sandbox::untrusted_tree(&ctx.root, dir))));
        }
        let found = rock_command.or_else(|| Some(bin.join(&command)).filter(|p| p.is_file()));
        let program: OsString = match found {
            Some(p) if !command.contains('/') => p.into_os_string(),
            _ => self.command[0].clone(),
        };
        // A Windows build's `lua`, `luajit` are `lua.exe`, `luajit.exe`.
        let exe = bin.join(format!("{command}.exe"));
        let program: OsString = if !Path::new(&program).is_file() && crate::shim::foreign_program(&exe).is_some() { exe.into_os_string() } else { program };
        // Checked first: glibc's exec would hand a program for another system to /bin/sh.
        if let Some(runner) = crate::shim::foreign_program(Path::new(&program)) {
            return Err(crate::error::usage(crate::shim::runs_elsewhere(&command, Path::new(&program), runner)));
        }
        let err = std::process::Command::new(&program)
            .args(&self.command[1..])
            .env("PATH", std::env::join_paths(paths)?)
            .envs(sandbox)
            .exec();
        anyhow::bail!("cannot run {command}: {err}; is it installed in {name} or on PATH?")
    }
}
