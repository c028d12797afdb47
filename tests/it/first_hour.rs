//! A newcomer's first hour: the setup lines of other version managers, the spellings of a
//! version that tags and archives use, the words other tools use for luaenv's commands, the
//! global default removed, JSON a script can read, a mirror that lacks the newest release, and
//! every command a message suggests runs as written.

use std::path::Path;
use std::process::Command;

use crate::support::{Env, Server, fails, fixtures_or_skip, ok, run, stderr, stdout, world_or_skip};

/// Everything under a folder, as relative paths: empty means nothing was created there.
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()
}

/// A private root holding real copies of the shared World's prefixes: for tests that remove
/// versions, which must never touch what other tests read.
fn env_with_copies(world: &crate::support::World, names: &[&str]) -> Env {
    let env = Env::new();
    std::fs::create_dir_all(env.root().join("versions")).unwrap();
    for name in names {
        ok(Command::new("cp").arg("-a").arg(world.env.prefix(name)).arg(env.prefix(name)));
    }
    env
}

#[test]
fn init_dash_and_other_shell_setup_lines_create_nothing_and_name_activate() {
    let env = Env::new();
    let cwd = tempfile::tempdir().unwrap();
    let lines: [&[&str]; 7] = [&["-"], &["--path"], &["-", "bash"], &["-", "zsh"], &["bash"], &["zsh"], &["-", "powershell"]];
    for args in lines {
        let first = fails(env.luaenv().arg("init").args(args).current_dir(cwd.path()).env("SHELL", "/bin/bash"), 2, "shell setup is `");
        assert!(first.contains("luaenv activate") && first.contains("nothing was created"), "{args:?}: {first}");
        assert_eq!(entries(cwd.path()), Vec::<String>::new(), "`luaenv init {args:?}` created something");
        assert!(!env.root().exists(), "`luaenv init {args:?}` created the root");
    }
    let zsh = fails(env.luaenv().args(["init", "-"]).current_dir(cwd.path()).env("SHELL", "/usr/bin/zsh"), 2, "activate");
    assert!(zsh.contains(r#"`eval "$(luaenv activate zsh)"`"#), "{zsh}");
    let fish = fails(env.luaenv().args(["init", "fish"]).current_dir(cwd.path()), 2, "activate");
    assert!(fish.contains("`luaenv activate fish | source`"), "{fish}");
    fails(env.luaenv().args(["init", "a", "b"]).current_dir(cwd.path()), 2, "takes one project folder");
    assert_eq!(entries(cwd.path()), Vec::<String>::new());
}

#[test]
fn an_existing_folder_named_like_a_shell_is_still_a_project() {
    let world = world_or_skip!("an_existing_folder_named_like_a_shell_is_still_a_project");
    let env = world.view();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir(cwd.path().join("bash")).unwrap();
    ok(env.luaenv().args(["init", "bash", "--lua", "5.4.7"]).current_dir(cwd.path()));
    assert_eq!(std::fs::read_to_string(cwd.path().join("bash/.lua-version")).unwrap(), "5.4.7\n");
}

#[test]
fn tag_and_archive_spellings_are_read_as_plain_versions() {
    let world = world_or_skip!("tag_and_archive_spellings_are_read_as_plain_versions");
    let env = world.view();
    let prefix = env.prefix("5.4.7").display().to_string();
    for typed in ["5.4.7", "v5.4.7", "lua-5.4.7", "Lua-5.4.7", "v5.4", "lua-5.4"] {
        assert_eq!(ok(env.luaenv().args(["prefix", typed])).trim(), prefix, "prefix {typed}");
    }
    ok(env.luaenv().args(["global", "Lua-5.3.6"]));
    assert_eq!(std::fs::read_to_string(env.root().join("version")).unwrap(), "5.3.6\n");
    let project = tempfile::tempdir().unwrap();
    ok(env.luaenv().args(["local", "v5.4"]).current_dir(project.path()));
    assert_eq!(std::fs::read_to_string(project.path().join(".lua-version")).unwrap(), "5.4\n");
    // Version files written by hand (or by another tool) in those spellings select the same,
    // for the CLI and for the shim alike.
    ok(env.luaenv().arg("rehash"));
    for written in ["v5.4.7", "lua-5.4.7", "v5.4"] {
        std::fs::write(project.path().join(".lua-version"), format!("{written}\n")).unwrap();
        assert_eq!(ok(env.luaenv().arg("prefix").current_dir(project.path())).trim(), prefix, ".lua-version {written}");
        let version = ok(env.luaenv().args(["exec", "lua", "-e", "print(_VERSION)"]).current_dir(project.path()));
        assert_eq!(version.trim(), "Lua 5.4", ".lua-version {written}");
        let mut shim = Command::new(env.root().join("shims/lua"));
        env.apply(&mut shim);
        let version = ok(shim.args(["-e", "print(_VERSION)"]).current_dir(project.path()));
        assert_eq!(version.trim(), "Lua 5.4", "shim with .lua-version {written}");
    }
    // Removing is exact: the plain name is suggested rather than guessed.
    fails(env.luaenv().args(["uninstall", "v5.4.7"]), 2, "did you mean `luaenv uninstall 5.4.7`?");
    assert!(env.prefix("5.4.7").is_dir());
    let luajit = fails(env.luaenv().args(["install", "luajit"]), 2, "names no release");
    for name in ["luajit-2.1 ", "luajit-2.1.0-beta3", "luajit-2.0.5", "openresty-2.1-20251030"] {
        assert!(luajit.contains(name), "{name} missing: {luajit}");
    }
}

#[test]
fn ls_list_and_use_point_to_what_luaenv_calls_them() {
    let world = world_or_skip!("ls_list_and_use_point_to_what_luaenv_calls_them");
    let env = world.view();
    let versions = ok(env.luaenv().arg("versions"));
    assert!(versions.contains("5.4.7"), "{versions}");
    assert_eq!(ok(env.luaenv().arg("ls")), versions);
    assert_eq!(ok(env.luaenv().arg("list")), versions);
    let first = fails(env.luaenv().args(["use", "5.4.7"]), 2, "luaenv has no `use`");
    assert!(first.contains("`luaenv local 5.4.7`") && first.contains("`luaenv global 5.4.7`"), "{first}");
    let first = fails(env.luaenv().args(["use", "v5.3.6"]), 2, "`luaenv local 5.3.6`");
    assert!(!first.contains("uninstall"), "clap's nearest word leaked: {first}");
    fails(env.luaenv().arg("use"), 2, "`luaenv local ");
    fails(Env::new().luaenv().args(["use", "5.4"]), 2, "run `luaenv install 5.4`");
}

/// A version a project made here pins is refused from anywhere (not only inside the
/// project) until --force: the project's shims and sync would lose their Lua.
#[test]
fn uninstalling_a_version_a_project_pins_needs_force_from_anywhere() {
    let world = world_or_skip!("uninstalling_a_version_a_project_pins_needs_force_from_anywhere");
    let env = env_with_copies(world, &["5.5.1"]);
    let (project, elsewhere) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    ok(env.luaenv().args(["init", "--lua", "5.5.1"]).current_dir(project.path()));
    let said = fails(env.luaenv().args(["uninstall", "5.5.1"]).current_dir(elsewhere.path()), 2, "is pinned by the project");
    assert!(said.contains(&project.path().display().to_string()) && said.contains("--force"), "{said}");
    assert!(env.prefix("5.5.1").is_dir(), "a refused uninstall removed the prefix");
    ok(env.luaenv().args(["uninstall", "5.5.1", "--force"]).current_dir(elsewhere.path()));
    assert!(!env.prefix("5.5.1").exists());
}

#[test]
fn uninstalling_the_global_default_needs_force_and_clears_it() {
    let world = world_or_skip!("uninstalling_the_global_default_needs_force_and_clears_it");
    let env = env_with_copies(world, &["5.5.1"]);
    let cwd = tempfile::tempdir().unwrap();
    ok(env.luaenv().args(["global", "5.5.1"]));
    let global = env.root().join("version");
    let first = fails(env.luaenv().args(["uninstall", "5.5.1"]).current_dir(cwd.path()), 2, "is the global default");
    assert!(first.contains(&global.display().to_string()) && first.contains("`luaenv uninstall 5.5.1 --force`"), "{first}");
    assert!(env.prefix("5.5.1").is_dir() && global.is_file(), "a refused uninstall changed something");
    let out = run(env.luaenv().args(["uninstall", "5.5.1", "--force"]).current_dir(cwd.path()));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("cleared the global default ({})", global.display())), "{}", stderr(&out));
    assert!(!env.prefix("5.5.1").exists() && !global.exists());
    // Nothing stale is left for doctor to find.
    let out = run(env.luaenv().arg("doctor").current_dir(cwd.path()));
    assert!(out.status.success(), "doctor after a forced uninstall: {}{}", crate::support::stdout(&out), stderr(&out));
}

#[test]
fn doctor_names_a_global_or_project_pin_on_a_missing_version() {
    let world = world_or_skip!("doctor_names_a_global_or_project_pin_on_a_missing_version");
    let env = env_with_copies(world, &["5.5.1"]);
    let cwd = tempfile::tempdir().unwrap();
    ok(env.luaenv().args(["global", "5.5.1"]));
    ok(env.luaenv().arg("rehash"));
    ok(env.luaenv().arg("doctor").current_dir(cwd.path()));
    // Removed behind luaenv's back: the global default now names nothing.
    std::fs::remove_dir_all(env.prefix("5.5.1")).unwrap();
    let out = run(env.luaenv().arg("doctor").current_dir(cwd.path()));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = crate::support::stdout(&out);
    let line = report.lines().find(|l| l.starts_with("problem") && l.contains("5.5.1")).unwrap_or_else(|| panic!("no finding names 5.5.1:\n{report}"));
    assert!(line.contains(&env.root().join("version").display().to_string()), "{line}");
    assert!(report.contains("run `luaenv install 5.5.1`"), "{report}");
    // A project pin on a version luaenv does not know is named with the file.
    std::fs::write(cwd.path().join(".lua-version"), "5.9\n").unwrap();
    let out = run(env.luaenv().arg("doctor").current_dir(cwd.path()));
    assert_eq!(out.status.code(), Some(1));
    let report = crate::support::stdout(&out);
    assert!(report.lines().any(|l| l.starts_with("problem") && l.contains(".lua-version selects Lua '5.9'")), "{report}");
}

#[test]
fn versions_json_gives_the_origin_as_a_value_and_its_path() {
    let world = world_or_skip!("versions_json_gives_the_origin_as_a_value_and_its_path");
    let env = world.view();
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join(".lua-version"), "5.3.6\n").unwrap();
    ok(env.luaenv().args(["global", "5.4.7"]));
    let elsewhere = tempfile::tempdir().unwrap();
    let selected = |cmd: &mut Command| -> serde_json::Value {
        let json: serde_json::Value = serde_json::from_str(&ok(cmd)).unwrap();
        let rows: Vec<serde_json::Value> = json.as_array().unwrap().iter().filter(|r| r["selected"] == true).cloned().collect();
        assert_eq!(rows.len(), 1, "{json}");
        rows[0].clone()
    };
    let row = selected(env.luaenv().args(["versions", "--json"]).current_dir(project.path()));
    assert_eq!((row["name"].as_str(), row["origin"].as_str()), (Some("5.3.6"), Some("file")));
    assert_eq!(row["origin_path"], project.path().join(".lua-version").display().to_string());
    let row = selected(env.luaenv().args(["versions", "--json"]).current_dir(elsewhere.path()));
    assert_eq!((row["name"].as_str(), row["origin"].as_str()), (Some("5.4.7"), Some("global")));
    assert_eq!(row["origin_path"], env.root().join("version").display().to_string());
    let row = selected(env.luaenv().args(["versions", "--json"]).current_dir(project.path()).env("LUAENV_VERSION", "5.1.5"));
    assert_eq!((row["name"].as_str(), row["origin"].as_str()), (Some("5.1.5"), Some("env")));
    assert!(row["origin_path"].is_null());
}

/// The fixtures mirror has lua-5.4.7 while the catalogue's newest 5.4 is 5.4.9: `install 5.4`
/// takes 5.4.7 from it, says so, and reports how each install got there.
#[test]
fn a_series_installs_the_newest_release_an_http_mirror_lists_and_json_says_how() {
    let fixtures = fixtures_or_skip!("a_series_installs_the_newest_release_an_http_mirror_lists_and_json_says_how");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let install = |spec: &str| -> (serde_json::Value, String) {
        let out = run(env.luaenv().args(["install", spec, "--no-rocks", "--json", "--mirror", &server.url]));
        assert!(out.status.success(), "install {spec}: {}", stderr(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json.as_array().map(Vec::len), Some(1), "{json}");
        (json[0].clone(), stderr(&out))
    };
    let (row, err) = install("5.4");
    assert!(err.contains("luaenv: 5.4 → 5.4.7, the newest 5.4 the mirror has"), "{err}");
    assert_eq!((row["spec"].as_str(), row["name"].as_str(), row["how"].as_str()), (Some("5.4"), Some("5.4.7"), Some("built")));
    assert_eq!(row["prefix"], env.prefix("5.4.7").display().to_string());
    assert_eq!(row["source"]["sha256"], "9fbf5e28ef86c69858f6d3d34eccc32e911c1a28b4120ff3e84aaa70cfbf1e30");
    assert_eq!(row["version"], "5.4.7");
    let version = ok(env.luaenv().args(["exec", "lua", "-e", "print(_VERSION)"]).env("LUAENV_VERSION", "5.4.7"));
    assert_eq!(version.trim(), "Lua 5.4");
    let (row, _) = install("v5.4.7");
    assert_eq!((row["name"].as_str(), row["how"].as_str()), (Some("5.4.7"), Some("already-installed")));
    ok(env.luaenv().args(["uninstall", "5.4.7"]));
    let (row, _) = install("5.4");
    assert_eq!((row["name"].as_str(), row["how"].as_str()), (Some("5.4.7"), Some("restored")));
    assert!(env.prefix("5.4.7").join("bin/lua").is_file());
    // A series the mirror has none of: the error names what it does have, nothing is installed.
    let first = fails(env.luaenv().args(["install", "5.2", "--no-rocks", "--mirror", &server.url]), 1, "has no Lua 5.2 release");
    assert!(first.contains("5.5.1, 5.4.7, 5.3.6, 5.1.5"), "{first}");
    assert_eq!(env.versions_entries(), ["5.4.7"]);
}

#[test]
fn a_series_installs_the_newest_release_a_mirror_folder_holds() {
    let fixtures = fixtures_or_skip!("a_series_installs_the_newest_release_a_mirror_folder_holds");
    let env = Env::new();
    // A folder without SHA256SUMS: its listing is what it holds.
    let folder = tempfile::tempdir().unwrap();
    for name in ["lua-5.4.7.tar.gz", "lua-5.3.6.tar.gz"] {
        std::fs::copy(fixtures.join("mirror").join(name), folder.path().join(name)).unwrap();
    }
    for mirror in [fixtures.join("mirror"), folder.path().to_path_buf()] {
        let env = Env::new();
        let out = run(env.luaenv().args(["install", "5.4", "--no-rocks", "--mirror"]).arg(&mirror));
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains("5.4 → 5.4.7, the newest 5.4 the mirror has"), "{}", stderr(&out));
        assert_eq!(crate::support::stdout(&out).trim(), env.prefix("5.4.7").display().to_string());
    }
    let first = fails(env.luaenv().args(["install", "latest", "--no-rocks", "--mirror"]).arg(folder.path()).arg("--from").arg("/nonexistent/lua.tar.gz"), 2, "--from /nonexistent/lua.tar.gz does not exist");
    assert!(first.contains("nothing was installed"), "{first}");
}

/// A command a message suggests: the environment it sets (`LUAENV_VERSION=5.4.7 luaenv …`)
/// and luaenv's arguments.
type Suggested = (Vec<(String, String)>, Vec<String>);

/// The commands a message suggests: each text in backticks that runs luaenv (`run
/// \`luaenv …\``, `did you mean \`luaenv …\``, a setup line holding `luaenv activate …`, up to
/// a pipe). Templates (`<name>`) are left out: they are not commands.
fn suggested_commands(message: &str) -> Vec<Suggested> {
    let quoted = message.split('`').skip(1).step_by(2);
    quoted
        .filter_map(|text| {
            let at = text.find("luaenv ")?;
            let command = text[at + "luaenv ".len()..].split('|').next().unwrap().trim().trim_end_matches([')', '"', '?']);
            let before = text[..at].trim().trim_end_matches("$(").trim_end_matches("eval \"").trim();
            let env: Vec<(String, String)> = before.split_whitespace().filter_map(|w| w.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let words: Vec<String> = command.split_whitespace().map(String::from).collect();
            (!command.contains('<') && !command.contains('…')).then_some((env, words))
        })
        .collect()
}

#[test]
fn suggested_commands_are_found_in_messages() {
    let found = suggested_commands(
        "x; run `luaenv install 5.4.7`, `eval \"$(luaenv activate zsh)\"`, `luaenv activate fish | source`, `LUAENV_VERSION=5.1.5 luaenv rocks install` or `luaenv local <name>`; did you mean `luaenv uninstall 5.4.7`?",
    );
    let words: Vec<Vec<String>> = found.iter().map(|(_, w)| w.clone()).collect();
    assert_eq!(words, [vec!["install", "5.4.7"], vec!["activate", "zsh"], vec!["activate", "fish"], vec!["rocks", "install"], vec!["uninstall", "5.4.7"]]);
    assert_eq!(found[3].0, [("LUAENV_VERSION".to_string(), "5.1.5".to_string())]);
}

/// For bad inputs a newcomer types, every command the error suggests is accepted as written:
/// it may still fail at its work (exit 1: nothing to download here), never as a wrong request.
#[test]
fn every_hint_runs_as_written() {
    let world = world_or_skip!("every_hint_runs_as_written");
    let empty_mirror = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    // Each case: the version file to write ("" for none), the command, and the part of the
    // message that must be there.
    let cases: &[(&str, &[&str], &str)] = &[
        ("", &["init", "-"], "luaenv activate"),
        ("", &["init", "--path"], "luaenv activate"),
        ("", &["install", "luajit"], "luaenv install luajit-2.1"),
        ("", &["install", "5.4.99"], "luaenv install --list"),
        ("", &["install", "5.4.7", "--from", "/nonexistent/lua-5.4.7.tar.gz"], "does not exist"),
        ("", &["use", "5.4.7"], "luaenv local 5.4.7"),
        ("", &["use", "9.9"], "luaenv install --list"),
        ("", &["global", "foo"], "luaenv install --list"),
        ("", &["global", "5.4.99"], "luaenv install --list"),
        ("", &["local", "5.2.4"], "luaenv install 5.2.4"),
        ("", &["uninstall", "5.2.4"], "luaenv install 5.2.4"),
        ("", &["uninstall", "v5.4.7"], "luaenv uninstall 5.4.7"),
        ("", &["uninstall", "5.5.1"], "luaenv uninstall 5.5.1 --force"),
        ("v5.9", &["prefix"], "luaenv install --list"),
        ("5.2.4", &["prefix"], "luaenv install 5.2.4"),
        ("lua-5.2", &["exec", "lua", "-v"], "luaenv install 5.2"),
    ];
    let mut refused = Vec::new();
    let mut ran = 0;
    for (version_file, args, needle) in cases {
        // Hints may remove versions: each case has its own root with copies of the World's.
        let env = env_with_copies(world, &["5.4.7", "5.5.1"]);
        ok(env.luaenv().args(["global", "5.5.1"]));
        let file = project.path().join(".lua-version");
        // What another case's hints made there (with their own root) is not this case's.
        for made in ["lua_modules", ".luaenv", "luaenv.lock"] {
            let _ = std::fs::remove_dir_all(project.path().join(made));
            let _ = std::fs::remove_file(project.path().join(made));
        }
        if version_file.is_empty() {
            let _ = std::fs::remove_file(&file);
        } else {
            std::fs::write(&file, format!("{version_file}\n")).unwrap();
        }
        let out = run(env.luaenv().args(*args).current_dir(project.path()).env("LUAENV_MIRROR", empty_mirror.path()));
        let message = stderr(&out);
        let first = message.lines().next().unwrap_or("");
        assert!(!out.status.success() && first.starts_with("luaenv: ") && first.contains(needle), "{args:?}: expected {needle:?} in: {message}");
        for (vars, hint) in suggested_commands(first) {
            let _ = std::fs::remove_file(&file);
            ran += 1;
            let out = run(env.luaenv().args(&hint).envs(vars).current_dir(project.path()).env("LUAENV_MIRROR", empty_mirror.path()));
            if out.status.code() == Some(2) {
                refused.push(format!("`luaenv {}` (suggested by `luaenv {}`) was refused: {}", hint.join(" "), args.join(" "), stderr(&out).lines().next().unwrap_or("")));
            }
        }
    }
    assert!(ran >= cases.len(), "only {ran} suggested commands found for {} cases", cases.len());
    assert!(refused.is_empty(), "hints that do not run:\n{}", refused.join("\n"));
}

#[test]
fn doctor_names_a_sandbox_generated_for_another_folder() {
    let world = world_or_skip!("doctor_names_a_sandbox_generated_for_another_folder");
    let env = world.view();
    ok(env.luaenv().arg("rehash"));
    let top = tempfile::tempdir().unwrap();
    let first = top.path().join("first");
    ok(env.luaenv().args(["init"]).arg(&first).args(["--lua", "5.4.7"]));
    let said = stdout(&run(env.luaenv().arg("doctor").current_dir(&first)));
    assert!(said.contains("sandbox in place"), "{said}");
    // A copy elsewhere, its generated .luaenv/ copied along: its rocks tree is still the first folder's.
    let copy = top.path().join("copy");
    ok(Command::new("cp").arg("-a").arg(&first).arg(&copy));
    let out = run(env.luaenv().arg("doctor").current_dir(&copy));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let said = stdout(&out);
    assert!(said.contains("was generated for another folder") && said.contains("run `luaenv sync` here"), "{said}");
    // The fix it names works.
    ok(env.luaenv().arg("sync").current_dir(&copy));
    let said = stdout(&run(env.luaenv().arg("doctor").current_dir(&copy)));
    assert!(said.contains("sandbox in place") && !said.contains("another folder"), "{said}");
}

/// A word for `sh -c`, quoted.
fn sh_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The terminal output of a command run under a pseudo-terminal (util-linux `script`).
fn on_a_terminal(env: &Env, args: &[&str]) -> String {
    let line = std::iter::once(crate::support::BIN).chain(args.iter().copied()).map(sh_quote).collect::<Vec<_>>().join(" ");
    let mut script = Command::new("script");
    script.args(["-qec", &line, "/dev/null"]).env("SHELL", "/bin/sh").env("TERM", "xterm").stdin(std::process::Stdio::null());
    env.apply(&mut script);
    ok(&mut script)
}

/// Each `compiling N/M` the live line showed: where, N and M.
fn compile_counts(transcript: &str) -> Vec<(usize, usize, usize)> {
    transcript
        .match_indices("compiling ")
        .filter_map(|(at, _)| {
            let rest = &transcript[at + "compiling ".len()..];
            let (done, rest) = rest.split_once('/')?;
            let total: String = rest.chars().take_while(char::is_ascii_digit).collect();
            Some((at, done.parse().ok()?, total.parse().ok()?))
        })
        .collect()
}

/// An install under a pseudo-terminal: its transcript shows the compile counting objects,
/// then the LuaRocks step, before the final line that says what was installed.
#[test]
fn an_install_on_a_terminal_shows_compile_progress_then_what_was_installed() {
    let fixtures = fixtures_or_skip!("an_install_on_a_terminal_shows_compile_progress_then_what_was_installed");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let rocks = fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz");
    let transcript = on_a_terminal(&env, &["install", "5.4.7", "--rocks", "3.8.0", "--rocks-from", &rocks.display().to_string(), "--mirror", &server.url]);
    let counts = compile_counts(&transcript);
    let last = transcript.find("installed Lua 5.4.7 with LuaRocks 3.8.0 (built in").unwrap_or_else(|| panic!("no final line in the transcript:\n{transcript}"));
    assert!(counts.iter().any(|&(at, done, total)| at < last && done > 0 && done < total), "no `compiling N/M` before the final line:\n{transcript}");
    assert!(counts.iter().all(|&(_, done, total)| done <= total && total >= 30), "{counts:?}");
    let rocks_step = transcript.find("Lua 5.4.7: installing LuaRocks 3.8.0").unwrap_or_else(|| panic!("no LuaRocks step:\n{transcript}"));
    assert!(counts.iter().all(|&(at, ..)| at < rocks_step) && rocks_step < last, "{transcript}");
    assert!(transcript.contains(&env.prefix("5.4.7").display().to_string()), "{transcript}");
    assert_eq!(ok(env.shim("lua").args(["-e", "io.write(_VERSION)"]).env("LUAENV_VERSION", "5.4.7")), "Lua 5.4");
}

/// LuaJIT's live line names its host tools and the VM generation beside the object count.
#[test]
fn a_luajit_install_on_a_terminal_shows_its_host_tools_and_objects() {
    let fixtures = fixtures_or_skip!("a_luajit_install_on_a_terminal_shows_its_host_tools_and_objects");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let transcript = on_a_terminal(&env, &["install", "luajit-2.1", "--no-rocks", "--mirror", &server.url]);
    let last = transcript.find("installed luajit-2.1 (built in").unwrap_or_else(|| panic!("no final line:\n{transcript}"));
    let counts = compile_counts(&transcript);
    assert!(counts.iter().any(|&(at, done, total)| at < last && done > 0 && done < total && total > 60), "{counts:?}\n{transcript}");
    for tool in ["building host tools", "generating the VM (buildvm)"] {
        assert!(transcript[..last].contains(tool), "`{tool}` never shown:\n{transcript}");
    }
}

/// Piped, an install says a few plain lines, never one per object; `--verbose` adds every
/// compiler command; `--quiet` prints only the result; `init` and `sync` follow them too.
#[test]
fn piped_installs_say_a_few_lines_and_quiet_and_verbose_mean_the_same_everywhere() {
    let fixtures = fixtures_or_skip!("piped_installs_say_a_few_lines_and_quiet_and_verbose_mean_the_same_everywhere");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let install = |args: &[&str]| run(env.luaenv().arg("install").args(args).args(["--no-rocks", "--mirror", &server.url]));

    let plain = install(&["5.1.5"]);
    assert!(plain.status.success(), "{}", stderr(&plain));
    let lines: Vec<String> = stderr(&plain).lines().map(String::from).collect();
    assert!(lines.len() <= 4, "a few lines, not one per object: {lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("Lua 5.1.5: compiling ") && l.ends_with(" objects")), "{lines:?}");
    assert!(lines.last().is_some_and(|l| l.starts_with("installed Lua 5.1.5 (built in ")), "{lines:?}");
    assert_eq!(stdout(&plain).trim(), env.prefix("5.1.5").display().to_string());

    let verbose = install(&["5.3.6", "--verbose"]);
    assert!(verbose.status.success(), "{}", stderr(&verbose));
    let text = stderr(&verbose);
    assert!(text.lines().any(|l| l.contains(" -c ") && l.contains("lapi.c")), "no compiler command in --verbose:\n{text}");
    assert!(text.contains("Lua 5.3.6: unpacking") && text.contains("Lua 5.3.6: smoke test"), "no step detail in --verbose:\n{text}");

    // -q works before or after the command's own words, as any global flag.
    for quiet in [vec!["-q", "5.1.5", "--force"], vec!["5.3.6", "--force", "--quiet"]] {
        let out = install(&quiet);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stderr(&out), "", "--quiet printed more than errors");
        assert!(stdout(&out).trim().starts_with(&env.root().join("versions").display().to_string()), "the result (the prefix) still printed");
    }
    assert_eq!(stderr(&install(&["5.1.5", "-q"])), "", "already installed: quiet says nothing");
    fails(env.luaenv().args(["install", "-q", "--verbose", "5.1.5"]), 2, "cannot be used with");

    let project = tempfile::tempdir().unwrap();
    let init = run(env.luaenv().args(["--quiet", "init", "--lua", "5.1.5"]).current_dir(project.path()));
    assert!(init.status.success(), "{}", stderr(&init));
    assert_eq!((stderr(&init).as_str(), stdout(&init).trim()), ("", project.path().display().to_string().as_str()));
    let sync = run(env.luaenv().args(["sync", "-q"]).current_dir(project.path()));
    assert!(sync.status.success() && stderr(&sync).is_empty(), "{}", stderr(&sync));
    assert!(stderr(&run(env.luaenv().arg("sync").current_dir(project.path()))).contains("is in sync"));
}

#[test]
fn install_list_filters_by_series_and_kind() {
    let env = Env::new();
    let list = |args: &[&str]| ok(env.luaenv().args(["install", "--list"]).args(args)).lines().map(String::from).collect::<Vec<_>>();
    let all = list(&[]);
    assert!(all.iter().any(|n| n == "5.4.7") && all.iter().any(|n| n == "luajit-2.1") && all.iter().any(|n| n.starts_with("openresty-2.1-")), "{all:?}");
    let series = list(&["5.4"]);
    assert!(!series.is_empty() && series.iter().all(|n| n.starts_with("5.4.")), "{series:?}");
    assert_eq!(series[0], "5.4.9", "newest first");
    assert_eq!(list(&["v5.3"]), list(&["5.3"]));
    assert!(list(&["5"]).iter().all(|n| n.starts_with('5')));
    assert!(list(&["luajit"]).iter().all(|n| n.starts_with("luajit-")) && list(&["luajit"]).contains(&"luajit-2.1.0-beta3".to_string()));
    assert!(list(&["luajit-2.0"]).iter().all(|n| n.starts_with("luajit-2.0")));
    assert!(list(&["openresty"]).iter().all(|n| n.starts_with("openresty-2.1-")));
    assert_eq!(list(&["lua"]).len(), all.iter().filter(|n| n.starts_with('5')).count());
    // Each name listed is also a filter that finds it.
    for name in all.iter().step_by(5) {
        assert!(list(&[name]).contains(name), "{name}");
    }
    let json: serde_json::Value = serde_json::from_str(&ok(env.luaenv().args(["install", "--list", "openresty", "--json"]))).unwrap();
    assert_eq!(json[0]["kind"], "openresty");
    assert!(json[0]["url"].as_str().unwrap().starts_with("https://github.com/openresty/luajit2/"));
    let json: serde_json::Value = serde_json::from_str(&ok(env.luaenv().args(["install", "--list", "5.1", "--json"]))).unwrap();
    assert!(json.as_array().unwrap().iter().all(|r| r["kind"] == "lua" && r["sha256"].as_str().is_some_and(|s| s.len() == 64)));
    fails(env.luaenv().args(["install", "--list", "5.9"]), 2, "knows no release of 5.9");
    fails(env.luaenv().args(["install", "--list", "python"]), 2, "not a series or kind");
    fails(env.luaenv().args(["install", "--list", "5.4", "5.3"]), 2, "one series or kind");
}

/// A mirror without SHA256SUMS whose folder page lists what it holds (python's http.server,
/// a real autoindex): a series resolves to the newest release on that page.
#[test]
fn a_series_installs_the_newest_release_a_mirror_folder_page_lists() {
    let fixtures = fixtures_or_skip!("a_series_installs_the_newest_release_a_mirror_folder_page_lists");
    let env = Env::new();
    let folder = tempfile::tempdir().unwrap();
    for name in ["lua-5.1.5.tar.gz", "lua-5.3.6.tar.gz"] {
        std::os::unix::fs::symlink(fixtures.join("mirror").join(name), folder.path().join(name)).unwrap();
    }
    let mut python = Command::new("python3")
        .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
        .current_dir(folder.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 runs http.server");
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(python.stdout.take().unwrap()), &mut first).unwrap();
    let port = first.split("port ").nth(1).and_then(|r| r.split_whitespace().next()).unwrap_or_else(|| panic!("no port in {first:?}")).to_string();
    let mirror = format!("http://127.0.0.1:{port}/");
    let missing = fails(env.luaenv().args(["install", "5.4", "--no-rocks", "--mirror", &mirror]), 1, "has no Lua 5.4 release");
    assert!(missing.contains("5.3.6, 5.1.5"), "{missing}");
    let out = run(env.luaenv().args(["install", "5", "--no-rocks", "--mirror", &mirror]));
    let _ = python.kill();
    let _ = python.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("5 → 5.3.6, the newest 5 the mirror has"), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), env.prefix("5.3.6").display().to_string());
}

/// The static shim suggests `luaenv install X` only for a release luaenv knows, and each
/// suggestion runs as written.
#[test]
fn the_shim_suggests_only_installs_that_luaenv_accepts() {
    let world = world_or_skip!("the_shim_suggests_only_installs_that_luaenv_accepts");
    let view = world.view();
    ok(view.luaenv().arg("rehash"));
    let project = tempfile::tempdir().unwrap();
    for (pin, hint) in [("5.2.4", "run `luaenv install 5.2.4`"), ("v5.2.4", "run `luaenv install 5.2.4`"), ("5.4.99", "`luaenv install --list`"), ("luajit-9", "`luaenv install --list`")] {
        std::fs::write(project.path().join(".lua-version"), format!("{pin}\n")).unwrap();
        let line = fails(view.shim("lua").arg("-v").current_dir(project.path()), 2, hint);
        let suggested = line.split('`').nth(1).unwrap().split_whitespace().skip(1).map(String::from).collect::<Vec<_>>();
        let args: Vec<String> = if suggested.contains(&"--list".to_string()) { suggested } else { vec!["install".into(), "--list".into(), suggested[1].clone()] };
        ok(view.luaenv().args(&args).current_dir(project.path()));
    }
}

/// A real interactive shell in a tmux server of its own, fed keys like a user.
struct Tmux {
    socket: std::path::PathBuf,
}

impl Tmux {
    fn start(env: &Env, shell: &str) -> Tmux {
        let socket = env.dir.path().join("tmux.sock");
        let vars = [("HOME", env.home()), ("LUAENV_ROOT", env.root()), ("LUAENV_CACHE_DIR", env.cache())]
            .map(|(k, v)| format!("{k}={}", sh_quote(&v.display().to_string())))
            .join(" ");
        let line = format!("env -i TERM=xterm PATH=/usr/bin:/bin {vars} {shell}");
        ok(Command::new("tmux").arg("-S").arg(&socket).args(["new-session", "-d", "-x", "200", "-y", "50", &line]));
        Tmux { socket }
    }

    fn keys(&self, keys: &[&str]) {
        ok(Command::new("tmux").arg("-S").arg(&self.socket).args(["send-keys", "-t", "0"]).args(keys));
    }

    fn screen(&self) -> String {
        ok(Command::new("tmux").arg("-S").arg(&self.socket).args(["capture-pane", "-p", "-t", "0"]))
    }

    /// Waits (no timing is asserted: the limit only ends a hung shell) until `done` holds.
    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) {
        for _ in 0..600 {
            if done(&self.screen()) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("{what} never happened; the screen:\n{}", self.screen());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-S").arg(&self.socket).arg("kill-server").output();
    }
}

/// After `eval "$(luaenv activate <shell>)"` in a real interactive bash and zsh (zsh without
/// a .zshrc, so no compinit: activate loads it), `luaenv global 5.3<Tab>` completes to the
/// installed 5.3.6, and Enter runs it. fish answers `complete -C` the same way.
#[test]
fn tab_completes_installed_versions_in_real_bash_zsh_and_fish() {
    let world = world_or_skip!("tab_completes_installed_versions_in_real_bash_zsh_and_fish");
    let activate = |shell: &str| format!("eval \"$({} activate {shell})\"", sh_quote(crate::support::BIN));
    for (shell, line) in [("bash", "bash --norc --noprofile -i"), ("zsh", "zsh -f -i")] {
        let view = world.view();
        let tmux = Tmux::start(&view, line);
        tmux.keys(&[&activate(shell), "Enter"]);
        tmux.keys(&["luaenv global 5.3", "Tab"]);
        tmux.wait_until(&format!("{shell}: completion of `luaenv global 5.3`"), |s| s.contains("luaenv global 5.3.6"));
        tmux.keys(&["Enter"]);
        tmux.wait_until(&format!("{shell}: `luaenv global 5.3.6` ran"), |_| view.root().join("version").is_file());
        assert_eq!(ok(view.luaenv().arg("global")).trim(), "5.3.6", "{shell}");
    }

    let fish = |env: &Env, line: &str| {
        let bin_dir = Path::new(crate::support::BIN).parent().unwrap();
        let script = format!("{} completions fish | source; complete -C {}", sh_quote(crate::support::BIN), sh_quote(line));
        let mut cmd = Command::new("fish");
        cmd.args(["--no-config", "-c", &script]).env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()));
        env.apply(&mut cmd);
        ok(&mut cmd).lines().map(|l| l.split('\t').next().unwrap_or("").to_string()).collect::<Vec<_>>()
    };
    let view = world.view();
    for (line, expected) in [("luaenv global ", "5.5.1"), ("luaenv uninstall 5.1", "5.1.5"), ("luaenv prefix 5.4", "5.4.7"), ("luaenv local ", "5.3.6")] {
        assert!(fish(&view, line).contains(&expected.to_string()), "fish `{line}`: {:?}", fish(&view, line));
    }
    assert!(fish(&view, "luaenv install 5.4.").contains(&"5.4.9".to_string()), "known releases for install");
    assert!(fish(&view, "luaenv install luajit-2").contains(&"luajit-2.1".to_string()));
    // No versions installed: nothing offered, and nothing breaks.
    let empty = Env::new();
    assert!(fish(&empty, "luaenv global ").iter().all(|c| c.starts_with('-')), "{:?}", fish(&empty, "luaenv global "));
}
