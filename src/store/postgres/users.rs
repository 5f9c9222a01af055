//! Users and sessions on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use uuid::Uuid;

use super::PgStore;
use crate::store::error::{StoreError, StoreResult};
use crate::store::model::{
    NewSession, NewUser, ResetRequest, Session, User, UserChange, UserWithHash,
};
use crate::store::traits::{RESET_REQUESTS_LISTED, SessionStore, UserStore};

const USER_COLUMNS: &str = "u.id, u.email, u.username, u.first_name, u.last_name, u.account_type, u.status, u.created_at, \
     u.temp_password";

fn user_from_row(r: &Row) -> StoreResult<User> {
    let account_type: String = r.get(5);
    let status: String = r.get(6);
    Ok(User {
        id: r.get(0),
        email: r.get(1),
        username: r.get(2),
        first_name: r.get(3),
        last_name: r.get(4),
        account_type: account_type
            .parse()
            .map_err(|_| StoreError::Backend(format!("invalid account type {account_type:?}")))?,
        status: status
            .parse()
            .map_err(|_| StoreError::Backend(format!("invalid status {status:?}")))?,
        created_at: r.get(7),
        is_temp_password: r.get(8),
    })
}

#[async_trait]
impl UserStore for PgStore {
    async fn create_user(&self, new: &NewUser) -> StoreResult<User> {
        let row = self
            .client()
            .await?
            .query_one(
                &format!(
                    "INSERT INTO users AS u (id, email, username, first_name, last_name,
                                             account_type, status, password_hash, created_at, updated_at,
                                             temp_password)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, date_trunc('milliseconds', now()),
                             date_trunc('milliseconds', now()), $9)
                     RETURNING {USER_COLUMNS}"
                ),
                &[
                    &Uuid::new_v4(),
                    &new.email,
                    &new.username,
                    &new.first_name,
                    &new.last_name,
                    &new.account_type.as_str(),
                    &new.status.as_str(),
                    &new.password_hash,
                    &new.temp_password,
                ],
            )
            .await?;
        user_from_row(&row)
    }

    async fn find_login(&self, login: &str) -> StoreResult<Option<UserWithHash>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!(
                    "SELECT {USER_COLUMNS}, u.password_hash FROM users u
                     WHERE lower(u.email) = lower($1) OR lower(u.username) = lower($1)
                     ORDER BY lower(u.email) = lower($1) DESC LIMIT 1"
                ),
                &[&login],
            )
            .await?;
        row.map(|r| {
            Ok(UserWithHash {
                user: user_from_row(&r)?,
                password_hash: r.get(9),
            })
        })
        .transpose()
    }

    async fn get_user(&self, id: Uuid) -> StoreResult<Option<User>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"),
                &[&id],
            )
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn get_user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!("SELECT {USER_COLUMNS} FROM users u WHERE lower(u.email) = lower($1)"),
                &[&email],
            )
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.created_at, u.id"),
                &[],
            )
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn update_user(&self, id: Uuid, change: &UserChange) -> StoreResult<Option<User>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                &format!(
                    "UPDATE users AS u SET
                        account_type  = COALESCE($2, account_type),
                        status        = COALESCE($3, status),
                        password_hash = COALESCE($4, password_hash),
                        first_name    = COALESCE($5, first_name),
                        last_name     = COALESCE($6, last_name),
                        temp_password = COALESCE($7, temp_password),
                        updated_at    = now()
                     WHERE id = $1 RETURNING {USER_COLUMNS}"
                ),
                &[
                    &id,
                    &change.account_type.map(|t| t.as_str()),
                    &change.status.map(|s| s.as_str()),
                    &change.password_hash,
                    &change.first_name,
                    &change.last_name,
                    &change.temp_password,
                ],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        if change.revokes_sessions() {
            tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&id])
                .await?;
        }
        tx.commit().await?;
        user_from_row(&row).map(Some)
    }

    async fn count_master_admins(&self) -> StoreResult<i64> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT count(*) FROM users
                 WHERE account_type = 'master_admin' AND status <> 'disabled'",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn users_by_logins(&self, logins: &[String]) -> StoreResult<Vec<User>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {USER_COLUMNS} FROM users u
                     WHERE lower(u.email) = ANY($1) OR lower(u.username) = ANY($1)"
                ),
                &[&logins],
            )
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn create_reset_request(&self, user_id: Uuid) -> StoreResult<ResetRequest> {
        let client = self.client().await?;
        let id = Uuid::new_v4();
        client
            .execute(
                "INSERT INTO password_reset_requests (id, user_id, status, created_at)
                 VALUES ($1, $2, 'pending', date_trunc('milliseconds', now()))",
                &[&id, &user_id],
            )
            .await?;
        let row = client
            .query_one(&format!("{RESET_SELECT} WHERE r.id = $1"), &[&id])
            .await?;
        reset_from_row(&row)
    }

    async fn list_reset_requests(&self) -> StoreResult<Vec<ResetRequest>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!("{RESET_SELECT} ORDER BY r.created_at DESC, r.id LIMIT $1"),
                &[&RESET_REQUESTS_LISTED],
            )
            .await?;
        rows.iter().map(reset_from_row).collect()
    }

    async fn get_reset_request(&self, id: Uuid) -> StoreResult<Option<ResetRequest>> {
        let row = self
            .client()
            .await?
            .query_opt(&format!("{RESET_SELECT} WHERE r.id = $1"), &[&id])
            .await?;
        row.as_ref().map(reset_from_row).transpose()
    }

    async fn close_reset_request(&self, id: Uuid, status: &str, by: Uuid) -> StoreResult<bool> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE password_reset_requests
                 SET status = $2, processed_at = now(), processed_by = $3
                 WHERE id = $1 AND status = 'pending'",
                &[&id, &status, &by],
            )
            .await?;
        Ok(n == 1)
    }
}

const RESET_SELECT: &str = "SELECT r.id, r.user_id, u.email, u.first_name, u.last_name,
        u.account_type, r.status, r.created_at
     FROM password_reset_requests r JOIN users u ON u.id = r.user_id";

fn reset_from_row(r: &Row) -> StoreResult<ResetRequest> {
    let account_type: String = r.get(5);
    Ok(ResetRequest {
        id: r.get(0),
        user_id: r.get(1),
        user_email: r.get(2),
        first_name: r.get(3),
        last_name: r.get(4),
        account_type: account_type
            .parse()
            .map_err(|_| StoreError::Backend(format!("invalid account type {account_type:?}")))?,
        status: r.get(6),
        created_at: r.get(7),
    })
}

#[async_trait]
impl SessionStore for PgStore {
    async fn create_session(&self, s: &NewSession) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at)
                 VALUES ($1, $2, $3, $3, $4)",
                &[&s.token_hash, &s.user_id, &s.created_at, &s.expires_at],
            )
            .await?;
        Ok(())
    }

    async fn find_session(&self, token_hash: &str) -> StoreResult<Option<(Session, User)>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!(
                    "SELECT {USER_COLUMNS}, s.token_hash, s.created_at, s.last_seen_at, s.expires_at
                     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
                ),
                &[&token_hash],
            )
            .await?;
        row.map(|r| {
            let user = user_from_row(&r)?;
            let session = Session {
                token_hash: r.get(9),
                user_id: user.id,
                created_at: r.get(10),
                last_seen_at: r.get(11),
                expires_at: r.get(12),
            };
            Ok((session, user))
        })
        .transpose()
    }

    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1",
                &[&token_hash, &at],
            )
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.client()
            .await?
            .execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
            .await?;
        Ok(())
    }

    async fn delete_user_sessions(&self, user_id: Uuid, keep: Option<&str>) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "DELETE FROM sessions WHERE user_id = $1 AND ($2::text IS NULL OR token_hash <> $2)",
                &[&user_id, &keep],
            )
            .await?;
        Ok(())
    }

    async fn purge_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        Ok(self
            .client()
            .await?
            .execute(
                "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2",
                &[&now, &idle_before],
            )
            .await?)
    }
}
