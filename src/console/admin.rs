//! Administration, for administrators only (the API's `ADMINS` rules): staff accounts,
//! organisations, and mails that could not be delivered. API clients and keys, the audit trail
//! and privacy have modules of their own ([`super::admin_clients`], [`super::admin_audit`],
//! [`super::admin_privacy`]).

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path, Query};
use actix_web::HttpResponse;
use minijinja::{context, Value};
use serde::Deserialize;

use super::dashboard::ts;
use super::forms::{self, FieldErrors, FormData};
use super::page::{path_id, see_other, Viewer};
use super::router::Router;
use crate::api::organisations::Organisation;
use crate::api::staff::{validate_new_staff, NewStaff, Staff};
use crate::auth::policy::ADMINS;
use crate::auth::{password, StaffRole};
use crate::domain::ids::{OrganisationId, StaffId};
use crate::domain::organisation::OrganisationAction;
use crate::domain::values::MAX_NAME;
use crate::error::{ApiError, ApiResult};
use crate::ops::{self, AppState};
use crate::store::page::PageRequest;

/// At most this many rows in an administration list (staff, organisations, clients).
pub const LIST_LIMIT: u32 = 200;

pub fn routes(router: &mut Router<'_>) {
    router
        .path("/console/admin", |p| p.get(ADMINS, index))
        .path("/console/admin/staff", |p| {
            p.get(ADMINS, staff_list).post(ADMINS, staff_create)
        })
        .path("/console/admin/staff/{id}", |p| {
            p.get(ADMINS, staff_form).post(ADMINS, staff_update)
        })
        .path("/console/admin/organisations", |p| {
            p.get(ADMINS, organisations)
                .post(ADMINS, organisation_create)
        })
        .path("/console/admin/organisations/{id}/{action}", |p| {
            p.post(ADMINS, organisation_act)
        })
        .path("/console/admin/staff.csv", |p| p.get(ADMINS, staff_csv))
        .path("/console/admin/organisations.csv", |p| {
            p.get(ADMINS, organisations_csv)
        })
        .path("/console/admin/mails", |p| p.get(ADMINS, mails))
        .path("/console/admin/mails.csv", |p| p.get(ADMINS, mails_csv))
        .path("/console/admin/mails/{id}/retry", |p| {
            p.post(ADMINS, mail_retry)
        });
}

/// The first page of a list (administration lists are short).
pub fn first_page(name: &'static str) -> PageRequest {
    let mut errors = Vec::new();
    PageRequest::parse(name, Some(LIST_LIMIT), None, &mut errors)
}

#[derive(Debug, Deserialize)]
pub struct Done {
    #[serde(default)]
    pub done: Option<String>,
}

impl Done {
    /// The text key of a known `done` value, for the page's confirmation; unknown ones are
    /// ignored.
    pub fn key(&self, known: &[&'static str]) -> Option<String> {
        let done = self.done.as_deref()?;
        known
            .iter()
            .find(|k| **k == done)
            .map(|k| format!("done.{k}"))
    }
}

async fn index(viewer: Viewer) -> HttpResponse {
    viewer.page("admin_index.html", context! {})
}

fn role_options(viewer: &Viewer) -> Vec<(String, String)> {
    ["coordinator", "admin"]
        .iter()
        .map(|r| ((*r).to_owned(), viewer.text(&format!("role.{r}"))))
        .collect()
}

async fn staff_list(viewer: Viewer, state: Data<AppState>, done: Query<Done>) -> HttpResponse {
    let done = done.key(&["staff_created", "staff_updated"]);
    viewer.respond(
        staff_page(
            &viewer,
            &state,
            StatusCode::OK,
            Value::from(()),
            FieldErrors::new(viewer.lang),
            done,
        )
        .await,
    )
}

async fn staff_page(
    viewer: &Viewer,
    state: &AppState,
    status: StatusCode,
    values: Value,
    errors: FieldErrors,
    done: Option<String>,
) -> ApiResult<HttpResponse> {
    let page = first_page("staff");
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(crate::store::staff::list(conn, &page)?) })
        .await?;
    let staff = rows
        .into_iter()
        .map(Staff::try_from)
        .collect::<ApiResult<Vec<_>>>()?;
    let values = if values.is_none() || values.is_undefined() {
        context! { role => "coordinator" }
    } else {
        values
    };
    Ok(viewer.page_with(
        status,
        "admin_staff.html",
        context! {
            staff => staff,
            values => values,
            errors => errors.to_value(),
            roles => role_options(viewer),
            done => done,
            now => ts(state.clock.now_naive()),
        },
    ))
}

async fn staff_create(viewer: Viewer, state: Data<AppState>, form: FormData) -> HttpResponse {
    let mut errors = FieldErrors::new(viewer.lang);
    let role = forms::choice(&form, &mut errors, "role", &["coordinator", "admin"]);
    let input = NewStaff {
        email: form.get("email").to_owned(),
        name: form.get("name").to_owned(),
        role: if role.as_deref() == Some("admin") {
            StaffRole::Admin
        } else {
            StaffRole::Coordinator
        },
        password: form.raw("password").to_owned(),
    };
    let result = match validate_new_staff(input) {
        Ok(valid) if errors.is_empty() => Ok(valid),
        Ok(_) => Err(None),
        Err(e) => {
            errors.absorb(&e, &[]);
            Err(Some(e))
        }
    };
    let refused = |errors: FieldErrors| {
        let (viewer, state, form) = (&viewer, &state, &form);
        async move {
            viewer.respond(
                staff_page(
                    viewer,
                    state,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    form.entered(),
                    errors,
                    None,
                )
                .await,
            )
        }
    };
    let Ok((email, name, role, plain)) = result else {
        return refused(errors).await;
    };
    let now = state.clock.now_naive();
    let hash = password::hash(&plain);
    let created = state
        .change(viewer.ctx(now), move |tx| {
            ops::admin::create_staff(tx, email, name, role, hash)
        })
        .await;
    match created {
        Ok(_) => see_other("/console/admin/staff?done=staff_created"),
        Err(e) => {
            let e = ApiError::from(e);
            if let ApiError::Conflict { .. } = e {
                errors.fail("email", "admin.email_taken");
                return refused(errors).await;
            }
            if errors.absorb(&e, &[]) {
                return refused(errors).await;
            }
            viewer.error(&e)
        }
    }
}

async fn staff_form(viewer: Viewer, state: Data<AppState>, id: Path<String>) -> HttpResponse {
    let result = async {
        let id = StaffId::from(path_id(&id, "staff")?);
        let row = state
            .db
            .run(move |conn| -> ApiResult<_> { Ok(crate::store::staff::find(conn, &id)?) })
            .await?;
        let staff = Staff::try_from(row)?;
        let values = context! {
            name => &staff.name,
            role => staff.role.as_str(),
            active => staff.active,
        };
        Ok(staff_edit_page(
            &viewer,
            &state,
            StatusCode::OK,
            staff,
            values,
            FieldErrors::new(viewer.lang),
        ))
    }
    .await;
    viewer.respond(result)
}

fn staff_edit_page(
    viewer: &Viewer,
    state: &AppState,
    status: StatusCode,
    staff: Staff,
    values: Value,
    errors: FieldErrors,
) -> HttpResponse {
    viewer.page_with(
        status,
        "admin_staff_edit.html",
        context! {
            account => staff,
            values => values,
            errors => errors.to_value(),
            roles => role_options(viewer),
            now => ts(state.clock.now_naive()),
        },
    )
}

async fn staff_update(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    let result = async {
        let id = StaffId::from(path_id(&id, "staff")?);
        let current = id.clone();
        let row = state
            .db
            .run(move |conn| -> ApiResult<_> { Ok(crate::store::staff::find(conn, &current)?) })
            .await?;
        let account = Staff::try_from(row)?;
        let mut errors = FieldErrors::new(viewer.lang);
        let name = forms::required(&form, &mut errors, "name", MAX_NAME);
        let role = forms::choice(&form, &mut errors, "role", &["coordinator", "admin"]);
        let plain = form.raw("password");
        if !plain.is_empty() {
            if let Some(why) = password::weakness(plain) {
                errors.fail_text(
                    "password",
                    crate::console::i18n::field_message(&why, viewer.lang),
                );
            }
        }
        let mut values = form.entered();
        if !errors.is_empty() {
            return Ok(staff_edit_page(
                &viewer,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                account,
                values,
                errors,
            ));
        }
        // Taking away the last administrator's rights, or one's own, is the operation's call;
        // the console asks for nothing the API would not.
        let change = ops::admin::StaffChange {
            name: Some(name),
            role: Some(if role.as_deref() == Some("admin") {
                StaffRole::Admin
            } else {
                StaffRole::Coordinator
            }),
            active: Some(form.has("active")),
            password_hash: (!plain.is_empty()).then(|| password::hash(plain)),
            unlock: form.has("unlock"),
        };
        let now = state.clock.now_naive();
        let changed = state
            .change(viewer.ctx(now), move |tx| {
                ops::admin::update_staff(tx, &id, change)
            })
            .await;
        match changed {
            Ok(_) => Ok(see_other("/console/admin/staff?done=staff_updated")),
            Err(e) => {
                let e = ApiError::from(e);
                if errors.absorb(&e, &[]) {
                    values = form.entered();
                    return Ok(staff_edit_page(
                        &viewer,
                        &state,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        account,
                        values,
                        errors,
                    ));
                }
                Err(e)
            }
        }
    }
    .await;
    viewer.respond(result)
}

async fn organisations(viewer: Viewer, state: Data<AppState>, done: Query<Done>) -> HttpResponse {
    let done = done.key(&[
        "organisation_created",
        "organisation_deactivated",
        "organisation_reactivated",
    ]);
    viewer.respond(
        organisations_page(
            &viewer,
            &state,
            StatusCode::OK,
            Value::from(()),
            FieldErrors::new(viewer.lang),
            done,
            None,
        )
        .await,
    )
}

/// The organisations, all of them (the programme has a handful).
pub async fn all_organisations(state: &AppState) -> ApiResult<Vec<Organisation>> {
    let page = first_page("organisations");
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> {
            Ok(crate::store::organisations::list(
                conn,
                &crate::store::organisations::Filter { state: None },
                &page,
            )?)
        })
        .await?;
    rows.into_iter().map(Organisation::try_from).collect()
}

async fn organisations_page(
    viewer: &Viewer,
    state: &AppState,
    status: StatusCode,
    values: Value,
    errors: FieldErrors,
    done: Option<String>,
    problem: Option<String>,
) -> ApiResult<HttpResponse> {
    let organisations = all_organisations(state).await?;
    Ok(viewer.page_with(
        status,
        "admin_organisations.html",
        context! {
            organisations => organisations,
            values => values,
            errors => errors.to_value(),
            done => done,
            problem => problem,
        },
    ))
}

async fn organisation_create(
    viewer: Viewer,
    state: Data<AppState>,
    form: FormData,
) -> HttpResponse {
    let mut errors = FieldErrors::new(viewer.lang);
    let name = forms::required(&form, &mut errors, "name", MAX_NAME);
    if !errors.is_empty() {
        return viewer.respond(
            organisations_page(
                &viewer,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                form.entered(),
                errors,
                None,
                None,
            )
            .await,
        );
    }
    let now = state.clock.now_naive();
    let created = state
        .change(viewer.ctx(now), move |tx| {
            ops::admin::create_organisation(tx, name)
        })
        .await;
    match created {
        Ok(_) => see_other("/console/admin/organisations?done=organisation_created"),
        Err(e) => {
            let e = ApiError::from(e);
            if errors.absorb(&e, &[]) {
                return viewer.respond(
                    organisations_page(
                        &viewer,
                        &state,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        form.entered(),
                        errors,
                        None,
                        None,
                    )
                    .await,
                );
            }
            viewer.error(&e)
        }
    }
}

async fn organisation_act(
    viewer: Viewer,
    state: Data<AppState>,
    path: Path<(String, String)>,
    form: FormData,
) -> HttpResponse {
    let (id, action) = path.into_inner();
    let result = async {
        let id = OrganisationId::from(path_id(&id, "organisation")?);
        let (action, done) = match action.as_str() {
            "deactivate" => (OrganisationAction::Deactivate, "organisation_deactivated"),
            "reactivate" => (OrganisationAction::Reactivate, "organisation_reactivated"),
            _ => return Err(ApiError::NoRoute),
        };
        let mut errors = FieldErrors::new(viewer.lang);
        let reason = forms::optional(
            &form,
            &mut errors,
            "reason",
            crate::domain::values::MAX_REASON,
        );
        if !errors.is_empty() {
            return organisations_page(
                &viewer,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                form.entered(),
                errors,
                None,
                None,
            )
            .await;
        }
        let now = state.clock.now_naive();
        let acted = state
            .change(viewer.ctx(now), move |tx| {
                ops::admin::act_on_organisation(tx, &id, action, reason.as_deref())
            })
            .await;
        match acted {
            Ok(_) => Ok(see_other(&format!(
                "/console/admin/organisations?done={done}"
            ))),
            Err(e) => {
                let e = ApiError::from(e);
                if let ApiError::NotFound { .. } = e {
                    return Err(e);
                }
                let (status, message) = super::page::explain(&e, viewer.lang);
                organisations_page(
                    &viewer,
                    &state,
                    status,
                    Value::from(()),
                    FieldErrors::new(viewer.lang),
                    None,
                    Some(message),
                )
                .await
            }
        }
    }
    .await;
    viewer.respond(result)
}

#[derive(Debug, Deserialize)]
struct MailQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

async fn mails(viewer: Viewer, state: Data<AppState>, query: Query<MailQuery>) -> HttpResponse {
    let query = query.into_inner();
    let result = async {
        let wanted = match query.state.as_deref() {
            None | Some("") => Some(crate::domain::outbox::OutboxState::Dead),
            Some("all") => None,
            Some(other) => Some(
                other
                    .parse::<crate::domain::outbox::OutboxState>()
                    .map_err(|_| ApiError::invalid("state", "is not one of the choices"))?,
            ),
        };
        let page = first_page("outbox");
        let filter = crate::store::outbox::ListFilter {
            state: wanted,
            kind: None,
        };
        let rows = state
            .db
            .run(move |conn| -> ApiResult<_> {
                Ok(crate::store::outbox::list(conn, &filter, &page)?)
            })
            .await?;
        let mails = rows
            .into_iter()
            .map(crate::api::outbox::OutboxMessage::try_from)
            .collect::<ApiResult<Vec<_>>>()?;
        let done = Done { done: query.done }.key(&["mail_retried"]);
        Ok(viewer.page(
            "admin_mails.html",
            context! {
                mails => mails,
                shown => wanted.map_or("all", |s| s.as_str()),
                done => done,
                states => ["dead", "pending", "sending", "sent", "all"],
            },
        ))
    }
    .await;
    viewer.respond(result)
}

async fn mail_retry(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    _form: FormData,
) -> HttpResponse {
    let result = async {
        let id = path_id(&id, "outbox_message")?.to_string();
        let now = state.clock.now_naive();
        state
            .change(viewer.ctx(now), move |tx| {
                ops::admin::retry_outbox_message(tx, &id)
            })
            .await?;
        Ok(see_other("/console/admin/mails?done=mail_retried"))
    }
    .await;
    viewer.respond(result)
}

/// A time for a CSV cell: UTC, as the API writes it; empty when there is none.
pub fn csv_time(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(|t| crate::i18n::utc_text(t.naive_utc()))
        .unwrap_or_default()
}

async fn staff_csv(viewer: Viewer, state: Data<AppState>) -> HttpResponse {
    let result = async {
        let page = first_page("staff");
        let rows = state
            .db
            .run(move |conn| -> ApiResult<_> { Ok(crate::store::staff::list(conn, &page)?) })
            .await?;
        let text = super::export::csv_text(
            &[
                "id",
                "name",
                "email",
                "role",
                "active",
                "locked_until",
                "created_at",
            ],
            rows.into_iter()
                .map(Staff::try_from)
                .collect::<ApiResult<Vec<_>>>()?
                .into_iter()
                .map(|s| {
                    vec![
                        s.id.to_string(),
                        s.name,
                        s.email,
                        s.role.as_str().to_owned(),
                        s.active.to_string(),
                        csv_time(s.locked_until),
                        csv_time(Some(s.created_at)),
                    ]
                }),
        )?;
        Ok(super::export::csv_response("staff.csv", text))
    }
    .await;
    viewer.respond(result)
}

async fn organisations_csv(viewer: Viewer, state: Data<AppState>) -> HttpResponse {
    let result = async {
        let text = super::export::csv_text(
            &["id", "name", "state", "created_at"],
            all_organisations(&state).await?.into_iter().map(|o| {
                vec![
                    o.id.to_string(),
                    o.name,
                    o.state.as_str().to_owned(),
                    csv_time(Some(o.created_at)),
                ]
            }),
        )?;
        Ok(super::export::csv_response("organisations.csv", text))
    }
    .await;
    viewer.respond(result)
}

async fn mails_csv(viewer: Viewer, state: Data<AppState>) -> HttpResponse {
    let result = async {
        let page = first_page("outbox");
        let filter = crate::store::outbox::ListFilter {
            state: None,
            kind: None,
        };
        let rows = state
            .db
            .run(move |conn| -> ApiResult<_> {
                Ok(crate::store::outbox::list(conn, &filter, &page)?)
            })
            .await?;
        let mails = rows
            .into_iter()
            .map(crate::api::outbox::OutboxMessage::try_from)
            .collect::<ApiResult<Vec<_>>>()?;
        // What the API's outbox list shows: no recipient, subject or body.
        let text = super::export::csv_text(
            &[
                "id",
                "kind",
                "state",
                "attempts",
                "last_error",
                "created_at",
                "sent_at",
            ],
            mails.into_iter().map(|m| {
                vec![
                    m.id.to_string(),
                    m.kind,
                    m.state.as_str().to_owned(),
                    m.attempts.to_string(),
                    m.last_error.unwrap_or_default(),
                    csv_time(Some(m.created_at)),
                    csv_time(m.sent_at),
                ]
            }),
        )?;
        Ok(super::export::csv_response("mails.csv", text))
    }
    .await;
    viewer.respond(result)
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("admin.title", "Beheer", "Administration"),
    (
        "admin.intro",
        "Alleen voor beheerders.",
        "For administrators only.",
    ),
    ("admin.staff", "Medewerkers", "Staff accounts"),
    (
        "admin.staff_help",
        "Accounts van coördinatoren en beheerders.",
        "Accounts of coordinators and administrators.",
    ),
    ("admin.organisations", "Organisaties", "Organisations"),
    (
        "admin.organisations_help",
        "De organisaties die aan het programma meedoen.",
        "The organisations taking part in the programme.",
    ),
    (
        "admin.clients",
        "API-clients en sleutels",
        "API clients and keys",
    ),
    (
        "admin.clients_help",
        "Koppelingen met casusregistratiesystemen.",
        "Links with case-management systems.",
    ),
    ("admin.audit", "Audittrail", "Audit trail"),
    (
        "admin.audit_help",
        "Wie wat wanneer deed, met controle van de keten.",
        "Who did what and when, with a check of the chain.",
    ),
    ("admin.privacy", "Privacy", "Privacy"),
    (
        "admin.privacy_help",
        "Bewaartermijnen, juridische bewaarplicht, inzage en verwijdering.",
        "Retention, legal holds, access and erasure.",
    ),
    (
        "admin.mails",
        "Onbestelbare e-mails",
        "Undeliverable e-mails",
    ),
    (
        "admin.mails_help",
        "E-mails die niet bezorgd konden worden, opnieuw versturen.",
        "E-mails that could not be delivered; send them again.",
    ),
    ("admin.name", "Naam", "Name"),
    ("admin.email", "E-mailadres", "E-mail address"),
    ("admin.role", "Rol", "Role"),
    ("admin.active", "Actief", "Active"),
    ("admin.locked_until", "Geblokkeerd tot", "Locked until"),
    ("admin.password", "Wachtwoord", "Password"),
    (
        "admin.password_hint",
        "Minstens 12 tekens.",
        "At least 12 characters.",
    ),
    ("admin.new_password", "Nieuw wachtwoord", "New password"),
    (
        "admin.new_password_hint",
        "Leeg laten om het te houden. Een nieuw wachtwoord beëindigt de sessies van het account.",
        "Leave empty to keep it. A new password ends the account's sessions.",
    ),
    (
        "admin.unlock",
        "Blokkade na mislukte inlogpogingen opheffen",
        "Lift the lock after failed logins",
    ),
    (
        "admin.active_label",
        "Account actief (uitzetten beëindigt de sessies)",
        "Account active (switching off ends its sessions)",
    ),
    ("admin.new_staff", "Nieuw account", "New account"),
    ("admin.create", "Aanmaken", "Create"),
    ("admin.edit", "Wijzigen", "Edit"),
    ("admin.edit_staff", "Account wijzigen", "Edit account"),
    (
        "admin.email_taken",
        "Er is al een account met dit e-mailadres.",
        "An account with this e-mail address exists.",
    ),
    (
        "admin.new_organisation",
        "Nieuwe organisatie",
        "New organisation",
    ),
    ("admin.deactivate", "Deactiveren", "Deactivate"),
    ("admin.reactivate", "Heractiveren", "Reactivate"),
    (
        "admin.deactivate_reason",
        "Reden voor deactiveren van {name}",
        "Reason for deactivating {name}",
    ),
    ("admin.mail_kind", "Soort", "Kind"),
    ("admin.mail_state", "Status", "State"),
    ("admin.mail_attempts", "Pogingen", "Attempts"),
    ("admin.mail_error", "Laatste fout", "Last error"),
    ("admin.mail_about", "Over", "About"),
    ("admin.mail_retry", "Opnieuw versturen", "Send again"),
    ("admin.mail_show", "Tonen", "Show"),
    (
        "admin.no_mails",
        "Geen e-mails in deze lijst.",
        "No e-mails in this list.",
    ),
    ("admin.mail_state.dead", "onbestelbaar", "undeliverable"),
    ("admin.mail_state.pending", "wachtend", "pending"),
    ("admin.mail_state.sending", "wordt verstuurd", "sending"),
    ("admin.mail_state.sent", "verstuurd", "sent"),
    ("admin.mail_state.all", "alle", "all"),
    (
        "done.staff_created",
        "Het account is aangemaakt.",
        "The account was created.",
    ),
    (
        "done.staff_updated",
        "Het account is gewijzigd.",
        "The account was changed.",
    ),
    (
        "done.organisation_created",
        "De organisatie is toegevoegd.",
        "The organisation was added.",
    ),
    (
        "done.organisation_deactivated",
        "De organisatie is gedeactiveerd.",
        "The organisation was deactivated.",
    ),
    (
        "done.organisation_reactivated",
        "De organisatie is weer actief.",
        "The organisation is active again.",
    ),
    (
        "done.mail_retried",
        "De e-mail staat weer klaar om te versturen.",
        "The e-mail is queued again.",
    ),
];
