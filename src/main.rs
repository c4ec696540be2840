//! The `el-jefe` binary: everything it does starts in `cli`.

// Every event allocates (its envelope, its text): mimalloc's thread-local heaps make that a
// fraction of glibc's cost when agents, the engine and the front end run on different threads
// (docs/PERFORMANCE.md). Built without transparent huge pages, which would inflate memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
