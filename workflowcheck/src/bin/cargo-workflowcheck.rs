//! `cargo workflowcheck [PATHS...]`: the same CLI as `workflowcheck`, as a cargo subcommand.
fn main() {
    let args = workflowcheck::cli::cargo_args(std::env::args_os());
    let code = workflowcheck::cli::run(
        args,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(code);
}
