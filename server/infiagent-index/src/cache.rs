//! The on-disk cache of descriptors: one JSON file, keyed by path and content
//! hash, written atomically.

use std::collections::HashMap;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::descriptor::Descriptor;
use crate::language::Language;
use crate::workspace::IndexError;

/// The cache file in the cache folder.
pub(crate) const CACHE_FILE: &str = "descriptors.json";

/// What the cache file holds.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    /// Changes with the crate version and the queries: any other value means the
    /// descriptors were made differently and are not reused.
    fingerprint: String,
    descriptors: Vec<Descriptor>,
}

/// Raised whenever [`Descriptor`]'s fields change meaning.
const DESCRIPTOR_FORMAT: u32 = 2;

/// The fingerprint of this build's descriptors.
fn fingerprint() -> &'static str {
    static FINGERPRINT: OnceLock<String> = OnceLock::new();
    FINGERPRINT.get_or_init(|| {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        hasher.update(&DESCRIPTOR_FORMAT.to_le_bytes());
        for language in Language::KNOWN {
            hasher.update(language.name().as_bytes());
            hasher.update(language.query_source().unwrap_or_default().as_bytes());
        }
        format!("{}-{:016x}", env!("CARGO_PKG_VERSION"), hasher.digest())
    })
}

/// The cached descriptors by path; empty when there is no cache, or it is
/// unreadable or from another version (it is then rebuilt).
pub(crate) fn load(cache_dir: &Path) -> HashMap<String, Descriptor> {
    let Ok(bytes) = fs::read(cache_dir.join(CACHE_FILE)) else {
        return HashMap::new();
    };
    match serde_json::from_slice::<CacheFile>(&bytes) {
        Ok(file) if file.fingerprint == fingerprint() => file
            .descriptors
            .into_iter()
            .map(|descriptor| (descriptor.path.clone(), descriptor))
            .collect(),
        _ => HashMap::new(),
    }
}

/// Writes the descriptors: a temporary file in the cache folder, then a rename.
pub(crate) fn save<'a>(
    cache_dir: &Path,
    descriptors: impl Iterator<Item = &'a Descriptor>,
) -> Result<(), IndexError> {
    let path = cache_dir.join(CACHE_FILE);
    let cache_error = |source| IndexError::CacheWrite {
        path: path.clone(),
        source,
    };
    fs::create_dir_all(cache_dir).map_err(cache_error)?;
    // Unique per process and per save, so saves at the same time never share it.
    static SAVES: AtomicU64 = AtomicU64::new(0);
    let temporary = cache_dir.join(format!(
        "{CACHE_FILE}.{}.{}.tmp",
        std::process::id(),
        SAVES.fetch_add(1, Ordering::Relaxed)
    ));
    let result = write_file(&temporary, descriptors)
        .and_then(|()| fs::rename(&temporary, &path))
        .map_err(cache_error);
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

fn write_file<'a>(
    temporary: &Path,
    descriptors: impl Iterator<Item = &'a Descriptor>,
) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct CacheFileRef<'a> {
        fingerprint: &'a str,
        descriptors: Vec<&'a Descriptor>,
    }
    let file = fs::File::create(temporary)?;
    let mut writer = BufWriter::new(file);
    serde_json::to_writer(
        &mut writer,
        &CacheFileRef {
            fingerprint: fingerprint(),
            descriptors: descriptors.collect(),
        },
    )?;
    writer.flush()?;
    writer.get_ref().sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe;

    #[test]
    fn saved_descriptors_load_back() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("index");
        let descriptors = [
            describe("a.rs", "fn a() {}\n"),
            describe("b.py", "def b():\n    pass\n"),
        ];
        save(&cache_dir, descriptors.iter()).unwrap();
        let loaded = load(&cache_dir);
        assert_eq!(loaded.len(), 2);
        assert_eq!(loaded["a.rs"], descriptors[0]);
        let leftovers: Vec<_> = fs::read_dir(&cache_dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "only the cache file is left");
    }

    #[test]
    fn unreadable_or_foreign_caches_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).is_empty());
        fs::write(dir.path().join(CACHE_FILE), "not json").unwrap();
        assert!(load(dir.path()).is_empty());
        fs::write(
            dir.path().join(CACHE_FILE),
            r#"{"fingerprint":"0.0.0-old","descriptors":[]}"#,
        )
        .unwrap();
        assert!(load(dir.path()).is_empty());
    }

    #[test]
    fn unwritable_cache_folders_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, "").unwrap();
        let error = save(&blocker.join("index"), std::iter::empty()).unwrap_err();
        assert!(
            error.to_string().contains("cannot write the index cache"),
            "{error}"
        );
    }
}
