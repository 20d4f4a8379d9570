//! `workflowcheck [PATHS...]`: see `workflowcheck --help` and the library docs.
fn main() {
    let code = workflowcheck::cli::run(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(code);
}
