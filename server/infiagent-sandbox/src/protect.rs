//! Folders of the workspace that processes may read but not write (`.git/`,
//! `.infiagent/`): Landlock can only grant, and the workspace is granted whole, so
//! the launcher makes them read-only with bind mounts in a private mount namespace
//! (a user namespace of its own, no privileges needed). Folders inside them that
//! must stay writable (the workspace's virtual environment) are bound again,
//! writable. Landlock then forbids the program to change any mount.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::statvfs::{FsFlags, statvfs};
use nix::unistd::{getgid, getuid};

use crate::launcher::LaunchSpec;
use crate::support::Rule;

const NAME: &str = "writes to the workspace's protected folders (protect)";

/// Makes `spec.protected` read-only and `spec.reopened` writable again. A failure
/// to set up the namespace leaves the rule unenforced (and says why); a failure
/// after it is an error: the launcher must not go on half-protected.
pub(crate) fn protect(spec: &LaunchSpec) -> Result<Rule, String> {
    if spec.protected.is_empty() {
        return Ok(Rule::new(NAME, true, "nothing to protect here"));
    }
    // The flags a remount must keep, read before any mount changes.
    let flags: HashMap<&Path, MsFlags> = spec
        .protected
        .iter()
        .chain(&spec.reopened)
        .map(|path| (path.as_path(), kept_flags(path)))
        .collect();
    if let Err(reason) = enter_namespaces() {
        return Ok(Rule::new(
            NAME,
            false,
            format!("no private mount namespace: {reason}"),
        ));
    }
    for path in &spec.protected {
        bind(path, flags[path.as_path()] | MsFlags::MS_RDONLY)?;
    }
    for path in &spec.reopened {
        bind(path, flags[path.as_path()])?;
    }
    Ok(Rule::new(
        NAME,
        true,
        "read-only bind mounts in a private mount namespace",
    ))
}

/// A user namespace (mapping this user to itself) and a mount namespace whose
/// mounts no longer propagate.
fn enter_namespaces() -> Result<(), String> {
    let (uid, gid) = (getuid(), getgid());
    unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS)
        .map_err(|error| format!("user namespaces are unavailable ({error})"))?;
    let write = |file: &str, text: String| {
        std::fs::write(file, text).map_err(|error| format!("cannot write {file}: {error}"))
    };
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
    write("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|error| format!("cannot make the mounts private ({error})"))
}

/// Binds `path` onto itself, then remounts the bind with `flags`.
fn bind(path: &PathBuf, flags: MsFlags) -> Result<(), String> {
    let failed = |error| format!("cannot protect {}: {error}", path.display());
    mount(
        Some(path),
        path,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(failed)?;
    mount(
        None::<&str>,
        path,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | flags,
        None::<&str>,
    )
    .map_err(failed)
}

/// The flags of the mount holding `path` that a remount in a user namespace must
/// keep (they are locked).
fn kept_flags(path: &Path) -> MsFlags {
    let Ok(stats) = statvfs(path) else {
        return MsFlags::empty();
    };
    let found = stats.flags();
    [
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ]
    .into_iter()
    .filter(|(stat, _)| found.contains(*stat))
    .fold(MsFlags::empty(), |flags, (_, mount)| flags | mount)
}
