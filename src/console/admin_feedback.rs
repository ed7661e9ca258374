//! Client feedback texts for administrators: the free texts of one organisation's quarter, shown
//! only when it has at least 5 answers (the rule of `GET /v1/reports/feedback/texts`, whose
//! reading this page shares), and the erasure of one answer's texts through the same operation
//! as `POST /v1/client-feedback/{id}/erase-text`. The URL carries an organisation id and a
//! quarter only; the audit records name the kind `client_feedback` and, for an erasure, the
//! answer, never a request or client.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use minijinja::context;

use super::forms::{FieldErrors, FormData};
use super::page::{path_id, see_other, Viewer};
use super::router::Router;
use crate::auth::policy::{AuditAction, ADMINS};
use crate::domain::feedback::Quarter;
use crate::domain::ids::OrganisationId;
use crate::error::{ApiError, ApiResult};
use crate::feedback::OBJECT_TYPE;
use crate::ops::AppState;

pub fn routes(router: &mut Router<'_>) {
    router
        .path("/console/admin/feedback", |p| {
            p.get(ADMINS.audit(AuditAction::Read, OBJECT_TYPE), show)
        })
        .path("/console/admin/feedback/{id}/erase-text", |p| {
            p.post(ADMINS.audit(AuditAction::Delete, OBJECT_TYPE), erase)
        });
}

/// The page's filter values (`organisation`, `quarter`, `done`), as entered.
fn entered(req: &HttpRequest) -> BTreeMap<String, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let mut values = BTreeMap::new();
    for (key, value) in pairs {
        let value = value.trim().to_owned();
        if ["organisation", "quarter", "done"].contains(&key.as_str()) && !value.is_empty() {
            values.entry(key).or_insert(value);
        }
    }
    values
}

async fn organisations(state: &AppState) -> ApiResult<Vec<(String, String)>> {
    let rows = state
        .db
        .run(|conn| -> ApiResult<_> {
            use crate::db::schema::organisations as o;
            use diesel::prelude::*;
            Ok(o::table
                .select((o::id, o::name))
                .order(o::name.asc())
                .load::<(String, String)>(conn)?)
        })
        .await?;
    Ok(rows)
}

async fn show(viewer: Viewer, state: Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = render(&viewer, &state, &req).await;
    viewer.respond(result)
}

async fn render(viewer: &Viewer, state: &AppState, req: &HttpRequest) -> ApiResult<HttpResponse> {
    let mut values = entered(req);
    let done = values
        .remove("done")
        .filter(|d| d == "text_erased")
        .map(|_| "done.text_erased".to_owned());
    let organisations = organisations(state).await?;
    let current = Quarter::of(state.clock.now_naive().date()).to_string();
    values.entry("quarter".to_owned()).or_insert(current);
    let mut errors = FieldErrors::new(viewer.lang);
    let quarter = values
        .get("quarter")
        .and_then(|q| q.parse::<Quarter>().ok());
    if quarter.is_none() {
        errors.fail("quarter", "feedback.quarter_format");
    }
    let organisation = match values.get("organisation") {
        None => None,
        Some(id) if organisations.iter().any(|(o, _)| o == id) => {
            Some(OrganisationId::from(id.as_str()))
        }
        Some(_) => {
            errors.fail("organisation", "feedback.unknown_organisation");
            None
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let texts = match (organisation, quarter) {
        (Some(organisation), Some(quarter)) if errors.is_empty() => {
            Some(crate::api::feedback::texts(state, organisation, quarter).await?)
        }
        _ => None,
    };
    let back = {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for key in ["organisation", "quarter"] {
            if let Some(value) = values.get(key) {
                query.append_pair(key, value);
            }
        }
        query.finish()
    };
    Ok(viewer.page_with(
        status,
        "admin_feedback.html",
        context! {
            values => values,
            errors => errors.to_value(),
            organisations => organisations,
            texts => texts,
            back => back,
            done => done,
        },
    ))
}

/// Removes one answer's texts, then shows the page it was erased from (the form's `back`).
async fn erase(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    let result = async {
        let id = path_id(&id, OBJECT_TYPE)?.to_string();
        let now = state.clock.now_naive();
        state
            .change(viewer.ctx(now), move |tx| {
                crate::ops::feedback::erase_text(tx, &id)
            })
            .await
            .map_err(ApiError::from)?;
        let back = form.get("back").to_owned();
        // Only the page's own filter goes back into the address.
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in form_urlencoded::parse(back.as_bytes()) {
            if key == "organisation" || key == "quarter" {
                query.append_pair(&key, &value);
            }
        }
        query.append_pair("done", "text_erased");
        Ok(see_other(&format!(
            "/console/admin/feedback?{}",
            query.finish()
        )))
    }
    .await;
    viewer.respond(result)
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("feedback.title", "Cliëntfeedback: teksten", "Client feedback: texts"),
    ("feedback.intro", "De vrije teksten van cliënten, per organisatie en kwartaal. Alleen zichtbaar voor beheerders, en pas als het kwartaal minstens 5 antwoorden heeft, zodat één antwoord niet kort na het einde van een koppeling te lezen is. Na de bewaartermijn verdwijnen de teksten; het cijfer blijft.", "Clients' free texts, per organisation and quarter. Visible to administrators only, and only once the quarter has at least 5 answers, so that a single answer cannot be read soon after a pairing ends. After the retention period the texts are removed; the score stays."),
    ("feedback.organisation", "Organisatie", "Organisation"),
    ("feedback.choose", "Kies een organisatie", "Choose an organisation"),
    ("feedback.quarter", "Kwartaal", "Quarter"),
    ("feedback.quarter_hint", "Zoals 2026-Q4.", "Like 2026-Q4."),
    ("feedback.quarter_format", "Vul een kwartaal in als 2026-Q4.", "Enter a quarter like 2026-Q4."),
    ("feedback.unknown_organisation", "Kies een organisatie uit de lijst.", "Choose an organisation from the list."),
    ("feedback.show", "Tonen", "Show"),
    ("feedback.suppressed", "Minder dan 5 antwoorden in dit kwartaal: de teksten worden niet getoond.", "Fewer than 5 answers in this quarter: the texts are not shown."),
    ("feedback.no_texts", "Geen antwoorden met tekst in dit kwartaal.", "No answers with text in this quarter."),
    ("feedback.answers", "Antwoorden met tekst", "Answers with text"),
    ("feedback.score", "Cijfer", "Score"),
    ("feedback.helped", "Wat hielp", "What helped"),
    ("feedback.better", "Wat kan beter", "What could be better"),
    ("feedback.removed", "Tekst verwijderd", "Text removed"),
    ("feedback.erase", "Tekst verwijderen", "Remove text"),
    ("feedback.erase_help", "Verwijder de tekst als de cliënt daarom vraagt of als hij iemand herkenbaar maakt. Het cijfer blijft.", "Remove the text when the client asks, or when it identifies someone. The score stays."),
    ("done.text_erased", "De tekst is verwijderd.", "The text has been removed."),
    ("admin.feedback", "Cliëntfeedback", "Client feedback"),
    ("admin.feedback_help", "vrije teksten per organisatie en kwartaal (vanaf 5 antwoorden), en ze verwijderen", "free texts per organisation and quarter (from 5 answers), and removing them"),
];
