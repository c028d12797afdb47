use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::context::Context;
use crate::credentials;
use crate::error::usage;
use crate::prefix::Receipt;
use crate::project::Lock;
use crate::rocks::{self, config::{LUAROCKS_ORG, Server}};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: RocksCommand,
}

#[derive(clap::Subcommand)]
enum RocksCommand {
    /// Install LuaRocks into the selected prefix
    Install {
        /// The LuaRocks version (default: the newest that supports this Lua)
        version: Option<String>,
        /// A LuaRocks source tarball to install instead of downloading
        #[arg(long, value_name = "FILE|URL")]
        from: Option<String>,
    },
    /// Add a rocks server or private mirror to the config LuaRocks reads
    AddServer {
        url: String,
        /// A short name for it (default: its host)
        #[arg(long)]
        name: Option<String>,
        /// Put it before every other server
        #[arg(long)]
        first: bool,
        /// The user name for a server that demands Basic auth (with --password-stdin)
        #[arg(long, requires = "password_stdin")]
        user: Option<String>,
        /// Read the password from the first line of standard input
        #[arg(long, requires = "user")]
        password_stdin: bool,
        /// The project's config instead of the version's
        #[arg(long)]
        project: bool,
    },
    /// Remove a rocks server by name or URL
    RemoveServer {
        server: String,
        #[arg(long)]
        project: bool,
    },
    /// List the rocks servers in the order LuaRocks uses them
    Servers {
        #[arg(long)]
        json: bool,
        /// The project's servers (the default inside a project that has its own)
        #[arg(long)]
        project: bool,
    },
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let (name, _) = crate::commands::selected_name(ctx)?;
        let prefix = ctx.prefix(&name);
        let receipt = Receipt::read(&prefix).ok_or_else(|| anyhow::anyhow!("{} has no luaenv receipt; reinstall it with `luaenv install {name} --force`", prefix.display()))?;
        let series = receipt.lua_series();
        match self.command {
            RocksCommand::Install { version, from } => {
                // Checked before anything is fetched or locked: a LuaRocks that cannot run on this Lua.
                let wanted = crate::install::plan::rocks_wanted(Some(version.as_deref()), from.as_deref(), None, &series)?
                    .expect("some LuaRocks is always wanted here");
                let _lock = crate::lock::acquire_for(ctx, &name, &format!("changing {name}"))?;
                crate::install::leftovers::sweep(ctx, &name);
                let mirror = crate::commands::network(ctx, None, false);
                let way_out = "pass a version the mirror has (`luaenv rocks install <version>`) or a tarball (`--from <file>`)";
                let prepared = rocks::luarocks::prepare(ctx, &wanted, &series, mirror.as_deref(), way_out)?;
                crate::install::install_rocks(ctx, &name, &series, &prepared)?;
                crate::rehash::rehash(ctx)?;
                crate::install::progress::note(&format!("installed LuaRocks {} into {name}", prepared.version));
                Ok(())
            }
            RocksCommand::AddServer { url, name: server_name, first, user, password_stdin: _, project } => {
                if let Some(n) = &server_name {
                    rocks::config::check_server_name(n).map_err(|e| usage(format!("--name: {e}")))?;
                }
                let (url, login) = split_credentials(&url, user)?;
                if project && url.scheme() == "file" {
                    return Err(usage("--project: a project's servers go into luaenv.lock, which never holds a local path; serve the folder over http(s), or add it to the version with `luaenv rocks add-server` without --project"));
                }
                let shown = credentials::masked(url.as_str()).trim_end_matches('/').to_string();
                if let Some((login, password)) = &login {
                    credentials::check(login, password)?;
                    credentials::check_file(ctx)?;
                    check_credentials(&url, login, password)?;
                }
                let server_name = server_name.unwrap_or_else(|| rocks::config::default_server_name(&url));
                let url = url.as_str().trim_end_matches('/').to_string();
                // Read, change and write under the locks: a concurrent edit is never lost.
                let _lock = crate::lock::acquire(ctx, "rocks-config")?;
                let target = Target::open(ctx, &prefix, &series, &name, project)?;
                if let Some((login, password)) = login {
                    let host = reqwest::Url::parse(&url).ok().and_then(|u| credentials::host_of(&u)).unwrap_or_default();
                    credentials::store(ctx, credentials::Entry { host, login, password })?;
                    eprintln!("stored the credentials in {} (mode 0600)", credentials::netrc_path(ctx).display());
                }
                let mut servers = target.servers();
                if servers.iter().any(|s| same_url(&s.url, &url)) {
                    // Rewritten anyway: new credentials may need the downloader wrappers.
                    target.set(ctx, &servers)?;
                    eprintln!("{shown} is already a rocks server of {}", target.describe());
                    return Ok(());
                }
                if servers.iter().any(|s| s.name == server_name) {
                    return Err(usage(format!("a rocks server named '{server_name}' exists already; choose another with --name")));
                }
                let entry = Server { name: server_name.clone(), url };
                // New servers go before luarocks.org, so it stays the last resort.
                let at = if first { 0 } else { servers.iter().position(|s| s.url == LUAROCKS_ORG).unwrap_or(servers.len()) };
                servers.insert(at, entry);
                target.set(ctx, &servers)?;
                eprintln!("added rocks server '{server_name}' to {}", target.describe());
                target.warn_if_overridden();
                Ok(())
            }
            RocksCommand::RemoveServer { server, project } => {
                let _lock = crate::lock::acquire(ctx, "rocks-config")?;
                let target = Target::open(ctx, &prefix, &series, &name, project)?;
                let (removed, kept): (Vec<Server>, Vec<Server>) = target.servers().into_iter().partition(|s| s.name == server || same_url(&s.url, &server));
                if removed.is_empty() {
                    let names: Vec<&str> = kept.iter().map(|s| s.name.as_str()).collect();
                    return Err(usage(format!(
                        "no rocks server '{}' in {} (servers: {}); see `luaenv rocks servers`",
                        credentials::masked(&server),
                        target.describe(),
                        names.join(", ")
                    )));
                }
                target.set(ctx, &kept)?;
                eprintln!("removed rocks server '{}' from {}", credentials::masked(&server), target.describe());
                // Credentials are per host and shared by every version: forget them with the last user.
                for host in removed.iter().filter_map(|s| reqwest::Url::parse(&s.url).ok().and_then(|u| credentials::host_of(&u))) {
                    if host_in_use(ctx, &host) {
                        continue;
                    }
                    match credentials::forget(ctx, &host) {
                        Ok(true) => eprintln!("forgot the credentials for {host}: no installed version uses it any more"),
                        Ok(false) => {}
                        // The server is removed already; the credentials file is the user's to fix.
                        Err(e) => eprintln!("warning: {e:#}"),
                    }
                }
                Ok(())
            }
            RocksCommand::Servers { json, project } => {
                // Inside a project with its own servers, those are what LuaRocks uses.
                let in_project = project || crate::project::find(&crate::commands::cwd()?).is_some_and(|d| crate::project::Lock::read(&d).is_ok_and(|l| l.rocks_servers.is_some()));
                let target = Target::open(ctx, &prefix, &series, &name, in_project)?;
                target.warn_if_overridden();
                let listed: Vec<Listed> = target
                    .servers()
                    .into_iter()
                    .map(|s| {
                        let user = reqwest::Url::parse(&s.url).ok().and_then(|u| credentials::host_of(&u)).and_then(|h| credentials::login_for(ctx, &h));
                        let url = match &user {
                            Some(login) => credentials::with_masked_login(&s.url, login),
                            None => s.url,
                        };
                        Listed { name: s.name, url, user }
                    })
                    .collect();
                if json {
                    println!("{}", serde_json::to_string_pretty(&listed)?);
                } else {
                    for s in listed {
                        println!("{}\t{}", s.name, s.url);
                    }
                }
                Ok(())
            }
        }
    }
}

/// Whose server list a command edits: the selected version's config, or the project's lock
/// (written through to its generated config).
enum Target {
    Version { name: String, config: PathBuf, prefix: PathBuf },
    /// `_held`: the project's lock, held from the read of its luaenv.lock to the write.
    Project { dir: PathBuf, lock: Box<Lock>, name: String, _held: crate::lock::Lock },
}

impl Target {
    fn open(ctx: &Context, prefix: &Path, series: &str, name: &str, project: bool) -> Result<Target> {
        let config = config_of(prefix, series, name)?;
        if !project {
            return Ok(Target::Version { name: name.to_string(), config, prefix: prefix.to_path_buf() });
        }
        let cwd = crate::commands::cwd()?;
        let dir = crate::project::find(&cwd)
            .ok_or_else(|| usage(format!("--project: {} is not inside a luaenv project (no luaenv.lock); make it one with `luaenv init`", cwd.display())))?;
        let held = crate::project::lock(ctx, &dir)?;
        let lock = Lock::read(&dir)?;
        Ok(Target::Project { dir, lock: Box::new(lock), name: name.to_string(), _held: held })
    }

    /// Says so when the user's own lines set `rocks_servers` after luaenv's block: LuaRocks
    /// then uses that list, not the one luaenv shows and edits.
    fn warn_if_overridden(&self) {
        let config = match self {
            Target::Version { config, .. } => config.clone(),
            Target::Project { dir, .. } => dir.join(crate::project::GENERATED).join("luarocks-config.lua"),
        };
        if rocks::config::servers_overridden(&std::fs::read(&config).unwrap_or_default()) {
            eprintln!(
                "warning: {} sets rocks_servers again below luaenv's block, so LuaRocks uses that list instead of this one; remove that line to use luaenv's",
                config.display()
            );
        }
    }

    /// The list as LuaRocks sees it. A project's own list starts from LuaRocks' default, not
    /// from this machine's version config, so a fresh clone gets the same servers.
    fn servers(&self) -> Vec<Server> {
        match self {
            Target::Version { config, .. } => version_servers(config),
            Target::Project { lock, .. } => lock.rocks_servers.clone().unwrap_or_else(default_servers),
        }
    }

    fn set(&self, ctx: &Context, servers: &[Server]) -> Result<()> {
        match self {
            Target::Version { config, prefix, .. } => rocks::config::set_servers(ctx, config, prefix, servers),
            Target::Project { dir, lock, name, .. } => {
                let mut lock = (**lock).clone();
                lock.rocks_servers = Some(servers.to_vec());
                lock.write(dir)?;
                crate::project::generate(ctx, dir, name, &lock)
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            Target::Version { name, .. } => name.clone(),
            Target::Project { dir, .. } => format!("the project {}", dir.display()),
        }
    }
}

/// A server as listed: secrets masked, the user shown.
#[derive(serde::Serialize)]
struct Listed {
    name: String,
    url: String,
    user: Option<String>,
}

/// The prefix's LuaRocks config, or the error for a prefix without LuaRocks.
fn config_of(prefix: &Path, series: &str, name: &str) -> Result<PathBuf> {
    let config = rocks::config::config_path(prefix, series);
    if !prefix.join("bin/luarocks").is_file() || !config.is_file() {
        return Err(usage(format!("{name} has no LuaRocks; add it with `luaenv rocks install`")));
    }
    Ok(config)
}

/// The servers of a version's config, or LuaRocks' own default when luaenv set none.
fn version_servers(config: &Path) -> Vec<Server> {
    rocks::config::read_servers(std::fs::read(config).unwrap_or_default()).unwrap_or_else(default_servers)
}

fn default_servers() -> Vec<Server> {
    vec![Server { name: "luarocks.org".into(), url: LUAROCKS_ORG.into() }]
}

/// A rocks-server URL, or the error that says which part is wrong, its password masked.
fn check_url(url: &str) -> Result<reqwest::Url> {
    let shown = credentials::masked(url);
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https" | "file") && (u.scheme() == "file" || u.host_str().is_some()) => Ok(u),
        Err(url::ParseError::InvalidPort) => Err(usage(format!("'{shown}' is not a rocks server URL: its port is not a number from 1 to 65535"))),
        Err(url::ParseError::InvalidDomainCharacter | url::ParseError::EmptyHost | url::ParseError::IdnaError) => {
            Err(usage(format!("'{shown}' is not a rocks server URL: its host name is not valid")))
        }
        _ => Err(usage(format!("'{shown}' is not a rocks server URL: expected http://, https:// or file://"))),
    }
}

/// The URL without credentials, and the credentials from `--user` + stdin or from the URL.
fn split_credentials(url: &str, user: Option<String>) -> Result<(reqwest::Url, Option<(String, String)>)> {
    let mut parsed = check_url(url)?;
    let in_url = (!parsed.username().is_empty()).then(|| {
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        (decode(parsed.username()), decode(parsed.password().unwrap_or("")))
    });
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    let login = match (in_url, user) {
        (Some(_), Some(_)) => return Err(usage("credentials given both in the URL and with --user: give them once, with --user and --password-stdin")),
        (Some(pair), None) => {
            eprintln!("note: the credentials in the URL go to luaenv's credentials file, not into the config");
            Some(pair)
        }
        (None, Some(login)) => Some((login, read_password()?)),
        (None, None) => None,
    };
    if login.is_some() && parsed.scheme() == "file" {
        return Err(usage("a file:// rocks server takes no credentials"));
    }
    Ok((parsed, login))
}

/// The password: the first line of standard input, so it never shows in `ps` or shell history.
fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(usage("--password-stdin: no password on standard input; pipe it in, e.g. `printf %s \"$TOKEN\" | luaenv rocks add-server ...`"));
    }
    Ok(password)
}

/// Asks the server for its manifest with the credentials, so a wrong password is caught now,
/// before anything is stored. A server that cannot be reached is only a warning: build farms
/// often configure servers before they come up.
fn check_credentials(url: &reqwest::Url, login: &str, password: &str) -> Result<()> {
    let manifest = format!("{}/manifest", url.as_str().trim_end_matches('/'));
    let client = reqwest::blocking::Client::builder().timeout(std::time::Duration::from_secs(20)).build()?;
    match client.get(&manifest).basic_auth(login, Some(password)).send() {
        Ok(r) if matches!(r.status().as_u16(), 401 | 403) => Err(anyhow::anyhow!(
            "rocks server {} refused user '{login}' ({}): check the user name and password, then run add-server again; nothing was changed",
            url,
            r.status()
        )),
        Ok(_) => Ok(()),
        Err(e) => {
            eprintln!("warning: could not check the credentials against {url} ({}); adding it anyway", e.without_url());
            Ok(())
        }
    }
}

fn same_url(a: &str, b: &str) -> bool {
    let strip = |u: &str| reqwest::Url::parse(u).map(|mut p| {
        let _ = p.set_username("");
        let _ = p.set_password(None);
        p.as_str().trim_end_matches('/').to_string()
    });
    match (strip(a), strip(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim_end_matches('/') == b.trim_end_matches('/'),
    }
}

/// Whether any installed version's LuaRocks config still names a server on `host`.
fn host_in_use(ctx: &Context, host: &str) -> bool {
    ctx.installed().iter().any(|name| {
        let dir = ctx.prefix(name).join("etc/luarocks");
        std::fs::read_dir(dir).into_iter().flatten().flatten().any(|e| {
            let text = std::fs::read(e.path()).unwrap_or_default();
            rocks::config::read_servers(&text).unwrap_or_default().iter().any(|s| reqwest::Url::parse(&s.url).ok().and_then(|u| credentials::host_of(&u)).as_deref() == Some(host))
        })
    })
}


