//! The OpenAPI 3.1 contract. Paths and schemas are collected from the handlers by
//! utoipa-actix-web; this module adds the document's metadata and the error responses every
//! operation shares, so that each status code an operation can return is documented.
//!
//! The Dutch API Design Rules (Logius ADR 2.x) shape the rest: `info.version` is the crate's
//! version and every 2xx and 3xx documents the `API-Version` header that carries it
//! ([`add_version_header`]); `servers` names the `/v1` base, so paths are relative to it and
//! the operations outside it (the probes) name their own server ([`relative_to_base`]);
//! `info.contact` comes from the configuration ([`set_contact`]).

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{Content, Object, OpenApi, Ref, RefOr, Type};

use crate::auth::policy::{Access, Policy};
use crate::auth::Role;
use crate::config::ApiSettings;
use crate::error::PROBLEM_JSON;

/// The full version of the API: the crate's version, which `maatje --version` prints, sent in
/// the `API-Version` header of every response and published as `info.version`. Its major is the
/// one in the base path ([`BASE_PATH`]).
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The base path of the API, the document's server; the spec's paths are relative to it.
pub const BASE_PATH: &str = "/v1";

/// The response header carrying [`API_VERSION`].
pub const API_VERSION_HEADER: &str = "API-Version";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "maatje",
        description = "Coordinates the volunteer buddy (maatje) programme of Dutch youth-protection \
organisations: exit-interview outcomes, buddies, buddy requests from case-management systems, and \
pairings with their evaluation.\n\nEvery error is an RFC 9457 `application/problem+json` document \
(schema `Problem`) carrying the request id. Lists are paged with `limit` and an opaque `cursor`. \
Interactive documentation is served at `/docs`, and this document at `/v1/openapi.json` (also \
`/openapi.json`), readable from any origin.\n\nEvery response carries `API-Version`, the full \
version of the API. Every `GET` also answers `HEAD`, and every path answers `OPTIONS` with the \
methods it allows in `Allow`; any other method is refused with 405 and `Allow`. Cross-origin \
browser calls (CORS) are allowed only for origins the operator configures.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
    ),
    components(schemas(
        crate::error::Problem,
        crate::error::FieldError,
        crate::domain::values::LanguageCode
    )),
    tags(
        (name = "auth", description = "Staff login and logout; who the caller is"),
        (name = "staff", description = "Staff accounts of the client bureau (administrators)"),
        (name = "api-clients", description = "Case-management systems and their API keys (administrators)"),
        (name = "organisations", description = "Certified youth-protection organisations in the programme"),
        (name = "exit-interviews", description = "Outcomes of asking departing clients to become a buddy"),
        (name = "buddies", description = "Volunteer buddies, from candidate to retirement"),
        (name = "buddy-requests", description = "Requests for a buddy, filed for one client each"),
        (name = "pairings", description = "A buddy proposed for a request, until the pairing ends"),
        (name = "audit", description = "The NEN 7513 audit trail of access to personal data (administrators)"),
        (name = "privacy", description = "Retention, legal holds, erasure and export of a client's or a buddy's data (administrators)"),
        (name = "reports", description = "How the programme is doing: counts and durations, no personal data"),
        (name = "events", description = "The event feed: what happened to buddy requests and exit interviews, in commit order"),
        (name = "webhooks", description = "Webhook endpoints of a case system: signed deliveries of its events (Standard Webhooks), their attempts and replays"),
        (name = "outbox", description = "The e-mail outbox: delivery state, dead letters and their retry (administrators)"),
        (name = "health", description = "Liveness and readiness probes"),
    )
)]
pub struct ApiDoc;

/// The published document's version, base and version header. Runs after the steps that look
/// at full paths ([`add_common_responses`], [`apply_access_policy`]).
pub fn apply_design_rules(api: &mut OpenApi) {
    api.info.version = API_VERSION.to_owned();
    add_version_header(api);
    relative_to_base(api);
}

/// Documents the `API-Version` header on every 2xx and 3xx response of every operation.
pub fn add_version_header(api: &mut OpenApi) {
    for item in api.paths.paths.values_mut() {
        for (_, operation) in operations(item) {
            for (status, response) in operation.responses.responses.iter_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                if status.starts_with('2') || status.starts_with('3') {
                    response
                        .headers
                        .insert(API_VERSION_HEADER.to_owned(), RefOr::T(version_header()));
                }
            }
        }
    }
}

fn version_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(Object::with_type(Type::String)))
        .description(Some(
            "The full version of the API (semantic versioning); its major is the one in the path",
        ))
        .example(Some(serde_json::Value::from(API_VERSION)))
        .build()
}

/// Makes [`BASE_PATH`] the document's server and the paths under it relative to it
/// (`/v1/buddies` becomes `/buddies`); a path outside it keeps its full path and gets the root
/// as its own server.
pub fn relative_to_base(api: &mut OpenApi) {
    let paths = std::mem::take(&mut api.paths.paths);
    for (path, mut item) in paths {
        let relative = path
            .strip_prefix(BASE_PATH)
            .filter(|rest| rest.starts_with('/'));
        match relative {
            Some(rest) => {
                api.paths.paths.insert(rest.to_owned(), item);
            }
            None => {
                item.servers = Some(vec![Server::builder()
                    .url("/")
                    .description(Some("The service root: outside the versioned API"))
                    .build()]);
                api.paths.paths.insert(path, item);
            }
        }
    }
    api.servers = Some(vec![Server::builder()
        .url(BASE_PATH)
        .description(Some(
            "Version 1 of the API, on the host serving this document",
        ))
        .build()]);
}

/// The full path of a path of the published document: its server's URL (the path item's own,
/// else the document's) joined with it.
pub fn full_path(api: &OpenApi, path: &str) -> String {
    let server = api
        .paths
        .paths
        .get(path)
        .and_then(|item| item.servers.as_ref())
        .or(api.servers.as_ref())
        .and_then(|servers| servers.first())
        .map(|server| server.url.trim_end_matches('/'))
        .unwrap_or("");
    format!("{server}{path}")
}

/// Publishes the configured contact as `info.contact`.
pub fn set_contact(api: &mut OpenApi, settings: &ApiSettings) {
    api.info.contact = Some(
        utoipa::openapi::info::ContactBuilder::new()
            .name(Some(settings.contact_name.clone()))
            .url(Some(settings.contact_url.clone()))
            .email(Some(settings.contact_email.clone()))
            .build(),
    );
}

pub const STAFF_TOKEN: &str = "staff_token";
pub const API_KEY: &str = "api_key";

/// Declares the two kinds of bearer credentials and, from the access policy, which one each
/// operation takes, with its 401 and 403. Public operations carry no security requirement.
pub fn apply_access_policy(api: &mut OpenApi, policy: &Policy) {
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        STAFF_TOKEN,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("mtj_st_…")
                .description(Some("A staff token from `POST /v1/auth/login`."))
                .build(),
        ),
    );
    components.add_security_scheme(
        API_KEY,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("mtj_ak_…")
                .description(Some(
                    "An API key of a case-management system, bound to one organisation.",
                ))
                .build(),
        ),
    );
    // Runs before the paths are made relative to `/v1`: each is still the route's full pattern.
    for (path, item) in api.paths.paths.iter_mut() {
        for (method, operation) in operations(item) {
            let Some(rule) = policy.find(method, path) else {
                continue;
            };
            let Access::Roles(roles) = rule.access else {
                continue;
            };
            let mut requirements =
                vec![SecurityRequirement::new(STAFF_TOKEN, Vec::<String>::new())];
            if roles.contains(&Role::CaseSystem) {
                requirements.push(SecurityRequirement::new(API_KEY, Vec::<String>::new()));
            }
            operation.security = Some(requirements);
            let who: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            let note = format!("\n\nAllowed for: {}.", who.join(", "));
            operation.description = Some(operation.description.take().unwrap_or_default() + &note);
            let responses = &mut operation.responses.responses;
            // Every authenticated call may carry `X-On-Behalf-Of`, refused with 400 when invalid.
            responses.entry("400".to_owned()).or_insert_with(|| {
                problem_response("Invalid request: an invalid `X-On-Behalf-Of` header")
            });
            responses.entry("401".to_owned()).or_insert_with(|| {
                problem_response(
                    "No valid credentials (missing, malformed, unknown, expired or revoked)",
                )
            });
            responses.entry("403".to_owned()).or_insert_with(|| {
                problem_response(
                    "The credentials are valid but not for this operation \
                     (`urn:maatje:problem:forbidden`), or the API key's organisation is \
                     deactivated (`urn:maatje:problem:organisation-inactive`, until it is \
                     reactivated)",
                )
            });
        }
    }
}

/// Documents `Idempotency-Key` (see [`crate::http::idempotency`]) on every authenticated POST
/// under `/v1`: the header, `Idempotency-Replayed` on its successful answers, the 409s and the
/// 422 it adds. The POSTs that refuse a key say so. Runs on full paths, after the access policy
/// (a public POST takes no key).
pub fn add_idempotency_keys(api: &mut OpenApi) {
    use crate::http::idempotency::{HEADER, MAX_KEY_LENGTH, REFUSED_ROUTES, REPLAYED};
    use utoipa::openapi::schema::ObjectBuilder;
    use utoipa::openapi::Required;
    for (path, item) in api.paths.paths.iter_mut() {
        if !path.starts_with("/v1/") {
            continue;
        }
        let refused = REFUSED_ROUTES.contains(&path.as_str());
        for (method, operation) in operations(item) {
            if method != "POST" || (operation.security.is_none() && !refused) {
                continue;
            }
            let description = operation.description.take().unwrap_or_default();
            if refused {
                operation.description = Some(
                    description
                        + "\n\nTakes no `Idempotency-Key` (400): the answer carries a secret \
                           that is shown once.",
                );
                continue;
            }
            operation.description = Some(
                description
                    + "\n\nSend an `Idempotency-Key` to retry safely: the same key with the \
                       same request replays the first answer without doing the work again \
                       (for 24 hours by default).",
            );
            let parameter = header_parameter(
                HEADER,
                Required::False,
                "A key of the caller's choosing (a UUID is a good one), 1 to 255 visible \
                 ASCII characters, kept per caller for `api.idempotency_keep_hours` (24 by \
                 default). The same key with the same method, path and body replays the \
                 first answer (status, body, `Content-Type`, `Location`) with \
                 `Idempotency-Replayed: true`; with another request it is a 422; while the \
                 first request is under way the retry waits for its answer, and gets a 409 \
                 if it takes too long.",
                ObjectBuilder::new()
                    .min_length(Some(1))
                    .max_length(Some(MAX_KEY_LENGTH))
                    .pattern(Some("^[!-~]+$")),
            )
            .build();
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(RefOr::T(parameter));
            let responses = &mut operation.responses.responses;
            for (status, response) in responses.iter_mut() {
                if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                    response.headers.insert(
                        REPLAYED.to_owned(),
                        RefOr::T(
                            HeaderBuilder::new()
                                .schema(Some(Object::with_type(Type::String)))
                                .description(Some(
                                    "`true` when this is the stored answer to an earlier \
                                     request with the same `Idempotency-Key`",
                                ))
                                .build(),
                        ),
                    );
                }
            }
            const KEY_409: &str = "Idempotency-Key: the first request with this key is still \
                under way (`urn:maatje:problem:idempotency-key-in-flight`, `Retry-After`), or it \
                was carried out but its answer is not stored (lost, or erased with its object: \
                `urn:maatje:problem:idempotency-key-answer-lost`)";
            let conflict = responses
                .entry("409".to_owned())
                .or_insert_with(|| problem_response(KEY_409));
            if let RefOr::T(response) = conflict {
                if !response.description.contains(KEY_409) {
                    response.description = format!(
                        "{}. Also: {}",
                        response.description.trim_end_matches('.'),
                        KEY_409
                    );
                }
                response
                    .headers
                    .entry("Retry-After".to_owned())
                    .or_insert_with(|| RefOr::T(retry_after_header()));
            }
            responses.entry("422".to_owned()).or_insert_with(|| {
                problem_response(
                    "This `Idempotency-Key` was used before for another request (method, path \
                     or body): `urn:maatje:problem:idempotency-key-reused`",
                )
            });
        }
    }
}

/// The syntax of `If-Match` and `If-None-Match` (RFC 9110 §13.1.1): `*`, or a comma-separated
/// list of entity tags, each `"…"` or `W/"…"`.
const CONDITION_PATTERN: &str =
    r#"^[ \t]*(\*|(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*")*)[ \t]*$"#;

/// Documents the conditional requests (see [`crate::http::conditional`]) on the operations of
/// the tagged routes of `policy`: the `ETag` header of their successful answers; on a `GET`,
/// `If-None-Match` and the 304; on a change of an existing resource, `If-Match` and the 412; and
/// the 400 of a malformed header. Runs on full paths, before [`apply_design_rules`] (which gives
/// the 304 its `API-Version`).
pub fn add_conditional_requests(api: &mut OpenApi, policy: &Policy) {
    use crate::http::conditional::Kind;
    use utoipa::openapi::Required;
    let etag = || {
        HeaderBuilder::new()
            .schema(Some(
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r#"^"[A-Za-z0-9_-]{43}"$"#)),
            ))
            .description(Some(
                "The strong entity tag of the resource as this answer shows it (SHA-256 of \
                 the body, base64url, quoted). Send it in `If-Match` to change the resource \
                 only if nobody changed it since, or in `If-None-Match` to read it only if \
                 it changed.",
            ))
            .example(Some(serde_json::Value::from(
                "\"RBNvo1WzZ4oRRq0W9-hknpT7T8If536DEMBg9hyq_4o\"",
            )))
            .build()
    };
    let condition_parameter = |name: &str, description: &str| {
        RefOr::T(
            header_parameter(
                name,
                Required::False,
                description,
                utoipa::openapi::schema::ObjectBuilder::new().pattern(Some(CONDITION_PATTERN)),
            )
            .example(Some(serde_json::Value::from(
                "\"RBNvo1WzZ4oRRq0W9-hknpT7T8If536DEMBg9hyq_4o\"",
            )))
            .build(),
        )
    };
    for (path, item) in api.paths.paths.iter_mut() {
        for (method, operation) in operations(item) {
            if !policy.find(method, path).is_some_and(|rule| rule.tagged) {
                continue;
            }
            let kind = Kind::of(method, path);
            let responses = &mut operation.responses.responses;
            for (status, response) in responses.iter_mut() {
                if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                    response.headers.insert("ETag".to_owned(), RefOr::T(etag()));
                }
            }
            let (header, note, malformed) = match kind {
                Kind::Create => continue,
                Kind::Read => {
                    responses.insert(
                        "304".to_owned(),
                        RefOr::T(
                            ResponseBuilder::new()
                                .description(
                                    "Not modified: a tag in `If-None-Match` matches the \
                                     resource's current `ETag` (or it is `*`); no body",
                                )
                                .header("ETag", etag())
                                .build(),
                        ),
                    );
                    (
                        condition_parameter(
                            "If-None-Match",
                            "`*` or a comma-separated list of entity tags (`\"…\"`, `W/\"…\"`) \
                             from earlier answers' `ETag`. When one matches the current `ETag` \
                             (weak comparison), the answer is a 304 without a body: the copy \
                             the caller holds is current. A malformed value is a 400.",
                        ),
                        "\n\nAnswers with the resource's `ETag`; with `If-None-Match`, a 304 \
                         when the caller's copy is current.",
                        "a malformed `If-None-Match`",
                    )
                }
                Kind::Change => {
                    responses.entry("412".to_owned()).or_insert_with(|| {
                        problem_response(
                            "`If-Match` matches none of the resource's current `ETag`: it \
                             changed since the caller read it \
                             (`urn:maatje:problem:precondition-failed`). Nothing was changed; \
                             read it again and decide whether the change still applies",
                        )
                    });
                    (
                        condition_parameter(
                            "If-Match",
                            "`*` or a comma-separated list of entity tags from earlier answers' \
                             `ETag`. The change is made only if one of them is the resource's \
                             current `ETag` (strong comparison: a weak `W/\"…\"` tag never \
                             matches; `*` matches any existing resource), checked in the \
                             change's own transaction; otherwise a 412 and nothing changes. \
                             An unknown id is still a 404. A malformed value is a 400.",
                        ),
                        "\n\nAnswers with the resource's new `ETag`. Send `If-Match` with the \
                         `ETag` of the copy the change is based on to make it only if nobody \
                         changed the resource since (412 otherwise).",
                        "a malformed `If-Match`",
                    )
                }
            };
            let invalid = responses
                .entry("400".to_owned())
                .or_insert_with(|| problem_response("Invalid request"));
            if let RefOr::T(response) = invalid {
                response.description = format!(
                    "{}; or {malformed}",
                    response.description.trim_end_matches('.')
                );
            }
            operation.description = Some(operation.description.take().unwrap_or_default() + note);
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(header);
        }
    }
}

/// The operations of a path item with their methods, to read.
pub fn operations_of(item: &utoipa::openapi::PathItem) -> Vec<(&'static str, &Operation)> {
    [
        ("GET", item.get.as_ref()),
        ("POST", item.post.as_ref()),
        ("PATCH", item.patch.as_ref()),
        ("PUT", item.put.as_ref()),
        ("DELETE", item.delete.as_ref()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
    .collect()
}

/// The operations of a path item with their methods, to change.
fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("GET", item.get.as_mut()),
        ("POST", item.post.as_mut()),
        ("PATCH", item.patch.as_mut()),
        ("PUT", item.put.as_mut()),
        ("DELETE", item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
    .collect()
}

/// Adds the shared error responses to every `/v1` operation, keeping any an operation declares
/// itself (its own 404 or 409 descriptions win):
/// 400 for operations with parameters or a body, 404 for paths with an id, 413 and 415 for
/// operations with a body, and 429, 500 and 503 everywhere. Other operations get the 500; the
/// health probes get no 429 because they are exempt from rate limiting
/// (`http::rate_limit::EXEMPT_PATHS`).
/// Examples of the two answers too large to write inline in a `#[schema]` attribute, taken from
/// a real run of the README walk-through (`openapi/examples/`); the spec tests validate them
/// against their schemas like every other example.
pub fn add_answer_examples(api: &mut OpenApi) {
    const EXAMPLES: &[(&str, &str)] = &[
        (
            "CandidateList",
            include_str!("../openapi/examples/candidate-list.json"),
        ),
        (
            "SummaryReport",
            include_str!("../openapi/examples/summary-report.json"),
        ),
    ];
    let Some(components) = api.components.as_mut() else {
        return;
    };
    for (name, text) in EXAMPLES {
        let example: serde_json::Value =
            serde_json::from_str(text).expect("the examples in openapi/examples are JSON");
        if let Some(RefOr::T(utoipa::openapi::schema::Schema::Object(schema))) =
            components.schemas.get_mut(*name)
        {
            schema.example = Some(example);
        }
    }
}

pub fn add_common_responses(api: &mut OpenApi) {
    for (path, item) in api.paths.paths.iter_mut() {
        let has_id = path.contains('{');
        let common = path.starts_with("/v1/")
            && !crate::http::rate_limit::EXEMPT_PATHS.contains(&path.as_str());
        for (_, operation) in operations(item) {
            if common {
                add_to_operation(operation, has_id);
            } else {
                add_500(operation);
            }
        }
    }
}

fn add_to_operation(operation: &mut Operation, has_id: bool) {
    let has_body = operation.request_body.is_some();
    let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem_response(description));
    };
    if has_params || has_body {
        add(
            "400",
            "Invalid request: malformed JSON, wrong types, unknown fields, bad query \
                    parameters or a malformed id; `errors` lists every invalid field",
        );
    }
    if has_id {
        add("404", "No such resource");
    }
    if has_body {
        add("413", "Request body larger than the configured limit");
        add("415", "Request body is not `application/json`");
    }
    add(
        "500",
        "Unexpected error; the body carries only the request id",
    );
    let unavailable = operation
        .responses
        .responses
        .entry("503".to_owned())
        .or_insert_with(|| problem_response(DATABASE_503));
    // An operation's own 503 (the password checks' bound) names the database's too.
    if let RefOr::T(response) = unavailable {
        if !response.description.contains(DATABASE_503) {
            response.description = format!(
                "{}. Also: {}{}",
                response.description.trim_end_matches('.'),
                DATABASE_503[..1].to_lowercase(),
                &DATABASE_503[1..]
            );
        }
        response
            .headers
            .entry("Retry-After".to_owned())
            .or_insert_with(|| RefOr::T(retry_after_header()));
    }
    operation
        .responses
        .responses
        .entry("429".to_owned())
        .or_insert_with(rate_limited_response);
}

/// The 503 of every operation that uses the database: the three kinds of outage, each with its
/// own problem type (`src/error.rs`).
pub const DATABASE_503: &str = "The database cannot be reached \
(`urn:maatje:problem:unavailable`, `Retry-After: 5`), its storage is full \
(`urn:maatje:problem:storage-full`) or it takes no changes \
(`urn:maatje:problem:read-only`, both `Retry-After: 30`); answered at once during an outage. \
Retry after `Retry-After` seconds";

fn retry_after_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(Object::with_type(Type::Integer)))
        .description(Some("Whole seconds (at least 1) until a retry makes sense"))
        .build()
}

/// Operations outside `/v1` (the probes) document their own statuses, plus the 500 any
/// operation can answer.
fn add_500(operation: &mut Operation) {
    operation
        .responses
        .responses
        .entry("500".to_owned())
        .or_insert_with(|| {
            problem_response("Unexpected error; the body carries only the request id")
        });
}

fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(problem_response_builder(description).build())
}

fn problem_response_builder(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        Content::new(Some(Ref::from_schema_name("Problem"))),
    )
}

fn rate_limited_response() -> RefOr<utoipa::openapi::Response> {
    let retry_after = HeaderBuilder::new()
        .schema(Some(Object::with_type(Type::Integer)))
        .description(Some(
            "Whole seconds (at least 1) until the next request will be accepted",
        ))
        .build();
    RefOr::T(
        problem_response_builder(
            "Too many requests from this source address; wait as long as `Retry-After` says",
        )
        .header("Retry-After", retry_after)
        .build(),
    )
}

/// The webhook messages (OpenAPI 3.1 `webhooks`): one entry per event type, each a POST of the
/// event (the same document as in `GET /v1/events`) with the Standard Webhooks headers, to which
/// the receiver answers 2xx.
pub fn add_webhooks(api: &mut OpenApi) {
    use crate::ops::feed::EventType;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::schema::ObjectBuilder;
    use utoipa::openapi::{
        ContentBuilder, PathItem, PathsBuilder, Ref, Required, ResponseBuilder, ResponsesBuilder,
    };
    let header = |name: &str, description: &str, pattern: &str| {
        header_parameter(
            name,
            Required::True,
            description,
            ObjectBuilder::new().pattern(Some(pattern)),
        )
        .build()
    };
    let mut paths = PathsBuilder::new();
    for event_type in EventType::ALL {
        let operation = OperationBuilder::new()
            .operation_id(Some(format!(
                "webhook_{}",
                event_type.as_str().replace('.', "_")
            )))
            .tag("webhooks")
            .summary(Some(format!(
                "`{}`, sent to a subscribed endpoint",
                event_type.as_str()
            )))
            .description(Some(
                "POSTed to each enabled endpoint of the event's organisation that subscribed to \
                 this type (`POST /v1/webhook-endpoints`). Verify `webhook-signature` before \
                 trusting the body: `v1,` and the base64 HMAC-SHA256 of \
                 `{webhook-id}.{webhook-timestamp}.{body}` under the bytes of the endpoint's \
                 secret (the base64 after `whsec_`); during a secret rotation two signatures \
                 come, space-separated, and one matching is enough. Refuse a timestamp more than \
                 5 minutes from now. Deduplicate on `webhook-id` (the event id): a message may \
                 come more than once. Answer 2xx within 10 seconds; anything else is retried \
                 with exponential backoff for about a day.",
            ))
            .parameter(header(
                "webhook-id",
                "The event id: the same on every retry and replay.",
                "^[0-9a-f-]{36}$",
            ))
            .parameter(header(
                "webhook-timestamp",
                "When this attempt was signed, in Unix seconds.",
                "^[0-9]+$",
            ))
            .parameter(header(
                "webhook-signature",
                "`v1,<base64>` per secret that signs, space-separated.",
                "^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$",
            ))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("FeedEvent")))
                            .build(),
                    )
                    .build(),
            ))
            .responses(
                ResponsesBuilder::new()
                    .response(
                        "2XX",
                        ResponseBuilder::new()
                            .description("Received; any 2xx answer ends the delivery"),
                    )
                    .build(),
            )
            .build();
        paths = paths.path(
            event_type.as_str(),
            PathItem::new(HttpMethod::Post, operation),
        );
    }
    api.webhooks = Some(paths.build());
}

/// A header parameter whose value is a string described by `schema` (its type is set here).
fn header_parameter(
    name: &str,
    required: utoipa::openapi::Required,
    description: &str,
    schema: utoipa::openapi::schema::ObjectBuilder,
) -> utoipa::openapi::path::ParameterBuilder {
    utoipa::openapi::path::ParameterBuilder::new()
        .name(name)
        .parameter_in(utoipa::openapi::path::ParameterIn::Header)
        .required(required)
        .description(Some(description))
        .schema(Some(schema.schema_type(Type::String)))
}
