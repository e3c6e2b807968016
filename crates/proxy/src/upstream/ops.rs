//! The Powens operations Mend uses, each one [`Request`] sent through
//! [`PowensClient::send`]: what is asked, with which method, query and body, and
//! whether it is a read or a submission to the bank.

use mend_model::{AuthCode, Connection, ConnectionList, WebauthUrl};
use reqwest::Method;
use serde_json::json;

use super::{PowensClient, Request, UpstreamError};
use crate::budget::Priority;

/// What every connection read and write expands.
const EXPAND: &str = "connector,sources";

impl PowensClient {
    /// The user's connection, with its connector and sources.
    pub async fn connection(
        &self,
        user: i64,
        id: i64,
        priority: Priority,
    ) -> Result<Connection, UpstreamError> {
        let req = Request::read(
            "get_connection",
            format!("/users/me/connections/{id}"),
            priority,
        )
        .query("expand", EXPAND);
        self.send(Some(user), &req).await
    }

    /// Every connection of the user, with connectors and sources, in one request.
    pub async fn connections(
        &self,
        user: i64,
        priority: Priority,
    ) -> Result<ConnectionList, UpstreamError> {
        let req = Request::read("list_connections", "/users/me/connections", priority)
            .query("expand", EXPAND);
        self.send(Some(user), &req).await
    }

    /// Posts field values (an OTP, new credentials) on the connection.
    pub async fn submit_fields(
        &self,
        user: i64,
        id: i64,
        values: &std::collections::BTreeMap<String, String>,
    ) -> Result<Connection, UpstreamError> {
        let body =
            serde_json::to_value(values).map_err(|e| UpstreamError::Malformed(e.to_string()))?;
        let req = Request::submission(
            "submit_fields",
            Method::POST,
            format!("/users/me/connections/{id}"),
        )
        .query("expand", EXPAND)
        .body(body);
        self.send(Some(user), &req).await
    }

    /// Resumes a decoupled connection in the background.
    pub async fn resume(&self, user: i64, id: i64) -> Result<Connection, UpstreamError> {
        let req = Request::submission(
            "resume",
            Method::POST,
            format!("/users/me/connections/{id}"),
        )
        .query("background", "true")
        .query("expand", EXPAND)
        .body(json!({"resume": true}));
        self.send(Some(user), &req).await
    }

    /// Synchronises the connection now, user present.
    pub async fn sync(&self, user: i64, id: i64) -> Result<Connection, UpstreamError> {
        let req = Request::submission("sync", Method::PUT, format!("/users/me/connections/{id}"))
            .query("expand", EXPAND);
        self.send(Some(user), &req).await
    }

    /// Mints a single-use temporary code for the webview.
    pub async fn single_access_code(&self, user: i64) -> Result<AuthCode, UpstreamError> {
        let req = Request::read("token_code", "/auth/token/code", Priority::User)
            .query("type", "singleAccess");
        self.send(Some(user), &req).await
    }

    /// The bank's webauth URL for an existing connection; `source` names the source
    /// to authenticate on a multi-source connection.
    pub async fn webauth_url(
        &self,
        user: i64,
        id: i64,
        redirect_uri: &str,
        state: &str,
        source: Option<&str>,
    ) -> Result<WebauthUrl, UpstreamError> {
        let mut req = Request::read("webauth_url", "/webauth-url", Priority::User)
            .query("id_connection", id.to_string())
            .query("client_id", self.inner.client_id.clone())
            .query("redirect_uri", redirect_uri)
            .query("state", state);
        if let Some(s) = source {
            req = req.query("source", s);
        }
        self.send(Some(user), &req).await
    }
}
