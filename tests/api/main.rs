//! The integration suite: the real application over HTTP, on SQLite and
//! on PostgreSQL.

mod helpers;

mod answer_check;

mod auth;
mod auth_throttle;
mod backups;
mod caddy;
mod calls;
mod calls_figures;
mod compat;
mod compat_bulk_import;
mod compat_import;
mod compat_library;
mod compat_more;
mod export;
mod export_caddy;
mod export_support;
mod exports_jobs;
mod exports_queue;
mod hardening;
mod http_basics;
mod import_file;
mod import_fixtures;
mod import_hostile;
mod import_jobs;
mod import_lock;
mod import_support;
mod import_undo;
mod layering;
mod lead_notes;
mod leads;
mod leads_bulk;
mod leads_masked;
mod leads_openapi;
mod leads_permissions;
mod metrics;
mod s3;
mod seed_import;
mod users;
mod web;
mod web_admin;
mod web_bulk;
mod web_desk;
mod web_imports;
