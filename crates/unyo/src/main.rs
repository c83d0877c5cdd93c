//! `unyo`: the command line. Thin by design: it parses arguments, opens the store and hands over to the
//! library crates.

mod cli;
mod cluster;
mod erase;

/// mimalloc rather than the system allocator: under a crowd of agents, glibc kept the memory of each
/// thread's Argon2 checks and bodies in per-thread arenas, and the server's peak memory was twice what
/// it used (`cargo xtask bench agents`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
