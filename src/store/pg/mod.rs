//! The PostgreSQL side of the store: where a server is and its secrets (`target`), and one
//! connection on a thread of its own (`conn`).

pub(crate) mod target;
