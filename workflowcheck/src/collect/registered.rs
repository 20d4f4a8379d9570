//! Closures bound to a `let` and registered later as workflows:
//! `let greet = |ctx, name| async move { .. }; registry.register("Greet", greet);`. The
//! closure is visited where it is written, before the registration is seen, so the block is
//! scanned ahead for registrations that name the variable.

use syn::visit::Visit;

use super::strip_expr;

/// The `let` statements of `b` that bind a closure a later statement of `b` registers as a
/// workflow, with the registering method. `registers(m)`: the method name that registers
/// workflows when called this way (`register_wf`; `register` on an orchestration registry).
pub fn registered_closures(
    b: &syn::Block,
    registers: &dyn Fn(&syn::ExprMethodCall) -> Option<String>,
) -> Vec<(*const syn::Local, String)> {
    let mut out = Vec::new();
    for (i, stmt) in b.stmts.iter().enumerate() {
        let syn::Stmt::Local(l) = stmt else { continue };
        let Some(init) = &l.init else { continue };
        if !matches!(strip_expr(&init.expr), syn::Expr::Closure(_)) {
            continue;
        }
        let name = match &l.pat {
            syn::Pat::Ident(p) => p.ident.to_string(),
            syn::Pat::Type(pt) => match &*pt.pat {
                syn::Pat::Ident(p) => p.ident.to_string(),
                _ => continue,
            },
            _ => continue,
        };
        let mut finder = Finder {
            name: &name,
            registers,
            found: None,
        };
        for later in &b.stmts[i + 1..] {
            finder.visit_stmt(later);
            if finder.found.is_some() {
                break;
            }
        }
        if let Some(method) = finder.found {
            out.push((l as *const syn::Local, method));
        }
    }
    out
}

struct Finder<'a> {
    name: &'a str,
    registers: &'a dyn Fn(&syn::ExprMethodCall) -> Option<String>,
    found: Option<String>,
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if self.found.is_some() {
            return;
        }
        let names_it = m.args.iter().any(|a| match strip_expr(a) {
            syn::Expr::Path(p) => p.qself.is_none() && p.path.is_ident(self.name),
            _ => false,
        });
        if names_it {
            if let Some(method) = (self.registers)(m) {
                self.found = Some(method);
                return;
            }
        }
        syn::visit::visit_expr_method_call(self, m);
    }

    // A closure or item of its own may shadow the name: not followed.
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}
