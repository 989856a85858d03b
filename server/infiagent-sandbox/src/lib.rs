//! The operating-system sandbox for every process a run starts.
//!
//! A process is never started directly: [`ProcessSandbox::command`] builds a command
//! that runs the InfiAgent binary itself as a launcher (`infiagent sandbox-exec`,
//! see [`sandbox_exec`]). The launcher puts resource limits on itself, restricts
//! itself with Landlock (file system, TCP, signals and abstract sockets), makes the
//! workspace's protected folders read-only in a private mount namespace, and then
//! `exec`s the real program, which inherits every restriction and cannot lift it.
//! No `unsafe` code is needed for any of it.
//!
//! The policy ([`SandboxPolicy`], `[sandbox]` in the configuration) says what a
//! process may read and write and whether it may use the network; [`Support`] says
//! which of its rules the running kernel enforces, so that nothing fails open
//! silently.
#![deny(missing_docs)]

#[cfg(target_os = "linux")]
mod landlock_rules;
mod launcher;
mod limits;
mod policy;
mod process;
#[cfg(target_os = "linux")]
mod protect;
mod read_list;
mod support;

pub use launcher::{LAUNCHER_COMMAND, LaunchSpec, sandbox_exec};
pub use policy::{
    DEFAULT_DENY_READ, SandboxMode, SandboxPolicy, expand_home, is_workspace_relative,
};
pub use process::{Launch, Network, ProcessSandbox, Unavailable, register_launcher};
pub use read_list::read_allow_list;
pub use support::{Rule, Support};
