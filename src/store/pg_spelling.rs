//! The store's SQL in PostgreSQL's spelling. Each statement is written once, in SQLite's
//! spelling (so SQLite runs exactly the SQL it always ran), and spelled for PostgreSQL the first
//! time a connection runs it (`db::PgDb` keeps the result): the few SQLite-only spellings the
//! store uses are replaced by PostgreSQL's, then `?N` becomes `$N`. A new SQLite-only spelling
//! fails the PostgreSQL half of the store's tests until it has a line here.

/// SQLite's spelling and PostgreSQL's for it, replaced in this order (whole fragments: the
/// store's statements spell them exactly so).
const SPELLINGS: &[(&str, &str)] = &[
    // A request is stored as bytes (`BYTEA`), read as text. PostgreSQL cannot hand out a text
    // or a number in one column, so a listing reads every request whole (SQLite leaves a big
    // one for later by its length).
    (listed_request_sql!(), "convert_from(q.body, 'UTF8')"),
    (request_sql!(), "COALESCE(convert_from(q.body, 'UTF8'), '')"),
    // A task without a stored shape: its request looked up (whole, as above).
    (
        "CASE WHEN length(r.body) <= 65536 THEN CAST(r.body AS TEXT) ELSE length(r.body) END",
        "convert_from(r.body, 'UTF8')",
    ),
    ("CAST(r.body AS TEXT)", "convert_from(r.body, 'UTF8')"),
    // A parameter only tested for NULL has no type PostgreSQL can infer.
    (
        "WHERE ?1 IS NULL OR created_at < ?1",
        "WHERE CAST(?1 AS BIGINT) IS NULL OR created_at < ?1",
    ),
    // Booleans are numbers in SQLite only.
    (
        files_sql!(),
        "CAST(video_url IS NOT NULL AS INT) + 2 * CAST(last_frame_url IS NOT NULL AS INT) \
         + 4 * CAST(video_path IS NOT NULL AS INT) + 8 * CAST(last_frame_path IS NOT NULL AS INT)",
    ),
    // Text is measured in bytes, as SQLite measures what it reads.
    ("length(asset_files)", "octet_length(asset_files)"),
    // The planner's choice, not a query's meaning: PostgreSQL's planner picks by itself.
    (" NOT INDEXED", ""),
    (" INDEXED BY tasks_status", ""),
    ("IS NOT ?", "IS DISTINCT FROM ?"),
    ("instr(", "strpos("),
    (
        "strftime('%s', 'now')",
        "CAST(extract(epoch FROM now()) AS BIGINT)",
    ),
];

/// `sql` (SQLite's spelling) as PostgreSQL spells it.
pub(crate) fn spell(sql: &str) -> String {
    let mut s = sql.to_string();
    for (sqlite, postgres) in SPELLINGS {
        if s.contains(sqlite) {
            s = s.replace(sqlite, postgres);
        }
    }
    super::db::dollar_placeholders(&unlimited_limits(&s))
}

/// `LIMIT ?N` bound to -1 means "no limit" to SQLite; PostgreSQL refuses a negative limit and
/// takes `NULL` for none.
fn unlimited_limits(sql: &str) -> String {
    const LIMIT: &str = "LIMIT ?";
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(i) = rest.find(LIMIT) {
        let after = &rest[i + LIMIT.len()..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        out.push_str(&rest[..i]);
        if digits == 0 {
            out.push_str(LIMIT);
        } else {
            out.push_str(&format!(
                "LIMIT NULLIF(CAST(?{} AS BIGINT), -1)",
                &after[..digits]
            ));
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::spell;

    #[test]
    fn sqlite_only_spellings_become_postgres_ones() {
        assert_eq!(
            spell("SELECT a FROM tasks NOT INDEXED WHERE b IS NOT ?2 LIMIT ?3"),
            "SELECT a FROM tasks WHERE b IS DISTINCT FROM $2 LIMIT NULLIF(CAST($3 AS BIGINT), -1)"
        );
        assert_eq!(
            spell("SELECT 1 FROM tasks INDEXED BY tasks_status WHERE x IS NOT NULL LIMIT 1"),
            "SELECT 1 FROM tasks WHERE x IS NOT NULL LIMIT 1"
        );
        assert_eq!(
            spell("INSERT INTO q VALUES (?1, strftime('%s', 'now'))"),
            "INSERT INTO q VALUES ($1, CAST(extract(epoch FROM now()) AS BIGINT))"
        );
        assert_eq!(
            spell(concat!("SELECT ", request_sql!(), " FROM t")),
            "SELECT COALESCE(convert_from(q.body, 'UTF8'), '') FROM t"
        );
    }

    #[test]
    fn text_without_sqlite_spellings_only_gets_dollar_placeholders() {
        let sql = "SELECT 'a ?1', \"a?2\" FROM t WHERE a = ?1 AND b = ?12";
        assert_eq!(
            spell(sql),
            "SELECT 'a ?1', \"a?2\" FROM t WHERE a = $1 AND b = $12"
        );
    }
}
