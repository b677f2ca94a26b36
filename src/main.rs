//! The `seedance-tui` binary.

fn main() {}
