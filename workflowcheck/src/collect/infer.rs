//! Local type inference, as much as resolving calls needs: candidate types of a syn type, of a
//! trait bound, of a function's return type and of an expression (literals, paths, calls,
//! method calls, fields, locals bound earlier), and bindings of patterns to them.

use super::*;

impl Collector<'_> {
    /// Candidate types of a syn type (generics dropped): through references and smart
    /// pointers; a trait object, `impl Trait` or a generic parameter stands for its traits.
    pub(super) fn type_cands(&self, ty: &syn::Type) -> Option<Vec<Segs>> {
        let mut ty = ty;
        loop {
            match peeled(ty) {
                syn::Type::TraitObject(t) => return self.bound_cands(t.bounds.iter()),
                syn::Type::ImplTrait(t) => return self.bound_cands(t.bounds.iter()),
                syn::Type::Path(p) if p.qself.is_none() => {
                    if let Some(inner) = pointer_target(&p.path) {
                        ty = inner;
                        continue;
                    }
                    if let Some(id) = p.path.get_ident() {
                        let name = id.to_string();
                        if let Some(b) = self.generics.iter().rev().find_map(|g| g.get(&name)) {
                            return (!b.is_empty()).then(|| b.clone());
                        }
                    }
                    return Some(self.res.resolve(&ident_segs(&p.path)));
                }
                _ => return None,
            }
        }
    }

    /// Candidate paths of the traits in `bounds` that give a value methods.
    pub(super) fn bound_cands<'b>(
        &self,
        bounds: impl Iterator<Item = &'b syn::TypeParamBound>,
    ) -> Option<Vec<Segs>> {
        let mut out = Vec::new();
        for b in bounds {
            if let syn::TypeParamBound::Trait(t) = b {
                let segs = ident_segs(&t.path);
                if segs
                    .last()
                    .is_some_and(|l| !MARKER_TRAITS.contains(&l.as_str()))
                {
                    out.extend(self.res.resolve(&segs));
                }
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// The returned type's candidates, through `Result`/`Option` (what `?` takes out).
    pub(super) fn ret_cands(&self, output: &syn::ReturnType) -> Vec<Segs> {
        let syn::ReturnType::Type(_, ty) = output else {
            return Vec::new();
        };
        let mut ty: &syn::Type = ty;
        for _ in 0..4 {
            let syn::Type::Path(p) = ty else { break };
            let Some(last) = p.path.segments.last() else {
                break;
            };
            if !matches!(last.ident.to_string().as_str(), "Result" | "Option") {
                break;
            }
            match &last.arguments {
                syn::PathArguments::AngleBracketed(a) => match a.args.first() {
                    Some(syn::GenericArgument::Type(inner)) => ty = inner,
                    _ => return Vec::new(),
                },
                _ => return Vec::new(),
            }
        }
        self.type_cands(ty).unwrap_or_default()
    }

    /// Generic parameters of `generics` with their trait bounds (inline and `where`).
    pub(super) fn generic_bounds(&self, generics: &syn::Generics) -> HashMap<String, Vec<Segs>> {
        let mut out: HashMap<String, Vec<Segs>> = HashMap::new();
        for p in &generics.params {
            if let syn::GenericParam::Type(t) = p {
                let b = self.bound_cands(t.bounds.iter()).unwrap_or_default();
                out.entry(t.ident.to_string()).or_default().extend(b);
            }
        }
        if let Some(w) = &generics.where_clause {
            for pred in &w.predicates {
                if let syn::WherePredicate::Type(t) = pred {
                    if let syn::Type::Path(p) = &t.bounded_ty {
                        if let Some(id) = p.path.get_ident() {
                            if let Some(e) = out.get_mut(&id.to_string()) {
                                e.extend(self.bound_cands(t.bounds.iter()).unwrap_or_default());
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// The type of an expression as far as the call graph can tell it: what [`Self::infer`]
    /// knows, else a field's, a function's or a method's return type, resolved later.
    pub(super) fn infer_deferred(&self, e: &syn::Expr) -> Option<TypeExpr> {
        self.infer_deferred_within(e, MAX_TYPE_EXPR_DEPTH)
    }

    /// [`Self::infer_deferred`], giving up beyond `budget` levels (so a chain of `n` calls
    /// costs O(min(n, budget)) at each of its calls, not O(n)).
    pub(super) fn infer_deferred_within(&self, e: &syn::Expr, budget: usize) -> Option<TypeExpr> {
        let budget = budget.checked_sub(1)?;
        let mut e = strip_expr(e);
        loop {
            match e {
                syn::Expr::Try(t) => e = strip_expr(&t.expr),
                syn::Expr::Await(a) => e = strip_expr(&a.base),
                _ => break,
            }
        }
        let te = match e {
            syn::Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
                let n = p.path.segments[0].ident.to_string();
                match self.infer(e) {
                    Some(t) if !t.is_empty() => TypeExpr::Paths(t),
                    _ => self.frames.last()?.deferred.get(&n)?.clone(),
                }
            }
            syn::Expr::Field(f) => {
                let syn::Member::Named(field) = &f.member else {
                    return None;
                };
                let base = self.infer_deferred_within(&f.base, budget)?;
                TypeExpr::Field(Box::new(base), field.to_string())
            }
            syn::Expr::Call(c) => {
                let syn::Expr::Path(p) = &*c.func else {
                    return None;
                };
                if p.qself.is_some() {
                    return None;
                }
                TypeExpr::Return(self.res.resolve(&ident_segs(&p.path)))
            }
            syn::Expr::MethodCall(m) => {
                let name = m.method.to_string();
                let base = self.infer_deferred_within(&m.receiver, budget)?;
                if SAME_TYPE_METHODS.contains(&name.as_str()) {
                    base
                } else {
                    TypeExpr::MethodReturn(Box::new(base), name)
                }
            }
            _ => match self.infer(e) {
                Some(t) if !t.is_empty() => TypeExpr::Paths(t),
                _ => return None,
            },
        };
        Some(te)
    }

    pub(super) fn env_type(&self, name: &str) -> Option<&Vec<Segs>> {
        self.frames.last()?.env.get(name)
    }

    /// Best-effort type of an expression.
    pub(super) fn infer(&self, e: &syn::Expr) -> Option<Vec<Segs>> {
        match strip_expr(e) {
            syn::Expr::Path(p) if p.qself.is_none() => {
                if p.path.segments.len() == 1 {
                    let n = p.path.segments[0].ident.to_string();
                    if n == "self" {
                        return self.res.self_ty.last().cloned().flatten().map(|t| vec![t]);
                    }
                    return self.env_type(&n).cloned();
                }
                None
            }
            syn::Expr::Call(c) => {
                let syn::Expr::Path(p) = &*c.func else {
                    return None;
                };
                if p.qself.is_some() || p.path.segments.len() < 2 {
                    return None;
                }
                let ty_seg = &p.path.segments[p.path.segments.len() - 2].ident.to_string();
                if !ty_seg.starts_with(|c: char| c.is_uppercase()) {
                    return None;
                }
                let cands = self.res.resolve(&ident_segs(&p.path));
                Some(
                    cands
                        .into_iter()
                        .map(|mut c| {
                            c.pop();
                            c
                        })
                        .collect(),
                )
            }
            syn::Expr::MethodCall(m) => match m.method.to_string().as_str() {
                "collect" => {
                    let tf = m.turbofish.as_ref()?;
                    match tf.args.first()? {
                        syn::GenericArgument::Type(t) => self.type_cands(t),
                        _ => None,
                    }
                }
                "clone" | "to_owned" | "unwrap" | "expect" => self.infer(&m.receiver),
                _ => None,
            },
            syn::Expr::Struct(s) if s.qself.is_none() => {
                Some(self.res.resolve(&ident_segs(&s.path)))
            }
            _ => None,
        }
    }

    pub(super) fn bind_pat(&mut self, pat: &syn::Pat, ty: Option<Vec<Segs>>) {
        let Some(frame) = self.frames.last_mut() else {
            return;
        };
        match pat {
            syn::Pat::Ident(i) => {
                let name = i.ident.to_string();
                frame.deferred.remove(&name);
                frame.shared.remove(&name);
                match ty {
                    Some(t) => {
                        frame.env.insert(name, t);
                    }
                    None => {
                        frame.env.remove(&name);
                    }
                }
            }
            syn::Pat::Type(pt) => {
                let t = self.type_cands(&pt.ty);
                self.bind_pat(&pt.pat, t);
            }
            _ => {}
        }
    }
}
