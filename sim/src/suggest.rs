//! "Did you mean": the known name closest to a misspelt one.
//!
//! Invariant: pure; the answer depends only on the arguments (ties go to the first candidate).

/// The candidate closest to `name` (case-insensitive edit distance), when it is close enough to
/// be a likely typo: at most a third of the name's length, and at least 1 edit allowed.
pub fn closest<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = name.to_lowercase();
    let allowed = (lower.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = distance(&lower, &c.to_lowercase());
        if d <= allowed && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance over chars, with `-`/`_` and case differences already folded by the
/// caller's lowercasing; at most 256 chars of each are compared (names, not documents).
fn distance(a: &str, b: &str) -> usize {
    let fold = |c: char| if c == '_' { '-' } else { c };
    let a: Vec<char> = a.chars().take(256).map(fold).collect();
    let b: Vec<char> = b.chars().take(256).map(fold).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_and_far_ones_are_not() {
        let known = ["money-transfer", "greeting", "expense-report"];
        assert_eq!(closest("money-transfr", known), Some("money-transfer"));
        assert_eq!(closest("Money_Transfer", known), Some("money-transfer"));
        assert_eq!(closest("greting", known), Some("greeting"));
        assert_eq!(closest("withdraw", known), None);
        assert_eq!(closest("", known), None);
        assert_eq!(
            closest("Withdraw", ["withdraw", "deposit"]),
            Some("withdraw")
        );
        assert_eq!(
            closest("withdrew", ["withdraw", "deposit"]),
            Some("withdraw")
        );
    }
}
