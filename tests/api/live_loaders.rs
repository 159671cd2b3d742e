//! A websocket lives for hours: what its events show is read when each event is delivered, not
//! remembered from the first one.

use crate::helpers::*;
use crate::realtime::{next_json, post, setup, watch_messages};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter};

#[tokio::test]
async fn a_renamed_author_shows_under_the_new_name_in_the_next_event() {
    let app = spawn_app().await;
    let (team, project, _) = setup(&app).await;
    let mut socket = watch_messages(&app, &team, &team.client, &project).await;
    let author = |event: &serde_json::Value| {
        event["payload"]["data"]["messageAdded"]["author"]["name"]
            .as_str()
            .unwrap_or_else(|| panic!("{event}"))
            .to_owned()
    };
    post(&app, &team.collaborator, &project, "first").await;
    let first = next_json(&mut socket).await.unwrap();
    assert_eq!(author(&first), "Collaborator person");

    portico::db::Global::new(app.state.db.conn())
        .update_many::<entity::user::Entity>()
        .col_expr(entity::user::Column::Name, Expr::value("Renamed"))
        .filter(entity::user::Column::Id.eq(team.collaborator.user_id))
        .exec(app.state.db.conn())
        .await
        .unwrap();
    post(&app, &team.collaborator, &project, "second").await;
    let second = next_json(&mut socket).await.unwrap();
    assert_eq!(
        author(&second),
        "Renamed",
        "the socket's loader served a stale name"
    );
}
