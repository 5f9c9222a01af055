//! The use-cases the pages need, on the store directly, until the service
//! layer (issue 13, `src/service/`) has them. Each is marked
//! `TODO(service)`: when `service::…` lands, the pages call it instead and
//! this file shrinks to nothing. The rules are the JSON API's, not new ones:
//! the same scope, masking, validation and throttle.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

use crate::auth::token;
use crate::domain::error::reject_nul;
use crate::domain::{AccountStatus, Capability, DomainError, Lead, LeadScope, ValidPatch};
use crate::http::AppState;
use crate::http::extract::{CurrentUser, SESSION_COOKIE};
use crate::store::filter::{LeadFilter, LeadOrder};
use crate::store::{NewSession, StatusCount, StoreError, User};

// TODO(service): move to service/ once it lands (leads scope).
/// The telecaller login whose leads the user is limited to, if any.
pub fn scope(current: &CurrentUser) -> Option<String> {
    match current.role().leads_scope() {
        LeadScope::OwnOnly => Some(current.user.email.clone()),
        LeadScope::All => None,
    }
}

// TODO(service): move to service/ once it lands (PII masking).
/// The lead as this user may see it: documents masked but for master_admin.
pub fn present(current: &CurrentUser, lead: Lead) -> Lead {
    if current.role().can(Capability::SeeUnmaskedPii) {
        lead
    } else {
        lead.masked()
    }
}

/// Now, to the millisecond (what both backends store exactly).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// Why a sign-in failed, each with the message the page shows.
#[derive(Debug)]
pub enum SignInError {
    /// Unknown login or wrong password (one answer for both).
    Credentials,
    /// Right password, account not approved yet.
    Pending,
    /// Right password, account disabled.
    Disabled,
    /// Too many failures; try again after this long.
    Throttled(Duration),
    /// The database failed.
    Store(StoreError),
}

impl From<StoreError> for SignInError {
    fn from(e: StoreError) -> Self {
        SignInError::Store(e)
    }
}

// TODO(service): move to service/ once it lands (sign-in with throttle).
/// Checks login and password the way `POST /api/auth/login` does (the same
/// throttle, the same order: the account's state is told only to someone
/// who knows its password) and starts a session; returns the user and the
/// session token.
pub async fn sign_in(
    state: &AppState,
    login: &str,
    password: &str,
    ip: IpAddr,
) -> Result<(User, String), SignInError> {
    let login = login.trim();
    if let Some(wait) = state.throttle.check(login, ip) {
        crate::metrics::login_failure("throttled");
        return Err(SignInError::Throttled(wait));
    }
    let found = if login.is_empty() || login.len() > 320 || password.len() > 1024 {
        None
    } else {
        state.store.find_login(login).await?
    };
    let ok = state
        .hasher
        .verify(password, found.as_ref().map(|f| f.password_hash.as_str()))
        .await;
    let Some(found) = found.filter(|_| ok) else {
        state.throttle.fail(login, ip);
        crate::metrics::login_failure("credentials");
        tracing::info!(target: "pulse::auth", event = "login_failed", via = "web", "sign-in failed");
        return Err(SignInError::Credentials);
    };
    let user = found.user;
    match user.status {
        AccountStatus::Pending => return Err(SignInError::Pending),
        AccountStatus::Disabled => return Err(SignInError::Disabled),
        AccountStatus::Active => {}
    }
    state.throttle.succeed(login);
    let token = token::generate();
    let now = Utc::now();
    let absolute = chrono::Duration::from_std(state.config.session_absolute).unwrap_or_default();
    state
        .store
        .create_session(&NewSession {
            token_hash: token::hash(&token),
            user_id: user.id,
            created_at: now,
            expires_at: now + absolute,
        })
        .await?;
    tracing::info!(target: "pulse::auth", event = "login", via = "web", user_id = %user.id, "signed in");
    Ok((user, token))
}

// TODO(service): move to service/ once it lands (sessions).
/// The `Set-Cookie` value of the API's session cookie (`None`: clear it).
pub fn session_cookie(state: &AppState, token: Option<&str>) -> String {
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    match token {
        Some(t) => format!(
            "{SESSION_COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            state.config.session_absolute.as_secs()
        ),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

// TODO(service): move to service/ once it lands (leads list).
/// One page of leads in `order` with the total, within the user's scope
/// (the filter carries it), masked for the user.
pub async fn list(
    state: &AppState,
    current: &CurrentUser,
    filter: &LeadFilter,
    order: LeadOrder,
    page: u32,
    limit: u32,
) -> Result<(Vec<Lead>, i64), StoreError> {
    let (leads, total) = state
        .store
        .list_leads_ordered(filter, order, page, limit)
        .await?;
    Ok((
        leads.into_iter().map(|l| present(current, l)).collect(),
        total,
    ))
}

// TODO(service): move to service/ once it lands (status summary).
/// Counts per stage and status within `filter`.
pub async fn summary(
    state: &AppState,
    filter: &LeadFilter,
) -> Result<Vec<StatusCount>, StoreError> {
    state.store.status_summary(filter).await
}

// TODO(service): move to service/ once it lands (lead get).
/// One lead the user may open, masked for them; `None` otherwise (404).
pub async fn get(
    state: &AppState,
    current: &CurrentUser,
    id: Uuid,
) -> Result<Option<Lead>, StoreError> {
    Ok(state
        .store
        .get_lead(id, scope(current).as_deref())
        .await?
        .map(|l| present(current, l)))
}

// TODO(service): move to service/ once it lands (remarks).
/// Adds a remark as the user; `Ok(None)` when the lead is out of reach.
pub async fn add_remark(
    state: &AppState,
    current: &CurrentUser,
    id: Uuid,
    remark: String,
) -> Result<Result<Option<Lead>, DomainError>, StoreError> {
    if let Err(e) = reject_nul("remark", &remark) {
        return Ok(Err(e));
    }
    if remark.trim().is_empty() {
        return Ok(Err(DomainError::Empty { field: "remark" }));
    }
    let actor = current.user.email.clone();
    let at = now();
    let out = state
        .store
        .update_leads(
            &[id],
            scope(current).as_deref(),
            Box::new(move |lead: &mut Lead| lead.add_remark(&remark, &actor, at).is_ok()),
        )
        .await?;
    Ok(Ok(out.changed.into_iter().next()))
}

// TODO(service): move to service/ once it lands (call-done).
/// Records that the user called the lead now; `None` when out of reach.
pub async fn call_done(
    state: &AppState,
    current: &CurrentUser,
    id: Uuid,
) -> Result<Option<Lead>, StoreError> {
    let at = now();
    let out = state
        .store
        .update_leads(
            &[id],
            scope(current).as_deref(),
            Box::new(move |lead: &mut Lead| {
                lead.last_called = Some(at);
                lead.updated_at = at;
                true
            }),
        )
        .await?;
    Ok(out.changed.into_iter().next())
}

/// What a lead edit came to.
pub enum PatchOutcome {
    /// Written (or nothing to change).
    Saved,
    /// The lead is out of reach.
    NotFound,
    /// Another lead has the new phone number; its id when the user may open it.
    DuplicatePhone(Option<Uuid>),
}

// TODO(service): move to service/ once it lands (lead patch).
/// Applies a validated patch as the user, with the API's duplicate-phone
/// rule (the other lead is named only to someone who may open it).
pub async fn patch(
    state: &AppState,
    current: &CurrentUser,
    id: Uuid,
    valid: ValidPatch,
) -> Result<PatchOutcome, StoreError> {
    let own = scope(current);
    if state.store.get_lead(id, own.as_deref()).await?.is_none() {
        return Ok(PatchOutcome::NotFound);
    }
    if let Some(phone) = valid.phone()
        && let Some(existing) = state.store.find_by_phone(phone.as_str()).await?
        && existing != id
    {
        let visible = state
            .store
            .get_lead(existing, own.as_deref())
            .await?
            .map(|l| l.id);
        return Ok(PatchOutcome::DuplicatePhone(visible));
    }
    let actor = current.user.email.clone();
    let at = now();
    let result = state
        .store
        .update_leads(
            &[id],
            own.as_deref(),
            Box::new(move |lead| {
                valid.clone().apply(lead, &actor, at);
                true
            }),
        )
        .await;
    match result {
        Ok(out) => match out.changed.into_iter().next() {
            Some(_) => Ok(PatchOutcome::Saved),
            None => Ok(PatchOutcome::NotFound),
        },
        // a phone taken between the check and the write
        Err(StoreError::Conflict(_)) => Ok(PatchOutcome::DuplicatePhone(None)),
        Err(e) => Err(e),
    }
}
