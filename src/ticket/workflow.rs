//! The ticket workflow as data: who may move a ticket from which status to which.

use super::types::TicketStatus::{self, *};
use crate::error::ApiError;

/// Who asks for a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Staff with `ticket:decide`.
    Staff,
    /// The client answering (a comment on a ticket to clarify, an answer to a quote).
    Client,
    /// A payment: verified (PAID), or closed unpaid (back to QUOTED, to be accepted again).
    Payment,
}

/// The statuses `from` may move to when `side` acts.
pub fn allowed(from: TicketStatus, side: Side) -> &'static [TicketStatus] {
    match (from, side) {
        (New, Side::Staff) => &[ToClarify, Refused, Accepted, Quoted],
        (ToClarify, Side::Client) => &[New],
        (Quoted, Side::Client) => &[AwaitingPayment, Declined],
        (AwaitingPayment, Side::Payment) => &[Paid, Quoted],
        _ => &[],
    }
}

/// Checks a transition, naming the current status and what is allowed when it is refused.
pub fn check(
    number: i32,
    from: TicketStatus,
    to: TicketStatus,
    side: Side,
) -> Result<(), ApiError> {
    let options = allowed(from, side);
    if options.contains(&to) {
        return Ok(());
    }
    let list = if options.is_empty() {
        "none".to_owned()
    } else {
        options
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(ApiError::bad_field(
        "status",
        format!(
            "ticket #{number} is {}; it cannot become {} (allowed: {list})",
            from.as_str(),
            to.as_str()
        ),
    ))
}

/// Whether reaching `status` converts the ticket into a task.
pub fn converts_to_task(status: TicketStatus) -> bool {
    matches!(status, Accepted | Paid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_decide_new_tickets_only() {
        for to in [ToClarify, Refused, Accepted, Quoted] {
            assert!(check(1, New, to, Side::Staff).is_ok());
            assert!(check(1, Quoted, to, Side::Staff).is_err());
        }
        assert!(check(1, New, Paid, Side::Staff).is_err());
    }

    #[test]
    fn clients_answer_and_payments_pay() {
        assert!(check(1, ToClarify, New, Side::Client).is_ok());
        assert!(check(1, Quoted, AwaitingPayment, Side::Client).is_ok());
        assert!(check(1, Quoted, Declined, Side::Client).is_ok());
        assert!(check(1, New, Accepted, Side::Client).is_err());
        assert!(check(1, AwaitingPayment, Paid, Side::Payment).is_ok());
        assert!(check(1, AwaitingPayment, Paid, Side::Client).is_err());
        // A request closed unpaid gives the quote back; only a payment does that.
        assert!(check(1, AwaitingPayment, Quoted, Side::Payment).is_ok());
        assert!(check(1, AwaitingPayment, Quoted, Side::Client).is_err());
        assert!(check(1, AwaitingPayment, Quoted, Side::Staff).is_err());
    }

    #[test]
    fn refusals_name_the_status_and_the_options() {
        let err = check(12, Quoted, Accepted, Side::Staff).unwrap_err();
        let message = err.message();
        assert!(message.contains("#12 is QUOTED"), "{message}");
        assert!(message.contains("allowed: none"), "{message}");
        let message = check(3, New, Paid, Side::Staff).unwrap_err().message();
        assert!(
            message.contains("allowed: TO_CLARIFY, REFUSED, ACCEPTED, QUOTED"),
            "{message}"
        );
    }

    #[test]
    fn terminal_statuses_go_nowhere() {
        for from in [Refused, Accepted, Declined, Paid] {
            for side in [Side::Staff, Side::Client, Side::Payment] {
                assert!(allowed(from, side).is_empty());
            }
        }
    }
}
