//! Validation of a create request: one rule table shared by the client, the composer and the
//! simulator. Every problem names the field and the fix.

use super::types::CreateRequest;

/// One thing wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field as the API names it: `model`, `duration`, `content[2].role`, ...
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.fix)
    }
}

/// Every problem with `req`, in field order; empty when the request may be sent.
pub fn validate(req: &CreateRequest) -> Vec<Problem> {
    let _ = req;
    todo!()
}
