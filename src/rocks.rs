//! LuaRocks in a prefix: installed without `make` (its Lua code, a generated
//! `luarocks/core/hardcoded.lua`, the two launchers its own `make install` writes), and
//! the config file LuaRocks reads, with luaenv's part kept between markers so a user's
//! own lines survive every edit.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use crate::catalog::{self, Kind};
use crate::context::Context;
use crate::credentials;
use crate::error::usage;
use crate::install::fetch::{self, Location};
use crate::prefix::Source;
use crate::shell::{Shell, quote};
use crate::install::verify::Expected;
use crate::version::Version;

/// The first LuaRocks that runs on Lua 5.5 final: 3.12.x fails at start-up there
/// (`attempt to assign to const variable 'k'`: 5.5 made loop variables constant).
const FIRST_FOR_5_5: &str = "3.13.0";

/// Whether a LuaRocks release can run on a Lua series: 3.x does 5.1–5.4, 5.5 needs 3.13.0 or newer.
pub fn supports(rocks: &Version, lua_series: &str) -> bool {
    match lua_series {
        "5.1" | "5.2" | "5.3" | "5.4" => rocks.parts.first() == Some(&3),
        "5.5" => *rocks >= Version::parse(FIRST_FOR_5_5).unwrap(),
        _ => false,
    }
}

/// A LuaRocks version as typed (`3.13.0`), or the usage error saying what was expected.
pub fn parse_version(text: &str) -> Result<Version> {
    Version::parse(text).filter(|v| v.parts.len() == 3 && v.pre.is_none()).ok_or_else(|| usage(format!("'{text}' is not a LuaRocks version: expected something like 3.13.0")))
}

/// The usage error for a LuaRocks that cannot run on the Lua; `what` says where it came from.
pub fn unsupported(what: &str, lua_series: &str) -> anyhow::Error {
    let needs = if lua_series == "5.5" { format!(" (Lua 5.5 needs LuaRocks {FIRST_FOR_5_5} or newer)") } else { String::new() };
    usage(format!("{what} does not support Lua {lua_series}{needs}; nothing was changed: pick another LuaRocks"))
}

/// The LuaRocks version to install: the one asked for (checked), else the newest that runs on
/// the Lua. 3.13.0's official tarball has a broken rockspec (luarocks issue 1851), which does
/// not matter here: luaenv copies `src/luarocks` and never runs that rockspec.
pub fn choose(requested: Option<&str>, lua_series: &str) -> Result<Version> {
    if let Some(text) = requested {
        let v = parse_version(text)?;
        if !supports(&v, lua_series) {
            return Err(unsupported(&format!("LuaRocks {v}"), lua_series));
        }
        return Ok(v);
    }
    catalog::of_kind(Kind::Luarocks)
        .into_iter()
        .map(|r| r.version)
        .find(|v| supports(v, lua_series))
        .ok_or_else(|| usage(format!("no known LuaRocks supports Lua {lua_series}; use --no-rocks")))
}

/// Which LuaRocks an install or `rocks install` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// A release from the catalogue, from the mirror or upstream, checked against its official sum.
    Release(Version),
    /// A tarball the user hands over (`--rocks-from`, `rocks install --from`): its version is
    /// read from the tarball itself and must match `asked` when that is given.
    Tarball { location: String, asked: Option<Version>, sha256: Option<String> },
}

/// A fetched, verified and unpacked LuaRocks, ready to be laid into a staging prefix.
pub struct Prepared {
    /// The version the tarball really holds (its `cfg.lua`), not the one assumed.
    pub version: Version,
    pub source: Source,
    tree: PathBuf,
    _work: tempfile::TempDir,
    _registered: crate::install::cleanup::Registered,
}

/// Fetches, verifies and unpacks the LuaRocks `wanted`, reads its real version and checks it
/// runs on `series`: all before anything is built or changed. `way_out` ends a fetch error.
pub fn prepare(ctx: &Context, wanted: &Wanted, series: &str, mirror: Option<&str>, way_out: &str) -> Result<Prepared> {
    let (location, file_name, expected) = match wanted {
        Wanted::Release(version) => {
            let file_name = format!("luarocks-{version}.tar.gz");
            let Some(release) = catalog::of_kind(Kind::Luarocks).into_iter().find(|r| r.version == *version) else {
                return Err(usage(format!("LuaRocks {version} is not in luaenv's catalogue; {way_out}")));
            };
            let location = match mirror {
                Some(m) => Location::in_mirror(m, &file_name),
                None => Location::Url(release.url.clone()),
            };
            (location, file_name, Expected::Official(release.sha256))
        }
        // A tarball the user hands over is trusted as given, unless its name claims an
        // official file or a lock file pins its sum.
        Wanted::Tarball { location, sha256, .. } => {
            let file_name = location.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string();
            let expected = match (catalog::official_sum(&file_name), sha256) {
                (Some(official), _) => Expected::Official(official),
                (None, Some(given)) => Expected::Given(given.to_ascii_lowercase()),
                (None, None) => Expected::FirstUse,
            };
            (Location::parse(location), file_name, expected)
        }
    };
    let fetched = fetch::fetch(ctx, &location, &file_name, &expected)
        .with_context(|| format!("cannot get {file_name} (LuaRocks); nothing was built or changed: {way_out}"))?;
    std::fs::create_dir_all(ctx.scratch_dir())?;
    let work = tempfile::Builder::new().prefix(&crate::install::cleanup::tagged("build-")).tempdir_in(ctx.scratch_dir())?;
    let registered = crate::install::cleanup::register(work.path());
    let tree = crate::install::unpack::unpack(&fetched.path, work.path())?;
    let cfg = std::fs::read_to_string(tree.join("src/luarocks/core/cfg.lua")).ok();
    if cfg.is_none() || !tree.join("src/bin/luarocks").is_file() {
        return Err(usage(format!("{} is not a LuaRocks source tarball (no src/luarocks/core/cfg.lua)", fetched.location)));
    }
    let top = tree.file_name().map(|n| n.to_string_lossy().into_owned());
    let version = crate::install::plan::rocks_version_in(cfg.as_deref(), top.as_deref())
        .ok_or_else(|| usage(format!("{}: cannot tell which LuaRocks this is (no program_version in src/luarocks/core/cfg.lua)", fetched.location)))?;
    let asked = match wanted {
        Wanted::Release(v) => Some(v),
        Wanted::Tarball { asked, .. } => asked.as_ref(),
    };
    crate::install::plan::check_rocks_found(&version, asked, series, &fetched.location)?;
    let source = Source {
        url: fetched.location,
        sha256: Some(fetched.sha256),
        checksum: match expected {
            Expected::Official(_) => "official".into(),
            Expected::Given(_) => "given".into(),
            _ => "local".into(),
        },
        version: Some(version.to_string()),
    };
    Ok(Prepared { version, source, tree, _work: work, _registered: registered })
}

/// Lays LuaRocks into `staging` (a prefix that will live at `prefix`), replacing any earlier
/// LuaRocks there so none of its modules stay behind. With `smoke`, it is first written for
/// the staging path and `luarocks --version` must run there; then for its final place.
pub fn install_into(ctx: &Context, staging: &Path, prefix: &Path, series: &str, prepared: &Prepared, smoke: bool) -> Result<()> {
    let luadir = staging.join("share/lua").join(series);
    for old in [luadir.join("luarocks"), staging.join("bin/luarocks"), staging.join("bin/luarocks-admin")] {
        crate::install::cleanup::remove(&old);
    }
    let src = prepared.tree.join("src");
    crate::fs::copy_tree(&src.join("luarocks"), &luadir.join("luarocks"))?;
    if smoke {
        write_paths(ctx, staging, staging, series, &src)?;
        crate::install::smoke::luarocks(staging, &prepared.version)?;
    }
    write_paths(ctx, staging, prefix, series, &src)
}

/// Writes what names paths (`hardcoded.lua`, the two launchers, luaenv's config block) into
/// `target` for a prefix living at `prefix`.
fn write_paths(ctx: &Context, target: &Path, prefix: &Path, series: &str, src: &Path) -> Result<()> {
    let luadir = target.join("share/lua").join(series);
    let final_luadir = prefix.join("share/lua").join(series);
    std::fs::write(luadir.join("luarocks/core/hardcoded.lua"), hardcoded(prefix, series, interpreter_in(target)))?;
    for program in ["luarocks", "luarocks-admin"] {
        let body = std::fs::read_to_string(src.join("bin").join(program))?;
        let launcher = launcher(prefix, &final_luadir, &body);
        let path = target.join("bin").join(program);
        std::fs::create_dir_all(path.parent().unwrap())?;
        crate::fs::write_atomic(&path, launcher.as_bytes())?;
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    }
    let config = config_path(target, series);
    let existing = read_config(&config)?;
    let servers = read_servers(&existing);
    let downloaders = servers.as_deref().and_then(|s| downloaders(ctx, s));
    crate::fs::write_atomic(&config, &write_config(&config, &existing, &managed_block(prefix, interpreter_in(target), servers.as_deref(), downloaders.as_ref()))?)
}

/// What LuaRocks' `configure` would hard-code, pointing at the prefix.
/// The interpreter LuaRocks runs: `luajit` in a LuaJIT prefix (which has a `lua` link too).
fn interpreter_in(prefix: &Path) -> &'static str {
    if prefix.join("bin/luajit").is_file() { "luajit" } else { "lua" }
}

fn hardcoded(prefix: &Path, series: &str, interpreter: &str) -> String {
    let p = |sub: &str| if sub.is_empty() { lua_path(prefix) } else { lua_path(&prefix.join(sub.trim_start_matches('/'))) };
    format!(
        "return {{\n    PREFIX = {},\n    SYSCONFDIR = {},\n    LUA_DIR = {},\n    LUA_BINDIR = {},\n    LUA_INCDIR = {},\n    LUA_LIBDIR = {},\n    LUA_VERSION = \"{series}\",\n    LUA_INTERPRETER = \"{interpreter}\",\n    SYSTEM = \"linux\",\n    PROCESSOR = \"{}\",\n}}\n",
        p(""),
        p("/etc/luarocks"),
        p(""),
        p("/bin"),
        p("/include"),
        p("/lib"),
        std::env::consts::ARCH
    )
}

/// The launcher LuaRocks' own `make install` writes: its Lua code found in the prefix first.
/// It starts as a sh/Lua polyglot instead of `#!<prefix>/bin/lua`, which breaks on a prefix
/// with a space: sh runs the `exec` line, Lua reads lines 2–4 as a long string assigned to `_`.
fn launcher(prefix: &Path, luadir: &Path, body: &str) -> String {
    let rest = body.split_once('\n').map(|(_, r)| r).unwrap_or("");
    let exec = format!("exec {} \"$0\" \"$@\"", quote(Shell::Bash, &prefix.join("bin/lua").to_string_lossy()));
    // A long-bracket level whose closing bracket the line does not contain.
    let level = "=".repeat((0..).find(|n| !exec.contains(&format!("]{}]", "=".repeat(*n)))).unwrap_or(0));
    let path = lua_path(&luadir.join("?.lua;"));
    let dir = lua_path(&luadir.join(""));
    format!(
        "#!/bin/sh\n_=[{level}[\n{exec}\n]{level}]\npackage.path={path} .. package.path\nlocal list = package.searchers or package.loaders; table.insert(list, 1, function(name) if name:match(\"^luarocks%.\") then return loadfile({dir} .. name:gsub(\"%.\", \"/\") .. \".lua\") end end)\n{rest}"
    )
}

pub fn config_path(prefix: &Path, series: &str) -> PathBuf {
    prefix.join("etc/luarocks").join(format!("config-{series}.lua"))
}

const BEGIN: &str = "-- BEGIN luaenv: this block is rewritten by luaenv; your own settings go outside it";
const END: &str = "-- END luaenv";

/// One rocks server as LuaRocks will use it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Server {
    pub name: String,
    pub url: String,
}

pub const LUAROCKS_ORG: &str = "https://luarocks.org";

/// The credential wrappers for wget and curl, when one of `servers` has stored credentials.
fn downloaders(ctx: &Context, servers: &[Server]) -> Option<(PathBuf, PathBuf)> {
    let stored = credentials::load(ctx);
    let needed = servers.iter().any(|s| {
        reqwest::Url::parse(&s.url).ok().and_then(|u| credentials::host_of(&u)).is_some_and(|h| stored.iter().any(|e| e.host == h))
    });
    needed.then(|| credentials::wrapper_paths(ctx))
}

/// luaenv's part of the config: trees, variables for C rocks, certificate checks, servers,
/// and, when a server needs credentials, the wget/curl wrappers that read them.
fn managed_block(prefix: &Path, interpreter: &str, servers: Option<&[Server]>, downloaders: Option<&(PathBuf, PathBuf)>) -> String {
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
fn push_downloaders(block: &mut String, downloaders: Option<&(PathBuf, PathBuf)>) {
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
fn push_servers(block: &mut String, servers: &[Server]) {
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
    let mut block = format!("{BEGIN}\nrocks_trees = {{\n   {{ name = \"project\", root = {} }};\n}}\n", lua_path(tree));
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
fn block_range(file: &Path, config: &[u8]) -> Result<Option<std::ops::Range<usize>>> {
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
fn write_config(file: &Path, existing: &[u8], block: &str) -> Result<Vec<u8>> {
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

fn lua_bytes(bytes: &[u8]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt as _;

    #[test]
    fn picks_a_supported_luarocks() {
        assert_eq!(choose(None, "5.4").unwrap().to_string(), "3.13.0");
        assert_eq!(choose(None, "5.5").unwrap().to_string(), "3.13.0");
        assert_eq!(crate::error::exit_code(&choose(Some("3.12.2"), "5.5").unwrap_err()), 2);
        assert_eq!(choose(Some("3.8.0"), "5.1").unwrap().to_string(), "3.8.0");
        assert_eq!(crate::error::exit_code(&choose(Some("3.8.0"), "5.5").unwrap_err()), 2);
    }

    /// `write_config` on text, for the tests.
    fn rewrite(existing: &str, block: &str) -> String {
        String::from_utf8(write_config(Path::new("config.lua"), existing.as_bytes(), block).unwrap()).unwrap()
    }

    #[test]
    fn keeps_the_users_lines_around_the_block() {
        let user = "-- mine\nlocal_by_default = true\n";
        let prefix = Path::new("/p");
        let servers = vec![Server { name: "corp".into(), url: "http://corp/rocks".into() }, Server { name: "luarocks.org".into(), url: LUAROCKS_ORG.into() }];
        let first = rewrite(user, &managed_block(prefix, "lua", Some(&servers), None));
        assert!(first.starts_with(user));
        let edited = format!("{first}variables.CC = \"clang\"\n");
        let second = rewrite(&edited, &managed_block(prefix, "lua", Some(&servers[1..]), None));
        assert!(second.starts_with(user) && second.ends_with("variables.CC = \"clang\"\n"));
        assert_eq!(read_servers(&first), Some(servers.clone()));
        assert_eq!(read_servers(&second).unwrap(), servers[1..]);
        assert_eq!(read_servers(rewrite(user, &managed_block(prefix, "lua", Some(&[]), None))), Some(vec![]));
        assert_eq!(read_servers(rewrite(user, &managed_block(prefix, "lua", None, None))), None);
    }

    #[test]
    fn damaged_markers_and_foreign_bytes_never_cost_a_user_line() {
        let block = managed_block(Path::new("/p"), "lua", Some(&[]), None);
        let written = rewrite("-- mine\n", &block);
        // The END line deleted, a user line added after: refused, not swallowed.
        let damaged = format!("{}x = 1\n", written.replace(&format!("{END}\n"), ""));
        let err = write_config(Path::new("c.lua"), damaged.as_bytes(), &block).unwrap_err();
        assert!(format!("{err}").contains("damaged"), "{err}");
        // A marker inside a user's string is not a marker.
        let quoted = format!("s = \"{BEGIN}\"\n{written}");
        assert!(rewrite(&quoted, &block).starts_with(&format!("s = \"{BEGIN}\"\n-- mine\n")));
        // Latin-1 bytes outside the block are kept as they are.
        let latin1 = [b"-- caf\xe9\n".as_slice(), written.as_bytes()].concat();
        let out = write_config(Path::new("c.lua"), &latin1, &managed_block(Path::new("/q"), "lua", None, None)).unwrap();
        assert!(out.starts_with(b"-- caf\xe9\n-- mine\n"));
        // A user's own list after the block is what LuaRocks uses: noticed.
        assert!(servers_overridden(format!("{written}rocks_servers = {{ \"http://mine\" }}\n").as_bytes()));
        assert!(!servers_overridden(format!("rocks_servers = {{}}\n{written}").as_bytes()));
    }

    #[test]
    fn lua_strings_escape_everything_that_could_end_them() {
        assert_eq!(lua_string("a\"b\\c\r}\n1"), "\"a\\\"b\\\\c\\013}\\0101\"");
        assert_eq!(lua_path(Path::new(std::ffi::OsStr::from_bytes(b"/x\xff"))), "\"/x\\255\"");
        assert_eq!(lua_string("caf\u{e9}"), "\"caf\u{e9}\"");
        let hostile = "x\r} variables.WGET = \"touch /tmp/pwned; wget\" rocks_servers = {";
        assert!(check_server_name(hostile).is_err() && check_server_name("corp-mirror_1.2").is_ok() && check_server_name(&"a".repeat(65)).is_err());
        let block = managed_block(Path::new("/p"), "lua", Some(&[Server { name: hostile.into(), url: "http://h".into() }]), None);
        assert!(!block.contains('\r') && !block.contains("variables.WGET = \""), "{block}");
    }

    #[test]
    fn generated_lua_quotes_a_hostile_prefix() {
        let prefix = Path::new("/r/it's a \"root\" ]] $HOME\\x/versions/5.4.7");
        let servers = [Server { name: "corp".into(), url: "https://rocks.example/a\"b".into() }];
        let wrappers = (PathBuf::from("/r/it's/credentials/wget"), PathBuf::from("/r/it's/credentials/curl"));
        insta::assert_snapshot!("hardcoded_lua", hardcoded(prefix, "5.4", "lua").replace(std::env::consts::ARCH, "ARCH"));
        insta::assert_snapshot!("config_block", managed_block(prefix, "lua", Some(&servers), Some(&wrappers)));
        let launched = launcher(prefix, &prefix.join("share/lua/5.4"), "#!/usr/bin/env lua\nrequire(\"luarocks.cmd\")\n");
        assert!(launched.starts_with("#!/bin/sh\n_=[=[\n"), "the path holds ]], so level 1: {launched}");
        insta::assert_snapshot!("launcher", launched);
        assert_eq!(read_servers(managed_block(prefix, "lua", Some(&servers), None)), Some(servers.to_vec()));
    }
}
