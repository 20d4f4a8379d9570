//! Recognising workflow entry points and activities from signatures and attributes.

use super::type_last_ident;
use crate::config::{Config, WORKFLOW_METHOD_ATTRS};

fn attr_names(attrs: &[syn::Attribute]) -> impl Iterator<Item = String> + '_ {
    attrs
        .iter()
        .filter_map(|a| a.path().segments.last().map(|s| s.ident.to_string()))
}

/// The context type of the first parameter typed with one of `types` (and whether it is
/// taken by reference). `foreign` rejects a type that resolves outside the program (a
/// configured `Context` is not `std::task::Context`).
fn param_of(
    sig: &syn::Signature,
    pred: impl Fn(&str) -> bool,
    foreign: &dyn Fn(&syn::Type) -> bool,
) -> Option<(String, bool)> {
    sig.inputs.iter().find_map(|arg| match arg {
        syn::FnArg::Typed(pt) => type_last_ident(&pt.ty)
            .filter(|t| pred(t) && !foreign(&pt.ty))
            .map(|t| (t, matches!(&*pt.ty, syn::Type::Reference(_)))),
        syn::FnArg::Receiver(_) => None,
    })
}

/// Why this function is a workflow entry point, if it is one; a context type taken as a
/// parameter is returned with the reason (see [`crate::model::Entry::context_param`]).
pub fn entry_reason(
    cfg: &Config,
    attrs: &[syn::Attribute],
    sig: &syn::Signature,
    in_workflow_methods: bool,
    foreign: &dyn Fn(&syn::Type) -> bool,
) -> Option<(String, Option<String>)> {
    for a in attr_names(attrs) {
        if in_workflow_methods && WORKFLOW_METHOD_ATTRS.contains(&a.as_str()) {
            return Some((
                format!("`#[{a}]` method of a `#[workflow_methods]` impl"),
                None,
            ));
        }
        if cfg.workflow_attributes.contains(&a) {
            return Some((
                format!("has the configured workflow attribute `#[{a}]`"),
                None,
            ));
        }
    }
    if let Some((t, _by_ref)) = param_of(sig, |t| cfg.is_workflow_type(t), foreign) {
        return Some((format!("takes a `{t}` parameter"), Some(t)));
    }
    None
}

/// Is this function an activity (context parameter or `#[activity]`)?
pub fn is_activity(cfg: &Config, attrs: &[syn::Attribute], sig: &syn::Signature) -> bool {
    param_of(sig, |t| cfg.is_activity_type(t), &|_| false).is_some()
        || attr_names(attrs).any(|a| a == "activity")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig_attrs(src: &str) -> (Vec<syn::Attribute>, syn::Signature) {
        let f: syn::ItemFn = syn::parse_str(src).unwrap();
        (f.attrs, f.sig)
    }

    #[test]
    fn context_parameter_forms() {
        let cfg = Config::default();
        for src in [
            "async fn a(ctx: WorkflowContext, x: u8) {}",
            "async fn a(ctx: &mut WorkflowContext<Self>) {}",
            "async fn a(ctx: &temporal::WfContext) {}",
            "async fn a(ctx: SharedWorkflowContext<'_>) {}",
            "fn a(ctx: &SyncWorkflowContext<W>) {}",
        ] {
            let (a, s) = sig_attrs(src);
            assert!(
                entry_reason(&cfg, &a, &s, false, &|_| false).is_some(),
                "{src}"
            );
        }
        let (a, s) = sig_attrs("async fn a(ctx: ActivityContext) {}");
        assert!(entry_reason(&cfg, &a, &s, false, &|_| false).is_none());
        assert!(is_activity(&cfg, &a, &s));
    }

    #[test]
    fn workflow_method_attributes_need_the_impl_marker() {
        let cfg = Config::default();
        let (a, s) = sig_attrs("#[signal] async fn a(&mut self) {}");
        assert!(entry_reason(&cfg, &a, &s, true, &|_| false).is_some());
        assert!(entry_reason(&cfg, &a, &s, false, &|_| false).is_none());
    }
}
