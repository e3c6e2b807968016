//! The bank app: the approval or the terms a connection waits for, and the user's
//! decision there.

use super::Conn;
use crate::SandboxConfig;
use mend_model::ConnectionState as S;

impl Conn {
    /// Whether this connection shows in the bank app, and with which request.
    pub fn bank_app_request(&self) -> Option<BankRequest> {
        match &self.state {
            Some(S::Decoupled) | Some(S::Validating)
                if self.approval.as_ref().is_some_and(|a| a.decision.is_none()) =>
            {
                Some(BankRequest::Approval)
            }
            Some(S::ActionNeeded) if !self.terms_accepted => Some(BankRequest::Terms),
            _ => None,
        }
    }

    /// A decision taken in the bank app.
    pub fn bank_decision(&mut self, decision: BankDecision, now: i64, cfg: &SandboxConfig) -> bool {
        match (decision, self.bank_app_request()) {
            (BankDecision::Approve, Some(BankRequest::Approval)) => {
                self.lag_from(now);
                if let Some(a) = &mut self.approval {
                    a.decision = Some(true);
                }
                self.advance(now, cfg);
                true
            }
            (BankDecision::Refuse, Some(BankRequest::Approval)) => {
                if self.state == Some(S::Validating) {
                    if let Some(a) = &mut self.approval {
                        a.decision = Some(false);
                    }
                    self.advance(now, cfg);
                } else {
                    let expire = self.expire_ms;
                    self.back_to_decoupled(now, cfg, "Access refused in the bank app");
                    self.expire_ms = expire;
                }
                true
            }
            (BankDecision::AcceptTerms, Some(BankRequest::Terms)) => {
                self.terms_accepted = true;
                true
            }
            _ => false,
        }
    }
}

/// What a connection waits for in the bank app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BankRequest {
    /// A decoupled approval.
    Approval,
    /// New terms and conditions to accept (actionNeeded).
    Terms,
}

/// A button of the bank app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BankDecision {
    Approve,
    Refuse,
    AcceptTerms,
}

impl BankDecision {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approve" => Some(Self::Approve),
            "refuse" => Some(Self::Refuse),
            "accept_terms" => Some(Self::AcceptTerms),
            _ => None,
        }
    }
}
