//! `/users` (admin, master_admin): accounts waiting for approval first —
//! each approval names the role it grants —, then every account with its
//! role, status and actions; create an account; change a role; disable or
//! re-enable; reset a password (the temporary password is shown once, in
//! the answer to that post, and kept nowhere). DESIGN §2's rules are the
//! service's (`service::users`); the page shows them: an account the user
//! may not manage (an admin looking at a master_admin) has no controls,
//! only the reason, and the role choices hold only roles the user may grant.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::admin::{refusal, require};
use super::lead_detail::ist_text;
use super::page::{Layout, PageError, PageResult, PageUser, render, role_label, see_other};
use crate::domain::{AccountStatus, AccountType, Capability};
use crate::http::AppState;
use crate::service::users::{self, AccountEdit, NewAccount};
use crate::store::User;

struct RoleOpt {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

struct Row {
    id: Uuid,
    name: String,
    login: String,
    role: &'static str,
    role_value: &'static str,
    status: &'static str,
    created: String,
    /// Controls shown: the user may manage this account.
    manageable: bool,
    /// Why not, when not.
    locked_reason: String,
    is_self: bool,
    disabled: bool,
    roles: Vec<RoleOpt>,
}

#[derive(askama::Template)]
#[template(path = "users.html")]
struct UsersPage {
    l: Layout,
    pending: Vec<Row>,
    others: Vec<Row>,
    create_roles: Vec<RoleOpt>,
    notice: Option<String>,
    error: Option<String>,
    form: CreateForm,
}

#[derive(askama::Template)]
#[template(path = "user_password.html")]
struct PasswordPage {
    l: Layout,
    heading: &'static str,
    who: String,
    password: String,
}

fn name_of(u: &User) -> String {
    let full = format!("{} {}", u.first_name.trim(), u.last_name.trim());
    let full = full.trim();
    if full.is_empty() {
        u.username.clone().unwrap_or_else(|| u.email.clone())
    } else {
        full.to_string()
    }
}

fn status_label(s: AccountStatus) -> &'static str {
    match s {
        AccountStatus::Pending => "Waiting for approval",
        AccountStatus::Active => "Active",
        AccountStatus::Disabled => "Disabled",
    }
}

/// The roles `me` may grant, `selected` chosen.
fn grantable(me: AccountType, selected: AccountType) -> Vec<RoleOpt> {
    AccountType::ALL
        .into_iter()
        .filter(|t| me.can_manage(*t))
        .map(|t| RoleOpt {
            value: t.as_str(),
            label: role_label(t),
            selected: t == selected,
        })
        .collect()
}

fn row(me: &PageUser, u: &User) -> Row {
    let my_role = me.0.role();
    let manageable = my_role.can_manage(u.account_type);
    Row {
        id: u.id,
        name: name_of(u),
        login: u.username.clone().unwrap_or_else(|| u.email.clone()),
        role: role_label(u.account_type),
        role_value: u.account_type.as_str(),
        status: status_label(u.status),
        created: ist_text(u.created_at),
        manageable,
        locked_reason: if manageable {
            String::new()
        } else {
            "Only a master admin can change a master admin's account.".into()
        },
        is_self: u.id == me.0.user.id,
        disabled: u.status == AccountStatus::Disabled,
        roles: grantable(my_role, u.account_type),
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(super) struct CreateForm {
    email: String,
    first_name: String,
    last_name: String,
    account_type: String,
    password: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct UsersQuery {
    done: Option<String>,
}

async fn view(
    state: &AppState,
    user: &PageUser,
    notice: Option<String>,
    error: Option<String>,
    form: CreateForm,
) -> Result<UsersPage, PageError> {
    let all = users::list(state, &user.actor()).await?;
    let (pending, others): (Vec<&User>, Vec<&User>) =
        all.iter().partition(|u| u.status == AccountStatus::Pending);
    let chosen = form.account_type.parse().unwrap_or(AccountType::Telecaller);
    Ok(UsersPage {
        l: Layout::new("Users", Some(user)),
        pending: pending.into_iter().map(|u| row(user, u)).collect(),
        others: others.into_iter().map(|u| row(user, u)).collect(),
        create_roles: grantable(user.0.role(), chosen),
        notice,
        error,
        form,
    })
}

fn notice_for(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "approved" => "Account approved.",
            "role" => "Role changed; that user's sessions have ended.",
            "disabled" => "Account disabled; its sessions have ended.",
            "enabled" => "Account enabled again.",
            _ => return None,
        }
        .to_string(),
    )
}

/// `GET /users`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<UsersQuery>,
) -> PageResult {
    require(&user, Capability::ManageUsers, "manage users")?;
    let notice = notice_for(q.done.as_deref());
    let v = view(&state, &user, notice, None, CreateForm::default()).await?;
    Ok(render(StatusCode::OK, &v))
}

/// The users page again with `error` (and its status) after a refused post.
async fn refused(
    state: &AppState,
    user: &PageUser,
    e: crate::service::ServiceError,
    form: CreateForm,
) -> PageResult {
    let (status, message) = refusal(e)?;
    let v = view(state, user, None, Some(message), form).await?;
    Ok(render(status, &v))
}

fn user_id(text: &str) -> Result<Uuid, PageError> {
    text.parse().map_err(|_| PageError::NotFound)
}

/// `POST /users`: a new active account; without a password one is
/// generated and shown once.
pub(super) async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(f): Form<CreateForm>,
) -> PageResult {
    require(&user, Capability::ManageUsers, "manage users")?;
    let new = NewAccount {
        email: f.email.clone(),
        password: Some(f.password.clone()).filter(|p| !p.is_empty()),
        first_name: f.first_name.clone(),
        last_name: f.last_name.clone(),
        account_type: f.account_type.clone(),
    };
    match users::create(&state, &user.actor(), new).await {
        Ok((created, Some(password))) => Ok(render(
            StatusCode::OK,
            &PasswordPage {
                l: Layout::new("Account created", Some(&user)),
                heading: "Account created",
                who: format!("{} ({})", name_of(&created), created.email),
                password,
            },
        )),
        Ok((_, None)) => Ok(see_other("/users?done=created")),
        Err(e) => refused(&state, &user, e, f).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RoleForm {
    account_type: String,
}

/// `POST /users/{id}/approve`: approves, granting the role named in the
/// form (the account's requested role unless another was chosen).
pub(super) async fn approve(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(f): Form<RoleForm>,
) -> PageResult {
    require(&user, Capability::ManageUsers, "manage users")?;
    let id = user_id(&id)?;
    let actor = user.actor();
    if !f.account_type.is_empty() {
        let target = users::get(&state, &actor, id).await?;
        if target.account_type.as_str() != f.account_type {
            let edit = AccountEdit {
                account_type: Some(f.account_type.clone()),
                ..Default::default()
            };
            if let Err(e) = users::update(&state, &actor, id, edit).await {
                return refused(&state, &user, e, CreateForm::default()).await;
            }
        }
    }
    match users::approve(&state, &actor, id).await {
        Ok(_) => Ok(see_other("/users?done=approved")),
        Err(e) => refused(&state, &user, e, CreateForm::default()).await,
    }
}

/// `POST /users/{id}/role`.
pub(super) async fn change_role(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(f): Form<RoleForm>,
) -> PageResult {
    require(&user, Capability::ManageUsers, "manage users")?;
    let id = user_id(&id)?;
    let edit = AccountEdit {
        account_type: Some(f.account_type),
        ..Default::default()
    };
    match users::update(&state, &user.actor(), id, edit).await {
        Ok(_) => Ok(see_other("/users?done=role")),
        Err(e) => refused(&state, &user, e, CreateForm::default()).await,
    }
}

/// `POST /users/{id}/disable`.
pub(super) async fn disable(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    require(&user, Capability::ManageUsers, "manage users")?;
    let id = user_id(&id)?;
    match users::disable(&state, &user.actor(), id).await {
        Ok(_) => Ok(see_other("/users?done=disabled")),
        Err(e) => refused(&state, &user, e, CreateForm::default()).await,
    }
}

/// `POST /users/{id}/enable`: a disabled account becomes active again.
pub(super) async fn enable(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    require(&user, Capability::ManageUsers, "manage users")?;
    let id = user_id(&id)?;
    match users::approve(&state, &user.actor(), id).await {
        Ok(_) => Ok(see_other("/users?done=enabled")),
        Err(e) => refused(&state, &user, e, CreateForm::default()).await,
    }
}

/// `POST /users/{id}/reset-password`: the temporary password, shown once.
pub(super) async fn reset_password(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    require(&user, Capability::ManageUsers, "manage users")?;
    let id = user_id(&id)?;
    match users::reset_password(&state, &user.actor(), id).await {
        Ok((target, password)) => Ok(render(
            StatusCode::OK,
            &PasswordPage {
                l: Layout::new("Password reset", Some(&user)),
                heading: "Password reset",
                who: format!("{} ({})", name_of(&target), target.email),
                password,
            },
        )),
        Err(e) => refused(&state, &user, e, CreateForm::default()).await,
    }
}
