use std::path::PathBuf;

use anyhow::Result;

use crate::context::Context;
use crate::error::usage;
use crate::prefix::Receipt;
use crate::rocks::{self, LUAROCKS_ORG, Server};

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
        #[arg(long)]
        user: Option<String>,
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
    },
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let (name, _) = crate::commands::selected_name(ctx)?;
        let prefix = ctx.prefix(&name);
        let receipt = Receipt::read(&prefix).ok_or_else(|| anyhow::anyhow!("{} has no luaenv receipt; reinstall it with `luaenv install {name} --force`", prefix.display()))?;
        let series = crate::version::Version::parse(&receipt.version).map(|v| v.series()).unwrap_or_default();
        match self.command {
            RocksCommand::Install { version, from } => {
                let version = rocks::choose(version.as_deref(), &series)?;
                let _lock = crate::lock::acquire(ctx, &name)?;
                let mirror = crate::commands::saved_mirror(ctx).or_else(|| std::env::var("LUAENV_MIRROR").ok());
                let source = rocks::install_into(ctx, &prefix, &prefix, &series, &version, from.as_deref(), mirror.as_deref())?;
                let mut receipt = receipt;
                receipt.luarocks = Some(source);
                receipt.write(&prefix)?;
                crate::shims::rehash(ctx)?;
                eprintln!("installed LuaRocks {version} into {name}");
                Ok(())
            }
            RocksCommand::AddServer { url, name: server_name, first, user, project, .. } => {
                refuse_project(project)?;
                if user.is_some() {
                    return Err(usage("--user: credentials for rocks servers are not supported by this luaenv yet"));
                }
                check_url(&url)?;
                let config = config_of(&prefix, &series, &name)?;
                let mut servers = current_servers(&config);
                if servers.iter().any(|s| s.url.trim_end_matches('/') == url.trim_end_matches('/')) {
                    eprintln!("{url} is already a rocks server of {name}");
                    return Ok(());
                }
                let server_name = server_name.unwrap_or_else(|| host_of(&url));
                if servers.iter().any(|s| s.name == server_name) {
                    return Err(usage(format!("a rocks server named '{server_name}' exists already; choose another with --name")));
                }
                let entry = Server { name: server_name.clone(), url };
                // New servers go before luarocks.org, so it stays the last resort.
                let at = if first { 0 } else { servers.iter().position(|s| s.url == LUAROCKS_ORG).unwrap_or(servers.len()) };
                servers.insert(at, entry);
                rocks::set_servers(&config, &prefix, &servers)?;
                eprintln!("added rocks server '{server_name}' to {name}");
                Ok(())
            }
            RocksCommand::RemoveServer { server, project } => {
                refuse_project(project)?;
                let config = config_of(&prefix, &series, &name)?;
                let mut servers = current_servers(&config);
                let before = servers.len();
                servers.retain(|s| s.name != server && s.url.trim_end_matches('/') != server.trim_end_matches('/'));
                if servers.len() == before {
                    let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
                    return Err(usage(format!("no rocks server '{server}' in {name} (servers: {}); see `luaenv rocks servers`", names.join(", "))));
                }
                rocks::set_servers(&config, &prefix, &servers)?;
                eprintln!("removed rocks server '{server}' from {name}");
                Ok(())
            }
            RocksCommand::Servers { json } => {
                let config = config_of(&prefix, &series, &name)?;
                let servers = current_servers(&config);
                if json {
                    println!("{}", serde_json::to_string_pretty(&servers)?);
                } else {
                    for s in servers {
                        println!("{}\t{}", s.name, s.url);
                    }
                }
                Ok(())
            }
        }
    }
}

fn refuse_project(project: bool) -> Result<()> {
    if project {
        return Err(usage("--project: project sandboxes (luaenv init) are not available in this luaenv yet"));
    }
    Ok(())
}

/// The prefix's LuaRocks config, or the error for a prefix without LuaRocks.
fn config_of(prefix: &std::path::Path, series: &str, name: &str) -> Result<PathBuf> {
    let config = rocks::config_path(prefix, series);
    if !prefix.join("bin/luarocks").is_file() || !config.is_file() {
        return Err(usage(format!("{name} has no LuaRocks; add it with `luaenv rocks install`")));
    }
    Ok(config)
}

/// The servers luaenv manages, or LuaRocks' own default when none are set.
fn current_servers(config: &std::path::Path) -> Vec<Server> {
    let listed = rocks::read_servers(&std::fs::read_to_string(config).unwrap_or_default());
    if listed.is_empty() { vec![Server { name: "luarocks.org".into(), url: LUAROCKS_ORG.into() }] } else { listed }
}

fn check_url(url: &str) -> Result<()> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https" | "file") && (u.scheme() == "file" || u.host_str().is_some()) => Ok(()),
        _ => Err(usage(format!("'{url}' is not a rocks server URL: expected http://, https:// or file://"))),
    }
}

fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| match u.port() { Some(p) => format!("{h}:{p}"), None => h.to_string() }))
        .unwrap_or_else(|| url.to_string())
}
