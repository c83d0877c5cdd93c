//! `unyo`: the command line. Thin by design: it parses arguments, opens the store and hands over to the
//! library crates.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
