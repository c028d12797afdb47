use anyhow::Result;

use crate::context::Context;
use crate::prefix::Receipt;

#[derive(clap::Args)]
pub struct Args {
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        let selection = crate::commands::selected(ctx).ok();
        let current = selection.as_ref().and_then(|s| crate::selection::installed_name(&ctx.versions_dir(), &s.requested));
        let installed = ctx.installed();
        if self.json {
            // The origin as a value a script can match on, and the file that made the choice.
            let origin = selection.as_ref().map(|s| match &s.origin {
                crate::selection::Origin::Env => ("env", None),
                crate::selection::Origin::File(p) => ("file", Some(p.as_path())),
                crate::selection::Origin::Global(p) => ("global", Some(p.as_path())),
            });
            let rows: Vec<_> = installed
                .iter()
                .map(|name| {
                    let selected = current.as_deref() == Some(name);
                    let receipt = Receipt::read(&ctx.prefix(name));
                    serde_json::json!({
                        "name": name,
                        "prefix": ctx.prefix(name),
                        "selected": selected,
                        "origin": origin.filter(|_| selected).map(|(kind, _)| kind),
                        "origin_path": origin.filter(|_| selected).and_then(|(_, path)| path),
                        "static": is_static(receipt.as_ref()),
                        "target": receipt.map(|r| r.target),
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
            return Ok(());
        }
        if installed.is_empty() {
            eprintln!("no versions installed; run `luaenv install latest`");
        }
        for name in &installed {
            let tag = if is_static(Receipt::read(&ctx.prefix(name)).as_ref()) { " [static]" } else { "" };
            match (&current, &selection) {
                (Some(c), Some(s)) if c == name => println!("* {name}{tag} ({})", s.origin.describe()),
                _ => println!("  {name}{tag}"),
            }
        }
        Ok(())
    }
}

/// Whether the version was linked fully statically (`--static`), as its receipt says.
fn is_static(receipt: Option<&Receipt>) -> bool {
    receipt.is_some_and(|r| r.flags.get("static").and_then(|v| v.as_bool()) == Some(true))
}
