//! `infiagent index [DIR] [--json] [--stats]`.

use std::io::Write;
use std::path::PathBuf;

use infiagent_index::{Descriptor, Detail, IndexOptions, IndexStats, WorkspaceIndex};

/// Describe every file of a folder as the agents see it.
#[derive(Debug, clap::Args)]
pub struct IndexArgs {
    /// The folder (default: the current directory).
    dir: Option<PathBuf>,
    /// Print the descriptors as a JSON array.
    #[arg(long)]
    json: bool,
    /// Print counts and timings (on stderr when descriptors are printed too).
    #[arg(long)]
    stats: bool,
}

/// Scans the folder with the cache under `<dir>/.infiagent/index/` and prints
/// the descriptors (sorted by path), as JSON, or the statistics. Printed
/// descriptors are parsed, as an agent reads them; the statistics are the
/// scan's (its first pass tags files, see `infiagent_index::Detail`).
pub(crate) fn run(args: IndexArgs) -> anyhow::Result<u8> {
    let dir = crate::folder_or_current(args.dir.clone())?;
    let options = IndexOptions {
        cache_dir: Some(dir.join(".infiagent").join("index")),
        ..IndexOptions::default()
    };
    let mut index = WorkspaceIndex::scan(&dir, &options)?;
    let prints_descriptors = args.json || !args.stats;
    if prints_descriptors {
        let tagged: Vec<String> = index
            .descriptors()
            .filter(|descriptor| descriptor.detail == Detail::Tagged)
            .map(|descriptor| descriptor.path.clone())
            .collect();
        if !tagged.is_empty() {
            index.refine(WorkspaceIndex::parse_files(&dir, &options, &tagged));
            index.save()?;
        }
    }
    match print(&index, &args) {
        Ok(()) => Ok(0),
        // The reader went away (`| head`): nothing more to say.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(err) => Err(anyhow::Error::new(err).context("cannot write the index")),
    }
}

fn print(index: &WorkspaceIndex, args: &IndexArgs) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let descriptors: Vec<&Descriptor> = index.descriptors().collect();
        serde_json::to_writer_pretty(&mut out, &descriptors)?;
        writeln!(out)?;
    } else if !args.stats {
        for descriptor in index.descriptors() {
            writeln!(out, "{}", descriptor.render())?;
        }
    }
    if args.stats {
        let stats = render_stats(&index.stats());
        if args.json {
            eprintln!("{stats}");
        } else {
            writeln!(out, "{stats}")?;
        }
    }
    out.flush()
}

fn render_stats(stats: &IndexStats) -> String {
    let seconds = stats.duration.as_secs_f64();
    let files_per_second = if seconds > 0.0 {
        stats.files as f64 / seconds
    } else {
        0.0
    };
    format!(
        "files: {}\ndescribed: {}\ncached: {}\nskipped: {}\ndefinitions: {}\nbytes: {}\nelapsed: {} ms\nfiles per second: {:.0}",
        stats.files,
        stats.parsed,
        stats.cached,
        stats.skipped,
        stats.definitions,
        stats.bytes,
        stats.duration.as_millis(),
        files_per_second,
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn stats_are_one_per_line() {
        let stats = IndexStats {
            files: 10,
            parsed: 4,
            cached: 6,
            skipped: 1,
            bytes: 2048,
            definitions: 30,
            duration: Duration::from_millis(20),
        };
        assert_eq!(
            render_stats(&stats),
            "files: 10\ndescribed: 4\ncached: 6\nskipped: 1\ndefinitions: 30\nbytes: 2048\nelapsed: 20 ms\nfiles per second: 500"
        );
    }
}
