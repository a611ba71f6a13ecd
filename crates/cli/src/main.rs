//! The `datapact` binary: the core mechanisms C, S and M and the core strategies.

fn main() -> std::process::ExitCode {
    datapact::App::new()
        .add_plugins(datapact::CorePlugins)
        .run_cli()
}
