//! The route table: every endpoint, its capability, query parameters, and
//! the types of its request and answer bodies (their schemas are derived
//! from those types). The document is built from it.

use super::body::{Body, form, json, list, one};
use super::foreign::AllLeads;
use crate::domain::{Capability, Lead, LeadInput, LeadPatch};
use crate::http::routes::{
    Message, auth, backups, bulk_import, calls, compat_desk, compat_leads, compat_users, export,
    exports_jobs, health, import, leads, leads_bulk, leads_notes, leads_summary, users,
};
use crate::service::calls::{FigureReport, LeadView};
use crate::service::users::UserStats;
use crate::store::{AuditEntry, User};

/// One endpoint: what the document says about it.
#[derive(Clone, Copy)]
pub struct RouteDoc {
    /// `GET`, `POST`, `PATCH`, `DELETE`.
    pub method: &'static str,
    /// The axum path, `{id}` style.
    pub path: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Whether a bearer token or session cookie is needed.
    pub auth: bool,
    /// The capability checked (DESIGN §2), if any.
    pub capability: Option<Capability>,
    /// Query parameters.
    pub query: &'static [&'static str],
    /// The request body, if any.
    pub request: Option<Body>,
    /// The success answer.
    pub response: Body,
    /// Its status.
    pub status: u16,
    /// Other success answers (an import queued as a job: 202).
    pub also: &'static [(u16, Body)],
}

impl std::fmt::Debug for RouteDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

const FILTER: &[&str] = &[
    "search",
    "stage",
    "status",
    "source",
    "telecaller",
    "start_date",
    "end_date",
    "unassigned_only",
];
const LIST: &[&str] = &[
    "search",
    "stage",
    "status",
    "source",
    "telecaller",
    "start_date",
    "end_date",
    "unassigned_only",
    "page",
    "limit",
    "skip_pagination",
];
const EXPORT: &[&str] = &[
    "search",
    "stage",
    "status",
    "source",
    "telecaller",
    "start_date",
    "end_date",
    "unassigned_only",
    "format",
    "columns",
    "headers",
];

const fn route(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    capability: Option<Capability>,
    request: Option<Body>,
    response: Body,
) -> RouteDoc {
    RouteDoc {
        method,
        path,
        summary,
        auth: true,
        capability,
        query: &[],
        request,
        response,
        status: 200,
        also: &[],
    }
}

const fn public(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    request: Option<Body>,
    response: Body,
) -> RouteDoc {
    RouteDoc {
        auth: false,
        ..route(method, path, summary, None, request, response)
    }
}

const fn with_query(mut r: RouteDoc, query: &'static [&'static str]) -> RouteDoc {
    r.query = query;
    r
}

/// A success status other than 200.
const fn with_status(mut r: RouteDoc, status: u16) -> RouteDoc {
    r.status = status;
    r
}

/// Other success answers beside the main one.
const fn with_also(mut r: RouteDoc, also: &'static [(u16, Body)]) -> RouteDoc {
    r.also = also;
    r
}

use Capability::*;

/// Every endpoint of Pulse.
pub const ROUTES: &[RouteDoc] = &[
    public(
        "GET",
        "/healthz",
        "Liveness",
        None,
        json::<health::Health>(),
    ),
    public(
        "GET",
        "/api/maintenance-status",
        "Always not in maintenance (a stub for the original frontend)",
        None,
        json::<health::Maintenance>(),
    ),
    public(
        "GET",
        "/readyz",
        "Readiness (database reachable)",
        None,
        json::<health::Ready>(),
    ),
    public(
        "GET",
        "/api/openapi.json",
        "This document",
        None,
        Body::AnyJson,
    ),
    route(
        "GET",
        "/metrics",
        "Prometheus metrics (Bearer PULSE_METRICS_TOKEN; without a token on PULSE_METRICS_LISTEN)",
        None,
        None,
        Body::Metrics,
    ),
    public(
        "POST",
        "/api/auth/login",
        "Sign in with e-mail or user name",
        Some(json::<auth::LoginRequest>()),
        json::<auth::SignedIn>(),
    ),
    public(
        "POST",
        "/api/auth/register",
        "Self-register (pending approval)",
        Some(json::<auth::RegisterRequest>()),
        json::<auth::Registered>(),
    ),
    route(
        "GET",
        "/api/auth/me",
        "The signed-in user",
        None,
        None,
        json::<auth::SessionUser>(),
    ),
    route(
        "POST",
        "/api/auth/logout",
        "End this session",
        None,
        None,
        json::<Message>(),
    ),
    route(
        "POST",
        "/api/auth/change-password",
        "Change one's password",
        None,
        Some(json::<auth::ChangePasswordRequest>()),
        json::<auth::PasswordChanged>(),
    ),
    route(
        "GET",
        "/api/users",
        "List users",
        Some(ManageUsers),
        None,
        list::<User>(),
    ),
    with_status(
        route(
            "POST",
            "/api/users",
            "Create a user",
            Some(ManageUsers),
            Some(json::<users::CreateUser>()),
            json::<users::UserCreated>(),
        ),
        201,
    ),
    route(
        "GET",
        "/api/users/{id}",
        "One user",
        Some(ManageUsers),
        None,
        json::<User>(),
    ),
    route(
        "PATCH",
        "/api/users/{id}",
        "Change role, status or name",
        Some(ManageUsers),
        Some(json::<users::UpdateUser>()),
        json::<User>(),
    ),
    route(
        "POST",
        "/api/users/{id}/approve",
        "Approve a pending user",
        Some(ManageUsers),
        None,
        json::<User>(),
    ),
    route(
        "POST",
        "/api/users/{id}/disable",
        "Disable a user (ends sessions)",
        Some(ManageUsers),
        None,
        json::<User>(),
    ),
    route(
        "POST",
        "/api/users/{id}/reset-password",
        "Reset a password",
        Some(ManageUsers),
        None,
        json::<users::PasswordReset>(),
    ),
    route(
        "DELETE",
        "/api/users/{id}",
        "Remove a user (the account is disabled)",
        Some(ManageUsers),
        None,
        json::<users::Removed>(),
    ),
    route(
        "POST",
        "/api/users/create",
        "Create a user (the original's path)",
        Some(ManageUsers),
        Some(json::<compat_users::CreateBody>()),
        json::<compat_users::UserMessage>(),
    ),
    route(
        "POST",
        "/api/users/approve",
        "Approve a user ({user_id})",
        Some(ManageUsers),
        Some(json::<compat_users::UserIdBody>()),
        json::<compat_users::UserMessage>(),
    ),
    route(
        "POST",
        "/api/users/reject",
        "Refuse a pending user ({user_id}; the account is disabled)",
        Some(ManageUsers),
        Some(json::<compat_users::UserIdBody>()),
        json::<compat_users::UserMessage>(),
    ),
    route(
        "POST",
        "/api/users/{id}/generate-temp-password",
        "Give a user a temporary password",
        Some(ManageUsers),
        None,
        json::<compat_users::TemporaryPassword>(),
    ),
    route(
        "POST",
        "/api/users/change-account-type",
        "Change a user's role",
        Some(ManageUsers),
        Some(json::<compat_users::ChangeTypeBody>()),
        json::<compat_users::TypeChanged>(),
    ),
    route(
        "GET",
        "/api/users/telecallers",
        "Telecaller accounts with their names",
        Some(AssignLeads),
        None,
        list::<compat_users::Telecaller>(),
    ),
    route(
        "GET",
        "/api/stats",
        "Accounts by role and status",
        Some(ManageUsers),
        None,
        json::<UserStats>(),
    ),
    route(
        "GET",
        "/api/password-reset/requests",
        "Password-reset requests, newest first",
        Some(ManageUsers),
        None,
        list::<compat_users::ResetRequestItem>(),
    ),
    route(
        "POST",
        "/api/password-reset/request",
        "Ask an administrator for a password reset",
        None,
        None,
        json::<Message>(),
    ),
    route(
        "POST",
        "/api/password-reset/approve",
        "Approve a reset request with a temporary password",
        Some(ManageUsers),
        Some(json::<compat_users::ApproveResetBody>()),
        json::<compat_users::ResetApproved>(),
    ),
    public(
        "POST",
        "/api/auth/reset-with-temp-password",
        "Set a new password with a temporary one",
        Some(json::<compat_users::ResetBody>()),
        json::<Message>(),
    ),
    with_query(
        route(
            "GET",
            "/api/audit",
            "The audit log, newest first",
            Some(ReadAudit),
            None,
            list::<AuditEntry>(),
        ),
        &["action", "actor", "start_date", "end_date", "limit"],
    ),
    with_query(
        route(
            "GET",
            "/api/driver-onboarding/leads",
            "Leads, filtered and paginated; skip_pagination=true: every match as one streamed {total, leads}",
            Some(ReadLeads),
            None,
            Body::OneOf(&[one::<leads::ListAnswer>(), one::<AllLeads>()]),
        ),
        LIST,
    ),
    with_status(
        route(
            "POST",
            "/api/driver-onboarding/leads",
            "Create a lead (409 on a duplicate phone)",
            Some(EditLeads),
            Some(json::<LeadInput>()),
            json::<LeadView>(),
        ),
        201,
    ),
    route(
        "POST",
        "/api/driver-onboarding/create-lead",
        "Create a lead, the original's way: 200 {success, message, lead_id}; a duplicate phone is skipped ({success: false, duplicate: true}) or, with duplicate_action replace, the existing lead changed",
        Some(EditLeads),
        Some(json::<compat_leads::OriginalLeadBody>()),
        json::<compat_leads::CreateLeadAnswer>(),
    ),
    route(
        "POST",
        "/api/driver-onboarding/check-duplicate",
        "Whether a lead has this phone number (and which)",
        Some(ReadLeads),
        Some(json::<compat_leads::CheckDuplicateBody>()),
        json::<compat_leads::DuplicateAnswer>(),
    ),
    route(
        "GET",
        "/api/driver-onboarding/leads/{id}",
        "One lead",
        Some(ReadLeads),
        None,
        json::<LeadView>(),
    ),
    route(
        "PATCH",
        "/api/driver-onboarding/leads/{id}",
        "Change a lead (pipeline rules apply; null leaves a field alone, \"\" clears it, a sent stage is ignored)",
        Some(EditLeads),
        Some(json::<LeadPatch>()),
        json::<leads::Saved>(),
    ),
    route(
        "DELETE",
        "/api/driver-onboarding/leads/{id}",
        "Delete a lead",
        Some(DeleteLeads),
        None,
        json::<leads::Deleted>(),
    ),
    route(
        "PATCH",
        "/api/driver-onboarding/bulk-assign",
        "Assign leads to a telecaller",
        Some(AssignLeads),
        Some(json::<leads_bulk::AssignBody>()),
        json::<leads_bulk::BulkAnswer>(),
    ),
    route(
        "POST",
        "/api/driver-onboarding/leads/{id}/unassign",
        "Remove a lead's telecaller",
        Some(AssignLeads),
        None,
        json::<Lead>(),
    ),
    route(
        "PATCH",
        "/api/driver-onboarding/reassign-date",
        "Move assigned leads to another day",
        Some(AssignLeads),
        Some(json::<leads_bulk::ReassignBody>()),
        json::<leads_bulk::BulkAnswer>(),
    ),
    route(
        "PATCH",
        "/api/driver-onboarding/leads/bulk-update-status",
        "Set the status of many leads",
        Some(EditLeads),
        Some(json::<leads_bulk::StatusBody>()),
        json::<leads_bulk::BulkAnswer>(),
    ),
    route(
        "POST",
        "/api/driver-onboarding/leads/bulk-delete",
        "Delete many leads (audited)",
        Some(DeleteLeads),
        Some(json::<leads_bulk::DeleteBody>()),
        json::<leads_bulk::BulkDeleted>(),
    ),
    route(
        "POST",
        "/api/driver-onboarding/leads/{id}/call-done",
        "Record a call now (outcome: called)",
        Some(EditLeads),
        None,
        json::<calls::CallAnswer>(),
    ),
    route(
        "POST",
        "/api/driver-onboarding/leads/{id}/mark-called",
        "Record a call (outcome: called)",
        Some(EditLeads),
        None,
        json::<calls::CallAnswer>(),
    ),
    route(
        "POST",
        "/api/driver-onboarding/leads/{id}/mark-connected",
        "Record a call where the lead answered (outcome: connected)",
        Some(EditLeads),
        None,
        json::<calls::CallAnswer>(),
    ),
    route(
        "POST",
        "/api/driver-onboarding/leads/{id}/mark-no-response",
        "Record a call without answer: status RNR (outcome: no_response)",
        Some(EditLeads),
        None,
        json::<calls::CallAnswer>(),
    ),
    route(
        "PATCH",
        "/api/driver-onboarding/leads/{id}/status",
        "Change a lead's status alone (the original's status route)",
        Some(EditLeads),
        Some(json::<compat_leads::StatusOnly>()),
        json::<compat_leads::StatusSet>(),
    ),
    route(
        "POST",
        "/api/driver-onboarding/leads/{id}/sync-stage",
        "Move a lead in its stage's completion status to the next stage (the original's rules)",
        Some(EditLeads),
        None,
        json::<compat_leads::SyncAnswer>(),
    ),
    route(
        "GET",
        "/api/driver-onboarding/documents/status/{id}",
        "Uploaded documents of a lead: always none (a stub; Pulse keeps numbers, not files)",
        Some(ReadLeads),
        None,
        json::<compat_leads::DocumentStatus>(),
    ),
    route(
        "GET",
        "/api/driver-onboarding/leads/{id}/history",
        "A lead's status changes and calls",
        Some(ReadLeads),
        None,
        json::<calls::LeadHistory>(),
    ),
    with_query(
        route(
            "GET",
            "/api/telecaller-desk/figures",
            "Calls, connected, no response, status changes, conversions per telecaller and IST day",
            Some(TelecallerDesk),
            None,
            json::<FigureReport>(),
        ),
        &["telecaller", "start_date", "end_date"],
    ),
    route(
        "POST",
        "/api/driver-onboarding/leads/{id}/remarks",
        "Add a remark",
        Some(EditLeads),
        Some(json::<leads_notes::RemarkBody>()),
        json::<leads_notes::Remarks>(),
    ),
    route(
        "GET",
        "/api/driver-onboarding/leads/{id}/remarks",
        "A lead's remarks",
        Some(ReadLeads),
        None,
        json::<leads_notes::LeadRemarks>(),
    ),
    with_query(
        route(
            "GET",
            "/api/driver-onboarding/status-summary",
            "Counts per stage and status",
            Some(ReadLeads),
            None,
            json::<leads_summary::SummaryAnswer>(),
        ),
        FILTER,
    ),
    route(
        "GET",
        "/api/driver-onboarding/sources/merge-suggestions",
        "Spellings of one source that could be merged",
        Some(ReadLeads),
        None,
        json::<leads_summary::SuggestionsAnswer>(),
    ),
    route(
        "GET",
        "/api/driver-onboarding/no-response-leads",
        "Leads with a no response, grouped by who recorded the last",
        Some(ReadLeads),
        None,
        json::<compat_leads::NoResponseAnswer>(),
    ),
    route(
        "POST",
        "/api/driver-onboarding/{id}/remarks",
        "Add a remark (the original's path and body)",
        Some(EditLeads),
        Some(json::<compat_leads::RemarkBody>()),
        json::<compat_leads::RemarkAdded>(),
    ),
    route(
        "GET",
        "/api/driver-onboarding/{id}/remarks",
        "A lead's remarks, newest first (the original's path)",
        Some(ReadLeads),
        None,
        json::<compat_leads::RemarkList>(),
    ),
    route(
        "POST",
        "/api/telecallers/deassign-leads",
        "Remove many leads' telecaller",
        Some(AssignLeads),
        Some(json::<compat_leads::LeadIds>()),
        json::<leads_bulk::BulkAnswer>(),
    ),
    route(
        "PATCH",
        "/api/driver-onboarding/leads-bulk/status",
        "Set the status of many leads (alias)",
        Some(EditLeads),
        Some(json::<leads_bulk::StatusBody>()),
        json::<leads_bulk::BulkAnswer>(),
    ),
    with_query(
        route(
            "GET",
            "/api/telecaller-desk/leads",
            "A telecaller's leads: all, or for a date those assigned for it and the other callbacks due",
            Some(TelecallerDesk),
            None,
            json::<compat_desk::DeskLeadsAnswer>(),
        ),
        &["telecaller_email", "date"],
    ),
    with_query(
        route(
            "GET",
            "/api/telecaller-desk/call-statistics",
            "Every call per telecaller and IST day",
            Some(TelecallerDesk),
            None,
            json::<compat_desk::StatisticsAnswer>(),
        ),
        &["start_date", "end_date"],
    ),
    with_query(
        route(
            "GET",
            "/api/telecaller-desk/daily-summary",
            "Per active telecaller: leads, calls, no responses, a few statuses",
            Some(TelecallerDesk),
            None,
            json::<compat_desk::DailySummaryAnswer>(),
        ),
        &["start_date", "end_date"],
    ),
    with_query(
        route(
            "POST",
            "/api/telecaller-desk/export-call-logs",
            "A day's calls of a telecaller as an xlsx",
            Some(TelecallerDesk),
            None,
            Body::File,
        ),
        &["telecaller", "date"],
    ),
    route(
        "GET",
        "/api/driver-onboarding/sources",
        "Sources with lead counts",
        Some(ReadLeads),
        None,
        json::<leads_summary::SourcesAnswer>(),
    ),
    route(
        "POST",
        "/api/driver-onboarding/sources/merge",
        "Rename sources into one",
        Some(MergeSources),
        Some(json::<leads_summary::MergeBody>()),
        json::<leads_summary::MergeAnswer>(),
    ),
    with_query(
        route(
            "GET",
            "/api/driver-onboarding/telecaller-summary",
            "A telecaller's counts",
            Some(TelecallerDesk),
            None,
            json::<leads_summary::TelecallerSummaryAnswer>(),
        ),
        &["telecaller"],
    ),
    with_query(
        route(
            "GET",
            "/api/driver-onboarding/telecaller-desk",
            "A day's leads (default today, IST), callbacks due, overdue, all leads, the day's figures",
            Some(TelecallerDesk),
            None,
            json::<leads_summary::DeskAnswer>(),
        ),
        &["telecaller", "date"],
    ),
    with_query(
        route(
            "POST",
            "/api/driver-onboarding/bulk-export",
            "Stream an xlsx or csv export (header row: labels, or the original's field names with headers=fields or PULSE_EXPORT_HEADERS)",
            Some(Export),
            Some(json::<export::ExportBody>()),
            Body::File,
        ),
        &["headers"],
    ),
    with_query(
        route(
            "GET",
            "/api/driver-onboarding/bulk-export",
            "Stream an export (query string)",
            Some(Export),
            None,
            Body::File,
        ),
        EXPORT,
    ),
    with_query(
        route(
            "POST",
            "/api/driver-onboarding/batch-export-zip",
            "Stream a zip of exports",
            Some(Export),
            Some(json::<export::BatchBody>()),
            Body::File,
        ),
        &["headers"],
    ),
    with_status(
        route(
            "POST",
            "/api/exports",
            "Queue a background export job (202; 429 per user, 503 queue full)",
            Some(Export),
            Some(json::<export::ExportBody>()),
            json::<exports_jobs::ExportJobView>(),
        ),
        202,
    ),
    with_query(
        route(
            "GET",
            "/api/exports",
            "Export job history, newest first (every user's for master_admin)",
            Some(Export),
            None,
            json::<exports_jobs::ExportJobList>(),
        ),
        &["limit"],
    ),
    route(
        "GET",
        "/api/exports/{id}",
        "One export job: status, progress, download URL",
        Some(Export),
        None,
        json::<exports_jobs::ExportJobView>(),
    ),
    route(
        "POST",
        "/api/exports/{id}/cancel",
        "Cancel a queued or running export job",
        Some(Export),
        None,
        json::<exports_jobs::ExportJobView>(),
    ),
    route(
        "GET",
        "/api/exports/{id}/download",
        "A finished job's file (Range, If-Range, Digest, ETag)",
        Some(Export),
        None,
        Body::File,
    ),
    route(
        "GET",
        "/api/exports/{id}/events",
        "Server-sent progress events, ending with the final state",
        Some(Export),
        None,
        Body::EventStream,
    ),
    with_also(
        route(
            "POST",
            "/api/driver-onboarding/import-leads",
            "Import leads from an xlsx, csv or JSON lines file (multipart); 202 with an ImportJob above PULSE_IMPORT_JOB_THRESHOLD, except the original's request (read_source_from_file, no duplicate_action): 200 held open with whitespace until its job ends, after a pre-import backup",
            Some(Import),
            Some(form::<import::ImportFormFields>()),
            Body::OneOf(&[
                one::<import::ImportAnswer>(),
                one::<import::OriginalJobAnswer>(),
            ]),
        ),
        &[(202, json::<import::ImportJobView>())],
    ),
    route(
        "POST",
        "/api/driver-onboarding/bulk-import",
        "The original's Bulk Import from Excel (multipart file + column_mapping JSON {field: column index}): an automatic backup, then stored phones updated (mapped, non-empty cells), repeats within the file skipped, new phones inserted, telecallers resolved by name; held open with whitespace above PULSE_IMPORT_JOB_THRESHOLD",
        Some(Import),
        Some(form::<bulk_import::BulkImportFormFields>()),
        json::<bulk_import::BulkImportAnswer>(),
    ),
    route(
        "GET",
        "/api/driver-onboarding/import-leads/{id}/report.csv",
        "Download an import's row report as CSV (a synchronous import's or a done job's)",
        Some(Import),
        None,
        Body::File,
    ),
    route(
        "GET",
        "/api/driver-onboarding/import-leads/jobs/{id}",
        "One import job (uploads above PULSE_IMPORT_JOB_THRESHOLD): status, rows read, counts",
        Some(Import),
        None,
        json::<import::ImportJobView>(),
    ),
    route(
        "GET",
        "/api/driver-onboarding/import-leads/jobs/{id}/events",
        "Server-sent progress events of an import job, ending with the final state",
        Some(Import),
        None,
        Body::EventStream,
    ),
    route(
        "DELETE",
        "/api/driver-onboarding/import-leads/jobs/{id}",
        "Cancel a queued or running import job (nothing is written)",
        Some(Import),
        None,
        json::<import::ImportJobView>(),
    ),
    route(
        "GET",
        "/api/driver-onboarding/imports/{id}",
        "A committed import (its import_id): file, who, leads inserted and replaced, undone or not",
        Some(Import),
        None,
        json::<import::ImportRecordView>(),
    ),
    with_status(
        route(
            "POST",
            "/api/driver-onboarding/imports/{id}/undo",
            "Undo an import as a job (202): inserted leads removed, replaced leads restored; all or nothing, refused naming leads changed since",
            Some(Import),
            None,
            json::<import::UndoJobView>(),
        ),
        202,
    ),
    route(
        "GET",
        "/api/driver-onboarding/imports/undo-jobs/{id}",
        "One undo job: status, result {removed, restored}, or the error naming the changed leads",
        Some(Import),
        None,
        json::<import::UndoJobView>(),
    ),
    with_status(
        route(
            "POST",
            "/api/driver-onboarding/backups",
            "Queue a backup of every lead (full fidelity, gzipped JSON lines): 202 with the job to poll; 409 while one is queued or running",
            Some(Backups),
            None,
            json::<backups::BackupJobView>(),
        ),
        202,
    ),
    route(
        "GET",
        "/api/driver-onboarding/backups/jobs",
        "Backup jobs, newest first",
        Some(Backups),
        None,
        json::<backups::BackupJobList>(),
    ),
    route(
        "GET",
        "/api/driver-onboarding/backups/jobs/{id}",
        "One backup job: status, progress (rows_done/rows_total), the backup once done",
        Some(Backups),
        None,
        json::<backups::BackupJobView>(),
    ),
    route(
        "GET",
        "/api/driver-onboarding/backups",
        "Stored backups, newest first",
        Some(Backups),
        None,
        json::<backups::BackupList>(),
    ),
    route(
        "DELETE",
        "/api/driver-onboarding/backups/{id}",
        "Delete a backup",
        Some(Backups),
        None,
        json::<backups::BackupDeleted>(),
    ),
    route(
        "GET",
        "/api/driver-onboarding/backups/{id}/download",
        "A backup's file (application/gzip)",
        Some(Backups),
        None,
        Body::File,
    ),
    route(
        "POST",
        "/api/driver-onboarding/backups/{id}/restore",
        "Replace every lead with the backup's (an automatic backup is taken first)",
        Some(Backups),
        None,
        json::<backups::Restored>(),
    ),
    route(
        "GET",
        "/api/driver-onboarding/backup-library",
        "The original's backup library: every backup by file name, newest first",
        Some(Backups),
        None,
        json::<backups::LibraryList>(),
    ),
    route(
        "DELETE",
        "/api/driver-onboarding/backup-library/{filename}",
        "Delete a backup by its library name (400 not a library name, 404 unknown)",
        Some(Backups),
        None,
        json::<backups::LibraryDeleted>(),
    ),
    route(
        "GET",
        "/api/driver-onboarding/backup-library/{filename}/download",
        "A backup's file by its library name (application/gzip)",
        Some(Backups),
        None,
        Body::File,
    ),
    route(
        "POST",
        "/api/driver-onboarding/backup-library/{filename}/rollback",
        "Restore a backup by its library name (an automatic backup first); body {} or none",
        Some(Backups),
        None,
        json::<backups::LibraryRolledBack>(),
    ),
];
