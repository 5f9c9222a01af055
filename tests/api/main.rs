//! The integration suite: the real application over HTTP, on SQLite and
//! on PostgreSQL.

mod helpers;

mod auth;
mod http_basics;
mod users;
