//! What to do about each known error code: one table, used by error messages, the detail pane
//! and the retry logic (which failures a plain retry cannot fix).

/// `(code prefix, hint, a plain retry can help)`. The first entry whose prefix matches wins, so
/// more specific codes come first.
const HINTS: &[(&str, &str, bool)] = &[
    (
        "OutputVideoSensitiveContentDetected",
        "the output video was flagged by moderation: reword the prompt or change the references, then retry",
        true,
    ),
    (
        "OutputAudioSensitiveContentDetected",
        "the generated audio was flagged: retry with generate_audio off (the usual fix) or reword the prompt",
        true,
    ),
    (
        "InputImageSensitiveContentDetected.PrivacyInformation",
        "a reference image shows a real human face, which 2.x models refuse: use another image",
        false,
    ),
    (
        "InputTextSensitiveContentDetected",
        "the prompt was flagged by moderation: reword it (a plain retry will fail again)",
        false,
    ),
    (
        "InputImageSensitiveContentDetected",
        "an input image was flagged by moderation: use another image",
        false,
    ),
    (
        "InputVideoSensitiveContentDetected",
        "an input video was flagged by moderation: use another video",
        false,
    ),
    (
        "InvalidEndpointOrModel",
        "use a plain model id such as doubao-seedance-2-0-fast-260128 (no ep-... id, no label)",
        false,
    ),
    (
        "ModelNotOpen",
        "this model is not enabled for the account: open it in the console or use another model",
        false,
    ),
    (
        "MissingParameter",
        "a required field is missing: add it and submit again",
        false,
    ),
    (
        "InvalidParameter",
        "a field has a value the API refuses: fix it and submit again",
        false,
    ),
    (
        "AuthenticationError",
        "the API key is missing or wrong: set SEEDANCE_API_KEY (or ARK_API_KEY); relay tokens must be in the SeeDance2 group",
        false,
    ),
    (
        "AccountOverdueError",
        "the account is out of credit: top it up, then retry",
        false,
    ),
    (
        "AccessDenied",
        "the key may not use this resource: check its permissions or group",
        false,
    ),
    (
        "QuotaExceeded",
        "the quota is used up: wait for it to reset or raise it",
        true,
    ),
    (
        "SetLimitExceeded",
        "a spending limit set on the account was reached: raise it in the console",
        false,
    ),
    (
        "ServerOverloaded",
        "the service is overloaded: retry later",
        true,
    ),
    (
        "RateLimitExceeded",
        "too many requests: slow down and retry",
        true,
    ),
    (
        "ModelAccountRpmRateLimitExceeded",
        "too many requests for this model: slow down and retry",
        true,
    ),
    (
        "InternalServiceError",
        "the service failed: retry later",
        true,
    ),
];

fn entry(code: &str) -> Option<&'static (&'static str, &'static str, bool)> {
    if code.is_empty() {
        return None;
    }
    HINTS.iter().find(|(prefix, _, _)| code.starts_with(prefix))
}

/// A one-line hint for an error code, when the code is known.
pub fn hint_for_code(code: &str) -> Option<&'static str> {
    entry(code).map(|e| e.1)
}

/// Whether a plain retry (the same request again) can fix a task that failed with `code`.
/// Unknown codes are assumed retryable.
pub fn retry_can_help(code: &str) -> bool {
    entry(code).map(|e| e.2).unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specific_codes_win_over_prefixes() {
        let h = hint_for_code("InputImageSensitiveContentDetected.PrivacyInformation").unwrap();
        assert!(h.contains("face"));
        let h = hint_for_code("InputImageSensitiveContentDetected").unwrap();
        assert!(h.contains("another image"));
    }

    #[test]
    fn input_moderation_is_not_fixed_by_retry_but_output_is() {
        assert!(!retry_can_help("InputTextSensitiveContentDetected"));
        assert!(retry_can_help(
            "OutputVideoSensitiveContentDetected.PolicyViolation"
        ));
        assert!(retry_can_help("SomethingNew"));
        assert_eq!(hint_for_code(""), None);
    }
}
