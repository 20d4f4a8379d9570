//! Small readings of syn syntax the collector shares: a type with its references peeled, the
//! target of a smart pointer, a path's segments and location, test and serializer attributes,
//! an expression stripped of parentheses and references, and its text.

use super::*;

/// The `T` of `Box<T>`, `Arc<T>`, `Rc<T>`, `Pin<T>` (also written with a path).
pub(super) fn pointer_target(path: &syn::Path) -> Option<&syn::Type> {
    let last = path.segments.last()?;
    if !POINTERS.contains(&last.ident.to_string().as_str()) {
        return None;
    }
    match &last.arguments {
        syn::PathArguments::AngleBracketed(a) => match a.args.first()? {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// A type with its references, parentheses and invisible groups taken off.
pub(super) fn peeled(mut ty: &syn::Type) -> &syn::Type {
    loop {
        match ty {
            syn::Type::Reference(r) => ty = &r.elem,
            syn::Type::Paren(p) => ty = &p.elem,
            syn::Type::Group(g) => ty = &g.elem,
            _ => return ty,
        }
    }
}

/// Last segment of a type, through references, parens and groups.
pub fn type_last_ident(ty: &syn::Type) -> Option<String> {
    match peeled(ty) {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

pub(super) fn ident_segs(path: &syn::Path) -> Segs {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

pub(super) fn attr_last(attr: &syn::Attribute) -> String {
    attr.path()
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// `#[cfg(test)]` (or `cfg(all(test, ..))`) without `not`.
pub fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && match &a.meta {
                syn::Meta::List(l) => {
                    let mut has_test = false;
                    let mut has_not = false;
                    let mut stack = vec![l.tokens.clone()];
                    while let Some(ts) = stack.pop() {
                        for t in ts {
                            match t {
                                TokenTree::Ident(i) if i == "test" => has_test = true,
                                TokenTree::Ident(i) if i == "not" => has_not = true,
                                TokenTree::Group(g) => stack.push(g.stream()),
                                _ => {}
                            }
                        }
                    }
                    has_test && !has_not
                }
                _ => false,
            }
    })
}

pub(super) fn is_test_fn(attrs: &[syn::Attribute]) -> bool {
    is_cfg_test(attrs)
        || attrs
            .iter()
            .any(|a| matches!(attr_last(a).as_str(), "test" | "bench"))
}

/// `serde_json::to_string` and other serialisers, which write a map in iteration order.
pub(super) fn is_serializer(segs: &[String]) -> bool {
    segs.len() >= 2
        && matches!(
            segs[0].as_str(),
            "serde_json"
                | "serde_yaml"
                | "bincode"
                | "toml"
                | "ron"
                | "rmp_serde"
                | "ciborium"
                | "postcard"
        )
        && segs
            .last()
            .is_some_and(|l| l.starts_with("to_") || l == "serialize")
}

/// `Loc::of(path.span())` without printing the path to tokens, which is what `Spanned` does
/// for it: the span from the path's first token to its last (paths with parenthesized
/// arguments, `Fn(A) -> B`, are left to `Spanned`).
pub(super) fn path_loc(path: &syn::Path) -> Loc {
    let (Some(first_seg), Some(last_seg)) = (path.segments.first(), path.segments.last()) else {
        return Loc::of(path.span());
    };
    let first = match &path.leading_colon {
        Some(colons) => colons.spans[0],
        None => first_seg.ident.span(),
    };
    let last = match &last_seg.arguments {
        _ if path.segments.trailing_punct() => return Loc::of(path.span()),
        syn::PathArguments::None => last_seg.ident.span(),
        syn::PathArguments::AngleBracketed(a) => a.gt_token.span,
        syn::PathArguments::Parenthesized(_) => return Loc::of(path.span()),
    };
    Loc::between(first, last)
}

/// `Loc::of(p.span())` of a path expression, through [`path_loc`] when it is a plain path.
pub(super) fn expr_path_loc(p: &syn::ExprPath) -> Loc {
    if p.attrs.is_empty() && p.qself.is_none() {
        path_loc(&p.path)
    } else {
        Loc::of(p.span())
    }
}

pub(super) fn strip_expr(mut e: &syn::Expr) -> &syn::Expr {
    loop {
        match e {
            syn::Expr::Reference(r) => e = &r.expr,
            syn::Expr::Paren(p) => e = &p.expr,
            syn::Expr::Group(g) => e = &g.expr,
            _ => return e,
        }
    }
}

pub(super) fn single_ident(e: &syn::Expr) -> Option<String> {
    match strip_expr(e) {
        syn::Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            Some(p.path.segments[0].ident.to_string())
        }
        _ => None,
    }
}

pub(super) fn expr_text(e: &syn::Expr) -> String {
    match strip_expr(e) {
        syn::Expr::Path(p) => ident_segs(&p.path).join("::"),
        syn::Expr::Field(f) => {
            let m = match &f.member {
                syn::Member::Named(i) => i.to_string(),
                syn::Member::Unnamed(i) => i.index.to_string(),
            };
            format!("{}.{m}", expr_text(&f.base))
        }
        syn::Expr::MethodCall(m) => format!("{}.{}()", expr_text(&m.receiver), m.method),
        syn::Expr::Call(c) => format!("{}(..)", expr_text(&c.func)),
        _ => "..".into(),
    }
}
