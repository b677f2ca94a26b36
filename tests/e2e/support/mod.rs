//! Helpers shared by the end-to-end tests.

/// Several copies of the binary on one store: output lines awaited with a deadline, loopback
/// HTTP to the simulator's control endpoints, a config with fast poll and lease timings.
pub mod process;
/// The binary in a pseudo-terminal: keys in, screen text out.
pub mod pty;
/// The simulator as a separate process, and the binary with the user's config kept out.
pub mod sim;
