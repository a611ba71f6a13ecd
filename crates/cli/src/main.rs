//! The `datapact` binary: the core mechanisms C, S and M and the core strategies.

/// An allocation failure exits with a message (code 1) instead of aborting.
#[global_allocator]
static ALLOCATOR: datapact::ExitOnOutOfMemory = datapact::ExitOnOutOfMemory;

fn main() -> std::process::ExitCode {
    datapact::App::new()
        .add_plugins(datapact::CorePlugins)
        .run_cli()
}
