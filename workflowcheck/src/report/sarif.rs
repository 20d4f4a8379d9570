//! `--format sarif`: SARIF 2.1.0 for code-scanning uploads. Each result carries the call
//! chain as a `codeFlow` (one `threadFlow` location per frame); files that could not be
//! analysed are tool execution notifications (errors when they may hold workflow code, which
//! also makes `executionSuccessful` false); so are calls from workflow code that could not be
//! resolved (level `note`, descriptor `unresolved-call`).

use super::Report;
use crate::model::Level;
use serde_json::{json, Value};

fn location(file: &str, line: u32, column: u32, message: Option<&str>) -> Value {
    let mut loc = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": file.replace('\\', "/"), "uriBaseId": "%SRCROOT%" },
            "region": { "startLine": line.max(1), "startColumn": column.max(1) }
        }
    });
    if let Some(m) = message {
        loc["message"] = json!({ "text": m });
    }
    loc
}

/// Renders a SARIF 2.1.0 log.
pub fn render(report: &Report) -> String {
    let rules: Vec<Value> = crate::rules::configurable()
        .map(|m| {
            json!({
                "id": m.id,
                "name": m.id,
                "shortDescription": { "text": m.summary },
                "defaultConfiguration": {
                    "level": if m.default_level == Level::Deny { "error" } else { "warning" }
                }
            })
        })
        .collect();
    let rule_index = |id: &str| crate::rules::configurable().position(|m| m.id == id);
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut r = json!({
                "ruleId": f.rule,
                "level": if f.is_error() { "error" } else { "warning" },
                "message": { "text": format!("{}\nhelp: {}", f.message, f.suggestion) },
                "locations": [location(&f.file, f.line, f.column, None)],
                "partialFingerprints": {
                    "workflowcheck/v1": format!("{}:{}:{}", f.rule, f.file, f.source_line.trim())
                },
                "properties": { "workflows": f.workflows }
            });
            if let Some(i) = rule_index(&f.rule) {
                r["ruleIndex"] = json!(i);
            }
            if !f.chain.is_empty() {
                let locs: Vec<Value> = f
                    .chain
                    .iter()
                    .map(|s| json!({ "location": location(&s.file, s.line, s.column, Some(&s.function)) }))
                    .collect();
                r["codeFlows"] = json!([{ "threadFlows": [{ "locations": locs }] }]);
            }
            r
        })
        .collect();
    let mut notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            let mut physical = json!({ "artifactLocation": { "uri": e.file.replace('\\', "/") } });
            if let Some(l) = e.line {
                physical["region"] =
                    json!({ "startLine": l.max(1), "startColumn": e.column.unwrap_or(1).max(1) });
            }
            json!({
                "level": if e.may_hold_workflow { "error" } else { "warning" },
                "message": { "text": e.message },
                "locations": [{ "physicalLocation": physical }],
                "properties": { "mayHoldWorkflow": e.may_hold_workflow }
            })
        })
        .collect();
    // Unresolved calls are notes on the run, not results: they never fail it.
    notifications.extend(report.unresolved.iter().map(|u| {
        json!({
            "level": "note",
            "descriptor": { "id": "unresolved-call" },
            "message": { "text": format!(
                "call of `{}` in `{}` could not be resolved: {}; the code it reaches is not checked",
                u.callee, u.function, u.reason
            ) },
            "locations": [location(&u.file, u.line, u.column, None)],
            "properties": { "workflows": u.workflows }
        })
    }));
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "workflowcheck",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/durasim/durasim",
                "rules": rules
            }},
            "invocations": [{
                // False when a file that may hold workflow code could not be analysed.
                "executionSuccessful": report.complete(),
                "toolExecutionNotifications": notifications
            }],
            "results": results
        }]
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
