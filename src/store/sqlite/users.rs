//! Users and sessions on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use uuid::Uuid;

use super::{SqliteStore, from_ms, to_ms};
use crate::store::error::{StoreError, StoreResult};
use crate::store::model::{
    NewSession, NewUser, ResetRequest, Session, User, UserChange, UserWithHash,
};
use crate::store::traits::{RESET_REQUESTS_LISTED, SessionStore, UserStore};

const USER_COLUMNS: &str = "u.id, u.email, u.username, u.first_name, u.last_name, u.account_type, u.status, u.created_at, \
     u.temp_password";

fn user_from_row(r: &Row<'_>, offset: usize) -> rusqlite::Result<User> {
    let text = |i: usize| r.get::<_, String>(offset + i);
    let bad = |i: usize, what: &str, v: String| {
        rusqlite::Error::FromSqlConversionFailure(
            offset + i,
            rusqlite::types::Type::Text,
            format!("invalid {what} {v:?}").into(),
        )
    };
    let id = text(0)?;
    let account_type = text(5)?;
    let status = text(6)?;
    Ok(User {
        id: id.parse().map_err(|_| bad(0, "id", id.clone()))?,
        email: text(1)?,
        username: r.get(offset + 2)?,
        first_name: text(3)?,
        last_name: text(4)?,
        account_type: account_type
            .parse()
            .map_err(|_| bad(5, "account type", account_type.clone()))?,
        status: status
            .parse()
            .map_err(|_| bad(6, "status", status.clone()))?,
        created_at: from_ms(r.get(offset + 7)?),
        is_temp_password: r.get(offset + 8)?,
    })
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, new: &NewUser) -> StoreResult<User> {
        let new = new.clone();
        self.pool
            .run(move |conn| {
                let id = Uuid::new_v4();
                let now = Utc::now();
                conn.execute(
                    "INSERT INTO users (id, email, username, first_name, last_name, account_type,
                                        status, password_hash, created_at, updated_at, temp_password)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)",
                    params![
                        id.to_string(),
                        new.email,
                        new.username,
                        new.first_name,
                        new.last_name,
                        new.account_type.as_str(),
                        new.status.as_str(),
                        new.password_hash,
                        to_ms(now),
                        new.temp_password
                    ],
                )?;
                Ok(User {
                    id,
                    email: new.email,
                    username: new.username,
                    first_name: new.first_name,
                    last_name: new.last_name,
                    account_type: new.account_type,
                    status: new.status,
                    created_at: from_ms(to_ms(now)),
                    is_temp_password: new.temp_password,
                })
            })
            .await
    }

    async fn find_login(&self, login: &str) -> StoreResult<Option<UserWithHash>> {
        let login = login.to_string();
        self.pool
            .run(move |conn| {
                let sql = format!(
                    "SELECT {USER_COLUMNS}, u.password_hash FROM users u
                     WHERE lower(u.email) = lower(?1) OR lower(u.username) = lower(?1)
                     ORDER BY lower(u.email) = lower(?1) DESC LIMIT 1"
                );
                Ok(conn
                    .query_row(&sql, [login], |r| {
                        Ok(UserWithHash {
                            user: user_from_row(r, 0)?,
                            password_hash: r.get(9)?,
                        })
                    })
                    .optional()?)
            })
            .await
    }

    async fn get_user(&self, id: Uuid) -> StoreResult<Option<User>> {
        self.pool
            .run(move |conn| {
                let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1");
                Ok(conn
                    .query_row(&sql, [id.to_string()], |r| user_from_row(r, 0))
                    .optional()?)
            })
            .await
    }

    async fn get_user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let email = email.to_string();
        self.pool
            .run(move |conn| {
                let sql =
                    format!("SELECT {USER_COLUMNS} FROM users u WHERE lower(u.email) = lower(?1)");
                Ok(conn
                    .query_row(&sql, [email], |r| user_from_row(r, 0))
                    .optional()?)
            })
            .await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.pool
            .run(|conn| {
                let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.created_at, u.id");
                let mut stmt = conn.prepare(&sql)?;
                let rows = stmt.query_map([], |r| user_from_row(r, 0))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    async fn update_user(&self, id: Uuid, change: &UserChange) -> StoreResult<Option<User>> {
        let change = change.clone();
        self.pool
            .run(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let n = tx.execute(
                    "UPDATE users SET
                        account_type  = COALESCE(?2, account_type),
                        status        = COALESCE(?3, status),
                        password_hash = COALESCE(?4, password_hash),
                        first_name    = COALESCE(?5, first_name),
                        last_name     = COALESCE(?6, last_name),
                        updated_at    = ?7,
                        temp_password = COALESCE(?8, temp_password)
                     WHERE id = ?1",
                    params![
                        id.to_string(),
                        change.account_type.map(|t| t.as_str()),
                        change.status.map(|s| s.as_str()),
                        change.password_hash,
                        change.first_name,
                        change.last_name,
                        to_ms(Utc::now()),
                        change.temp_password
                    ],
                )?;
                if n == 0 {
                    return Ok(None);
                }
                if change.revokes_sessions() {
                    tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id.to_string()])?;
                }
                let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1");
                let user = tx.query_row(&sql, [id.to_string()], |r| user_from_row(r, 0))?;
                tx.commit()?;
                Ok(Some(user))
            })
            .await
    }

    async fn count_master_admins(&self) -> StoreResult<i64> {
        self.pool
            .run(|conn| {
                Ok(conn.query_row(
                    "SELECT count(*) FROM users
                     WHERE account_type = 'master_admin' AND status <> 'disabled'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
    }

    async fn users_by_logins(&self, logins: &[String]) -> StoreResult<Vec<User>> {
        let logins =
            serde_json::to_string(logins).map_err(|e| StoreError::Backend(e.to_string()))?;
        self.pool
            .run(move |conn| {
                let sql = format!(
                    "SELECT {USER_COLUMNS} FROM users u
                     WHERE lower(u.email) IN (SELECT value FROM json_each(?1))
                        OR lower(u.username) IN (SELECT value FROM json_each(?1))"
                );
                let mut stmt = conn.prepare(&sql)?;
                let rows = stmt.query_map([logins], |r| user_from_row(r, 0))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    async fn create_reset_request(&self, user_id: Uuid) -> StoreResult<ResetRequest> {
        self.pool
            .run(move |conn| {
                let id = Uuid::new_v4();
                conn.execute(
                    "INSERT INTO password_reset_requests (id, user_id, status, created_at)
                     VALUES (?1, ?2, 'pending', ?3)",
                    params![id.to_string(), user_id.to_string(), to_ms(Utc::now())],
                )?;
                let sql = format!("{RESET_SELECT} WHERE r.id = ?1");
                Ok(conn.query_row(&sql, [id.to_string()], reset_from_row)?)
            })
            .await
    }

    async fn list_reset_requests(&self) -> StoreResult<Vec<ResetRequest>> {
        self.pool
            .run(|conn| {
                let sql = format!("{RESET_SELECT} ORDER BY r.created_at DESC, r.id LIMIT ?1");
                let mut stmt = conn.prepare(&sql)?;
                let rows = stmt.query_map([RESET_REQUESTS_LISTED], reset_from_row)?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    async fn get_reset_request(&self, id: Uuid) -> StoreResult<Option<ResetRequest>> {
        self.pool
            .run(move |conn| {
                let sql = format!("{RESET_SELECT} WHERE r.id = ?1");
                Ok(conn
                    .query_row(&sql, [id.to_string()], reset_from_row)
                    .optional()?)
            })
            .await
    }

    async fn close_reset_request(&self, id: Uuid, status: &str, by: Uuid) -> StoreResult<bool> {
        let status = status.to_string();
        self.pool
            .run(move |conn| {
                let n = conn.execute(
                    "UPDATE password_reset_requests
                     SET status = ?2, processed_at = ?3, processed_by = ?4
                     WHERE id = ?1 AND status = 'pending'",
                    params![id.to_string(), status, to_ms(Utc::now()), by.to_string()],
                )?;
                Ok(n == 1)
            })
            .await
    }
}

const RESET_SELECT: &str = "SELECT r.id, r.user_id, u.email, u.first_name, u.last_name,
        u.account_type, r.status, r.created_at
     FROM password_reset_requests r JOIN users u ON u.id = r.user_id";

fn reset_from_row(r: &Row<'_>) -> rusqlite::Result<ResetRequest> {
    let uuid = |i: usize| -> rusqlite::Result<Uuid> {
        let v: String = r.get(i)?;
        v.parse().map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                i,
                rusqlite::types::Type::Text,
                format!("invalid id {v:?}").into(),
            )
        })
    };
    let account_type: String = r.get(5)?;
    Ok(ResetRequest {
        id: uuid(0)?,
        user_id: uuid(1)?,
        user_email: r.get(2)?,
        first_name: r.get(3)?,
        last_name: r.get(4)?,
        account_type: account_type.parse().map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                5,
                rusqlite::types::Type::Text,
                format!("invalid account type {account_type:?}").into(),
            )
        })?,
        status: r.get(6)?,
        created_at: from_ms(r.get(7)?),
    })
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, s: &NewSession) -> StoreResult<()> {
        let s = s.clone();
        self.pool
            .run(move |conn| {
                conn.execute(
                    "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at)
                     VALUES (?1, ?2, ?3, ?3, ?4)",
                    params![s.token_hash, s.user_id.to_string(), to_ms(s.created_at), to_ms(s.expires_at)],
                )?;
                Ok(())
            })
            .await
    }

    async fn find_session(&self, token_hash: &str) -> StoreResult<Option<(Session, User)>> {
        let token_hash = token_hash.to_string();
        self.pool
            .run(move |conn| {
                let sql = format!(
                    "SELECT {USER_COLUMNS}, s.token_hash, s.created_at, s.last_seen_at, s.expires_at
                     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1"
                );
                Ok(conn
                    .query_row(&sql, [token_hash], |r| {
                        let user = user_from_row(r, 0)?;
                        let session = Session {
                            token_hash: r.get(9)?,
                            user_id: user.id,
                            created_at: from_ms(r.get(10)?),
                            last_seen_at: from_ms(r.get(11)?),
                            expires_at: from_ms(r.get(12)?),
                        };
                        Ok((session, user))
                    })
                    .optional()?)
            })
            .await
    }

    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.pool
            .run(move |conn| {
                conn.execute(
                    "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
                    params![token_hash, to_ms(at)],
                )?;
                Ok(())
            })
            .await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.pool
            .run(move |conn| {
                conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
                Ok(())
            })
            .await
    }

    async fn delete_user_sessions(&self, user_id: Uuid, keep: Option<&str>) -> StoreResult<()> {
        let keep = keep.map(String::from);
        self.pool
            .run(move |conn| {
                conn.execute(
                    "DELETE FROM sessions WHERE user_id = ?1 AND (?2 IS NULL OR token_hash <> ?2)",
                    params![user_id.to_string(), keep],
                )?;
                Ok(())
            })
            .await
    }

    async fn purge_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.pool
            .run(move |conn| {
                let n = conn.execute(
                    "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen_at < ?2",
                    params![to_ms(now), to_ms(idle_before)],
                )?;
                Ok(n as u64)
            })
            .await
    }
}
