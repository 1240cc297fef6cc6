//! `simdconv-bench`: run | tune | report | compare | machine | shapes (the commands are the
//! library's `cli` module).

fn main() -> std::process::ExitCode {
    simdconv_bench::cli::main()
}
