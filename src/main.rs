//! luaenv: any Lua, built from verified source, with LuaRocks and per-project sandboxes.

// Our own C `main`: a shim call skips std's runtime start-up (stack-guard probing through
// /proc/self/maps, signal set-up), which is a measurable part of a ~0.3 ms budget.
#![cfg_attr(not(test), no_main)]
// Unit-test builds have no entry point of ours, so most of the CLI is unused there.
#![cfg_attr(test, allow(dead_code))]

mod buildcache;
mod catalog;
mod commands;
mod context;
mod credentials;
mod error;
mod install;
mod limits;
mod lock;
mod fs;
mod prefix;
mod project;
mod rocks;
mod sandbox;
mod selection;
mod shell;
mod shim;
mod rehash;
mod version;

#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    // The shim hot path comes first, before clap or any config: shims normally run the small
    // `luaenv-shim` binary, but this one still serves them where that binary is missing.
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    if let Some(command) = context::shim_name(&argv0) {
        return shim::run(&command, args.collect()).into();
    }
    // Tab in a shell whose completion luaenv registered (`luaenv completions <shell>`).
    if commands::complete_if_asked() {
        let _ = std::io::Write::flush(&mut std::io::stdout());
        return 0;
    }
    // SIGPIPE keeps its default here (std would ignore it): `luaenv versions | head` ends
    // quietly, as C tools do.
    let cli = match <commands::Cli as clap::Parser>::try_parse() {
        Ok(cli) => cli,
        Err(err) => match commands::not_a_command(&err, &context::Context::from_env()) {
            Some(answer) => {
                error::report(&answer);
                return error::exit_code(&answer).into();
            }
            None => return error::report_usage(err),
        },
    };
    install::progress::set_level(cli.level());
    let ctx = context::Context::from_env();
    let code = match cli.command.run(&ctx) {
        Ok(()) => 0,
        Err(err) => {
            error::report(&err);
            error::exit_code(&err).into()
        }
    };
    // Without std's runtime nothing flushes stdout at exit.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    code
}
