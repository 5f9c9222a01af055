//! `pulse user …`: account administration from the shell (works before the
//! server has ever run: it migrates first).

use std::io::BufRead;

use anyhow::{Context, anyhow};
use clap::Subcommand;

use crate::app::open_store;
use crate::auth::password;
use crate::config::Config;
use crate::domain::{AccountStatus, AccountType, parse_email, parse_name};
use crate::store::{NewUser, Store, StoreError, UserChange};

/// `pulse user` subcommands.
#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an active user (`--password -` reads the password from standard input).
    Add {
        /// Login e-mail.
        #[arg(long)]
        email: String,
        /// Password, or `-` to read one line from standard input.
        #[arg(long)]
        password: String,
        /// master_admin, admin, ops_team, telecaller or standard.
        #[arg(long)]
        account_type: String,
        /// Given name.
        #[arg(long, default_value = "")]
        first_name: String,
        /// Family name.
        #[arg(long, default_value = "")]
        last_name: String,
    },
    /// List every user.
    List,
    /// Change a user's role (ends their sessions).
    SetRole {
        /// Login e-mail.
        #[arg(long)]
        email: String,
        /// The new role.
        #[arg(long)]
        account_type: String,
    },
    /// Disable a user (ends their sessions).
    Disable {
        /// Login e-mail.
        #[arg(long)]
        email: String,
    },
    /// Set a user's password (ends their sessions; `-` reads standard input).
    SetPassword {
        /// Login e-mail.
        #[arg(long)]
        email: String,
        /// Password, or `-` to read one line from standard input.
        #[arg(long)]
        password: String,
    },
}

fn read_password(arg: String) -> anyhow::Result<String> {
    let password = if arg == "-" {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        arg
    };
    password::check_policy(&password).map_err(|e| anyhow!("--password: {e}"))?;
    Ok(password)
}

fn account_type(text: &str) -> anyhow::Result<AccountType> {
    text.parse().map_err(|e| anyhow!("--account-type: {e}"))
}

async fn user_id(store: &dyn Store, email: &str) -> anyhow::Result<uuid::Uuid> {
    Ok(store
        .get_user_by_email(email)
        .await?
        .ok_or_else(|| anyhow!("--email: no user with e-mail {email:?}"))?
        .id)
}

/// Runs one `pulse user` subcommand.
pub async fn run(config: Config, cmd: UserCommand) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let store = store.as_ref();
    match cmd {
        UserCommand::Add {
            email,
            password,
            account_type: t,
            first_name,
            last_name,
        } => {
            let account_type = account_type(&t)?;
            // The API's rules: the same addresses and names are accepted.
            let email = parse_email(&email).map_err(|e| anyhow!("--email: {e}"))?;
            let first_name =
                parse_name("first_name", &first_name).map_err(|e| anyhow!("--first-name: {e}"))?;
            let last_name =
                parse_name("last_name", &last_name).map_err(|e| anyhow!("--last-name: {e}"))?;
            let password = read_password(password)?;
            let password_hash =
                tokio::task::spawn_blocking(move || password::hash_now(&password)).await?;
            let user = store
                .create_user(&NewUser {
                    email: email.clone(),
                    username: None,
                    first_name,
                    last_name,
                    account_type,
                    status: AccountStatus::Active,
                    password_hash,
                    temp_password: false,
                })
                .await
                .map_err(|e| match e {
                    StoreError::Conflict(_) => {
                        anyhow!("--email: a user with e-mail {email:?} already exists")
                    }
                    other => other.into(),
                })?;
            println!(
                "created {} ({}) id {}",
                user.email,
                user.account_type.as_str(),
                user.id
            );
        }
        UserCommand::List => {
            println!(
                "{:<36}  {:<32}  {:<12}  {:<8}  name",
                "id", "email", "account_type", "status"
            );
            for u in store.list_users().await? {
                println!(
                    "{:<36}  {:<32}  {:<12}  {:<8}  {} {}",
                    u.id,
                    u.email,
                    u.account_type.as_str(),
                    u.status.as_str(),
                    u.first_name,
                    u.last_name
                );
            }
        }
        UserCommand::SetRole {
            email,
            account_type: t,
        } => {
            let change = UserChange {
                account_type: Some(account_type(&t)?),
                ..Default::default()
            };
            store
                .update_user(user_id(store, &email).await?, &change)
                .await?;
            println!("{email} is now {t}; their sessions were ended");
        }
        UserCommand::Disable { email } => {
            let change = UserChange {
                status: Some(AccountStatus::Disabled),
                ..Default::default()
            };
            store
                .update_user(user_id(store, &email).await?, &change)
                .await?;
            println!("{email} is disabled; their sessions were ended");
        }
        UserCommand::SetPassword { email, password } => {
            let id = user_id(store, &email).await?;
            let password = read_password(password)?;
            let hash = tokio::task::spawn_blocking(move || password::hash_now(&password)).await?;
            let change = UserChange {
                password_hash: Some(hash),
                ..Default::default()
            };
            store.update_user(id, &change).await?;
            println!("password of {email} changed; their sessions were ended");
        }
    }
    Ok(())
}
