//! The API refuses what its OpenAPI document forbids, and the document states what the API refuses
//! (issue 13, "The API says what it does"): paging bounds, `sort`/`dir`/`kind` values, empty query
//! parameters and unknown body keys. Each class of disagreement API fuzzing found has a test here.

mod common;

use common::{Client, TestApp};
use serde_json::{Value, json};

struct Api {
    _app: TestApp,
    c: Client,
    admin: String,
}

async fn setup() -> Api {
    let app = TestApp::new().await;
    let c = app.anonymous();
    let user = app
        .store()
        .user_by_name("admin")
        .await
        .expect("query")
        .expect("admin exists");
    let admin = app
        .store()
        .create_api_token(&user.actor("test"), user.id, "test token")
        .await
        .expect("token");
    Api {
        _app: app,
        c,
        admin,
    }
}

impl Api {
    async fn status(&self, path: &str) -> (u16, Value) {
        let r = self.c.api("GET", path, &self.admin, None).await;
        let body = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        (r.status.as_u16(), body)
    }

    /// `path` answers 400 naming `field` with a Japanese message.
    async fn refused(&self, path: &str, field: &str) {
        let (status, body) = self.status(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{path}");
        let fields = body["error"]["fields"].as_array().expect("fields");
        let f = fields
            .iter()
            .find(|f| f["field"] == field)
            .unwrap_or_else(|| panic!("{path}: no error for {field}: {body}"));
        assert!(
            f["message"].as_str().expect("message").contains('」'),
            "{path}: {f}"
        );
    }

    async fn ok(&self, path: &str) {
        let (status, body) = self.status(path).await;
        assert_eq!(status, 200, "{path}: {body}");
    }

    async fn doc(&self) -> Value {
        self.c.get("/api/v1/openapi.json").await.json()
    }
}

#[tokio::test]
async fn paging_out_of_range_is_refused_not_clamped() {
    let api = setup().await;
    for list in ["/api/v1/terminals", "/api/v1/requests", "/api/v1/incidents"] {
        api.ok(&format!("{list}?page=1&per_page=500")).await;
        api.refused(&format!("{list}?page=0"), "page").await;
        api.refused(&format!("{list}?page=-3"), "page").await;
        api.refused(&format!("{list}?page=100001"), "page").await;
        api.refused(&format!("{list}?page=99999999999999999999"), "page")
            .await;
        api.refused(&format!("{list}?per_page=0"), "per_page").await;
        api.refused(&format!("{list}?per_page=501"), "per_page")
            .await;
        api.refused(&format!("{list}?per_page=ten"), "per_page")
            .await;
    }
    // The audit log allows longer pages, as its document says.
    api.ok("/api/v1/audit?per_page=1000").await;
    api.refused("/api/v1/audit?per_page=1001", "per_page").await;
    api.refused("/api/v1/events?limit=0", "limit").await;
    api.refused("/api/v1/events?limit=10001", "limit").await;

    let doc = api.doc().await;
    let per_page = &doc["components"]["parameters"]["per_page"]["schema"];
    assert_eq!(
        (per_page["minimum"].clone(), per_page["maximum"].clone()),
        (json!(1), json!(500))
    );
    let page = &doc["components"]["parameters"]["page"]["schema"];
    assert_eq!(
        (page["minimum"].clone(), page["maximum"].clone()),
        (json!(1), json!(100_000))
    );
    let audit = doc["paths"]["/audit"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "per_page")
        .expect("per_page")
        .clone();
    assert_eq!(audit["schema"]["maximum"], 1000);
}

#[tokio::test]
async fn unknown_sort_dir_and_kind_are_refused() {
    let api = setup().await;
    api.ok("/api/v1/terminals?sort=hostname&dir=desc&kind=business")
        .await;
    api.refused("/api/v1/terminals?sort=password", "sort").await;
    api.refused("/api/v1/sites?sort=hostname", "sort").await;
    api.refused("/api/v1/nodes?dir=sideways", "dir").await;
    api.refused("/api/v1/nodes?kind=toaster", "kind").await;

    // The document's enums are the ones the server accepts.
    let doc = api.doc().await;
    let sort = doc["paths"]["/sites"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "sort")
        .expect("sort")
        .clone();
    for key in sort["schema"]["enum"].as_array().expect("enum") {
        api.ok(&format!(
            "/api/v1/sites?sort={}",
            key.as_str().expect("key")
        ))
        .await;
    }
}

#[tokio::test]
async fn empty_query_values_are_refused() {
    let api = setup().await;
    api.refused("/api/v1/terminals?status=", "status").await;
    api.refused("/api/v1/terminals?kind=", "kind").await;
    api.refused("/api/v1/terminals?site_id=", "site_id").await;
    api.refused("/api/v1/terminals?q=", "q").await;
    api.refused("/api/v1/requests?status=", "status").await;
    api.refused("/api/v1/incidents?status=%20", "status").await;

    // The document says so: every free-text query parameter has `minLength: 1`, and no enum has "".
    let doc = api.doc().await;
    let mut params: Vec<Value> = doc["components"]["parameters"]
        .as_object()
        .expect("parameters")
        .values()
        .cloned()
        .collect();
    for item in doc["paths"].as_object().expect("paths").values() {
        for (key, op) in item.as_object().expect("item") {
            let list = if key == "parameters" {
                op
            } else {
                &op["parameters"]
            };
            params.extend(list.as_array().into_iter().flatten().cloned());
        }
    }
    let mut strings = 0;
    for p in params.iter().filter(|p| p["in"] == "query") {
        let schema = &p["schema"];
        if let Some(values) = schema["enum"].as_array() {
            assert!(!values.contains(&json!("")), "{p}");
        } else if schema["type"] == "string" {
            strings += 1;
            assert_eq!(schema["minLength"], 1, "{p}");
        }
    }
    assert!(strings > 5);
}

#[tokio::test]
async fn unknown_body_keys_are_refused_as_documented() {
    let api = setup().await;
    let r = api
        .c
        .api(
            "POST",
            "/api/v1/sites",
            &api.admin,
            Some(json!({"code": "X-1", "name": "試験", "kind": "honcho", "colour": "red"})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text());
    assert_eq!(r.json()["error"]["fields"][0]["field"], "colour");
    // What was read may be sent back: the record's read-only keys are accepted and ignored.
    let r = api
        .c
        .api(
            "POST",
            "/api/v1/sites",
            &api.admin,
            Some(json!({"code": "X-1", "name": "試験", "kind": "honcho", "terminal_count": 9})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text());

    // Every request body in the document is a closed object, listing the ignored keys.
    let doc = api.doc().await;
    let schemas = &doc["components"]["schemas"];
    let mut bodies = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") else {
                continue;
            };
            bodies += 1;
            let schema = match schema["$ref"].as_str() {
                Some(r) => &schemas[r.trim_start_matches("#/components/schemas/")],
                None => schema,
            };
            assert_eq!(
                schema["additionalProperties"], false,
                "{method} {path}: {schema}"
            );
        }
    }
    assert!(bodies > 30, "{bodies}");
    assert!(schemas["SiteInput"]["properties"]["terminal_count"].is_object());
}

/// The token operations are derived from their handlers and types, and answer errors with the shared
/// responses like every hand-described operation.
#[tokio::test]
async fn derived_token_operations_share_the_error_responses() {
    let api = setup().await;
    let doc = api.doc().await;
    let list = &doc["paths"]["/tokens"]["get"];
    assert_eq!(list["operationId"], "list_tokens");
    assert_eq!(
        list["responses"]["401"]["$ref"],
        "#/components/responses/Unauthorized"
    );
    assert_eq!(
        list["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ApiTokenList"
    );
    let user_id = &list["parameters"][0];
    assert_eq!(user_id["name"], "user_id");
    assert_eq!(user_id["in"], "query");
    let token = &doc["components"]["schemas"]["ApiToken"];
    let mut state = token["properties"]["state"].clone();
    if let Some(r) = state["$ref"].as_str() {
        state = doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")].clone();
    }
    let state = state.to_string();
    for s in ["active", "expired", "revoked"] {
        assert!(state.contains(s), "{state}");
    }
    let required = token["required"].as_array().expect("required");
    assert!(required.contains(&json!("last_used_at")), "{token}");
    assert_eq!(
        doc["paths"]["/tokens/{id}"]["delete"]["responses"]["404"]["$ref"],
        "#/components/responses/NotFound"
    );
}
