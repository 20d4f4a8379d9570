//! Precision and recall on a labelled corpus (`fixtures/workflowcheck/corpus/`, issue #13,
//! point 6): small files modelled on the patterns of real Temporal, Restate and duroxide code
//! (written for this project, not copied), each finding expected on a line labelled
//! `// expect[rule-id]`. Every file is scanned alone; a finding matches a label on the same
//! file, line and rule. Both figures must stay at or above 0.95.

use std::collections::BTreeSet;
use std::path::Path;
use workflowcheck::check_sources;
use workflowcheck::config::Config;

type Label = (String, u32, String);

fn corpus() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/workflowcheck/corpus");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("the corpus exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn labels(name: &str, text: &str) -> BTreeSet<Label> {
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("expect[") {
            let tail = &rest[at + "expect[".len()..];
            let end = tail.find(']').expect("a closed label");
            out.insert((name.to_string(), i as u32 + 1, tail[..end].to_string()));
            rest = &tail[end..];
        }
    }
    out
}

#[test]
fn precision_and_recall_on_the_labelled_corpus() {
    let files = corpus();
    assert!(files.len() >= 12, "{} corpus files", files.len());
    let (mut tp, mut fp, mut fns) = (0usize, 0usize, 0usize);
    let mut misses = Vec::new();
    for (name, text) in &files {
        let expected = labels(name, text);
        let report = check_sources(&[(name.as_str(), text.as_str())], &Config::default());
        assert!(report.errors.is_empty(), "{name}: {:?}", report.errors);
        let found: BTreeSet<Label> = report
            .findings
            .iter()
            .filter(|f| !f.rule.ends_with("-suppression"))
            .map(|f| (f.file.clone(), f.line, f.rule.clone()))
            .collect();
        tp += expected.intersection(&found).count();
        for f in found.difference(&expected) {
            fp += 1;
            misses.push(format!("false positive {f:?}"));
        }
        for e in expected.difference(&found) {
            fns += 1;
            misses.push(format!("missed {e:?}"));
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fns).max(1) as f64;
    println!(
        "corpus: {} files, {} labels, {tp} true positives, {fp} false positives, {fns} missed: \
         precision {precision:.3}, recall {recall:.3}",
        files.len(),
        tp + fns
    );
    assert!(tp + fns >= 15, "{} labels", tp + fns);
    assert!(precision >= 0.95, "precision {precision:.3}: {misses:#?}");
    assert!(recall >= 0.95, "recall {recall:.3}: {misses:#?}");
}
