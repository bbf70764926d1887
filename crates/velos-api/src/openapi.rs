//! `/openapi.json`: an OpenAPI 3.1 document built from the route table ([`crate::routes::OPERATIONS`]) and
//! the Rust types' JSON Schemas (schemars). OpenAPI 3.1 schemas are JSON Schema 2020-12, so the request
//! and outcome types of the operations layer — which derive `JsonSchema` for every face — go in as they
//! are, one definition each under `components/schemas`; no second set of derives to keep in step.
use crate::token::Scope;
use schemars::{generate::SchemaSettings, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

/// A schema of a Rust type, added to the generator's components; returns the `$ref` to it.
pub type SchemaOf = fn(&mut SchemaGenerator) -> Schema;

pub fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// What a successful answer carries.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    Json(SchemaOf),
    /// Text of this media type (`/metrics`, a TOML file).
    Text(&'static str),
    /// A WebSocket upgrade (101) whose messages are JSON of this schema.
    WebSocket(SchemaOf),
}

/// One parameter of the path or the query string.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub in_path: bool,
    pub description: &'static str,
    /// JSON Schema type: `string`, `integer`, `boolean`.
    pub kind: &'static str,
}

/// One route, as the document (and the route test) see it.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    pub method: &'static str,
    /// OpenAPI template: `/v1/apps/{name}`.
    pub path: &'static str,
    /// The verb: the same name as the CLI command and the MCP tool.
    pub id: &'static str,
    pub summary: &'static str,
    /// `None`: open (health probe, webhook signed by its own secret).
    pub scope: Option<Scope>,
    pub params: &'static [Param],
    pub request: Option<Body>,
    pub response: Body,
}

/// The whole document, deterministic (same input, same bytes) so the checked-in copy can be compared.
pub fn document(operations: &[Operation]) -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    let mut generator = SchemaGenerator::new(settings);
    let error = schema_of::<crate::error::ErrorBody>(&mut generator);
    let mut paths = Map::new();
    for operation in operations {
        let item = paths.entry(operation.path).or_insert_with(|| json!({}));
        item[operation.method.to_ascii_lowercase()] = operation_object(operation, &mut generator, &error);
    }
    let schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Velos API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every route mirrors a velos verb of the same name; writes are edits of desired state. \
                            Reads need a read-only or read-write bearer token, writes a read-write one \
                            ($VELOS_HOME/api.token; `velos serve --print-token`).",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "http://127.0.0.1:9700"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    })
}

fn operation_object(operation: &Operation, generator: &mut SchemaGenerator, error: &Schema) -> Value {
    let mut object = json!({
        "operationId": operation.id,
        "summary": operation.summary,
        "responses": responses(operation, generator, error),
    });
    if operation.scope.is_none() {
        object["security"] = json!([]);
    }
    if !operation.params.is_empty() {
        object["parameters"] = operation
            .params
            .iter()
            .map(|param| {
                json!({
                    "name": param.name,
                    "in": if param.in_path { "path" } else { "query" },
                    "required": param.in_path,
                    "description": param.description,
                    "schema": {"type": param.kind},
                })
            })
            .collect();
    }
    if let Some(body) = operation.request {
        object["requestBody"] = json!({"required": true, "content": content(body, generator)});
    }
    object
}

fn content(body: Body, generator: &mut SchemaGenerator) -> Value {
    match body {
        Body::Json(schema) => json!({"application/json": {"schema": schema(generator)}}),
        Body::Text(media) => json!({ media: {"schema": {"type": "string"}} }),
        Body::WebSocket(schema) => json!({"application/json": {"schema": schema(generator)}}),
    }
}

fn responses(operation: &Operation, generator: &mut SchemaGenerator, error: &Schema) -> Value {
    let error_content = json!({"application/json": {"schema": error}});
    let mut responses = Map::new();
    let status = match operation.response {
        Body::WebSocket(_) => "101",
        _ => "200",
    };
    let description = match operation.response {
        Body::WebSocket(_) => "Switching to the WebSocket protocol; each message is JSON of this schema",
        _ => "Success",
    };
    let success = json!({"description": description, "content": content(operation.response, generator)});
    responses.insert(status.into(), success);
    let mut errors: Vec<(&str, &str)> = vec![("400", "Invalid request")];
    match operation.scope {
        Some(Scope::Read) => errors.push(("401", "No or unknown bearer token")),
        Some(Scope::Write) => {
            errors.extend([("401", "No or unknown bearer token"), ("403", "A read-only token on a write")])
        }
        None => {}
    }
    if operation.id == "hook" {
        errors.push(("401", "Missing or wrong signature"));
    }
    errors.push(("default", "Any other error, same shape"));
    for (status, description) in errors {
        responses
            .insert(status.into(), json!({"description": description, "content": error_content.clone()}));
    }
    Value::Object(responses)
}
