//! In sandbox mode, the simulator's control routes (`/sandbox/_sandbox/…`: its request
//! log, which holds what the proxy sent to `/auth/renew`, faults, reset) are for the
//! developer at this machine and for tests, not for whoever can reach the port: they
//! answer only a TCP peer on loopback that came through no proxy (a request carrying
//! `Forwarded` or `X-Forwarded-For` was relayed, possibly from anywhere), unless
//! `MEND_SANDBOX_CONTROLS=anywhere`. Everything else the sandbox serves (its API, the
//! webview, the bank pages) stays public: that is what the demo needs.

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

use crate::error::ApiError;

/// Where the control routes live under the sandbox's nest.
const CONTROLS: &str = "/_sandbox";

/// The sandbox's router, its control routes limited to local callers unless
/// `anywhere`.
pub fn guarded(sandbox: &mend_sandbox::Sandbox, anywhere: bool) -> axum::Router {
    let router = sandbox.router();
    if anywhere {
        router
    } else {
        router.layer(axum::middleware::from_fn(local_controls_only))
    }
}

async fn local_controls_only(req: Request, next: Next) -> Response {
    if req.uri().path().starts_with(CONTROLS) && !is_local(&req) {
        tracing::warn!("sandbox control route refused to a caller that is not on loopback");
        return ApiError::NotFound.into_response();
    }
    next.run(req).await
}

fn is_local(req: &Request) -> bool {
    let relayed = ["forwarded", "x-forwarded-for"]
        .iter()
        .any(|h| req.headers().contains_key(*h));
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    !relayed && peer.is_some_and(|ip| ip.is_loopback() || ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, headers: &[(&str, &str)]) -> Request {
        let mut b = axum::http::Request::get("/_sandbox/requests");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let mut req = b.body(axum::body::Body::empty()).unwrap();
        let addr: SocketAddr = peer.parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(addr));
        req
    }

    #[test]
    fn only_a_direct_caller_on_loopback_is_local() {
        assert!(is_local(&request("127.0.0.1:5000", &[])));
        assert!(is_local(&request("[::1]:5000", &[])));
        assert!(is_local(&request("[::ffff:127.0.0.1]:5000", &[])));
        assert!(!is_local(&request("10.1.2.3:5000", &[])));
        assert!(!is_local(&request("[2001:db8::1]:5000", &[])));
        assert!(!is_local(&request(
            "127.0.0.1:5000",
            &[("x-forwarded-for", "203.0.113.9")]
        )));
        assert!(!is_local(&request(
            "127.0.0.1:5000",
            &[("forwarded", "for=203.0.113.9")]
        )));
        let mut no_peer = request("127.0.0.1:5000", &[]);
        no_peer.extensions_mut().remove::<ConnectInfo<SocketAddr>>();
        assert!(!is_local(&no_peer));
    }
}
