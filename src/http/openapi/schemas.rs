//! The named schemas of requests and answers (written by hand, mirroring
//! the handlers' JSON; a later change derives them from typed answers).

use serde_json::{Map, Value, json};

use super::operation::schema_ref;
use crate::store::filter::LEAD_COLUMNS;

/// The `Lead` schema, from the column list every backend maps.
fn lead_schema() -> Value {
    const DATES: &[&str] = &["end_date", "assigned_date", "callback_date", "import_date"];
    const INSTANTS: &[&str] = &["last_called", "created_at", "updated_at"];
    let mut props = Map::new();
    for col in LEAD_COLUMNS.names() {
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
    // attached from the call events (service::calls::LeadView)
    for (field, schema) in [
        (
            "calling_history",
            json!({"type": "array", "items": {"type": "object"}}),
        ),
        (
            "no_response_history",
            json!({"type": "array", "items": {"type": "object"}}),
        ),
        (
            "last_called_by",
            json!({"type": "string", "nullable": true}),
        ),
        (
            "last_no_response_by",
            json!({"type": "string", "nullable": true}),
        ),
        (
            "last_no_response",
            json!({"type": "string", "format": "date-time", "nullable": true}),
        ),
    ] {
        props.insert(field.to_string(), schema);
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

/// Every named schema.
pub(super) fn schemas() -> Value {
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
        "description": "any subset of a lead's fields; null or an absent key leaves a field alone, \"\" clears it; a sent stage is ignored (the stage follows the status)"}),
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
            ("success", json!({"type": "boolean"})),
            ("message", s()),
            ("modified_count", n()),
            ("updated_count", n()),
            ("deassigned_count", n()),
            ("updated", n()),
            ("unchanged", n()),
            ("not_found", ids()),
            ("not_allowed", ids()),
        ]),
    );
    m.insert(
        "BulkDeleteResult".into(),
        object(&[
            ("message", s()),
            ("deleted_count", n()),
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
            ("success", json!({"type": "boolean"})),
            ("total_leads", n()),
            ("summary", json!({"type": "object"})),
            ("stage_totals", json!({"type": "object"})),
            ("completed", json!({"type": "object"})),
        ]),
    );
    m.insert(
        "Sources".into(),
        object(&[
            ("success", json!({"type": "boolean"})),
            (
                "sources",
                json!({"type": "array", "items": object(&[("value", s()), ("label", s()),
                    ("source", s()), ("count", n())])}),
            ),
            ("count", n()),
        ]),
    );
    m.insert(
        "MergeSources".into(),
        object(&[
            ("from", ids()),
            ("to", s()),
            ("variants", ids()),
            ("target", s()),
        ]),
    );
    m.insert(
        "Merged".into(),
        object(&[
            ("success", json!({"type": "boolean"})),
            ("message", s()),
            ("target", s()),
            ("merged_variants", ids()),
            ("total_leads_updated", n()),
            ("merged", n()),
            ("to", s()),
        ]),
    );
    m.insert(
        "Deleted".into(),
        object(&[("message", s()), ("deleted", n()), ("id", s())]),
    );
    m.insert(
        "TelecallerSummary".into(),
        object(&[
            ("telecaller", s()),
            ("total_leads", n()),
            ("summary", json!({"type": "object"})),
            ("stage_totals", json!({"type": "object"})),
            ("completed", json!({"type": "object"})),
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
            ("leads", json!({"type": "object"})),
            ("figures", schema_ref("Figures")),
        ]),
    );
    m.insert(
        "Figures".into(),
        object(&[
            ("calls_made", n()),
            ("connected", n()),
            ("no_response", n()),
            ("status_changes", n()),
            ("conversions", n()),
        ]),
    );
    m.insert(
        "CallFigures".into(),
        object(&[
            ("start_date", s()),
            ("end_date", s()),
            ("totals", schema_ref("Figures")),
            ("telecallers", json!({"type": "array", "items": object(&[
                ("telecaller", s()),
                ("totals", schema_ref("Figures")),
                ("days", json!({"type": "object", "additionalProperties": schema_ref("Figures")})),
            ])})),
        ]),
    );
    m.insert(
        "CallRecorded".into(),
        object(&[
            ("success", json!({"type": "boolean"})),
            ("message", s()),
            ("lead_id", s()),
            ("last_called", s()),
            ("last_no_response", s()),
            ("lead", schema_ref("Lead")),
        ]),
    );
    m.insert(
        "LeadHistory".into(),
        object(&[
            ("id", s()),
            ("status_history", json!({"type": "array"})),
            ("calling_history", json!({"type": "array"})),
            ("no_response_history", json!({"type": "array"})),
            ("last_called_by", s()),
            ("last_no_response_by", s()),
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
        object(&[
            ("message", s()),
            ("token", s()),
            (
                "user",
                json!({"allOf": [schema_ref("User"), object(&[("telecaller_id", s())])]}),
            ),
        ]),
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
            ("is_temp_password", json!({"type": "boolean"})),
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
        "ImportRecord".into(),
        object(&[
            ("id", s()),
            ("file_name", s()),
            ("actor", s()),
            ("created_at", s()),
            ("inserted", n()),
            ("replaced", n()),
            ("undone_at", s()),
            ("undone_by", s()),
            ("undo_url", s()),
        ]),
    );
    m.insert(
        "UndoJob".into(),
        object(&[
            ("id", s()),
            ("kind", s()),
            ("import_id", s()),
            ("file_name", s()),
            ("status", s()),
            ("result", json!({"type": "object"})),
            ("error", s()),
            ("attempts", n()),
            ("url", s()),
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
    original_schemas(&mut m);
    Value::Object(m)
}

/// The answers and bodies of the original system's routes (COMPAT.md).
fn original_schemas(m: &mut Map<String, Value>) {
    let s = || json!({"type": "string"});
    let n = || json!({"type": "integer"});
    let b = || json!({"type": "boolean"});
    let arr = |items: Value| json!({"type": "array", "items": items});
    let obj = || json!({"type": "object"});
    let lead = || schema_ref("Lead");
    let mut put = |name: &str, v: Value| {
        m.insert(name.into(), v);
    };
    put(
        "Saved",
        json!({"allOf": [lead(), object(&[("success", b()), ("lead", lead())])],
               "description": "{success, lead} and the lead's own keys beside them"}),
    );
    put(
        "OriginalLead",
        object(&[
            ("name", s()),
            ("phone_number", json!({"oneOf": [s(), n()]})),
            ("has_driving_license", s()),
            ("driving_license_no", s()),
            ("has_badge", s()),
            ("badge_no", s()),
            (
                "duplicate_action",
                json!({"type": "string", "enum": ["skip", "replace"]}),
            ),
        ]),
    );
    put(
        "OriginalCreated",
        object(&[
            ("success", b()),
            ("message", s()),
            ("lead_id", s()),
            ("duplicate", b()),
            ("replaced", b()),
            ("lead", lead()),
        ]),
    );
    put(
        "CheckDuplicate",
        object(&[("phone_number", json!({"oneOf": [s(), n()]}))]),
    );
    put(
        "DuplicateFound",
        object(&[
            ("success", b()),
            ("duplicate_found", b()),
            ("existing_lead", obj()),
        ]),
    );
    put("RemarkText", object(&[("remark_text", s())]));
    let remark = object(&[
        ("text", s()),
        ("timestamp", s()),
        ("user_id", s()),
        ("user_name", s()),
        ("user_email", s()),
    ]);
    put(
        "RemarkAdded",
        object(&[
            ("success", b()),
            ("message", s()),
            ("remark", remark.clone()),
        ]),
    );
    put(
        "RemarkList",
        object(&[("success", b()), ("remarks", arr(remark)), ("count", n())]),
    );
    put(
        "NoResponseLeads",
        object(&[
            ("success", b()),
            ("total_count", n()),
            ("telecaller_groups", arr(obj())),
        ]),
    );
    put(
        "MergeSuggestions",
        object(&[
            ("success", b()),
            ("suggestions", arr(obj())),
            ("total_suggestions", n()),
        ]),
    );
    put(
        "UserMessage",
        object(&[("message", s()), ("user", schema_ref("User"))]),
    );
    put("UserId", object(&[("user_id", s())]));
    put(
        "TemporaryPassword",
        object(&[
            ("message", s()),
            ("temporary_password", s()),
            ("user_email", s()),
            ("user", schema_ref("User")),
        ]),
    );
    put(
        "ChangeAccountType",
        object(&[("user_id", s()), ("new_account_type", s())]),
    );
    put(
        "TypeChanged",
        object(&[("message", s()), ("old_type", s()), ("new_type", s())]),
    );
    put(
        "TelecallerList",
        arr(json!({"allOf": [schema_ref("User"), object(&[("name", s())])]})),
    );
    put(
        "UserStats",
        object(&[
            ("total_users", n()),
            ("admin_users", n()),
            ("standard_users", n()),
            ("ops_team_users", n()),
            ("telecaller_users", n()),
            ("pending_users", n()),
            ("disabled_users", n()),
            ("pending_password_resets", n()),
        ]),
    );
    put(
        "ResetRequests",
        arr(object(&[
            ("id", s()),
            ("user_id", s()),
            ("user_email", s()),
            ("user_name", s()),
            ("status", s()),
            ("created_at", s()),
            ("temporary_password", s()),
        ])),
    );
    put("ResetApprove", object(&[("request_id", s())]));
    put("StatusOnly", object(&[("status", s())]));
    put("Maintenance", object(&[("maintenance_mode", b())]));
    put(
        "DocumentStatus",
        object(&[("success", b()), ("lead_id", s()), ("documents", obj())]),
    );
    put("StatusSet", object(&[("message", s()), ("lead", lead())]));
    put(
        "SyncStage",
        object(&[
            ("success", b()),
            ("message", s()),
            ("previous_stage", s()),
            ("previous_status", s()),
            ("new_stage", s()),
            ("new_status", s()),
            ("current_stage", s()),
            ("current_status", s()),
            ("required_status", s()),
            ("missing_documents", arr(s())),
            ("lead", lead()),
        ]),
    );
    put(
        "ResetApproved",
        object(&[
            ("message", s()),
            ("temporary_password", s()),
            ("user_email", s()),
        ]),
    );
    put(
        "ResetWithTemporary",
        object(&[
            ("email", s()),
            ("temp_password", s()),
            ("new_password", s()),
        ]),
    );
    put(
        "DeskLeads",
        object(&[
            ("success", b()),
            ("telecaller_email", s()),
            ("date_filter", s()),
            ("assigned_leads", arr(lead())),
            ("callback_leads", arr(lead())),
            ("total_assigned", n()),
            ("total_callbacks", n()),
        ]),
    );
    put(
        "CallStatistics",
        object(&[
            ("success", b()),
            ("start_date", s()),
            ("end_date", s()),
            ("total_telecallers", n()),
            ("statistics", arr(obj())),
        ]),
    );
    put(
        "DailySummary",
        object(&[
            ("success", b()),
            ("start_date", s()),
            ("end_date", s()),
            ("summaries", arr(obj())),
        ]),
    );
}
