//! API clients of case systems and their keys, for administrators. A new key is shown once:
//! the form that makes it redirects to a page that takes it from memory (see
//! [`super::Console::keep_once`]); reloading that page does not show it again.

use actix_web::web::{Data, Path, Query};
use actix_web::HttpResponse;
use minijinja::context;
use serde::Deserialize;

use super::admin::{all_organisations, first_page, Done};
use super::dashboard::ts;
use super::forms::{self, FieldErrors, FormData, Shown};
use super::page::{path_id, see_other, Viewer};
use super::router::Router;
use crate::api::api_clients::ApiClient;
use crate::auth::policy::ADMINS;
use crate::domain::ids::{ApiClientId, ApiKeyId, OrganisationId};
use crate::domain::values::MAX_NAME;
use crate::error::{ApiError, ApiResult};
use crate::ops::{self, AppState};

pub fn routes(router: &mut Router<'_>) {
    router
        .path("/console/admin/api-clients", |p| {
            p.get(ADMINS, clients).post(ADMINS, create_client)
        })
        .path("/console/admin/api-clients.csv", |p| {
            p.get(ADMINS, clients_csv)
        })
        .path("/console/admin/api-clients/{id}", |p| p.get(ADMINS, client))
        .path("/console/admin/api-clients/{id}/keys", |p| {
            p.post(ADMINS, issue_key)
        })
        .path("/console/admin/api-clients/{id}/revoke", |p| {
            p.post(ADMINS, revoke_client)
        })
        .path(
            "/console/admin/api-clients/{id}/keys/{key_id}/revoke",
            |p| p.post(ADMINS, revoke_key),
        );
}

/// The end of the day `day` (local), as the expiry of a key: it works through that day.
fn expiry(day: chrono::NaiveDate) -> chrono::NaiveDateTime {
    use chrono::TimeZone;
    let end = day.and_hms_opt(23, 59, 59).expect("a valid time");
    chrono_tz::Europe::Amsterdam
        .from_local_datetime(&end)
        .earliest()
        .map_or(end, |t| t.naive_utc())
}

/// A key's expiry from the form: a date after today, or none.
fn key_expiry(
    form: &FormData,
    errors: &mut FieldErrors,
    now: chrono::NaiveDateTime,
) -> Option<chrono::NaiveDateTime> {
    let day = forms::date(form, errors, "expires_on", false)?;
    if day <= crate::i18n::local_day(now) {
        errors.fail("expires_on", "clients.expiry_future");
        return None;
    }
    Some(expiry(day))
}

async fn clients(viewer: Viewer, state: Data<AppState>, done: Query<Done>) -> HttpResponse {
    let done = done.key(&["client_revoked"]);
    viewer.respond(clients_page(&viewer, &state, Shown::done(viewer.lang, done)).await)
}

async fn clients_page(viewer: &Viewer, state: &AppState, shown: Shown) -> ApiResult<HttpResponse> {
    let clients = all_clients(state).await?;
    let organisations = all_organisations(state).await?;
    Ok(viewer.page_with(
        shown.status,
        "admin_clients.html",
        context! {
            clients => clients,
            organisations => organisations,
            values => shown.values,
            errors => shown.errors.to_value(),
            done => shown.done,
            now => ts(state.clock.now_naive()),
        },
    ))
}

async fn create_client(viewer: Viewer, state: Data<AppState>, form: FormData) -> HttpResponse {
    let now = state.clock.now_naive();
    let mut errors = FieldErrors::new(viewer.lang);
    let name = forms::required(&form, &mut errors, "name", MAX_NAME);
    let organisation = match uuid::Uuid::try_parse(form.get("organisation_id")) {
        Ok(id) => Some(OrganisationId::from(id)),
        Err(_) => {
            errors.fail("organisation_id", "field.choice");
            None
        }
    };
    let expires_at = key_expiry(&form, &mut errors, now);
    let refused = |errors: FieldErrors| {
        let (viewer, state, form) = (&viewer, &state, &form);
        async move { viewer.respond(clients_page(viewer, state, Shown::invalid(form, errors)).await) }
    };
    let (Some(organisation), true) = (organisation, errors.is_empty()) else {
        return refused(errors).await;
    };
    let created = state
        .change(viewer.ctx(now), move |tx| {
            ops::admin::create_api_client(tx, &organisation, name, expires_at)
        })
        .await;
    match created {
        Ok((client, key)) => {
            let once = viewer.console().keep_once(viewer.session_id(), key.token);
            see_other(&format!(
                "/console/admin/api-clients/{}?key={once}",
                client.id
            ))
        }
        Err(e) => {
            let e = ApiError::from(e);
            if errors.absorb(&e, &[]) {
                return refused(errors).await;
            }
            if matches!(e, ApiError::NotFound { .. }) {
                errors.fail("organisation_id", "field.choice");
                return refused(errors).await;
            }
            let (status, message) = super::page::explain(&e, viewer.lang);
            errors.fail_text("organisation_id", message);
            viewer.respond(
                clients_page(
                    &viewer,
                    &state,
                    Shown {
                        status,
                        ..Shown::invalid(&form, errors)
                    },
                )
                .await,
            )
        }
    }
}

/// Every API client with its keys' metadata (administration lists are short: the first
/// [`super::admin::LIST_LIMIT`]).
async fn all_clients(state: &AppState) -> ApiResult<Vec<ApiClient>> {
    let page = first_page("api-clients");
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let rows = crate::store::api_clients::list(conn, None, &page)?;
            let ids: Vec<ApiClientId> = rows.iter().map(|r| r.id.clone()).collect();
            let mut keys = crate::store::api_clients::keys_of(conn, &ids)?;
            Ok(rows
                .into_iter()
                .map(|row| {
                    let own = keys.remove(&row.id).unwrap_or_default();
                    (row, own)
                })
                .collect::<Vec<_>>())
        })
        .await?;
    rows.into_iter()
        .map(|(row, keys)| ApiClient::from_rows(row, keys))
        .collect()
}

/// Every client with its organisation and keys' counts (no secret: keys are stored hashed).
async fn clients_csv(viewer: Viewer, state: Data<AppState>) -> HttpResponse {
    use super::admin::csv_time;
    let result = async {
        let organisations = all_organisations(&state).await?;
        let clients = all_clients(&state).await?;
        let text = super::export::csv_text(
            &[
                "id",
                "name",
                "organisation_id",
                "organisation",
                "created_at",
                "revoked_at",
                "keys",
                "working_keys",
            ],
            clients.into_iter().map(|c| {
                let organisation = organisations
                    .iter()
                    .find(|o| o.id == c.organisation_id)
                    .map(|o| o.name.clone())
                    .unwrap_or_default();
                let working = c.keys.iter().filter(|k| k.revoked_at.is_none()).count();
                vec![
                    c.id.to_string(),
                    c.name,
                    c.organisation_id.to_string(),
                    organisation,
                    csv_time(Some(c.created_at)),
                    csv_time(c.revoked_at),
                    c.keys.len().to_string(),
                    working.to_string(),
                ]
            }),
        )?;
        Ok(super::export::csv_response("api-clients.csv", text))
    }
    .await;
    viewer.respond(result)
}

#[derive(Debug, Deserialize)]
struct ClientQuery {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

async fn client(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    query: Query<ClientQuery>,
) -> HttpResponse {
    let query = query.into_inner();
    let result = async {
        let id = ApiClientId::from(path_id(&id, "api_client")?);
        // Taken first: whatever happens next, the key is not shown twice.
        let new_key = query
            .key
            .as_deref()
            .map(|once| viewer.console().take_once(viewer.session_id(), once));
        let done = Done { done: query.done }.key(&["key_revoked"]);
        client_page(&viewer, &state, id, new_key, Shown::done(viewer.lang, done)).await
    }
    .await;
    viewer.respond(result)
}

async fn client_page(
    viewer: &Viewer,
    state: &AppState,
    id: ApiClientId,
    new_key: Option<Option<String>>,
    shown: Shown,
) -> ApiResult<HttpResponse> {
    let client = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let row = crate::store::api_clients::find(conn, &id)?;
            let keys = crate::store::api_clients::keys(conn, &id)?;
            ApiClient::from_rows(row, keys)
        })
        .await?;
    let organisation = all_organisations(state)
        .await?
        .into_iter()
        .find(|o| o.id == client.organisation_id)
        .map(|o| o.name);
    Ok(viewer.page_with(
        shown.status,
        "admin_client.html",
        context! {
            client => client,
            organisation => organisation,
            new_key => new_key.as_ref().map(|k| k.clone().unwrap_or_default()),
            key_gone => matches!(new_key, Some(None)),
            done => shown.done,
            errors => shown.errors.to_value(),
            problem => shown.problem,
            now => ts(state.clock.now_naive()),
        },
    ))
}

async fn issue_key(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    let result = async {
        let id = ApiClientId::from(path_id(&id, "api_client")?);
        let now = state.clock.now_naive();
        let mut errors = FieldErrors::new(viewer.lang);
        let expires_at = key_expiry(&form, &mut errors, now);
        if !errors.is_empty() {
            return client_page(&viewer, &state, id, None, Shown::invalid(&form, errors)).await;
        }
        let client = id.clone();
        let issued = state
            .change(viewer.ctx(now), move |tx| {
                ops::admin::issue_key(tx, &client, expires_at)
            })
            .await;
        match issued {
            Ok(key) => {
                let once = viewer.console().keep_once(viewer.session_id(), key.token);
                Ok(see_other(&format!(
                    "/console/admin/api-clients/{id}?key={once}"
                )))
            }
            Err(e) => refused(&viewer, &state, id, ApiError::from(e)).await,
        }
    }
    .await;
    viewer.respond(result)
}

/// The client's page again with why an action was refused (an illegal state), or the error.
async fn refused(
    viewer: &Viewer,
    state: &AppState,
    id: ApiClientId,
    e: ApiError,
) -> ApiResult<HttpResponse> {
    if matches!(e, ApiError::NotFound { .. }) {
        return Err(e);
    }
    let (status, message) = super::page::explain(&e, viewer.lang);
    let shown = Shown {
        status,
        problem: Some(message),
        ..Shown::fresh(viewer.lang)
    };
    client_page(viewer, state, id, None, shown).await
}

async fn revoke_client(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    _form: FormData,
) -> HttpResponse {
    let result = async {
        let id = ApiClientId::from(path_id(&id, "api_client")?);
        let now = state.clock.now_naive();
        let client = id.clone();
        match state
            .change(viewer.ctx(now), move |tx| {
                ops::admin::revoke_api_client(tx, &client)
            })
            .await
        {
            Ok(_) => Ok(see_other("/console/admin/api-clients?done=client_revoked")),
            Err(e) => refused(&viewer, &state, id, ApiError::from(e)).await,
        }
    }
    .await;
    viewer.respond(result)
}

async fn revoke_key(
    viewer: Viewer,
    state: Data<AppState>,
    ids: Path<(String, String)>,
    _form: FormData,
) -> HttpResponse {
    let (id, key_id) = ids.into_inner();
    let result = async {
        let id = ApiClientId::from(path_id(&id, "api_client")?);
        let key_id = ApiKeyId::from(path_id(&key_id, "api_key")?);
        let now = state.clock.now_naive();
        let client = id.clone();
        match state
            .change(viewer.ctx(now), move |tx| {
                ops::admin::revoke_key(tx, &client, &key_id)
            })
            .await
        {
            Ok(_) => Ok(see_other(&format!(
                "/console/admin/api-clients/{id}?done=key_revoked"
            ))),
            Err(e) => refused(&viewer, &state, id, ApiError::from(e)).await,
        }
    }
    .await;
    viewer.respond(result)
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("clients.title", "API-clients", "API clients"),
    ("clients.help", "Elk casusregistratiesysteem heeft een client met een of meer sleutels. Een sleutel wordt één keer getoond.", "Each case-management system has a client with one or more keys. A key is shown once."),
    ("clients.name", "Naam", "Name"),
    ("clients.organisation", "Organisatie", "Organisation"),
    ("clients.keys", "Werkende sleutels", "Working keys"),
    ("clients.revoked", "Ingetrokken", "Revoked"),
    ("clients.new", "Nieuwe API-client", "New API client"),
    ("clients.choose_organisation", "Kies een organisatie", "Choose an organisation"),
    ("clients.expires_on", "Sleutel geldig tot en met", "Key valid through"),
    ("clients.expires_hint", "Optioneel: leeg is zonder einddatum.", "Optional: empty means no end date."),
    ("clients.expiry_future", "Kies een datum na vandaag.", "Choose a date after today."),
    ("clients.create", "Aanmaken en sleutel tonen", "Create and show the key"),
    ("clients.new_key_title", "Nieuwe sleutel", "New key"),
    ("clients.new_key_help", "Kopieer deze sleutel nu naar het casusregistratiesysteem. Hij wordt niet opnieuw getoond; raakt hij kwijt, maak dan een nieuwe en trek deze in.", "Copy this key to the case-management system now. It is not shown again; if it is lost, issue a new one and revoke this one."),
    ("clients.key_gone", "Deze sleutel is al getoond en wordt niet opnieuw getoond. Maak zo nodig een nieuwe sleutel.", "This key was shown already and is not shown again. Issue a new key if needed."),
    ("clients.key_label", "Sleutel", "Key"),
    ("clients.key_id", "Sleutel-id", "Key id"),
    ("clients.created", "Aangemaakt", "Created"),
    ("clients.last_used", "Laatst gebruikt", "Last used"),
    ("clients.expires", "Verloopt", "Expires"),
    ("clients.never", "nooit", "never"),
    ("clients.issue", "Nieuwe sleutel maken", "Issue a new key"),
    ("clients.revoke_key", "Sleutel intrekken", "Revoke key"),
    ("clients.revoke_client", "Client intrekken (alle sleutels stoppen direct)", "Revoke the client (all keys stop at once)"),
    ("clients.client_revoked", "Deze client is ingetrokken op {at}.", "This client was revoked on {at}."),
    ("done.client_revoked", "De client is ingetrokken; zijn sleutels werken niet meer.", "The client was revoked; its keys no longer work."),
    ("done.key_revoked", "De sleutel is ingetrokken.", "The key was revoked."),
];
