//! The collector's walk over a file's syntax: items (functions, impls, modules, statics),
//! blocks and locals, closures, calls, method calls, paths, loops and macros, each recorded in
//! the frame of the function it is in.

use super::*;

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, i: &'ast syn::Item) {
        match i {
            syn::Item::Fn(f) if !self.is_test_item(&f.attrs) => {
                let public = matches!(f.vis, syn::Visibility::Public(_));
                self.function(&f.attrs, &f.sig, &f.block, None, public);
            }
            syn::Item::Mod(m) => {
                if self.is_test_item(&m.attrs) {
                    return;
                }
                if let Some((_, items)) = &m.content {
                    let mut module = self.res.real_module();
                    module.push(m.ident.to_string());
                    let hidden = self.hidden.last().copied().unwrap_or(false)
                        || !matches!(m.vis, syn::Visibility::Public(_))
                        || !self.frames.is_empty();
                    self.hidden.push(hidden);
                    self.push_scope(module, false, items.iter());
                    for it in items {
                        self.visit_item(it);
                    }
                    self.res.scopes.pop();
                    self.hidden.pop();
                }
            }
            syn::Item::Impl(imp) => {
                if self.is_test_item(&imp.attrs) {
                    return;
                }
                let bounds = self.generic_bounds(&imp.generics);
                self.generics.push(bounds);
                let ty = self
                    .type_cands(&imp.self_ty)
                    .and_then(|c| c.into_iter().next());
                let of_trait = imp.trait_.is_some();
                let traits = match &imp.trait_ {
                    Some((_, path, _)) => self.res.resolve(&ident_segs(path)),
                    None => Vec::new(),
                };
                if let Some(t) = &ty {
                    if !traits.is_empty() {
                        self.out.trait_impls.push((traits.clone(), t.clone()));
                    }
                }
                self.impl_traits.push(traits);
                let shown = type_last_ident(&imp.self_ty).unwrap_or_else(|| "_".into());
                let sdk = self.cfg.is_workflow_type(&shown);
                let wm = imp.attrs.iter().any(|a| attr_last(a) == "workflow_methods");
                self.res.self_ty.push(ty.clone());
                self.impl_flags.push((wm, sdk));
                let owner = ty.unwrap_or_else(|| {
                    let mut m = self.res.module();
                    m.push(shown.clone());
                    m
                });
                for item in &imp.items {
                    match item {
                        syn::ImplItem::Fn(f) if !self.is_test_item(&f.attrs) => {
                            let public = of_trait || matches!(f.vis, syn::Visibility::Public(_));
                            self.function(
                                &f.attrs,
                                &f.sig,
                                &f.block,
                                Some((&owner, shown.clone())),
                                public,
                            );
                        }
                        syn::ImplItem::Macro(m) => self.visit_macro(&m.mac),
                        _ => {}
                    }
                }
                self.impl_flags.pop();
                self.res.self_ty.pop();
                self.generics.pop();
                self.impl_traits.pop();
            }
            syn::Item::Trait(t) => {
                if self.is_test_item(&t.attrs) {
                    return;
                }
                let mut owner = self.res.module();
                owner.push(t.ident.to_string());
                if let Some(a) = t
                    .attrs
                    .iter()
                    .map(attr_last)
                    .find(|a| ENTRY_TRAIT_ATTRS.contains(&a.as_str()))
                {
                    self.out.entry_traits.push((owner.clone(), a));
                }
                self.impl_traits.push(Vec::new());
                self.res.self_ty.push(Some(owner.clone()));
                self.impl_flags
                    .push((false, self.cfg.is_workflow_type(&t.ident.to_string())));
                for item in &t.items {
                    if let syn::TraitItem::Fn(f) = item {
                        if let Some(b) = &f.default {
                            if !self.is_test_item(&f.attrs) {
                                self.function(
                                    &f.attrs,
                                    &f.sig,
                                    b,
                                    Some((&owner, t.ident.to_string())),
                                    true,
                                );
                            }
                        }
                    }
                }
                self.impl_flags.pop();
                self.res.self_ty.pop();
                self.impl_traits.pop();
            }
            syn::Item::Static(s) => {
                if self.is_test_item(&s.attrs) {
                    return;
                }
                let mutable = matches!(s.mutability, syn::StaticMutability::Mut(_));
                let item = StaticItem {
                    ty: Some(&s.ty),
                    mutable,
                    declared_by: None,
                };
                if let Some(what) = rules::static_item(&item) {
                    self.register_statics(vec![s.ident.to_string()], &what);
                }
            }
            syn::Item::Struct(s) => {
                if self.is_test_item(&s.attrs) {
                    return;
                }
                if self.cfg.is_workflow_type(&s.ident.to_string()) {
                    let mut q = self.res.module();
                    q.push(s.ident.to_string());
                    self.out.context_defs.push(q);
                }
                let mut owner = self.res.module();
                owner.push(s.ident.to_string());
                let bounds = self.generic_bounds(&s.generics);
                self.generics.push(bounds);
                for f in &s.fields {
                    let Some(name) = &f.ident else { continue };
                    if let Some(t) = self.type_cands(&f.ty) {
                        let mut k = owner.clone();
                        k.push(name.to_string());
                        self.out.field_types.push((k, t));
                    }
                    if let Some(what) = rules::shared_field(&f.ty) {
                        let mut k = owner.clone();
                        k.push(name.to_string());
                        self.out.shared_fields.push((k, what));
                    }
                    if let Some(kind) = self
                        .type_cands(&f.ty)
                        .and_then(|c| c.iter().find_map(|c| rules::unordered_collection(c)))
                    {
                        let mut k = owner.clone();
                        k.push(name.to_string());
                        self.out.unordered_fields.push((k, kind));
                    }
                }
                self.generics.pop();
            }
            syn::Item::Macro(m) if !self.is_test_item(&m.attrs) => {
                self.visit_macro(&m.mac);
            }
            _ => {}
        }
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.note_sorted_locals(b);
        let registered = registered::registered_closures(b, &|m| self.registers_workflow(m));
        self.registered_locals.extend(registered);
        let has_items = b.stmts.iter().any(|s| matches!(s, syn::Stmt::Item(_)));
        if has_items {
            let module = self
                .frames
                .last()
                .map(|f| f.info.qual.clone())
                .unwrap_or_else(|| self.res.module());
            let items: Vec<&syn::Item> = b
                .stmts
                .iter()
                .filter_map(|s| match s {
                    syn::Stmt::Item(i) => Some(i),
                    _ => None,
                })
                .collect();
            self.push_scope(module, true, items.iter().copied());
            visit::visit_block(self, b);
            self.res.scopes.pop();
        } else {
            visit::visit_block(self, b);
        }
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        if let Some(init) = &l.init {
            // `let v: BTreeSet<_> = m.keys().collect();`, or `v` sorted later in the block.
            let sorted = self.sorted_locals.contains(&(l as *const syn::Local))
                || match &l.pat {
                    syn::Pat::Type(pt) => type_last_ident(&pt.ty)
                        .is_some_and(|n| UNORDERED_SINKS.contains(&n.as_str())),
                    _ => false,
                };
            if sorted {
                if let syn::Expr::MethodCall(m) = strip_expr(&init.expr) {
                    self.consumer = Some((m as *const syn::ExprMethodCall, SORTED.to_string()));
                }
            }
            if let Some(method) = self.registered_locals.get(&(l as *const syn::Local)) {
                self.force_entry = Some(method.clone());
            }
            self.visit_expr(&init.expr);
            self.force_entry = None;
            if let Some((_, e)) = &init.diverge {
                self.visit_expr(e);
            }
        }
        let ty = match &l.pat {
            syn::Pat::Type(_) => None,
            _ => l.init.as_ref().and_then(|i| self.infer(&i.expr)),
        };
        let deferred = match (&l.pat, &ty, &l.init) {
            (syn::Pat::Ident(_), None, Some(init)) => self.infer_deferred(&init.expr),
            _ => None,
        };
        let shared = self.frames.last().and_then(|f| {
            let from_init = l
                .init
                .as_ref()
                .and_then(|i| captures::of_init(&i.expr, &f.shared));
            from_init.or_else(|| match &l.pat {
                syn::Pat::Type(pt) => captures::of_type(&pt.ty).map(captures::Shared::made),
                _ => None,
            })
        });
        self.bind_pat(&l.pat, ty);
        self.bind_shared(&l.pat, shared);
        if let (syn::Pat::Ident(i), Some(te), Some(frame)) =
            (&l.pat, deferred, self.frames.last_mut())
        {
            frame.deferred.insert(i.ident.to_string(), te);
        }
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        let mut ctx_ty = None;
        let mut activity = false;
        for input in &c.inputs {
            if let syn::Pat::Type(pt) = input {
                if let Some(t) = type_last_ident(&pt.ty) {
                    if self.cfg.is_workflow_type(&t) {
                        ctx_ty = Some(t);
                    } else if self.cfg.is_activity_type(&t) {
                        activity = true;
                    }
                }
            }
        }
        if activity {
            return; // activity code is never workflow code
        }
        let forced = self.force_entry.take();
        // A closure that is an entry only because it takes a context is, inside the crate that
        // defines that context, the runtime's own code (as for functions, `Entry::context_param`).
        let context_param = ctx_ty.clone().filter(|_| forced.is_none());
        let reason = match (ctx_ty, forced) {
            (Some(t), _) => Some(format!("closure taking a `{t}`")),
            (None, Some(m)) => Some(format!("closure registered with `{m}`")),
            _ => None,
        };
        let Some(reason) = reason else {
            for input in &c.inputs {
                self.bind_pat(input, None);
            }
            self.visit_expr(&c.body);
            return;
        };
        let loc = Loc::of(c.or1_token.span);
        let captured = self
            .frames
            .last()
            .map(|f| captures::captured_by_entry(&f.shared, f.info.entry.is_some()))
            .unwrap_or_default();
        let (mut qual, enclosing) = match self.frames.last() {
            Some(f) => (f.info.qual.clone(), f.info.name.clone()),
            None => (self.res.module(), "<item>".to_string()),
        };
        qual.push(format!("{{closure#{}:{}}}", loc.line, loc.column));
        self.start_fn(qual, format!("{enclosing}::{{closure}}"), loc);
        if let Some(f) = self.frames.last_mut() {
            f.info.entry = Some(Entry {
                reason,
                context_param,
            });
            f.shared = captured;
        }
        for input in &c.inputs {
            if let syn::Pat::Type(pt) = input {
                let t = self.type_cands(&pt.ty);
                self.bind_pat(&pt.pat, t);
            }
        }
        self.visit_expr(&c.body);
        self.finish_fn();
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func {
            let segs = ident_segs(&p.path);
            let loc = expr_path_loc(p);
            let shown = segs.join("::");
            if p.qself.is_none() && !segs.is_empty() {
                let r = self.res.resolve_ex(&segs);
                if r.cands.iter().any(|c| is_serializer(c)) {
                    for a in &c.args {
                        if let Some(kind) = self.unordered_kind(a) {
                            let how = format!("serialising `{}`", expr_text(a));
                            self.unordered_iteration(kind, &how, Loc::of(a.span()));
                        }
                    }
                }
                if self.check_path(&r, &shown, loc).is_none() {
                    self.call_site(CallSite {
                        loc,
                        kind: CallKind::Call,
                        candidates: r.cands,
                        display: shown,
                        args: Some(c.args.len()),
                        receiver: None,
                    });
                }
            }
            let last = segs.last().map(String::as_str).unwrap_or("");
            if REGISTER_ACTIVITY.contains(&last) {
                self.register_activity_args(c.args.iter());
            }
            // `Arc::clone(&x)` and `drop(x)` only copy or let go of the handle.
            if !matches!(last, "clone" | "drop") {
                for a in &c.args {
                    self.captured_arg(a);
                }
            }
        } else {
            self.visit_expr(&c.func);
        }
        for a in &c.args {
            self.visit_expr(a);
        }
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let consumer = match self.consumer.take() {
            Some((node, consumer)) if std::ptr::eq(node, m) => Some(consumer),
            _ => None,
        };
        let name = m.method.to_string();
        let loc = Loc::of(m.method.span());
        let recv_ctx = self.is_ctx_expr(&m.receiver);
        // Only a workflow context's own side-effect methods record their closure's result;
        // a method of the same name on anything else is ordinary code.
        if recv_ctx
            && (SAFE_ZONE_METHODS.contains(&name.as_str()) || name == "run" || name == "run_async")
        {
            self.visit_expr(&m.receiver);
            return;
        }
        if REGISTER_ACTIVITY.contains(&name.as_str()) {
            self.visit_expr(&m.receiver);
            self.register_activity_args(m.args.iter());
            return;
        }
        if name != "clone" {
            self.captured_use(&m.receiver, || loc);
            for a in &m.args {
                self.captured_arg(a);
            }
        }
        let recv_ty = self.infer(&m.receiver);
        let mut hit = rules::method_call(&MethodCall {
            method: &name,
            receiver_types: recv_ty.as_deref(),
            imported: &self.imported,
        });
        if hit.is_none() && rules::iterates(&name, consumer.as_deref()) {
            let kind = recv_ty
                .as_ref()
                .and_then(|t| t.iter().find_map(|c| rules::unordered_collection(c)));
            let how = format!("`.{name}()` on `{}`", expr_text(&m.receiver));
            match kind {
                Some(kind) => hit = rules::unordered_iteration(kind, &how),
                None => self.field_iter(&m.receiver, loc, how),
            }
        }
        if let Some(h) = hit {
            self.hit(h, loc);
        } else if !recv_ctx {
            let is_self = single_ident(&m.receiver).is_some_and(|n| n == "self");
            let (candidates, receiver) = match recv_ty {
                Some(tys) if is_self || !tys.is_empty() => {
                    let cands = tys
                        .into_iter()
                        .map(|mut t| {
                            t.push(name.clone());
                            t
                        })
                        .collect();
                    (cands, None)
                }
                _ => (Vec::new(), self.infer_deferred(&m.receiver)),
            };
            self.call_site(CallSite {
                loc,
                kind: CallKind::Method(name.clone()),
                candidates,
                display: format!(".{name}()"),
                args: Some(m.args.len()),
                receiver,
            });
        }
        if let syn::Expr::MethodCall(inner) = strip_expr(&m.receiver) {
            // Through order-preserving adapters, the iteration's consumer is the chain's end
            // (`.iter().filter(..).count()` is consumed by `count`); a `collect` into a set or
            // a sorted map, or whose result is sorted next, is order-insensitive.
            let effective = if ORDER_ADAPTERS.contains(&name.as_str()) {
                consumer.clone().unwrap_or_else(|| name.clone())
            } else if name == "collect" {
                let into_set = m.turbofish.as_ref().is_some_and(|t| {
                    t.args.first().is_some_and(|a| match a {
                        syn::GenericArgument::Type(ty) => type_last_ident(ty)
                            .is_some_and(|n| UNORDERED_SINKS.contains(&n.as_str())),
                        _ => false,
                    })
                });
                match consumer.as_deref() {
                    _ if into_set => SORTED.to_string(),
                    Some(c) if c == SORTED => SORTED.to_string(),
                    _ => name.clone(),
                }
            } else {
                name.clone()
            };
            self.consumer = Some((inner as *const syn::ExprMethodCall, effective));
        }
        self.visit_expr(&m.receiver);
        let forced = self.registers_workflow(m);
        for a in &m.args {
            if forced.is_some() && matches!(a, syn::Expr::Closure(_)) {
                self.force_entry = forced.clone();
            }
            self.visit_expr(a);
            self.force_entry = None;
        }
    }

    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if p.qself.is_some() {
            return;
        }
        let segs = ident_segs(&p.path);
        let Some(first) = segs.first() else { return };
        if segs.len() == 1 {
            if matches!(
                first.as_str(),
                "None" | "Some" | "Ok" | "Err" | "self" | "Self" | "Default"
            ) {
                return;
            }
            let upper = first.starts_with(|c: char| c.is_uppercase());
            let local_var = self.env_type(first).is_some();
            if local_var || (!upper && !self.res.is_bound(first)) {
                return;
            }
        }
        let loc = expr_path_loc(p);
        let shown = segs.join("::");
        let r = self.res.resolve_ex(&segs);
        if self.check_path(&r, &shown, loc).is_none() {
            self.call(loc, CallKind::Ref, r.cands, shown);
        }
    }

    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        let loc = Loc::of(f.for_token.span);
        let text = expr_text(&f.expr);
        let target = strip_expr(&f.expr);
        match target {
            syn::Expr::Path(_) => {
                if let Some(kind) = self.unordered_kind(target) {
                    self.unordered_iteration(kind, &format!("`for` loop over `{text}`"), loc);
                }
            }
            syn::Expr::Field(_) => {
                self.field_iter(target, loc, format!("`for` loop over `{text}`"))
            }
            _ => {}
        }
        self.visit_expr(&f.expr);
        self.bind_pat(&f.pat, None);
        self.visit_block(&f.body);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        let segs = ident_segs(&m.path);
        let Some(name) = segs.last().cloned() else {
            return;
        };
        if STATIC_MACROS.contains(&name.as_str()) {
            let item = StaticItem {
                ty: None,
                mutable: false,
                declared_by: Some(&name),
            };
            if let Some(what) = rules::static_item(&item) {
                self.register_statics(macro_statics(&m.tokens), &what);
            }
            return;
        }
        if OPAQUE_MACROS.contains(&name.as_str()) || self.frames.is_empty() {
            return;
        }
        let loc = path_loc(&m.path);
        let r = self.res.resolve_ex(&segs);
        if r.local {
            self.visit_macro_body(&m.tokens);
            return;
        }
        let hit = r.cands.iter().find_map(|c| rules::macro_call(c, &m.tokens));
        if let Some(h) = hit {
            self.hit(h, loc);
        }
        if FORMAT_MACROS.contains(&name.as_str()) {
            self.check_debug_format(&m.tokens);
        }
        self.visit_macro_body(&m.tokens);
    }

    // Types, attributes and patterns hold nothing the rules look at.
    fn visit_type(&mut self, _: &'ast syn::Type) {}
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}
    fn visit_pat(&mut self, _: &'ast syn::Pat) {}
}
