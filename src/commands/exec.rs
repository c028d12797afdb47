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
        let command = self.command[0].to_string_lossy().into_owned();
        // Inside a project: its sandbox, and its rock commands (lua_modules/bin) first.
        let sandbox = crate::shim::sandbox_for(&selected, &ctx.prefix(&name));
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
            && let Some(problem) = crate::shim::unready_for_luarocks(&ctx.root, &command, dir)
        {
            return Err(problem.into());
        }
        let mut paths = Vec::new();
        if let Some(dir) = project {
            paths.push(dir.join(crate::project::TREE).join("bin"));
        }
        // The prefix's bin/ goes first on PATH, so what the command starts runs the same version.
        paths.push(bin.clone());
        paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        // The project's rock commands, then the version's; `lua`, `luarocks`, … are always the
        // version's own, never a file a repository committed in lua_modules/bin.
        let own = if project.is_some() && !crate::sandbox::is_own_command(&command) { &paths[..2] } else { std::slice::from_ref(&bin) };
        let found = own.iter().map(|d| d.join(&command)).find(|p| p.is_file());
        if let (Some(dir), Some(program)) = (project, &found)
            && program.starts_with(dir.join(crate::project::TREE))
            && !crate::sandbox::tree_is_trusted(&ctx.root, dir)
        {
            return Err(crate::error::usage(format!("{command}: {}", crate::sandbox::untrusted_tree(&ctx.root, dir))));
        }
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
