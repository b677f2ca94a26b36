//! The store's SQL layer: one body of SQL over the database driver. Each query is written once,
//! in SQLite's spelling with numbered placeholders (`?1`, `?2`, …), and run through [`Db`]:
//! parameters are [`Value`]s (built with `args![…]`), rows are read through [`Row`] by
//! position, and every statement is prepared once per connection (rusqlite's statement cache).
//! What differs between databases (DDL, pragmas, the blob I/O of big requests, the change
//! counter) is written per backend where it is used, by matching on [`Db`], so a new backend
//! is a compile error at each such place until it is handled.
//!
//! On PostgreSQL a statement is spelled once per connection (`store::pg_spelling`: the few
//! SQLite-only spellings, then `$N` for `?N`), and every write transaction first takes one
//! advisory lock, so writers on every host queue as SQLite's do on the file.
//!
//! Reading costs what rusqlite costs: a [`Row`] borrows the driver's row, and text is borrowed
//! from it (`Row::text`), so the 100k-row start-up read copies each string once, into the row
//! it builds.

use super::pg::conn::PgConn;
use postgres::types::{IsNull, ToSql as PgToSql, Type as PgType};
use rusqlite::types::{ToSqlOutput, ValueRef};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// A connection to the store's database.
pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(PgDb),
}

/// The advisory lock every PostgreSQL write transaction holds ("SEED"): writers queue on it as
/// on SQLite's write lock, so the change sequence is handed out in commit order.
const PG_WRITE_LOCK: i64 = 0x5345_4544;

/// One parameter or cell value, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

/// A Rust value as a query parameter (see `args!`).
pub(crate) trait ToValue {
    fn to_value(&self) -> Value<'_>;
}

impl ToValue for i64 {
    fn to_value(&self) -> Value<'_> {
        Value::Int(*self)
    }
}

impl ToValue for u32 {
    fn to_value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value<'_> {
        Value::Bytes(self)
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value<'_> {
        (**self).to_value()
    }
}

/// The parameters of a query: `args![a, b]` is `&[Value]` borrowing `a` and `b` (`?1`, `?2`).
macro_rules! args {
    () => {
        &[] as &[$crate::store::db::Value<'_>]
    };
    ($($x:expr),+ $(,)?) => {
        &[$($crate::store::db::ToValue::to_value(&$x)),+][..]
    };
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Value::Null => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(n),
            Value::Real(x) => ValueRef::Real(x),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Bytes(b) => ValueRef::Blob(b),
        }))
    }
}

/// An error from the database driver.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", pg_message(.0))]
    Postgres(#[from] postgres::Error),
    /// A value that is not of the type it is read as.
    #[error("unreadable value: {0}")]
    Value(String),
    /// The connection is gone (its thread ended).
    #[error("{0}")]
    Gone(Box<super::StoreError>),
}

impl DbError {
    /// Another connection holds a lock this one needs.
    pub(crate) fn is_busy(&self) -> bool {
        match self {
            DbError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            DbError::Postgres(e) => e.code().is_some_and(|c| {
                *c == postgres::error::SqlState::LOCK_NOT_AVAILABLE
                    || *c == postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == postgres::error::SqlState::T_R_DEADLOCK_DETECTED
            }),
            DbError::Value(_) | DbError::Gone(_) => false,
        }
    }

    /// The database file is damaged or not a database.
    pub(crate) fn is_corruption(&self) -> bool {
        match self {
            DbError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
            ),
            DbError::Postgres(e) => e.code().is_some_and(|c| {
                *c == postgres::error::SqlState::DATA_CORRUPTED
                    || *c == postgres::error::SqlState::INDEX_CORRUPTED
            }),
            DbError::Value(_) | DbError::Gone(_) => false,
        }
    }

    /// An error in one row's values (a wrong type written by hand or another tool), as opposed
    /// to one from the database.
    pub(crate) fn is_bad_value(&self) -> bool {
        match self {
            DbError::Sqlite(e) => matches!(
                e,
                rusqlite::Error::InvalidColumnType(..)
                    | rusqlite::Error::FromSqlConversionFailure(..)
                    | rusqlite::Error::IntegralValueOutOfRange(..)
                    | rusqlite::Error::Utf8Error(..)
            ),
            DbError::Value(_) => true,
            DbError::Postgres(_) | DbError::Gone(_) => false,
        }
    }
}

/// What the server said (its code, message, detail and hint, cleaned for a terminal), or the
/// client's error chain: the driver's own text for a server error is only "db error". Neither
/// carries the password (the connection's errors are explained apart, in `pg::conn`).
fn pg_message(e: &postgres::Error) -> String {
    let Some(db) = e.as_db_error() else {
        return crate::sanitize::error_chain(e);
    };
    let flat = |s: &str| crate::sanitize::flat(s).into_owned();
    let mut m = format!(
        "{} {}: {}",
        flat(db.severity()),
        db.code().code(),
        flat(db.message())
    );
    if let Some(d) = db.detail() {
        m.push_str(&format!(" (detail: {})", flat(d)));
    }
    if let Some(h) = db.hint() {
        m.push_str(&format!(" (hint: {})", flat(h)));
    }
    m
}

/// A type a cell is read as ([`Row::get`]): rusqlite's conversion on SQLite, [`Value`]'s on
/// PostgreSQL.
pub(crate) trait FromDb: rusqlite::types::FromSql {
    fn from_value(v: Value<'_>) -> Result<Self, String>;
}

impl FromDb for i64 {
    fn from_value(v: Value<'_>) -> Result<Self, String> {
        match v {
            Value::Int(n) => Ok(n),
            other => Err(format!("{other:?} is not an integer")),
        }
    }
}

impl FromDb for String {
    fn from_value(v: Value<'_>) -> Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s.to_string()),
            other => Err(format!("{:?} is not text", other.kind())),
        }
    }
}

impl FromDb for bool {
    fn from_value(v: Value<'_>) -> Result<Self, String> {
        i64::from_value(v).map(|n| n != 0)
    }
}

impl<T: FromDb> FromDb for Option<T> {
    fn from_value(v: Value<'_>) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl Value<'_> {
    /// The value's kind, for messages (never its text: it may be a prompt).
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "integer",
            Value::Real(_) => "real",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
        }
    }
}

/// One row of a result, read by column position.
pub(crate) enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
}

impl Row<'_> {
    /// Column `i` as a `T`.
    pub(crate) fn get<T: FromDb>(&self, i: usize) -> Result<T, DbError> {
        match self {
            Row::Sqlite(r) => Ok(r.get(i)?),
            Row::Postgres(r) => T::from_value(pg_value(r, i)?)
                .map_err(|e| DbError::Value(format!("column {i}: {e}"))),
        }
    }

    /// Column `i` as it is stored, borrowed from the row.
    pub(crate) fn value(&self, i: usize) -> Result<Value<'_>, DbError> {
        match self {
            Row::Sqlite(r) => Ok(match r.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Int(n),
                ValueRef::Real(x) => Value::Real(x),
                ValueRef::Text(_) => Value::Text(Self::sqlite_text(r, i)?),
                ValueRef::Blob(b) => Value::Bytes(b),
            }),
            Row::Postgres(r) => pg_value(r, i),
        }
    }

    /// Column `i` as text borrowed from the row; a `NULL` or a number is an error.
    pub(crate) fn text(&self, i: usize) -> Result<&str, DbError> {
        match self {
            Row::Sqlite(r) => Self::sqlite_text(r, i),
            Row::Postgres(r) => match pg_value(r, i)? {
                Value::Text(t) => Ok(t),
                other => Err(DbError::Value(format!(
                    "column {i}: {} is not text",
                    other.kind()
                ))),
            },
        }
    }

    /// Column `i` as text borrowed from the row, `None` for `NULL`.
    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<&str>, DbError> {
        match self {
            Row::Sqlite(r) => match r.get_ref(i)? {
                ValueRef::Null => Ok(None),
                _ => Self::sqlite_text(r, i).map(Some),
            },
            Row::Postgres(r) => match pg_value(r, i)? {
                Value::Null => Ok(None),
                Value::Text(t) => Ok(Some(t)),
                other => Err(DbError::Value(format!(
                    "column {i}: {} is not text",
                    other.kind()
                ))),
            },
        }
    }

    fn sqlite_text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> Result<&'r str, DbError> {
        r.get_ref(i)?.as_str().map_err(|e| {
            DbError::Sqlite(rusqlite::Error::FromSqlConversionFailure(
                i,
                rusqlite::types::Type::Text,
                Box::new(e),
            ))
        })
    }
}

impl Db {
    /// Run one statement; returns the number of rows it changed.
    pub(crate) fn execute(&self, sql: &str, args: &[Value<'_>]) -> Result<usize, DbError> {
        match self {
            Db::Sqlite(c) => Ok(c
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(args))?),
            Db::Postgres(pg) => pg
                .call(sql, args, |c, sql, args| c.execute(sql, args))
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        }
    }

    /// Run statements without parameters, one after the other (no statement cache).
    pub(crate) fn batch(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Postgres(pg) => pg.call(sql, &[], |c, sql, _| c.batch_execute(sql)),
        }
    }

    /// The first row of a query read by `read`, `None` when there is none.
    pub(crate) fn query_row<T>(
        &self,
        sql: &str,
        args: &[Value<'_>],
        read: impl FnOnce(&Row<'_>) -> Result<T, DbError>,
    ) -> Result<Option<T>, DbError> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
                match rows.next()? {
                    Some(r) => read(&Row::Sqlite(r)).map(Some),
                    None => Ok(None),
                }
            }
            Db::Postgres(pg) => {
                // The first row, as SQLite's `query_row` (`query_opt` refuses a second one).
                let rows = pg.call(sql, args, |c, sql, args| c.query(sql, args))?;
                match rows.first() {
                    Some(r) => read(&Row::Postgres(r)).map(Some),
                    None => Ok(None),
                }
            }
        }
    }

    /// Visit the rows of a query in order; `visit` returns false to stop. An error `visit`
    /// returns ends the query with that error.
    pub(crate) fn query_each(
        &self,
        sql: &str,
        args: &[Value<'_>],
        mut visit: impl FnMut(&Row<'_>) -> Result<bool, DbError>,
    ) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
                while let Some(r) = rows.next()? {
                    if !visit(&Row::Sqlite(r))? {
                        break;
                    }
                }
                Ok(())
            }
            Db::Postgres(pg) => {
                for r in pg.call(sql, args, |c, sql, args| c.query(sql, args))? {
                    if !visit(&Row::Postgres(&r))? {
                        break;
                    }
                }
                Ok(())
            }
        }
    }

    /// Every row of a query read by `read`.
    pub(crate) fn query_all<T>(
        &self,
        sql: &str,
        args: &[Value<'_>],
        mut read: impl FnMut(&Row<'_>) -> Result<T, DbError>,
    ) -> Result<Vec<T>, DbError> {
        let mut out = Vec::new();
        self.query_each(sql, args, |r| {
            out.push(read(r)?);
            Ok(true)
        })?;
        Ok(out)
    }

    /// Start a write transaction that holds the write lock from its start (so concurrent writers
    /// queue instead of failing mid-way).
    pub(crate) fn begin_write(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(_) => self.execute("BEGIN IMMEDIATE", args![]).map(drop),
            Db::Postgres(_) => {
                self.batch("BEGIN")?;
                let locked = self.query_row(
                    "SELECT pg_advisory_xact_lock(?1)",
                    args![PG_WRITE_LOCK],
                    |_| Ok(()),
                );
                if locked.is_err() {
                    self.rollback();
                }
                locked.map(drop)
            }
        }
    }

    pub(crate) fn commit(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(_) => self.execute("COMMIT", args![]).map(drop),
            Db::Postgres(_) => self.batch("COMMIT"),
        }
    }

    /// Undo the open transaction (its error, if any, is not the caller's concern: the caller
    /// is already reporting the one that made it roll back).
    pub(crate) fn rollback(&self) {
        let _ = self.batch("ROLLBACK");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> Db {
        let c = rusqlite::Connection::open_in_memory().expect("open");
        c.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, body BLOB)")
            .expect("table");
        Db::Sqlite(c)
    }

    #[test]
    fn values_go_in_and_come_back_by_position() {
        let db = memory();
        let none: Option<i64> = None;
        let body: &[u8] = b"\x00\xffraw";
        assert_eq!(
            db.execute(
                "INSERT INTO t (id, n, body) VALUES (?1, ?2, ?3)",
                args!["a", 7i64, body]
            )
            .expect("insert"),
            1
        );
        db.execute(
            "INSERT INTO t (id, n, body) VALUES (?1, ?2, NULL)",
            args![String::from("b"), none],
        )
        .expect("insert");
        let rows = db
            .query_all("SELECT id, n, body FROM t ORDER BY id", args![], |r| {
                Ok((
                    r.text(0)?.to_string(),
                    r.get::<Option<i64>>(1)?,
                    matches!(r.value(2)?, Value::Bytes(b) if b == body),
                ))
            })
            .expect("rows");
        assert_eq!(
            rows,
            [
                ("a".to_string(), Some(7), true),
                ("b".to_string(), None, false)
            ]
        );
        let missing = db
            .query_row("SELECT n FROM t WHERE id = ?1", args!["zz"], |r| {
                r.get::<i64>(0)
            })
            .expect("query");
        assert_eq!(missing, None);
        // A number read as text is a bad value, not a database error.
        let err = db
            .query_row("SELECT n FROM t WHERE id = 'a'", args![], |r| {
                r.text(0).map(str::to_string)
            })
            .expect_err("a number is not text");
        assert!(err.is_bad_value(), "{err}");
        assert!(!err.is_busy() && !err.is_corruption());
    }

    #[test]
    fn a_visit_can_stop_early_and_a_rollback_undoes_the_transaction() {
        let db = memory();
        for id in ["a", "b", "c"] {
            db.execute("INSERT INTO t (id) VALUES (?1)", args![id])
                .expect("insert");
        }
        let mut seen = Vec::new();
        db.query_each("SELECT id FROM t ORDER BY id", args![], |r| {
            seen.push(r.text(0)?.to_string());
            Ok(seen.len() < 2)
        })
        .expect("each");
        assert_eq!(seen, ["a", "b"]);
        db.begin_write().expect("begin");
        db.execute("DELETE FROM t", args![]).expect("delete");
        db.rollback();
        let n = db
            .query_row("SELECT count(*) FROM t", args![], |r| r.get::<i64>(0))
            .expect("count");
        assert_eq!(n, Some(3));
    }
}

/// The PostgreSQL connection and the statements' SQL in its spelling.
pub(crate) struct PgDb {
    conn: PgConn,
    /// SQLite-spelled SQL → PostgreSQL-spelled, translated once per statement.
    spelled: RefCell<HashMap<Box<str>, Arc<str>>>,
}

impl PgDb {
    pub(crate) fn new(conn: PgConn) -> PgDb {
        PgDb {
            conn,
            spelled: RefCell::new(HashMap::new()),
        }
    }

    fn spelled(&self, sql: &str) -> Arc<str> {
        if let Some(s) = self.spelled.borrow().get(sql) {
            return s.clone();
        }
        let s: Arc<str> = super::pg_spelling::spell(sql).into();
        self.spelled.borrow_mut().insert(sql.into(), s.clone());
        s
    }

    /// Run `f` with the client on its thread, the statement spelled for PostgreSQL and the
    /// parameters copied for it.
    fn call<R: Send + 'static>(
        &self,
        sql: &str,
        args: &[Value<'_>],
        f: impl FnOnce(
            &mut postgres::Client,
            &str,
            &[&(dyn PgToSql + Sync)],
        ) -> Result<R, postgres::Error>
        + Send
        + 'static,
    ) -> Result<R, DbError> {
        let sql = self.spelled(sql);
        let owned: Vec<Owned> = args.iter().map(Owned::from).collect();
        self.conn
            .run(move |client| {
                let refs: Vec<&(dyn PgToSql + Sync)> =
                    owned.iter().map(|v| v as &(dyn PgToSql + Sync)).collect();
                f(client, &sql, &refs)
            })
            .map_err(|e| DbError::Gone(Box::new(e)))?
            .map_err(DbError::Postgres)
    }
}

/// A parameter copied for the connection's thread.
#[derive(Debug)]
enum Owned {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl From<&Value<'_>> for Owned {
    fn from(v: &Value<'_>) -> Owned {
        match *v {
            Value::Null => Owned::Null,
            Value::Int(n) => Owned::Int(n),
            Value::Real(x) => Owned::Real(x),
            Value::Text(s) => Owned::Text(s.to_string()),
            Value::Bytes(b) => Owned::Bytes(b.to_vec()),
        }
    }
}

impl PgToSql for Owned {
    fn to_sql(
        &self,
        ty: &PgType,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // SQLite's values are loosely typed; each is written as the type the server asks for.
        match self {
            Owned::Null => Ok(IsNull::Yes),
            Owned::Int(n) => match *ty {
                PgType::INT8 => n.to_sql(ty, out),
                PgType::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                PgType::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                PgType::BOOL => (*n != 0).to_sql(ty, out),
                PgType::FLOAT8 => (*n as f64).to_sql(ty, out),
                PgType::TEXT | PgType::VARCHAR => n.to_string().to_sql(ty, out),
                _ => Err(format!("an integer for a {ty} parameter").into()),
            },
            Owned::Real(x) => match *ty {
                PgType::FLOAT8 => x.to_sql(ty, out),
                _ => Err(format!("a real number for a {ty} parameter").into()),
            },
            Owned::Text(s) => match *ty {
                PgType::BYTEA => s.as_bytes().to_sql(ty, out),
                _ => s.as_str().to_sql(ty, out),
            },
            Owned::Bytes(b) => match *ty {
                PgType::BYTEA => b.as_slice().to_sql(ty, out),
                _ => Err(format!("bytes for a {ty} parameter").into()),
            },
        }
    }

    fn accepts(_: &PgType) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// Column `i` of a PostgreSQL row as a [`Value`], by its type.
fn pg_value(r: &postgres::Row, i: usize) -> Result<Value<'_>, DbError> {
    let bad = |e: postgres::Error| DbError::Value(format!("column {i}: {e}"));
    let ty = r
        .columns()
        .get(i)
        .ok_or_else(|| DbError::Value(format!("no column {i}")))?
        .type_()
        .clone();
    Ok(match ty {
        PgType::INT8 => r
            .try_get::<_, Option<i64>>(i)
            .map_err(bad)?
            .map_or(Value::Null, Value::Int),
        PgType::INT4 => r
            .try_get::<_, Option<i32>>(i)
            .map_err(bad)?
            .map_or(Value::Null, |n| Value::Int(n.into())),
        PgType::INT2 => r
            .try_get::<_, Option<i16>>(i)
            .map_err(bad)?
            .map_or(Value::Null, |n| Value::Int(n.into())),
        PgType::BOOL => r
            .try_get::<_, Option<bool>>(i)
            .map_err(bad)?
            .map_or(Value::Null, |b| Value::Int(b.into())),
        PgType::FLOAT8 => r
            .try_get::<_, Option<f64>>(i)
            .map_err(bad)?
            .map_or(Value::Null, Value::Real),
        PgType::BYTEA => r
            .try_get::<_, Option<&[u8]>>(i)
            .map_err(bad)?
            .map_or(Value::Null, Value::Bytes),
        _ => r
            .try_get::<_, Option<&str>>(i)
            .map_err(bad)?
            .map_or(Value::Null, Value::Text),
    })
}

/// `sql` with SQLite's numbered placeholders (`?1`) spelled as PostgreSQL's (`$1`); a `?`
/// inside a quoted string or identifier is left alone.
pub(crate) fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            None => out.push(c),
        }
    }
    out
}
