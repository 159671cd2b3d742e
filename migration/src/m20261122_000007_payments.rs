//! Payments: payment requests (with their Stripe Checkout session) and the Stripe events already
//! handled (webhook idempotency).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PaymentRequests {
    Table,
    Id,
    WorkspaceId,
    ProjectId,
    Kind,
    Title,
    Description,
    AmountMinor,
    Currency,
    DueDate,
    Status,
    TicketId,
    MilestoneId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    PaidAt,
    ClosedAt,
    CheckoutSessionId,
    CheckoutUrl,
    CheckoutExpiresAt,
    CheckoutAttempts,
    CheckoutOpenedBy,
    PaidBy,
    PaymentIntentId,
    AmountRefundedMinor,
    LastFailure,
}

#[derive(DeriveIden)]
enum StripeEvents {
    Table,
    Id,
    EventType,
    ObjectRef,
    Outcome,
    Detail,
    PaymentRequestId,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(payment_requests(PaymentRequests::Table, true))
            .await?;
        for index in payment_request_indexes() {
            manager.create_index(index).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(StripeEvents::Table)
                    .col(string_len(StripeEvents::Id, 255).primary_key())
                    .col(string_len(StripeEvents::EventType, 100))
                    .col(string_len_null(StripeEvents::ObjectRef, 255))
                    .col(string_len(StripeEvents::Outcome, 32))
                    .col(text_null(StripeEvents::Detail))
                    .col(uuid_null(StripeEvents::PaymentRequestId))
                    .col(timestamp_with_time_zone(StripeEvents::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_stripe_events_object")
                    .table(StripeEvents::Table)
                    .col(StripeEvents::ObjectRef)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StripeEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PaymentRequests::Table).to_owned())
            .await
    }
}

/// The `payment_requests` table under the name `table`; `ticket_unique` as first created.
pub(crate) fn payment_requests(table: impl IntoIden, ticket_unique: bool) -> TableCreateStatement {
    let mut ticket = uuid_null(PaymentRequests::TicketId);
    if ticket_unique {
        ticket.unique_key();
    }
    Table::create()
        .table(table)
        .col(uuid(PaymentRequests::Id).primary_key())
        .col(uuid(PaymentRequests::WorkspaceId))
        .col(uuid(PaymentRequests::ProjectId))
        .col(string_len(PaymentRequests::Kind, 16))
        .col(string_len(PaymentRequests::Title, 200))
        .col(text_null(PaymentRequests::Description))
        .col(big_integer(PaymentRequests::AmountMinor))
        .col(string_len(PaymentRequests::Currency, 3))
        .col(date_null(PaymentRequests::DueDate))
        .col(string_len(PaymentRequests::Status, 16))
        // Unique until migration 000015, which keeps one *pending* request per ticket instead.
        .col(ticket)
        .col(uuid_null(PaymentRequests::MilestoneId))
        .col(uuid(PaymentRequests::CreatedBy))
        .col(timestamp_with_time_zone(PaymentRequests::CreatedAt))
        .col(timestamp_with_time_zone(PaymentRequests::UpdatedAt))
        .col(timestamp_with_time_zone_null(PaymentRequests::PaidAt))
        .col(timestamp_with_time_zone_null(PaymentRequests::ClosedAt))
        .col(string_len_null(PaymentRequests::CheckoutSessionId, 255).unique_key())
        .col(text_null(PaymentRequests::CheckoutUrl))
        .col(timestamp_with_time_zone_null(
            PaymentRequests::CheckoutExpiresAt,
        ))
        .col(integer(PaymentRequests::CheckoutAttempts).default(0))
        .col(uuid_null(PaymentRequests::CheckoutOpenedBy))
        .col(uuid_null(PaymentRequests::PaidBy))
        .col(string_len_null(PaymentRequests::PaymentIntentId, 255))
        .col(big_integer(PaymentRequests::AmountRefundedMinor).default(0))
        .col(text_null(PaymentRequests::LastFailure))
        .to_owned()
}

/// The indexes of `payment_requests` (besides its unique columns).
pub(crate) fn payment_request_indexes() -> Vec<IndexCreateStatement> {
    [
        (
            "idx_payment_requests_project",
            vec![PaymentRequests::WorkspaceId, PaymentRequests::ProjectId],
        ),
        (
            "idx_payment_requests_due",
            vec![PaymentRequests::Status, PaymentRequests::DueDate],
        ),
        (
            "idx_payment_requests_intent",
            vec![PaymentRequests::PaymentIntentId],
        ),
    ]
    .into_iter()
    .map(|(name, columns)| {
        let mut index = Index::create();
        index.name(name).table(PaymentRequests::Table);
        for column in columns {
            index.col(column);
        }
        index.to_owned()
    })
    .collect()
}
