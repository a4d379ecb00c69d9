/// mimalloc instead of glibc's allocator: a server under load spent a sixth of its
/// samples in malloc and free (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    atip::cli::main()
}
