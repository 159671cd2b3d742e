//! GraphiQL served from Portico itself: the page, its sign-in form and its assets (GraphiQL and
//! React at pinned versions, vendored by `assets/graphiql/vendor.sh` and embedded in the binary),
//! so it works offline and loads nothing from another origin. Introspection is still authorized
//! per request.

use axum::extract::Path;
use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

/// One embedded asset: its URL name, media type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "react.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/vendor/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/vendor/react-dom.production.min.js"),
    },
    Asset {
        name: "graphiql.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/vendor/graphiql.min.js"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/vendor/graphiql.min.css"),
    },
    Asset {
        name: "portico-graphiql.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/portico-graphiql.js"),
    },
    Asset {
        name: "portico-graphiql.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/portico-graphiql.css"),
    },
];

/// The page: a sign-in form (token kept in memory by `portico-graphiql.js`), then GraphiQL.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Portico GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/graphiql/assets/graphiql.min.css">
<link rel="stylesheet" href="/graphiql/assets/portico-graphiql.css">
</head>
<body>
<form id="signin" autocomplete="on">
  <h1>Portico GraphiQL</h1>
  <label>Email <input id="email" name="email" type="email" autocomplete="username"></label>
  <label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
  <label id="code-row" hidden>MFA code <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code"></label>
  <label>Workspace (slug or ID) <input id="workspace" name="workspace"></label>
  <div class="actions">
    <button id="signin-button" type="submit">Sign in</button>
    <button id="anonymous" type="submit">Continue without signing in</button>
  </div>
  <p id="signin-status" role="status"></p>
</form>
<div id="graphiql"></div>
<script src="/graphiql/assets/react.production.min.js"></script>
<script src="/graphiql/assets/react-dom.production.min.js"></script>
<script src="/graphiql/assets/graphiql.min.js"></script>
<script src="/graphiql/assets/portico-graphiql.js"></script>
</body>
</html>
"#;

/// `GET /graphiql`.
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// `GET /graphiql/assets/{name}`: an embedded asset, cached by browsers for a day.
pub async fn asset(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        asset.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// The embedded vendor files are exactly those `vendor.sh` recorded (pinned and checked
    /// against npm's integrity when vendored).
    #[test]
    fn vendored_assets_match_their_recorded_checksums() {
        let sums = include_str!("../../assets/graphiql/SHA256SUMS");
        let mut checked = 0;
        for line in sums.lines() {
            let (sum, name) = line.split_once("  ").unwrap_or_default();
            let asset = ASSETS.iter().find(|a| a.name == name);
            let asset = asset.unwrap_or_else(|| panic!("{name} is not served"));
            assert_eq!(hex::encode(Sha256::digest(asset.bytes)), sum, "{name}");
            checked += 1;
        }
        assert_eq!(checked, 4);
    }

    #[test]
    fn the_page_loads_only_its_own_assets() {
        let outside: Vec<&str> = PAGE
            .split(['"', '\''])
            .filter(|s| s.contains("://") || s.starts_with("//"))
            .collect();
        assert!(
            outside.is_empty(),
            "the page names another origin: {outside:?}"
        );
        for asset in ASSETS {
            let named = PAGE.contains(&format!("/graphiql/assets/{}", asset.name));
            assert!(named, "{} is served but unused", asset.name);
        }
    }
}
