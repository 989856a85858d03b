//! `infiagent`: see `infiagent --help`.

fn main() -> std::process::ExitCode {
    infiagent_cli::main()
}
