//! Upper bounds on what the nesting check measures, read from the text alone.
//!
//! [`super::check_nesting`] walks the token stream, and walking a proc-macro2 stream
//! copies every token (a group's stream is shared with the group, so iterating it clones
//! it): a tenth of the time syn takes to parse. Nearly every file is far below the limits,
//! which a scan of its bytes shows at a fraction of that cost; the token walk then runs
//! only for the files the scan cannot clear.
//!
//! The scan mirrors proc-macro2's lexer where it decides what is code: comments (nested
//! block comments), string literals (cooked, raw with `#`s, byte and C strings, literal
//! suffixes), character literals against lifetimes. The text has already been tokenized,
//! so it is lexically valid. What the scan cannot tell exactly, it over-counts: every
//! comment counts as a doc comment (an attribute: one group deeper, and a `!`), the signs
//! and dots inside number literals count as operators, a `>` after a comment counts. Where
//! it would have to guess, it gives up and the token walk runs.

/// `(deepest group, longest operator run)` of `src`, each no less than
/// [`super::check_nesting`] measures (a group at the top level is at depth 1; a run is
/// counted as there, between `,`/`;` in one group); `None` when the scan gives up.
pub fn bounds(src: &str) -> Option<(usize, usize)> {
    let b = src.as_bytes();
    let mut i = 0;
    // The operator run and the previous token of each open group; [0] is the top level.
    let mut levels: Vec<Level> = vec![Level::default()];
    let mut deepest = 0;
    let mut longest = 0;
    while i < b.len() {
        let c = b[i];
        let depth = levels.len() - 1;
        let top = &mut levels[depth];
        match c {
            b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' => i += 1,
            b'/' if matches!(b.get(i + 1), Some(b'/' | b'*')) => {
                let end = if b[i + 1] == b'/' {
                    memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n)
                } else if let Some(end) = block_comment_end(b, i) {
                    end
                } else {
                    // Unterminated: proc-macro2 reads `/` as an operator.
                    longest = longest.max(top.operator(c));
                    i += 1;
                    continue;
                };
                if has_bare_cr(b, i, end) {
                    return None; // a doc comment with one is not a comment to proc-macro2
                }
                // Counted as a doc comment: `#`, maybe `!`, then `[doc = ".."]` one group
                // deeper.
                longest = longest.max(top.operator(b'!')).max(1);
                top.prev = Prev::Other;
                deepest = deepest.max(depth + 1);
                i = end;
            }
            b'"' => {
                i = suffix(src, cooked_string_end(b, i + 1)?);
                top.prev = Prev::Other;
            }
            b'\'' => match char_literal_end(src, i, false) {
                Some(end) => {
                    i = suffix(src, end);
                    top.prev = Prev::Other;
                }
                None => {
                    // A lifetime's or label's quote: an operator that builds no nesting.
                    top.prev = Prev::Punct(c);
                    i += 1;
                }
            },
            b'(' | b'[' | b'{' => {
                levels.push(Level::default());
                deepest = deepest.max(depth + 1);
                i += 1;
            }
            b')' | b']' | b'}' => {
                if depth == 0 {
                    return None;
                }
                levels.pop();
                levels[depth - 1].prev = Prev::Other;
                i += 1;
            }
            b',' | b';' => {
                top.run = 0;
                top.prev = Prev::Punct(c);
                i += 1;
            }
            b':' | b'#' | b'$' | b'?' => {
                top.prev = Prev::Punct(c);
                i += 1;
            }
            b'~' | b'!' | b'@' | b'%' | b'^' | b'&' | b'*' | b'-' | b'=' | b'+' | b'|' | b'<'
            | b'.' | b'>' | b'/' => {
                longest = longest.max(top.operator(c));
                i += 1;
            }
            _ if c >= 0x80 && is_whitespace_at(src, i) => i += char_len(c),
            _ if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 => {
                let start = i;
                i = word_end(src, i);
                top.prev = Prev::Other;
                match &b[start..i] {
                    b"r" | b"br" | b"cr" if matches!(b.get(i), Some(b'"' | b'#')) => {
                        if let Some(end) = raw_string_end(b, i)? {
                            i = suffix(src, end);
                        } else if &b[start..i] == b"r"
                            && b.get(i + 1).is_some_and(|&n| ident_start(src, i + 1, n))
                        {
                            i = word_end(src, i + 1); // a raw identifier, `r#type`
                        }
                    }
                    b"b" | b"c" if b.get(i) == Some(&b'"') => {
                        i = suffix(src, cooked_string_end(b, i + 1)?);
                    }
                    b"b" if b.get(i) == Some(&b'\'') => {
                        i = suffix(src, char_literal_end(src, i, true)?);
                    }
                    _ => {}
                }
            }
            _ => return None,
        }
    }
    (levels.len() == 1).then_some((deepest, longest))
}

/// What the scan keeps of an open group (or of the top level).
#[derive(Default)]
struct Level {
    /// Operators since the last `,`/`;`.
    run: usize,
    /// The previous token.
    prev: Prev,
}

impl Level {
    /// Operator `c`: counted unless it is the `>` of `->` or `=>`; returns the run.
    fn operator(&mut self, c: u8) -> usize {
        if c != b'>' || !matches!(self.prev, Prev::Punct(b'-' | b'=')) {
            self.run += 1;
        }
        self.prev = Prev::Punct(c);
        self.run
    }
}

/// The previous token of a group, as far as the `->`/`=>` rule needs it.
#[derive(Clone, Copy, Default)]
enum Prev {
    Punct(u8),
    #[default]
    Other,
}

/// Length of the UTF-8 sequence a lead byte starts.
fn char_len(lead: u8) -> usize {
    match lead {
        0xf0.. => 4,
        0xe0.. => 3,
        0xc0.. => 2,
        _ => 1,
    }
}

/// Is the character at `i` whitespace to proc-macro2?
fn is_whitespace_at(src: &str, i: usize) -> bool {
    src.get(i..)
        .and_then(|s| s.chars().next())
        .is_some_and(|ch| ch.is_whitespace() || ch == '\u{200e}' || ch == '\u{200f}')
}

/// Can byte `c` at `i` start an identifier (or a number, for the scan's purposes)?
fn ident_start(src: &str, i: usize, c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || (c >= 0x80 && !is_whitespace_at(src, i))
}

/// The end of the identifier or number starting at `i`: ASCII letters, digits and `_`,
/// and any character beyond ASCII that is not whitespace (the text lexes, so those are
/// identifier characters).
fn word_end(src: &str, mut i: usize) -> usize {
    let b = src.as_bytes();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphanumeric() || c == b'_' {
            i += 1;
        } else if c >= 0x80 && !is_whitespace_at(src, i) {
            i += char_len(c);
        } else {
            break;
        }
    }
    i
}

/// After a literal: its suffix (`1u8`, `"a"suffix`), as proc-macro2 reads one.
fn suffix(src: &str, i: usize) -> usize {
    match src.as_bytes().get(i) {
        Some(&c) if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => word_end(src, i),
        _ => i,
    }
}

/// The end of a block comment starting at `i` (at `/*`), nested ones included, exactly as
/// proc-macro2 finds it; `None` when unterminated.
fn block_comment_end(b: &[u8], i: usize) -> Option<usize> {
    let bytes = &b[i..];
    let mut depth = 0usize;
    let mut j = 0;
    while j + 1 < bytes.len() {
        if bytes[j] == b'/' && bytes[j + 1] == b'*' {
            depth += 1;
            j += 1;
        } else if bytes[j] == b'*' && bytes[j + 1] == b'/' {
            depth -= 1;
            if depth == 0 {
                return Some(i + j + 2);
            }
            j += 1;
        }
        j += 1;
    }
    None
}

/// Does `b[start..end]` (a comment) hold a `\r` not followed by `\n`?
fn has_bare_cr(b: &[u8], start: usize, end: usize) -> bool {
    memchr::memchr_iter(b'\r', &b[start..end]).any(|at| b.get(start + at + 1) != Some(&b'\n'))
}

/// The end (after the closing quote) of a cooked string whose body starts at `i`; `None`
/// when unterminated. An escape's backslash takes the next byte with it: whatever follows
/// (hex digits, `{..}`, a line break and indentation) holds no quote.
fn cooked_string_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i += memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b[i] == b'"' {
            return Some(i + 1);
        }
        i += 2;
    }
}

/// At `i`, just after `r`, `br` or `cr`: `Some(Some(end))` for a raw string (`#`s, a
/// quote, up to the quote followed by as many `#`s), `Some(None)` when none starts here,
/// `None` when one starts but does not end as proc-macro2 would end it.
fn raw_string_end(b: &[u8], i: usize) -> Option<Option<usize>> {
    let hashes = b[i..].iter().take_while(|&&c| c == b'#').count();
    if b.get(i + hashes) != Some(&b'"') || hashes > 255 {
        return Some(None);
    }
    let mut j = i + hashes + 1;
    loop {
        j += memchr::memchr2(b'"', b'\r', b.get(j..)?)?;
        if b[j] == b'\r' {
            if b.get(j + 1) != Some(&b'\n') {
                return None;
            }
        } else if b[j + 1..]
            .iter()
            .take(hashes)
            .filter(|&&c| c == b'#')
            .count()
            == hashes
        {
            return Some(Some(j + 1 + hashes));
        }
        j += 1;
    }
}

/// The end (after the closing quote) of a character literal at `i` (at `'`), or of a byte
/// literal (`b'..'`, at its quote), as proc-macro2's lexer reads one; `None` for the quote
/// of a lifetime or label.
fn char_literal_end(src: &str, i: usize, byte: bool) -> Option<usize> {
    let mut chars = src.get(i + 1..)?.char_indices();
    let ok = match chars.next()?.1 {
        '\\' => match chars.next()?.1 {
            'x' if byte => {
                chars.next()?.1.is_ascii_hexdigit() && chars.next()?.1.is_ascii_hexdigit()
            }
            'x' => matches!(chars.next()?.1, '0'..='7') && chars.next()?.1.is_ascii_hexdigit(),
            'u' if !byte => {
                chars.next()?.1 == '{' && {
                    let mut digits = 0;
                    loop {
                        match chars.next()?.1 {
                            c if c.is_ascii_hexdigit() && digits < 6 => digits += 1,
                            '_' if digits > 0 => {}
                            '}' if digits > 0 => break true,
                            _ => break false,
                        }
                    }
                }
            }
            'n' | 'r' | 't' | '\\' | '0' | '\'' | '"' => true,
            _ => false,
        },
        _ => true,
    };
    let (at, quote) = chars.next()?;
    (ok && quote == '\'').then_some(i + 1 + at + 1)
}

#[cfg(test)]
mod tests {
    use super::bounds;
    use proc_macro2::{TokenStream, TokenTree};

    /// What the token walk measures: (deepest group, longest operator run).
    fn exact(src: &str) -> (usize, usize) {
        fn walk(ts: TokenStream, depth: usize, out: &mut (usize, usize)) {
            let (mut run, mut prev) = (0, None);
            for tt in ts {
                match tt {
                    TokenTree::Group(g) => {
                        out.0 = out.0.max(depth + 1);
                        walk(g.stream(), depth + 1, out);
                        prev = None;
                    }
                    TokenTree::Punct(p) => {
                        if matches!(p.as_char(), ',' | ';') {
                            run = 0;
                        } else if super::super::nests(&p, prev) {
                            run += 1;
                            out.1 = out.1.max(run);
                        }
                        prev = Some(p.as_char());
                    }
                    _ => prev = None,
                }
            }
        }
        let mut out = (0, 0);
        walk(src.parse().expect("lexes"), 0, &mut out);
        out
    }

    fn check(src: &str) -> (usize, usize) {
        let e = exact(src);
        let b = bounds(src).unwrap_or_else(|| panic!("gave up on {src:?}"));
        assert!(b.0 >= e.0 && b.1 >= e.1, "{src:?}: bound {b:?} below {e:?}");
        b
    }

    #[test]
    fn literals_and_comments_hide_delimiters_and_operators() {
        let cases = [
            r#"fn f() { let s = "a)b}]"; let t = "q\"(("; }"#,
            r###"const S: &str = r#"a")]}"#; const T: &[u8] = br##"x"#)"##;"###,
            r#"const C: &core::ffi::CStr = c"((("; const B: &[u8] = b"\")";"#,
            r#"fn f() { let a = ')'; let b = '\''; let c = '"'; let d = b'\xff'; }"#,
            r#"fn f() { let e = '\u{1F600}'; let g = b'"'; let h = '\\'; }"#,
            r"fn f<'a>(x: &'a str) -> &'static str { 'outer: loop { break 'outer; } }",
            "fn f() {} // ))) \n/* /* ) */ ( */ fn g() {}",
            "/// doc )\n//! inner (\n/** block ] */ /*! inner [ */ fn f() {}",
            "fn f() { let r#type = 1; let r#match = r#type; }",
            r#"fn f() { let a = "a"suffix; let b = 1u8; let c = 1.0e-5f64; let d = 1r"x(y"; }"#,
            "fn f() { let é = 1; let s = \"é)\"; let c = 'é'; }",
            "fn f() { x.f().g().h(); a - > b; match x { _ => y } }",
            "fn f() -> u8 { (/*ERROR*/) }",
            "fn f() { let c = '\"'; let s = \"'\"; (((1))); }",
            "fn f() { let s = \"line\\\n    continued(\"; }",
            "// a comment )\r\nfn f() {}\r\n/* (\r\n */",
        ];
        for src in cases {
            check(src);
        }
        // Ordinary code is measured exactly.
        let src = "fn f(a: u8) -> u8 { if a > 1 { g(a + 1, [a; 2]) } else { a * 2 - 1 } }";
        assert_eq!(check(src), exact(src));
    }

    #[test]
    fn nesting_behind_a_quote_is_seen() {
        let deep = format!(
            "fn f() {{ let c = '\"'; {}1{}; }}",
            "(".repeat(1500),
            ")".repeat(1500)
        );
        assert!(check(&deep).0 > super::super::MAX_GROUP_DEPTH);
        let err = super::super::parse_source(&deep).unwrap_err();
        assert!(err.message.contains("nesting deeper"), "{err:?}");
    }

    /// Random texts over the characters the lexer treats specially: whenever one lexes, the
    /// bound is never below the exact measure.
    #[test]
    fn bounds_hold_on_random_texts() {
        const ALPHABET: &[&str] = &[
            "'", "\"", "r", "#", "b", "c", "/", "*", "!", "(", ")", "[", "]", "{", "}", "\\", "\n",
            "\r", " ", "a", "x", "u", "0", "7", "-", ">", "=", ",", ";", ".", "é", "_",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut lexed = 0;
        for _ in 0..60_000 {
            let len = (next() % 24) as usize;
            let src: String = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            if src.parse::<TokenStream>().is_err() {
                continue;
            }
            lexed += 1;
            if let Some(b) = bounds(&src) {
                let e = exact(&src);
                assert!(b.0 >= e.0 && b.1 >= e.1, "{src:?}: bound {b:?} below {e:?}");
            }
        }
        assert!(lexed > 1000, "{lexed} texts lexed");
    }

    /// Every source file of this workspace: the bound is never below the exact measure.
    #[test]
    fn bounds_hold_on_the_workspace() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let config = crate::config::Config::default();
        let files = crate::discover::walk(&[root], &config, &mut Vec::new());
        assert!(files.len() > 50, "{} files", files.len());
        for f in files {
            let Ok(text) = std::fs::read_to_string(&f) else {
                continue;
            };
            if text.parse::<TokenStream>().is_err() {
                continue;
            }
            let e = exact(&text);
            if let Some(b) = bounds(&text) {
                assert!(b.0 >= e.0 && b.1 >= e.1, "{}: {b:?} < {e:?}", f.display());
            }
        }
    }
}
