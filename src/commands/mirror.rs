use anyhow::Result;

use crate::context::Context;
use crate::error::usage;
use crate::install::fetch::Location;

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
                let location = normalize(ctx, &location)?;
                crate::fs::write_atomic(&ctx.mirror_file(), format!("{location}\n").as_bytes())?;
                eprintln!("source mirror set to {location}");
                if std::env::var_os("LUAENV_MIRROR").is_some_and(|v| !v.is_empty()) {
                    eprintln!("note: $LUAENV_MIRROR is set and takes precedence over it");
                }
                Ok(())
            }
            MirrorCommand::Unset => {
                // The saved mirror's password goes with it.
                let saved = crate::fs::read_text_capped(&ctx.mirror_file(), crate::limits::MAX_TEXT).unwrap_or_default();
                if let Ok(url) = url::Url::parse(saved.trim()) {
                    crate::credentials::mirror::forget(ctx, &url)?;
                }
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
                        println!("{}", masked(&mirror));
                        eprintln!("(from {origin})");
                    }
                    None => eprintln!("no source mirror: sources come from upstream (set one with `luaenv mirror set <url|dir>`)"),
                }
                Ok(())
            }
        }
    }
}

/// A URL without its password (kept in `credentials/mirror-auth`, 0600), or a folder made
/// absolute, so the setting works from any directory and the mirror file holds no secret.
fn normalize(ctx: &Context, location: &str) -> Result<String> {
    match Location::from_arg(location, "the mirror")? {
        Location::Url(url) => {
            let mut url = url::Url::parse(&url)?;
            if url.password().is_some() {
                crate::credentials::mirror::store(ctx, &url)?;
                let _ = url.set_password(None);
            }
            Ok(url.to_string().trim_end_matches('/').to_string())
        }
        Location::Path(dir) if dir.is_dir() => Ok(std::fs::canonicalize(&dir)?.display().to_string()),
        Location::Path(dir) => Err(usage(format!(
            "'{}' is neither a URL nor an existing folder; give an http(s):// URL or the folder holding the tarballs",
            dir.display()
        ))),
    }
}

/// The mirror as shown: a user name keeps `:***` where its password is (stored or given).
fn masked(mirror: &str) -> String {
    match url::Url::parse(mirror) {
        Ok(mut url) if !url.username().is_empty() => {
            let _ = url.set_password(Some(crate::credentials::MASK));
            url.to_string()
        }
        Ok(_) => mirror.to_string(),
        Err(_) => crate::install::fetch::mask_unparsed(mirror),
    }
}
