fn main() -> std::process::ExitCode {
    let cli = pgconn::cli::parse();
    let result = match &cli.command {
        pgconn::cli::Command::Sandbox(args) => pgconn::commands::sandbox::run(args),
        _ => Err(anyhow::anyhow!("this command is not available yet")),
    };
    result.unwrap_or_else(|err| {
        eprintln!("pgconn: error: {err:#}");
        std::process::ExitCode::FAILURE
    })
}
