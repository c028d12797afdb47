//! `luaenv use`: what fnm, nvm and mise call choosing a version. luaenv has no such command
//! (and no hidden one, which completion scripts would offer), so clap's refusal of it is
//! replaced by one naming the commands that do that, instead of clap's nearest word (`uninstall`).

use crate::context::Context;
use crate::error::usage;

/// The usage error for `luaenv use <words>…`, whose every suggestion runs as written: a
/// version not installed yet is to be installed first, an unknown one is looked up first.
pub fn refusal(ctx: &Context, words: &[String]) -> anyhow::Error {
    let asked = words.iter().find(|w| !w.starts_with('-')).map(|w| crate::version::plain_lua_spec(w).unwrap_or(w).to_string());
    let installed = match &asked {
        Some(a) => crate::selection::installed_name(&ctx.versions_dir(), a).map(|_| a.clone()),
        None => ctx.installed().into_iter().next(),
    };
    if let Some(name) = installed {
        let shown = name.escape_debug();
        return usage(format!(
            "luaenv has no `use`: pin a version for this folder with `luaenv local {shown}`, make it the default with `luaenv global {shown}`, or choose it for this shell with `export LUAENV_VERSION={shown}`"
        ));
    }
    usage(match asked.as_deref().map_or(Some("5.4".to_string()), crate::commands::install_hint) {
        Some(spec) => format!(
            "luaenv has no `use`: {spec} is not installed; run `luaenv install {spec}`, then pin it for this folder with `luaenv local <name>` or make it the default with `luaenv global <name>`"
        ),
        None => "luaenv has no `use`, and that is not a version luaenv knows: `luaenv install --list` shows them; then `luaenv local <name>` pins one for this folder, `luaenv global <name>` sets the default".to_string(),
    })
}
