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
        "a reference shows a real person's face, which 2.x models refuse from outside sources: use the same person through an asset:// id from the account's asset library (authorised portraits and virtual people) or the account's own recent 2.0 output as the reference; another URL of the same face fails again",
        false,
    ),
    (
        "InputVideoSensitiveContentDetected.PrivacyInformation",
        "a reference video shows a real person's face: use an asset:// id from the account's asset library or a video this account generated with 2.0 in the last 30 days; another URL of the same face fails again",
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
        "InvalidEndpointOrModel.ModelIDAccessDisabled",
        "this account may not call models by model id: create an inference endpoint for the model in the Ark console and send its ep-... id as the model (official API; a relay needs the plain model id)",
        false,
    ),
    (
        "InvalidEndpointOrModel.NotFound",
        "no such model or endpoint for this account: check the id (a dated model id such as doubao-seedance-2-0-fast-260128, not a family name or a label; an ep-... id must be one of this account's endpoints) and that the model is enabled",
        false,
    ),
    (
        "InvalidEndpointOrModel",
        "the model or endpoint cannot be used: check the id in the Ark console (model ids such as doubao-seedance-2-0-fast-260128, or this account's ep-... endpoint ids on the official API)",
        false,
    ),
    (
        "InvalidEndpoint.ClosedEndpoint",
        "the endpoint is closed or unavailable: reopen it in the Ark console or use another endpoint",
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
        "AccountRateLimitExceeded",
        "too many requests for this account: slow down and retry",
        true,
    ),
    (
        "ModelAccountRpmRateLimitExceeded",
        "too many requests for this model: slow down and retry",
        true,
    ),
    (
        "ModelAccountTpmRateLimitExceeded",
        "too many tokens per minute for this model: slow down and retry",
        true,
    ),
    (
        "InternalServiceError",
        "the service failed: retry later",
        true,
    ),
    (
        "ServiceUnavailable",
        "the service is unavailable: retry later",
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
pub(crate) fn hint_for_code(code: &str) -> Option<&'static str> {
    entry(code).map(|e| e.1)
}

/// The hint for a task that failed with `code`, knowing what its request asked for
/// (`generate_audio`): never a fix that is already in place.
pub(crate) fn hint_for_request(code: &str, generate_audio: Option<bool>) -> Option<&'static str> {
    if code.starts_with("OutputAudioSensitiveContentDetected") && generate_audio == Some(false) {
        return Some(
            "the audio was flagged although generate_audio was off: reword the prompt (what is said or heard in it), then retry",
        );
    }
    hint_for_code(code)
}

/// Whether a plain retry (the same request again) can fix a task that failed with `code`.
/// Unknown codes are not retryable: a retry costs money, and nothing says it would go better.
pub(crate) fn retry_can_help(code: &str) -> bool {
    entry(code).is_some_and(|e| e.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_never_suggests_what_the_request_already_did() {
        let code = "OutputAudioSensitiveContentDetected";
        let on = hint_for_request(code, Some(true)).expect("hint");
        assert!(on.contains("retry with generate_audio off"), "{on}");
        let off = hint_for_request(code, Some(false)).expect("hint");
        assert!(!off.contains("generate_audio off"), "{off}");
        assert!(off.contains("reword the prompt"), "{off}");
    }

    #[test]
    fn specific_codes_win_over_prefixes() {
        let h = hint_for_code("InputImageSensitiveContentDetected.PrivacyInformation").unwrap();
        assert!(h.contains("face") && h.contains("asset://"), "{h}");
        let h = hint_for_code("InputImageSensitiveContentDetected").unwrap();
        assert!(h.contains("another image"));
    }

    #[test]
    fn input_moderation_is_not_fixed_by_retry_but_output_is() {
        assert!(!retry_can_help("InputTextSensitiveContentDetected"));
        assert!(retry_can_help(
            "OutputVideoSensitiveContentDetected.PolicyViolation"
        ));
        assert!(
            !retry_can_help("SomethingNew"),
            "unknown codes are not retried"
        );
        assert_eq!(hint_for_code(""), None);
    }

    #[test]
    fn each_endpoint_or_model_code_has_its_own_hint() {
        let disabled = hint_for_code("InvalidEndpointOrModel.ModelIDAccessDisabled").unwrap();
        assert!(
            disabled.contains("ep-"),
            "tells the account to use an endpoint id"
        );
        let not_found = hint_for_code("InvalidEndpointOrModel.NotFound").unwrap();
        assert!(not_found.contains("dated model id"));
        assert_ne!(disabled, not_found);
        let other = hint_for_code("InvalidEndpointOrModel.Other").unwrap();
        assert!(other != disabled && other != not_found);
        assert!(
            !other.contains("no ep-"),
            "endpoint ids are allowed officially"
        );
    }
}
