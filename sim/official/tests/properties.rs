//! Search attributes and memo from a workflow written with the official Rust SDK, hosted by
//! durasim: features.py's `Properties` in the official SDK's API. Its upsert commands become
//! the server's UpsertWorkflowSearchAttributes and WorkflowPropertiesModified events, with the
//! event sequence the real server wrote for the Python original
//! (`fixtures/temporal-histories/properties.json`), and both histories replay in the host.
#![cfg(madsim)]

use std::time::Duration;

use sim::history::{parse_history, EventAttributes as A, EventType, History};
use sim::sdk::{memo, search_attributes, ReplayOutcome, SearchAttributeValue as Sa};
use sim::{Registry, StartOptions, TestEnv};
use sim_official::OfficialSdk;
use temporalio_common::search_attributes::SearchAttributeKey;
use temporalio_common::MemoValue;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowResult};

const KEYWORD: SearchAttributeKey<String> = SearchAttributeKey::keyword("CustomKeywordField");
const INT: SearchAttributeKey<i64> = SearchAttributeKey::int("CustomIntField");

/// Upserts search attributes, sleeps 100 ms, upserts the memo (one key removed).
#[workflow]
#[derive(Default)]
pub struct OfficialProperties;

#[workflow_methods]
impl OfficialProperties {
    /// As `Properties` in features.py.
    #[run(name = "Properties")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, _input: ()) -> WorkflowResult<String> {
        let started = ctx.search_attributes().get(&KEYWORD).unwrap_or_default();
        ctx.upsert_search_attributes([KEYWORD.value_set("upserted".into()), INT.value_set(42)]);
        ctx.timer(Duration::from_millis(100)).await;
        ctx.upsert_memo([("note", Some(MemoValue::new("modified"))), ("origin", None)])
            .map_err(|e| anyhow_free(e.to_string()))?;
        Ok(format!("properties set (started {started})"))
    }
}

fn anyhow_free(message: String) -> temporalio_sdk::ApplicationFailure {
    temporalio_sdk::ApplicationFailure::non_retryable(message)
}

fn registry() -> Registry {
    let mut r = Registry::new();
    OfficialSdk::new()
        .workflow::<OfficialProperties>()
        .register(&mut r);
    r
}

fn fixture() -> History {
    let path = format!(
        "{}/../../fixtures/temporal-histories/properties.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_history(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn types(h: &History) -> Vec<EventType> {
    h.events.iter().map(|e| e.event_type()).collect()
}

fn names(m: &std::collections::BTreeMap<String, sim::history::Payload>) -> Vec<String> {
    m.keys().cloned().collect()
}

#[test]
fn official_upserts_become_the_real_servers_events_and_replay() {
    let opts = StartOptions {
        memo: Some(memo([("origin", serde_json::json!("client"))])),
        search_attributes: Some(search_attributes([(
            "CustomKeywordField",
            Sa::Keyword("started".into()),
        )])),
        ..StartOptions::default()
    };
    let input = sim_official::encode(&()).expect("unit encodes");
    let run = TestEnv::new(registry()).run(move |client| async move {
        let h = client
            .start_with_payloads("Properties", "properties", input, &opts)
            .await
            .unwrap();
        let r = h.result_payloads().await.unwrap();
        (r, h.history().await.unwrap(), h.describe().await.unwrap())
    });
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let (result, ours, described) = run.value();
    let result: String = sim_official::decode(result.as_ref()).unwrap();
    assert_eq!(result, "properties set (started started)");
    let theirs = fixture();
    assert_eq!(types(&ours), types(&theirs));
    // The same attribute names and memo keys upserted, and the same values as JSON.
    let upserts = |h: &History| -> Vec<(Vec<String>, Vec<String>)> {
        h.events
            .iter()
            .filter_map(|e| match &e.attributes {
                A::UpsertWorkflowSearchAttributes(u) => {
                    let sa = u.search_attributes.as_ref()?;
                    Some((names(&sa.indexed_fields), json_values(&sa.indexed_fields)))
                }
                A::WorkflowPropertiesModified(m) => {
                    let memo = m.upserted_memo.as_ref()?;
                    let set: std::collections::BTreeMap<_, _> = memo
                        .fields
                        .iter()
                        .filter(|(_, p)| !p.data.is_empty() && p.data != b"null")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    Some((names(&memo.fields), json_values(&set)))
                }
                _ => None,
            })
            .collect()
    };
    assert_eq!(upserts(&ours), upserts(&theirs));
    assert_eq!(
        names(&described.search_attributes),
        ["CustomIntField", "CustomKeywordField"]
    );
    assert_eq!(names(&described.memo), ["note"], "origin removed");
    // Both histories replay in the official-SDK host.
    for h in [&ours, &theirs] {
        match sim::replay(&registry(), h) {
            ReplayOutcome::Closed { close, .. } => {
                assert_eq!(close, EventType::WorkflowExecutionCompleted)
            }
            other => panic!("{other:?}"),
        }
    }
}

fn json_values(m: &std::collections::BTreeMap<String, sim::history::Payload>) -> Vec<String> {
    m.values()
        .map(|p| String::from_utf8_lossy(&p.data).into_owned())
        .collect()
}
