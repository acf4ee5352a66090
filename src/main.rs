fn main() {
    let _cli = pgconn::cli::parse();
}
