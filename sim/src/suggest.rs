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

/// Edit distance over chars counting a swap of two neighbours as one edit (optimal string
/// alignment), with `_` read as `-` (case is folded by the caller); at most 256 chars of each
/// are compared (names, not documents).
fn distance(a: &str, b: &str) -> usize {
    let fold = |c: char| if c == '_' { '-' } else { c };
    let a: Vec<char> = a.chars().take(256).map(fold).collect();
    let b: Vec<char> = b.chars().take(256).map(fold).collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        d[i * w] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * w + j - 1] + cost)
                .min(d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = best;
        }
    }
    d[a.len() * w + b.len()]
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
        assert_eq!(closest("crahs", ["crash", "chaos"]), Some("crash"));
        assert_eq!(closest("chrage", ["charge"]), Some("charge"));
    }
}
