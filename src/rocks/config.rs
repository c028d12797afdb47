//! The config file LuaRocks reads (`etc/luarocks/config-X.Y.lua`, a project's
//! `.luaenv/luarocks-config.lua`): luaenv's part kept between markers so a user's own lines
//! survive every edit, every value an escaped Lua string, and the rocks servers.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use crate::context::Context;
use crate::credentials;
use crate::shell::{Shell, quote};

use super::luarocks::interpreter_in;

pub fn config_path(prefix: &Path, series: &str) -> PathBuf {
    prefix.join("etc/luarocks").join(format!("config-{series}.lua"))
}

pub(super) const BEGIN: &str = "-- BEGIN luaenv: this block is rewritten by luaenv; your own settings go outside it";
pub(super) const END: &str = "-- END luaenv";

/// One rocks server as LuaRocks will use it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Server {
    pub name: String,
    pub url: String,
}

pub const LUAROCKS_ORG: &str = "https://luarocks.org";

/// The credential wrappers for wget and curl, when one of `servers` has stored credentials.
pub(super) fn downloaders(ctx: &Context, servers: &[Server]) -> Option<(PathBuf, PathBuf)> {
    let stored = credentials::load(ctx);
    let needed = servers.iter().any(|s| {
        reqwest::Url::parse(&s.url).ok().and_then(|u| credentials::host_of(&u)).is_some_and(|h| stored.iter().any(|e| e.host == h))
    });
    needed.then(|| credentials::wrapper_paths(ctx))
}

/// luaenv's part of the config: trees, variables for C rocks, certificate checks, servers,
/// and, when a server needs credentials, the wget/curl wrappers that read them.
pub(super) fn managed_block(prefix: &Path, interpreter: &str, servers: Option<&[Server]>, downloaders: Option<&(PathBuf, PathBuf)>) -> String {
    let p = lua_path(prefix);
    let mut block = format!(
        "{BEGIN}\nrocks_trees = {{\n   {{ name = \"user\", root = home .. \"/.luarocks\" }};\n   {{ name = \"system\", root = {p} }};\n}}\n\
lua_interpreter = \"{interpreter}\"\nvariables = {{\n   LUA_DIR = {p};\n   LUA_BINDIR = {p} .. \"/bin\";\n   LUA_INCDIR = {p} .. \"/include\";\n   LUA_LIBDIR = {p} .. \"/lib\";\n}}\n\
check_certificates = true\n"
    );
    push_downloaders(&mut block, downloaders);
    if let Some(servers) = servers {
        push_servers(&mut block, servers);
    }
    block.push_str(END);
    block.push('\n');
    block
}

/// Points LuaRocks at the credential wrappers for wget and curl.
pub(super) fn push_downloaders(block: &mut String, downloaders: Option<&(PathBuf, PathBuf)>) {
    if let Some((wget, curl)) = downloaders {
        // LuaRocks splices these into shell commands unquoted, hence the shell quoting inside.
        let sh = |p: &Path| lua_string(&quote(Shell::Bash, &p.to_string_lossy()));
        block.push_str(&format!(
            "-- Downloads go through wget/curl wrappers that read luaenv's credentials file,\n\
-- never through LuaSocket, which would not send them.\n\
variables.WGET = {}\nvariables.CURL = {}\nfs_use_modules = false\n",
            sh(wget),
            sh(curl)
        ));
    }
}

/// The servers as set by luaenv; an empty list is written too: no server at all, not
/// LuaRocks' default.
pub(super) fn push_servers(block: &mut String, servers: &[Server]) {
    block.push_str("rocks_servers = {\n");
    for s in servers {
        // Names are checked where they come in; a hand-edited one is still never written raw
        // into the comment (Lua ends a comment at a carriage return).
        let name: String = s.name.chars().map(|c| if is_name_char(c) { c } else { '-' }).collect();
        block.push_str(&format!("   {}; -- luaenv:name={name}\n", lua_string(&s.url)));
    }
    block.push_str("}\n");
}

/// A project's config (`.luaenv/luarocks-config.lua`, read through `LUAROCKS_CONFIG` after
/// the version's): the project tree alone, and the project's own servers if it has some.
/// Written whole, never merged: `.luaenv/` is generated, and a clone may ship one whose extra
/// lines LuaRocks would run. The project's own settings live in `luaenv.lock`.
pub fn write_project_config(ctx: &Context, config_file: &Path, tree: &Path, servers: Option<&[Server]>) -> Result<()> {
    let existing = Vec::new();
    // The tree where the project is now (the shim and wrappers set the variable), so a moved
    // or copied project installs into its own lua_modules; the path it was made at otherwise.
    let mut block = format!(
        "{BEGIN}\nrocks_trees = {{\n   {{ name = \"project\", root = os_getenv(\"{}\") or {} }};\n}}\n",
        crate::sandbox::TREE_VAR,
        lua_path(tree)
    );
    if let Some(servers) = servers {
        push_downloaders(&mut block, downloaders(ctx, servers).as_ref());
        push_servers(&mut block, servers);
    }
    block.push_str(END);
    block.push('\n');
    crate::fs::write_atomic(config_file, &write_config(config_file, &existing, &block)?)
}

/// A config file's bytes, as they are (a Latin-1 comment is the user's business); empty when
/// there is none yet.
pub fn read_config(path: &Path) -> Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot read {}", path.display()))),
    }
}

/// Where luaenv's block is: the byte range from its BEGIN line to the end of its END line.
/// Markers count only as whole lines, so one quoted inside a user's string is not one.
/// `Ok(None)`: no block yet. An error when the markers do not pair up, since replacing
/// anything then could swallow the user's lines.
pub(super) fn block_range(file: &Path, config: &[u8]) -> Result<Option<std::ops::Range<usize>>> {
    let mut begins = Vec::new();
    let mut ends = Vec::new();
    let mut at = 0;
    for line in config.split_inclusive(|&b| b == b'\n') {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text == BEGIN.as_bytes() {
            begins.push(at);
        } else if text == END.as_bytes() {
            ends.push(at + line.len());
        }
        at += line.len();
    }
    match (begins.as_slice(), ends.as_slice()) {
        ([], []) => Ok(None),
        ([b], [e]) if e > b => Ok(Some(*b..*e)),
        _ => bail!(
            "{}: luaenv's block is damaged (it needs one `{BEGIN}` line and, below it, one `{END}` line; found {} and {}); put the missing line back or delete the block, then run the command again: nothing was changed",
            file.display(),
            begins.len(),
            ends.len()
        ),
    }
}

/// Replaces luaenv's block in `existing`, keeping every other byte; appends it when absent.
pub(super) fn write_config(file: &Path, existing: &[u8], block: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(existing.len() + block.len() + 64);
    match block_range(file, existing)? {
        Some(range) => {
            out.extend_from_slice(&existing[..range.start]);
            out.extend_from_slice(block.as_bytes());
            out.extend_from_slice(&existing[range.end..]);
        }
        None if existing.is_empty() => out.extend_from_slice(format!("-- LuaRocks configuration, written by luaenv\n\n{block}").as_bytes()),
        None => {
            out.extend_from_slice(existing);
            if !existing.ends_with(b"\n") {
                out.push(b'\n');
            }
            out.extend_from_slice(block.as_bytes());
        }
    }
    Ok(out)
}

/// Whether the user's own lines after luaenv's block set `rocks_servers` again: LuaRocks then
/// uses theirs, not luaenv's list.
pub fn servers_overridden(config: &[u8]) -> bool {
    let Ok(Some(range)) = block_range(Path::new(""), config) else { return false };
    String::from_utf8_lossy(&config[range.end..]).lines().any(|l| {
        let l = l.trim_start();
        l.strip_prefix("rocks_servers").is_some_and(|rest| rest.trim_start().starts_with('=') && !rest.trim_start().starts_with("=="))
    })
}

/// The servers listed in luaenv's block, in LuaRocks' order; `None` when luaenv set none
/// (LuaRocks then uses its default, luarocks.org).
pub fn read_servers(config: impl AsRef<[u8]>) -> Option<Vec<Server>> {
    let config = config.as_ref();
    let range = block_range(Path::new(""), config).ok()??;
    let text = String::from_utf8_lossy(&config[range]);
    let block = text.as_ref();
    if !block.lines().any(|l| l.starts_with("rocks_servers = {")) {
        return None;
    }
    let servers = block
        .lines()
        .filter_map(|l| {
            let (value, name) = l.trim().split_once("; -- luaenv:name=")?;
            let url = value.trim().strip_prefix('"')?.strip_suffix('"')?.replace("\\\"", "\"").replace("\\\\", "\\");
            Some(Server { name: name.trim().to_string(), url })
        })
        .collect();
    Some(servers)
}

/// Rewrites the server list of a config file, keeping everything else.
pub fn set_servers(ctx: &Context, config_file: &Path, prefix: &Path, servers: &[Server]) -> Result<()> {
    let existing = std::fs::read(config_file).with_context(|| format!("cannot read {}", config_file.display()))?;
    let block = managed_block(prefix, interpreter_in(prefix), Some(servers), downloaders(ctx, servers).as_ref());
    crate::fs::write_atomic(config_file, &write_config(config_file, &existing, &block)?)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':')
}

/// A rocks-server name goes into LuaRocks' config and luaenv's messages: 1 to 64 of
/// letters, digits, `.`, `_`, `-` and `:` (for the default, `host:port`).
pub fn check_server_name(name: &str) -> Result<(), String> {
    if !name.is_empty() && name.len() <= 64 && name.chars().all(is_name_char) {
        return Ok(());
    }
    Err(format!("'{}' is not a rocks-server name: use 1 to 64 letters, digits, '.', '_', '-' or ':'", name.escape_debug()))
}

/// The default name of a server: its `host[:port]`, other characters made `-`.
pub fn default_server_name(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("server");
    let name = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    name.chars().map(|c| if is_name_char(c) { c } else { '-' }).take(64).collect()
}

/// A Lua string literal for any text: quotes, backslashes and control characters (a carriage
/// return or newline would end the string or a comment) as escapes, so no value ever becomes code.
pub fn lua_string(s: &str) -> String {
    lua_bytes(s.as_bytes())
}

/// A path as a Lua string literal, byte for byte (a path need not be UTF-8).
pub fn lua_path(path: &Path) -> String {
    lua_bytes(std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()))
}

pub(super) fn lua_bytes(bytes: &[u8]) -> String {
    let utf8 = std::str::from_utf8(bytes).is_ok();
    let mut out = Vec::with_capacity(bytes.len() + 2);
    out.push(b'"');
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            // Three digits always, so a digit that follows is not read as part of the escape.
            b if b < 0x20 || b == 0x7f || (b >= 0x80 && !utf8) => out.extend_from_slice(format!("\\{b:03}").as_bytes()),
            b => out.push(b),
        }
    }
    out.push(b'"');
    String::from_utf8(out).expect("escaped Lua string is UTF-8")
}
