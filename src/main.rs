use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = pgconn::cli::parse();
    match pgconn::run(cli) {
        Ok(code) => code,
        Err(err) => {
            if pgconn::render::is_closed_stdout(&err) {
                return ExitCode::SUCCESS;
            }
            // Error messages carry the server's words and names: shown escaped, line breaks kept.
            eprintln!(
                "pgconn: error: {}",
                pgconn::render::clean_lines(&format!("{err:#}"))
            );
            match err
                .chain()
                .find_map(|c| c.downcast_ref::<pgconn::ExitWith>())
            {
                Some(e) => ExitCode::from(e.code),
                None => ExitCode::from(1),
            }
        }
    }
}
