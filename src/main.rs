//! luaenv: any Lua, built from verified source, with LuaRocks and per-project sandboxes.

mod build;
mod build_cache;
mod build_luajit;
mod catalog;
mod commands;
mod context;
mod credentials;
mod error;
mod fetch;
mod install;
mod lock;
mod prefix;
mod project;
mod resolve;
mod rocks;
mod selection;
mod shell;
mod shims;
mod smoke;
mod unpack;
mod verify;
mod version;

use std::process::ExitCode;

fn main() -> ExitCode {
    // The shim hot path comes first, before clap or any config.
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    if let Some(command) = shims::shim_name(&argv0) {
        return ExitCode::from(shims::run_shim(&command, args.collect()));
    }
    let cli = match <commands::Cli as clap::Parser>::try_parse() {
        Ok(cli) => cli,
        Err(err) => return error::report_usage(err),
    };
    let ctx = context::Context::from_env();
    match cli.command.run(&ctx) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            error::report(&err);
            ExitCode::from(error::exit_code(&err))
        }
    }
}
