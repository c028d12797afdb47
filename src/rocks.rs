//! LuaRocks: installing it into a prefix (`luarocks`) and the config it reads, with the
//! rocks servers (`config`).

pub mod config;
pub mod cross;
pub mod luarocks;

#[cfg(test)]
mod tests {
    use super::config::*;
    use super::luarocks::*;
    use std::path::{Path, PathBuf};
    use std::os::unix::ffi::OsStrExt as _;

    #[test]
    fn picks_a_supported_luarocks() {
        assert_eq!(choose(None, "5.4").unwrap().to_string(), "3.13.0");
        assert_eq!(choose(None, "5.5").unwrap().to_string(), "3.13.0");
        assert_eq!(crate::error::exit_code(&choose(Some("3.12.2"), "5.5").unwrap_err()), 2);
        assert_eq!(choose(Some("3.8.0"), "5.1").unwrap().to_string(), "3.8.0");
        assert_eq!(crate::error::exit_code(&choose(Some("3.8.0"), "5.5").unwrap_err()), 2);
        // A version no LuaRocks series has is named as such, not as one that lacks this Lua.
        let unknown = choose(Some("9.9.9"), "5.4").unwrap_err().to_string();
        assert!(unknown.contains("is not a 3.x release") && unknown.contains("3.13.0"), "{unknown}");
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
