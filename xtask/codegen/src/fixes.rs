//! Fixes applied to progenitor's output (syn visitors): a matcher progenitor's
//! httpmock helpers get wrong, and the capped body reader its client must use.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

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

/// Two per-request costs of progenitor's operations, taken out:
/// - Its path parameters go through `encode_path(&x.to_string())`: a
///   `String` of the value, then a `String` of it encoded. Calls go to
///   `crate::api::runtime::encode_path(x)` instead, which encodes the same
///   bytes the same way while `format!` writes the URL.
/// - Its header parameters (and `api-version`) go into a `HeaderMap` of
///   their own that `RequestBuilder::headers` then merges into the
///   request's. They are inserted into the built request's map instead:
///   `insert`, as the merge did, so a header parameter still replaces a
///   default (the `Accept` of a `text/plain` answer).
pub(crate) struct RequestFix;

impl RequestFix {
    fn is_local(stmt: &syn::Stmt, name: &str) -> bool {
        matches!(stmt, syn::Stmt::Local(l) if local_name(l).as_deref() == Some(name))
    }
}

fn local_name(local: &syn::Local) -> Option<String> {
    let pat = match &local.pat {
        syn::Pat::Type(t) => &*t.pat,
        p => p,
    };
    match pat {
        syn::Pat::Ident(i) => Some(i.ident.to_string()),
        _ => None,
    }
}

/// Takes `.headers(header_map)` out of a method chain; whether it was there.
struct DropHeadersCall(bool);

impl syn::visit_mut::VisitMut for DropHeadersCall {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        if let syn::Expr::MethodCall(m) = e {
            let arg_is_map = m.args.len() == 1
                && matches!(&m.args[0], syn::Expr::Path(p) if p.path.is_ident("header_map"));
            if m.method == "headers" && arg_is_map {
                *e = (*m.receiver).clone();
                self.0 = true;
                return self.visit_expr_mut(e);
            }
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}

/// `header_map.append(..)` becomes `header_map.insert(..)`.
struct AppendToInsert;

impl syn::visit_mut::VisitMut for AppendToInsert {
    fn visit_expr_method_call_mut(&mut self, m: &mut syn::ExprMethodCall) {
        if m.method == "append"
            && matches!(&*m.receiver, syn::Expr::Path(p) if p.path.is_ident("header_map"))
        {
            m.method = syn::Ident::new("insert", m.method.span());
        }
        syn::visit_mut::visit_expr_method_call_mut(self, m);
    }
}

impl syn::visit_mut::VisitMut for RequestFix {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let map = block
            .stmts
            .iter()
            .position(|s| Self::is_local(s, "header_map"));
        let request = block
            .stmts
            .iter()
            .position(|s| Self::is_local(s, "request"));
        if let (Some(map), Some(request)) = (map, request) {
            if map < request {
                let mut drop = DropHeadersCall(false);
                syn::visit_mut::VisitMut::visit_stmt_mut(&mut drop, &mut block.stmts[request]);
                if drop.0 {
                    let mut stmts = std::mem::take(&mut block.stmts);
                    let tail = stmts.split_off(request + 1);
                    let request_stmt = stmts.pop().expect("the request statement");
                    let between = stmts.split_off(map + 1);
                    stmts.pop(); // `let mut header_map = HeaderMap::with_capacity(..)`
                                 // Only what fills the map moves after the build; anything
                                 // else there may be what the request is built from.
                    let (mut header_stmts, others): (Vec<_>, Vec<_>) = between
                        .into_iter()
                        .partition(|s| quote!(#s).to_string().contains("header_map"));
                    for s in &mut header_stmts {
                        syn::visit_mut::VisitMut::visit_stmt_mut(&mut AppendToInsert, s);
                    }
                    stmts.extend(others);
                    stmts.push(request_stmt);
                    stmts.push(syn::parse_quote!(let header_map = request.headers_mut();));
                    stmts.extend(header_stmts);
                    stmts.extend(tail);
                    block.stmts = stmts;
                }
            }
        }
        syn::visit_mut::visit_block_mut(self, block);
    }

    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        if matches!(&*call.func, syn::Expr::Path(p) if p.path.is_ident("encode_path"))
            && call.args.len() == 1
        {
            *call.func = syn::parse_quote!(crate::api::runtime::encode_path);
            // `&x.to_string()` -> `&x`
            if let syn::Expr::Reference(r) = &call.args[0] {
                if let syn::Expr::MethodCall(m) = &*r.expr {
                    if m.method == "to_string" && m.args.is_empty() {
                        let inner = &*m.receiver;
                        call.args[0] = syn::parse_quote!(&#inner);
                    }
                }
            }
        }
        syn::visit_mut::visit_expr_call_mut(self, call);
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        // The URL is built by `format!`, whose arguments syn leaves as
        // tokens: they are parsed, fixed and put back.
        if mac.path.is_ident("format") {
            let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
            if let Ok(mut args) = syn::parse::Parser::parse2(parser, mac.tokens.clone()) {
                for arg in args.iter_mut() {
                    self.visit_expr_mut(arg);
                }
                mac.tokens = args.to_token_stream();
            }
        }
        syn::visit_mut::visit_macro_mut(self, mac);
    }

    fn visit_use_tree_mut(&mut self, tree: &mut syn::UseTree) {
        // progenitor's `use progenitor_client::{encode_path, ..}` loses the
        // name nothing calls any more.
        if let syn::UseTree::Group(g) = tree {
            let kept: syn::punctuated::Punctuated<syn::UseTree, syn::Token![,]> = g
                .items
                .iter()
                .filter(|t| !matches!(t, syn::UseTree::Name(n) if n.ident == "encode_path"))
                .cloned()
                .collect();
            g.items = kept;
        }
        syn::visit_mut::visit_use_tree_mut(self, tree);
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
    #[test]
    fn operations_insert_their_headers_and_encode_paths_in_place() {
        let mut file: syn::File = syn::parse_quote! {
            use progenitor_client::{encode_path, ClientHooks};
            impl Client {
                pub async fn get_thing<'a>(&'a self, identifier: &'a str, accept: Option<F>) -> R {
                    let url = format!("{}/api/thing/{}", self.baseurl, encode_path(&identifier.to_string()),);
                    let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
                    header_map.append(
                        ::reqwest::header::HeaderName::from_static("api-version"),
                        ::reqwest::header::HeaderValue::from_static(Self::api_version()),
                    );
                    if let Some(value) = accept {
                        header_map.append("Accept", value.to_string().try_into()?);
                    }
                    let query = vec![("page", 1)];
                    #[allow(unused_mut)]
                    let mut request = self
                        .client
                        .get(url)
                        .header(::reqwest::header::ACCEPT, ::reqwest::header::HeaderValue::from_static("application/json"))
                        .query(&query)
                        .headers(header_map)
                        .build()?;
                    self.exec(request).await
                }
            }
        };
        syn::visit_mut::VisitMut::visit_file_mut(&mut RequestFix, &mut file);
        let text = prettyplease::unparse(&file);
        assert!(
            text.contains("use progenitor_client::ClientHooks;"),
            "{text}"
        );
        assert!(
            text.replace(char::is_whitespace, "")
                .contains("crate::api::runtime::encode_path(&identifier)"),
            "{text}"
        );
        assert!(!text.contains(".headers(header_map)"), "{text}");
        assert!(!text.contains("with_capacity"), "{text}");
        assert!(!text.contains("append"), "{text}");
        let build = text.find(".build()?;").unwrap();
        let map = text
            .find("let header_map = request.headers_mut();")
            .unwrap();
        let first = text.find(r#"from_static("api-version")"#).unwrap();
        let accept = text.find(r#"header_map.insert("Accept""#).unwrap();
        assert!(build < map && map < first && first < accept, "{text}");
        // What the request is built from stays before it.
        assert!(
            text.find("let query").unwrap() < text.find("let mut request").unwrap(),
            "{text}"
        );
    }
}
