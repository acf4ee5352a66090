use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = pgconn::cli::parse();
    match pgconn::run(cli) {
        Ok(code) => code,
        Err(err) => {
            if err
                .chain()
                .filter_map(|c| c.downcast_ref::<std::io::Error>())
                .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("pgconn: error: {err:#}");
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
