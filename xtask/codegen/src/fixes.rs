//! Fixes applied to progenitor's output (syn visitors): a matcher progenitor's
//! httpmock helpers get wrong, and the capped body reader its client must use.

#[allow(unused_imports)]
use crate::prelude::*;

/// progenitor 0.15's httpmock helpers match an array query parameter with
/// `value.to_string()`, which does not compile for a `Vec`. This rewrites
/// such matchers to expect one `name=value` pair per element (how the client
/// sends `identifiers[]`).
pub(crate) struct ArrayQueryFix;

impl syn::visit_mut::VisitMut for ArrayQueryFix {
    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        let takes_vec = f.sig.inputs.iter().any(|arg| {
            matches!(arg, syn::FnArg::Typed(t) if quote!(#t).to_string().contains(":: vec :: Vec <"))
        });
        let body = quote!(#f).to_string();
        if takes_vec && body.contains("query_param") && body.contains("value . to_string ()") {
            if let Some(name) = body
                .split("query_param (")
                .nth(1)
                .and_then(|r| r.split(',').next())
            {
                let name: TokenStream = name.trim().parse().unwrap_or_default();
                f.block = syn::parse_quote!({
                    let mut inner = self.0;
                    for v in value {
                        inner = inner.query_param(#name, v.to_string());
                    }
                    Self(inner)
                });
            }
        }
        syn::visit_mut::visit_impl_item_fn_mut(self, f);
    }
}

/// progenitor-client's `ResponseValue::from_response` reads a body whole
/// with `bytes()` and decodes it with `from_slice`. This points every call
/// of the generated code at `crate::api::body::from_response` instead: one read
/// through the transport's capped reader, one UTF-8 check, `from_str`.
/// Its `ResponseValue::stream` copies the headers; its calls go to
/// `crate::api::body::stream`, which moves them.
pub(crate) struct CappedDecode;

impl syn::visit_mut::VisitMut for CappedDecode {
    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        if let syn::Expr::Path(p) = &*call.func {
            let segs: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let last2: Vec<&str> = segs
                .iter()
                .rev()
                .take(2)
                .rev()
                .map(String::as_str)
                .collect();
            match last2.as_slice() {
                ["ResponseValue", "from_response"] => {
                    *call.func = syn::parse_quote!(crate::api::body::from_response);
                }
                ["ResponseValue", "stream"] => {
                    *call.func = syn::parse_quote!(crate::api::body::stream);
                }
                _ => {}
            }
        }
        syn::visit_mut::visit_expr_call_mut(self, call);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_whole_body_read_goes_through_the_capped_reader() {
        let mut file: syn::File = syn::parse_quote! {
            async fn f(r: reqwest::Response) -> R {
                progenitor_client::ResponseValue::from_response(r).await
            }
            fn g(r: reqwest::Response) -> S {
                ResponseValue::stream(r)
            }
        };
        syn::visit_mut::VisitMut::visit_file_mut(&mut CappedDecode, &mut file);
        let text = quote!(#file).to_string();
        assert!(
            text.contains("crate :: api :: body :: from_response (r)"),
            "{text}"
        );
        assert!(
            text.contains("crate :: api :: body :: stream (r)"),
            "{text}"
        );
        assert!(!text.contains("ResponseValue"), "{text}");
    }

    #[test]
    fn an_array_query_matcher_expects_one_pair_per_element() {
        let mut file: syn::File = syn::parse_quote! {
            impl When {
                pub fn identifiers(self, value: &::std::vec::Vec<String>) -> Self {
                    Self(self.0.query_param("identifiers[]", value.to_string()))
                }
                pub fn page(self, value: u64) -> Self {
                    Self(self.0.query_param("page", value.to_string()))
                }
            }
        };
        syn::visit_mut::VisitMut::visit_file_mut(&mut ArrayQueryFix, &mut file);
        let text = prettyplease::unparse(&file);
        assert!(text.contains("for v in value"), "{text}");
        assert!(
            text.contains(r#"inner.query_param("identifiers[]", v.to_string())"#),
            "{text}"
        );
        // A scalar matcher is left as it was.
        assert!(
            text.contains(r#"query_param("page", value.to_string())"#),
            "{text}"
        );
    }
}
