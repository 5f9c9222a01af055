//! Account administration for the roles that manage users. Who may manage
//! whom is [`AccountType::can_manage`]: an admin can neither create, change
//! nor reset a master_admin; nobody disables or demotes themselves, so the
//! last master_admin cannot vanish.

use serde_json::json;
use uuid::Uuid;

use super::auth::{check_password, email_taken, parse_account_type};
use super::{ServiceError, ServiceResult, Services, audit, require};
use crate::auth::password;
use crate::domain::{AccountStatus, AccountType, Actor, Capability, parse_email, parse_name};
use crate::store::{NewUser, ResetRequest, StoreError, User, UserChange};

/// Every account.
pub async fn list(svc: &Services, actor: &Actor) -> ServiceResult<Vec<User>> {
    require(actor, Capability::ManageUsers)?;
    Ok(svc.store.list_users().await?)
}

/// One account.
pub async fn get(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<User> {
    require(actor, Capability::ManageUsers)?;
    load(svc, id).await
}

async fn load(svc: &Services, id: Uuid) -> ServiceResult<User> {
    svc.store
        .get_user(id)
        .await?
        .ok_or_else(|| ServiceError::NotFound("user not found".into()))
}

/// Refused unless `actor` may manage accounts of type `target` (or grant it).
fn may_manage(actor: &Actor, target: AccountType) -> ServiceResult<()> {
    if actor.role.can_manage(target) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only a master_admin can manage master_admin accounts".into(),
        ))
    }
}

/// A new account, as asked for.
#[derive(Debug)]
pub struct NewAccount {
    /// Login e-mail.
    pub email: String,
    /// The password; a temporary one is generated when not given.
    pub password: Option<String>,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// The role.
    pub account_type: String,
}

/// Creates an active account (audited); returns it and the generated
/// temporary password, if one was.
pub async fn create(
    svc: &Services,
    actor: &Actor,
    new: NewAccount,
) -> ServiceResult<(User, Option<String>)> {
    require(actor, Capability::ManageUsers)?;
    let account_type = parse_account_type(&new.account_type)?;
    may_manage(actor, account_type)?;
    let email = parse_email(&new.email)?;
    let (password, generated) = match new.password {
        Some(p) => {
            check_password(&p)?;
            (p, false)
        }
        None => (password::generate(), true),
    };
    let first_name = parse_name("first_name", &new.first_name)?;
    let last_name = parse_name("last_name", &new.last_name)?;
    let user = svc
        .store
        .create_user(&NewUser {
            email,
            username: None,
            first_name,
            last_name,
            account_type,
            status: AccountStatus::Active,
            password_hash: svc.hasher.hash(&password).await?,
            temp_password: generated,
        })
        .await
        .map_err(email_taken)?;
    audit::record(
        svc,
        actor,
        "user.create",
        json!({ "user_id": user.id, "account_type": account_type }),
    )
    .await;
    Ok((user, generated.then_some(password)))
}

/// Applies `change` to the account `id` after the checks every change
/// shares (audited as `action`).
async fn change_user(
    svc: &Services,
    actor: &Actor,
    id: Uuid,
    change: UserChange,
    action: &str,
) -> ServiceResult<User> {
    require(actor, Capability::ManageUsers)?;
    let target = load(svc, id).await?;
    may_manage(actor, target.account_type)?;
    if let Some(new_type) = change.account_type {
        may_manage(actor, new_type)?;
    }
    let self_lockout = change.status == Some(AccountStatus::Disabled)
        || change
            .account_type
            .is_some_and(|t| t != target.account_type);
    if target.id == actor.id && self_lockout {
        return Err(ServiceError::Invalid(
            "you cannot disable your own account or change your own role".into(),
        ));
    }
    let user = svc
        .store
        .update_user(id, &change)
        .await?
        .ok_or_else(|| ServiceError::NotFound("user not found".into()))?;
    audit::record(
        svc,
        actor,
        action,
        json!({ "user_id": id, "account_type": change.account_type, "status": change.status }),
    )
    .await;
    Ok(user)
}

/// Changes of an account's role and names, as asked for.
#[derive(Debug, Default)]
pub struct AccountEdit {
    /// New role.
    pub account_type: Option<String>,
    /// New given name.
    pub first_name: Option<String>,
    /// New family name.
    pub last_name: Option<String>,
}

/// Changes an account's role or names.
pub async fn update(
    svc: &Services,
    actor: &Actor,
    id: Uuid,
    edit: AccountEdit,
) -> ServiceResult<User> {
    let change = UserChange {
        account_type: edit
            .account_type
            .as_deref()
            .map(parse_account_type)
            .transpose()?,
        first_name: edit
            .first_name
            .as_deref()
            .map(|v| parse_name("first_name", v))
            .transpose()?,
        last_name: edit
            .last_name
            .as_deref()
            .map(|v| parse_name("last_name", v))
            .transpose()?,
        ..Default::default()
    };
    change_user(svc, actor, id, change, "user.update").await
}

/// Approves (or re-enables) an account.
pub async fn approve(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<User> {
    let change = UserChange {
        status: Some(AccountStatus::Active),
        ..Default::default()
    };
    change_user(svc, actor, id, change, "user.approve").await
}

/// Disables an account; its sessions end.
pub async fn disable(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<User> {
    let change = UserChange {
        status: Some(AccountStatus::Disabled),
        ..Default::default()
    };
    change_user(svc, actor, id, change, "user.disable").await
}

/// Gives an account a generated temporary password (its sessions end);
/// returns it with the password.
pub async fn reset_password(
    svc: &Services,
    actor: &Actor,
    id: Uuid,
) -> ServiceResult<(User, String)> {
    require(actor, Capability::ManageUsers)?;
    let temporary = password::generate();
    let change = UserChange {
        password_hash: Some(svc.hasher.hash(&temporary).await?),
        temp_password: Some(true),
        ..Default::default()
    };
    let user = change_user(svc, actor, id, change, "user.reset_password").await?;
    Ok((user, temporary))
}

/// Refuses a pending account (the original's reject): it becomes disabled
/// (Pulse's vocabulary has no "rejected"); only a pending account can be
/// refused.
pub async fn reject(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<User> {
    require(actor, Capability::ManageUsers)?;
    let target = load(svc, id).await?;
    if target.status != AccountStatus::Pending {
        return Err(ServiceError::Malformed(format!(
            "the user is not pending (status {})",
            target.status.as_str()
        )));
    }
    let change = UserChange {
        status: Some(AccountStatus::Disabled),
        ..Default::default()
    };
    change_user(svc, actor, id, change, "user.reject").await
}

/// Changes an account's role and says what it was.
pub async fn change_account_type(
    svc: &Services,
    actor: &Actor,
    id: Uuid,
    new_type: &str,
) -> ServiceResult<(AccountType, User)> {
    require(actor, Capability::ManageUsers)?;
    let old = load(svc, id).await?.account_type;
    let edit = AccountEdit {
        account_type: Some(new_type.to_string()),
        ..Default::default()
    };
    Ok((old, update(svc, actor, id, edit).await?))
}

/// Counts of accounts by role and status, for the users page.
#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct UserStats {
    /// Every account.
    pub total_users: usize,
    /// admin and master_admin accounts.
    pub admin_users: usize,
    /// standard accounts.
    pub standard_users: usize,
    /// ops_team accounts.
    pub ops_team_users: usize,
    /// telecaller accounts.
    pub telecaller_users: usize,
    /// Accounts waiting for approval.
    pub pending_users: usize,
    /// Disabled accounts.
    pub disabled_users: usize,
    /// Password-reset requests waiting, of the accounts the caller may manage.
    pub pending_password_resets: usize,
}

/// The users page's counts.
pub async fn stats(svc: &Services, actor: &Actor) -> ServiceResult<UserStats> {
    let all = list(svc, actor).await?;
    let mut s = UserStats {
        total_users: all.len(),
        pending_password_resets: reset_requests(svc, actor)
            .await?
            .iter()
            .filter(|r| r.status == PENDING)
            .count(),
        ..Default::default()
    };
    for u in &all {
        match u.account_type {
            AccountType::MasterAdmin | AccountType::Admin => s.admin_users += 1,
            AccountType::Standard => s.standard_users += 1,
            AccountType::OpsTeam => s.ops_team_users += 1,
            AccountType::Telecaller => s.telecaller_users += 1,
        }
        match u.status {
            AccountStatus::Pending => s.pending_users += 1,
            AccountStatus::Disabled => s.disabled_users += 1,
            AccountStatus::Active => {}
        }
    }
    Ok(s)
}

/// Every telecaller account (pending and disabled included, as the
/// original listed them), for the roles that assign leads or manage users.
pub async fn telecallers(svc: &Services, actor: &Actor) -> ServiceResult<Vec<User>> {
    if !actor.can(Capability::AssignLeads) {
        require(actor, Capability::ManageUsers)?;
    }
    let mut all = svc.store.list_users().await?;
    all.retain(|u| u.account_type == AccountType::Telecaller);
    Ok(all)
}

const PENDING: &str = "pending";

/// A signed-in user asks for a password reset (the original's forgot-password
/// flow); an administrator answers it with [`approve_reset`]. One pending
/// request per account: a second is a 400, as in the original.
pub async fn request_reset(svc: &Services, actor: &Actor) -> ServiceResult<ResetRequest> {
    let request = svc
        .store
        .create_reset_request(actor.id)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                ServiceError::Malformed("a password reset request is already pending".into())
            }
            other => other.into(),
        })?;
    audit::record(
        svc,
        actor,
        "user.reset_request",
        json!({ "request_id": request.id }),
    )
    .await;
    Ok(request)
}

/// The reset requests, newest first, of the accounts the caller may manage
/// (an admin does not see a master_admin's, DESIGN §2).
pub async fn reset_requests(svc: &Services, actor: &Actor) -> ServiceResult<Vec<ResetRequest>> {
    require(actor, Capability::ManageUsers)?;
    let mut all = svc.store.list_reset_requests().await?;
    all.retain(|r| actor.role.can_manage(r.account_type));
    Ok(all)
}

/// Approves a pending reset request: the account gets a generated temporary
/// password (its sessions end, [`reset_password`]), returned once; the
/// request is closed first, so two approvals cannot both hand one out.
pub async fn approve_reset(
    svc: &Services,
    actor: &Actor,
    request_id: Uuid,
) -> ServiceResult<(ResetRequest, String)> {
    require(actor, Capability::ManageUsers)?;
    let request = svc
        .store
        .get_reset_request(request_id)
        .await?
        .filter(|r| actor.role.can_manage(r.account_type))
        .ok_or_else(|| ServiceError::NotFound("password reset request not found".into()))?;
    if !svc
        .store
        .close_reset_request(request.id, "approved", actor.id)
        .await?
    {
        return Err(ServiceError::Malformed(format!(
            "the request was already processed (status {})",
            request.status
        )));
    }
    let (_, temporary) = reset_password(svc, actor, request.user_id).await?;
    Ok((request, temporary))
}
