//! Thin: parse, run, print the error that ended the run, exit with its code.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use pgconn::exit::{exit_of, Exit};
use pgconn::{render, term};

fn main() -> ExitCode {
    let exit = match pgconn::cli::try_parse_from(std::env::args_os()) {
        Err(unparsed) => pgconn::unparsed(unparsed),
        Ok(cli) => match pgconn::run(cli) {
            Ok(exit) => exit,
            // The reader of stdout went away (`| head`): nothing more to say.
            Err(err) if render::is_closed_stdout(&err) => Exit::Success,
            Err(err) => {
                // Error messages carry the server's words and names: shown escaped, line breaks kept.
                term::fatal(&err);
                exit_of(&err)
            }
        },
    };
    ExitCode::from(exit.code())
}
