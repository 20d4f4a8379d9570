//! The parse stage: one file's text into a syntax tree, defensively.
//!
//! Text is tokenised with proc-macro2 (iterative, so nesting cannot overflow the stack), checked
//! against nesting limits, and only then handed to syn, whose recursive descent would
//! otherwise overflow on pathological input. Parsing also runs under `catch_unwind` on
//! threads with large stacks (see [`crate::with_pool`]), so no input can take the scan down.
//!
//! The limits are checked on the tokens ([`check_nesting`]) only when a scan of the text
//! (`bounds.rs`: upper bounds on both measures, at a fraction of the cost) cannot show they
//! are kept, which for real code is never.

mod bounds;

use crate::model::Problem;
use proc_macro2::{Delimiter, TokenStream, TokenTree};
use std::str::FromStr;

/// Maximum nesting of `()`/`[]`/`{}` groups (a `mod` item's body counts as one). The deepest
/// nesting in the 5,300 files of a cargo registry (~2 M lines) is 40; syn, the visitors and
/// `Drop` handle 4x this limit on the scanning threads' stacks (see the tests).
pub const MAX_GROUP_DEPTH: usize = 1024;
/// Maximum number of operator tokens in one group between `,`/`;` separators: bounds the
/// depth of operator chains (`a + a + ...`, `!!!!x`, `x.f().f()...`) syn builds recursively.
/// Path separators, attributes' `#`, lifetimes' `'`, `->` and `=>` build no nesting and do
/// not count.
pub const MAX_OPERATOR_RUN: usize = 16384;

/// Removes a byte-order mark and a shebang line (keeping line numbers).
fn strip_preamble(src: &str) -> std::borrow::Cow<'_, str> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    if src.starts_with("#!") && !src[2..].trim_start().starts_with('[') {
        let end = src.find('\n').unwrap_or(src.len());
        return std::borrow::Cow::Owned(src[end..].to_string());
    }
    std::borrow::Cow::Borrowed(src)
}

/// The error messages of the lexer and of syn quote source text; a message longer than
/// this is cut (a 4 MB string literal must not make a 4 MB message).
const MAX_MESSAGE_CHARS: usize = 200;

fn bounded(message: String) -> String {
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        return message;
    }
    let mut cut: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    cut.push_str("...");
    cut
}

/// Parses source text into a syn file, rejecting pathological nesting first.
pub fn parse_source(src: &str) -> Result<syn::File, Problem> {
    let text = strip_preamble(src);
    let tokens = TokenStream::from_str(&text).map_err(|e| {
        let loc = e.span().start();
        Problem::at(
            loc.line as u32,
            loc.column as u32 + 1,
            bounded(format!("cannot tokenize: {e}")),
        )
    })?;
    // The token walk runs only when a scan of the text cannot show the limits are kept.
    let within = |(depth, run)| depth <= MAX_GROUP_DEPTH && run <= MAX_OPERATOR_RUN;
    if !bounds::bounds(&text).is_some_and(within) {
        check_nesting(&tokens)?;
    }
    syn::parse2::<syn::File>(tokens).map_err(|e| {
        let loc = e.span().start();
        Problem::at(
            loc.line as u32,
            loc.column as u32 + 1,
            bounded(format!("cannot parse: {e}")),
        )
    })
}

/// What a group is, for messages that name what is nested.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum GroupKind {
    Module,
    Brace,
    Paren,
    Bracket,
}

impl GroupKind {
    fn of(delimiter: Delimiter, after_mod: bool) -> GroupKind {
        match delimiter {
            Delimiter::Brace if after_mod => GroupKind::Module,
            Delimiter::Brace => GroupKind::Brace,
            Delimiter::Parenthesis => GroupKind::Paren,
            Delimiter::Bracket => GroupKind::Bracket,
            Delimiter::None => GroupKind::Paren,
        }
    }

    fn name(self, n: usize) -> String {
        let s = if n == 1 { "" } else { "s" };
        match self {
            GroupKind::Module => format!("{n} `mod` item{s}"),
            GroupKind::Brace => format!("{n} `{{}}` block{s}"),
            GroupKind::Paren => format!("{n} `()` group{s} (calls, tuples, parentheses)"),
            GroupKind::Bracket => format!("{n} `[]` group{s} (arrays, indexing, attributes)"),
        }
    }
}

/// Names what the open groups are, most frequent first: "1000 `mod` items, 25 `{}` blocks".
fn describe(kinds: &[GroupKind]) -> String {
    let mut counts: Vec<(usize, GroupKind)> = Vec::new();
    for k in [
        GroupKind::Module,
        GroupKind::Brace,
        GroupKind::Paren,
        GroupKind::Bracket,
    ] {
        let n = kinds.iter().filter(|&&x| x == k).count();
        if n > 0 {
            counts.push((n, k));
        }
    }
    counts.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let names: Vec<String> = counts.iter().map(|&(n, k)| k.name(n)).collect();
    names.join(", ")
}

/// An operator token that can build nesting in syn's tree. `::`, `#`, `'`, `->`, `=>`, `$`
/// and `?` build none.
fn nests(p: &proc_macro2::Punct, prev: Option<char>) -> bool {
    match p.as_char() {
        ',' | ';' | ':' | '#' | '\'' | '$' | '?' => false,
        '>' => !matches!(prev, Some('-') | Some('=')),
        _ => true,
    }
}

/// What the nesting check remembers of a token: enough to tell `mod name {` and `->`/`=>`
/// (no clone of the token itself).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    Nothing,
    Punct(char),
    Mod,
    Ident,
    Other,
}

impl Seen {
    fn of(tt: &TokenTree) -> Seen {
        match tt {
            TokenTree::Punct(p) => Seen::Punct(p.as_char()),
            TokenTree::Ident(i) if i == "mod" => Seen::Mod,
            TokenTree::Ident(_) => Seen::Ident,
            _ => Seen::Other,
        }
    }
}

/// Iteratively measures group nesting and operator runs.
pub fn check_nesting(tokens: &TokenStream) -> Result<(), Problem> {
    struct Level {
        iter: proc_macro2::token_stream::IntoIter,
        run: usize,
        /// How often each operator appears in the current run (for the message), and which
        /// entries are non-zero (so a reset touches only those).
        ops: [u32; 128],
        touched: u128,
        prev: Seen,
        prev2: Seen,
    }
    let level = |iter| Level {
        iter,
        run: 0,
        ops: [0; 128],
        touched: 0,
        prev: Seen::Nothing,
        prev2: Seen::Nothing,
    };
    let mut stack: Vec<Level> = vec![level(tokens.clone().into_iter())];
    let mut kinds: Vec<GroupKind> = Vec::new();
    loop {
        let depth = stack.len();
        let Some(top) = stack.last_mut() else { break };
        let Some(tt) = top.iter.next() else {
            stack.pop();
            kinds.pop();
            continue;
        };
        let prev_char = match top.prev {
            Seen::Punct(c) => Some(c),
            _ => None,
        };
        match &tt {
            TokenTree::Group(g) => {
                let after_mod = top.prev2 == Seen::Mod && top.prev == Seen::Ident;
                let kind = GroupKind::of(g.delimiter(), after_mod);
                if depth > MAX_GROUP_DEPTH {
                    let loc = g.span().start();
                    kinds.push(kind);
                    return Err(Problem::at(
                        loc.line as u32,
                        loc.column as u32 + 1,
                        format!(
                            "nesting deeper than {MAX_GROUP_DEPTH} levels ({} nested); skipped",
                            describe(&kinds)
                        ),
                    ));
                }
                top.prev2 = std::mem::replace(&mut top.prev, Seen::Other);
                let inner = g.stream().into_iter();
                kinds.push(kind);
                stack.push(level(inner));
                continue;
            }
            TokenTree::Punct(p) => {
                if matches!(p.as_char(), ',' | ';') {
                    top.run = 0;
                    while top.touched != 0 {
                        top.ops[top.touched.trailing_zeros() as usize] = 0;
                        top.touched &= top.touched - 1;
                    }
                } else if nests(p, prev_char) {
                    top.run += 1;
                    let op = p.as_char() as usize & 127;
                    top.ops[op] += 1;
                    top.touched |= 1u128 << op;
                    if top.run > MAX_OPERATOR_RUN {
                        let loc = p.span().start();
                        let most = (0..128u8)
                            .max_by_key(|&c| top.ops[c as usize])
                            .map(char::from)
                            .unwrap_or('?');
                        return Err(Problem::at(
                            loc.line as u32,
                            loc.column as u32 + 1,
                            format!(
                                "expression with more than {MAX_OPERATOR_RUN} chained operators \
                                 (mostly `{most}`); skipped"
                            ),
                        ));
                    }
                }
            }
            _ => {}
        }
        top.prev2 = std::mem::replace(&mut top.prev, Seen::of(&tt));
    }
    Ok(())
}

/// Runs `f`, turning a panic into an error message.
pub fn guarded<T>(f: impl FnOnce() -> Result<T, Problem>) -> Result<T, Problem> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Problem::new(format!(
                "internal error while scanning (please report): {msg}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `src` and walks it as the collect stage does, on a thread with the scanning
    /// threads' stack.
    fn parse_on_scan_stack(src: String) -> Result<(), Problem> {
        std::thread::Builder::new()
            .stack_size(crate::STACK_SIZE)
            .spawn(move || {
                let file = parse_source(&src)?;
                let placed = crate::model::SourceFile {
                    path: "deep.rs".into(),
                    display: "deep.rs".into(),
                    crate_name: "deep".into(),
                    module: Vec::new(),
                    package: None,
                    test: false,
                    hidden: false,
                    ..Default::default()
                };
                let config = crate::config::Config::default();
                let summary = crate::collect::file(&file, &placed, &src, &config, false);
                drop(file);
                assert_eq!(summary.display, "deep.rs");
                Ok(())
            })
            .unwrap()
            .join()
            .unwrap()
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!("fn f() {{ {}1{} }}", "(".repeat(10_000), ")".repeat(10_000));
        let err = parse_source(&src).unwrap_err();
        assert!(err.message.contains("nesting deeper"), "{err:?}");
        assert!(err.message.contains("`()` groups"), "{err:?}");
        assert_eq!((err.line, err.column), (Some(1), Some(1033)));
    }

    #[test]
    fn nested_modules_are_named_as_modules() {
        let n = MAX_GROUP_DEPTH + 5;
        let src = format!("{}{}", "mod m { ".repeat(n), "} ".repeat(n));
        let err = parse_source(&src).unwrap_err();
        assert!(err.message.contains("`mod` items"), "{err:?}");
        assert!(!err.message.contains("expression"), "{err:?}");
    }

    /// Everything under the limits is parsed and walked on the scanning threads' stack.
    #[test]
    fn nesting_just_under_the_limits_is_analysed() {
        let d = MAX_GROUP_DEPTH - 2;
        let run = MAX_OPERATOR_RUN - 2;
        let cases = [
            format!("fn f() {{ {}1{} }}", "(".repeat(d), ")".repeat(d)),
            format!(
                "fn f() {{ {}{} }}",
                "{ let x = 1; ".repeat(d),
                "}".repeat(d)
            ),
            format!("{}fn f() {{}}{}", "mod m { ".repeat(d), "}".repeat(d)),
            format!("fn f() {{ let x = {}1{}; }}", "[".repeat(d), "]".repeat(d)),
            format!("fn f() {{ let x = {}true; }}", "!".repeat(run)),
            format!("fn f() {{ let x = 1{}; }}", " + 1".repeat(run)),
            format!("fn f() {{ x{}; }}", ".f()".repeat(run)),
            format!("fn f() {{ let x = {}1; }}", "&".repeat(run)),
            format!("fn f() {{ let c = {}1; }}", "|x| ".repeat(run / 2)),
        ];
        for src in cases {
            let head: String = src.chars().take(40).collect();
            parse_on_scan_stack(src).unwrap_or_else(|e| panic!("{head}: {e:?}"));
        }
    }

    #[test]
    fn long_operator_chain_is_an_error() {
        let src = format!("fn f() {{ let x = {}1; }}", "!".repeat(100_000));
        let err = parse_source(&src).unwrap_err();
        assert!(err.message.contains("chained operators"), "{err:?}");
        assert!(err.message.contains("mostly `!`"), "{err:?}");
    }

    #[test]
    fn shebang_keeps_line_numbers() {
        let f = parse_source("#!/usr/bin/env run\nfn main() {}\n").unwrap();
        let syn::Item::Fn(item) = &f.items[0] else {
            panic!("expected fn")
        };
        assert_eq!(item.sig.ident.span().start().line, 2);
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse_source("fn f( {").unwrap_err();
        assert_eq!(err.line, Some(1), "{err:?}");
    }

    #[test]
    fn messages_about_huge_literals_are_bounded() {
        let src = format!("const S: &str = \"{}\" garbage;", "x".repeat(1 << 20));
        let err = parse_source(&src).unwrap_err();
        assert!(err.message.len() < 400, "{} bytes", err.message.len());
    }
}
