use std::path::PathBuf;

use anyhow::{Context as _, Result};

use crate::context::Context;
use crate::error::usage;
use crate::prefix::Receipt;
use crate::project::{self, Lock};

#[derive(clap::Args)]
pub struct Args {
    /// The project folder (created if missing)
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The Lua to pin (installed first if needed); default: the one selected there
    #[arg(long, value_name = "SPEC")]
    lua: Option<String>,
    /// rbenv's and pyenv's `init - bash`: the shell word after `-`, refused with the same advice
    #[arg(hide = true)]
    shell: Option<String>,
}

const SHELLS: [&str; 4] = ["bash", "zsh", "fish", "powershell"];

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        self.refuse_shell_setup()?;
        let wanted = if self.dir.is_absolute() { self.dir.clone() } else { crate::commands::cwd()?.join(&self.dir) };
        std::fs::create_dir_all(&wanted).with_context(|| format!("cannot create {}", wanted.display()))?;
        let dir = std::fs::canonicalize(&wanted).with_context(|| format!("cannot find {}", wanted.display()))?;
        project::check_path(&dir)?;
        project::check_no_links(&dir)?;
        project::check_tree(ctx, &dir)?;
        // One init or sync at a time in a project: both rewrite its files.
        let _held = project::lock(ctx, &dir)?;
        // A folder whose rockspecs cannot be told apart is refused before anything is written.
        project::rockspec::find(&dir)?;
        let previous = Lock::read(&dir).ok();
        let name = match &self.lua {
            Some(spec) => match crate::selection::installed_name(&ctx.versions_dir(), spec) {
                Some(name) => name,
                None => install(ctx, spec)?,
            },
            None => match crate::selection::select(&ctx.root, &[&dir]) {
                Some(sel) => crate::selection::installed_name(&ctx.versions_dir(), &sel.requested).ok_or_else(|| usage(crate::commands::not_installed(&sel)))?,
                None => return Err(usage("no Lua version to pin: pass --lua <spec> (e.g. `luaenv init --lua 5.4`)")),
            },
        };
        let prefix = ctx.prefix(&name);
        let receipt = Receipt::read(&prefix).ok_or_else(|| anyhow::anyhow!("{} has no luaenv receipt; reinstall it with `luaenv install {name} --force`", prefix.display()))?;
        let mut lock = Lock::from_receipt(&receipt)?;
        // Servers the project chose survive a re-init.
        lock.rocks_servers = previous.as_ref().and_then(|p| p.rocks_servers.clone());
        // So do its locked rocks: `sync` checks them against the rockspec.
        lock.rocks = previous.map(|p| p.rocks).unwrap_or_default();
        crate::fs::write_atomic(&dir.join(".lua-version"), format!("{name}\n").as_bytes())?;
        lock.write(&dir)?;
        write_rockspec(&dir, &receipt.lua_series())?;
        project::generate(ctx, &dir, &name, &lock)?;
        project::ignore_generated(&dir)?;
        project::register(ctx, &dir)?;
        crate::rehash::rehash(ctx)?;
        crate::install::progress::note(&format!("{} is a luaenv project: Lua {name}, rocks tree {}/, sandbox {}/ (`. {}/activate` to enter it by hand)", dir.display(), project::TREE, project::GENERATED, project::GENERATED));
        println!("{}", dir.display());
        Ok(())
    }
}

impl Args {
    /// `eval "$(luaenv init -)"` is how rbenv, pyenv and the older bash luaenv set up a shell:
    /// here `init` makes projects, so that line would make a folder named `-`. Such lines are
    /// refused (exit 2) before anything is created, naming the line that sets up a shell.
    /// A shell's name (`init bash`) is refused only when no folder of that name exists yet: an
    /// existing folder called `bash` is a real project someone asks to initialise.
    fn refuse_shell_setup(&self) -> Result<()> {
        let typed = self.dir.to_str().unwrap_or_default();
        let named_shell = self.shell.as_deref().or(Some(typed).filter(|t| SHELLS.contains(t)));
        let shell_word = SHELLS.contains(&typed) && !self.dir.exists();
        if !(typed == "-" || self.shell.is_some() || shell_word) {
            return Ok(());
        }
        if let Some(extra) = self.shell.as_deref().filter(|_| typed != "-") {
            return Err(usage(format!("`luaenv init` takes one project folder, not '{}' and '{extra}'; nothing was created", self.dir.display())));
        }
        Err(shell_setup_refusal(named_shell))
    }
}

/// "`luaenv init` makes a project folder; shell setup is `eval "$(luaenv activate bash)"`": for
/// `init -`, `init bash` and pyenv's `init --path` (which `crate::commands::not_a_command` sees).
pub fn shell_setup_refusal(named_shell: Option<&str>) -> anyhow::Error {
    let shell = named_shell.filter(|s| SHELLS.contains(s)).map_or_else(login_shell, String::from);
    let line = match shell.as_str() {
        "fish" => "luaenv activate fish | source".to_string(),
        "powershell" => "luaenv activate powershell | Out-String | Invoke-Expression".to_string(),
        _ => format!("eval \"$(luaenv activate {shell})\""),
    };
    usage(format!("`luaenv init` makes a project folder; shell setup is `{line}` (put it in your shell's start-up file); nothing was created"))
}

/// The user's shell from `$SHELL` when luaenv can activate it, else bash.
fn login_shell() -> String {
    let shell = std::env::var("SHELL").unwrap_or_default();
    let name = std::path::Path::new(&shell).file_name().and_then(|n| n.to_str()).unwrap_or_default();
    match name {
        "pwsh" => "powershell".into(),
        n if SHELLS.contains(&n) => n.into(),
        _ => "bash".into(),
    }
}

/// `<folder>-dev-1.rockspec`, where the project's rocks are declared, unless it has a rockspec.
fn write_rockspec(dir: &std::path::Path, series: &str) -> Result<()> {
    if project::rockspec::find(dir)?.is_some() {
        return Ok(());
    }
    let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let path = project::rockspec::default_path(dir);
    crate::fs::write_atomic(&path, project::rockspec::template(&project::rockspec::rock_name(&folder), series).as_bytes())
}

/// Installs a spec the project asks for that is not installed yet, with LuaRocks.
fn install(ctx: &Context, spec: &str) -> Result<String> {
    let request = crate::install::Request {
        spec: spec.to_string(),
        mirror: crate::commands::network(ctx, None, false),
        from: None,
        sha256: None,
        options: crate::install::build::BuildOptions::for_host(),
        force: false,
        rocks: Some(None),
        rocks_from: None,
        rocks_sha256: None,
    };
    let outcome = crate::install::install(ctx, &request)?;
    Ok(outcome.name)
}
