//! The `ketascreen` binary: parse the command line, run it, map the outcome to an exit status.

use std::process::ExitCode;

use ketascreen::{app, cli, output::escape};

fn main() -> ExitCode {
    let cli = cli::parse_args();
    match app::run(cli) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // The message may quote input (a file name, a cell): nothing in it reaches the
            // terminal raw.
            eprintln!("ketascreen: {}", escape::lines(&format!("{err:#}")));
            ExitCode::from(if err.is::<ketascreen::front::UsageError>() {
                2
            } else {
                1
            })
        }
    }
}

/// A reader that went away (`| head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
