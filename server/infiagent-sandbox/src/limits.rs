//! Resource limits a launch puts on itself before it becomes the program: memory,
//! CPU time, file size, core dumps, and the number of processes.

use std::io;
use std::path::{Path, PathBuf};

use nix::sys::resource::{Resource, setrlimit};
use nix::unistd::{Uid, getpid};

use crate::launcher::LaunchSpec;
use crate::support::Rule;

/// The address space a process may map, as a multiple of its memory limit.
const ADDRESS_SPACE_FACTOR: u64 = 2;

/// The folder (in a `pids` cgroup hierarchy) that holds one cgroup per launch.
const CGROUP_FOLDER: &str = "infiagent-sandbox";

/// Applies the limits of `spec`; an error means a limit could not be set and the
/// launcher must not go on.
pub(crate) fn apply(spec: &LaunchSpec) -> Result<Vec<Rule>, String> {
    let set = |resource, soft: u64, hard: u64, key: &str| {
        setrlimit(resource, soft, hard)
            .map_err(|error| format!("cannot limit the {key} of the process: {error}"))
    };
    set(
        Resource::RLIMIT_DATA,
        spec.memory_bytes,
        spec.memory_bytes,
        "memory",
    )?;
    // Shared mappings escape RLIMIT_DATA; the address space bounds them too, with
    // room for the large reservations of runtimes (V8, the JVM) that they never use.
    let address_space = spec.memory_bytes.saturating_mul(ADDRESS_SPACE_FACTOR);
    set(
        Resource::RLIMIT_AS,
        address_space,
        address_space,
        "address space",
    )?;
    set(
        Resource::RLIMIT_CPU,
        spec.cpu_seconds,
        spec.cpu_seconds.saturating_add(5),
        "CPU time",
    )?;
    set(
        Resource::RLIMIT_FSIZE,
        spec.file_size_bytes,
        spec.file_size_bytes,
        "file size",
    )?;
    set(Resource::RLIMIT_CORE, 0, 0, "core dumps")?;
    Ok(vec![
        Rule::new(
            "memory, CPU time and file size",
            true,
            "resource limits (RLIMIT_DATA, RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE)",
        ),
        bound_processes(spec.processes),
    ])
}

/// Bounds how many processes the launch and its children may have. `RLIMIT_NPROC`
/// counts every process of the user and does not bind the superuser, so it is set
/// above the user's current count; as the superuser, a `pids` cgroup is used.
fn bound_processes(processes: u64) -> Rule {
    const NAME: &str = "process count (fork bombs)";
    let uid = Uid::current();
    if !uid.is_root() {
        let limit = tasks_of(uid.as_raw()).saturating_add(processes);
        return match setrlimit(Resource::RLIMIT_NPROC, limit, limit) {
            Ok(()) => Rule::new(NAME, true, "RLIMIT_NPROC above the user's current count"),
            Err(error) => Rule::new(NAME, false, format!("RLIMIT_NPROC failed: {error}")),
        };
    }
    match join_pids_cgroup(processes) {
        Ok(hierarchy) => Rule::new(
            NAME,
            true,
            format!("a pids cgroup under {}", hierarchy.display()),
        ),
        Err(error) => Rule::new(
            NAME,
            false,
            format!(
                "the superuser is exempt from RLIMIT_NPROC and no pids cgroup could be made: {error}"
            ),
        ),
    }
}

/// Tasks (threads) whose real user is `uid`, as `RLIMIT_NPROC` counts them.
fn tasks_of(uid: u32) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("status")).ok())
        .filter_map(|status| {
            let field = |name: &str| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|value| value.parse::<u64>().ok())
            };
            (field("Uid:")? == u64::from(uid)).then(|| field("Threads:").unwrap_or(1))
        })
        .sum()
}

/// Moves this process into a new `pids` cgroup limited to `processes`; returns the
/// hierarchy used. Empty cgroups of earlier launches are removed on the way.
fn join_pids_cgroup(processes: u64) -> io::Result<PathBuf> {
    let hierarchy =
        pids_hierarchy().ok_or_else(|| io::Error::other("no pids cgroup controller is mounted"))?;
    let folder = hierarchy.join(CGROUP_FOLDER);
    std::fs::create_dir_all(&folder)?;
    if hierarchy == Path::new("/sys/fs/cgroup") {
        std::fs::write(folder.join("cgroup.subtree_control"), "+pids")?;
    }
    if let Ok(entries) = std::fs::read_dir(&folder) {
        for entry in entries.flatten() {
            // Only an empty cgroup can be removed: live launches keep theirs.
            let _ = std::fs::remove_dir(entry.path());
        }
    }
    let own = folder.join(getpid().to_string());
    std::fs::create_dir(&own)?;
    std::fs::write(own.join("pids.max"), processes.to_string())?;
    std::fs::write(own.join("cgroup.procs"), getpid().to_string())?;
    Ok(hierarchy)
}

/// The mounted hierarchy with the `pids` controller: its own (cgroup v1), or the
/// unified one (cgroup v2) when it offers it.
fn pids_hierarchy() -> Option<PathBuf> {
    let v1 = PathBuf::from("/sys/fs/cgroup/pids");
    if v1.join("cgroup.procs").exists() {
        return Some(v1);
    }
    let unified = PathBuf::from("/sys/fs/cgroup");
    let controllers = std::fs::read_to_string(unified.join("cgroup.controllers")).ok()?;
    controllers
        .split_whitespace()
        .any(|controller| controller == "pids")
        .then_some(unified)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_counted_among_its_users_tasks() {
        assert!(tasks_of(Uid::current().as_raw()) >= 1);
        assert_eq!(tasks_of(u32::MAX - 1), 0);
    }
}
