//! The shape of a create body as the service checks it before any rule: required fields present,
//! every known field of the right JSON type. The answer names the exact field (`param`) and says
//! whether it is missing (`MissingParameter`) or wrong (`InvalidParameter`).

use serde_json::Value;

/// One shape problem: the error code, the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShapeProblem {
    pub(crate) code: &'static str,
    pub(crate) param: String,
    pub(crate) message: String,
}

#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    Bool,
    Array,
    Object,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Str => "a string",
            Kind::Int => "an integer",
            Kind::Bool => "a boolean",
            Kind::Array => "an array",
            Kind::Object => "an object",
        }
    }

    fn fits(self, v: &Value) -> bool {
        match self {
            Kind::Str => v.is_string(),
            Kind::Int => v.is_i64() || v.is_u64(),
            Kind::Bool => v.is_boolean(),
            Kind::Array => v.is_array(),
            Kind::Object => v.is_object(),
        }
    }
}

const TOP: &[(&str, Kind)] = &[
    ("model", Kind::Str),
    ("content", Kind::Array),
    ("ratio", Kind::Str),
    ("duration", Kind::Int),
    ("frames", Kind::Int),
    ("resolution", Kind::Str),
    ("seed", Kind::Int),
    ("camera_fixed", Kind::Bool),
    ("watermark", Kind::Bool),
    ("generate_audio", Kind::Bool),
    ("return_last_frame", Kind::Bool),
    ("callback_url", Kind::Str),
    ("service_tier", Kind::Str),
    ("execution_expires_after", Kind::Int),
    ("draft", Kind::Bool),
    ("safety_identifier", Kind::Str),
    ("priority", Kind::Int),
    ("tools", Kind::Array),
    ("output_format", Kind::Str),
    ("omni_reference_task_type", Kind::Str),
];

fn missing(param: impl Into<String>) -> ShapeProblem {
    let param = param.into();
    ShapeProblem {
        code: "MissingParameter",
        message: format!("The request failed because it is missing the `{param}` parameter."),
        param,
    }
}

fn wrong(param: impl Into<String>, kind: Kind) -> ShapeProblem {
    let param = param.into();
    ShapeProblem {
        code: "InvalidParameter",
        message: format!(
            "The parameter `{param}` specified in the request is not valid: it must be {}.",
            kind.name()
        ),
        param,
    }
}

/// The first shape problem of a create body (nulls already stripped), if any.
pub(crate) fn check(body: &Value) -> Option<ShapeProblem> {
    let Some(obj) = body.as_object() else {
        return Some(ShapeProblem {
            code: "InvalidParameter",
            param: "body".into(),
            message: "The request body must be a JSON object.".into(),
        });
    };
    match obj.get("model") {
        None => return Some(missing("model")),
        Some(Value::String(s)) if s.trim().is_empty() => return Some(missing("model")),
        _ => {}
    }
    if !obj.contains_key("content") {
        return Some(missing("content"));
    }
    for (name, kind) in TOP {
        if let Some(v) = obj.get(*name)
            && !kind.fits(v)
        {
            return Some(wrong(*name, *kind));
        }
    }
    let items = obj.get("content").and_then(Value::as_array)?;
    for (i, item) in items.iter().enumerate() {
        if let Some(p) = check_item(i, item) {
            return Some(p);
        }
    }
    if let Some(tools) = obj.get("tools").and_then(Value::as_array) {
        for (i, t) in tools.iter().enumerate() {
            if !t.is_object() {
                return Some(wrong(format!("tools[{i}]"), Kind::Object));
            }
        }
    }
    None
}

fn check_item(i: usize, item: &Value) -> Option<ShapeProblem> {
    let at = |f: &str| format!("content[{i}].{f}");
    let Some(obj) = item.as_object() else {
        return Some(wrong(format!("content[{i}]"), Kind::Object));
    };
    let ty = match obj.get("type") {
        None => return Some(missing(at("type"))),
        Some(Value::String(t)) => t.as_str(),
        Some(_) => return Some(wrong(at("type"), Kind::Str)),
    };
    if let Some(role) = obj.get("role")
        && !role.is_string()
    {
        return Some(wrong(at("role"), Kind::Str));
    }
    let (payload, inner, kind) = match ty {
        "text" => ("text", None, Kind::Str),
        "image_url" | "video_url" | "audio_url" => (ty, Some("url"), Kind::Object),
        "draft_task" => ("draft_task", Some("id"), Kind::Object),
        _ => {
            return Some(ShapeProblem {
                code: "InvalidParameter",
                param: at("type"),
                message: format!(
                    "The parameter `{}` specified in the request is not valid: `{ty}` is not a content type.",
                    at("type")
                ),
            });
        }
    };
    let Some(v) = obj.get(payload) else {
        return Some(missing(at(payload)));
    };
    if !kind.fits(v) {
        return Some(wrong(at(payload), kind));
    }
    if let Some(inner) = inner {
        let field = format!("{}.{inner}", at(payload));
        match v.get(inner) {
            None => return Some(missing(field)),
            Some(x) if !x.is_string() => return Some(wrong(field, Kind::Str)),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problem(v: Value) -> (String, String) {
        let p = check(&v).expect("a problem");
        (p.code.to_string(), p.param)
    }

    #[test]
    fn missing_and_wrong_are_told_apart_and_name_the_field() {
        assert_eq!(check(&json!({"model": "m", "content": []})), None);
        assert_eq!(
            problem(json!({"content": []})),
            ("MissingParameter".into(), "model".into())
        );
        assert_eq!(
            problem(json!({"model": "m"})),
            ("MissingParameter".into(), "content".into())
        );
        assert_eq!(
            problem(json!({"model": "m", "content": [], "duration": "5"})),
            ("InvalidParameter".into(), "duration".into())
        );
        assert_eq!(
            problem(json!({"model": "m", "content": [], "seed": 1.5})),
            ("InvalidParameter".into(), "seed".into())
        );
        assert_eq!(
            problem(json!({"model": "m", "content": [{"type": "image_url"}]})),
            ("MissingParameter".into(), "content[0].image_url".into())
        );
        assert_eq!(
            problem(
                json!({"model": "m", "content": [{"type": "text", "text": "a"},
                {"type": "image_url", "image_url": {"url": 3}}]})
            ),
            ("InvalidParameter".into(), "content[1].image_url.url".into())
        );
        assert_eq!(
            problem(json!({"model": "m", "content": [], "tools": ["web_search"]})),
            ("InvalidParameter".into(), "tools[0]".into())
        );
    }
}
