//! The parse stage: one file's text into a syntax tree, defensively.
//!
//! Text is tokenised with proc-macro2 (iterative, so nesting cannot overflow the stack), checked
//! against nesting limits, and only then handed to syn, whose recursive descent would
//! otherwise overflow on pathological input. Parsing also runs under `catch_unwind` on
//! threads with large stacks (see [`crate::with_pool`]), so no input can take the scan down.

use proc_macro2::{TokenStream, TokenTree};
use std::str::FromStr;

/// Maximum nesting of `()`/`[]`/`{}` groups.
pub const MAX_GROUP_DEPTH: usize = 256;
/// Maximum number of operator tokens in one group between `,`/`;` separators: bounds the
/// depth of operator chains (`a + a + ...`, `!!!!x`, `x.f().f()...`) syn builds recursively.
pub const MAX_OPERATOR_RUN: usize = 4096;

/// Removes a byte-order mark and a shebang line (keeping line numbers).
fn strip_preamble(src: &str) -> std::borrow::Cow<'_, str> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    if src.starts_with("#!") && !src[2..].trim_start().starts_with('[') {
        let end = src.find('\n').unwrap_or(src.len());
        return std::borrow::Cow::Owned(src[end..].to_string());
    }
    std::borrow::Cow::Borrowed(src)
}

/// Parses source text into a syn file, rejecting pathological nesting first.
pub fn parse_source(src: &str) -> Result<syn::File, String> {
    let text = strip_preamble(src);
    let tokens = TokenStream::from_str(&text).map_err(|e| {
        let loc = e.span().start();
        format!("{}:{}: cannot tokenize: {e}", loc.line, loc.column + 1)
    })?;
    check_nesting(&tokens)?;
    syn::parse2::<syn::File>(tokens).map_err(|e| {
        let loc = e.span().start();
        format!("{}:{}: cannot parse: {e}", loc.line, loc.column + 1)
    })
}

/// Iteratively measures group nesting and operator runs.
pub fn check_nesting(tokens: &TokenStream) -> Result<(), String> {
    let mut stack: Vec<(proc_macro2::token_stream::IntoIter, usize)> =
        vec![(tokens.clone().into_iter(), 0)];
    while let Some((iter, run)) = stack.last_mut() {
        match iter.next() {
            None => {
                stack.pop();
            }
            Some(TokenTree::Group(g)) => {
                if stack.len() >= MAX_GROUP_DEPTH {
                    let loc = g.span().start();
                    return Err(format!(
                        "{}:{}: expression nesting deeper than {MAX_GROUP_DEPTH} levels; skipped",
                        loc.line,
                        loc.column + 1
                    ));
                }
                stack.push((g.stream().into_iter(), 0));
            }
            Some(TokenTree::Punct(p)) => {
                if matches!(p.as_char(), ',' | ';') {
                    *run = 0;
                } else {
                    *run += 1;
                    if *run > MAX_OPERATOR_RUN {
                        let loc = p.span().start();
                        return Err(format!(
                            "{}:{}: expression with more than {MAX_OPERATOR_RUN} chained operators; skipped",
                            loc.line,
                            loc.column + 1
                        ));
                    }
                }
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Runs `f`, turning a panic into an error message.
pub fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(format!(
                "internal error while scanning (please report): {msg}"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!("fn f() {{ {}1{} }}", "(".repeat(10_000), ")".repeat(10_000));
        let err = parse_source(&src).unwrap_err();
        assert!(err.contains("nesting deeper"), "{err}");
    }

    #[test]
    fn long_operator_chain_is_an_error() {
        let src = format!("fn f() {{ let x = {}1; }}", "!".repeat(100_000));
        let err = parse_source(&src).unwrap_err();
        assert!(err.contains("chained operators"), "{err}");
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
        assert!(err.starts_with("1:"), "{err}");
    }
}
