//! The store's SQL layer: one body of SQL over the database driver. Each query is written once,
//! in SQLite's spelling with numbered placeholders (`?1`, `?2`, …), and run through [`Db`]:
//! parameters are [`Value`]s (built with `args![…]`), rows are read through [`Row`] by
//! position, and every statement is prepared once per connection (rusqlite's statement cache).
//! What differs between databases (DDL, pragmas, the blob I/O of big requests, the change
//! counter) is written per backend where it is used, by matching on [`Db`], so a new backend
//! is a compile error at each such place until it is handled.
//!
//! Reading costs what rusqlite costs: a [`Row`] borrows the driver's row, and text is borrowed
//! from it (`Row::text`), so the 100k-row start-up read copies each string once, into the row
//! it builds.

use rusqlite::types::{ToSqlOutput, ValueRef};

/// A connection to the store's database.
pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
}

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
}

impl DbError {
    /// Another connection holds a lock this one needs.
    pub(crate) fn is_busy(&self) -> bool {
        match self {
            DbError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
        }
    }

    /// The database file is damaged or not a database.
    pub(crate) fn is_corruption(&self) -> bool {
        match self {
            DbError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
            ),
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
        }
    }
}

/// A type a cell is read as ([`Row::get`]).
pub(crate) trait FromDb: rusqlite::types::FromSql {}

impl FromDb for i64 {}
impl FromDb for String {}
impl FromDb for bool {}
impl FromDb for Option<i64> {}
impl FromDb for Option<String> {}

/// One row of a result, read by column position.
pub(crate) enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
}

impl Row<'_> {
    /// Column `i` as a `T`.
    pub(crate) fn get<T: FromDb>(&self, i: usize) -> Result<T, DbError> {
        match self {
            Row::Sqlite(r) => Ok(r.get(i)?),
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
        }
    }

    /// Column `i` as text borrowed from the row; a `NULL` or a number is an error.
    pub(crate) fn text(&self, i: usize) -> Result<&str, DbError> {
        match self {
            Row::Sqlite(r) => Self::sqlite_text(r, i),
        }
    }

    /// Column `i` as text borrowed from the row, `None` for `NULL`.
    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<&str>, DbError> {
        match self {
            Row::Sqlite(r) => match r.get_ref(i)? {
                ValueRef::Null => Ok(None),
                _ => Self::sqlite_text(r, i).map(Some),
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
        }
    }

    /// Run statements without parameters, one after the other (no statement cache).
    pub(crate) fn batch(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
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
        }
    }

    pub(crate) fn commit(&self) -> Result<(), DbError> {
        self.execute("COMMIT", args![]).map(drop)
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
