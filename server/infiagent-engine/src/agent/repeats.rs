//! The loop guard: one agent making the same call again and again while the
//! workspace stays the same (a tool with the same arguments, a child agent with
//! the same task). Such a call's answer cannot change, so the `max_repeated_calls`-th
//! is answered with an error instead of running, and the one after ends the agent.

use std::collections::HashMap;

/// What the guard says of a call.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Repeat {
    /// Run it.
    Fresh,
    /// Do not run it; it is the `limit`-th same call.
    Refused,
    /// Do not run it, and end the agent: it went past the limit.
    Stop,
}

/// Same calls of one agent since the workspace last changed.
#[derive(Debug, Default)]
pub(super) struct Repeats {
    /// The run's change count the counts are for.
    changes: u64,
    counts: HashMap<String, u32>,
}

impl Repeats {
    /// Counts the call `key` made while the run's change count is `changes`
    /// (counts start again whenever it moved), against `limit` (0: no guard).
    pub(super) fn count(&mut self, key: String, changes: u64, limit: u32) -> Repeat {
        if limit == 0 {
            return Repeat::Fresh;
        }
        if changes != self.changes {
            self.counts.clear();
            self.changes = changes;
        }
        let count = self.counts.entry(key).or_insert(0);
        *count += 1;
        match (*count).cmp(&limit) {
            std::cmp::Ordering::Less => Repeat::Fresh,
            std::cmp::Ordering::Equal => Repeat::Refused,
            std::cmp::Ordering::Greater => Repeat::Stop,
        }
    }

    /// Starts counting again (the agent's own call changed files).
    pub(super) fn reset(&mut self) {
        self.counts.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_refuses_then_stops_and_a_change_starts_again() {
        let mut repeats = Repeats::default();
        let seen: Vec<Repeat> = (0..4)
            .map(|_| repeats.count("file_read a".into(), 0, 3))
            .collect();
        assert_eq!(
            seen,
            [Repeat::Fresh, Repeat::Fresh, Repeat::Refused, Repeat::Stop]
        );
        // Another call is counted apart; a change of the workspace resets all.
        assert_eq!(repeats.count("file_read b".into(), 0, 3), Repeat::Fresh);
        assert_eq!(repeats.count("file_read a".into(), 1, 3), Repeat::Fresh);
        repeats.reset();
        assert_eq!(repeats.count("file_read a".into(), 1, 3), Repeat::Fresh);
        assert_eq!(repeats.count("file_read a".into(), 1, 3), Repeat::Fresh);
        assert_eq!(repeats.count("file_read a".into(), 1, 0), Repeat::Fresh);
    }
}
