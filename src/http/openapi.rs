//! `GET /api/openapi.json`: an OpenAPI 3 document built from [`ROUTES`],
//! a table in code of every endpoint. The integration suite checks the
//! table against the router both ways (every listed method answers, every
//! other method of a listed path is 405, every `.route(` path in `src/http`
//! is listed), so the document cannot drift from the code. A table instead
//! of `utoipa`: no proc-macro dependency, and one place to read the API.

use serde_json::{Map, Value, json};

use crate::domain::Capability;
use crate::store::filter::LEAD_COLUMNS;

/// One endpoint: what the document says about it.
#[derive(Debug, Clone, Copy)]
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
    /// Schema name of the JSON body, if any.
    pub request: Option<&'static str>,
    /// Schema name of the success answer (`File` for a download).
    pub response: &'static str,
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
];

const fn route(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    capability: Option<Capability>,
    request: Option<&'static str>,
    response: &'static str,
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
    }
}

const fn public(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    request: Option<&'static str>,
    response: &'static str,
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

use Capability::*;

/// Every endpoint of Pulse.
pub const ROUTES: &[RouteDoc] = &[
    public("GET", "/healthz", "Liveness", None, "Health"),
    public(
        "GET",
        "/readyz",
        "Readiness (database reachable)",
        None,
        "Health",
    ),
    public("GET", "/api/openapi.json", "This document", None, "OpenApi"),
    route(
        "GET",
        "/metrics",
        "Prometheus metrics (Bearer PULSE_METRICS_TOKEN; without a token on PULSE_METRICS_LISTEN)",
        None,
        None,
        "Metrics",
    ),
    public(
        "POST",
        "/api/auth/login",
        "Sign in with e-mail or user name",
        Some("Login"),
        "Session",
    ),
    public(
        "POST",
        "/api/auth/register",
        "Self-register (pending approval)",
        Some("Register"),
        "UserCreated",
    ),
    route(
        "GET",
        "/api/auth/me",
        "The signed-in user",
        None,
        None,
        "User",
    ),
    route(
        "POST",
        "/api/auth/logout",
        "End this session",
        None,
        None,
        "Message",
    ),
    route(
        "POST",
        "/api/auth/change-password",
        "Change one's password",
        None,
        Some("ChangePassword"),
        "Message",
    ),
    route(
        "GET",
        "/api/users",
        "List users",
        Some(ManageUsers),
        None,
        "UserList",
    ),
    route(
        "POST",
        "/api/users",
        "Create a user",
        Some(ManageUsers),
        Some("NewUser"),
        "UserCreated",
    ),
    route(
        "GET",
        "/api/users/{id}",
        "One user",
        Some(ManageUsers),
        None,
        "User",
    ),
    route(
        "PATCH",
        "/api/users/{id}",
        "Change role, status or name",
        Some(ManageUsers),
        Some("UserChange"),
        "User",
    ),
    route(
        "POST",
        "/api/users/{id}/approve",
        "Approve a pending user",
        Some(ManageUsers),
        None,
        "User",
    ),
    route(
        "POST",
        "/api/users/{id}/disable",
        "Disable a user (ends sessions)",
        Some(ManageUsers),
        None,
        "User",
    ),
    route(
        "POST",
        "/api/users/{id}/reset-password",
        "Reset a password",
        Some(ManageUsers),
        None,
        "UserCreated",
    ),
    with_query(
        route(
            "GET",
            "/api/audit",
            "The audit log, newest first",
            Some(ReadAudit),
            None,
            "AuditList",
        ),
        &["action", "limit"],
    ),
    with_query(
        route(
            "GET",
            "/api/driver-onboarding/leads",
            "Leads, filtered and paginated",
            Some(ReadLeads),
            None,
            "LeadPage",
        ),
        LIST,
    ),
    route(
        "POST",
        "/api/driver-onboarding/leads",
        "Create a lead (409 on a duplicate phone)",
        Some(EditLeads),
        Some("LeadInput"),
        "Lead",
    ),
    route(
        "POST",
        "/api/driver-onboarding/create-lead",
        "Create a lead (alias)",
        Some(EditLeads),
        Some("LeadInput"),
        "Lead",
    ),
    route(
        "GET",
        "/api/driver-onboarding/leads/{id}",
        "One lead",
        Some(ReadLeads),
        None,
        "Lead",
    ),
    route(
        "PATCH",
        "/api/driver-onboarding/leads/{id}",
        "Change a lead (pipeline rules apply)",
        Some(EditLeads),
        Some("LeadPatch"),
        "Lead",
    ),
    route(
        "DELETE",
        "/api/driver-onboarding/leads/{id}",
        "Delete a lead",
        Some(DeleteLeads),
        None,
        "Deleted",
    ),
    route(
        "PATCH",
        "/api/driver-onboarding/bulk-assign",
        "Assign leads to a telecaller",
        Some(AssignLeads),
        Some("BulkAssign"),
        "BulkResult",
    ),
    route(
        "POST",
        "/api/driver-onboarding/leads/{id}/unassign",
        "Remove a lead's telecaller",
        Some(AssignLeads),
        None,
        "Lead",
    ),
    route(
        "PATCH",
        "/api/driver-onboarding/reassign-date",
        "Move assigned leads to another day",
        Some(AssignLeads),
        Some("ReassignDate"),
        "BulkResult",
    ),
    route(
        "PATCH",
        "/api/driver-onboarding/leads/bulk-update-status",
        "Set the status of many leads",
        Some(EditLeads),
        Some("BulkStatus"),
        "BulkResult",
    ),
    route(
        "POST",
        "/api/driver-onboarding/leads/bulk-delete",
        "Delete many leads (audited)",
        Some(DeleteLeads),
        Some("LeadIds"),
        "BulkDeleteResult",
    ),
    route(
        "POST",
        "/api/driver-onboarding/leads/{id}/call-done",
        "Record a call now",
        Some(EditLeads),
        None,
        "Lead",
    ),
    route(
        "POST",
        "/api/driver-onboarding/leads/{id}/remarks",
        "Add a remark",
        Some(EditLeads),
        Some("Remark"),
        "Remarks",
    ),
    route(
        "GET",
        "/api/driver-onboarding/leads/{id}/remarks",
        "A lead's remarks",
        Some(ReadLeads),
        None,
        "Remarks",
    ),
    with_query(
        route(
            "GET",
            "/api/driver-onboarding/status-summary",
            "Counts per stage and status",
            Some(ReadLeads),
            None,
            "StatusSummary",
        ),
        FILTER,
    ),
    route(
        "GET",
        "/api/driver-onboarding/sources",
        "Sources with lead counts",
        Some(ReadLeads),
        None,
        "Sources",
    ),
    route(
        "POST",
        "/api/driver-onboarding/sources/merge",
        "Rename sources into one",
        Some(MergeSources),
        Some("MergeSources"),
        "Merged",
    ),
    with_query(
        route(
            "GET",
            "/api/driver-onboarding/telecaller-summary",
            "A telecaller's counts",
            Some(TelecallerDesk),
            None,
            "TelecallerSummary",
        ),
        &["telecaller"],
    ),
    with_query(
        route(
            "GET",
            "/api/driver-onboarding/telecaller-desk",
            "Today's leads, callbacks due, overdue",
            Some(TelecallerDesk),
            None,
            "TelecallerDesk",
        ),
        &["telecaller"],
    ),
    route(
        "POST",
        "/api/driver-onboarding/bulk-export",
        "Stream an xlsx or csv export",
        Some(Export),
        Some("ExportRequest"),
        "File",
    ),
    with_query(
        route(
            "GET",
            "/api/driver-onboarding/bulk-export",
            "Stream an export (query string)",
            Some(Export),
            None,
            "File",
        ),
        EXPORT,
    ),
    route(
        "POST",
        "/api/driver-onboarding/batch-export-zip",
        "Stream a zip of exports",
        Some(Export),
        Some("ExportRequest"),
        "File",
    ),
    route(
        "POST",
        "/api/exports",
        "Queue a background export job (202; 429 per user, 503 queue full)",
        Some(Export),
        Some("ExportJobRequest"),
        "ExportJob",
    ),
    with_query(
        route(
            "GET",
            "/api/exports",
            "Export job history, newest first (every user's for master_admin)",
            Some(Export),
            None,
            "ExportJobList",
        ),
        &["limit"],
    ),
    route(
        "GET",
        "/api/exports/{id}",
        "One export job: status, progress, download URL",
        Some(Export),
        None,
        "ExportJob",
    ),
    route(
        "POST",
        "/api/exports/{id}/cancel",
        "Cancel a queued or running export job",
        Some(Export),
        None,
        "ExportJob",
    ),
    route(
        "GET",
        "/api/exports/{id}/download",
        "A finished job's file (Range, If-Range, Digest, ETag)",
        Some(Export),
        None,
        "File",
    ),
    route(
        "GET",
        "/api/exports/{id}/events",
        "Server-sent progress events, ending with the final state",
        Some(Export),
        None,
        "EventStream",
    ),
    route(
        "POST",
        "/api/driver-onboarding/import-leads",
        "Import leads from an xlsx, csv or JSON lines file (multipart); 202 with an ImportJob above PULSE_IMPORT_JOB_THRESHOLD",
        Some(Import),
        Some("ImportForm"),
        "ImportReport",
    ),
    route(
        "GET",
        "/api/driver-onboarding/import-leads/{id}/report.csv",
        "Download an import's row report as CSV (a synchronous import's or a done job's)",
        Some(Import),
        None,
        "File",
    ),
    route(
        "GET",
        "/api/driver-onboarding/import-leads/jobs/{id}",
        "One import job (uploads above PULSE_IMPORT_JOB_THRESHOLD): status, rows read, counts",
        Some(Import),
        None,
        "ImportJob",
    ),
    route(
        "DELETE",
        "/api/driver-onboarding/import-leads/jobs/{id}",
        "Cancel a queued or running import job (nothing is written)",
        Some(Import),
        None,
        "ImportJob",
    ),
    route(
        "POST",
        "/api/driver-onboarding/backups",
        "Queue a backup of every lead (full fidelity, gzipped JSON lines): 202 with the job to poll; 409 while one is queued or running",
        Some(Backups),
        None,
        "BackupJob",
    ),
    route(
        "GET",
        "/api/driver-onboarding/backups/jobs",
        "Backup jobs, newest first",
        Some(Backups),
        None,
        "BackupJobList",
    ),
    route(
        "GET",
        "/api/driver-onboarding/backups/jobs/{id}",
        "One backup job: status, progress (rows_done/rows_total), the backup once done",
        Some(Backups),
        None,
        "BackupJob",
    ),
    route(
        "GET",
        "/api/driver-onboarding/backups",
        "Stored backups, newest first",
        Some(Backups),
        None,
        "BackupList",
    ),
    route(
        "DELETE",
        "/api/driver-onboarding/backups/{id}",
        "Delete a backup",
        Some(Backups),
        None,
        "Message",
    ),
    route(
        "GET",
        "/api/driver-onboarding/backups/{id}/download",
        "A backup's file (application/gzip)",
        Some(Backups),
        None,
        "File",
    ),
    route(
        "POST",
        "/api/driver-onboarding/backups/{id}/restore",
        "Replace every lead with the backup's (an automatic backup is taken first)",
        Some(Backups),
        None,
        "Restored",
    ),
];

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn operation(r: &RouteDoc) -> Value {
    let mut params: Vec<Value> = r
        .query
        .iter()
        .map(|q| json!({ "name": q, "in": "query", "required": false, "schema": {"type": "string"} }))
        .collect();
    if r.path.contains("{id}") {
        params.push(json!({ "name": "id", "in": "path", "required": true,
                            "schema": {"type": "string", "format": "uuid"} }));
    }
    let ok = if r.response == "File" {
        json!({ "description": "the file, streamed",
                "content": { "application/octet-stream": { "schema": {"type": "string", "format": "binary"} } } })
    } else if r.response == "Metrics" {
        json!({ "description": "Prometheus text exposition format 0.0.4",
                "content": { "text/plain": { "schema": {"type": "string"} } } })
    } else if r.response == "EventStream" {
        json!({ "description": "`progress` events with the job's JSON, then one `end` event",
                "content": { "text/event-stream": { "schema": {"type": "string"} } } })
    } else {
        json!({ "description": "success",
                "content": { "application/json": { "schema": schema_ref(r.response) } } })
    };
    let code = if r.summary.starts_with("Create a lead") {
        "201"
    } else if r.summary.starts_with("Queue") {
        "202"
    } else {
        "200"
    };
    let mut responses = Map::new();
    responses.insert(code.into(), ok);
    let error = json!({ "description": "error", "content": { "application/json": { "schema": schema_ref("Error") } } });
    responses.insert("4XX".into(), error);
    let mut op = json!({
        "summary": r.summary,
        "operationId": format!("{} {}", r.method, r.path),
        "parameters": params,
        "responses": responses,
    });
    if let Some(body) = r.request {
        // The import takes a file upload; every other body is JSON.
        let media = if body == "ImportForm" {
            "multipart/form-data"
        } else {
            "application/json"
        };
        op["requestBody"] = json!({ "required": true,
            "content": { media: { "schema": schema_ref(body) } } });
    }
    if r.auth {
        op["security"] = json!([{ "bearer": [] }, { "cookie": [] }]);
    } else {
        op["security"] = json!([]);
    }
    if let Some(cap) = r.capability {
        let roles: Vec<&str> = crate::domain::AccountType::ALL
            .iter()
            .filter(|t| t.can(cap))
            .map(|t| t.as_str())
            .collect();
        op["x-required-capability"] = json!(format!("{cap:?}"));
        op["x-roles"] = json!(roles);
    }
    op
}

/// The `Lead` schema, from the column list every backend maps.
fn lead_schema() -> Value {
    const DATES: &[&str] = &["end_date", "assigned_date", "callback_date", "import_date"];
    const INSTANTS: &[&str] = &["last_called", "created_at", "updated_at"];
    let mut props = Map::new();
    for col in LEAD_COLUMNS.split(',').map(str::trim) {
        let schema = match col {
            "id" => json!({"type": "string", "format": "uuid"}),
            "remarks_history" | "status_history" => {
                json!({"type": "array", "items": {"type": "object"}})
            }
            c if DATES.contains(&c) => {
                json!({"type": "string", "format": "date", "nullable": true})
            }
            c if INSTANTS.contains(&c) => {
                json!({"type": "string", "format": "date-time", "nullable": c == "last_called"})
            }
            "name" | "phone_number" | "stage" | "status" => json!({"type": "string"}),
            _ => json!({"type": "string", "nullable": true}),
        };
        props.insert(col.to_string(), schema);
    }
    json!({ "type": "object", "properties": props })
}

fn object(fields: &[(&str, Value)]) -> Value {
    let props: Map<String, Value> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    json!({ "type": "object", "properties": props })
}

fn schemas() -> Value {
    let s = || json!({"type": "string"});
    let n = || json!({"type": "integer"});
    let ids = || json!({"type": "array", "items": {"type": "string"}});
    let mut m = Map::new();
    m.insert("Lead".into(), lead_schema());
    m.insert(
        "LeadInput".into(),
        json!({"allOf": [schema_ref("Lead")], "required": ["name", "phone_number"],
        "description": "a lead's fields; only name and phone_number are required"}),
    );
    m.insert(
        "LeadPatch".into(),
        json!({"allOf": [schema_ref("Lead")],
        "description": "any subset of a lead's fields; null clears one"}),
    );
    m.insert(
        "LeadPage".into(),
        object(&[
            (
                "leads",
                json!({"type": "array", "items": schema_ref("Lead")}),
            ),
            ("total", n()),
            ("page", n()),
            ("limit", n()),
            ("total_pages", n()),
        ]),
    );
    m.insert(
        "BulkResult".into(),
        object(&[
            ("updated", n()),
            ("unchanged", n()),
            ("not_found", ids()),
            ("not_allowed", ids()),
        ]),
    );
    m.insert(
        "BulkDeleteResult".into(),
        object(&[
            ("deleted", n()),
            ("not_found", ids()),
            ("not_allowed", ids()),
        ]),
    );
    m.insert("LeadIds".into(), object(&[("lead_ids", ids())]));
    m.insert(
        "BulkAssign".into(),
        object(&[
            ("lead_ids", ids()),
            ("telecaller", s()),
            ("assigned_date", s()),
        ]),
    );
    m.insert(
        "ReassignDate".into(),
        object(&[("lead_ids", ids()), ("new_date", s())]),
    );
    m.insert(
        "BulkStatus".into(),
        object(&[("lead_ids", ids()), ("status", s())]),
    );
    m.insert("Remark".into(), object(&[("remark", s())]));
    m.insert(
        "Remarks".into(),
        object(&[
            ("remarks", s()),
            ("remarks_history", json!({"type": "array"})),
        ]),
    );
    m.insert(
        "StatusSummary".into(),
        object(&[
            ("total_leads", n()),
            ("summary", json!({"type": "object"})),
            ("stage_totals", json!({"type": "object"})),
        ]),
    );
    m.insert(
        "Sources".into(),
        object(&[(
            "sources",
            json!({"type": "array", "items": object(&[("source", s()), ("count", n())])}),
        )]),
    );
    m.insert(
        "MergeSources".into(),
        object(&[("from", ids()), ("to", s())]),
    );
    m.insert("Merged".into(), object(&[("merged", n()), ("to", s())]));
    m.insert("Deleted".into(), object(&[("deleted", n()), ("id", s())]));
    m.insert(
        "TelecallerSummary".into(),
        object(&[
            ("telecaller", s()),
            ("total_leads", n()),
            ("summary", json!({"type": "object"})),
            ("stage_totals", json!({"type": "object"})),
            ("today", n()),
            ("callbacks_due", n()),
            ("overdue", n()),
        ]),
    );
    m.insert(
        "TelecallerDesk".into(),
        object(&[
            ("telecaller", s()),
            ("date", s()),
            ("today", json!({"type": "object"})),
            ("callbacks_due", json!({"type": "object"})),
            ("overdue", json!({"type": "object"})),
        ]),
    );
    m.insert("Error".into(), object(&[("detail", s())]));
    m.insert("Login".into(), object(&[("email", s()), ("password", s())]));
    m.insert(
        "Register".into(),
        object(&[
            ("email", s()),
            ("password", s()),
            ("first_name", s()),
            ("last_name", s()),
        ]),
    );
    m.insert(
        "Session".into(),
        object(&[("token", s()), ("user", schema_ref("User"))]),
    );
    m.insert(
        "ChangePassword".into(),
        object(&[("old_password", s()), ("new_password", s())]),
    );
    m.insert(
        "User".into(),
        object(&[
            ("id", s()),
            ("email", s()),
            ("username", s()),
            ("first_name", s()),
            ("last_name", s()),
            ("account_type", s()),
            ("status", s()),
            ("created_at", s()),
        ]),
    );
    m.insert(
        "UserList".into(),
        json!({"type": "array", "items": schema_ref("User")}),
    );
    m.insert(
        "NewUser".into(),
        object(&[
            ("email", s()),
            ("password", s()),
            ("first_name", s()),
            ("last_name", s()),
            ("account_type", s()),
        ]),
    );
    m.insert(
        "UserChange".into(),
        object(&[
            ("account_type", s()),
            ("first_name", s()),
            ("last_name", s()),
        ]),
    );
    m.insert(
        "UserCreated".into(),
        object(&[("user", schema_ref("User")), ("temporary_password", s())]),
    );
    m.insert("AuditList".into(), json!({"type": "array", "items": object(&[("id", n()), ("at", s()), ("actor_id", s()),
        ("actor_email", s()), ("action", s()), ("details", json!({"type": "object"})), ("request_id", s())])}));
    m.insert(
        "ExportRequest".into(),
        object(&[
            ("format", s()),
            ("columns", ids()),
            ("search", s()),
            ("stage", s()),
            ("status", s()),
            ("source", s()),
            ("telecaller", s()),
            ("start_date", s()),
            ("end_date", s()),
            ("unassigned_only", json!({"type": "boolean"})),
        ]),
    );
    m.insert(
        "ExportJobRequest".into(),
        object(&[
            (
                "filters",
                json!({"type": "object", "description": "the leads list's filters"}),
            ),
            ("columns", ids()),
            ("format", json!({"type": "string", "enum": ["xlsx", "csv"]})),
        ]),
    );
    let when = || json!({"type": "string", "format": "date-time", "nullable": true});
    m.insert(
        "ExportJob".into(),
        object(&[
            ("id", json!({"type": "string", "format": "uuid"})),
            (
                "status",
                json!({"type": "string", "enum": ["queued", "running", "done", "failed", "cancelled", "expired"]}),
            ),
            ("rows_done", n()),
            ("rows_total", n()),
            ("bytes", n()),
            ("sha256", s()),
            ("error", s()),
            ("format", s()),
            ("columns", ids()),
            ("filters", json!({"type": "object"})),
            ("masked", json!({"type": "boolean"})),
            ("attempts", n()),
            ("max_attempts", n()),
            ("owner_id", s()),
            ("owner_email", s()),
            ("created_at", when()),
            ("started_at", when()),
            ("finished_at", when()),
            ("expires_at", when()),
            ("download_url", s()),
        ]),
    );
    m.insert(
        "ExportJobList".into(),
        object(&[(
            "jobs",
            json!({"type": "array", "items": schema_ref("ExportJob")}),
        )]),
    );
    m.insert(
        "ImportForm".into(),
        object(&[
            ("file", json!({"type": "string", "format": "binary"})),
            ("users", json!({"type": "string", "format": "binary"})),
            ("lead_source", s()),
            ("lead_date", json!({"type": "string", "format": "date"})),
            ("read_source_from_file", json!({"type": "boolean"})),
            (
                "duplicate_action",
                json!({"type": "string", "enum": ["skip", "replace", "preview"]}),
            ),
        ]),
    );
    m.insert(
        "ImportJob".into(),
        object(&[
            ("mode", s()),
            ("id", s()),
            ("import_id", s()),
            ("status", s()),
            ("file_name", s()),
            ("bytes", n()),
            ("sha256", s()),
            ("duplicate_action", s()),
            ("committed", json!({"type": "boolean"})),
            ("rows_done", n()),
            ("result", json!({"type": "object"})),
            ("error", s()),
            ("attempts", n()),
            ("url", s()),
            ("report_url", s()),
        ]),
    );
    m.insert(
        "ImportReport".into(),
        object(&[
            ("import_id", s()),
            ("file_name", s()),
            ("sha256", s()),
            ("format", s()),
            ("duplicate_action", s()),
            ("committed", json!({"type": "boolean"})),
            ("rows_read", n()),
            ("inserted", n()),
            ("updated", n()),
            ("unchanged", n()),
            ("skipped_duplicates", n()),
            ("rejected", n()),
            ("conflicts", n()),
            (
                "columns",
                json!({"type": "array", "items": {"type": "object"}}),
            ),
            (
                "sheets",
                json!({"type": "array", "items": {"type": "object"}}),
            ),
            ("report", json!({"type": "object"})),
        ]),
    );
    m.insert(
        "Backup".into(),
        object(&[
            ("id", s()),
            ("created_at", s()),
            ("kind", s()),
            ("leads", json!({"type": "integer"})),
            ("bytes", json!({"type": "integer"})),
            ("download_url", s()),
        ]),
    );
    m.insert(
        "BackupJob".into(),
        object(&[
            ("id", json!({"type": "string", "format": "uuid"})),
            ("kind", json!({"type": "string", "enum": ["backup"]})),
            (
                "status",
                json!({"type": "string", "enum": ["queued", "running", "done", "failed", "cancelled"]}),
            ),
            ("rows_done", n()),
            ("rows_total", n()),
            ("bytes", n()),
            ("sha256", s()),
            ("error", s()),
            ("attempts", n()),
            ("max_attempts", n()),
            ("owner_id", s()),
            ("created_at", when()),
            ("started_at", when()),
            ("finished_at", when()),
            ("url", s()),
            ("backup_id", s()),
            ("download_url", s()),
        ]),
    );
    m.insert(
        "BackupJobList".into(),
        object(&[(
            "jobs",
            json!({"type": "array", "items": schema_ref("BackupJob")}),
        )]),
    );
    m.insert(
        "BackupList".into(),
        object(&[(
            "backups",
            json!({"type": "array", "items": schema_ref("Backup")}),
        )]),
    );
    m.insert(
        "Restored".into(),
        object(&[
            ("backup_id", s()),
            ("restored", json!({"type": "integer"})),
            ("replaced", json!({"type": "integer"})),
            ("pre_restore_backup", schema_ref("Backup")),
        ]),
    );
    m.insert("Health".into(), json!({"type": "object"}));
    m.insert("Message".into(), json!({"type": "object"}));
    m.insert("OpenApi".into(), json!({"type": "object"}));
    Value::Object(m)
}

/// The whole OpenAPI 3 document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for r in ROUTES {
        let item = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        item[r.method.to_ascii_lowercase()] = operation(r);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Pulse",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Driver onboarding: leads, pipeline, streaming Excel export. Errors are {\"detail\": …}.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "cookie": { "type": "apiKey", "in": "cookie", "name": "pulse_session" },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_named_exists() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for r in ROUTES {
            for name in r.request.into_iter().chain([r.response]) {
                assert!(
                    name == "File"
                        || name == "EventStream"
                        || name == "Metrics"
                        || schemas.contains_key(name),
                    "{name} of {} {}",
                    r.method,
                    r.path
                );
            }
        }
        let text = doc.to_string();
        for (i, _) in text.match_indices("#/components/schemas/") {
            let name: String = text[i + 21..]
                .chars()
                .take_while(|c| c.is_alphanumeric())
                .collect();
            assert!(schemas.contains_key(&name), "dangling $ref {name}");
        }
    }

    #[test]
    fn no_route_is_listed_twice() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(
                seen.insert((r.method, r.path)),
                "{} {} twice",
                r.method,
                r.path
            );
        }
    }
}
