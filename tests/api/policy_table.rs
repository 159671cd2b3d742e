//! The policy table: what each caller gets from each root field, with real IDs of its own
//! workspace (columns as in `policy.rs`: owner, admin, collaborator, client, guest, a custom staff
//! role holding `project:read`, an API key restricted to the project and scoped to what a
//! partner integration needs). `Ok` is a success with data; `Code` cells are the answers a
//! made-up token, code or password gets, or a state the change needs, as their comments say.

use crate::policy::Outcome::{self, *};

pub(crate) fn table() -> Vec<(&'static str, [Outcome; 7])> {
    vec![
        ("Subscription.boardChanged", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        ("Subscription.messageAdded", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        ("Subscription.messageUpdated", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        (
            "Subscription.notificationAdded",
            [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden],
        ),
        ("Subscription.projectActivity", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        // Token-driven doors, public: a made-up token or code answers every caller alike.
        (
            "acceptInvitation",
            [
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
            ],
        ),
        (
            "addProjectMember",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        // Only the project's client answers a quote; this ticket has none yet.
        (
            "answerQuote",
            [
                Forbidden,
                Forbidden,
                Forbidden,
                Code("BAD_USER_INPUT"),
                Forbidden,
                Forbidden,
                Forbidden,
            ],
        ),
        (
            "apiKeys",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "auditEvents",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "auditExport",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "cancelPaymentRequest",
            [Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Ok],
        ),
        // A made-up password or code is refused; an API key is not a person (FORBIDDEN).
        (
            "changePassword",
            [
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Forbidden,
            ],
        ),
        ("commentTicket", [Ok, Ok, Ok, Ok, Forbidden, Forbidden, Ok]),
        (
            "completeLinkUpload",
            [
                NotFound, NotFound, NotFound, NotFound, NotFound, NotFound, NotFound,
            ],
        ),
        // An upload is completed by whoever announced it (the owner; the key acts for the owner).
        (
            "completeUpload",
            [Ok, NotFound, NotFound, NotFound, Forbidden, Forbidden, Ok],
        ),
        (
            "confirmEmailChange",
            [
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
            ],
        ),
        (
            "confirmMfa",
            [
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Forbidden,
            ],
        ),
        (
            "createApiKey",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "createFolder",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "createPaymentRequest",
            [Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "createProject",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "createRole",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "createTask",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        ("createTicket", [Ok, Ok, Ok, Ok, Forbidden, Forbidden, Ok]),
        ("createUpload", [Ok, Ok, Ok, Ok, Forbidden, Forbidden, Ok]),
        (
            "createUploadLink",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "createWebhookEndpoint",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        ("createWorkspace", [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden]),
        // Only the client (or whoever holds milestone:validate) validates a milestone.
        (
            "decideMilestone",
            [
                Forbidden, Forbidden, Forbidden, Ok, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "decideTicket",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "deleteFile",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "deleteFolder",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "deleteMessage",
            [
                Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Ok,
            ],
        ),
        (
            "deleteRole",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "deleteTask",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "deleteWebhookEndpoint",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "disableMfa",
            [
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Forbidden,
            ],
        ),
        (
            "editMessage",
            [
                Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Ok,
            ],
        ),
        (
            "emailDeliveries",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "endMemberSessions",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "endUserSessions",
            [
                Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        ("enrolMfa", [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden]),
        (
            "exportAuditEvents",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "exportPlatformAuditEvents",
            [
                Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        ("file", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        ("fileSettings", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        (
            "fileTrash",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        ("folder", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        ("folders", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        (
            "invitations",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "inviteMember",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "joinWorkspace",
            [
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Forbidden,
            ],
        ),
        (
            "labelFileVersion",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "login",
            [
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
            ],
        ),
        ("logout", [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden]),
        (
            "markAllNotificationsRead",
            [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden],
        ),
        ("markConversationRead", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        ("markNotificationsRead", [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden]),
        ("me", [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden]),
        ("members", [Ok, Ok, Ok, Forbidden, Forbidden, Ok, Ok]),
        ("messages", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        (
            "moveFile",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "moveTask",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        ("myPermissions", [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden]),
        ("mySessions", [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden]),
        ("myWorkspaces", [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden]),
        (
            "notificationPreferences",
            [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden],
        ),
        ("notifications", [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden]),
        // Only the client pays; this test server has no Stripe key.
        (
            "payPaymentRequest",
            [
                Forbidden,
                Forbidden,
                Forbidden,
                Code("BAD_USER_INPUT"),
                Forbidden,
                Forbidden,
                Forbidden,
            ],
        ),
        ("paymentRequest", [Ok, Ok, Ok, Ok, Forbidden, Forbidden, Ok]),
        (
            "paymentRequests",
            [Ok, Ok, Ok, Ok, Forbidden, Forbidden, Ok],
        ),
        (
            "platformAuditEvents",
            [
                Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "platformAuditExport",
            [
                Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        ("postMessage", [Ok, Ok, Ok, Ok, Forbidden, Forbidden, Ok]),
        ("project", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        ("projectActivity", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        ("projectBalance", [Ok, Ok, Ok, Ok, Forbidden, Forbidden, Ok]),
        ("projectDashboard", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        ("projectMembers", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        ("projects", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        (
            "refreshToken",
            [
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
            ],
        ),
        ("register", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        (
            "registerTrustedDocument",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "removeMember",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "removeProjectMember",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "removeTrustedDocument",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "renameFile",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "renameFolder",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "replayWebhookDelivery",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "requestEmailChange",
            [
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Forbidden,
            ],
        ),
        ("requestPasswordReset", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        (
            "requestValidation",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "resendVerificationEmail",
            [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden],
        ),
        (
            "resetPassword",
            [
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
            ],
        ),
        (
            "restoreFile",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "revokeApiKey",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "revokeInvitation",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        // Another member's session (the owner's second one) is NOT_FOUND.
        (
            "revokeSession",
            [
                Ok, NotFound, NotFound, NotFound, NotFound, NotFound, Forbidden,
            ],
        ),
        (
            "revokeUploadLink",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        ("roles", [Ok, Ok, Ok, Forbidden, Forbidden, Ok, Ok]),
        (
            "rotateApiKey",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "sendTestWebhookEvent",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "setApiKeyTrustedDocumentsOnly",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        ("setLocale", [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden]),
        (
            "setNotificationPreference",
            [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden],
        ),
        (
            "setPrivateNote",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "setUserStatus",
            [
                Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        ("task", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        ("ticket", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        ("tickets", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        // To the admin; it runs after the rows above, so the owner still owns.
        (
            "transferOwnership",
            [
                Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "trustedDocuments",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        ("unreadMessageCount", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
        (
            "unreadNotificationCount",
            [Ok, Ok, Ok, Ok, Ok, Ok, Forbidden],
        ),
        (
            "updateFileSettings",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "updateMemberRole",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "updateProject",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "updateRole",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "updateTask",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "updateWebhookEndpoint",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "updateWorkspace",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "uploadLinks",
            [Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "uploadThroughLink",
            [
                NotFound, NotFound, NotFound, NotFound, NotFound, NotFound, NotFound,
            ],
        ),
        (
            "verifyAuditChain",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "verifyEmail",
            [
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
                Code("BAD_USER_INPUT"),
            ],
        ),
        (
            "verifyMfa",
            [
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
                Code("UNAUTHENTICATED"),
            ],
        ),
        (
            "webhookDeliveries",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "webhookEndpoints",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        (
            "webhookEventKinds",
            [
                Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            ],
        ),
        ("workspace", [Ok, Ok, Ok, Ok, Ok, Ok, Ok]),
    ]
}
