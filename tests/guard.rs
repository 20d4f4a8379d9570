//! Guard: every test in this workspace must run inside madsim's simulation.
//!
//! A `RUSTFLAGS` or `CARGO_ENCODED_RUSTFLAGS` variable in the environment silently replaces the
//! `--cfg madsim` from `.cargo/config.toml`; simulation tests would then compile to nothing and
//! pass. This test fails loudly instead.

#[test]
#[allow(clippy::assertions_on_constants)]
fn simulation_cfg_is_on() {
    assert!(
        cfg!(madsim),
        "built without --cfg madsim: unset RUSTFLAGS / CARGO_ENCODED_RUSTFLAGS so that \
         .cargo/config.toml applies"
    );
}
