//! One module per command: a clap `Args` struct and a `run`. The work lives in the domain modules.

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::context::Context;

mod activate;
mod cache;
mod add;
mod bundle;
mod completions;
mod current;
mod doctor;
mod exec;
mod global;
mod init;
mod install;
mod local;
mod mirror;
mod prefix;
mod rehash;
mod rocks;
mod sync;
mod uninstall;
mod use_;
mod versions;
mod which;

#[derive(Parser)]
#[command(name = "luaenv", version, about = "Any Lua, built from verified source, with LuaRocks and per-project sandboxes")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print only errors and the result (no progress, no notes)
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print each build command and each install step
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

impl Cli {
    /// How much to say on stderr, from `--quiet` and `--verbose`.
    pub fn level(&self) -> crate::install::progress::Level {
        use crate::install::progress::Level;
        match (self.quiet, self.verbose) {
            (true, _) => Level::Quiet,
            (_, true) => Level::Verbose,
            _ => Level::Normal,
        }
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Download, verify, build and install Lua versions; prints each prefix
    Install(install::Args),
    /// Remove one installed version
    Uninstall(uninstall::Args),
    /// List installed versions, the selected one marked
    #[command(visible_alias = "ls", alias = "list")]
    Versions(versions::Args),
    /// Print the selected version and where that choice came from
    Current(current::Args),
    /// Read or write the global default version
    Global(global::Args),
    /// Read or write ./.lua-version
    Local(local::Args),
    /// Print the real path behind a shim
    Which(which::Args),
    /// Print the prefix of a version (default: the selected one)
    Prefix(prefix::Args),
    /// Run a command with the selected version
    Exec(exec::Args),
    /// Make shims for every executable in every prefix
    Rehash(rehash::Args),
    /// Print shell code that puts the shims first on PATH
    Activate(activate::Args),
    /// Print the completion script for a shell
    Completions(completions::Args),
    /// Install LuaRocks and manage its rocks servers
    Rocks(rocks::Args),
    /// Set, unset or show the persistent source mirror
    Mirror(mirror::Args),
    /// Make a folder a project sandbox: pinned Lua, its own rocks tree, a lock file
    Init(init::Args),
    /// In a project: install what luaenv.lock pins and rebuild the sandbox
    Sync(sync::Args),
    /// In a project: add a rock to the rockspec's dependencies, then sync
    Add(add::AddArgs),
    /// In a project: remove a rock from the rockspec's dependencies, then sync
    Remove(add::RemoveArgs),
    /// In a project: write an offline kit (every source and rock the lock names, a rocks manifest, SHA256SUMS)
    Bundle(bundle::Args),
    /// Check compiler, PATH order, shims, prefixes, config; say how to fix each finding
    Doctor(doctor::Args),
    /// Share builds: push to a build cache, the caches installs pull from, signing keys
    Cache(cache::Args),
}

impl Command {
    pub fn run(self, ctx: &Context) -> Result<()> {
        match self {
            Command::Install(a) => a.run(ctx),
            Command::Uninstall(a) => a.run(ctx),
            Command::Versions(a) => a.run(ctx),
            Command::Current(a) => a.run(ctx),
            Command::Global(a) => a.run(ctx),
            Command::Local(a) => a.run(ctx),
            Command::Which(a) => a.run(ctx),
            Command::Prefix(a) => a.run(ctx),
            Command::Exec(a) => a.run(ctx),
            Command::Rehash(a) => a.run(ctx),
            Command::Activate(a) => a.run(ctx),
            Command::Completions(a) => a.run(ctx),
            Command::Rocks(a) => a.run(ctx),
            Command::Mirror(a) => a.run(ctx),
            Command::Init(a) => a.run(ctx),
            Command::Sync(a) => a.run(ctx),
            Command::Add(a) => a.run(ctx),
            Command::Remove(a) => a.run(ctx),
            Command::Bundle(a) => a.run(ctx),
            Command::Doctor(a) => a.run(ctx),
            Command::Cache(a) => a.run(ctx),
        }
    }
}

/// Answers a shell's Tab (`LUAENV_COMPLETE` set): `true` when it did.
pub fn complete_if_asked() -> bool {
    completions::complete_if_asked(std::env::args_os().collect())
}

/// Words from other tools that clap would answer with its nearest word (`use` → `uninstall`)
/// or a bare "unexpected argument": luaenv's own answer, naming what luaenv calls it.
pub fn not_a_command(err: &clap::Error, ctx: &Context) -> Option<anyhow::Error> {
    let args: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    match (err.kind(), args.first().map(String::as_str)) {
        (clap::error::ErrorKind::InvalidSubcommand, Some("use")) => Some(use_::refusal(ctx, &args[1..])),
        (clap::error::ErrorKind::UnknownArgument, Some("init")) if args.iter().any(|a| a == "--path") => Some(init::shell_setup_refusal(None)),
        _ => None,
    }
}

/// The current folder, or an error that says what happened to it and what to do.
pub fn cwd() -> Result<std::path::PathBuf> {
    std::env::current_dir().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow::anyhow!("the current folder no longer exists (deleted or moved away while this shell was in it); `cd` to an existing folder and run the command again"),
        _ => anyhow::anyhow!("cannot tell which folder this is ({e}); `cd` to a folder you can read and run the command again"),
    })
}

/// The selection for the current folder, or the error that says how to make one.
pub fn selected(ctx: &Context) -> Result<crate::selection::Selected> {
    let cwd = cwd()?;
    crate::selection::select(&ctx.root, &[&cwd]).ok_or_else(|| crate::error::usage(crate::selection::HOW_TO_SELECT))
}

/// The installed name the selection points at, or the error naming the file and the install command.
/// "Not installed" is a wrong request (exit 2) wherever the name came from: an argument,
/// `LUAENV_VERSION` or a version file.
pub fn selected_name(ctx: &Context) -> Result<(String, crate::selection::Selected)> {
    let sel = selected(ctx)?;
    let name = crate::selection::installed_name(&ctx.versions_dir(), &sel.requested)
        .ok_or_else(|| crate::error::Error::NotInstalled(not_installed(&sel)))?;
    Ok((name, sel))
}

/// Why the selection cannot run: `selection::not_installed`, the shim's own words, whose
/// hint runs as written (`luaenv install X` only for an X the catalogue knows).
pub fn not_installed(sel: &crate::selection::Selected) -> String {
    crate::selection::not_installed(sel)
}

/// The spec to suggest installing for a name: its plain form (`v5.4.7` → `5.4.7`), when the
/// catalogue knows it; `None` when `luaenv install` would refuse it.
pub fn install_hint(name: &str) -> Option<String> {
    let plain = crate::version::plain_lua_spec(name).unwrap_or(name);
    crate::install::resolve::resolve(plain).is_ok().then(|| plain.to_string())
}

/// Checks that an install name given on the command line is a plain name and is installed.
pub fn installed_arg(ctx: &Context, name: &str) -> Result<String> {
    if !crate::context::is_install_name(name) {
        return Err(crate::error::usage(format!("'{}' is not a version name: expected something like 5.4.7", name.escape_debug())));
    }
    crate::selection::installed_name(&ctx.versions_dir(), name).ok_or_else(|| {
        let installed = ctx.installed();
        let list = if installed.is_empty() { "none".to_string() } else { installed.join(", ") };
        let msg = match install_hint(name) {
            Some(spec) => format!("Lua '{name}' is not installed (installed: {list}); run `luaenv install {spec}`"),
            None => format!("Lua '{name}' is not installed (installed: {list}), nor a version luaenv knows; `luaenv install --list` shows what it can install"),
        };
        crate::error::Error::NotInstalled(msg).into()
    })
}

/// The source mirror in use and where it was set: `--mirror`, `$LUAENV_MIRROR`, then the
/// persistent one (`luaenv mirror set`).
pub fn mirror(ctx: &Context, flag: Option<String>) -> Option<(String, &'static str)> {
    // An empty `--mirror ''` is kept: the install refuses it instead of silently using upstream.
    if let Some(m) = flag {
        return Some((m, "--mirror"));
    }
    if let Some(m) = std::env::var("LUAENV_MIRROR").ok().filter(|m| !m.is_empty()) {
        return Some((m, "$LUAENV_MIRROR"));
    }
    let file = ctx.mirror_file();
    let text = match crate::selection::read_small_text(&file, crate::selection::SMALL_FILE_MAX) {
        Ok(text) => text?,
        Err(problem) => {
            eprintln!("warning: {problem}; using no persistent mirror");
            return None;
        }
    };
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| (line.to_string(), "luaenv mirror set"))
}

/// The mirror of a command that fetches (`--mirror`, `$LUAENV_MIRROR`, the saved one), with
/// offline mode switched on when asked for (`--offline` or `LUAENV_OFFLINE=1`): from then on
/// nothing but that mirror, local files and the caches is read.
pub fn network(ctx: &Context, flag: Option<String>, offline: bool) -> Option<String> {
    let mirror = mirror(ctx, flag).map(|(m, _)| m);
    if crate::install::fetch::offline_requested(offline) {
        crate::install::fetch::go_offline(mirror.as_deref());
    }
    mirror
}

#[cfg(test)]
mod tests {
    use crate::error::exit_code;

    /// The shim's hint (from the catalogue's table) and the CLI's (from the resolver) agree:
    /// both suggest an install only when `luaenv install` would accept it.
    #[test]
    fn the_shim_suggests_an_install_exactly_when_the_cli_does() {
        let names = [
            "5.4.7", "v5.4.7", "lua-5.4.7", "5.4", "5", "5.1", "5.1.5", "5.2.4", "5.4.99", "5.9", "6", "latest", "luajit-2.1", "luajit-2.0",
            "luajit-2.1.0-beta3", "luajit-2.1.9", "openresty-2.1-20251030", "openresty-2.1-2025", "foo", "5.4.7.1", "luajit", "",
        ];
        for name in names {
            assert_eq!(crate::selection::install_hint(name), super::install_hint(name), "{name}");
        }
    }

    /// One line per kind of failure a user meets most: its exit code and its first line, as
    /// the user reads it (what, why, what to do).
    #[test]
    fn each_error_kind_has_its_code_and_one_clear_line() {
        let selected = crate::selection::Selected {
            requested: "5.2.4".into(),
            origin: crate::selection::Origin::File("/work/app/.lua-version".into()),
            problem: None,
        };
        let errors: Vec<(&str, anyhow::Error)> = vec![
            ("unknown version", crate::install::resolve::resolve("5.4.99").unwrap_err()),
            ("malformed spec", crate::install::resolve::resolve("5.x").unwrap_err()),
            ("luarocks for 5.5", crate::rocks::luarocks::choose(Some("3.8.0"), "5.5").unwrap_err()),
            ("install name from a file", crate::context::check_install_name("../../repo/fake", "luaenv.lock").unwrap_err()),
            ("not installed", crate::error::Error::NotInstalled(crate::selection::not_installed(&selected)).into()),
            ("checksum", crate::install::verify::mismatch("http://m/lua-5.4.7.tar.gz", &crate::install::verify::Expected::Official("9fbf".into()), "0000")),
        ];
        let lines: Vec<String> = errors.iter().map(|(what, e)| format!("{what}: exit {}: {e:#}", exit_code(e))).collect();
        insta::assert_snapshot!("error_lines", lines.join("\n"));
    }
}
