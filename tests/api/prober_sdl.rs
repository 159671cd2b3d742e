//! What the cross-tenant prober knows of the SDL: the operations, a value for each argument that
//! passes validation, where the IDs sit, and what each ID names (taught in [`id_kind`]).

use crate::prober_world::Ids;
use async_graphql::parser::types::{
    BaseType, InputValueDefinition, Type, TypeDefinition, TypeKind, TypeSystemDefinition,
};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// What an ID argument names: `field` is the root field, `arg` the argument or input field.
pub(crate) fn id_kind(field: &str, arg: &str) -> Option<&'static str> {
    Some(match (field, arg) {
        (_, "projectId" | "projectIds" | "resourceId") | ("setPrivateNote", "subjectId") => {
            "Project"
        }
        ("moveTask", "after") => "Task",
        (_, "ticketId") => "Ticket",
        (_, "apiKeyId") => "ApiKey",
        (_, "endpointId") => "WebhookEndpoint",
        ("transferOwnership", "userId") => "Admin",
        (_, "userId" | "actorId" | "assigneeId" | "memberIds") => "User",
        (_, "roleId") => "Role",
        (_, "folderId" | "parentId") => "Folder",
        (_, "fileId") => "File",
        (_, "milestoneId") => "Milestone",
        (_, "currentPhaseId") => "Phase",
        ("markConversationRead", "upTo") => "Message",
        ("markNotificationsRead", "ids") => "Notification",
        (field, "id") => match field {
            "project" | "updateProject" => "Project",
            "task" | "updateTask" | "deleteTask" | "moveTask" => "Task",
            "ticket" | "decideTicket" | "answerQuote" => "Ticket",
            "paymentRequest" | "cancelPaymentRequest" | "payPaymentRequest" => "PaymentRequest",
            "folder" | "renameFolder" => "Folder",
            // An empty one: a folder holding files is not deleted.
            "deleteFolder" => "SpareFolder",
            "file" | "renameFile" | "moveFile" | "deleteFile" | "restoreFile" => "File",
            "labelFileVersion" => "FileVersion",
            "completeUpload" | "completeLinkUpload" => "Upload",
            "revokeUploadLink" => "UploadLink",
            "decideMilestone" => "Milestone",
            // An upload's `attachTo`, whose target is its enum's first value, TICKET.
            "createUpload" => "Ticket",
            "editMessage" | "deleteMessage" => "Message",
            "rotateApiKey" | "revokeApiKey" | "setApiKeyTrustedDocumentsOnly" => "ApiKey",
            "removeTrustedDocument" => "TrustedDocument",
            "updateRole" | "deleteRole" => "Role",
            "revokeInvitation" => "Invitation",
            "revokeSession" => "Session",
            "auditExport" | "platformAuditExport" => "AuditExport",
            "updateWebhookEndpoint" | "deleteWebhookEndpoint" => "WebhookEndpoint",
            "replayWebhookDelivery" => "WebhookDelivery",
            _ => return None,
        },
        _ => return None,
    })
}

/// A value for a non-ID argument that passes validation, by name where the type says too little.
fn scalar(name: &str, ty: &str) -> Value {
    match (name, ty) {
        ("email" | "newEmail", _) => json!("probe@example.test"),
        ("password" | "newPassword" | "currentPassword", _) => {
            json!("probe, a long enough password")
        }
        ("url", _) => json!("http://127.0.0.1:9/probe"),
        ("kinds", _) => json!("TICKET_CREATED"),
        ("sha256", _) => json!("0".repeat(64)),
        ("contentType", _) => json!("text/plain"),
        ("currency", _) => json!("EUR"),
        ("document", _) => json!("{ me { id } }"),
        ("name", _) => json!("probe.txt"),
        (_, "String") => json!("probe"),
        (_, "Boolean") => json!(true),
        (_, "DateTime") => json!("2030-01-01T00:00:00Z"),
        _ => json!(1),
    }
}

/// A root field: its operation keyword, name, arguments and named return type.
pub(crate) type RootField = (String, String, Vec<InputValueDefinition>, String);

/// The SDL's types by name.
pub(crate) struct Sdl(BTreeMap<String, TypeKind>);

impl Sdl {
    pub(crate) fn load() -> (Sdl, Vec<RootField>) {
        let text = portico::schema::export_sdl().unwrap();
        let doc = async_graphql::parser::parse_schema(&text).unwrap();
        let mut types = BTreeMap::new();
        for def in doc.definitions {
            if let TypeSystemDefinition::Type(t) = def {
                let TypeDefinition { name, kind, .. } = t.node;
                types.insert(name.node.to_string(), kind);
            }
        }
        let mut ops = Vec::new();
        for (root, keyword) in [
            ("Query", "query"),
            ("Mutation", "mutation"),
            ("Subscription", "subscription"),
        ] {
            let Some(TypeKind::Object(object)) = types.get(root) else {
                continue;
            };
            for f in &object.fields {
                let args = f.node.arguments.iter().map(|a| a.node.clone()).collect();
                let returns = named(&f.node.ty.node).to_owned();
                ops.push((
                    keyword.to_owned(),
                    f.node.name.node.to_string(),
                    args,
                    returns,
                ));
            }
        }
        (Sdl(types), ops)
    }

    /// A value of `ty` for `name` in `field`, with an own ID at each ID leaf; records the path
    /// of each ID leaf (or of an ID the prober cannot name, in `untaught`).
    pub(crate) fn value(
        &self,
        field: &str,
        name: &str,
        ty: &Type,
        path: &[String],
        own: &Ids,
        found: &mut Found,
    ) -> Value {
        match &ty.base {
            BaseType::List(inner) => {
                Value::Array(vec![self.value(field, name, inner, path, own, found)])
            }
            BaseType::Named(n) if n.as_str() == "ID" => {
                let kind = id_kind(field, name);
                found.leaves.push(Leaf {
                    path: path.to_vec(),
                    kind,
                });
                json!(kind.and_then(|k| own.get(k)).cloned().unwrap_or_default())
            }
            BaseType::Named(n) => match self.0.get(n.as_str()) {
                Some(TypeKind::Enum(e)) => match (field, name) {
                    // A decision, not the first status (NEW).
                    ("decideTicket", "status") => json!("ACCEPTED"),
                    _ => json!(e.values[0].node.value.node.to_string()),
                },
                Some(TypeKind::InputObject(input)) => {
                    let mut object = Map::new();
                    for f in &input.fields {
                        let f = &f.node;
                        let required = !f.ty.node.nullable && f.default_value.is_none();
                        if required || self.holds_id(&f.ty.node) {
                            let mut sub = path.to_vec();
                            sub.push(f.name.node.to_string());
                            if !required {
                                found.optional.push(sub.clone());
                            }
                            let v = self.value(
                                field,
                                f.name.node.as_str(),
                                &f.ty.node,
                                &sub,
                                own,
                                found,
                            );
                            object.insert(f.name.node.to_string(), v);
                        }
                    }
                    Value::Object(object)
                }
                _ => scalar(name, n.as_str()),
            },
        }
    }

    pub(crate) fn holds_id(&self, ty: &Type) -> bool {
        match self.0.get(named(ty)) {
            _ if named(ty) == "ID" => true,
            Some(TypeKind::InputObject(input)) => {
                input.fields.iter().any(|f| self.holds_id(&f.node.ty.node))
            }
            _ => false,
        }
    }

    pub(crate) fn selection(&self, returns: &str) -> &'static str {
        match self.0.get(returns) {
            Some(TypeKind::Object(_) | TypeKind::Interface(_) | TypeKind::Union(_)) => {
                "{ __typename }"
            }
            _ => "",
        }
    }
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// What building an operation's variables found: its ID leaves, and the optional inputs
/// included only because they hold an ID (each probe keeps only the one on its path: optional
/// inputs are often alternatives, such as an upload's folder, file or attachment).
#[derive(Default)]
pub(crate) struct Found {
    pub(crate) leaves: Vec<Leaf>,
    pub(crate) optional: Vec<Vec<String>>,
}

/// `vars` without the optional inputs that are not on `path`.
pub(crate) fn pruned(vars: &Value, optional: &[Vec<String>], path: &[String]) -> Value {
    let mut out = vars.clone();
    for other in optional.iter().filter(|o| !path.starts_with(o)) {
        let (last, parents) = other.split_last().unwrap();
        let mut node = &mut out;
        for key in parents {
            node = &mut node[key.as_str()];
        }
        if let Value::Object(map) = node {
            map.remove(last);
        }
    }
    out
}

/// Where an ID sits in an operation's variables, and what it names.
pub(crate) struct Leaf {
    pub(crate) path: Vec<String>,
    pub(crate) kind: Option<&'static str>,
}

/// `vars` with the ID at `path` replaced by `id` (in a list: its one element).
pub(crate) fn with_id(vars: &Value, path: &[String], id: &str) -> Value {
    let mut out = vars.clone();
    let mut node = &mut out;
    for key in path {
        node = &mut node[key.as_str()];
    }
    *node = match node {
        Value::Array(_) => json!([id]),
        _ => json!(id),
    };
    out
}

fn parenthesized(parts: &[String]) -> String {
    if parts.is_empty() {
        String::new()
    } else {
        format!("({})", parts.join(", "))
    }
}

/// An operation ready to send: its document, and variables holding the caller's own IDs.
pub(crate) struct Operation {
    pub(crate) query: String,
    pub(crate) vars: Value,
    pub(crate) found: Found,
}

impl Sdl {
    /// `op` with every required argument, and every optional one that holds an ID, valued
    /// from `own`.
    pub(crate) fn operation(&self, op: &RootField, own: &Ids) -> Operation {
        let (keyword, field, args, returns) = op;
        let (mut found, mut vars, mut declared, mut passed) =
            (Found::default(), Map::new(), Vec::new(), Vec::new());
        for a in args {
            let required = !a.ty.node.nullable && a.default_value.is_none();
            if !required && !self.holds_id(&a.ty.node) {
                continue;
            }
            let name = a.name.node.to_string();
            if !required {
                found.optional.push(vec![name.clone()]);
            }
            let path = std::slice::from_ref(&name);
            let value = self.value(field, &name, &a.ty.node, path, own, &mut found);
            vars.insert(name.clone(), value);
            declared.push(format!("${name}: {}", a.ty.node));
            passed.push(format!("{name}: ${name}"));
        }
        let query = format!(
            "{keyword}{} {{ {field}{} {} }}",
            parenthesized(&declared),
            parenthesized(&passed),
            self.selection(returns)
        );
        Operation {
            query,
            vars: Value::Object(vars),
            found,
        }
    }
}
