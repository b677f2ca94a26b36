//! Exit codes and the one-or-two-line error a command prints on stderr.

use crate::api::ApiError;
use crate::store::StoreError;
use std::process::ExitCode;

/// 0 ok, 1 a task failed, 2 usage or validation, 3 API or network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    Ok = 0,
    TaskFailed = 1,
    Usage = 2,
    Api = 3,
}

impl From<Code> for ExitCode {
    fn from(c: Code) -> ExitCode {
        ExitCode::from(c as u8)
    }
}

/// A command's failure: what to print, and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub(crate) code: Code,
    pub message: String,
}

impl Failure {
    pub(crate) fn usage(m: impl Into<String>) -> Failure {
        Failure {
            code: Code::Usage,
            message: m.into(),
        }
    }

    pub(crate) fn api(m: impl Into<String>) -> Failure {
        Failure {
            code: Code::Api,
            message: m.into(),
        }
    }

    pub(crate) fn task_failed(m: impl Into<String>) -> Failure {
        Failure {
            code: Code::TaskFailed,
            message: m.into(),
        }
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Failure {
        let code = if matches!(e, ApiError::BadRequest { .. } | ApiError::InvalidId { .. }) {
            Code::Usage
        } else {
            Code::Api
        };
        Failure {
            code,
            message: format!("{e}\nhint: {}", e.hint()),
        }
    }
}

impl Failure {
    /// An error answering a create (a 404 names the base URL or the model, never a task id).
    pub(crate) fn from_create(e: crate::api::ApiError) -> Failure {
        let hint = e.create_hint();
        let mut f = Failure::from(e);
        if let Some((head, _)) = f.message.split_once("\nhint: ") {
            f.message = format!("{head}\nhint: {hint}");
        }
        f
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        let code = match e {
            StoreError::NotFound(_)
            | StoreError::Ambiguous { .. }
            | StoreError::AlreadyRetried { .. } => Code::Usage,
            _ => Code::Api,
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}
