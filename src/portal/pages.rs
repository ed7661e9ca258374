//! What a signed-in buddy sees and does: their state and pairings, their settings (mail
//! language, capacity, availability notes), a pause until a date or resuming, their data as a
//! download, and asking to stop.
//!
//! A pairing shows only what its mails told the buddy: a proposal what the proposal mail shows
//! (trigger kind, region, languages; no identity), an accepted or active pairing what the
//! confirmation mail gave (the client's first name and contact), any other its dates; once the
//! client's data is anonymised or erased, nothing of the client.

use actix_web::web::{Data, Path, Query};
use actix_web::HttpResponse;
use chrono::{NaiveDate, NaiveDateTime};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::Member;
use crate::auth::policy::{AuditAction, BUDDIES};
use crate::console::forms::{self, FieldErrors, FormData, Shown};
use crate::console::page::{path_id, see_other};
use crate::console::Router;
use crate::domain::buddy::{BuddyAction, BuddyState, MailLanguage, MAX_AVAILABILITY_NOTES};
use crate::domain::contact::{ContactKind, MAX_CONTACT_NOTE};
use crate::domain::ids::PairingId;
use crate::domain::pairing::PairingState;
use crate::error::{ApiError, ApiResult};
use crate::ops::contacts::NewContact;
use crate::ops::AppState;
use crate::store::buddies::{self, BuddyRow, ProfileChange};
use crate::store::pairings::PairingRow;
use crate::store::requests::RequestRow;

pub fn routes(router: &mut Router<'_>) {
    use AuditAction::{Create, Export, Read, Update};
    router
        .path("/buddy", |p| p.get(BUDDIES.audit(Read, "buddy"), home))
        .path("/buddy/pairings/{id}", |p| {
            p.get(BUDDIES.audit(Read, "pairing"), pairing)
        })
        .path("/buddy/pairings/{id}/contacts", |p| {
            p.post(BUDDIES.audit(Create, "pairing"), record_contact)
        })
        .path("/buddy/settings", |p| {
            p.get(BUDDIES.audit(Read, "buddy"), settings)
                .post(BUDDIES.audit(Update, "buddy"), save_settings)
        })
        .path("/buddy/pause", |p| {
            p.post(BUDDIES.audit(Update, "buddy"), pause)
        })
        .path("/buddy/resume", |p| {
            p.post(BUDDIES.audit(Update, "buddy"), resume)
        })
        .path("/buddy/export.json", |p| {
            p.get(BUDDIES.audit(Export, "buddy"), export)
        })
        .path("/buddy/stop", |p| {
            p.get(BUDDIES.audit(Read, "buddy"), stop_page)
                .post(BUDDIES.audit(Update, "buddy"), stop)
        });
}

/// The highest capacity a buddy may set (the API's limit).
const CAPACITY: (i64, i64) = (
    crate::api::buddies::MIN_CAPACITY as i64,
    crate::api::buddies::MAX_CAPACITY as i64,
);

/// What the portal shows of the buddy themselves.
#[derive(Debug, Serialize)]
struct Me {
    name: String,
    state: BuddyState,
    mail_language: MailLanguage,
    capacity: i32,
    paused_until: Option<NaiveDate>,
    availability_notes: Option<String>,
    retirement_requested_at: Option<NaiveDateTime>,
    running: i64,
}

impl Me {
    fn of(row: BuddyRow, running: i64) -> Me {
        Me {
            name: row.full_name,
            state: row.state,
            mail_language: row.mail_language,
            capacity: row.capacity,
            paused_until: row.paused_until,
            availability_notes: row.availability_notes,
            retirement_requested_at: row.retirement_requested_at,
            running,
        }
    }
}

/// The client's details the confirmation mail gave.
#[derive(Debug, Serialize)]
struct Contact {
    first_name: String,
    phone: Option<String>,
    email: Option<String>,
    channel: String,
    region: String,
}

/// What the proposal mail showed.
#[derive(Debug, Serialize)]
struct Proposal {
    trigger: String,
    region: String,
    languages: Vec<String>,
}

/// One pairing as the buddy may see it.
#[derive(Debug, Serialize)]
struct PairingView {
    id: String,
    state: PairingState,
    proposed_at: NaiveDateTime,
    responded_at: Option<NaiveDateTime>,
    activated_at: Option<NaiveDateTime>,
    ended_at: Option<NaiveDateTime>,
    proposal: Option<Proposal>,
    contact: Option<Contact>,
    /// The client's data is anonymised or erased: nothing of the client is shown.
    removed: bool,
}

impl PairingView {
    fn of(pairing: PairingRow, request: RequestRow) -> ApiResult<PairingView> {
        let removed = request.anonymised_at.is_some();
        let proposal = (!removed && pairing.state == PairingState::Proposed)
            .then(|| -> ApiResult<Proposal> {
                Ok(Proposal {
                    trigger: request.trigger_kind.as_str().to_owned(),
                    region: request.region.clone(),
                    languages: request.client_languages()?,
                })
            })
            .transpose()?;
        let running = matches!(pairing.state, PairingState::Accepted | PairingState::Active);
        let contact = (!removed && running).then(|| Contact {
            first_name: request.client_first_name.clone(),
            phone: request.client_phone.clone(),
            email: request.client_email.clone(),
            channel: request.client_preferred_channel.as_str().to_owned(),
            region: request.region.clone(),
        });
        Ok(PairingView {
            id: pairing.id.to_string(),
            state: pairing.state,
            proposed_at: pairing.proposed_at,
            responded_at: pairing.responded_at,
            activated_at: pairing.activated_at,
            ended_at: pairing.ended_at,
            proposal,
            contact,
            removed,
        })
    }
}

#[derive(Debug, Deserialize)]
struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

/// The confirmations a page shows after a change (known keys only).
const DONE: &[&str] = &["settings", "paused", "resumed", "stop", "contact"];

fn done_key(query: &DoneQuery) -> Option<String> {
    query
        .done
        .as_deref()
        .filter(|d| DONE.contains(d))
        .map(|d| format!("portal.done.{d}"))
}

/// The buddy and their running (accepted or active) pairings.
async fn me(state: &AppState, member: &Member) -> ApiResult<(BuddyRow, i64)> {
    let id = member.buddy_id.clone();
    state
        .db
        .run(move |conn| -> ApiResult<_> {
            let row = buddies::find(conn, &id)?;
            let running = buddies::running_pairings(conn, &id)?;
            Ok((row, running))
        })
        .await
}

/// `GET /buddy`: the buddy's state and pairings.
async fn home(member: Member, state: Data<AppState>, query: Query<DoneQuery>) -> HttpResponse {
    member.note_self();
    let result = home_view(&member, &state, Shown::done(member.lang, done_key(&query))).await;
    member.respond(result)
}

async fn home_view(member: &Member, state: &AppState, shown: Shown) -> ApiResult<HttpResponse> {
    let id = member.buddy_id.clone();
    let (row, running, rows) = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let row = buddies::find(conn, &id)?;
            let running = buddies::running_pairings(conn, &id)?;
            let rows = crate::store::portal::pairings_of(conn, &id)?;
            Ok((row, running, rows))
        })
        .await?;
    let pairings = rows
        .into_iter()
        .map(|(p, r)| PairingView::of(p, r))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(member.page_with(
        shown.status,
        "portal/home.html",
        context! {
            me => Me::of(row, running),
            pairings => pairings,
            today => state.clock.today(),
            values => shown.values,
            errors => shown.errors.to_value(),
            done => shown.done,
            problem => shown.problem,
        },
    ))
}

/// How many of a pairing's contact moments its page lists (the latest).
const CONTACTS_SHOWN: i64 = 50;

/// A contact moment as its buddy sees it: their own note included.
#[derive(Debug, Serialize)]
struct ContactView {
    contact_on: NaiveDate,
    kind: ContactKind,
    note: Option<String>,
}

/// `GET /buddy/pairings/{id}`: one of the buddy's pairings, its contact moments and, while it
/// runs, the form to record one; another buddy's pairing is a 404.
async fn pairing(
    member: Member,
    state: Data<AppState>,
    id: Path<String>,
    query: Query<DoneQuery>,
) -> HttpResponse {
    let result = async {
        let id = PairingId::from(path_id(&id, "pairing")?);
        let shown = Shown::done(member.lang, done_key(&query));
        pairing_view(&member, &state, id, shown).await
    }
    .await;
    member.respond(result)
}

async fn pairing_view(
    member: &Member,
    state: &AppState,
    id: PairingId,
    shown: Shown,
) -> ApiResult<HttpResponse> {
    let buddy = member.buddy_id.clone();
    let (pairing, request, contacts) = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let pairing = crate::ops::contacts::own_pairing(conn, &buddy, &id)?;
            let request = crate::store::requests::find(conn, &pairing.request_id)?;
            let contacts = crate::store::contacts::of_pairing(conn, &pairing.id, CONTACTS_SHOWN)?;
            Ok((pairing, request, contacts))
        })
        .await?;
    let today = crate::i18n::local_day(state.clock.now_naive());
    let values = if shown.values.is_undefined() || shown.values.is_none() {
        context! { contact_on => today.to_string() }
    } else {
        shown.values
    };
    let recordable = pairing.state == PairingState::Active;
    let started = pairing.activated_at.map(|at| at.date());
    let contacts: Vec<ContactView> = contacts
        .into_iter()
        .map(|c| ContactView {
            contact_on: c.contact_on,
            kind: c.kind,
            note: c.note,
        })
        .collect();
    Ok(member.page_with(
        shown.status,
        "portal/pairing.html",
        context! {
            pairing => PairingView::of(pairing, request)?,
            contacts => contacts,
            recordable => recordable,
            kinds => ContactKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            today => today.to_string(),
            started => started.map(|d| d.to_string()),
            max_note => MAX_CONTACT_NOTE,
            reminder_days => state.reactions.notices.contact_rhythm().reminder_after.num_days(),
            values => values,
            errors => shown.errors.to_value(),
            done => shown.done,
            problem => shown.problem,
        },
    ))
}

/// `POST /buddy/pairings/{id}/contacts`: records a contact moment through the operation, as
/// the buddy; bad input or a refusal shows the pairing again with the reason, and nothing is
/// stored.
async fn record_contact(
    member: Member,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    let result = async {
        let id = PairingId::from(path_id(&id, "pairing")?);
        let mut errors = FieldErrors::new(member.lang);
        let contact_on = forms::date(&form, &mut errors, "contact_on", true);
        let kinds: Vec<&str> = ContactKind::ALL.iter().map(|k| k.as_str()).collect();
        let kind = forms::choice(&form, &mut errors, "kind", &kinds);
        let note = forms::optional(&form, &mut errors, "note", MAX_CONTACT_NOTE);
        let kind = kind.and_then(|k| k.parse::<ContactKind>().ok());
        let (Some(contact_on), Some(kind), true) = (contact_on, kind, errors.is_empty()) else {
            return pairing_view(&member, &state, id, Shown::invalid(&form, errors)).await;
        };
        let contact = NewContact {
            contact_on,
            kind,
            note,
        };
        let now = state.clock.now_naive();
        let pairing_id = id.clone();
        let recorded = state
            .change(member.ctx(now), move |tx| {
                crate::ops::contacts::record(tx, &pairing_id, contact)
            })
            .await;
        match recorded {
            Ok(_) => Ok(see_other(&format!("/buddy/pairings/{id}?done=contact"))),
            Err(e) => {
                let e = ApiError::from(e);
                pairing_view(&member, &state, id, Shown::refused(member.lang, &form, &e)).await
            }
        }
    }
    .await;
    member.respond(result)
}

/// `GET /buddy/settings`: mail language, capacity, availability notes.
async fn settings(member: Member, state: Data<AppState>, query: Query<DoneQuery>) -> HttpResponse {
    member.note_self();
    let result = settings_view(&member, &state, Shown::done(member.lang, done_key(&query))).await;
    member.respond(result)
}

async fn settings_view(member: &Member, state: &AppState, shown: Shown) -> ApiResult<HttpResponse> {
    let (row, running) = me(state, member).await?;
    let values = if shown.values.is_undefined() || shown.values.is_none() {
        context! {
            mail_language => row.mail_language.as_str(),
            capacity => row.capacity.to_string(),
            availability_notes => row.availability_notes.clone().unwrap_or_default(),
        }
    } else {
        shown.values
    };
    Ok(member.page_with(
        shown.status,
        "portal/settings.html",
        context! {
            me => Me::of(row, running),
            values => values,
            errors => shown.errors.to_value(),
            done => shown.done,
            problem => shown.problem,
            min_capacity => CAPACITY.0,
            max_capacity => CAPACITY.1,
            max_notes => MAX_AVAILABILITY_NOTES,
        },
    ))
}

/// `POST /buddy/settings`: through the profile operation, with the buddy as actor.
async fn save_settings(member: Member, state: Data<AppState>, form: FormData) -> HttpResponse {
    let result = async {
        let mut errors = FieldErrors::new(member.lang);
        let language = forms::choice(&form, &mut errors, "mail_language", &["nl", "en"]);
        let capacity = forms::number(&form, &mut errors, "capacity", CAPACITY.0, CAPACITY.1);
        let notes = forms::optional(
            &form,
            &mut errors,
            "availability_notes",
            MAX_AVAILABILITY_NOTES,
        );
        if !errors.is_empty() {
            return settings_view(&member, &state, Shown::invalid(&form, errors)).await;
        }
        let change = ProfileChange {
            mail_language: language
                .as_deref()
                .and_then(|l| l.parse::<MailLanguage>().ok()),
            capacity: capacity.and_then(|c| i32::try_from(c).ok()),
            availability_notes: Some(notes),
            ..ProfileChange::default()
        };
        let id = member.buddy_id.clone();
        let now = state.clock.now_naive();
        let changed = state
            .change(member.ctx(now), move |tx| {
                crate::ops::buddies::update_profile(tx, &id, change)
            })
            .await;
        match changed {
            Ok(_) => Ok(see_other("/buddy/settings?done=settings")),
            Err(e) => {
                let e = ApiError::from(e);
                settings_view(&member, &state, Shown::refused(member.lang, &form, &e)).await
            }
        }
    }
    .await;
    member.respond(result)
}

/// Pauses (until a date) or resumes, through the lifecycle operation; a refusal shows the
/// overview again with the reason, and nothing changes.
async fn lifecycle(
    member: Member,
    state: Data<AppState>,
    form: FormData,
    action: BuddyAction,
) -> HttpResponse {
    let result = async {
        let mut errors = FieldErrors::new(member.lang);
        let until = match action {
            BuddyAction::Pause => forms::date(&form, &mut errors, "until", true),
            _ => None,
        };
        if !errors.is_empty() {
            return home_view(&member, &state, Shown::invalid(&form, errors)).await;
        }
        let id = member.buddy_id.clone();
        let now = state.clock.now_naive();
        let changed = state
            .change(member.ctx(now), move |tx| {
                crate::ops::buddies::act(tx, &id, action, until, None)
            })
            .await;
        match changed {
            Ok(_) if action == BuddyAction::Pause => Ok(see_other("/buddy?done=paused")),
            Ok(_) => Ok(see_other("/buddy?done=resumed")),
            Err(e) => {
                let e = ApiError::from(e);
                home_view(&member, &state, Shown::refused(member.lang, &form, &e)).await
            }
        }
    }
    .await;
    member.respond(result)
}

async fn pause(member: Member, state: Data<AppState>, form: FormData) -> HttpResponse {
    lifecycle(member, state, form, BuddyAction::Pause).await
}

async fn resume(member: Member, state: Data<AppState>, form: FormData) -> HttpResponse {
    lifecycle(member, state, form, BuddyAction::Resume).await
}

/// `GET /buddy/export.json`: everything held about the buddy (AVG art. 15), the same document
/// as the staff export (`GET /v1/buddies/{id}/export`), as a download.
async fn export(member: Member, state: Data<AppState>) -> HttpResponse {
    member.note_self();
    let result = async {
        let export = crate::api::privacy::buddy_export(&state, member.buddy_id.clone()).await?;
        let body =
            serde_json::to_vec_pretty(&export).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(crate::console::page::download(
            "application/json",
            "my-buddy-data.json",
            body,
        ))
    }
    .await;
    member.respond(result)
}

/// `GET /buddy/stop`: what asking to stop means, and the button.
async fn stop_page(member: Member, state: Data<AppState>) -> HttpResponse {
    member.note_self();
    let result = stop_view(&member, &state, Shown::fresh(member.lang)).await;
    member.respond(result)
}

async fn stop_view(member: &Member, state: &AppState, shown: Shown) -> ApiResult<HttpResponse> {
    let (row, running) = me(state, member).await?;
    Ok(member.page_with(
        shown.status,
        "portal/stop.html",
        context! { me => Me::of(row, running), problem => shown.problem },
    ))
}

/// `POST /buddy/stop`: records the request to stop; the bureau is told and confirms it.
async fn stop(member: Member, state: Data<AppState>, form: FormData) -> HttpResponse {
    let result = async {
        let id = member.buddy_id.clone();
        let now = state.clock.now_naive();
        let asked = state
            .change(member.ctx(now), move |tx| {
                crate::ops::buddies::request_retirement(tx, &id)
            })
            .await;
        match asked {
            Ok(_) => Ok(see_other("/buddy?done=stop")),
            Err(e) => {
                let e = ApiError::from(e);
                stop_view(&member, &state, Shown::refused(member.lang, &form, &e)).await
            }
        }
    }
    .await;
    member.respond(result)
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("portal.home.title", "Je overzicht", "Your overview"),
    ("portal.home.hello", "Hallo {name}", "Hello {name}"),
    ("portal.home.state", "Je status", "Your state"),
    ("portal.home.state.candidate", "Je bent aangemeld als maatje. Het cliëntenbureau neemt contact met je op over de screening.", "You are registered as a buddy. The client bureau will contact you about the screening."),
    ("portal.home.state.screening", "Je screening loopt (VOG, training en afspraken). Daarna kun je worden voorgesteld.", "Your screening is under way (certificate of conduct, training and agreement). After that you can be proposed."),
    ("portal.home.state.active", "Je bent actief: je kunt worden voorgesteld aan een cliënt.", "You are active: you can be proposed to a client."),
    ("portal.home.state.paused", "Je hebt een pauze: je wordt niet voorgesteld.", "You are on a break: you are not proposed."),
    ("portal.home.paused_until", "Je pauze loopt tot {day}; op die dag ben je weer beschikbaar.", "Your break runs until {day}; on that day you are available again."),
    ("portal.home.capacity", "Je wilt maatje zijn voor hoogstens {n} cliënt(en) tegelijk.", "You want to be a buddy for at most {n} client(s) at a time."),
    ("portal.home.stop_requested", "Je hebt gevraagd om te stoppen. Het cliëntenbureau neemt contact met je op en bevestigt het.", "You asked to stop. The client bureau will contact you and confirm it."),
    ("portal.pause.title", "Pauze nemen", "Take a break"),
    ("portal.pause.intro", "Tijdens een pauze word je niet voorgesteld. Een voorstel waar je nog niet op hebt gereageerd, vervalt. Lopende koppelingen gaan door.", "During a break you are not proposed. A proposal you have not answered yet is cancelled. Running pairings go on."),
    ("portal.pause.until", "Pauze tot (op deze dag ben je weer beschikbaar)", "Break until (you are available again on this day)"),
    ("portal.pause.submit", "Pauze nemen", "Take a break"),
    ("portal.resume.submit", "Pauze beëindigen", "End my break"),
    ("portal.pause.not_now", "Pauze nemen kan als je actief bent.", "You can take a break once you are active."),
    ("portal.pairings.title", "Je koppelingen", "Your pairings"),
    ("portal.pairings.none", "Je hebt nog geen koppelingen.", "You have no pairings yet."),
    ("portal.pairings.open", "Bekijken", "View"),
    ("portal.pairing.title", "Koppeling", "Pairing"),
    ("portal.pairing.proposed_at", "Voorgesteld", "Proposed"),
    ("portal.pairing.responded_at", "Beantwoord", "Answered"),
    ("portal.pairing.activated_at", "Gestart", "Started"),
    ("portal.pairing.ended_at", "Beëindigd", "Ended"),
    ("portal.pairing.proposal", "Uit het voorstel: een cliënt die een maatje zoekt. Wie de cliënt is, hoor je als je ja zegt; antwoord via de link in je mail.", "From the proposal: a client who looks for a buddy. Who the client is you hear once you say yes; answer through the link in your mail."),
    ("portal.pairing.trigger", "Aanleiding", "Reason"),
    ("portal.pairing.region", "Regio", "Region"),
    ("portal.pairing.languages", "Talen", "Languages"),
    ("portal.pairing.client", "De cliënt", "The client"),
    ("portal.pairing.first_name", "Voornaam", "First name"),
    ("portal.pairing.phone", "Telefoon", "Phone"),
    ("portal.pairing.email", "E-mail", "E-mail"),
    ("portal.pairing.channel", "Liefst via", "Prefers"),
    ("portal.channel.phone", "telefoon", "phone"),
    ("portal.channel.email", "e-mail", "e-mail"),
    ("portal.pairing.removed", "De gegevens van de cliënt zijn verwijderd.", "The client's details have been removed."),
    ("portal.pairing.contact_moments", "Contactmomenten", "Contact moments"),
    ("portal.settings.title", "Instellingen", "Settings"),
    ("portal.settings.mail_language", "Taal van je e-mail", "Language of your e-mail"),
    ("portal.settings.capacity", "Hoeveel cliënten tegelijk (hoogstens)", "How many clients at a time (at most)"),
    ("portal.settings.capacity_hint", "Een heel getal van {min} tot en met {max}.", "A whole number from {min} to {max}."),
    ("portal.settings.notes", "Wanneer ben je beschikbaar?", "When are you available?"),
    ("portal.settings.notes_hint", "Bijvoorbeeld: doordeweeks na 16 uur. Het cliëntenbureau ziet dit. Hoogstens {max} tekens.", "For example: weekdays after 4 pm. The client bureau sees this. At most {max} characters."),
    ("portal.settings.submit", "Opslaan", "Save"),
    ("portal.data.title", "Je gegevens", "Your data"),
    ("portal.data.intro", "Je kunt alles wat het cliëntenbureau over jou vastlegt downloaden (AVG artikel 15).", "You can download everything the client bureau records about you (GDPR article 15)."),
    ("portal.data.download", "Mijn gegevens downloaden (JSON)", "Download my data (JSON)"),
    ("portal.stop.title", "Stoppen als maatje", "Stop being a buddy"),
    ("portal.stop.intro", "Wil je stoppen? Dan vertellen we het cliëntenbureau dat. Zij nemen contact met je op en bevestigen het; daarna kun je niet meer inloggen.", "Do you want to stop? Then we tell the client bureau. They will contact you and confirm it; after that you can no longer sign in."),
    ("portal.stop.running", "Je hebt nog {n} lopende koppeling(en). Die rondt het cliëntenbureau eerst met je af.", "You still have {n} running pairing(s). The client bureau will wrap those up with you first."),
    ("portal.stop.submit", "Ik wil stoppen", "I want to stop"),
    ("portal.stop.requested", "Je hebt al gevraagd om te stoppen. Het cliëntenbureau bevestigt het.", "You have asked to stop already. The client bureau will confirm it."),
    ("portal.done.settings", "Je instellingen zijn opgeslagen.", "Your settings are saved."),
    ("portal.bureau.phone", "Telefoon", "Phone"),
    ("portal.bureau.email", "E-mail", "E-mail"),
    ("portal.bureau.questions", "Vragen? Bel of mail ons.", "Questions? Call or write to us."),
    ("portal.done.contact", "Je contactmoment is genoteerd.", "Your contact moment is recorded."),
    ("portal.contacts.title", "Contactmomenten", "Contact moments"),
    ("portal.contacts.intro", "Noteer elk contact met de cliënt. Het cliëntenbureau ziet alleen de datum en de soort; je notitie is alleen voor jou. Na {days} dagen zonder contact krijg je een herinnering.", "Record every contact with the client. The client bureau sees only the date and the kind; your note is for you only. After {days} days without contact you get a reminder."),
    ("portal.contacts.none", "Nog geen contactmomenten genoteerd.", "No contact moments recorded yet."),
    ("portal.contacts.caption", "Je contactmomenten, de laatste eerst", "Your contact moments, the latest first"),
    ("portal.contacts.contact_on", "Datum", "Date"),
    ("portal.contacts.kind", "Soort contact", "Kind of contact"),
    ("portal.contacts.note", "Notitie (niet verplicht, alleen voor jou)", "Note (optional, for you only)"),
    ("portal.contacts.note_hint", "Hoogstens {max} tekens.", "At most {max} characters."),
    ("portal.contacts.date_hint", "Van {from} tot en met vandaag.", "From {from} up to today."),
    ("portal.contacts.choose", "Kies een soort", "Choose a kind"),
    ("portal.contacts.submit", "Contactmoment noteren", "Record contact moment"),
    ("portal.contacts.record", "Nieuw contactmoment", "New contact moment"),
    ("portal.kind.call", "Telefoongesprek", "Call"),
    ("portal.kind.meeting", "Afspraak", "Meeting"),
    ("portal.kind.message", "Bericht", "Message"),
    ("portal.kind.accompanied_appointment", "Mee naar een afspraak", "Accompanied to an appointment"),
    ("portal.done.paused", "Je pauze is ingegaan.", "Your break has started."),
    ("portal.done.resumed", "Je bent weer beschikbaar.", "You are available again."),
    ("portal.done.stop", "We hebben het cliëntenbureau verteld dat je wilt stoppen.", "We told the client bureau that you want to stop."),
];
