//! Passes the protos' file descriptor set (written by the temporalio-protos build, `links =
//! "temporalio_protos"`) to the crate: `prost_history.rs` maps histories onto the official prost
//! types through it.

fn main() {
    match std::env::var("DEP_TEMPORALIO_PROTOS_DESCRIPTOR_PATH") {
        Ok(p) => {
            println!("cargo:rustc-env=TEMPORAL_API_DESCRIPTORS={p}");
            println!("cargo:rerun-if-changed={p}");
        }
        Err(_) => {
            eprintln!("error: temporalio-protos did not report its descriptor set");
            std::process::exit(1);
        }
    }
}
