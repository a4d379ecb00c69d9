fn main() -> std::process::ExitCode {
    atip::cli::main()
}
