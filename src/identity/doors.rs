//! Every door that hands out a session or a credential, listed once with the rules it applies.
//! A test (`tests/api/doors.rs`) reads the exported SDL, requires every mutation whose result
//! carries a token, a key or a code to be listed here, and proves each entry's MFA, per-account
//! limit and account-status rules against a running server. A new door is added here or the
//! test fails.

/// How a door respects MFA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaRule {
    /// Answers an MFA challenge instead of tokens when the account uses MFA (`login`).
    Challenges,
    /// Is the second factor: it checks the code (`verifyMfa`).
    SecondFactor,
    /// Continues or acts within a session that already passed MFA (enabling MFA ends every other
    /// session), and a workspace that requires MFA of owners and admins refuses those without it.
    WithinSession,
    /// Creates new accounts only; an existing account is never signed in through it.
    NewAccountsOnly,
    /// Sets a credential but opens no session, and ends the account's sessions: the next sign-in
    /// goes through `login`, MFA included (`resetPassword`).
    OpensNoSession,
}

/// How guesses at a door are limited beyond the per-IP counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountLimit {
    /// Each attempt counts against the account's login budget (shared with `login`).
    LoginBudget,
    /// Each attempt counts against the account's MFA-code budget.
    MfaBudget,
    /// Nothing guessable belongs to an account: the secret is a 256-bit random token, or the
    /// door needs a signed-in session. The reason is stated.
    NotGuessable(&'static str),
}

/// One door.
#[derive(Debug, Clone, Copy)]
pub struct Door {
    /// The mutation.
    pub field: &'static str,
    pub mfa: MfaRule,
    pub limit: AccountLimit,
    /// What a DISABLED (or otherwise not ACTIVE) account gets: always nothing.
    pub status: &'static str,
}

/// Every door, in one place.
pub const DOORS: &[Door] = &[
    Door {
        field: "login",
        mfa: MfaRule::Challenges,
        limit: AccountLimit::LoginBudget,
        status: "a DISABLED account is refused",
    },
    Door {
        field: "verifyMfa",
        mfa: MfaRule::SecondFactor,
        limit: AccountLimit::MfaBudget,
        status: "a DISABLED account is refused, even with a right code",
    },
    Door {
        field: "refreshToken",
        mfa: MfaRule::WithinSession,
        limit: AccountLimit::NotGuessable("a 256-bit random token, limited per IP"),
        status: "a DISABLED account is refused",
    },
    Door {
        field: "acceptInvitation",
        mfa: MfaRule::NewAccountsOnly,
        limit: AccountLimit::LoginBudget,
        status: "an existing account, whatever its status, gets the one uniform refusal",
    },
    Door {
        field: "register",
        mfa: MfaRule::NewAccountsOnly,
        limit: AccountLimit::LoginBudget,
        status: "an existing account, whatever its status, gets CONFLICT and nothing else",
    },
    Door {
        field: "createApiKey",
        mfa: MfaRule::WithinSession,
        limit: AccountLimit::NotGuessable("needs a signed-in session"),
        status: "only ACTIVE accounts make changes; a key stops when its creator is not ACTIVE",
    },
    Door {
        field: "rotateApiKey",
        mfa: MfaRule::WithinSession,
        limit: AccountLimit::NotGuessable("needs a signed-in session"),
        status: "only ACTIVE accounts make changes; a key stops when its creator is not ACTIVE",
    },
    Door {
        field: "createUploadLink",
        mfa: MfaRule::WithinSession,
        limit: AccountLimit::NotGuessable("needs a signed-in session"),
        status: "only ACTIVE accounts make changes; a link stops when its creator is not an ACTIVE member",
    },
    Door {
        field: "resetPassword",
        mfa: MfaRule::OpensNoSession,
        limit: AccountLimit::NotGuessable(
            "a 256-bit random token sent to the account's address, limited per IP; requests \
             for it are limited per address",
        ),
        status: "a DISABLED account's token is refused like an unknown one",
    },
    Door {
        field: "inviteMember",
        mfa: MfaRule::WithinSession,
        limit: AccountLimit::NotGuessable("needs a signed-in session"),
        status: "only ACTIVE accounts make changes",
    },
];

/// The door of `field`, if it is one.
pub fn door(field: &str) -> Option<&'static Door> {
    DOORS.iter().find(|d| d.field == field)
}
