//! A folder build cache: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/<hex>`),
//! read and written in place (a path, an NFS share, a `file://` URL), or read from a static
//! HTTP(S) copy of one.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

use super::{Descriptor, MANIFEST_MEDIA_TYPE, Store, TAG_ANNOTATION, digest_hex};
use crate::install::fetch::Location;
use crate::limits;

/// The biggest manifest or index luaenv reads: both are small JSON.
const MAX_JSON: u64 = 4 << 20;

pub fn open(location: &str) -> Result<Box<dyn Store>> {
    match Location::from_arg(location, "the build cache")? {
        Location::Url(url) => Ok(Box::new(Http { base: url.trim_end_matches('/').to_string() })),
        Location::Path(dir) => Ok(Box::new(Folder { dir })),
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Index {
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

impl Index {
    fn parse(bytes: &[u8], shown: &str) -> Result<Index> {
        serde_json::from_slice(bytes).with_context(|| format!("{shown}/index.json is not an OCI image index; the build cache is damaged"))
    }

    /// The digest of the manifest tagged `tag`.
    fn find(&self, tag: &str) -> Option<&Descriptor> {
        self.manifests.iter().rev().find(|m| m.annotations.get(TAG_ANNOTATION).is_some_and(|t| t == tag))
    }
}

/// A manifest's bytes must be what the index says they are.
fn checked(bytes: Vec<u8>, wanted: &Descriptor, shown: &str) -> Result<Vec<u8>> {
    let got = super::digest_of(&bytes);
    if got != wanted.digest {
        bail!("the manifest {} in {shown} has the digest {got}: its bytes were changed; refusing it", wanted.digest);
    }
    Ok(bytes)
}

pub struct Folder {
    dir: PathBuf,
}

impl Folder {
    fn blob_path(&self, digest: &str) -> Result<PathBuf> {
        Ok(self.dir.join("blobs/sha256").join(digest_hex(digest)?))
    }

    fn index(&self) -> Result<Option<Index>> {
        let path = self.dir.join("index.json");
        if !path.is_file() {
            return Ok(None);
        }
        Ok(Some(Index::parse(&crate::fs::read_capped(&path, MAX_JSON)?, &self.describe())?))
    }

    /// Writes `src` as the blob `digest` unless it is there: a temporary file renamed in, so a
    /// reader never sees half a blob.
    fn put(&self, digest: &str, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
        let target = self.blob_path(digest)?;
        if target.is_file() {
            return Ok(());
        }
        let dir = target.parent().unwrap();
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let tmp = tempfile::Builder::new().prefix(".upload-").tempfile_in(dir)?;
        write(tmp.path())?;
        tmp.persist(&target).with_context(|| format!("cannot write {}", target.display()))?;
        Ok(())
    }
}

impl Store for Folder {
    fn describe(&self) -> String {
        self.dir.display().to_string()
    }

    fn manifest(&self, tag: &str) -> Result<Option<Vec<u8>>> {
        let Some(index) = self.index()? else { return Ok(None) };
        let Some(found) = index.find(tag) else { return Ok(None) };
        let bytes = crate::fs::read_capped(&self.blob_path(&found.digest)?, MAX_JSON)?;
        checked(bytes, found, &self.describe()).map(Some)
    }

    fn blob(&self, digest: &str, dest: &Path) -> Result<()> {
        let path = self.blob_path(digest)?;
        // A link in the cache's storage could point anywhere: a blob is a plain file.
        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            bail!("{} has no blob {digest} (or it is not a plain file); the build cache is incomplete", self.describe());
        }
        std::fs::copy(&path, dest).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(())
    }

    fn push_blob(&self, digest: &str, _media_type: &str, src: &Path) -> Result<()> {
        self.put(digest, |tmp| {
            std::fs::copy(src, tmp)?;
            Ok(())
        })
    }

    fn push_manifest(&self, tag: &str, manifest: &[u8]) -> Result<()> {
        let digest = super::digest_of(manifest);
        self.put(&digest, |tmp| Ok(std::fs::write(tmp, manifest)?))?;
        let _lock = FolderLock::take(&self.dir)?;
        let mut index = self.index()?.unwrap_or(Index { schema_version: 2, ..Default::default() });
        index.schema_version = 2;
        index.media_type = Some("application/vnd.oci.image.index.v1+json".into());
        index.manifests.retain(|m| m.annotations.get(TAG_ANNOTATION).is_none_or(|t| t != tag));
        index.manifests.push(Descriptor {
            media_type: MANIFEST_MEDIA_TYPE.into(),
            digest,
            size: manifest.len() as u64,
            annotations: [(TAG_ANNOTATION.to_string(), tag.to_string())].into(),
        });
        crate::fs::write_atomic(&self.dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        crate::fs::write_atomic(&self.dir.join("index.json"), &serde_json::to_vec_pretty(&index)?)
    }
}

/// Two pushes to one folder (two builders on one NFS share) take turns on `index.json`.
struct FolderLock {
    _file: std::fs::File,
}

impl FolderLock {
    fn take(dir: &Path) -> Result<FolderLock> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the build cache {}", dir.display()))?;
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(".luaenv-lock"))?;
        file.lock().with_context(|| format!("cannot lock {}", dir.display()))?;
        Ok(FolderLock { _file: file })
    }
}

/// A static HTTP(S) copy of a folder cache: read only.
pub struct Http {
    base: String,
}

impl Http {
    fn read(&self, path: &str, cap: u64) -> Result<Option<Vec<u8>>> {
        let url = format!("{}/{path}", self.base);
        match crate::install::fetch::get(&crate::context::root_dir(), &url) {
            Ok(response) => {
                let mut bytes = Vec::new();
                response.take(cap + 1).read_to_end(&mut bytes).with_context(|| format!("cannot read {}/{path}", self.describe()))?;
                if bytes.len() as u64 > cap {
                    bail!("{}/{path} is larger than {}; the build cache is damaged or hostile", self.describe(), limits::show_bytes(cap));
                }
                Ok(Some(bytes))
            }
            Err(e) if e.downcast_ref::<crate::install::fetch::NotFound>().is_some() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Store for Http {
    fn describe(&self) -> String {
        Location::Url(self.base.clone()).display()
    }

    fn manifest(&self, tag: &str) -> Result<Option<Vec<u8>>> {
        let Some(index) = self.read("index.json", MAX_JSON)? else { return Ok(None) };
        let index = Index::parse(&index, &self.describe())?;
        let Some(found) = index.find(tag) else { return Ok(None) };
        let bytes = self.read(&format!("blobs/sha256/{}", digest_hex(&found.digest)?), MAX_JSON)?;
        let bytes = bytes.ok_or_else(|| anyhow::anyhow!("{} lists {tag} but has no manifest {}; the build cache is incomplete", self.describe(), found.digest))?;
        checked(bytes, found, &self.describe()).map(Some)
    }

    fn blob(&self, digest: &str, dest: &Path) -> Result<()> {
        let bytes = self.read(&format!("blobs/sha256/{}", digest_hex(digest)?), limits::max_tree_bytes())?;
        let bytes = bytes.ok_or_else(|| anyhow::anyhow!("{} has no blob {digest}; the build cache is incomplete", self.describe()))?;
        std::fs::write(dest, bytes).with_context(|| format!("cannot write {}", dest.display()))
    }

    fn push_blob(&self, _digest: &str, _media_type: &str, _src: &Path) -> Result<()> {
        Err(read_only(&self.describe()))
    }

    fn push_manifest(&self, _tag: &str, _manifest: &[u8]) -> Result<()> {
        Err(read_only(&self.describe()))
    }
}

fn read_only(shown: &str) -> anyhow::Error {
    crate::error::usage(format!(
        "{shown} is a read-only build cache (an http(s) copy of a folder): push to the folder itself, or to oci://host/repository"
    ))
}
