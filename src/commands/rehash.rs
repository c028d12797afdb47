use anyhow::Result;

use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {}

impl Args {
    pub fn run(self, ctx: &Context) -> Result<()> {
        crate::rehash::rehash(ctx)
    }
}
