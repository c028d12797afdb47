use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use anyhow::Result;

use crate::context::Context;
use crate::prefix::Receipt;

#[derive(clap::Args)]
pub struct Args {}

/// One finding: what was checked, whether it is fine, and how to fix it if not.
struct Finding {
    level: Level,
    what: String,
    fix: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Problem,
}

impl Finding {
    fn ok(what: impl Into<String>) -> Finding {
        Finding { level: Level::Ok, what: what.into(), fix: None }
    }
    fn warn(what: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding { level: Level::Warn, what: what.into(), fix: Some(fix.into()) }
    }
    fn problem(what: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding { level: Level::Problem, what: what.into(), fix: Some(fix.into()) }
    }
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let mut findings = Vec::new();
        compiler(ctx, &mut findings);
        path_order(ctx, &mut findings);
        shims(ctx, &mut findings);
        prefixes(ctx, &mut findings);
        credentials(ctx, &mut findings);
        project(ctx, &mut findings);
        pin(ctx, &mut findings);
        for f in &findings {
            let tag = match f.level {
                Level::Ok => "ok     ",
                Level::Warn => "warning",
                Level::Problem => "problem",
            };
            match &f.fix {
                Some(fix) => println!("{tag} {}\n        fix: {fix}", f.what),
                None => println!("{tag} {}", f.what),
            }
        }
        let problems = findings.iter().filter(|f| f.level == Level::Problem).count();
        let warnings = findings.iter().filter(|f| f.level == Level::Warn).count();
        if problems > 0 {
            anyhow::bail!("doctor found {problems} problem(s) and {warnings} warning(s); each says how to fix it above");
        }
        eprintln!("no problems ({warnings} warning(s))");
        Ok(())
    }
}

fn compiler(ctx: &Context, out: &mut Vec<Finding>) {
    let scratch = ctx.scratch_dir();
    let _ = std::fs::create_dir_all(&scratch);
    match crate::install::build::Toolchain::detect(&crate::install::build::host_triple(), &scratch) {
        Ok(t) => out.push(Finding::ok(format!("C compiler: {}", t.compiler))),
        Err(e) => out.push(Finding::problem(format!("no working C compiler: {e:#}"), "install one (e.g. `apt-get install gcc`) or set CC")),
    }
}

fn path_order(ctx: &Context, out: &mut Vec<Finding>) {
    let shims = ctx.shims_dir();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<_> = std::env::split_paths(&path).collect();
    let activate = "add `eval \"$(luaenv activate bash)\"` (or zsh, fish, powershell) at the end of your shell's start-up file, or rerun install.sh";
    let Some(at) = dirs.iter().position(|d| same_dir(d, &shims)) else {
        out.push(Finding::warn(format!("the shims folder {} is not on PATH: `lua` does not go through luaenv", shims.display()), activate));
        return;
    };
    // Another `lua` earlier on PATH wins over the shim.
    let earlier: Vec<String> = dirs[..at]
        .iter()
        .flat_map(|d| ["lua", "luac", "luarocks"].map(|c| d.join(c)))
        .filter(|p| p.is_file())
        .map(|p| p.display().to_string())
        .collect();
    if earlier.is_empty() {
        out.push(Finding::ok(format!("shims first on PATH ({})", shims.display())));
    } else {
        out.push(Finding::warn(format!("{} come(s) before the shims on PATH", earlier.join(", ")), activate));
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => a == b,
    }
}

/// Every shim must be a hard link to the root's shim binary (or a copy of it): a shim that
/// is a symlink or another file can dangle or run a stale luaenv.
fn shims(ctx: &Context, out: &mut Vec<Finding>) {
    let dir = ctx.shims_dir();
    let binary = crate::rehash::shim_binary(ctx);
    let mut astray = Vec::new();
    let mut missing = Vec::new();
    for name in crate::rehash::provided_commands(ctx) {
        let shim = dir.join(&name);
        match std::fs::symlink_metadata(&shim) {
            Err(_) => missing.push(name),
            Ok(_) if crate::rehash::runs_binary(&shim, &binary) => {}
            Ok(_) => astray.push(name),
        }
    }
    if !missing.is_empty() {
        out.push(Finding::problem(format!("no shim for: {}", missing.join(", ")), "run `luaenv rehash`"));
    }
    if !astray.is_empty() {
        out.push(Finding::problem(
            format!("shims that do not resolve to luaenv's shim binary {}: {}", binary.display(), astray.join(", ")),
            "run `luaenv rehash`",
        ));
    }
    // A missing binary shows up above, as shims that are missing or do not resolve to it.
    let current = !binary.exists() || crate::rehash::shim_source().is_none_or(|source| crate::rehash::same_contents(&source, &binary));
    if !current {
        out.push(Finding::warn(format!("{} was installed by another luaenv binary", binary.display()), "run `luaenv rehash` with the luaenv you use"));
    }
    if missing.is_empty() && astray.is_empty() && current {
        out.push(Finding::ok(format!("shims match the installed commands and all run {}", binary.display())));
    }
}

fn prefixes(ctx: &Context, out: &mut Vec<Finding>) {
    leftovers(ctx, out);
    let installed = ctx.installed();
    if installed.is_empty() {
        out.push(Finding::warn("no Lua installed", "run `luaenv install 5.4`"));
    }
    for name in installed {
        let prefix = ctx.prefix(&name);
        let Some(receipt) = Receipt::read(&prefix) else {
            out.push(Finding::problem(format!("{name}: no luaenv receipt in {}", prefix.display()), format!("reinstall it: `luaenv install {name} --force`")));
            continue;
        };
        let host = crate::install::build::host_triple();
        let native = receipt.target == host || crate::install::smoke::runs_natively(&receipt.target, &host);
        // A cross build runs where this machine can run it: under qemu-user or wine.
        let interpreter = match (native, receipt.flavor.as_str()) {
            (true, _) | (false, "lua") => "lua",
            _ => "luajit",
        };
        let lua = prefix.join("bin").join(crate::install::smoke::target_program(interpreter, &receipt.target));
        let Some(mut cmd) = crate::install::smoke::command_for(&lua, &receipt.target, &host) else {
            let tool = crate::install::smoke::runner_tool(&receipt.target);
            match lua.is_file() {
                true => out.push(Finding::warn(format!("{name}: built for {}, not run here: {tool} is not installed", receipt.target), format!("install {tool} to run it on this machine"))),
                false => out.push(Finding::problem(format!("{name}: {} is missing", lua.display()), reinstall(&name, &receipt))),
            }
            continue;
        };
        // What it prints, not only its status: wine reports 0 for a program whose DLL is missing.
        if let Some(problem) = crate::install::smoke::wineprefix_problem().filter(|_| crate::install::build::is_windows(&receipt.target)) {
            out.push(Finding::problem(format!("{name}: not run: {problem}"), "unset WINEPREFIX, or point it at a wine prefix".to_string()));
            continue;
        }
        let runs = crate::install::smoke::output_of(crate::install::smoke::without_lua_environment(cmd.args(["-e", "io.write('runs')"])))
            .is_ok_and(|o| o.status.success() && o.stdout == b"runs");
        if !runs {
            out.push(Finding::problem(format!("{name}: {} does not run", lua.display()), reinstall(&name, &receipt)));
            continue;
        }
        let series = receipt.lua_series();
        let config = crate::rocks::config::config_path(&prefix, &series);
        let rocks = prefix.join("bin/luarocks").is_file();
        match (rocks, std::fs::read_to_string(&config)) {
            (false, _) => out.push(Finding::ok(format!("{name}: runs (no LuaRocks)"))),
            (true, Ok(text)) if text.contains("-- BEGIN luaenv") => out.push(luarocks_runs(&name, &prefix, &receipt)),
            (true, _) => out.push(Finding::problem(
                format!("{name}: LuaRocks without luaenv's config {}", config.display()),
                format!("reinstall LuaRocks: `LUAENV_VERSION={name} luaenv rocks install`"),
            )),
        }
    }
}

/// How to build `name` again as it was: a cross build's name (`5.4.7-<target>`) is not a
/// version spec, so the command gives the name without it, with `--target` (and `--static`).
fn reinstall(name: &str, receipt: &Receipt) -> String {
    let base = name.strip_suffix(&format!("-{}", receipt.target)).unwrap_or(name);
    let mut command = format!("luaenv install {base} --force");
    if receipt.target != crate::install::build::host_triple() {
        command.push_str(&format!(" --target {}", receipt.target));
    }
    if receipt.flags.get("static").and_then(|v| v.as_bool()) == Some(true) {
        command.push_str(" --static");
    }
    // LuaRocks as it came: from the tarball it was installed from, when that is a file here.
    match &receipt.luarocks {
        None => command.push_str(" --no-rocks"),
        Some(source) if Path::new(&source.url).is_file() => command.push_str(&format!(" --rocks-from {}", crate::shell::quote(crate::shell::Shell::Bash, &source.url))),
        Some(_) => {}
    }
    format!("reinstall it: `{command}`")
}

/// LuaRocks must start on its Lua (3.12 cannot on 5.5): `luarocks --version` runs, as the
/// install's own smoke test checked, and says the version the receipt records.
fn luarocks_runs(name: &str, prefix: &Path, receipt: &Receipt) -> Finding {
    let recorded = receipt.luarocks.as_ref().and_then(|s| s.version.as_deref()).and_then(crate::version::Version::parse);
    let checked = match (&recorded, receipt.target == crate::install::build::host_triple()) {
        (Some(version), true) => crate::install::smoke::luarocks(prefix, version).err(),
        _ => None,
    };
    match checked {
        None => Finding::ok(format!("{name}: runs, LuaRocks configured")),
        Some(err) => Finding::problem(
            format!("{name}: LuaRocks is broken: {}", format!("{err:#}").trim_start_matches("smoke test failed: ").trim_end_matches("; nothing was changed")),
            format!("reinstall LuaRocks: `LUAENV_VERSION={name} luaenv rocks install`"),
        ),
    }
}

/// What a killed luaenv left behind (staging folders, prefixes swapped aside, build folders,
/// partial downloads, half-saved cache entries, shims being made), unless a live one uses it.
fn leftovers(ctx: &Context, out: &mut Vec<Finding>) {
    for leftover in crate::install::leftovers::find(ctx).into_iter().filter(|l| !l.in_use(ctx)) {
        let path = leftover.path.display();
        let quoted = crate::shell::quote(crate::shell::Shell::Bash, &path.to_string());
        out.push(Finding::warn(
            format!("leftover of an interrupted install: {path}"),
            format!("the next install of that version sweeps it, or remove it now: `rm -rf {quoted}`"),
        ));
    }
}

fn credentials(ctx: &Context, out: &mut Vec<Finding>) {
    let netrc = crate::credentials::netrc_path(ctx);
    let Ok(meta) = std::fs::metadata(&netrc) else { return };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        out.push(Finding::problem(format!("{} holds secrets but has mode {mode:o}", netrc.display()), format!("`chmod 600 '{}'`", netrc.display())));
    } else {
        out.push(Finding::ok(format!("credentials file is private ({mode:o})")));
    }
}

fn project(ctx: &Context, out: &mut Vec<Finding>) {
    let Ok(cwd) = std::env::current_dir() else { return };
    let Some(dir) = crate::project::find(&cwd) else { return };
    // A link or a path sync refuses: its fix comes first, since `luaenv sync` would not run.
    if let Err(e) = crate::project::check_path(&dir).and_then(|()| crate::project::check_no_links(&dir)).and_then(|()| crate::project::check_tree(ctx, &dir)) {
        out.push(Finding::problem(format!("project {}: {e:#}", dir.display()), "do what it says, then run `luaenv sync`"));
        return;
    }
    let lock = match crate::project::Lock::read(&dir) {
        Ok(lock) => lock,
        Err(e) => {
            out.push(Finding::problem(format!("{e:#}"), "restore luaenv.lock from version control, or run `luaenv init`"));
            return;
        }
    };
    let name = lock.install_name();
    let pinned = match crate::selection::read_version_file_checked(&dir.join(".lua-version")) {
        Ok(pinned) => pinned,
        Err(problem) => {
            out.push(Finding::problem(format!("project {}: {problem}", dir.display()), "`luaenv sync` rewrites .lua-version from luaenv.lock"));
            None
        }
    };
    if let Some(pinned) = pinned.filter(|p| *p != name) {
        out.push(Finding::warn(
            format!("project {}: .lua-version says {pinned} but luaenv.lock pins {name}", dir.display()),
            format!("`luaenv init --lua {pinned}` to pin it in the lock too, or `luaenv sync` to go back to {name}"),
        ));
    }
    let installed = Receipt::read(&ctx.prefix(&name));
    let generated = dir.join(crate::project::GENERATED).join("luarocks-config.lua").is_file();
    match installed {
        None => out.push(Finding::problem(format!("project {}: Lua {name} from luaenv.lock is not installed", dir.display()), "run `luaenv sync`")),
        Some(r) if r.source.sha256.as_deref() != Some(lock.lua.sha256.as_str()) => out.push(Finding::problem(
            format!("project {}: the installed {name} was built from another source than luaenv.lock pins", dir.display()),
            format!("`luaenv uninstall {name} --force` then `luaenv sync`"),
        )),
        Some(_) if !generated => out.push(Finding::problem(format!("project {}: the sandbox (.luaenv/) is not generated", dir.display()), "run `luaenv sync`")),
        Some(_) if !crate::sandbox::config_is_vouched(&ctx.root, &dir.join(crate::project::GENERATED).join("luarocks-config.lua")) => out.push(Finding::problem(
            format!("project {}: the sandbox's LuaRocks config (.luaenv/luarocks-config.lua) was not written by luaenv on this machine (it may have come with the repository), so luarocks will not run with it", dir.display()),
            "run `luaenv sync`, which writes it anew",
        )),
        Some(_) if !sandbox_is_here(&dir) => out.push(Finding::problem(
            format!("project {}: the sandbox (.luaenv/) was generated for another folder (the project was moved or copied), so its rocks would go there", dir.display()),
            "run `luaenv sync` here",
        )),
        Some(_) if !crate::project::registered(ctx).contains(&dir) => out.push(Finding::problem(
            format!("project {}: not in luaenv's list of projects (it was moved or copied here), so `luaenv rehash` drops the shims of its rock commands", dir.display()),
            "run `luaenv sync` here",
        )),
        Some(_) => out.push(Finding::ok(format!("project {}: Lua {name} as locked, sandbox in place", dir.display()))),
    }
}

/// Whether the generated LuaRocks config names this folder's `lua_modules` as its tree.
fn sandbox_is_here(dir: &Path) -> bool {
    let config = dir.join(crate::project::GENERATED).join("luarocks-config.lua");
    let tree = crate::rocks::config::lua_path(&dir.join(crate::project::TREE));
    crate::fs::read_capped(&config, crate::limits::MAX_TEXT).is_ok_and(|text| text.windows(tree.len()).any(|w| w == tree.as_bytes()))
}

/// The version selected here: a pin that cannot be read, or that names no installed version.
fn pin(ctx: &Context, out: &mut Vec<Finding>) {
    let Ok(cwd) = std::env::current_dir() else {
        out.push(Finding::problem("the current folder no longer exists", "`cd` to an existing folder"));
        return;
    };
    let Some(selected) = crate::selection::select(&ctx.root, &[&cwd]) else { return };
    if crate::selection::installed_name(&ctx.versions_dir(), &selected.requested).is_none() {
        let fix = match &selected.problem {
            Some(_) => "rewrite that file with one version name, e.g. `luaenv local 5.4.7`".to_string(),
            None => match crate::commands::install_hint(&selected.requested) {
                Some(spec) => format!("run `luaenv install {spec}`, or pin an installed version with `luaenv local <name>` / `luaenv global <name>`"),
                None => "pin a version name such as 5.4.7 with `luaenv local <name>` / `luaenv global <name>`".to_string(),
            },
        };
        out.push(Finding::problem(crate::commands::not_installed(&selected), fix));
    }
}
