//! Signing in (under the login throttle), sessions (start, check, end),
//! self-registration and changing one's password.

use std::net::IpAddr;

use chrono::Utc;

use super::{ServiceError, ServiceResult, Services};
use crate::auth::throttle::AccountKey;
use crate::auth::{device, password, token};
use crate::domain::{AccountStatus, AccountType, Actor, Capability, parse_email, parse_name};
use crate::store::{NewSession, NewUser, StoreError, User, UserChange};

/// The same answer for an unknown login and a wrong password.
pub const BAD_CREDENTIALS: &str = "Incorrect email or password";

/// A signed-in user and the token of their new session.
#[derive(Debug)]
pub struct SignedIn {
    /// The session's token (shown once; only its hash is stored).
    pub token: String,
    /// Who signed in.
    pub user: User,
    /// The device cookie to set (name, value): it lets this browser in past
    /// the account-wide failure ceiling later (review H2).
    pub device_cookie: (String, String),
}

/// Longer logins cannot name an account (e-mails are at most 254 bytes).
const MAX_LOGIN_BYTES: usize = 320;
/// Longer passwords cannot be right (the policy allows 256 bytes).
const MAX_PASSWORD_BYTES: usize = 1024;

/// Signs in with an e-mail or user name (`login`) and a password from
/// `ip`. `cookie` reads a cookie of the request by name (the device cookie
/// of the account). The attempt is reserved with the throttle before the
/// password is hashed, so parallel guesses cannot pass it (review H1).
pub async fn login(
    svc: &Services,
    login: &str,
    password: &str,
    ip: IpAddr,
    cookie: impl Fn(&str) -> Option<String>,
) -> ServiceResult<SignedIn> {
    let login = login.trim();
    // Bound the work an attacker can make us do: nothing this long can match, so it is
    // refused before the throttle, the database or the hasher see it.
    if login.is_empty() || login.len() > MAX_LOGIN_BYTES || password.len() > MAX_PASSWORD_BYTES {
        crate::metrics::login_failure("credentials");
        return Err(ServiceError::Unauthenticated(BAD_CREDENTIALS.into()));
    }
    let found = svc.store.find_login(login).await?;
    let (account, device) = match &found {
        Some(f) => {
            let value = cookie(&device::cookie_name(f.user.id));
            let known = value
                .as_deref()
                .and_then(|v| svc.throttle.device_keys().verify(f.user.id, v))
                .map(str::to_string);
            (AccountKey::user(f.user.id), known)
        }
        None => (AccountKey::login(login), None),
    };
    let attempt = svc
        .throttle
        .reserve(account, ip, device.as_deref())
        .map_err(|wait| {
            crate::metrics::login_failure("throttled");
            ServiceError::Throttled {
                message: "too many failed sign-in attempts; try again later".into(),
                retry_after: wait,
            }
        })?;
    let ok = svc
        .hasher
        .verify(password, found.as_ref().map(|f| f.password_hash.as_str()))
        .await?;
    let Some(found) = found.filter(|_| ok) else {
        attempt.failed();
        crate::metrics::login_failure("credentials");
        tracing::info!(target: "pulse::auth", event = "login_failed", "sign-in failed");
        return Err(ServiceError::Unauthenticated(BAD_CREDENTIALS.into()));
    };
    attempt.succeeded();
    let user = found.user;
    match user.status {
        AccountStatus::Pending => {
            return Err(ServiceError::Forbidden(
                "this account is waiting for approval by an administrator".into(),
            ));
        }
        AccountStatus::Disabled => {
            return Err(ServiceError::Forbidden(
                "this account is disabled; ask an administrator".into(),
            ));
        }
        AccountStatus::Active => {}
    }
    let token = start_session(svc, &user).await?;
    tracing::info!(target: "pulse::auth", event = "login", user_id = %user.id, "signed in");
    let device_cookie = (
        device::cookie_name(user.id),
        svc.throttle.device_keys().issue(user.id),
    );
    Ok(SignedIn {
        token,
        user,
        device_cookie,
    })
}

/// Creates a session for `user` and returns its token.
pub async fn start_session(svc: &Services, user: &User) -> ServiceResult<String> {
    let token = token::generate();
    let now = Utc::now();
    let absolute = chrono::Duration::from_std(svc.config.session_absolute).unwrap_or_default();
    svc.store
        .create_session(&NewSession {
            token_hash: token::hash(&token),
            user_id: user.id,
            created_at: now,
            expires_at: now + absolute,
        })
        .await?;
    Ok(token)
}

/// The active user of the session whose token hashes to `token_hash`;
/// an expired session (idle or absolute) is ended.
pub async fn authenticate(svc: &Services, token_hash: &str) -> ServiceResult<User> {
    let unauthenticated = || ServiceError::Unauthenticated("not authenticated".into());
    let (session, user) = svc
        .store
        .find_session(token_hash)
        .await?
        .ok_or_else(unauthenticated)?;
    let now = Utc::now();
    let idle = chrono::Duration::from_std(svc.config.session_idle).unwrap_or_default();
    if now >= session.expires_at || now - session.last_seen_at >= idle {
        if let Err(e) = svc.store.delete_session(token_hash).await {
            tracing::warn!(error = %e, "could not delete an expired session");
        }
        return Err(ServiceError::Unauthenticated(
            "session expired; sign in again".into(),
        ));
    }
    if user.status != AccountStatus::Active {
        return Err(unauthenticated());
    }
    // Move the idle clock at most once a minute: one write per user-minute, not per request.
    // In the background and best-effort: a read must never wait for, or fail on, the
    // write lock a long import or restore holds (review H4); a missed touch only
    // moves the idle clock a minute later.
    if now - session.last_seen_at >= chrono::Duration::minutes(1) {
        let store = svc.store.clone();
        let hash = token_hash.to_string();
        tokio::spawn(async move {
            if let Err(e) = store.touch_session(&hash, now).await {
                tracing::debug!(error = %e, "session touch skipped");
            }
        });
    }
    Ok(user)
}

/// Ends the session whose token hashes to `token_hash`.
pub async fn logout(svc: &Services, token_hash: &str) -> ServiceResult<()> {
    Ok(svc.store.delete_session(token_hash).await?)
}

/// Parses an account type named in a request.
pub fn parse_account_type(text: &str) -> ServiceResult<AccountType> {
    text.parse()
        .map_err(|e: crate::domain::role::AccountTypeError| ServiceError::Invalid(e.to_string()))
}

/// Checks the password policy.
pub fn check_password(p: &str) -> ServiceResult<()> {
    password::check_policy(p).map_err(ServiceError::Invalid)
}

/// The conflict of a second account with one e-mail.
pub fn email_taken(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict(_) => {
            ServiceError::Conflict("an account with this e-mail already exists".into())
        }
        other => other.into(),
    }
}

/// A self-registration.
#[derive(Debug)]
pub struct Registration {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Login e-mail.
    pub email: String,
    /// The password.
    pub password: String,
    /// The role asked for (standard unless given).
    pub account_type: Option<String>,
}

/// Registers an account that waits for an administrator's approval. A role
/// that manages users cannot be self-registered.
pub async fn register(svc: &Services, r: Registration) -> ServiceResult<User> {
    let email = parse_email(&r.email)?;
    let first_name = parse_name("first_name", &r.first_name)?;
    let last_name = parse_name("last_name", &r.last_name)?;
    let account_type = match r.account_type.as_deref() {
        None | Some("") => AccountType::Standard,
        Some(t) => parse_account_type(t)?,
    };
    if account_type.can(Capability::ManageUsers) {
        return Err(ServiceError::Forbidden(
            "admin accounts cannot be self-registered; ask an administrator".into(),
        ));
    }
    check_password(&r.password)?;
    let password_hash = svc.hasher.hash(&r.password).await?;
    svc.store
        .create_user(&NewUser {
            email,
            username: None,
            first_name,
            last_name,
            account_type,
            status: AccountStatus::Pending,
            password_hash,
            temp_password: false,
        })
        .await
        .map_err(email_taken)
}

/// Changes `actor`'s password, ends every session (the current one too)
/// and starts a fresh one, whose token is returned.
pub async fn change_password(
    svc: &Services,
    actor: &Actor,
    old_password: &str,
    new_password: &str,
) -> ServiceResult<String> {
    let found = svc.store.find_login(&actor.login).await?;
    let ok = svc
        .hasher
        .verify(
            old_password,
            found.as_ref().map(|f| f.password_hash.as_str()),
        )
        .await?;
    if !ok {
        return Err(ServiceError::Invalid("old_password is not correct".into()));
    }
    check_password(new_password)?;
    let hash = svc.hasher.hash(new_password).await?;
    let change = UserChange {
        password_hash: Some(hash),
        temp_password: Some(false),
        ..Default::default()
    };
    let user = svc
        .store
        .update_user(actor.id, &change)
        .await?
        .ok_or_else(|| ServiceError::Unauthenticated("not authenticated".into()))?;
    start_session(svc, &user).await
}

/// The original's "reset with a temporary password" (no session needed):
/// signs in with the temporary password an administrator gave (under the
/// login throttle, the same checks as a login) and sets the new one; every
/// session of the account ends.
pub async fn reset_with_temporary(
    svc: &Services,
    login_name: &str,
    temporary: &str,
    new_password: &str,
    ip: IpAddr,
) -> ServiceResult<()> {
    check_password(new_password)?;
    let signed_in = login(svc, login_name, temporary, ip, |_| None)
        .await
        .map_err(|e| match e {
            ServiceError::Unauthenticated(_) => ServiceError::Malformed(
                "the e-mail or the temporary password is not correct".into(),
            ),
            other => other,
        })?;
    if !signed_in.user.is_temp_password {
        // the original's 400 "no temporary password set": this path is not a
        // second way to change a password one knows
        svc.store
            .delete_session(&token::hash(&signed_in.token))
            .await?;
        return Err(ServiceError::Malformed(
            "no temporary password is set for this account".into(),
        ));
    }
    let actor = Actor {
        id: signed_in.user.id,
        login: signed_in.user.email.clone(),
        role: signed_in.user.account_type,
    };
    change_password(svc, &actor, temporary, new_password).await?;
    svc.store.delete_user_sessions(actor.id, None).await?;
    Ok(())
}
