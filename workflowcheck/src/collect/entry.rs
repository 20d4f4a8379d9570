//! Recognising workflow entry points and activities from signatures and attributes.

use super::type_last_ident;
use crate::config::{Config, WORKFLOW_METHOD_ATTRS};

fn attr_names(attrs: &[syn::Attribute]) -> impl Iterator<Item = String> + '_ {
    attrs
        .iter()
        .filter_map(|a| a.path().segments.last().map(|s| s.ident.to_string()))
}

/// The context type of the first parameter typed with one of `types`.
fn param_of(sig: &syn::Signature, pred: impl Fn(&str) -> bool) -> Option<String> {
    sig.inputs.iter().find_map(|arg| match arg {
        syn::FnArg::Typed(pt) => type_last_ident(&pt.ty).filter(|t| pred(t)),
        syn::FnArg::Receiver(_) => None,
    })
}

/// Why this function is a workflow entry point, if it is one.
pub fn entry_reason(
    cfg: &Config,
    attrs: &[syn::Attribute],
    sig: &syn::Signature,
    in_workflow_methods: bool,
) -> Option<String> {
    if let Some(t) = param_of(sig, |t| cfg.is_workflow_type(t)) {
        return Some(format!("takes a `{t}` parameter"));
    }
    for a in attr_names(attrs) {
        if in_workflow_methods && WORKFLOW_METHOD_ATTRS.contains(&a.as_str()) {
            return Some(format!("`#[{a}]` method of a `#[workflow_methods]` impl"));
        }
        if cfg.workflow_attributes.contains(&a) {
            return Some(format!("has the configured workflow attribute `#[{a}]`"));
        }
    }
    None
}

/// Is this function an activity (context parameter or `#[activity]`)?
pub fn is_activity(cfg: &Config, attrs: &[syn::Attribute], sig: &syn::Signature) -> bool {
    param_of(sig, |t| cfg.is_activity_type(t)).is_some()
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
            assert!(entry_reason(&cfg, &a, &s, false).is_some(), "{src}");
        }
        let (a, s) = sig_attrs("async fn a(ctx: ActivityContext) {}");
        assert!(entry_reason(&cfg, &a, &s, false).is_none());
        assert!(is_activity(&cfg, &a, &s));
    }

    #[test]
    fn workflow_method_attributes_need_the_impl_marker() {
        let cfg = Config::default();
        let (a, s) = sig_attrs("#[signal] async fn a(&mut self) {}");
        assert!(entry_reason(&cfg, &a, &s, true).is_some());
        assert!(entry_reason(&cfg, &a, &s, false).is_none());
    }
}
