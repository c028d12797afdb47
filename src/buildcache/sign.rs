//! Signing builds with minisign keys, so that a fleet installs only what its own builders made.
//!
//! minisign's format (Ed25519, a key id in every signature) because teams can then check a
//! build by hand with the `minisign` tool (`minisign -V -p key.pub -m config.json -x sig`).
//! Secret keys are written unencrypted (mode 0600): CI signs without a prompt, so the file's
//! permissions and the CI's secret store are what protect it.
//!
//! Trusted public keys: `<root>/trusted-keys/<KEY ID>.pub` (written by `luaenv cache trust`)
//! and the `.pub` files named in `$LUAENV_TRUSTED_KEYS` (`:`-separated paths).

use std::io::{Cursor, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use minisign::{PublicKey, PublicKeyBox, SecretKey, SecretKeyBox, SignatureBox};

use crate::context::Context;
use crate::error::usage;

/// The environment variable naming extra trusted public key files.
pub const TRUSTED_KEYS_VAR: &str = "LUAENV_TRUSTED_KEYS";

/// Where `luaenv cache trust` keeps the public keys this root trusts.
pub fn trusted_keys_dir(ctx: &Context) -> PathBuf {
    ctx.root.join("trusted-keys")
}

/// A key id as minisign prints it: the 8 key-number bytes as a little-endian u64, in hex.
fn key_id(keynum: &[u8]) -> String {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&keynum[..8]);
    format!("{:016X}", u64::from_le_bytes(bytes))
}

/// `luaenv cache keygen <file>`: a new key pair, reported on stderr.
pub fn keygen(file: &Path) -> Result<()> {
    let id = generate(file)?;
    eprintln!("Wrote the secret key {} (keep it private) and the public key {} (key id {id}): sign with `luaenv cache push ... --sign {}`, trust with `luaenv cache trust {}`", file.display(), pub_path(file).display(), file.display(), pub_path(file).display());
    Ok(())
}

/// Writes a new key pair: `file` (the secret key, mode 0600) and `file.pub`; returns its key
/// id. Refuses (exit 2) to overwrite either file: a lost signing key cannot be made again.
pub fn generate(file: &Path) -> Result<String> {
    let public = pub_path(file);
    for path in [file, public.as_path()] {
        if path.symlink_metadata().is_ok() {
            return Err(usage(format!("{} already exists; luaenv will not overwrite a key: choose another file name or remove it first", path.display())));
        }
    }
    let pair = minisign::KeyPair::generate_unencrypted_keypair().map_err(|e| anyhow!("cannot make a key pair: {e}"))?;
    let id = key_id(pair.pk.keynum());
    let secret = pair.sk.to_box(Some(&format!("luaenv secret key {id}"))).map_err(|e| anyhow!("cannot encode the secret key: {e}"))?;
    let public_box = pair.pk.to_box().map_err(|e| anyhow!("cannot encode the public key: {e}"))?;
    write_new(file, secret.into_string().as_bytes(), 0o600)?;
    if let Err(e) = write_new(&public, public_box.into_string().as_bytes(), 0o644) {
        // Never leave half a pair behind.
        let _ = std::fs::remove_file(file);
        return Err(e);
    }
    Ok(id)
}

/// `<file>.pub`, next to the secret key.
fn pub_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Creates `path` with `mode`, failing when it exists (no race with another writer).
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).with_context(|| format!("cannot write {}", path.display()))
}

/// The minisign signature (the text of a `.minisig` file) of `bytes` with the secret key in
/// `key_file`.
pub fn sign(key_file: &Path, bytes: &[u8]) -> Result<String> {
    let secret = load_secret_key(key_file)?;
    let public = PublicKey::from_secret_key(&secret).map_err(|e| anyhow!("{} is not a usable minisign secret key: {e}", key_file.display()))?;
    let id = key_id(public.keynum());
    let untrusted = format!("signature from luaenv secret key {id}");
    let signature = minisign::sign(Some(&public), &secret, Cursor::new(bytes), None, Some(&untrusted))
        .map_err(|e| anyhow!("cannot sign with {}: {e}", key_file.display()))?;
    Ok(signature.into_string())
}

fn load_secret_key(key_file: &Path) -> Result<SecretKey> {
    let text = std::fs::read_to_string(key_file).with_context(|| format!("cannot read the signing key {}; make one with `luaenv cache keygen <file>`", key_file.display()))?;
    let boxed = SecretKeyBox::from_string(&text).map_err(|e| usage(format!("{} is not a minisign secret key ({e}); make one with `luaenv cache keygen <file>`", key_file.display())))?;
    // An encrypted key would make minisign prompt for a password on the terminal: refuse it.
    SecretKey::from_unencrypted_box(boxed).map_err(|e| {
        usage(format!(
            "{} is not an unencrypted minisign secret key ({e}); luaenv signs without a password prompt: make a key with `luaenv cache keygen <file>` (Debian's `minisign -G -W` writes unencrypted keys this library cannot read)",
            key_file.display()
        ))
    })
}

/// Checks `signature` over `bytes` against the trusted keys: Ok(the key id) when a trusted key
/// made it; else an error saying which key id signed it and why it is refused.
pub fn verify(ctx: &Context, bytes: &[u8], signature: &str) -> Result<String> {
    let boxed = SignatureBox::from_string(signature).map_err(|e| anyhow!("the signature is not a minisign signature ({e})"))?;
    let id = key_id(boxed.keynum());
    let trusted = trusted_keys(ctx)?;
    let Some(key) = trusted.iter().find(|k| k.keynum() == boxed.keynum()) else {
        return Err(anyhow!(
            "it is signed by key {id}, which this root does not trust; if that key is your builders', run `luaenv cache trust <its .pub file>` (or list it in ${TRUSTED_KEYS_VAR})"
        ));
    };
    minisign::verify(key, &boxed, Cursor::new(bytes), true, false, false)
        .map_err(|e| anyhow!("its signature by trusted key {id} does not match its bytes ({e}): they were changed after signing"))?;
    Ok(id)
}

/// Every public key this root trusts: the kept ones, then those in `$LUAENV_TRUSTED_KEYS`.
/// A listed file that is missing or not a key is an error: a typo must not silently trust
/// nothing (or something else).
pub fn trusted_keys(ctx: &Context) -> Result<Vec<PublicKey>> {
    let mut keys = Vec::new();
    let dir = trusted_keys_dir(ctx);
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "pub")).collect();
            paths.sort();
            for path in paths {
                keys.push(read_public_key(&path)?.1);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot read {}", dir.display()))),
    }
    if let Some(list) = std::env::var_os(TRUSTED_KEYS_VAR) {
        for path in std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()) {
            let (_, key) = read_public_key(&path).map_err(|e| usage(format!("{e} (listed in ${TRUSTED_KEYS_VAR})")))?;
            keys.push(key);
        }
    }
    Ok(keys)
}

/// A minisign public key file: its key id and the key.
fn read_public_key(path: &Path) -> Result<(String, PublicKey)> {
    let text = std::fs::read_to_string(path).map_err(|e| usage(format!("cannot read the public key {}: {e}", path.display())))?;
    parse_public_key(&text).ok_or_else(|| usage(format!("{} is not a minisign public key (a `.pub` file made by `luaenv cache keygen` or `minisign -G`)", path.display())))
}

/// The key in a `.pub` file's text (comment line + base64 line) or in a bare base64 line.
fn parse_public_key(text: &str) -> Option<(String, PublicKey)> {
    let key = PublicKeyBox::from_string(text).ok().and_then(|b| b.into_public_key().ok()).or_else(|| PublicKey::from_base64(text.trim()).ok())?;
    Some((key_id(key.keynum()), key))
}

/// `luaenv cache trust <pubkey-file>`, reported on stderr.
pub fn trust(ctx: &Context, pubkey_file: &Path) -> Result<()> {
    let id = add_trusted_key(ctx, pubkey_file)?;
    eprintln!("This root now trusts builds signed by key {id} ({})", trusted_keys_dir(ctx).join(format!("{id}.pub")).display());
    Ok(())
}

/// Trusts the public key in `pubkey_file`: a copy kept as `<root>/trusted-keys/<KEY ID>.pub`.
/// Returns the key id.
pub fn add_trusted_key(ctx: &Context, pubkey_file: &Path) -> Result<String> {
    let (id, key) = read_public_key(pubkey_file)?;
    let dir = trusted_keys_dir(ctx);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let boxed = key.to_box().map_err(|e| anyhow!("cannot encode the public key: {e}"))?;
    let dest = dir.join(format!("{id}.pub"));
    // A temporary file renamed into place: a reader never sees half a key.
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(boxed.into_string().as_bytes()).with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.persist(&dest).with_context(|| format!("cannot write {}", dest.display()))?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(dir: &Path) -> Context {
        Context { root: dir.join("root"), cache: dir.join("cache") }
    }

    #[test]
    fn keygen_writes_a_private_secret_key_and_refuses_to_overwrite() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("builders.key");
        let id = generate(&key).unwrap();
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        let public = std::fs::read_to_string(dir.path().join("builders.key.pub")).unwrap();
        assert_eq!(parse_public_key(&public).unwrap().0, id);
        let again = generate(&key).unwrap_err();
        assert_eq!(crate::error::exit_code(&again), 2);
        assert!(format!("{again:#}").contains("already exists"), "{again:#}");
    }

    #[test]
    fn only_a_trusted_key_over_unchanged_bytes_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx(dir.path());
        let ours = dir.path().join("ours.key");
        let theirs = dir.path().join("theirs.key");
        let our_id = generate(&ours).unwrap();
        let their_id = generate(&theirs).unwrap();
        assert_eq!(add_trusted_key(&ctx, &pub_path(&ours)).unwrap(), our_id);

        let bytes = b"{\"layer\":\"sha256:00\"}";
        let signature = sign(&ours, bytes).unwrap();
        assert_eq!(verify(&ctx, bytes, &signature).unwrap(), our_id);

        let tampered = verify(&ctx, b"{\"layer\":\"sha256:01\"}", &signature).unwrap_err();
        assert!(format!("{tampered:#}").contains("does not match"), "{tampered:#}");

        let untrusted = verify(&ctx, bytes, &sign(&theirs, bytes).unwrap()).unwrap_err();
        let message = format!("{untrusted:#}");
        assert!(message.contains(&their_id) && message.contains("does not trust"), "{message}");
    }

    #[test]
    fn trust_refuses_a_file_that_is_not_a_public_key() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pub");
        std::fs::write(&junk, "untrusted comment: hello\nnot base64 at all\n").unwrap();
        let err = add_trusted_key(&ctx(dir.path()), &junk).unwrap_err();
        assert_eq!(crate::error::exit_code(&err), 2);
        assert!(format!("{err:#}").contains("is not a minisign public key"), "{err:#}");
    }

    /// The format is minisign's own: the real tool checks what luaenv signed.
    #[test]
    fn the_minisign_tool_verifies_a_luaenv_signature() {
        if std::process::Command::new("minisign").arg("-v").output().is_err() {
            if std::env::var_os("LUAENV_REQUIRE_FIXTURES").is_some_and(|v| v == "1") {
                panic!("minisign is not installed (apt-get install minisign)");
            }
            eprintln!("skipped: minisign is not installed");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k");
        generate(&key).unwrap();
        let message = dir.path().join("config.json");
        std::fs::write(&message, b"{\"build\":\"5.4.7\"}").unwrap();
        std::fs::write(dir.path().join("config.json.minisig"), sign(&key, b"{\"build\":\"5.4.7\"}").unwrap()).unwrap();
        let check = |msg: &Path| {
            std::process::Command::new("minisign").arg("-V").arg("-p").arg(pub_path(&key)).arg("-m").arg(msg).arg("-x").arg(dir.path().join("config.json.minisig")).output().unwrap()
        };
        let good = check(&message);
        assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
        let tampered = dir.path().join("tampered.json");
        std::fs::write(&tampered, b"{\"build\":\"5.4.8\"}").unwrap();
        assert!(!check(&tampered).status.success());
    }
}
