//! The database host, without a database connection: a cluster's postmaster (found through
//! postmaster.pid), its children and their titles in /proc, the settings the titles depend on (from the
//! configuration files and the postmaster's command line), and signals sent through a pidfd. `pgconn
//! rescue` is built on it, and the "server full" error uses it to name the exact rescue command when the
//! server runs on this machine.

pub mod cluster;
pub mod conf;
pub mod pidfd;
pub mod proc;
pub mod sockets;
pub mod title;
pub mod unix_diag;
pub mod wait;

pub use cluster::Postmaster;
pub use title::{Activity, ClientTitle, Title};
