//! `// workflowcheck:ignore[rule-id, ..] reason` comments.
//!
//! A suppression applies to findings of its rules on its own line or on the line below it.
//! A comment without a known rule id or without a reason is reported
//! (`invalid-suppression`), and so is one that suppressed nothing (`unused-suppression`).

use crate::model::Suppression;

const MARKER: &str = "workflowcheck:ignore";

/// Finds the suppression comments of a file.
pub fn parse(text: &str) -> Vec<Suppression> {
    let mut out = Vec::new();
    // Most files hold none: one SIMD search instead of a search per line.
    if memchr::memmem::find(text.as_bytes(), MARKER.as_bytes()).is_none() {
        return out;
    }
    for (i, line) in text.lines().enumerate() {
        let Some(at) = line.find(MARKER) else {
            continue;
        };
        // The marker must open the line's comment: not in a string, not quoted in a comment.
        let Some(comment) = comment_start(line) else {
            continue;
        };
        if comment + 2 > at
            || !line[comment + 2..at]
                .trim_start_matches(['/', '!'])
                .trim()
                .is_empty()
        {
            continue;
        }
        let rest = &line[at + MARKER.len()..];
        let mut s = Suppression {
            line: i as u32 + 1,
            column: line[..comment].chars().count() as u32 + 1,
            rules: Vec::new(),
            reason: String::new(),
            problem: None,
        };
        let after = if let Some(body) = rest.strip_prefix('[') {
            match body.find(']') {
                Some(end) => {
                    s.rules = body[..end]
                        .split(',')
                        .map(|r| r.trim().to_string())
                        .filter(|r| !r.is_empty())
                        .collect();
                    &body[end + 1..]
                }
                None => {
                    s.problem = Some("unclosed `[` in suppression".into());
                    ""
                }
            }
        } else {
            rest
        };
        s.reason = after
            .trim()
            .trim_start_matches([':', '-'])
            .trim()
            .to_string();
        if s.problem.is_none() {
            s.problem = if s.rules.is_empty() {
                Some(
                    "suppression without a rule id: write `workflowcheck:ignore[rule-id] reason`"
                        .into(),
                )
            } else if let Some(bad) = s
                .rules
                .iter()
                .find(|r| crate::rules::rule_meta(r).is_none())
            {
                Some(format!("suppression names unknown rule `{bad}`"))
            } else if s.reason.is_empty() {
                Some("suppression without a reason: say why this is deterministic".into())
            } else {
                None
            };
        }
        out.push(s);
    }
    out
}

/// Byte offset of the first `//` outside a string literal.
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut in_str = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && bytes.get(i + 1) == Some(&b'/') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Does `s` cover a finding of `rule` at `line`?
pub fn covers(s: &Suppression, rule: &str, line: u32) -> bool {
    s.problem.is_none()
        && (line == s.line || line == s.line + 1)
        && s.rules.iter().any(|r| r == rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_and_invalid() {
        let src = [
            "let a = 1; // workflowcheck:ignore[wall-clock] only logged",
            "// workflowcheck:ignore[random, io]: seeded upstream",
            "// workflowcheck:ignore[wall-clock]",
            "// workflowcheck:ignore because",
            "// workflowcheck:ignore[bogus] why",
            "let s = \"workflowcheck:ignore[io] not a comment\";",
            "let t = \"// workflowcheck:ignore[io] in a string\";",
            "//! quoted: `// workflowcheck:ignore[io] reason`",
        ]
        .join("\n");
        let s = parse(&src);
        assert_eq!(s.len(), 5);
        assert!(s[0].problem.is_none() && s[0].reason == "only logged" && s[0].column == 12);
        assert_eq!(s[1].rules, ["random", "io"]);
        assert!(s[1].problem.is_none());
        assert!(s[2].problem.as_ref().unwrap().contains("reason"));
        assert!(s[3].problem.as_ref().unwrap().contains("rule id"));
        assert!(s[4].problem.as_ref().unwrap().contains("bogus"));
        assert!(covers(&s[1], "io", 3) && covers(&s[1], "io", 2) && !covers(&s[1], "io", 4));
        assert!(!covers(&s[2], "wall-clock", 3));
    }
}
