//! The table's columns as the user chose them: which show and in what order (the column chooser
//! `c`, a popup of its own; saved as `[ui] columns` in the config). The view draws the chosen
//! columns, dropping the least needed ones when the terminal is too narrow.

/// A column of the task table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Col {
    Status,
    Id,
    Model,
    /// The batch line's label (`"label"` in a `submit --batch` file).
    Label,
    Prompt,
    Ratio,
    Resolution,
    Duration,
    Age,
    Progress,
    Tokens,
    /// The short error code of a failed task.
    Error,
    Saved,
}

impl Col {
    /// Every column, in the default order.
    pub(crate) const ALL: [Col; 13] = [
        Col::Status,
        Col::Id,
        Col::Model,
        Col::Label,
        Col::Prompt,
        Col::Ratio,
        Col::Resolution,
        Col::Duration,
        Col::Age,
        Col::Progress,
        Col::Tokens,
        Col::Error,
        Col::Saved,
    ];

    /// The columns shown when the config names none.
    pub(crate) fn defaults() -> Vec<Col> {
        Col::ALL.to_vec()
    }

    /// The name used in the config and the chooser.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Col::Status => "status",
            Col::Id => "id",
            Col::Model => "model",
            Col::Label => "label",
            Col::Prompt => "prompt",
            Col::Ratio => "ratio",
            Col::Resolution => "resolution",
            Col::Duration => "duration",
            Col::Age => "age",
            Col::Progress => "time",
            Col::Tokens => "tokens",
            Col::Error => "error",
            Col::Saved => "saved",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Col> {
        Col::ALL.iter().copied().find(|c| c.name() == s.trim())
    }
}

/// Parse `[ui] columns`; `Err` names the unknown column.
pub(crate) fn parse_list(names: &[String]) -> Result<Vec<Col>, String> {
    let mut out = Vec::new();
    for n in names {
        let c = Col::parse(n).ok_or_else(|| {
            let known: Vec<&str> = Col::ALL.iter().map(|c| c.name()).collect();
            format!(
                "[ui] columns: `{n}` is not a column; known: {}",
                known.join(", ")
            )
        })?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_named() {
        for c in Col::ALL {
            assert_eq!(Col::parse(c.name()), Some(c));
        }
        let err = parse_list(&["status".into(), "nope".into()]).expect_err("unknown");
        assert!(err.contains("`nope`"), "{err}");
        assert_eq!(
            parse_list(&["id".into(), "id".into()]).expect("ok"),
            vec![Col::Id]
        );
    }
}
