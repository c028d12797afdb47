use anyhow::Result;

use crate::context::Context;
use crate::error::usage;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: MirrorCommand,
}

#[derive(clap::Subcommand)]
enum MirrorCommand {
    /// Fetch Lua and LuaRocks tarballs from this mirror from now on
    Set {
        /// An HTTP(S) or file:// URL, or a folder, holding the tarballs under their upstream names
        #[arg(value_name = "URL|DIR")]
        location: String,
    },
    /// Go back to the upstream sources
    Unset,
    /// Print the mirror in use, if any
    Show,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        match self.command {
            MirrorCommand::Set { location } => {
                let location = normalize(&location)?;
                crate::prefix::write_atomic(&ctx.mirror_file(), format!("{location}\n").as_bytes())?;
                eprintln!("source mirror set to {location}");
                if std::env::var_os("LUAENV_MIRROR").is_some_and(|v| !v.is_empty()) {
                    eprintln!("note: $LUAENV_MIRROR is set and takes precedence over it");
                }
                Ok(())
            }
            MirrorCommand::Unset => {
                match std::fs::remove_file(ctx.mirror_file()) {
                    Ok(()) => eprintln!("source mirror unset: sources come from upstream again"),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => eprintln!("no source mirror was set"),
                    Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot remove {}", ctx.mirror_file().display()))),
                }
                Ok(())
            }
            MirrorCommand::Show => {
                match super::mirror(ctx, None) {
                    Some((mirror, origin)) => {
                        println!("{mirror}");
                        eprintln!("(from {origin})");
                    }
                    None => eprintln!("no source mirror: sources come from upstream (set one with `luaenv mirror set <url|dir>`)"),
                }
                Ok(())
            }
        }
    }
}

/// A URL as given, or a folder made absolute, so the setting works from any directory.
fn normalize(location: &str) -> Result<String> {
    if location.contains("://") {
        return match reqwest::Url::parse(location) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(location.trim_end_matches('/').to_string()),
            Ok(u) if u.scheme() == "file" => normalize(u.path()),
            _ => Err(usage(format!("'{location}' is not a mirror URL: expected http://, https:// or file://, or a folder"))),
        };
    }
    let dir = std::path::Path::new(location);
    if !dir.is_dir() {
        return Err(usage(format!("'{location}' is neither a URL nor an existing folder; give an http(s):// URL or the folder holding the tarballs")));
    }
    Ok(std::fs::canonicalize(dir)?.display().to_string())
}
