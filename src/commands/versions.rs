use anyhow::Result;

use crate::context::Context;

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
            let rows: Vec<_> = installed
                .iter()
                .map(|name| {
                    let selected = current.as_deref() == Some(name);
                    serde_json::json!({
                        "name": name,
                        "prefix": ctx.prefix(name),
                        "selected": selected,
                        "origin": selection.as_ref().filter(|_| selected).map(|s| s.origin.describe()),
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
            match (&current, &selection) {
                (Some(c), Some(s)) if c == name => println!("* {name} ({})", s.origin.describe()),
                _ => println!("  {name}"),
            }
        }
        Ok(())
    }
}
